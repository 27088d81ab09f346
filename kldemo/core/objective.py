"""The divergence a fit descends, as a function of q's parameters.

:class:`Objective` is ``D(u)``, forward or reverse KL between a fixed p and q(u), in the
unconstrained coordinates ``u = (logits, means, log stds)`` of :mod:`kldemo.core.fit`:
its value, its exact gradient (in closed form for a single-Gaussian q under forward KL,
else integrals of the derivatives by :func:`kldemo.core.quadrature.integrate`), its
Hessian for a single Gaussian, and the metric of the natural gradient.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy.special import logsumexp

from kldemo.core.mixture import Mixture
from kldemo.core.quadrature import PanelTolerance, component_params, initial_panels, integrate

__all__ = ["FLOW_RTOL", "POLISH_RTOL", "Objective", "coordinates", "mixture_of", "moments"]

Direction = Literal["forward", "reverse"]
FloatArray = NDArray[np.float64]

FLOW_RTOL = 1e-10  # quadrature tolerance while following the flow
POLISH_RTOL = 1e-14  # ... and while polishing the optimum
PANEL_ATOL = 1e-17  # absolute error allowed of one panel
MAX_PANELS = 20_000  # quadrature panels over all jobs at once
_LOG_2PI = math.log(2.0 * math.pi)


def _expectations(
    centres: FloatArray,
    scales: FloatArray,
    mixtures: Sequence[Mixture],
    integrand: Callable[[NDArray[np.intp], FloatArray], FloatArray],
    rtol: float,
) -> FloatArray:
    """``∫ φ(z) F(job, z) dz`` for every job, an array (outputs, jobs).

    Job j integrates in ``z = (x - centres[j]) / scales[j]``, on the panels
    :func:`~kldemo.core.quadrature.initial_panels` places for the log densities of
    ``mixtures``; ``integrand(job, z)`` gives F at nodes z (nodes, panels) of panels of
    the jobs ``job`` (panels,), shaped (outputs, nodes, panels). Panels are bisected until
    each output's error is within ``rtol / 8`` of its job's ∫φ|F|
    (:class:`~kldemo.core.quadrature.PanelTolerance`).
    """
    jobs = len(centres)
    own_mean, own_std = centres[:, None], scales[:, None]
    params: tuple[FloatArray, ...] = ()
    for m in mixtures:
        params += component_params(
            own_mean, own_std, *(np.broadcast_to(v, (jobs, v.size)) for v in m)
        )
    left, right, job = initial_panels(params)

    def weighted(z: FloatArray, job: NDArray[np.intp]) -> FloatArray:
        return integrand(job, z) * np.exp(-0.5 * z * z)

    rule = PanelTolerance(jobs, rtol, PANEL_ATOL, MAX_PANELS)
    return integrate(left, right, job, weighted, rule, jobs, max_rounds=60)


def _log_components(
    m: Mixture, centres: FloatArray, scales: FloatArray, job: NDArray[np.intp], z: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """``log N(x; m_c, s_c) + log √(2π)`` and ``(x - m_c) / s_c`` for every component c,
    shaped (components, nodes, panels), at ``x = centres[job] + scales[job] z``.

    The offset from each component is formed as ``(centre - m_c) + scale z``, so that a
    narrow component far from 0 keeps its resolution.
    """
    offset = (centres[None, :] - m.means[:, None])[:, job][:, None, :]
    standard = (offset + scales[job] * z) / m.stds[:, None, None]
    return -0.5 * standard * standard - np.log(m.stds)[:, None, None], standard


def _log_sum(log_n: FloatArray, weights: FloatArray) -> FloatArray:
    """``log Σ_c w_c exp(log_n[c])`` over the components of nonzero weight."""
    alive = weights > 0
    return logsumexp(log_n[alive] + np.log(weights[alive])[:, None, None], axis=0)


def moments(p: Mixture) -> tuple[float, float]:
    """The mean and variance of p: the single Gaussian that minimises KL(p‖q)."""
    w, m, s = p
    mean = float(np.dot(w, m))
    return mean, float(np.dot(w, s * s + (m - mean) ** 2))


def mixture_of(u: FloatArray, k: int, alive: NDArray[np.bool_]) -> Mixture:
    """Weights, means and stds from ``u = (logits, means, log stds)``."""
    logits = np.where(alive, u[:k], -np.inf)
    weights = np.exp(logits - logits.max())
    return Mixture(weights / weights.sum(), u[k : 2 * k].copy(), np.exp(u[2 * k :]))


def coordinates(q: Mixture) -> FloatArray:
    alive = q.weights > 0
    logits = np.where(alive, np.log(np.where(alive, q.weights, 1.0)), 0.0)
    return np.concatenate([logits, q.means, np.log(q.stds)]).astype(float)


class Objective:
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
            free[0] = False  # one live weight has nowhere to go
        self.free = free.reshape(-1)
        self.p_mean, self.p_var = moments(self.p)

    # The metric G: weights block diag(w) - w wᵀ, means w/s², log stds 2w.
    def metric(self, u: FloatArray) -> FloatArray:
        q = mixture_of(u, self.k, self.alive)
        k, w = self.k, q.weights
        g = np.zeros((3 * k, 3 * k))
        g[:k, :k] = np.diag(w) - np.outer(w, w)
        g[k : 2 * k, k : 2 * k] = np.diag(w / q.stds**2)
        g[2 * k :, 2 * k :] = np.diag(2.0 * w)
        return g

    def inner(self, u: FloatArray, a: FloatArray, b: FloatArray) -> float:
        """``aᵀ G(u) b``."""
        q = mixture_of(u, self.k, self.alive)
        k, w = self.k, q.weights
        da, db = a[:k] - np.dot(w, a[:k]), b[:k] - np.dot(w, b[:k])
        return float(
            np.dot(w, da * db)
            + np.dot(w, a[k : 2 * k] * b[k : 2 * k] / q.stds**2)
            + 2 * np.dot(w, a[2 * k :] * b[2 * k :])
        )

    def norm(self, u: FloatArray, du: FloatArray) -> float:
        return math.sqrt(max(self.inner(u, du, du), 0.0))

    def basis(self, u: FloatArray) -> FloatArray:
        """Columns spanning the free coordinates, orthonormal in the metric."""
        k = self.k
        columns = [np.eye(3 * k)[:, i] for i in np.flatnonzero(self.free[k:]) + k]
        free_logits = np.flatnonzero(self.free[:k])
        if free_logits.size >= 2:  # logits up to a common shift: the sum-zero directions
            inner = np.zeros((3 * k, free_logits.size))
            inner[free_logits, np.arange(free_logits.size)] = 1.0
            shifts = inner[:, 1:] - inner[:, :1]
            columns += list(shifts.T)
        b = np.array(columns).T.reshape(3 * k, -1)
        gram = b.T @ self.metric(u) @ b
        values, vectors = np.linalg.eigh(gram)
        return b @ (vectors / np.sqrt(values)) @ vectors.T

    def velocity(self, u: FloatArray, grad: FloatArray) -> FloatArray:
        q = mixture_of(u, self.k, self.alive)
        k, w = self.k, np.maximum(q.weights, 1e-300)
        v = np.concatenate(
            [-grad[:k] / w, -grad[k : 2 * k] * q.stds**2 / w, -grad[2 * k :] / (2 * w)]
        )
        return np.where(self.free, v, 0.0)

    def gradient(self, u: FloatArray, rtol: float) -> FloatArray:
        q = mixture_of(u, self.k, self.alive)
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
        q = mixture_of(u, self.k, self.alive)
        if self.direction == "forward":
            return self._forward_gaussian(q)[2]
        return self._reverse_gaussian(q, POLISH_RTOL)[2]

    def value(self, u: FloatArray) -> float:
        from kldemo.core.divergences import kl_divergence

        q = mixture_of(u, self.k, self.alive)
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
            log_p = _log_sum(log_n, p.weights)
            r = np.exp(
                log_n + np.log(np.where(p.weights > 0, p.weights, 1e-300))[:, None, None] - log_p
            )
            slope = -standard / p.stds[:, None, None]  # (log N_c)'
            g1 = np.sum(r * slope, axis=0)
            g2 = np.sum(r * ((slope - g1) ** 2 - 1.0 / p.stds[:, None, None] ** 2), axis=0)
            return np.stack([log_p - 0.5 * _LOG_2PI, g1, z * g1, g2, z * g2, z * z * g2])

        e_log_p, e_g1, e_zg1, e_g2, e_zg2, e_zzg2 = _expectations(m, s, (p, q), integrand, rtol)[
            :, 0
        ]
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
                log_q = _log_sum(_log_components(q, centres, scales, job, z)[0], q.weights)
                log_p = _log_sum(_log_components(p, centres, scales, job, z)[0], p.weights)
                return log_q - log_p

            h0 = h_at(np.arange(alive_q.size), np.zeros((1, alive_q.size)))[0]

            def integrand(job: NDArray[np.intp], z: FloatArray) -> FloatArray:
                h = h_at(job, z)
                shifted = h - h0[job]  # E[z] = E[z² - 1] = 0: subtracting is exact
                return np.stack([h, z * shifted, (z * z - 1.0) * shifted])

            e_h, e_zh, e_z2h = _expectations(centres, scales, (q, p), integrand, rtol)
            g_w, g_m, g_l = (np.zeros(k) for _ in range(3))
            g_w[alive_q], g_m[alive_q], g_l[alive_q] = e_h, e_zh / scales, e_z2h
        else:
            # ∂/∂θ ∫ p log(p/q) = -∫ p (∂q/∂θ) / q: per p component, for every q
            # component c, E[N_c/q], E[(N_c/q) u_c] / s_c, E[(N_c/q)(u_c² - 1)].
            alive_p = np.flatnonzero(p.weights > 0)
            centres, scales = p.means[alive_p], p.stds[alive_p]

            def integrand(job: NDArray[np.intp], z: FloatArray) -> FloatArray:
                log_n, u = _log_components(q, centres, scales, job, z)
                ratio = np.exp(log_n - _log_sum(log_n, q.weights))  # N_c / q
                return np.concatenate([ratio, ratio * u, ratio * (u * u - 1.0)])

            per_job = _expectations(centres, scales, (p, q), integrand, rtol)
            g = -(per_job @ p.weights[alive_p]).reshape(3, k)
            g_w, g_m, g_l = g[0], g[1] / q.stds, g[2]
        w = q.weights
        # ∂D/∂a_c = w_c (∂D/∂w_c - Σ w ∂D/∂w); ∂D/∂m_c = w_c g_m; ∂D/∂l_c = w_c g_l
        return np.concatenate([w * (g_w - np.dot(w, g_w)), w * g_m, w * g_l])
