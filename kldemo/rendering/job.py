"""One config into one file: the plan, the segments found in the cache or drawn, the join.

Segments found in the cache are reused, the rest are drawn by worker processes
(:mod:`kldemo.rendering.pool`), and the video is their stream copy, written beside the
target and renamed onto it. The timeline is the one the file was checked with, and the
plan is built once: the video, a png and the contact sheet are all drawn from it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from kldemo.errors import UsageError
from kldemo.plan.build import build_plan
from kldemo.rendering.options import RenderOptions, resolve_labels
from kldemo.rendering.pool import drawer_for, render_segments
from kldemo.rendering.segments import Segment, cut_segments, segment_keys
from kldemo.rendering.still import render_still_plan
from kldemo.rendering.subtitles import Cue, caption_cues, write_subtitles
from kldemo.rendering.video import VideoSettings
from kldemo.storage.files import atomic_path

if TYPE_CHECKING:
    from kldemo.plan.frames import ScenePlan
    from kldemo.rendering.progress import Progress
    from kldemo.storage.cache import SegmentCache
    from kldemo.timeline import Loaded


@dataclass(frozen=True)
class Rendered:
    """What a render wrote: the file, the seconds of video in it and of work for it, and
    how many of its segments were drawn (the rest came from the cache)."""

    output: Path
    length: float
    seconds: float
    segments: int = 0  # 0 for a png: one frame
    rendered: int = 0
    contact_sheet: Path | None = None

    @property
    def from_cache(self) -> bool:
        return self.segments > 0 and self.rendered == 0


def render_config(
    loaded: Loaded,
    options: RenderOptions,
    target: Path,
    fmt: str,
    progress: Progress,
    contact_sheet: Path | None = None,
) -> Rendered:
    """Render ``loaded`` into ``target`` as ``fmt`` (png: the last frame); with
    ``contact_sheet``, draw the sheet there too, from the same plan."""
    began = time.perf_counter()
    labels = resolve_labels(loaded.config, options)
    width, height = options.size
    if fmt != "png" and (width % 2 or height % 2):
        raise UsageError(f"-r {width},{height}: video needs an even width and height")
    plan = build_plan(loaded, options.frame_rate, labels)
    length = len(plan.frames) / options.frame_rate
    if fmt == "png":
        render_still_plan(plan, len(plan.frames) - 1, target, options)
        rendered = Rendered(target, length, time.perf_counter() - began)
    else:
        cues = caption_cues(plan, options.frame_rate) if options.subtitles else None
        segments, drawn = _render_video(loaded, plan, options, target, fmt, progress, cues)
        rendered = Rendered(target, length, time.perf_counter() - began, segments, drawn)
        progress.finish(loaded.path, target, rendered.seconds)
        if cues is not None:  # beside the video, once it is there
            srt_path, vtt_path = write_subtitles(cues, target)
            progress.note(
                f"{loaded.path.name}: wrote {srt_path} and {vtt_path} ({len(cues)} cue(s))"
            )
    if contact_sheet is not None:
        from kldemo.rendering.contact import write_contact_sheet

        write_contact_sheet(loaded, plan, options, contact_sheet)
        progress.note(f"{loaded.path.name}: wrote {contact_sheet}")
        rendered = replace(rendered, contact_sheet=contact_sheet)
    return rendered


def _render_video(
    loaded: Loaded,
    plan: ScenePlan,
    options: RenderOptions,
    target: Path,
    fmt: str,
    progress: Progress,
    cues: list[Cue] | None = None,
) -> tuple[int, int]:
    """The video: its segments from the cache or drawn, joined into ``target``. Returns how
    many segments it has and how many were drawn."""
    from kldemo.rendering.video import join_segments
    from kldemo.storage.cache import SegmentCache, default_cache_dir

    video = VideoSettings.for_format(fmt, *options.size, options.frame_rate, options.transparent)
    segments = segment_keys(
        plan,
        video,
        options.transparent,
        cut_segments(loaded.timeline, len(plan.frames), options.frame_rate),
    )
    cache = None if options.no_cache else SegmentCache(options.cache_dir or default_cache_dir())
    with contextlib.ExitStack() as stack:
        if cache is None:
            scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="kldemo-")))
            held = None
        else:
            scratch = cache.scratch()
            # Links to the cached segments this render uses, held until the join is done,
            # and the segments it is writing.
            held = Path(
                stack.enter_context(tempfile.TemporaryDirectory(prefix="held-", dir=scratch))
            )
        files, todo = _cached(cache, segments, video.suffix, held)
        progress.start(
            loaded.path,
            len(plan.frames),
            sum(len(segments[i]) for i in todo),
            len(segments) - len(todo),
        )

        def finished(j: int, path: Path) -> None:
            files[todo[j]] = _keep(cache, segments[todo[j]], video.suffix, path, held)
            progress.advance(len(segments[todo[j]]))

        if todo:  # the scene, built here once (and inherited by forked workers)
            drawer_for(
                plan, video, options.transparent, scratch, options.verbose, options.labels_dir
            )
        # Written into this render's own folder: whatever an interrupt leaves there goes with it.
        render_segments(
            plan,
            video,
            options.transparent,
            [segments[i] for i in todo],
            scratch,
            options.workers,
            options.verbose,
            finished,
            held,
        )
        with atomic_path(target) as temporary:
            join_segments([files[i] for i in range(len(segments))], temporary, fmt, video, cues)
        if cache is not None:
            cache.evict(keep={s.key for s in segments})
    return len(segments), len(todo)


def _cached(
    cache: SegmentCache | None, segments: list[Segment], suffix: str, held: Path | None
) -> tuple[dict[int, Path], list[int]]:
    """The segments found in the cache (by index, held in ``held``), and those to draw."""
    files: dict[int, Path] = {}
    todo: list[int] = []
    for index, segment in enumerate(segments):
        found = cache.get(segment.key, suffix, into=held) if cache else None
        if found is not None:
            files[index] = found
        else:
            todo.append(index)
    return files, todo


def _keep(
    cache: SegmentCache | None, segment: Segment, suffix: str, path: Path, held: Path | None
) -> Path:
    """A segment just drawn: shared through the cache (if any); returns the file to join."""
    if cache is None or held is None:
        return path
    # Held before it is shared, so that no other process's clear or eviction can take it
    # away; a segment of the same key as an earlier one reuses its link.
    link = held / f"{segment.key}{suffix}"
    if not link.exists():
        os.link(path, link)
    cache.put(segment.key, suffix, path)
    return link
