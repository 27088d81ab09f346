"""A marker of an optimum: the Gaussian q that minimises a divergence to p, dashed."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from manim import Mobject, VGroup, VMobject

from kldemo.core.divergences import density
from kldemo.plan.frames import Optimum, PlaneOptimum

from .axes import DensityAxes
from .contours import gaussian_ellipse
from .dimensions import MARKER_KEY_SIZE
from .paths import dashed_corner_points
from .sampling import sample_density
from .text import TEXT_FONT, legend_swatch, pango_text

__all__ = [
    "MARKER_DASHES",
    "OptimumMarker",
    "marker_group",
    "marker_key_entries",
    "plane_marker_points",
]

#: The dash and gap (in text units) of each kind of optimum marker.
MARKER_DASHES = {"forward": (0.22, 0.12), "reverse": (0.07, 0.09)}
MARKER_SWATCH = 0.75  # the length of a swatch in the markers' key, in text units
MARKER_STROKE = 2.5  # the markers' and their key's stroke width, in text units
#: The masses of the HDR ellipses that mark a plane optimum.
PLANE_MARKER_MASSES = (0.5, 0.95)


class OptimumMarker(VGroup):
    """A Gaussian q that minimises a divergence to p: a dashed density curve.

    A ``label``, if given, goes above the curve's peak (inside the axes' plot box) until
    :meth:`place_label` puts it elsewhere; or key the dash pattern in a :func:`legend`.
    Nothing here changes from frame to frame.
    """

    def __init__(
        self,
        axes: DensityAxes,
        mean: float,
        std: float,
        label: Mobject | None = None,
        color: str = "#B9B9C3",
        stroke_width: float = 3.0,
        dash: float = 0.16,
        gap: float = 0.1,
    ):
        super().__init__()
        (x0, x1, _), (y0, y1, _) = axes.x_range, axes.y_range
        xs, ys = sample_density([1.0], [mean], [std], (x0, x1))
        corners = axes.c2p(xs, np.clip(ys, y0, y1))
        self.curve = VMobject(stroke_color=color, stroke_width=stroke_width, fill_opacity=0)
        self.curve.points = dashed_corner_points(corners, dash, gap)
        self.curve.polyline = True
        peak_x = min(max(mean, x0), x1)
        peak_y = min(float(density(np.array([peak_x]), [1.0], [mean], [std])[0]), y1)
        self.peak = axes.c2p(peak_x, peak_y)
        self.mean, self.std = float(mean), float(std)
        self.label = label
        self.add(self.curve)
        if label is not None:
            self.add(label)
            self.place_label(axes.plot_box())

    def place_label(self, box: tuple[float, float, float, float], lift: float = 0.0) -> None:
        """Put the label above the peak (``lift`` higher), kept inside ``box``
        (left, bottom, right, top)."""
        left, bottom, right, top = box
        w, h = self.label.width, self.label.height
        pad = 0.25 * h
        x = min(max(self.peak[0], left + w / 2 + pad), right - w / 2 - pad)
        y = min(self.peak[1] + pad + h / 2 + lift, top - h / 2 - pad)
        self.label.move_to([x, max(y, bottom + h / 2 + pad), 0])


def marker_key_entries(
    optima: Sequence[Sequence[Optimum]], color: str, unit: float
) -> list[tuple[Mobject, Mobject]]:
    """The entries of the optimum markers' key (see :func:`~.text.legend`): each kind's
    dash pattern and what it marks."""
    several = any(sum(o.kind == "reverse" for o in group) > 1 for group in optima)
    entries = []
    for kind, text in (
        ("forward", "forward-KL optimum"),
        ("reverse", "reverse-KL optima" if several else "reverse-KL optimum"),
    ):
        dash, gap = MARKER_DASHES[kind]
        swatch = legend_swatch(
            color, MARKER_SWATCH * unit, MARKER_STROKE * unit, (dash * unit, gap * unit)
        )
        label = pango_text(text, font=TEXT_FONT, font_size=MARKER_KEY_SIZE * unit, color=color)
        entries.append((swatch, label))
    return entries


def plane_marker_points(axes, optimum: PlaneOptimum, dash: float, gap: float) -> np.ndarray:
    """Bézier points of the dashed 50% and 95% HDR ellipses of a plane optimum on ``axes``
    (anything with ``c2p`` and ``plot_box``), keeping only the dashes inside the plot."""
    left, bottom, right, top = axes.plot_box()
    pieces = []
    for mass in PLANE_MARKER_MASSES:
        ring = gaussian_ellipse(optimum.mean, optimum.cov, mass, n=180)
        points = dashed_corner_points(axes.c2p(ring[:, 0], ring[:, 1]), dash, gap)
        ends = points.reshape(-1, 4, 3)[:, [0, 3], :2]  # each straight piece's two ends
        inside = (ends[..., 0] >= left) & (ends[..., 0] <= right)
        inside &= (ends[..., 1] >= bottom) & (ends[..., 1] <= top)
        pieces.append(points.reshape(-1, 4, 3)[inside.all(axis=1)].reshape(-1, 3))
    return np.concatenate(pieces)


def marker_group(
    axes: DensityAxes, optima: Sequence[Optimum], key: Mobject, color: str, unit: float
) -> VGroup:
    """Dashed Gaussians of a set of optima, under the ``key`` of their dash patterns (in
    the plane: their dashed 50% and 95% ellipses, see :func:`plane_marker_points`)."""
    group = VGroup()
    if any(isinstance(o, PlaneOptimum) for o in optima):
        for optimum in sorted(optima, key=lambda o: (o.kind != "forward", o.mean)):
            dash, gap = MARKER_DASHES[optimum.kind]
            mob = VMobject(stroke_color=color, stroke_width=MARKER_STROKE * unit)
            mob.set_fill(opacity=0)
            mob.points = plane_marker_points(axes, optimum, dash * unit, gap * unit)
            mob.polyline = True
            group.add(mob)
        return group.add(key)
    for optimum in sorted(optima, key=lambda o: (o.kind != "forward", o.mean)):
        dash, gap = MARKER_DASHES[optimum.kind]
        group.add(
            OptimumMarker(
                axes,
                optimum.mean,
                optimum.std,
                color=color,
                stroke_width=MARKER_STROKE * unit,
                dash=dash * unit,
                gap=gap * unit,
            )
        )
    group.add(key)
    return group
