"""Long and big: an hour of keyframes checks and tabulates in bounded memory, and a
render's memory does not grow with the video's length (frames are streamed)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import av
import pytest

from .conftest import REPO

# Runs kldemo's main in this interpreter and reports its peak resident memory (KiB) last:
# VmHWM, the high-water mark of this process's own memory. (getrusage's ru_maxrss would
# carry over the parent's peak when the subprocess is started by vfork and exec.)
PEAK = """\
import sys
from pathlib import Path
from kldemo.cli import main
try:
    main(sys.argv[1:])
finally:
    status = Path("/proc/self/status").read_text().splitlines()
    peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    print(f"peak-kib {peak}", file=sys.stderr)
"""


def kldemo_peak(*args: str, cwd: Path = REPO) -> tuple[subprocess.CompletedProcess, float]:
    """Run kldemo; its result and peak memory in MiB (a timeout guards against a hang)."""
    done = subprocess.run(
        [sys.executable, "-c", PEAK, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
        env={**os.environ, "KLDEMO_CACHE_DIR": ""},
    )
    line = done.stderr.strip().splitlines()[-1]
    assert line.startswith("peak-kib "), done.stderr
    return done, int(line.split()[1]) / 1024


def hour_long(path: Path) -> Path:
    """1,000 keyframes (the most allowed), 3.6 s each: exactly the hour allowed."""
    keys = "".join(
        f"  - q: {{mean: {(-1) ** i * (i % 7) / 3:.4f}, std: {1 + (i % 5) / 10}}}\n"
        f"    duration: 3.4\n    hold: 0.2\n"
        for i in range(1000)
    )
    path.write_text(
        "p: {means: [-2, 0, 2], stds: [0.5, 1, 0.7], weights: [0.3, 0.4, 0.3]}\n"
        "q: {mean: 0, std: 1}\nkeyframes:\n" + keys
    )
    return path


def test_an_hour_validates_and_tabulates_in_bounded_memory(tmp_path):
    config = hour_long(tmp_path / "hour.yaml")
    done, peak = kldemo_peak("validate", str(config))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{config}: ok"
    assert peak < 400, f"validate peaked at {peak:.0f} MiB"
    done, peak = kldemo_peak("kl", str(config), "--every", "1", "--format", "csv")
    assert done.returncode == 0, done.stderr
    rows = done.stdout.splitlines()[1:]
    assert len(rows) == 3601
    assert all(float(row.split(",")[-5]) >= 0 for row in rows)  # forward KL
    assert peak < 500, f"kl --every 1 peaked at {peak:.0f} MiB"


def video(path: Path, seconds: int) -> Path:
    """A plain sweep of q, ``seconds`` long."""
    steps = seconds // 2
    keys = "".join(f"  - q: {{mean: {(-1) ** i}}}\n" for i in range(steps))
    path.write_text(
        "p: {mean: 0, std: 1}\nq: {mean: 1, std: 1}\n"
        "defaults: {duration: 2, hold: 0}\n"
        "view: {x_range: [-4, 4], y_range: [0, 0.5]}\n"
        "style: {bar_max: 3, labels: text}\nkeyframes:\n" + keys
    )
    return path


@pytest.mark.render
def test_render_memory_does_not_grow_with_the_videos_length(tmp_path):
    """640×360 RGBA is 0.9 MiB a frame: holding the longer video's extra 300 frames would
    cost some 270 MiB more; streaming costs nothing more."""
    peaks = {}
    for seconds in (10, 40):
        config = video(tmp_path / f"v{seconds}.yaml", seconds)
        out = tmp_path / f"v{seconds}.mp4"
        done, peaks[seconds] = kldemo_peak(
            "render",
            str(config),
            "-r",
            "640,360",
            "--fps",
            "10",
            "-j",
            "1",
            "--no-cache",
            "--progress",
            "none",
            "-o",
            str(out),
        )
        assert done.returncode == 0, done.stderr
        with av.open(str(out)) as container:
            assert container.streams.video[0].frames == seconds * 10
    assert peaks[40] < peaks[10] + 40, f"peak memory by length: {peaks}"
