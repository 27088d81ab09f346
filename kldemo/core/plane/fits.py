"""Fits of one Gaussian q to a plane mixture p: closed-form optima and exact gradients."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from kldemo.core.plane.gaussians import FloatArray, PlaneMixture, _cholesky, _solve_lower
from kldemo.core.plane.quadrature import _ANGLE_OFFSET, _BASE_ANGLES, _BASE_U, _KRONROD, _NODES

FAMILIES = ("full", "diagonal")


def _family(family: str) -> str:
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {', '.join(FAMILIES)}, got {family!r}")
    return family


def _moments(p: PlaneMixture) -> tuple[FloatArray, FloatArray]:
    """Mean (..., 2) and covariance (..., 2, 2) of the mixture p, the spread of the
    means taken about the overall mean (no cancellation of large second moments)."""
    w = p.weights
    mean = np.einsum("...k,...kd->...d", w, p.means)
    d = p.means - mean[..., None, :]
    cov = np.einsum("...k,...kij->...ij", w, p.covs + d[..., :, None] * d[..., None, :])
    return mean, cov


@dataclass(frozen=True)
class GaussianGradient:
    """Gradient with respect to q's mean (..., 2) and to the lower triangle of its
    Cholesky factor L (..., 2, 2), upper entry 0 (with q's covariance L L^T)."""

    mean: FloatArray
    chol: FloatArray


def _as_gaussian(q: PlaneMixture, name: str = "q") -> tuple[FloatArray, FloatArray]:
    if q.n_components != 1:
        raise ValueError(f"{name} must be a single Gaussian (one component), got {q.n_components}")
    return q.means[..., 0, :], q.covs[..., 0, :, :]


def moment_match(p: PlaneMixture, family: str = "full") -> PlaneMixture:
    r"""The single Gaussian minimising :math:`KL(p\|q)`: p's mean and covariance.

    Over all Gaussians the forward KL is minimised by matching the first two
    moments; over diagonal ones, by the mean and the marginal variances (the
    cross term of the covariance does not enter their KL).

    Examples
    --------
    >>> p = PlaneMixture([0.5, 0.5], [[-1, 0], [1, 0]], [np.eye(2), np.eye(2)])
    >>> moment_match(p).covs[0].tolist()            # 1 + the means' spread
    [[2.0, 0.0], [0.0, 1.0]]
    """
    mean, cov = _moments(p)
    if _family(family) == "diagonal":
        cov = cov * np.eye(2)
    return PlaneMixture.gaussian(mean, cov)


def reverse_gaussian_optimum_for_gaussian(p: PlaneMixture, family: str = "full") -> PlaneMixture:
    r"""The Gaussian q minimising :math:`KL(q\|p)` for a Gaussian p of precision Λ.

    Full family: q = p.  Diagonal family: p's mean and variances :math:`1/Λ_{ii}`,
    the conditional variances, smaller than the marginal ones (the compact fit).

    Examples
    --------
    >>> p = PlaneMixture.gaussian([0, 0], [[1.0, 0.9], [0.9, 1.0]])
    >>> np.round(np.diag(reverse_gaussian_optimum_for_gaussian(p, "diagonal").covs[0]), 12)
    array([0.19, 0.19])
    """
    mean, cov = _as_gaussian(p, "p")
    if _family(family) == "diagonal":
        a, b, c = cov[..., 0, 0], cov[..., 0, 1], cov[..., 1, 1]
        diagonal = np.zeros(cov.shape)
        diagonal[..., 0, 0] = a - b * b / c  # 1 / Λ_11
        diagonal[..., 1, 1] = c - b * b / a
        cov = diagonal
    return PlaneMixture.gaussian(mean, cov)


def _lower(chol: tuple[FloatArray, ...]) -> FloatArray:
    l11, l21, l22 = chol
    out = np.zeros((*l11.shape, 2, 2))
    out[..., 0, 0], out[..., 1, 0], out[..., 1, 1] = l11, l21, l22
    return out


def forward_kl_gradient(p: PlaneMixture, q: PlaneMixture) -> GaussianGradient:
    r"""Exact gradient of :math:`KL(p\|q)` for a single Gaussian q = N(m, L L^T).

    With p's mean :math:`\bar m` and covariance C, and :math:`M = C + (\bar m - m)(\bar m - m)^T`,
    :math:`KL = \log\det L + \frac12\mathrm{tr}(Σ^{-1} M) + \mathrm{const}`, so
    :math:`∂/∂m = -Σ^{-1}(\bar m - m)` and :math:`∂/∂L = L^{-T} - Σ^{-1} M L^{-T}`
    (lower triangle).

    Examples
    --------
    >>> p = PlaneMixture([0.5, 0.5], [[-1, 0], [1, 0]], [np.eye(2), np.eye(2)])
    >>> g = forward_kl_gradient(p, moment_match(p))     # zero at the optimum
    >>> bool(np.allclose(g.mean, 0) and np.allclose(g.chol, 0))
    True
    """
    mean, cov = _moments(p)
    q_mean, q_cov = _as_gaussian(q)
    chol = _cholesky(q_cov)
    lower = _lower(chol)
    inverse_t = np.linalg.inv(lower).swapaxes(-1, -2)  # L^-T
    precision = inverse_t @ inverse_t.swapaxes(-1, -2)  # Σ^-1
    d = mean - q_mean
    second = cov + d[..., :, None] * d[..., None, :]
    grad_mean = -np.einsum("...ij,...j->...i", precision, d)
    grad_chol = np.tril(inverse_t - precision @ second @ inverse_t)
    return GaussianGradient(grad_mean, grad_chol)


_CHUNK = 65_536  # points per evaluation of the integrand (its temporaries stay small)


def _gaussian_expectation(
    mean: FloatArray,
    chol: tuple[FloatArray, ...],
    function: Callable[[FloatArray, FloatArray], FloatArray],
    rtol: float = 1e-13,
) -> tuple[FloatArray, FloatArray]:
    """E[function(x, z)] for z ~ N(0, I), x = mean + L z, per state (mean (S, 2)), and
    E|function| (both (S, V)).

    function maps points x (S, n, 2) and z (n, 2) to values (S, n, V).  In polar
    form (u = |z|^2/2, θ), Kronrod panels in u times the trapezoid rule in θ,
    both refined (panels bisected, angles doubled) until two levels agree to
    rtol of E|function| summed over the values (a gradient is ~0 at an optimum, so
    not of the value itself).
    """
    previous = None
    panels, angles = _BASE_U, _BASE_ANGLES
    l11, l21, l22 = (c[:, None] for c in chol)
    for _ in range(6):  # at most 1344 * 4^5 points per state
        lo, hi = panels[:-1], panels[1:]
        half = 0.5 * (hi - lo)
        u = (0.5 * (hi + lo))[:, None] + half[:, None] * _NODES  # (P, 21)
        weight = (np.exp(-u) * half[:, None] * _KRONROD).ravel() / angles
        theta = _ANGLE_OFFSET + np.arange(angles) * (2 * np.pi / angles)
        r = np.sqrt(2.0 * u.ravel())[:, None]
        z_all = np.stack([r * np.cos(theta), r * np.sin(theta)], axis=-1).reshape(-1, 2)
        weights_all = np.repeat(weight, angles)
        value = magnitude = 0.0
        step = max(1, _CHUNK // mean.shape[0])
        for begin in range(0, z_all.shape[0], step):
            z, weights = z_all[begin : begin + step], weights_all[begin : begin + step]
            x = np.stack(
                [
                    mean[:, None, 0] + l11 * z[:, 0],
                    mean[:, None, 1] + l21 * z[:, 0] + l22 * z[:, 1],
                ],
                axis=-1,
            )
            values = function(x, z)
            value = value + np.einsum("snv,n->sv", values, weights)
            magnitude = magnitude + np.einsum("snv,n->sv", np.abs(values), weights)
        scale = magnitude.sum(-1, keepdims=True)
        if previous is not None and np.all(np.abs(value - previous) <= rtol * scale):
            break
        previous = value
        panels = np.sort(np.concatenate([panels, 0.5 * (panels[:-1] + panels[1:])]))
        angles *= 2
    return value, magnitude


def _log_density_terms(
    x: FloatArray, m: PlaneMixture, hessian: bool = False
) -> tuple[FloatArray, FloatArray, FloatArray | None]:
    r"""log p, ∇ log p and (with ``hessian``) the entries 11, 12, 22 of ∇² log p at
    points x (S, n, 2), for p of states (S,).

    With responsibilities :math:`r_c(x)` and :math:`v_c = S_c^{-1}(x - m_c)`:
    :math:`∇\log p = -\bar v`, :math:`\bar v = Σ_c r_c v_c`, and
    :math:`∇^2\log p = Σ_c r_c [(v_c - \bar v)(v_c - \bar v)^T - S_c^{-1}]`, the spread of
    the v_c taken about their mean (no cancellation).  Shapes (S, n), (S, n, 2), (S, n, 3).
    """
    l11, l21, l22 = (c[:, None, :] for c in _cholesky(m.covs))  # (S, 1, K)
    d = x[:, :, None, :] - m.means[:, None, :, :]  # (S, n, K, 2)
    y = _solve_lower((l11, l21, l22), d)
    # S^-1 d = L^-T y
    v2 = y[..., 1] / l22
    v1 = (y[..., 0] - l21 * v2) / l11
    log_c = -0.5 * (y * y).sum(-1) - np.log(l11 * l22)
    with np.errstate(divide="ignore"):  # zero weights: -inf, no responsibility
        log_c = log_c + np.log(m.weights[:, None, :])
    total = logsumexp(log_c, axis=-1, keepdims=True)
    resp = np.exp(log_c - total)
    mean1, mean2 = (resp * v1).sum(-1), (resp * v2).sum(-1)
    log_p = total[..., 0] - np.log(2.0 * np.pi)
    grad = -np.stack([mean1, mean2], axis=-1)
    if not hessian:
        return log_p, grad, None
    # S^-1 = L^-T L^-1 with L^-1 = [[i11, 0], [i21, i22]]
    i11, i22 = 1.0 / l11, 1.0 / l22
    i21 = -l21 * i11 * i22
    e1, e2 = v1 - mean1[..., None], v2 - mean2[..., None]
    hess = np.stack(
        [
            (resp * (e1 * e1 - (i11 * i11 + i21 * i21))).sum(-1),
            (resp * (e1 * e2 - i21 * i22)).sum(-1),
            (resp * (e2 * e2 - i22 * i22)).sum(-1),
        ],
        axis=-1,
    )
    return log_p, grad, hess


def _grad_log_density(x: FloatArray, m: PlaneMixture) -> FloatArray:
    """∇ log p at points x (S, n, 2) for p of states (S,): Σ_c r_c(x) (-S_c^-1 (x - m_c))."""
    return _log_density_terms(x, m)[1]


def reverse_kl_gradient(p: PlaneMixture, q: PlaneMixture) -> GaussianGradient:
    r"""Exact gradient of :math:`KL(q\|p)` for a single Gaussian q = N(m, L L^T).

    With x = m + L z, z ~ N(0, I), :math:`KL = -\log\det L - E[\log p(x)] + \mathrm{const}`:
    :math:`∂/∂m = -E[∇\log p(x)]`, :math:`∂/∂L = -\mathrm{diag}(1/L_{ii}) - E[∇\log p(x)\,z^T]`
    (lower triangle); the expectations by quadrature in q's whitened polar coordinates.

    Examples
    --------
    >>> p = PlaneMixture.gaussian([1, 2], [[2.0, 0.3], [0.3, 1.0]])
    >>> g = reverse_kl_gradient(p, p)                  # zero at q = p
    >>> bool(np.allclose(g.mean, 0, atol=1e-12) and np.allclose(g.chol, 0, atol=1e-12))
    True
    """
    q_mean, q_cov = _as_gaussian(q)
    shape = np.broadcast_shapes(p.shape, q.shape)
    k = p.n_components
    flat_p = PlaneMixture(
        np.broadcast_to(p.weights, (*shape, k)).reshape(-1, k),
        np.broadcast_to(p.means, (*shape, k, 2)).reshape(-1, k, 2),
        np.broadcast_to(p.covs, (*shape, k, 2, 2)).reshape(-1, k, 2, 2),
    )
    mean = np.broadcast_to(q_mean, (*shape, 2)).reshape(-1, 2)
    chol = _cholesky(np.broadcast_to(q_cov, (*shape, 2, 2)).reshape(-1, 2, 2))

    def terms(x: FloatArray, z: FloatArray) -> FloatArray:
        g = _grad_log_density(x, flat_p)  # (S, n, 2)
        return np.concatenate(
            [g, g[..., 0:1] * z[:, 0:1], g[..., 1:2] * z[:, 0:1], g[..., 1:2] * z[:, 1:2]], axis=-1
        )

    e, _ = _gaussian_expectation(mean, chol, terms)
    grad_chol = np.zeros((mean.shape[0], 2, 2))
    grad_chol[:, 0, 0] = -1.0 / chol[0] - e[:, 2]
    grad_chol[:, 1, 0] = -e[:, 3]
    grad_chol[:, 1, 1] = -1.0 / chol[2] - e[:, 4]
    return GaussianGradient(-e[:, :2].reshape((*shape, 2)), grad_chol.reshape((*shape, 2, 2)))


# --------------------------------------------------------------------------
# The objective of a fit, in the coordinates of its path
# --------------------------------------------------------------------------

DIRECTIONS = ("forward", "reverse")
FLOW_RTOL = 1e-10  # quadrature tolerance while following the flow
POLISH_RTOL = 1e-13  # ... and while polishing the optimum
_LOG_2PI = float(np.log(2.0 * np.pi))
# theta = (m1, m2, a, c, b): q's mean, and its Cholesky factor L = [[e^a, 0], [c, e^b]]
_MEANS, _COVS, _OFF_DIAGONAL = [0, 1], [2, 3, 4], 3


def cholesky_coordinates(mean: FloatArray, cov: FloatArray) -> FloatArray:
    r"""``θ = (m_1, m_2, \log L_{11}, L_{21}, \log L_{22})`` (..., 5) of Gaussians with means
    (..., 2) and covariances (..., 2, 2) = L L^T: every θ is a positive definite covariance,
    and a diagonal one has :math:`L_{21} = 0` exactly.

    Examples
    --------
    >>> cholesky_coordinates(np.zeros(2), np.diag([np.e**2, 1.0])).tolist()
    [0.0, 0.0, 1.0, 0.0, 0.0]
    """
    l11, l21, l22 = _cholesky(np.asarray(cov, dtype=float))
    return np.concatenate(
        [np.asarray(mean, dtype=float), np.stack([np.log(l11), l21, np.log(l22)], axis=-1)],
        axis=-1,
    )


def gaussian_of(theta: FloatArray) -> tuple[FloatArray, FloatArray]:
    r"""The mean (..., 2) and covariance :math:`L L^T` (..., 2, 2) at coordinates θ (..., 5)
    (:func:`cholesky_coordinates`); the off-diagonal entry is :math:`e^a L_{21}`, exactly 0
    where :math:`L_{21}` is."""
    theta = np.asarray(theta, dtype=float)
    l11, l21, l22 = np.exp(theta[..., 2]), theta[..., 3], np.exp(theta[..., 4])
    cov = np.empty((*theta.shape[:-1], 2, 2))
    cov[..., 0, 0] = l11 * l11
    cov[..., 0, 1] = cov[..., 1, 0] = l11 * l21
    cov[..., 1, 1] = l21 * l21 + l22 * l22
    return theta[..., :2].copy(), cov


def fisher_metric(theta: FloatArray) -> FloatArray:
    r"""The Fisher information of a Gaussian in coordinates θ (..., 5), (..., 5, 5):

    .. math:: ds^2 = dm^T Σ^{-1} dm + 2\,da^2 + 2\,db^2 + e^{-2b}(dc - c\,da)^2,

    :math:`\frac12\mathrm{tr}(Σ^{-1}dΣ)^2` written through :math:`A = L^{-1}dL`
    (:math:`2A_{11}^2 + 2A_{22}^2 + A_{21}^2`). As in 1-D (``dm²/s² + 2 dl²``), moving the
    mean by one standard deviation costs one unit, and so does scaling a std by e^(1/√2).
    """
    theta = np.asarray(theta, dtype=float)
    a, c, b = theta[..., 2], theta[..., 3], theta[..., 4]
    inv_a, inv_b = np.exp(-a), np.exp(-b)
    # Σ^-1 = L^-T L^-1, L^-1 = [[e^-a, 0], [-c e^-a e^-b, e^-b]]
    i21 = -c * inv_a * inv_b
    g = np.zeros((*theta.shape[:-1], 5, 5))
    g[..., 0, 0] = inv_a * inv_a + i21 * i21
    g[..., 0, 1] = g[..., 1, 0] = i21 * inv_b
    g[..., 1, 1] = inv_b * inv_b
    g[..., 2, 2] = 2.0 + c * c * inv_b * inv_b
    g[..., 2, 3] = g[..., 3, 2] = -c * inv_b * inv_b
    g[..., 3, 3] = inv_b * inv_b
    g[..., 4, 4] = 2.0
    return g


@dataclass(frozen=True)
class Evaluation:
    """The objective at one θ: its value (KL up to a constant fixed by p), gradient (5,),
    Hessian (5, 5) when asked for, and how far rounding and quadrature may move the value."""

    value: float
    gradient: FloatArray
    hessian: FloatArray | None
    rounding: float


class PlaneObjective:
    r"""``D(θ)``: :math:`KL(p\|q)` (``forward``) or :math:`KL(q\|p)` (``reverse``) for a
    fixed plane mixture p and one Gaussian q at coordinates θ (:func:`cholesky_coordinates`).

    Forward: :math:`D = \log 2π + a + b + \frac12\mathrm{tr}(Σ^{-1}M)`, the cross-entropy
    (KL plus p's entropy), with :math:`M = C + (\bar m - m)(\bar m - m)^T` from p's mean
    :math:`\bar m` and covariance C; gradient in closed form (:func:`forward_kl_gradient`),
    Hessian by central differences of it.  Reverse, with x = m + L z, z ~ N(0, I):
    :math:`D = -\log 2π - 1 - a - b - E[\log p(x)]` (the KL itself), and with
    :math:`J = ∂x/∂θ`, :math:`g = ∇\log p`, :math:`H = ∇^2\log p`:
    :math:`∇D = -E[J^T g] - (0, 0, 1, 0, 1)`,
    :math:`∇^2 D = -E[J^T H J] - \mathrm{diag}(0, 0, E[g_1 e^a z_1], 0, E[g_2 e^b z_2])`,
    all from one quadrature in q's whitened polar coordinates.

    ``free`` marks the coordinates that move: the means, the covariance's three (two for
    the ``diagonal`` family, whose :math:`L_{21}` stays 0).
    """

    def __init__(self, p: PlaneMixture, direction: str, family: str, optimize: set[str]):
        if direction not in DIRECTIONS:
            raise ValueError(f"direction must be forward or reverse, got {direction!r}")
        self.direction, self.family = direction, _family(family)
        weights = np.asarray(p.weights, dtype=float).reshape(1, -1)
        # Weights that sum to 1 only within the config's tolerance would shift the
        # moments by that much: the fit sees them normalised, as in 1-D.
        self.p = PlaneMixture(
            weights / math.fsum(weights[0]), p.means.reshape(1, -1, 2), p.covs.reshape(1, -1, 2, 2)
        )
        mean, cov = _moments(self.p)
        self.p_mean, self.p_cov = mean[0], cov[0]
        free = np.zeros(5, dtype=bool)
        free[_MEANS] = "means" in optimize
        free[_COVS] = "covs" in optimize
        if self.family == "diagonal":
            free[_OFF_DIAGONAL] = False
        self.free = free

    # -- the metric ---------------------------------------------------------------------

    def inner(self, theta: FloatArray, a: FloatArray, b: FloatArray) -> float:
        """``aᵀ G(θ) b``."""
        return float(a @ fisher_metric(theta) @ b)

    def norm(self, theta: FloatArray, d: FloatArray) -> float:
        return math.sqrt(max(self.inner(theta, d, d), 0.0))

    def basis(self, theta: FloatArray) -> FloatArray:
        """(5, free) columns spanning the free coordinates, orthonormal in G(θ)."""
        g = fisher_metric(theta)[np.ix_(self.free, self.free)]
        out = np.zeros((5, int(self.free.sum())))
        if out.shape[1]:
            out[self.free] = np.linalg.inv(np.linalg.cholesky(g)).T
        return out

    def velocity(self, theta: FloatArray, gradient: FloatArray) -> FloatArray:
        """The natural gradient flow's ``-G⁻¹ ∇D`` in the free coordinates (0 elsewhere)."""
        b = self.basis(theta)
        return -b @ (b.T @ gradient)

    # -- values -------------------------------------------------------------------------

    def evaluate(self, theta: FloatArray, rtol: float, hessian: bool = False) -> Evaluation:
        """D, ∇D and (with ``hessian``) ∇²D at θ; rtol is the reverse quadrature's."""
        if self.direction == "forward":
            value, gradient = self._forward(theta)
            hess = None
            if hessian:
                step = 1e-5
                columns = [
                    (self._forward(theta + step * e)[1] - self._forward(theta - step * e)[1])
                    / (2 * step)
                    for e in np.eye(5)
                ]
                hess = np.array(columns)
                hess = 0.5 * (hess + hess.T)
            return Evaluation(value, gradient, hess, 1e-15 * max(1.0, abs(value)))
        return self._reverse(theta, rtol, hessian)

    def forward_optimum(self, mean: FloatArray, cov: FloatArray) -> tuple[FloatArray, FloatArray]:
        """The forward optimum in closed form, from q's (mean, cov) for the frozen parts:
        mean p's mean; covariance :math:`C + (\\bar m - m)(\\bar m - m)^T` about q's mean m
        (p's covariance once the mean is free), its diagonal for the diagonal family."""
        if self.free[0]:
            mean = self.p_mean.copy()
        if self.free[2]:
            d = self.p_mean - mean
            cov = self.p_cov + d[:, None] * d[None, :]
            if self.family == "diagonal":
                cov = cov * np.eye(2)
        return mean, cov

    def _forward(self, theta: FloatArray) -> tuple[float, FloatArray]:
        mean = theta[:2]
        l11, l21, l22 = math.exp(theta[2]), theta[3], math.exp(theta[4])
        inverse = np.array([[1.0 / l11, 0.0], [-l21 / (l11 * l22), 1.0 / l22]])  # L^-1
        precision = inverse.T @ inverse
        d = self.p_mean - mean
        second = self.p_cov + d[:, None] * d[None, :]
        value = _LOG_2PI + theta[2] + theta[4] + 0.5 * float(np.sum(precision * second))
        grad_chol = inverse.T - precision @ second @ inverse.T  # ∂/∂L, lower entries used
        gradient = np.array(
            [*(-precision @ d), grad_chol[0, 0] * l11, grad_chol[1, 0], grad_chol[1, 1] * l22]
        )
        return value, gradient

    def _reverse(self, theta: FloatArray, rtol: float, hessian: bool) -> Evaluation:
        alpha, beta = math.exp(theta[2]), math.exp(theta[4])
        chol = (np.array([alpha]), np.array([theta[3]]), np.array([beta]))

        def terms(x: FloatArray, z: FloatArray) -> FloatArray:
            log_p, g, h = _log_density_terms(x, self.p, hessian)
            z1, z2 = z[:, 0], z[:, 1]
            g1, g2 = g[..., 0], g[..., 1]
            columns = [log_p, g1, g2, z1 * g1, z1 * g2, z2 * g2]
            if h is not None:
                h11, h12, h22 = h[..., 0], h[..., 1], h[..., 2]
                z11, z12, z22 = z1 * z1, z1 * z2, z2 * z2
                columns += [h11, h12, h22, z1 * h11, z1 * h12, z2 * h12, z1 * h22, z2 * h22]
                columns += [z11 * h11, z11 * h12, z12 * h12, z11 * h22, z12 * h22, z22 * h22]
            return np.stack(columns, axis=-1)

        e, magnitude = _gaussian_expectation(theta[None, :2], chol, terms, rtol)
        e = e[0]
        value = -_LOG_2PI - 1.0 - theta[2] - theta[4] - e[0]
        gradient = -np.array([e[1], e[2], alpha * e[3] + 1.0, e[4], beta * e[5] + 1.0])
        hess = None
        if hessian:
            h = e[6:]
            jhj = np.array(
                [
                    [h[0], h[1], alpha * h[3], h[4], beta * h[5]],
                    [h[1], h[2], alpha * h[4], h[6], beta * h[7]],
                    [
                        alpha * h[3],
                        alpha * h[4],
                        alpha**2 * h[8],
                        alpha * h[9],
                        alpha * beta * h[10],
                    ],
                    [h[4], h[6], alpha * h[9], h[11], beta * h[12]],
                    [beta * h[5], beta * h[7], alpha * beta * h[10], beta * h[12], beta**2 * h[13]],
                ]
            )
            hess = -jhj - np.diag([0.0, 0.0, alpha * e[3], 0.0, beta * e[5]])
        rounding = rtol * float(magnitude.sum()) + 1e-15 * max(1.0, abs(value))
        return Evaluation(float(value), gradient, hess, rounding)
