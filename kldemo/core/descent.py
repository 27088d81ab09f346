"""Descending an :class:`~kldemo.core.objective.Objective` to a local minimum.

The natural-gradient flow (Heun steps), then a trust-region Newton polish; saddles are
left along the direction of most negative curvature (or, flat to second order, along a
flat direction that descends), and two close components of q that Newton's method is
slow to merge are merged. :mod:`kldemo.core.fit` describes the method as a whole.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from kldemo.core.objective import FLOW_RTOL, POLISH_RTOL, Objective, mixture_of

__all__ = ["MAX_NEWTON_STEPS", "Descent", "descend"]

FloatArray = NDArray[np.float64]

FLOW_STOP = 1e-6  # metric speed below which Newton takes over
FLOW_HANDOFF = 1e-2  # ... or a slowing step shorter than this part of the longest
MAX_FLOW_STEPS = 20_000
MAX_NEWTON_STEPS = 60  # Newton steps of one polish (a singular optimum takes ~25)
MAX_ESCAPES = 4  # saddles left before the fit gives up
MERGE_AFTER = 8  # Newton steps before trying to merge close components
POLISH_RADIUS = 0.5  # longest Newton step, in metric units
GRADIENT_FLOOR = 1e-13  # metric gradient norm that counts as rounding, at the least
VALUE_ROUNDING = 1e-14  # relative rounding of the divergence, for judging a step


def _flow(
    problem: Objective,
    u: FloatArray,
    max_step: float,
    tolerance: float,
) -> list[FloatArray]:
    """Vertices of the natural gradient flow from u, until its speed is below FLOW_STOP.

    Heun steps, each at most ``max_step`` long. Only the geometry of the path matters
    (the timeline re-parametrises it by arc length), so a step is judged by how far it
    strays sideways from the flow (at most ``tolerance``), and by not overshooting along
    it: the velocity at its Euler end must keep half its speed forward.
    """
    vertices = [u]
    v = problem.velocity(u, problem.gradient(u, FLOW_RTOL))
    dt = math.inf
    for _ in range(MAX_FLOW_STEPS):
        speed2 = problem.inner(u, v, v)
        if not speed2 > FLOW_STOP**2:
            break
        dt = min(dt, max_step / math.sqrt(speed2))
        euler = u + dt * v
        v_euler = problem.velocity(euler, problem.gradient(euler, FLOW_RTOL))
        forward = problem.inner(u, v_euler, v) / speed2  # 1 - λ dt, for a decay
        change = 0.5 * dt * (v_euler - v)
        sideways = change - (problem.inner(u, change, v) / speed2) * v
        error = math.sqrt(max(problem.inner(u, sideways, sideways), 0.0))
        step = 0.5 * dt * (v + v_euler)
        length = math.sqrt(max(problem.inner(u, step, step), 0.0))
        grow = min(
            2.0, 0.8 * math.sqrt(tolerance / max(error, 1e-300)), 0.4 / max(1.0 - forward, 1e-300)
        )
        if error > tolerance or forward < 0.5 or length > 1.5 * max_step:
            dt *= min(0.5, grow, max_step / max(length, 1e-300))
            continue
        u = u + step
        vertices.append(u)
        v = problem.velocity(u, problem.gradient(u, FLOW_RTOL))
        # In a flat valley the flow is stiff: steps shrink to the fast directions'
        # stability limit while it crawls along the slow ones. Once a step is too short
        # to see and the flow is slowing (not speeding up off a saddle), Newton's method
        # finishes in a few steps what the flow would take thousands for.
        if length < FLOW_HANDOFF * max_step and problem.inner(u, v, v) < speed2:
            break
        dt *= grow
    return vertices


@dataclass(frozen=True)
class Descent:
    vertices: list[FloatArray]
    minimum: bool  # the end is a local minimum (else a saddle or not converged)
    escape: FloatArray | None  # at a saddle: the direction down (a metric unit vector)
    last_step: float  # metric length of the Newton step still left at the end
    gradient: float  # metric norm of the gradient left at the end
    converged: bool  # the gradient is at rounding level (a minimum, or a saddle)
    below: FloatArray | None = None  # at a saddle flat to second order: a point lower down


def _gradient_floor(problem: Objective, u: FloatArray, biggest: float) -> float:
    """The metric norm below which a gradient is rounding: a fixed floor for the
    integrals, plus the gradient that rounding u itself (to eps of each coordinate)
    makes through the curvature, which grows with means far from 0 in narrow stds."""
    q = mixture_of(u, problem.k, problem.alive)
    k, w = problem.k, q.weights
    rounded = np.finfo(float).eps * np.maximum(np.abs(u), 1.0)
    spread = math.sqrt(
        float(
            np.dot(
                w, rounded[:k] ** 2 + (rounded[k : 2 * k] / q.stds) ** 2 + 2 * rounded[2 * k :] ** 2
            )
        )
    )
    return GRADIENT_FLOOR + 4.0 * biggest * spread


def _curvature(problem: Objective, u: FloatArray, basis: FloatArray):
    """The reduced Hessian's eigenvalues and vectors, the curvature counted as flat and the
    gradient counted as rounding at u; None where the Hessian is not finite (a component
    whose weight fell below rounding leaves its mean and std free, and their metric
    infinite: the polish stops there, and says so)."""
    hessian, asymmetry = _reduced_hessian(problem, u, basis)
    if not np.all(np.isfinite(hessian)):
        return None
    values, vectors = np.linalg.eigh(hessian)
    biggest = max(float(np.abs(values).max()), 1e-300)
    return (
        values,
        vectors,
        _flat_tolerance(biggest, asymmetry),
        _gradient_floor(problem, u, biggest),
    )


def _polish(problem: Objective, u: FloatArray, max_steps: int = MAX_NEWTON_STEPS) -> Descent:
    """A trust-region Newton method from u, in metric-orthonormal free coordinates,
    until the gradient is at rounding level.

    Each step divides the gradient along each eigenvector of the Hessian by the
    curvature's magnitude (so it descends where the curvature is negative too), with
    curvatures below the Hessian's own error (``_flat_tolerance``) counted as that
    tolerance; it is kept if the divergence falls or, once the predicted fall is below
    the rounding of the divergence, if the gradient shrinks. Only where the gradient is
    at rounding level does a curvature below minus that tolerance mean a saddle, which
    is reported with the direction down; flatter directions are a degenerate minimum.
    """
    vertices: list[FloatArray] = []
    radius = POLISH_RADIUS
    basis = problem.basis(u)
    if basis.shape[1] == 0:
        return Descent(vertices, True, None, 0.0, 0.0, True)
    grad = basis.T @ problem.gradient(u, POLISH_RTOL)
    value = problem.value(u)
    hessian = None
    size = gnorm = math.inf
    for iteration in range(max_steps):
        if hessian is None:
            # Newton's method still going after a while: perhaps two components merging.
            slow = iteration > 0 and iteration % MERGE_AFTER == 0
            merged = _merge(problem, u, value) if slow else None
            if merged is not None:
                u, value = merged
                basis = problem.basis(u)
                grad = basis.T @ problem.gradient(u, POLISH_RTOL)
                vertices.append(u)
            hessian = _curvature(problem, u, basis)
            if hessian is None:
                return Descent(vertices, False, None, size, float(np.linalg.norm(grad)), False)
            values, vectors, flat, floor = hessian
        gnorm = float(np.linalg.norm(grad))
        along = vectors.T @ grad
        scaled = along / np.maximum(np.abs(values), flat)
        size = float(np.linalg.norm(scaled))
        if gnorm <= floor:
            return _at_rest(
                problem, u, value, vertices, basis, grad, values, vectors, flat, floor, size
            )
        step = -vectors @ scaled
        if size > radius:
            step *= radius / size
        predicted = -float(grad @ step + 0.5 * step @ (vectors * np.abs(values)) @ vectors.T @ step)
        trial = u + basis @ step
        trial_value = problem.value(trial)
        rounding = VALUE_ROUNDING * max(1.0, abs(value))
        if predicted > rounding:
            accepted = trial_value < value - 1e-4 * predicted
            # Where the divergence is flatter than quadratic (two components merging
            # into one: it grows like the 6th or 8th power of their distance) Newton's
            # step falls short by a constant factor: go on while the divergence falls.
            reach = 1.0
            while accepted and reach * size < 64 * POLISH_RADIUS:
                further = u + basis @ (2 * reach * step)
                further_value = problem.value(further)
                if not further_value < trial_value - rounding:
                    break
                trial, trial_value, reach = further, further_value, 2 * reach
            trial_basis = problem.basis(trial)
            trial_grad = trial_basis.T @ problem.gradient(trial, POLISH_RTOL)
        else:  # the divergence cannot tell: judge by the gradient
            trial_basis = problem.basis(trial)
            trial_grad = trial_basis.T @ problem.gradient(trial, POLISH_RTOL)
            accepted = trial_value <= value + rounding and np.linalg.norm(trial_grad) < gnorm
        if not accepted:
            radius = 0.25 * min(radius, size)
            if radius < 1e-15:
                break  # no step helps: the gradient is as small as rounding allows
            continue
        radius = min(POLISH_RADIUS, max(radius, 2.0 * min(size, radius)))
        u, value, basis, grad = trial, trial_value, trial_basis, trial_grad
        vertices.append(u)
        hessian = None
    return Descent(vertices, False, None, size, gnorm, False)


def _at_rest(
    problem: Objective,
    u: FloatArray,
    value: float,
    vertices: list[FloatArray],
    basis: FloatArray,
    grad: FloatArray,
    values: FloatArray,
    vectors: FloatArray,
    flat: float,
    floor: float,
    size: float,
) -> Descent:
    """Where the gradient is at rounding level: a saddle (with the direction down), a
    saddle flat to second order (with a point below), or a minimum."""
    gnorm = float(np.linalg.norm(grad))
    if values[0] < -flat:
        down = vectors[:, 0]
        slope = float(down @ grad)
        if abs(slope) > floor:
            down = -down * np.sign(slope)
        else:  # on a symmetric saddle either way descends: choose one fixed way
            down = down * np.sign(down[np.argmax(np.abs(down))])
        return Descent(vertices, False, basis @ down, size, gnorm, True)
    below = _probe_flat(problem, u, value, basis, values, vectors, flat)
    if below is not None:
        return Descent(vertices, False, None, size, gnorm, True, below)
    return Descent(vertices, True, None, size, gnorm, True)


def _probe_flat(
    problem: Objective,
    u: FloatArray,
    value: float,
    basis: FloatArray,
    values: FloatArray,
    vectors: FloatArray,
    flat: float,
) -> FloatArray | None:
    """A point below a stationary point u that is flat to second order, or None.

    Two identical components of q (the best single Gaussian, as a mixture) can be a
    saddle whose way down shows only at fourth order, along a curve: splitting their
    means widens q, which their stds must make up for. Each flat direction is tried
    both ways, a few metric lengths out, with one Newton step in the curved directions
    to follow the curve; the first point below u is the way down (the larger entry
    positive first, so the choice is deterministic).
    """
    rounding = VALUE_ROUNDING * max(1.0, abs(value))
    curved = np.abs(values) > flat
    for i in np.flatnonzero(~curved):
        v = vectors[:, i] * np.sign(vectors[np.argmax(np.abs(vectors[:, i])), i])
        for reach in (0.05, 0.2, 0.5):
            for way in (v, -v):
                out = u + reach * (basis @ way)
                along = vectors[:, curved].T @ (basis.T @ problem.gradient(out, POLISH_RTOL))
                correction = vectors[:, curved] @ (along / values[curved])
                if not np.linalg.norm(correction) <= reach:
                    continue  # not a gentle curve: a direction the Hessian does see
                out = out - basis @ correction
                if problem.value(out) < value - rounding:
                    return out
    return None


def _merge(problem: Objective, u: FloatArray, value: float) -> tuple[FloatArray, float] | None:
    """Two close components of q made one, if that lowers the divergence.

    Where p has fewer components than q, the optimum has two of q's components on top of
    each other, and the divergence grows only like the 6th or 8th power of their
    distance: Newton's method crawls there. Replacing such a pair by two copies of the
    Gaussian with their joint mean and variance keeps q's first two moments, and lands
    on the optimum's manifold when that is where it lies; it is kept only if the
    divergence falls, so a pair that p itself needs is left alone.
    """
    if not problem.free[problem.k :].any():
        return None
    q = mixture_of(u, problem.k, problem.alive)
    k, w, m, s = problem.k, q.weights, q.means, q.stds
    best = None
    rounding = VALUE_ROUNDING * max(1.0, abs(value))
    for c, d in itertools.combinations(np.flatnonzero(problem.alive), 2):
        if not problem.free[[k + c, k + d, 2 * k + c, 2 * k + d]].all():
            continue
        apart = abs(m[c] - m[d]) / max(s[c], s[d])
        if (apart == 0.0 and s[c] == s[d]) or apart > 1.0 or abs(math.log(s[c] / s[d])) > 0.5:
            continue
        total = w[c] + w[d]
        mean = (w[c] * m[c] + w[d] * m[d]) / total
        var = (
            w[c] * (s[c] ** 2 + (m[c] - mean) ** 2) + w[d] * (s[d] ** 2 + (m[d] - mean) ** 2)
        ) / total
        candidate = u.copy()
        candidate[[k + c, k + d]] = mean
        candidate[[2 * k + c, 2 * k + d]] = 0.5 * math.log(var)
        candidate_value = problem.value(candidate)
        if candidate_value < (best[1] if best else value) - rounding:
            best = (candidate, candidate_value)
    return best


def _flat_tolerance(biggest: float, asymmetry: float) -> float:
    """Curvatures within this of 0 cannot be told from it: the Hessian's own error,
    which its asymmetry (differences of gradients in two orders) measures, with a
    margin, and at least the rounding relative to its largest eigenvalue."""
    return max(8.0 * asymmetry, 1e-12 * biggest, 1e-300)


def _reduced_hessian(
    problem: Objective,
    u: FloatArray,
    basis: FloatArray,
) -> tuple[FloatArray, float]:
    """The Hessian in the basis's coordinates, symmetrised, and its asymmetry before."""
    exact = problem.hessian(u)
    if exact is not None:
        hess = basis.T @ exact @ basis
    else:  # central differences of exact gradients along each basis vector
        h = 1e-5
        columns = [
            (problem.gradient(u + h * b, POLISH_RTOL) - problem.gradient(u - h * b, POLISH_RTOL))
            / (2 * h)
            for b in basis.T
        ]
        hess = basis.T @ np.array(columns).T
    asymmetry = float(np.abs(hess - hess.T).max()) if hess.size else 0.0
    return 0.5 * (hess + hess.T), asymmetry


def descend(
    problem: Objective,
    u: FloatArray,
    max_step: float,
    tolerance: float,
    max_newton: int = MAX_NEWTON_STEPS,
) -> tuple[list[FloatArray], Descent]:
    """Flow, polish, and leave any saddle, until a local minimum: all the vertices."""
    vertices = [u]
    for _ in range(MAX_ESCAPES + 1):
        vertices += _flow(problem, vertices[-1], max_step, tolerance)[1:]
        descent = _polish(problem, vertices[-1], max_newton)
        vertices += descent.vertices
        if descent.below is not None:
            vertices.append(descent.below)
        elif descent.escape is not None:
            vertices.append(_escape(problem, vertices[-1], descent.escape))
        else:
            return vertices, descent
    return vertices, descent


def _escape(problem: Objective, u: FloatArray, down: FloatArray) -> FloatArray:
    """A point off the saddle u along ``down``, far enough for the flow to pick up speed
    where the curvature is slight: the step doubles from 1e-3 while the divergence keeps
    falling, up to one metric unit."""
    step, best = 1e-3, problem.value(u)
    while step < 1.0:
        value = problem.value(u + 2 * step * down)
        if not value < best:
            break
        step, best = 2 * step, value
    return u + step * down
