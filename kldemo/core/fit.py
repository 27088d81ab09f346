"""Fitting q to p: gradient-descent paths of a divergence, and the optima they end in.

A fit keyframe moves q down the gradient of ``KL(p‖q)`` (``forward``) or ``KL(q‖p)``
(``reverse``) from q's current state to a local minimum; :func:`fit_path` computes that
path once, and :class:`FitPath` gives the state at any fraction of it. :func:`optima`
finds where each divergence is minimised over single Gaussians, for the markers.

Parameters and metric
    q's parameters move in unconstrained coordinates ``u = (a, m, l)``: softmax logits
    ``a`` (weights ``w = softmax(a)``), means ``m`` and log stds ``l = log s``, one of
    each per component. The descent is the *natural* gradient flow
    ``du/dτ = -G(u)⁻¹ ∇D(u)``, where G is the Fisher information of the complete data
    (component and x), the metric::

        ds² = Σ_c w_c (da_c - ā)² + w_c dm_c² / s_c² + 2 w_c dl_c²,   ā = Σ_c w_c da_c.

    It makes the flow independent of units (a mean moves by so many of its own stds) and
    well conditioned near an optimum, where G is close to the Hessian of either KL. For
    one Gaussian the metric is ``dm²/s² + 2 dl²``: moving the mean by one std, or scaling
    the std by e^(1/√2), costs one unit. Components of weight 0 do not move.

Path and pace
    The flow is integrated with Heun's method, each step at most ``PATH_STEP`` long in
    this metric, its local error held below ``PATH_TOLERANCE``, until it is too slow or
    too stiff to be worth following (a flat valley); then a trust-region Newton method
    (exact Hessian for one Gaussian, central differences of exact gradients otherwise)
    polishes the end until the gradient is at rounding level. Curvatures within the
    Hessian's own error count as flat, not negative. At a stationary point that is a
    saddle (say, q exactly midway between mirror-image modes) the fit leaves along the
    direction of most negative curvature, oriented so that its largest entry is
    positive (so the path is deterministic), by a step that doubles from 1e-3 while the
    divergence keeps falling; a saddle flat to second order (two identical components)
    is left along a flat direction in which the divergence falls. Two close components
    of q that Newton's method is slow to merge are merged when that lowers the
    divergence. A fit that stops short says so (:meth:`FitPath.warning`).
    The vertices form a polyline; a timeline
    follows it at an even pace *by arc length in the metric above*, linear in ``u``
    between vertices: the keyframe's easing maps elapsed time to the fraction of the
    arc length covered, so ``linear`` is an exactly even pace and ``smooth`` starts and
    ends gently.

Gradients
    Exact: in closed form for a single-Gaussian q under forward KL (which is then moment
    matching); otherwise integrals of the derivatives, per component in its standardised
    variable, on the panels :mod:`kldemo.core.quadrature` places for the divergences themselves
    (graded towards every near-real singularity of the log densities), with 21-point
    Gauss-Kronrod rules bisected until the Gauss/Kronrod estimate is below about 1e-13 of
    the integral of the absolute integrand, or until ``MAX_PANELS`` panels (where
    rounding, not the rule, limits the estimate).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from kldemo.core.descent import MAX_NEWTON_STEPS, descend
from kldemo.core.mixture import Mixture
from kldemo.core.objective import Direction, Objective, coordinates, mixture_of, moments

__all__ = [
    "DIRECTIONS",
    "PARAMETERS",
    "FitPath",
    "Gaussian",
    "Optima",
    "fit_path",
    "optima",
    "optima_of_states",
]

DIRECTIONS: tuple[Direction, ...] = ("forward", "reverse")
PARAMETERS = ("means", "stds", "weights")
_ORDER = ("weights", "means", "stds")  # as a Mixture holds them
FloatArray = NDArray[np.float64]

PATH_STEP = 0.05  # longest polyline segment, in metric units
PATH_TOLERANCE = 1e-3  # sideways error of one flow step, in metric units
DEDUPLICATE = 1e-6  # optima nearer than this (in the metric) are one


# -- paths -----------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class FitPath:
    """q's descent path: a polyline in ``u = (logits, means, log stds)``, parametrised
    by the fraction of its arc length in the metric of this module's docstring.

    ``at(e)`` is q at fraction e (clipped to [0, 1]) as a Mixture of shape e.shape + (K,);
    ``at(0)`` is exactly ``start`` and ``at(1)`` exactly ``end``. Parameters that the fit
    does not optimize keep their start values exactly.
    """

    direction: Direction
    optimize: tuple[str, ...]
    start: Mixture
    end: Mixture
    vertices: FloatArray  # (N, 3K)
    arc: FloatArray  # (N,) cumulative arc length, arc[0] = 0
    converged: bool  # the end is a local minimum, its gradient at rounding level
    last_step: float  # metric length of the Newton step left at the end
    gradient: float = 0.0  # metric norm of the gradient left at the end
    left_saddles: bool = True  # False: it ended on a saddle it could not leave

    def warning(self) -> str | None:
        """Why the end may not be a local minimum, for the user; None when it is."""
        return stop_warning(self)

    @property
    def length(self) -> float:
        return float(self.arc[-1])

    def at(self, e: ArrayLike) -> Mixture:
        e = np.clip(np.asarray(e, dtype=float), 0.0, 1.0)
        k = self.start.means.shape[-1]
        flat = e.reshape(-1)
        u = polyline_at(self.vertices, self.arc, flat)
        alive = self.start.weights > 0
        logits = np.where(alive, u[:, :k], -np.inf)
        weights = np.exp(logits - logits.max(axis=1, keepdims=True))
        weights /= weights.sum(axis=1, keepdims=True)
        moved = {"weights": weights, "means": u[:, k : 2 * k], "stds": np.exp(u[:, 2 * k :])}
        arrays = []
        for name in ("weights", "means", "stds"):
            start, end = getattr(self.start, name), getattr(self.end, name)
            value = (
                moved[name] if name in self.optimize else np.broadcast_to(start, moved[name].shape)
            )
            value = np.where(
                flat[:, None] <= 0.0, start, np.where(flat[:, None] >= 1.0, end, value)
            )
            arrays.append(value.reshape((*e.shape, k)))
        return Mixture(*arrays)


def polyline_at(vertices: FloatArray, arc: FloatArray, e: FloatArray) -> FloatArray:
    """The points a fraction ``e`` (a flat array, in [0, 1]) of the way along a polyline
    (``vertices`` (N, d), ``arc`` its cumulative length), interpolated linearly; the last
    vertex where the path has no length. A fit path's pace, on the line or in the plane."""
    length = float(arc[-1])
    if not (length > 0 and len(arc) > 1):
        return np.repeat(vertices[-1:], e.size, axis=0)
    target = e * length
    index = np.clip(np.searchsorted(arc, target, side="right") - 1, 0, len(arc) - 2)
    span = arc[index + 1] - arc[index]
    fraction = np.clip((target - arc[index]) / span, 0.0, 1.0)[:, None]
    return vertices[index] + fraction * (vertices[index + 1] - vertices[index])


def stop_warning(path: FitPath | Any) -> str | None:
    """Why a fit's path (on the line or in the plane) may not end at a local minimum,
    worded for the user from its ``direction``, ``converged``, ``left_saddles`` and
    ``gradient``; None when it does."""
    if path.converged:
        return None
    if not path.left_saddles:
        return (
            f"fit: {path.direction} stopped on a saddle it could not leave "
            f"(gradient {path.gradient:.1g} left)"
        )
    return f"fit: {path.direction} stopped before converging (gradient {path.gradient:.1g} left)"


def fit_path(
    p: Mixture,
    q: Mixture,
    direction: Direction,
    optimize: Iterable[str] = PARAMETERS,
    max_newton_steps: int | None = None,
) -> FitPath:
    """The natural-gradient descent path of q from its state to a local minimum of
    ``KL(p‖q)`` (``forward``) or ``KL(q‖p)`` (``reverse``).

    Parameters
    ----------
    p, q : Mixture
        One state each: arrays of shape (K,).
    direction : "forward" or "reverse"
    optimize : iterable of "means", "stds", "weights"
        Which of q's parameters move (weights only when q has two or more components).
    max_newton_steps : int, optional
        A cap on the Newton steps of each polish (default ``MAX_NEWTON_STEPS``); a fit
        that reaches it unconverged says so in ``converged`` and ``warning()``.

    Returns
    -------
    FitPath
        Computed once per distinct input (cached): deterministic.

    Examples
    --------
    >>> import numpy as np
    >>> p = Mixture.of({"means": [-2.0, 2.0], "stds": [1.0, 1.0]})
    >>> q = Mixture.of({"means": [0.5], "stds": [0.5]})
    >>> end = fit_path(p, q, "forward").end            # moment matching: N(0, 5)
    >>> bool(abs(end.means[0]) < 1e-12 and abs(end.stds[0] - np.sqrt(5)) < 1e-12)
    True
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be forward or reverse, got {direction!r}")
    unknown = set(optimize) - set(PARAMETERS)
    if unknown:
        raise ValueError(
            f"optimize names unknown parameters {sorted(unknown)}; "
            f"choose from {', '.join(PARAMETERS)}"
        )
    key = (_key(p), _key(q), direction, tuple(sorted(set(optimize))))
    return _cached_path(*key, MAX_NEWTON_STEPS if max_newton_steps is None else max_newton_steps)


def _key(m: Mixture) -> tuple[tuple[float, ...], ...]:
    return tuple(tuple(float(x) for x in np.asarray(v, dtype=float).reshape(-1)) for v in m)


@functools.lru_cache(maxsize=256)
def _cached_path(
    p_key: tuple,
    q_key: tuple,
    direction: Direction,
    optimize: tuple[str, ...],
    max_newton: int = MAX_NEWTON_STEPS,
) -> FitPath:
    p = Mixture(*(np.array(v) for v in p_key))
    q = Mixture(*(np.array(v) for v in q_key))
    problem = Objective(p, q, direction, optimize)
    start = coordinates(q)
    # A component whose weight vanishes on the way leaves its mean and std free, and trial
    # points may take them to where its density overflows: such trials give non-finite
    # values, which the descent rejects (every comparison with NaN is false) and which end
    # the polish; numpy need not warn of them.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        vertices, descent = descend(problem, start, PATH_STEP, PATH_TOLERANCE, max_newton)
    # Drop segments too short to advance the arc length (the last Newton steps, 1e-15
    # long after a path of several units): FitPath.at divides by each segment's span of
    # arc length. The first and last vertex stay exact.
    kept, arc = [vertices[0]], [0.0]
    for u in vertices[1:]:
        length = problem.norm(0.5 * (kept[-1] + u), u - kept[-1])
        if arc[-1] + length > arc[-1]:
            kept.append(u)
            arc.append(arc[-1] + length)
        elif len(kept) > 1:
            kept[-1] = u
    arc = np.array(arc)
    end = mixture_of(kept[-1], problem.k, problem.alive)
    end = Mixture(
        *(
            value if name in optimize else np.array(getattr(q, name))
            for name, value in zip(_ORDER, end, strict=True)
        )
    )
    return FitPath(
        direction,
        optimize,
        Mixture(*(np.array(v) for v in q)),
        end,
        np.array(kept),
        arc,
        descent.converged and descent.minimum,
        descent.last_step,
        descent.gradient,
        descent.minimum or not descent.converged,
    )


# -- optima of a single Gaussian -------------------------------------------------------


@dataclass(frozen=True)
class Gaussian:
    """One Gaussian: its mean and std."""

    mean: float
    std: float


@dataclass(frozen=True)
class Optima:
    """Where each divergence is minimised over single Gaussians q, for one state of p.

    ``forward`` is the unique minimiser of KL(p‖q), moment matching; ``reverse`` every
    local minimiser of KL(q‖p) found, by increasing mean, with ``reverse_kl`` its value
    (the least of them is the global minimum among those found).
    """

    forward: Gaussian
    forward_kl: float
    reverse: tuple[Gaussian, ...]
    reverse_kl: tuple[float, ...]


def optima(p: Mixture) -> Optima:
    """The forward-KL optimum and every reverse-KL local optimum, for a single-Gaussian q.

    The forward optimum is exact: ``mean = Σ w m``, ``std² = Σ w (s² + (m - mean)²)``. The
    reverse optima are found by descent (natural gradient, then Newton with the exact
    Hessian, to a step below 1e-12) from each component of p, from midway between each
    pair of neighbouring components, and from the forward optimum; ends that are not
    minima are dropped, and ends nearer than 1e-6 in the metric count once.

    Parameters
    ----------
    p : Mixture
        One state: arrays of shape (K,).

    Examples
    --------
    >>> p = Mixture.of({"means": [-5.0, 5.0], "stds": [1.0, 1.0]})
    >>> found = optima(p)
    >>> [round(g.mean, 3) + 0.0 for g in found.reverse]   # one on each mode, a wide one between
    [-5.0, 0.0, 5.0]
    >>> round(found.forward.std ** 2, 12)              # 1 + 25
    26.0
    """
    return _cached_optima(_key(p))


def optima_of_states(p: Mixture) -> list[Optima]:
    """:func:`optima` for every state of p (arrays of shape (states, K)); each distinct
    state is solved once."""
    weights, means, stds = (np.asarray(v, dtype=float) for v in p)
    return [optima(Mixture(weights[i], means[i], stds[i])) for i in range(means.shape[0])]


@functools.lru_cache(maxsize=4096)
def _cached_optima(p_key: tuple) -> Optima:
    from kldemo.core.divergences import forward_kl, reverse_kl

    w, m, s = (np.array(v) for v in p_key)
    p = Mixture(w / math.fsum(w), m, s)
    w = p.weights
    mean, var = moments(p)
    std = math.sqrt(var)
    forward = Gaussian(mean, std)

    alive = w > 0
    order = np.argsort(m[alive], kind="stable")
    means, stds = m[alive][order], s[alive][order]
    starts = [(float(a), float(b)) for a, b in zip(means, stds, strict=True)]
    for i in range(len(means) - 1):
        gap = means[i + 1] - means[i]
        if gap > 0:
            starts.append(
                (float(means[i] + gap / 2), float(max(gap / 2, min(stds[i], stds[i + 1]))))
            )
    starts.append((mean, std))

    found: list[tuple[Gaussian, FloatArray]] = []
    single = Mixture(np.ones(1), np.zeros(1), np.ones(1))
    problem = Objective(p, single, "reverse", ("means", "stds"))
    for start_mean, start_std in dict.fromkeys(starts):
        u0 = np.array([0.0, start_mean, math.log(start_std)])
        vertices, descent = descend(problem, u0, 0.5, 1e-3)
        if not descent.minimum:
            continue
        u = vertices[-1]
        if any(problem.norm(u, u - other) < DEDUPLICATE for _, other in found):
            continue
        found.append((Gaussian(float(u[1]), float(math.exp(u[2]))), u))
    found.sort(key=lambda item: item[0].mean)
    reverse = tuple(g for g, _ in found)
    as_q = [([1.0], [g.mean], [g.std]) for g in (forward, *reverse)]
    values = [float(reverse_kl(tuple(p), q)) for q in as_q[1:]]
    return Optima(forward, float(forward_kl(tuple(p), as_q[0])), reverse, tuple(values))


def clear_cache() -> None:
    """Forget every fit path and optimum computed so far (each is cached per distinct input)."""
    _cached_path.cache_clear()
    _cached_optima.cache_clear()
