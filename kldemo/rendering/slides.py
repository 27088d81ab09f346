"""Slides: the video cut at its keyframes, for presenting with a pause on every hold.

``kldemo render CONFIG --slides`` writes, beside the video ``DIR/NAME.mp4``:

- ``DIR/slides/NAME.json`` and its clips in ``DIR/slides/files/NAME/``: manim-slides' own
  layout, built with its pydantic models, so that ``manim-slides present NAME`` and
  ``manim-slides convert NAME out.html`` work from ``DIR``;
- ``DIR/NAME.html``: a presenter that needs nothing but a browser (its script and style
  inline), playing the same clips.

Slide 1 is the initial state (one frame); slide k + 1 is keyframe k: its transition, then
its hold, on which the clip ends (before the caption fades out, so that it rests on the
caption whole). A config without keyframes is one slide. The captions are the speaker
notes. Clips are the video's own packets where a slide starts on one of its key frames,
which the segments make of every keyframe's start (so the pixels are the video's, and the
cache's segments are reused); elsewhere, and for the reversed clips manim-slides plays
when going back, frames are decoded and encoded again, a bounded number at a time.
"""

from __future__ import annotations

import contextlib
import html
import json
import math
import os
import shutil
import tempfile
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kldemo.errors import RenderError, UsageError
from kldemo.storage.files import output_error, write_text_atomic

if TYPE_CHECKING:
    import av
    import numpy as np

    from kldemo.rendering.options import RenderOptions
    from kldemo.rendering.progress import Progress
    from kldemo.rendering.video import VideoSettings
    from kldemo.timeline import Loaded, Timeline

#: Frames decoded at once when a clip is reversed or encoded again: memory stays bounded
#: (60 frames of 1080p are about 190 MB) however long a slide is.
CHUNK_FRAMES = 60
#: The folder manim-slides reads presentations from, beside the video.
SLIDES_FOLDER = "slides"


@dataclass(frozen=True)
class Slide:
    """Frames [start, stop) of the video, and the speaker notes shown with them."""

    start: int
    stop: int
    notes: str = ""

    def __len__(self) -> int:
        return self.stop - self.start


@dataclass(frozen=True)
class Slideshow:
    """What ``--slides`` wrote: manim-slides' JSON, the HTML presenter, the clips' folder."""

    json: Path
    html: Path
    clips: Path
    count: int


def slide_paths(target: Path) -> tuple[Path, Path, Path]:
    """The JSON, the HTML and the clips' folder of the video ``target``."""
    folder = target.parent / SLIDES_FOLDER
    return (
        folder / f"{target.stem}.json",
        target.with_suffix(".html"),
        folder / "files" / target.stem,
    )


def require_manim_slides() -> None:
    """Refuse ``--slides`` before anything renders when manim-slides is not installed."""
    import importlib.util

    if importlib.util.find_spec("manim_slides") is None:
        raise UsageError(
            "--slides writes manim-slides' format and needs manim-slides: "
            "pip install 'kldemo[slides]' (or pip install manim-slides)"
        )


def slide_ranges(
    timeline: Timeline,
    frame_count: int,
    fps: float,
    title: str | None = None,
    caption_opacity: np.ndarray | None = None,
) -> list[Slide]:
    """The slides of a video of ``frame_count`` frames at ``fps``.

    Keyframe k's slide runs from the frame where its transition starts to the one where
    the next keyframe's starts (the cuts of :func:`kldemo.rendering.segments.cut_segments`),
    the last to the end. A keyframe shorter than a frame keeps one frame, the first shown
    after it began, so that every keyframe is a slide. Slide 1, the initial state, is frame
    0 with the title as its notes.

    With each frame's ``caption_opacity``, a slide stops before its caption fades out at
    the end of its hold (the frames of the fade, where the opacity falls, are left out),
    so that the frame it stops on shows the caption whole; never before its hold's first
    frame, which shows where the transition ended.
    """
    if not timeline.steps:
        return [Slide(0, frame_count, title or "")]

    def cut(t: float) -> int:
        return min(frame_count, math.ceil(t * fps - 1e-9))

    slides = [Slide(0, 1, title or "")]
    ends = [*timeline.starts[1:], timeline.duration]
    for i, step in enumerate(timeline.steps):
        start = cut(timeline.starts[i])
        stop = frame_count if i == len(timeline.steps) - 1 else cut(ends[i])
        if stop <= start:
            start = min(start, frame_count - 1)
            stop = start + 1
        held = max(start, cut(timeline.transition_ends[i]))
        if caption_opacity is not None:
            while stop - 1 > held and caption_opacity[stop - 1] < caption_opacity[stop - 2]:
                stop -= 1
        slides.append(Slide(start, stop, step.caption or ""))
    return slides


def write_slides(
    loaded: Loaded, options: RenderOptions, target: Path, fmt: str, progress: Progress
) -> Slideshow:
    """Cut the video just rendered into ``target`` into slides, and write both formats.

    The clips are H.264 MP4, which browsers and manim-slides play: from ``target`` itself
    when it is one (opaque), else from an MP4 of the same config rendered for them, its
    segments shared with the video's through the cache.
    """
    from kldemo.plan.captions import caption_index, caption_opacity
    from kldemo.plan.theme import THEMES
    from kldemo.rendering.video import VideoSettings

    model = loaded.config.model
    fps = options.frame_rate
    settings = VideoSettings.for_format("mp4", *options.size, fps, False)
    timeline = loaded.timeline
    times = timeline.frame_times(fps)
    segment = timeline.state_at(times).segment
    opacity = caption_opacity(
        timeline, times, segment, caption_index(timeline, segment), fps, model.style.caption_fade
    )
    slides = slide_ranges(timeline, len(times), fps, model.title, opacity)
    json_path, html_path, clips = slide_paths(target)
    with contextlib.ExitStack() as stack:
        video = target
        if fmt != "mp4" or options.transparent:
            video = _companion_mp4(loaded, options, stack)
        try:
            clips.parent.mkdir(parents=True, exist_ok=True)
            scratch = Path(
                tempfile.mkdtemp(prefix=f".{clips.name}.", suffix=".tmp", dir=clips.parent)
            )
            stack.callback(shutil.rmtree, scratch, ignore_errors=True)
            os.chmod(scratch, 0o777 & ~_umask())  # mkdtemp's folder is the owner's alone
        except OSError as error:
            raise output_error(clips, error) from error
        files = _write_clips(video, slides, scratch, settings)
        presentation = _presentation(
            slides, files, scratch, clips, options.size, THEMES[model.style.theme].background
        )
        _replace_folder(scratch, clips)
    write_text_atomic(json_path, presentation + "\n")
    write_text_atomic(
        html_path,
        presenter_html(
            slides,
            clips,
            html_path.parent,
            fps,
            model.title or target.stem,
            THEMES[model.style.theme].background,
        ),
    )
    progress.note(f"{loaded.path.name}: wrote {len(slides)} slides: {json_path}, {html_path}")
    return Slideshow(json_path, html_path, clips, len(slides))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _companion_mp4(loaded: Loaded, options: RenderOptions, stack: contextlib.ExitStack) -> Path:
    """An opaque MP4 of the config, in a temporary folder that ``stack`` removes."""
    from kldemo.rendering.job import render_config
    from kldemo.rendering.progress import Progress

    folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="kldemo-slides-")))
    video = folder / "video.mp4"
    render_config(
        loaded, replace(options, transparent=False), video, "mp4", Progress.create("none")
    )
    return video


def _write_clips(
    video: Path, slides: list[Slide], folder: Path, settings: VideoSettings
) -> list[tuple[Path, Path]]:
    """Each slide's clip and its reversed clip, written into ``folder``."""
    import av

    files = []
    with av.open(str(video)) as source:
        stream = source.streams.video[0]
        for number, slide in enumerate(slides, 1):
            clip = folder / f"slide_{number:03d}.mp4"
            reversed_clip = folder / f"slide_{number:03d}_reversed.mp4"
            if not _copy_packets(source, stream, slide, clip, settings.fps):
                with _encoding(clip, settings) as put:
                    for start in range(slide.start, slide.stop, CHUNK_FRAMES):
                        stop = min(slide.stop, start + CHUNK_FRAMES)
                        for frame in _frames(source, stream, settings.fps, start, stop):
                            put(frame)
            _reverse(clip, len(slide), reversed_clip, settings)
            files.append((clip, reversed_clip))
    return files


def _frame_index(pts: int, stream: av.video.stream.VideoStream, fps: Fraction) -> int:
    return round(pts * stream.time_base * fps)


def _seek(
    source: av.container.InputContainer,
    stream: av.video.stream.VideoStream,
    fps: Fraction,
    frame: int,
) -> None:
    """Go to the key frame at or before ``frame``; the decoder starts afresh from there."""
    source.seek(
        round(frame / (fps * stream.time_base)), stream=stream, backward=True, any_frame=False
    )


def _frames(
    source: av.container.InputContainer,
    stream: av.video.stream.VideoStream,
    fps: Fraction,
    start: int,
    stop: int,
) -> list[av.VideoFrame]:
    """Frames [start, stop) of an open video, decoded from the key frame before them."""
    _seek(source, stream, fps, start)
    kept = []
    for frame in source.decode(stream):
        index = _frame_index(frame.pts, stream, fps)
        if index >= stop:
            break
        if index >= start:
            kept.append(frame)
    if len(kept) != stop - start:
        raise RenderError(
            f"slides: frames {start} to {stop} of the video could not be decoded (got {len(kept)})"
        )
    return kept


def _copy_packets(
    source: av.container.InputContainer,
    stream: av.video.stream.VideoStream,
    slide: Slide,
    target: Path,
    fps: Fraction,
) -> bool:
    """Write the slide's frames as the video's own packets, when it starts on a key frame
    and its packets come in the order they are shown (no B-frames); else False."""
    import av

    _seek(source, stream, fps, slide.start)
    packets = []
    for packet in source.demux(stream):
        if packet.dts is None or packet.pts is None:  # the demuxer's flush packet
            continue
        index = _frame_index(packet.pts, stream, fps)
        if index >= slide.stop:
            break
        if index >= slide.start:
            packets.append((index, packet))
    if [i for i, _ in packets] != list(range(slide.start, slide.stop)) or not packets[0][
        1
    ].is_keyframe:
        return False
    per_frame = 1 / (fps * stream.time_base)  # ticks, maybe fractional
    with av.open(str(target), mode="w", format="mp4") as output:
        copy = output.add_stream_from_template(template=stream)
        copy.time_base = stream.time_base
        for index, packet in packets:
            shown = index - slide.start
            packet.pts = packet.dts = round(shown * per_frame)
            packet.duration = round((shown + 1) * per_frame) - packet.pts
            packet.stream = copy
            output.mux(packet)
    return True


@contextlib.contextmanager
def _encoding(target: Path, settings: VideoSettings) -> Iterator[Callable[[Any], None]]:
    """A function that encodes decoded frames, in order, into a new clip at ``target``."""
    import av

    with av.open(str(target), mode="w", format=settings.container) as output:
        stream = output.add_stream(
            settings.codec, rate=settings.fps, options=dict(settings.options)
        )
        stream.width, stream.height = settings.width, settings.height
        stream.pix_fmt = settings.pixel_format
        count = 0

        def put(frame: av.VideoFrame) -> None:
            nonlocal count
            if frame.format.name != settings.pixel_format:
                frame = frame.reformat(format=settings.pixel_format)
            frame.pts, frame.time_base = count, 1 / settings.fps
            frame.pict_type = av.video.frame.PictureType.NONE  # the encoder decides anew
            count += 1
            output.mux(stream.encode(frame))

        yield put
        output.mux(stream.encode())


def _reverse(clip: Path, frame_count: int, target: Path, settings: VideoSettings) -> None:
    """``clip`` played backwards, decoded :data:`CHUNK_FRAMES` at a time from its end."""
    import av

    with av.open(str(clip)) as source, _encoding(target, settings) as put:
        stream = source.streams.video[0]
        ends = range(frame_count, 0, -CHUNK_FRAMES)
        for stop in ends:
            start = max(0, stop - CHUNK_FRAMES)
            for frame in reversed(_frames(source, stream, settings.fps, start, stop)):
                put(frame)


def _presentation(
    slides: list[Slide],
    files: list[tuple[Path, Path]],
    scratch: Path,
    clips: Path,
    size: tuple[int, int],
    background: str,
) -> str:
    """manim-slides' PresentationConfig as JSON, built and checked with its own models.

    The models check that the clips exist, so they are built over the clips where they
    are now (``scratch``); the JSON names them where they will be (``clips``), relative to
    the folder that holds ``slides/``, as manim-slides writes and reads them.
    """
    from manim_slides.config import PresentationConfig, SlideConfig

    base = clips.parent.parent.parent  # DIR of DIR/slides/files/NAME

    def moved(path: Path) -> Path:
        return (clips / path.relative_to(scratch)).relative_to(base)

    checked = PresentationConfig(
        slides=[
            SlideConfig(file=clip, rev_file=back, notes=slide.notes)
            for slide, (clip, back) in zip(slides, files, strict=True)
        ],
        resolution=size,
        background_color=background,
    )
    stored = checked.model_copy(
        update={
            "slides": [
                s.model_copy(update={"file": moved(s.file), "rev_file": moved(s.rev_file)})
                for s in checked.slides
            ]
        }
    )
    return stored.model_dump_json(indent=2)


def _replace_folder(new: Path, final: Path) -> None:
    """Put the folder ``new`` in the place of ``final`` (and of any folder there before),
    so that no clip of an earlier render is left among the new ones."""
    old = None
    try:
        if final.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".old", dir=final.parent))
            os.replace(final, old / final.name)
        os.replace(new, final)
    except OSError as error:
        raise output_error(final, error) from error
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def presenter_html(
    slides: list[Slide], clips: Path, beside: Path, fps: float, title: str, background: str
) -> str:
    """The HTML presenter: the clips (in ``clips``, linked relative to ``beside``), the
    slide counter, the notes, the keys; its script and style inline."""
    folder = os.path.relpath(clips, beside)
    data = [
        {
            "src": urllib.parse.quote(Path(folder, f"slide_{k:03d}.mp4").as_posix()),
            "frames": len(slide),
            "notes": slide.notes,
        }
        for k, slide in enumerate(slides, 1)
    ]
    # Inside <script>, "</" could end the element: escaped, the JSON reads the same.
    payload = json.dumps({"fps": fps, "slides": data}, ensure_ascii=False).replace("</", "<\\/")
    return (
        _PRESENTER.replace("@TITLE@", html.escape(title))
        .replace("@BACKGROUND@", background)
        .replace("@SLIDES@", payload)
    )


_PRESENTER = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>@TITLE@</title>
<style>
html, body { margin: 0; height: 100%; background: @BACKGROUND@; overflow: hidden;
  font: 16px/1.4 system-ui, sans-serif; color: #ddd; }
#stage { position: fixed; inset: 0; display: flex; align-items: center; justify-content: center; }
video { width: 100%; height: 100%; object-fit: contain; outline: none; }
.overlay { position: fixed; background: rgba(0, 0, 0, 0.6); color: #eee; border-radius: 4px;
  padding: 0.2em 0.6em; }
#counter { right: 0.8em; bottom: 0.6em; font-variant-numeric: tabular-nums; }
#notes { left: 0.8em; right: 0.8em; top: 0.6em; padding: 0.6em 1em; white-space: pre-wrap; }
#help { left: 0.8em; bottom: 0.6em; font-size: 13px; }
[hidden] { display: none !important; }
</style>
</head>
<body>
<div id="stage"><video id="clip" muted playsinline preload="auto"></video></div>
<div id="notes" class="overlay" hidden></div>
<div id="counter" class="overlay"></div>
<div id="help" class="overlay">Space or &rarr;: next &middot; &larr;: back &middot;
F: full screen &middot; N: notes &middot; ?: these keys</div>
<script id="slides" type="application/json">@SLIDES@</script>
<script>
"use strict";
(() => {
  const deck = JSON.parse(document.getElementById("slides").textContent);
  const slides = deck.slides;
  const video = document.getElementById("clip");
  const counter = document.getElementById("counter");
  const notes = document.getElementById("notes");
  const help = document.getElementById("help");
  let index = 0;
  let loads = 0;  // a seek asked for by an earlier load must not move a later clip

  // Slide i: played from its start (forward), or shown on its last frame (its hold).
  function show(i, play) {
    index = Math.max(0, Math.min(slides.length - 1, i));
    const slide = slides[index];
    const load = ++loads;
    video.dataset.slide = String(index + 1);
    counter.textContent = `${index + 1} / ${slides.length}`;
    notes.textContent = slide.notes || "(no notes for this slide)";
    video.pause();
    video.src = slide.src;
    if (play) {
      video.play().catch(() => {});
    } else {
      video.addEventListener("loadedmetadata", () => {
        if (load === loads) video.currentTime = (slide.frames - 0.5) / deck.fps;
      }, { once: true });
    }
  }

  function fullScreen() {
    if (document.fullscreenElement) document.exitFullscreen();
    else document.documentElement.requestFullscreen().catch(() => {});
  }

  document.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const key = event.key;
    if (key === " " || key === "ArrowRight" || key === "PageDown") {
      if (index < slides.length - 1) show(index + 1, true);
    } else if (key === "ArrowLeft" || key === "PageUp") {
      show(index - 1, false);
    } else if (key === "Home") {
      show(0, false);
    } else if (key === "End") {
      show(slides.length - 1, false);
    } else if (key === "f" || key === "F") {
      fullScreen();
    } else if (key === "n" || key === "N") {
      notes.hidden = !notes.hidden;
    } else if (key === "?") {
      help.hidden = !help.hidden;
      return;
    } else {
      return;
    }
    help.hidden = true;
    event.preventDefault();
  });
  video.addEventListener("click", () => {
    if (index < slides.length - 1) show(index + 1, true);
  });
  show(0, false);
})();
</script>
</body>
</html>
"""
