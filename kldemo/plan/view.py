"""What the axes and bars show when the config leaves it open: ranges fitted to every state."""

from __future__ import annotations

import math
from collections.abc import Iterator
from itertools import takewhile

import numpy as np

from kldemo.core.mixture import Mixture
from kldemo.core.plane import PlaneMixture
from kldemo.timeline import Timeline

MASS = 0.999  # the central share of each density's mass the automatic x range shows
PAD = 0.02  # of the span, added on each side before rounding out


def sample_times(timeline: Timeline, per_transition: int = 48) -> np.ndarray:
    """Times that see every state the timeline passes through, whatever the frame rate."""
    if not timeline.steps:
        return np.zeros(1)
    alphas = np.linspace(0.0, 1.0, per_transition)
    times = [timeline.starts[i] + alphas * s.duration for i, s in enumerate(timeline.steps)]
    return np.concatenate([np.zeros(1), *times])


def nice_ceiling(value: float) -> float:
    """The least of 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 (times a power of 10) that is >= value."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if step * power >= value * (1 - 1e-12):
            return step * power
    return 10 * power  # pragma: no cover


def nice_steps(start: float) -> Iterator[float]:
    """The 1-2-5 × 10^k steps from ``start`` (give or take rounding) upwards.

    >>> from itertools import islice
    >>> list(islice(nice_steps(0.15), 4))
    [0.2, 0.5, 1.0, 2.0]
    """
    exponent = math.floor(math.log10(start))
    while True:
        for mantissa in (1, 2, 5):
            step = float(f"{mantissa}e{exponent}")
            if step >= start * (1 - 1e-9):
                yield step
        exponent += 1


def nice_step(span: float) -> float:
    """The greatest of 1, 2, 5 (times a power of 10) that cuts ``span`` into >= 10 steps.

    Rounding the range out to a step that fine adds at most a fifth of the span.
    """
    raw = span / 10
    fine = takewhile(
        lambda s: s <= raw * (1 + 1e-12), nice_steps(10.0 ** math.floor(math.log10(raw)))
    )
    return max(fine)


def mass_interval(m: Mixture, mass: float = MASS) -> tuple[np.ndarray, np.ndarray]:
    """Each state's central interval holding ``mass`` of its density: its quantiles at
    (1 - mass) / 2 and (1 + mass) / 2.

    The mixture's CDF is a weighted sum of normal CDFs; its quantiles are found by
    bisection between the components' extremes (each bracket holds them: every component
    puts less than the tail share outside mean ± 6 std), vectorised over states.

    >>> lo, hi = mass_interval(Mixture(np.ones((1, 1)), np.zeros((1, 1)), np.ones((1, 1))))
    >>> round(float(hi[0]), 4), bool(lo[0] == -hi[0])
    (3.2905, True)
    """
    from scipy.special import ndtr

    weights, means, stds = (np.atleast_2d(np.asarray(v, dtype=float)) for v in m)
    ends = []
    for share in ((1 - mass) / 2, (1 + mass) / 2):
        low = np.min(means - 6 * stds, axis=-1)
        high = np.max(means + 6 * stds, axis=-1)
        for _ in range(64):  # halves the bracket to rounding for any span up to 1e7 std
            middle = (low + high) / 2
            below = np.sum(weights * ndtr((middle[:, None] - means) / stds), axis=-1) < share
            low, high = np.where(below, middle, low), np.where(below, high, middle)
        ends.append((low + high) / 2)
    return ends[0], ends[1]


def fit_x_range(p: Mixture, q: Mixture) -> tuple[float, float]:
    """An x range that covers the mass of every state, and little more.

    The union over states of each density's central 99.9 % interval, padded by 2 % of its
    span on each side and rounded out to a round step of a tenth of the span or less.
    A narrow spike far from the rest still shows: its interval is in the union. For
    modes at 2 and 8 (std 0.8) and the moment-matched q (std 3.1) this gives [-6, 16].
    """
    intervals = [mass_interval(m) for m in (p, q)]
    low = min(float(np.min(lo)) for lo, _ in intervals)
    high = max(float(np.max(hi)) for _, hi in intervals)
    span = max(high - low, 1e-9 * max(1.0, abs(low), abs(high)))
    low, high = low - PAD * span, high + PAD * span
    step = nice_step(high - low)
    # Rounded to 12 digits, so that a step of 0.2 gives 0.6 and not 0.6000000000000001.
    return (
        float(f"{math.floor(low / step) * step:.12g}"),
        float(f"{math.ceil(high / step) * step:.12g}"),
    )


def fit_y_range(
    p: Mixture,
    q: Mixture,
    x_range: tuple[float, float],
    histogram: tuple[np.ndarray, np.ndarray] | None = None,
    marker_peak: float = 0.0,
) -> tuple[float, float]:
    """[0, a round height] above the highest peak of either density within x_range (and
    of the samples' histogram, where p is estimated from data, and of the optimum markers)."""
    from kldemo.core.divergences import density

    peak = 0.0
    for m in (p, q):
        grid = np.linspace(*x_range, 801)
        x = np.concatenate(
            [np.broadcast_to(grid, (*m.means.shape[:-1], grid.size)), m.means], axis=-1
        )
        inside = (x >= x_range[0]) & (x <= x_range[1])
        values = density(x, m.weights, m.means, m.stds)
        peak = max(peak, float(np.max(np.where(inside, values, 0.0))))
    peak = max(peak, marker_peak)
    if histogram is not None:
        edges, heights = histogram
        inside = (edges[1:] > x_range[0]) & (edges[:-1] < x_range[1])
        peak = max(peak, float(np.max(heights[inside], initial=0.0)))
    return 0.0, nice_ceiling(1.08 * peak)


def fit_bar_max(values: np.ndarray) -> float:
    """The bars' full height in nats: the largest value, rounded up, within reason.

    A few extreme states should not flatten every other bar, so the scale stops at ten
    times the 75th percentile; larger values draw a full bar with an overflow mark.
    """
    values = values[np.isfinite(values)]
    if values.size == 0 or values.max() <= 0:
        return 1.0
    ceiling = 10 * max(float(np.percentile(values, 75)), 1e-3)
    return nice_ceiling(min(float(values.max()), ceiling))


def fit_integrand_range(
    p: Mixture, q: Mixture, x_range: tuple[float, float]
) -> tuple[float, float]:
    """The integrand panel's y range: ``p log(p/q)`` and ``q log(q/p)`` of every state.

    The top is fitted as the bars' scale is (round, and at most ten times the 75th
    percentile of the states' peaks, so that one extreme state does not flatten every
    other); the bottom to the deepest dip below zero (a dip is never deeper than the
    density's height), rounded, and never deeper than the top is high.
    """
    from kldemo.core.divergences import integrands

    grid = np.linspace(*x_range, 801)
    x = np.concatenate(
        [np.broadcast_to(grid, (*p.means.shape[:-1], grid.size)), p.means, q.means], axis=-1
    )
    inside = (x >= x_range[0]) & (x <= x_range[1])
    highs, lows = [], []
    for values in integrands(x, p, q):
        highs.append(np.max(np.where(inside, values, 0.0), axis=-1))
        lows.append(np.min(np.where(inside, values, 0.0), axis=-1))
    peaks = np.max(highs, axis=0)
    peaks = peaks[np.isfinite(peaks)]
    if peaks.size == 0 or peaks.max() <= 0:
        return -0.1, 1.0
    ceiling = 10 * max(float(np.percentile(peaks, 75)), 1e-3)
    high = nice_ceiling(1.05 * min(float(peaks.max()), ceiling))
    dip = -float(np.min(lows))
    low = min(nice_ceiling(1.05 * dip), high) if dip > 0 else 0.1 * high
    return -low, high


def optimum_markers(
    timeline: Timeline, t: np.ndarray, p: Mixture | PlaneMixture, family: str = "full"
) -> tuple[list, np.ndarray]:
    """The optimum markers of every p that stays put, and which set each frame shows.

    Markers belong to a p that does not change: at time t they are shown when p is the
    same a moment before and after (a hold, a keyframe that moves only q, a still),
    and hidden while p moves. A pure function of t, whatever the frame rate.

    Returns
    -------
    sets, index
        ``sets[k]`` is a tuple of :class:`~kldemo.plan.frames.Optimum` (the forward-KL
        optimum and every reverse-KL local optimum over single Gaussians q; in 2-D
        :class:`~kldemo.plan.frames.PlaneOptimum`, over the Gaussians of ``family``);
        ``index[i]`` the set frame i shows, or -1.
    """
    delta = 1e-6  # seconds
    before = timeline.state_at(np.maximum(t - delta, 0.0)).p
    after = timeline.state_at(np.minimum(t + delta, timeline.duration)).p

    def same(a: Mixture | PlaneMixture, b: Mixture | PlaneMixture) -> np.ndarray:
        # Within rounding: a keyframe that leaves p alone still blends p with itself.
        return np.all(
            [
                np.all(
                    (np.abs(x - y) <= 1e-12 * np.maximum(1.0, np.abs(x))).reshape(len(x), -1),
                    axis=-1,
                )
                for x, y in zip(a, b, strict=True)
            ],
            axis=0,
        )

    fixed = same(p, before) & same(p, after)
    # Runs of frames showing one fixed p; a run also ends where p jumped between frames.
    previous = type(p)(*(np.concatenate([v[:1], v[:-1]]) for v in p))
    continues = np.concatenate([[False], fixed[:-1]]) & same(p, previous)
    starts = np.flatnonzero(fixed & ~continues)
    stops = [*starts[1:], len(t)]
    index = np.full(len(t), -1)
    representatives: list[Mixture | PlaneMixture] = []
    sets: list[tuple] = []
    for start, limit in zip(starts, stops, strict=True):
        run = fixed[start:limit] & np.append(True, continues[start + 1 : limit])
        stop = start + int(np.argmin(np.append(run, False)))
        state = p.take(start)
        k = next(
            (
                k
                for k, other in enumerate(representatives)
                if all(
                    np.allclose(a, b, rtol=1e-9, atol=0) for a, b in zip(state, other, strict=True)
                )
            ),
            -1,
        )
        if k < 0:
            sets.append(_optima(state, family))
            representatives.append(state)
            k = len(sets) - 1
        index[start:stop] = k
    return sets, index


def _optima(state: Mixture | PlaneMixture, family: str) -> tuple:
    """The optimum markers of one state of p: the forward optimum, then each reverse one."""
    from kldemo.plan.frames import Optimum, PlaneOptimum

    if isinstance(state, PlaneMixture):
        from kldemo.core.plane.optima import plane_optima

        found = plane_optima(state, family)

        return (
            PlaneOptimum("forward", found.forward.mean, found.forward.cov),
            *(PlaneOptimum("reverse", g.mean, g.cov) for g in found.reverse),
        )
    from kldemo.core.fit import optima

    found = optima(state)
    return (
        Optimum("forward", found.forward.mean, found.forward.std),
        *(Optimum("reverse", g.mean, g.std) for g in found.reverse),
    )
