"""Densities and integrands sampled for drawing, many frames at once: numpy only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kldemo.core.divergences import density, integrands

__all__ = ["Chunk", "label_anchor", "sample_density", "sample_integrands"]

# Where the per-component samples sit, in stds from the mean: dense at the mean (a narrow
# spike keeps its peak), sparser in the tails. An odd count puts one sample on the mean.
_SPIKE_OFFSETS = 8.0 * np.sinh(3.0 * np.linspace(-1.0, 1.0, 41)) / np.sinh(3.0)


def sample_density(
    weights: np.ndarray | Sequence[float],
    means: np.ndarray | Sequence[float],
    stds: np.ndarray | Sequence[float],
    x_range: tuple[float, float],
    n: int = 200,
) -> tuple[np.ndarray, np.ndarray]:
    """Sample mixture densities on a grid that keeps narrow spikes, for many states at once.

    The grid of each state is ``n`` uniform points over ``x_range`` plus 41 points around
    every component (its mean and up to ±8 stds, dense near the mean), clipped to
    ``x_range`` and sorted. A component of std 1e-3 therefore shows its full height
    however coarse the uniform part is. Every state gets the same number of points, so
    the whole batch is one numpy computation.

    Parameters
    ----------
    weights, means, stds
        Mixture parameters, shape ``(..., K)``; leading axes are states (frames).
    x_range
        ``(x_min, x_max)`` of the view.
    n
        Points of the uniform part of the grid.

    Returns
    -------
    xs, ys
        Arrays of shape ``(..., n + 41 K)``: sorted sample positions and the density there.
    """
    weights = np.asarray(weights, dtype=float)
    means = np.asarray(means, dtype=float)
    stds = np.asarray(stds, dtype=float)
    x_min, x_max = float(x_range[0]), float(x_range[1])
    lead = np.broadcast_shapes(weights.shape[:-1], means.shape[:-1], stds.shape[:-1])
    uniform = np.broadcast_to(np.linspace(x_min, x_max, n), (*lead, n))
    around = means[..., :, None] + stds[..., :, None] * _SPIKE_OFFSETS
    around = np.broadcast_to(around, (*lead, *around.shape[-2:]))
    around = around.reshape(*lead, -1)
    xs = np.sort(np.clip(np.concatenate([uniform, around], axis=-1), x_min, x_max), axis=-1)
    ys = density(xs, weights, means, stds)
    return xs, ys


def sample_integrands(
    p: tuple[np.ndarray, np.ndarray, np.ndarray],
    q: tuple[np.ndarray, np.ndarray, np.ndarray],
    x_range: tuple[float, float],
    n: int = 200,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The integrands of both KLs, ``p log(p/q)`` and ``q log(q/p)``, for many states.

    Sampled on the grid of :func:`sample_density` for p and q together (so that narrow
    components of either keep their shape), in log space so that nothing underflows:
    where p is vanishingly small its term is 0, however large ``log(p/q)`` is.

    Parameters
    ----------
    p, q
        ``(weights, means, stds)``, arrays of shape ``(..., K)``.
    x_range
        ``(x_min, x_max)`` of the view.

    Returns
    -------
    xs, forward, reverse
        Arrays of shape ``(..., N)``: sorted positions, ``p log(p/q)`` and ``q log(q/p)``.
    """
    xs_p, _ = sample_density(*p, x_range, n=n // 2)
    xs_q, _ = sample_density(*q, x_range, n=n - n // 2)
    lead = np.broadcast_shapes(xs_p.shape[:-1], xs_q.shape[:-1])
    xs = np.sort(
        np.concatenate(
            [
                np.broadcast_to(xs_p, (*lead, xs_p.shape[-1])),
                np.broadcast_to(xs_q, (*lead, xs_q.shape[-1])),
            ],
            axis=-1,
        ),
        axis=-1,
    )
    return (xs, *integrands(xs, p, q))


def label_anchor(weights, means, stds, x_range) -> np.ndarray:
    """Where each frame's name label goes: the tallest component's mean, on the curve.

    "Tallest" by weight / std, the first on a tie, so that symmetric mixtures keep their
    label on one mode instead of flickering between them. Shape (frames, 2).
    """
    k = np.argmax(weights / stds, axis=-1)
    x = np.take_along_axis(means, k[:, None], axis=-1)
    x = np.clip(x, x_range[0], x_range[1])
    y = density(x, weights, means, stds)[:, 0]
    return np.stack([x[:, 0], y], axis=-1)


@dataclass
class Chunk:
    """The curves' samples of a batch of consecutive frames, from frame ``start``."""

    start: int
    p_xs: np.ndarray
    p_ys: np.ndarray
    q_xs: np.ndarray
    q_ys: np.ndarray
    p_peak: np.ndarray  # (frames, 2): x, y of the point the name label follows
    q_peak: np.ndarray
    int_xs: np.ndarray | None = None  # the integrand panel's samples, when shown
    int_forward: np.ndarray | None = None
    int_reverse: np.ndarray | None = None
