"""Straight-segment paths: the points of polylines, dashes and small shapes, as manim's
cubic Bézier points, and VMobjects made of them.

VMobjects made only of such segments are marked ``polyline = True``: the scene's camera
(:class:`~.kl_scene.KLCamera`) then draws them with ``line_to``, faster.
"""

from __future__ import annotations

import numpy as np
from manim import VMobject

__all__ = [
    "corner_points",
    "dashed_corner_points",
    "disc_points",
    "line_mob",
    "segments_mob",
    "up_triangle_points",
]


def corner_points(points: np.ndarray) -> np.ndarray:
    """Cubic Bézier points drawing straight segments through ``points`` (N, 3)."""
    a, b = points[:-1], points[1:]
    d = b - a
    out = np.empty((len(a), 4, 3))
    out[:, 0] = a
    out[:, 1] = a + d / 3
    out[:, 2] = a + 2 * d / 3
    out[:, 3] = b
    return out.reshape(-1, 3)


def dashed_corner_points(points: np.ndarray, dash: float, gap: float) -> np.ndarray:
    """Bézier points of the dashes along the polyline ``points`` (N, 3): a dash of length
    ``dash``, a gap of ``gap``, and so on from the first point."""
    if len(points) < 2:
        return np.zeros((0, 3))
    steps = np.diff(points, axis=0)
    cumulative = np.concatenate([[0.0], np.cumsum(np.hypot(steps[:, 0], steps[:, 1]))])
    total = cumulative[-1]
    if not total > 0:
        return np.zeros((0, 3))

    def at(d: float) -> np.ndarray:
        return np.array([np.interp(d, cumulative, points[:, k]) for k in range(3)])

    pieces = []
    for a in np.arange(0.0, total, dash + gap):
        b = min(a + dash, total)
        inside = points[(cumulative > a) & (cumulative < b)]
        pieces.append(corner_points(np.concatenate([at(a)[None], inside, at(b)[None]])))
    return np.concatenate(pieces)


def line_mob(points, color, stroke_width) -> VMobject:
    """A polyline through ``points`` (N, 3) as a stroked VMobject."""
    mob = VMobject(stroke_color=color, stroke_width=stroke_width)
    mob.points = corner_points(np.asarray(points, dtype=float))
    mob.polyline = True
    return mob


def segments_mob(segments, color, stroke_width) -> VMobject:
    """Many separate straight segments as one VMobject (one draw call)."""
    mob = VMobject(stroke_color=color, stroke_width=stroke_width)
    mob.polyline = True
    if segments:
        a = np.array([s[0] for s in segments], dtype=float)
        b = np.array([s[1] for s in segments], dtype=float)
        t = np.array([0.0, 1 / 3, 2 / 3, 1.0])[None, :, None]
        mob.points = (a[:, None] + t * (b - a)[:, None]).reshape(-1, 3)
    return mob


def disc_points(centre: np.ndarray, radius: float, sides: int = 20) -> np.ndarray:
    """A closed polygon of ``sides`` sides round ``centre``: a dot."""
    angles = np.linspace(0.0, 2 * np.pi, sides + 1)
    ring = np.stack([np.cos(angles), np.sin(angles), np.zeros_like(angles)], axis=-1)
    return corner_points(centre + radius * ring)


def up_triangle_points(centre: np.ndarray, radius: float) -> np.ndarray:
    """An upward triangle round ``centre``: a value above the top of a plot."""
    corners = np.array([[0.0, 1.2, 0.0], [-1.0, -0.6, 0.0], [1.0, -0.6, 0.0], [0.0, 1.2, 0.0]])
    return corner_points(centre + radius * corners)
