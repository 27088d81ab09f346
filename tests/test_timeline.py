"""The timeline: state_at is a pure, vectorised function of t; easing matches manim's."""

from __future__ import annotations

import numpy as np
import pytest

from kldemo.core.easing import EASINGS, ease, easing_range
from kldemo.timeline import Timeline, load

SEQUENCE = """
p: {means: [4, 6], stds: [0.75, 0.75]}
q: {mean: 5, std: 1}
defaults: {duration: 2, hold: 1, easing: linear}
keyframes:
  - p: {means: [2, 8]}
  - q: {mean: 2}
    duration: 4
    hold: 0
    easing: smooth
  - {}
  - q: {std: 3}
    easing: there_and_back
"""


@pytest.fixture
def timeline(write_config):
    return Timeline.from_config(load(write_config(SEQUENCE)).config.model)


def test_length_and_transition_ends(timeline):
    assert timeline.duration == 3 + 4 + 3 + 3
    np.testing.assert_array_equal(timeline.starts, [0, 3, 7, 10])
    np.testing.assert_array_equal(timeline.transition_ends, [2, 7, 9, 12])


def test_linear_transition_then_hold(timeline):
    s = timeline.state_at([0, 1, 2, 2.5, 3])
    np.testing.assert_allclose(s.p.means, [[4, 6], [3, 7], [2, 8], [2, 8], [2, 8]])
    np.testing.assert_allclose(s.q.means[:, 0], 5)


def test_easing_moves_every_parameter(timeline):
    s = timeline.state_at([3, 5, 7])
    np.testing.assert_allclose(s.q.means[:, 0], [5, 5 + float(ease("smooth", 0.5)) * -3, 2])


def test_a_pause_keeps_the_state(timeline):
    s = timeline.state_at(np.linspace(7, 10, 7))
    np.testing.assert_allclose(s.q.means[:, 0], 2)
    np.testing.assert_allclose(s.p.means, np.tile([2, 8], (7, 1)))


def test_an_easing_that_returns_ends_where_it_began(timeline):
    s = timeline.state_at([10, 11, 12, 13])
    assert s.q.stds[1, 0] == pytest.approx(3)  # half way: there
    np.testing.assert_allclose(s.q.stds[[0, 2, 3], 0], 1)  # and back


def test_state_at_is_pure_in_t(timeline):
    times = np.random.default_rng(1).uniform(0, timeline.duration, 200)
    together = timeline.state_at(times)
    for i in (0, 57, 199):
        alone = timeline.state_at(times[i])
        np.testing.assert_array_equal(alone.p.means[0], together.p.means[i])
        np.testing.assert_array_equal(alone.q.stds[0], together.q.stds[i])


def test_times_past_the_end_hold_the_last_state(timeline):
    s = timeline.state_at([timeline.duration, timeline.duration + 5])
    np.testing.assert_array_equal(s.q.stds[0], s.q.stds[1])


def test_keyframe_of(timeline):
    np.testing.assert_array_equal(timeline.keyframe_of([0, 0.5, 3, 3.1, 13]), [-1, 0, 0, 1, 3])


def test_a_file_without_keyframes_is_a_still(write_config):
    config = load(
        write_config("p: {mean: 0, std: 1}\nq: {mean: 1, std: 1}\ndefaults: {hold: 2.5}\n")
    ).config.model
    timeline = Timeline.from_config(config)
    assert timeline.duration == 2.5
    assert len(timeline.frame_times(10)) == 25
    np.testing.assert_array_equal(timeline.state_at([0, 2.5]).q.means[:, 0], [1, 1])


def test_weights_interpolate_and_keep_their_sum(write_config):
    config = load(
        write_config(
            "p: {weights: [0.2, 0.8], means: [0, 1], stds: [1, 1]}\nq: {mean: 0, std: 1}\n"
            "keyframes:\n  - p: {weights: [0.9, 0.1]}\n"
        )
    ).config.model
    s = Timeline.from_config(config).state_at(np.linspace(0, 2.5, 101))
    np.testing.assert_allclose(s.p.weights.sum(axis=1), 1, atol=1e-15)
    assert s.p.weights[-1].tolist() == [0.9, 0.1]


@pytest.mark.parametrize("name", list(EASINGS))
def test_easing_matches_manim(name):
    from manim.utils import rate_functions

    alphas = np.linspace(0, 1, 101)
    ours = ease(name, alphas)
    theirs = np.array([float(getattr(rate_functions, name)(a)) for a in alphas])
    np.testing.assert_allclose(ours, theirs, atol=1e-12)


def test_easing_range_sees_overshoot():
    low, high = easing_range("ease_in_out_back")
    assert low < 0 and high > 1
    assert easing_range("smooth") == (0.0, 1.0)
