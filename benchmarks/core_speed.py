"""Speed and accuracy of kldemo.core.divergences on one core.

Times forward and reverse KL (both directions, in total) for a timeline of
animation-like states: a 2-component p against a 1-component q, then the
1-vs-1 (closed form) and 8-vs-3 cases, and checks KL, JS, TV and Hellinger on a
few hard cases against a 40-digit mpmath reference.  Run from the repository
root::

    python benchmarks/core_speed.py [--states 10000] [--repeat 7]
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"  # one core: set before numpy loads BLAS

import argparse  # noqa: E402  (imports follow the thread settings above)
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from itertools import pairwise  # noqa: E402
from pathlib import Path  # noqa: E402

import mpmath as mp  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kldemo.core.divergences import (  # noqa: E402
    forward_kl,
    hellinger_distance,
    js_divergence,
    reverse_kl,
    tv_distance,
)


def animation_states(n: int, n_p: int, n_q: int, seed: int = 0):
    """p and q for n states: smooth motion plus jitter, as an animation shows."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 1.0, n)[:, None]
    phase = np.linspace(0.0, np.pi, n_p)
    p_means = 5.0 + 3.0 * np.cos(2 * np.pi * t + phase) + rng.uniform(-0.3, 0.3, (n, n_p))
    p_stds = 0.35 + 1.65 * (0.5 + 0.5 * np.sin(3 * np.pi * t + phase))
    p_weights = rng.dirichlet(np.ones(n_p), size=n)
    q_means = 2.0 + 3.0 * rng.random((n, n_q))
    q_stds = 0.7 + 1.3 * rng.random((n, n_q))
    q_weights = rng.dirichlet(np.ones(n_q), size=n)
    return (p_weights, p_means, p_stds), (q_weights, q_means, q_stds)


def median_seconds(p, q, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        forward_kl(p, q)
        reverse_kl(p, q)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _mp_components(mixture) -> list[tuple]:
    return [
        (mp.mpf(float(w)), mp.mpf(float(m)), mp.mpf(float(s)))
        for w, m, s in zip(*mixture, strict=True)
        if w > 0
    ]


def _mp_log_density(x, components):
    return mp.log(mp.fsum(w * mp.npdf(x, m, s) for w, m, s in components))


def _mp_breakpoints(comps, lo, hi) -> list:
    """Means ± k std, and points graded towards each crossing of two components."""
    points = {lo, hi}
    for components in comps:
        for _, m, s in components:
            points.update(m + k * s for k in (-12, -5, -2, 0, 2, 5, 12))
        for i, (w1, m1, s1) in enumerate(components):  # crossings, graded
            for w2, m2, s2 in components[i + 1 :]:
                a = 1 / (2 * s2**2) - 1 / (2 * s1**2)
                b = m1 / s1**2 - m2 / s2**2
                c = m2**2 / (2 * s2**2) - m1**2 / (2 * s1**2) + mp.log(w1 / s1) - mp.log(w2 / s2)
                if a == 0:
                    roots = [-c / b] if b != 0 else []
                else:
                    disc = b * b - 4 * a * c
                    roots = (
                        [(-b + r) / (2 * a) for r in (-mp.sqrt(disc), mp.sqrt(disc))]
                        if disc >= 0
                        else []
                    )
                for x in roots:
                    offset = 1 / abs(2 * a * x + b)
                    points.add(x)
                    while offset < max(s1, s2):
                        points.update((x - offset, x + offset))
                        offset *= 4
    return sorted(x for x in points if lo <= x <= hi)


def mp_kl(p, q, dps: int = 40) -> float:
    """KL(p||q) = ∫ p log(p/q) with mpmath, split at means ± k std and crossings."""
    with mp.workdps(dps):
        comps = [_mp_components(mixture) for mixture in (p, q)]

        def integrand(x):
            log_p = _mp_log_density(x, comps[0])
            return mp.exp(log_p) * (log_p - _mp_log_density(x, comps[1]))

        lo = min(m - 14 * s for _, m, s in comps[0])
        hi = max(m + 14 * s for _, m, s in comps[0])
        return float(mp.quad(integrand, _mp_breakpoints(comps, lo, hi), method="gauss-legendre"))


def mp_symmetric(p, q, dps: int = 40) -> tuple[float, float, float]:
    """(JS, TV, Hellinger) with mpmath: JS and ∫ sqrt(pq) by quadrature, also split
    where p = q; TV from the CDFs between those roots, ½ Σ |ΔP - ΔQ|."""
    with mp.workdps(dps):
        comps = [_mp_components(mixture) for mixture in (p, q)]
        lo = min(m - 14 * s for components in comps for _, m, s in components)
        hi = max(m + 14 * s for components in comps for _, m, s in components)
        known: dict = {}

        def logs(x):
            if x not in known:
                known[x] = tuple(_mp_log_density(x, components) for components in comps)
            return known[x]

        def log_ratio(x):
            return logs(x)[0] - logs(x)[1]

        points = _mp_breakpoints(comps, lo, hi)
        grid = sorted(set(points) | {lo + (hi - lo) * k / 200 for k in range(201)})
        signs = [log_ratio(x) for x in grid]
        roots = sorted(
            [x for x, sign in zip(grid, signs, strict=True) if sign == 0]
            + [
                mp.findroot(log_ratio, (grid[k], grid[k + 1]), solver="anderson")
                for k in range(len(grid) - 1)
                if signs[k] * signs[k + 1] < 0
            ]
        )

        def cdfs(x):
            return [mp.fsum(w * mp.ncdf(x, m, s) for w, m, s in components) for components in comps]

        ends = [cdfs(x) for x in (-mp.inf, *roots, mp.inf)]
        tv = mp.fsum(abs((b[0] - a[0]) - (b[1] - a[1])) for a, b in pairwise(ends)) / 2

        def js(x):  # (p+q)/4 [(1+t) log(1+t) + (1-t) log(1-t)], t = (p-q)/(p+q)
            p_x, q_x = (mp.exp(v) for v in logs(x))
            t = (p_x - q_x) / (p_x + q_x)
            # (1 ± t) log(1 ± t) -> 0 where p or q is below 1e-40 of the other
            terms = [(1 + s) * mp.log1p(s) for s in (t, -t) if 1 + s != 0]
            return (p_x + q_x) / 4 * mp.fsum(terms)

        def hellinger2(x):  # ½ (sqrt p - sqrt q)^2: no cancellation when tiny
            return (mp.exp(logs(x)[0] / 2) - mp.exp(logs(x)[1] / 2)) ** 2 / 2

        # sqrt p decays half as fast as p: resolve its tails out to e^-100
        tails = {
            m + k * s
            for components in comps
            for _, m, s in components
            for k in (-28, -20, -16, 16, 20, 28)
        }
        points = sorted(x for x in set(points) | set(roots) | tails if lo <= x <= hi)
        return (
            float(mp.quad(js, points, method="gauss-legendre")),
            float(tv),
            float(mp.sqrt(mp.quad(hellinger2, points, method="gauss-legendre"))),
        )


HARD_CASES = {
    "N(0, 1e-3^2) vs N(0, 10^2)": (([1.0], [0.0], [1e-3]), ([1.0], [0.0], [10.0])),
    "narrow (1e-3) vs wide (10)": (
        ([0.5, 0.5], [0.0, 0.5], [1e-3, 1.0]),
        ([0.7, 0.3], [0.0, 2.0], [10.0, 3.0]),
    ),
    "narrow (1e-3) vs wide (1e3)": (
        ([0.5, 0.5], [0.0, 1.0], [1e-3, 1.0]),
        ([0.5, 0.5], [0.0, 5.0], [1e3, 1e3]),
    ),
    "modes 50 std apart": (([0.5, 0.5], [-25.0, 25.0], [1.0, 1.0]), ([1.0], [0.0], [20.0])),
    "both with modes 50 apart": (
        ([0.3, 0.7], [0.0, 50.0], [1.0, 1.0]),
        ([0.7, 0.3], [0.0, 50.0], [1.0, 1.0]),
    ),
    "spike inside broad": (([0.9, 0.1], [0.0, 3.0], [10.0, 1e-3]), ([1.0], [0.0], [10.0])),
    "means near 1e3": (
        ([0.5, 0.5], [1000.0, 1003.0], [1.0, 2.0]),
        ([0.4, 0.6], [1001.0, 1000.0], [1.5, 0.01]),
    ),
    "weights 1e-6": (
        ([1 - 1e-6, 1e-6], [0.0, 5.0], [1.0, 0.1]),
        ([1e-6, 1 - 1e-6], [-3.0, 0.5], [0.01, 1.2]),
    ),
    "near identical": (
        ([0.4, 0.6], [0.0, 2.0], [1.0, 1.5]),
        ([0.4, 0.6], [1e-6, 2.0], [1.0, 1.5 * (1 + 1e-7)]),
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--states", type=int, default=10_000, help="states per timeline")
    parser.add_argument("--repeat", type=int, default=7, help="repeats; the median is shown")
    parser.add_argument(
        "--states-8v3",
        type=int,
        default=1_000,
        help="states for the 8-vs-3 case (slower per state)",
    )
    parser.add_argument("--skip-accuracy", action="store_true", help="skip the mpmath check")
    args = parser.parse_args()

    print(f"one core, median of {args.repeat} repeats, forward + reverse KL")
    for label, n, n_p, n_q in (
        ("2-vs-1", args.states, 2, 1),
        ("1-vs-1", args.states, 1, 1),
        ("8-vs-3", args.states_8v3, 8, 3),
    ):
        p, q = animation_states(n, n_p, n_q)
        forward_kl(p, q)  # warm up
        seconds = median_seconds(p, q, args.repeat)
        print(f"  {label}: {n:>6} states  {seconds:8.4f} s  ({seconds / n * 1e6:7.1f} us/state)")

    if args.skip_accuracy:
        return
    print("relative error against mpmath (40 digits); KL both directions, JS, TV and")
    print("Hellinger worst of both argument orders")
    columns = ("KL(p||q)", "KL(q||p)", "JS", "TV", "Hellinger")
    print(f"  {'case':28s}" + "".join(f"{c:>11s}" for c in columns))
    worst = dict.fromkeys(columns, 0.0)
    for name, (p, q) in HARD_CASES.items():
        errors = []
        for a, b in ((p, q), (q, p)):
            reference = mp_kl(a, b)
            error = abs(float(forward_kl(a, b)) - reference)
            # relative, but absolute below KL = 1e-3, as in the accuracy contract
            errors.append(error / abs(reference) if abs(reference) >= 1e-3 else error)
        for f, reference in zip(
            (js_divergence, tv_distance, hellinger_distance), mp_symmetric(p, q), strict=True
        ):
            errors.append(
                max(abs(float(f(*a, *b)) - reference) / reference for a, b in ((p, q), (q, p)))
            )
        for column, error in zip(columns, errors, strict=True):
            worst[column] = max(worst[column], error)
        print(f"  {name:28s}" + "".join(f"{e:11.1e}" for e in errors))
    print(f"  {'worst':28s}" + "".join(f"{worst[c]:11.1e}" for c in columns))
    print("  (KL absolute where KL < 1e-3; JS, TV and Hellinger relative throughout)")


if __name__ == "__main__":
    main()
