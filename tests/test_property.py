"""Whatever validates, works: configs generated from the format's grammar, near-misses included.

Each generated file is checked as a user meets it: `kldemo validate` and `kldemo kl` through
the CLI's own entry point (so an exception that escaped would show here as one), and, for
a config that validates, the rows the kl command computes, every number finite. A few
valid configs are also rendered, tiny, in a subprocess. Rejects must be ConfigErrors
(exit 2, FILE:LINE:COL lines), never a traceback. Deterministic: hypothesis derandomized.
"""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from kldemo.cli import main
from kldemo.errors import ConfigError
from kldemo.plan.table import kl_rows, write_rows
from kldemo.timeline import load

PROPERTY = settings(
    max_examples=160,
    deadline=None,  # fits vary in cost; the example count bounds the time
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)
EASINGS = [
    "smooth",
    "linear",
    "there_and_back",
    "rush_into",
    "exponential_decay",
    "wiggle",
    "linear",
    "smooth",
    "running_start",
    "ease_in_out_back",
    "smoth",
]  # and near-misses

means = st.integers(-8000, 8000).map(lambda i: i / 1000)
stds = st.integers(200, 3000).map(lambda i: i / 1000)


@st.composite
def weights(draw: st.DrawFn, k: int, near_misses: bool) -> list[float]:
    """Weights summing to 1 up to rounding, or (near-misses) off by 1e-7 or 1e-3."""
    raw = draw(st.lists(st.integers(1, 9), min_size=k, max_size=k))
    out = [r / sum(raw) for r in raw]
    if near_misses:
        out[-1] += draw(st.sampled_from([0.0] * 6 + [1e-7, -1e-7, 1e-3, -1e-3]))
    return out


@st.composite
def mixture(draw: st.DrawFn, k: int, near_misses: bool, partial: bool = False) -> dict[str, Any]:
    """A distribution in list or shorthand form; partial: only some keys (a keyframe's change).

    Near-misses: a list of the wrong length, the shorthand on several components or mixed
    with lists, a negative std, weights that miss 1."""
    shorthand = k == 1 and draw(st.booleans())
    miss = near_misses and draw(st.integers(0, 11)) == 0
    kind = draw(st.sampled_from(["length", "shorthand", "mixed", "negative"])) if miss else ""
    if shorthand or kind == "shorthand":
        out: dict[str, Any] = {"mean": draw(means), "std": draw(stds)}
        if kind == "shorthand" and k == 1:
            out["weights"] = [1.0]  # the shorthand beside a list
    else:
        out = {
            "means": draw(st.lists(means, min_size=k, max_size=k)),
            "stds": draw(st.lists(stds, min_size=k, max_size=k)),
        }
        if draw(st.booleans()):
            out["weights"] = draw(weights(k, near_misses))
        if kind == "length":
            out["stds"] = out["stds"] + [1.0]
        elif kind == "mixed":
            out["std"] = out.pop("stds")[0]
    if kind == "negative":
        key = "std" if "std" in out else "stds"
        out[key] = -1.0 if key == "std" else [-1.0, *out[key][1:]]
    if partial:
        keys = draw(st.lists(st.sampled_from(sorted(out)), unique=True, max_size=len(out)))
        out = {key: out[key] for key in sorted(keys)}
    return out


@st.composite
def configs(draw: st.DrawFn, near_misses: bool = True, fits: bool = True) -> dict[str, Any]:
    """A whole keyframe file: p, q, keyframes (partial changes, rare small fits), style, view."""
    kp, kq = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    doc: dict[str, Any] = {"p": draw(mixture(kp, near_misses)), "q": draw(mixture(kq, near_misses))}
    if draw(st.booleans()):
        doc["title"] = draw(st.sampled_from(["KL", "Forward and reverse", "ü → q"]))
    if draw(st.booleans()):
        doc["defaults"] = {
            "duration": draw(st.sampled_from([0.2, 0.5, 1.0])),
            "hold": draw(st.sampled_from([0, 0.2])),
            "easing": draw(st.sampled_from(EASINGS if near_misses else EASINGS[:8])),
        }
    if draw(st.booleans()):
        low = draw(st.integers(-15, 0))
        high = draw(st.integers(-2, 15)) if near_misses else low + draw(st.integers(1, 20))
        doc["view"] = {"x_range": [low, high]}
    doc["style"] = {
        "labels": "text",
        "theme": draw(st.sampled_from(["dark", "light"])),
        "bars": draw(
            st.lists(
                st.sampled_from(["forward", "reverse", "js", "tv", "hellinger"]),
                unique=True,
                min_size=1,
                max_size=3,
            )
        ),
    }
    frames = []
    for _ in range(draw(st.integers(0, 4))):
        frame: dict[str, Any] = {}
        # Fits are rare and small: they are the slow part of a timeline.
        if fits and kp <= 2 and kq <= 2 and draw(st.integers(0, 24)) == 0:
            frame["fit"] = draw(st.sampled_from(["forward", "reverse"]))
            if draw(st.booleans()):
                frame["optimize"] = draw(
                    st.lists(st.sampled_from(["means", "stds", "weights"]), unique=True, min_size=1)
                )
        else:
            for name, k in (("p", kp), ("q", kq)):
                if draw(st.booleans()):
                    # A change written for another count of components cannot apply.
                    wrong = near_misses and draw(st.integers(0, 9)) == 0
                    frame[name] = draw(mixture(k + 1 if wrong else k, near_misses, partial=True))
        if draw(st.booleans()):
            frame["duration"] = draw(st.sampled_from([0.2, 0.4, 1.0]))
        if draw(st.booleans()):
            frame["hold"] = draw(st.sampled_from([0, 0.2]))
        if draw(st.integers(0, 3)) == 0:
            frame["easing"] = draw(st.sampled_from(EASINGS if near_misses else EASINGS[:8]))
        if draw(st.integers(0, 3)) == 0:
            frame["caption"] = "q moves"
        frames.append(frame)
    doc["keyframes"] = frames
    return doc


def write(folder: Path, doc: dict[str, Any], flow: bool | None) -> Path:
    path = folder / "generated.yaml"
    path.write_text(
        yaml.safe_dump(doc, sort_keys=False, default_flow_style=flow, allow_unicode=True),
        encoding="utf-8",
    )
    return path


def run_cli(*argv: str) -> tuple[int, str, str]:
    """The kldemo entry point in this process: its exit status, stdout and stderr.

    An exception that escaped main() (what a user would see as a traceback) propagates and
    fails the test."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(argv))
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else 1
        else:
            code = 0
    return code, out.getvalue(), err.getvalue()


def test_every_config_that_validates_gives_finite_kl_rows(tmp_path):
    counts: Counter[str] = Counter()

    @PROPERTY
    @given(doc=configs(), flow=st.sampled_from([None, True, False]))
    def one(doc: dict[str, Any], flow: bool | None) -> None:
        path = write(tmp_path, doc, flow)
        counts["generated"] += 1
        code, out, err = run_cli("validate", str(path))
        assert code in (0, 2), (code, out, err)
        assert "Traceback" not in out + err
        try:
            loaded = load(path).config
        except ConfigError as error:
            assert code == 2 and err.splitlines() == str(error).splitlines()
            for line in err.splitlines():
                assert line.startswith(f"{path}:") and ": error: " in line, line
            return
        assert code == 0, err
        counts["validated"] += 1
        rows = kl_rows(load(path).timeline, every=loaded.model.defaults.duration / 3)
        assert list(rows.values) == ["forward", "reverse", "js", "tv", "hellinger"]
        for name, values in rows.values.items():
            assert np.all(np.isfinite(values)), (name, values)
        for m in (rows.p, rows.q):
            for values in m:
                assert np.all(np.isfinite(values))
            assert np.allclose(m.weights.sum(axis=-1), 1, rtol=0, atol=1e-12)
        write_rows(io.StringIO(), loaded, rows, "table")
        code, out, err = run_cli("kl", str(path), "--format", "json")
        assert code == 0 and "Traceback" not in err, err

    one()
    print(f"\nproperty: {counts['generated']} configs generated, {counts['validated']} validated")
    # Both sides of the grammar were explored: many valid files, and many near-misses.
    # (Hypothesis's examples, derandomized or not, follow its engine's timings: the share
    # of valid files has ranged from 23% to 56% between runs of the same code.)
    assert counts["validated"] >= counts["generated"] // 6
    assert counts["generated"] - counts["validated"] >= counts["generated"] // 10


@pytest.mark.render
def test_a_few_valid_configs_render_tiny(tmp_path):
    rendered: list[Path] = []

    @settings(PROPERTY, max_examples=3)
    @given(doc=configs(near_misses=False, fits=False))
    def one(doc: dict[str, Any]) -> None:
        path = write(tmp_path, doc, None)
        try:
            load(path)
        except ConfigError:
            assume(False)  # only valid files are asked to render
        output = tmp_path / f"video{len(rendered)}.mp4"
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "kldemo",
                "render",
                str(path),
                "-o",
                str(output),
                "-r",
                "160,90",
                "--fps",
                "5",
                "--labels",
                "text",
                "--no-cache",
                "-j",
                "1",
                "--progress",
                "none",
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stdout + done.stderr
        assert output.stat().st_size > 0
        rendered.append(output)

    one()
    assert rendered
