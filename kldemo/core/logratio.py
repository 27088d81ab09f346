"""Integrals ``∫ a g(log a - log b) dx`` of two Gaussian mixtures, with the driver.

The line is shared among the components of ``a`` (:mod:`kldemo.core.panels`): each piece
belongs to the narrowest component within 9 of its stds, and is integrated in that
owner's standardised variable ``z = (x - m_o) / s_o``, where ``a`` itself, scaled, is
``e^(log a)`` with ``log a`` a log-sum-exp over all of a's components::

    ∫ a g(f) dx = Σ_pieces ∫ e^(log a(z)) g(f(z)) dz / √(2π),   f = log a - log b,

so that overlapping components share their panels (beyond every component's range lies
less than 2e-19 of the mass; weighted by a quadratic ``f``, below 1e-17). ``f`` is
evaluated pointwise as a difference of log-sum-exps (:func:`_log_mixture`), so nearly
equal mixtures do not cancel; for mixtures with as many components it comes from
differences of paired parameters (:func:`_paired_log_ratio`). The adaptive bisection is
:mod:`kldemo.core.quadrature`'s; the states are integrated in blocks small enough for
memory. ``kind`` names g and the tolerances: ``kl`` (g(f) = f), ``js``, ``tv`` and
``hellinger`` (functions of a / (a + b), whose panels also heed where a and b switch
dominance; TV's are split at the real roots of f).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from kldemo.core.panels import Singularities, divergence_panels, singularities
from kldemo.core.quadrature import (
    CLIP,
    NODES,
    Integrand,
    StateTolerance,
    component_params,
    integrate,
)
from kldemo.core.roots import hidden_root_pairs, illinois

__all__ = ["Flat", "log_ratio_integral", "symmetric_integral"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
Flat = tuple[FloatArray, FloatArray, FloatArray]  # (weights, means, stds), each (S, K)

_MAX_ROUNDS = 50
_MAX_PANELS_PER_STATE = 20_000
_BLOCK_BUDGET = 4_000_000  # bounds the temporaries of one block of states
_CHUNK_BUDGET = 150_000  # elements per evaluation temporary (cache sized) ...
_MAX_CHUNK = 1024  # ... in panels, where there are few components
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


def _log_components(z: FloatArray, params: FloatArray, first: FloatArray) -> FloatArray:
    """kappa_c - y_c^2 of every component c at nodes z (node, panel), shaped
    (K, node, panel), the first given (params as in `_log_mixture`)."""
    alpha, beta, kappa = (row[1:, None, :] for row in params)
    terms = np.empty((params.shape[1], *z.shape))
    terms[0] = first
    rest = np.multiply(beta, z, out=terms[1:])
    rest += alpha
    np.square(rest, out=rest)
    np.subtract(kappa, rest, out=rest)
    return terms


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
        terms = _log_components(z, params, out)
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
) -> tuple[FloatArray, FloatArray]:
    """f = log a - log b at nodes z, for mixtures whose components pair up
    (component c of b is a perturbation of component c of a), written to out;
    returns f and log a.

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
    alpha, beta, kappa = (row[:, None, :] for row in a)
    b_alpha, b_beta, b_kappa = (row[:, None, :] for row in b)
    terms = _log_components(z, a, np.add(a[2][0], minus_half_z2, out=out))
    largest = terms.max(axis=0)
    missing = kappa == -np.inf  # a zero weight in a: no π_c, but b_c / a instead
    with np.errstate(invalid="ignore", over="ignore"):
        terms -= largest
        np.exp(terms, out=terms)  # π_c, unnormalised; no clipping
        # δ_c = Δkappa_c - (Δalpha_c + Δbeta_c z)(alpha_c + b_alpha_c + (beta_c + b_beta_c) z)
        delta = np.multiply(d[1][:, None, :], z)
        delta += d[0][:, None, :]
        factor = np.multiply(beta + b_beta, z)
        factor += alpha + b_alpha
        delta *= factor
        np.subtract(d[2][:, None, :], delta, out=delta)
        np.expm1(delta, out=delta)
        delta *= terms
        if missing.any():
            np.copyto(delta, 0.0, where=missing)
        ratio = delta.sum(axis=0)
        total = terms.sum(axis=0)
        ratio /= total
        log_a = np.log(total, out=total)
        log_a += largest
        if missing.any():
            log_b = b_kappa - np.square(b_alpha + b_beta * z)
            ratio += np.where(missing, np.exp(log_b - log_a), 0.0).sum(axis=0)
    np.subtract(log_a, _log_mixture(z, minus_half_z2, b, False, out, work), out=out)
    near = np.abs(ratio) < 0.5
    np.log1p(np.maximum(ratio, -0.5, out=ratio), out=ratio)
    np.negative(ratio, out=ratio)
    np.copyto(out, ratio, where=near)
    return out, log_a


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
        # Parameters per panel (job is in range: clip only skips the checks).
        a_panel, b_panel, *d_panel = (np.empty(params.shape[:2] + job.shape) for params in gathered)
        for params, panel in zip(gathered, (a_panel, b_panel, *d_panel), strict=True):
            rows = (params.shape[0] * params.shape[1], -1)
            np.take(params.reshape(rows), job, axis=1, out=panel.reshape(rows), mode="clip")
        minus_half_z2, f, log_a = np.empty(z.shape), np.empty(z.shape), np.empty(z.shape)
        work = np.empty((2, *z.shape))
        np.multiply(np.square(z, out=minus_half_z2), -0.5, out=minus_half_z2)
        if d_panel:
            f, log_a = _paired_log_ratio(z, minus_half_z2, a_panel, b_panel, d_panel[0], f, work)
        else:
            _log_mixture(z, minus_half_z2, a_panel, True, log_a, work)
            np.subtract(log_a, _log_mixture(z, minus_half_z2, b_panel, False, f, work), out=f)
        g = f if transform is None else transform(f)
        g *= np.exp(log_a, out=log_a)
        return g

    return integrand


def _chunk(points: int, a_packed: FloatArray, b_packed: FloatArray) -> int:
    """Panels evaluated at a time: the terms of every component at every point of
    them within the budget."""
    per_panel = points * max(a_packed.shape[1], b_packed.shape[1])
    return max(64, min(_CHUNK_BUDGET // per_panel, _MAX_CHUNK))


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
    chunk = _chunk(z.shape[0], a_packed, b_packed)
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
            )[0]
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
    resolve every feature of a and b), and pairs of roots between two of them
    by the extremum of f between (:func:`~kldemo.core.roots.hidden_root_pairs`); they
    are refined by the Illinois method, for all at once, to a few ulps.
    """
    t = np.concatenate([[-1.0], NODES, [1.0]])[:, None]
    z = 0.5 * (right + left) + t * (0.5 * (right - left))
    f = _log_ratio(z, job, a_packed, b_packed, d_packed)
    node, panel = np.nonzero(np.sign(f[:-1]) * np.sign(f[1:]) < 0)
    brackets = (z[node, panel], z[node + 1, panel], f[node, panel], f[node + 1, panel], panel)

    def log_ratio(points: FloatArray, panels: IntArray) -> FloatArray:
        return _log_ratio(points[None], job[panels], a_packed, b_packed, d_packed)[0]

    hidden = hidden_root_pairs(z, f, log_ratio)
    lo, hi, f_lo, f_hi, panel = (np.concatenate(v) for v in zip(brackets, hidden, strict=True))
    if panel.size == 0:
        return left, right, job
    root = illinois(lo, hi, f_lo, f_hi, lambda x, k: log_ratio(x, panel[k]))
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


def _jobs(a: Flat, b: Flat, kind: str, state: IntArray, own: IntArray) -> tuple[FloatArray, ...]:
    """The components of a and b seen from each job's owner ``own`` in state ``state``
    (:func:`kldemo.core.quadrature.component_params`), packed (3, K, job) for the
    integrand, with the differences of paired components."""
    a_weights, a_means, a_stds = a
    n_states, n_a = a_weights.shape
    # Each job's owner goes first: its log density is just kappa - z^2/2.
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
    return a_packed, b_packed, d_packed


def _integrate_block(a: Flat, b: Flat, kind: str, found: Singularities) -> FloatArray:
    """∫ a g(log a - log b) dx per state, over the pieces of the line a's components
    own (:func:`kldemo.core.panels.divergence_panels`), each in its owner's variable;
    kind names g and the tolerances, found holds the singularities of the log densities
    (:func:`kldemo.core.panels.singularities`)."""
    n_states = a[0].shape[0]
    pieces = divergence_panels(a, found)
    a_packed, b_packed, d_packed = _jobs(a, b, kind, pieces.state, pieces.owner)
    left, right, job = pieces.left, pieces.right, pieces.job
    if kind == "tv":
        left, right, job = _split_at_roots(left, right, job, a_packed, b_packed, d_packed)
    chunk = _chunk(NODES.size, a_packed, b_packed)
    rule = StateTolerance(
        pieces.state,
        np.ones(pieces.state.size),
        n_states,
        *_TOLERANCES[kind],
        max_panels=_MAX_PANELS_PER_STATE,
    )
    return integrate(
        left,
        right,
        job,
        _integrand(a_packed, b_packed, _TERMS[kind], d_packed),
        rule,
        n_states,
        group=pieces.state,
        chunk=chunk,
        max_rounds=_MAX_ROUNDS,
    )


def _by_blocks(a: Flat, b: Flat, integral: Callable[[Flat, Flat], FloatArray]) -> FloatArray:
    """integral(a, b) over blocks of states small enough for memory.  States where a
    and b are the same mixture, component for component, give exactly 0 (the rounding
    of f would leave ~1e-16)."""
    n_states, n_a = a[0].shape
    n_b = b[0].shape[1]
    out = np.zeros(n_states)
    rest: slice | NDArray[np.intp] = slice(None)  # the usual case: no copies
    if n_a == n_b:
        same = np.all((a[0] == b[0]) & (a[1] == b[1]) & (a[2] == b[2]), axis=1)
        if same.any():
            rest = np.flatnonzero(~same)
            a, b = tuple(x[rest] for x in a), tuple(x[rest] for x in b)
    # The largest temporaries: every component at every pair's singularities.
    block = max(1, _BLOCK_BUDGET // ((n_a + n_b) ** 3 + 64 * (n_a + n_b)))
    out[rest] = np.concatenate(
        [np.empty(0)]
        + [
            integral(tuple(x[s : s + block] for x in a), tuple(x[s : s + block] for x in b))
            for s in range(0, a[0].shape[0], block)
        ]
    )
    return out


def log_ratio_integral(a: Flat, b: Flat, kind: str) -> FloatArray:
    """∫ a g(log a - log b) dx per state; kind names g and the tolerances."""

    def integral(a: Flat, b: Flat) -> FloatArray:
        return _integrate_block(a, b, kind, singularities(a, b, union=kind != "kl"))

    return _by_blocks(a, b, integral)


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
    integrated in the variables of its own components, so none is missed; the
    singularities of log p, log q and log(p + q) serve both halves."""

    def integral(p: Flat, q: Flat) -> FloatArray:
        found = singularities(p, q, union=True)
        return 0.5 * (_integrate_block(p, q, kind, found) + _integrate_block(q, p, kind, found))

    return _by_blocks(p, q, integral)
