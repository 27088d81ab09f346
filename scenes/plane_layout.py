"""Where every part of a 2-D frame goes: a pure function of sizes, free of manim.

:func:`plane_layout` takes :func:`~.layout.compute_layout`'s boxes and carves the plot out
of its plot box at the view's aspect, so that one unit of x and of y are the same length
on screen, with room for the plane's tick labels on both axes. A plot at equal scale
rarely uses all the width it is given: the integrand panel (a heat map of ``p log(p/q)``
over the view) and the optimum markers' key may stand in a column beside it, where that
gives the plot more height than :func:`~.layout.compute_layout`'s places for them::

    markers' key                    |
    main plot (the view's shape)    | heat map | bars
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial

from . import dimensions as dim
from .boxes import Box, Layout, Measures, Panel
from .layout import compute_layout, fitted_key, key_height, text_unit
from .numbers import spaced_step, text_width, widest_tick_label

__all__ = ["plane_layout", "plane_tick_step"]


def plane_tick_step(
    x_range: tuple[float, float],
    y_range: tuple[float, float],
    width: float,
    width_of: Callable[[str], float],
    digit: float,
) -> float:
    """One 1-2-5 step for both axes of an equal-scale plot ``width`` wide: the larger of
    the steps whose labels keep clear along x and along y."""
    (x0, x1), (y0, y1) = x_range, y_range
    height = width * (y1 - y0) / (x1 - x0)
    return max(
        spaced_step(x0, x1, width, width_of, digit, horizontal=True),
        spaced_step(y0, y1, height, width_of, digit, horizontal=False),
    )


def plane_layout(
    width: float,
    height: float,
    measures: Measures,
    bars: Sequence[str],
    panels: Sequence[str],
    x_range: tuple[float, float],
    y_range: tuple[float, float],
    bar_max: float = 1.0,
    markers: bool = False,
) -> Layout:
    """The boxes of a 2-D frame: :func:`compute_layout`'s, with the plot carved out of its
    plot box at the view's aspect (x and y at equal scale) and room for the plane's y
    labels. ``y_step`` is both axes' tick step.

    The markers' key goes above the plot, no wider than it, and the integrand's heat map
    where :func:`compute_layout` puts the integrand; or a column beside the plot holds the
    heat map, or the key and the heat map under it: whichever of these gives the tallest
    plot (a plot at equal scale rarely fills the width it is given).
    """
    arrange = partial(
        _arranged, width, height, measures, bars, panels, x_range, y_range, bar_max, markers
    )
    columns = ["heat", "both"] if markers else ["heat"]
    if "integrand" not in panels:
        columns = ["both"] if markers else []
    # Each column beside what compute_layout leaves without the integrand, and beside the
    # main axes grown over the integrand's row where that row lies right under them.
    ways = [(None, False), *((c, absorb) for c in columns for absorb in (False, True))]
    if len(ways) == 1:
        return arrange(None, False)
    tried = {way: arrange(*way) for way in ways}
    best = max((w for w in ways if tried[w] is not None), key=lambda w: tried[w].plot.height)
    # Laid out again last, so that the legends a scene makes while measuring are its own.
    return arrange(*best)


def _natural_width(entries: Sequence[tuple[float, float, float]], s: float) -> float:
    """The widest entry of a legend (swatch, gap, label): its width when stacked."""
    gap = dim.LEGEND_SWATCH_GAP * dim.LEGEND_FONT * s
    return max((swatch + gap + label for swatch, label, _ in entries), default=0.0)


def _arranged(
    width, height, measures, bars, panels, x_range, y_range, bar_max, markers, column, absorb
) -> Layout | None:
    """The layout with ``column`` beside the plot: None (no column), "heat" (the heat
    map) or "both" (the markers' key, the heat map under it); with ``absorb``, the main
    axes take the integrand's row too. None where it does not fit."""
    s = text_unit(width, height)
    key_above = markers and column != "both"
    shown = panels if column is None or absorb else [p for p in panels if p != "integrand"]
    heat = column is not None and "integrand" in panels
    need = 0.0  # the column's least width
    if heat:
        need = dim.PLANE_KEY_SHRINK * _natural_width(measures.integrand_key, s)
    if column == "both":
        need = max(need, _natural_width(measures.marker_key, s))
    layout, key_width = None, None
    # The range (0, 1) puts the x-axis at the plot's foot; the plane's own y labels are
    # measured when carving. Each pass lays the markers' key out within the plot's width
    # and widens the column for a heat map of PLANE_SIDE_MIN of the plot's height, both
    # as the pass before left the plot.
    for _ in range(3 if key_above or heat else 1):
        m = measures
        if key_width is not None:
            m = replace(measures, key_height=_narrowed_key(measures, key_width, s))
        layout = compute_layout(width, height, m, bars, shown, (0.0, 1.0), bar_max, None, key_above)
        layout = _absorbed(layout) if absorb else layout
        if layout is None:
            return None
        box = layout.plot
        room = Box(
            box.left, box.bottom, box.right - need - (dim.AXES_GAP * s if need else 0), box.top
        )
        if room.width <= 0:
            return None
        layout = _carve(replace(layout, plot=room), measures, x_range, y_range, key_width,
                        "centre" if column is None else "left")  # fmt: skip
        key_width = layout.x_labels.right - layout.plot.left
        if heat:
            need = max(need, dim.PLANE_SIDE_MIN * layout.plot.width)
    if column is None:
        if layout.integrand is not None:
            panel = _heat_panel(layout.integrand.box, measures, x_range, y_range, s)
            layout = replace(layout, integrand=panel)
        return layout
    axes, plot = layout.axes, layout.plot
    side = Box(layout.x_labels.right + dim.AXES_GAP * s, axes.bottom, axes.right, axes.top)
    top, marker_key, integrand = side.top, layout.marker_key, None
    if column == "both":
        key_h = key_height(measures, "markers", side, s)
        key_w, _ = fitted_key(measures.marker_key, side.width, side.left, side.right, s)
        marker_key = Box.sized(side.left, side.top - key_h, key_w, key_h)
        top = marker_key.bottom - dim.ROW_GAP * s
    if heat:
        widest = dim.PLANE_HEAT_SHARE * plot.width
        integrand = _heat_panel(Box(side.left, side.bottom, side.right, top), measures,
                                x_range, y_range, s, widest)  # fmt: skip
        if integrand.plot.height < 0.9 * dim.PLANE_SIDE_MIN * plot.height:
            return None
    axes = Box(axes.left, axes.bottom, layout.x_labels.right, axes.top)
    return replace(layout, axes=axes, marker_key=marker_key, integrand=integrand)


def _absorbed(layout: Layout) -> Layout | None:
    """``layout`` with the integrand's row given to the main axes above it (and their plot),
    or None where the integrand is not right under them."""
    panel, axes, plot = layout.integrand, layout.axes, layout.plot
    if panel is None or not (layout.stacked and layout.aligned):
        return None
    drop = axes.bottom - panel.box.bottom
    return replace(
        layout,
        integrand=None,
        axes=Box(axes.left, panel.box.bottom, axes.right, axes.top),
        plot=Box(plot.left, plot.bottom - drop, plot.right, plot.top),
    )


def _narrowed_key(measures: Measures, key_width: float, s: float) -> Callable[[str, Box], float]:
    """``measures.key_height`` (or the computed height) with the markers' key laid out in
    at most ``key_width``."""

    def narrowed(name: str, box: Box) -> float:
        if name == "markers":
            box = Box(box.left, box.bottom, box.left + min(box.width, key_width), box.top)
        return key_height(measures, name, box, s)

    return narrowed


def _carve(
    layout: Layout,
    measures: Measures,
    x_range: tuple[float, float],
    y_range: tuple[float, float],
    key_width: float | None,
    align: str,
) -> Layout:
    """``layout`` with its plot at the view's aspect, inside its plot box less the room of
    the plane's tick labels: at the left (``align="left"``) or centred; its foot kept on
    the bars' x-axis line where they share it, else centred in height."""
    width_of = partial(text_width, measures.advances)
    s, digit, box, axes = layout.unit, layout.tick_digit, layout.plot, layout.axes
    (x0, x1), (y0, y1) = x_range, y_range
    aspect = (x1 - x0) / (y1 - y0)
    left, right = box.left, box.right
    for _ in range(2):  # the step goes with the plot's size, the labels' room with the step
        step = plane_tick_step(x_range, y_range, min(right - left, box.height * aspect),
                               width_of, digit)  # fmt: skip
        left = axes.left + (widest_tick_label(y0, y1, step, width_of) + dim.Y_LABEL_ROOM) * digit
        overhang = widest_tick_label(x0, x1, step, width_of) * digit / 2  # past the right end
        right = box.right - overhang
    w = min(right - left, box.height * aspect)
    h = w / aspect
    x = left if align == "left" else left + (right - left - w) / 2
    y = box.bottom if layout.shared_axis else box.bottom + (box.height - h) / 2
    plot = Box(x, y, x + w, y + h)
    marker_key = None
    if layout.marker_key is not None:
        key_w, key_h = fitted_key(
            measures.marker_key, key_width or axes.width, x, x + w + overhang, s
        )
        lift = dim.TOP_LABEL_ROOM * digit + dim.MARKER_KEY_GAP * s
        marker_key = Box.sized(x, plot.top + lift, key_w, key_h)
    room = dim.TOP_LABEL_ROOM * digit
    tick_room = digit * dim.X_LABEL_BAND + dim.BAND_CLEARANCE * s
    return replace(
        layout, plot=plot, y_step=step, aligned=False, marker_key=marker_key,
        x_labels=Box(x - overhang, y - tick_room, x + w + overhang, y),
        y_labels=Box(x - (left - axes.left), y - room, x, y + h + room),
    )  # fmt: skip


def _heat_panel(
    box: Box, measures: Measures, x_range, y_range, s: float, widest: float = math.inf
) -> Panel:
    """The integrand's heat map in ``box``: the map at the view's aspect, as large as fits
    (and ``widest`` at most) and centred across, its key above its left edge."""
    digit = dim.PANEL_DIGIT * s
    key_h = key_height(measures, "integrand", box, s)
    key_w, _ = fitted_key(measures.integrand_key, box.width, box.left, box.right, s)
    top = box.top - key_h - dim.LEGEND_GAP * digit
    aspect = (x_range[1] - x_range[0]) / (y_range[1] - y_range[0])
    w = min(box.width, (top - box.bottom) * aspect, widest)
    left = box.left + (box.width - w) / 2  # centred in what it does not fill
    plot = Box(left, top - w / aspect, left + w, top)
    legend = Box.sized(min(left, box.right - key_w), box.top - key_h, key_w, key_h)
    return Panel(box, plot, legend, (0.0, 1.0), 1.0, digit)
