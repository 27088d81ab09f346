"""Render every example to every video format and check each file by decoding it.

    .venv/bin/python tools/format_matrix.py                      # the whole matrix
    .venv/bin/python tools/format_matrix.py --quick              # a sample of it
    .venv/bin/python tools/format_matrix.py --examples asym-kl --formats webm,gif --odd

Each case renders one example with the kldemo command a user would type, then decodes the
output with PyAV and compares it with what the timeline promises: frame count
``max(1, round(duration * fps))`` (the rule of ``Timeline.frame_times``), the pixel size,
and a length of frames / fps (to the hundredth of a second for GIF, whose delays count
hundredths, else to the millisecond). The presets are manim's; a GIF without ``-q`` is
480p15 and a GIF preset above 50 frames per second plays at 50. ``--short`` cuts every
transition and hold, keeping the keyframes (so the segment joins are still exercised), for
the expensive sizes and rates. Prints a table; exits 1 when any case fails.
"""

from __future__ import annotations

import argparse
import itertools
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import av
import yaml

REPO = Path(__file__).resolve().parent.parent
CONFIGS = REPO / "configs"
FORMATS = ("mp4", "mov", "webm", "gif")
# What the README promises, written here again on purpose: the files are checked against
# the promise, not against kldemo's own constants.
PRESETS = {
    "l": (854, 480, 15),
    "m": (1280, 720, 30),
    "h": (1920, 1080, 60),
    "p": (2560, 1440, 60),
    "k": (3840, 2160, 60),
}
ODD_SIZES = ((854, 480), (1080, 1920), (250, 250))
ODD_RATES = (5, 15, 24, 30, 60)
GIF_MAX_FPS = 50


@dataclass(frozen=True)
class Case:
    """One render: an example, a format, and a preset or an explicit size and rate."""

    example: str
    fmt: str
    preset: str | None = None
    size: tuple[int, int] | None = None
    fps: int | None = None
    short: float | None = None  # seconds each transition and hold is cut to

    def options(self) -> list[str]:
        args = ["-q", self.preset] if self.preset else []
        if self.size:
            args += ["-r", f"{self.size[0]},{self.size[1]}"]
        if self.fps:
            args += ["--fps", str(self.fps)]
        return args

    def expected_size_and_rate(self) -> tuple[tuple[int, int], float]:
        """The size and rate the README promises for these options."""
        preset = self.preset or ("l" if self.fmt == "gif" else "h")
        width, height, rate = PRESETS[preset]
        if self.fmt == "gif" and self.fps is None:
            rate = min(rate, GIF_MAX_FPS)
        return self.size or (width, height), float(self.fps or rate)

    def allowed(self) -> bool:
        return not (self.fmt == "gif" and (self.fps or 0) > GIF_MAX_FPS)

    def label(self) -> str:
        where = " ".join(self.options()) or "(defaults)"
        return where + (f" short {self.short:g}s" if self.short else "")


@dataclass
class Result:
    case: Case
    ok: bool
    detail: str
    seconds: float


def shortened(config: Path, seconds: float, folder: Path) -> Path:
    """A copy of ``config`` whose every transition and hold lasts at most ``seconds``."""
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    defaults = data.setdefault("defaults", {})
    for key, default in (("duration", 2.0), ("hold", 0.5)):
        defaults[key] = min(float(defaults.get(key, default)), seconds)
    for keyframe in data.get("keyframes") or []:
        for key in ("duration", "hold"):
            if key in keyframe:
                keyframe[key] = min(float(keyframe[key]), seconds)
    copy = folder / f"{config.stem}.yaml"
    copy.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return copy


def timeline_duration(config: Path) -> float:
    """The video's length in seconds, from kldemo's own timeline (no rendering)."""
    from kldemo.timeline import load

    return load(config).timeline.duration


def decode(path: Path) -> tuple[int, set[tuple[int, int]], float, list[int]]:
    """Frame count, the frame sizes seen, the length in seconds and every frame's pts."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        sizes, times = set(), []
        for frame in container.decode(stream):
            sizes.add((frame.width, frame.height))
            times.append(frame.pts)
        if container.duration is not None:
            length = container.duration / 1e6
        else:
            length = float(stream.duration * stream.time_base)
        return len(times), sizes, length, times


def check(case: Case, config: Path, out: Path, cache: Path, jobs: int) -> Result:
    began = time.perf_counter()
    target = out / f"{case.example}.{case.fmt}"
    command = [
        sys.executable,
        "-m",
        "kldemo",
        "render",
        str(config),
        *case.options(),
        "-o",
        str(target),
        "--labels",
        "text",
        "--progress",
        "none",
        "--cache-dir",
        str(cache),
        "-j",
        str(jobs),
    ]
    done = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
        return Result(case, False, f"exit {done.returncode}: {last}", seconds)
    (width, height), fps = case.expected_size_and_rate()
    duration = timeline_duration(config)
    frames = max(1, round(duration * fps))
    length = frames / fps
    tolerance = 0.0051 if case.fmt == "gif" else 0.0011
    try:
        count, sizes, decoded_length, times = decode(target)
    except av.error.FFmpegError as error:
        return Result(case, False, f"does not decode: {error}", seconds)
    problems = []
    if count != frames:
        problems.append(f"{count} frames, not {frames}")
    if sizes != {(width, height)}:
        problems.append(f"size {sorted(sizes)}, not {width}x{height}")
    if abs(decoded_length - length) > tolerance:
        problems.append(f"{decoded_length:.4f} s, not {length:.4f} s")
    if any(b <= a for a, b in itertools.pairwise(times)):
        problems.append("presentation times do not increase")
    size_mb = target.stat().st_size / 1e6
    detail = f"{count} frames {width}x{height}@{fps:g} {decoded_length:.3f}s {size_mb:.2f}MB"
    if problems:
        detail += ": " + "; ".join(problems)
    target.unlink()
    return Result(case, not problems, detail, seconds)


def cases(
    examples: list[str],
    formats: list[str],
    presets: list[str],
    odd: list[str],
    rates: tuple[int, ...],
    short: float | None,
    odd_short: float,
) -> list[Case]:
    """Every example at every preset (and a GIF at its own default), then the odd sizes and
    rates for the ``odd`` examples, at shortened timelines."""
    found = []
    for example, fmt in itertools.product(examples, formats):
        found += [Case(example, fmt, preset, short=short) for preset in presets]
        if fmt == "gif":
            found.append(Case(example, fmt, short=short))
    for example, fmt, size, fps in itertools.product(odd, formats, ODD_SIZES, rates):
        found.append(Case(example, fmt, size=size, fps=fps, short=odd_short))
    return [case for case in found if case.allowed()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    names = sorted(p.stem for p in CONFIGS.glob("*.yaml"))
    parser.add_argument(
        "--examples",
        default=",".join(names),
        help="comma-separated example names (default: all in configs/)",
    )
    parser.add_argument("--formats", default=",".join(FORMATS), help="default: %(default)s")
    parser.add_argument("--presets", default="l,h", help="quality presets (default: %(default)s)")
    parser.add_argument(
        "--odd",
        default="asym-kl",
        help="examples to render at the odd sizes and rates ('' for none)",
    )
    parser.add_argument(
        "--short",
        type=float,
        default=None,
        metavar="S",
        help="cut every transition and hold of the preset cases to S seconds",
    )
    parser.add_argument(
        "--odd-short",
        type=float,
        default=0.3,
        metavar="S",
        help="the same for the odd cases (default: %(default)s)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="a sample: preset l only, odd sizes at 5 and 60 fps"
    )
    parser.add_argument("-j", "--jobs", type=int, default=2, help="kldemo's -j")
    args = parser.parse_args(argv)

    examples = [e for e in args.examples.split(",") if e]
    unknown = sorted(set(examples) - set(names))
    if unknown:
        parser.error(f"no example named {', '.join(unknown)} in {CONFIGS}")
    formats = [f for f in args.formats.split(",") if f]
    presets = ["l"] if args.quick else [p for p in args.presets.split(",") if p]
    rates = (5, 60) if args.quick else ODD_RATES
    odd = [e for e in args.odd.split(",") if e]
    todo = cases(examples, formats, presets, odd, rates, args.short, args.odd_short)

    results = []
    with tempfile.TemporaryDirectory(prefix="format-matrix-") as scratch:
        scratch = Path(scratch)
        configs: dict[tuple[str, float | None], Path] = {}
        for case in todo:
            key = (case.example, case.short)
            if key not in configs:
                source = CONFIGS / f"{case.example}.yaml"
                if case.short:
                    folder = scratch / f"short-{len(configs)}"
                    folder.mkdir()
                    configs[key] = shortened(source, case.short, folder)
                else:
                    configs[key] = source
            result = check(case, configs[key], scratch, scratch / "cache", args.jobs)
            results.append(result)
            mark = "ok  " if result.ok else "FAIL"
            print(
                f"{mark} {case.example:<22} {case.fmt:<5} {case.label():<34} "
                f"{result.seconds:6.1f}s  {result.detail}",
                flush=True,
            )
    failed = [r for r in results if not r.ok]
    print(f"\n{len(results)} case(s): {len(results) - len(failed)} ok, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
