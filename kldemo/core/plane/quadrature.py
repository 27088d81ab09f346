"""Densities, divergences and Gaussian fits of two-dimensional Gaussian mixtures.

A plane mixture is three arrays: ``weights (..., K)``, ``means (..., K, 2)`` and
``covs (..., K, 2, 2)``, K components after any leading "state" axes (every
frame of an animation), which broadcast against each other.  Everything is
vectorised over the states and computed in log space, so nothing underflows.

The divergences are integrals ``∫ a(x) g(f(x)) dx`` of ``f = log a - log b``,
split over the components of ``a``; each is integrated in its own whitened
coordinates ``z = L_i^-1 (x - m_i)`` (``L_i`` the Cholesky factor of its
covariance), in polar form with ``u = |z|^2 / 2``::

    ∫ a g(f) dx = Σ_i w_i ∫_0^∞ e^-u [1/2π ∫_0^2π g(f(m_i + L_i z(u, θ))) dθ] du.

The angular mean of a function analytic in ``z`` is analytic in ``u``, so the
radial integral uses 21-point Gauss-Kronrod panels on ``u <= 40.5`` (``|z| <= 9``;
the mass beyond is 3e-18) and the angular one the trapezoid rule, which
converges geometrically for periodic analytic integrands.  Each panel carries
its own number of angles.  Where the estimated error of a state is too large,
its worst panels double their angles (when the trapezoid rule's two levels
disagree most) or are bisected in ``u`` (when the Gauss and Kronrod values do),
for all states at once.  Components of either mixture much narrower than the
integrating one are seen a priori: panels are graded radially towards each and
start with enough angles to resolve it, so the refinement cannot miss it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from kldemo.core.plane.gaussians import (
    FloatArray,
    IntArray,
    PlaneMixture,
    _cholesky,
    _solve_lower,
    gaussian_hellinger2,
    gaussian_kl,
)
from kldemo.core.quadrature import HALF_RULES, KRONROD_HALF, rule_sums
from kldemo.core.quadrature import NODES as _NODES
from kldemo.core.quadrature import RULES as _RULES

_U_MAX = 40.5  # |z| <= 9
_BASE_U = np.array([0.0, 2.5, 7.0, 16.0, _U_MAX])
_BASE_ANGLES = 16
_MAX_ANGLES = 2**17
_NARROW = 0.1  # components narrower than this (in z) are resolved a priori
_ANGLES_PER_STD = 6.0  # angular spacing at most std / this, near a narrow component
_ANGLE_OFFSET = 0.1249934012  # radians: keeps nodes off the axes, where symmetric cases align
_CLIP = -100.0  # log-ratios below this add nothing (e^-100 = 4e-44)
_MAX_ROUNDS = 60
_POINT_BUDGET = 16_384  # points per evaluation chunk (its temporaries stay in cache)
_EPS = np.finfo(float).eps
# (relative, absolute) tolerances of each integral: a margin below the targets
# (1e-9 relative for KL, 1e-7 for the others).
_TOLERANCES = {
    "kl": (1e-10, 1e-15),
    "js": (1e-9, 1e-16),
    "tv": (2e-8, 1e-16),
    "hellinger": (1e-9, 1e-16),
}


# Quadrature over mixtures
# --------------------------------------------------------------------------


def _flatten(p: PlaneMixture, q: PlaneMixture) -> tuple[tuple[int, ...], tuple, tuple]:
    """Broadcast the state axes of p and q and flatten them to (S, ...)."""
    try:
        shape = np.broadcast_shapes(p.shape, q.shape)
    except ValueError:
        raise ValueError(
            f"the state axes of p {p.shape} and q {q.shape} do not broadcast"
        ) from None
    flat = []
    for m in (p, q):
        k = m.n_components
        flat.append(
            (
                np.broadcast_to(m.weights, (*shape, k)).reshape(-1, k),
                np.broadcast_to(m.means, (*shape, k, 2)).reshape(-1, k, 2),
                np.broadcast_to(m.covs, (*shape, k, 2, 2)).reshape(-1, k, 2, 2),
            )
        )
    return shape, flat[0], flat[1]


def _component_params(
    own_mean: FloatArray, own_chol: tuple, weights: FloatArray, means: FloatArray, covs: FloatArray
) -> FloatArray:
    """(6, K, job): a11, a21, a22, b1, b2, kappa with y = A z + b = L_c^-1 (x - m_c)
    for x = m_i + L_i z, and kappa = log(w_c det L_i / det L_c), so that the log of
    component c is kappa - |y|^2/2 up to a constant shared by every component."""
    l11, l21, l22 = (c[:, None] for c in own_chol)
    c11, c21, c22 = _cholesky(covs)
    a11 = l11 / c11
    a21 = (l21 - c21 * a11) / c22  # A = L_c^-1 L_i, lower triangular
    a22 = l22 / c22
    b = _solve_lower((c11, c21, c22), own_mean[:, None, :] - means)
    kappa = np.full(weights.shape, -np.inf)  # zero weight: no component
    np.log(weights, out=kappa, where=weights > 0)
    kappa = kappa + np.log(l11 * l22 / (c11 * c22))
    return np.stack([a11, a21, a22, b[..., 0], b[..., 1], kappa]).transpose(0, 2, 1)


def _log_mixture(
    z1: FloatArray, z2: FloatArray, minus_u: FloatArray, params: FloatArray, own_first: bool
) -> FloatArray:
    """log Σ_c exp(kappa_c - |y_c|^2/2) at points z; params (6, K, panel, 1, 1)."""
    a11, a21, a22, b1, b2, kappa = params
    terms = []
    for c in range(kappa.shape[0]):
        if own_first and c == 0:
            terms.append(kappa[0] + minus_u)
            continue
        y1 = a11[c] * z1 + b1[c]
        y2 = a21[c] * z1 + a22[c] * z2 + b2[c]
        terms.append(kappa[c] - 0.5 * (y1 * y1 + y2 * y2))
    if len(terms) == 1:
        return terms[0]
    largest = terms[0]
    for term in terms[1:]:
        largest = np.maximum(largest, term)
    with np.errstate(invalid="ignore"):  # -inf - -inf only in a dropped component's row
        total = sum(np.exp(np.maximum(t - largest, _CLIP)) for t in terms)
    return largest + np.log(total)


def _js_term(f: FloatArray) -> FloatArray:
    # Per unit of p + q, with u = |f|/2: u tanh u - log cosh u >= 0 (never cancels).
    u = 0.5 * np.abs(f)
    small = np.minimum(u, 1.0)
    near = small * np.tanh(small) - np.log1p(2.0 * np.sinh(0.5 * small) ** 2)
    e = np.exp(-2.0 * np.maximum(u, 1.0))
    far = np.log(2.0) - 2.0 * np.maximum(u, 1.0) * e / (1.0 + e) - np.log1p(e)
    return 0.5 * np.where(u < 1.0, near, far)


def _tv_term(f: FloatArray) -> FloatArray:
    # |p - q| / (2 (p + q)) = |tanh(f / 2)| / 2
    return 0.5 * np.abs(np.tanh(0.5 * f))


def _hellinger_term(f: FloatArray) -> FloatArray:
    # (sqrt p - sqrt q)^2 / (2 (p + q)), even in f
    magnitude = np.abs(f)
    return 0.5 * np.expm1(-0.5 * magnitude) ** 2 / (1.0 + np.exp(-magnitude))


# g(f), and whether it is analytic (TV's has a kink where p = q: slower, algebraic
# convergence, so its error estimates are taken as they come).
_TERMS: dict[str, tuple[Callable[[FloatArray], FloatArray] | None, bool]] = {
    "kl": (None, True),
    "js": (_js_term, True),
    "tv": (_tv_term, False),
    "hellinger": (_hellinger_term, True),
}


class _Panels:
    """Radial panels [lo, hi] in u of the jobs, each with M angles and, per
    Kronrod node, the angular means of g and |g| at M and at M/2 angles."""

    def __init__(self, job: IntArray, lo: FloatArray, hi: FloatArray, angles: IntArray):
        self.job, self.lo, self.hi, self.angles = job, lo, hi, angles
        n = job.size
        self.mean, self.half, self.magnitude = (np.zeros((n, _NODES.size)) for _ in range(3))


def _evaluate(
    panels: _Panels,
    index: IntArray,
    new: bool,
    a_params: FloatArray,
    b_params: FloatArray,
    transform: Callable | None,
) -> None:
    """Fill the angular means of panels[index]: at all M angles (new=False), or
    at the M midpoints that double them (new=True)."""
    # Panels with the same number of angles are evaluated as one dense block.
    angles = panels.angles[index]
    for m in np.unique(angles):
        group = index[angles == m]
        step = max(1, _POINT_BUDGET // (int(m) * _NODES.size))
        # Doubled panels already carry their new count: their new angles are the
        # midpoints of the old m/2.
        count = int(m) // 2 if new else int(m)
        theta = _ANGLE_OFFSET + (np.arange(count) + (0.5 if new else 0.0)) * (2 * np.pi / count)
        for start in range(0, group.size, step):
            part = group[start : start + step]
            half = 0.5 * (panels.hi[part] - panels.lo[part])
            u = (0.5 * (panels.hi[part] + panels.lo[part]))[:, None] + half[:, None] * _NODES
            r = np.sqrt(2.0 * u)[:, :, None]
            z1, z2 = r * np.cos(theta), r * np.sin(theta)
            minus_u = -u[:, :, None]
            jobs = panels.job[part]
            f = _log_mixture(
                z1, z2, minus_u, a_params[:, :, jobs, None, None], True
            ) - _log_mixture(z1, z2, minus_u, b_params[:, :, jobs, None, None], False)
            g = f if transform is None else transform(f)
            mean = g.mean(-1)
            magnitude = np.abs(g).mean(-1)
            if new:
                panels.half[part] = panels.mean[part]
                panels.mean[part] = 0.5 * (panels.mean[part] + mean)
                panels.magnitude[part] = 0.5 * (panels.magnitude[part] + magnitude)
            else:
                panels.mean[part] = mean
                panels.half[part] = g[:, :, ::2].mean(-1)
                panels.magnitude[part] = magnitude


def _initial_panels(a_params: FloatArray, b_params: FloatArray) -> _Panels:
    """The base radial grid for every job, plus graded breakpoints and enough
    angles around each component (of a after the first, or of b) narrower than
    _NARROW in the job's coordinates."""
    n_jobs = a_params.shape[2]
    params = np.concatenate([a_params[:, 1:], b_params], axis=1)  # (6, K, job)
    a11, a21, a22, b1, b2, kappa = params
    # A component's smallest std in z is 1/‖A‖ (A maps z to its own whitened y).
    norm = np.sqrt(
        0.5 * (a11**2 + a21**2 + a22**2)
        # the discriminant is >= 0; rounding can take it a hair below when A is isotropic
        + np.sqrt(np.maximum(0.25 * (a11**2 + a21**2 + a22**2) ** 2 - (a11 * a22) ** 2, 0.0))
    )
    std = 1.0 / norm
    centre1 = -b1 / a11  # where y = 0
    centre2 = -(b2 + a21 * centre1) / a22
    radius = np.hypot(centre1, centre2)
    narrow = (std < _NARROW) & np.isfinite(kappa) & (radius < 9.0 + 8.0 * std)
    jobs, points = [np.repeat(np.arange(n_jobs), _BASE_U.size)], [np.tile(_BASE_U, n_jobs)]
    comp, job = np.nonzero(narrow)
    near_angles: list[tuple[IntArray, FloatArray, FloatArray, FloatArray]] = []
    if job.size:
        s, rc = std[comp, job], radius[comp, job]
        offsets = np.concatenate([[0.0], 0.5 * 2.0 ** np.arange(8)])  # in stds, to 64
        for sign in (-1.0, 1.0):
            r = np.maximum(rc[:, None] + sign * s[:, None] * offsets, 0.0)
            jobs.append(np.repeat(job, offsets.size))
            points.append(np.minimum(0.5 * r.ravel() ** 2, _U_MAX))
        near_angles.append((job, rc, s, np.maximum(rc - 8 * s, 0.0)))
    job_all, u_all = np.concatenate(jobs), np.concatenate(points)
    order = np.lexsort((u_all, job_all))
    job_all, u_all = job_all[order], u_all[order]
    panel = (job_all[1:] == job_all[:-1]) & (u_all[1:] > u_all[:-1] * (1 + 1e-12) + 1e-300)
    lo, hi, job = u_all[:-1][panel], u_all[1:][panel], job_all[:-1][panel]
    angles = np.full(job.size, _BASE_ANGLES)
    for near_job, rc, s, r_lo in near_angles:
        # Angular spacing s/_ANGLES_PER_STD at the component's radius, on panels near it.
        want = 2 * np.pi * (rc + 2 * s) * _ANGLES_PER_STD / s
        need = 2 ** np.ceil(np.log2(np.clip(want, _BASE_ANGLES, _MAX_ANGLES)))
        r_hi = rc + 8 * s
        for j, a, b, n in zip(near_job, r_lo, r_hi, need, strict=True):
            hit = (job == j) & (np.sqrt(2 * hi) > a) & (np.sqrt(2 * lo) < b)
            angles[hit] = np.maximum(angles[hit], int(n))
    return _Panels(job, lo, hi, angles.astype(np.intp))


def _errors(
    panels: _Panels, analytic: bool
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Kronrod value, radial and angular error estimates and ∫|g| of each panel."""
    half = 0.5 * (panels.hi - panels.lo)
    u = 0.5 * (panels.hi + panels.lo)[:, None] + half[:, None] * _NODES
    weight = np.exp(-u) * half[:, None]
    # Node by node in a fixed order, not by a BLAS product (whose summation order follows
    # its blocking): a panel's value, and so a state's, never depends on the other states.
    values = rule_sums(weight * panels.mean, HALF_RULES).T  # (panel, 3)
    magnitude = rule_sums(weight * panels.magnitude, KRONROD_HALF)[0]
    angular = rule_sums(weight * np.abs(panels.mean - panels.half), KRONROD_HALF)[0]
    scale = np.maximum(magnitude, 1e-300)
    gauss = np.minimum(np.abs(values[:, 0] - values[:, 1]) / scale, 1.0)
    if analytic:
        # Rules exact to degree d err like ρ^-(d+1): Kronrod (31) as the 1.6th power of
        # Gauss (19) and the 2.5th of the 11-point rule; the trapezoid rule's, which
        # falls like e^-aM, at M angles as the 1.5th power of its error at M/2.
        interpolatory = np.minimum(np.abs(values[:, 0] - values[:, 2]) / scale, 1.0)
        radial = scale * np.maximum(gauss**1.6, interpolatory**2.5)
        angular = scale * np.minimum(angular / scale, 1.0) ** 1.5
    else:
        radial = scale * gauss
    return values[:, 0], radial, angular, magnitude


def _integrate(a: tuple, b: tuple, kind: str) -> FloatArray:
    """Σ_i w_i ∫ N(z) g(log a - log b) dz over the components i of a, per state."""
    transform, analytic = _TERMS[kind]
    rtol, atol = _TOLERANCES[kind]
    a_weights, a_means, a_covs = a
    n_states, n_a = a_weights.shape
    state, own = np.nonzero(a_weights > 0)  # one job per present component
    weight = a_weights[state, own]
    order = np.array([[i] + [c for c in range(n_a) if c != i] for i in range(n_a)])[own]
    own_mean, own_cov = a_means[state, own], a_covs[state, own]
    own_chol = _cholesky(own_cov)
    a_params = _component_params(own_mean, own_chol, *(x[state[:, None], order] for x in a))
    b_params = _component_params(own_mean, own_chol, *(x[state] for x in b))
    panels = _initial_panels(a_params, b_params)
    index, new = np.arange(panels.job.size), False
    total = np.zeros(n_states)
    for _ in range(_MAX_ROUNDS):
        _evaluate(panels, index, new, a_params, b_params, transform)
        value, radial, angular, magnitude = _errors(panels, analytic)
        panel_state, panel_weight = state[panels.job], weight[panels.job]
        total, radial_sum, angular_sum, magnitude_sum = (
            np.bincount(panel_state, panel_weight * x, minlength=n_states)
            for x in (value, radial, angular, magnitude)
        )
        error = radial_sum + angular_sum
        tolerance = np.maximum.reduce(
            [rtol * np.abs(total), np.full(n_states, atol), 8 * _EPS * magnitude_sum]
        )
        unfinished = error > tolerance
        if not unfinished.any():
            break
        active = np.bincount(panel_state, minlength=n_states)
        share = (tolerance / active)[panel_state]
        worst = unfinished[panel_state] & (panel_weight * (radial + angular) > share)
        double = worst & (angular >= radial) & (panels.angles < _MAX_ANGLES)
        split = worst & ~double & (panels.hi - panels.lo > 1e-9 * np.maximum(panels.hi, 1.0))
        if not (double.any() or split.any()):
            break
        # Doubling (even rounds) and bisection (odd rounds) alternate, so that each round
        # is one kind; by the round's parity alone, so that a state's refinements, and so
        # its value, never depend on what the other states of the call need.
        if _ % 2 == 0:
            split[:] = False
        else:
            double[:] = False
        if not (double.any() or split.any()):
            index, new = np.zeros(0, dtype=np.intp), False  # nothing of this kind: next round
            continue
        if split.any():
            middle = 0.5 * (panels.lo[split] + panels.hi[split])
            keep = ~split
            job = np.concatenate([panels.job[keep], panels.job[split], panels.job[split]])
            lo = np.concatenate([panels.lo[keep], panels.lo[split], middle])
            hi = np.concatenate([panels.hi[keep], middle, panels.hi[split]])
            angles = np.concatenate(
                [panels.angles[keep], panels.angles[split], panels.angles[split]]
            )
            fresh = _Panels(job, lo, hi, angles)
            n_keep = int(keep.sum())
            for name in ("mean", "half", "magnitude"):
                getattr(fresh, name)[:n_keep] = getattr(panels, name)[keep]
            panels, index, new = fresh, np.arange(n_keep, job.size), False
        else:
            panels.angles[double] *= 2
            index, new = np.flatnonzero(double), True
    return total


def _symmetric(p: tuple, q: tuple, kind: str) -> FloatArray:
    """∫ p g(log p - log q) + ∫ q g(log q - log p): each mixture's mass in its own
    components' coordinates, so that none is missed."""
    return _integrate(p, q, kind) + _integrate(q, p, kind)


def _identical(p: tuple, q: tuple) -> NDArray[np.bool_]:
    """States where p and q are the same mixture, component for component."""
    if p[0].shape[1] != q[0].shape[1]:
        return np.zeros(p[0].shape[0], dtype=bool)
    return (
        np.all(p[0] == q[0], axis=1)
        & np.all(p[1] == q[1], axis=(1, 2))
        & np.all(p[2] == q[2], axis=(1, 2, 3))
    )


def _divergence(p: PlaneMixture, q: PlaneMixture, kind: str, symmetric: bool) -> FloatArray:
    shape, a, b = _flatten(p, q)
    out = np.zeros(a[0].shape[0])
    rest = np.flatnonzero(~_identical(a, b))  # the same mixture: exactly 0
    if rest.size:
        a, b = tuple(x[rest] for x in a), tuple(x[rest] for x in b)
        out[rest] = _symmetric(a, b, kind) if symmetric else _integrate(a, b, kind)
    return out.reshape(shape)


def _single(p: PlaneMixture, q: PlaneMixture) -> bool:
    return p.n_components == 1 and q.n_components == 1


def kl_divergence(p: PlaneMixture, q: PlaneMixture, closed_form: bool = True) -> FloatArray:
    r"""Kullback-Leibler divergence :math:`KL(p\|q) = \int p \log(p/q)\,dx` in the plane.

    Parameters
    ----------
    p, q : PlaneMixture
        Their state axes broadcast.
    closed_form : bool
        Use `gaussian_kl` when both are single Gaussians (False: quadrature, for tests).

    Returns
    -------
    ndarray, shape (...)
        In nats; relative error about 1e-11 (1e-15 absolute when tiny).

    Examples
    --------
    >>> p = PlaneMixture.gaussian([0, 0], np.eye(2))
    >>> q = PlaneMixture.gaussian([3, 0], np.eye(2))
    >>> float(kl_divergence(p, q))
    4.5
    >>> bool(abs(float(kl_divergence(p, q, closed_form=False)) - 4.5) < 1e-11)
    True
    """
    if closed_form and _single(p, q):
        return gaussian_kl(
            p.means[..., 0, :], p.covs[..., 0, :, :], q.means[..., 0, :], q.covs[..., 0, :, :]
        )
    # p log(p/q) takes both signs: rounding may leave -1e-17 where p = q.
    return np.maximum(_divergence(p, q, "kl", symmetric=False), 0.0)


def forward_kl(p: PlaneMixture, q: PlaneMixture) -> FloatArray:
    r""":math:`KL(p\|q)`: ``kl_divergence(p, q)``.

    Examples
    --------
    >>> p = PlaneMixture.gaussian([0, 0], np.eye(2))
    >>> q = PlaneMixture.gaussian([0, 0], 4 * np.eye(2))
    >>> bool(np.isclose(forward_kl(p, q), 0.25 - 1 + np.log(4)))   # 2 · ½(1/4 - 1 + log 4)
    True
    """
    return kl_divergence(p, q)


def reverse_kl(p: PlaneMixture, q: PlaneMixture) -> FloatArray:
    r""":math:`KL(q\|p)`: ``kl_divergence(q, p)``.

    Examples
    --------
    >>> p = PlaneMixture.gaussian([0, 0], np.eye(2))
    >>> q = PlaneMixture.gaussian([0, 0], 4 * np.eye(2))
    >>> bool(np.isclose(reverse_kl(p, q), 4 - 1 - np.log(4)))
    True
    """
    return kl_divergence(q, p)


def js_divergence(p: PlaneMixture, q: PlaneMixture) -> FloatArray:
    r"""Jensen-Shannon divergence :math:`\frac12 KL(p\|m) + \frac12 KL(q\|m)`, :math:`m = (p+q)/2`.

    Integrated as :math:`\int (p + q)\,G(\log p - \log q)` with
    :math:`G \ge 0`, so it does not cancel when tiny.

    Returns
    -------
    ndarray, shape (...)
        In nats, in [0, log 2]; relative error about 1e-9.

    Examples
    --------
    >>> p = PlaneMixture.gaussian([0, 0], np.eye(2))
    >>> q = PlaneMixture.gaussian([60, 0], np.eye(2))
    >>> bool(np.isclose(js_divergence(p, q), np.log(2), rtol=1e-9))   # disjoint
    True
    """
    return np.clip(_divergence(p, q, "js", symmetric=True), 0.0, np.log(2.0))


def tv_distance(p: PlaneMixture, q: PlaneMixture) -> FloatArray:
    r"""Total variation distance :math:`\frac12\int|p - q|\,dx`.

    Examples
    --------
    >>> from scipy.stats import norm
    >>> p = PlaneMixture.gaussian([0, 0], np.eye(2))
    >>> q = PlaneMixture.gaussian([1, 0], np.eye(2))      # as in 1-D along the shift
    >>> bool(np.isclose(tv_distance(p, q), 2 * norm.cdf(0.5) - 1, rtol=1e-8))
    True
    """
    return np.clip(_divergence(p, q, "tv", symmetric=True), 0.0, 1.0)


def hellinger_distance(p: PlaneMixture, q: PlaneMixture, closed_form: bool = True) -> FloatArray:
    r"""Hellinger distance :math:`\sqrt{1 - \int\sqrt{p q}\,dx}`.

    Closed form (`gaussian_hellinger2`) for two Gaussians; otherwise the square
    root of :math:`\frac12\int(\sqrt p - \sqrt q)^2`, non-negative terms.

    Examples
    --------
    >>> p = PlaneMixture.gaussian([0, 0], np.eye(2))
    >>> q = PlaneMixture.gaussian([2, 0], np.eye(2))
    >>> bool(np.isclose(hellinger_distance(p, q), np.sqrt(1 - np.exp(-0.5))))
    True
    """
    if closed_form and _single(p, q):
        squared = gaussian_hellinger2(
            p.means[..., 0, :], p.covs[..., 0, :, :], q.means[..., 0, :], q.covs[..., 0, :, :]
        )
    else:
        squared = _divergence(p, q, "hellinger", symmetric=True)
    return np.sqrt(np.clip(squared, 0.0, 1.0))


DIVERGENCES = ("forward", "reverse", "js", "tv", "hellinger")


def divergence_values(
    p: PlaneMixture, q: PlaneMixture, names: tuple[str, ...] | list[str] = DIVERGENCES
) -> dict[str, FloatArray]:
    """The named divergences (any of `DIVERGENCES`) of p and q, for every state.

    Examples
    --------
    >>> p = PlaneMixture.gaussian([0, 0], np.eye(2))
    >>> q = PlaneMixture.gaussian([2, 0], np.eye(2))
    >>> [float(v) for v in divergence_values(p, q, ["forward", "reverse"]).values()]
    [2.0, 2.0]
    """
    unknown = [name for name in names if name not in DIVERGENCES]
    if unknown:
        raise ValueError(
            f"unknown divergence names {unknown}; choose from {', '.join(DIVERGENCES)}"
        )
    functions = {
        "forward": forward_kl,
        "reverse": reverse_kl,
        "js": js_divergence,
        "tv": tv_distance,
        "hellinger": hellinger_distance,
    }
    return {name: functions[name](p, q) for name in names}


# What the fits' own quadrature (kldemo.core.plane.objective) shares with this module's:
# the polar rule and the panels it starts from.
ANGLE_OFFSET, BASE_ANGLES, MAX_ANGLES = _ANGLE_OFFSET, _BASE_ANGLES, _MAX_ANGLES
POLAR_NODES, POLAR_RULES, BASE_RADII = _NODES, _RULES, _BASE_U
component_params, initial_panels = _component_params, _initial_panels
