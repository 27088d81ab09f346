"""Progress on stderr: a bar on a terminal, one plain line per event elsewhere (CI), or none.

``auto`` draws the bar only when both stdout and stderr are terminals and ``CI`` is not
set: output piped or redirected anywhere, or a CI log, gets plain lines without ANSI codes.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any, TextIO

MODES = ("auto", "bar", "plain", "none")


class Progress:
    """Reports a render's events; ``none`` prints only errors."""

    def __init__(self, mode: str, stream: TextIO | None = None):
        self.mode = mode
        self.stream = stream or sys.stderr
        self.total = self.done = 0
        self.began = time.perf_counter()
        self.name = ""
        self._drawn = 0.0

    @classmethod
    def create(cls, mode: str, stream: TextIO | None = None) -> Progress:
        stream = stream or sys.stderr
        if mode == "auto":
            mode = "bar" if on_terminal(stream) and on_terminal(sys.stdout) else "plain"
        return cls(mode, stream)

    def _line(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()

    def start(self, config: Path, frames: int, to_render: int, cached_segments: int) -> None:
        self.name, self.total, self.done = config.name, to_render, 0
        self.began = time.perf_counter()
        if self.mode == "plain":
            reused = f", {cached_segments} segment(s) from the cache" if cached_segments else ""
            self._line(f"{self.name}: rendering {to_render} of {frames} frames{reused}")
        elif self.mode == "bar":
            self._bar(force=True)

    def advance(self, frames: int) -> None:
        self.done += frames
        if self.mode == "bar":
            self._bar()
        elif self.mode == "plain":
            self._line(f"{self.name}: {self.done}/{self.total} frames")

    def _bar(self, force: bool = False) -> None:
        now = time.perf_counter()
        if not force and now - self._drawn < 0.1 and self.done < self.total:
            return
        self._drawn = now
        fraction = self.done / self.total if self.total else 1.0
        elapsed = now - self.began
        eta = elapsed / fraction - elapsed if 0 < fraction < 1 else 0.0
        filled = int(30 * fraction)
        self.stream.write(
            f"\r{self.name}  [{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total} frames"
            f"  {elapsed:5.1f}s  ETA {eta:4.1f}s "
        )
        self.stream.flush()

    def finish(self, config: Path, target: Path, seconds: float) -> None:
        if self.mode == "bar":
            self.stream.write("\r\033[K")
        if self.mode in ("bar", "plain"):
            self._line(f"{config.name}: wrote {target} in {seconds:.1f} s")

    def note(self, message: str) -> None:
        """A line of news that is not an error (silent with ``none``)."""
        if self.mode == "bar":
            self.stream.write("\r\033[K")
        if self.mode != "none":
            self._line(message)

    def error(self, message: str) -> None:
        if self.mode == "bar":
            self.stream.write("\r\033[K")
        self._line(message)

    def summary(self, outcomes: list[Any], heading: str = "") -> None:
        if self.mode == "none":
            return
        counts: dict[str, int] = {}
        for outcome in outcomes:
            counts[outcome.status] = counts.get(outcome.status, 0) + 1
        said = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        self._line(f"{heading}{len(outcomes)} config(s): {said or 'none rendered'}")
        for outcome in outcomes:
            if outcome.status in ("invalid", "failed"):
                self._line(f"  {outcome.status}: {outcome.config}")


def on_terminal(stream: TextIO) -> bool:
    """Whether a bar can be drawn on ``stream``: a terminal that is not dumb, outside CI.

    CI services set ``CI``; some of them attach a terminal that keeps every frame of a bar.
    """
    if os.environ.get("CI", "").lower() not in ("", "0", "false"):
        return False
    if os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())
