"""The divergence a plane fit descends, as a function of one Gaussian q's coordinates.

:class:`PlaneObjective` is ``D(θ)``, forward or reverse KL between a fixed plane mixture
p and q(θ), with ``θ = (m_1, m_2, log L_11, L_21, log L_22)`` (q's mean and the log-Cholesky
coordinates of its covariance, :func:`cholesky_coordinates`): its value, exact gradient
and Hessian, and the Fisher metric of the natural gradient (:func:`fisher_metric`).

Forward KL is in closed form through p's first two moments. Reverse KL needs
expectations under q of ``log p`` and of ``∇ log p`` times low powers of q's whitened
variable z (the Hessian too, through Stein's identity, without ``∇² log p``, which is sharply
peaked where p switches between components): :func:`gaussian_expectation` integrates them
in q's whitened polar coordinates on the panels :mod:`kldemo.core.plane.quadrature` places
for the divergences (graded towards every component of p narrower than q), refining each
panel where its own error estimate is too large: its angles doubled where the trapezoid
rule's two levels disagree, bisected in ``u = |z|²/2`` where the Gauss and Kronrod values
do. Only the panels that need it are refined, not the whole grid.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from kldemo.core.plane.fits import family_name as _family
from kldemo.core.plane.fits import mixture_moments as _moments
from kldemo.core.plane.gaussians import FloatArray, PlaneMixture
from kldemo.core.plane.gaussians import cholesky_factors as _cholesky
from kldemo.core.plane.quadrature import ANGLE_OFFSET as _ANGLE_OFFSET
from kldemo.core.plane.quadrature import BASE_ANGLES as _BASE_ANGLES
from kldemo.core.plane.quadrature import MAX_ANGLES as _MAX_ANGLES
from kldemo.core.plane.quadrature import POLAR_NODES as _NODES
from kldemo.core.plane.quadrature import POLAR_RULES as _RULES
from kldemo.core.plane.quadrature import component_params as _component_params
from kldemo.core.plane.quadrature import initial_panels as _initial_panels
from kldemo.core.quadrature import error_estimate

__all__ = [
    "DIRECTIONS",
    "FLOW_RTOL",
    "POLISH_RTOL",
    "Evaluation",
    "PlaneObjective",
    "cholesky_coordinates",
    "fisher_metric",
    "gaussian_expectation",
    "gaussian_of",
]

DIRECTIONS = ("forward", "reverse")
FLOW_RTOL = 1e-3  # quadrature tolerance while following the flow (only its geometry shows)
POLISH_RTOL = 1e-13  # ... and while polishing the optimum
HESSIAN_RTOL = 1e-7  # the Hessian only steers Newton's steps: their error shrinks anyway
_LOG_2PI = math.log(2.0 * math.pi)
_KRONROD = _RULES[0]
_POINT_BUDGET = 16_384  # points per evaluation chunk
_MAX_ROUNDS = 40
# To a loose tolerance the first panels near a narrow component of p start with an eighth
# of the angles the divergences give them (still ~1 per std there: the trapezoid rule's
# error on a bump of width s, at spacing h, is ~exp(-2π²s²/h²)); refinement adds the rest.
_COARSE_RTOL, _COARSE_ANGLES = 1e-6, 8
_EPS = np.finfo(float).eps
# theta = (m1, m2, a, c, b): q's mean, and its Cholesky factor L = [[e^a, 0], [c, e^b]]
MEANS, COVS, OFF_DIAGONAL = [0, 1], [2, 3, 4], 3


# -- coordinates and metric ----------------------------------------------------------------


def cholesky_coordinates(mean: FloatArray, cov: FloatArray) -> FloatArray:
    r"""``θ = (m_1, m_2, \log L_{11}, L_{21}, \log L_{22})`` (..., 5) of Gaussians with means
    (..., 2) and covariances :math:`L L^T` (..., 2, 2): every θ is a positive definite
    covariance, and a diagonal one has :math:`L_{21} = 0` exactly.

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
    where :math:`L_{21}` is.

    Examples
    --------
    >>> mean, cov = gaussian_of(np.array([1.0, 2.0, 0.0, 0.5, 0.0]))
    >>> cov.tolist()
    [[1.0, 0.5], [0.5, 1.25]]
    """
    theta = np.asarray(theta, dtype=float)
    l11, l21, l22 = np.exp(theta[..., 2]), theta[..., 3], np.exp(theta[..., 4])
    cov = np.empty((*theta.shape[:-1], 2, 2))
    cov[..., 0, 0] = l11 * l11
    cov[..., 0, 1] = cov[..., 1, 0] = l11 * l21
    cov[..., 1, 1] = l21 * l21 + l22 * l22
    return theta[..., :2].copy(), cov


def fisher_metric(theta: FloatArray) -> FloatArray:
    r"""The Fisher information of a Gaussian in coordinates θ (..., 5), shape (..., 5, 5):

    .. math:: ds^2 = dm^T Σ^{-1} dm + 2\,da^2 + 2\,db^2 + e^{-2b}(dc - c\,da)^2,

    :math:`\frac12\mathrm{tr}(Σ^{-1}dΣ)^2` written through :math:`A = L^{-1}dL`
    (:math:`2A_{11}^2 + 2A_{22}^2 + A_{21}^2`). As in 1-D (``dm²/s² + 2 dl²``), moving the
    mean by one standard deviation costs one unit, and so does scaling a std by e^(1/√2).

    Examples
    --------
    >>> g = fisher_metric(np.array([0.0, 0.0, np.log(2.0), 0.0, 0.0]))
    >>> np.diag(g).tolist()                      # Σ = diag(4, 1)
    [0.25, 1.0, 2.0, 1.0, 2.0]
    """
    theta = np.asarray(theta, dtype=float)
    a, c, b = theta[..., 2], theta[..., 3], theta[..., 4]
    inv_a, inv_b = np.exp(-a), np.exp(-b)
    i21 = -c * inv_a * inv_b  # Σ^-1 = L^-T L^-1, L^-1 = [[e^-a, 0], [i21, e^-b]]
    g = np.zeros((*theta.shape[:-1], 5, 5))
    g[..., 0, 0] = inv_a * inv_a + i21 * i21
    g[..., 0, 1] = g[..., 1, 0] = i21 * inv_b
    g[..., 1, 1] = inv_b * inv_b
    g[..., 2, 2] = 2.0 + c * c * inv_b * inv_b
    g[..., 2, 3] = g[..., 3, 2] = -c * inv_b * inv_b
    g[..., 3, 3] = inv_b * inv_b
    g[..., 4, 4] = 2.0
    return g


# -- expectations under q ------------------------------------------------------------------


class _Rings:
    """Radial panels [lo, hi] in u, each with M angles and, per Kronrod node, the angular
    means of the V outputs at M and at M/2 angles and of their magnitudes."""

    def __init__(self, lo: FloatArray, hi: FloatArray, angles: np.ndarray, outputs: int):
        self.lo, self.hi, self.angles = lo, hi, angles
        self.mean, self.half, self.magnitude = (
            np.zeros((lo.size, _NODES.size, outputs)) for _ in range(3)
        )

    def take(self, keep: np.ndarray, lo: FloatArray, hi: FloatArray, angles: np.ndarray) -> _Rings:
        """The panels ``keep`` (their values kept), then new ones (to evaluate)."""
        rings = _Rings(
            np.concatenate([self.lo[keep], lo]),
            np.concatenate([self.hi[keep], hi]),
            np.concatenate([self.angles[keep], angles]),
            self.mean.shape[-1],
        )
        n = int(keep.sum())
        for name in ("mean", "half", "magnitude"):
            getattr(rings, name)[:n] = getattr(self, name)[keep]
        return rings


def _evaluate(rings: _Rings, index: np.ndarray, new: bool, function: Callable) -> None:
    """Fill the angular means of rings[index]: at all M angles (new=False), or at the M/2
    midpoints that double them (new=True)."""
    angles = rings.angles[index]
    for m in np.unique(angles):
        group = index[angles == m]
        count = int(m) // 2 if new else int(m)
        theta = _ANGLE_OFFSET + (np.arange(count) + (0.5 if new else 0.0)) * (2 * np.pi / count)
        step = max(1, _POINT_BUDGET // (count * _NODES.size))
        for start in range(0, group.size, step):
            part = group[start : start + step]
            half = 0.5 * (rings.hi[part] - rings.lo[part])
            u = (0.5 * (rings.hi[part] + rings.lo[part]))[:, None] + half[:, None] * _NODES
            r = np.sqrt(2.0 * u)[:, :, None]
            z = np.stack(np.broadcast_arrays(r * np.cos(theta), r * np.sin(theta)), axis=-1)
            values = function(z.reshape(-1, 2)).reshape(*z.shape[:-1], -1)  # (g, 21, count, V)
            mean, magnitude = values.mean(2), np.abs(values).mean(2)
            if new:
                rings.half[part] = rings.mean[part]
                rings.mean[part] = 0.5 * (rings.mean[part] + mean)
                rings.magnitude[part] = 0.5 * (rings.magnitude[part] + magnitude)
            else:
                rings.mean[part] = mean
                rings.half[part] = values[:, :, ::2].mean(2)
                rings.magnitude[part] = magnitude


def _ring_errors(rings: _Rings) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Kronrod value, radial and angular error estimates and ∫|F| of each panel (P, V)."""
    half = 0.5 * (rings.hi - rings.lo)
    u = 0.5 * (rings.hi + rings.lo)[:, None] + half[:, None] * _NODES
    weight = np.exp(-u) * half[:, None]  # (P, 21)
    values = np.einsum("pk,rk,pkv->rpv", weight, _RULES, rings.mean)
    absolute = np.einsum("pk,k,pkv->pv", weight, _KRONROD, rings.magnitude)
    scale = np.maximum(absolute, 1e-300)
    angular = np.einsum("pk,k,pkv->pv", weight, _KRONROD, np.abs(rings.mean - rings.half))
    # The trapezoid rule's error falls like e^-aM: at M angles as the 1.5th power of
    # its error at M/2 (as in the divergences' quadrature).
    angular = scale * np.minimum(angular / scale, 1.0) ** 1.5
    return values[0], error_estimate(values, absolute), angular, absolute


def gaussian_expectation(
    mean: FloatArray,
    cov: FloatArray,
    p: PlaneMixture,
    function: Callable[[FloatArray], FloatArray],
    rtol: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    r""":math:`E[F(z)]` for :math:`z \sim N(0, I)` (q = N(mean, cov) in its whitened
    coordinates, x = mean + L z), and a bound on each output's error: the tolerance it
    was held to, or the error estimated where refinement had to stop short; both (V,).

    ``function`` maps points z (n, 2) to values (n, V); p (one state) places the first
    panels, graded towards its components narrower than q. Panels are refined until the
    estimated error of each output v is within ``rtol[v]`` of its :math:`E|F_v|` (plus a
    rounding floor of 64 eps of the largest).
    """
    chol = tuple(np.array([c]) for c in _cholesky(cov))
    own = _component_params(mean[None], chol, np.ones((1, 1)), mean[None, None], cov[None, None])
    others = _component_params(mean[None], chol, p.weights, p.means, p.covs)
    with np.errstate(invalid="ignore"):  # a rounded sqrt(-0) there is NaN, not narrow: harmless
        start = _initial_panels(own, others)
    angles = start.angles.copy()
    if np.all(rtol >= _COARSE_RTOL):
        angles = np.maximum(angles // _COARSE_ANGLES, _BASE_ANGLES)
    rings = _Rings(start.lo, start.hi, angles, len(rtol))
    index, new = np.arange(rings.lo.size), False
    for round_ in range(_MAX_ROUNDS):
        _evaluate(rings, index, new, function)
        value, radial, angular, absolute = _ring_errors(rings)
        magnitude = absolute.sum(0)
        tolerance = rtol * magnitude + 64 * _EPS * magnitude.max()
        error = (radial + angular).sum(0)
        unfinished = error > tolerance
        if not unfinished.any():
            break
        excess = np.where(unfinished, (radial + angular) / (tolerance / rings.lo.size), 0.0)
        worst_output = np.argmax(excess, axis=1)
        worst = excess.max(axis=1) > 1.0
        rows = np.arange(rings.lo.size)
        double = worst & (angular[rows, worst_output] >= radial[rows, worst_output])
        double &= rings.angles < _MAX_ANGLES
        split = worst & ~double & (rings.hi - rings.lo > 1e-9 * np.maximum(rings.hi, 1.0))
        if not (double.any() or split.any()):
            break
        # Doubling and bisection alternate rounds, so that each round is one kind.
        if split.any() and double.any() and round_ % 2 == 0:
            split[:] = False
        if split.any():
            middle = 0.5 * (rings.lo[split] + rings.hi[split])
            lo = np.concatenate([rings.lo[split], middle])
            hi = np.concatenate([middle, rings.hi[split]])
            angles = np.tile(rings.angles[split], 2)
            n_keep = int((~split).sum())
            rings = rings.take(~split, lo, hi, angles)
            index, new = np.arange(n_keep, rings.lo.size), False
        else:
            rings.angles[double] *= 2
            index, new = np.flatnonzero(double), True
    return value.sum(0), np.maximum(tolerance, error)


# -- the objective ------------------------------------------------------------------------


@dataclass(frozen=True)
class Evaluation:
    """The objective at one θ: its value, gradient (5,), Hessian (5, 5) when asked for, and
    how far rounding and quadrature may have moved the value and each gradient entry."""

    value: float
    gradient: FloatArray
    hessian: FloatArray | None
    rounding: float
    error: FloatArray
    rtol: float = 0.0  # the quadrature's tolerance (0: closed form)


class PlaneObjective:
    r"""``D(θ)``: :math:`KL(p\|q)` (``forward``) or :math:`KL(q\|p)` (``reverse``) for a
    fixed plane mixture p (one state) and one Gaussian q at coordinates θ.

    Forward: :math:`D = \log 2π + a + b + \frac12\mathrm{tr}(Σ^{-1}M)`, the cross-entropy
    (KL plus p's entropy), :math:`M = C + (\bar m - m)(\bar m - m)^T` from p's mean
    :math:`\bar m` and covariance C; the gradient in closed form, the Hessian by central
    differences of it.  Reverse, with x = m + L z, z ~ N(0, I), :math:`J = ∂x/∂θ`,
    :math:`g = ∇\log p` and :math:`H = ∇^2\log p`:

    .. math::
        D = -\log 2π - 1 - a - b - E[\log p(x)], \qquad
        ∇D = -E[J^T g] - (0, 0, 1, 0, 1),

        ∇^2 D = -E[J^T H J] - \mathrm{diag}(0, 0, E[g_1 e^a z_1], 0, E[g_2 e^b z_2]),

    the KL itself, all from one quadrature (:func:`gaussian_expectation`; the Hessian's
    expectations through Stein's identity, :func:`_reverse_hessian`).

    ``free`` marks the coordinates that move: the means, the covariance's three (two in
    the ``diagonal`` family, whose :math:`L_{21}` stays exactly 0).
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
        free[MEANS] = "means" in optimize
        free[COVS] = "covs" in optimize
        if self.family == "diagonal":
            free[OFF_DIAGONAL] = False
        self.free = free

    # -- the metric ---------------------------------------------------------------------

    def inner(self, theta: FloatArray, a: FloatArray, b: FloatArray) -> float:
        """``aᵀ G(θ) b``."""
        return float(a @ fisher_metric(theta) @ b)

    def norm(self, theta: FloatArray, d: FloatArray) -> float:
        return math.sqrt(max(self.inner(theta, d, d), 0.0))

    def basis(self, theta: FloatArray) -> FloatArray:
        """(5, free) columns spanning the free coordinates, orthonormal in G(θ)."""
        out = np.zeros((5, int(self.free.sum())))
        if out.shape[1]:
            g = fisher_metric(theta)[np.ix_(self.free, self.free)]
            out[self.free] = np.linalg.inv(np.linalg.cholesky(g)).T
        return out

    def velocity(self, theta: FloatArray, gradient: FloatArray) -> FloatArray:
        """The natural gradient flow's ``-G⁻¹ ∇D`` in the free coordinates (0 elsewhere)."""
        b = self.basis(theta)
        return -b @ (b.T @ gradient)

    # -- values -------------------------------------------------------------------------

    def evaluate(self, theta: FloatArray, rtol: float, hessian: bool = False) -> Evaluation:
        """D, ∇D and (with ``hessian``) ∇²D at θ; rtol is the reverse quadrature's."""
        if self.direction == "reverse":
            return self._reverse(theta, rtol, hessian)
        value, gradient = self._forward(theta)
        hess = None
        if hessian:
            step = 1e-5
            hess = np.array(
                [
                    (self._forward(theta + step * e)[1] - self._forward(theta - step * e)[1])
                    / (2 * step)
                    for e in np.eye(5)
                ]
            )
            hess = 0.5 * (hess + hess.T)
        rounding = 4 * _EPS * max(1.0, abs(value))
        return Evaluation(value, gradient, hess, rounding, 8 * _EPS * (1.0 + np.abs(gradient)))

    def forward_optimum(self, mean: FloatArray, cov: FloatArray) -> tuple[FloatArray, FloatArray]:
        r"""The forward optimum in closed form, q's (mean, cov) kept where frozen: p's mean;
        the covariance :math:`C + (\bar m - m)(\bar m - m)^T` about q's mean m (p's
        covariance C once the mean is free too), its diagonal in the diagonal family."""
        if self.free[0]:
            mean = self.p_mean.copy()
        if self.free[2]:
            d = self.p_mean - mean
            cov = self.p_cov + d[:, None] * d[None, :]
            if self.family == "diagonal":
                cov = cov * np.eye(2)
        return mean, cov

    def _forward(self, theta: FloatArray) -> tuple[float, FloatArray]:
        l11, l21, l22 = math.exp(theta[2]), theta[3], math.exp(theta[4])
        inverse = np.array([[1.0 / l11, 0.0], [-l21 / (l11 * l22), 1.0 / l22]])  # L^-1
        precision = inverse.T @ inverse
        d = self.p_mean - theta[:2]
        second = self.p_cov + d[:, None] * d[None, :]
        value = _LOG_2PI + theta[2] + theta[4] + 0.5 * float(np.sum(precision * second))
        # ∂/∂L = L^-T - Σ^-1 M L^-T (forward_kl_gradient), then the chain rule to θ
        grad_chol = inverse.T - precision @ second @ inverse.T
        gradient = np.array(
            [*(-precision @ d), grad_chol[0, 0] * l11, grad_chol[1, 0], grad_chol[1, 1] * l22]
        )
        return value, gradient

    def _reverse(self, theta: FloatArray, rtol: float, hessian: bool) -> Evaluation:
        alpha, beta = math.exp(theta[2]), math.exp(theta[4])
        mean, cov = gaussian_of(theta)
        components = _components_seen_from(mean, (alpha, theta[3], beta), self.p)
        # log p, then g_i z^k for the monomials z^k of degree <= 1 (the gradient) or <= 3
        # (the Hessian, by Stein's identity: see _reverse_hessian)
        count = len(_MONOMIALS) if hessian else 3

        def terms(z: FloatArray) -> FloatArray:
            z1, z2 = z[:, 0], z[:, 1]
            log_p, g1, g2 = _log_density_in(z1, z2, components)
            powers = [np.ones_like(z1), z1, z2]
            if hessian:
                z11, z12, z22 = z1 * z1, z1 * z2, z2 * z2
                powers += [z11, z12, z22, z11 * z1, z11 * z2, z1 * z22, z22 * z2]
            return np.stack([log_p, *(g1 * m for m in powers), *(g2 * m for m in powers)], -1)

        rtols = np.full(1 + 2 * count, rtol)
        rtols[1:][np.tile(np.arange(count) >= 3, 2)] = max(rtol, HESSIAN_RTOL)
        e, tolerance = gaussian_expectation(mean, cov, self.p, terms, rtols)
        moments = e[1:].reshape(2, count)  # E[g_i z^k]
        value = -_LOG_2PI - 1.0 - theta[2] - theta[4] - e[0]
        gradient = -np.array(
            [
                moments[0, 0],
                moments[1, 0],
                alpha * moments[0, 1] + 1.0,
                moments[1, 1],
                beta * moments[1, 2] + 1.0,
            ]
        )
        hess = _reverse_hessian(moments, alpha, theta[3], beta) if hessian else None
        bounds = tolerance[1:].reshape(2, count)
        error = np.array(
            [bounds[0, 0], bounds[1, 0], alpha * bounds[0, 1], bounds[1, 1], beta * bounds[1, 2]]
        )
        return Evaluation(float(value), gradient, hess, float(tolerance[0]), error, rtol)


# Monomials z1^i z2^j of degree <= 3, the first three 1, z1, z2; and as tables: products,
# multiplication by z_a and differentiation by z_a, on their coefficient vectors.
_MONOMIALS = [(0, 0), (1, 0), (0, 1), (2, 0), (1, 1), (0, 2), (3, 0), (2, 1), (1, 2), (0, 3)]


def _polynomial_tables() -> tuple[FloatArray, FloatArray, FloatArray]:
    index = {m: k for k, m in enumerate(_MONOMIALS)}
    n = len(_MONOMIALS)
    product, times, derivative = np.zeros((n, n, n)), np.zeros((2, n, n)), np.zeros((2, n, n))
    for k, (i, j) in enumerate(_MONOMIALS):
        for other, (u, v) in enumerate(_MONOMIALS):
            if (i + u, j + v) in index:
                product[k, other, index[(i + u, j + v)]] = 1.0
        for axis, step in enumerate([(1, 0), (0, 1)]):
            up = (i + step[0], j + step[1])
            if up in index:
                times[axis, k, index[up]] = 1.0
            if (i, j)[axis] > 0:
                derivative[axis, k, index[(i - step[0], j - step[1])]] = (i, j)[axis]
    return product, times, derivative


_PRODUCT, _TIMES, _DERIVATIVE = _polynomial_tables()


def _reverse_hessian(moments: FloatArray, alpha: float, c: float, beta: float) -> FloatArray:
    r"""∇²D of reverse KL from :math:`E[g_i z^k]` (``moments`` (2, 10), the monomials of
    degree <= 3), without the spiky Hessian of log p.

    :math:`∇^2 D = -E[J^T H J] - \mathrm{diag}(0, 0, e^a E[g_1 z_1], 0, e^b E[g_2 z_2])`, and
    with :math:`G(z) = g(m + L z)`, :math:`H = (∂_z G) L^{-1}`; each entry of
    :math:`J^T H J` is then a sum of :math:`E[∂_a G_i\,P(z)]` with P a quadratic
    polynomial, and Stein's identity :math:`E[∂_a f] = E[z_a f]` for z ~ N(0, I) turns
    them into :math:`E[G_i (z_a P - ∂_a P)]`: moments of g alone, which are as smooth as
    the gradient's integrands (H is sharply peaked where p switches between components).
    """
    n = len(_MONOMIALS)
    jacobian = np.zeros((2, 5, n))  # ∂x_k/∂θ_p as polynomials in z
    jacobian[0, 0, 0] = jacobian[1, 1, 0] = 1.0
    jacobian[0, 2, 1] = alpha  # ∂x/∂a = (e^a z1, 0)
    jacobian[1, 3, 1] = 1.0  # ∂x/∂c = (0, z1)
    jacobian[1, 4, 2] = beta  # ∂x/∂b = (0, e^b z2)
    inverse = np.array([[1.0 / alpha, 0.0], [-c / (alpha * beta), 1.0 / beta]])  # L^-1
    quadratic = np.einsum("ak,ipx,kqy,xym->iapqm", inverse, jacobian, jacobian, _PRODUCT)
    stein = np.einsum("iapqm,amn->ipqn", quadratic, _TIMES - _DERIVATIVE)
    jhj = np.einsum("ipqn,in->pq", stein, moments)
    hess = -jhj - np.diag([0.0, 0.0, alpha * moments[0, 1], 0.0, beta * moments[1, 2]])
    return 0.5 * (hess + hess.T)


def _components_seen_from(
    mean: FloatArray, chol: tuple[float, float, float], p: PlaneMixture
) -> list[tuple[float, ...]]:
    """Per component c of p (of nonzero weight): y = A z + b = L_c^-1 (x - m_c) at
    x = mean + L z, as (a11, a21, a22, b1, b2), then kappa = log w_c - log det L_c - log 2π,
    and the entries of L_c, so that log N_c(x) = kappa - |y|²/2 and S_c^-1 (x - m_c) = L_c^-T y."""
    l11, l21, l22 = chol
    c11, c21, c22 = _cholesky(p.covs[0])
    out = []
    for k in np.flatnonzero(p.weights[0] > 0):
        a11 = l11 / c11[k]
        a21 = (l21 - c21[k] * a11) / c22[k]  # A = L_c^-1 L, lower triangular
        a22 = l22 / c22[k]
        d = mean - p.means[0, k]
        b1 = d[0] / c11[k]
        b2 = (d[1] - c21[k] * b1) / c22[k]
        kappa = math.log(p.weights[0, k]) - math.log(c11[k] * c22[k]) - _LOG_2PI
        out.append((a11, a21, a22, b1, b2, kappa, c11[k], c21[k], c22[k]))
    return out


def _log_density_in(
    z1: FloatArray, z2: FloatArray, components: list[tuple[float, ...]]
) -> tuple[FloatArray, FloatArray, FloatArray]:
    r"""log p and ∇ log p (two arrays) at x = mean + L z: with responsibilities
    :math:`r_c` and :math:`v_c = S_c^{-1}(x - m_c)`, :math:`∇\log p = -Σ_c r_c v_c`.
    Written out per component, a few times faster on one state than
    :func:`kldemo.core.plane.fits._grad_log_density`."""
    logs, vs = [], []
    for a11, a21, a22, b1, b2, kappa, c11, c21, c22 in components:
        y1 = a11 * z1 + b1
        y2 = a21 * z1 + a22 * z2 + b2
        logs.append(kappa - 0.5 * (y1 * y1 + y2 * y2))
        v2 = y2 / c22
        vs.append(((y1 - c21 * v2) / c11, v2))
    largest = logs[0]
    for t in logs[1:]:
        largest = np.maximum(largest, t)
    shares = [np.exp(t - largest) for t in logs]
    total = shares[0]
    for e in shares[1:]:
        total = total + e
    mean1 = sum(e * v[0] for e, v in zip(shares, vs, strict=True)) / total
    mean2 = sum(e * v[1] for e, v in zip(shares, vs, strict=True)) / total
    return largest + np.log(total), -mean1, -mean2
