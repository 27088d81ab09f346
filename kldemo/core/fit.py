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
    variable, on the panels :mod:`kldemo.core.divergences` places for the divergences themselves
    (graded towards every near-real singularity of the log densities), with 21-point
    Gauss-Kronrod rules bisected until the Gauss/Kronrod estimate is below about 1e-13 of
    the integral of the absolute integrand, or until ``MAX_PANELS`` panels (where
    rounding, not the rule, limits the estimate).
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from kldemo.core.divergences import _KRONROD, _NODES, _RULES, _component_params, _initial_panels
from kldemo.core.mixture import Mixture

__all__ = ["DIRECTIONS", "PARAMETERS", "FitPath", "Gaussian", "Optima", "fit_path",
           "optima", "optima_of_states"]

Direction = Literal["forward", "reverse"]
DIRECTIONS: tuple[Direction, ...] = ("forward", "reverse")
PARAMETERS = ("means", "stds", "weights")
_ORDER = ("weights", "means", "stds")   # as a Mixture holds them
FloatArray = NDArray[np.float64]

PATH_STEP = 0.05          # longest polyline segment, in metric units
PATH_TOLERANCE = 1e-3     # sideways error of one flow step, in metric units
FLOW_STOP = 1e-6          # metric speed below which Newton takes over
FLOW_HANDOFF = 1e-2       # ... or a slowing step shorter than this part of the longest
MAX_FLOW_STEPS = 20_000
MAX_NEWTON_STEPS = 60     # Newton steps of one polish (a singular optimum takes ~25)
MAX_ESCAPES = 4           # saddles left before the fit gives up
MERGE_AFTER = 8           # Newton steps before trying to merge close components
POLISH_RADIUS = 0.5       # longest Newton step, in metric units
GRADIENT_FLOOR = 1e-13    # metric gradient norm that counts as rounding, at the least
VALUE_ROUNDING = 1e-14    # relative rounding of the divergence, for judging a step
FLOW_RTOL = 1e-10         # quadrature tolerance while following the flow
POLISH_RTOL = 1e-14       # ... and while polishing the optimum
PANEL_ATOL = 1e-17         # absolute error allowed of one panel
MAX_PANELS = 20_000       # quadrature panels over all jobs at once
DEDUPLICATE = 1e-6        # optima nearer than this (in the metric) are one
_MIN_LOGIT = -700.0       # exp() of anything lower underflows
_LOG_2PI = math.log(2.0 * math.pi)


# -- quadrature ------------------------------------------------------------------------


def _integrate(centres: FloatArray, scales: FloatArray, mixtures: Sequence[Mixture],
               integrand: Callable[[NDArray[np.intp], FloatArray], FloatArray],
               n_out: int, rtol: float) -> FloatArray:
    """``∫ φ(z) F(job, z) dz`` for every job, an array (n_out, jobs).

    Job j integrates in ``z = (x - centres[j]) / scales[j]`` over |z| <= 9, on the panels
    core places for the log densities of ``mixtures``; ``integrand(job, z)`` gives F at
    nodes z (nodes, panels) of panels belonging to jobs ``job`` (panels,), shaped
    (n_out, nodes, panels). Panels whose Gauss/Kronrod difference says their error may
    exceed ``rtol`` of the job's ∫φ|F| are bisected, for all jobs at once.
    """
    jobs = len(centres)
    own_mean, own_std = centres[:, None], scales[:, None]
    params: tuple[FloatArray, ...] = ()
    for m in mixtures:
        params += _component_params(own_mean, own_std,
                                    *(np.broadcast_to(v, (jobs, v.size)) for v in m))
    left, right, job = _initial_panels(params)
    total = np.zeros((n_out, jobs))
    scale = None
    for _ in range(60):
        half = 0.5 * (right - left)
        z = 0.5 * (right + left) + _NODES[:, None] * half
        f = integrand(job, z) * (np.exp(-0.5 * z * z) * (half / math.sqrt(2.0 * math.pi)))
        values = np.einsum("rn,onp->rop", _RULES, f)                  # (rule, out, panel)
        absolute = np.einsum("n,onp->op", _KRONROD, np.abs(f))
        if scale is None:   # each job's ∫φ|F|, from the first pass
            scale = np.zeros((n_out, jobs))
            for o in range(n_out):
                scale[o] = np.bincount(job, absolute[o], minlength=jobs)
        error = _error_estimate(values, absolute)
        # At least PANEL_ATOL: near an optimum h = log q - log p is rounding, which no
        # splitting resolves; that absolute error is far below the gradient floor.
        tolerance = np.maximum(rtol * scale[:, job] / 8, PANEL_ATOL)
        split = np.any(error > tolerance, axis=0) & (right - left > 1e-9)
        if left.size + np.count_nonzero(split) > MAX_PANELS:
            # Rounding in the integrand (log q - log p cancelling near an optimum) can
            # keep the error estimate above a tolerance near machine precision however
            # fine the panels: take what the panels give rather than split without end.
            split[:] = False
        done = ~split
        for o in range(n_out):
            total[o] += np.bincount(job[done], values[0, o, done], minlength=jobs)
        if not split.any():
            break
        middle = 0.5 * (left[split] + right[split])
        left, right = np.concatenate([left[split], middle]), np.concatenate([middle, right[split]])
        job = np.tile(job[split], 2)
    return total


def _error_estimate(values: FloatArray, absolute: FloatArray) -> FloatArray:
    # For an analytic integrand the 21-point Kronrod error falls like the 1.6th power
    # of the 10-point Gauss error (degrees 31 and 19), and like the 2.5th power of the
    # 11-point interpolatory rule's.
    scale = np.maximum(absolute, 1e-300)
    gauss = np.minimum(np.abs(values[0] - values[1]) / scale, 1.0)
    interpolatory = np.minimum(np.abs(values[0] - values[2]) / scale, 1.0)
    return scale * np.maximum(gauss**1.6, interpolatory**2.5)


def _log_components(m: Mixture, centres: FloatArray, scales: FloatArray,
                    job: NDArray[np.intp], z: FloatArray) -> tuple[FloatArray, FloatArray]:
    """``log N(x; m_c, s_c) + log √(2π)`` and ``(x - m_c) / s_c`` for every component c,
    shaped (components, nodes, panels), at ``x = centres[job] + scales[job] z``.

    The offset from each component is formed as ``(centre - m_c) + scale z``, so that a
    narrow component far from 0 keeps its resolution.
    """
    offset = (centres[None, :] - m.means[:, None])[:, job][:, None, :]
    standard = (offset + scales[job] * z) / m.stds[:, None, None]
    return -0.5 * standard * standard - np.log(m.stds)[:, None, None], standard


def _log_mixture(log_n: FloatArray, weights: FloatArray) -> FloatArray:
    """``log Σ_c w_c exp(log_n[c])`` over the components of nonzero weight."""
    alive = weights > 0
    terms = log_n[alive] + np.log(weights[alive])[:, None, None]
    if len(terms) == 1:
        return terms[0]
    largest = terms.max(axis=0)
    return largest + np.log(np.exp(terms - largest).sum(axis=0))


# -- the divergence as a function of q's parameters ------------------------------------


def _mixture_of(u: FloatArray, k: int, alive: NDArray[np.bool_]) -> Mixture:
    """Weights, means and stds from ``u = (logits, means, log stds)``."""
    logits = np.where(alive, u[:k], -np.inf)
    weights = np.exp(logits - logits.max())
    return Mixture(weights / weights.sum(), u[k:2 * k].copy(), np.exp(u[2 * k:]))


def _coordinates(q: Mixture) -> FloatArray:
    alive = q.weights > 0
    logits = np.where(alive, np.log(np.where(alive, q.weights, 1.0)), 0.0)
    return np.concatenate([logits, q.means, np.log(q.stds)]).astype(float)


class _Problem:
    """``D(u)``: a divergence between a fixed p and q(u), with which parameters move.

    ``gradient(u, rtol)`` gives ∂D/∂u and the natural-gradient velocity ``-G⁻¹ ∂D/∂u``,
    both zero in frozen coordinates; ``hessian(u)`` ∂²D/∂u² or None when it is to be
    taken by differences of gradients; ``value(u)`` D itself, up to a constant.
    """

    def __init__(self, p: Mixture, q: Mixture, direction: Direction, optimize: Iterable[str]):
        w, m, s = (np.asarray(v, dtype=float).reshape(-1) for v in p)
        # Weights that sum to 1 only within the config's tolerance would shift every
        # moment by that much (9e-6 of a mean near 1e4): the fit sees them normalised.
        self.p = Mixture(w / math.fsum(w), m, s)
        self.k = q.means.shape[-1]
        self.alive = np.asarray(q.weights) > 0
        self.direction = direction
        optimize = set(optimize)
        free = np.zeros((3, self.k), dtype=bool)
        free[0] = ("weights" in optimize) and self.k > 1
        free[1] = "means" in optimize
        free[2] = "stds" in optimize
        free &= self.alive
        if free[0].sum() < 2:
            free[0] = False           # one live weight has nowhere to go
        self.free = free.reshape(-1)
        w, m, s = self.p
        self.p_mean = float(np.dot(w, m))
        self.p_var = float(np.dot(w, s * s + (m - self.p_mean) ** 2))

    # The metric G: weights block diag(w) - w wᵀ, means w/s², log stds 2w.
    def metric(self, u: FloatArray) -> FloatArray:
        q = _mixture_of(u, self.k, self.alive)
        k, w = self.k, q.weights
        g = np.zeros((3 * k, 3 * k))
        g[:k, :k] = np.diag(w) - np.outer(w, w)
        g[k:2 * k, k:2 * k] = np.diag(w / q.stds**2)
        g[2 * k:, 2 * k:] = np.diag(2.0 * w)
        return g

    def inner(self, u: FloatArray, a: FloatArray, b: FloatArray) -> float:
        """``aᵀ G(u) b``."""
        q = _mixture_of(u, self.k, self.alive)
        k, w = self.k, q.weights
        da, db = a[:k] - np.dot(w, a[:k]), b[:k] - np.dot(w, b[:k])
        return float(np.dot(w, da * db) + np.dot(w, a[k:2 * k] * b[k:2 * k] / q.stds**2)
                     + 2 * np.dot(w, a[2 * k:] * b[2 * k:]))

    def norm(self, u: FloatArray, du: FloatArray) -> float:
        return math.sqrt(max(self.inner(u, du, du), 0.0))

    def basis(self, u: FloatArray) -> FloatArray:
        """Columns spanning the free coordinates, orthonormal in the metric."""
        k = self.k
        columns = [np.eye(3 * k)[:, i] for i in np.flatnonzero(self.free[k:]) + k]
        free_logits = np.flatnonzero(self.free[:k])
        if free_logits.size >= 2:   # logits up to a common shift: the sum-zero directions
            inner = np.zeros((3 * k, free_logits.size))
            inner[free_logits, np.arange(free_logits.size)] = 1.0
            shifts = inner[:, 1:] - inner[:, :1]
            columns += list(shifts.T)
        b = np.array(columns).T.reshape(3 * k, -1)
        gram = b.T @ self.metric(u) @ b
        values, vectors = np.linalg.eigh(gram)
        return b @ (vectors / np.sqrt(values)) @ vectors.T

    def velocity(self, u: FloatArray, grad: FloatArray) -> FloatArray:
        q = _mixture_of(u, self.k, self.alive)
        k, w = self.k, np.maximum(q.weights, 1e-300)
        v = np.concatenate([-grad[:k] / w, -grad[k:2 * k] * q.stds**2 / w, -grad[2 * k:] / (2 * w)])
        return np.where(self.free, v, 0.0)

    def gradient(self, u: FloatArray, rtol: float) -> FloatArray:
        q = _mixture_of(u, self.k, self.alive)
        if self.k == 1 and self.direction == "forward":
            grad = self._forward_gaussian(q)[1]
        elif self.k == 1:
            grad = self._reverse_gaussian(q, rtol)[1]
        else:
            grad = self._mixture_gradient(q, rtol)
        return np.where(self.free, grad, 0.0)

    def hessian(self, u: FloatArray) -> FloatArray | None:
        if self.k > 1:
            return None
        q = _mixture_of(u, self.k, self.alive)
        if self.direction == "forward":
            return self._forward_gaussian(q)[2]
        return self._reverse_gaussian(q, POLISH_RTOL)[2]

    def value(self, u: FloatArray) -> float:
        from kldemo.core.divergences import kl_divergence

        q = _mixture_of(u, self.k, self.alive)
        if self.k == 1 and self.direction == "forward":
            return self._forward_gaussian(q)[0]
        if self.k == 1:
            return self._reverse_gaussian(q, POLISH_RTOL)[0]
        pair = (*self.p, *q) if self.direction == "forward" else (*q, *self.p)
        return float(kl_divergence(*pair))

    def _forward_gaussian(self, q: Mixture) -> tuple[float, FloatArray, FloatArray]:
        # KL(p‖q) = -H(p) + log s + (V + (μ - m)²) / (2s²) + log √(2π), by p's moments.
        m, s = float(q.means[0]), float(q.stds[0])
        d, second = self.p_mean - m, self.p_var + (self.p_mean - m) ** 2
        value = math.log(s) + second / (2 * s * s)
        grad = np.array([0.0, -d / s**2, 1.0 - second / s**2])
        hess = np.zeros((3, 3))
        hess[1:, 1:] = [[1 / s**2, 2 * d / s**2], [2 * d / s**2, 2 * second / s**2]]
        return value, grad, hess

    def _reverse_gaussian(self, q: Mixture, rtol: float) -> tuple[float, FloatArray, FloatArray]:
        # KL(q‖p) = -l - log √(2πe) - E[log p(m + s z)]; with g1, g2 the first and
        # second derivatives of log p: ∂m = -E g1, ∂l = -1 - s E[z g1],
        # ∂mm = -E g2, ∂ml = -s E[z g2], ∂ll = -s E[z g1] - s² E[z² g2].
        m, s = q.means[:1], q.stds[:1]
        p = self.p

        def integrand(job: NDArray[np.intp], z: FloatArray) -> FloatArray:
            log_n, standard = _log_components(p, m, s, job, z)
            log_p = _log_mixture(log_n, p.weights)
            r = np.exp(log_n + np.log(np.where(p.weights > 0, p.weights, 1e-300))[:, None, None]
                       - log_p)
            slope = -standard / p.stds[:, None, None]                     # (log N_c)'
            g1 = np.sum(r * slope, axis=0)
            g2 = np.sum(r * ((slope - g1) ** 2 - 1.0 / p.stds[:, None, None] ** 2), axis=0)
            return np.stack([log_p - 0.5 * _LOG_2PI, g1, z * g1, g2, z * g2, z * z * g2])

        e_log_p, e_g1, e_zg1, e_g2, e_zg2, e_zzg2 = _integrate(
            m, s, (p, q), integrand, 6, rtol)[:, 0]
        sf = float(s[0])
        value = -math.log(sf) - 0.5 * (_LOG_2PI + 1.0) - e_log_p
        grad = np.array([0.0, -e_g1, -1.0 - sf * e_zg1])
        hess = np.zeros((3, 3))
        hess[1:, 1:] = [[-e_g2, -sf * e_zg2], [-sf * e_zg2, -sf * e_zg1 - sf * sf * e_zzg2]]
        return float(value), grad, hess

    def _mixture_gradient(self, q: Mixture, rtol: float) -> FloatArray:
        k, p = self.k, self.p
        alive_q = np.flatnonzero(q.weights > 0)
        if self.direction == "reverse":
            # ∂/∂θ ∫ q log(q/p) = ∫ (∂q/∂θ) log(q/p): per q component c, in its own z,
            # E_c[h], E_c[z h] / s_c and E_c[(z² - 1) h], with h = log q - log p.
            centres, scales = q.means[alive_q], q.stds[alive_q]

            def h_at(job: NDArray[np.intp], z: FloatArray) -> FloatArray:
                log_q = _log_mixture(_log_components(q, centres, scales, job, z)[0], q.weights)
                log_p = _log_mixture(_log_components(p, centres, scales, job, z)[0], p.weights)
                return log_q - log_p

            h0 = h_at(np.arange(alive_q.size), np.zeros((1, alive_q.size)))[0]

            def integrand(job: NDArray[np.intp], z: FloatArray) -> FloatArray:
                h = h_at(job, z)
                shifted = h - h0[job]        # E[z] = E[z² - 1] = 0: subtracting is exact
                return np.stack([h, z * shifted, (z * z - 1.0) * shifted])

            e_h, e_zh, e_z2h = _integrate(centres, scales, (q, p), integrand, 3, rtol)
            g_w, g_m, g_l = (np.zeros(k) for _ in range(3))
            g_w[alive_q], g_m[alive_q], g_l[alive_q] = e_h, e_zh / scales, e_z2h
        else:
            # ∂/∂θ ∫ p log(p/q) = -∫ p (∂q/∂θ) / q: per p component, for every q
            # component c, E[N_c/q], E[(N_c/q) u_c] / s_c, E[(N_c/q)(u_c² - 1)].
            alive_p = np.flatnonzero(p.weights > 0)
            centres, scales = p.means[alive_p], p.stds[alive_p]

            def integrand(job: NDArray[np.intp], z: FloatArray) -> FloatArray:
                log_n, u = _log_components(q, centres, scales, job, z)
                ratio = np.exp(log_n - _log_mixture(log_n, q.weights))   # N_c / q
                return np.concatenate([ratio, ratio * u, ratio * (u * u - 1.0)])

            per_job = _integrate(centres, scales, (p, q), integrand, 3 * k, rtol)
            g = -(per_job @ p.weights[alive_p]).reshape(3, k)
            g_w, g_m, g_l = g[0], g[1] / q.stds, g[2]
        w = q.weights
        # ∂D/∂a_c = w_c (∂D/∂w_c - Σ w ∂D/∂w); ∂D/∂m_c = w_c g_m; ∂D/∂l_c = w_c g_l
        return np.concatenate([w * (g_w - np.dot(w, g_w)), w * g_m, w * g_l])


# -- descent ---------------------------------------------------------------------------


def _flow(problem: _Problem, u: FloatArray, max_step: float, tolerance: float,
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
        forward = problem.inner(u, v_euler, v) / speed2          # 1 - λ dt, for a decay
        change = 0.5 * dt * (v_euler - v)
        sideways = change - (problem.inner(u, change, v) / speed2) * v
        error = math.sqrt(max(problem.inner(u, sideways, sideways), 0.0))
        step = 0.5 * dt * (v + v_euler)
        length = math.sqrt(max(problem.inner(u, step, step), 0.0))
        grow = min(2.0, 0.8 * math.sqrt(tolerance / max(error, 1e-300)),
                   0.4 / max(1.0 - forward, 1e-300))
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
class _Descent:
    vertices: list[FloatArray]
    minimum: bool          # the end is a local minimum (else a saddle or not converged)
    escape: FloatArray | None  # at a saddle: the direction down (a metric unit vector)
    last_step: float       # metric length of the Newton step still left at the end
    gradient: float        # metric norm of the gradient left at the end
    converged: bool        # the gradient is at rounding level (a minimum, or a saddle)
    below: FloatArray | None = None  # at a saddle flat to second order: a point lower down


def _gradient_floor(problem: _Problem, u: FloatArray, biggest: float) -> float:
    """The metric norm below which a gradient is rounding: a fixed floor for the
    integrals, plus the gradient that rounding u itself (to eps of each coordinate)
    makes through the curvature, which grows with means far from 0 in narrow stds."""
    q = _mixture_of(u, problem.k, problem.alive)
    k, w = problem.k, q.weights
    rounded = np.finfo(float).eps * np.maximum(np.abs(u), 1.0)
    spread = math.sqrt(float(np.dot(w, rounded[:k] ** 2 + (rounded[k:2 * k] / q.stds) ** 2
                                    + 2 * rounded[2 * k:] ** 2)))
    return GRADIENT_FLOOR + 4.0 * biggest * spread


def _polish(problem: _Problem, u: FloatArray, max_steps: int = MAX_NEWTON_STEPS) -> _Descent:
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
        return _Descent(vertices, True, None, 0.0, 0.0, True)
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
            hessian, asymmetry = _reduced_hessian(problem, u, basis)
            values, vectors = np.linalg.eigh(hessian)
            biggest = max(float(np.abs(values).max()), 1e-300)
            flat = _flat_tolerance(biggest, asymmetry)
            floor = _gradient_floor(problem, u, biggest)
        gnorm = float(np.linalg.norm(grad))
        along = vectors.T @ grad
        scaled = along / np.maximum(np.abs(values), flat)
        size = float(np.linalg.norm(scaled))
        if gnorm <= floor:
            if values[0] < -flat:
                down = vectors[:, 0]
                slope = float(down @ grad)
                if abs(slope) > floor:
                    down = -down * np.sign(slope)
                else:   # on a symmetric saddle either way descends: choose one fixed way
                    down = down * np.sign(down[np.argmax(np.abs(down))])
                return _Descent(vertices, False, basis @ down, size, gnorm, True)
            below = _probe_flat(problem, u, value, basis, values, vectors, flat)
            if below is not None:
                return _Descent(vertices, False, None, size, gnorm, True, below)
            return _Descent(vertices, True, None, size, gnorm, True)
        step = -vectors @ scaled
        if size > radius:
            step *= radius / size
        predicted = -float(grad @ step + 0.5 * step @ (vectors * np.abs(values)) @ vectors.T
                           @ step)
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
        else:   # the divergence cannot tell: judge by the gradient
            trial_basis = problem.basis(trial)
            trial_grad = trial_basis.T @ problem.gradient(trial, POLISH_RTOL)
            accepted = (trial_value <= value + rounding
                        and np.linalg.norm(trial_grad) < gnorm)
        if not accepted:
            radius = 0.25 * min(radius, size)
            if radius < 1e-15:
                break         # no step helps: the gradient is as small as rounding allows
            continue
        radius = min(POLISH_RADIUS, max(radius, 2.0 * min(size, radius)))
        u, value, basis, grad = trial, trial_value, trial_basis, trial_grad
        vertices.append(u)
        hessian = None
    return _Descent(vertices, False, None, size, gnorm, False)


def _probe_flat(problem: _Problem, u: FloatArray, value: float, basis: FloatArray,
                values: FloatArray, vectors: FloatArray, flat: float) -> FloatArray | None:
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
                    continue      # not a gentle curve: a direction the Hessian does see
                out = out - basis @ correction
                if problem.value(out) < value - rounding:
                    return out
    return None


def _merge(problem: _Problem, u: FloatArray, value: float) -> tuple[FloatArray, float] | None:
    """Two close components of q made one, if that lowers the divergence.

    Where p has fewer components than q, the optimum has two of q's components on top of
    each other, and the divergence grows only like the 6th or 8th power of their
    distance: Newton's method crawls there. Replacing such a pair by two copies of the
    Gaussian with their joint mean and variance keeps q's first two moments, and lands
    on the optimum's manifold when that is where it lies; it is kept only if the
    divergence falls, so a pair that p itself needs is left alone.
    """
    if not problem.free[problem.k:].any():
        return None
    q = _mixture_of(u, problem.k, problem.alive)
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
        var = (w[c] * (s[c] ** 2 + (m[c] - mean) ** 2)
               + w[d] * (s[d] ** 2 + (m[d] - mean) ** 2)) / total
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


def _reduced_hessian(problem: _Problem, u: FloatArray, basis: FloatArray,
                     ) -> tuple[FloatArray, float]:
    """The Hessian in the basis's coordinates, symmetrised, and its asymmetry before."""
    exact = problem.hessian(u)
    if exact is not None:
        hess = basis.T @ exact @ basis
    else:   # central differences of exact gradients along each basis vector
        h = 1e-5
        columns = [(problem.gradient(u + h * b, POLISH_RTOL)
                    - problem.gradient(u - h * b, POLISH_RTOL))
                   / (2 * h) for b in basis.T]
        hess = basis.T @ np.array(columns).T
    asymmetry = float(np.abs(hess - hess.T).max()) if hess.size else 0.0
    return 0.5 * (hess + hess.T), asymmetry


def _descend(problem: _Problem, u: FloatArray, max_step: float, tolerance: float,
             max_newton: int = MAX_NEWTON_STEPS) -> tuple[list[FloatArray], _Descent]:
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


def _escape(problem: _Problem, u: FloatArray, down: FloatArray) -> FloatArray:
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
    vertices: FloatArray      # (N, 3K)
    arc: FloatArray           # (N,) cumulative arc length, arc[0] = 0
    converged: bool           # the end is a local minimum, its gradient at rounding level
    last_step: float          # metric length of the Newton step left at the end
    gradient: float = 0.0     # metric norm of the gradient left at the end
    left_saddles: bool = True  # False: it ended on a saddle it could not leave

    def warning(self) -> str | None:
        """Why the end may not be a local minimum, for the user; None when it is."""
        if self.converged:
            return None
        if not self.left_saddles:
            return (f"fit: {self.direction} stopped on a saddle it could not leave "
                    f"(gradient {self.gradient:.1g} left)")
        return (f"fit: {self.direction} stopped before converging "
                f"(gradient {self.gradient:.1g} left)")

    @property
    def length(self) -> float:
        return float(self.arc[-1])

    def at(self, e: ArrayLike) -> Mixture:
        e = np.clip(np.asarray(e, dtype=float), 0.0, 1.0)
        k = self.start.means.shape[-1]
        flat = e.reshape(-1)
        if self.length > 0 and len(self.arc) > 1:
            target = flat * self.length
            index = np.clip(np.searchsorted(self.arc, target, side="right") - 1,
                            0, len(self.arc) - 2)
            span = self.arc[index + 1] - self.arc[index]
            fraction = np.clip((target - self.arc[index]) / span, 0.0, 1.0)[:, None]
            u = self.vertices[index] + fraction * (self.vertices[index + 1] - self.vertices[index])
        else:
            u = np.repeat(self.vertices[-1:], flat.size, axis=0)
        alive = self.start.weights > 0
        logits = np.where(alive, u[:, :k], -np.inf)
        weights = np.exp(logits - logits.max(axis=1, keepdims=True))
        weights /= weights.sum(axis=1, keepdims=True)
        moved = {"weights": weights, "means": u[:, k:2 * k], "stds": np.exp(u[:, 2 * k:])}
        arrays = []
        for name in ("weights", "means", "stds"):
            start, end = getattr(self.start, name), getattr(self.end, name)
            value = (moved[name] if name in self.optimize
                     else np.broadcast_to(start, moved[name].shape))
            value = np.where(flat[:, None] <= 0.0, start,
                             np.where(flat[:, None] >= 1.0, end, value))
            arrays.append(value.reshape((*e.shape, k)))
        return Mixture(*arrays)


def fit_path(p: Mixture, q: Mixture, direction: Direction,
             optimize: Iterable[str] = PARAMETERS, max_newton_steps: int | None = None,
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
        raise ValueError(f"optimize names unknown parameters {sorted(unknown)}; "
                         f"choose from {', '.join(PARAMETERS)}")
    key = (_key(p), _key(q), direction, tuple(sorted(set(optimize))))
    return _cached_path(*key, MAX_NEWTON_STEPS if max_newton_steps is None else max_newton_steps)


def _key(m: Mixture) -> tuple[tuple[float, ...], ...]:
    return tuple(tuple(float(x) for x in np.asarray(v, dtype=float).reshape(-1)) for v in m)


@functools.lru_cache(maxsize=256)
def _cached_path(p_key: tuple, q_key: tuple, direction: Direction,
                 optimize: tuple[str, ...], max_newton: int = MAX_NEWTON_STEPS) -> FitPath:
    p = Mixture(*(np.array(v) for v in p_key))
    q = Mixture(*(np.array(v) for v in q_key))
    problem = _Problem(p, q, direction, optimize)
    start = _coordinates(q)
    vertices, descent = _descend(problem, start, PATH_STEP, PATH_TOLERANCE, max_newton)
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
    end = _mixture_of(kept[-1], problem.k, problem.alive)
    end = Mixture(*(value if name in optimize else np.array(getattr(q, name))
                    for name, value in zip(_ORDER, end, strict=True)))
    return FitPath(direction, optimize, Mixture(*(np.array(v) for v in q)), end,
                   np.array(kept), arc, descent.converged and descent.minimum,
                   descent.last_step, descent.gradient, descent.minimum or not descent.converged)



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
    >>> [round(g.mean, 3) for g in found.reverse]      # one optimum on each mode
    [-5.0, 5.0]
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
    mean = float(np.dot(w, m))
    std = math.sqrt(float(np.dot(w, s * s + (m - mean) ** 2)))
    forward = Gaussian(mean, std)

    alive = w > 0
    order = np.argsort(m[alive], kind="stable")
    means, stds = m[alive][order], s[alive][order]
    starts = [(float(a), float(b)) for a, b in zip(means, stds, strict=True)]
    for i in range(len(means) - 1):
        gap = means[i + 1] - means[i]
        if gap > 0:
            starts.append((float(means[i] + gap / 2),
                           float(max(gap / 2, min(stds[i], stds[i + 1])))))
    starts.append((mean, std))

    found: list[tuple[Gaussian, FloatArray]] = []
    single = Mixture(np.ones(1), np.zeros(1), np.ones(1))
    problem = _Problem(p, single, "reverse", ("means", "stds"))
    for start_mean, start_std in dict.fromkeys(starts):
        u0 = np.array([0.0, start_mean, math.log(start_std)])
        vertices, descent = _descend(problem, u0, 0.5, 1e-3)
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
