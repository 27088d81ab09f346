#!/usr/bin/env python3
"""Render speed of kldemo, as ratios measured in one run (the machine's speed drifts).

    python benchmarks/render_speed.py                 # -ql, 3 repeats
    python benchmarks/render_speed.py -q h -n 1       # 1080p60
    python benchmarks/render_speed.py --scene PATH    # also time a manim scene file (AsymKL)

Prints, each as a median over the repeats:
- a cold render with the default --jobs, with --jobs 1 and with --jobs 2, and their ratio;
- a re-render after one of the eight keyframes changed, against a cold render;
- the peak memory of a render (the largest resident set of kldemo or any worker);
- the share of a render spent computing every frame's numbers (states and divergences);
- with --scene, that scene's own time and the ratio kldemo/scene.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CONFIG = REPO / "configs" / "asym-kl.yaml"


def run(cmd: list[str]) -> float:
    began = time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode:
        sys.exit(f"failed: {' '.join(cmd)}\n{done.stderr[-2000:]}")
    return time.perf_counter() - began


def peak_memory_mib(cmd: list[str]) -> float:
    """The largest resident set of the command or any of its children, in MiB."""
    code = (
        "import resource, subprocess, sys\n"
        "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, *cmd], capture_output=True, text=True, check=True
    ).stdout
    return int(out.split()[-1]) / 1024


def numbers_seconds(quality: str) -> float:
    """Time to compute every frame's state and divergences, as a render does."""
    from kldemo.plan.build import build_plan
    from kldemo.rendering.options import QUALITIES
    from kldemo.timeline import load

    loaded = load(CONFIG)
    times = []
    for _ in range(5):
        began = time.perf_counter()
        build_plan(loaded, QUALITIES[quality][2], "text")
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-q", "--quality", default="l", choices="lmhpk")
    parser.add_argument("-n", "--repeats", type=int, default=3)
    parser.add_argument("--scene", type=Path, help="a manim scene file with the AsymKL scene")
    args = parser.parse_args()
    kldemo = shutil.which("kldemo") or sys.exit("kldemo is not on PATH")

    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        config = tmp / "asym-kl.yaml"
        config.write_text(CONFIG.read_text())
        base = [
            kldemo,
            "render",
            str(config),
            "-q",
            args.quality,
            "--progress",
            "none",
            "-o",
            str(tmp / "out.mp4"),
        ]
        cold: dict[str, list[float]] = {"default": [], "1": [], "2": []}
        scene: list[float] = []
        incremental: list[float] = []
        for i in range(args.repeats):
            cold["default"].append(run([*base, "--no-cache"]))
            cold["1"].append(run([*base, "--no-cache", "-j", "1"]))
            cold["2"].append(run([*base, "--no-cache", "-j", "2"]))
            if args.scene:
                scene.append(
                    run(
                        [
                            "manim",
                            "render",
                            f"-q{args.quality}",
                            "--disable_caching",
                            "--progress_bar",
                            "none",
                            "-v",
                            "WARNING",
                            "--media_dir",
                            str(tmp / "scene-media"),
                            str(args.scene),
                            "AsymKL",
                        ]
                    )
                )
            cache = ["--cache-dir", str(tmp / f"cache{i}")]
            config.write_text(CONFIG.read_text())
            first = run([*base, *cache])
            config.write_text(CONFIG.read_text().replace("- q: {std: 2}", "- q: {std: 2.5}"))
            incremental.append(run([*base, *cache]) / first)
        memory = peak_memory_mib([*base, "--no-cache"])
        numbers = numbers_seconds(args.quality)

    median = statistics.median
    print(f"kldemo render of asym-kl.yaml at -q{args.quality}, {args.repeats} repeat(s)")
    print(f"cold, default --jobs    median {median(cold['default']):6.2f} s")
    print(f"cold, --jobs 1          median {median(cold['1']):6.2f} s")
    print(f"cold, --jobs 2          median {median(cold['2']):6.2f} s")
    ratios = [b / a for a, b in zip(cold["1"], cold["2"], strict=True)]
    print(f"ratio --jobs 2 / --jobs 1        {median(ratios):.3f}")
    print(f"ratio re-render after one keyframe changed / cold   {median(incremental):.3f}")
    print(f"peak memory (largest process)    {memory:.0f} MiB")
    print(
        f"every frame's numbers            {numbers:.3f} s = "
        f"{100 * numbers / median(cold['default']):.2f}% of a cold render"
    )
    if scene:
        pairs = [o / s for o, s in zip(cold["default"], scene, strict=True)]
        print(f"manim scene             median {median(scene):6.2f} s")
        print(f"ratio kldemo / scene (median of pairs)   {median(pairs):.3f}")


if __name__ == "__main__":
    main()
