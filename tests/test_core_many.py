"""Divergences of mixtures with many components (8 against 3, 16 against 16) against an
independent 40-digit mpmath reference.

The reference integrates in x over the union of both supports (the code under test works
per piece of the line, in each piece's own variable), with composite Gauss-Legendre
rules at 40 digits: 20 and 30 points on every interval, intervals split at every
component's mean ± k std and graded towards every switch between two dominant
components (those where every integrand stays below 1e-30 left out), bisected until the
two rules agree to 1e-20 of each total. The same nodes give
both KLs, JS and squared Hellinger; TV comes from the mixtures' CDFs between the roots of
p = q, found as sign changes of log p - log q between nodes and, for a pair of roots
between two nodes, at its extremum.
"""

from __future__ import annotations

import functools
import math
from itertools import pairwise

import mpmath as mp
import numpy as np
import pytest

from kldemo.core.divergences import (
    forward_kl,
    hellinger_distance,
    js_divergence,
    reverse_kl,
    tv_distance,
)
from kldemo.core.panels import owned_intervals
from kldemo.core.quadrature import MAX_HALF_WIDTH, RHO, Z_MAX, march_panels

DPS = 40
KL_RTOL, KL_ATOL, SMALL_KL = 1e-12, 1e-13, 1e-3  # the SPEC's accuracy contract
OTHER_RTOL = 1e-10  # JS, TV and Hellinger, as in test_core
REFERENCE_RTOL = 1e-20  # the two rules agree this well on every interval
NEGLIGIBLE = 115.0  # components e^-115 below the mixture cannot change 40 digits


# --------------------------------------------------------------------------
# mpmath reference
# --------------------------------------------------------------------------


@functools.cache
def _rule(n: int) -> tuple[list, list]:
    """Gauss-Legendre nodes and weights on [-1, 1], to a few more digits than DPS."""
    with mp.workdps(DPS + 10):
        return mp.gauss_quadrature(n, "legendre")


class _Mixture:
    """A mixture's present components, in mpmath numbers and as floats."""

    def __init__(self, mixture):
        weights, means, stds = (np.asarray(v, dtype=float) for v in mixture)
        present = weights > 0
        self.weights, self.means, self.stds = weights[present], means[present], stds[present]
        self.log_coefficients = np.log(self.weights / (self.stds * math.sqrt(2 * math.pi)))
        with mp.workdps(DPS):  # log w_c N(x; m_c, s_c) = log_c - a_c (x - m_c)^2
            self.mp = [
                (
                    mp.log(mp.mpf(w) / (mp.mpf(s) * mp.sqrt(2 * mp.pi))),
                    mp.mpf(m),
                    1 / (2 * mp.mpf(s) ** 2),
                )
                for w, m, s in zip(self.weights, self.means, self.stds, strict=True)
            ]

    def relevant(self, x: np.ndarray) -> list[np.ndarray]:
        """For each point x, the components within e^NEGLIGIBLE of the largest there."""
        terms = self.log_coefficients - 0.5 * ((x[:, None] - self.means) / self.stds) ** 2
        keep = terms > terms.max(axis=1, keepdims=True) - NEGLIGIBLE
        return [np.flatnonzero(row) for row in keep]

    def density(self, x, components: list[int]):
        """p(x) from the components given; mpmath's exponents do not underflow."""
        terms = []
        for c in components:
            log_coefficient, mean, a = self.mp[c]
            y = x - mean
            terms.append(mp.exp(log_coefficient - a * y * y))
        return mp.fsum(terms)

    def cdf(self, x):
        return mp.fsum(
            mp.mpf(w) * mp.ncdf(x, mp.mpf(m), mp.mpf(s))
            for w, m, s in zip(self.weights, self.means, self.stds, strict=True)
        )


def _crossings(weights, means, stds) -> list[tuple[float, float, float]]:
    """(x, width, scale) where the two components that dominate the mixture there are
    equal: the switch from one to the other takes width = 1/|d log ratio/dx|."""
    log_c = np.log(weights / stds)
    found = []
    for c in range(len(weights)):
        for d in range(c + 1, len(weights)):
            # log N_c - log N_d = a x^2 + b x + e
            a = 1 / (2 * stds[d] ** 2) - 1 / (2 * stds[c] ** 2)
            b = means[c] / stds[c] ** 2 - means[d] / stds[d] ** 2
            e = means[d] ** 2 / (2 * stds[d] ** 2) - means[c] ** 2 / (2 * stds[c] ** 2)
            e += log_c[c] - log_c[d]
            if a == 0:
                roots = [-e / b] if b != 0 else []
            else:
                disc = b * b - 4 * a * e
                roots = (
                    [(-b + r) / (2 * a) for r in (-1, 1) for r in [r * math.sqrt(disc)]]
                    if disc >= 0
                    else []
                )
            for x in roots:
                h = log_c - 0.5 * ((x - means) / stds) ** 2
                slope = abs(2 * a * x + b)
                if h[c] > np.sort(h)[-min(3, len(h))] - 1e-9 and slope > 0:  # among the top 2
                    found.append((x, 1 / slope, max(stds[c], stds[d])))
    return found


def _breakpoints(p: _Mixture, q: _Mixture) -> list[float]:
    """Means ± k std (out to 20 std, where sqrt p is e^-100 of its peak), and points
    graded by 4 towards every switch between the two dominant components of p, q and
    p + q; of points nearer than 3/4 of their scales, the first."""
    points = []  # (x, the scale it resolves)
    for mixture in (p, q):
        for m, s in zip(mixture.means, mixture.stds, strict=True):
            points += [(m + k * s, s) for k in (0, 3, 7, 12, 20)]
            points += [(m - k * s, s) for k in (3, 7, 12, 20)]
    both = [
        np.concatenate([x, y])
        for x, y in ((p.weights, q.weights), (p.means, q.means), (p.stds, q.stds))
    ]
    for mixture in ((p.weights, p.means, p.stds), (q.weights, q.means, q.stds), both):
        for x, width, scale in _crossings(*mixture):
            points.append((x, width))
            offset = 3 * width  # the singularity is π width off the axis
            while offset < scale:
                points += [(x - offset, 4 * offset), (x + offset, 4 * offset)]
                offset *= 4
    points.sort()
    kept = [points[0]]
    for x, scale in points[1:]:
        if x - kept[-1][0] >= 0.75 * min(scale, kept[-1][1]):
            kept.append((x, scale))
    return [x for x, _ in kept]


def _integrands(x, p: _Mixture, q: _Mixture, components):
    """(p log(p/q), q log(q/p), JS's, squared Hellinger's) at x, and log p - log q.

    JS's as ½ [p log(2p/m) + q log(2q/m)], m = p + q, and Hellinger's as m/2 - √(pq):
    the cases keep both far from 0, so that their cancellations cost no digit that
    matters at 40."""
    p_x, q_x = p.density(x, components[0]), q.density(x, components[1])
    log_p, log_q, log_m = mp.log(p_x), mp.log(q_x), mp.log(p_x + q_x) - mp.ln2
    f = log_p - log_q
    js = (p_x * (log_p - log_m) + q_x * (log_q - log_m)) / 2
    hellinger2 = (p_x + q_x) / 2 - mp.sqrt(p_x * q_x)
    return (p_x * f, -q_x * f, js, hellinger2), f


def _interval(lo, hi, p, q):
    """Both rules' values of the integrands on [lo, hi], and (x, log p - log q) at the
    nodes of the finer one."""
    centre, half = (hi + lo) / 2, (hi - lo) / 2
    sums, samples = [], []
    for n in (20, 30):
        nodes, weights = _rule(n)
        xs = [centre + half * t for t in nodes]
        rounded = np.array([float(x) for x in xs])
        values = []
        for x, p_c, q_c in zip(xs, p.relevant(rounded), q.relevant(rounded), strict=True):
            at_x, f = _integrands(x, p, q, (p_c, q_c))
            values.append(at_x)
            if n == 30:
                samples.append((x, f))
        sums.append([half * mp.fdot(weights, column) for column in zip(*values, strict=True)])
    return sums, samples


def _matters(lo: float, hi: float, p: _Mixture, q: _Mixture) -> bool:
    """Whether [lo, hi] can hold more than 1e-30 of any of the integrals: each is at
    most (p + q)(1 + |log p - log q|) at a point, here bounded from the rule's nodes
    in floating point (the cases' divergences are all above 1e-3)."""
    x = (hi + lo) / 2 + (hi - lo) / 2 * np.array([float(t) for t in _rule(30)[0]])
    log_p, log_q = (
        np.logaddexp.reduce(
            m.log_coefficients - 0.5 * ((x[:, None] - m.means) / m.stds) ** 2, axis=1
        )
        for m in (p, q)
    )
    bound = np.logaddexp(log_p, log_q) + np.log1p(np.abs(log_p - log_q)) + np.log(hi - lo)
    return bool(bound.max() > math.log(1e-30))


@functools.cache
def _reference(p_key, q_key) -> tuple[float, float, float, float, float]:
    """(KL(p‖q), KL(q‖p), JS, TV, Hellinger) to 40 digits."""
    with mp.workdps(DPS):
        p, q = _Mixture(p_key), _Mixture(q_key)
        edges = _breakpoints(p, q)
        pending = [(mp.mpf(lo), mp.mpf(hi)) for lo, hi in pairwise(edges) if _matters(lo, hi, p, q)]
        done: dict = {}
        for _ in range(12):  # bisect where the two rules disagree
            for lo, hi in pending:
                done[(lo, hi)] = _interval(lo, hi, p, q)
            totals = [mp.fsum(v[0][1][k] for v in done.values()) for k in range(4)]
            assert min(totals) > 1e-3, "the cases keep every divergence far above 1e-30"
            tolerance = [REFERENCE_RTOL * abs(t) for t in totals]
            pending = []
            for (lo, hi), ((coarse, fine), _) in list(done.items()):
                if any(abs(c - f) > tol for c, f, tol in zip(coarse, fine, tolerance, strict=True)):
                    del done[(lo, hi)]
                    middle = (lo + hi) / 2
                    pending += [(lo, middle), (middle, hi)]
            if not pending:
                break
        assert not pending, "reference did not converge"
        samples = sorted(s for _, points in done.values() for s in points)
        tv = _tv(p, q, samples)
        kl_pq, kl_qp, js, hellinger2 = totals
        return float(kl_pq), float(kl_qp), float(js), float(tv), float(mp.sqrt(hellinger2))


def _tv(p: _Mixture, q: _Mixture, samples) -> mp.mpf:
    """½ Σ |ΔP - ΔQ| over the intervals between consecutive roots of p = q."""
    components = (list(range(len(p.weights))), list(range(len(q.weights))))

    def f(x):
        return mp.log(p.density(x, components[0])) - mp.log(q.density(x, components[1]))

    roots = []
    for (x0, f0), (x1, f1), (x2, f2) in zip(samples, samples[1:], samples[2:], strict=False):
        if f0 * f1 < 0:
            roots.append(mp.findroot(f, (x0, x1), solver="anderson"))
        elif f1 * f2 > 0 and f0 * f1 > 0 and abs(f1) < abs(f0) and abs(f1) <= abs(f2):
            # |f| least at x1: an extremum of f near, maybe of the other sign
            extremum = _extremum(f, x0, x1, x2, f0, f1, f2)
            if f(extremum) * f1 < 0:
                roots += [
                    mp.findroot(f, (x0, extremum), solver="anderson"),
                    mp.findroot(f, (extremum, x2), solver="anderson"),
                ]
    if samples and samples[-1][1] * samples[-2][1] < 0:
        roots.append(mp.findroot(f, (samples[-2][0], samples[-1][0]), solver="anderson"))
    ends = [(p.cdf(x), q.cdf(x)) for x in (-mp.inf, *sorted(set(roots)), mp.inf)]
    return mp.fsum(abs((b[0] - a[0]) - (b[1] - a[1])) for a, b in pairwise(ends)) / 2


def _extremum(f, x0, x1, x2, f0, f1, f2):
    """Successive parabolic interpolation towards the extremum of f near x1."""
    for _ in range(30):
        top = (x1 - x0) ** 2 * (f1 - f2) - (x1 - x2) ** 2 * (f1 - f0)
        bottom = (x1 - x0) * (f1 - f2) - (x1 - x2) * (f1 - f0)
        if bottom == 0:
            break
        x = min(max(x1 - top / (2 * bottom), x0), x2)
        value = f(x)
        if value * f1 < 0 or abs(x - x1) < mp.mpf(10) ** -30 * (abs(x1) + 1):
            return x
        if abs(value) < abs(f1):
            (x0, f0, x2, f2) = (x0, f0, x1, f1) if x < x1 else (x1, f1, x2, f2)
            x1, f1 = x, value
        elif x < x1:
            x0, f0 = x, value
        else:
            x2, f2 = x, value
    return x1


# --------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------


def _key(weights, means, stds):
    weights = np.asarray(weights, dtype=float)
    return tuple(tuple(float(v) for v in a) for a in (weights / weights.sum(), means, stds))


def _overlapping(rng, k):
    """Components piled on one another, as an animation's are."""
    return _key(rng.dirichlet(np.ones(k)), rng.uniform(2, 8, k), rng.uniform(0.35, 2.0, k))


def _spread(rng, k, centres):
    """Components across the contract: stds 1e-3 to 1e3, means to ±1e4, some weights
    1e-6, around the given centres."""
    weights = rng.dirichlet(np.ones(k))
    weights[rng.random(k) < 0.25] = 1e-6
    means = rng.choice(centres, k) + rng.choice([1.0, 10.0, 100.0], k) * rng.uniform(-1, 1, k)
    return _key(weights, means, 10 ** rng.uniform(-3, 3, k))


def _features(rng, k, centre):
    """A narrow spike in a broad component, modes 50 std apart, a weight of 1e-6, and
    components from narrow to wide around them."""
    means = centre + np.concatenate([[0.0, 3.0, -25.0, 25.0], rng.uniform(-40, 40, k - 4)])
    stds = np.concatenate([[10.0, 1e-3, 1.0, 1.0], 10 ** rng.uniform(-1.5, 1, k - 4)])
    weights = np.concatenate([[0.3, 0.1, 0.2, 0.2], rng.dirichlet(np.ones(k - 4)) * 0.2])
    weights[-1] = 1e-6
    return _key(weights, means, stds)


def _narrow_at(rng, k, centre, spread, log_stds):
    return _key(
        rng.dirichlet(np.ones(k)),
        centre + rng.uniform(-spread, spread, k),
        10 ** rng.uniform(*log_stds, k),
    )


def _cases():
    rng = np.random.default_rng(20251201)
    return {
        "16v16_overlapping": (_overlapping(rng, 16), _overlapping(rng, 16)),
        "16v16_features": (_features(rng, 16, 0.0), _narrow_at(rng, 16, 0.0, 30.0, (-0.5, 1))),
        "8v3_overlapping": (_overlapping(rng, 8), _overlapping(rng, 3)),
        "8v3_spread": (_spread(rng, 8, [-9990.0, 0.0]), _spread(rng, 3, [-9990.0, 0.0])),
        "8v3_narrow_vs_wide_at_1e4": (
            _narrow_at(rng, 8, 1e4, 5.0, (-3, -1)),
            _narrow_at(rng, 3, 1e4, 500.0, (1, 3)),
        ),
    }


CASES = _cases()
# Two roots of p = q 0.03 apart, between two nodes of a first panel: TV's kinks there
# are found from the extremum of log p - log q between them.
CASES["2v1_roots_between_nodes"] = (
    _key(
        [0.3890556630896537, 0.6109443369103462],
        [5.338378161995732, 5.104651351871227],
        [1.7845538869515596, 0.5654461130484404],
    ),
    _key([1.0], [4.095698274533208], [1.708092482955213]),
)


def assert_kl_close(value, reference):
    value = float(value)
    assert math.isfinite(value)
    if abs(reference) < SMALL_KL:
        assert abs(value - reference) <= KL_ATOL, (value, reference)
    else:
        error = abs(value - reference) / abs(reference)
        assert error <= KL_RTOL, (value, reference, error)


# --------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------


@pytest.mark.slow  # 40-digit references: about 35 s; CI runs it (-m slow)
@pytest.mark.parametrize("name", sorted(CASES))
def test_divergences_against_mpmath(name):
    p, q = CASES[name]
    kl_pq, kl_qp, js, tv, hellinger = _reference(p, q)
    assert_kl_close(forward_kl(p, q), kl_pq)
    assert_kl_close(reverse_kl(p, q), kl_qp)
    for f, reference in ((js_divergence, js), (tv_distance, tv), (hellinger_distance, hellinger)):
        for a, b in ((p, q), (q, p)):  # all three are symmetric
            value = float(f(*a, *b))
            assert abs(value - reference) <= OTHER_RTOL * reference, (
                f.__name__,
                value,
                reference,
                abs(value - reference) / reference,
            )


def test_many_states_at_once_equal_one_at_a_time():
    rng = np.random.default_rng(7)
    for k_p, k_q in ((16, 16), (8, 3)):
        pairs = [(_overlapping(rng, k_p), _spread(rng, k_q, [0.0, 5.0])) for _ in range(3)]
        pairs += [(_spread(rng, k_p, [0.0, 50.0]), _overlapping(rng, k_q)) for _ in range(3)]
        p, q = (tuple(np.array([pair[i][j] for pair in pairs]) for j in range(3)) for i in (0, 1))
        for f in (forward_kl, reverse_kl):
            together = f(p, q)
            alone = [float(f(*(tuple(np.asarray(v) for v in m) for m in pair))) for pair in pairs]
            np.testing.assert_allclose(together, alone, rtol=1e-14, atol=0)
        for f in (js_divergence, tv_distance, hellinger_distance):
            together = f(*p, *q)
            alone = [float(f(*pair[0], *pair[1])) for pair in pairs]
            np.testing.assert_allclose(together, alone, rtol=1e-14, atol=0)


# --------------------------------------------------------------------------
# The pieces and panels the quadrature uses
# --------------------------------------------------------------------------


def test_the_pieces_tile_the_components_ranges_each_owned_by_the_narrowest():
    rng = np.random.default_rng(11)
    weights = rng.dirichlet(np.ones(16), size=40)
    weights[:, 3] = 0.0  # absent: owns nothing
    means = rng.choice([0.0, 1e3], (40, 16)) + rng.uniform(-30, 30, (40, 16))
    stds = 10 ** rng.uniform(-3, 2, (40, 16))
    state, owner, start, end = owned_intervals((weights, means, stds))
    assert np.all(end > start) and np.all(np.abs(start) <= Z_MAX) and np.all(np.abs(end) <= Z_MAX)
    assert not np.any(owner == 3)
    m_o, s_o = means[state, owner], stds[state, owner]
    lo, hi = m_o + s_o * start, m_o + s_o * end
    middle = 0.5 * (lo + hi)
    for s in range(40):
        present = weights[s] > 0
        pieces = np.flatnonzero(state == s)
        order = pieces[np.argsort(lo[pieces])]
        # neighbours meet (but for rounding), or leave a gap no component reaches
        gaps = lo[order[1:]] - hi[order[:-1]]
        rounding = 1e-14 * (np.abs(lo[order[1:]]) + 9 * stds[s].max())
        assert np.all(gaps > -rounding)
        wide = gaps > rounding
        for gap_lo, gap_hi in zip(hi[order[:-1]][wide], lo[order[1:]][wide], strict=True):
            x = 0.5 * (gap_lo + gap_hi)
            assert not np.any(present & (np.abs(x - means[s]) < Z_MAX * stds[s] - 1e-9))
        ranges = [(means[s] - Z_MAX * stds[s])[present], (means[s] + Z_MAX * stds[s])[present]]
        assert lo[order[0]] == pytest.approx(ranges[0].min(), rel=1e-12)
        assert hi[order[-1]] == pytest.approx(ranges[1].max(), rel=1e-12)
        for piece in order:
            covering = present & (np.abs(middle[piece] - means[s]) <= Z_MAX * stds[s])
            assert stds[s, owner[piece]] == stds[s][covering].min()


def test_marched_panels_tile_and_keep_every_singularity_outside_their_ellipses():
    rng = np.random.default_rng(5)
    n = 300
    start = rng.uniform(-Z_MAX, 5.0, n)
    end = np.minimum(start + rng.uniform(0.01, 18.0, n), Z_MAX)
    job = rng.integers(0, n, 2000)
    z = rng.uniform(-12.0, 12.0, job.size)
    y = 10 ** rng.uniform(-9, 0.6, job.size)
    left, right, panel_job = march_panels(start, end, job, z, y)
    for j in range(n):
        mine = np.flatnonzero(panel_job == j)
        edges = np.sort(np.concatenate([left[mine], right[mine]]))
        assert edges[0] == start[j] and edges[-1] == end[j]
        np.testing.assert_array_equal(edges[1:-1:2], edges[2::2])  # contiguous
    centre, half = 0.5 * (left + right), 0.5 * (right - left)
    assert np.all(half <= MAX_HALF_WIDTH * (1 + 1e-12))
    assert np.all((half <= 2.0 * (1 + 1e-12)) | (left >= 4.0) | (right <= -4.0))
    alpha, beta = 0.5 * (RHO + 1 / RHO), 0.5 * (RHO - 1 / RHO)
    for k in range(job.size):
        mine = panel_job == job[k]
        outside = ((z[k] - centre[mine]) / (alpha * half[mine])) ** 2 + (
            max(y[k], 1e-9) / (beta * half[mine])
        ) ** 2
        assert np.all(outside >= 1 - 1e-6)  # but for the rounding of z near tiny panels


def test_without_singularities_the_panels_are_the_base_grid():
    left, right, _ = march_panels(
        np.array([-Z_MAX]), np.array([Z_MAX]), np.empty(0, dtype=np.intp), np.empty(0), np.empty(0)
    )
    np.testing.assert_array_equal(np.sort(np.concatenate([left, right[-1:]])), [-9, -4, 0, 4, 9])


# --------------------------------------------------------------------------
# A state's values do not depend on the other states of the call
# --------------------------------------------------------------------------


def _varied_states(rng, k_p, k_q, n):
    """n states of k_p against k_q components, of the kinds an animation and the
    contract bring: overlapping, spread over 1e-3 to 1e3 in std, a narrow one against a
    wide one, a spike, modes far apart, q a tiny perturbation of p or p itself (where the
    shapes allow)."""
    pairs = []
    for i in range(n):
        kind = i % 6
        if kind == 0:
            pair = (_overlapping(rng, k_p), _overlapping(rng, k_q))
        elif kind == 1:
            pair = (_spread(rng, k_p, [0.0, 40.0]), _spread(rng, k_q, [0.0, 40.0]))
        elif kind == 2:  # narrow against wide, far out
            pair = (
                _narrow_at(rng, k_p, 1e4, 1.0, (-3, -2)),
                _narrow_at(rng, k_q, 1e4, 300.0, (2, 3)),
            )
        elif kind == 3:  # a spike in a broad component, and modes 50 std apart
            p = _narrow_at(rng, k_p, 0.0, 2.0, (0, 1))
            q = _narrow_at(rng, k_q, 0.0, 25.0, (-3, -2))
            pair = (p, q) if i % 2 else (q, p)
        elif k_p == k_q:  # nearly p, then p itself
            p = _overlapping(rng, k_p)
            scale = 1e-9 if kind == 4 else 0.0
            q = [np.asarray(v) * (1 + scale * rng.uniform(-1, 1, k_p)) for v in p]
            pair = (p, _key(*q))
        else:
            pair = (_spread(rng, k_p, [-50.0, 50.0]), _overlapping(rng, k_q))
        pairs.append(pair)
    return pairs


def _stacked(pairs):
    return tuple(tuple(np.array([pair[i][j] for pair in pairs]) for j in range(3)) for i in (0, 1))


_BY_NAME = {
    "forward": lambda p, q: forward_kl(p, q),
    "reverse": lambda p, q: reverse_kl(p, q),
    "js": lambda p, q: js_divergence(*p, *q),
    "tv": lambda p, q: tv_distance(*p, *q),
    "hellinger": lambda p, q: hellinger_distance(*p, *q),
}


@pytest.mark.parametrize("name", sorted(_BY_NAME))
@pytest.mark.parametrize(
    "shape",
    [(1, 1), (2, 1), (1, 2), (2, 2), (3, 2), (8, 3), (16, 16)],
    ids=lambda shape: f"{shape[0]}v{shape[1]}",
)
def test_a_states_values_are_bitwise_the_same_however_the_states_are_batched(name, shape):
    """Render caches key segments on the hashes of the per-frame values: a state's value
    must not move by an ulp when other states join or leave its call."""
    divergence = _BY_NAME[name]
    rng = np.random.default_rng(sum(shape) * 101 + len(name))
    pairs = _varied_states(rng, *shape, 12)
    others = _varied_states(rng, *shape, 9)
    together = divergence(*_stacked(pairs))
    assert np.all(np.isfinite(together))
    alone = np.array([divergence(*_stacked([pair])) for pair in pairs]).ravel()
    np.testing.assert_array_equal(together, alone, strict=True)
    order = rng.permutation(len(pairs))
    np.testing.assert_array_equal(divergence(*_stacked([pairs[i] for i in order])), together[order])
    cuts = [0, 1, 3, 6, 10, len(pairs)]  # sub-batches of 1, 2, 3, 4 and 2 states
    parts = [divergence(*_stacked(pairs[a:b])) for a, b in pairwise(cuts)]
    np.testing.assert_array_equal(np.concatenate(parts), together)
    # among others, before and after (the case of a keyframe added to a timeline)
    mixed = divergence(*_stacked(others[:4] + pairs + others[4:]))
    np.testing.assert_array_equal(mixed[4 : 4 + len(pairs)], together)
