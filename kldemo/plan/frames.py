"""What the scene draws: a plan of frames, free of YAML and of manim.

kldemo's render room builds a :class:`ScenePlan` from a validated config and its timeline;
the scene only reads it. A manim user can build one by hand to reuse the scene.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, get_args

import numpy as np

from kldemo.config.spec import PanelName
from kldemo.core.mixture import Mixture
from kldemo.core.plane import PlaneMixture
from kldemo.core.registry import DIVERGENCES

#: The bars a scene can show (one per divergence), in the order the format names them.
BAR_NAMES = tuple(DIVERGENCES)
#: Bounded divergences and their bounds: their bar is full there (and never overflows).
BAR_BOUNDS = {d.name: d.bound for d in DIVERGENCES.values() if d.bound is not None}
#: The most samples of a data p drawn as points in 2-D.
MAX_POINTS = 2000
#: The small plots a scene can show below the main axes (the format's names).
PANEL_NAMES = get_args(PanelName)


@dataclass(frozen=True)
class FrameStates:
    """The state of every frame, as arrays with a leading frame axis.

    ``p`` and ``q`` are mixtures with a leading frame axis: a :class:`Mixture` of arrays of
    shape (frames, components) in 1-D, a :class:`PlaneMixture` (means (frames, K, 2),
    covs (frames, K, 2, 2)) in 2-D; the rest have shape (frames,). Each divergence has the
    field its registry entry names as its ``column`` (:data:`kldemo.core.registry.DIVERGENCES`).
    ``caption`` holds an index into :attr:`ScenePlan.captions`, or -1 for none.
    ``js``, ``tv`` and ``hellinger`` are given when their bar is shown (else None);
    ``optimum`` (when markers are shown) holds an index into :attr:`ScenePlan.optima`,
    or -1 where no markers are drawn. ``caption_opacity`` is the caption's opacity in each
    frame, in [0, 1] (a fade; :mod:`kldemo.plan.captions`); None shows every caption fully.
    """

    t: np.ndarray
    p: Mixture | PlaneMixture
    q: Mixture | PlaneMixture
    forward_kl: np.ndarray
    reverse_kl: np.ndarray
    caption: np.ndarray
    js: np.ndarray | None = None
    tv: np.ndarray | None = None
    hellinger: np.ndarray | None = None
    optimum: np.ndarray | None = None
    caption_opacity: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.t)

    def take(self, index: slice | np.ndarray) -> FrameStates:
        """The frames at ``index`` (a slice or an index array), as a new FrameStates."""

        def part(value: np.ndarray | Mixture | PlaneMixture | None):
            if isinstance(value, Mixture | PlaneMixture):
                return value.take(index)
            return None if value is None else value[index]

        return FrameStates(**{name: part(getattr(self, name)) for name in _FIELDS})

    def values(self, bar: str) -> np.ndarray:
        """Every frame's value of the divergence a bar shows (a name of BAR_NAMES)."""
        if bar not in DIVERGENCES:
            raise KeyError(f"no bar named {bar!r} (known: {', '.join(BAR_NAMES)})")
        array = getattr(self, DIVERGENCES[bar].column)
        if array is None:
            raise KeyError(f"the plan has no {bar} values: compute them when the bar is shown")
        return array


_FIELDS = tuple(FrameStates.__dataclass_fields__)


@dataclass(frozen=True)
class Optimum:
    """A single Gaussian q that minimises a divergence to p: drawn as a dashed marker."""

    kind: Literal["forward", "reverse"]
    mean: float
    std: float


@dataclass(frozen=True)
class PlaneOptimum:
    """A single plane Gaussian q that minimises a divergence to p: drawn as dashed 50% and
    95% contours. ``mean`` is (x, y); ``cov`` the 2x2 covariance, as nested tuples."""

    kind: Literal["forward", "reverse"]
    mean: tuple[float, float]
    cov: tuple[tuple[float, float], tuple[float, float]]


@dataclass(frozen=True)
class ScenePlan:
    """Everything the scene needs to draw frames of one video.

    ``bars`` names the bars shown, left to right (see :data:`BAR_NAMES`); ``panels`` the
    small plots (see :data:`PANEL_NAMES`). ``integrand_range`` is the y range of the
    integrand panel and ``duration`` the time span of the trace panel (the video's
    length). ``optima`` holds sets of optimum markers, one per p that stays put; each
    frame's ``optimum`` picks one (or none). ``p_color`` and ``q_color`` left as None
    become the theme's own. ``digits`` is how many significant figures the bars' numbers
    show (1 to 8).

    In 2-D (``frames.p`` a :class:`PlaneMixture`, :attr:`dims` 2) ``x_range`` and
    ``y_range`` are the plane's, drawn at equal scale; ``contours`` says whether the
    density contours are ``lines`` or ``filled``; ``optima`` hold :class:`PlaneOptimum`;
    ``integrand_range`` is the colour range of the integrand panel's heat map of
    p·log(p/q).

    Where p is estimated from data, ``histogram`` (1-D) holds the samples' bin edges and
    density-normalised heights, drawn under p's curve, and ``points`` (2-D) an (M, 2) array
    of the samples (a deterministic subsample of at most :data:`MAX_POINTS`), drawn under
    the contours.
    """

    frames: FrameStates
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    bar_max: float
    theme: Literal["dark", "light"] = "dark"
    p_color: str | None = None  # None: the theme's own (see scenes.theme)
    q_color: str | None = None
    labels: Literal["tex", "text"] = "text"
    title: str | None = None
    captions: tuple[str, ...] = field(default_factory=tuple)
    bars: tuple[str, ...] = ("forward", "reverse")
    panels: tuple[str, ...] = ()
    integrand_range: tuple[float, float] | None = None
    duration: float | None = None
    optima: tuple[tuple[Optimum | PlaneOptimum, ...], ...] = ()
    digits: int = 3
    contours: Literal["lines", "filled"] = "lines"
    histogram: tuple[np.ndarray, np.ndarray] | None = None
    points: np.ndarray | None = None

    def __post_init__(self) -> None:
        from .theme import THEMES

        # A colour left open takes the theme's: pastels on dark, deeper tones on light.
        theme = THEMES[self.theme]
        if self.p_color is None:
            object.__setattr__(self, "p_color", theme.p)
        if self.q_color is None:
            object.__setattr__(self, "q_color", theme.q)
        unknown = [b for b in self.bars if b not in BAR_NAMES]
        if unknown or len(set(self.bars)) != len(self.bars):
            raise ValueError(f"bars must be distinct names from {BAR_NAMES} (got {self.bars})")
        if not 1 <= self.digits <= 8:
            raise ValueError(f"digits must be 1 to 8 (got {self.digits})")
        unknown = [p for p in self.panels if p not in PANEL_NAMES]
        if unknown or len(set(self.panels)) != len(self.panels):
            raise ValueError(
                f"panels must be distinct names from {PANEL_NAMES} (got {self.panels})"
            )

    @property
    def dims(self) -> int:
        """1 for densities on a line, 2 for densities in the plane."""
        return 2 if isinstance(self.frames.p, PlaneMixture) else 1

    @property
    def time_span(self) -> float:
        """The trace panel's time axis: ``duration``, or the last frame's time."""
        if self.duration is not None and self.duration > 0:
            return float(self.duration)
        return max(float(self.frames.t[-1]), 1e-9) if len(self.frames) else 1.0
