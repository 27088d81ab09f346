"""Rendering, checked as a user would: decode the video and look at its frames.

Decoded frames of a lossy video are compared with a tolerance measured from the encoder
itself (``codec_error``: the picture's lossless still encoded with kldemo's own settings),
never with thresholds or bytes of one machine's x264; pictures are compared exactly only
as lossless stills. Labels are Pango text, so LaTeX, present or not, changes nothing here.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from .conftest import CONFIGS, REPO, decode, kldemo

pytestmark = pytest.mark.render

SIZE = ["-r", "160,90", "--fps", "5", "--progress", "none"]
TINY = [*SIZE, "--labels", "text"]


def still(video: Path, t: float, folder: Path) -> np.ndarray:
    """The lossless frame at ``t`` of asym-kl's TINY ``video``, as RGB integers (written in
    ``folder``; the labels come from the video's cache)."""
    out = folder / f"still-{t}.png"
    result = kldemo(
        "still",
        CONFIGS / "asym-kl.yaml",
        "--at",
        t,
        "-r",
        "160,90",
        "--fps",
        "5",
        "--labels",
        "text",
        "--cache-dir",
        video.parent / "cache",
        "-o",
        out,
    )
    assert result.returncode == 0, result.stderr
    return np.asarray(Image.open(out).convert("RGB")).astype(int)


def codec_error(picture: np.ndarray, frames: int, folder: Path) -> np.ndarray:
    """The encoder's own error on ``picture``: per frame and pixel, the largest channel
    difference between the lossless picture and its decode, when it is encoded ``frames``
    times as one mp4 segment with kldemo's settings (the way a hold is encoded). This is the
    noise a decoded frame carries on this machine's x264, whatever its version."""
    from kldemo.rendering.video import SegmentEncoder, VideoSettings

    height, width = picture.shape[:2]
    settings = VideoSettings.for_format("mp4", width, height, 5, transparent=False)
    path = folder / f"codec-error{settings.suffix}"
    encoder = SegmentEncoder(path, settings)
    encoder.write(np.dstack([picture, np.full((height, width), 255)]).astype(np.uint8))
    for _ in range(frames - 1):
        encoder.repeat()
    encoder.close()
    decoded, _, _ = decode(path)
    assert len(decoded) == frames
    return np.stack([np.abs(d.astype(int) - picture).max(axis=2) for d in decoded])


@pytest.fixture(scope="module")
def asym(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("asym")
    result = kldemo(
        "render",
        CONFIGS / "asym-kl.yaml",
        *TINY,
        "-o",
        folder / "asym-kl.mp4",
        "--cache-dir",
        folder / "cache",
        "-j",
        "2",
    )
    assert result.returncode == 0, result.stderr
    return folder / "asym-kl.mp4"


def test_the_video_has_the_timelines_length_rate_and_size(asym):
    frames, stream, seconds = decode(asym)
    assert len(frames) == 28 * 5
    assert stream.average_rate == 5
    assert (stream.width, stream.height) == (160, 90)
    assert seconds == pytest.approx(28, abs=1 / 5)


def test_frames_change_during_transitions_and_not_during_holds(tmp_path, asym):
    # The picture, lossless: keyframe 0 holds from t = 2.75 to 3.5 s (frames 14 to 17); its
    # caption fades out over the hold's last 0.3 s (style.caption_fade), so the picture
    # stands still from 2.75 to 3.2 s (frames 14 and 15).
    held = [still(asym, t, tmp_path) for t in (2.8, 3.1)]
    np.testing.assert_array_equal(held[0], held[1])

    # The video: no more change between hold frames than the codec's own error on the held
    # picture allows (each frame is within it of the picture, so two within twice it), and
    # a transition (p's modes move apart from t = 0 to 2 s) changes pixels by more.
    frames, _, _ = decode(asym)
    noise = int(codec_error(held[0], 4, tmp_path).max())

    def changed(a: int, b: int) -> int:
        """How many pixels differ by more than codec noise between frames a and b."""
        difference = np.abs(frames[a].astype(int) - frames[b].astype(int)).max(axis=2)
        return int((difference > 2 * noise).sum())

    assert changed(14, 15) == 0
    assert changed(5, 10) > 20
    assert changed(0, 10) > 20


def test_jobs_do_not_change_the_output(tmp_path, asym):
    result = kldemo(
        "render",
        CONFIGS / "asym-kl.yaml",
        *TINY,
        "-o",
        tmp_path / "one.mp4",
        "--no-cache",
        "-j",
        "1",
    )
    assert result.returncode == 0, result.stderr
    one, _, _ = decode(tmp_path / "one.mp4")
    two, _, _ = decode(asym)
    assert len(one) == len(two)
    for a, b in zip(one, two, strict=True):
        np.testing.assert_array_equal(a, b)


def test_still_is_the_videos_frame(tmp_path, asym):
    """Each frame is its still within the encoder's own error on that still; a picture
    moved by two pixels is not (it leaves hundreds of pixels beyond that error)."""
    frames, _, _ = decode(asym)
    for t in (0.0, 4.2, 27.8):
        picture = still(asym, t, tmp_path)
        frame = frames[round(t * 5)].astype(int)
        noise = codec_error(picture, 1, tmp_path)
        error = np.abs(picture - frame).max(axis=2)
        assert error.mean() <= 2 * noise.mean(), t
        assert int(error.max()) <= 2 * int(noise.max()), t
        moved = np.abs(np.roll(picture, 2, axis=1) - frame).max(axis=2)
        assert (moved > 2 * noise.max()).sum() > 50, t


def test_a_bad_config_leaves_the_target_untouched(tmp_path, write_config):
    target = tmp_path / "out.mp4"
    target.write_bytes(b"an older video")
    bad = write_config("p: {mean: 0, std: -1}\nq: {mean: 0, std: 1}\n")
    result = kldemo("render", bad, *TINY, "-o", target, "--no-cache")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"{bad}:1:19: error: p.std: must be > 0 (got -1)" in result.stderr
    assert target.read_bytes() == b"an older video"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.yaml", "out.mp4"]


def test_default_output_is_media_name_mp4_in_the_current_folder(tmp_path):
    config = tmp_path / "tiny.yaml"
    config.write_text("p: {mean: 0, std: 1}\nq: {mean: 1, std: 2}\ndefaults: {hold: 1}\n")
    result = kldemo("render", config, *TINY, "--no-cache", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    frames, _, _ = decode(tmp_path / "media" / "tiny.mp4")
    assert len(frames) == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["media", "tiny.yaml"]


@pytest.mark.parametrize("fmt", ["webm", "gif", "mov"])
def test_other_formats(tmp_path, fmt):
    out = tmp_path / f"sweep.{fmt}"
    result = kldemo("render", CONFIGS / "mean-sweep.yaml", *TINY, "-o", out, "--no-cache")
    assert result.returncode == 0, result.stderr
    frames, _, seconds = decode(out)
    assert len(frames) == 9 * 5
    assert seconds == pytest.approx(9, abs=0.25)


def test_png_format_writes_the_last_frame(tmp_path):
    out = tmp_path / "last.png"
    result = kldemo("render", CONFIGS / "mean-sweep.yaml", *TINY, "-o", out, "--no-cache")
    assert result.returncode == 0, result.stderr
    assert Image.open(out).size == (160, 90)


def test_labels_tex_without_latex_is_refused_before_rendering(tmp_path, write_config):
    config = write_config("p: {mean: 0, std: 1}\nq: {mean: 1, std: 1}\nstyle: {labels: tex}\n")
    empty = tmp_path / "bin"
    empty.mkdir()
    python_dir = str(Path(sys.executable).parent)
    # LaTeX absent for real (KLDEMO_NO_LATEX=1, which says so in its own words, is unset).
    result = kldemo(
        "render",
        config,
        *SIZE,
        "-o",
        tmp_path / "x.mp4",
        "--no-cache",
        env={"PATH": f"{python_dir}:{empty}", "KLDEMO_NO_LATEX": "0"},
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"{config}:3:17: error: style.labels: labels: tex needs LaTeX (latex and dvisvgm on "
        "PATH); install it, or use labels: text (or auto)"
    )
    assert not (tmp_path / "x.mp4").exists()


def fake_latex(folder: Path) -> Path:
    """A folder holding ``latex`` and ``dvisvgm`` that only fail: found on PATH, never usable."""
    folder.mkdir()
    for tool in ("latex", "dvisvgm"):
        (folder / tool).write_text("#!/bin/sh\necho not really $0 >&2\nexit 1\n")
        (folder / tool).chmod(0o755)
    return folder


def test_kldemo_no_latex_makes_installed_latex_absent(tmp_path, monkeypatch):
    from kldemo.rendering.options import latex_available

    monkeypatch.setenv("PATH", str(fake_latex(tmp_path / "bin")))
    monkeypatch.delenv("KLDEMO_NO_LATEX", raising=False)
    assert latex_available()
    monkeypatch.setenv("KLDEMO_NO_LATEX", "0")
    assert latex_available()
    monkeypatch.setenv("KLDEMO_NO_LATEX", "1")
    assert not latex_available()


def test_with_kldemo_no_latex_auto_labels_are_text_and_tex_is_refused(tmp_path, write_config):
    # LaTeX on PATH that would fail if run: with KLDEMO_NO_LATEX=1 it is never run.
    path = f"{Path(sys.executable).parent}:{fake_latex(tmp_path / 'bin')}"
    env = {"PATH": path, "KLDEMO_NO_LATEX": "1"}
    out = tmp_path / "frame.png"
    result = kldemo(
        "still",
        CONFIGS / "asym-kl.yaml",
        "--at",
        1,
        "-r",
        "160,90",
        "--cache-dir",
        tmp_path / "cache",
        "-o",
        out,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert "not really" not in result.stderr
    assert Image.open(out).size == (160, 90)
    config = write_config("p: {mean: 0, std: 1}\nq: {mean: 1, std: 1}\nstyle: {labels: tex}\n")
    result = kldemo("render", config, *SIZE, "-o", tmp_path / "x.mp4", "--no-cache", env=env)
    assert result.returncode == 2
    assert "style.labels: labels: tex needs LaTeX" in result.stderr
    assert not (tmp_path / "x.mp4").exists()


@pytest.mark.latex
def test_tex_labels_render_where_latex_is_installed(tmp_path):
    frames = {}
    for labels in ("tex", "text"):
        out = tmp_path / f"{labels}.png"
        result = kldemo(
            "still",
            CONFIGS / "asym-kl.yaml",
            "--at",
            "6.5",
            "-r",
            "320,180",
            "--labels",
            labels,
            "-o",
            out,
            env={"KLDEMO_CACHE_DIR": str(tmp_path)},
        )
        assert result.returncode == 0, result.stderr
        frames[labels] = np.asarray(Image.open(out).convert("RGB")).astype(int)
    # The same picture but for the typeset labels: most pixels agree, the labels do not.
    differ = np.abs(frames["tex"] - frames["text"]).max(axis=2) > 60
    assert 0.001 < differ.mean() < 0.2
    # TeX's scratch files stay in the cache folder, never in the current one.
    assert not (REPO / "media").exists() or not any((REPO / "media").glob("**/Tex/*"))


def test_still_keeps_its_labels_in_the_cache_folder_it_is_given(tmp_path):
    out, cache = tmp_path / "frame.png", tmp_path / "cache"
    result = kldemo(
        "still",
        CONFIGS / "asym-kl.yaml",
        "--at",
        1,
        "-r",
        "160,90",
        "--labels",
        "text",
        "--cache-dir",
        cache,
        "-o",
        out,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert (cache / "labels").is_dir() and any((cache / "labels").rglob("*.svg"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "frame.png"]


@pytest.mark.parametrize("config", sorted(CONFIGS.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_example_renders(tmp_path, config):
    """Every bundled example, fit keyframes included, renders (tiny, at 2 fps) to a video
    as long as its timeline."""
    from kldemo.timeline import load

    out = tmp_path / f"{config.stem}.mp4"
    result = kldemo(
        "render",
        config,
        "-r",
        "160,90",
        "--fps",
        "2",
        "--labels",
        "text",
        "--progress",
        "none",
        "--no-cache",
        "-o",
        out,
    )
    assert result.returncode == 0, result.stderr
    frames, stream, _ = decode(out)
    assert len(frames) == len(load(config).timeline.frame_times(2))
    assert (stream.width, stream.height) == (160, 90)


def test_drawing_leaves_manims_config_as_it_was(tmp_path):
    """A drawer sets manim's settings only while it builds and draws, so that in one
    process (watch, a batch) one render's size never reaches the next render."""
    import manim

    from kldemo.plan.build import build_plan
    from kldemo.rendering.drawer import FrameDrawer, manim_settings
    from kldemo.rendering.video import VideoSettings
    from kldemo.timeline import load

    plan = build_plan(load(CONFIGS / "asym-kl.yaml"), 5, "text")

    def drawer(width: int, height: int) -> FrameDrawer:
        video = VideoSettings.for_format("mp4", width, height, 5, False)
        return FrameDrawer(plan, video, False, tmp_path, labels_dir=tmp_path / "labels")

    names = manim_settings(
        VideoSettings.for_format("mp4", 16, 16, 1, False), False, tmp_path, False, tmp_path
    )
    before = {name: manim.config[name] for name in names}
    small = drawer(320, 180)
    first = small.image(10)
    assert {name: manim.config[name] for name in names} == before
    assert drawer(480, 360).image(10).shape == (360, 480, 4)
    # The first drawer still draws at its own size, the same pixels, after the other's.
    assert np.array_equal(small.image(10), first)
    assert {name: manim.config[name] for name in names} == before
