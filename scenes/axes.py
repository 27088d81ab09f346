"""Axes for densities and the curves drawn on them, updated in place every frame.

::

    from kldemo.scenes import DensityAxes, DensityCurve, sample_density

    axes = DensityAxes((-1, 10), (0, 1), width=8, height=5).center()
    curve = DensityCurve(axes, color="#58C4DD", fill_opacity=0.2)
    xs, ys = sample_density([0.5, 0.5], [2, 8], [0.75, 0.75], (-1, 10))
    curve.set_data(xs, ys)
    self.add(axes, curve.area, curve)

:meth:`DensityCurve.set_data` changes points in place, with numpy, and creates no mobjects.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from manim import DOWN, LEFT, ORIGIN, LineJointType, VectorizedPoint, VGroup, VMobject

from .dimensions import TICK_LABEL_GAP, TICK_LENGTH
from .numbers import format_tick, spaced_step, tick_values
from .paths import corner_points, line_mob, segments_mob
from .text import GlyphNumber, GlyphSet

__all__ = ["DensityAxes", "DensityCurve"]


class PlotFrame(VGroup):
    """Axes whose plot rectangle runs between two marker points ``_lo`` and ``_hi`` (moved
    with the group) over ``x_range`` and ``y_range``: the data-to-scene map both kinds of
    kldemo's axes share, the line's (:class:`DensityAxes`) and the plane's."""

    def affine(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``origin, ex, ey`` with ``c2p(x, y) = origin + x ex + y ey``."""
        lo, hi = self._lo.points[0], self._hi.points[0]
        (x0, x1, _), (y0, y1, _) = self.x_range, self.y_range
        ex = np.array([(hi[0] - lo[0]) / (x1 - x0), 0.0, 0.0])
        ey = np.array([0.0, (hi[1] - lo[1]) / (y1 - y0), 0.0])
        origin = lo - x0 * ex - y0 * ey
        return origin, ex, ey

    def coords_to_point(self, x, y) -> np.ndarray:
        """Scene points of data coordinates (scalars or arrays), shape ``(..., 3)``."""
        origin, ex, ey = self.affine()
        x = np.asarray(x, dtype=float)[..., None]
        y = np.asarray(y, dtype=float)[..., None]
        return origin + x * ex + y * ey

    def c2p(self, x, y) -> np.ndarray:
        return self.coords_to_point(x, y)

    @property
    def plot_corner(self) -> np.ndarray:
        """The lower-left corner of the plot rectangle, a scene point (a copy)."""
        return self._lo.points[0].copy()

    def plot_box(self) -> tuple[float, float, float, float]:
        """``(left, bottom, right, top)`` of the plot rectangle in scene units."""
        lo, hi = self._lo.points[0], self._hi.points[0]
        return float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])


class DensityAxes(PlotFrame):
    """Axes for densities: the y-axis on the left edge, the x-axis at y = 0 (or the bottom).

    Ticks fall on multiples of a 1-2-5 step (chosen so that labels do not crowd), with
    numbers drawn from a :class:`GlyphSet` (``x_labels=False`` leaves the x ticks bare, for
    axes that share their x scale with axes above them; ``"bottom"`` puts the x labels
    under the plot rather than under an x-axis that runs through it). The plot rectangle
    spans ``width`` × ``height`` with its lower-left corner at the origin until moved.
    :meth:`coords_to_point` is vectorised and stays right after moves and scales.
    """

    def __init__(
        self,
        x_range: Sequence[float],
        y_range: Sequence[float],
        width: float = 8.0,
        height: float = 5.0,
        glyphs: GlyphSet | None = None,
        digit_height: float = 0.2,
        color: str = "#A0A0AA",
        label_color: str = "#D0D0D8",
        stroke_width: float = 2.0,
        x_step: float | None = None,
        y_step: float | None = None,
        x_labels: bool | Literal["bottom"] = True,
    ):
        super().__init__()
        x0, x1 = float(x_range[0]), float(x_range[1])
        y0, y1 = float(y_range[0]), float(y_range[1])
        glyphs = glyphs if glyphs is not None else GlyphSet.cached("text")
        self.glyphs = glyphs
        self.digit_height = digit_height
        x_step = x_step or spaced_step(x0, x1, width, glyphs.width, digit_height, horizontal=True)
        y_step = y_step or spaced_step(y0, y1, height, glyphs.width, digit_height, horizontal=False)
        self.x_range = (x0, x1, x_step)
        self.y_range = (y0, y1, y_step)
        self._lo = VectorizedPoint(ORIGIN)
        self._hi = VectorizedPoint(np.array([width, height, 0.0]))
        self.add(self._lo, self._hi)

        x_axis_y = min(max(0.0, y0), y1)
        tick = TICK_LENGTH * digit_height
        buff = TICK_LABEL_GAP * digit_height
        self.x_axis = line_mob(
            [self.c2p(x0, x_axis_y), self.c2p(x1, x_axis_y)], color, stroke_width
        )
        self.y_axis = line_mob([self.c2p(x0, y0), self.c2p(x0, y1)], color, stroke_width)
        x_ticks = tick_values(x0, x1, x_step)
        y_ticks = tick_values(y0, y1, y_step)
        segments = []
        for x in x_ticks:
            base = self.c2p(x, x_axis_y)
            segments.append((base, base + tick * DOWN))
        for y in y_ticks:
            base = self.c2p(x0, y)
            segments.append((base, base + tick * LEFT))
        self.ticks = segments_mob(segments, color, stroke_width)
        self.x_labels = VGroup()
        label_y = y0 if x_labels == "bottom" else x_axis_y
        for x in x_ticks if x_labels else ():
            label = GlyphNumber(glyphs, format_tick(x, x_step), digit_height, "center", label_color)
            label.shift(self.c2p(x, label_y) + (tick + buff + digit_height) * DOWN)
            self.x_labels.add(label)
        self.y_labels = VGroup()
        for y in y_ticks:
            label = GlyphNumber(glyphs, format_tick(y, y_step), digit_height, "right", label_color)
            label.shift(self.c2p(x0, y) + (tick + buff) * LEFT + digit_height / 2 * DOWN)
            self.y_labels.add(label)
        self.add(self.x_axis, self.y_axis, self.ticks, self.x_labels, self.y_labels)


class DensityCurve(VMobject):
    """A density drawn on axes from sampled arrays, updated in place every frame.

    ``axes`` is anything with a linear ``coords_to_point(x, y)`` (manim's ``Axes`` or
    :class:`DensityAxes`). Values above the top of ``y_range`` (default: the axes'
    ``y_range``) are clipped to it. With ``fill_opacity > 0`` the area under the curve is
    shaded by :attr:`area`, a separate mobject kept in step with the curve: add it to
    the scene beneath the curves (``scene.add(curve.area, curve)``).
    """

    def __init__(
        self,
        axes,
        color: str = "#58C4DD",
        stroke_width: float = 4.0,
        fill_opacity: float = 0.0,
        y_range: Sequence[float] | None = None,
        **kwargs,
    ):
        super().__init__(stroke_color=color, stroke_width=stroke_width, fill_opacity=0, **kwargs)
        self.joint_type = LineJointType.ROUND
        self.polyline = True
        self.axes = axes
        y_range = y_range if y_range is not None else getattr(axes, "y_range", None)
        self.y_bounds = (float(y_range[0]), float(y_range[1])) if y_range is not None else None
        self.area = VMobject(fill_color=color, fill_opacity=fill_opacity, stroke_width=0)
        self.area.polyline = True
        self._with_area = fill_opacity > 0

    def _affine(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if hasattr(self.axes, "affine"):
            return self.axes.affine()
        c2p = self.axes.coords_to_point
        origin = np.asarray(c2p(0, 0), dtype=float)
        return origin, np.asarray(c2p(1, 0)) - origin, np.asarray(c2p(0, 1)) - origin

    def set_data(self, xs: np.ndarray, ys: np.ndarray) -> DensityCurve:
        """Draw the curve through ``(xs, ys)`` (1-D arrays in data coordinates), in place."""
        xs = np.asarray(xs, dtype=float)
        ys = np.asarray(ys, dtype=float)
        if self.y_bounds is not None:
            ys = np.clip(ys, *self.y_bounds)
        if len(xs) < 2:
            self.points = np.zeros((0, 3))
            self.area.points = np.zeros((0, 3))
            return self
        origin, ex, ey = self._affine()
        corners = origin + xs[:, None] * ex + ys[:, None] * ey
        self.points = corner_points(corners)
        if self._with_area:
            base_y = 0.0
            if self.y_bounds is not None:
                base_y = min(max(0.0, self.y_bounds[0]), self.y_bounds[1])
            base = origin + base_y * ey
            first = base + xs[0] * ex
            last = base + xs[-1] * ex
            outline = np.concatenate([first[None], corners, last[None], first[None]])
            self.area.points = corner_points(outline)
        return self


# --------------------------------------------------------------------------- bars
