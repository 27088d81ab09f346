"""Axes for the plane at equal scale, density contours drawn on them, and a small heat map.

::

    axes = PlaneAxes((-4, 4), (-3, 3), scale=0.6)       # 1 unit of x or y = 0.6 scene units
    contours = DensityContours("#58C4DD", stroke_width=3, filled=False)
    contours.set_paths(axes, lines)                      # lines: contour_lines(...) per level
    self.add(axes, *contours.parts)

:meth:`DensityContours.set_paths` and :meth:`HeatMapPanel.set_pixels` change points and
pixels in place and create no mobjects.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from manim import (
    DOWN,
    LEFT,
    ORIGIN,
    RESAMPLING_ALGORITHMS,
    Group,
    ImageMobject,
    LineJointType,
    VectorizedPoint,
    VGroup,
    VMobject,
)

from .axes import PlotFrame
from .contours import Paths
from .dimensions import TICK_LABEL_GAP, TICK_LENGTH
from .numbers import format_tick, tick_values
from .paths import line_mob, segments_mob
from .text import GlyphNumber, GlyphSet

__all__ = [
    "DensityContours",
    "HeatMapPanel",
    "PlaneAxes",
    "diverging_rgba",
    "paths_points",
]


class PlaneAxes(PlotFrame):
    """The view's rectangle at equal scale, ticked every ``step`` on its bottom and left
    edges with numbers drawn from a :class:`GlyphSet`.

    ``scale`` is the scene length of one unit of x and of y alike. The plot spans
    ``scale·(x1 - x0)`` × ``scale·(y1 - y0)`` with its lower-left corner at the origin until
    moved; :meth:`coords_to_point` is vectorised and stays right after moves.
    """

    def __init__(
        self,
        x_range: Sequence[float],
        y_range: Sequence[float],
        scale: float,
        step: float,
        glyphs: GlyphSet | None = None,
        digit_height: float = 0.2,
        color: str = "#A0A0AA",
        label_color: str = "#D0D0D8",
        stroke_width: float = 2.0,
    ):
        super().__init__()
        x0, x1 = float(x_range[0]), float(x_range[1])
        y0, y1 = float(y_range[0]), float(y_range[1])
        glyphs = glyphs if glyphs is not None else GlyphSet.cached("text")
        self.x_range, self.y_range = (x0, x1, step), (y0, y1, step)
        self._lo = VectorizedPoint(ORIGIN)
        self._hi = VectorizedPoint(np.array([scale * (x1 - x0), scale * (y1 - y0), 0.0]))
        self.add(self._lo, self._hi)
        corners = [self.c2p(x0, y0), self.c2p(x1, y0), self.c2p(x1, y1), self.c2p(x0, y1)]
        self.frame = line_mob([*corners, corners[0]], color, stroke_width)
        tick = TICK_LENGTH * digit_height
        buff = TICK_LABEL_GAP * digit_height
        x_ticks, y_ticks = tick_values(x0, x1, step), tick_values(y0, y1, step)
        segments = [(self.c2p(x, y0), self.c2p(x, y0) + tick * DOWN) for x in x_ticks]
        segments += [(self.c2p(x0, y), self.c2p(x0, y) + tick * LEFT) for y in y_ticks]
        self.ticks = segments_mob(segments, color, stroke_width)
        self.x_labels = VGroup()
        for x in x_ticks:
            label = GlyphNumber(glyphs, format_tick(x, step), digit_height, "center", label_color)
            label.shift(self.c2p(x, y0) + (tick + buff + digit_height) * DOWN)
            self.x_labels.add(label)
        self.y_labels = VGroup()
        for y in y_ticks:
            label = GlyphNumber(glyphs, format_tick(y, step), digit_height, "right", label_color)
            label.shift(self.c2p(x0, y) + (tick + buff) * LEFT + digit_height / 2 * DOWN)
            self.y_labels.add(label)
        self.add(self.frame, self.ticks, self.x_labels, self.y_labels)

    def to_scene(self, points: np.ndarray) -> np.ndarray:
        """Plane points (N, 2) as scene points (N, 3)."""
        return self.c2p(points[:, 0], points[:, 1])


def paths_points(points: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Cubic Bézier points of straight segments along each path of ``points`` (N, 3),
    split at ``offsets`` (see :data:`~.contours.Paths`): one VMobject draws them all, as
    separate subpaths (closed where a path ends where it starts)."""
    if len(points) < 2:
        return np.zeros((0, 3))
    last = np.zeros(len(points) - 1, dtype=bool)
    ends = offsets[1:-1] - 1  # a path's last vertex starts no segment
    last[ends[(ends >= 0) & (ends < len(last))]] = True
    starts = np.flatnonzero(~last)
    a, b = points[starts], points[starts + 1]
    out = np.empty((len(a), 4, 3))
    out[:, 0], out[:, 3] = a, b  # the ends exactly: the camera joins segments on equality
    out[:, 1], out[:, 2] = a + (b - a) / 3, a + 2 * (b - a) / 3
    return out.reshape(-1, 3)


class DensityContours:
    """One density's contours, a level each: lines (outer levels fainter and thinner),
    and with ``filled`` a low-opacity fill of each region, stacking inward.

    ``parts`` are its mobjects in drawing order (the fills first); ``fills`` and ``lines``
    the two kinds. Nothing here is a mobject itself: a scene adds the parts where it
    draws them (a second density's fills over the first's, its lines over both).
    """

    def __init__(
        self,
        color: str,
        stroke_width: float,
        filled: bool,
        widths: Sequence[float] = (1.0, 0.85, 0.7, 0.55),
        opacities: Sequence[float] = (1.0, 0.8, 0.6, 0.42),
        fill_opacity: float = 0.1,
    ):
        self.lines = []
        for width, opacity in zip(widths, opacities, strict=True):
            line = VMobject(
                stroke_color=color,
                stroke_width=stroke_width * width,
                stroke_opacity=opacity,
                fill_opacity=0,
            )
            line.polyline = True
            line.joint_type = LineJointType.ROUND
            self.lines.append(line)
        self.fills = []
        for _ in widths if filled else ():
            fill = VMobject(fill_color=color, fill_opacity=fill_opacity, stroke_width=0)
            fill.polyline = True
            self.fills.append(fill)

    @property
    def parts(self) -> list[VMobject]:
        return [*self.fills, *self.lines]

    def set_paths(
        self, axes: PlaneAxes, lines: Sequence[Paths], regions: Sequence[Paths] | None = None
    ) -> DensityContours:
        """Draw each level's ``lines`` (and ``regions``, when filled), given in plane
        coordinates, on ``axes``, in place."""
        for mob, (points, offsets) in zip(self.lines, lines, strict=True):
            mob.points = paths_points(axes.to_scene(points), offsets)
        for mob, (points, offsets) in zip(self.fills, regions or (), strict=True):
            mob.points = paths_points(axes.to_scene(points), offsets)
        return self


def _rgb(color: str) -> np.ndarray:
    digits = color.lstrip("#")
    return np.array([int(digits[i : i + 2], 16) for i in (0, 2, 4)], dtype=float)


def diverging_rgba(
    values: np.ndarray, low: float, high: float, negative: str, positive: str
) -> np.ndarray:
    """Colours of ``values`` (..., h, w) as RGBA uint8: ``positive`` at ``high`` and above,
    ``negative`` at ``low`` and below (low < 0 < high), fading to transparent at 0: each
    sign scaled by its own end, so that both read whatever their sizes."""
    values = np.asarray(values, dtype=float)
    share = np.where(
        values >= 0, values / max(high, 1e-300), values / min(low, -1e-300)
    )  # in [0, 1] past the ends, clipped below
    share = np.clip(share, 0.0, 1.0)
    rgb = np.where((values >= 0)[..., None], _rgb(positive), _rgb(negative))
    out = np.empty((*values.shape, 4), dtype=np.uint8)
    out[..., :3] = rgb.astype(np.uint8)
    out[..., 3] = np.round(255 * share).astype(np.uint8)
    return out


class HeatMapPanel(Group):
    """A heat map over the view, ``width`` × ``height`` with its lower-left corner at the
    origin until moved, in a thin frame; ``legend`` above it. :meth:`set_pixels` changes
    its pixels (rows top down) in place; they are stretched to fill the frame."""

    def __init__(
        self,
        width: float,
        height: float,
        pixels: tuple[int, int],
        color: str = "#A0A0AA",
        stroke_width: float = 1.5,
        legend_gap: float = 0.15,
    ):
        super().__init__()
        columns, rows = pixels
        self.image = ImageMobject(np.zeros((rows, columns, 4), dtype=np.uint8))
        self.image.set_resampling_algorithm(RESAMPLING_ALGORITHMS["bilinear"])
        self.image.stretch_to_fit_width(width).stretch_to_fit_height(height)
        self.image.move_to([width / 2, height / 2, 0])
        corners = [[0, 0, 0], [width, 0, 0], [width, height, 0], [0, height, 0], [0, 0, 0]]
        self.axes = line_mob(np.array(corners, dtype=float), color, stroke_width)
        self.legend = None
        self._legend_gap = legend_gap
        self.add(self.image, self.axes)

    def set_legend(self, legend, left: float | None = None) -> HeatMapPanel:
        """Put ``legend`` above the map, at its left edge or at ``left`` (replacing any
        legend)."""
        if self.legend is not None:
            self.remove(self.legend)
        top = self.axes.get_top()[1]
        left = self.axes.get_left()[0] if left is None else left
        legend.shift(
            [left - legend.get_left()[0], top + self._legend_gap - legend.get_bottom()[1], 0]
        )
        self.legend = legend
        self.add(legend)
        return self

    def set_pixels(self, rgba: np.ndarray) -> HeatMapPanel:
        """Show ``rgba`` (rows, columns, 4) uint8, the top row first, in place."""
        self.image.pixel_array = rgba
        return self
