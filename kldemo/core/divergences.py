"""Densities and divergences of one-dimensional Gaussian mixtures.

A mixture is three arrays ``weights, means, stds`` of shape ``(..., K)``: K
components on the last axis, any leading "state" axes (say, every frame of an
animation), which broadcast against each other.  Everything is vectorised over
the states and computed in log space, so nothing underflows.

The divergences are integrals ``∫ p(x) g(f(x)) dx`` of ``f = log p - log q``,
split over the components of ``p``; each is integrated in its own standardised
variable ``z = (x - m_i) / s_i`` on ``|z| <= 9`` (the Gaussian tail beyond holds
2e-19 of the mass; weighted by a quadratic ``f`` it stays below 1e-17)::

    ∫ p g(f) dx = Σ_i w_i ∫ φ(z) g(f(m_i + s_i z)) dz.

``f`` is evaluated pointwise as a difference of log-sum-exps, so nearly equal
mixtures do not cancel.  The integrals use 21-point Gauss-Kronrod panels whose
breakpoints are placed a priori: ``log(e^h_c + e^h_d)`` is analytic except
where ``h_c - h_d = ±iπ``, and with ``h`` quadratic in ``z`` these are the roots
of a quadratic.  For every pair of components that both matter there, panels
are graded geometrically towards the root's real part ``x``, starting at 2.5
times its distance ``y`` from the real axis, so each panel keeps these
singularities outside a Bernstein ellipse of parameter 2.5 or more, where the
Kronrod rule's error falls like ``ρ^-32``.  That resolves narrow spikes inside
broad components and sharp switches between dominant components.  Panels whose
Gauss/Kronrod differences still indicate a larger error are bisected, for all
states at once; ordinary states finish after the first pass.

JS, TV and Hellinger are ``½ [∫ p g(f) + ∫ q g(-f)]`` with ``g`` a function of
``p / (p + q)``, singular where ``p + q`` is, so their panels also grade
towards the singularities of ``log(p + q)``: where ``p`` and ``q`` switch
dominance.  Each integrand is >= 0 (for JS, ``(p + q)/4 [(1+t) log(1+t) +
(1-t) log(1-t)]``, ``t = tanh(f/2)``), so tiny values keep relative precision;
TV's panels are split at the real roots of ``f`` (where ``|p - q|`` has its
kinks); for mixtures with as many components, ``f`` comes from differences of
paired parameters, so nearly identical mixtures keep their digits.  Two single
Gaussians have TV and Hellinger in closed form.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import erf, logsumexp, ndtr

__all__ = ["DIVERGENCES", "DIVERGENCE_BOUNDS", "density", "divergence_values", "forward_kl",
           "gaussian_kl", "hellinger_distance", "js_divergence", "kl_divergence", "log_density",
           "reverse_kl", "tv_distance"]

Mixture = tuple[ArrayLike, ArrayLike, ArrayLike]
FloatArray = NDArray[np.float64]
Flat = tuple[FloatArray, FloatArray, FloatArray]    # (weights, means, stds), each (S, K)

# QUADPACK's 21-point Kronrod rule and its embedded 10-point Gauss rule, on the
# non-negative half of [-1, 1]; the Gauss nodes are the odd ones.  On the even
# ones an 11-point interpolatory rule (exact to degree 11) gives a second,
# independent error indicator.
_XK = np.array([0.995657163025808080735527280689003, 0.973906528517171720077964012084452,
                0.930157491355708226001207180059508, 0.865063366688984510732096688423493,
                0.780817726586416897063717578345042, 0.679409568299024406234327365114874,
                0.562757134668604683339000099272694, 0.433395394129247190799265943165784,
                0.294392862701460198131126603103866, 0.148874338981631210884826001129720, 0.0])
_WK = np.array([0.011694638867371874278064396062192, 0.032558162307964727478818972459390,
                0.054755896574351996031381300244580, 0.075039674810919952767043140916190,
                0.093125454583697605535065465083366, 0.109387158802297641899210590325805,
                0.123491976262065851077600525452058, 0.134709217311473325928054001771707,
                0.142775938577060080797094273138717, 0.147739104901338491374841515972068,
                0.149445554002916905664936468389821])
_WG, _WL = np.zeros(11), np.zeros(11)
_WG[1::2] = [0.066671344308688137593568809893332, 0.149451349150580593145776339657697,
             0.219086362515982043995534934228163, 0.269266719309996355091226921569469,
             0.295524224714752870173892994651338]
_WL[0::2] = [0.022516403409274716939, 0.10897571241180882979, 0.18677625941453204631,
             0.24650565268786806814, 0.28599922235261054602, 0.29845349944781158561]
_NODES = np.concatenate([-_XK[:-1], _XK[::-1]])
_RULES = np.stack([np.concatenate([w[:-1], w[::-1]]) for w in (_WK, _WG, _WL)])
_KRONROD = _RULES[0]

_Z_MAX = 9.0
_BASE_GRID = np.array([-_Z_MAX, -4.0, 0.0, 4.0, _Z_MAX])  # resolves φ itself
_BASE_SPACING = 2.0      # the panel size the base grid sets
_SING_Y_MAX = 3.0        # singularities farther from the real axis do no harm
_SING_Y_MIN = 1e-9       # nearer ones act as kinks; finer grading gains nothing
_FIRST_STEP = 2.5        # first graded offset, in units of y
_GRADING = 4.0           # ratio of successive graded offsets
_GRADED_MAX = 4.0        # so that a base panel beyond starts 1/3 of its width away
_MERGE = 0.3             # drop points nearer than this many panel sizes to a finer one
_NEGLIGIBLE_LOG = -40.0  # a component this far below the mixture is invisible
_CLIP = -100.0           # log-ratios below this add nothing (e^-100 = 4e-44)
_MAX_ROUNDS = 50
_MAX_PANELS_PER_STATE = 20_000
_BLOCK_BUDGET = 4_000_000  # bounds the temporaries of one block of states
_CHUNK_BUDGET = 50_000     # elements per evaluation temporary (cache sized)
_EPS = np.finfo(float).eps
# (relative, absolute, noise) tolerances of each integral.  The integrands of
# JS, TV and squared Hellinger are >= 0, so a relative tolerance holds down to
# tiny values, until the rounding of f = log p - log q (a few ulps of the log
# densities, ~1e-16) dominates: there TV's integrand is noise of ~1e-16 and
# those of JS and Hellinger^2 (~f^2/8) noise of ~1e-16 |f|, ~1e-16 sqrt(value)
# in total; asking for less than that noise would only bisect it forever.
_TOLERANCES = {"kl": (1e-13, 1e-15, 0.0), "js": (1e-13, 1e-30, 4 * _EPS),
               "tv": (1e-13, 1e-16, 0.0), "hellinger": (1e-13, 1e-30, 4 * _EPS)}


def _mixture(weights: ArrayLike, means: ArrayLike, stds: ArrayLike, name: str = "") -> Flat:
    """Float arrays of one shape (..., K), or a ValueError naming the argument."""
    arrays = {label: np.asarray(value, dtype=float) for label, value in
              (("weights", weights), ("means", means), ("stds", stds))}
    for label, array in arrays.items():
        if array.ndim == 0 or array.shape[-1] == 0:
            raise ValueError(f"{name}{label} must have shape (..., K) with K >= 1, "
                             f"got shape {array.shape}")
    shapes = {label: array.shape for label, array in arrays.items()}
    if len({shape[-1] for shape in shapes.values()}) > 1:
        raise ValueError(f"{name}weights, {name}means and {name}stds must have the same "
                         f"number of components (last axis), got shapes {shapes}")
    try:
        return tuple(np.broadcast_arrays(*arrays.values()))
    except ValueError:
        raise ValueError(f"{name}weights, {name}means and {name}stds do not broadcast: "
                         f"{shapes}") from None


def _pair(*args: ArrayLike) -> tuple[tuple[int, ...], Flat, Flat]:
    """Validate (p_weights, ..., q_stds); broadcast the state axes; flatten to (S, K)."""
    p, q = _mixture(*args[:3], name="p_"), _mixture(*args[3:], name="q_")
    try:
        shape = np.broadcast_shapes(p[0].shape[:-1], q[0].shape[:-1])
    except ValueError:
        raise ValueError(f"the leading (state) axes of p {p[0].shape} and q {q[0].shape} "
                         "do not broadcast") from None
    flat = [tuple(np.broadcast_to(a, shape + a.shape[-1:]).reshape(-1, a.shape[-1])
                  for a in mixture) for mixture in (p, q)]
    return shape, flat[0], flat[1]


def log_density(x: ArrayLike, weights: ArrayLike, means: ArrayLike,
                stds: ArrayLike) -> FloatArray:
    r"""Log density of a Gaussian mixture, :math:`\log \sum_k w_k N(x; m_k, s_k^2)`.

    Parameters
    ----------
    x : array_like, shape (..., N)
        Points, on the last axis; leading axes broadcast against the states.
    weights, means, stds : array_like, shape (..., K)
        Mixture parameters: weights >= 0 summing to one (zero weights drop
        their component), stds > 0.

    Returns
    -------
    ndarray, shape (..., N)
        ``log p(x)``, from ``logsumexp`` so that it never underflows.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([0.0, 1.0])
    >>> bool(np.allclose(log_density(x, [1.0], [0.0], [1.0]), -x**2 / 2 - np.log(2 * np.pi) / 2))
    True
    """
    weights, means, stds = _mixture(weights, means, stds)
    x = np.asarray(x, dtype=float)
    if x.ndim == 0:
        raise ValueError(f"x must have shape (..., N), got shape {x.shape}")
    z = (x[..., :, None] - means[..., None, :]) / stds[..., None, :]
    log_components = -0.5 * z * z - np.log(stds * np.sqrt(2.0 * np.pi))[..., None, :]
    return logsumexp(log_components, axis=-1, b=weights[..., None, :])


def density(x: ArrayLike, weights: ArrayLike, means: ArrayLike,
            stds: ArrayLike) -> FloatArray:
    r"""Density of a Gaussian mixture, :math:`\sum_k w_k N(x; m_k, s_k^2)`.

    Parameters
    ----------
    x : array_like, shape (..., N)
        Points, on the last axis.
    weights, means, stds : array_like, shape (..., K)
        Mixture parameters, as in `log_density`.

    Returns
    -------
    ndarray, shape (..., N)
        ``exp(log_density(x, weights, means, stds))``.

    Examples
    --------
    >>> round(float(density([0.0], [0.5, 0.5], [-1.0, 1.0], [1.0, 1.0])[0]), 6)
    0.241971
    """
    return np.exp(log_density(x, weights, means, stds))


def _half_r2_minus_1_minus_log_r2(std1: FloatArray, std2: FloatArray) -> FloatArray:
    """(r^2 - 1 - log r^2) / 2 for r = std1/std2 (1-d arrays), accurate near r = 1."""
    ratio = std1 / std2
    out = ratio * ratio - 1.0 - 2.0 * np.log(ratio)       # fine away from r = 1
    near = np.abs(ratio - 1.0) < 0.25
    # There t = r^2 - 1 = δ(δ + 2) with δ = (s1 - s2)/s2 exact to an ulp.  With
    # y = t/(2 + t), log1p(t) = 2 atanh(y) and t = 2y/(1 - y), so
    # t - log1p(t) = 2y^2/(1 - y) - 2y^3 (1/3 + y^2/5 + ...), which never cancels.
    delta = (std1[near] - std2[near]) / std2[near]
    t = delta * (delta + 2.0)
    y = t / (2.0 + t)
    series = np.zeros_like(y)
    for k in range(16, 0, -1):                  # |y| < 0.28: 16 terms reach 1e-19
        series = series * y * y + 1.0 / (2 * k + 1)
    out[near] = 2.0 * y * y / (1.0 - y) - 2.0 * y**3 * series
    return 0.5 * out


def gaussian_kl(mean1: ArrayLike, std1: ArrayLike, mean2: ArrayLike,
                std2: ArrayLike) -> FloatArray:
    r"""KL divergence of Gaussians,
    :math:`\log\frac{s_2}{s_1} + \frac{s_1^2 + (m_1 - m_2)^2}{2 s_2^2} - \frac12`.

    Evaluated as :math:`\frac12[(r^2 - 1) - \log r^2] + \frac12 d^2`, with
    :math:`r = s_1/s_2` and :math:`d = (m_1 - m_2)/s_2`: two non-negative terms,
    the first from a series near :math:`r = 1`, so tiny divergences keep full
    relative precision.

    Parameters
    ----------
    mean1, std1 : array_like
        The first Gaussian, the "p" of KL(p||q).
    mean2, std2 : array_like
        The second Gaussian.  All four arguments broadcast together.

    Returns
    -------
    ndarray
        :math:`KL(N(m_1, s_1^2) \| N(m_2, s_2^2))` in nats.

    Examples
    --------
    >>> float(gaussian_kl(0.0, 1.0, 3.0, 1.0))
    4.5
    >>> float(gaussian_kl(0.0, 1.0, 0.0, 1.0))
    0.0
    """
    arrays = np.broadcast_arrays(*(np.asarray(v, dtype=float)
                                   for v in (mean1, std1, mean2, std2)))
    mean1, std1, mean2, std2 = (array.reshape(-1) for array in arrays)
    d = (mean1 - mean2) / std2
    return (_half_r2_minus_1_minus_log_r2(std1, std2) + 0.5 * d * d).reshape(arrays[0].shape)


def _normal_interval(upper: FloatArray, lower: FloatArray, delta: FloatArray) -> FloatArray:
    """Φ(upper) - Φ(lower), given delta = upper - lower computed without
    cancellation; accurate to rounding even when the two are close.

    Close points (φ changes by less than a factor e^0.5 between them): the
    21-point Kronrod rule on [lower, upper], exact to rounding for so smooth an
    integrand.  Others: differences of tails on the same side of 0, or of erf
    across it, which lose at most two bits.
    """
    with np.errstate(invalid="ignore", over="ignore"):
        far = np.maximum(np.abs(upper), np.abs(lower))
        close = (np.abs(delta) <= 0.5) & (np.abs(delta) * far <= 0.5)
        middle = 0.5 * (upper + lower)
        nodes = np.where(close, middle, 0.0)[..., None] + np.multiply.outer(
            np.where(close, 0.5 * delta, 0.0), _NODES)
        quadrature = 0.5 * delta * (np.exp(-0.5 * nodes * nodes) @ _KRONROD) / np.sqrt(2 * np.pi)
        above = ndtr(-lower) - ndtr(-upper)
        below = ndtr(upper) - ndtr(lower)
        across = 0.5 * (erf(upper / np.sqrt(2.0)) - erf(lower / np.sqrt(2.0)))
        tails = np.where(lower >= 0, above, np.where(upper <= 0, below, across))
        out = np.where(close, quadrature, tails)
    return np.where(np.isfinite(upper) & np.isfinite(lower), out, 0.0)


def _gaussian_tv(mean1: FloatArray, std1: FloatArray, mean2: FloatArray,
                 std2: FloatArray) -> FloatArray:
    """Total variation of two Gaussians in closed form, as CDF differences
    between the points where the densities cross.

    In the variable u of the narrower one (std s_n; the wider, s_w), with
    r = s_n/s_w, a = (m_n - m_w)/s_w and v = a + r u that of the wider, the
    densities cross where (1 - r^2) u^2 - 2 a r u - a^2 - 2 log(1/r) = 0, and
    the narrower dominates between the roots u_- < u_+.  Then
    TV = [Φ(u_+) - Φ(v_+)] - [Φ(u_-) - Φ(v_-)], two terms of opposite signs
    (u - v, increasing in u, vanishes between the roots), so it never cancels;
    u - v = (1 - r) u - a is formed from differences of the parameters.
    """
    swap = std1 > std2
    narrow_mean, wide_mean = np.where(swap, mean2, mean1), np.where(swap, mean1, mean2)
    narrow, wide = np.minimum(std1, std2), np.maximum(std1, std2)
    r, one_minus_r = narrow / wide, (wide - narrow) / wide
    a = (narrow_mean - wide_mean) / wide
    big_a = one_minus_r * (1.0 + r)                       # 1 - r^2
    b = -2.0 * a * r
    c = -(a * a + 2.0 * np.log1p((wide - narrow) / narrow))
    with np.errstate(divide="ignore", invalid="ignore"):
        root = np.sqrt(b * b - 4.0 * big_a * c)
        q = -0.5 * (b + np.where(b >= 0, root, -root))    # no cancellation
        first, second = q / big_a, c / q
        lo, hi = np.minimum(first, second), np.maximum(first, second)
        terms = [_normal_interval(u, a + r * u, one_minus_r * u - a) for u in (hi, lo)]
    return np.where(q == 0, 0.0, np.clip(terms[0] - terms[1], 0.0, 1.0))


def _gaussian_hellinger2(mean1: FloatArray, std1: FloatArray, mean2: FloatArray,
                         std2: FloatArray) -> FloatArray:
    """Squared Hellinger distance of two Gaussians,
    1 - sqrt(2 s1 s2/(s1^2 + s2^2)) exp(-(m1 - m2)^2 / (4 (s1^2 + s2^2))),
    as -expm1 of the log of the second term, itself from log1p, so that a tiny
    distance keeps its digits."""
    narrow, wide = np.minimum(std1, std2), np.maximum(std1, std2)
    r, d = narrow / wide, (mean1 - mean2) / wide
    total = 1.0 + r * r                      # (s1^2 + s2^2) / s_w^2
    one_minus_r = (wide - narrow) / wide
    # 2 s1 s2/(s1^2 + s2^2) = 2r/(1 + r^2) = 1 - (1 - r)^2/(1 + r^2): the form that
    # is exact where it is far from 1, the log1p one where it is near.
    log_ratio = np.where(r < 0.5, np.log(2.0 * r / total),
                         np.log1p(-one_minus_r * one_minus_r / total))
    log_coefficient = 0.5 * log_ratio - d * d / (4.0 * total)
    return -np.expm1(log_coefficient)


# Seen from the standardised variable z of the integrating component (m_i, s_i),
# log(w_c N(x; m_c, s_c)) = kappa_c - y_c^2/2 + const, y_c = alpha_c + beta_c z,
# with alpha_c = (m_i - m_c)/s_c, beta_c = s_i/s_c and kappa_c = log(w_c s_i/s_c).
# The constant is the same in p and q, so it cancels in f.

def _component_params(own_mean: FloatArray, own_std: FloatArray, weights: FloatArray,
                      means: FloatArray, stds: FloatArray) -> tuple[FloatArray, ...]:
    beta = own_std / stds
    kappa = np.full(weights.shape, -np.inf)             # zero weight: no component
    np.log(weights, out=kappa, where=weights > 0)
    return (own_mean - means) / stds, beta, kappa + np.log(beta)


def _log_mixture(z: FloatArray, minus_half_z2: FloatArray, params: FloatArray,
                 own_first: bool, out: FloatArray, work: FloatArray) -> FloatArray:
    """log Σ_c exp(kappa_c - y_c^2/2) at nodes z (node, panel), written to out.

    params (3, K, panel) holds alpha/sqrt(2), beta/sqrt(2) and kappa: per-panel
    rows that broadcast along z's contiguous rows.  With own_first, component 0
    is the integrating one, whose y is z.  work is scratch, (2,) + z.shape.
    """
    alpha, beta, kappa = params

    def log_component(c: int, h: FloatArray) -> FloatArray:
        np.multiply(beta[c], z, out=h)
        h += alpha[c]
        np.square(h, out=h)
        return np.subtract(kappa[c], h, out=h)

    if own_first:
        np.add(kappa[0], minus_half_z2, out=out)
    else:
        log_component(0, out)
    if len(kappa) == 2:
        second, larger = log_component(1, work[0]), work[1]
        np.maximum(out, second, out=larger)
        np.minimum(out, second, out=out)
        out -= larger                       # <= 0; -inf only for a zero weight
        # Clipping changes nothing visible and keeps exp and log1p off their
        # slow paths for huge and subnormal arguments.
        np.maximum(out, _CLIP, out=out)
        np.log1p(np.exp(out, out=out), out=out)
        out += larger
    elif len(kappa) > 2:
        terms = np.empty((len(kappa), *z.shape))
        terms[0] = out
        for c in range(1, len(kappa)):
            log_component(c, terms[c])
        largest = terms.max(axis=0)
        terms -= largest
        np.exp(np.maximum(terms, _CLIP, out=terms), out=terms)
        np.log(terms.sum(axis=0, out=out), out=out)
        out += largest
    return out


def _paired_log_ratio(z: FloatArray, minus_half_z2: FloatArray, a: FloatArray, b: FloatArray,
                      d: FloatArray, out: FloatArray, work: FloatArray) -> FloatArray:
    """f = log a - log b at nodes z, for mixtures whose components pair up
    (component c of b is a perturbation of component c of a), written to out.

    With a's responsibilities π_c and δ_c = log(b_c / a_c) pointwise,
    b / a = Σ_c π_c e^δ_c, so f = -log1p(Σ_c π_c expm1(δ_c)), for any pairing
    (a component that a gives zero weight adds b_c / a instead).  δ_c is a
    quadratic in z whose coefficients d (3, K, panel: Δalpha, Δbeta, Δkappa, as
    in the packed parameters) come from differences of the parameters, so
    nearly identical mixtures give f to relative precision instead of the
    ~1e-16 absolute of a difference of two log densities.  Where b / a is far
    from 1 the plain difference is used, which is accurate there (and, as all
    terms of the sum are then below 1.5 in size, the sum is never worse).
    """
    alpha, beta, kappa = a
    terms = np.empty((len(kappa), *z.shape))
    np.add(kappa[0], minus_half_z2, out=terms[0])
    for c in range(1, len(kappa)):
        np.multiply(beta[c], z, out=terms[c])
        terms[c] += alpha[c]
        np.square(terms[c], out=terms[c])
        np.subtract(kappa[c], terms[c], out=terms[c])
    largest = terms.max(axis=0)
    ratio, delta, factor = np.zeros(z.shape), np.empty(z.shape), np.empty(z.shape)
    with np.errstate(invalid="ignore", over="ignore"):
        terms -= largest
        np.exp(terms, out=terms)                        # π_c, unnormalised; no clipping
        for c in range(len(kappa)):
            np.multiply(d[1][c], z, out=delta)
            delta += d[0][c]
            np.multiply(beta[c] + b[1][c], z, out=factor)
            factor += alpha[c] + b[0][c]
            delta *= factor
            np.subtract(d[2][c], delta, out=delta)
            np.expm1(delta, out=delta)
            delta *= terms[c]
            missing = kappa[c] == -np.inf                # zero weight in a: no π_c
            if missing.any():
                delta[:, missing] = 0.0
            ratio += delta
        total = terms.sum(axis=0)
        ratio /= total
        log_a = np.log(total, out=total)
        log_a += largest
        for c in range(len(kappa)):
            missing = kappa[c] == -np.inf                # but b_c / a instead
            if missing.any():
                log_b_c = b[2][c] - (b[0][c] + b[1][c] * z) ** 2
                ratio = np.where(missing, ratio + np.exp(log_b_c - log_a), ratio)
    np.subtract(log_a, _log_mixture(z, minus_half_z2, b, False, out, work), out=out)
    near = np.abs(ratio) < 0.5
    np.log1p(np.maximum(ratio, -0.5, out=ratio), out=ratio)
    np.negative(ratio, out=ratio)
    np.copyto(out, ratio, where=near)
    return out


def _singularities(alpha: FloatArray, beta: FloatArray, kappa: FloatArray,
                   pairs: list[tuple[int, int]] | None = None,
                   ) -> tuple[NDArray[np.intp], FloatArray, FloatArray]:
    """Singularities of log Σ_c exp(h_c) near the real axis, a pair at a time.

    log(e^h_c + e^h_d) is singular where h_c - h_d = iπ (and at the conjugate):
    at the roots of A z^2 + 2 B z + C + 2πi = 0.  A root counts if both
    components matter at its real part.  Returns (job, x, y) for each: its real
    part and its distance from the real axis.  pairs limits the pairs looked
    at (default: all).
    """
    if pairs is None:
        pairs = [(c, d) for c in range(kappa.shape[1]) for d in range(c + 1, kappa.shape[1])]
    alpha, beta, kappa = (np.ascontiguousarray(p.T) for p in (alpha, beta, kappa))
    roots, differences = [], []
    # Zero weights (kappa = -inf) give inf or nan roots, which are discarded.
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        for c, d in pairs:
            a = (beta[c] - beta[d]) * (beta[c] + beta[d])
            b = alpha[c] * beta[c] - alpha[d] * beta[d]
            constant = ((alpha[c] - alpha[d]) * (alpha[c] + alpha[d])
                        - 2.0 * (kappa[c] - kappa[d]) + 2j * np.pi)
            root = np.sqrt(b * b - a * constant)
            q = -(b + np.where((b * root).real >= 0, root, -root))    # no cancellation
            for z in (q / a, constant / q):
                roots.append(z)
                x = z.real     # h_c - h_d at x, to see whether the pair matters there
                differences.append(-0.5 * ((a * x + 2.0 * b) * x + constant.real))
        roots = np.stack(roots) if roots else np.empty((0, alpha.shape[1]), complex)
        x, y = roots.real, np.abs(roots.imag)
        candidate = (np.abs(x) < _Z_MAX) & (y < _SING_Y_MAX)
        if len(kappa) == 2:      # min(h_c, h_d) - log(e^h_c + e^h_d) = -softplus(|h_c - h_d|)
            relevant = np.abs(np.array(differences)) < -_NEGLIGIBLE_LOG
        else:                    # a third component may hide the pair
            x = np.where(candidate, x, 0.0)
            h = [kappa[c] - 0.5 * (alpha[c] + beta[c] * x) ** 2 for c in range(len(kappa))]
            largest = np.maximum.reduce(h)
            log_mix = largest + np.log(sum(np.exp(np.maximum(h_c - largest, _CLIP)) for h_c in h))
            weaker = np.array([np.minimum(h[c][k], h[d][k]) for k, (c, d)
                               in enumerate(pair for pair in pairs for _ in range(2))])
            relevant = weaker.reshape(x.shape) - log_mix > _NEGLIGIBLE_LOG
    root, job = np.nonzero(candidate & relevant)
    return job, x[root, job], y[root, job]


def _graded_points(job: NDArray[np.intp], x: FloatArray, y: FloatArray,
                   ) -> tuple[NDArray[np.intp], FloatArray, FloatArray]:
    """x and x ± FIRST_STEP y GRADING^k for offsets up to GRADED_MAX, with the
    offset of each (0 for x itself): the panel size it sets."""
    step = _FIRST_STEP * np.maximum(y, _SING_Y_MIN)
    levels = np.ceil(np.log(_GRADED_MAX / step) / np.log(_GRADING) + 1e-9)
    count = 1 + 2 * np.maximum(levels, 0).astype(np.intp)
    owner = np.repeat(np.arange(x.size), count)
    index = np.arange(owner.size) - (np.cumsum(count) - count)[owner]   # 0, 1, 2, ...
    factor = np.concatenate([[0.0], _GRADING ** np.arange(count.max(initial=1) // 2)])
    offset = step[owner] * factor[(index + 1) // 2]                   # 0, s, s, 4s, 4s, ...
    points = x[owner] + np.where(index % 2 == 1, -offset, offset)
    inside = np.abs(points) < _Z_MAX
    return job[owner][inside], points[inside], offset[inside]


def _initial_panels(params: tuple[FloatArray, ...], union: bool = False,
                    ) -> tuple[FloatArray, FloatArray, NDArray[np.intp]]:
    """Flat panels (left, right, job): the base grid and the graded points.

    params are the (alpha, beta, kappa) of a and of b.  With union, also the
    singularities of log(a + b): the pairs of one component of a and one of b,
    seen against both mixtures together.  Those are where a and b switch
    dominance, which the integrands of JS, TV and Hellinger (functions of
    a / (a + b)) feel, and KL's does not.
    """
    n_jobs = params[0].shape[0]
    jobs, points = [np.repeat(np.arange(n_jobs), _BASE_GRID.size)], [np.tile(_BASE_GRID, n_jobs)]
    # The panel size each point sets; the two ends are never dropped.
    spacings = [np.tile(np.where(np.abs(_BASE_GRID) < _Z_MAX, _BASE_SPACING, 0.0), n_jobs)]
    found = [_singularities(*params[:3]), _singularities(*params[3:])]
    if union:
        n_a = params[2].shape[1]
        cross = [(c, n_a + d) for c in range(n_a) for d in range(params[5].shape[1])]
        found.append(_singularities(*(np.concatenate([params[k], params[k + 3]], axis=1)
                                      for k in range(3)), pairs=cross))
    for singularities in found:
        for array, new in zip((jobs, points, spacings), _graded_points(*singularities),
                              strict=True):
            array.append(new)
    job, z, spacing = (np.concatenate(v) for v in (jobs, points, spacings))
    order = np.argsort(job * (4.0 * _Z_MAX) + z, kind="stable")   # a fast combined key
    job, z, spacing = job[order], z[order], spacing[order]
    if np.any((job[1:] == job[:-1]) & (z[1:] < z[:-1])):           # the key was too coarse
        order = np.lexsort((z, job))
        job, z, spacing = job[order], z[order], spacing[order]
    # A point nearer than MERGE of its own panel size to a neighbour that sets
    # finer panels only adds a sliver: drop it (on a tie, the right one).
    same, gap = job[1:] == job[:-1], z[1:] - z[:-1]
    drop = np.zeros(z.size, dtype=bool)
    drop[1:] |= same & (spacing[:-1] <= spacing[1:]) & (gap < _MERGE * spacing[1:])
    drop[:-1] |= same & (spacing[1:] < spacing[:-1]) & (gap < _MERGE * spacing[:-1])
    job, z = job[~drop], z[~drop]
    panel = (job[1:] == job[:-1]) & (z[1:] > z[:-1])
    return z[:-1][panel], z[1:][panel], job[:-1][panel]


def _integrate_panels(left: FloatArray, right: FloatArray, job: NDArray[np.intp],
                      a_params: FloatArray, b_params: FloatArray,
                      transform: Callable[[FloatArray], FloatArray] | None,
                      d_params: FloatArray | None = None,
                      ) -> tuple[FloatArray, FloatArray]:
    """The three rules' values (3, panel) and ∫|integrand| (panel) of
    ∫ φ(z) g(f(z)) dz on each panel; a_params, b_params are (3, K, job), and
    d_params, if given, the differences that `_paired_log_ratio` uses."""
    chunk = max(64, _CHUNK_BUDGET // (_NODES.size * max(a_params.shape[1], b_params.shape[1])))
    shape = (_NODES.size, min(chunk, left.size))
    z, minus_half_z2, f, log_b = (np.empty(shape) for _ in range(4))
    work = np.empty((2, *shape))
    values, absolute = np.empty((len(_RULES), left.size)), np.empty(left.size)
    # Parameters per panel, gathered row by row (1-d gathers are fast).
    gathered = [params for params in (a_params, b_params, d_params) if params is not None]
    a_panel, b_panel, *d_panel = (np.empty(params.shape[:2] + job.shape) for params in gathered)
    for params, panel in zip(gathered, (a_panel, b_panel, *d_panel), strict=True):
        for row in np.ndindex(params.shape[:2]):
            np.take(params[row], job, out=panel[row], mode="clip")   # job is in range
    for start in range(0, left.size, chunk):
        part = slice(start, start + chunk)
        n = len(left[part])
        half = 0.5 * (right[part] - left[part])
        zn, m, fn = z[:, :n], minus_half_z2[:, :n], f[:, :n]
        np.multiply(_NODES[:, None], half, out=zn)
        zn += 0.5 * (right[part] + left[part])
        np.multiply(np.square(zn, out=m), -0.5, out=m)
        if d_panel:
            _paired_log_ratio(zn, m, a_panel[:, :, part], b_panel[:, :, part],
                              d_panel[0][:, :, part], fn, work[:, :, :n])
        else:
            _log_mixture(zn, m, a_panel[:, :, part], True, fn, work[:, :, :n])
            fn -= _log_mixture(zn, m, b_panel[:, :, part], False, log_b[:, :n], work[:, :, :n])
        g = fn if transform is None else transform(fn)
        g *= np.exp(m, out=m)
        scale = half / np.sqrt(2.0 * np.pi)
        np.multiply(_RULES @ g, scale, out=values[:, part])
        absolute[part] = (_KRONROD @ np.abs(g, out=g)) * scale
    return values, absolute


def _error_estimate(values: FloatArray, absolute: FloatArray, analytic: bool) -> FloatArray:
    """Error of the Kronrod value.  For an analytic integrand the error of a
    rule exact to degree d falls like ρ^-(d+1): 21-point Kronrod (d = 31) as
    the 1.6th power of 10-point Gauss (d = 19), and as the 2.67th power of the
    11-point rule (d = 11), here taken as 2.5 to stay on the safe side."""
    gauss = np.abs(values[0] - values[1])
    if not analytic:
        return gauss
    scale = np.maximum(absolute, 1e-300)
    from_gauss = np.minimum(gauss / scale, 1.0)
    from_interpolatory = np.minimum(np.abs(values[0] - values[2]) / scale, 1.0)
    return scale * np.maximum(from_gauss**1.6, from_interpolatory**2.5)


def _log_ratio(z: FloatArray, job: NDArray[np.intp], a_packed: FloatArray,
               b_packed: FloatArray, d_packed: FloatArray | None) -> FloatArray:
    """f = log a - log b at points z (point, n) of the jobs job (n,), in chunks
    (from `_paired_log_ratio` when d_packed is given)."""
    out = np.empty(z.shape)
    chunk = max(64, _CHUNK_BUDGET // (z.shape[0] * max(a_packed.shape[1], b_packed.shape[1])))
    for start in range(0, z.shape[1], chunk):
        part = slice(start, start + chunk)
        zn, jobs = np.ascontiguousarray(z[:, part]), job[part]
        minus_half_z2, log_b = -0.5 * zn * zn, np.empty(zn.shape)
        work = np.empty((2, *zn.shape))
        if d_packed is not None:
            out[:, part] = _paired_log_ratio(zn, minus_half_z2, a_packed[:, :, jobs],
                                             b_packed[:, :, jobs], d_packed[:, :, jobs], log_b,
                                             work)
            continue
        _log_mixture(zn, minus_half_z2, a_packed[:, :, jobs], True, out[:, part], work)
        out[:, part] -= _log_mixture(zn, minus_half_z2, b_packed[:, :, jobs], False, log_b, work)
    return out


def _split_at_roots(left: FloatArray, right: FloatArray, job: NDArray[np.intp],
                    a_packed: FloatArray, b_packed: FloatArray, d_packed: FloatArray | None,
                    ) -> tuple[FloatArray, FloatArray, NDArray[np.intp]]:
    """The panels, split at the real roots of f = log a - log b (where a = b).

    |a - b| has a kink at each; split there, it is analytic on every panel, and
    the Kronrod rule converges as fast as for KL.  Roots are bracketed by sign
    changes of f between the ends and nodes of each panel (the panels already
    resolve every feature of a and b) and refined by bisection, for all at
    once, to a few ulps.  A pair of roots closer than the nodes is missed, but
    |a - b| between them is then tiny and the adaptive bisection handles it.
    """
    t = np.concatenate([[-1.0], _NODES, [1.0]])[:, None]
    z = 0.5 * (right + left) + t * (0.5 * (right - left))
    f = _log_ratio(z, job, a_packed, b_packed, d_packed)
    node, panel = np.nonzero(np.sign(f[:-1]) * np.sign(f[1:]) < 0)
    if panel.size == 0:
        return left, right, job
    lo, hi, sign_lo, root_job = z[node, panel], z[node + 1, panel], np.sign(f[node, panel]), \
        job[panel]
    for _ in range(60):
        middle = 0.5 * (lo + hi)
        if np.all((middle == lo) | (middle == hi)):
            break
        same = np.sign(_log_ratio(middle[None], root_job, a_packed, b_packed, d_packed)[0]
                       ) == sign_lo
        lo, hi = np.where(same, middle, lo), np.where(same, hi, middle)
    root = 0.5 * (lo + hi)
    # Every panel from its left end and its roots, in order, to its right end.
    owner = np.concatenate([np.arange(left.size), panel])
    start = np.concatenate([left, root])
    order = np.lexsort((start, owner))
    owner, start = owner[order], start[order]
    end = np.empty_like(start)
    end[:-1] = start[1:]
    last = np.append(owner[1:] != owner[:-1], True)
    end[last] = right[owner[last]]
    return start, end, job[owner]


def _integrate_block(a: Flat, b: Flat, kind: str) -> FloatArray:
    """Σ_i w_i ∫ φ(z) g(log a - log b) dz over the components i of a, per
    state; kind names g and the tolerances."""
    transform, analytic = _TERMS[kind]
    rtol, atol, noise = _TOLERANCES[kind]
    a_weights, a_means, a_stds = a
    n_states, n_a = a_weights.shape
    state, own = np.nonzero(a_weights > 0)              # one job per present component
    weight = a_weights[state, own]
    # Each job's own component goes first: its log density is just kappa - z^2/2.
    order = np.array([[i] + [c for c in range(n_a) if c != i] for i in range(n_a)])[own]
    own_mean, own_std = a_means[state, own][:, None], a_stds[state, own][:, None]
    a_params = _component_params(own_mean, own_std,
                                 *(array[state[:, None], order] for array in a))
    # JS, TV and Hellinger of mixtures with as many components: b's in a's
    # order, so that component c of b pairs with component c of a.
    # Components pair by the order of their means, so that pairing survives
    # a reordering; the identity it uses holds for any pairing.
    paired = kind != "kl" and b[0].shape[1] == n_a
    if paired:
        rows = np.arange(n_states)[:, None]
        matched = np.empty_like(a_means, dtype=np.intp)
        matched[rows, np.argsort(a_means, axis=1)] = np.argsort(b[1], axis=1)
        b = tuple(array[rows, matched] for array in b)
    b_ordered = [array[state[:, None], order] if paired else array[state] for array in b]
    b_params = _component_params(own_mean, own_std, *b_ordered)
    # Packed ([alpha, beta, kappa], component, job), alpha and beta scaled so
    # that kappa - (alpha + beta z)^2 is the log density.
    scale = np.array([np.sqrt(0.5), np.sqrt(0.5), 1.0])[:, None, None]
    a_packed, b_packed = (np.stack([p.T for p in params]) * scale
                          for params in (a_params, b_params))
    d_packed = None
    if paired:
        (wa, ma, sa), (wb, mb, sb) = (array[state[:, None], order] for array in a), b_ordered
        with np.errstate(divide="ignore", invalid="ignore"):
            d_alpha = (own_mean - mb) * (sa - sb) / (sa * sb) + (ma - mb) / sa
            d_beta = own_std * (sa - sb) / (sa * sb)
            d_kappa = np.log1p((wb - wa) / wa) + np.log1p((sa - sb) / sb)
        d_packed = np.stack([d_alpha.T, d_beta.T, d_kappa.T]) * scale

    left, right, job = _initial_panels(a_params + b_params, union=kind != "kl")
    if kind == "tv":
        left, right, job = _split_at_roots(left, right, job, a_packed, b_packed, d_packed)
    total = np.zeros(n_states)
    panels = [np.empty(0)] * 5 + [np.empty(0, dtype=np.intp)]   # of states still refining
    for _ in range(_MAX_ROUNDS):
        values, absolute = _integrate_panels(left, right, job, a_packed, b_packed, transform,
                                             d_packed)
        new = (left, right, values[0], _error_estimate(values, absolute, analytic), absolute, job)
        panels = [np.concatenate([old, add]) if old.size else add
                  for old, add in zip(panels, new, strict=True)]
        lefts, rights, kronrod, errors, absolutes, panel_job = panels
        panel_state, panel_weight = state[panel_job], weight[panel_job]
        kronrod_sum, error_sum, absolute_sum = (
            np.bincount(panel_state, panel_weight * x, minlength=n_states)
            for x in (kronrod, errors, absolutes))
        active = np.bincount(panel_state, minlength=n_states)     # panels per state
        total[active > 0] = kronrod_sum[active > 0]
        # Rounding in f bounds what is attainable: no tolerance below a few ulps.
        tolerance = np.maximum.reduce([rtol * np.abs(total), np.full(n_states, atol),
                                       4 * _EPS * absolute_sum, noise * np.sqrt(np.abs(total))])
        unfinished = (error_sum > tolerance) & (active < _MAX_PANELS_PER_STATE)
        split = (unfinished[panel_state] & (rights - lefts > 1e-12)
                 & (panel_weight * errors >= (tolerance / np.maximum(active, 1))[panel_state]))
        if not split.any():
            break
        middle = 0.5 * (lefts[split] + rights[split])
        left = np.concatenate([lefts[split], middle])
        right = np.concatenate([middle, rights[split]])
        job = np.tile(panel_job[split], 2)
        keep = unfinished[panel_state] & ~split           # finished states leave
        panels = [array[keep] for array in panels]
    return total


def _integrate(a: Flat, b: Flat, kind: str) -> FloatArray:
    """`_integrate_block` over blocks of states small enough for memory;
    kind names g and the tolerances.  States where a and b are the same
    mixture, component for component, give exactly 0 (the rounding of f would
    leave ~1e-16)."""
    n_states, n_a = a[0].shape
    n_b = b[0].shape[1]
    out = np.zeros(n_states)
    rest: slice | NDArray[np.intp] = slice(None)          # the usual case: no copies
    if n_a == n_b:
        same = np.all((a[0] == b[0]) & (a[1] == b[1]) & (a[2] == b[2]), axis=1)
        if same.any():
            rest = np.flatnonzero(~same)
            a, b = tuple(x[rest] for x in a), tuple(x[rest] for x in b)
    block = max(1, _BLOCK_BUDGET // (n_a * (n_a * n_a + n_b * n_b) * (max(n_a, n_b) + 32)))
    out[rest] = np.concatenate([np.empty(0)] + [
        _integrate_block(tuple(x[s:s + block] for x in a), tuple(x[s:s + block] for x in b),
                         kind)
        for s in range(0, a[0].shape[0], block)])
    return out


def _js_term(f: FloatArray) -> FloatArray:
    # With t = (p - q)/(p + q) = tanh(f/2), the JS integrand is
    # (p + q)/4 [(1 + t) log(1 + t) + (1 - t) log(1 - t)] >= 0: no cancellation
    # between the two halves, so it stays accurate when JS is tiny.  Per unit
    # of p + q, with u = |f|/2 (so that atanh t = u), g = u tanh u - log cosh u.
    u = 0.5 * np.abs(f)
    small = np.minimum(u, 1.0)        # log cosh u = log1p(2 sinh^2(u/2)), exact near 0
    near = small * np.tanh(small) - np.log1p(2.0 * np.sinh(0.5 * small) ** 2)
    e = np.exp(-2.0 * np.maximum(u, 1.0))   # far: log 2 - 2u e^-2u/(1 + e^-2u) - log1p(e^-2u)
    far = np.log(2.0) - 2.0 * np.maximum(u, 1.0) * e / (1.0 + e) - np.log1p(e)
    return np.where(u < 1.0, near, far)


def _tv_term(f: FloatArray) -> FloatArray:
    # |p - q| / (p + q) = |tanh(f / 2)|
    return np.abs(np.tanh(0.5 * f))


def _hellinger_term(f: FloatArray) -> FloatArray:
    # (sqrt p - sqrt q)^2 / (p + q) = (1 - e^{-|f|/2})^2 / (1 + e^{-|f|}), even in f
    magnitude = np.abs(f)
    return np.expm1(-0.5 * magnitude) ** 2 / (1.0 + np.exp(-magnitude))


# g(f), and whether it is analytic on every panel: the TV integrand has kinks
# where p = q, but the panels are split there (`_split_at_roots`).
_TERMS = {"kl": (None, True), "js": (_js_term, True), "tv": (_tv_term, True),
          "hellinger": (_hellinger_term, True)}


def _symmetric(p: Flat, q: Flat, kind: str) -> FloatArray:
    """½ [∫ p g(log p - log q) + ∫ q g(log q - log p)]: each mixture's mass is
    integrated in the variables of its own components, so none is missed."""
    return 0.5 * (_integrate(p, q, kind) + _integrate(q, p, kind))


def kl_divergence(p_weights: ArrayLike, p_means: ArrayLike, p_stds: ArrayLike,
                  q_weights: ArrayLike, q_means: ArrayLike, q_stds: ArrayLike) -> FloatArray:
    r"""Kullback-Leibler divergence :math:`KL(p\|q) = \int p(x) \log\frac{p(x)}{q(x)}\,dx`.

    Parameters
    ----------
    p_weights, p_means, p_stds : array_like, shape (..., Kp)
        Mixture p: weights >= 0 summing to one (not renormalised; zero weights
        drop their component), stds > 0.
    q_weights, q_means, q_stds : array_like, shape (..., Kq)
        Mixture q, likewise.  The leading (state) axes of p and q broadcast.

    Returns
    -------
    ndarray, shape (...)
        KL(p||q) in nats for every state, in closed form when both are
        Gaussian; relative error about 1e-13 (absolute 1e-15 when tiny).
        Never negative: the rounding that can leave about -1e-17 where
        p = q is clamped at 0, and identical mixtures give exactly 0.  Weights
        are taken as given, not renormalised: if they miss 1 by ε, the value
        is off by about ε.

    Examples
    --------
    >>> round(float(kl_divergence([1.0], [0.0], [1.0], [0.5, 0.5], [0.0, 3.0], [1.0, 1.0])), 4)
    0.5268
    >>> float(kl_divergence([1.0], [0.0], [1.0], [1.0], [3.0], [1.0]))
    4.5
    """
    shape, p, q = _pair(p_weights, p_means, p_stds, q_weights, q_means, q_stds)
    if p[0].shape[1] == 1 and q[0].shape[1] == 1:
        return gaussian_kl(p[1][:, 0], p[2][:, 0], q[1][:, 0], q[2][:, 0]).reshape(shape)
    # The integrand p log(p/q) takes both signs, so rounding can leave a tiny
    # negative total (about -1e-17) where p = q; KL of normalised densities is
    # never negative, so it is clamped at 0.
    return np.maximum(_integrate(p, q, "kl"), 0.0).reshape(shape)


def forward_kl(p: Mixture, q: Mixture) -> FloatArray:
    r"""Forward KL divergence :math:`KL(p\|q) = \int p \log(p/q)\,dx`.

    Parameters
    ----------
    p, q : tuple of array_like
        Each ``(weights, means, stds)``, arrays of shape (..., K).

    Returns
    -------
    ndarray, shape (...)
        ``kl_divergence(*p, *q)``.

    Examples
    --------
    >>> p, q = ([1.0], [0.0], [1.0]), ([0.5, 0.5], [0.0, 3.0], [1.0, 1.0])
    >>> round(float(forward_kl(p, q) + reverse_kl(p, q)), 12)   # exactly 9/4 here
    2.25
    """
    return kl_divergence(*p, *q)


def reverse_kl(p: Mixture, q: Mixture) -> FloatArray:
    r"""Reverse KL divergence :math:`KL(q\|p) = \int q \log(q/p)\,dx`.

    Parameters
    ----------
    p, q : tuple of array_like
        Each ``(weights, means, stds)``, arrays of shape (..., K).

    Returns
    -------
    ndarray, shape (...)
        ``kl_divergence(*q, *p)``.

    Examples
    --------
    >>> p, q = ([1.0], [0.0], [1.0]), ([0.5, 0.5], [0.0, 3.0], [1.0, 1.0])
    >>> round(float(reverse_kl(p, q)), 4)
    1.7232
    """
    return kl_divergence(*q, *p)


def js_divergence(p_weights: ArrayLike, p_means: ArrayLike, p_stds: ArrayLike,
                  q_weights: ArrayLike, q_means: ArrayLike, q_stds: ArrayLike) -> FloatArray:
    r"""Jensen-Shannon divergence :math:`\frac12 KL(p\|m) + \frac12 KL(q\|m)`,
    :math:`m = \frac{p + q}{2}`.

    Computed as :math:`\frac14\int (p + q)[(1+t)\log(1+t) + (1-t)\log(1-t)]`,
    :math:`t = \frac{p - q}{p + q}`: an integral of non-negative terms, so it
    stays accurate when tiny.

    Parameters
    ----------
    p_weights, p_means, p_stds, q_weights, q_means, q_stds : array_like
        Mixtures p and q, as in `kl_divergence`.

    Returns
    -------
    ndarray, shape (...)
        JS divergence in nats, in [0, log 2]; relative error about 1e-13,
        also for nearly identical mixtures with as many components (others:
        absolute about 1e-16 sqrt(JS)).

    Examples
    --------
    >>> import numpy as np
    >>> abs(float(js_divergence([1.0], [0.0], [1.0], [1.0], [0.0], [1.0]))) < 1e-15
    True
    >>> js = float(js_divergence([1.0], [0.0], [1.0], [1.0], [100.0], [1.0]))
    >>> round(js, 12) == round(float(np.log(2)), 12)   # disjoint: log 2
    True
    """
    shape, p, q = _pair(p_weights, p_means, p_stds, q_weights, q_means, q_stds)
    return np.clip(_symmetric(p, q, "js"), 0.0, np.log(2.0)).reshape(shape)


def tv_distance(p_weights: ArrayLike, p_means: ArrayLike, p_stds: ArrayLike,
                q_weights: ArrayLike, q_means: ArrayLike, q_stds: ArrayLike) -> FloatArray:
    r"""Total variation distance :math:`\frac12 \int |p(x) - q(x)|\,dx`.

    Parameters
    ----------
    p_weights, p_means, p_stds, q_weights, q_means, q_stds : array_like
        Mixtures p and q, as in `kl_divergence`.

    Returns
    -------
    ndarray, shape (...)
        Total variation in [0, 1]; relative error about 1e-13 (absolute
        1e-16 for nearly identical mixtures with unlike components), from
        CDF differences between the crossing points for two Gaussians.

    Examples
    --------
    >>> from scipy.stats import norm
    >>> tv = float(tv_distance([1.0], [0.0], [1.0], [1.0], [1.0], [1.0]))
    >>> round(tv, 10) == round(float(2 * norm.cdf(0.5) - 1), 10)   # N(0,1) vs N(1,1)
    True
    """
    shape, p, q = _pair(p_weights, p_means, p_stds, q_weights, q_means, q_stds)
    if p[0].shape[1] == 1 and q[0].shape[1] == 1:
        return _gaussian_tv(p[1][:, 0], p[2][:, 0], q[1][:, 0], q[2][:, 0]).reshape(shape)
    return np.clip(_symmetric(p, q, "tv"), 0.0, 1.0).reshape(shape)


def hellinger_distance(p_weights: ArrayLike, p_means: ArrayLike, p_stds: ArrayLike,
                       q_weights: ArrayLike, q_means: ArrayLike, q_stds: ArrayLike) -> FloatArray:
    r"""Hellinger distance :math:`\sqrt{1 - \int \sqrt{p(x) q(x)}\,dx}`.

    Computed as the square root of :math:`\frac12\int(\sqrt p - \sqrt q)^2`, an
    integral of non-negative terms, to relative precision, so it stays accurate
    when tiny.

    Parameters
    ----------
    p_weights, p_means, p_stds, q_weights, q_means, q_stds : array_like
        Mixtures p and q, as in `kl_divergence`.

    Returns
    -------
    ndarray, shape (...)
        Hellinger distance in [0, 1]; relative error about 1e-13, in closed
        form for two Gaussians.

    Examples
    --------
    >>> import numpy as np
    >>> h = float(hellinger_distance([1.0], [0.0], [1.0], [1.0], [2.0], [1.0]))
    >>> round(h, 12) == round(float(np.sqrt(1 - np.exp(-0.5))), 12)   # 1 - h^2 = e^(-d^2/8)
    True
    """
    shape, p, q = _pair(p_weights, p_means, p_stds, q_weights, q_means, q_stds)
    if p[0].shape[1] == 1 and q[0].shape[1] == 1:
        squared = _gaussian_hellinger2(p[1][:, 0], p[2][:, 0], q[1][:, 0], q[2][:, 0])
    else:
        squared = _symmetric(p, q, "hellinger")
    return np.sqrt(np.clip(squared, 0.0, 1.0)).reshape(shape)


# The divergences by the names the keyframe format gives them (style.bars), in order.
DIVERGENCES = ("forward", "reverse", "js", "tv", "hellinger")
# The bounded ones and their bounds (JS in nats); the KLs are unbounded.
DIVERGENCE_BOUNDS = {"js": float(np.log(2.0)), "tv": 1.0, "hellinger": 1.0}


def divergence_values(p: Mixture, q: Mixture,
                      names: tuple[str, ...] | list[str] = DIVERGENCES) -> dict[str, FloatArray]:
    r"""The named divergences of p and q, for every state at once.

    ``forward`` is :math:`KL(p\|q)`, ``reverse`` :math:`KL(q\|p)`, ``js`` the
    Jensen-Shannon divergence (nats), ``tv`` the total variation distance and
    ``hellinger`` the Hellinger distance; only the named ones are computed.

    Parameters
    ----------
    p, q : tuple of array_like
        Each ``(weights, means, stds)`` (a ``kldemo.timeline.Mixture`` will do), arrays
        of shape (..., K) whose leading axes broadcast.
    names : sequence of str
        Any of `DIVERGENCES`.

    Returns
    -------
    dict of str to ndarray
        In the order of ``names``, each of shape (...).

    Examples
    --------
    >>> p, q = ([1.0], [0.0], [1.0]), ([1.0], [2.0], [1.0])
    >>> values = divergence_values(p, q, ["forward", "reverse", "tv"])
    >>> [round(float(v), 6) for v in values.values()]   # 2, 2 and 2Φ(1) - 1
    [2.0, 2.0, 0.682689]
    """
    unknown = [name for name in names if name not in DIVERGENCES]
    if unknown:
        raise ValueError(f"unknown divergence names {unknown}; "
                         f"choose from {', '.join(DIVERGENCES)}")
    functions = {"forward": forward_kl, "reverse": reverse_kl,
                 "js": lambda a, b: js_divergence(*a, *b),
                 "tv": lambda a, b: tv_distance(*a, *b),
                 "hellinger": lambda a, b: hellinger_distance(*a, *b)}
    p, q = tuple(p), tuple(q)
    return {name: functions[name](p, q) for name in names}
