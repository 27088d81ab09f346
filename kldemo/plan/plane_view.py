"""What the plane shows when a 2-D config leaves it open: ranges fitted to every state.

The plane is drawn at equal scale, so the two ranges decide the plot's shape: each is
fitted to the states, then the narrower is widened about its centre until the plot is
between square and 3:2 (x wider), so that neither a flat nor a tall density makes the
plot a strip.
"""

from __future__ import annotations

import math

import numpy as np

from kldemo.core.plane import PlaneMixture
from kldemo.plan.view import PAD, nice_step

#: Each component's ellipse holding this share of its mass is inside the fitted view (the
#: outermost contour drawn holds 95%).
MASS = 0.99
#: Components lighter than this share of their mixture do not widen the view.
LIGHT = 1e-3
#: The plot's width over its height, from square to 3:2.
ASPECTS = (1.0, 1.5)


def _extent(m: PlaneMixture, axis: int) -> tuple[float, float]:
    """The lowest and highest coordinate ``axis`` of every state's components' ellipses of
    mass ``MASS`` (mean ± r·std along the axis, r² = -2 log(1 - MASS))."""
    radius = math.sqrt(-2.0 * math.log1p(-MASS))
    centre = m.means[..., axis]
    half = radius * np.sqrt(m.covs[..., axis, axis])
    heavy = m.weights >= LIGHT * np.max(m.weights, axis=-1, keepdims=True)
    return float(np.min((centre - half)[heavy])), float(np.max((centre + half)[heavy]))


def _rounded(low: float, high: float, step: float) -> tuple[float, float]:
    # Rounded to 12 digits, so that a step of 0.2 gives 0.6 and not 0.6000000000000001.
    return (
        float(f"{math.floor(low / step) * step:.12g}"),
        float(f"{math.ceil(high / step) * step:.12g}"),
    )


def fit_plane_ranges(
    p: PlaneMixture,
    q: PlaneMixture,
    x_range: tuple[float, float] | None = None,
    y_range: tuple[float, float] | None = None,
) -> tuple[tuple[float, float], tuple[float, float]]:
    """The x and y ranges of the plane: those given, else covering every state's mass.

    Each open range is the union over states and components of the ellipses holding 99%
    of a component's mass, padded by 2% of its span and rounded out to a round step; an
    open range is then widened about its centre (and rounded again) until the plot's
    aspect is within :data:`ASPECTS`. A range the file gives is kept as it is.

    >>> g = PlaneMixture.gaussian([[0.0, 0.0]], [np.eye(2)])
    >>> fit_plane_ranges(g, g)
    ((-4.0, 4.0), (-4.0, 4.0))
    """
    spans = {}
    for axis, given in ((0, x_range), (1, y_range)):
        if given is not None:
            spans[axis] = (float(given[0]), float(given[1]))
            continue
        low, high = (
            min(_extent(p, axis)[0], _extent(q, axis)[0]),
            max(_extent(p, axis)[1], _extent(q, axis)[1]),
        )
        span = max(high - low, 1e-9 * max(1.0, abs(low), abs(high)))
        spans[axis] = (low - PAD * span, high + PAD * span)
    step = nice_step(max(hi - lo for lo, hi in spans.values()))
    for axis, given in ((0, x_range), (1, y_range)):
        if given is None:
            spans[axis] = _rounded(*spans[axis], step)
    (x0, x1), (y0, y1) = spans[0], spans[1]
    width, height = x1 - x0, y1 - y0
    if x_range is None and width < ASPECTS[0] * height:
        grow = (ASPECTS[0] * height - width) / 2
        spans[0] = _rounded(x0 - grow, x1 + grow, step)
    elif y_range is None and width > ASPECTS[1] * height:
        grow = (width / ASPECTS[1] - height) / 2
        spans[1] = _rounded(y0 - grow, y1 + grow, step)
    return spans[0], spans[1]


def plane_grid(
    x_range: tuple[float, float], y_range: tuple[float, float], n: int = 96
) -> np.ndarray:
    """Points of an n-wide grid over the view (rows of y, columns of x), shape (N, 2)."""
    xs = np.linspace(*x_range, n)
    ys = np.linspace(
        *y_range, max(2, round(n * (y_range[1] - y_range[0]) / (x_range[1] - x_range[0])))
    )
    gx, gy = np.meshgrid(xs, ys)
    return np.stack([gx.ravel(), gy.ravel()], axis=-1)


def fit_plane_integrand_range(
    p: PlaneMixture, q: PlaneMixture, x_range: tuple[float, float], y_range: tuple[float, float]
) -> tuple[float, float]:
    """The colour range of the integrand panel's heat map of ``p log(p/q)``.

    Symmetric about 0 (a diverging scale: where q overweights p the integrand dips below
    zero); its half-width is the largest magnitude over the states, capped as the bars'
    scale is at ten times the 75th percentile of the states' peaks, and rounded."""
    from kldemo.core.plane import log_density
    from kldemo.plan.view import nice_ceiling

    points = plane_grid(x_range, y_range, 64)
    log_p, log_q = log_density(points, p), log_density(points, q)
    with np.errstate(under="ignore"):
        values = np.exp(log_p) * (log_p - log_q)
    peaks = np.max(np.abs(values), axis=-1)
    peaks = peaks[np.isfinite(peaks)]
    if peaks.size == 0 or peaks.max() <= 0:
        return -1.0, 1.0
    ceiling = 10 * max(float(np.percentile(peaks, 75)), 1e-6)
    top = nice_ceiling(min(float(peaks.max()), ceiling))
    return -top, top
