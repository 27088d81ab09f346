"""Output formats: the name decides the format, and every format decodes to the timeline.

A small, fast sample of ``tools/format_matrix.py``: each video format for a config of
several keyframes at an odd size, WebM at 480p15 (where joining segments once failed), and
a GIF at its default size compared with the still at the same time.
"""

from __future__ import annotations

import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from kldemo.rendering.options import RenderOptions
from kldemo.rendering.video import SegmentEncoder, VideoSettings, join_segments

from .conftest import REPO

# Three keyframes whose cuts (at 15 fps) fall on frames 11, 15, 26 and 30: offsets that
# WebM's millisecond clock cannot hold exactly (66.67 ms a frame).
STEPS = """\
p: {means: [-1.5, 1.5], stds: [0.6, 0.6]}
q: {mean: 0, std: 1}
defaults: {duration: 0.7, hold: 0.3}
view: {x_range: [-4, 4], y_range: [0, 0.8]}
style: {bar_max: 4, labels: text, theme: THEME}
keyframes:
  - q: {mean: -1.5, std: 0.6}
    caption: q moves onto one mode
  - q: {mean: 1.5}
  - p: {means: [-2, 2]}
"""
LENGTH = 3.0  # seconds: three keyframes of 0.7 + 0.3


def kldemo(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kldemo", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd or REPO,
        timeout=600,
        env={**os.environ, "KLDEMO_NO_LATEX": "1"},
    )


@pytest.fixture
def steps(write_config):
    return write_config(STEPS.replace("THEME", "dark"), "steps.yaml")


def decoded(path: Path) -> tuple[int, set[tuple[int, int]], float]:
    """Frame count, the frame sizes seen, and the length in seconds, as a player reads them."""
    with av.open(str(path)) as container:
        sizes = [(f.width, f.height) for f in container.decode(video=0)]
        return len(sizes), set(sizes), container.duration / 1e6


def gif_delays(path: Path) -> tuple[list[int], int | None]:
    """Each frame's delay in milliseconds (PIL reads GIF's 1/100 s) and the loop count."""
    delays = []
    with Image.open(path) as image:
        loop = image.info.get("loop")
        for index in range(image.n_frames):
            image.seek(index)
            delays.append(image.info["duration"])
    return delays, loop


# -- the name decides the format --------------------------------------------------------


@pytest.mark.parametrize("name", ["x.avi", "story.vtt", "clip.mkv"])  # svg, pdf: test_vector
def test_a_suffix_render_cannot_write_is_refused(tmp_path, steps, name):
    result = kldemo("render", steps, "-o", tmp_path / name, "--progress", "none")
    assert result.returncode == 2
    suffix = Path(name).suffix
    assert result.stderr == (
        f"kldemo: error: -o {tmp_path / name}: kldemo cannot write {suffix} files; render "
        "writes mp4, mov, webm, gif or png (png: the last frame), named by its suffix\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["steps.yaml"]


def test_format_and_a_conflicting_suffix_are_refused(tmp_path, steps):
    result = kldemo("render", steps, "--format", "gif", "-o", tmp_path / "x.mp4")
    assert result.returncode == 2
    assert result.stderr == (
        f"kldemo: error: --format gif and -o {tmp_path / 'x.mp4'} disagree; "
        "name the output FILE.gif, or leave --format out\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["steps.yaml"]


def test_a_still_named_other_than_png_is_refused(tmp_path, steps):
    result = kldemo("still", steps, "--at", "1", "-o", tmp_path / "frame.jpg")
    assert result.returncode == 2
    assert result.stderr == (
        f"kldemo: error: -o {tmp_path / 'frame.jpg'}: kldemo cannot write "
        f".jpg files; still writes png, svg or pdf: name it "
        f"{tmp_path / 'frame.png'}\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["steps.yaml"]


def test_several_configs_need_a_folder_not_a_file_name(tmp_path, steps, write_config):
    other = write_config(STEPS.replace("THEME", "light"), "other.yaml")
    result = kldemo("render", steps, other, "-o", tmp_path / "both.webm")
    assert result.returncode == 2
    assert "with several configs, -o names a folder" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.yaml", "steps.yaml"]


def test_gif_refuses_frame_rates_browsers_cannot_keep(tmp_path, steps):
    result = kldemo("render", steps, "-o", tmp_path / "fast.gif", "--fps", "60")
    assert result.returncode == 2
    assert result.stderr.startswith(
        "kldemo: error: --fps 60: a GIF plays at most 50 frames per second"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["steps.yaml"]


def test_each_format_takes_its_own_default_size_and_rate():
    assert (RenderOptions().size, RenderOptions().frame_rate) == ((1920, 1080), 60)
    gif = RenderOptions().for_format("gif")
    assert (gif.size, gif.frame_rate) == ((854, 480), 15)
    told = RenderOptions(resolution=(250, 250)).for_format("gif")
    assert (told.size, told.frame_rate) == ((250, 250), 15)
    preset = RenderOptions(quality="h").for_format("gif")  # 1080p, at GIF's most frames
    assert (preset.size, preset.frame_rate) == ((1920, 1080), 50)
    assert RenderOptions(quality="l").for_format("mp4").frame_rate == 15


def test_options_from_the_command_line_are_taken_by_name_and_unknown_ones_refused():
    options = RenderOptions.from_cli({"fmt": "gif", "jobs": 2, "contact_sheet": True})
    assert (options.fmt, options.jobs, options.contact_sheet) == ("gif", 2, True)
    # An option a command declares but RenderOptions does not know would be lost silently.
    with pytest.raises(TypeError, match="not render options: frame_step, shards"):
        RenderOptions.from_cli({"fmt": "gif", "shards": 2, "frame_step": 1})


# -- every format decodes to the timeline -----------------------------------------------


@pytest.mark.render
@pytest.mark.parametrize("fmt", ["mp4", "mov", "webm", "gif"])
def test_each_format_decodes_to_the_timelines_frames_size_and_length(tmp_path, steps, fmt):
    out = tmp_path / f"steps.{fmt}"
    result = kldemo(
        "render",
        steps,
        "-r",
        "250,250",
        "--fps",
        "5",
        "-o",
        out,
        "--no-cache",
        "--progress",
        "none",
    )
    assert result.returncode == 0, result.stderr
    count, sizes, seconds = decoded(out)
    assert (count, sizes) == (round(LENGTH * 5), {(250, 250)})
    assert seconds == pytest.approx(LENGTH, abs=0.011 if fmt == "gif" else 0.0011)


@pytest.mark.render
def test_webm_at_480p15_joins_its_segments(tmp_path, steps):
    out = tmp_path / "steps.webm"
    result = kldemo("render", steps, "-q", "l", "-o", out, "--no-cache", "--progress", "none")
    assert result.returncode == 0, result.stderr
    count, sizes, seconds = decoded(out)
    assert (count, sizes) == (45, {(854, 480)})
    assert seconds == pytest.approx(LENGTH, abs=0.0011)


def test_joined_webm_segments_keep_every_frame_on_the_millisecond_clock(tmp_path):
    """Segments of 11 and 4 frames at 15 fps start at 733.3 ms, 1000 ms, 1733.3 ms...:
    each frame's time is rounded once, from its frame number, and decodes in order."""
    settings = VideoSettings.for_format("webm", 64, 48, 15, transparent=False)
    segments, frame = [], np.zeros((48, 64, 4), np.uint8)
    frame[..., 3] = 255
    for index, length in enumerate((11, 4, 11, 4)):
        path = tmp_path / f"segment{index}.webm"
        encoder = SegmentEncoder(path, settings)
        for k in range(length):
            frame[:, :, 0] = (index * 40 + k * 9) % 256
            encoder.write(frame)
        encoder.close()
        segments.append(path)
    join_segments(segments, tmp_path / "joined.webm", "webm", settings)
    with av.open(str(tmp_path / "joined.webm")) as container:
        stream = container.streams.video[0]
        times = [frame.pts * stream.time_base for frame in container.decode(stream)]
        assert container.duration / 1e6 == pytest.approx(2.0, abs=0.0011)
    assert len(times) == 30
    assert [round(t * 15) for t in times] == list(range(30))
    assert all(abs(t - Fraction(k, 15)) <= Fraction(1, 1000) for k, t in enumerate(times))


@pytest.mark.render
def test_a_gif_by_default_is_480p15_looping_of_exact_length_and_true_colours(
    tmp_path, write_config
):
    light = write_config(STEPS.replace("THEME", "light"), "light.yaml")
    out, still = tmp_path / "light.gif", tmp_path / "still.png"
    result = kldemo("render", light, "-o", out, "--no-cache", "--progress", "none")
    assert result.returncode == 0, result.stderr
    count, sizes, seconds = decoded(out)
    assert (count, sizes, seconds) == (45, {(854, 480)}, LENGTH)
    delays, loop = gif_delays(out)
    assert loop == 0  # forever
    assert sum(delays) == 3000  # 45 frames at 15 fps, to the hundredth of a second
    assert set(delays) <= {60, 70}

    at = 0.4  # mid-transition (frame 6): anti-aliased edges in every colour
    result = kldemo("still", light, "--at", at, "-q", "l", "-o", still)
    assert result.returncode == 0, result.stderr
    with av.open(str(out)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    gif = frames[6].astype(int)
    expected = np.asarray(Image.open(still).convert("RGB")).astype(int)
    assert np.abs(gif - expected).mean() < 1.5
    assert (yellowish(gif) & ~yellowish(expected)).sum() < 10


def yellowish(pixels: np.ndarray) -> np.ndarray:
    """Where red and green are both well above blue: what a fixed palette makes of the
    light theme's anti-aliased edges."""
    red, green, blue = (pixels[..., i].astype(int) for i in range(3))
    return (red > 120) & (green > 120) & (blue < np.minimum(red, green) - 60)


@pytest.mark.render
def test_an_existing_folder_or_a_name_without_suffix_is_a_folder(tmp_path, steps):
    (tmp_path / "videos").mkdir()
    for folder in ("videos", "new"):
        result = kldemo(
            "render",
            steps,
            "-r",
            "160,90",
            "--fps",
            "5",
            "-o",
            tmp_path / folder,
            "--format",
            "webm",
            "--no-cache",
            "--progress",
            "none",
        )
        assert result.returncode == 0, result.stderr
        assert sorted(p.name for p in (tmp_path / folder).iterdir()) == ["steps.webm"]
        assert decoded(tmp_path / folder / "steps.webm")[0] == 15


@pytest.mark.render
def test_a_dark_gif_keeps_the_stills_colours(tmp_path, steps):
    out, still = tmp_path / "dark.gif", tmp_path / "still.png"
    result = kldemo(
        "render",
        steps,
        "-r",
        "320,180",
        "--fps",
        "5",
        "-o",
        out,
        "--no-cache",
        "--progress",
        "none",
    )
    assert result.returncode == 0, result.stderr
    result = kldemo("still", steps, "--at", "0.4", "-r", "320,180", "--fps", "5", "-o", still)
    assert result.returncode == 0, result.stderr
    with av.open(str(out)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    gif = frames[2].astype(int)  # 0.4 s at 5 fps
    expected = np.asarray(Image.open(still).convert("RGB")).astype(int)
    assert np.abs(gif - expected).mean() < 1.5
    assert (yellowish(gif) & ~yellowish(expected)).sum() < 10
