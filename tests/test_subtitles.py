"""Subtitles, caption fades and the bars' digits: the .srt and .vtt files and the track in
the video agree with the frames that show each caption; a fade ramps the caption's opacity
over ``style.caption_fade`` seconds; ``kl`` reports each row's caption; ``style.digits``
sets the bars' significant figures."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest

from .conftest import decode, kldemo

FPS = 5
# p and q never move: between frames only the caption changes. Keyframes 1 and 2 share a
# caption (one span, one cue); keyframe 3 has none; keyframe 4's runs to the video's end.
# Keyframe 2 ends at 5.25 s, between frames at 5 fps: its caption stays to the next frame.
CAPTIONED = """\
p: {mean: 0, std: 1}
q: {mean: 0, std: 1}
defaults: {duration: 1, hold: 1}
view: {x_range: [-4, 4], y_range: [0, 0.5]}
style: {bar_max: 1, labels: text}
keyframes:
  - {}
  - caption: first caption
  - {caption: first caption, duration: 0.5, hold: 0.75}
  - {}
  - caption: a second < & one
"""
TEXTS = ["first caption", "a second < & one"]
# Rendered with cuts, so that every frame that shows a caption shows it plainly enough to be
# seen through the encoder's noise; with a fade the same frames show it (the plan-level
# tests below: opacity above 0 exactly there), the first and last of them faintly.
RENDERED = CAPTIONED.replace("labels: text", "labels: text, caption_fade: 0")


def render(config: Path, output: Path, *extra: str):
    result = kldemo(
        "render",
        config,
        "-o",
        output,
        "-r",
        "160,90",
        "--fps",
        str(FPS),
        "--labels",
        "text",
        "--no-cache",
        "--progress",
        "none",
        "--subtitles",
        *extra,
        env={"KLDEMO_NO_LATEX": "1"},
    )
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, Path]:
    """The captioned config as mp4 and webm, with their .srt and .vtt."""
    folder = tmp_path_factory.mktemp("subtitles")
    config = folder / "lecture.yaml"
    config.write_text(RENDERED, encoding="utf-8")
    outputs = {}
    for fmt in ("mp4", "webm"):
        target = folder / fmt / f"lecture.{fmt}"
        render(config, target)
        outputs[fmt] = target
    return outputs


def read_srt(path: Path) -> list[tuple[float, float, str]]:
    import srt

    return [
        (s.start.total_seconds(), s.end.total_seconds(), s.content)
        for s in srt.parse(path.read_text(encoding="utf-8"))
    ]


def read_vtt(path: Path) -> list[tuple[float, float, str]]:
    import html

    import webvtt

    return [
        (
            c.start_in_seconds + c.start_time.milliseconds / 1000,
            c.end_in_seconds + c.end_time.milliseconds / 1000,
            html.unescape(c.text),
        )
        for c in webvtt.read(str(path))
    ]  # the seconds are whole, the ms apart


def shown_frames(video: Path) -> list[bool]:
    """Whether each decoded frame shows a caption: its bottom fifth (the caption band)
    differs from the first frame's, which has none, by more than the encoder's noise."""
    frames, _, _ = decode(video)
    band = slice(frames[0].shape[0] * 4 // 5, None)
    base = frames[0][band].astype(int)
    change = np.array([np.abs(f[band].astype(int) - base).sum() for f in frames])
    return list(change > change.max() / 4)


def cues_of_frames(shown: list[bool]) -> list[tuple[float, float]]:
    """The spans of time over which runs of shown frames are on screen."""
    spans, k = [], 0
    while k < len(shown):
        if shown[k]:
            end = k
            while end + 1 < len(shown) and shown[end + 1]:
                end += 1
            spans.append((k / FPS, (end + 1) / FPS))
            k = end
        k += 1
    return spans


@pytest.mark.render
def test_cues_are_the_captions_at_the_frames_that_show_them(rendered):
    for fmt, video in rendered.items():
        for cues in (read_srt(video.with_suffix(".srt")), read_vtt(video.with_suffix(".vtt"))):
            assert [text for _, _, text in cues] == TEXTS
            # A caption from its keyframe's transition to the end of its hold, in whole
            # frames: keyframes 1 and 2 from 2 s to 5.25 s, so up to the frame at 5.4 s;
            # keyframe 4 from 7.25 s (the frame at 7.4 s) to the end, 9.2 s.
            assert [(start, end) for start, end, _ in cues] == [(2.0, 5.4), (7.4, 9.2)]
            assert cues_of_frames(shown_frames(video)) == [(s, e) for s, e, _ in cues], fmt


@pytest.mark.render
def test_mp4_and_webm_carry_a_subtitle_track_of_the_captions(rendered):
    import av

    for fmt, video in rendered.items():
        with av.open(str(video)) as container:
            assert len(container.streams.video) == 1
            (stream,) = container.streams.subtitles
            assert stream.codec_context.name == {"mp4": "mov_text", "webm": "webvtt"}[fmt]
            cues = []
            for packet in container.demux(stream):
                for subtitle in packet.decode():
                    cues.append(
                        (
                            float(packet.pts * packet.time_base),
                            float((packet.pts + packet.duration) * packet.time_base),
                            subtitle.dialogue.decode(),
                        )
                    )
        assert cues == read_srt(video.with_suffix(".srt")), fmt


@pytest.mark.render
def test_gif_gets_the_files_but_no_track_and_no_caption_gives_no_cue(tmp_path):
    import av

    config = tmp_path / "plain.yaml"
    config.write_text(CAPTIONED.split("keyframes:")[0] + "keyframes:\n  - {}\n  - {}\n")
    render(config, tmp_path / "plain.mp4")
    with av.open(str(tmp_path / "plain.mp4")) as container:
        assert not container.streams.subtitles  # no track without a cue
    assert (tmp_path / "plain.srt").read_text() == ""
    assert (tmp_path / "plain.vtt").read_text().strip() == "WEBVTT"

    captioned = tmp_path / "captioned.yaml"
    captioned.write_text(CAPTIONED)
    render(captioned, tmp_path / "captioned.gif")
    with av.open(str(tmp_path / "captioned.gif")) as container:
        assert not container.streams.subtitles
    assert [text for *_, text in read_srt(tmp_path / "captioned.srt")] == TEXTS


def test_subtitles_of_a_png_are_refused(tmp_path):
    config = tmp_path / "lecture.yaml"
    config.write_text(CAPTIONED)
    result = kldemo("render", config, "-o", tmp_path / "out.png", "--subtitles")
    assert result.returncode == 2
    assert "--subtitles: a png is one frame" in result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lecture.yaml"]


def test_cue_text_is_written_safely(tmp_path):
    from kldemo.rendering.subtitles import Cue, _ass_text, write_subtitles

    cues = [Cue(0.0, 1.5, "a --> b & <c>\n\nsecond line"), Cue(2.0, 3.25, "{x} \\ y")]
    srt_path, vtt_path = write_subtitles(cues, tmp_path / "v.mp4")
    # A blank line would end the cue: it is left out.
    assert read_srt(srt_path) == [(0.0, 1.5, "a --> b & <c>\nsecond line"), (2.0, 3.25, "{x} \\ y")]
    assert read_vtt(vtt_path) == read_srt(srt_path)
    assert vtt_path.read_text().count("-->") == 2  # only in the timings: escaped in the text
    assert _ass_text("{x} \\ y\nz", webvtt=False) == "(x) ∖ y\\Nz"
    assert _ass_text("a < b", webvtt=True) == "a &lt; b"


# ---------------------------------------------------------------- fades (plan level)


def plan_of(write_config, fade: float | None, fps: float = 100):
    from kldemo.plan.build import build_plan
    from kldemo.timeline import load

    style = "bar_max: 1" if fade is None else f"bar_max: 1, caption_fade: {fade}"
    loaded = load(write_config(CAPTIONED.replace("bar_max: 1, labels: text", style)))
    return build_plan(loaded, fps, "text"), loaded.timeline


def test_a_caption_fades_in_and_out_over_caption_fade_seconds(write_config):
    plan, _ = plan_of(write_config, 0.3)
    t, opacity = plan.frames.t, plan.frames.caption_opacity
    caption = plan.frames.caption
    # The ramp is read at the middle of each frame's time on screen (1/100 s here).
    rising = (t >= 2.0) & (t < 2.3)
    assert np.allclose(opacity[rising], (t[rising] + 0.005 - 2.0) / 0.3)
    assert np.all(np.diff(opacity[rising]) > 0) and 0 < opacity[rising][0] < 0.05
    assert np.all(opacity[(t >= 2.3) & (t < 4.95)] == 1)  # on through keyframe 2: one span
    falling = (t >= 4.95) & (t < 5.25)
    assert np.allclose(opacity[falling], (5.25 - t[falling] - 0.005) / 0.3)
    assert np.all(np.diff(opacity[falling]) < 0) and 0 < opacity[falling][-1] < 0.05
    assert np.all(opacity[caption < 0] == 0) and np.all(opacity[caption >= 0] > 0)
    # The last caption runs to the video's end: it fades in, and is whole at the end.
    assert np.isclose(opacity[np.searchsorted(t, 7.25)], 0.005 / 0.3)
    assert opacity[-1] == 1


def test_caption_fade_0_cuts_and_the_default_is_0_3(write_config):
    cut = plan_of(write_config, 0)[0].frames
    assert set(cut.caption_opacity[cut.caption >= 0]) == {1.0}
    assert set(cut.caption_opacity[cut.caption < 0]) == {0.0}
    default = plan_of(write_config, None)[0].frames.caption_opacity
    assert np.array_equal(default, plan_of(write_config, 0.3)[0].frames.caption_opacity)


def test_segment_keys_follow_the_fade(write_config):
    from kldemo.rendering.segments import cut_segments, segment_keys
    from kldemo.rendering.video import VideoSettings

    video = VideoSettings.for_format("mp4", 160, 90, 5, False)
    keys = {}
    for fade in (0, 0.3):
        plan, timeline = plan_of(write_config, fade, fps=5)
        segments = cut_segments(timeline, len(plan.frames), 5)
        keys[fade] = [s.key for s in segment_keys(plan, video, False, segments)]
    # Segments in which a caption fades get new keys; the ones without any caption do not.
    changed = [a != b for a, b in zip(keys[0], keys[0.3], strict=True)]
    assert any(changed) and not all(changed)


# ---------------------------------------------------------------- kl and digits


def test_kl_rows_carry_the_caption_of_their_frame(write_config):
    path = write_config(CAPTIONED)
    at = ["--at", "0", "--at", "2", "--at", "5.24", "--at", "5.25", "--at", "7.25"]
    result = kldemo("kl", path, "--format", "json", *at)
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)["rows"]
    assert [row["caption"] for row in rows] == [
        None,
        "first caption",
        "first caption",
        None,
        "a second < & one",
    ]
    table = kldemo("kl", path, *at).stdout.splitlines()
    assert table[1].split()[-1] == "caption" and table[3].endswith("first caption")
    result = kldemo("kl", path, "--format", "csv", *at)
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [row["caption"] for row in rows] == [
        "",
        "first caption",
        "first caption",
        "",
        "a second < & one",
    ]


def test_format_nats_keeps_digits_significant_figures():
    from kldemo.scenes.numbers import format_nats, widest_nats

    assert [format_nats(0.52713, d) for d in (1, 2, 3, 5, 8)] == [
        "0.5",
        "0.53",
        "0.527",
        "0.52713",
        "0.52713000",
    ]
    assert [format_nats(5.2713, d) for d in (1, 3, 5)] == ["5", "5.27", "5.2713"]
    assert format_nats(123456.7, 3) == "1.23e+05" and format_nats(123456.7, 8) == "123456.70"
    assert format_nats(1e-9, 5) == "0.00000" and format_nats(2e14, 4) == "2.000e+14"
    for digits in range(1, 9):  # the layout sizes the bars' numbers by the widest
        widest = len(widest_nats(False, digits))
        for v in (0.0123456789, 0.987654321, 9.87654321, 98765.4321, 1.23456789e13):
            assert len(format_nats(v, digits)) <= widest, (v, digits)


def test_style_digits_reaches_the_plan_and_is_checked(write_config):
    from kldemo.plan.build import build_plan
    from kldemo.timeline import load

    good = write_config("p: {mean: 0, std: 1}\nq: {mean: 1, std: 1}\nstyle: {digits: 6}\n")
    assert build_plan(load(good), 5, "text").digits == 6
    plain = write_config("p: {mean: 0, std: 1}\nq: {mean: 1, std: 1}\n", "plain.yaml")
    assert build_plan(load(plain), 5, "text").digits == 3
    for bad, message in (
        ("9", "must be <= 8 (got 9)"),
        ("0", "must be >= 1 (got 0)"),
        ("2.5", "must be a whole number (got 2.5)"),
        ("true", "must be a whole number (got true)"),
    ):
        path = write_config(
            f"p: {{mean: 0, std: 1}}\nq: {{mean: 1, std: 1}}\nstyle: {{digits: {bad}}}\n",
            "bad.yaml",
        )
        result = kldemo("validate", path)
        assert result.returncode == 2
        assert result.stderr == f"{path}:3:17: error: style.digits: {message}\n"
