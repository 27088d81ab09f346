"""Roots of functions sampled on quadrature panels, for all panels at once.

TV's integrand ``|a - b|`` has a kink wherever ``f = log a - log b`` changes sign; its
panels are split there (:func:`kldemo.core.logratio._split_at_roots`). The roots are
bracketed by sign changes between samples, and, for a pair of roots between two
samples, at the extremum of f between them (:func:`hidden_root_pairs`); the brackets are
refined by the Illinois method (:func:`illinois`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

__all__ = ["hidden_root_pairs", "illinois"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]


def _vertex(x: FloatArray, y: FloatArray, low: FloatArray, high: FloatArray) -> FloatArray:
    """Where the parabola through the points (x[:, k], y[:, k]), k < 3, has its
    extremum, kept within [low, high] (the middle point if it has none)."""
    (x0, x1, x2), (f0, f1, f2) = x.T, y.T
    with np.errstate(divide="ignore", invalid="ignore"):
        top = (x1 - x0) ** 2 * (f1 - f2) - (x1 - x2) ** 2 * (f1 - f0)
        vertex = x1 - 0.5 * top / ((x1 - x0) * (f1 - f2) - (x1 - x2) * (f1 - f0))
    return np.clip(np.where(np.isfinite(vertex), vertex, x1), low, high)


def _parabola(x: FloatArray, y: FloatArray, at: FloatArray) -> FloatArray:
    """The parabola through the points (x[:, k], y[:, k]), k < 3, at ``at`` (Lagrange)."""
    (x0, x1, x2), (f0, f1, f2) = x.T, y.T
    with np.errstate(divide="ignore", invalid="ignore"):
        value = (
            f0 * (at - x1) * (at - x2) / ((x0 - x1) * (x0 - x2))
            + f1 * (at - x0) * (at - x2) / ((x1 - x0) * (x1 - x2))
            + f2 * (at - x0) * (at - x1) / ((x2 - x0) * (x2 - x1))
        )
    return np.where(np.isfinite(value), value, f1)


def hidden_root_pairs(
    z: FloatArray, f: FloatArray, log_ratio: Callable[[FloatArray, IntArray], FloatArray]
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, IntArray]:
    """Brackets (lo, hi, f at lo, f at hi, panel) of the pairs of roots of f that fall
    between two neighbouring samples z (point, panel) of a panel, where f keeps its sign.

    Between them f has an extremum of the other sign, next to a sample where |f| is
    least among its neighbours. Successive parabolic interpolation (f is smooth on the
    panel) finds it; where its sign differs, a root lies on either side. Missed, the
    pair would leave two kinks of the TV integrand unresolved and unnoticed.
    """
    magnitude, sign = np.abs(f), np.sign(f)
    points = f.shape[0]
    least = sign != 0
    least[1:] &= (magnitude[1:] < magnitude[:-1]) & (sign[1:] == sign[:-1])
    least[:-1] &= (magnitude[:-1] <= magnitude[1:]) & (sign[:-1] == sign[1:])
    node, panel = np.nonzero(least)
    # the search stays between the sample's neighbours, where f has its sign
    low, high = z[np.maximum(node - 1, 0), panel], z[np.minimum(node + 1, points - 1), panel]
    middle = np.clip(node, 1, points - 2)
    x = np.stack([z[middle + k, panel] for k in (-1, 0, 1)], axis=1)  # (candidate, 3)
    y = np.stack([f[middle + k, panel] for k in (-1, 0, 1)], axis=1)
    # Only where the parabola through the three dips at least half way to 0.
    vertex = _vertex(x, y, low, high)
    dips = sign[node, panel] * _parabola(x, y, vertex) < 0.5 * magnitude[node, panel]
    node, panel, low, high, x, y, vertex = (v[dips] for v in (node, panel, low, high, x, y, vertex))

    s = sign[node, panel]
    rows = np.arange(panel.size)[:, None]
    f_low = f[np.maximum(node - 1, 0), panel]
    f_high = f[np.minimum(node + 1, points - 1), panel]
    split, split_value = np.full(panel.size, np.nan), np.zeros(panel.size)
    for step in range(4):
        if step:
            vertex = _vertex(x, y, low, high)
        value = log_ratio(vertex, panel)
        crossed = np.isnan(split) & (np.sign(value) * s < 0)
        split, split_value = np.where(crossed, vertex, split), np.where(crossed, value, split_value)
        # the three samples around the least |f| of these four
        x, y = np.column_stack([x, vertex]), np.column_stack([y, value])
        order = np.argsort(x, axis=1)
        x, y = np.take_along_axis(x, order, axis=1), np.take_along_axis(y, order, axis=1)
        centre = np.clip(np.argmin(np.abs(y), axis=1), 1, 2)[:, None] + np.arange(-1, 2)
        x, y = x[rows, centre], y[rows, centre]
    found = ~np.isnan(split)
    split, at_split = split[found], split_value[found]
    f_low, f_high = f_low[found], f_high[found]
    return (
        np.concatenate([low[found], split]),
        np.concatenate([split, high[found]]),
        np.concatenate([f_low, at_split]),
        np.concatenate([at_split, f_high]),
        np.tile(panel[found], 2),
    )


def illinois(
    lo: FloatArray,
    hi: FloatArray,
    f_lo: FloatArray,
    f_hi: FloatArray,
    f: Callable[[FloatArray, IntArray], FloatArray],
) -> FloatArray:
    """Roots of f in the brackets [lo, hi] (f_lo, f_hi of opposite signs), all at once,
    by the Illinois variant of regula falsi: superlinear, and never leaving a bracket.
    ``f(x, k)`` is f at the points x of brackets k."""
    lo, hi, f_lo, f_hi = (np.array(v, dtype=float) for v in (lo, hi, f_lo, f_hi))
    kept = np.zeros(lo.size)  # which end the last step kept: -1 lo, +1 hi
    level = 1e-14 * np.maximum(np.abs(f_lo), np.abs(f_hi))
    active = np.arange(lo.size)
    for _ in range(100):
        a, b, fa, fb = lo[active], hi[active], f_lo[active], f_hi[active]
        with np.errstate(invalid="ignore", divide="ignore"):
            x = b - fb * (b - a) / (fb - fa)
        middle = 0.5 * (a + b)
        x = np.where((x > a) & (x < b), x, middle)  # rounding: bisect instead
        fx = f(x, active)
        like_hi = np.sign(fx) == np.sign(fb)
        # Illinois: an end kept twice running has its value halved.
        f_lo[active] = np.where(like_hi & (kept[active] < 0), 0.5 * fa, fa)
        f_hi[active] = np.where(~like_hi & (kept[active] > 0), 0.5 * fb, fb)
        lo[active], f_lo[active] = np.where(like_hi, a, x), np.where(like_hi, f_lo[active], fx)
        hi[active], f_hi[active] = np.where(like_hi, x, b), np.where(like_hi, fx, f_hi[active])
        kept[active] = np.where(like_hi, -1.0, 1.0)
        # done where the bracket is a few ulps wide or f down to about its rounding
        exact = np.abs(fx) <= level[active]
        lo[active[exact]] = hi[active[exact]] = x[exact]
        narrow = hi[active] - lo[active] <= 4 * np.spacing(np.maximum(np.abs(lo[active]), 1.0))
        active = active[~(exact | narrow)]
        if not active.size:
            break
    return 0.5 * (lo + hi)
