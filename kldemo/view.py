"""What the axes and bars show when the config leaves it open: ranges fitted to every state."""

from __future__ import annotations

import math

import numpy as np

from kldemo.timeline import Mixture, Timeline

SPREAD = 3.5  # stds shown beyond every component's mean


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


def _nice_step(span: float) -> float:
    raw = span / 8
    power = 10.0 ** math.floor(math.log10(raw))
    return next(s * power for s in (1, 2, 2.5, 5, 10) if s * power >= raw)


def fit_x_range(p: Mixture, q: Mixture) -> tuple[float, float]:
    """An x range, on a round step, that shows every component of every state."""
    low = min(np.min(p.means - SPREAD * p.stds), np.min(q.means - SPREAD * q.stds))
    high = max(np.max(p.means + SPREAD * p.stds), np.max(q.means + SPREAD * q.stds))
    step = _nice_step(high - low)
    return math.floor(low / step) * step, math.ceil(high / step) * step


def fit_y_range(p: Mixture, q: Mixture, x_range: tuple[float, float]) -> tuple[float, float]:
    """[0, a round height] above the highest peak of either density within x_range."""
    from kldemo.core import density

    peak = 0.0
    for m in (p, q):
        grid = np.linspace(*x_range, 801)
        x = np.concatenate([np.broadcast_to(grid, (*m.means.shape[:-1], grid.size)), m.means],
                           axis=-1)
        inside = (x >= x_range[0]) & (x <= x_range[1])
        values = density(x, m.weights, m.means, m.stds)
        peak = max(peak, float(np.max(np.where(inside, values, 0.0))))
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
    from kldemo.core import log_density

    grid = np.linspace(*x_range, 801)
    x = np.concatenate([np.broadcast_to(grid, (*p.means.shape[:-1], grid.size)), p.means, q.means],
                       axis=-1)
    inside = (x >= x_range[0]) & (x <= x_range[1])
    log_p, log_q = log_density(x, *p), log_density(x, *q)
    highs, lows = [], []
    for values in (np.exp(log_p) * (log_p - log_q), np.exp(log_q) * (log_q - log_p)):
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


def optimum_markers(timeline: Timeline, t: np.ndarray, p: Mixture) -> tuple[list, np.ndarray]:
    """The optimum markers of every p that stays put, and which set each frame shows.

    Markers belong to a p that does not change: at time t they are shown when p is the
    same a moment before and after (a hold, a keyframe that moves only q, a still),
    and hidden while p moves. A pure function of t, whatever the frame rate.

    Returns
    -------
    sets, index
        ``sets[k]`` is a tuple of :class:`~kldemo.scenes.plan.Optimum` (the forward-KL
        optimum and every reverse-KL local optimum over single Gaussians q);
        ``index[i]`` the set frame i shows, or -1.
    """
    from kldemo.fit import optima
    from kldemo.scenes.plan import Optimum

    delta = 1e-6  # seconds
    before = timeline.state_at(np.maximum(t - delta, 0.0)).p
    after = timeline.state_at(np.minimum(t + delta, timeline.duration)).p

    def same(a: Mixture, b: Mixture) -> np.ndarray:
        # Within rounding: a keyframe that leaves p alone still blends p with itself.
        return np.all([np.all(np.abs(x - y) <= 1e-12 * np.maximum(1.0, np.abs(x)), axis=-1)
                       for x, y in zip(a, b, strict=True)], axis=0)

    fixed = same(p, before) & same(p, after)
    # Runs of frames showing one fixed p; a run also ends where p jumped between frames.
    previous = Mixture(*(np.concatenate([v[:1], v[:-1]]) for v in p))
    continues = np.concatenate([[False], fixed[:-1]]) & same(p, previous)
    starts = np.flatnonzero(fixed & ~continues)
    stops = [*starts[1:], len(t)]
    index = np.full(len(t), -1)
    representatives: list[Mixture] = []
    sets: list[tuple] = []
    for start, limit in zip(starts, stops, strict=True):
        run = fixed[start:limit] & np.append(True, continues[start + 1:limit])
        stop = start + int(np.argmin(np.append(run, False)))
        state = Mixture(*(np.asarray(v[start]) for v in p))
        k = next((k for k, other in enumerate(representatives) if all(
            np.allclose(a, b, rtol=1e-9, atol=0) for a, b in zip(state, other, strict=True))), -1)
        if k < 0:
            found = optima(state)
            sets.append((Optimum("forward", found.forward.mean, found.forward.std),
                         *(Optimum("reverse", g.mean, g.std) for g in found.reverse)))
            representatives.append(state)
            k = len(sets) - 1
        index[start:stop] = k
    return sets, index
