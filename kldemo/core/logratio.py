"""Integrals ``∫ a g(log a - log b) dx`` of two Gaussian mixtures, with the driver.

Split over the components of ``a``, each integrated in its own standardised variable
``z = (x - m_i) / s_i`` on ``|z| <= 9`` (the Gaussian tail beyond holds 2e-19 of the
mass; weighted by a quadratic ``f`` it stays below 1e-17)::

    ∫ a g(f) dx = Σ_i w_i ∫ φ(z) g(f(m_i + s_i z)) dz,   f = log a - log b.

``f`` is evaluated pointwise as a difference of log-sum-exps (:func:`_log_mixture`), so
nearly equal mixtures do not cancel; for mixtures with as many components it comes from
differences of paired parameters (:func:`_paired_log_ratio`). The panels and the
adaptive bisection are :mod:`kldemo.core.quadrature`'s; the states are integrated in
blocks small enough for memory. ``kind`` names g and the tolerances: ``kl`` (g(f) = f),
``js``, ``tv`` and ``hellinger`` (functions of a / (a + b), whose panels also grade
towards where a and b switch dominance; TV's are split at the real roots of f).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from kldemo.core.quadrature import (
    CLIP,
    NODES,
    Integrand,
    StateTolerance,
    component_params,
    initial_panels,
    integrate,
)

__all__ = ["Flat", "log_ratio_integral", "symmetric_integral"]

FloatArray = NDArray[np.float64]
Flat = tuple[FloatArray, FloatArray, FloatArray]  # (weights, means, stds), each (S, K)

_MAX_ROUNDS = 50
_MAX_PANELS_PER_STATE = 20_000
_BLOCK_BUDGET = 4_000_000  # bounds the temporaries of one block of states
_CHUNK_BUDGET = 50_000  # elements per evaluation temporary (cache sized)
_EPS = np.finfo(float).eps
# (relative, absolute, noise) tolerances of each integral.  The integrands of
# JS, TV and squared Hellinger are >= 0, so a relative tolerance holds down to
# tiny values, until the rounding of f = log p - log q (a few ulps of the log
# densities, ~1e-16) dominates: there TV's integrand is noise of ~1e-16 and
# those of JS and Hellinger^2 (~f^2/8) noise of ~1e-16 |f|, ~1e-16 sqrt(value)
# in total; asking for less than that noise would only bisect it forever.
_TOLERANCES = {
    "kl": (1e-13, 1e-15, 0.0),
    "js": (1e-13, 1e-30, 4 * _EPS),
    "tv": (1e-13, 1e-16, 0.0),
    "hellinger": (1e-13, 1e-30, 4 * _EPS),
}


def _log_mixture(
    z: FloatArray,
    minus_half_z2: FloatArray,
    params: FloatArray,
    own_first: bool,
    out: FloatArray,
    work: FloatArray,
) -> FloatArray:
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
        out -= larger  # <= 0; -inf only for a zero weight
        # Clipping changes nothing visible and keeps exp and log1p off their
        # slow paths for huge and subnormal arguments.
        np.maximum(out, CLIP, out=out)
        np.log1p(np.exp(out, out=out), out=out)
        out += larger
    elif len(kappa) > 2:
        terms = np.empty((len(kappa), *z.shape))
        terms[0] = out
        for c in range(1, len(kappa)):
            log_component(c, terms[c])
        largest = terms.max(axis=0)
        terms -= largest
        np.exp(np.maximum(terms, CLIP, out=terms), out=terms)
        np.log(terms.sum(axis=0, out=out), out=out)
        out += largest
    return out


def _paired_log_ratio(
    z: FloatArray,
    minus_half_z2: FloatArray,
    a: FloatArray,
    b: FloatArray,
    d: FloatArray,
    out: FloatArray,
    work: FloatArray,
) -> FloatArray:
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
        np.exp(terms, out=terms)  # π_c, unnormalised; no clipping
        for c in range(len(kappa)):
            np.multiply(d[1][c], z, out=delta)
            delta += d[0][c]
            np.multiply(beta[c] + b[1][c], z, out=factor)
            factor += alpha[c] + b[0][c]
            delta *= factor
            np.subtract(d[2][c], delta, out=delta)
            np.expm1(delta, out=delta)
            delta *= terms[c]
            missing = kappa[c] == -np.inf  # zero weight in a: no π_c
            if missing.any():
                delta[:, missing] = 0.0
            ratio += delta
        total = terms.sum(axis=0)
        ratio /= total
        log_a = np.log(total, out=total)
        log_a += largest
        for c in range(len(kappa)):
            missing = kappa[c] == -np.inf  # but b_c / a instead
            if missing.any():
                log_b_c = b[2][c] - (b[0][c] + b[1][c] * z) ** 2
                ratio = np.where(missing, ratio + np.exp(log_b_c - log_a), ratio)
    np.subtract(log_a, _log_mixture(z, minus_half_z2, b, False, out, work), out=out)
    near = np.abs(ratio) < 0.5
    np.log1p(np.maximum(ratio, -0.5, out=ratio), out=ratio)
    np.negative(ratio, out=ratio)
    np.copyto(out, ratio, where=near)
    return out


def _integrand(
    a_params: FloatArray,
    b_params: FloatArray,
    transform: Callable[[FloatArray], FloatArray] | None,
    d_params: FloatArray | None = None,
) -> Integrand:
    """``e^(-z²/2) g(f(z))`` at nodes z of panels of jobs job, for the driver; a_params,
    b_params are (3, K, job), and d_params, if given, the differences that
    `_paired_log_ratio` uses."""
    gathered = [params for params in (a_params, b_params, d_params) if params is not None]

    def integrand(z: FloatArray, job: NDArray[np.intp]) -> FloatArray:
        # Parameters per panel, gathered row by row (1-d gathers are fast).
        a_panel, b_panel, *d_panel = (np.empty(params.shape[:2] + job.shape) for params in gathered)
        for params, panel in zip(gathered, (a_panel, b_panel, *d_panel), strict=True):
            for row in np.ndindex(params.shape[:2]):
                np.take(params[row], job, out=panel[row], mode="clip")  # job is in range
        minus_half_z2, f = np.empty(z.shape), np.empty(z.shape)
        work = np.empty((2, *z.shape))
        np.multiply(np.square(z, out=minus_half_z2), -0.5, out=minus_half_z2)
        if d_panel:
            _paired_log_ratio(z, minus_half_z2, a_panel, b_panel, d_panel[0], f, work)
        else:
            _log_mixture(z, minus_half_z2, a_panel, True, f, work)
            f -= _log_mixture(z, minus_half_z2, b_panel, False, np.empty(z.shape), work)
        g = f if transform is None else transform(f)
        g *= np.exp(minus_half_z2, out=minus_half_z2)
        return g

    return integrand


def _log_ratio(
    z: FloatArray,
    job: NDArray[np.intp],
    a_packed: FloatArray,
    b_packed: FloatArray,
    d_packed: FloatArray | None,
) -> FloatArray:
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
            out[:, part] = _paired_log_ratio(
                zn,
                minus_half_z2,
                a_packed[:, :, jobs],
                b_packed[:, :, jobs],
                d_packed[:, :, jobs],
                log_b,
                work,
            )
            continue
        _log_mixture(zn, minus_half_z2, a_packed[:, :, jobs], True, out[:, part], work)
        out[:, part] -= _log_mixture(zn, minus_half_z2, b_packed[:, :, jobs], False, log_b, work)
    return out


def _split_at_roots(
    left: FloatArray,
    right: FloatArray,
    job: NDArray[np.intp],
    a_packed: FloatArray,
    b_packed: FloatArray,
    d_packed: FloatArray | None,
) -> tuple[FloatArray, FloatArray, NDArray[np.intp]]:
    """The panels, split at the real roots of f = log a - log b (where a = b).

    |a - b| has a kink at each; split there, it is analytic on every panel, and
    the Kronrod rule converges as fast as for KL.  Roots are bracketed by sign
    changes of f between the ends and nodes of each panel (the panels already
    resolve every feature of a and b) and refined by bisection, for all at
    once, to a few ulps.  A pair of roots closer than the nodes is missed, but
    |a - b| between them is then tiny and the adaptive bisection handles it.
    """
    t = np.concatenate([[-1.0], NODES, [1.0]])[:, None]
    z = 0.5 * (right + left) + t * (0.5 * (right - left))
    f = _log_ratio(z, job, a_packed, b_packed, d_packed)
    node, panel = np.nonzero(np.sign(f[:-1]) * np.sign(f[1:]) < 0)
    if panel.size == 0:
        return left, right, job
    lo, hi, sign_lo, root_job = (
        z[node, panel],
        z[node + 1, panel],
        np.sign(f[node, panel]),
        job[panel],
    )
    for _ in range(60):
        middle = 0.5 * (lo + hi)
        if np.all((middle == lo) | (middle == hi)):
            break
        same = (
            np.sign(_log_ratio(middle[None], root_job, a_packed, b_packed, d_packed)[0]) == sign_lo
        )
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


def _jobs(a: Flat, b: Flat, kind: str) -> tuple[FloatArray, ...]:
    """One job per present component of a: its state, weight, and the components of a
    and b seen from it (:func:`kldemo.core.quadrature.component_params`, and packed
    (3, K, job) for the integrand, with the differences of paired components)."""
    a_weights, a_means, a_stds = a
    n_states, n_a = a_weights.shape
    state, own = np.nonzero(a_weights > 0)  # one job per present component
    weight = a_weights[state, own]
    # Each job's own component goes first: its log density is just kappa - z^2/2.
    order = np.array([[i] + [c for c in range(n_a) if c != i] for i in range(n_a)])[own]
    own_mean, own_std = a_means[state, own][:, None], a_stds[state, own][:, None]
    a_params = component_params(own_mean, own_std, *(array[state[:, None], order] for array in a))
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
    b_params = component_params(own_mean, own_std, *b_ordered)
    # Packed ([alpha, beta, kappa], component, job), alpha and beta scaled so
    # that kappa - (alpha + beta z)^2 is the log density.
    scale = np.array([np.sqrt(0.5), np.sqrt(0.5), 1.0])[:, None, None]
    a_packed, b_packed = (
        np.stack([p.T for p in params]) * scale for params in (a_params, b_params)
    )
    d_packed = None
    if paired:
        (wa, ma, sa), (wb, mb, sb) = (array[state[:, None], order] for array in a), b_ordered
        with np.errstate(divide="ignore", invalid="ignore"):
            d_alpha = (own_mean - mb) * (sa - sb) / (sa * sb) + (ma - mb) / sa
            d_beta = own_std * (sa - sb) / (sa * sb)
            d_kappa = np.log1p((wb - wa) / wa) + np.log1p((sa - sb) / sb)
        d_packed = np.stack([d_alpha.T, d_beta.T, d_kappa.T]) * scale

    return state, weight, a_params + b_params, a_packed, b_packed, d_packed


def _integrate_block(a: Flat, b: Flat, kind: str) -> FloatArray:
    """Σ_i w_i ∫ φ(z) g(log a - log b) dz over the components i of a, per
    state; kind names g and the tolerances."""
    n_states = a[0].shape[0]
    state, weight, params, a_packed, b_packed, d_packed = _jobs(a, b, kind)
    left, right, job = initial_panels(params, union=kind != "kl")
    if kind == "tv":
        left, right, job = _split_at_roots(left, right, job, a_packed, b_packed, d_packed)
    chunk = max(64, _CHUNK_BUDGET // (NODES.size * max(a_packed.shape[1], b_packed.shape[1])))
    rule = StateTolerance(
        state, weight, n_states, *_TOLERANCES[kind], max_panels=_MAX_PANELS_PER_STATE
    )
    return integrate(
        left,
        right,
        job,
        _integrand(a_packed, b_packed, _TERMS[kind], d_packed),
        rule,
        n_states,
        group=state,
        weight=weight,
        chunk=chunk,
        max_rounds=_MAX_ROUNDS,
    )


def log_ratio_integral(a: Flat, b: Flat, kind: str) -> FloatArray:
    """`_integrate_block` over blocks of states small enough for memory;
    kind names g and the tolerances.  States where a and b are the same
    mixture, component for component, give exactly 0 (the rounding of f would
    leave ~1e-16)."""
    n_states, n_a = a[0].shape
    n_b = b[0].shape[1]
    out = np.zeros(n_states)
    rest: slice | NDArray[np.intp] = slice(None)  # the usual case: no copies
    if n_a == n_b:
        same = np.all((a[0] == b[0]) & (a[1] == b[1]) & (a[2] == b[2]), axis=1)
        if same.any():
            rest = np.flatnonzero(~same)
            a, b = tuple(x[rest] for x in a), tuple(x[rest] for x in b)
    block = max(1, _BLOCK_BUDGET // (n_a * (n_a * n_a + n_b * n_b) * (max(n_a, n_b) + 32)))
    out[rest] = np.concatenate(
        [np.empty(0)]
        + [
            _integrate_block(
                tuple(x[s : s + block] for x in a), tuple(x[s : s + block] for x in b), kind
            )
            for s in range(0, a[0].shape[0], block)
        ]
    )
    return out


def _js_term(f: FloatArray) -> FloatArray:
    # With t = (p - q)/(p + q) = tanh(f/2), the JS integrand is
    # (p + q)/4 [(1 + t) log(1 + t) + (1 - t) log(1 - t)] >= 0: no cancellation
    # between the two halves, so it stays accurate when JS is tiny.  Per unit
    # of p + q, with u = |f|/2 (so that atanh t = u), g = u tanh u - log cosh u.
    u = 0.5 * np.abs(f)
    small = np.minimum(u, 1.0)  # log cosh u = log1p(2 sinh^2(u/2)), exact near 0
    near = small * np.tanh(small) - np.log1p(2.0 * np.sinh(0.5 * small) ** 2)
    e = np.exp(-2.0 * np.maximum(u, 1.0))  # far: log 2 - 2u e^-2u/(1 + e^-2u) - log1p(e^-2u)
    far = np.log(2.0) - 2.0 * np.maximum(u, 1.0) * e / (1.0 + e) - np.log1p(e)
    return np.where(u < 1.0, near, far)


def _tv_term(f: FloatArray) -> FloatArray:
    # |p - q| / (p + q) = |tanh(f / 2)|
    return np.abs(np.tanh(0.5 * f))


def _hellinger_term(f: FloatArray) -> FloatArray:
    # (sqrt p - sqrt q)^2 / (p + q) = (1 - e^{-|f|/2})^2 / (1 + e^{-|f|}), even in f
    magnitude = np.abs(f)
    return np.expm1(-0.5 * magnitude) ** 2 / (1.0 + np.exp(-magnitude))


# g(f), analytic on every panel: the TV integrand has kinks where p = q, but the
# panels are split there (`_split_at_roots`).
_TERMS = {"kl": None, "js": _js_term, "tv": _tv_term, "hellinger": _hellinger_term}


def symmetric_integral(p: Flat, q: Flat, kind: str) -> FloatArray:
    """½ [∫ p g(log p - log q) + ∫ q g(log q - log p)]: each mixture's mass is
    integrated in the variables of its own components, so none is missed."""
    return 0.5 * (log_ratio_integral(p, q, kind) + log_ratio_integral(q, p, kind))
