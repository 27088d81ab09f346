"""What a p estimated from data draws beneath its density: the samples themselves.

On the line, a density-normalised histogram under p's curve (its bars' areas sum to 1, as
the curve's does); in the plane, the samples as small translucent dots under the contours.
Both stay put for the whole video (a data p never moves) and are drawn with the static
parts. Anything with the :meth:`~.axes.DensityAxes.affine` of kldemo's axes will do.
"""

from __future__ import annotations

import numpy as np
from manim import VMobject

from .dimensions import AXIS_STROKE

#: The histogram's fill and outline opacity, under the curves' own shading.
HISTOGRAM_FILL, HISTOGRAM_STROKE = 0.18, 0.55
#: The dots' opacity, and their radius in text units.
POINT_OPACITY, POINT_RADIUS = 0.35, 0.022


def histogram_mobject(
    axes, edges: np.ndarray, heights: np.ndarray, color: str, stroke_width: float
) -> VMobject:
    """One closed outline of the histogram's bars (a staircase down to y = 0), filled;
    bars outside the axes' x range are cut at its ends, and heights above its y range at
    its top."""
    x_lo, x_hi = axes.x_range[:2]
    y_lo, y_hi = axes.y_range[:2]
    left, right = np.clip(edges[:-1], x_lo, x_hi), np.clip(edges[1:], x_lo, x_hi)
    keep = right > left
    left, right, tops = left[keep], right[keep], np.clip(heights[keep], y_lo, y_hi)
    xs = np.concatenate([[left[0]], np.repeat(np.append(left, right[-1]), 2)[1:-1], [right[-1]]])
    ys = np.concatenate([[0.0], np.repeat(tops, 2), [0.0]])
    origin, ex, ey = axes.affine()
    corners = origin + xs[:, None] * ex + np.maximum(ys, y_lo)[:, None] * ey
    shape = VMobject(stroke_color=color, stroke_width=stroke_width, stroke_opacity=HISTOGRAM_STROKE)
    shape.set_points_as_corners([*corners, corners[0]])
    shape.set_fill(color, opacity=HISTOGRAM_FILL)
    return shape


def points_mobject(axes, points: np.ndarray, color: str, radius: float) -> VMobject:
    """The samples inside the plot as dots of ``radius`` scene units: one VMobject of many
    small closed squares' worth of curves (a square of side 1.6 r reads as a dot at this
    size, and costs 4 segments where a circle costs 8)."""
    x_lo, x_hi = axes.x_range[:2]
    y_lo, y_hi = axes.y_range[:2]
    inside = (
        (points[:, 0] >= x_lo)
        & (points[:, 0] <= x_hi)
        & (points[:, 1] >= y_lo)
        & (points[:, 1] <= y_hi)
    )
    origin, ex, ey = axes.affine()
    centres = origin + points[inside, :1] * ex + points[inside, 1:2] * ey
    dots = VMobject(stroke_width=0)
    half = 0.8 * radius
    corners = np.array([[-half, -half, 0], [half, -half, 0], [half, half, 0], [-half, half, 0]])
    for centre in centres:
        dots.start_new_path(centre + corners[0])
        dots.add_points_as_corners(centre + corners[[1, 2, 3, 0]])
    dots.set_fill(color, opacity=POINT_OPACITY)
    return dots


def add_data_layer(scene) -> None:
    """Put a data p's samples on ``scene``'s axes (drawn with them, under the densities):
    the plan's histogram in 1-D, its points in 2-D; nothing for a p the file writes out."""
    plan, axes, s = scene.plan, scene.axes, scene.unit
    if plan.histogram is not None:
        edges, heights = plan.histogram
        axes.add(histogram_mobject(axes, edges, heights, plan.p_color, AXIS_STROKE * s))
    if plan.points is not None and len(plan.points):
        axes.add(points_mobject(axes, plan.points, plan.p_color, POINT_RADIUS * s))
