"""Stored control frames: a few stills of the examples compared with PNGs kept in
``tests/control``, so that a change to what the video shows is seen, not only that it ran.

Stills are lossless, so no encoder is involved. Text labels (Pango, in DejaVu Sans, which
setup.sh installs) make them independent of LaTeX. The control PNGs were drawn on another
machine: other versions of Cairo, Pango or FreeType anti-alias edges a level or two apart,
which the tolerance below allows, while a moved curve, bar or label exceeds it. After an
intended change to the picture, regenerate them and look at them before committing::

    KLDEMO_REGENERATE_CONTROL=1 python -m pytest tests/test_control_frames.py
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

from .conftest import CONFIGS, REPO
from .test_render import kldemo

pytestmark = pytest.mark.render

CONTROL = REPO / "tests" / "control"
REGENERATE = os.environ.get("KLDEMO_REGENERATE_CONTROL") == "1"
SIZE = ("-r", "320,180")

# (config, time, extra options): the start, a transition, a hold with a caption, the
# light theme, a 1:1 frame, and the panels.
CASES = [
    ("asym-kl", 0.0, ()),
    ("asym-kl", 5.3, ()),
    ("asym-kl", 27.8, ()),
    ("gaussian-vs-mixture", 9.0, ("-r", "240,240")),
    ("integrand", 3.0, ()),
    ("divergences", 4.0, ()),
]


def control_name(config: str, t: float, extra: tuple[str, ...]) -> str:
    size = extra[1].replace(",", "x") if extra else "320x180"
    return f"{config}-{t:g}s-{size}.png"


@pytest.mark.parametrize(("config", "t", "extra"), CASES,
                         ids=[control_name(*case)[:-4] for case in CASES])
def test_a_still_matches_its_control_frame(tmp_path, config, t, extra):
    out = tmp_path / "still.png"
    result = kldemo("still", CONFIGS / f"{config}.yaml", "--at", t, *(extra or SIZE),
                    "--labels", "text", "-o", out)
    assert result.returncode == 0, result.stderr
    control = CONTROL / control_name(config, t, extra)
    if REGENERATE:
        CONTROL.mkdir(exist_ok=True)
        control.write_bytes(out.read_bytes())
    got = np.asarray(Image.open(out).convert("RGB")).astype(int)
    want = np.asarray(Image.open(control).convert("RGB")).astype(int)
    assert got.shape == want.shape
    difference = np.abs(got - want).max(axis=2)
    # Anti-aliasing may differ by a level or two; a moved curve, bar or label does not.
    assert difference.mean() < 0.5, f"mean difference {difference.mean():.3f}"
    assert np.count_nonzero(difference > 32) <= 0.002 * difference.size, \
        f"{np.count_nonzero(difference > 32)} pixels differ by more than 32 levels"
