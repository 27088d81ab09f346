"""Tests of kldemo.core.plane against independent references.

Closed forms are checked against the textbook formulas in 30-digit mpmath.
Mixture divergences are checked against nested ``scipy.integrate.quad`` in
Cartesian whitened coordinates of each component (the code under test uses
polar ones), with scalar ``math`` densities of its own; the references are
computed once per session and cached in module-level dicts.
"""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
from scipy import integrate, optimize

from kldemo.core.plane import (
    PlaneMixture,
    density,
    divergence_values,
    forward_kl,
    forward_kl_gradient,
    gaussian_hellinger2,
    gaussian_kl,
    hellinger_distance,
    js_divergence,
    kl_divergence,
    log_density,
    moment_match,
    reverse_gaussian_optimum_for_gaussian,
    reverse_kl,
    reverse_kl_gradient,
    tv_distance,
)

KL_RTOL, OTHER_RTOL = 1e-9, 1e-7


def cov(sx: float, sy: float, rho: float) -> list[list[float]]:
    return [[sx * sx, rho * sx * sy], [rho * sx * sy, sy * sy]]


# --------------------------------------------------------------------------
# independent reference: nested quad in whitened Cartesian coordinates
# --------------------------------------------------------------------------


class _Scalar:
    """A mixture's log density at one point, in plain floats."""

    def __init__(self, m: PlaneMixture):
        self.parts = []
        for w, mean, s in zip(m.weights, m.means, m.covs, strict=True):
            if w > 0:
                det = s[0][0] * s[1][1] - s[0][1] ** 2
                inv = (s[1][1] / det, -s[0][1] / det, s[0][0] / det)
                self.parts.append(
                    (
                        math.log(w / (2 * math.pi * math.sqrt(det))),
                        float(mean[0]),
                        float(mean[1]),
                        *inv,
                    )
                )

    def __call__(self, x: float, y: float) -> float:
        logs = []
        for c, mx, my, a, b, d in self.parts:
            dx, dy = x - mx, y - my
            logs.append(c - 0.5 * (a * dx * dx + 2 * b * dx * dy + d * dy * dy))
        top = max(logs)
        return top + math.log(sum(math.exp(v - top) for v in logs))


def _terms(kind: str, f: float) -> float:
    """g(f) per unit of the integrating density: KL's f; the others per unit of a + b."""
    if kind == "kl":
        return f
    p_share = 1.0 / (1.0 + math.exp(-f)) if f > -700 else 0.0  # a / (a + b)
    if kind == "tv":
        return 0.5 * abs(2 * p_share - 1)
    if kind == "hellinger":
        return 0.5 * (1 - 1 / math.cosh(0.5 * f)) if abs(f) < 1400 else 0.5
    # js: ½[s log(2s) + (1 - s) log(2(1 - s))], s = a / (a + b)
    s, t = p_share, 1 - p_share
    return 0.5 * sum(v * math.log(2 * v) for v in (s, t) if v > 0)


def _quad(a: PlaneMixture, b: PlaneMixture, kind: str, rtol: float) -> float:
    """Σ_i w_i ∫ N(z) g(log a - log b) dz, each component of a in its coordinates."""
    log_a, log_b = _Scalar(a), _Scalar(b)
    total = 0.0
    for w, mean, s in zip(a.weights, a.means, a.covs, strict=True):
        if w == 0:
            continue
        l11 = math.sqrt(s[0][0])
        l21 = s[0][1] / l11
        l22 = math.sqrt(s[1][1] - l21 * l21)

        def inner(z2: float, z1: float, mean=mean, l11=l11, l21=l21, l22=l22) -> float:
            x = mean[0] + l11 * z1
            y = mean[1] + l21 * z1 + l22 * z2
            return (
                math.exp(-0.5 * (z1 * z1 + z2 * z2))
                / (2 * math.pi)
                * _terms(kind, log_a(x, y) - log_b(x, y))
            )

        value, _ = integrate.dblquad(inner, -9.5, 9.5, -9.5, 9.5, epsabs=1e-15, epsrel=rtol)
        total += w * value
    return total


_REFERENCE: dict[tuple[str, str], float] = {}


def reference(case: str, kind: str) -> float:
    """forward/reverse KL, JS, TV or Hellinger of a named case, cached."""
    key = (case, kind)
    if key not in _REFERENCE:
        p, q = CASES[case]
        if kind == "forward":
            value = _quad(p, q, "kl", 1e-12)
        elif kind == "reverse":
            value = _quad(q, p, "kl", 1e-12)
        else:
            value = _quad(p, q, kind, 1e-10) + _quad(q, p, kind, 1e-10)
            value = math.sqrt(value) if kind == "hellinger" else value
        _REFERENCE[key] = value
    return _REFERENCE[key]


CASES = {
    "easy": (
        PlaneMixture([0.4, 0.6], [[0, 0], [2.5, 1]], [cov(1, 0.7, 0.3), cov(0.8, 1.2, -0.4)]),
        PlaneMixture([1.0], [[1.0, 0.5]], [cov(1.5, 1.1, 0.2)]),
    ),
    "easy-2v2": (
        PlaneMixture([0.5, 0.5], [[-1, 0], [1.5, 0.5]], [cov(1, 1, 0), cov(0.6, 1, 0.5)]),
        PlaneMixture([0.3, 0.7], [[0, 1], [1, -0.5]], [cov(1.2, 0.9, 0), cov(1, 1, -0.3)]),
    ),
    "correlation-0.99": (
        PlaneMixture([0.5, 0.5], [[0, 0], [2, -1]], [cov(1, 1, 0.99), cov(0.7, 0.7, 0)]),
        PlaneMixture([1.0], [[0.5, 0]], [cov(1, 1.4, -0.5)]),
    ),
    "std-ratio-1e3": (
        PlaneMixture([1.0], [[0.3, 0.2]], [cov(1e-3, 2e-3, 0.5)]),
        PlaneMixture([0.5, 0.5], [[0, 0], [1, 1]], [cov(1, 1, 0), cov(1, 0.8, 0.2)]),
    ),
    "modes-30-std-apart": (
        PlaneMixture([0.5, 0.5], [[0, 0], [30, 0]], [cov(1, 1, 0), cov(1, 1, 0.3)]),
        PlaneMixture([1.0], [[15, 0]], [cov(10, 2, 0)]),
    ),
    "weight-1e-6": (
        PlaneMixture([1 - 1e-6, 1e-6], [[0, 0], [3, 0]], [cov(1, 1, 0), cov(0.5, 0.5, 0)]),
        PlaneMixture([1.0], [[0.5, 0]], [cov(1.2, 1.2, 0)]),
    ),
}


# --------------------------------------------------------------------------
# densities and closed forms
# --------------------------------------------------------------------------


def test_density_integrates_to_one_and_matches_scalar_reference() -> None:
    p, _ = CASES["easy"]
    points = np.array([[0.1, -0.3], [2.0, 1.0], [-4.0, 5.0]])
    expected = [_Scalar(p)(*x) for x in points]
    np.testing.assert_allclose(log_density(points, p), expected, rtol=1e-14)
    # A uniform grid sums a smooth, rapidly decaying density to near rounding.
    x = np.linspace(-12, 14, 521)
    grid = np.stack(np.meshgrid(x, x), axis=-1).reshape(-1, 2)
    mass = density(grid, p).sum() * (x[1] - x[0]) ** 2
    assert abs(mass - 1) < 1e-10


def _mp_gaussian_kl(m1, s1, m2, s2) -> float:
    with mp.workdps(30):
        s1, s2 = mp.matrix(s1), mp.matrix(s2)
        d = mp.matrix(m1) - mp.matrix(m2)
        inv = s2**-1
        value = (inv * s1)[0, 0] + (inv * s1)[1, 1] + (d.T * inv * d)[0] - 2
        return float(0.5 * (value + mp.log(mp.det(s2) / mp.det(s1))))


def _mp_gaussian_hellinger2(m1, s1, m2, s2) -> float:
    with mp.workdps(30):
        s1, s2 = mp.matrix(s1), mp.matrix(s2)
        d = mp.matrix(m1) - mp.matrix(m2)
        s = (s1 + s2) / 2
        bhattacharyya = (d.T * s**-1 * d)[0] / 8 + mp.log(
            mp.det(s) / mp.sqrt(mp.det(s1) * mp.det(s2))
        ) / 2
        return float(-mp.expm1(-bhattacharyya))


def _exact(values) -> list:
    """Floats to exact rationals for mpmath, so the reference sees the same inputs."""
    return [
        [mp.mpf(float(v)) for v in row] if np.ndim(row) else mp.mpf(float(row)) for row in values
    ]


GAUSSIAN_PAIRS = [
    ([0, 0], cov(1, 2, 0.3), [1, -1], cov(2, 1, -0.5)),
    ([0, 0], cov(1, 1, 0.99), [0.1, 0], cov(1, 1, 0)),
    ([0.1, 0], cov(1e-3, 2e-3, 0.5), [0, 0], cov(1, 1, 0.2)),  # std ratio 1e3
    ([0, 0], cov(1e-3, 1, 0), [0, 0], cov(1, 1e-3, 0)),  # crossed, ratio 1e3
    ([0, 0], cov(1, 1, 0.5), [1e-7, 0], cov(1 + 1e-6, 1, 0.5)),  # nearly equal
    ([3, 1], cov(1, 2, 0.3), [3, 1], cov(1, 2, 0.3 + 1e-9)),
]


@pytest.mark.parametrize("pair", GAUSSIAN_PAIRS)
def test_gaussian_closed_forms_against_mpmath(pair) -> None:
    m1, s1, m2, s2 = (np.asarray(v, dtype=float) for v in pair)
    args = [_exact(v) for v in (m1, s1, m2, s2)]
    for ours, theirs in (
        (gaussian_kl, _mp_gaussian_kl),
        (gaussian_hellinger2, _mp_gaussian_hellinger2),
    ):
        for a in (args, args[2:] + args[:2]):
            arrays = [
                np.array([[float(x) for x in r] if isinstance(r, list) else float(r) for r in v])
                for v in a
            ]
            expected = theirs(*a)
            assert float(ours(*arrays)) == pytest.approx(expected, rel=1e-12, abs=0)


def test_closed_forms_are_vectorised_and_zero_for_equal() -> None:
    m = np.array([[0.0, 0.0], [1.0, 2.0]])
    s = np.array([cov(1, 2, 0.3), cov(0.5, 1, -0.9)])
    assert gaussian_kl(m, s, m, s).tolist() == [0.0, 0.0]
    assert gaussian_hellinger2(m, s, m, s).tolist() == [0.0, 0.0]
    p = PlaneMixture.gaussian(m, s)
    q = PlaneMixture.gaussian(m[::-1], s[::-1])
    np.testing.assert_allclose(
        kl_divergence(p, q),
        [gaussian_kl(m[k], s[k], m[1 - k], s[1 - k]) for k in range(2)],
        rtol=1e-15,
    )


@pytest.mark.parametrize("pair", GAUSSIAN_PAIRS[:3])
def test_quadrature_with_one_component_matches_closed_forms(pair) -> None:
    p = PlaneMixture.gaussian(pair[0], pair[1])
    q = PlaneMixture.gaussian(pair[2], pair[3])
    for a, b in ((p, q), (q, p)):
        assert float(kl_divergence(a, b, closed_form=False)) == pytest.approx(
            float(kl_divergence(a, b)), rel=1e-10
        )
        assert float(hellinger_distance(a, b, closed_form=False)) == pytest.approx(
            float(hellinger_distance(a, b)), rel=1e-8
        )


# --------------------------------------------------------------------------
# mixtures against the nested-quad reference
# --------------------------------------------------------------------------


@pytest.mark.parametrize("case", list(CASES))
def test_kl_against_nested_quad(case: str) -> None:
    p, q = CASES[case]
    assert float(forward_kl(p, q)) == pytest.approx(reference(case, "forward"), rel=KL_RTOL)
    assert float(reverse_kl(p, q)) == pytest.approx(reference(case, "reverse"), rel=KL_RTOL)


@pytest.mark.parametrize("case", ["easy", "correlation-0.99", "weight-1e-6"])
def test_js_hellinger_against_nested_quad(case: str) -> None:
    p, q = CASES[case]
    values = divergence_values(p, q, ["js", "hellinger"])
    for name, value in values.items():
        assert float(value) == pytest.approx(reference(case, name), rel=OTHER_RTOL), name


def test_tv_of_shifted_gaussians_matches_the_one_dimensional_closed_form() -> None:
    # With equal covariances the densities differ only along the whitened shift d:
    # TV = 2 Φ(|d| / 2) - 1.
    s = cov(1, 2, 0.5)
    p, q = PlaneMixture.gaussian([0, 0], s), PlaneMixture.gaussian([1, 0.5], s)
    d = np.linalg.solve(np.linalg.cholesky(s), [1, 0.5])
    expected = math.erf(np.linalg.norm(d) / (2 * math.sqrt(2)))
    assert float(tv_distance(p, q)) == pytest.approx(expected, rel=OTHER_RTOL)


def test_states_are_vectorised_and_identical_mixtures_give_zero() -> None:
    (p, q), (r, _) = CASES["easy"], CASES["easy-2v2"]
    stacked_p = PlaneMixture(
        np.stack([p.weights, p.weights]), np.stack([p.means, p.means]), np.stack([p.covs, p.covs])
    )
    both = forward_kl(stacked_p, q)
    assert both.shape == (2,)
    assert both[0] == both[1] == pytest.approx(float(forward_kl(p, q)), rel=1e-13)
    for function in (forward_kl, reverse_kl, js_divergence, tv_distance, hellinger_distance):
        assert float(function(r, r)) == 0.0
    for function in (forward_kl, reverse_kl, js_divergence, hellinger_distance):
        assert float(function(p, q)) > 0.0


def test_kl_of_nearly_equal_mixtures_is_small_and_non_negative() -> None:
    p, _ = CASES["easy-2v2"]
    q = PlaneMixture(p.weights, p.means + np.array([[1e-4, 0], [0, 0]]), p.covs)
    value = float(forward_kl(p, q))
    # KL ≈ ½ δ^T F δ > 0 for a shift δ = 1e-4: of order 1e-9.
    assert 0 < value < 1e-8
    assert value == pytest.approx(float(forward_kl(q, p)), rel=1e-3)


def test_argument_errors_name_the_argument() -> None:
    with pytest.raises(ValueError, match="covs must be positive definite"):
        PlaneMixture([1.0], [[0, 0]], [[[1, 2], [2, 1]]])
    with pytest.raises(ValueError, match="means must have shape"):
        PlaneMixture([1.0], [0, 0], [[[1, 0], [0, 1]]])
    with pytest.raises(ValueError, match="family must be one of"):
        moment_match(CASES["easy"][0], "banana")


# --------------------------------------------------------------------------
# fits
# --------------------------------------------------------------------------


def test_moment_match_is_exact() -> None:
    p, _ = CASES["easy"]
    w, m, s = p.weights, p.means, p.covs
    mean = (w[:, None] * m).sum(0)
    second = sum(wk * (sk + np.outer(mk, mk)) for wk, mk, sk in zip(w, m, s, strict=True))
    full = moment_match(p)
    np.testing.assert_allclose(full.means[0], mean, rtol=1e-15)
    np.testing.assert_allclose(full.covs[0], second - np.outer(mean, mean), rtol=1e-14)
    diagonal = moment_match(p, "diagonal").covs[0]
    np.testing.assert_allclose(np.diag(diagonal), np.diag(full.covs[0]), rtol=1e-15)
    assert diagonal[0, 1] == diagonal[1, 0] == 0.0
    # It is the forward optimum: the gradient vanishes there.
    g = forward_kl_gradient(p, full)
    assert np.abs(g.mean).max() < 1e-14 and np.abs(g.chol).max() < 1e-14


def _q(params: np.ndarray) -> PlaneMixture:
    l11, l21, l22 = params[2:]
    return PlaneMixture.gaussian(
        params[:2], [[l11 * l11, l11 * l21], [l11 * l21, l21 * l21 + l22 * l22]]
    )


def _flat(g) -> np.ndarray:
    return np.concatenate([g.mean, [g.chol[0, 0], g.chol[1, 0], g.chol[1, 1]]])


@pytest.mark.parametrize("direction", ["forward", "reverse"])
def test_gradients_against_finite_differences(direction: str) -> None:
    p, _ = CASES["easy"]
    kl = (
        (lambda x: float(forward_kl(p, _q(x))))
        if direction == "forward"
        else (lambda x: float(reverse_kl(p, _q(x))))
    )
    gradient = forward_kl_gradient if direction == "forward" else reverse_kl_gradient
    x = np.array([0.8, 0.4, 1.3, 0.2, 0.9])
    step = 1e-4
    numeric = [(kl(x + step * e) - kl(x - step * e)) / (2 * step) for e in np.eye(5)]
    np.testing.assert_allclose(_flat(gradient(p, _q(x))), numeric, rtol=1e-6, atol=1e-7)


@pytest.mark.slow  # about 13 s; tests/test_plane_fit.py checks the fits' ends in the default run
def test_reverse_fit_from_one_mode_ends_at_a_stationary_point() -> None:
    p = PlaneMixture([0.5, 0.5], [[-2.5, 0], [2.5, 0.5]], [cov(0.7, 0.7, 0), cov(0.8, 0.6, 0.3)])

    def objective(y: np.ndarray) -> tuple[float, np.ndarray]:
        x = np.concatenate([y[:2], [math.exp(y[2]), y[3], math.exp(y[4])]])
        q = _q(x)
        g = _flat(reverse_kl_gradient(p, q))
        return float(reverse_kl(p, q)), g * np.array([1, 1, x[2], 1, x[4]])

    start = np.array([-2.0, 0.2, math.log(0.5), 0.0, math.log(0.5)])
    result = optimize.minimize(objective, start, jac=True, method="BFGS", options={"gtol": 1e-9})
    assert np.abs(objective(result.x)[1]).max() < 1e-6
    assert result.x[0] < -2.0  # it stayed on the mode it started near
    assert (
        float(
            forward_kl(
                p,
                _q(
                    np.concatenate(
                        [result.x[:2], [math.exp(result.x[2]), result.x[3], math.exp(result.x[4])]]
                    )
                ),
            )
        )
        > 1.0
    )  # mode-seeking: misses one


def test_reverse_diagonal_fit_of_a_gaussian_ends_at_conditional_variances() -> None:
    p = PlaneMixture.gaussian([0.5, -1.0], [[1.0, 0.9], [0.9, 1.0]])

    def objective(y: np.ndarray) -> tuple[float, np.ndarray]:
        x = np.array([y[0], y[1], math.exp(y[2]), 0.0, math.exp(y[3])])
        q = _q(x)
        g = _flat(reverse_kl_gradient(p, q))
        return float(reverse_kl(p, q)), np.array([g[0], g[1], g[2] * x[2], g[4] * x[4]])

    result = optimize.minimize(
        objective,
        np.array([0.0, 0.0, 0.0, math.log(0.3)]),
        jac=True,
        method="BFGS",
        options={"gtol": 1e-12},
    )
    variances = np.exp(2 * result.x[2:])
    expected = np.diag(reverse_gaussian_optimum_for_gaussian(p, "diagonal").covs[0])
    precision = np.linalg.inv(p.covs[0])
    np.testing.assert_allclose(expected, 1 / np.diag(precision), rtol=1e-14)
    np.testing.assert_allclose(variances, expected, rtol=0, atol=1e-8)
    np.testing.assert_allclose(result.x[:2], p.means[0], atol=1e-8)
    full = reverse_gaussian_optimum_for_gaussian(p, "full")
    assert np.array_equal(full.covs, p.covs) and np.array_equal(full.means, p.means)


@pytest.mark.parametrize("name", ["forward", "reverse", "js", "tv", "hellinger"])
def test_a_states_value_does_not_depend_on_its_batch(name):
    """Bit for bit: render segments are keyed by their frames' numbers."""
    rng = np.random.default_rng(5)
    n = 6
    a, c = rng.uniform(0.3, 2, (2, n, 2))
    b = rng.uniform(-0.5, 0.5, (n, 2)) * np.sqrt(a * c)
    covs = np.stack([np.stack([a, b], -1), np.stack([b, c], -1)], -2)
    p = PlaneMixture(np.full((n, 2), 0.5), rng.normal(0, 2, (n, 2, 2)), covs)
    q = PlaneMixture(np.ones((n, 1)), rng.normal(0, 2, (n, 1, 2)), covs[:, :1])
    together = divergence_values(p, q, [name])[name]
    alone = [
        divergence_values(p.take(slice(i, i + 1)), q.take(slice(i, i + 1)), [name])[name]
        for i in range(n)
    ]
    assert np.array_equal(together, np.concatenate(alone))
