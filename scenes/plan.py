"""What the scene draws: a plan of frames, free of YAML and of manim.

kldemo's render room builds a :class:`ScenePlan` from a validated config and its timeline;
the scene only reads it. A manim user can build one by hand to reuse the scene.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np


@dataclass(frozen=True)
class FrameStates:
    """The state of every frame, as arrays with a leading frame axis.

    Mixture parameters have shape (frames, components); the rest (frames,).
    ``caption`` holds an index into :attr:`ScenePlan.captions`, or -1 for none.
    """

    t: np.ndarray
    p_weights: np.ndarray
    p_means: np.ndarray
    p_stds: np.ndarray
    q_weights: np.ndarray
    q_means: np.ndarray
    q_stds: np.ndarray
    forward_kl: np.ndarray
    reverse_kl: np.ndarray
    caption: np.ndarray

    def __len__(self) -> int:
        return len(self.t)

    def take(self, index: slice | np.ndarray) -> FrameStates:
        """The frames at ``index`` (a slice or an index array), as a new FrameStates."""
        return FrameStates(**{name: getattr(self, name)[index] for name in _FIELDS})


_FIELDS = tuple(FrameStates.__dataclass_fields__)


@dataclass(frozen=True)
class ScenePlan:
    """Everything the scene needs to draw frames of one video."""

    frames: FrameStates
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    bar_max: float
    theme: Literal["dark", "light"] = "dark"
    p_color: str = "#58C4DD"
    q_color: str = "#83C167"
    labels: Literal["tex", "text"] = "text"
    title: str | None = None
    captions: tuple[str, ...] = field(default_factory=tuple)
