"""Speed and accuracy of kldemo.core on one core.

Times forward and reverse KL (both directions, in total) for a timeline of
animation-like states: a 2-component p against a 1-component q, then the
1-vs-1 (closed form) and 8-vs-3 cases, and checks a few hard cases against a
40-digit mpmath reference.  Run from the repository root::

    python benchmarks/core_speed.py [--states 10000] [--repeat 7]
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"         # one core: set before numpy loads BLAS

import argparse  # noqa: E402  (imports follow the thread settings above)
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import mpmath as mp  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kldemo.core import forward_kl, reverse_kl  # noqa: E402


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


def mp_kl(p, q, dps: int = 40) -> float:
    """KL(p||q) = ∫ p log(p/q) with mpmath, split at means ± k std and crossings."""
    with mp.workdps(dps):
        comps = [[(mp.mpf(float(w)), mp.mpf(float(m)), mp.mpf(float(s)))
                  for w, m, s in zip(*mixture, strict=True) if w > 0] for mixture in (p, q)]

        def log_density(x, components):
            return mp.log(mp.fsum(w * mp.npdf(x, m, s) for w, m, s in components))

        def integrand(x):
            log_p = log_density(x, comps[0])
            return mp.exp(log_p) * (log_p - log_density(x, comps[1]))

        lo = min(m - 14 * s for _, m, s in comps[0])
        hi = max(m + 14 * s for _, m, s in comps[0])
        points = {lo, hi}
        for components in comps:
            for _, m, s in components:
                points.update(m + k * s for k in (-12, -5, -2, 0, 2, 5, 12))
            for i, (w1, m1, s1) in enumerate(components):      # crossings, graded
                for w2, m2, s2 in components[i + 1:]:
                    a = 1 / (2 * s2**2) - 1 / (2 * s1**2)
                    b = m1 / s1**2 - m2 / s2**2
                    c = (m2**2 / (2 * s2**2) - m1**2 / (2 * s1**2)
                         + mp.log(w1 / s1) - mp.log(w2 / s2))
                    if a == 0:
                        roots = [-c / b] if b != 0 else []
                    else:
                        disc = b * b - 4 * a * c
                        roots = ([(-b + r) / (2 * a) for r in (-mp.sqrt(disc), mp.sqrt(disc))]
                                 if disc >= 0 else [])
                    for x in roots:
                        offset = 1 / abs(2 * a * x + b)
                        points.add(x)
                        while offset < max(s1, s2):
                            points.update((x - offset, x + offset))
                            offset *= 4
        points = sorted(x for x in points if lo <= x <= hi)
        return float(mp.quad(integrand, points, method="gauss-legendre"))


HARD_CASES = {
    "narrow (1e-3) vs wide (10)": (([0.5, 0.5], [0.0, 0.5], [1e-3, 1.0]),
                                   ([0.7, 0.3], [0.0, 2.0], [10.0, 3.0])),
    "narrow (1e-3) vs wide (1e3)": (([0.5, 0.5], [0.0, 1.0], [1e-3, 1.0]),
                                    ([0.5, 0.5], [0.0, 5.0], [1e3, 1e3])),
    "modes 50 std apart": (([0.5, 0.5], [-25.0, 25.0], [1.0, 1.0]), ([1.0], [0.0], [20.0])),
    "spike inside broad": (([0.9, 0.1], [0.0, 3.0], [10.0, 1e-3]), ([1.0], [0.0], [10.0])),
    "means near 1e3": (([0.5, 0.5], [1000.0, 1003.0], [1.0, 2.0]),
                       ([0.4, 0.6], [1001.0, 1000.0], [1.5, 0.01])),
    "weights 1e-6": (([1 - 1e-6, 1e-6], [0.0, 5.0], [1.0, 0.1]),
                     ([1e-6, 1 - 1e-6], [-3.0, 0.5], [0.01, 1.2])),
    "near identical": (([0.4, 0.6], [0.0, 2.0], [1.0, 1.5]),
                       ([0.4, 0.6], [1e-6, 2.0], [1.0, 1.5 * (1 + 1e-7)])),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--states", type=int, default=10_000, help="states per timeline")
    parser.add_argument("--repeat", type=int, default=7, help="repeats; the median is shown")
    parser.add_argument("--states-8v3", type=int, default=1_000,
                        help="states for the 8-vs-3 case (slower per state)")
    parser.add_argument("--skip-accuracy", action="store_true", help="skip the mpmath check")
    args = parser.parse_args()

    print(f"one core, median of {args.repeat} repeats, forward + reverse KL")
    for label, n, n_p, n_q in (("2-vs-1", args.states, 2, 1), ("1-vs-1", args.states, 1, 1),
                               ("8-vs-3", args.states_8v3, 8, 3)):
        p, q = animation_states(n, n_p, n_q)
        forward_kl(p, q)                                    # warm up
        seconds = median_seconds(p, q, args.repeat)
        print(f"  {label}: {n:>6} states  {seconds:8.4f} s  ({seconds / n * 1e6:7.1f} us/state)")

    if args.skip_accuracy:
        return
    print("relative error against mpmath (40 digits), both directions")
    worst = 0.0
    for name, (p, q) in HARD_CASES.items():
        errors = []
        for a, b in ((p, q), (q, p)):
            reference = mp_kl(a, b)
            value = float(forward_kl(a, b))
            error = abs(value - reference)
            # relative, but absolute below KL = 1e-3, as in the accuracy contract
            errors.append(error / abs(reference) if abs(reference) >= 1e-3 else error)
        worst = max(worst, *errors)
        print(f"  {name:28s} forward {errors[0]:.1e}  reverse {errors[1]:.1e}")
    print(f"  worst {worst:.1e}  (relative; absolute where KL < 1e-3)")


if __name__ == "__main__":
    main()
