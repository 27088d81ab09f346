"""--slides: manim-slides' JSON checked with its own models and converted by its own CLI,
the clips decoded, and the HTML presenter driven in a real browser (Chromium)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kldemo.rendering.slides import Slide, presenter_html, slide_ranges
from kldemo.timeline import load

from .conftest import frames, kldemo

pytestmark = pytest.mark.render

FRAME = ["-r", "160,90", "--fps", "5", "--labels", "text", "-j", "1", "--progress", "none"]
# At 5 fps: keyframe 1 is frames 0-7 (1 s, then 0.6 s held), keyframe 2 frames 8-14. Its
# caption fades out over the last 0.3 s (style.caption_fade), in frame 7, which its slide
# leaves out: it stops on frame 6, the caption whole.
TALK = """\
title: A short talk
p: {means: [2, 8], stds: [0.8, 0.8]}
q: {mean: 4, std: 1.2}
defaults: {duration: 1, hold: 0.6}
keyframes:
  - q: {mean: 2}
    caption: q moves onto the left mode
  - q: {std: 2}
    duration: 0.8
    caption: and widens
"""
CAPTIONS = ["A short talk", "q moves onto the left mode", "and widens"]
LENGTHS = [1, 7, 7]
BLINK = """\
p: {mean: 0, std: 1}
q: {mean: 1, std: 1}
defaults: {duration: 0.05, hold: 0}
keyframes:
  - q: {mean: 2}
  - q: {mean: 3}
  - q: {mean: 1}
    duration: 1
"""
STILL = "p: {mean: 0, std: 1}\nq: {mean: 1, std: 1}\ndefaults: {hold: 1.2}\n"


@pytest.fixture(scope="module")
def talk(tmp_path_factory) -> Path:
    """The talk rendered with --slides into media/talk.mp4; returns media/."""
    folder = tmp_path_factory.mktemp("slides")
    (folder / "talk.yaml").write_text(TALK)
    done = kldemo(
        "render",
        folder / "talk.yaml",
        "-o",
        folder / "media" / "talk.mp4",
        "--slides",
        "--cache-dir",
        folder / "cache",
        "--report",
        folder / "r.json",
        *FRAME,
    )
    assert done.returncode == 0, done.stderr
    return folder / "media"


def _presentation(media: Path, name: str):
    from manim_slides.config import PresentationConfig

    return PresentationConfig.from_file(media / "slides" / f"{name}.json")


def _error(a: np.ndarray, b: np.ndarray) -> float:
    """The mean absolute difference of two RGB frames, in levels of 255."""
    return float(np.abs(a.astype(int) - b).mean())


def test_slide_ranges_follow_the_keyframes(tmp_path: Path) -> None:
    (tmp_path / "talk.yaml").write_text(TALK)
    timeline = load(tmp_path / "talk.yaml").timeline
    assert slide_ranges(timeline, 15, 5, "A short talk") == [
        Slide(0, 1, CAPTIONS[0]),
        Slide(0, 8, CAPTIONS[1]),
        Slide(8, 15, CAPTIONS[2]),
    ]
    # A keyframe shorter than a frame keeps one frame: keyframe 2 is 0.05 to 0.1 s, between
    # frames 0 and 1 (at 0.2 s), and keeps frame 1; no keyframes: one slide.
    (tmp_path / "blink.yaml").write_text(BLINK)
    timeline = load(tmp_path / "blink.yaml").timeline
    frame_count = len(timeline.frame_times(5))
    assert [(s.start, s.stop) for s in slide_ranges(timeline, frame_count, 5)] == [
        (0, 1),
        (0, 1),
        (1, 2),
        (1, 6),
    ]
    (tmp_path / "still.yaml").write_text(STILL)
    assert slide_ranges(load(tmp_path / "still.yaml").timeline, 6, 5) == [Slide(0, 6)]


def test_slides_stop_before_the_caption_fades_out(tmp_path: Path) -> None:
    from kldemo.plan.captions import caption_index, caption_opacity

    def stops(text: str) -> list[int]:
        (tmp_path / "talk.yaml").write_text(text)
        loaded = load(tmp_path / "talk.yaml")
        timeline, times = loaded.timeline, loaded.timeline.frame_times(5)
        segment = timeline.state_at(times).segment
        opacity = caption_opacity(
            timeline,
            times,
            segment,
            caption_index(timeline, segment),
            5,
            loaded.config.model.style.caption_fade,
        )
        return [s.stop for s in slide_ranges(timeline, len(times), 5, None, opacity)]

    assert stops(TALK) == [1, 7, 15]  # frame 7 fades keyframe 1's caption out
    assert stops(TALK.replace("defaults: {", "style: {caption_fade: 0}\ndefaults: {")) == [
        1,
        8,
        15,
    ]  # a cut: nothing to leave out
    # Without a hold the fade overlaps the transition, which a slide always plays to its end.
    assert stops(TALK.replace("hold: 0.6", "hold: 0")) == [1, 5, 9]


def test_the_json_is_manim_slides_own(talk: Path) -> None:
    presentation = _presentation(talk, "talk")  # its own reader and models
    assert [s.notes for s in presentation.slides] == CAPTIONS
    assert presentation.resolution == (160, 90)
    raw = json.loads((talk / "slides" / "talk.json").read_text())
    assert [s["file"] for s in raw["slides"]] == [
        f"slides/files/talk/slide_{k:03d}.mp4" for k in (1, 2, 3)
    ]  # as manim-slides lays out
    video = frames(talk / "talk.mp4")
    starts = [0, 0, 8]
    for slide, start, length in zip(presentation.slides, starts, LENGTHS, strict=True):
        clip, back = frames(slide.file), frames(slide.rev_file)
        assert len(clip) == len(back) == length
        # The video's own packets: the same pixels as the video over the slide's frames.
        assert all(
            np.array_equal(a, b) for a, b in zip(clip, video[start : start + length], strict=True)
        )
        # Reversed: each frame is the forward clip's mirror, within the encoder's error.
        errors = [_error(a, b) for a, b in zip(back, clip[::-1], strict=True)]
        assert max(errors) < 1.5, errors
    # ... where a clip in its own order would be far off: the check above means something.
    clip = frames(presentation.slides[1].file)
    assert _error(clip[0], clip[-1]) > 3 * 1.5

    # Slide 2 stops on a frame of its hold with the caption whole, not on the fade (frame 7).
    # The caption's band: its text's brightness (the fade dims it by a third at frame 7).
    def caption(frame: np.ndarray) -> float:
        return float(frame[72:].astype(int).mean())

    assert abs(caption(clip[-1]) - caption(video[5])) < 0.2
    assert caption(video[7]) < caption(video[5]) - 1.0
    report = json.loads((talk.parent / "r.json").read_text())["configs"][0]["slides"]
    assert report == {
        "json": str(talk / "slides" / "talk.json"),
        "html": str(talk / "talk.html"),
        "clips": str(talk / "slides" / "files" / "talk"),
        "count": 3,
    }


def test_manim_slides_converts_it(talk: Path, tmp_path: Path) -> None:
    executable = Path(sys.executable).with_name("manim-slides")
    if not executable.exists():
        pytest.skip(f"no manim-slides entry point beside {sys.executable}")
    done = subprocess.run(
        [str(executable), "convert", "talk", str(tmp_path / "deck.html")],
        cwd=talk,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "deck.html").read_text()
    assert len(re.findall(r"slide_00[123]\.mp4", page)) == 3
    assert sorted(p.name for p in (tmp_path / "deck_assets").iterdir()) == [
        "slide_001.mp4",
        "slide_002.mp4",
        "slide_003.mp4",
    ]


def test_other_formats_and_a_still_render_again_in_place(talk: Path, tmp_path: Path) -> None:
    """A GIF's slides are MP4 clips all the same; a config without keyframes is one slide,
    and the clips of an earlier, longer render under the same name are gone."""
    media = tmp_path / "media"
    shutil.copytree(talk, media)
    (tmp_path / "talk.yaml").write_text(STILL)
    done = kldemo(
        "render",
        tmp_path / "talk.yaml",
        "-o",
        media / "talk.gif",
        "--slides",
        "--cache-dir",
        tmp_path / "cache",
        *FRAME,
    )
    assert done.returncode == 0, done.stderr
    presentation = _presentation(media, "talk")
    assert len(presentation.slides) == 1 and presentation.slides[0].notes == ""
    assert len(frames(presentation.slides[0].file)) == 6  # 1.2 s at 5 fps
    assert sorted(p.name for p in (media / "slides" / "files" / "talk").iterdir()) == [
        "slide_001.mp4",
        "slide_001_reversed.mp4",
    ]
    assert not [p for p in media.rglob("*") if ".tmp" in p.name or p.name.endswith(".old")]


def test_without_manim_slides_it_is_refused_before_rendering(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    import importlib.util

    from kldemo.cli import main

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "manim_slides" else real(name, *a),
    )
    (tmp_path / "talk.yaml").write_text(TALK)
    with pytest.raises(SystemExit) as exited:
        main(
            [
                "render",
                str(tmp_path / "talk.yaml"),
                "-o",
                str(tmp_path / "out" / "t.mp4"),
                "--slides",
                *FRAME,
            ]
        )
    assert exited.value.code == 2
    assert "pip install 'kldemo[slides]'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_notes_cannot_end_the_script() -> None:
    page = presenter_html(
        [Slide(0, 1, 'a </script><b>"x"</b>')],
        Path("/m/slides/files/a b"),
        Path("/m"),
        5.0,
        "<T>",
        "#000000",
    )
    data = re.search(r'<script id="slides" type="application/json">(.*?)</script>', page, re.S)
    assert data is not None
    deck = json.loads(data.group(1))
    assert deck["slides"][0] == {
        "src": "slides/files/a%20b/slide_001.mp4",
        "frames": 1,
        "notes": 'a </script><b>"x"</b>',
    }
    assert "<title>&lt;T&gt;</title>" in page


def _chromium() -> str | None:
    """Chromium from the distribution's packages, else Playwright's own download."""
    found = next(
        filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None
    )
    if found:
        return found
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as pw:
            path = pw.chromium.executable_path
    except Exception:
        return None
    return path if Path(path).exists() else None


STATE = """() => { const v = document.getElementById("clip");
  return {slide: v.dataset.slide, src: v.getAttribute("src"), time: v.currentTime,
          paused: v.paused, counter: document.getElementById("counter").textContent,
          notes: document.getElementById("notes").hidden ? null
                 : document.getElementById("notes").textContent}; }"""


def test_the_html_presenter_in_chromium(talk: Path) -> None:
    pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
    browser_path = _chromium()
    if browser_path is None:
        pytest.skip("no Chromium: install the distribution's chromium package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=browser_path, args=["--no-sandbox", "--headless", "--disable-gpu"]
        )
        try:
            page = browser.new_page()
            page.goto((talk / "talk.html").as_uri())
            page.wait_for_function("document.getElementById('clip').readyState >= 2")
            state = page.evaluate(STATE)
            assert (state["slide"], state["counter"], state["notes"]) == ("1", "1 / 3", None)
            page.keyboard.press("Space")  # slide 2 plays its transition and stops on its hold
            page.wait_for_function(
                "(() => { const v = document.getElementById('clip');"
                " return v.dataset.slide === '2' && v.ended; })()"
            )
            state = page.evaluate(STATE)
            assert state["src"] == "slides/files/talk/slide_002.mp4"
            assert state["paused"] and abs(state["time"] - LENGTHS[1] / 5) < 1 / 5
            assert state["counter"] == "2 / 3"
            page.keyboard.press("n")
            assert page.evaluate(STATE)["notes"] == CAPTIONS[1]
            page.keyboard.press("ArrowRight")
            page.wait_for_function(
                "(() => { const v = document.getElementById('clip');"
                " return v.dataset.slide === '3' && v.ended; })()"
            )
            assert page.evaluate(STATE)["notes"] == CAPTIONS[2]
            page.keyboard.press("ArrowLeft")  # slide 2 again, shown as it ends: its hold
            page.wait_for_function(
                "(() => { const v = document.getElementById('clip');"
                " return v.readyState >= 2 && v.currentTime > 0"
                " && !v.seeking; })()"
            )
            state = page.evaluate(STATE)
            assert (state["slide"], state["counter"], state["notes"]) == ("2", "2 / 3", CAPTIONS[1])
            assert state["paused"] and state["src"].endswith("slide_002.mp4")
            assert abs(state["time"] - (LENGTHS[1] - 0.5) / 5) < 0.01  # in its last frame
        finally:
            browser.close()
