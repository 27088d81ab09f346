"""Small plots below the main axes: the integrands of both KLs, and the KLs against time.

Each is a plot of ``width`` × ``height`` with its lower-left corner at the origin until
moved, its legend above it; :meth:`set_data` updates it in place.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from manim import LineJointType, Mobject, VGroup, VMobject

from .axes import DensityAxes, DensityCurve
from .paths import corner_points, disc_points, up_triangle_points
from .text import GlyphSet

__all__ = ["IntegrandPanel", "TracePanel", "fitted_panel"]


def _set_legend(panel, legend: Mobject, buff: float):
    """Put ``legend`` above the panel's plot, ``buff`` over it at its left edge."""
    if panel.legend is not None:
        panel.remove(panel.legend)
    left, _, _, top = panel.axes.plot_box()
    legend.shift([left - legend.get_left()[0], top + buff - legend.get_bottom()[1], 0])
    panel.legend = legend
    panel.add(legend)
    return panel


class IntegrandPanel(VGroup):
    """The integrands of both KLs, ``p log(p/q)`` and ``q log(q/p)``, shaded on small axes.

    Their signed areas are KL(p‖q) and KL(q‖p): the shading goes below the x-axis where
    an integrand is negative. The plot spans ``width`` × ``height`` with its lower-left
    corner at the origin until moved; ``legend`` (see :func:`legend`) sits above it.
    Values beyond ``y_range`` are clipped to it. :meth:`set_data` updates it in place.
    """

    def __init__(
        self,
        x_range: Sequence[float],
        y_range: Sequence[float],
        width: float,
        height: float,
        colors: tuple[str, str],
        legend: Mobject | None = None,
        glyphs: GlyphSet | None = None,
        digit_height: float = 0.16,
        axis_color: str = "#A0A0AA",
        label_color: str = "#D0D0D8",
        stroke_width: float = 3.0,
        fill_opacity: float = 0.3,
        y_step: float | None = None,
        x_labels: bool | Literal["bottom"] = False,
    ):
        super().__init__()
        self.axes = DensityAxes(
            x_range,
            y_range,
            width,
            height,
            glyphs=glyphs,
            digit_height=digit_height,
            color=axis_color,
            label_color=label_color,
            stroke_width=0.6 * stroke_width,
            y_step=y_step,
            x_labels=x_labels,
        )
        self.forward_curve = DensityCurve(self.axes, colors[0], stroke_width, fill_opacity)
        self.reverse_curve = DensityCurve(self.axes, colors[1], stroke_width, fill_opacity)
        self.add(self.axes, self.forward_curve.area, self.reverse_curve.area)
        self.add(self.forward_curve, self.reverse_curve)
        self.legend = None
        self._legend_buff = 0.9 * digit_height
        if legend is not None:
            self.set_legend(legend)

    def set_legend(self, legend: Mobject) -> IntegrandPanel:
        """Put ``legend`` above the plot, at its left edge (replacing any legend)."""
        return _set_legend(self, legend, self._legend_buff)

    def set_data(self, xs: np.ndarray, forward: np.ndarray, reverse: np.ndarray) -> IntegrandPanel:
        """Draw ``p log(p/q)`` and ``q log(q/p)`` sampled at ``xs`` (1-D arrays), in place."""
        self.forward_curve.set_data(xs, forward)
        self.reverse_curve.set_data(xs, reverse)
        return self


class TracePanel(VGroup):
    """Divergences against time so far: a line per series and a dot at its current value.

    The x-axis spans ``[0, duration]`` seconds, the y-axis ``[0, y_max]``. Values above
    ``y_max`` run along the top, and the dot becomes an upward triangle there. The plot
    spans ``width`` × ``height`` with its lower-left corner at the origin until moved;
    ``legend`` sits above it. :meth:`set_data` updates it in place.
    """

    def __init__(
        self,
        duration: float,
        y_max: float,
        width: float,
        height: float,
        colors: Sequence[str],
        legend: Mobject | None = None,
        glyphs: GlyphSet | None = None,
        digit_height: float = 0.16,
        axis_color: str = "#A0A0AA",
        label_color: str = "#D0D0D8",
        stroke_width: float = 3.0,
        dot_radius: float = 0.07,
        x_step: float | None = None,
        y_step: float | None = None,
    ):
        super().__init__()
        self.y_max = float(y_max)
        self.axes = DensityAxes(
            (0.0, float(duration)),
            (0.0, self.y_max),
            width,
            height,
            glyphs=glyphs,
            digit_height=digit_height,
            color=axis_color,
            label_color=label_color,
            stroke_width=0.6 * stroke_width,
            x_step=x_step,
            y_step=y_step,
        )
        self.dot_radius = dot_radius
        self.lines, self.dots = [], []
        for color in colors:
            line = VMobject(stroke_color=color, stroke_width=stroke_width, fill_opacity=0)
            line.polyline = True
            line.joint_type = LineJointType.ROUND
            dot = VMobject(fill_color=color, fill_opacity=1.0, stroke_width=0)
            dot.polyline = True
            self.lines.append(line)
            self.dots.append(dot)
        self.add(self.axes, *self.lines, *self.dots)
        self.legend = None
        self._legend_buff = 0.9 * digit_height + dot_radius
        if legend is not None:
            self.set_legend(legend)

    def set_legend(self, legend: Mobject) -> TracePanel:
        """Put ``legend`` above the plot, at its left edge (replacing any legend)."""
        return _set_legend(self, legend, self._legend_buff)

    def set_data(self, t: np.ndarray, *series: np.ndarray) -> TracePanel:
        """Draw each series (values at times ``t``, the last one now), in place."""
        t = np.asarray(t, dtype=float)
        origin, ex, ey = self.axes.affine()
        for line, dot, values in zip(self.lines, self.dots, series, strict=True):
            values = np.asarray(values, dtype=float)
            shown = np.clip(np.nan_to_num(values, nan=0.0, posinf=self.y_max), 0.0, self.y_max)
            corners = origin + t[:, None] * ex + shown[:, None] * ey
            line.points = corner_points(corners) if len(t) > 1 else np.zeros((0, 3))
            if len(t) == 0:
                dot.points = np.zeros((0, 3))
            elif values[-1] > self.y_max:
                dot.points = up_triangle_points(corners[-1], self.dot_radius)
            else:
                dot.points = disc_points(corners[-1], self.dot_radius)
        return self


def fitted_panel(make, plot_left: float, plot_right: float, plot_bottom: float):
    """``make(width)``, a panel whose plot starts at ``plot_left`` and whose x labels
    end by ``plot_right``, moved there (its plot's lower-left at ``plot_left``,
    ``plot_bottom``)."""
    room = plot_right - plot_left
    width = room
    panel = None
    for _ in range(3):
        panel = make(width)
        labels = panel.axes.x_labels
        overflow = labels.get_right()[0] - room if len(labels) else 0.0
        if overflow <= 1e-9:
            break
        width -= overflow
    panel.shift(np.array([plot_left, plot_bottom, 0]) - panel.axes.plot_corner)
    return panel
