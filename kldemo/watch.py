"""``kldemo watch CONFIG``: render, then render again on every save of the file.

The file's folder is watched with watchfiles (inotify and its kin; saves that replace the
file, as many editors make them, are seen too), and the changes of one save are taken
together. Each render goes through the segment cache, so only the segments a change
touched are drawn again. A save that does not validate prints its errors and leaves the
last good video in place. Ctrl-C ends the loop; the render in flight, if any, stops and
removes its temporary files and worker processes on the way out.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import TextIO

from kldemo.batch.run import Outcome, render_one
from kldemo.errors import Terminated, UsageError
from kldemo.rendering.options import RenderOptions
from kldemo.rendering.outputs import output_format, output_path
from kldemo.rendering.progress import Progress

STEP_MS = 150  # a save is over when the file has been quiet this long
DEBOUNCE_MS = 1600  # changes are taken together for at most this long
TIMEOUT_MS = 250  # how often the watcher wakes up when nothing changes


def watch(
    config: Path, options: RenderOptions, out: TextIO | None = None, err: TextIO | None = None
) -> None:
    """Render ``config`` now and after every save, until interrupted (KeyboardInterrupt)."""
    import logging

    from watchfiles import watch as changes_of

    logging.getLogger("watchfiles").setLevel(logging.WARNING)  # not "1 change detected"
    out, err = out or sys.stdout, err or sys.stderr
    if not config.is_file():
        raise UsageError(f"{config}: no such file; give the keyframe file to watch")
    fmt = output_format(options, options.output)
    target = output_path(config, options, fmt, several=False)
    progress = Progress("none", err)  # one line per render, below, instead
    watched = os.path.abspath(config)

    _say(err, f"watching {config}; every save renders {target} again (Ctrl-C to stop)")
    # The first render waits for the watcher's first (empty) yield, so that a save made
    # while it runs is seen; renders never overlap, and a save during one is taken after it.
    last_good, first = None, True
    terminated = _note_sigterm()
    try:
        for changes in changes_of(
            Path(watched).parent,
            recursive=False,
            step=STEP_MS,
            debounce=DEBOUNCE_MS,
            rust_timeout=TIMEOUT_MS,
            yield_on_timeout=True,
            watch_filter=lambda _, path: path == watched,
        ):
            if changes or first:
                first = False
                last_good = _render(config, options, target, fmt, progress, out, err, last_good)
    except KeyboardInterrupt:
        if terminated:  # watchfiles turns every signal into KeyboardInterrupt: SIGTERM is 143
            raise Terminated from None
        raise


def _note_sigterm() -> list[int]:
    """Remember a SIGTERM before the handler in place runs; returns the list it goes into."""
    import signal

    seen: list[int] = []
    previous = signal.getsignal(signal.SIGTERM)

    def handler(signum: int, frame) -> None:
        seen.append(signum)
        if callable(previous):
            previous(signum, frame)
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)
    return seen


def _render(
    config: Path,
    options: RenderOptions,
    target: Path,
    fmt: str,
    progress: Progress,
    out: TextIO,
    err: TextIO,
    last_good: str | None,
) -> str | None:
    """One render and its line; returns the time of the last good render."""
    outcome = render_one(config, options, target, fmt, progress)
    now = time.strftime("%H:%M:%S")
    if outcome.status in ("ok", "cached"):
        _say(out, f"{now} {config.name}: {_what(outcome)}")
        return now
    kept = f"{target} from {last_good} kept" if last_good else f"{target} not written"
    count = len(outcome.errors or [])
    what = "not valid" if outcome.status == "invalid" else "render failed"
    _say(
        err,
        f"{now} {config.name}: {what} ({count} error{'s' * (count != 1)}); {kept}; "
        "fix it and save again",
    )
    return last_good


def _what(outcome: Outcome) -> str:
    if not outcome.segments:  # png: one frame
        rendered = "one frame"
    elif outcome.rendered:
        rendered = f"{outcome.rendered} of {outcome.segments} segments rendered"
    else:
        rendered = f"all {outcome.segments} segments from the cache"
    sheet = f" and {outcome.contact_sheet}" if outcome.contact_sheet else ""
    return (
        f"wrote {outcome.output}{sheet}: {outcome.length:.2f} s of video, {rendered}, "
        f"in {outcome.seconds:.1f} s"
    )


def _say(stream: TextIO, line: str) -> None:
    stream.write(line + "\n")
    stream.flush()
