"""2-D keyframe files: the format's rules, the timeline in the plane, and the kl rows."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest

from kldemo.core.plane import PlaneMixture, gaussian_kl
from kldemo.errors import ConfigError
from kldemo.plan.table import kl_rows, write_rows
from kldemo.timeline import load

PLANE = """
p:
  weights: [0.25, 0.75]
  means: [[-2, 0], [2, 1]]
  covs: [[[1, 0.5], [0.5, 1]], [[0.5, 0], [0, 0.5]]]
q:
  mean: [1, -1]
  cov: [[0.5, 0], [0, 0.5]]
keyframes:
  - q: {mean: [0, 0]}
    duration: 2
    hold: 1
  - q: {cov: [[2, 0.5], [0.5, 1]]}
    duration: 2
    hold: 0
    easing: linear
"""


def errors_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(path)
    return [str(d).replace(f"{path}", "FILE") for d in caught.value.diagnostics]


def test_a_plane_file_gives_plane_states(write_config):
    timeline = load(write_config(PLANE)).timeline
    assert timeline.dims == 2
    states = timeline.state_at([0.0, 3.0, 4.0, 5.0])
    assert isinstance(states.q, PlaneMixture) and states.q.covs.shape == (4, 1, 2, 2)
    np.testing.assert_array_equal(states.p.weights[0], [0.25, 0.75])
    np.testing.assert_array_equal(states.q.means[:, 0], [[1, -1], [0, 0], [0, 0], [0, 0]])
    # The second keyframe blends the covariance linearly: halfway at t = 4.
    np.testing.assert_allclose(states.q.covs[2, 0], [[1.25, 0.25], [0.25, 0.75]], rtol=1e-15)
    np.testing.assert_array_equal(states.q.covs[3, 0], [[2, 0.5], [0.5, 1]])


def test_plane_rows_carry_pairs_and_matrices(write_config):
    loaded = load(write_config(PLANE))
    out = io.StringIO()
    write_rows(out, loaded.config, kl_rows(loaded.timeline), "json")
    rows = json.loads(out.getvalue())["rows"]
    assert [row["t"] for row in rows] == [0.0, 2.0, 5.0]
    assert rows[0]["p"] == {
        "weights": [0.25, 0.75],
        "means": [[-2.0, 0.0], [2.0, 1.0]],
        "covs": [[[1.0, 0.5], [0.5, 1.0]], [[0.5, 0.0], [0.0, 0.5]]],
    }
    assert rows[-1]["q"] == {
        "weights": [1.0],
        "means": [[0.0, 0.0]],
        "covs": [[[2.0, 0.5], [0.5, 1.0]]],
    }
    assert all(row["forward_kl"] > 0 and row["reverse_kl"] > 0 for row in rows)

    out = io.StringIO()
    write_rows(out, loaded.config, kl_rows(loaded.timeline), "csv")
    table = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert float(table[0]["p_cov0_xy"]) == 0.5 and float(table[0]["p_mean1_y"]) == 1.0
    assert float(table[-1]["q_cov0_xx"]) == 2.0 and float(table[-1]["q_cov0_yy"]) == 1.0
    assert float(table[1]["forward_kl"]) == rows[1]["forward_kl"]


def test_two_plane_gaussians_take_the_closed_form(write_config):
    text = """
    p: {mean: [0, 0], cov: [[1, 0.9], [0.9, 1]]}
    q: {mean: [0.5, -0.25], cov: [[0.3, 0], [0, 2]]}
    """
    loaded = load(write_config(text))
    row = kl_rows(loaded.timeline).values
    mean_p, cov_p = np.zeros(2), np.array([[1, 0.9], [0.9, 1]])
    mean_q, cov_q = np.array([0.5, -0.25]), np.diag([0.3, 2.0])
    assert row["forward"][0] == pytest.approx(gaussian_kl(mean_p, cov_p, mean_q, cov_q), rel=1e-14)
    assert row["reverse"][0] == pytest.approx(gaussian_kl(mean_q, cov_q, mean_p, cov_p), rel=1e-14)


GAUSS = "{mean: [0, 0], cov: [[1, 0], [0, 1]]}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"p: {{mean: [0, 0], cov: [[1, 0.9], [0.8, 1]]}}\nq: {GAUSS}\n",
            ["FILE:1:24: error: p.cov: must be symmetric: its off-diagonal entries differ "
             "(0.9 and 0.8)"],
        ),
        (
            f"p: {{mean: [0, 0], cov: [[1, 2], [2, 1]]}}\nq: {GAUSS}\n",
            ["FILE:1:24: error: p.cov: must be positive definite: a > 0, c > 0 and b² < a·c "
             "(got a = 1, c = 1, b² - a·c = 3)"],
        ),
        (
            f"p: {{mean: [0, 0], cov: [[1, 0], [0, 1e-9]]}}\nq: {GAUSS}\n",
            ["FILE:1:24: error: p.cov: is too elongated: its condition number is 1e+09, at most "
             "1e8 (its axes' stds may differ by a factor of 1e4)"],
        ),
        (
            f"p: {{mean: [0, 0], cov: [[1e-7, 0], [0, 1e-7]]}}\nq: {GAUSS}\n",
            ["FILE:1:24: error: p.cov: its stds along its axes (0.000316 and 0.000316) must be "
             "between 1e-3 and 1e3"],
        ),
        (
            f"p: {{mean: [0, 0], cov: [[1, 0, 0], [0, 1]]}}\nq: {GAUSS}\n",
            ["FILE:1:24: error: p.cov: must be a 2x2 matrix of numbers, [[a, b], [b, c]] "
             "(got a list)"],
        ),
        (
            f"p: {{mean: [0, 0, 1], cov: [[1, 0], [0, 1]]}}\nq: {GAUSS}\n",
            ["FILE:1:11: error: p.mean: must be a number, or a pair [x, y] of finite numbers in "
             "2-D (got [0, 0, 1])"],
        ),
        (
            f"p: {{mean: [0, 2e4], cov: [[1, 0], [0, 1]]}}\nq: {GAUSS}\n",
            ["FILE:1:11: error: p.mean: must be within ±1e4 (its y is 20000)"],
        ),
        (
            f"p: {{mean: [0, 0], std: 1}}\nq: {GAUSS}\n",
            ["FILE:1:24: error: p.std: the means are pairs [x, y] (2-D), whose spread is a "
             "covariance: write cov instead of std"],
        ),
        (
            f"p: {{means: [1, 2], covs: [[[1, 0], [0, 1]], [[1, 0], [0, 1]]]}}\nq: {GAUSS}\n",
            ["FILE:1:26: error: p.covs: the means are numbers (1-D), whose spread is a std: write "
             "stds instead of covs, or give the means as pairs [x, y] for 2-D"],
        ),
        (
            f"p: {{means: [[0, 0], 1], covs: [[[1, 0], [0, 1]], [[1, 0], [0, 1]]]}}\nq: {GAUSS}\n",
            ["FILE:1:12: error: p.means: must be all numbers (1-D) or all pairs [x, y] (2-D), "
             "not both"],
        ),
        (
            f"p: {{mean: [0, 0], std: 1, cov: [[1, 0], [0, 1]]}}\nq: {GAUSS}\n",
            ["FILE:1:32: error: p.cov: give stds (1-D) or covs (2-D), not both"],
        ),
        (
            f"p: {{mean: [0, 0]}}\nq: {GAUSS}\n",
            ["FILE:1:4: error: p: needs covs (or cov)"],
        ),
        (
            f"p: {GAUSS}\nq: {{mean: 0, std: 1}}\n",
            ["FILE:2:11: error: q.mean: this file is 2-D (p's means are pairs [x, y]); 1-D and "
             "2-D cannot mix in one file"],
        ),
        (
            f"p: {GAUSS}\nq: {GAUSS}\nkeyframes:\n  - q: {{mean: 3}}\n",
            ["FILE:4:15: error: keyframes[0].q.mean: this file is 2-D (p's means are pairs "
             "[x, y]); 1-D and 2-D cannot mix in one file"],
        ),
        (
            "p: {mean: 0, std: 1}\nq: {mean: 1, std: 1}\nkeyframes:\n"
            "  - {fit: reverse, family: diagonal}\n",
            ["FILE:4:28: error: keyframes[0].family: family is for fits in 2-D; this file is 1-D"],
        ),
        (
            f"p: {GAUSS}\nq: {GAUSS}\nkeyframes:\n  - {{q: {{mean: [1, 1]}}, family: full}}\n",
            ["FILE:4:33: error: keyframes[0].family: family belongs to a fit keyframe: add "
             "fit: forward or fit: reverse, or remove family"],
        ),
        (
            f"p: {GAUSS}\nq: {GAUSS}\nkeyframes:\n  - {{fit: reverse, optimize: [stds]}}\n",
            ["FILE:4:30: error: keyframes[0].optimize: this file is 2-D (p's means are pairs "
             "[x, y]), whose spreads are covs: optimize covs, not stds"],
        ),
        (
            f"p: {GAUSS}\nq: {{means: [[0, 0], [1, 1]], covs: [[[1, 0], [0, 1]], "
            "[[1, 0], [0, 1]]]}\nkeyframes:\n  - fit: reverse\n",
            ["FILE:4:10: error: keyframes[0].fit: a fit in 2-D moves one Gaussian q, but q has "
             "2 components here"],
        ),
        (
            f"p: {GAUSS}\nq: {{mean: [0, 0], cov: [[1, 0.2], [0.2, 1]]}}\nkeyframes:\n"
            "  - {fit: forward, family: diagonal}\n",
            ["FILE:4:28: error: keyframes[0].family: q's covariance is not diagonal here (its "
             "off-diagonal entry is 0.2), so a diagonal fit cannot start from it: write a "
             "keyframe before this one that sets q's cov to [[a, 0], [0, c]]"],
        ),
        (
            f"p: {GAUSS}\nq: {{mean: [0, 0], cov: [[1, 0], [0, 1]]}}\nkeyframes:\n"
            "  - {q: {cov: [[1, 0.99], [0.99, 1]]}}\n"
            "  - {q: {cov: [[1, -0.99], [-0.99, 1]]}, easing: ease_in_back}\n"
            "  - {q: {cov: [[1, 0], [0, 1e-6]]}}\n"
            "  - {q: {cov: [[100, 0], [0, 1e-6]]}, easing: ease_out_back}\n",
            ["FILE:5:50: error: keyframes[1].easing: 'ease_in_back' overshoots (to -10% of the "
             "way), which takes q.covs to a matrix that is not positive definite on the way; "
             "choose an easing that stays within [0, 1]",
             "FILE:7:47: error: keyframes[3].easing: 'ease_out_back' overshoots (to 110% of the "
             "way), which takes q.covs to a condition number of 1.1e+08, above 1e8 on the way; "
             "choose an easing that stays within [0, 1]"],
        ),
    ],
    ids=[
        "asymmetric", "not-positive-definite", "condition-number", "axis-std", "cov-shape",
        "mean-triple", "mean-range", "std-for-pair", "covs-for-numbers", "mixed-means",
        "std-and-cov", "missing-cov", "q-in-1d", "keyframe-in-1d", "family-in-1d",
        "family-without-fit", "optimize-stds-in-2d", "fit-a-mixture", "diagonal-from-tilted",
        "overshoot",
    ],
)  # fmt: skip
def test_plane_rules_give_their_whole_message(write_config, text, expected):
    assert errors_of(write_config(text)) == expected


def test_the_api_rows_show_plane_mixtures(write_config):
    import kldemo

    rows = kldemo.kl(write_config(PLANE))
    html = rows._repr_html_()
    assert (
        "μ=[[-2, 0], [2, 1]] Σ=[[[1, 0.5], [0.5, 1]], [[0.5, 0], [0, 0.5]]] w=[0.25, 0.75]" in html
    )
    assert rows[0]["q"]["covs"] == [[[0.5, 0.0], [0.0, 0.5]]]
