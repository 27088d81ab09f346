"""kldemo watch, as a user runs it: render, edit, break the file, Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import av
import pytest

pytestmark = pytest.mark.render

WAIT = 300  # seconds; this machine is slow and shared
V1 = (  # 1.4 s: 7 frames at 5 fps; a fixed view, so that a keyframe's change stays its own
    "p: {mean: 0, std: 1}\nq: {mean: 2, std: 1}\ndefaults: {duration: 1, hold: 0.4}\n"
    "view: {x_range: [-6, 6], y_range: [0, 0.5]}\nstyle: {bar_max: 3}\n"
    "keyframes:\n  - q: {mean: 0}\n"
)
V2 = V1 + "  - q: {std: 2}\n"  # one keyframe more: 2.8 s, 14 frames
V3 = V1 + "  - q: {std: 1.5}\n"  # the second keyframe changed: the first one's segments stay
BROKEN = "p: {mean: 0, std: -1}\nq: {mean: 2, std: 1}\n"


class Lines:
    """The lines a stream has printed so far, read by a thread; wait for one to appear."""

    def __init__(self, stream):
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream) -> None:
        for line in stream:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()

    def wait_for(self, pattern: str, after: int = 0, timeout: float = WAIT) -> str:
        """The first line from index ``after`` on that matches ``pattern``."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for line in self.lines[after:]:
                    if re.search(pattern, line):
                        return line
                left = deadline - time.monotonic()
                if left <= 0 or not self._thread.is_alive():  # no more lines will come
                    raise AssertionError(f"no line matching {pattern!r} in {self.lines}")
                self._changed.wait(min(left, 1.0))


def frame_count(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def save(path: Path, text: str) -> None:
    """As an editor does: write a new file beside it and rename it over the old one."""
    temporary = path.with_name(f".{path.name}.swp")
    temporary.write_text(text)
    os.replace(temporary, path)


def test_watch_renders_each_save_keeps_the_last_good_video_and_stops_cleanly(tmp_path):
    config = tmp_path / "loop.yaml"
    config.write_text(V1)
    video = tmp_path / "media" / "loop.mp4"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kldemo",
            "watch",
            "loop.yaml",
            "-r",
            "160,90",
            "--fps",
            "5",
            "--labels",
            "text",
            "-j",
            "2",
            "--cache-dir",
            "cache",
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: workers left behind would show
    )
    out, err = Lines(process.stdout), Lines(process.stderr)
    try:
        # 1. The first render.
        first = out.wait_for(r"loop\.yaml: wrote media/loop\.mp4: 1\.40 s of video")
        assert re.search(r": 1\.40 s of video, (\d+) of \1 segments rendered, in ", first), first
        assert frame_count(video) == 7

        # 2. A valid edit renders again, to the new length.
        save(config, V2)
        out.wait_for(r"wrote media/loop\.mp4: 2\.80 s of video", after=1)
        assert frame_count(video) == 14
        before = video.read_bytes()

        # 3. Another: only the changed keyframe's segments are drawn again (the cache).
        save(config, V3)
        third = out.wait_for(r"wrote media/loop\.mp4: 2\.80 s of video", after=2)
        rendered, total = map(int, re.search(r"(\d+) of (\d+) segments rendered", third).groups())
        assert 0 < rendered < total, third  # the first keyframe's segments came from the cache
        assert frame_count(video) == 14
        assert video.read_bytes() != before
        good = video.read_bytes(), video.stat().st_mtime_ns

        # 4. A save that does not validate: its errors, and the last good video stays.
        save(config, BROKEN)
        err.wait_for(r"^loop\.yaml:1:19: error: p\.std: must be > 0 \(got -1\)$")
        err.wait_for(
            r"loop\.yaml: not valid \(1 error\); media/loop\.mp4 from "
            r"\d\d:\d\d:\d\d kept; fix it and save again$"
        )
        assert (video.read_bytes(), video.stat().st_mtime_ns) == good
        assert len(out.lines) == 3  # one line per render, and nothing for the bad save

        # 5. Ctrl-C ends it: exit 130, no worker left, no temporary file.
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=120) == 130
        err.wait_for(r"^kldemo: interrupted$", timeout=10)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    deadline = time.monotonic() + 20
    while True:  # workers still running would keep the process group alive
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            break
        assert time.monotonic() < deadline, "processes of the watch are still running"
        time.sleep(0.2)
    assert "Traceback" not in "\n".join(err.lines)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "loop.yaml", "media"]
    assert [p.name for p in video.parent.iterdir()] == ["loop.mp4"]
    scratch = [p.name for p in (tmp_path / "cache" / "tmp").iterdir() if p.is_file()]
    assert scratch == []  # no segment being written was left behind


def test_sigterm_ends_watch_with_143(tmp_path):
    (tmp_path / "still.yaml").write_text("p: {mean: 0, std: 1}\nq: {mean: 1, std: 1}\n")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kldemo",
            "watch",
            "still.yaml",
            "-r",
            "160,90",
            "--fps",
            "5",
            "--labels",
            "text",
            "-j",
            "1",
            "--cache-dir",
            "cache",
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out = Lines(process.stdout)
    try:
        out.wait_for(r"still\.yaml: wrote media/still\.mp4")
        process.send_signal(signal.SIGTERM)  # as a process manager stops it
        assert process.wait(timeout=120) == 143
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert [p.name for p in (tmp_path / "media").iterdir()] == ["still.mp4"]
