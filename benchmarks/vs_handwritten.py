#!/usr/bin/env python3
"""kldemo against the same sequence written by hand in manim, both cold.

    python benchmarks/vs_handwritten.py               # -q l, 3 pairs
    python benchmarks/vs_handwritten.py -q h -n 1     # 1080p60, one pair
    python benchmarks/vs_handwritten.py --jobs 1      # kldemo on one worker

Each pair renders ``benchmarks/handwritten_scene.py`` (``manim -q<Q> --disable_caching``,
in a fresh media folder) and ``kldemo render configs/asym-kl.yaml -q <Q> --labels text``
(with a fresh cache folder); both draw their labels with Pango. Prints each side's median
time over the pairs and the ratio of the medians (kldemo / hand-written): run both in one
go, since the machine's speed drifts between runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SCENE = REPO / "benchmarks" / "handwritten_scene.py"
CONFIG = REPO / "configs" / "asym-kl.yaml"


def timed(cmd: list[str], cwd: Path) -> float:
    """Wall seconds of a command, which must succeed."""
    began = time.perf_counter()
    done = subprocess.run(
        cmd,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "KLDEMO_CACHE_DIR": ""},
    )
    if done.returncode:
        sys.exit(f"failed: {' '.join(cmd)}\n{done.stderr[-3000:]}")
    return time.perf_counter() - began


def handwritten(quality: str, folder: Path) -> float:
    media = folder / "manim-media"
    return timed(
        [
            sys.executable,
            "-m",
            "manim",
            f"-q{quality}",
            "--disable_caching",
            "--progress_bar",
            "none",
            "--media_dir",
            str(media),
            str(SCENE),
            "AsymKL",
        ],
        folder,
    )


def kldemo(quality: str, jobs: int | None, folder: Path) -> float:
    cmd = [
        sys.executable,
        "-m",
        "kldemo",
        "render",
        str(CONFIG),
        "-q",
        quality,
        "--labels",
        "text",
        "--progress",
        "none",
        "--cache-dir",
        str(folder / "cache"),
        "-o",
        str(folder / "asym-kl.mp4"),
    ]
    if jobs:
        cmd += ["-j", str(jobs)]
    return timed(cmd, folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-q", "--quality", default="l", choices="lmhpk")
    parser.add_argument("-n", "--pairs", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=None, help="kldemo's -j (default: its own)")
    args = parser.parse_args()

    hand, ours = [], []
    for i in range(args.pairs):
        with tempfile.TemporaryDirectory(prefix="kldemo-vs-") as scratch:
            folder = Path(scratch)
            hand.append(handwritten(args.quality, folder))
            ours.append(kldemo(args.quality, args.jobs, folder))
        print(f"pair {i + 1}: hand-written {hand[-1]:.2f} s, kldemo {ours[-1]:.2f} s", flush=True)
    h, k = statistics.median(hand), statistics.median(ours)
    jobs = args.jobs or f"default ({os.cpu_count()})"
    print(
        f"-q {args.quality}, kldemo --jobs {jobs}, {args.pairs} pair(s), medians: "
        f"hand-written {h:.2f} s, kldemo {k:.2f} s, ratio {k / h:.3f}"
    )


if __name__ == "__main__":
    main()
