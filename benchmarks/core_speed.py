"""Speed and accuracy of kldemo.core.divergences on one core.

Times forward plus reverse KL per state for timelines of animation-like states: a
2-component p against a 1-component q (10,000 states, the SPEC's <= 0.25 s), 1 against 1
(closed form), 8 against 3 and 16 against 16 (the SPEC's <= 2 ms per state); then JS, TV
and Hellinger per state; then checks KL, JS, TV and Hellinger on a few hard cases
against a 40-digit mpmath reference. With ``--baseline REV`` the same timings run, in
the same run, on the numeric core of git revision REV (exported with ``git archive``
into a temporary folder), side by side. Run from the repository root::

    python benchmarks/core_speed.py [--states 10000] [--repeat 7] [--baseline HEAD]
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"  # one core: set before numpy loads BLAS

import argparse  # noqa: E402  (imports follow the thread settings above)
import json  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tarfile  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from io import BytesIO  # noqa: E402
from itertools import pairwise  # noqa: E402
from pathlib import Path  # noqa: E402

import mpmath as mp  # noqa: E402
import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
if "--root" in sys.argv:  # the baseline's own run: its package first
    sys.path.insert(0, sys.argv[sys.argv.index("--root") + 1])
sys.path.insert(1 if "--root" in sys.argv else 0, str(REPO))
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


def median_seconds(compute, repeat: int, budget: float = 20.0) -> float:
    """The median time of compute(), after a warm-up, over repeat runs or as many as fit
    in budget seconds (at least one: the slowest baselines run once)."""
    start = time.perf_counter()
    compute()  # warm up
    times = []
    if time.perf_counter() - start > budget / 2:  # too slow to repeat
        times.append(time.perf_counter() - start)
    while len(times) < repeat and sum(times) < budget:
        start = time.perf_counter()
        compute()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# (label, states option, p components, q components)
SPEED_CASES = (("2v1", "states", 2, 1), ("1v1", "states", 1, 1))
SPEED_CASES += (("8v3", "states_8v3", 8, 3), ("16v16", "states_16v16", 16, 16))
SYMMETRIC = {"JS": js_divergence, "TV": tv_distance, "Hellinger": hellinger_distance}


def speed(args) -> dict[str, dict[str, float]]:
    """Seconds per state of forward + reverse KL, and of JS, TV and Hellinger (on a
    tenth of the states), for each case; and the total of the KLs."""
    results = {}
    for label, option, n_p, n_q in SPEED_CASES:
        n = getattr(args, option)
        p, q = animation_states(n, n_p, n_q)
        kl = median_seconds(lambda p=p, q=q: (forward_kl(p, q), reverse_kl(p, q)), args.repeat)
        results[label] = {"states": n, "kl_total": kl, "kl": kl / n}
        m = max(1, n // 10)
        few = [tuple(a[:m] for a in mixture) for mixture in (p, q)]
        for name, f in SYMMETRIC.items():
            seconds = median_seconds(lambda f=f, few=few: f(*few[0], *few[1]), args.repeat, 10.0)
            results[label][name] = seconds / m
    return results


def baseline_speed(revision: str, args) -> dict[str, dict[str, float]]:
    """speed(args) of the package at a git revision, in a process of its own."""
    archive = subprocess.run(
        ["git", "archive", revision, "kldemo"], cwd=REPO, check=True, capture_output=True
    ).stdout
    with tempfile.TemporaryDirectory() as root:
        with tarfile.open(fileobj=BytesIO(archive)) as tar:
            tar.extractall(root, filter="data")
        command = [sys.executable, __file__, "--root", root, "--json", "--skip-accuracy"]
        for option in ("states", "states_8v3", "states_16v16", "repeat"):
            command += [f"--{option.replace('_', '-')}", str(getattr(args, option))]
        run = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(run.stdout)


def print_speed(after: dict, before: dict | None, revision: str | None) -> None:
    def ms(seconds: float) -> str:
        return f"{seconds * 1e3:9.4f}"

    print("one core; forward + reverse KL per state (ms), and JS, TV, Hellinger per state")
    columns = ("kl", *SYMMETRIC)
    header = f"  {'case':6s} {'states':>6s}" + "".join(f"{c:>10s}" for c in ("KL both", *SYMMETRIC))
    if before is None:
        print(header)
        for label, row in after.items():
            print(f"  {label:6s} {row['states']:6d}" + "".join(f" {ms(row[c])}" for c in columns))
    else:
        print(f"{header}   (before: {revision}; after: this tree; ratio after/before)")
        for label, row in after.items():
            for name, values in (("before", before[label]), ("after", row)):
                cells = "".join(f" {ms(values[c])}" for c in columns)
                print(f"  {label:6s} {row['states']:6d}{cells}   {name}")
            ratios = "".join(f"{row[c] / before[label][c]:10.3f}" for c in columns)
            print(f"  {'':6s} {'':6s}{ratios}   ratio")
    two = after["2v1"]
    print(
        f"  {two['states']} states of 2v1, both directions: {two['kl_total']:.3f} s"
        + (f" (before: {before['2v1']['kl_total']:.3f} s)" if before else "")
    )
    print("  targets: 16v16 <= 2 ms per state; 10,000 states of 2v1 <= 0.25 s")


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


def _mp_root_pairs(f, grid, values) -> list:
    """Pairs of roots of f between two points of the grid: where |f| is least among its
    neighbours (f of one sign), the extremum of f near, by successive parabolic
    interpolation, and a root on either side of it if its sign differs."""
    roots = []
    for k in range(1, len(grid) - 1):
        (x0, x1, x2), (f0, f1, f2) = grid[k - 1 : k + 2], values[k - 1 : k + 2]
        if not (f0 * f1 > 0 and f1 * f2 > 0 and abs(f1) < abs(f0) and abs(f1) <= abs(f2)):
            continue
        low, high, sign = x0, x2, mp.sign(f1)
        for _ in range(30):
            bottom = (x1 - x0) * (f1 - f2) - (x1 - x2) * (f1 - f0)
            if bottom == 0:
                break
            top = (x1 - x0) ** 2 * (f1 - f2) - (x1 - x2) ** 2 * (f1 - f0)
            x = min(max(x1 - top / (2 * bottom), low), high)
            value = f(x)
            if mp.sign(value) != sign:
                roots += [mp.findroot(f, (low, x), solver="anderson")]
                roots += [mp.findroot(f, (x, high), solver="anderson")]
                break
            if abs(x - x1) <= mp.mpf(10) ** -30 * (abs(x1) + 1):
                break
            if abs(value) < abs(f1):  # the three around the least |f|
                (x0, f0, x2, f2) = (x0, f0, x1, f1) if x < x1 else (x1, f1, x2, f2)
                x1, f1 = x, value
            elif x < x1:
                x0, f0 = x, value
            else:
                x2, f2 = x, value
    return roots


def mp_symmetric(p, q, dps: int = 40) -> tuple[float, float, float]:
    """(JS, TV, Hellinger) with mpmath: JS and ∫ sqrt(pq) by quadrature, also split
    where p = q; TV from the CDFs between those roots, ½ Σ |ΔP - ΔQ| (pairs of roots
    between two points of the grid included)."""
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
            + _mp_root_pairs(log_ratio, grid, signs)
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
    "TV: roots 0.03 apart": (
        (
            [0.3890556630896537, 0.6109443369103462],
            [5.33837816199573, 5.10465135187123],
            [1.78455388695156, 0.56544611304844],
        ),
        ([1.0], [4.095698274533208], [1.708092482955213]),
    ),
    "near identical": (
        ([0.4, 0.6], [0.0, 2.0], [1.0, 1.5]),
        ([0.4, 0.6], [1e-6, 2.0], [1.0, 1.5 * (1 + 1e-7)]),
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--states", type=int, default=10_000, help="states of 2v1 and 1v1")
    parser.add_argument("--repeat", type=int, default=7, help="repeats; the median is shown")
    parser.add_argument("--states-8v3", type=int, default=1_000, help="states of 8v3")
    parser.add_argument("--states-16v16", type=int, default=200, help="states of 16v16")
    parser.add_argument("--baseline", metavar="REV", help="also time git revision REV's core")
    parser.add_argument("--skip-accuracy", action="store_true", help="skip the mpmath check")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)  # baseline runs
    parser.add_argument("--root", help=argparse.SUPPRESS)  # the baseline's package
    args = parser.parse_args()

    if args.json:
        print(json.dumps(speed(args)))
        return
    before = baseline_speed(args.baseline, args) if args.baseline else None
    print_speed(speed(args), before, args.baseline)
    if not args.skip_accuracy:
        print_accuracy()


def print_accuracy() -> None:
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
