"""What a data p draws: the plan's histogram (1-D) and points (2-D) of its samples."""

from __future__ import annotations

import numpy as np
import pytest

from kldemo.plan.build import build_plan
from kldemo.plan.frames import MAX_POINTS
from kldemo.timeline import load


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KLDEMO_CACHE_DIR", str(tmp_path / "cache"))


def test_a_1d_data_p_draws_its_histogram_and_the_axes_show_it_whole(tmp_path):
    x = np.random.default_rng(3).normal(0.0, 0.2, 500)  # a tall, narrow histogram
    np.save(tmp_path / "x.npy", x)
    (tmp_path / "c.yaml").write_text("p: {samples: x.npy, components: 1}\nq: {mean: 1, std: 1}\n")
    plan = build_plan(load(tmp_path / "c.yaml"), 5, "text")
    edges, heights = plan.histogram
    np.testing.assert_array_equal(edges, np.histogram_bin_edges(x, bins="auto"))
    assert np.sum(heights * np.diff(edges)) == pytest.approx(1.0, rel=1e-12)
    assert plan.y_range[1] >= heights.max() and plan.points is None


def test_a_2d_data_p_draws_a_fixed_subsample_of_its_points(tmp_path):
    x = np.random.default_rng(4).normal(size=(MAX_POINTS + 500, 2))
    np.save(tmp_path / "x.npy", x)
    (tmp_path / "c.yaml").write_text(
        "p: {samples: x.npy, components: 1}\nq: {mean: [0, 0], cov: [[1, 0], [0, 1]]}\n"
    )
    first = build_plan(load(tmp_path / "c.yaml"), 5, "text").points
    again = build_plan(load(tmp_path / "c.yaml"), 5, "text").points
    assert first.shape == (MAX_POINTS, 2) and np.array_equal(first, again)
    # Drawn from the samples themselves, without repeats.
    rows = {tuple(r) for r in x}
    assert all(tuple(r) in rows for r in first) and len({tuple(r) for r in first}) == MAX_POINTS


def test_a_written_p_draws_no_samples(write_config):
    plan = build_plan(load(write_config("p: {mean: 0, std: 1}\nq: {mean: 1, std: 1}\n")), 5, "text")
    assert plan.histogram is None and plan.points is None
