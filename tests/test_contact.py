"""--contact-sheet: a PNG grid of the frame each keyframe ends on, checked by decoding it."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from kldemo.rendering.contact import COLUMNS, LABEL_HEIGHT, MARGIN

pytestmark = pytest.mark.render

FRAME = ["-r", "160,90", "--fps", "5", "--labels", "text"]  # the same with or without LaTeX
TINY = [*FRAME, "-j", "1", "--progress", "none", "--no-cache"]
# Transitions end at 0.7, 1.7, 2.4, 3.4 and 4.4 s; at 5 fps the holds begin on frames 4
# (0.8 s) and 12, 17; keyframe 2 holds for 0 s, so its tile is its last frame, 8 (1.6 s);
# keyframe 5 ends the video: its last frame, 21 (4.2 s).
SHEET = """\
p: {mean: 0, std: 1}
q: {mean: 3, std: 1}
defaults: {duration: 0.7, hold: 0.3}
view: {x_range: [-6, 6], y_range: [0, 0.9]}
keyframes:
  - q: {mean: 1}
  - q: {std: 2}
    hold: 0
  - p: {mean: -2}
  - q: {mean: -1, std: 0.5}
  - p: {std: 0.5}
    hold: 0
"""
FRAMES = [4, 8, 12, 17, 21]


def kldemo(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kldemo", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
        env=dict(os.environ),
    )


@pytest.fixture(scope="module")
def sheets(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("contact")
    (folder / "sheet.yaml").write_text(SHEET)
    (folder / "still.yaml").write_text("p: {mean: 0, std: 1}\nq: {mean: 1, std: 2}\n")
    result = kldemo(
        "render", "sheet.yaml", "still.yaml", *TINY, "-o", "out", "--contact-sheet", cwd=folder
    )
    assert result.returncode == 0, result.stderr
    return folder


def tiles(path: Path) -> tuple[np.ndarray, list[dict]]:
    with Image.open(path) as sheet:
        assert sheet.format == "PNG"
        return np.asarray(sheet.convert("RGB")).astype(int), json.loads(sheet.text["kldemo:tiles"])


def crop(pixels: np.ndarray, box: list[int]) -> np.ndarray:
    x, y, w, h = box
    return pixels[y : y + h, x : x + w]


def test_the_sheet_lies_beside_the_video_with_a_tile_per_keyframe(sheets):
    assert sorted(p.name for p in (sheets / "out").iterdir()) == [
        "sheet.contact.png",
        "sheet.mp4",
        "still.contact.png",
        "still.mp4",
    ]  # no temp files
    pixels, layout = tiles(sheets / "out" / "sheet.contact.png")
    assert [t["keyframe"] for t in layout] == [1, 2, 3, 4, 5]
    assert [t["frame"] for t in layout] == FRAMES
    assert [t["t"] for t in layout] == pytest.approx([f / 5 for f in FRAMES])
    # Five tiles: a row of COLUMNS (4) and one more below, each 160 x 90 under its label.
    xs = sorted({t["box"][0] for t in layout})
    ys = sorted({t["box"][1] for t in layout})
    assert (len(xs), len(ys)) == (COLUMNS, 2)
    assert all(t["box"][2:] == [160, 90] for t in layout)
    width = MARGIN + COLUMNS * (160 + MARGIN)
    height = MARGIN + 2 * (LABEL_HEIGHT + 90 + MARGIN)
    assert pixels.shape == (height, width, 3)


def test_each_tile_is_the_videos_frame_and_the_still_at_its_time(sheets):
    pixels, layout = tiles(sheets / "out" / "sheet.contact.png")
    with av.open(str(sheets / "out" / "sheet.mp4")) as container:
        video = [f.to_ndarray(format="rgb24").astype(int) for f in container.decode(video=0)]
    shown = [crop(pixels, t["box"]) for t in layout]
    for tile, frame in zip(shown, FRAMES, strict=True):
        assert np.abs(tile - video[frame]).mean() < 3, frame  # within codec noise
    for a, b in itertools.pairwise(shown):
        assert np.abs(a - b).mean() > 1  # each keyframe moved something: no tile repeats
    for entry in (layout[1], layout[3]):  # exactly what `kldemo still` draws at that time
        out = sheets / f"still-{entry['frame']}.png"
        result = kldemo("still", "sheet.yaml", "--at", entry["t"], *FRAME, "-o", out, cwd=sheets)
        assert result.returncode == 0, result.stderr
        still = np.asarray(Image.open(out).convert("RGB")).astype(int)
        assert np.abs(crop(pixels, entry["box"]) - still).max() <= 1


def test_each_tile_has_a_label_above_it(sheets):
    pixels, layout = tiles(sheets / "out" / "sheet.contact.png")
    background = pixels[1, 1]
    for entry in layout:
        x, y, w, _ = entry["box"]
        label = pixels[y - LABEL_HEIGHT : y, x : x + w]
        ink = np.abs(label - background).sum(axis=-1) > 100
        assert 20 < ink.sum() < ink.size / 2, entry  # text, not an empty or filled strip


def test_a_file_without_keyframes_gets_one_tile_its_still(sheets):
    pixels, layout = tiles(sheets / "out" / "still.contact.png")
    assert [(t["keyframe"], t["frame"]) for t in layout] == [(0, 0)]
    assert pixels.shape == (MARGIN + LABEL_HEIGHT + 90 + MARGIN, MARGIN + 160 + MARGIN, 3)


def test_a_render_and_its_sheet_resolve_the_file_once_and_plan_once(tmp_path, monkeypatch):
    """The sheet is drawn from the video's own plan: every frame's divergences are computed
    once, and the keyframes resolved once (when the file is checked)."""
    from kldemo.cli import main
    from kldemo.rendering import job
    from kldemo.timeline import Timeline

    counts = {"timelines": 0, "plans": 0}
    resolve, plan = Timeline.from_config.__func__, job.build_plan

    def counted_timeline(cls, config, data=None):
        counts["timelines"] += 1
        return resolve(cls, config, data)

    def counted_plan(*args):
        counts["plans"] += 1
        return plan(*args)

    monkeypatch.setattr(Timeline, "from_config", classmethod(counted_timeline))
    monkeypatch.setattr(job, "build_plan", counted_plan)
    (tmp_path / "sheet.yaml").write_text(SHEET)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as done:
        main(["render", "sheet.yaml", *TINY, "-o", "out.mp4", "--contact-sheet"])
    assert done.value.code == 0
    assert counts == {"timelines": 1, "plans": 1}
    assert (tmp_path / "out.contact.png").is_file()
