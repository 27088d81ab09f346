"""Fitting one Gaussian q to a plane mixture p: the descent path, and the optimum it ends in.

A 2-D fit keyframe moves q down ``KL(p‖q)`` (``forward``) or ``KL(q‖p)`` (``reverse``) from
q's current state to a local minimum; :func:`plane_fit_path` computes that path once, and
:class:`PlaneFitPath` gives the state at any fraction of it, as
:class:`kldemo.core.fit.FitPath` does on the line.

Parameters and metric
    q moves in ``θ = (m_1, m_2, log L_11, L_21, log L_22)``: its mean and the log-Cholesky
    coordinates of its covariance ``Σ = L Lᵀ`` (:mod:`kldemo.core.plane.objective`). Every
    θ is a positive definite covariance; the ``diagonal`` family keeps ``L_21`` at exactly
    0, so its covariance's off-diagonal entries stay exactly 0.0 (its coordinates are then
    the mean and the log stds, half the log variances). The descent is the *natural*
    gradient flow ``dθ/dτ = -G(θ)⁻¹ ∇D(θ)`` in the Fisher metric of a Gaussian::

        ds² = dmᵀ Σ⁻¹ dm + 2 da² + 2 db² + e^(-2b) (dc - c da)²,   (a, c, b) = θ[2:],

    which on the line is the 1-D fit's ``dm²/s² + 2 dl²``: moving the mean by one std,
    or scaling a std by e^(1/√2), costs one unit, in whatever units and orientation.

Path and pace
    As in 1-D: Heun steps of the flow, each at most ``PATH_STEP`` long in this metric and
    straying at most ``PATH_TOLERANCE`` sideways from the flow, until its speed is below
    ``FLOW_STOP`` (q a thousandth of a std from the optimum) or it turns stiff; then a
    trust-region Newton polish (exact Hessian) until the gradient is at rounding level.
    The steps are twice, and the tolerance ten times, the 1-D fit's, since every gradient
    here is a quadrature in the plane: the polyline still stays within 1e-2 of a std of the
    flow, far below what a frame shows. At a stationary point that is a saddle (a narrow
    q exactly between mirror-image modes, say) the fit leaves along the direction of most
    negative curvature, oriented so that its largest entry is positive (so the path is
    deterministic), by a step that doubles from 1e-3 while the divergence keeps falling.
    A forward fit ends exactly at moment matching (its closed form,
    :meth:`PlaneObjective.forward_optimum`). The vertices form a polyline in θ;
    :meth:`PlaneFitPath.at` follows it at an even pace *by arc length in this metric*,
    linear in θ between vertices.

Gradients
    Exact: forward KL in closed form; reverse KL's (and its Hessian, through Stein's
    identity, from moments of ``∇ log p`` alone) by adaptive quadrature in q's whitened
    polar coordinates (:func:`kldemo.core.plane.objective.gaussian_expectation`): to
    ``FLOW_RTOL`` along the flow (the path moves by less than 1e-3 of a std from one
    computed to 1e-9), to a tolerance that follows the gradient down in the polish (an
    inexact Newton method), and to ``POLISH_RTOL`` at the end.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from kldemo.core.fit import polyline_at, stop_warning
from kldemo.core.plane.fits import family_name as _family
from kldemo.core.plane.gaussians import FloatArray, PlaneMixture
from kldemo.core.plane.objective import (
    DIRECTIONS,
    FLOW_RTOL,
    POLISH_RTOL,
    Evaluation,
    PlaneObjective,
    cholesky_coordinates,
    gaussian_of,
)

__all__ = ["PARAMETERS", "Descent", "PlaneFitPath", "clear_cache", "descend", "plane_fit_path"]

PARAMETERS = ("means", "covs", "weights")  # weights: accepted, and still for one component
PATH_STEP = 0.1  # longest polyline segment, in metric units
PATH_TOLERANCE = 1e-2  # sideways error of one flow step, in metric units
FLOW_STOP = 1e-3  # metric speed below which Newton takes over (a thousandth of a std away)
FLOW_HANDOFF = 1e-2  # ... or a slowing step shorter than this part of the longest
MAX_FLOW_STEPS = 20_000
MAX_NEWTON_STEPS = 60
MAX_ESCAPES = 4  # saddles left before the fit gives up
POLISH_RADIUS = 0.5  # longest Newton step, in metric units
GRADIENT_FLOOR = 1e-13  # metric gradient norm that counts as rounding, at the least
FLAT = 1e-6  # curvatures within this part of the largest count as flat (the Hessian's error)
_EPS = np.finfo(float).eps


# -- descent ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Descent:
    """How a descent ended: at a local minimum, or not (and the gradient left there)."""

    minimum: bool  # the end is a local minimum (else a saddle or not converged)
    converged: bool  # the gradient is at rounding level (a minimum, or a saddle)
    gradient: float  # metric norm of the gradient left at the end
    last_step: float  # metric length of the Newton step still left at the end
    escape: FloatArray | None = None  # at a saddle: the direction down (a metric unit)


def _flow(
    objective: PlaneObjective, theta: FloatArray, max_step: float, tolerance: float, stop: float
) -> list[FloatArray]:
    """Vertices of the natural gradient flow from θ, until its speed is below ``stop``
    (Heun steps, each at most ``max_step`` long, judged by how far they stray sideways
    from the flow and by not overshooting along it, as in :mod:`kldemo.core.descent`)."""
    vertices = [theta]
    v = objective.velocity(theta, objective.evaluate(theta, FLOW_RTOL).gradient)
    dt = math.inf
    for _ in range(MAX_FLOW_STEPS):
        speed2 = objective.inner(theta, v, v)
        if not speed2 > stop**2:
            break
        dt = min(dt, max_step / math.sqrt(speed2))
        euler = theta + dt * v
        v_euler = objective.velocity(euler, objective.evaluate(euler, FLOW_RTOL).gradient)
        forward = objective.inner(theta, v_euler, v) / speed2  # 1 - λ dt, for a decay
        change = 0.5 * dt * (v_euler - v)
        sideways = change - (objective.inner(theta, change, v) / speed2) * v
        error = objective.norm(theta, sideways)
        step = 0.5 * dt * (v + v_euler)
        length = objective.norm(theta, step)
        grow = min(
            2.0, 0.8 * math.sqrt(tolerance / max(error, 1e-300)), 0.4 / max(1.0 - forward, 1e-300)
        )
        if error > tolerance or forward < 0.5 or length > 1.5 * max_step:
            dt *= min(0.5, grow, max_step / max(length, 1e-300))
            continue
        theta = theta + step
        vertices.append(theta)
        v = objective.velocity(theta, objective.evaluate(theta, FLOW_RTOL).gradient)
        # In a flat valley the flow is stiff: once a step is too short to see and the
        # flow is slowing (not speeding up off a saddle), Newton's method finishes.
        if length < FLOW_HANDOFF * max_step and objective.inner(theta, v, v) < speed2:
            break
        dt *= grow
    return vertices


def _reduced(objective: PlaneObjective, theta: FloatArray, here: Evaluation):
    """Gradient, Hessian eigenvalues and vectors in metric-orthonormal free coordinates,
    the curvature counted as flat and the gradient counted as rounding."""
    basis = objective.basis(theta)
    grad = basis.T @ here.gradient
    hess = basis.T @ here.hessian @ basis
    values, vectors = np.linalg.eigh(0.5 * (hess + hess.T))
    biggest = max(float(np.abs(values).max()), 1e-300)
    # Rounding θ itself (eps of each coordinate) moves the gradient through the curvature.
    spread = objective.norm(theta, _EPS * np.maximum(np.abs(theta), 1.0) * objective.free)
    floor = GRADIENT_FLOOR + 4.0 * biggest * spread + float(np.linalg.norm(basis.T @ here.error))
    return basis, grad, values, vectors, max(FLAT * biggest, 1e-300), floor


def _polish(
    objective: PlaneObjective,
    theta: FloatArray,
    final_rtol: float = POLISH_RTOL,
    max_steps: int = MAX_NEWTON_STEPS,
):
    """A trust-region Newton method from θ, in metric-orthonormal free coordinates, until
    the gradient is at rounding level (of a quadrature to ``final_rtol``): the vertices, and
    how it ended.

    Each step divides the gradient along each eigenvector of the Hessian by the curvature's
    magnitude (so it descends where the curvature is negative too), curvatures below the
    Hessian's own error counted as that; it is kept if the divergence falls or, once the
    predicted fall is below the rounding of the divergence, if the gradient shrinks.
    Far from the optimum the quadrature need not be precise (an inexact Newton method):
    each trial point is evaluated to a tolerance that resolves the divergence well below
    the fall predicted and the gradient well below its size, and only a gradient evaluated
    to ``final_rtol`` can count as rounding.
    """
    vertices: list[FloatArray] = []
    if not objective.free.any():
        return vertices, Descent(True, True, 0.0, 0.0)
    radius = POLISH_RADIUS
    here = objective.evaluate(theta, FLOW_RTOL, hessian=True)
    reduced = _reduced(objective, theta, here)
    gnorm = size = math.inf
    for _ in range(max_steps):
        basis, grad, values, vectors, flat, floor = reduced
        gnorm = float(np.linalg.norm(grad))
        scaled = (vectors.T @ grad) / np.maximum(np.abs(values), flat)
        size = float(np.linalg.norm(scaled))
        need = final_rtol
        if gnorm > floor:
            step = -vectors @ scaled
            if size > radius:
                step *= radius / size
            predicted = -float(
                grad @ step + 0.5 * step @ (vectors * np.abs(values)) @ vectors.T @ step
            )
            scale = here.rounding / here.rtol if here.rtol > 0 else 0.0  # about E|log p|
            need = min(FLOW_RTOL, 1e-2 * gnorm * gnorm, 1e-2 * predicted / max(scale, 1e-300))
            need = max(final_rtol, need)
        if here.rtol > 10 * need:  # too coarse to judge the step, or the rest, by
            here = objective.evaluate(theta, need, hessian=True)
            reduced = _reduced(objective, theta, here)
            continue
        if gnorm <= floor:
            return vertices, _at_rest(grad, values, vectors, flat, floor, basis, size)
        trial_theta = theta + basis @ step
        trial = objective.evaluate(trial_theta, need, hessian=True)
        trial_reduced = _reduced(objective, trial_theta, trial)
        # The quadrature's error estimates are extrapolations: allow them a margin.
        rounding = 10.0 * (here.rounding + trial.rounding)
        if predicted > rounding:
            accepted = trial.value < here.value - 1e-4 * predicted
        else:  # the divergence cannot tell: judge by the gradient
            shrinks = np.linalg.norm(trial_reduced[1]) < gnorm
            accepted = trial.value <= here.value + rounding and shrinks
        if not accepted:
            radius = 0.25 * min(radius, size)
            if radius < 1e-15:
                break  # no step helps: the gradient is as small as rounding allows
            continue
        radius = min(POLISH_RADIUS, max(radius, 2.0 * min(size, radius)))
        theta, here, reduced = trial_theta, trial, trial_reduced
        vertices.append(theta)
    return vertices, Descent(False, False, gnorm, size)


def _at_rest(grad, values, vectors, flat, floor, basis, size) -> Descent:
    """Where the gradient is at rounding level: a saddle (with the way down) or a minimum."""
    gnorm = float(np.linalg.norm(grad))
    if values[0] >= -flat:
        return Descent(True, True, gnorm, size)
    down = vectors[:, 0]
    slope = float(down @ grad)
    if abs(slope) > floor:
        down = -down * np.sign(slope)
    else:  # on a symmetric saddle either way descends: choose one fixed way
        down = down * np.sign(down[np.argmax(np.abs(down))])
    return Descent(False, True, gnorm, size, basis @ down)


def _escape(
    objective: PlaneObjective, theta: FloatArray, down: FloatArray, rtol: float
) -> FloatArray:
    """A point off the saddle θ along ``down``: the step doubles from 1e-3 while the
    divergence keeps falling, up to one metric unit."""
    step, best = 1e-3, objective.evaluate(theta, rtol).value
    while step < 1.0:
        value = objective.evaluate(theta + 2 * step * down, rtol).value
        if not value < best:
            break
        step, best = 2 * step, value
    return theta + step * down


def descend(
    objective: PlaneObjective,
    theta: FloatArray,
    max_step: float = PATH_STEP,
    tolerance: float = PATH_TOLERANCE,
    flow_stop: float = FLOW_STOP,
    final_rtol: float = POLISH_RTOL,
) -> tuple[list[FloatArray], Descent]:
    """Flow (until its speed is below ``flow_stop``), polish (to a quadrature tolerance of
    ``final_rtol``), and leave any saddle, until a local minimum: all the vertices, and how
    the last polish ended."""
    vertices = [theta]
    for _ in range(MAX_ESCAPES + 1):
        vertices += _flow(objective, vertices[-1], max_step, tolerance, flow_stop)[1:]
        polished, descent = _polish(objective, vertices[-1], final_rtol)
        vertices += polished
        if descent.escape is None:
            return vertices, descent
        vertices.append(_escape(objective, vertices[-1], descent.escape, final_rtol))
    return vertices, descent


# -- paths --------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class PlaneFitPath:
    """q's descent path: a polyline in θ (mean, log-Cholesky factor), parametrised by the
    fraction of its arc length in the Fisher metric of this module's docstring.

    ``at(e)`` is q at fraction e (clipped to [0, 1]) as a PlaneMixture of state shape
    e.shape (one component); ``at(0)`` is exactly ``start`` and ``at(1)`` exactly ``end``.
    Parameters that the fit does not optimize keep their start values exactly.
    """

    direction: str
    family: str
    optimize: tuple[str, ...]
    start: PlaneMixture
    end: PlaneMixture
    vertices: FloatArray  # (N, 5)
    arc: FloatArray  # (N,) cumulative arc length, arc[0] = 0
    converged: bool  # the end is a local minimum, its gradient at rounding level
    last_step: float = 0.0  # metric length of the Newton step left at the end
    gradient: float = 0.0  # metric norm of the gradient left at the end
    left_saddles: bool = True  # False: it ended on a saddle it could not leave

    def warning(self) -> str | None:
        """Why the end may not be a local minimum, for the user; None when it is."""
        return stop_warning(self)

    @property
    def length(self) -> float:
        return float(self.arc[-1])

    def at(self, e: ArrayLike) -> PlaneMixture:
        e = np.clip(np.asarray(e, dtype=float), 0.0, 1.0)
        flat = e.reshape(-1)
        theta = polyline_at(self.vertices, self.arc, flat)
        mean, cov = gaussian_of(theta)
        start_mean, start_cov = self.start.means[0], self.start.covs[0]
        if "means" not in self.optimize:
            mean = np.broadcast_to(start_mean, mean.shape)
        if "covs" not in self.optimize:
            cov = np.broadcast_to(start_cov, cov.shape)
        first, last = (flat <= 0.0)[:, None], (flat >= 1.0)[:, None]
        mean = np.where(first, start_mean, np.where(last, self.end.means[0], mean))
        cov = np.where(
            first[:, :, None], start_cov, np.where(last[:, :, None], self.end.covs[0], cov)
        )
        return PlaneMixture(
            np.ones((*e.shape, 1)), mean.reshape((*e.shape, 1, 2)), cov.reshape((*e.shape, 1, 2, 2))
        )


def plane_fit_path(
    p: PlaneMixture,
    q: PlaneMixture,
    direction: str,
    family: str = "full",
    optimize: Iterable[str] = ("means", "covs"),
) -> PlaneFitPath:
    """The natural-gradient descent path of one Gaussian q from its state to a local
    minimum of ``KL(p‖q)`` (``forward``) or ``KL(q‖p)`` (``reverse``) within ``family``.

    Parameters
    ----------
    p : PlaneMixture
        One state (state shape ()), any number of components.
    q : PlaneMixture
        One state with one component; for the ``diagonal`` family a diagonal covariance.
    direction : "forward" or "reverse"
    family : "full" or "diagonal"
        The diagonal family keeps q's covariance diagonal (off-diagonals exactly 0.0).
    optimize : iterable of "means", "covs", "weights"
        Which of q's parameters move ("weights" is accepted and means nothing for one
        component); the others keep their start exactly.

    Returns
    -------
    PlaneFitPath
        Computed once per distinct input (cached): deterministic.

    Examples
    --------
    >>> p = PlaneMixture([0.5, 0.5], [[-2, 0], [2, 0]], [np.eye(2), np.eye(2)])
    >>> q = PlaneMixture.gaussian([0.5, 0.5], 0.5 * np.eye(2))
    >>> end = plane_fit_path(p, q, "forward").end       # moment matching
    >>> end.means[0].tolist(), end.covs[0].tolist()
    ([0.0, 0.0], [[5.0, 0.0], [0.0, 1.0]])
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be forward or reverse, got {direction!r}")
    _family(family)
    optimize = tuple(sorted(set(optimize)))
    unknown = set(optimize) - set(PARAMETERS)
    if unknown:
        raise ValueError(
            f"optimize names unknown parameters {sorted(unknown)}; "
            f"choose from {', '.join(PARAMETERS)}"
        )
    if p.shape != () or q.shape != ():
        raise ValueError(f"p and q must be one state each, got state shapes {p.shape}, {q.shape}")
    if q.n_components != 1:
        raise ValueError(f"q must be one Gaussian (one component), got {q.n_components}")
    if family == "diagonal" and q.covs[0, 0, 1] != 0:
        raise ValueError(
            f"a diagonal fit must start from a diagonal q, but q's covariance has the "
            f"off-diagonal entry {q.covs[0, 0, 1]!r}"
        )
    return _cached_path(_key(p), _key(q), direction, family, optimize)


def _key(m: PlaneMixture) -> tuple[tuple[float, ...], ...]:
    return tuple(tuple(float(x) for x in np.asarray(v).reshape(-1)) for v in m)


def _mixture(key: tuple[tuple[float, ...], ...]) -> PlaneMixture:
    weights, means, covs = (np.array(v) for v in key)
    return PlaneMixture(weights, means.reshape(-1, 2), covs.reshape(-1, 2, 2))


@functools.lru_cache(maxsize=256)
def _cached_path(
    p_key: tuple, q_key: tuple, direction: str, family: str, optimize: tuple[str, ...]
) -> PlaneFitPath:
    p, q = _mixture(p_key), _mixture(q_key)
    objective = PlaneObjective(p, direction, family, set(optimize))
    start = cholesky_coordinates(q.means[0], q.covs[0])
    vertices, descent = descend(objective, start, PATH_STEP, PATH_TOLERANCE)
    end_mean, end_cov = gaussian_of(vertices[-1])
    if direction == "forward":
        # The optimum in closed form: the polish ends within rounding of it; end exactly.
        end_mean, end_cov = objective.forward_optimum(q.means[0], q.covs[0])
        vertices.append(cholesky_coordinates(end_mean, end_cov))
        descent = Descent(True, True, 0.0, 0.0)
    # Frozen coordinates never move, but θ's round trip is not exact: the end keeps q's.
    if "means" not in optimize:
        end_mean = q.means[0]
    if "covs" not in optimize:
        end_cov = q.covs[0]
    kept, arc = _polyline(objective, vertices)
    for array in (kept, arc):
        array.setflags(write=False)
    return PlaneFitPath(
        direction,
        family,
        optimize,
        q,
        PlaneMixture.gaussian(end_mean, end_cov),
        kept,
        arc,
        descent.converged and descent.minimum,
        descent.last_step,
        descent.gradient,
        descent.minimum or not descent.converged,
    )


def _polyline(objective: PlaneObjective, vertices: list[FloatArray]) -> tuple[FloatArray, ...]:
    """The vertices and their cumulative arc length, without segments too short to advance
    it (the last Newton steps, 1e-15 long after a path of several units: ``at`` divides by
    each segment's span). The first and last vertex stay exact."""
    kept, arc = [vertices[0]], [0.0]
    for theta in vertices[1:]:
        length = objective.norm(0.5 * (kept[-1] + theta), theta - kept[-1])
        if arc[-1] + length > arc[-1]:
            kept.append(theta)
            arc.append(arc[-1] + length)
        elif len(kept) > 1:
            kept[-1] = theta
    return np.array(kept), np.array(arc)


def clear_cache() -> None:
    """Forget every plane fit path computed so far (each is cached per distinct input)."""
    _cached_path.cache_clear()
