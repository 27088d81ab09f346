"""Drawing and encoding segments: in this process, or in forked worker processes.

The scene is built once, in this process, before the workers are forked: each worker
inherits it (and the plan) and only draws. Workers leave Ctrl-C to this process, which
stops them; a SIGTERM unwinds them, so that their temporary files are removed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kldemo.rendering.drawer import FrameDrawer

if TYPE_CHECKING:
    from kldemo.plan.frames import ScenePlan
    from kldemo.rendering.segments import Segment
    from kldemo.rendering.video import VideoSettings

# This process's drawer (inherited by forked workers) and the job the workers share.
_worker: dict[str, Any] = {}


def drawer_for(
    plan: ScenePlan,
    video: VideoSettings,
    transparent: bool,
    scratch: Path,
    verbose: bool,
    labels_dir: Path | None = None,
) -> FrameDrawer:
    """The drawer for this plan: built once, in the parent, and inherited by forked workers."""
    token = (id(plan), video, transparent)
    if _worker.get("token") != token:
        _worker["drawer"] = FrameDrawer(plan, video, transparent, scratch, verbose, labels_dir)
        _worker["token"] = token
    return _worker["drawer"]


def render_segment(
    plan: ScenePlan,
    video: VideoSettings,
    transparent: bool,
    segment: Segment,
    scratch: Path,
    verbose: bool = False,
    into: Path | None = None,
) -> Path:
    """Encode the frames of one segment into a new file in ``into`` (default: ``scratch``);
    return its path."""
    from kldemo.rendering.video import SegmentEncoder

    drawer = drawer_for(plan, video, transparent, scratch, verbose)
    fd, name = tempfile.mkstemp(
        prefix=f"{segment.key[:16]}.", suffix=video.suffix, dir=into or scratch
    )
    os.close(fd)
    path = Path(name)
    encoder = SegmentEncoder(path, video)
    try:
        drawer.forget()  # a segment starts with a drawn frame, whatever was drawn before
        with drawer.configured():  # once for the segment's frames, not once a frame
            for i in range(segment.start, segment.stop):
                pixels = drawer.draw(i)
                if pixels is None:
                    encoder.repeat()
                else:
                    encoder.write(pixels)
        encoder.close()
    except BaseException:
        encoder.abort()
        path.unlink(missing_ok=True)
        raise
    return path


def render_segments(
    plan: ScenePlan,
    video: VideoSettings,
    transparent: bool,
    segments: list[Segment],
    scratch: Path,
    jobs: int,
    verbose: bool,
    on_done: Callable[[int, Path], None],
    into: Path | None = None,
) -> dict[int, Path]:
    """Render segments, in ``jobs`` worker processes when more than one; return their files
    (in ``into``, default ``scratch``). ``on_done(index, path)`` is called in this process
    as each is finished."""
    done: dict[int, Path] = {}
    if jobs <= 1 or len(segments) <= 1:
        for index, segment in enumerate(segments):
            done[index] = render_segment(plan, video, transparent, segment, scratch, verbose, into)
            on_done(index, done[index])
        return done

    import multiprocessing

    drawer_for(plan, video, transparent, scratch, verbose)  # built once, inherited by workers
    _worker["job"] = {
        "plan": plan,
        "video": video,
        "transparent": transparent,
        "segments": segments,
        "scratch": scratch,
        "verbose": verbose,
        "into": into,
    }
    context = multiprocessing.get_context("fork")
    pool = ProcessPoolExecutor(
        max_workers=min(jobs, len(segments)), mp_context=context, initializer=_worker_init
    )
    # Longest first, so that no long segment starts last.
    order = sorted(range(len(segments)), key=lambda i: -len(segments[i]))
    try:
        pending = {pool.submit(_worker_render, i) for i in order}
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                index, path = future.result()
                done[index] = path
                on_done(index, path)
    except BaseException:
        _stop_pool(pool)
        for path in done.values():
            path.unlink(missing_ok=True)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        _worker.pop("job", None)
    return done


def _worker_init() -> None:
    # Workers leave Ctrl-C to the parent, which stops them; SIGTERM unwinds them cleanly
    # so that their temporary files are removed.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _raise_interrupt)


def _worker_render(index: int) -> tuple[int, Path]:
    job = _worker["job"]
    return index, render_segment(
        job["plan"],
        job["video"],
        job["transparent"],
        job["segments"][index],
        job["scratch"],
        job["verbose"],
        job["into"],
    )


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    """Stop the workers now: terminate them (they unwind), and kill those that do not end."""
    processes = list((pool._processes or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        with contextlib.suppress(ProcessLookupError, AttributeError):
            if process.is_alive():
                process.terminate()
    for process in processes:
        process.join(timeout=5)
        if process.is_alive():
            process.kill()
            process.join()
