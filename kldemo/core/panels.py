"""Where the divergences' quadrature panels go: the line shared among the components.

An integral ``∫ a(x) G(x) dx`` over a Gaussian mixture ``a`` is split by where each piece of
the line is best represented, not by component: the line is *owned* piecewise, each point
by the narrowest component of ``a`` within 9 of its stds (:func:`owned_intervals`), and a
piece is integrated in its owner's variable ``z = (x - m_o) / s_o``, where nodes keep the
resolution of every component that matters there. Mixtures whose components overlap thus
share one set of panels instead of each component bringing its own.

Within a piece, panels are as wide as the singularities of the log densities allow
(:func:`~kldemo.core.quadrature.march_panels`). Those of ``log(e^h_c + e^h_d)``, where
``h_c - h_d = ±iπ``, are the roots of a quadratic, found once per state and pair in the
variable of the pair's narrower component (:func:`pair_singularities`), and handed to the
pieces near which they may bind (:func:`binding_singularities`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from kldemo.core.quadrature import (
    BIND_AHEAD,
    BIND_BEHIND,
    BIND_HEIGHT,
    NEGLIGIBLE_LOG,
    Z_MAX,
    march_panels,
)

__all__ = [
    "DivergencePanels",
    "Singularities",
    "binding_singularities",
    "divergence_panels",
    "owned_intervals",
    "pair_singularities",
    "singularities",
]

_DENSE = 16  # singularities per piece below which each piece tries all of its state's

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
Flat = tuple[FloatArray, FloatArray, FloatArray]  # (weights, means, stds), each (S, K)


@dataclass(frozen=True)
class Singularities:
    """Points ``x = centre + scale (z ± i y)`` of the states ``state``, in the variable of
    a component (centre, scale), flat arrays."""

    state: IntArray
    centre: FloatArray
    scale: FloatArray
    z: FloatArray
    y: FloatArray

    @staticmethod
    def none() -> Singularities:
        return Singularities(np.empty(0, dtype=np.intp), *(np.empty(0) for _ in range(4)))

    @staticmethod
    def join(parts: list[Singularities]) -> Singularities:
        fields = ("state", "centre", "scale", "z", "y")
        return Singularities(
            *(np.concatenate([getattr(part, name) for part in parts]) for name in fields)
        )


def pair_singularities(mixture: Flat, first: IntArray, second: IntArray) -> Singularities:
    """The singularities of ``log(e^h_c + e^h_d)`` near the real axis, for the pairs
    ``(first[k], second[k])`` of the components of ``mixture``, in every state.

    ``e^h_c + e^h_d = 0`` where ``h_c - h_d = ±iπ``. In the variable z of the narrower
    component f of the pair, ``h_f = log w_f - z²/2`` and ``h_g = log(w_g β) - (α + β z)²/2``
    with ``α = (m_f - m_g)/s_g`` and ``β = s_f/s_g <= 1``, so that these are the roots of
    ``(1 - β²) z² - 2αβ z - α² - 2 log(w_f / (w_g β)) + 2πi = 0``, well conditioned even
    for narrow components far from 0. A root counts if both components matter at its real
    part: the weaker of the two within e^40 of the largest component there.
    """
    if not first.size:
        return Singularities.none()
    weights, _, stds = mixture
    rows = np.arange(weights.shape[0])[:, None]
    swap = stds[:, second] < stds[:, first]
    narrow, other = np.where(swap, second, first), np.where(swap, first, second)
    (w_f, m_f, s_f), (w_g, m_g, s_g) = (
        tuple(array[rows, index] for array in mixture) for index in (narrow, other)
    )
    # Zero weights give infinite or nan roots, which are discarded.
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        alpha, beta = (m_f - m_g) / s_g, s_f / s_g
        a = (1.0 - beta) * (1.0 + beta)
        b = -alpha * beta
        constant = -alpha * alpha - 2.0 * (np.log(w_f) - np.log(w_g) - np.log(beta)) + 2j * np.pi
        root = np.sqrt(b * b - a * constant)
        q = -(b + np.where(b * root.real >= 0, root, -root))  # no cancellation
        roots = np.concatenate([q / a, constant / q], axis=1)  # (S, 2 P); q/a is inf if a = 0
        z, y = roots.real, np.abs(roots.imag)
        found = np.isfinite(z) & np.isfinite(y) & (np.abs(z) < 1e8)
        z = np.where(found, z, 0.0)
        centre, scale = np.tile(m_f, 2), np.tile(s_f, 2)
        # log w_c N(x; m_c, s_c) + log √(2π) of the pair and of every component at the
        # real parts (the pair's in the narrower's variable), to see if the pair matters
        alpha, beta = np.tile(alpha, 2), np.tile(beta, 2)
        h_f = np.tile(np.log(w_f / s_f), 2) - 0.5 * z * z
        h_g = np.tile(np.log(w_g / s_g), 2) - 0.5 * (alpha + beta * z) ** 2
        w_e, m_e, s_e = (v[:, None, :] for v in mixture)
        h = (centre + scale * z)[..., None] - m_e
        h *= 1.0 / (np.sqrt(2.0) * s_e)
        np.square(h, out=h)
        np.subtract(np.log(w_e / s_e), h, out=h)
        # the largest component bounds the mixture within a factor K: conservative
        relevant = np.minimum(h_f, h_g) - h.max(axis=-1) > NEGLIGIBLE_LOG
    state, k = np.nonzero(found & relevant)
    return Singularities(state, centre[state, k], scale[state, k], z[state, k], y[state, k])


def owned_intervals(mixture: Flat) -> tuple[IntArray, IntArray, FloatArray, FloatArray]:
    """The pieces of the line each component of ``mixture`` owns, in every state:
    ``(state, owner, start, end)``, the ends in the owner's variable.

    A point belongs to the narrowest present component that it lies within ``Z_MAX`` of
    the stds of. Each piece therefore ends where its owner's range or a narrower component's
    begins, at ``±Z_MAX`` of one of the two: there that one is negligible (e^-40.5 of its
    peak), so that the ends of neighbouring pieces, rounded in different variables, leave
    no gap that matters. Nothing owns what lies beyond every range.
    """
    weights, means, stds = mixture
    k = weights.shape[1]
    present = weights > 0
    if k == 1:  # the whole range of the one component
        state = np.flatnonzero(present[:, 0])
        ends = np.full(state.size, Z_MAX)
        return state, np.zeros(state.size, dtype=np.intp), -ends, ends
    lower, upper = means - Z_MAX * stds, means + Z_MAX * stds
    cuts = np.where(np.tile(present, 2), np.concatenate([lower, upper], axis=1), np.inf)
    order = np.argsort(cuts, axis=1, kind="stable")
    cuts = np.take_along_axis(cuts, order, axis=1)
    cut_component, cut_side = order % k, np.where(order < k, -Z_MAX, Z_MAX)
    with np.errstate(invalid="ignore"):  # inf - inf beyond the last cut: nan, not covered
        middle = (0.5 * (cuts[:, 1:] + cuts[:, :-1]))[..., None]
    covering = present[:, None, :] & (lower[:, None, :] <= middle) & (middle <= upper[:, None, :])
    owner = np.argmin(np.where(covering, stds[:, None, :], np.inf), axis=-1)
    owner = np.where(covering.any(axis=-1), owner, -1)  # (S, 2K - 1) elementary intervals
    # Runs of one owner are one piece.
    first = np.ones(owner.shape, dtype=bool)
    first[:, 1:] = owner[:, 1:] != owner[:, :-1]
    last = np.ones(owner.shape, dtype=bool)
    last[:, :-1] = first[:, 1:]
    state, begin = np.nonzero(first & (owner >= 0))
    finish = np.nonzero(last & (owner >= 0))[1] + 1
    own = owner[state, begin]
    m_o, s_o = means[state, own], stds[state, own]

    def in_owner_variable(cut: IntArray) -> FloatArray:
        c, side = cut_component[state, cut], cut_side[state, cut]
        z = (means[state, c] - m_o) / s_o + side * (stds[state, c] / s_o)
        return np.clip(np.where(c == own, side, z), -Z_MAX, Z_MAX)

    start, end = in_owner_variable(begin), in_owner_variable(finish)
    piece = end > start
    return state[piece], own[piece], start[piece], end[piece]


def _search_runs(
    values: FloatArray, low: IntArray, high: IntArray, targets: FloatArray, right: bool
) -> IntArray:
    """For each target, the first index in [low, high) of a sorted run of values whose
    value is > target (right) or >= target (left), else high: a binary search in all
    the runs at once."""
    low, high = low.copy(), high.copy()
    while True:
        open_ = low < high
        if not open_.any():
            return low
        middle = (low + high) // 2
        probe = values[np.minimum(middle, values.size - 1)]
        below = (probe <= targets) if right else (probe < targets)
        low = np.where(open_ & below, middle + 1, low)
        high = np.where(open_ & ~below, middle, high)


def binding_singularities(
    found: Singularities,
    state: IntArray,
    centre: FloatArray,
    scale: FloatArray,
    start: FloatArray,
    end: FloatArray,
) -> tuple[IntArray, FloatArray, FloatArray]:
    """(piece, z, y): the singularities that may bind the panels of each piece
    [start, end] of state ``state``, in its variable (x - centre) / scale.

    On a piece of length L a panel is at most ``min(L, 2 MAX_HALF_WIDTH)`` wide, so
    (:func:`~kldemo.core.quadrature.march_panels`) a singularity binds only from less
    than ``min(L/3, BIND_BEHIND)`` before the piece to ``min(L/3, BIND_AHEAD)`` after
    it, and below ``min(2L/3, BIND_HEIGHT)``: those are looked up among the state's,
    sorted by position (where a state has few per piece, each of its pieces tries them
    all).
    """
    length = end - start
    behind, ahead = np.minimum(length / 3, BIND_BEHIND), np.minimum(length / 3, BIND_AHEAD)
    height = np.minimum(2 * length / 3, BIND_HEIGHT)
    if not found.state.size or not state.size:
        return np.empty(0, dtype=np.intp), np.empty(0), np.empty(0)
    counts = np.bincount(found.state, minlength=int(state.max()) + 1)
    segment_end = np.cumsum(counts)
    first, stop = (segment_end - counts)[state], segment_end[state]
    # Decided per state, never for the whole call, so that which singularities a piece
    # sees (and with them its panels and value) cannot depend on the other states.
    pieces = np.bincount(state, minlength=counts.size)
    many = np.flatnonzero((counts > _DENSE * pieces)[state])  # else each piece tries all
    if not many.size:
        order = np.argsort(found.state, kind="stable")
    else:
        x = found.centre + found.scale * found.z  # rounded; for the search only
        order = np.lexsort((x, found.state))
        x = x[order]
        # the windows in x, widened by a part in 1e9 against the rounding of x
        below = centre[many] + scale[many] * (start[many] - behind[many])
        above = centre[many] + scale[many] * (end[many] + ahead[many])
        slack = 1e-9 * (np.abs(below) + np.abs(above)) + 1e-300
        first[many], stop[many] = (
            _search_runs(x, first[many], stop[many], below - slack, right=False),
            _search_runs(x, first[many], stop[many], above + slack, right=True),
        )
    n = np.maximum(stop - first, 0)
    piece = np.repeat(np.arange(state.size), n)
    index = order[first[piece] + np.arange(piece.size) - (np.cumsum(n) - n)[piece]]
    ratio = found.scale[index] / scale[piece]
    z = (found.centre[index] - centre[piece]) / scale[piece] + ratio * found.z[index]
    y = ratio * found.y[index]
    binds = (
        (y < height[piece]) & (z > start[piece] - behind[piece]) & (z < end[piece] + ahead[piece])
    )
    return piece[binds], z[binds], y[binds]


@dataclass(frozen=True)
class DivergencePanels:
    """Pieces (jobs: their state and owner) and the first panels (left, right, job)."""

    state: IntArray
    owner: IntArray
    left: FloatArray
    right: FloatArray
    job: IntArray


def singularities(a: Flat, b: Flat, union: bool) -> Singularities:
    """The singularities of log a and log b near the real axis; with union also those of
    log(a + b), from the pairs of one component of a and one of b, seen against both
    mixtures together: where a and b switch dominance, which the integrands of JS, TV
    and Hellinger (functions of a / (a + b)) feel, and KL's does not. The same for
    (a, b) and (b, a)."""
    found = [pair_singularities(m, *np.triu_indices(m[0].shape[1], 1)) for m in (a, b)]
    if union:
        n_a, n_b = a[0].shape[1], b[0].shape[1]
        both = tuple(np.concatenate([x, y], axis=1) for x, y in zip(a, b, strict=True))
        first, second = np.meshgrid(np.arange(n_a), n_a + np.arange(n_b), indexing="ij")
        found.append(pair_singularities(both, first.ravel(), second.ravel()))
    return Singularities.join(found)


def divergence_panels(a: Flat, found: Singularities) -> DivergencePanels:
    """The pieces of a's line and their first panels, for integrands whose singularities
    are found (:func:`singularities` of a and b, for integrands of log a - log b)."""
    state, owner, start, end = owned_intervals(a)
    m_o, s_o = a[1][state, owner], a[2][state, owner]
    job, z, y = binding_singularities(found, state, m_o, s_o, start, end)
    left, right, panel_job = march_panels(start, end, job, z, y)
    return DivergencePanels(state, owner, left, right, panel_job)
