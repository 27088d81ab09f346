"""Where the curves' names go in a frame: a pure function of the curves, free of manim.

Each name is tried at many places along the x-axis near its curve's peak, each as low as
it can sit while clearing every curve under it; the pair of places that keeps both names
inside the plot, off the curves and apart, nearest their own peaks, wins. The result
depends only on the curves drawn in that frame, so any frame can be drawn alone.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: Candidate offsets from the peak, in label widths (a quarter-width apart, so that a
#: name drifts smoothly as its curve moves rather than jumping).
OFFSETS = np.arange(-8.0, 8.0 + 1e-9, 0.25)
_INVALID = 1e6  # the cost of a place that breaks a rule: used only when nothing fits


def curve_ceiling(
    curves: Sequence[tuple[np.ndarray, np.ndarray]], x0: np.ndarray, x1: np.ndarray
) -> np.ndarray:
    """The highest point of any curve over each interval ``[x0[i], x1[i]]``.

    Curves are polylines ``(xs, ys)`` with sorted ``xs``; between samples they are
    straight, so the highest point is a sample inside the interval or an end's
    interpolated height. Outside a curve's span it counts as absent.
    """
    ceiling = np.full(np.shape(x0), -np.inf)
    for xs, ys in curves:
        inside = (xs[None, :] >= x0[:, None]) & (xs[None, :] <= x1[:, None])
        top = np.max(np.where(inside, ys[None, :], -np.inf), axis=1)
        for end in (x0, x1):
            covered = (end >= xs[0]) & (end <= xs[-1])
            top = np.where(covered, np.maximum(top, np.interp(end, xs, ys)), top)
        ceiling = np.maximum(ceiling, top)
    return ceiling


def _candidates(curves, anchor, size, others, box, gap):
    """Every place tried for one name: centres (n, 2) and each one's cost (n,)."""
    left, bottom, right, top = box
    (w, h), (ax, ay) = size, anchor
    xs = np.concatenate([ax + OFFSETS * w, [left + w / 2 + gap, right - w / 2 - gap]])
    xs = np.clip(xs, left + w / 2 + gap, max(right - w / 2 - gap, left + w / 2 + gap))
    ceiling = curve_ceiling(curves, xs - w / 2 - gap, xs + w / 2 + gap)
    ys = np.maximum(ceiling + gap + h / 2, bottom + gap + h / 2)
    overflow = np.maximum(ys + h / 2 + gap - top, 0.0)
    ideal_y = ay + gap + h / 2
    own = np.hypot(xs - ax, ys - ideal_y)
    cost = own + np.where(overflow > 0, _INVALID + overflow, 0.0)
    for ox, oy in others:
        # A name nearer another curve's peak than its own would read as that curve's.
        nearer = own - np.hypot(xs - ox, ys - (oy + gap + h / 2))
        cost = cost + 2 * np.maximum(nearer, 0.0)
    # Where the plot is too low for a name above a curve, it sits at the top, on it.
    ys = np.minimum(ys, top - gap - h / 2)
    return np.stack([xs, ys], axis=1), cost


def place_names(
    curves: Sequence[tuple[np.ndarray, np.ndarray]],
    anchors: Sequence[tuple[float, float]],
    sizes: Sequence[tuple[float, float]],
    box: tuple[float, float, float, float],
    gap: float,
) -> list[tuple[float, float]]:
    """The centres of two name labels, in the same units as the curves and ``box``.

    Parameters
    ----------
    curves
        Every curve drawn, as polylines ``(xs, ys)`` in scene units.
    anchors
        The point each name belongs to (its curve's peak), one per name.
    sizes
        ``(width, height)`` of each name.
    box
        ``(left, bottom, right, top)`` of the plot: names stay inside it.
    gap
        The least clearance between a name and a curve, another name, or the box.

    Returns the pair of places that keeps the names inside the box, above every curve and
    ``gap`` apart, with the least total distance from their peaks (ties: the first
    candidate, so the result is deterministic).

    >>> flat = [(np.array([0.0, 10.0]), np.array([0.0, 0.0]))]
    >>> place_names(flat, [(5, 0), (5, 0)], [(1, 1), (1, 1)], (0, 0, 10, 5), 0.1)
    [(3.75, 0.6), (5.0, 0.6)]
    """
    if len(anchors) != 2 or len(sizes) != 2:
        raise ValueError("place_names places two names (p and q)")
    (pw, ph), (qw, qh) = sizes
    p_at, p_cost = _candidates(curves, anchors[0], sizes[0], [anchors[1]], box, gap)
    q_at, q_cost = _candidates(curves, anchors[1], sizes[1], [anchors[0]], box, gap)
    # Every pair: apart by `gap` in x or in y, else ruled out.
    dx = np.abs(p_at[:, None, 0] - q_at[None, :, 0]) - (pw + qw) / 2 - gap
    dy = np.abs(p_at[:, None, 1] - q_at[None, :, 1]) - (ph + qh) / 2 - gap
    clash = np.minimum(-dx, -dy)  # > 0: the boxes overlap by that much in the narrower way
    total = p_cost[:, None] + q_cost[None, :] + np.where(clash > 1e-12, _INVALID + clash, 0.0)
    i, j = np.unravel_index(int(np.argmin(total)), total.shape)
    return [(float(p_at[i, 0]), float(p_at[i, 1])), (float(q_at[j, 0]), float(q_at[j, 1]))]
