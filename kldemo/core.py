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
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import logsumexp

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
# (relative, absolute) tolerances: for the squared Hellinger distance a relative
# one, so that its square root stays accurate when tiny.
_TOLERANCES = {"kl": (1e-13, 1e-15), "js": (1e-12, 1e-13), "tv": (0.0, 1e-11),
               "hellinger": (1e-12, 1e-30)}


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


def _singularities(alpha: FloatArray, beta: FloatArray, kappa: FloatArray,
                   ) -> tuple[NDArray[np.intp], FloatArray, FloatArray]:
    """Singularities of log Σ_c exp(h_c) near the real axis, a pair at a time.

    log(e^h_c + e^h_d) is singular where h_c - h_d = iπ (and at the conjugate):
    at the roots of A z^2 + 2 B z + C + 2πi = 0.  A root counts if both
    components matter at its real part.  Returns (job, x, y) for each: its real
    part and its distance from the real axis.
    """
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


def _initial_panels(params: tuple[FloatArray, ...],
                    ) -> tuple[FloatArray, FloatArray, NDArray[np.intp]]:
    """Flat panels (left, right, job): the base grid and the graded points."""
    n_jobs = params[0].shape[0]
    jobs, points = [np.repeat(np.arange(n_jobs), _BASE_GRID.size)], [np.tile(_BASE_GRID, n_jobs)]
    # The panel size each point sets; the two ends are never dropped.
    spacings = [np.tile(np.where(np.abs(_BASE_GRID) < _Z_MAX, _BASE_SPACING, 0.0), n_jobs)]
    for alpha, beta, kappa in (params[:3], params[3:]):
        for array, new in zip((jobs, points, spacings),
                              _graded_points(*_singularities(alpha, beta, kappa)), strict=True):
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
                      ) -> tuple[FloatArray, FloatArray]:
    """The three rules' values (3, panel) and ∫|integrand| (panel) of
    ∫ φ(z) g(f(z)) dz on each panel; a_params, b_params are (3, K, job)."""
    chunk = max(64, _CHUNK_BUDGET // (_NODES.size * max(a_params.shape[1], b_params.shape[1])))
    shape = (_NODES.size, min(chunk, left.size))
    z, minus_half_z2, f, log_b = (np.empty(shape) for _ in range(4))
    work = np.empty((2, *shape))
    values, absolute = np.empty((len(_RULES), left.size)), np.empty(left.size)
    # Parameters per panel, gathered row by row (1-d gathers are fast).
    a_panel, b_panel = (np.empty(params.shape[:2] + job.shape) for params in (a_params, b_params))
    for params, panel in ((a_params, a_panel), (b_params, b_panel)):
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


def _integrate_block(a: Flat, b: Flat, transform: Callable[[FloatArray], FloatArray] | None,
                     analytic: bool, rtol: float, atol: float) -> FloatArray:
    """Σ_i w_i ∫ φ(z) g(log a - log b) dz over the components i of a, per state."""
    a_weights, a_means, a_stds = a
    n_states, n_a = a_weights.shape
    state, own = np.nonzero(a_weights > 0)              # one job per present component
    weight = a_weights[state, own]
    # Each job's own component goes first: its log density is just kappa - z^2/2.
    order = np.array([[i] + [c for c in range(n_a) if c != i] for i in range(n_a)])[own]
    own_mean, own_std = a_means[state, own][:, None], a_stds[state, own][:, None]
    a_params = _component_params(own_mean, own_std,
                                 *(array[state[:, None], order] for array in a))
    b_params = _component_params(own_mean, own_std, *(array[state] for array in b))
    # Packed ([alpha, beta, kappa], component, job), alpha and beta scaled so
    # that kappa - (alpha + beta z)^2 is the log density.
    scale = np.array([np.sqrt(0.5), np.sqrt(0.5), 1.0])[:, None, None]
    a_packed, b_packed = (np.stack([p.T for p in params]) * scale
                          for params in (a_params, b_params))

    left, right, job = _initial_panels(a_params + b_params)
    total = np.zeros(n_states)
    panels = [np.empty(0)] * 5 + [np.empty(0, dtype=np.intp)]   # of states still refining
    for _ in range(_MAX_ROUNDS):
        values, absolute = _integrate_panels(left, right, job, a_packed, b_packed, transform)
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
        tolerance = np.maximum(np.maximum(rtol * np.abs(total), atol), 4 * _EPS * absolute_sum)
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
    kind names g and the tolerances."""
    transform, analytic = _TERMS[kind]
    n_states, n_a = a[0].shape
    n_b = b[0].shape[1]
    block = max(1, _BLOCK_BUDGET // (n_a * (n_a * n_a + n_b * n_b) * (max(n_a, n_b) + 32)))
    return np.concatenate([np.empty(0)] + [
        _integrate_block(tuple(x[s:s + block] for x in a), tuple(x[s:s + block] for x in b),
                         transform, analytic, *_TOLERANCES[kind])
        for s in range(0, n_states, block)])


def _js_term(f: FloatArray) -> FloatArray:
    # log(2p / (p + q)) = log 2 - log(1 + e^-f), as a stable softplus
    return np.log(2.0) - np.maximum(-f, 0.0) - np.log1p(np.exp(np.maximum(-np.abs(f), _CLIP)))


def _tv_term(f: FloatArray) -> FloatArray:
    # |p - q| / (p + q) = |tanh(f / 2)|
    return np.abs(np.tanh(0.5 * f))


def _hellinger_term(f: FloatArray) -> FloatArray:
    # (sqrt p - sqrt q)^2 / (p + q) = (1 - e^{-|f|/2})^2 / (1 + e^{-|f|}), even in f
    magnitude = np.abs(f)
    return np.expm1(-0.5 * magnitude) ** 2 / (1.0 + np.exp(-magnitude))


# g(f), and whether it is analytic: the TV integrand has kinks where p = q, so
# its error estimate is the plain Gauss/Kronrod difference.
_TERMS = {"kl": (None, True), "js": (_js_term, True), "tv": (_tv_term, False),
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
    return _integrate(p, q, "kl").reshape(shape)


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

    Computed as :math:`\frac12\int p\log\frac{2p}{p+q} + \frac12\int q\log\frac{2q}{p+q}`.

    Parameters
    ----------
    p_weights, p_means, p_stds, q_weights, q_means, q_stds : array_like
        Mixtures p and q, as in `kl_divergence`.

    Returns
    -------
    ndarray, shape (...)
        JS divergence in nats, in [0, log 2]; absolute error about 1e-12.

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
    return _symmetric(p, q, "js").reshape(shape)


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
        Total variation in [0, 1]; absolute error about 1e-11.

    Examples
    --------
    >>> from scipy.stats import norm
    >>> tv = float(tv_distance([1.0], [0.0], [1.0], [1.0], [1.0], [1.0]))
    >>> round(tv, 10) == round(float(2 * norm.cdf(0.5) - 1), 10)   # N(0,1) vs N(1,1)
    True
    """
    shape, p, q = _pair(p_weights, p_means, p_stds, q_weights, q_means, q_stds)
    return _symmetric(p, q, "tv").reshape(shape)


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
        Hellinger distance in [0, 1]; absolute error about 1e-12.

    Examples
    --------
    >>> import numpy as np
    >>> h = float(hellinger_distance([1.0], [0.0], [1.0], [1.0], [2.0], [1.0]))
    >>> round(h, 12) == round(float(np.sqrt(1 - np.exp(-0.5))), 12)   # 1 - h^2 = e^(-d^2/8)
    True
    """
    shape, p, q = _pair(p_weights, p_means, p_stds, q_weights, q_means, q_stds)
    return np.sqrt(np.clip(_symmetric(p, q, "hellinger"), 0.0, 1.0)).reshape(shape)


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
