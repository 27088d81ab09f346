"""Tests of the plane fits (kldemo.core.plane.paths and .optima) against independent references.

Closed forms: moment matching (forward KL) and, for a Gaussian p of precision Λ, the
reverse optima p itself (full family) and variances 1/Λ_ii (diagonal family). For mixtures,
each divergence is minimised by ``scipy.optimize.minimize`` on quadratures written here:
reverse KL on a composite Gauss-Legendre tensor grid in q's whitened coordinates (fixed in
z, so the objective is smooth in q's parameters) with log p and its gradient from
``scipy.stats`` and ``numpy.linalg``; forward KL by a Gauss-Hermite tensor grid in each
component of p's whitened coordinates (exact: log q is quadratic).
"""

from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np
import pytest
from scipy import optimize
from scipy.special import logsumexp
from scipy.stats import multivariate_normal

from kldemo.core.plane import (
    PlaneFitPath,
    PlaneMixture,
    forward_kl,
    moment_match,
    plane_fit_path,
    plane_optima,
    reverse_kl,
)
from kldemo.core.plane.objective import cholesky_coordinates, fisher_metric


def cov(sx: float, sy: float, rho: float) -> list[list[float]]:
    return [[sx * sx, rho * sx * sy], [rho * sx * sy, sy * sy]]


MIXTURES = {
    2: PlaneMixture(
        [0.6, 0.4], [[-1.5, 0.0], [1.5, 0.5]], [cov(0.8, 0.6, 0.3), cov(0.7, 0.9, -0.4)]
    ),
    3: PlaneMixture(
        [0.5, 0.3, 0.2],
        [[-1.5, 0.0], [1.5, 0.5], [0.0, 2.0]],
        [cov(0.85, 0.7, 0.35), cov(0.77, 0.77, 0.0), cov(0.63, 0.9, -0.18)],
    ),
}
START = PlaneMixture.gaussian([1.0, -0.5], np.diag([0.5, 2.0]))
CORRELATED = PlaneMixture.gaussian([0.0, 0.0], [[1.0, 0.9], [0.9, 1.0]])


# --------------------------------------------------------------------------
# Independent references
# --------------------------------------------------------------------------


def _whitened_grid(order: int = 8):
    """Nodes z (n, 2) and weights φ(z) dz (n,) of composite Gauss-Legendre on [-8, 8]²:
    panels 0.5 wide within |z| <= 5, 1.5 wide in the tails (where φ < 4e-6)."""
    x, w = np.polynomial.legendre.leggauss(order)
    edges = np.concatenate([[-8.0, -6.5], np.arange(-5.0, 5.01, 0.5), [6.5, 8.0]])
    middle, half = 0.5 * (edges[1:] + edges[:-1]), 0.5 * np.diff(edges)
    nodes = (middle[:, None] + half[:, None] * x).ravel()
    weights = (half[:, None] * w).ravel() * np.exp(-0.5 * nodes**2) / math.sqrt(2 * math.pi)
    z1, z2 = np.meshgrid(nodes, nodes, indexing="ij")
    return np.stack([z1.ravel(), z2.ravel()], axis=-1), np.outer(weights, weights).ravel()


GRID = _whitened_grid()


def _log_p_and_grad(x: np.ndarray, p: PlaneMixture) -> tuple[np.ndarray, np.ndarray]:
    logs, grads = [], []
    for w, m, s in zip(p.weights, p.means, p.covs, strict=True):
        logs.append(math.log(w) + multivariate_normal(m, s).logpdf(x))
        grads.append(-(x - m) @ np.linalg.inv(s))
    logs = np.array(logs)
    log_p = logsumexp(logs, axis=0)
    return log_p, np.einsum("kn,kni->ni", np.exp(logs - log_p), np.array(grads))


def _q_of(y: np.ndarray, diagonal: bool) -> tuple[np.ndarray, np.ndarray]:
    """Mean and Cholesky factor from (m1, m2, log l11, [l21,] log l22)."""
    l21 = 0.0 if diagonal else y[3]
    chol = np.array([[math.exp(y[2]), 0.0], [l21, math.exp(y[-1])]])
    return y[:2], chol


def _params(q: PlaneMixture, diagonal: bool) -> np.ndarray:
    chol = np.linalg.cholesky(q.covs[0])
    tail = [math.log(chol[1, 1])] if diagonal else [chol[1, 0], math.log(chol[1, 1])]
    return np.array([*q.means[0], math.log(chol[0, 0]), *tail])


def _reverse_objective(y: np.ndarray, p: PlaneMixture, diagonal: bool):
    """KL(q‖p) = -log 2π - 1 - log det L - E log p(m + L z), and its gradient."""
    mean, chol = _q_of(y, diagonal)
    z, w = GRID
    log_p, g = _log_p_and_grad(mean + z @ chol.T, p)
    value = -math.log(2 * math.pi) - 1.0 - y[2] - y[-1] - w @ log_p
    grad_mean = -w @ g
    d_l11 = -1.0 - chol[0, 0] * (w @ (g[:, 0] * z[:, 0]))
    d_l22 = -1.0 - chol[1, 1] * (w @ (g[:, 1] * z[:, 1]))
    d_l21 = -(w @ (g[:, 1] * z[:, 0]))
    tail = [d_l22] if diagonal else [d_l21, d_l22]
    return value, np.array([*grad_mean, d_l11, *tail])


def _forward_objective(y: np.ndarray, p: PlaneMixture, diagonal: bool) -> float:
    """E_p[-log q]: Gauss-Hermite in each component's whitened coordinates."""
    mean, chol = _q_of(y, diagonal)
    u, v = np.polynomial.hermite_e.hermegauss(6)
    u1, u2 = np.meshgrid(u, u, indexing="ij")
    nodes = np.stack([u1.ravel(), u2.ravel()], axis=-1)
    weights = np.outer(v, v).ravel() / (2 * math.pi)
    q = multivariate_normal(mean, chol @ chol.T)
    return sum(
        wc * (weights @ -q.logpdf(mc + nodes @ np.linalg.cholesky(sc).T))
        for wc, mc, sc in zip(p.weights, p.means, p.covs, strict=True)
    )


def _newton(gradient, y: np.ndarray, steps: int = 3, h: float = 1e-4) -> np.ndarray:
    """A few Newton steps, the Hessian by central differences of the gradient."""
    for _ in range(steps):
        columns = [(gradient(y + h * e) - gradient(y - h * e)) / (2 * h) for e in np.eye(y.size)]
        hessian = np.array(columns)
        y = y - np.linalg.solve(0.5 * (hessian + hessian.T), gradient(y))
    return y


def _reference_end(p: PlaneMixture, direction: str, family: str) -> tuple[np.ndarray, np.ndarray]:
    """scipy's BFGS from the fits' start, then Newton's method to the rounding level."""
    diagonal = family == "diagonal"
    start = _params(START, diagonal)
    if direction == "reverse":
        objective = functools.partial(_reverse_objective, p=p, diagonal=diagonal)
        result = optimize.minimize(
            objective, start, jac=True, method="BFGS", options={"gtol": 1e-5}
        )
        y = _newton(lambda y: objective(y)[1], result.x)
        assert np.abs(objective(y)[1]).max() < 1e-10
    else:
        objective = functools.partial(_forward_objective, p=p, diagonal=diagonal)
        result = optimize.minimize(
            objective, start, jac="3-point", method="BFGS", options={"gtol": 1e-9}
        )
        y = result.x
    mean, chol = _q_of(y, diagonal)
    return mean, chol @ chol.T


# --------------------------------------------------------------------------
# Ends
# --------------------------------------------------------------------------


@pytest.mark.parametrize("family", ["full", "diagonal"])
@pytest.mark.parametrize("k", [1, 2, 3])
def test_forward_ends_exactly_at_moment_matching(family: str, k: int) -> None:
    p = CORRELATED if k == 1 else MIXTURES[k]
    q = START if family == "diagonal" else PlaneMixture.gaussian([1.0, -0.5], cov(0.7, 1.4, 0.6))
    path = plane_fit_path(p, q, "forward", family)
    expected = moment_match(p, family)
    assert path.converged and path.warning() is None
    np.testing.assert_allclose(path.end.means, expected.means, rtol=0, atol=1e-12)
    np.testing.assert_allclose(path.end.covs, expected.covs, rtol=1e-12, atol=1e-12)
    if family == "diagonal":
        assert path.end.covs[0, 0, 1] == path.end.covs[0, 1, 0] == 0.0


@pytest.mark.parametrize(
    "p",
    [
        CORRELATED,
        PlaneMixture.gaussian([0.5, -1.0], cov(2.0, 0.5, -0.7)),
        PlaneMixture.gaussian([-3.0, 2.0], cov(0.3, 1.5, 0.2)),
    ],
)
def test_reverse_of_a_gaussian_ends_at_its_closed_form(p: PlaneMixture) -> None:
    precision = np.linalg.inv(p.covs[0])
    diagonal = plane_fit_path(p, START, "reverse", "diagonal")
    assert diagonal.converged
    np.testing.assert_allclose(diagonal.end.means[0], p.means[0], rtol=0, atol=1e-8)
    np.testing.assert_allclose(
        np.diag(diagonal.end.covs[0]), 1 / np.diag(precision), rtol=0, atol=1e-8
    )
    full = plane_fit_path(p, START, "reverse", "full")
    assert full.converged
    np.testing.assert_allclose(full.end.means[0], p.means[0], rtol=0, atol=1e-8)
    np.testing.assert_allclose(full.end.covs[0], p.covs[0], rtol=0, atol=1e-8)


def test_the_factorised_fit_of_a_correlated_gaussian() -> None:
    # p = N(0, [[1, 0.9], [0.9, 1]]), q diagonal: reverse hides inside the ridge
    # (1/Λ_ii = 1 - 0.9² = 0.19), forward covers the marginals (1).
    q = PlaneMixture.gaussian([0.0, 0.0], 0.5 * np.eye(2))
    reverse = plane_fit_path(CORRELATED, q, "reverse", "diagonal")
    forward = plane_fit_path(CORRELATED, reverse.end, "forward", "diagonal")
    np.testing.assert_allclose(np.diag(reverse.end.covs[0]), [0.19, 0.19], rtol=0, atol=1e-8)
    np.testing.assert_allclose(np.diag(forward.end.covs[0]), [1.0, 1.0], rtol=0, atol=1e-8)
    for path in (reverse, forward):
        np.testing.assert_allclose(path.end.means[0], [0.0, 0.0], rtol=0, atol=1e-8)
        assert path.end.covs[0, 0, 1] == 0.0 and path.converged


@pytest.mark.parametrize("direction", ["reverse", "forward"])
@pytest.mark.parametrize("family", ["full", "diagonal"])
@pytest.mark.parametrize("k", [2, 3])
def test_mixture_ends_agree_with_scipy_on_an_independent_quadrature(
    direction: str, family: str, k: int
) -> None:
    p = MIXTURES[k]
    path = plane_fit_path(p, START, direction, family)
    mean, covariance = _reference_end(p, direction, family)
    assert path.converged
    np.testing.assert_allclose(path.end.means[0], mean, rtol=0, atol=1e-6)
    np.testing.assert_allclose(path.end.covs[0], covariance, rtol=0, atol=1e-6)


def test_a_saddle_is_left_the_same_way_every_time() -> None:
    # q narrow, exactly between two mirror-image modes, moving its mean only: the
    # midpoint is a saddle; the fit leaves it (towards +x) for the right-hand mode.
    p = PlaneMixture([0.5, 0.5], [[-2.0, 0.0], [2.0, 0.0]], [0.5 * np.eye(2)] * 2)
    q = PlaneMixture.gaussian([0.0, 0.0], 0.3 * np.eye(2))
    path = plane_fit_path(p, q, "reverse", "full", ("means",))
    assert path.converged and path.end.means[0, 0] > 1.9
    assert abs(path.end.means[0, 1]) < 1e-8
    values = reverse_kl(p, path.at(path.arc / path.length))
    assert values[-1] < values[0] - 0.5  # the saddle is well above the mode


# --------------------------------------------------------------------------
# The path
# --------------------------------------------------------------------------

PATHS = [
    (MIXTURES[3], "reverse", "full"),
    (MIXTURES[2], "reverse", "diagonal"),
    (MIXTURES[3], "forward", "full"),
    (MIXTURES[2], "forward", "diagonal"),
]


@pytest.mark.parametrize(("p", "direction", "family"), PATHS)
def test_path_is_exact_at_its_ends_and_positive_definite_on_the_way(
    p: PlaneMixture, direction: str, family: str
) -> None:
    path = plane_fit_path(p, START, direction, family)
    for e, expected in ((0.0, START), (-1.0, START), (1.0, path.end), (3.0, path.end)):
        state = path.at(e)
        assert np.array_equal(state.means, expected.means)
        assert np.array_equal(state.covs, expected.covs)
    states = path.at(np.concatenate([np.linspace(0, 1, 401), path.arc / path.length]))
    a, b, c = states.covs[:, 0, 0, 0], states.covs[:, 0, 0, 1], states.covs[:, 0, 1, 1]
    assert np.all(a > 0) and np.all(a * c - b * b > 0)
    assert np.array_equal(states.covs[..., 0, 1], states.covs[..., 1, 0])
    if family == "diagonal":
        assert np.all(states.covs[..., 0, 1] == 0.0) and np.all(states.covs[..., 1, 0] == 0.0)


@pytest.mark.parametrize(("p", "direction", "family"), PATHS)
def test_objective_falls_along_the_vertices(p: PlaneMixture, direction: str, family: str) -> None:
    path = plane_fit_path(p, START, direction, family)
    assert len(path.arc) > 10 and path.arc[0] == 0.0 and np.all(np.diff(path.arc) > 0)
    divergence = reverse_kl if direction == "reverse" else forward_kl
    values = divergence(p, path.at(path.arc / path.length))
    assert np.all(np.diff(values) <= 1e-10 * (1 + np.abs(values[:-1])))
    assert values[-1] < values[0] - 0.1


def test_pace_is_even_in_the_fisher_metric() -> None:
    path = plane_fit_path(MIXTURES[3], START, "reverse", "full")
    states = path.at(np.linspace(0, 1, 41))
    theta = cholesky_coordinates(states.means[:, 0], states.covs[:, 0])
    step = np.diff(theta, axis=0)
    g = fisher_metric(0.5 * (theta[1:] + theta[:-1]))
    lengths = np.sqrt(np.einsum("ni,nij,nj->n", step, g, step))
    np.testing.assert_allclose(lengths, path.length / 40, rtol=1e-2)
    assert abs(lengths.sum() - path.length) < 1e-2 * path.length


def test_at_is_vectorised_over_any_shape() -> None:
    path = plane_fit_path(MIXTURES[2], START, "reverse", "full")
    assert isinstance(path, PlaneFitPath)
    for e in (0.3, np.linspace(0, 1, 5), np.full((2, 3), 0.5)):
        state = path.at(e)
        shape = np.shape(e)
        assert state.shape == shape and state.n_components == 1
        assert state.means.shape == (*shape, 1, 2) and state.covs.shape == (*shape, 1, 2, 2)
    grid = path.at(np.full((2, 3), 0.5))
    single = path.at(0.5)
    assert np.array_equal(grid.covs[1, 2], single.covs) and np.array_equal(
        grid.means[0, 1], single.means
    )


def test_parameters_not_optimised_keep_their_start_exactly() -> None:
    p = MIXTURES[2]
    q = PlaneMixture.gaussian([1.0, -0.5], cov(0.7, 1.4, 0.6))
    means_only = plane_fit_path(p, q, "forward", "full", ("means",))
    states = means_only.at(np.linspace(0, 1, 51))
    assert np.all(states.covs == q.covs[0])
    np.testing.assert_allclose(means_only.end.means, moment_match(p).means, atol=1e-12)
    covs_only = plane_fit_path(p, q, "forward", "full", ("covs", "weights"))
    assert np.all(covs_only.at(np.linspace(0, 1, 51)).means == q.means[0])
    d = moment_match(p).means[0] - q.means[0]
    expected = moment_match(p).covs[0] + np.outer(d, d)  # the second moment about q's mean
    np.testing.assert_allclose(covs_only.end.covs[0], expected, rtol=1e-12)
    nothing = plane_fit_path(p, q, "reverse", "full", ("weights",))
    assert nothing.length == 0.0 and nothing.converged
    for state in (nothing.end, nothing.at(0.5)):
        assert np.array_equal(state.means, q.means) and np.array_equal(state.covs, q.covs)


def test_paths_are_cached_per_input() -> None:
    first = plane_fit_path(MIXTURES[2], START, "reverse", "diagonal")
    again = plane_fit_path(
        PlaneMixture(*(np.array(v) for v in MIXTURES[2])), START, "reverse", "diagonal"
    )
    assert first is again
    assert not first.vertices.flags.writeable and not first.arc.flags.writeable


def test_bad_arguments_are_refused() -> None:
    p = MIXTURES[2]
    with pytest.raises(ValueError, match="one Gaussian"):
        plane_fit_path(p, p, "reverse")
    with pytest.raises(ValueError, match="diagonal q"):
        plane_fit_path(p, PlaneMixture.gaussian([0, 0], cov(1, 1, 0.5)), "reverse", "diagonal")
    with pytest.raises(ValueError, match="direction"):
        plane_fit_path(p, START, "sideways")
    with pytest.raises(ValueError, match="family"):
        plane_fit_path(p, START, "forward", "banana")
    with pytest.raises(ValueError, match="unknown parameters"):
        plane_fit_path(p, START, "forward", optimize=("stds",))
    with pytest.raises(ValueError, match="one state"):
        plane_fit_path(PlaneMixture.gaussian(np.zeros((2, 2)), np.eye(2)), START, "forward")


# --------------------------------------------------------------------------
# Optima
# --------------------------------------------------------------------------


def test_optima_of_a_gaussian_are_its_closed_forms() -> None:
    full, diagonal = plane_optima(CORRELATED, "full"), plane_optima(CORRELATED, "diagonal")
    assert len(full.reverse) == len(diagonal.reverse) == 1
    np.testing.assert_allclose(full.reverse[0].cov, CORRELATED.covs[0], atol=1e-8)
    np.testing.assert_allclose(diagonal.reverse[0].cov, np.diag([0.19, 0.19]), atol=1e-8)
    np.testing.assert_allclose(diagonal.forward.cov, np.eye(2), atol=1e-15)
    assert full.forward_kl < 1e-12 and diagonal.forward_kl > 0.5


def test_optima_of_two_mirror_image_modes() -> None:
    p = PlaneMixture([0.5, 0.5], [[-4.0, 1.0], [4.0, -1.0]], [cov(1.0, 0.8, 0.3)] * 2)
    found = plane_optima(p)
    xs = [g.mean[0] for g in found.reverse]
    assert xs == sorted(xs) and len(xs) >= 2
    left, right = found.reverse[0], found.reverse[-1]
    # Point symmetry about the origin maps one mode's optimum onto the other's.
    np.testing.assert_allclose(left.mean, -np.array(right.mean), atol=1e-8)
    np.testing.assert_allclose(left.cov, right.cov, atol=1e-8)
    # Each is where a fit from near that mode ends.
    near = PlaneMixture.gaussian([3.0, 0.0], np.eye(2))
    end = plane_fit_path(p, near, "reverse").end
    np.testing.assert_allclose(end.means[0], right.mean, atol=1e-8)
    np.testing.assert_allclose(end.covs[0], right.cov, atol=1e-8)
    values = reverse_kl(
        p, PlaneMixture.gaussian([g.mean for g in found.reverse], [g.cov for g in found.reverse])
    )
    np.testing.assert_allclose(found.reverse_kl, values, rtol=1e-12)
    np.testing.assert_allclose(found.forward.mean, moment_match(p).means[0], atol=1e-15)
    assert plane_optima(p) is found


def test_a_component_of_weight_zero_is_no_part_of_p() -> None:
    p = MIXTURES[2]
    padded = PlaneMixture(
        [0.6, 0.0, 0.4],
        [p.means[0], [0.3, 0.2], p.means[1]],
        [p.covs[0], 1e-4 * np.eye(2), p.covs[1]],
    )
    for direction in ("forward", "reverse"):
        with_zero = plane_fit_path(padded, START, direction).end
        without = plane_fit_path(p, START, direction).end
        np.testing.assert_allclose(with_zero.means, without.means, atol=1e-9)
        np.testing.assert_allclose(with_zero.covs, without.covs, atol=1e-9)


def test_an_unconverged_fit_says_so() -> None:
    path = plane_fit_path(MIXTURES[2], START, "reverse")
    stopped = dataclasses.replace(path, converged=False, gradient=2e-8)
    assert stopped.warning() == "fit: reverse stopped before converging (gradient 2e-08 left)"
    saddle = dataclasses.replace(stopped, left_saddles=False)
    assert saddle.warning() == (
        "fit: reverse stopped on a saddle it could not leave (gradient 2e-08 left)"
    )
