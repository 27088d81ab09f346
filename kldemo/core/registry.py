"""The divergences kldemo knows, each once: its name, function, bound and labels.

Every other room reads :data:`DIVERGENCES` (the config's bar names, the plan's frame
fields, the ``kl`` table's columns, the scene's bar labels), so a new divergence is one
function in :mod:`kldemo.core.divergences` and one entry here. The registry itself is
light (the config reads it to check ``style.bars``): the divergences, and scipy, load on the
first call of a function.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from kldemo.core.mixture import Mixture
from kldemo.core.plane.gaussians import PlaneMixture

__all__ = ["DIVERGENCES", "Divergence", "divergence_values"]


@dataclass(frozen=True)
class Divergence:
    """One divergence of two mixtures p and q, and how it is shown.

    ``name`` is the keyframe format's bar name (``style.bars``); ``column`` the field of
    :class:`kldemo.plan.frames.FrameStates` and the ``kl`` output's key that hold its
    values. ``bound`` is its largest value, at which its bar is full (None: unbounded, the
    bar scaled to ``bar_max``). ``symbol`` and ``symbol_tex`` name it in text and in TeX;
    ``arguments`` gives their order (``"pq"`` for D(p‖q), ``"qp"`` for D(q‖p), ``""`` for
    a symmetric D(p, q)); ``note`` is the small print under its bar (unit and bound).
    """

    name: str
    column: str
    function: Callable[[Mixture, Mixture], np.ndarray]
    bound: float | None
    symbol: str
    symbol_tex: str
    arguments: str
    note: str
    description: str

    @property
    def heading(self) -> str:
        """Its plain-text column heading: ``KL(p‖q)``, ``JS``, ..."""
        if self.arguments:
            first, second = self.arguments
            return f"{self.symbol}({first}‖{second})"
        return "Hellinger" if self.name == "hellinger" else self.symbol


def _forward(p: Mixture, q: Mixture) -> np.ndarray:
    from kldemo.core.divergences import kl_divergence

    return kl_divergence(*p, *q)


def _reverse(p: Mixture, q: Mixture) -> np.ndarray:
    from kldemo.core.divergences import kl_divergence

    return kl_divergence(*q, *p)


def _js(p: Mixture, q: Mixture) -> np.ndarray:
    from kldemo.core.divergences import js_divergence

    return js_divergence(*p, *q)


def _tv(p: Mixture, q: Mixture) -> np.ndarray:
    from kldemo.core.divergences import tv_distance

    return tv_distance(*p, *q)


def _hellinger(p: Mixture, q: Mixture) -> np.ndarray:
    from kldemo.core.divergences import hellinger_distance

    return hellinger_distance(*p, *q)


#: Every divergence by name, in display order (the format's, the table's, the bars').
DIVERGENCES: dict[str, Divergence] = {
    d.name: d
    for d in (
        Divergence(
            "forward",
            "forward_kl",
            _forward,
            None,
            "KL",
            r"D_{\mathrm{KL}}",
            "pq",
            "nats",
            "Kullback-Leibler divergence KL(p‖q): mass-covering",
        ),
        Divergence(
            "reverse",
            "reverse_kl",
            _reverse,
            None,
            "KL",
            r"D_{\mathrm{KL}}",
            "qp",
            "nats",
            "Kullback-Leibler divergence KL(q‖p): mode-seeking",
        ),
        Divergence(
            "js",
            "js",
            _js,
            math.log(2.0),
            "JS",
            r"\mathrm{JS}",
            "",
            "nats, ≤ ln 2",
            "Jensen-Shannon divergence, in nats",
        ),
        Divergence(
            "tv", "tv", _tv, 1.0, "TV", r"\mathrm{TV}", "", "≤ 1", "total variation distance"
        ),
        Divergence(
            "hellinger",
            "hellinger",
            _hellinger,
            1.0,
            "H",
            "H",
            "",
            "Hellinger, ≤ 1",
            "Hellinger distance",
        ),
    )
}


def divergence_values(
    p: Mixture | PlaneMixture,
    q: Mixture | PlaneMixture,
    names: tuple[str, ...] | list[str] = tuple(DIVERGENCES),
) -> dict[str, np.ndarray]:
    r"""The named divergences of p and q, for every state at once.

    Only the named ones (keys of :data:`DIVERGENCES`) are computed.

    Parameters
    ----------
    p, q : Mixture
        Arrays of shape (..., K) whose leading axes broadcast (any ``(weights, means,
        stds)`` triple will do).
    names : sequence of str
        Any of `DIVERGENCES`.

    Returns
    -------
    dict of str to ndarray
        In the order of ``names``, each of shape (...).

    Examples
    --------
    >>> p, q = ([1.0], [0.0], [1.0]), ([1.0], [2.0], [1.0])
    >>> values = divergence_values(p, q, ["forward", "reverse", "tv"])
    >>> [round(float(v), 6) for v in values.values()]   # 2, 2 and 2Φ(1) - 1
    [2.0, 2.0, 0.682689]
    """
    unknown = [name for name in names if name not in DIVERGENCES]
    if unknown:
        raise ValueError(
            f"unknown divergence names {unknown}; choose from {', '.join(DIVERGENCES)}"
        )
    if isinstance(p, PlaneMixture):
        return _plane_values(p, q, names)
    p, q = tuple(p), tuple(q)
    return {name: DIVERGENCES[name].function(p, q) for name in names}


def _plane_values(
    p: PlaneMixture, q: PlaneMixture, names: tuple[str, ...] | list[str]
) -> dict[str, np.ndarray]:
    """The plane's divergences, each distinct pair of states computed once (a video holds
    its states still for many frames, and each plane quadrature costs a millisecond)."""
    from kldemo.core.plane import divergence_values as plane_values

    if not p.shape:
        return plane_values(p, q, names)
    flat = np.concatenate([np.asarray(v).reshape(len(v), -1) for m in (p, q) for v in m], axis=-1)
    unique, inverse = np.unique(flat, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    first = np.zeros(len(unique), dtype=int)
    first[inverse[::-1]] = np.arange(len(inverse))[::-1]
    values = plane_values(p.take(first), q.take(first), names)
    return {name: v[inverse] for name, v in values.items()}
