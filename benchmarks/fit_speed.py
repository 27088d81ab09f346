"""How long fits take, and where they end: a table of fit cases.

Each case is a p, a starting q and a direction; the script times ``fit_path`` from a cold
cache (the median of a few runs) and prints the final divergence, the metric norm of the
gradient left, whether the fit converged, and the number of path vertices. The cases cover
single Gaussians against two- and three-component targets, mixtures against mixtures, the
flat valleys where p's components nearly coincide, q's components merging into one where p
has fewer, a saddle to leave, and means far from 0.

Run: ``.venv/bin/python benchmarks/fit_speed.py [--runs N] [NAME ...]``
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from kldemo.core.divergences import kl_divergence
from kldemo.core.fit import _cached_path, fit_path
from kldemo.core.mixture import Mixture


def mixture(weights: list[float], means: list[float], stds: list[float]) -> Mixture:
    return Mixture(np.array(weights, float), np.array(means, float), np.array(stds, float))


def one(mean: float, std: float) -> Mixture:
    return mixture([1.0], [mean], [std])


BIMODAL = mixture([0.5, 0.5], [2.0, 8.0], [0.8, 0.8])
THREE = mixture([0.2, 0.5, 0.3], [0.0, 4.0, 9.0], [1.0, 0.7, 1.5])
CLOSE = mixture([0.5, 0.5], [0.0, 0.5], [1.0, 1.0])  # nearly one Gaussian: a flat valley
APART = mixture([0.5, 0.5], [-2.0, 2.0], [1.0, 1.0])
PAIR = mixture([0.5, 0.5], [-1.0, 1.0], [1.0, 1.0])
TWO = mixture([0.3, 0.7], [3.0, 5.0], [1.0, 2.0])
THREE_Q = mixture([0.3, 0.3, 0.4], [1.0, 5.0, 7.0], [1.0, 1.0, 1.0])
TWINS = mixture([0.5, 0.5], [5.0, 5.0], [1.0, 1.0])  # a saddle: identical components
FAR = mixture([0.4, 0.6], [1e4 - 3.0, 1e4 + 2.0], [1.0, 0.5])

CASES: dict[str, tuple[Mixture, Mixture, str]] = {
    "close p, 2 vs 2, reverse": (CLOSE, APART, "reverse"),
    "close p, 2 vs 2, forward": (CLOSE, APART, "forward"),
    "N(0,1) p, 2-comp q, reverse": (one(0.0, 1.0), PAIR, "reverse"),
    "N(0,1) p, 2-comp q, forward": (one(0.0, 1.0), PAIR, "forward"),
    "1 vs 2, reverse": (BIMODAL, one(4.2, 1.2), "reverse"),
    "1 vs 2, forward": (BIMODAL, one(4.2, 1.2), "forward"),
    "1 vs 3, reverse": (THREE, one(4.0, 0.5), "reverse"),
    "1 vs 3, forward": (THREE, one(4.0, 0.5), "forward"),
    "2 vs 3, reverse": (THREE, TWO, "reverse"),
    "2 vs 3, forward": (THREE, TWO, "forward"),
    "3 vs 3, reverse": (THREE, THREE_Q, "reverse"),
    "3 vs 3, forward": (THREE, THREE_Q, "forward"),
    "3 vs 2, reverse (merge or vanish)": (BIMODAL, THREE_Q, "reverse"),
    "3 vs 2, forward (merge or vanish)": (BIMODAL, THREE_Q, "forward"),
    "saddle, 2 vs 2, reverse": (BIMODAL, TWINS, "reverse"),
    "saddle, 2 vs 2, forward": (BIMODAL, TWINS, "forward"),
    "means near 1e4, 1 vs 2, forward": (FAR, one(1e4, 1.0), "forward"),
    "means near 1e4, 2 vs 2, reverse": (
        FAR,
        mixture([0.5, 0.5], [1e4 - 1, 1e4 + 1], [1, 1]),
        "reverse",
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per case (default 3)")
    parser.add_argument("names", nargs="*", help="cases to run (default all)")
    args = parser.parse_args()
    names = args.names or list(CASES)
    width = max(len(n) for n in names)
    print(
        f"{'case':<{width}}  {'time (s)':>8}  {'final KL':>10}  {'gradient':>9}  "
        f"{'converged':>9}  {'vertices':>8}"
    )
    for name in names:
        p, q, direction = CASES[name]
        times = []
        for _ in range(args.runs):
            _cached_path.cache_clear()
            start = time.perf_counter()
            path = fit_path(p, q, direction)
            times.append(time.perf_counter() - start)
        end = path.end
        kl = float(kl_divergence(*p, *end) if direction == "forward" else kl_divergence(*end, *p))
        print(
            f"{name:<{width}}  {statistics.median(times):8.3f}  {kl:10.2e}  "
            f"{path.gradient:9.1e}  {path.converged!s:>9}  {len(path.vertices):8d}"
        )


if __name__ == "__main__":
    main()
