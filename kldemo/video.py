"""Encoding frames to video segments and joining segments, with PyAV.

Segments are encoded with identical settings so that the final video is a stream copy
of them, never re-encoded (GIF excepted: it is palettised from the joined stream).
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

FORMATS = ("mp4", "mov", "webm", "gif", "png")


@dataclass(frozen=True)
class VideoSettings:
    """Everything that decides the bytes of an encoded segment."""

    width: int
    height: int
    fps: Fraction
    container: str  # of the segments: mp4, mov or webm
    codec: str
    pixel_format: str
    options: tuple[tuple[str, str], ...] = ()

    @classmethod
    def for_format(cls, fmt: str, width: int, height: int, fps: float,
                   transparent: bool) -> VideoSettings:
        rate = Fraction(fps).limit_denominator(1001)
        if fmt == "webm":
            return cls(width, height, rate, "webm", "libvpx-vp9",
                       "yuva420p" if transparent else "yuv420p",
                       (("crf", "32"), ("b", "0"), ("deadline", "realtime"), ("cpu-used", "8"),
                        ("row-mt", "1")))
        if transparent:  # mov: QuickTime Animation keeps the alpha channel
            return cls(width, height, rate, "mov", "qtrle", "argb")
        container = "mov" if fmt == "mov" else "mp4"
        # superfast without B-frames: a third of the CPU time of x264's default (medium)
        # at 1080p, for files about twice the size at the same quality (crf 23). One
        # encoder thread: x264's output depends on its thread count, and a fixed count
        # makes a segment's bytes the same whatever --jobs is and whatever the machine
        # (so caches can be shared); the workers, one per core, use the cores instead.
        return cls(width, height, rate, container, "libx264", "yuv420p",
                   (("crf", "23"), ("preset", "superfast"), ("bf", "0"), ("threads", "1")))

    @property
    def suffix(self) -> str:
        return f".{self.container}"


class SegmentEncoder:
    """Writes RGBA frames (height, width, 4) into one segment file."""

    def __init__(self, path: Path, settings: VideoSettings):
        from av.video.reformatter import VideoReformatter

        self.settings = settings
        self.container = av.open(str(path), mode="w", format=settings.container)
        self.stream = self.container.add_stream(settings.codec, rate=settings.fps,
                                                options=dict(settings.options))
        self.stream.width, self.stream.height = settings.width, settings.height
        self.stream.pix_fmt = settings.pixel_format
        self.reformatter = VideoReformatter()
        self.last: av.VideoFrame | None = None
        self.pts = 0

    def write(self, rgba: np.ndarray) -> None:
        """Encode one frame; ``rgba`` is read now and may change afterwards."""
        frame = av.VideoFrame.from_numpy_buffer(np.ascontiguousarray(rgba), format="rgba")
        # The encoder's own pixel format, in a buffer of the frame's own.
        self.last = self.reformatter.reformat(frame, format=self.settings.pixel_format)
        self.repeat()

    def repeat(self) -> None:
        """Encode the frame written last once more."""
        if self.last is None:
            raise ValueError("nothing to repeat: no frame written yet")
        self.last.pts = self.pts
        self.pts += 1
        self.container.mux(self.stream.encode(self.last))

    def close(self) -> None:
        self.container.mux(self.stream.encode())
        self.container.close()

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self.container.close()


def join_segments(segments: list[Path], target: Path, fmt: str, settings: VideoSettings) -> None:
    """Concatenate segment files into ``target`` by stream copy (GIF: palettised).

    Every segment starts its clock at frame 0, so shifting its presentation times by the
    frames before it gives one continuous, exact timeline. Decoding times are renumbered:
    the i-th packet of a segment in decoding order decodes at frame ``i - delay``, where
    ``delay`` is the largest reordering delay (B-frames) of any segment; that never comes
    after the packet's presentation, and it only ever increases across segment joins.
    """
    if fmt == "gif":
        _joined_gif(segments, target, settings)
        return
    delay = max(_reorder_delay(s, settings.fps) for s in segments)
    with av.open(str(target), mode="w", format=fmt) as output:
        copy = None
        before = 0  # frames of the segments already copied
        for segment in segments:
            with av.open(str(segment)) as source:
                stream = source.streams.video[0]
                if copy is None:
                    copy = output.add_stream_from_template(template=stream)
                    copy.time_base = stream.time_base
                    if settings.pixel_format == "yuva420p":
                        copy.pix_fmt = "yuva420p"
                if stream.time_base != copy.time_base:
                    raise ValueError(f"{segment}: time base {stream.time_base} differs from "
                                     f"{copy.time_base}")
                ticks = 1 / (settings.fps * stream.time_base)  # per frame
                offset = round(before * ticks)
                frames = 0
                for packet in source.demux(stream):
                    if packet.dts is None:  # the demuxer's flush packet
                        continue
                    packet.pts += offset
                    packet.dts = round((before + frames - delay) * ticks)
                    packet.stream = copy
                    output.mux(packet)
                    frames += 1
                before += frames


def _reorder_delay(segment: Path, fps: Fraction) -> int:
    """How many frames a segment's first packet decodes before it is shown (B-frames)."""
    with av.open(str(segment)) as source:
        stream = source.streams.video[0]
        for packet in source.demux(stream):
            if packet.dts is not None:
                return max(0, round(-packet.dts * stream.time_base * fps))
    return 0


def _joined_gif(segments: list[Path], target: Path, settings: VideoSettings) -> None:
    manifest = "".join(f"file 'file:{Path(s).resolve().as_posix()}'\n" for s in segments)
    with av.open(io.BytesIO(manifest.encode()), format="concat", options={"safe": "0"}) as source, \
            av.open(str(target), mode="w", format="gif") as output:
        _palettised_gif(source, source.streams.video[0], output, settings)


def _palettised_gif(source, stream, output, settings: VideoSettings) -> None:
    gif = output.add_stream("gif", rate=settings.fps)
    gif.width, gif.height = settings.width, settings.height
    gif.pix_fmt = "rgb8"
    graph = av.filter.Graph()
    buffer = graph.add_buffer(template=stream)
    split = graph.add("split")
    palette = graph.add("palettegen", "stats_mode=diff")
    use = graph.add("paletteuse", "dither=bayer:bayer_scale=5:diff_mode=rectangle")
    sink = graph.add("buffersink")
    buffer.link_to(split)
    split.link_to(palette, 0, 0)
    split.link_to(use, 1, 0)
    palette.link_to(use, 0, 1)
    use.link_to(sink)
    graph.configure()
    for frame in source.decode(stream):
        graph.push(frame)
    graph.push(None)
    written = 0
    while True:
        try:
            frame = graph.pull()
        except (av.error.EOFError, av.error.BlockingIOError):
            break
        frame.pts = written
        frame.time_base = Fraction(1, 1) / settings.fps
        written += 1
        output.mux(gif.encode(frame))
    output.mux(gif.encode())
