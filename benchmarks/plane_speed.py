"""Speed and accuracy of kldemo.core.plane (two-dimensional mixtures) on one core.

Times forward plus reverse KL per state for animation-like timelines: a
2-component p against a 1-component q, and a 4-component p against a
2-component q; then JS, TV and Hellinger for the first; then checks a few cases
against a nested scipy quadrature in each component's whitened coordinates;
then times a fit keyframe's path (plane_fit_path, one Gaussian q, each
direction and family) and the optimum markers (plane_optima) for p of 2, 3
and 4 components. Run from the repository root::

    python benchmarks/plane_speed.py [--states 200] [--repeat 3]
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"  # one core: set before numpy loads BLAS

import argparse  # noqa: E402  (imports follow the thread settings above)
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from scipy import integrate  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kldemo.core.plane import (  # noqa: E402
    PlaneMixture,
    forward_kl,
    hellinger_distance,
    js_divergence,
    log_density,
    plane_fit_path,
    plane_optima,
    reverse_kl,
    tv_distance,
)
from kldemo.core.plane import optima as plane_optima_module  # noqa: E402
from kldemo.core.plane import paths as plane_paths_module  # noqa: E402


def _covs(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Random covariances: stds 0.4-2, correlation within ±0.8."""
    s = rng.uniform(0.4, 2.0, (*shape, 2))
    rho = rng.uniform(-0.8, 0.8, shape)
    covs = np.empty((*shape, 2, 2))
    covs[..., 0, 0], covs[..., 1, 1] = s[..., 0] ** 2, s[..., 1] ** 2
    covs[..., 0, 1] = covs[..., 1, 0] = rho * s[..., 0] * s[..., 1]
    return covs


def animation_states(
    n: int, n_p: int, n_q: int, seed: int = 0
) -> tuple[PlaneMixture, PlaneMixture]:
    """p and q for n states: modes circling, plus jitter, as an animation shows."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 1.0, n)[:, None]
    phase = np.linspace(0.0, np.pi, n_p, endpoint=False)
    angle = 2 * np.pi * t + phase
    p_means = np.stack([3 * np.cos(angle), 3 * np.sin(angle)], axis=-1)
    p_means += rng.uniform(-0.3, 0.3, p_means.shape)
    p = PlaneMixture(rng.dirichlet(np.ones(n_p), size=n), p_means, _covs(rng, (n, n_p)))
    q = PlaneMixture(
        rng.dirichlet(np.ones(n_q), size=n), rng.uniform(-2, 2, (n, n_q, 2)), _covs(rng, (n, n_q))
    )
    return p, q


def median_seconds(function, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def reference_kl(p: PlaneMixture, q: PlaneMixture) -> float:
    """KL(p||q) by nested scipy.integrate.quad, per component of p, in its
    whitened coordinates on |z_j| <= 9."""
    total = 0.0
    for w, m, s in zip(p.weights, p.means, p.covs, strict=True):
        chol = np.linalg.cholesky(s)

        def integrand(z2: float, z1: float, m=m, chol=chol) -> float:
            x = (m + chol @ np.array([z1, z2]))[None]
            f = log_density(x, p)[0] - log_density(x, q)[0]
            return np.exp(-0.5 * (z1 * z1 + z2 * z2)) / (2 * np.pi) * f

        value, _ = integrate.dblquad(integrand, -9, 9, -9, 9, epsabs=1e-13, epsrel=1e-12)
        total += w * value
    return total


def _cov(sx: float, sy: float, rho: float) -> list[list[float]]:
    return [[sx * sx, rho * sx * sy], [rho * sx * sy, sy * sy]]


#: p of 2, 3 and 4 components as fit keyframes show them (modes a few stds apart), and
#: the one-Gaussian q each fit starts from.
FIT_CASES = {
    2: PlaneMixture([0.6, 0.4], [[-2, 0], [2, 0.5]], [_cov(0.8, 0.6, 0.3), _cov(0.7, 0.9, -0.4)]),
    3: PlaneMixture(
        [0.5, 0.3, 0.2],
        [[-1.5, 0], [1.5, 0.5], [0, 2]],
        [_cov(0.84, 0.71, 0.34), _cov(0.77, 0.77, 0.0), _cov(0.63, 0.89, -0.18)],
    ),
    4: PlaneMixture(
        [0.3, 0.3, 0.2, 0.2],
        [[-2, -1], [2, -1], [0, 2], [0, 0]],
        [_cov(0.6, 0.6, 0), _cov(0.8, 0.5, 0.5), _cov(0.5, 0.9, -0.3), _cov(1.0, 1.0, 0.2)],
    ),
}
FIT_START = PlaneMixture.gaussian([1.0, -0.5], [[0.5, 0.0], [0.0, 2.0]])


def fit_figures(repeat: int) -> None:
    """Seconds per fit path and per set of optima, each computed afresh (caches cleared)."""
    print(f"fits of one Gaussian q (plane_fit_path, caches cleared), median of {repeat}:")
    for k, p in FIT_CASES.items():
        for direction in ("forward", "reverse"):
            for family in ("full", "diagonal"):

                def fit(p=p, direction=direction, family=family) -> None:
                    plane_paths_module.clear_cache()
                    plane_fit_path(p, FIT_START, direction, family)

                seconds = median_seconds(fit, repeat)
                path = plane_fit_path(p, FIT_START, direction, family)
                print(
                    f"  {k} components, {direction:7s} {family:8s}: {1e3 * seconds:7.1f} ms "
                    f"({len(path.arc)} vertices, length {path.length:.2f}, "
                    f"{'converged' if path.converged else 'NOT converged'}) "
                    f"{'ok' if seconds <= 1.0 else 'OVER 1 s'}"
                )
    print("optimum markers (plane_optima, cache cleared):")
    for k, p in FIT_CASES.items():
        for family in ("full", "diagonal"):

            def markers(p=p, family=family) -> None:
                plane_optima_module.clear_cache()
                plane_optima(p, family)

            seconds = median_seconds(markers, repeat)
            found = plane_optima(p, family)
            print(
                f"  {k} components, {family:8s}: {1e3 * seconds:7.1f} ms "
                f"({len(found.reverse)} reverse optima)"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--states", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    n = args.states
    print(f"kldemo.core.plane on one core, {n} animation-like states, median of {args.repeat}")
    for n_p, n_q, budget in ((2, 1, 2.0), (4, 2, 10.0)):
        p, q = animation_states(n, n_p, n_q)
        forward_kl(p, q)  # warm up
        seconds = median_seconds(lambda p=p, q=q: (forward_kl(p, q), reverse_kl(p, q)), args.repeat)
        ms = 1e3 * seconds / n
        print(
            f"  KL both directions, {n_p} vs {n_q}: {ms:7.3f} ms/state "
            f"(budget {budget} ms) {'ok' if ms <= budget else 'OVER'}"
        )
    for name, function, count in (
        ("JS", js_divergence, n),
        ("Hellinger", hellinger_distance, n),
        ("TV", tv_distance, 3),
    ):
        # TV's integrand has a kink where p = q, so it converges slowly: few states.
        p, q = animation_states(count, 2, 1)
        seconds = median_seconds(lambda f=function, p=p, q=q: f(p, q), 1)
        print(f"  {name:9s} 2 vs 1: {1e3 * seconds / count:9.3f} ms/state ({count} states)")
    print("accuracy against nested scipy quad (whitened coordinates):")
    p, q = animation_states(5, 2, 1, seed=1)
    worst = 0.0
    for k in range(3):
        pk = PlaneMixture(p.weights[k], p.means[k], p.covs[k])
        qk = PlaneMixture(q.weights[k], q.means[k], q.covs[k])
        for a, b, label in ((pk, qk, "forward"), (qk, pk, "reverse")):
            ref, got = reference_kl(a, b), float(forward_kl(a, b))
            error = abs(got - ref) / abs(ref)
            worst = max(worst, error)
            print(
                f"  state {k} {label:7s}: KL {got:.15f}  reference {ref:.15f}  "
                f"relative error {error:.1e}"
            )
    print(f"  worst relative error {worst:.1e} (target 1e-9)")
    fit_figures(args.repeat)


if __name__ == "__main__":
    main()
