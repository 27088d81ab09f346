#!/usr/bin/env python3
"""The cost of drawing a 2-D frame against a 1-D frame, measured in one run.

    python benchmarks/plane_render.py                 # -qh: 1920x1080
    python benchmarks/plane_render.py -q m -n 120     # 1280x720, 120 frames each

Both plans have a two-component p and a one-component q that move in every frame, the
same title, caption and two bars; the 2-D plan draws lines contours (``--filled`` for
the other style, ``--panels`` to add the integrand heat map and the trace). Each frame is
drawn by the renderer's own ``FrameDrawer.draw`` (every frame a new state, so none is
skipped); encoding, the same for both, is left out. Passes over every frame alternate
between the two; prints the median per-frame time of each over ``--repeats`` passes and
the median ratio of a pair (target: at most 2).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from kldemo.core.mixture import Mixture  # noqa: E402
from kldemo.core.plane import PlaneMixture, forward_kl, reverse_kl  # noqa: E402
from kldemo.plan.frames import FrameStates, ScenePlan  # noqa: E402
from kldemo.rendering.drawer import FrameDrawer  # noqa: E402
from kldemo.rendering.options import QUALITIES  # noqa: E402
from kldemo.rendering.video import VideoSettings  # noqa: E402

CAPTION = ("q slides across p's two modes and widens",)


def line_plan(n: int, panels: tuple[str, ...]) -> ScenePlan:
    """p: two modes drifting apart; q: one Gaussian sliding and widening."""
    from kldemo.core.divergences import forward_kl as kl_pq
    from kldemo.core.divergences import reverse_kl as kl_qp

    t = np.linspace(0.0, 1.0, n)
    p = Mixture(
        np.tile([0.45, 0.55], (n, 1)),
        np.stack([3.5 - t, 6.5 + t], axis=-1),
        np.tile([0.7, 0.8], (n, 1)),
    )
    q = Mixture(np.ones((n, 1)), (2.0 + 6.0 * t)[:, None], (0.6 + 1.4 * t)[:, None])
    frames = FrameStates(
        4 * t, p, q, kl_pq(tuple(p), tuple(q)), kl_qp(tuple(p), tuple(q)), np.zeros(n, int)
    )
    return ScenePlan(
        frames, (-1.0, 10.0), (0.0, 0.8), 3.0, title="KL in one dimension", captions=CAPTION,
        panels=panels, integrand_range=(-0.2, 0.6), duration=4.0,
    )  # fmt: skip


def plane_plan(n: int, contours: str, panels: tuple[str, ...]) -> ScenePlan:
    """p: two modes circling; q: one Gaussian sliding, widening and turning."""
    t = np.linspace(0.0, 1.0, n)
    turn = 2 * np.pi * t
    shift = 0.6 * np.stack([np.cos(turn), np.sin(turn)], axis=-1)
    means = np.stack([np.array([-1.5, 0.8]) + shift, np.array([1.6, -0.6]) - shift], axis=1)
    covs = np.array([[[0.6, 0.25], [0.25, 0.4]], [[0.35, -0.1], [-0.1, 0.7]]])
    p = PlaneMixture(np.tile([0.45, 0.55], (n, 1)), means, np.broadcast_to(covs, (n, 2, 2, 2)))
    scale = 0.5 + 1.5 * t
    q_covs = np.zeros((n, 1, 2, 2))
    q_covs[:, 0, 0, 0], q_covs[:, 0, 1, 1] = 1.2 * scale, 0.8 * scale
    q_covs[:, 0, 0, 1] = q_covs[:, 0, 1, 0] = 0.3 * scale * np.cos(turn)
    q = PlaneMixture(np.ones((n, 1)), np.stack([-1 + 2.5 * t, 1 - 1.5 * t], -1)[:, None], q_covs)
    frames = FrameStates(4 * t, p, q, forward_kl(p, q), reverse_kl(p, q), np.zeros(n, int))
    return ScenePlan(
        frames, (-5.0, 5.0), (-4.0, 4.0), 3.0, title="KL in the plane", captions=CAPTION,
        panels=panels, integrand_range=(-0.05, 0.25), duration=4.0, contours=contours,
    )  # fmt: skip


def drawer_of(plan: ScenePlan, size: tuple[int, int], scratch: Path) -> FrameDrawer:
    """A drawer at ``size`` with the static background and the first chunk drawn."""
    drawer = FrameDrawer(plan, VideoSettings.for_format("mp4", *size, 60, False), False, scratch)
    drawer.draw(0)
    return drawer


def one_pass(drawer: FrameDrawer) -> float:
    """Seconds per frame over a pass through every frame of the drawer's plan."""
    n = len(drawer.plan.frames)
    with drawer.configured():
        drawer.forget()
        began = time.process_time()
        for i in range(n):
            drawer.draw(i)
        return (time.process_time() - began) / n


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-q", "--quality", default="h", choices="lmhpk")
    parser.add_argument("-n", "--frames", type=int, default=180)
    parser.add_argument("-r", "--repeats", type=int, default=3)
    parser.add_argument("--filled", action="store_true", help="filled contours")
    parser.add_argument("--panels", action="store_true", help="the integrand and trace panels")
    args = parser.parse_args()
    size = QUALITIES[args.quality][:2]
    panels = ("integrand", "trace") if args.panels else ()
    contours = "filled" if args.filled else "lines"
    with tempfile.TemporaryDirectory() as scratch:
        line = drawer_of(line_plan(args.frames, panels), size, Path(scratch))
        plane = drawer_of(plane_plan(args.frames, contours, panels), size, Path(scratch))
        # Passes taken in turn, so that a machine's drift falls on both alike.
        times = [(one_pass(line), one_pass(plane)) for _ in range(args.repeats)]
    one = statistics.median(a for a, _ in times)
    two = statistics.median(b for _, b in times)
    ratio = statistics.median(b / a for a, b in times)
    extra = f", panels {'+'.join(panels)}" if panels else ""
    print(f"frames drawn at {size[0]}x{size[1]}, {args.frames} frames x {args.repeats}{extra}")
    print(f"1-D frame                 median {1e3 * one:7.2f} ms")
    print(f"2-D frame ({contours})         median {1e3 * two:7.2f} ms")
    print(f"ratio 2-D / 1-D (median of pairs) {ratio:.2f}  (target <= 2)")


if __name__ == "__main__":
    main()
