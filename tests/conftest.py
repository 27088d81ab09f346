from __future__ import annotations

import os
import shutil
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CONFIGS = REPO / "configs"


def latex_missing() -> str | None:
    """Why LaTeX-marked tests cannot run here, or None where they can.

    The same rule as kldemo's own (``kldemo.rendering.render.latex_available``), so that
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
