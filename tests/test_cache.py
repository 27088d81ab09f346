"""The segment cache: a change re-renders exactly the segments whose pixels it changes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kldemo.rendering.segments import cut_segments
from kldemo.storage.cache import SegmentCache
from kldemo.timeline import Timeline, load

from .conftest import REPO, frames, write_sequence

pytestmark = pytest.mark.render

TINY = ["-r", "160,90", "--fps", "5", "--progress", "none", "-j", "2"]


# kldemo with another version of the look, as a newer (or older) kldemo would have.
OTHER_LOOK = (
    "import sys, kldemo.scenes; kldemo.scenes.LOOK_VERSION = -1; "
    "from kldemo.cli import main; main(sys.argv[1:])"
)


def render(config: Path, out: Path, cache: Path, *extra: str, other_look: bool = False) -> dict:
    report = out.with_suffix(".json")
    program = ["-c", OTHER_LOOK] if other_look else ["-m", "kldemo"]
    done = subprocess.run(
        [
            sys.executable,
            *program,
            "render",
            str(config),
            *TINY,
            "-o",
            str(out),
            "--cache-dir",
            str(cache),
            "--report",
            str(report),
            *extra,
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=600,
        env={**os.environ, "KLDEMO_CACHE_DIR": ""},
    )
    assert done.returncode == 0, done.stderr
    (entry,) = json.loads(report.read_text())["configs"]
    return entry


def segments_after(config: Path, seconds: float) -> int:
    """How many segments start at or after ``seconds`` (5 frames a second)."""
    timeline = Timeline.from_config(load(config).config.model)
    frames = len(timeline.frame_times(5))
    return sum(s.start >= round(seconds * 5) for s in cut_segments(timeline, frames, 5))


def test_a_change_re_renders_only_the_segments_it_affects(tmp_path):
    config = write_sequence(tmp_path / "seq.yaml")
    cache = tmp_path / "cache"
    cold = render(config, tmp_path / "cold.mp4", cache)
    assert cold["status"] == "ok"
    assert cold["rendered_segments"] == cold["segments"] > 4

    again = render(config, tmp_path / "again.mp4", cache)
    assert (again["status"], again["rendered_segments"]) == ("cached", 0)
    assert all(
        np.array_equal(a, b)
        for a, b in zip(frames(tmp_path / "cold.mp4"), frames(tmp_path / "again.mp4"), strict=True)
    )

    # The last keyframe (from t = 4.2 s) is the only one whose states change.
    write_sequence(config, last_mean="-1.5")
    edited = render(config, tmp_path / "edited.mp4", cache)
    assert edited["rendered_segments"] == segments_after(config, 4.2) >= 1
    assert edited["rendered_segments"] < edited["segments"]

    # The edited video equals a render of the edited file from scratch.
    fresh = render(config, tmp_path / "fresh.mp4", tmp_path / "empty-cache", "--no-cache")
    assert fresh["status"] == "ok"
    assert all(
        np.array_equal(a, b)
        for a, b in zip(
            frames(tmp_path / "edited.mp4"), frames(tmp_path / "fresh.mp4"), strict=True
        )
    )


def test_style_and_size_changes_re_render_everything(tmp_path):
    config = write_sequence(tmp_path / "seq.yaml")
    cache = tmp_path / "cache"
    render(config, tmp_path / "a.mp4", cache)
    write_sequence(config, theme="light")
    light = render(config, tmp_path / "b.mp4", cache)
    assert light["rendered_segments"] == light["segments"]
    bigger = render(config, tmp_path / "c.mp4", cache, "-r", "192,108")
    assert bigger["rendered_segments"] == bigger["segments"]
    faster = render(config, tmp_path / "d.mp4", cache, "--fps", "10")
    assert faster["rendered_segments"] == faster["segments"]


def test_a_new_look_version_re_renders_every_segment(tmp_path):
    config = write_sequence(tmp_path / "seq.yaml")
    cache = tmp_path / "cache"
    first = render(config, tmp_path / "a.mp4", cache)
    assert first["rendered_segments"] == first["segments"]
    assert render(config, tmp_path / "b.mp4", cache)["status"] == "cached"
    changed = render(config, tmp_path / "c.mp4", cache, other_look=True)
    assert changed["status"] == "ok"
    assert changed["rendered_segments"] == changed["segments"] == first["segments"]
    # Both looks' segments are kept: going back to the first look renders nothing.
    assert render(config, tmp_path / "d.mp4", cache)["rendered_segments"] == 0


def test_a_corrupted_entry_is_rendered_again_not_used(tmp_path):
    config = write_sequence(tmp_path / "seq.yaml")
    cache = tmp_path / "cache"
    first = render(config, tmp_path / "a.mp4", cache)
    entries = sorted(p for p in cache.rglob("*.mp4") if p.is_file())
    assert len(entries) == first["segments"]
    entries[0].write_bytes(entries[0].read_bytes()[:100])  # truncated on disk
    second = render(config, tmp_path / "b.mp4", cache)
    assert second["rendered_segments"] == 1
    assert all(
        np.array_equal(a, b)
        for a, b in zip(frames(tmp_path / "a.mp4"), frames(tmp_path / "b.mp4"), strict=True)
    )


def test_cache_info_and_clear(tmp_path):
    config = write_sequence(tmp_path / "seq.yaml")
    cache = tmp_path / "cache"
    entry = render(config, tmp_path / "a.mp4", cache)
    info = SegmentCache(cache).info()
    assert info.entries == entry["segments"]
    done = subprocess.run(
        [sys.executable, "-m", "kldemo", "cache", "clear", "--cache-dir", str(cache)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert SegmentCache(cache).info().entries == 0


def test_a_keyframe_added_at_the_end_renders_only_its_own_segments(tmp_path):
    config = write_sequence(tmp_path / "seq.yaml")
    cache = tmp_path / "cache"
    render(config, tmp_path / "a.mp4", cache)
    config.write_text(config.read_text() + "  - p: {stds: [0.8, 0.8]}\n")
    longer = render(config, tmp_path / "b.mp4", cache)
    # The first four keyframes (5.6 s) are unchanged; only the new one's segments are new.
    assert longer["rendered_segments"] == segments_after(config, 5.6) >= 1
    assert longer["video_length"] == pytest.approx(7.0)
