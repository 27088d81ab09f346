"""The scene's layout with every mix of bars and panels, checked from the mobjects' boxes.

Each case builds the scene at a tiny size (nothing is encoded), shows a few frames, and
asserts that no two parts of the layout overlap and that everything lies inside the frame.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest
from kldemo.scenes.kl_scene import KLScene
from kldemo.scenes.sampling import sample_integrands
from manim import tempconfig

from kldemo.plan.build import build_plan
from kldemo.plan.frames import BAR_BOUNDS
from kldemo.timeline import load

from .conftest import decode, kldemo

BARS = {
    "one": ["reverse"],
    "two": ["forward", "reverse"],
    "all": ["forward", "reverse", "js", "tv", "hellinger"],
}
PANELS = {
    "none": [],
    "integrand": ["integrand"],
    "trace": ["trace"],
    "both": ["integrand", "trace"],
}
ASPECTS = {"16:9": (160, 90), "4:3": (120, 90), "1:1": (90, 90), "9:16": (90, 160)}

CONFIG = """\
title: Layout check
p: {{weights: [0.5, 0.5], means: [-2, 3], stds: [0.6, 1.0]}}
q: {{mean: 0, std: 1}}
defaults: {{duration: 1, hold: 0.4}}
style: {{bars: {bars}, markers: {markers}, labels: text}}
panels: {panels}
keyframes:
  - q: {{mean: 3, std: 0.5}}
    caption: q moves onto a mode
  - q: {{mean: 0, std: 2.5}}
    caption: a wide q covers both modes, and this caption is long enough to wrap
"""


def write(folder: Path, bars: list[str], panels: list[str], markers: bool = True) -> Path:
    path = folder / f"{'-'.join(bars)}--{'-'.join(panels) or 'none'}--{markers}.yaml"
    path.write_text(CONFIG.format(bars=bars, panels=panels, markers=str(markers).lower()))
    return path


def frame_settings(width: int, height: int, media: Path) -> dict:
    return {
        "pixel_width": width,
        "pixel_height": height,
        "frame_height": 8.0,
        "frame_width": 8.0 * width / height,
        "verbosity": "ERROR",
        "media_dir": str(media),
    }


def box(mob) -> tuple[float, float, float, float]:
    """(left, bottom, right, top) of a mobject's points, in scene units."""
    return (mob.get_left()[0], mob.get_bottom()[1], mob.get_right()[0], mob.get_top()[1])


def overlap(a, b) -> float:
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    return max(width, 0.0) * max(height, 0.0)


def check_names(scene: KLScene) -> None:
    """The names p and q: inside the plot, apart, and clear of both curves (peaks too)."""
    left, bottom, right, top = scene.axes.plot_box()
    names = {"p": box(scene.p_name), "q": box(scene.q_name)}
    for name, (x0, y0, x1, y1) in names.items():
        assert left <= x0 and x1 <= right and bottom <= y0 and y1 <= top, (name, names[name])
        for curve in (scene.p_curve, scene.q_curve):
            points = curve.points[:, :2]
            inside = (
                (points[:, 0] > x0)
                & (points[:, 0] < x1)
                & (points[:, 1] > y0)
                & (points[:, 1] < y1)
            )
            assert not inside.any(), f"{name} {names[name]} covers {points[inside][:3]}"
    assert overlap(names["p"], names["q"]) == 0, names


def check_layout(scene: KLScene, frame_w: float, frame_h: float) -> None:
    check_names(scene)
    regions = {name: box(mob) for name, mob in scene.layout_regions().items()}
    margin = 0.1 * scene.unit
    for name, (left, bottom, right, top) in regions.items():
        assert left >= -frame_w / 2 + margin and right <= frame_w / 2 - margin, (name, left, right)
        assert bottom >= -frame_h / 2 + margin and top <= frame_h / 2 - margin, (name, bottom, top)
    for (a, box_a), (b, box_b) in itertools.combinations(regions.items(), 2):
        assert overlap(box_a, box_b) == 0, f"{a} {box_a} overlaps {b} {box_b}"


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("layout")


@pytest.mark.parametrize("aspect", ASPECTS)
@pytest.mark.parametrize("panels", PANELS)
@pytest.mark.parametrize("bars", BARS)
def test_nothing_overlaps_or_leaves_the_frame(folder, bars, panels, aspect):
    width, height = ASPECTS[aspect]
    path = write(folder, BARS[bars], PANELS[panels])
    with tempconfig(frame_settings(width, height, folder / "media")):
        from manim import config

        plan = build_plan(load(path), 5, "text")
        assert plan.bars == tuple(BARS[bars]) and plan.panels == tuple(PANELS[panels])
        scene = KLScene(plan)
        scene.build()
        assert set(scene.bars) == set(BARS[bars])
        assert (scene.integrand_panel is not None) == ("integrand" in PANELS[panels])
        assert (scene.trace_panel is not None) == ("trace" in PANELS[panels])
        n = len(plan.frames)
        for i in (0, n // 3, 2 * n // 3, n - 1):
            scene.show(i)
            assert scene.marker_slot.submobjects, "p never moves: the markers always show"
            check_layout(scene, config.frame_width, config.frame_height)
        # The widest numbers a bar can show, and the overflow chevron, stay in place too.
        for name, bar in scene.bars.items():
            bar.set_value(12345.6 if name not in BAR_BOUNDS else 0.999)
        check_layout(scene, config.frame_width, config.frame_height)
        # The main plot keeps a fair share of the frame whatever else is shown.
        left, bottom, right, top = scene.axes.plot_box()
        assert right - left >= 0.3 * config.frame_width
        assert top - bottom >= 0.15 * config.frame_height
        if height > width:
            # Portrait: the plot spans the width, the bars stand below it.
            assert right - left >= 0.75 * config.frame_width
            assert top - bottom >= 0.25 * config.frame_height
            for bar in scene.bars.values():
                assert box(bar)[3] < scene.axes.get_bottom()[1]


NAMES = """\
p: {weights: [0.5, 0.5], means: [-2, 3], stds: [0.6, 1.0]}
q: {weights: [0.5, 0.5], means: [-2, 3], stds: [0.6, 1.0]}
defaults: {duration: 1, hold: 0.2}
style: {labels: text}
keyframes:
  - q: {means: [-2, -2], stds: [0.6, 0.6]}
  - q: {means: [-2, -2], stds: [0.3, 0.3]}
  - q: {means: [3, 3], stds: [1.0, 1.0]}
  - p: {weights: [0.5, 0.5], means: [3, 3], stds: [1.0, 1.0]}
  - q: {means: [-4, 5], stds: [3, 3]}
  - p: {means: [-3.9, -4.1], stds: [0.2, 0.2]}
"""


@pytest.mark.parametrize("aspect", ["16:9", "1:1", "9:16"])
def test_the_names_never_cover_each_other_or_the_curves(folder, aspect):
    # Coincident curves (the first and fourth states), q on one of p's modes, q a spike
    # inside p, p a spike inside a wide q; the x and y ranges are fitted, so peaks reach
    # near the top of the plot.
    path = folder / "names.yaml"
    path.write_text(NAMES)
    width, height = ASPECTS[aspect]
    with tempconfig(frame_settings(width, height, folder / "media")):
        plan = build_plan(load(path), 5, "text")
        scene = KLScene(plan)
        scene.build()
        f = plan.frames
        coincident = [
            i
            for i in range(len(f))
            if np.array_equal(f.p.means[i], f.q.means[i])
            and np.array_equal(f.p.stds[i], f.q.stds[i])
        ]
        assert 0 in coincident and len(coincident) > 2
        spots = []
        for i in range(len(f)):
            scene.show(i)
            check_names(scene)
            spots.append((scene.p_name.get_center(), scene.q_name.get_center()))
        # A pure function of the frame: shown again, out of order, each name is where it was.
        for i in (len(f) - 1, 0, len(f) // 2):
            scene.show(i)
            # (up to the rounding of moving a mobject by the difference of two centres)
            assert np.allclose(scene.p_name.get_center(), spots[i][0], rtol=0, atol=1e-9)
            assert np.allclose(scene.q_name.get_center(), spots[i][1], rtol=0, atol=1e-9)


def test_bars_show_their_divergence_on_its_own_scale(folder):
    path = write(folder, BARS["all"], [], markers=False)
    with tempconfig(frame_settings(160, 90, folder / "media")):
        plan = build_plan(load(path), 5, "text")
        scene = KLScene(plan)
        scene.build()
        scene.show(7)
        f = plan.frames
        for name, bar in scene.bars.items():
            assert bar.value == pytest.approx(f.values(name)[7], rel=1e-12)
        assert scene.bars["js"].bar_max == pytest.approx(math.log(2))
        assert scene.bars["tv"].bar_max == scene.bars["hellinger"].bar_max == 1.0
        assert scene.bars["forward"].bar_max == scene.bars["reverse"].bar_max == plan.bar_max
        # Bounded bars never overflow (a hair above the bound is rounding); KL bars do.
        scene.bars["tv"].set_value(1 + 1e-11)
        assert len(scene.bars["tv"].overflow_mark.points) == 0
        scene.bars["forward"].set_value(2 * plan.bar_max)
        assert len(scene.bars["forward"].overflow_mark.points) > 0
        # JS, TV and Hellinger only when their bars are shown.
        plain = build_plan(load(write(folder, ["forward"], [], False)), 5, "text")
        assert plain.frames.js is None and plain.frames.tv is None


def test_integrand_areas_are_the_kls():
    p = (np.array([[0.5, 0.5]]), np.array([[-2.0, 3.0]]), np.array([[0.6, 1.0]]))
    q = (np.array([[1.0]]), np.array([[0.5]]), np.array([[1.3]]))
    xs, forward, reverse = sample_integrands(p, q, (-12.0, 14.0), n=4000)
    from kldemo.core.divergences import forward_kl, reverse_kl

    assert np.trapezoid(forward[0], xs[0]) == pytest.approx(forward_kl(p, q)[0], rel=1e-4)
    assert np.trapezoid(reverse[0], xs[0]) == pytest.approx(reverse_kl(p, q)[0], rel=1e-4)
    assert forward.min() < 0 and reverse.min() < 0  # both dip below zero somewhere


def test_markers_show_only_while_p_stays_put(folder):
    path = folder / "moving-p.yaml"
    path.write_text(
        "p: {means: [-2, 2], stds: [0.5, 0.5]}\nq: {mean: 0, std: 1}\n"
        "defaults: {duration: 1, hold: 1}\nstyle: {markers: true}\n"
        "keyframes:\n  - q: {mean: 2}\n  - p: {means: [-3, 3]}\n"
    )
    plan = build_plan(load(path), 10, "text")
    index, t = plan.frames.optimum, plan.frames.t
    assert len(plan.optima) == 2  # one set for each p at rest
    assert np.all(index[t < 2] == 0)  # q moves, then holds: p is at rest throughout
    assert np.all(index[(t > 2) & (t < 3)] == -1)  # p moves
    assert np.all(index[t > 3] == 1)  # p holds at its new state
    forward, *reverse = plan.optima[0]
    assert forward.kind == "forward" and forward.mean == pytest.approx(0.0, abs=1e-9)
    assert forward.std == pytest.approx(math.sqrt(0.25 + 4), rel=1e-9)  # moment matching
    assert {o.kind for o in reverse} == {"reverse"} and len(reverse) >= 2


@pytest.mark.render
def test_a_video_with_panels_and_markers(folder, tmp_path):
    path = write(folder, ["forward", "reverse", "js"], ["integrand", "trace"])
    out = tmp_path / "panels.mp4"
    result = kldemo(
        "render", path, "-r", "320,180", "--fps", "5", "--progress", "none", "--no-cache", "-o", out
    )
    assert result.returncode == 0, result.stderr
    frames, stream, _ = decode(out)
    assert len(frames) == round(2 * 1.4 * 5)
    assert (stream.width, stream.height) == (320, 180)

    def change(a: int, b: int) -> float:
        return float(np.abs(frames[a].astype(int) - frames[b].astype(int)).mean())

    # During keyframe 0's hold (t = 1 to 1.4 s) only the trace moves on: a few pixels.
    assert 0 < change(5, 6) < 1
    assert change(2, 3) > change(5, 6)  # in a transition much more changes
    still = tmp_path / "still.png"
    result = kldemo("still", path, "--at", "1.2", "-r", "320,180", "--fps", "5", "-o", still)
    assert result.returncode == 0, result.stderr
    from PIL import Image

    image = np.asarray(Image.open(still).convert("RGB")).astype(int)
    differences = [float(np.abs(image - f).mean()) for f in frames]
    # the video's frame at 1.2 s, up to the codec (x264 at 320×180 blurs thin lines)
    assert differences[6] < 3.5 and int(np.argmin(differences)) == 6, differences
