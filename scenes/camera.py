"""The scene's camera: manim's Cairo camera, with a fast path for polylines."""

from __future__ import annotations

from itertools import pairwise

import cairo
import numpy as np
from manim import Camera

__all__ = ["KLCamera"]


class KLCamera(Camera):
    """manim's Cairo camera, drawing VMobjects marked ``polyline = True`` with ``line_to``.

    Density curves are hundreds of straight segments; manim's general path code spends
    most of a frame on them. Everything else is drawn as manim draws it.
    """

    def set_cairo_context_path(self, ctx: cairo.Context, vmobject) -> KLCamera:
        if not getattr(vmobject, "polyline", False):
            return super().set_cairo_context_path(ctx, vmobject)
        points = vmobject.points
        ctx.new_path()
        if len(points) < 4 or not np.isfinite(points).all():
            return self
        starts, ends = points[0::4, :2], points[3::4, :2]
        # A new subpath wherever a segment does not start where the previous one ended.
        breaks = np.flatnonzero(np.any(starts[1:] != ends[:-1], axis=1)) + 1
        bounds = [0, *breaks.tolist(), len(starts)]
        line_to = ctx.line_to
        for a, b in pairwise(bounds):
            ctx.new_sub_path()
            ctx.move_to(*starts[a])
            for x, y in ends[a:b].tolist():
                line_to(x, y)
            if np.array_equal(starts[a], ends[b - 1]):
                ctx.close_path()
        return self
