"""Fits of one Gaussian q to a plane mixture p: closed-form optima and exact gradients."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from kldemo.core.plane.gaussians import FloatArray, PlaneMixture
from kldemo.core.plane.gaussians import cholesky_factors as _cholesky
from kldemo.core.plane.gaussians import solve_lower as _solve_lower
from kldemo.core.plane.quadrature import ANGLE_OFFSET as _ANGLE_OFFSET
from kldemo.core.plane.quadrature import BASE_ANGLES as _BASE_ANGLES
from kldemo.core.plane.quadrature import BASE_RADII as _BASE_U
from kldemo.core.plane.quadrature import POLAR_NODES as _NODES
from kldemo.core.quadrature import KRONROD as _KRONROD

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


def _gaussian_expectation(
    mean: FloatArray,
    chol: tuple[FloatArray, ...],
    function: Callable[[FloatArray, FloatArray], FloatArray],
    rtol: float = 1e-13,
) -> FloatArray:
    """E[function(x, z)] for z ~ N(0, I), x = mean + L z, per state (mean (S, 2)).

    function maps points x (S, n, 2) and z (n, 2) to values (S, n, V).  In polar
    form (u = |z|^2/2, θ), Kronrod panels in u times the trapezoid rule in θ,
    both refined (panels bisected, angles doubled) until two levels agree to
    rtol of E|function| (a gradient is ~0 at an optimum, so not of the value).
    """
    previous = None
    panels, angles = _BASE_U, _BASE_ANGLES
    for _ in range(6):  # at most 1344 * 4^5 points per state
        lo, hi = panels[:-1], panels[1:]
        half = 0.5 * (hi - lo)
        u = (0.5 * (hi + lo))[:, None] + half[:, None] * _NODES  # (P, 21)
        weight = (np.exp(-u) * half[:, None] * _KRONROD).ravel() / angles
        theta = _ANGLE_OFFSET + np.arange(angles) * (2 * np.pi / angles)
        r = np.sqrt(2.0 * u.ravel())[:, None]
        z = np.stack([r * np.cos(theta), r * np.sin(theta)], axis=-1).reshape(-1, 2)
        l11, l21, l22 = (c[:, None] for c in chol)
        x = np.stack(
            [mean[:, None, 0] + l11 * z[:, 0], mean[:, None, 1] + l21 * z[:, 0] + l22 * z[:, 1]],
            axis=-1,
        )
        values = function(x, z)
        weights = np.repeat(weight, angles)
        value = np.einsum("snv,n->sv", values, weights)
        scale = np.einsum("snv,n->s", np.abs(values), weights)[:, None]
        if previous is not None and np.all(np.abs(value - previous) <= rtol * scale):
            return value
        previous = value
        panels = np.sort(np.concatenate([panels, 0.5 * (panels[:-1] + panels[1:])]))
        angles *= 2
    return value


def _grad_log_density(x: FloatArray, m: PlaneMixture) -> FloatArray:
    """∇ log p at points x (S, n, 2) for p of states (S,): Σ_c r_c(x) (-S_c^-1 (x - m_c))."""
    chol = tuple(c[:, None, :] for c in _cholesky(m.covs))  # (S, 1, K)
    d = x[:, :, None, :] - m.means[:, None, :, :]  # (S, n, K, 2)
    y = _solve_lower(chol, d)
    l11, l21, l22 = chol
    # S^-1 d = L^-T y
    v2 = y[..., 1] / l22
    v1 = (y[..., 0] - l21 * v2) / l11
    log_c = -0.5 * (y * y).sum(-1) - np.log(l11 * l22)
    with np.errstate(divide="ignore"):  # zero weights: -inf, no responsibility
        log_c = log_c + np.log(m.weights[:, None, :])
    resp = np.exp(log_c - logsumexp(log_c, axis=-1, keepdims=True))
    return -np.stack([(resp * v1).sum(-1), (resp * v2).sum(-1)], axis=-1)


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

    e = _gaussian_expectation(mean, chol, terms)
    grad_chol = np.zeros((mean.shape[0], 2, 2))
    grad_chol[:, 0, 0] = -1.0 / chol[0] - e[:, 2]
    grad_chol[:, 1, 0] = -e[:, 3]
    grad_chol[:, 1, 1] = -1.0 / chol[2] - e[:, 4]
    return GaussianGradient(-e[:, :2].reshape((*shape, 2)), grad_chol.reshape((*shape, 2, 2)))


# What the fits' objective (kldemo.core.plane.objective) shares.
family_name, mixture_moments = _family, _moments
