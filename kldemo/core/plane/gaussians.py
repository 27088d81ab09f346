"""Plane mixtures: the array type, their densities, and the closed forms for two Gaussians."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import logsumexp

from kldemo.core.mixture import normalised

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

PARAMS = ("weights", "means", "covs")


@dataclass(frozen=True)
class PlaneMixture:
    r"""A Gaussian mixture in the plane, :math:`\sum_k w_k N(x; m_k, S_k)`.

    Parameters
    ----------
    weights : array_like, shape (..., K)
        Weights >= 0 summing to one (not renormalised); a zero drops its component.
    means : array_like, shape (..., K, 2)
        Component means.
    covs : array_like, shape (..., K, 2, 2)
        Symmetric positive definite covariances.

    The three are converted to float arrays and broadcast to one state shape.

    Examples
    --------
    >>> m = PlaneMixture([0.5, 0.5], [[0, 0], [3, 0]], [np.eye(2), np.eye(2)])
    >>> m.shape, m.n_components
    ((), 2)
    """

    weights: FloatArray
    means: FloatArray
    covs: FloatArray

    def __post_init__(self) -> None:
        weights = np.asarray(self.weights, dtype=float)
        means = np.asarray(self.means, dtype=float)
        covs = np.asarray(self.covs, dtype=float)
        if weights.ndim == 0 or weights.shape[-1] == 0:
            raise ValueError(f"weights must have shape (..., K) with K >= 1, got {weights.shape}")
        if means.ndim < 2 or means.shape[-1] != 2:
            raise ValueError(f"means must have shape (..., K, 2), got {means.shape}")
        if covs.ndim < 3 or covs.shape[-2:] != (2, 2):
            raise ValueError(f"covs must have shape (..., K, 2, 2), got {covs.shape}")
        k = {weights.shape[-1], means.shape[-2], covs.shape[-3]}
        if len(k) > 1:
            raise ValueError(
                "weights, means and covs must have the same number of components, "
                f"got shapes {weights.shape}, {means.shape}, {covs.shape}"
            )
        try:
            state = np.broadcast_shapes(weights.shape[:-1], means.shape[:-2], covs.shape[:-3])
        except ValueError:
            raise ValueError(
                f"the state axes of weights {weights.shape}, means {means.shape} "
                f"and covs {covs.shape} do not broadcast"
            ) from None
        n = weights.shape[-1]
        if np.any(weights < 0) or not np.all(np.isfinite(weights)):
            raise ValueError("weights must be finite and >= 0")
        a, b, c = covs[..., 0, 0], covs[..., 0, 1], covs[..., 1, 1]
        if not np.all(np.isfinite(covs)) or np.any(covs[..., 0, 1] != covs[..., 1, 0]):
            raise ValueError("covs must be finite and symmetric")
        if np.any(a <= 0) or np.any(a * c - b * b <= 0):
            raise ValueError("covs must be positive definite")
        # Arrays already of the state's shape are kept as they are (writable); the others
        # are broadcast (read-only views).
        for name, value, shape in (
            ("weights", weights, (*state, n)),
            ("means", means, (*state, n, 2)),
            ("covs", covs, (*state, n, 2, 2)),
        ):
            object.__setattr__(
                self, name, value if value.shape == shape else np.broadcast_to(value, shape)
            )

    @property
    def shape(self) -> tuple[int, ...]:
        """The state shape (the leading axes)."""
        return self.weights.shape[:-1]

    @property
    def n_components(self) -> int:
        return self.weights.shape[-1]

    @property
    def components(self) -> int:
        """The number of components (the name :class:`~kldemo.core.mixture.Mixture` uses)."""
        return self.weights.shape[-1]

    def __iter__(self) -> Iterator[FloatArray]:
        return iter((self.weights, self.means, self.covs))

    @classmethod
    def of(cls, params: Mapping[str, Any]) -> PlaneMixture:
        """The arrays of a config's plane mixture (``weights``, ``means`` as pairs, ``covs``
        as 2x2 matrices); weights normalised as in 1-D (:func:`kldemo.core.mixture.normalised`),
        uniform when left out."""
        k = len(params["means"])
        weights = normalised(list(params.get("weights") or [1.0] * k))
        return cls(np.asarray(weights, dtype=float), params["means"], params["covs"])

    def as_dict(self) -> dict[str, list]:
        """Nested lists: ``weights``, ``means`` as pairs, ``covs`` as full 2x2 matrices."""
        return {name: np.asarray(v).tolist() for name, v in zip(PARAMS, self, strict=True)}

    def changed(self, params: Mapping[str, Any]) -> PlaneMixture:
        """This mixture with the named parameters replaced (weights normalised)."""
        if "weights" in params:
            params = {**params, "weights": normalised(list(params["weights"]))}
        return PlaneMixture(
            *(
                np.asarray(params[name], dtype=float) if name in params else v
                for name, v in zip(PARAMS, self, strict=True)
            )
        )

    def blend(self, other: PlaneMixture, e: ArrayLike) -> PlaneMixture:
        """``(1 - e) * self + e * other``, with e broadcast over the leading (state) axes.

        A blend of positive definite covariances with e in [0, 1] is positive definite;
        an overshooting easing is checked by the timeline before it is used."""
        e = np.asarray(e, dtype=float)
        return PlaneMixture(
            *(
                (1 - e.reshape(e.shape + (1,) * tail)) * a + e.reshape(e.shape + (1,) * tail) * b
                for a, b, tail in zip(self, other, (1, 2, 3), strict=True)
            )
        )

    def take(self, index: Any) -> PlaneMixture:
        """The states at ``index`` of the leading axis."""
        return PlaneMixture(*(v[index] for v in self))

    @classmethod
    def gaussian(cls, mean: ArrayLike, cov: ArrayLike) -> PlaneMixture:
        """One Gaussian: mean (..., 2), cov (..., 2, 2)."""
        mean, cov = np.asarray(mean, dtype=float), np.asarray(cov, dtype=float)
        return cls(np.ones((*mean.shape[:-1], 1)), mean[..., None, :], cov[..., None, :, :])


# --------------------------------------------------------------------------
# 2x2 linear algebra, vectorised (numpy's linalg loops are slow on tiny matrices)
# --------------------------------------------------------------------------


def _cholesky(covs: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(l11, l21, l22) of the lower Cholesky factors of (..., 2, 2) covariances."""
    a, b, c = covs[..., 0, 0], covs[..., 0, 1], covs[..., 1, 1]
    l11 = np.sqrt(a)
    l21 = b / l11
    l22 = np.sqrt((a * c - b * b) / a)
    return l11, l21, l22


def _whiten(chol: tuple[FloatArray, ...], m: FloatArray) -> FloatArray:
    """L^-1 M L^-T for symmetric M (..., 2, 2), L lower triangular."""
    l11, l21, l22 = chol
    i11, i22 = 1.0 / l11, 1.0 / l22
    i21 = -l21 * i11 * i22
    a, b, c = m[..., 0, 0], m[..., 0, 1], m[..., 1, 1]
    # rows of L^-1 M: (i11 a, i11 b), (i21 a + i22 b, i21 b + i22 c)
    r00, r01 = i11 * a, i11 * b
    r10, r11 = i21 * a + i22 * b, i21 * b + i22 * c
    out = np.empty(m.shape)
    out[..., 0, 0] = r00 * i11
    out[..., 0, 1] = out[..., 1, 0] = r00 * i21 + r01 * i22
    out[..., 1, 1] = r10 * i21 + r11 * i22
    return out


def _solve_lower(chol: tuple[FloatArray, ...], v: FloatArray) -> FloatArray:
    """L^-1 v for v (..., 2)."""
    l11, l21, l22 = chol
    y1 = v[..., 0] / l11
    return np.stack([y1, (v[..., 1] - l21 * y1) / l22], axis=-1)


def _eigenvalues(m: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Eigenvalues (smaller, larger) of symmetric (..., 2, 2), to absolute rounding."""
    mid = 0.5 * (m[..., 0, 0] + m[..., 1, 1])
    radius = np.hypot(0.5 * (m[..., 0, 0] - m[..., 1, 1]), m[..., 0, 1])
    return mid - radius, mid + radius


# --------------------------------------------------------------------------
# Densities
# --------------------------------------------------------------------------


def log_density(points: ArrayLike, m: PlaneMixture) -> FloatArray:
    r"""Log density :math:`\log \sum_k w_k N(x; m_k, S_k)` at points.

    Parameters
    ----------
    points : array_like, shape (..., N, 2)
        Points on the second-last axis; leading axes broadcast against the states.
    m : PlaneMixture

    Returns
    -------
    ndarray, shape (..., N)
        ``log p(x)`` from ``logsumexp``, so it never underflows.

    Examples
    --------
    >>> g = PlaneMixture.gaussian([0.0, 0.0], np.eye(2))
    >>> x = np.array([[0.0, 0.0], [1.0, 2.0]])
    >>> bool(np.allclose(log_density(x, g), -0.5 * (x**2).sum(-1) - np.log(2 * np.pi)))
    True
    """
    x = np.asarray(points, dtype=float)
    if x.ndim < 2 or x.shape[-1] != 2:
        raise ValueError(f"points must have shape (..., N, 2), got {x.shape}")
    chol = tuple(c[..., None, :] for c in _cholesky(m.covs))  # (..., 1, K)
    d = x[..., :, None, :] - m.means[..., None, :, :]  # (..., N, K, 2)
    y = _solve_lower(chol, d)
    log_norm = np.log(2.0 * np.pi * chol[0] * chol[2])
    log_components = -0.5 * (y * y).sum(-1) - log_norm
    with np.errstate(divide="ignore"):  # zero weights are -inf terms, dropped by logsumexp
        return logsumexp(log_components, axis=-1, b=m.weights[..., None, :])


def density(points: ArrayLike, m: PlaneMixture) -> FloatArray:
    r"""Density :math:`\sum_k w_k N(x; m_k, S_k)`: ``exp(log_density(points, m))``.

    Examples
    --------
    >>> g = PlaneMixture.gaussian([0.0, 0.0], np.eye(2))
    >>> bool(np.isclose(density([[0.0, 0.0]], g)[0], 1 / (2 * np.pi)))
    True
    """
    return np.exp(log_density(points, m))


# --------------------------------------------------------------------------
# Closed forms for two Gaussians
# --------------------------------------------------------------------------


def _h(mu: FloatArray, lam: FloatArray) -> FloatArray:
    """λ - 1 - log λ for λ = 1 + μ, with μ accurate to absolute rounding near 0
    and λ accurate to relative rounding away from 1."""
    out = lam - 1.0 - np.log(lam)
    near = np.abs(mu) < 0.25
    # log1p(μ) = 2 atanh(y), μ = 2y/(1 - y) with y = μ/(2 + μ), so
    # μ - log1p(μ) = 2y^2/(1 - y) - 2y^3 (1/3 + y^2/5 + ...): no cancellation.
    y = mu[near] / (2.0 + mu[near])
    series = np.zeros_like(y)
    for k in range(16, 0, -1):  # |y| < 0.15: 16 terms reach 1e-27
        series = series * y * y + 1.0 / (2 * k + 1)
    out[near] = 2.0 * y * y / (1.0 - y) - 2.0 * y**3 * series
    return out


def _whitened_spectrum(
    mean1: FloatArray, cov1: FloatArray, mean2: FloatArray, cov2: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Eigenvalues λ of S2^-1/2 S1 S2^-T/2 and μ = λ - 1 (each (..., 2)), each
    accurate where it matters, and |L2^-1 (m1 - m2)|^2."""
    chol1, chol2 = _cholesky(cov1), _cholesky(cov2)
    # μ from L2^-1 (S1 - S2) L2^-T, whose entries do not cancel when S1 ≈ S2.
    mu = np.stack(_eigenvalues(_whiten(chol2, cov1 - cov2)), axis=-1)
    _, lam_big = _eigenvalues(_whiten(chol2, cov1))
    # The smaller λ from det = det S1 / det S2, relative to rounding even when tiny.
    det = (chol1[0] * chol1[2] / (chol2[0] * chol2[2])) ** 2
    lam = np.stack([det / lam_big, lam_big], axis=-1)
    d = _solve_lower(chol2, mean1 - mean2)
    return lam, mu, (d * d).sum(-1)


def gaussian_kl(mean1: ArrayLike, cov1: ArrayLike, mean2: ArrayLike, cov2: ArrayLike) -> FloatArray:
    r"""KL divergence of two plane Gaussians,
    :math:`\frac12[\mathrm{tr}(S_2^{-1}S_1) + d^T S_2^{-1} d - 2 + \log\frac{\det S_2}{\det S_1}]`,
    :math:`d = m_1 - m_2`.

    Evaluated as :math:`\frac12\sum_i(\lambda_i - 1 - \log\lambda_i) + \frac12|L_2^{-1}d|^2`
    over the eigenvalues :math:`\lambda_i` of the whitened covariance
    :math:`L_2^{-1} S_1 L_2^{-T}`: non-negative terms, each from a series near
    :math:`\lambda = 1`, so tiny divergences keep their relative precision.

    Parameters
    ----------
    mean1, cov1 : array_like, shapes (..., 2) and (..., 2, 2)
        The first Gaussian, the "p" of KL(p||q).
    mean2, cov2 : array_like
        The second.  All broadcast together.

    Returns
    -------
    ndarray, shape (...)

    Examples
    --------
    >>> float(gaussian_kl([0, 0], np.eye(2), [3, 0], np.eye(2)))     # |d|^2 / 2
    4.5
    >>> s = np.array([[2.0, 0.5], [0.5, 1.0]])
    >>> bool(np.isclose(gaussian_kl([0, 0], s, [0, 0], s), 0.0, atol=1e-300))
    True
    """
    args = [np.asarray(v, dtype=float) for v in (mean1, cov1, mean2, cov2)]
    lam, mu, d2 = _whitened_spectrum(*args)
    return 0.5 * (_h(mu, lam).sum(-1) + d2)


def gaussian_hellinger2(
    mean1: ArrayLike, cov1: ArrayLike, mean2: ArrayLike, cov2: ArrayLike
) -> FloatArray:
    r"""Squared Hellinger distance of two plane Gaussians, :math:`1 - e^{-D_B}`,
    with the Bhattacharyya distance
    :math:`D_B = \frac18 d^T \bar S^{-1} d + \frac12\log\frac{\det\bar S}{\sqrt{\det S_1\det S_2}}`,
    :math:`\bar S = (S_1 + S_2)/2`.

    In the whitened coordinates of :math:`S_2` the log-determinant term is
    :math:`\frac12\sum_i \log(1 + \mu_i^2 / (4(1 + \mu_i)))`, :math:`\mu_i = \lambda_i - 1`,
    a log1p of a square that never cancels; the result is ``-expm1(-D_B)``.

    Examples
    --------
    >>> h2 = float(gaussian_hellinger2([0, 0], np.eye(2), [2, 0], np.eye(2)))
    >>> bool(np.isclose(h2, 1 - np.exp(-0.5)))         # D_B = |d|^2 / 8
    True
    """
    mean1, cov1, mean2, cov2 = (np.asarray(v, dtype=float) for v in (mean1, cov1, mean2, cov2))
    lam, mu, _ = _whitened_spectrum(mean1, cov1, mean2, cov2)
    mu = np.where(np.abs(mu) < 0.25, mu, lam - 1.0)
    log_det = 0.5 * np.log1p(mu * mu / (4.0 * lam)).sum(-1)
    chol = _cholesky(0.5 * (cov1 + cov2))
    d = _solve_lower(chol, mean1 - mean2)
    return -np.expm1(-(0.125 * (d * d).sum(-1) + 0.5 * log_det))


# --------------------------------------------------------------------------


# The 2x2 algebra the fits share (kldemo.core.plane.fits, objective).
cholesky_factors, solve_lower = _cholesky, _solve_lower
