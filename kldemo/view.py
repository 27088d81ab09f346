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
        x = np.concatenate([np.broadcast_to(grid, (*m.means.shape[:-1], grid.size)), m.means], axis=-1)
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
