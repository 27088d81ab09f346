"""The KL-divergence scene in the plane: p and q as density contours at equal scale.

:class:`PlaneScene` draws frames of a 2-D :class:`~.plan.ScenePlan` (``plan.dims == 2``)
as :class:`~.kl_scene.KLScene` draws 1-D ones, and is driven the same way::

    scene = PlaneScene(plan)
    scene.build()
    pixels = scene.capture(i)

What differs: the axes (:class:`~.plane_axes.PlaneAxes`, the plot carved at the view's
aspect by :func:`~.plane_layout.plane_layout`), the curves (the contours of the highest-
density regions of 25, 50, 75 and 95% of each density, lines or filled), the names (beside
their contours), the optimum markers (dashed ellipses) and the integrand panel (a heat map
of p·log(p/q)). Bars, numbers, title, captions and the trace panel are KLScene's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from manim import UL, Mobject, VGroup, config
from PIL import Image

from kldemo.plan.frames import ScenePlan

from .boxes import Box, Layout, Measures
from .camera import KLCamera
from .contours import (
    ContourGrid,
    Paths,
    gaussian_ellipse,
    hdr_log_levels,
    joined,
    log_density_grid,
    name_anchors,
    place_plane_names,
    simplify_levels,
    small_rings,
)
from .dimensions import (
    AXIS_STROKE,
    CONTOUR_CELL_PX,
    CONTOUR_FILL_SHARE,
    CONTOUR_STROKE,
    CONTOUR_TOLERANCE_PX,
    HEAT_CELL_PX,
    LEGEND_FONT,
    LEGEND_GAP,
    LEGEND_STROKE,
    LEGEND_SWATCH,
    NAME_PAD,
    NAME_SIZE,
    P_CONTOUR_SCALE,
    PANEL_KEY_SIZE,
)
from .kl_scene import KLScene
from .markers import PLANE_MARKER_MASSES
from .paths import line_mob
from .plane_axes import DensityContours, HeatMapPanel, PlaneAxes, diverging_rgba
from .plane_layout import plane_layout
from .text import MATH_FONT, TEX_SCALE, curve_name_label, fit_legend, pango_markup

__all__ = ["PlaneCamera", "PlaneChunk", "PlaneScene"]

_GRID_BUDGET = 1_500_000  # grid points (frames × cells) sampled per numpy batch
_MAX_CHUNK = 60  # frames per batch at most
#: In the filled style, the contour strokes are this much of the lines style's.
_FILLED_STROKE = 0.55


class PlaneCamera(KLCamera):
    """:class:`~.camera.KLCamera`, blending upright images into their own rectangle.

    manim's camera composites an image over the whole frame (a full-frame image and an
    alpha blend of every pixel); the heat map is small and never turned, so it is resized
    to its rectangle and blended there (PIL's alpha_composite, as manim's).
    """

    def display_image_mobject(self, image_mobject, pixel_array: np.ndarray) -> None:
        corners = self.points_to_subpixel_coords(image_mobject, image_mobject.points)
        (x0, y0), (x1, y1) = np.rint(corners.min(axis=0)), np.rint(corners.max(axis=0))
        x0, y0, x1, y1 = int(x0), int(y0), int(x1), int(y1)
        height, width = pixel_array.shape[:2]
        left, top, right, bottom = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
        if right <= left or bottom <= top:
            return
        image = Image.fromarray(image_mobject.get_pixel_array(), mode="RGBA")
        image = image.resize((x1 - x0, y1 - y0), resample=image_mobject.resampling_algorithm)
        image = image.crop((left - x0, top - y0, right - x0, bottom - y0))
        under = Image.fromarray(pixel_array[top:bottom, left:right], mode="RGBA")
        pixel_array[top:bottom, left:right] = np.asarray(Image.alpha_composite(under, image))


@dataclass
class PlaneChunk:
    """The sampled densities of a batch of consecutive frames, from frame ``start``: log
    densities on the contour grid (frames, ny, nx), the HDR levels (frames, 4), the points
    the names belong to (frames, 2), and the heat map's values (frames, rows, columns)."""

    start: int
    p_log: np.ndarray
    q_log: np.ndarray
    p_levels: np.ndarray
    q_levels: np.ndarray
    p_anchor: np.ndarray
    q_anchor: np.ndarray
    heat: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.p_log)


def _heat_label(colors: dict[str, str], labels: str, font_size: float, color: str) -> Mobject:
    """``p·log(p/q)``, in the names' colours: what the heat map shows (its integral over
    the plane is D_KL(p‖q), which the bar shows)."""
    if labels == "tex":
        from manim import MathTex

        mob = MathTex("p", r"\log(", "p", "/", "q", ")", font_size=TEX_SCALE * font_size)
        mob.set_color(color)
        for k, name in ((0, "p"), (2, "p"), (4, "q")):
            mob[k].set_color(colors[name])
        return mob
    p, q = (f'<span foreground="{colors[n]}"><i>{n}</i></span>' for n in ("p", "q"))
    return pango_markup(f"{p}·log({p}/{q})", font=MATH_FONT, font_size=font_size, color=color)


def _two_colour_swatch(left: str, right: str, width: float, stroke_width: float) -> VGroup:
    """A legend swatch half in ``left``'s colour, half in ``right``'s: a diverging key."""
    halves = (([0.0, 0, 0], [width / 2, 0, 0], left), ([width / 2, 0, 0], [width, 0, 0], right))
    return VGroup(*(line_mob(np.array([a, b]), color, stroke_width) for a, b, color in halves))


class PlaneScene(KLScene):
    """p and q as density contours in the plane, and bars for KL(p‖q) and KL(q‖p).

    Parameters
    ----------
    plan
        A 2-D plan (``plan.dims == 2``): every frame's state, the view and the style.
    **kwargs
        Passed to :class:`manim.Scene`.
    """

    def __init__(self, plan: ScenePlan, **kwargs):
        if plan.dims != 2:
            raise ValueError("PlaneScene draws 2-D plans (plan.dims == 2); use KLScene")
        kwargs.setdefault("camera_class", PlaneCamera)
        self._plane_chunk: PlaneChunk | None = None
        self._pristine: dict[str, list] = {}
        super().__init__(plan, **kwargs)

    # ------------------------------------------------------------------ building

    def _layout(self, width: float, height: float, measures: Measures) -> Layout:
        p = self.plan
        return plane_layout(
            width, height, measures, p.bars, p.panels, p.x_range, p.y_range, p.bar_max,
            bool(p.optima),
        )  # fmt: skip

    def _texts(self, area: Box):
        """KLScene's texts; the heat map's key has one entry: p·log(p/q), q's colour where
        it is negative and p's where positive."""
        parts = super()._texts(area)
        plan, s = self.plan, self.unit
        if "integrand" not in plan.panels:
            return parts
        colors = {"p": plan.p_color, "q": plan.q_color}
        swatch = _two_colour_swatch(
            plan.q_color, plan.p_color, LEGEND_SWATCH * LEGEND_FONT * s, LEGEND_STROKE * s
        )
        label = _heat_label(colors, plan.labels, PANEL_KEY_SIZE * s, self.theme.text)
        self._entries["integrand"] = [(swatch, label)]
        key = ((swatch.width, label.width, label.height),)
        return replace(parts, measures=replace(parts.measures, integrand_key=key))

    def _key_height(self, name: str, box: Box) -> float:
        """KLScene's, from the legend's entries as first made: the plane's layout tries
        several boxes, and a legend moves and scales its entries in place."""
        parts = [part for entry in self._entries[name] for part in entry]
        pristine = self._pristine.setdefault(
            name,
            [
                (mob, mob.points.copy())
                for part in parts
                if isinstance(part, Mobject)
                for mob in part.family_members_with_points()
            ],
        )
        for mob, points in pristine:
            mob.points = points.copy()
        return super()._key_height(name, box)

    def _build_axes(self, layout: Layout) -> None:
        """The plane's axes on the layout's plot, the markers' key in its box (above the
        plot or beside it), and the contour grid: fixed over the view, a cell about
        CONTOUR_CELL_PX pixels wide."""
        plan, s, plot = self.plan, self.unit, layout.plot
        (x0, x1), (y0, y1) = plan.x_range, plan.y_range
        self.axes = PlaneAxes(
            plan.x_range, plan.y_range, plot.width / (x1 - x0), layout.y_step,
            glyphs=self.glyphs, digit_height=layout.tick_digit, color=self.theme.axis,
            label_color=self.theme.muted, stroke_width=AXIS_STROKE * s,
        )  # fmt: skip
        self.axes.shift(np.array([plot.left, plot.bottom, 0]) - self.axes.plot_corner)
        self._marker_key = key = self._keys.get("markers")
        box = layout.marker_key
        if key is not None and box is not None:
            key.move_to([box.left, box.top, 0], aligned_edge=UL)
            fit_legend(key, box.left, max(box.right, plot.right))
        pixels = config.pixel_width / config.frame_width
        nx = max(16, math.ceil(plot.width * pixels / CONTOUR_CELL_PX)) + 1
        ny = max(16, math.ceil(plot.height * pixels / CONTOUR_CELL_PX)) + 1
        self._grid = ContourGrid(np.linspace(x0, x1, nx), np.linspace(y0, y1, ny))
        self._tolerance = CONTOUR_TOLERANCE_PX / (pixels * plot.width / (x1 - x0))
        self._cell = max((x1 - x0) / (nx - 1), (y1 - y0) / (ny - 1))

    def _build_curves(self) -> None:
        """p's and q's contours, and their names."""
        plan, s = self.plan, self.unit
        filled = plan.contours == "filled"
        stroke = CONTOUR_STROKE * s * (_FILLED_STROKE if filled else 1.0)
        fill = CONTOUR_FILL_SHARE * self.theme.area_opacity
        # p drawn wider, under q: where q fits p exactly, p still shows round q's lines.
        self.p_contours = DensityContours(
            plan.p_color, P_CONTOUR_SCALE * stroke, filled, fill_opacity=fill
        )
        self.q_contours = DensityContours(plan.q_color, stroke, filled, fill_opacity=fill)
        self.p_name = curve_name_label("p", plan.p_color, plan.labels, NAME_SIZE * s)
        self.q_name = curve_name_label("q", plan.q_color, plan.labels, NAME_SIZE * s)
        self._name_sizes = [(m.width, m.height) for m in (self.p_name, self.q_name)]

    def _density_parts(self) -> list[Mobject]:
        """Both densities' fills (p's under q's), then their lines (p's under q's)."""
        p, q = self.p_contours, self.q_contours
        return [*p.fills, *q.fills, *p.lines, *q.lines]

    def _build_integrand(self, layout: Layout) -> HeatMapPanel:
        """The heat map of p·log(p/q) on the layout's plot of the integrand panel, a pixel
        about HEAT_CELL_PX wide, its key above it."""
        plan, box = self.plan, layout.integrand
        plot = box.plot
        pixels = config.pixel_width / config.frame_width
        columns = max(8, round(plot.width * pixels / HEAT_CELL_PX))
        rows = max(8, round(plot.height * pixels / HEAT_CELL_PX))
        panel = HeatMapPanel(
            plot.width, plot.height, (columns, rows), color=self.theme.axis,
            stroke_width=0.6 * AXIS_STROKE * self.unit, legend_gap=LEGEND_GAP * box.digit,
        )  # fmt: skip
        panel.shift([plot.left, plot.bottom, 0])
        key = self._keys["integrand"]
        fit_legend(key, box.legend.left, box.box.right)
        panel.set_legend(key, box.legend.left)
        (x0, x1), (y0, y1) = plan.x_range, plan.y_range
        # Pixel centres, the top row first.
        self._heat_grid = (
            x0 + (np.arange(columns) + 0.5) * (x1 - x0) / columns,
            y1 - (np.arange(rows) + 0.5) * (y1 - y0) / rows,
        )
        self._heat_range = plan.integrand_range
        if self._heat_range is None:  # no range in the plan: the first frame's, both ways
            first = plan.frames.take(slice(0, 1))
            log_p, log_q = (log_density_grid(m, *self._heat_grid) for m in (first.p, first.q))
            extent = max(float(np.abs(np.exp(log_p) * (log_p - log_q)).max()), 1e-12)
            self._heat_range = (-extent, extent)
        return panel

    def layout_regions(self) -> dict[str, Mobject]:
        """KLScene's regions; the markers' key is one of its own where it stands beside
        the plot (``marker_key``), and ``axes`` then holds the markers without it."""
        regions = super().layout_regions()
        key = self._marker_key
        if key is None or self.layout.axes.contains(self.layout.marker_key):
            return regions
        markers = [m for group in self.marker_slot.submobjects for m in group.submobjects]
        parts = [self.axes, *self._density_parts(), self.p_name, self.q_name]
        regions["axes"] = VGroup(*parts, *(m for m in markers if m is not key))
        if key in markers:
            regions["marker_key"] = key
        return regions

    # ------------------------------------------------------------------ frames

    @property
    def moving_parts(self) -> list[Mobject]:
        """What :meth:`show` changes every frame, in drawing order (above the static ones)."""
        dynamic = [*self._density_parts(), self.p_name, self.q_name]
        for bar in self.bars.values():
            dynamic += [bar.fill, bar.overflow_mark, bar.number]
        if self.integrand_panel is not None:  # its frame again, over the image's edge
            dynamic += [self.integrand_panel.image, self.integrand_panel.axes]
        if self.trace_panel is not None:
            dynamic += [*self.trace_panel.lines, *self.trace_panel.dots]
        return dynamic

    def _show_densities(self, i: int) -> None:
        """Set p's and q's contours, their names and the heat map to frame ``i``."""
        chunk = self._plane_chunk_of(i)
        j = i - chunk.start
        grid = self._grid
        filled = self.plan.contours == "filled"
        drawn = []
        frames = self.plan.frames
        for contours, m, values, levels in (
            (self.p_contours, frames.p, chunk.p_log[j], chunk.p_levels[j]),
            (self.q_contours, frames.q, chunk.q_log[j], chunk.q_levels[j]),
        ):
            # Spikes narrower than the grid's cells, drawn as their own ellipses.
            rings = small_rings(m.weights[i], m.means[i], m.covs[i], levels, self._cell)
            traced = simplify_levels(grid.lines(values, levels), self._tolerance)
            lines = [joined(a, b) for a, b in zip(traced, rings, strict=True)]
            regions = None
            if filled:
                traced = simplify_levels(grid.regions(values, levels), self._tolerance)
                regions = [joined(a, b) for a, b in zip(traced, rings, strict=True)]
            contours.set_paths(self.axes, lines, regions)
            drawn.append(lines)
        self._place_plane_names(i, drawn, (chunk.p_anchor[j], chunk.q_anchor[j]))
        if self.integrand_panel is not None:
            low, high = self._heat_range
            rgba = diverging_rgba(chunk.heat[j], low, high, self.plan.q_color, self.plan.p_color)
            self.integrand_panel.set_pixels(rgba)

    def _place_plane_names(self, i: int, drawn: list[list[Paths]], anchors) -> None:
        """Put each name just outside its density's outer contour, inside the plot, apart
        and off the contours and frame ``i``'s markers where it can (see
        :func:`~.contours.place_plane_names`)."""
        to_scene = self.axes.to_scene
        # Each name's rim: its outermost contour in view (a wide q's 95% may lie outside).
        outer = [next((p for p in lines[::-1] if len(p[0])), lines[-1]) for lines in drawn]
        rims = [(to_scene(points)[:, :2], offsets) for points, offsets in outer]
        vertices = [points for lines in drawn for points, _ in lines]
        obstacles = [to_scene(np.concatenate(vertices))[:, :2]]
        optimum = self.plan.frames.optimum
        if optimum is not None and 0 <= optimum[i] < len(self.plan.optima):
            # This frame's markers (show draws them after the densities): their ellipses.
            for marker in self.plan.optima[int(optimum[i])]:
                for mass in PLANE_MARKER_MASSES:
                    ring = gaussian_ellipse(marker.mean, marker.cov, mass, n=48)
                    obstacles.append(to_scene(ring)[:, :2])
        places = place_plane_names(
            rims,
            [to_scene(np.asarray(a, dtype=float)[None])[0, :2] for a in anchors],
            self._name_sizes,
            np.concatenate(obstacles),
            self.axes.plot_box(),
            NAME_PAD * self.unit,
        )
        for name, (cx, cy) in zip((self.p_name, self.q_name), places, strict=True):
            name.move_to([cx, cy, 0])

    def _plane_chunk_of(self, i: int) -> PlaneChunk:
        chunk = self._plane_chunk
        if chunk is not None and 0 <= i - chunk.start < len(chunk):
            return chunk
        plan = self.plan
        xs, ys = self._grid.xs, self._grid.ys
        cells = len(xs) * len(ys) * (plan.frames.p.n_components + plan.frames.q.n_components)
        size = int(min(_MAX_CHUNK, max(1, _GRID_BUDGET // cells)))
        start = i - i % size
        f = plan.frames.take(slice(start, start + size))
        chunk = PlaneChunk(
            start,
            log_density_grid(f.p, xs, ys),
            log_density_grid(f.q, xs, ys),
            hdr_log_levels(f.p),
            hdr_log_levels(f.q),
            name_anchors(f.p, plan.x_range, plan.y_range),
            name_anchors(f.q, plan.x_range, plan.y_range),
        )
        if self.integrand_panel is not None:
            hx, hy = self._heat_grid
            log_p, log_q = log_density_grid(f.p, hx, hy), log_density_grid(f.q, hx, hy)
            chunk.heat = np.exp(log_p) * (log_p - log_q)
        self._plane_chunk = chunk
        return chunk
