"""Encoding frames to video segments and joining segments, with PyAV.

Segments are encoded with identical settings so that the final video is a stream copy
of them, never re-encoded. GIF is the exception: its segments are lossless RGB, and the
joined stream is read twice, once to build a palette from the video's own colours and once
to map every frame onto it.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import av
import numpy as np

from kldemo.rendering.formats import GIF_MAX_FPS

if TYPE_CHECKING:
    from kldemo.rendering.subtitles import Cue

#: The version of the encoding: bump it with every change to how segments are encoded
#: (codec options, pixel formats), so that cached segments of another encoding are not
#: joined with new ones.
ENCODING_VERSION = 2
# The palette is built from at most this many frames spread over the video, so that its
# cost is bounded however long the video is (colours recur from frame to frame).
PALETTE_FRAMES = 240
# No dither: the pictures are flat colours and their anti-aliased edges, which a palette of
# the video's own 255 colours holds closely; dithering would only add noise (and bytes).
# Only the rectangle that changed since the previous frame is mapped again, so still parts
# of the picture stay identical and cost nothing.
PALETTE_USE = "dither=none:diff_mode=rectangle"


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
    def for_format(
        cls, fmt: str, width: int, height: int, fps: float, transparent: bool
    ) -> VideoSettings:
        rate = Fraction(fps).limit_denominator(1001)
        if fmt == "gif":  # lossless RGB (QuickTime Animation): the palette sees true colours
            return cls(width, height, rate, "mov", "qtrle", "rgb24")
        if fmt == "webm":
            return cls(
                width,
                height,
                rate,
                "webm",
                "libvpx-vp9",
                "yuva420p" if transparent else "yuv420p",
                (
                    ("crf", "32"),
                    ("b", "0"),
                    ("deadline", "realtime"),
                    ("cpu-used", "8"),
                    ("row-mt", "1"),
                ),
            )
        if transparent:  # mov: QuickTime Animation keeps the alpha channel
            return cls(width, height, rate, "mov", "qtrle", "argb")
        container = "mov" if fmt == "mov" else "mp4"
        # superfast without B-frames: a third of the CPU time of x264's default (medium)
        # at 1080p, for files about twice the size at the same quality (crf 23). One
        # encoder thread: x264's output depends on its thread count, and a fixed count
        # makes a segment's bytes the same whatever --jobs is and whatever the machine
        # (so caches can be shared); the workers, one per core, use the cores instead.
        return cls(
            width,
            height,
            rate,
            container,
            "libx264",
            "yuv420p",
            (("crf", "23"), ("preset", "superfast"), ("bf", "0"), ("threads", "1")),
        )

    @property
    def suffix(self) -> str:
        return f".{self.container}"


class SegmentEncoder:
    """Writes RGBA frames (height, width, 4) into one segment file."""

    def __init__(self, path: Path, settings: VideoSettings):
        from av.video.reformatter import VideoReformatter

        self.settings = settings
        self.container = av.open(str(path), mode="w", format=settings.container)
        self.stream = self.container.add_stream(
            settings.codec, rate=settings.fps, options=dict(settings.options)
        )
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


def join_segments(
    segments: list[Path],
    target: Path,
    fmt: str,
    settings: VideoSettings,
    cues: list[Cue] | None = None,
) -> None:
    """Concatenate segment files into ``target`` by stream copy (GIF: palettised); with
    ``cues``, mp4, mov and webm get a subtitle track of them, muxed in time order among the
    video's packets (GIF has no subtitle track).

    Every segment starts its clock at frame 0. Times are recomputed from frame numbers, never
    by adding tick offsets: a container whose time base is not a multiple of the frame rate
    (WebM counts milliseconds, 66.67 of them per frame at 15 fps) rounds each segment's times
    on its own, and an offset rounded again can put a packet's decoding after its
    presentation, which the muxer refuses. So each packet's presentation is read back as a
    frame number of its segment, shifted by the frames before it, and rounded once. Decoding
    times are renumbered: the i-th packet of a segment in decoding order decodes at frame
    ``i - delay``, where ``delay`` is the largest reordering delay (B-frames) of any segment;
    that never comes after the packet's presentation, and it only ever increases across
    segment joins.
    """
    if fmt == "gif":
        _joined_gif(segments, target, settings)
        return
    delay = max(_reorder_delay(s, settings.fps) for s in segments)
    with av.open(str(target), mode="w", format=fmt) as output:
        captions = None
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
                    if cues:  # the track after the video: stream 1 (none without a cue)
                        captions = _Captions(output, fmt, cues)
                if stream.time_base != copy.time_base:
                    raise ValueError(
                        f"{segment}: time base {stream.time_base} differs from {copy.time_base}"
                    )
                per_frame = 1 / (settings.fps * stream.time_base)  # ticks, maybe fractional
                frames = 0
                for packet in source.demux(stream):
                    if packet.dts is None:  # the demuxer's flush packet
                        continue
                    shown = before + round(packet.pts / per_frame)  # a frame number
                    packet.pts = round(shown * per_frame)
                    packet.dts = round((before + frames - delay) * per_frame)
                    packet.duration = round((shown + 1) * per_frame) - packet.pts
                    packet.stream = copy
                    if captions is not None:
                        captions.mux_until(packet.dts * copy.time_base)
                    output.mux(packet)
                    frames += 1
                before += frames
        if captions is not None:
            captions.mux_until(None)


class _Captions:
    """A subtitle track being muxed: its cues' packets, each written once the video has
    come to its time."""

    def __init__(self, output: av.container.OutputContainer, fmt: str, cues: list[Cue]):
        from kldemo.rendering.subtitles import add_track

        self.output, self.fmt, self.cues = output, fmt, cues
        self.stream = add_track(output, fmt)
        self.packets: list[av.Packet] | None = None  # encoded when first needed

    def mux_until(self, time: Fraction | None) -> None:
        """Write the cues that start at or before ``time`` (seconds; None: all left)."""
        from kldemo.rendering.subtitles import TRACK_TIME_BASE, track_packets

        if self.packets is None:
            self.packets = track_packets(self.stream, self.fmt, self.cues)
        while self.packets and (time is None or self.packets[0].pts * TRACK_TIME_BASE <= time):
            self.output.mux(self.packets.pop(0))


def _reorder_delay(segment: Path, fps: Fraction) -> int:
    """How many frames a segment's first packet decodes before it is shown (B-frames)."""
    with av.open(str(segment)) as source:
        stream = source.streams.video[0]
        for packet in source.demux(stream):
            if packet.dts is not None:
                return max(0, round(-packet.dts * stream.time_base * fps))
    return 0


def _concat(segments: list[Path]) -> av.container.InputContainer:
    """The segments as one demuxed stream (FFmpeg's concat demuxer), without copying them."""
    manifest = "".join(f"file 'file:{Path(s).resolve().as_posix()}'\n" for s in segments)
    return av.open(io.BytesIO(manifest.encode()), format="concat", options={"safe": "0"})


def _joined_gif(segments: list[Path], target: Path, settings: VideoSettings) -> None:
    """Two passes over the lossless segments: a palette of the video's colours, then its use.

    Frames are streamed through both passes, never held, so memory stays bounded however
    long the video; the palette is built from at most :data:`PALETTE_FRAMES` frames.
    """
    if settings.fps > GIF_MAX_FPS:
        raise ValueError(f"GIF frame rate {float(settings.fps):g} is above {GIF_MAX_FPS}")
    total = 0
    for segment in segments:
        with av.open(str(segment)) as source:
            total += source.streams.video[0].frames
    palette = _palette(segments, max(1, -(-total // PALETTE_FRAMES)))
    with _concat(segments) as source, av.open(str(target), mode="w", format="gif") as output:
        _palettised_gif(source, source.streams.video[0], output, palette, settings)


def _palette(segments: list[Path], every: int) -> av.VideoFrame:
    """The 16x16 palette FFmpeg's palettegen builds from every ``every``-th frame."""
    with _concat(segments) as source:
        stream = source.streams.video[0]
        graph = av.filter.Graph()
        # palettegen keeps one entry transparent (its default), which the GIF encoder gives
        # the pixels a frame leaves as they were: a still moment costs almost nothing.
        graph.link_nodes(
            graph.add_buffer(template=stream),
            graph.add("palettegen", "max_colors=256:stats_mode=full"),
            graph.add("buffersink"),
        ).configure()
        for index, frame in enumerate(source.decode(stream)):
            if index % every == 0:
                graph.push(frame)
        graph.push(None)
        return graph.pull()


def _palettised_gif(
    source: av.container.InputContainer,
    stream: av.video.stream.VideoStream,
    output: av.container.OutputContainer,
    palette: av.VideoFrame,
    settings: VideoSettings,
) -> None:
    """Each frame mapped onto ``palette`` and encoded, with delays that add up exactly.

    GIF delays count hundredths of a second: frame k is shown at round(100 k / fps), so
    the delays (differences of those) add up to the video's length to the hundredth,
    whatever the frame rate, and the last frame lasts until round(100 n / fps).
    """
    gif = output.add_stream("gif", rate=settings.fps)
    gif.width, gif.height = settings.width, settings.height
    gif.pix_fmt = "pal8"
    gif.codec_context.time_base = gif.time_base = Fraction(1, 100)
    graph = av.filter.Graph()
    frames = graph.add_buffer(template=stream)
    colours = graph.add_buffer(
        width=palette.width,
        height=palette.height,
        format=palette.format.name,
        time_base=Fraction(1, 100),
    )
    use = graph.add("paletteuse", PALETTE_USE)
    frames.link_to(use, 0, 0)
    colours.link_to(use, 0, 1)
    use.link_to(graph.add("buffersink"))
    graph.configure()
    palette.pts = 0
    colours.push(palette)
    colours.push(None)

    def shown(k: int) -> int:
        return round(k * 100 / settings.fps)

    written = 0

    def encode(frame: av.VideoFrame | None) -> None:
        nonlocal written
        if frame is not None:
            frame.pts, frame.time_base = shown(written), Fraction(1, 100)
            written += 1
        for packet in gif.encode(frame):
            k = round(packet.pts * settings.fps / 100)
            packet.duration = shown(k + 1) - shown(k)
            output.mux(packet)

    def drain() -> None:
        while True:
            try:
                frame = graph.pull()
            except (av.error.EOFError, av.error.BlockingIOError):
                return
            encode(frame)

    for frame in source.decode(stream):
        frames.push(frame)
        drain()
    frames.push(None)
    drain()
    encode(None)
