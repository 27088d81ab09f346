"""The look's numbers, without drawing: palette contrast, the automatic x range, and what
`kldemo easings` says of each easing."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from click.testing import CliRunner
from scipy import integrate, stats

from kldemo.cli import cli
from kldemo.core.easing import EASINGS, ease
from kldemo.core.mixture import Mixture
from kldemo.plan.build import build_plan
from kldemo.plan.frames import FrameStates, ScenePlan
from kldemo.plan.theme import (
    GRAPHIC_CONTRAST,
    TEXT_CONTRAST,
    THEMES,
    blend,
    contrast_ratio,
    relative_luminance,
)
from kldemo.plan.view import fit_x_range, mass_interval, sample_times
from kldemo.timeline import load

from .conftest import CONFIGS

# -- palettes ---------------------------------------------------------------------------


def test_relative_luminance_follows_the_wcag_formula():
    # sRGB 0x80 = 128/255 linearises to ((0.502 + 0.055) / 1.055) ** 2.4 = 0.2158605.
    assert relative_luminance("#808080") == pytest.approx(0.2158605, rel=1e-6)
    assert relative_luminance("#FF0000") == pytest.approx(0.2126)
    assert relative_luminance("#00FF00") == pytest.approx(0.7152)
    # The ratios WCAG's own examples give: black on white 21:1, #767676 on white 4.54:1.
    assert contrast_ratio("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert contrast_ratio("#767676", "#FFFFFF") == pytest.approx(4.54, abs=0.005)


@pytest.mark.parametrize("name", THEMES)
def test_every_default_colour_stands_out_from_its_background(name):
    theme = THEMES[name]
    roles = theme.roles()
    assert {"text", "muted", "p", "q", "bar", "axis", "track"} <= set(roles)
    ratios = {field: contrast_ratio(getattr(theme, field), theme.background) for field in roles}
    for field, least in roles.items():
        assert least in (TEXT_CONTRAST, GRAPHIC_CONTRAST)
        assert ratios[field] >= least, f"{name}.{field}: {ratios[field]:.2f}:1 < {least}:1"
    # A bar's fill stands out from the faint wash of the track it fills, too.
    wash = blend(theme.track, theme.background, 0.35)
    assert contrast_ratio(theme.bar, wash) >= GRAPHIC_CONTRAST


def tiny_plan(theme: str, **colors: str) -> ScenePlan:
    one = np.ones((1, 1))
    frames = FrameStates(
        np.zeros(1),
        Mixture(one, 0 * one, one),
        Mixture(one, 0 * one, one),
        np.zeros(1),
        np.zeros(1),
        np.full(1, -1),
    )
    return ScenePlan(frames, (-4.0, 4.0), (0.0, 0.5), 1.0, theme=theme, **colors)


@pytest.mark.parametrize("name", THEMES)
def test_a_plan_takes_its_themes_colours_unless_told(name):
    plan = tiny_plan(name)
    assert (plan.p_color, plan.q_color) == (THEMES[name].p, THEMES[name].q)
    told = tiny_plan(name, p_color="#58C4DD", q_color="#123456")
    assert (told.p_color, told.q_color) == ("#58C4DD", "#123456")


def test_a_config_gets_its_themes_colours_and_keeps_its_own(write_config):
    base = "p: {mean: 0, std: 1}\nq: {mean: 1, std: 1}\n"
    light = build_plan(load(write_config(base + "style: {theme: light}\n")), 5, "text")
    assert (light.p_color, light.q_color) == (THEMES["light"].p, THEMES["light"].q)
    dark = build_plan(load(write_config(base)), 5, "text")
    assert (dark.p_color, dark.q_color) == (THEMES["dark"].p, THEMES["dark"].q)
    own = write_config(base + "style: {theme: light, p_color: '#58C4DD', q_color: RED}\n")
    plan = build_plan(load(own), 5, "text")
    assert plan.p_color == "#58C4DD" and plan.q_color != THEMES["light"].q


# -- the automatic x range -----------------------------------------------------------------


def mixture(weights, means, stds) -> Mixture:
    return Mixture(*(np.atleast_2d(np.asarray(v, dtype=float)) for v in (weights, means, stds)))


def test_the_mass_interval_holds_the_central_mass():
    lo, hi = mass_interval(mixture([1.0], [3.0], [2.0]))
    assert lo[0] == pytest.approx(stats.norm.ppf(0.0005, 3, 2), rel=1e-12)
    assert hi[0] == pytest.approx(stats.norm.ppf(0.9995, 3, 2), rel=1e-12)
    m = mixture([0.3, 0.7], [-5.0, 4.0], [0.2, 1.5])
    lo, hi = mass_interval(m)

    def cdf(x: float) -> float:
        return float(np.sum(m.weights * stats.norm.cdf(x, m.means, m.stds)))

    assert cdf(lo[0]) == pytest.approx(0.0005, rel=1e-9)
    assert cdf(hi[0]) == pytest.approx(0.9995, rel=1e-9)
    mass, _ = integrate.quad(
        lambda x: np.sum(m.weights * stats.norm.pdf(x, m.means, m.stds)),
        lo[0],
        hi[0],
        points=[-5.0, 4.0],
        limit=200,
    )
    assert mass == pytest.approx(0.999, rel=1e-9)


def states_of(path) -> tuple[Mixture, Mixture]:
    timeline = load(path).timeline
    states = timeline.state_at(sample_times(timeline))
    return states.p, states.q


def is_round(value: float, step: float) -> bool:
    return abs(value / step - round(value / step)) < 1e-9


EXAMPLES = {path.stem: load(path).timeline.dims for path in sorted(CONFIGS.glob("*.yaml"))}


@pytest.mark.parametrize("name", [name for name, dims in EXAMPLES.items() if dims == 1])
def test_the_x_range_covers_every_state_and_little_more(name):
    p, q = states_of(CONFIGS / f"{name}.yaml")
    low, high = fit_x_range(p, q)
    ends = [mass_interval(m) for m in (p, q)]
    need_low = min(float(lo.min()) for lo, _ in ends)
    need_high = max(float(hi.max()) for _, hi in ends)
    assert low < need_low and high > need_high
    # Little more: 2 % padding each side, then rounding out by under a tenth of the span.
    assert high - low <= 1.25 * (need_high - need_low)
    steps = [s * 10.0**k for k in range(-3, 5) for s in (1, 2, 5)]
    assert any(is_round(low, s) and is_round(high, s) and (high - low) / s >= 10 for s in steps)


@pytest.mark.parametrize("name", [name for name, dims in EXAMPLES.items() if dims == 2])
def test_the_plane_covers_every_state_at_a_square_to_three_halves_aspect(name):
    from kldemo.plan.plane_view import ASPECTS, fit_plane_ranges

    p, q = states_of(CONFIGS / f"{name}.yaml")
    (x0, x1), (y0, y1) = fit_plane_ranges(p, q)
    radius = math.sqrt(-2 * math.log(0.01))  # each component's 99% ellipse
    for m in (p, q):
        heavy = m.weights >= 1e-3 * m.weights.max(axis=-1, keepdims=True)
        for axis, (low, high) in enumerate(((x0, x1), (y0, y1))):
            half = radius * np.sqrt(m.covs[..., axis, axis])
            assert low < (m.means[..., axis] - half)[heavy].min()
            assert high > (m.means[..., axis] + half)[heavy].max()
    view = load(CONFIGS / f"{name}.yaml").config.model.view
    if view.x_range is None and view.y_range is None:
        assert ASPECTS[0] - 1e-9 <= (x1 - x0) / (y1 - y0) <= ASPECTS[1] + 0.25


def test_mode_seeking_shows_its_modes_not_a_sea_of_empty_axis():
    low, high = fit_x_range(*states_of(CONFIGS / "mode-seeking.yaml"))
    # Modes at 2 and 8 (std 0.8); the forward fit widens q to std sqrt(0.64 + 9) about 5.
    half = 3.2905 * math.sqrt(0.64 + 9)
    assert low <= 5 - half and high >= 5 + half
    assert (low, high) == (-6.0, 16.0)


def test_a_narrow_spike_in_one_state_stays_in_view():
    # Two states of p: a unit Gaussian at 0, then a spike of std 0.01 at 40.
    p = Mixture(np.ones((2, 1)), np.array([[0.0], [40.0]]), np.array([[1.0], [0.01]]))
    q = mixture([1.0], [0.0], [1.0])
    low, high = fit_x_range(p, q)
    assert low <= -3.29 and high >= 40.0329
    assert high - low <= 1.25 * (40.0329 + 3.2905)


# -- easings ------------------------------------------------------------------------------


def test_every_easing_ends_where_kldemo_easings_says():
    result = CliRunner().invoke(cli, ["easings"])
    assert result.exit_code == 0, result.output
    listed = {}
    for line in result.output.splitlines():
        name, _, notes = line.partition(" ")
        found = re.search(r"ends at (-?[0-9.e+-]+) of the way", notes)
        listed[name] = float(found.group(1)) if found else 1.0
    assert set(listed) == set(EASINGS)
    for name, end in listed.items():
        actual = float(ease(name, 1.0))
        assert end == pytest.approx(actual, rel=1e-6, abs=1e-12), name
    assert listed["exponential_decay"] == pytest.approx(1 - math.exp(-10), rel=1e-7)
    assert listed["exponential_decay"] < 1
