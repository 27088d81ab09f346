"""One cache folder shared by concurrent renders; entries damaged on disk are never used."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from .conftest import REPO, frames, write_sequence

pytestmark = pytest.mark.render

TINY = ["-r", "160,90", "--fps", "5", "--progress", "none", "--labels", "text", "-j", "1"]


def command(config: Path, out: Path, *where: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "kldemo",
        "render",
        str(config),
        *TINY,
        "-o",
        str(out),
        "--report",
        str(out.with_suffix(".json")),
        *where,
    ]


def run_together(commands: list[list[str]]) -> None:
    env = {**os.environ, "KLDEMO_CACHE_DIR": ""}
    started = [
        subprocess.Popen(
            c, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        for c in commands
    ]
    for process in started:
        _out, err = process.communicate(timeout=600)
        assert process.returncode == 0, err


@pytest.fixture(scope="module")
def references(tmp_path_factory) -> dict[str, tuple[Path, Path]]:
    """Two configs, and their videos rendered without any cache."""
    folder = tmp_path_factory.mktemp("references")
    configs = {
        "a": write_sequence(folder / "a.yaml"),
        "b": write_sequence(folder / "b.yaml", last_mean="1.5"),
    }
    run_together(
        [command(path, folder / f"{name}.mp4", "--no-cache") for name, path in configs.items()]
    )
    return {name: (path, folder / f"{name}.mp4") for name, path in configs.items()}


@pytest.mark.parametrize("which", ["aa", "ab", "aabb"])
def test_concurrent_renders_share_one_cache(tmp_path, references, which):
    cache = tmp_path / "cache"
    outs = [tmp_path / f"{i}-{name}.mp4" for i, name in enumerate(which)]
    run_together(
        [
            command(references[name][0], out, "--cache-dir", str(cache))
            for name, out in zip(which, outs, strict=True)
        ]
    )
    for name, out in zip(which, outs, strict=True):
        got, want = frames(out), frames(references[name][1])
        assert len(got) == len(want)
        assert all(np.array_equal(g, w) for g, w in zip(got, want, strict=True)), out.name
    # Every entry is whole, and a render after them all finds every segment cached.
    again = tmp_path / "again.mp4"
    run_together([command(references[which[-1]][0], again, "--cache-dir", str(cache))])
    (entry,) = json.loads(again.with_suffix(".json").read_text())["configs"]
    assert entry["rendered_segments"] == 0
    assert not [p for p in (cache / "tmp").rglob("*.mp4")], "scratch segments left behind"


def test_an_entry_corrupted_in_place_is_rendered_again(tmp_path, references):
    """Same length, different bytes: the record's SHA-256 no longer matches."""
    config, reference = references["a"]
    cache = tmp_path / "cache"
    run_together([command(config, tmp_path / "first.mp4", "--cache-dir", str(cache))])
    entries = sorted(p for p in (cache / "segments").rglob("*.mp4"))
    damaged = entries[len(entries) // 2]
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 64] = bytes(64)
    damaged.write_bytes(bytes(data))
    second = tmp_path / "second.mp4"
    run_together([command(config, second, "--cache-dir", str(cache))])
    (entry,) = json.loads(second.with_suffix(".json").read_text())["configs"]
    assert entry["rendered_segments"] == 1
    assert all(np.array_equal(g, w) for g, w in zip(frames(second), frames(reference), strict=True))
