"""The bar of one divergence: its live value above it, its label below."""

from __future__ import annotations

import math

import numpy as np
from manim import DOWN, UP, LineJointType, Mobject, Rectangle, VGroup, VMobject

from .dimensions import (
    BAR_CHEVRON,
    BAR_LABEL_CLEARANCE,
    BAR_LABEL_GAP,
    BAR_NUMBER_GAP,
    BAR_NUMBER_GAPS,
)
from .numbers import format_nats
from .paths import corner_points
from .text import GlyphNumber, GlyphSet

__all__ = ["DivergenceBar"]


class DivergenceBar(VGroup):
    """A bar for one divergence: the live value above it, its label below.

    The bar fills ``height`` at ``bar_max`` nats. Above ``bar_max`` the bar is full, a
    chevron above it marks the overflow, and the number still gives the exact value. A
    bounded divergence (``overflow=False``, ``bar_max`` its bound) is never marked: its
    values above the bound are rounding noise.
    :meth:`set_value` updates everything in place.

    Layout, bottom to top: ``label``, the bar (a faint track of full height with the
    fill), the overflow chevron's room, the number; the gaps between them are constants
    of :mod:`.layout`, which sets the bars out. ``stroke_width`` is the chevron's (the
    track's outline is half of it); ``digits`` the number's significant figures.
    """

    def __init__(
        self,
        label: Mobject,
        bar_max: float,
        glyphs: GlyphSet,
        height: float = 4.0,
        width: float = 0.8,
        color: str = "#FF9A3C",
        track_color: str = "#3A3A44",
        text_color: str = "#FFFFFF",
        digit_height: float = 0.28,
        value: float = 0.0,
        stroke_width: float = 4.0,
        overflow: bool = True,
        digits: int = 3,
    ):
        super().__init__()
        if not bar_max > 0:
            raise ValueError(f"bar_max must be > 0 (got {bar_max})")
        self.bar_max = float(bar_max)
        self.overflows = overflow
        self.digits = digits  # significant figures of the number
        self.track = Rectangle(
            width=width,
            height=height,
            stroke_color=track_color,
            stroke_width=stroke_width / 2,
            fill_color=track_color,
            fill_opacity=0.35,
        )
        self.track.move_to(height / 2 * UP)
        self.fill = VMobject(fill_color=color, fill_opacity=1.0, stroke_width=0)
        self.fill.polyline = True
        gap = BAR_NUMBER_GAP * digit_height
        mark_h = BAR_CHEVRON * digit_height
        self.overflow_mark = VMobject(
            stroke_color=color,
            stroke_width=stroke_width,
            fill_opacity=0,
            joint_type=LineJointType.MITER,
        )
        self.overflow_mark.polyline = True
        chevron = np.array([[-1.0, 0, 0], [0, 0.55, 0], [1.0, 0, 0]]) * [0.3 * width, mark_h, 1]
        # Relative to the bottom centre of the track, for a track of height ``height``.
        self._height0 = float(height)
        self._chevron = np.concatenate(
            [
                corner_points(chevron + (height + gap) * UP),
                corner_points(chevron + (height + gap + 0.45 * mark_h) * UP),
            ]
        )
        self.number = GlyphNumber(glyphs, "", digit_height, "center", text_color).shift(
            (height + BAR_NUMBER_GAPS * gap + mark_h) * UP
        )
        self.label = label
        label.next_to(self.track, DOWN, buff=BAR_LABEL_GAP * gap + BAR_LABEL_CLEARANCE)
        label.set_x(0)
        self.add(self.track, self.fill, self.overflow_mark, self.number, label)
        self.value = None
        self.set_value(value)

    def set_value(self, value: float) -> DivergenceBar:
        """Show ``value`` (nats): bar height, overflow mark and number, in place."""
        value = float(value)
        if value == self.value:
            return self
        self.value = value
        ur, ul, dl, _ = self.track.get_vertices()
        # Full at bar_max and above (+inf included); empty for nan and -inf.
        frac = min(max(value / self.bar_max, 0.0), 1.0) if not math.isnan(value) else 0.0
        top = dl + frac * (ul - dl)
        if frac > 0:
            corners = np.array([dl, dl + (ur - ul), top + (ur - ul), top, dl])
            self.fill.points = corner_points(corners)
        else:
            self.fill.points = np.zeros((0, 3))
        overflow = self.overflows and value > self.bar_max
        if overflow:
            # Chevron geometry was made for the unmoved, unscaled bar: map it on.
            scale = float(np.linalg.norm(ul - dl)) / self._height0
            bottom_centre = (dl + ur) / 2 * [1, 0, 0] + dl * [0, 1, 0]
            self.overflow_mark.points = bottom_centre + self._chevron * scale
        else:
            self.overflow_mark.points = np.zeros((0, 3))
        self.number.set_text(format_nats(value, self.digits))
        return self
