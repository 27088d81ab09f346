"""The 2-D picture: HDR levels and contours against closed forms and grid sums, the plane's
layout (pure and drawn) at 16:9, 1:1 and 9:16, equal scale, and frames that show p and q
where their contours are, in either style, with markers and the heat map."""

from __future__ import annotations

import itertools
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from kldemo.scenes.contours import (
    HDR_MASSES,
    ContourGrid,
    gaussian_ellipse,
    gaussian_log_levels,
    hdr_log_levels,
    log_density_grid,
    simplify_paths,
    small_rings,
)
from kldemo.scenes.layout import frame_area
from kldemo.scenes.plane_layout import plane_layout
from manim import tempconfig
from scipy import stats

from kldemo.core.plane import PlaneMixture, forward_kl, log_density, reverse_kl
from kldemo.plan.frames import FrameStates, PlaneOptimum, ScenePlan

from .test_scene_layout import ASPECTS, measures

MASSES = np.array(HDR_MASSES)
COV = np.array([[1.2, 0.5], [0.5, 0.8]])
MIXTURES = {
    "overlapping": PlaneMixture(
        [0.4, 0.6],
        [[-1.5, 0.5], [1.2, -0.3]],
        [[[1.0, 0.3], [0.3, 0.6]], [[0.5, -0.2], [-0.2, 1.2]]],
    ),
    "apart": PlaneMixture([0.5, 0.5], [[-2.5, -1.0], [2.5, 1.0]], [np.eye(2) * 0.5, np.eye(2)]),
    "three": PlaneMixture(
        [0.2, 0.5, 0.3], [[0, 2], [-1.5, -1], [1.5, -1]], [np.eye(2) * 0.4, COV, COV[::-1, ::-1]]
    ),
}


def grid_mass(m: PlaneMixture, log_levels, half: float = 9.0, n: int = 1801) -> np.ndarray:
    """The mass of ``m`` where its log density is at least each level, by a grid sum."""
    xs = np.linspace(-half, half, n)
    x, y = np.meshgrid(xs, xs)
    log_p = log_density(np.stack([x.ravel(), y.ravel()], -1), m)
    order = np.sort(log_p)[::-1]
    mass = np.cumsum(np.exp(order)) * (xs[1] - xs[0]) ** 2
    return mass[np.searchsorted(-order, -np.asarray(log_levels), side="right") - 1]


# -- levels ---------------------------------------------------------------------------------


def test_a_gaussians_levels_are_its_ellipses_densities():
    levels = gaussian_log_levels(COV)
    # The HDR of mass α is the ellipse r² = χ²₂ quantile; the density on it, e^{-r²/2}/(2π√det).
    r2 = stats.chi2(2).ppf(MASSES)
    expected = -r2 / 2 - np.log(2 * np.pi * math.sqrt(np.linalg.det(COV)))
    np.testing.assert_allclose(levels, expected, rtol=1e-12)
    # The mixture method, given one Gaussian twice or beside a weightless one, agrees.
    twice = PlaneMixture([0.5, 0.5], [[0.3, 0.1], [0.3, 0.1]], [COV, COV])
    weightless = PlaneMixture([1.0, 0.0], [[0.3, 0.1], [4, 4]], [COV, np.eye(2)])
    for m in (twice, weightless):
        np.testing.assert_allclose(hdr_log_levels(m), expected, rtol=1e-9)
    np.testing.assert_allclose(
        grid_mass(PlaneMixture.gaussian([0, 0], COV), levels), MASSES, atol=2e-4
    )


@pytest.mark.parametrize("name", MIXTURES)
def test_a_mixtures_level_holds_its_mass(name):
    m = MIXTURES[name]
    levels = hdr_log_levels(m)
    assert np.all(np.diff(levels) < 0)  # more mass, lower density
    np.testing.assert_allclose(grid_mass(m, levels), MASSES, atol=1e-3)


def test_levels_move_smoothly_with_the_parameters():
    # Two modes drawing apart: no sampling noise, so the levels' second differences are tiny.
    t = np.linspace(0.0, 1.0, 201)[:, None]
    means = np.stack([np.hstack([-1 - 2 * t, 0 * t]), np.hstack([1 + 2 * t, 0.5 * t])], axis=1)
    p = PlaneMixture(np.tile([0.4, 0.6], (201, 1)), means, np.broadcast_to(COV, (201, 2, 2, 2)))
    levels = hdr_log_levels(p)
    assert levels.shape == (201, 4)
    steps = np.abs(np.diff(levels, axis=0))
    bends = np.abs(np.diff(levels, n=2, axis=0))
    # No jumps, and smooth but for small kinks (where a level crosses a ray's node; a
    # contour then turns by under 1% of a standard deviation): levels from random samples
    # would bend by about as much as they step, in every frame.
    assert 0 < steps.max() < 0.05
    assert bends.mean() < 0.05 * steps.max() and bends.max() < 5e-3
    # The same states in another order (and repeated) give the same levels.
    order = np.r_[np.arange(200, -1, -1), 0]
    np.testing.assert_array_equal(hdr_log_levels(p.take(order)), levels[order])


# -- contours -------------------------------------------------------------------------------


def test_a_gaussians_contours_lie_on_its_ellipses():
    m = PlaneMixture.gaussian([0.5, -0.3], COV)
    grid = ContourGrid(np.linspace(-5, 5, 161), np.linspace(-4, 4, 129))
    levels = gaussian_log_levels(COV)
    lines = grid.lines(log_density_grid(m, grid.xs, grid.ys), levels)
    inverse = np.linalg.inv(COV)
    for mass, (points, offsets) in zip(MASSES, lines, strict=True):
        assert len(offsets) == 2 and np.array_equal(points[0], points[-1])  # one closed loop
        d = points - [0.5, -0.3]
        radius = np.sqrt(np.einsum("ni,ij,nj->n", d, inverse, d))
        np.testing.assert_allclose(radius, math.sqrt(-2 * math.log1p(-mass)), rtol=3e-3)
        ring = gaussian_ellipse([0.5, -0.3], COV, mass)
        d = ring[:-1] - [0.5, -0.3]
        np.testing.assert_allclose(np.einsum("ni,ij,nj->n", d, inverse, d), -2 * math.log1p(-mass))
    # No wobble: moved by fractions of a cell, the traced 25% ellipse keeps to the true one.
    cell = grid.xs[1] - grid.xs[0]
    for shift in np.linspace(0.0, 1.0, 11) * cell:
        mean = np.array([0.5 + shift, -0.3 + 0.7 * shift])
        moved = PlaneMixture.gaussian(mean, COV)
        (points, _), *_ = grid.lines(log_density_grid(moved, grid.xs, grid.ys), levels[:1])
        d = points - mean
        radius = np.sqrt(np.einsum("ni,ij,nj->n", d, inverse, d))
        assert np.abs(radius / math.sqrt(-2 * math.log1p(-0.25)) - 1).max() < 3e-3


def test_contours_are_clipped_to_the_grid_and_regions_close_along_it():
    m = PlaneMixture.gaussian([2.0, 0.0], np.eye(2))  # its outer ellipses run past x = 3
    grid = ContourGrid(np.linspace(-3, 3, 121), np.linspace(-3, 3, 121))
    values = log_density_grid(m, grid.xs, grid.ys)
    levels = gaussian_log_levels(np.eye(2))
    lines, regions = grid.lines(values, levels), grid.regions(values, levels)
    for points, _ in (*lines, *regions):
        assert np.all(np.abs(points) <= 3 + 1e-12)
    inner, _ = lines[0]  # the 25% ellipse (radius 0.76) is whole
    assert np.array_equal(inner[0], inner[-1])
    outer, _ = lines[-1]  # the 95% one (radius 2.45) is cut open at the edge...
    assert not np.array_equal(outer[0], outer[-1])
    assert np.isclose(outer[[0, -1], 0], 3).all()
    region, offsets = regions[-1]  # ...and its region closed along it
    assert len(offsets) == 2 and np.array_equal(region[0], region[-1])
    assert np.isclose(region[:, 0], 3).sum() >= 2


def test_simplified_paths_stay_within_the_tolerance():
    theta = np.linspace(0, 2 * np.pi, 301)
    ring = np.stack([3 * np.cos(theta), 2 * np.sin(theta)], -1)
    ring[-1] = ring[0]
    line = np.stack([np.linspace(0, 1, 40), np.linspace(0, 1, 40) ** 3], -1)
    points, offsets = simplify_paths((np.vstack([ring, line]), np.array([0, 301, 341])), 1e-3)
    assert len(points) < 0.6 * 341 and len(offsets) == 3
    for (start, end), original in zip(itertools.pairwise(offsets), (ring, line), strict=True):
        kept = points[start:end]
        assert np.array_equal(kept[0], original[0]) and np.array_equal(kept[-1], original[-1])
        # every original vertex lies within the tolerance of the simplified polyline
        a, b = kept[:-1], kept[1:]
        ab = b - a
        t = np.clip(
            np.einsum("mij,ij->mi", original[:, None] - a, ab) / np.einsum("ij,ij->i", ab, ab),
            0,
            1,
        )
        gap = np.linalg.norm(original[:, None] - (a + t[..., None] * ab), axis=-1).min(axis=1)
        assert gap.max() <= 1e-3 + 1e-12


# -- plans and scenes ------------------------------------------------------------------------


def plane_plan(
    n: int = 12,
    theme: str = "dark",
    contours: str = "lines",
    panels: tuple[str, ...] = (),
    optima: bool = True,
    apart: bool = False,
    bars: tuple[str, ...] = ("forward", "reverse"),
) -> ScenePlan:
    """p: two modes circling; q: one Gaussian sliding and widening (or, ``apart``, both
    still and well apart, for checking colours)."""
    t = np.linspace(0.0, 1.0, n)
    turn = 2 * np.pi * t[:, None]
    shift = 0.4 * np.hstack([np.cos(turn), np.sin(turn)]) * (not apart)
    means = np.stack([np.array([-2.5, 1.0]) + shift, np.array([-1.5, -1.5]) - shift], axis=1)
    covs = np.array([[[0.5, 0.2], [0.2, 0.4]], [[0.35, -0.1], [-0.1, 0.6]]])
    p = PlaneMixture(np.tile([0.45, 0.55], (n, 1)), means, np.broadcast_to(covs, (n, 2, 2, 2)))
    grow = 0.6 + (0 if apart else 1.2) * t
    q_covs = np.zeros((n, 1, 2, 2))
    q_covs[:, 0, 0, 0], q_covs[:, 0, 1, 1], q_covs[:, 0, 0, 1] = grow, 0.7 * grow, 0.1 * grow
    q_covs[:, 0, 1, 0] = q_covs[:, 0, 0, 1]
    q_mean = np.stack([2.5 - (0 if apart else 2.5) * t, 0 * t], -1)[:, None]
    q = PlaneMixture(np.ones((n, 1)), q_mean, q_covs)
    marked = None
    if optima:
        marked = np.zeros(n, dtype=int)
        optima = ((
            PlaneOptimum("forward", (-2.0, -0.3), ((1.0, 0.5), (0.5, 1.8))),
            PlaneOptimum("reverse", (-1.5, -1.5), ((0.35, -0.1), (-0.1, 0.6))),
        ),)  # fmt: skip
    frames = FrameStates(
        3 * t, p, q, forward_kl(p, q), reverse_kl(p, q), np.where(t < 0.5, 0, 1), optimum=marked
    )
    return ScenePlan(
        frames, (-5.0, 5.0), (-4.0, 4.0), 3.0, theme=theme, title="KL in the plane",
        captions=("q starts narrow, apart from p", "q widens over p's modes"),
        bars=bars, panels=panels, integrand_range=(-0.05, 0.2) if "integrand" in panels else None,
        duration=3.0, optima=optima or (), contours=contours,
    )  # fmt: skip


def settings(width: int, height: int, media: Path) -> dict:
    return {
        "pixel_width": width,
        "pixel_height": height,
        "frame_height": 8.0,
        "frame_width": 8.0 * width / height,
        "verbosity": "ERROR",
        "media_dir": str(media),
    }


def built(plan: ScenePlan):
    """The plan's scene, built under the current manim settings."""
    from kldemo.scenes.plane_scene import PlaneScene

    scene = PlaneScene(plan)
    scene.build()
    return scene


def bounds(mob) -> tuple[float, float, float, float]:
    return (mob.get_left()[0], mob.get_bottom()[1], mob.get_right()[0], mob.get_top()[1])


def overlap(a, b) -> float:
    return max(min(a[2], b[2]) - max(a[0], b[0]), 0.0) * max(min(a[3], b[3]) - max(a[1], b[1]), 0.0)


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("plane-media")


# -- the layout -----------------------------------------------------------------------------

PIXELS = {"16:9": (320, 180), "1:1": (200, 200), "9:16": (180, 320)}
SHOWN = {
    "bars": ((), False),
    "markers": ((), True),
    "panels": (("integrand", "trace"), True),
}


@pytest.mark.parametrize("aspect", PIXELS)
@pytest.mark.parametrize("shown", SHOWN)
def test_the_pure_plane_layout_keeps_apart_inside_and_at_equal_scale(aspect, shown):
    panels, markers = SHOWN[shown]
    width, height = ASPECTS[aspect]
    unit, _ = frame_area(width, height)
    bars = ["forward", "reverse"]
    m = measures(bars, list(panels), unit, width)
    for x_range, y_range in (((-5.0, 5.0), (-4.0, 4.0)), ((-2.0, 2.0), (-6.0, 6.0))):
        layout = plane_layout(width, height, m, bars, panels, x_range, y_range, 3.0, markers)
        plot = layout.plot
        aspect = (x_range[1] - x_range[0]) / (y_range[1] - y_range[0])
        assert plot.width / plot.height == pytest.approx(aspect, rel=1e-9)
        assert layout.axes.contains(plot) and layout.axes.contains(layout.y_labels)
        regions = layout.regions()
        frame = layout.frame
        for name, box in regions.items():
            assert frame.contains(box), (name, box)
        for (a, box_a), (b, box_b) in itertools.combinations(regions.items(), 2):
            assert box_a.overlap(box_b) < 1e-9, f"{a} {box_a} overlaps {b} {box_b}"
        assert (layout.marker_key is not None) == markers
        if layout.integrand is not None:
            heat = layout.integrand.plot
            assert heat.width / heat.height == pytest.approx(plot.width / plot.height, rel=1e-9)
            assert layout.integrand.box.contains(heat)
        assert plot.height >= 0.25 * frame.height or plot.width >= 0.45 * frame.width


def check_regions(scene, width: float, height: float) -> None:
    regions = {name: bounds(mob) for name, mob in scene.layout_regions().items()}
    margin = 0.1 * scene.unit
    for name, (left, bottom, right, top) in regions.items():
        assert left >= -width / 2 + margin and right <= width / 2 - margin, (name, left, right)
        assert bottom >= -height / 2 + margin and top <= height / 2 - margin, (name, bottom, top)
    for (a, box_a), (b, box_b) in itertools.combinations(regions.items(), 2):
        assert overlap(box_a, box_b) == 0, f"{a} {box_a} overlaps {b} {box_b}"
    # The names: inside the plot and apart.
    left, bottom, right, top = scene.axes.plot_box()
    names = [bounds(scene.p_name), bounds(scene.q_name)]
    for x0, y0, x1, y1 in names:
        assert left <= x0 and x1 <= right and bottom <= y0 and y1 <= top
    assert overlap(*names) == 0


@pytest.mark.parametrize("aspect", PIXELS)
@pytest.mark.parametrize("shown", SHOWN)
def test_the_drawn_layout_keeps_apart_inside_and_at_equal_scale(media, aspect, shown):
    panels, markers = SHOWN[shown]
    plan = plane_plan(panels=panels, optima=markers)
    with tempconfig(settings(*PIXELS[aspect], media)):
        from manim import config

        scene = built(plan)
        assert (scene.integrand_panel is not None) == ("integrand" in panels)
        for i in (0, 5, len(plan.frames) - 1):
            scene.show(i)
            assert bool(scene.marker_slot.submobjects) == markers
            check_regions(scene, config.frame_width, config.frame_height)
        # Equal scale: a unit of x is a unit of y on screen, and the plot is the view's shape.
        _, ex, ey = scene.axes.affine()
        assert ex[0] == pytest.approx(ey[1], rel=1e-12) and ex[1] == ey[0] == 0
        left, bottom, right, top = scene.axes.plot_box()
        assert (right - left) / (top - bottom) == pytest.approx(10 / 8, rel=1e-9)
        assert scene.axes.x_range[2] == scene.axes.y_range[2]  # one tick step


def test_a_frame_is_a_pure_function_of_its_index(media):
    plan = plane_plan(n=30)
    with tempconfig(settings(320, 180, media)):
        scene = built(plan)
        seen = {}
        for i in (3, 17, 29):
            scene.show(i)
            seen[i] = [m.points.copy() for m in scene._density_parts()] + [
                scene.p_name.get_center(),
                scene.q_name.get_center(),
            ]
        for i in (29, 3, 17):
            scene.show(i)
            now = [m.points for m in scene._density_parts()]
            now += [scene.p_name.get_center(), scene.q_name.get_center()]
            for a, b in zip(seen[i], now, strict=True):
                np.testing.assert_allclose(a, b, rtol=0, atol=1e-9)


# -- pixels ----------------------------------------------------------------------------------


def rgb(color: str) -> np.ndarray:
    return np.array([int(color[k : k + 2], 16) for k in (1, 3, 5)], dtype=float)


def to_pixels(points: np.ndarray, width: int, height: int) -> np.ndarray:
    """Scene points (N, ≥2) as (row, column) pixel indices of a frame 8 units high."""
    scale = height / 8.0
    columns = np.round(points[:, 0] * scale + width / 2).astype(int)
    rows = np.round(height / 2 - points[:, 1] * scale).astype(int)
    return np.stack([rows, columns], -1)


def nearest_role(pixel: np.ndarray, colors: dict[str, str], background: str) -> str:
    """Which of ``colors`` the pixel shows (as a line's edge shows it: blended over the
    background), or "background" where it shows none of them."""
    under = rgb(background)
    fits = {}
    for name, color in colors.items():
        towards = rgb(color) - under
        share = float(np.clip((pixel - under) @ towards / (towards @ towards), 0, 1))
        fits[name] = (float(np.abs(under + share * towards - pixel).sum()), share)
    name = min(fits, key=lambda n: fits[n][0])
    return name if fits[name][1] > 0.1 else "background"


def strongest(pixels: np.ndarray, row: int, column: int, background: str) -> np.ndarray:
    """The pixel of the 3x3 around (row, column) farthest from the background: a thin
    line's most covered pixel."""
    window = pixels[row - 1 : row + 2, column - 1 : column + 2].reshape(-1, 3)
    return window[np.argmax(np.abs(window - rgb(background)).sum(axis=1))]


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_a_frame_shows_p_and_q_in_their_colours_where_their_contours_are(media, theme):
    plan = plane_plan(theme=theme, apart=True, optima=False)
    from kldemo.plan.theme import THEMES

    colors, background = {"p": plan.p_color, "q": plan.q_color}, THEMES[theme].background
    with tempconfig(settings(640, 360, media)):
        scene = built(plan)
        pixels = scene.capture(4)[..., :3].astype(float)
        for name, contours in (("p", scene.p_contours), ("q", scene.q_contours)):
            for line in contours.lines:  # every level, the outer ones fainter
                vertices = to_pixels(line.points[::4], 640, 360)
                assert len(vertices) > 8
                roles = [
                    nearest_role(strongest(pixels, r, c, background), colors, background)
                    for r, c in vertices
                ]
                assert roles.count(name) >= 0.9 * len(roles), (name, roles)
        # and the background inside the innermost contours, in the lines style
        for m in (plan.frames.p, plan.frames.q):
            ((r, c),) = to_pixels(scene.axes.c2p(*m.means[4, -1])[None], 640, 360)
            assert nearest_role(pixels[r, c], colors, background) == "background"


def test_lines_and_filled_differ(media):
    frames = {}
    for style in ("lines", "filled"):
        plan = plane_plan(contours=style, apart=True, optima=False)
        with tempconfig(settings(640, 360, media)):
            scene = built(plan)
            assert bool(scene.q_contours.fills) == (style == "filled")
            frames[style] = scene.capture(4)[..., :3].astype(float)
            centre = to_pixels(scene.axes.c2p(2.5, 0.0)[None], 640, 360)[0]
    lines, filled = frames["lines"], frames["filled"]
    assert np.abs(lines - filled).mean() > 0.5
    # Inside q's innermost region the fill tints the background towards q's colour.
    r, c = centre
    q = rgb(plan.q_color)
    assert np.abs(filled[r, c] - q).sum() < np.abs(lines[r, c] - q).sum() - 30


def test_markers_are_dashed_ellipses_of_each_optimum(media):
    plan = plane_plan(optima=True)
    bare = plane_plan(optima=False)
    with tempconfig(settings(480, 270, media)):
        scene = built(plan)
        marked = scene.capture(2)[..., :3].astype(float)
        group = scene.marker_slot.submobjects[0]
        dashes = [m for m in group.submobjects if m is not scene._marker_key]
        assert len(dashes) == 2  # one per optimum, each its 50% and 95% ellipses
        left, bottom, right, top = scene.axes.plot_box()
        origin, ex, _ = scene.axes.affine()
        for optimum, mob in zip(plan.optima[0], dashes, strict=True):
            points = mob.points[:, :2]
            assert np.all((points[:, 0] >= left - 1e-9) & (points[:, 0] <= right + 1e-9))
            assert np.all((points[:, 1] >= bottom - 1e-9) & (points[:, 1] <= top + 1e-9))
            d = (points - origin[:2]) / ex[0] - optimum.mean
            radius2 = np.einsum("ni,ij,nj->n", d, np.linalg.inv(optimum.cov), d)
            rings = [-2 * math.log1p(-0.5), -2 * math.log1p(-0.95)]
            assert np.min(np.abs(radius2[:, None] - rings), axis=1).max() < 0.05
            # dashed: the dash ends leave gaps (the subpaths are many)
            ends, starts = mob.points[3::4, :2], mob.points[4::4, :2]
            assert np.any(np.linalg.norm(starts - ends[:-1], axis=1) > 1e-6)
    with tempconfig(settings(480, 270, media)):
        scene = built(bare)
        plain = scene.capture(2)[..., :3].astype(float)
        assert not scene.marker_slot.submobjects
    assert np.abs(marked - plain).mean() > 0.2


def test_the_heat_map_shows_p_log_p_over_q_in_their_colours(media):
    plan = plane_plan(panels=("integrand",), optima=False)
    with tempconfig(settings(640, 360, media)):
        scene = built(plan)
        scene.show(8)  # q wide over p's modes: p log(p/q) takes both signs
        panel = scene.integrand_panel
        rgba = panel.image.pixel_array.astype(int)
        values = scene._plane_chunk.heat[8 - scene._plane_chunk.start]
        assert rgba.shape[:2] == values.shape
        # p's colour where p log(p/q) > 0, q's where < 0; more opaque the larger it is.
        positive, negative = values > 0, values < 0
        assert np.all(rgba[positive][:, :3] == rgb(plan.p_color))
        assert np.all(rgba[negative][:, :3] == rgb(plan.q_color))
        assert rgba[positive][:, 3].max() == 255 and rgba[negative][:, 3].max() > 60
        order = np.argsort(values[positive])
        assert np.all(np.diff(rgba[positive][:, 3][order]) >= 0)
        hx, hy = scene._heat_grid  # pixel centres over the view, the top row first
        assert hx[0] > -5 and hx[-1] < 5 and hy[0] > hy[-1]
        # The map sits in its frame at the view's aspect, and is drawn opaque over it.
        left, bottom, right, top = bounds(panel.image)
        assert (right - left) / (top - bottom) == pytest.approx(10 / 8, rel=1e-6)
        assert rgba.shape[1] / rgba.shape[0] == pytest.approx(10 / 8, rel=0.05)
        frame = scene.capture(8)
        row, column = np.unravel_index(np.argmax(values), values.shape)
        x = left + (column + 0.5) / rgba.shape[1] * (right - left)
        y = top - (row + 0.5) / rgba.shape[0] * (top - bottom)
        r, c = to_pixels(np.array([[x, y]]), 640, 360)[0]
        colors = {"p": plan.p_color, "q": plan.q_color}
        assert nearest_role(frame[r, c, :3].astype(float), colors, "#0F0F14") == "p"


def test_the_drawer_draws_a_2d_plan_with_the_plane_scene(tmp_path):
    from kldemo.scenes.plane_scene import PlaneScene

    from kldemo.rendering.drawer import FrameDrawer
    from kldemo.rendering.video import VideoSettings

    video = VideoSettings.for_format("mp4", 160, 90, 10, False)
    drawer = FrameDrawer(plane_plan(n=4), video, False, tmp_path, labels_dir=tmp_path / "labels")
    assert isinstance(drawer.scene, PlaneScene)
    image = drawer.image(1)
    assert image.shape == (90, 160, 4) and image[..., :3].std() > 5


def test_a_spike_narrower_than_the_grid_is_drawn_as_its_own_ellipses(media):
    spike = np.eye(2) * 1e-6
    levels = gaussian_log_levels(spike)
    rings = small_rings(np.array([1.0]), np.array([[0.5, 0.5]]), spike[None], levels, 0.05)
    for mass, (points, offsets) in zip(MASSES, rings, strict=True):
        assert len(offsets) == 2 and np.array_equal(points[0], points[-1])
        radius2 = ((points - 0.5) ** 2).sum(axis=1) / 1e-6
        np.testing.assert_allclose(radius2, -2 * math.log1p(-mass), rtol=1e-9)
    wide = small_rings(np.array([1.0]), np.array([[0.5, 0.5]]), COV[None], levels, 0.05)
    assert all(len(offsets) == 1 for _, offsets in wide)  # the grid traces those
    # In a scene: p's modes as spikes still show, at their means.
    plan = plane_plan(n=3, optima=False)
    f = plan.frames
    p = PlaneMixture(f.p.weights, f.p.means, f.p.covs * 1e-6)
    plan = replace(plan, frames=replace(f, p=p))
    with tempconfig(settings(320, 180, media)):
        scene = built(plan)
        scene.show(1)
        origin, ex, _ = scene.axes.affine()
        for line in scene.p_contours.lines:
            points = (line.points[:, :2] - origin[:2]) / ex[0]
            nearest = np.linalg.norm(points[:, None] - p.means[1][None], axis=-1).min(axis=1)
            assert len(points) and nearest.max() < 0.01
