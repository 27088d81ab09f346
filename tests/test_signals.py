"""Interrupts: SIGINT and SIGTERM at any moment of a render leave nothing behind.

A render is started as a user would start it and signalled at a moment observed from
outside: start-up (once kldemo's handlers are installed), while LaTeX typesets the labels,
while workers render segments (after the first progress line), and during the final join
(the temporary file beside the target exists). Each time: exit 130 (SIGINT) or 143
(SIGTERM), the older target byte for byte, no temporary file beside it or in the cache's
scratch folder, no process left, and the next render with the same cache correct.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import av
import numpy as np
import pytest

from .conftest import REPO

pytestmark = pytest.mark.render

SIZE = ["-r", "320,180", "--fps", "15"]
TINY = ["-r", "160,90", "--fps", "5"]
OLDER = b"an older video, to be kept\n" * 100
EXIT = {"INT": 130, "TERM": 143, "group-INT": 130}
# What the cache's scratch folder keeps between renders: manim's media folder (the lock
# taken while labels are typeset, build.lock, is in the cache's labels folder).
SHARED_SCRATCH = {"manim"}

# About 10 s of video with captions (typeset by LaTeX at start-up where it is installed and
# KLDEMO_NO_LATEX is not set, else by Pango): a few seconds to render.
CONFIG = """\
p: {means: [-1, 1], stds: [0.5, 0.5]}
q: {mean: 0, std: 1}
defaults: {duration: 1, hold: 0.4}
view: {x_range: [-4, 4], y_range: [0, 1]}
style: {bar_max: 5}
keyframes:
  - q: {mean: 1}
    caption: q moves right
  - q: {std: 0.6}
    caption: q narrows
  - p: {means: [-2, 2]}
  - q: {mean: -1.5}
    caption: q sits on one mode
  - q: {std: 1.5}
  - p: {stds: [0.8, 0.8]}
  - q: {mean: 0}
"""


def long_config(keyframes: int) -> str:
    """Many short steps: one segment per transition and per hold, each a frame long."""
    head = (
        "p: {means: [-1, 1], stds: [0.5, 0.5]}\nq: {mean: 0, std: 1}\n"
        "defaults: {duration: 0.2, hold: 0.2}\nview: {x_range: [-4, 4], y_range: [0, 1]}\n"
        "style: {bar_max: 5, labels: text}\nkeyframes:\n"
    )
    return head + "".join(f"  - q: {{mean: {0.5 - i % 2}}}\n" for i in range(keyframes))


def command(
    config: Path, target: Path, cache: Path | None, jobs: int, size: list[str]
) -> list[str]:
    where = ["--cache-dir", str(cache)] if cache else ["--no-cache"]
    return [
        sys.executable,
        "-m",
        "kldemo",
        "render",
        str(config),
        *size,
        "-j",
        str(jobs),
        "--progress",
        "plain",
        "-o",
        str(target),
        *where,
    ]


def render(config: Path, target: Path, cache: Path | None, jobs: int, size: list[str]) -> None:
    done = subprocess.run(
        command(config, target, cache, jobs, size),
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=600,
        env={**os.environ, "KLDEMO_CACHE_DIR": ""},
    )
    assert done.returncode == 0, done.stderr


def frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def assert_same_video(path: Path, reference: Path) -> None:
    got, want = frames(path), frames(reference)
    assert len(got) == len(want)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_array_equal(a, b)


# -- watching a process from outside --------------------------------------------------------


class Render:
    """A ``kldemo render`` in a session of its own, its progress lines read as they come."""

    def __init__(self, config: Path, target: Path, cache: Path, jobs: int, size: list[str]):
        self.process = subprocess.Popen(
            command(config, target, cache, jobs, size),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
            start_new_session=True,
            env={**os.environ, "KLDEMO_CACHE_DIR": ""},
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.said: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stderr:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def wait_for_line(self, predicate, timeout: float = 120) -> bool:
        """Read progress until a line satisfies ``predicate``; False if the process ended first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                continue
            if line is None:
                return False
            self.said.append(line)
            if predicate(line):
                return True
        raise AssertionError(f"no such line within {timeout} s: {self.said}")

    def wait_until(self, condition, timeout: float = 120) -> bool:
        """Poll ``condition`` every millisecond or so; False if the process ended first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return True
            if self.process.poll() is not None:
                return False
            time.sleep(0.001)
        raise AssertionError(f"not within {timeout} s")

    def send(self, name: str) -> None:
        if name == "group-INT":  # a terminal's Ctrl-C: the whole foreground process group
            os.killpg(self.process.pid, signal.SIGINT)
        else:
            self.process.send_signal(getattr(signal, f"SIG{name}"))

    def finish(self) -> tuple[int, str]:
        code = self.process.wait(timeout=120)
        while (line := self.lines.get(timeout=10)) is not None:
            self.said.append(line)
        return code, "\n".join(self.said)


def handles_sigterm(pid: int) -> bool:
    """Whether the process has installed its own SIGTERM handler (kldemo's main has begun)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    caught = next(line for line in status.splitlines() if line.startswith("SigCgt:"))
    return bool(int(caught.split()[1], 16) & (1 << (signal.SIGTERM - 1)))


def processes() -> dict[int, tuple[int, str, str]]:
    """Every process: pid -> (parent pid, name, command line)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        state, parent = stat[stat.rindex(")") + 2 :].split()[:2]
        if state != "Z":
            found[int(entry.name)] = (int(parent), name, cmdline)
    return found


def descendants(pid: int) -> dict[int, str]:
    """The living descendants of ``pid``: pid -> name."""
    table, found, frontier = processes(), {}, [pid]
    while frontier:
        parent = frontier.pop()
        for child, (ppid, name, _) in table.items():
            if ppid == parent and child not in found:
                found[child] = name
                frontier.append(child)
    return found


def assert_nothing_left(target: Path, cache: Path, marker: str, before: dict[int, str]) -> None:
    """The older target, no temporary file, no process of the render still running."""
    assert target.read_bytes() == OLDER
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]
    left = {p.name for p in (cache / "tmp").iterdir()} - SHARED_SCRATCH
    assert not left, f"left in the cache's scratch folder: {left}"
    assert not list((cache / "tmp" / "manim").rglob("*_.svg")), "manim's SVG scratch copies"
    deadline = time.monotonic() + 5
    while True:
        alive = processes()
        orphans = {pid: alive[pid][1] for pid in before if pid in alive}
        orphans |= {pid: cmd for pid, (_, _, cmd) in alive.items() if marker in cmd}
        if not orphans or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert not orphans, f"processes left running: {orphans}"


# -- the tests --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def short(tmp_path_factory) -> tuple[Path, Path]:
    """The config, and its reference video rendered without the cache."""
    folder = tmp_path_factory.mktemp("short")
    config = folder / "short.yaml"
    config.write_text(CONFIG)
    render(config, folder / "reference.mp4", None, 2, SIZE)
    return config, folder / "reference.mp4"


def interrupted(
    tmp_path: Path,
    config: Path,
    jobs: int,
    size: list[str],
    name: str,
    when,
    cache: Path | None = None,
) -> tuple[int, str, Path, Path, dict[int, str]]:
    """Render into a target holding an older file, signal at ``when``; what came of it."""
    cache = cache or tmp_path / "cache"
    target = tmp_path / "out" / "video.mp4"
    target.parent.mkdir(exist_ok=True)
    target.write_bytes(OLDER)
    run = Render(config, target, cache, jobs, size)
    try:
        assert when(run), f"the render ended before the moment came: {run.finish()}"
        before = descendants(run.process.pid)
        run.send(name)
        code, said = run.finish()
    finally:
        if run.process.poll() is None:
            run.process.kill()
    return code, said, target, cache, before


def at_start_up(run: Render) -> bool:
    return run.wait_until(lambda: handles_sigterm(run.process.pid))


def while_latex_runs(run: Render) -> bool:
    return run.wait_until(
        lambda: any(name in ("latex", "dvisvgm") for name in descendants(run.process.pid).values())
    )


def while_workers_render(run: Render) -> bool:
    return run.wait_for_line(lambda line: line.endswith(" frames") and "/" in line)


@pytest.mark.parametrize("name", ["INT", "TERM"])
def test_a_signal_at_start_up(tmp_path, short, name):
    config, reference = short
    code, said, target, cache, before = interrupted(tmp_path, config, 2, SIZE, name, at_start_up)
    assert code == EXIT[name], said
    assert "rendering" not in said  # it came before the work began
    assert "Traceback" not in said
    assert target.read_bytes() == OLDER
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]
    if (cache / "tmp").exists():
        assert_nothing_left(target, cache, str(tmp_path), before)
    render(config, target, cache, 2, SIZE)
    assert_same_video(target, reference)


@pytest.mark.latex  # the moment is LaTeX at work: without LaTeX it never comes
@pytest.mark.parametrize("name", ["INT", "TERM", "group-INT"])
def test_a_signal_while_latex_typesets_the_labels(tmp_path, short, name):
    config, reference = short
    code, said, target, cache, before = interrupted(
        tmp_path, config, 2, SIZE, name, while_latex_runs
    )
    assert code == EXIT[name], said
    assert "Traceback" not in said
    assert_nothing_left(target, cache, str(tmp_path), before)
    render(config, target, cache, 2, SIZE)
    assert_same_video(target, reference)


@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.parametrize("name", ["INT", "TERM", "group-INT"])
def test_a_signal_while_segments_render(tmp_path, short, name, jobs):
    config, reference = short
    code, said, target, cache, before = interrupted(
        tmp_path, config, jobs, SIZE, name, while_workers_render
    )
    assert code == EXIT[name], said
    assert "Traceback" not in said
    assert "wrote" not in said
    if jobs > 1:
        assert len(before) >= 2, f"no workers running at the signal: {before}"
    assert_nothing_left(target, cache, str(tmp_path), before)
    render(config, target, cache, jobs, SIZE)
    assert_same_video(target, reference)


@pytest.fixture(scope="module")
def long(tmp_path_factory) -> tuple[Path, Path, Path]:
    """A config of 300 one-frame segments, all in a cache, and its reference video."""
    folder = tmp_path_factory.mktemp("long")
    config = folder / "long.yaml"
    config.write_text(long_config(150))
    render(config, folder / "reference.mp4", None, 2, TINY)
    render(config, folder / "warm.mp4", folder / "cache", 2, TINY)
    return config, folder / "reference.mp4", folder / "cache"


@pytest.mark.parametrize("name", ["INT", "TERM", "group-INT"])
def test_a_signal_during_the_final_join(tmp_path, long, name):
    """Every segment is cached: once the temporary file beside the target appears, the
    join is the only work left. Tried a few times, since the join can win the race."""
    config, reference, cache = long
    target = tmp_path / "out" / "video.mp4"

    def joining(run: Render) -> bool:
        all_cached = run.wait_for_line(lambda line: "rendering 0 of" in line)
        assert all_cached, f"not every segment came from the cache: {run.said}"
        return run.wait_until(lambda: any(".tmp" in p.name for p in target.parent.iterdir()))

    landed = 0
    for _ in range(5):
        code, said, target, _, before = interrupted(tmp_path, config, 2, TINY, name, joining, cache)
        assert "Traceback" not in said
        if target.read_bytes() != OLDER:  # the join finished first: the render is complete
            assert code in (0, EXIT[name]), said
            assert_same_video(target, reference)
            continue
        assert code == EXIT[name], said
        assert_nothing_left(target, cache, str(tmp_path), before)
        landed += 1
        if landed == 2:
            break
    assert landed >= 1, "no signal landed in the join"
    render(config, target, cache, 2, TINY)
    assert_same_video(target, reference)
