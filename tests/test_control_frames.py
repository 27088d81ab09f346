"""Stored control frames: a few stills of the examples compared with PNGs kept in
``tests/control``, so that a change to what the video shows is seen, not only that it ran.

Stills are lossless, so no encoder is involved. Text labels (Pango, in DejaVu Sans, which
setup.sh installs) make them independent of LaTeX. The control PNGs were drawn on another
machine: other versions of Cairo, Pango or FreeType anti-alias edges a level or two apart,
which the tolerance below allows, while a moved curve, bar or label exceeds it. After an
intended change to the picture, bump ``LOOK_VERSION`` in ``scenes/__init__.py`` (segment keys
include it, so cached segments of the old look are not reused), regenerate the frames and
look at them before committing::

    KLDEMO_REGENERATE_CONTROL=1 python -m pytest tests/test_control_frames.py

Regenerating refuses a changed picture while ``LOOK_VERSION`` is the one the frames were
drawn with (recorded in ``tests/control/look.json``).
"""

from __future__ import annotations

import hashlib
import json
import os

import numpy as np
import pytest
from kldemo.scenes import LOOK_VERSION
from PIL import Image

from .conftest import CONFIGS, REPO, kldemo

pytestmark = pytest.mark.render

CONTROL = REPO / "tests" / "control"
REGENERATE = os.environ.get("KLDEMO_REGENERATE_CONTROL") == "1"
SIZE = ("-r", "320,180")

# (config, time, extra options): the start, a transition, a hold with a caption, the
# light theme, a 1:1 frame, and the panels; in the plane, a diagonal q fitted by reverse
# KL, and mode seeking with its optimum markers; a data p in 1-D and in 2-D.
CASES = [
    ("asym-kl", 0.0, ()),
    ("asym-kl", 5.3, ()),
    ("asym-kl", 27.8, ()),
    ("gaussian-vs-mixture", 9.0, ("-r", "240,240")),
    ("integrand", 3.0, ()),
    ("divergences", 4.0, ()),
    ("factorised-gaussian", 6.0, ()),
    ("mode-seeking-2d", 2.9, ()),
    ("data-histogram", 4.0, ()),
    ("data-mle", 11.0, ()),
]


def control_name(config: str, t: float, extra: tuple[str, ...]) -> str:
    size = extra[1].replace(",", "x") if extra else "320x180"
    return f"{config}-{t:g}s-{size}.png"


@pytest.mark.parametrize(
    ("config", "t", "extra"), CASES, ids=[control_name(*case)[:-4] for case in CASES]
)
def test_a_still_matches_its_control_frame(tmp_path, config, t, extra):
    out = tmp_path / "still.png"
    result = kldemo(
        "still",
        CONFIGS / f"{config}.yaml",
        "--at",
        t,
        *(extra or SIZE),
        "--labels",
        "text",
        "-o",
        out,
    )
    assert result.returncode == 0, result.stderr
    control = CONTROL / control_name(config, t, extra)
    if REGENERATE:
        if control.exists() and differs(out, control):
            assert look_record()["look_version"] != LOOK_VERSION, (
                f"{control.name}: the picture changed; bump LOOK_VERSION in "
                "scenes/__init__.py, then regenerate"
            )
        CONTROL.mkdir(exist_ok=True)
        control.write_bytes(out.read_bytes())
        record = look_record()
        record["look_version"] = LOOK_VERSION
        record.setdefault("frames", {})[control.name] = sha256(control)
        LOOK_RECORD.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    problem = differs(out, control)
    assert not problem, problem


def differs(path, control) -> str:
    """Why two stills differ by more than anti-aliasing does, or '' when they do not."""
    got = np.asarray(Image.open(path).convert("RGB")).astype(int)
    want = np.asarray(Image.open(control).convert("RGB")).astype(int)
    if got.shape != want.shape:
        return f"size {got.shape[:2]} instead of {want.shape[:2]}"
    difference = np.abs(got - want).max(axis=2)
    # Anti-aliasing may differ by a level or two; a moved curve, bar or label does not.
    if difference.mean() >= 0.5:
        return f"mean difference {difference.mean():.3f}"
    if np.count_nonzero(difference > 32) > 0.002 * difference.size:
        return f"{np.count_nonzero(difference > 32)} pixels differ by more than 32 levels"
    return ""


LOOK_RECORD = CONTROL / "look.json"


def look_record() -> dict:
    return json.loads(LOOK_RECORD.read_text()) if LOOK_RECORD.exists() else {"look_version": None}


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.skipif(REGENERATE, reason="the control frames are being regenerated")
def test_the_control_frames_were_drawn_with_this_look_version():
    """A bumped LOOK_VERSION comes with regenerated frames, and no frame was replaced
    without the record."""
    record = look_record()
    assert record["look_version"] == LOOK_VERSION, (
        f"tests/control was drawn with look version {record['look_version']}, the scene is "
        f"{LOOK_VERSION}: regenerate the control frames"
    )
    names = {control_name(*case) for case in CASES}
    assert {name: sha256(CONTROL / name) for name in sorted(names)} == record["frames"]
