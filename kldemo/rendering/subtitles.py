"""Subtitles from the captions: ``NAME.srt`` and ``NAME.vtt`` beside the video, and a
subtitle track inside mp4, mov (``mov_text``) and webm (``webvtt``).

One cue per caption span, timed to the frames that show it: from the first frame whose
caption it is to the end of the last one's time on screen. The plan decides those frames
(:mod:`kldemo.plan.captions`: a keyframe's caption is shown from its transition's start to
its hold's end), so the cues and the video never disagree, by even a frame; a faded frame
counts as shown. A config without captions gives files with no cue (a bare ``WEBVTT``
header, an empty ``.srt``) and no track.
"""

from __future__ import annotations

import datetime
import html
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

from kldemo.storage.files import atomic_path

if TYPE_CHECKING:
    import av

    from kldemo.plan.frames import ScenePlan

#: The subtitle codec of each container that carries a track (GIF and PNG carry none).
TRACK_CODECS = {"mp4": "mov_text", "mov": "mov_text", "webm": "webvtt"}
#: The track's clock: milliseconds, the resolution of .srt and .vtt.
TRACK_TIME_BASE = Fraction(1, 1000)
# FFmpeg's text subtitle encoders read ASS events; this is the least header they need.
_ASS_HEADER = (
    "[Script Info]\r\nScriptType: v4.00+\r\nPlayResX: 384\r\nPlayResY: 288\r\n\r\n"
    "[V4+ Styles]\r\nFormat: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, "
    "OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, "
    "Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding\r\n"
    "Style: Default,Arial,16,&Hffffff,&Hffffff,&H0,&H0,0,0,0,0,100,100,0,0,1,1,0,2,10,10,10,0"
    "\r\n\r\n[Events]\r\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, "
    "Effect, Text\r\n"
)


@dataclass(frozen=True)
class Cue:
    """A caption on screen from ``start`` to ``end`` (seconds of video)."""

    start: float
    end: float
    text: str

    def millis(self) -> tuple[int, int]:
        """Start and end in whole milliseconds, as the files and the track store them."""
        return round(self.start * 1000), round(self.end * 1000)


def subtitle_paths(target: Path) -> tuple[Path, Path]:
    """The ``.srt`` and ``.vtt`` written beside ``target``."""
    return target.with_suffix(".srt"), target.with_suffix(".vtt")


def caption_cues(plan: ScenePlan, fps: float) -> list[Cue]:
    """One cue per run of frames showing the same caption: frames k0 to k1 give the cue
    [k0 / fps, (k1 + 1) / fps), the time those frames are on screen."""
    shown = [int(c) for c in plan.frames.caption]
    cues: list[Cue] = []
    k = 0
    while k < len(shown):
        run = k
        while run + 1 < len(shown) and shown[run + 1] == shown[k]:
            run += 1
        if shown[k] >= 0:
            cues.append(Cue(k / fps, (run + 1) / fps, _lines(plan.captions[shown[k]])))
        k = run + 1
    return cues


def _lines(text: str) -> str:
    """A caption's lines without blank ones, which would end a cue in .srt and .vtt."""
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())


def write_subtitles(cues: list[Cue], target: Path) -> tuple[Path, Path]:
    """``target``'s ``.srt`` and ``.vtt``, each written atomically. Returns their paths.

    Blank lines, which would end a cue, are left out; in the .vtt, ``&``, ``<`` and ``>``
    are escaped as HTML (so no cue text holds ``-->``)."""
    import srt
    import webvtt

    srt_path, vtt_path = subtitle_paths(target)
    composed = srt.compose(
        [
            srt.Subtitle(
                i + 1, *(datetime.timedelta(milliseconds=t) for t in cue.millis()), _lines(cue.text)
            )
            for i, cue in enumerate(cues)
        ],
        reindex=False,
    )
    with atomic_path(srt_path) as temporary:
        temporary.write_text(composed, encoding="utf-8")
    vtt = webvtt.WebVTT(
        captions=[
            webvtt.Caption(
                *(_vtt_time(t) for t in cue.millis()), html.escape(_lines(cue.text), quote=False)
            )
            for cue in cues
        ]
    )
    with atomic_path(vtt_path) as temporary:
        temporary.write_text(vtt.content, encoding="utf-8")
    return srt_path, vtt_path


def _vtt_time(millis: int) -> str:
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def add_track(output: av.container.OutputContainer, fmt: str) -> av.stream.Stream:
    """A subtitle stream in ``output`` (a container of ``fmt``, one of TRACK_CODECS),
    off until the viewer switches it on."""
    from av.stream import Disposition

    stream = output.add_stream(TRACK_CODECS[fmt])
    stream.codec_context.time_base = stream.time_base = TRACK_TIME_BASE
    stream.codec_context.subtitle_header = _ASS_HEADER.encode()
    stream.metadata["title"] = "Captions"
    stream.disposition = Disposition(0)  # not "default": shown when the viewer asks
    return stream


def track_packets(stream: av.stream.Stream, fmt: str, cues: list[Cue]) -> list[av.Packet]:
    """Each cue encoded for ``stream`` (from :func:`add_track`), in time order."""
    from av.subtitles.subtitle import SubtitleSet

    packets = []
    for index, cue in enumerate(cues):
        start, end = cue.millis()
        text = _ass_text(cue.text, webvtt=TRACK_CODECS[fmt] == "webvtt")
        event = SubtitleSet.create(
            f"{index},0,Default,,0,0,0,,{text}".encode(), 0, end - start, pts=start
        )
        packet = stream.codec_context.encode_subtitle(event)
        packet.stream, packet.time_base = stream, TRACK_TIME_BASE
        packets.append(packet)
    return packets


def _ass_text(text: str, webvtt: bool) -> str:
    """A caption as an ASS event's text: lines joined by ``\\N``. ASS reserves braces and
    backslashes (FFmpeg's encoders drop them), so they become ( ) and ∖; WebVTT reads
    ``<`` and ``&`` as markup, so for it they are escaped as HTML."""
    text = text.replace("\\", "∖").replace("{", "(").replace("}", ")")
    if webvtt:
        text = html.escape(text, quote=False)
    return text.replace("\n", "\\N")
