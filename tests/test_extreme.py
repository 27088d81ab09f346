"""Extreme parameters: finite numbers, bars that overflow visibly, spikes that stay spikes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kldemo.plan.build import build_plan
from kldemo.rendering.drawer import FrameDrawer
from kldemo.rendering.video import VideoSettings
from kldemo.timeline import load

pytestmark = pytest.mark.render

SPIKE = """\
p: {weights: [0.5, 0.5], means: [0, 3], stds: [0.001, 1]}
q: {mean: 0, std: 1000}
style: {bar_max: 10}
keyframes:
  - q: {std: 3}
"""

FAR = """\
p: {weights: [0.999999, 0.000001], means: [0, 50], stds: [1, 1]}
q: {mean: 50, std: 0.001}
keyframes:
  - q: {mean: -10000, std: 1000}
"""


def plan_of(write_config, text: str):
    return build_plan(load(write_config(text)), 5, "text")


@pytest.mark.parametrize("text", [SPIKE, FAR], ids=["spike", "far"])
def test_every_frames_numbers_are_finite_and_large_where_they_should_be(write_config, text):
    frames = plan_of(write_config, text).frames
    for values in (frames.forward_kl, frames.reverse_kl):
        assert np.isfinite(values).all()
        assert (values >= 0).all()
    assert max(frames.forward_kl.max(), frames.reverse_kl.max()) > 1e5


def test_a_narrow_spike_keeps_its_height_on_a_wide_axis(write_config, tmp_path):
    plan = plan_of(write_config, SPIKE)
    drawer = FrameDrawer(plan, VideoSettings.for_format("mp4", 320, 180, 5, False), False, tmp_path)
    scene = drawer.scene
    scene.show(0)
    peak = 0.5 / (0.001 * math.sqrt(2 * math.pi))  # the spike's density at its mean
    x_low, x_high = plan.x_range
    assert x_high - x_low > 1e6 * 0.001  # the spike is far narrower than a pixel
    top = scene.axes.coords_to_point(0.0, peak)[1]
    assert scene.p_curve.get_top()[1] == pytest.approx(top, abs=1e-3 * scene.axes.height)


def test_a_value_beyond_bar_max_draws_a_full_bar_with_an_overflow_mark(write_config, tmp_path):
    plan = plan_of(write_config, SPIKE)
    assert plan.bar_max == 10 and plan.frames.reverse_kl[0] > 1e5
    drawer = FrameDrawer(plan, VideoSettings.for_format("mp4", 320, 180, 5, False), False, tmp_path)
    pixels = drawer.image(0)
    assert pixels.shape == (180, 320, 4)
    bar = drawer.scene.reverse_bar
    assert len(bar.overflow_mark.points) > 0  # the chevron is drawn
    assert bar.fill.height == pytest.approx(bar.track.height, rel=1e-6)
    last = len(plan.frames) - 1  # q std 3: KL(q‖p) ≈ 8.08 fits under the bar
    drawer.image(last)
    assert bar.fill.height < bar.track.height
    assert len(bar.overflow_mark.points) == 0
