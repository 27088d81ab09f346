"""What many test modules share: the repository's paths, running kldemo, decoding videos."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent
CONFIGS = REPO / "configs"

# Four keyframes with fixed ranges and bar scale, so that no keyframe's change refits the
# whole video (write_sequence fills in THEME and LAST_MEAN).
SEQUENCE = """\
p: {means: [-1, 1], stds: [0.5, 0.5]}
q: {mean: 0, std: 1}
defaults: {duration: 1, hold: 0.4}
view: {x_range: [-4, 4], y_range: [0, 1]}
style: {bar_max: 5, theme: THEME}
keyframes:
  - q: {mean: 1}
  - q: {std: 0.6}
  - p: {means: [-2, 2]}
  - q: {mean: LAST_MEAN}
"""


def kldemo(
    *args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the kldemo command as a user does (in the repository unless ``cwd`` is given),
    with ``env`` added to this process's environment."""
    return subprocess.run(
        [sys.executable, "-m", "kldemo", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd or REPO,
        timeout=600,
        env={**os.environ, **(env or {})},
    )


def decode(path: Path) -> tuple[list[np.ndarray], Any, float]:
    """A video's frames (RGB), its video stream and its length in seconds, as a player reads
    them."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
        return frames, stream, container.duration / 1e6


def frames(path: Path) -> list[np.ndarray]:
    """A video's frames, as RGB arrays."""
    return decode(path)[0]


def write_sequence(path: Path, theme: str = "dark", last_mean: str = "-1") -> Path:
    """Write :data:`SEQUENCE` with a theme and the last keyframe's mean to ``path``."""
    path.write_text(SEQUENCE.replace("THEME", theme).replace("LAST_MEAN", last_mean))
    return path


def latex_missing() -> str | None:
    """Why LaTeX-marked tests cannot run here, or None where they can.

    The same rule as kldemo's own (``kldemo.rendering.options.latex_available``), so that
    ``KLDEMO_NO_LATEX=1`` gives the tests the machine kldemo then pretends to be.
    """
    if os.environ.get("KLDEMO_NO_LATEX") == "1":
        return "KLDEMO_NO_LATEX=1 is set: kldemo behaves as without LaTeX"
    absent = [tool for tool in ("latex", "dvisvgm") if shutil.which(tool) is None]
    if absent:
        return f"LaTeX is not installed ({' and '.join(absent)} not on PATH)"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``latex`` need LaTeX: skip them, saying why, where it is absent."""
    reason = latex_missing()
    if reason is None:
        return
    skip = pytest.mark.skip(reason=f"needs LaTeX: {reason}")
    for item in items:
        if item.get_closest_marker("latex"):
            item.add_marker(skip)


@pytest.fixture
def write_config(tmp_path: Path):
    """Write YAML text (dedented) to a file and return its path."""

    def write(text: str, name: str = "config.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return write


@pytest.fixture(autouse=True, scope="session")
def _own_cache_folder(tmp_path_factory: pytest.TempPathFactory):
    """Keep what the tests cache (segments, labels, a data p's density estimates) out of
    the user's cache folder: every test, and every kldemo it runs, uses one of its own,
    unless KLDEMO_CACHE_DIR already names one."""
    if os.environ.get("KLDEMO_CACHE_DIR"):
        yield
        return
    os.environ["KLDEMO_CACHE_DIR"] = str(tmp_path_factory.mktemp("kldemo-cache"))
    try:
        yield
    finally:
        os.environ.pop("KLDEMO_CACHE_DIR", None)
