"""Where every part of the scene goes: a pure function of sizes, free of manim.

:func:`compute_layout` takes the frame's size, the bars and panels shown, the view's
ranges and the sizes of the texts as measured by the scene (:class:`Measures`), and
returns a :class:`Layout` of named :class:`Box` es. The scene then builds each part into
its box. Lengths are in scene units; the sizes and shares it uses are the named ones of
:mod:`.dimensions`, most in text units ``unit`` (1 at 16:9 with a frame 8 units high,
smaller for narrower frames).

The layout is one of two. Wide frames, or few bars::

    main axes (p, q, optimum markers) | bars, one per divergence
    integrand panel (same x as above) | trace panel

and tall frames (height > width), or narrow ones with more bars than fit beside the
axes::

    main axes
    bars
    integrand panel | trace panel

Panel rows exist only when a panel is shown; a column with one item gives it the whole
height, a row with one panel the whole width. Bars share the main axes' x-axis line when
they stand beside them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial

from kldemo.plan.frames import BAR_BOUNDS

from . import dimensions as dim
from .boxes import Bar, Box, Entry, LabelSize, Layout, Measures, Panel
from .numbers import spaced_step, text_width, widest_nats, widest_tick_label

__all__ = [
    "Bar",
    "Box",
    "Entry",
    "LabelSize",
    "Layout",
    "Measures",
    "Panel",
    "compute_layout",
    "frame_area",
]


def text_unit(width: float, height: float) -> float:
    """The text unit of a frame: 1 at 16:9 (height 8); smaller for narrower frames. A
    portrait frame stacks its parts, so the plot spans the whole width and its text may
    be larger than beside bars."""
    aspect = dim.WIDE_ASPECT if width >= height else dim.TALL_ASPECT
    return min(height, width / aspect) / dim.FRAME_UNITS


def frame_area(width: float, height: float) -> tuple[float, Box]:
    """The text unit and the frame less its margin (centred on the origin)."""
    s = text_unit(width, height)
    margin = dim.MARGIN * s
    return s, Box(
        -width / 2 + margin, -height / 2 + margin, width / 2 - margin, height / 2 - margin
    )


def bar_notes(bars: Sequence[str]) -> bool:
    """Whether the bars' labels carry notes: when any bar is bounded."""
    return any(name in BAR_BOUNDS for name in bars)


def legend_size(entries: Sequence[Entry], max_width: float, font: float) -> tuple[float, float]:
    """The width and height of :func:`scenes.text.legend` of these entries: one row
    when it fits in ``max_width``, else stacked, and scaled down when still too wide."""
    widths = [swatch + dim.LEGEND_SWATCH_GAP * font + label for swatch, label, _ in entries]
    heights = [height for _, _, height in entries]
    width = sum(widths) + dim.LEGEND_ENTRY_GAP * font * (len(entries) - 1)
    height = max(heights, default=0.0)
    if width > max_width and len(entries) > 1:
        width = max(widths)
        height = sum(heights) + dim.LEGEND_ROW_GAP * font * (len(entries) - 1)
    if width > max_width:
        height *= max_width / width
        width = max_width
    return width, height


Edges = tuple[float, float, float, float]  # left, bottom, right, top


@dataclass(frozen=True)
class _BarSizes:
    stacked: bool
    scale: float  # the labels' scale from full size
    widths: list[float]
    pitches: list[float]
    note_scales: list[float]
    digit: float
    number_room: float  # above a track: the chevron, the number and gaps
    label_room: float  # under a track: the label and gaps


def compute_layout(
    width: float,
    height: float,
    measures: Measures,
    bars: Sequence[str],
    panels: Sequence[str] = (),
    y_range: tuple[float, float] = (0.0, 1.0),
    bar_max: float = 1.0,
    integrand_range: tuple[float, float] | None = None,
    markers: bool = False,
) -> Layout:
    """The boxes of every part of a frame ``width`` × ``height`` (scene units, centred on
    the origin) showing ``bars`` and ``panels``; ``markers``: the optimum markers' key
    is shown above the plot. See the module's description for the arrangement."""
    s, area = frame_area(width, height)
    title, caption, lines, band, (left, bottom, right, top) = _title_and_caption(measures, area, s)
    width_of = partial(text_width, measures.advances)
    portrait = height > width
    sizes = _bar_sizes(
        measures.bar_labels, bars, bool(panels), portrait, s, (right - left, top - bottom),
        measures.advances, measures.digits,
    )  # fmt: skip
    if sizes.stacked:
        main, bars_box, integrand_box, trace_box = _stacked(
            (left, bottom, right, top), set(panels), sizes, portrait, s
        )
    else:
        main, bars_box, integrand_box, trace_box = _beside(
            (left, bottom, right, top), set(panels), sizes, bool(bars), s
        )
    # The integrand right under the main axes, sharing their x: beside the bars, or
    # stacked as the only panel.
    aligned = integrand_box is not None and (not sizes.stacked or len(set(panels)) == 1)
    shared = bars_box is not None and not sizes.stacked and bars_box[1] == main[1]
    digit = dim.PANEL_DIGIT * s
    i_range = integrand_range or (-1.0, 1.0)
    label_w = None
    keys: dict[str, float] = {}
    if integrand_box is not None:
        # When aligned, whichever y labels are wider, the integrand's or the main axes',
        # set where both plots start.
        keys["integrand"] = key_height(measures, "integrand", Box(*integrand_box), s)
        _, label_w = _integrand(
            integrand_box, i_range, aligned, measures.integrand_key, keys["integrand"],
            width_of, digit, s,
        )  # fmt: skip
    marker_key = None
    if markers:
        marker_key = (measures.marker_key, key_height(measures, "markers", Box(*main), s))
    axes = _main_axes(
        main, y_range, sizes.label_room if shared else None, marker_key, label_w, width_of, s
    )
    plot, axis_y = axes["plot"], axes["axis_y"]
    integrand = None
    if integrand_box is not None:
        integrand, _ = _integrand(
            integrand_box, i_range, aligned, measures.integrand_key, keys["integrand"],
            width_of, digit, s, plot if aligned else None,
        )  # fmt: skip
    bar_boxes = ()
    if bars_box is not None and bars:
        bar_boxes = _bars(bars, bars_box, sizes, axis_y if shared else None, s)
    trace = None
    if trace_box is not None:
        trace_key = key_height(measures, "trace", Box(*trace_box), s)
        trace = _trace(trace_box, bar_max, measures.trace_key, trace_key, width_of, digit, s)
    return Layout(
        unit=s, frame=Box(-width / 2, -height / 2, width / 2, height / 2),
        stacked=sizes.stacked, shared_axis=shared, aligned=aligned,
        title=title, caption=caption, caption_lines=lines, caption_band=band,
        axes=Box(*main), plot=plot, y_step=axes["y_step"], tick_digit=dim.TICK_DIGIT * s,
        x_labels=axes["x_labels"], y_labels=axes["y_labels"], marker_key=axes["key"],
        bars=bar_boxes, bar_digit=sizes.digit, label_scale=sizes.scale,
        integrand=integrand, trace=trace,
    )  # fmt: skip


def _title_and_caption(measures: Measures, area: Box, s: float):
    """The title's box at the top and the caption's band at the bottom (None where there
    are none), the caption's line count and band height, and the edges left between."""
    left, bottom, right, top = area.left, area.bottom, area.right, area.top
    title = caption = None
    lines, band = 0, 0.0
    if measures.title_height is not None:
        title = Box(left, top - measures.title_height, right, top)
        top -= measures.title_height + dim.TITLE_GAP * s
    if measures.caption_width is not None:
        # As many lines as the longest caption needs at full size.
        overrun = measures.caption_width / (right - left) - dim.CAPTION_OVERRUN
        lines = min(dim.CAPTION_MAX_LINES, max(1, math.ceil(overrun)))
        band = (dim.CAPTION_LINE + dim.CAPTION_LEADING * (lines - 1)) * s
        caption = Box(left, bottom, right, bottom + band)
        bottom += band + dim.CAPTION_GAP * s
    return title, caption, lines, band, (left, bottom, right, top)


def _bar_sizes(
    labels: Sequence[LabelSize],
    names: Sequence[str],
    panels: bool,
    portrait: bool,
    s: float,
    content: tuple[float, float],
    advances: Mapping[str, float],
    digits: int = 3,
) -> _BarSizes:
    """The bars' labels, at full size, decide where the bars go and how wide they are."""
    content_w, content_h = content
    col_gap = dim.COLUMN_GAP * s
    need = sum(label.width + col_gap for label in labels)
    # A tall frame (portrait, 9:16) always stacks: beside the axes, the bars would
    # squeeze the plot into a thin strip with the curves in its bottom third.
    stacked = portrait or (
        content_w < dim.BESIDE_ASPECT * content_h
        and need > dim.BARS_BESIDE_SHARE * content_w
        and (len(labels) > 2 or panels)
    )
    room = (
        content_w
        if stacked
        else (
            min(
                dim.BARS_COLUMN_MAX,
                dim.BARS_COLUMN + dim.BARS_COLUMN_PER_BAR * max(0, len(labels) - 2),
            )
            * content_w
        )
    )
    # In a row of their own the bars stay low, to leave the height to the axes.
    shrink = min(room / need if need > 0 else 1.0, dim.STACKED_LABEL_SCALE if stacked else 1.0)
    scale = shrink if shrink < 1 else 1.0
    widths = [label.width * scale for label in labels]
    heights = [label.height * scale for label in labels]
    pitches = [w + col_gap for w in widths]
    if stacked and pitches:  # spread out a little
        spread = min(content_w, dim.STACKED_SPREAD * sum(pitches)) / sum(pitches)
        pitches = [pitch * spread for pitch in pitches]
    note_scales = [1.0] * len(labels)
    if shrink < 1:
        # Notes shrunk with their labels grow back to a readable size where they fit.
        for k, (label, pitch) in enumerate(zip(labels, pitches, strict=True)):
            if not label.note_width:
                continue
            fit = (pitch - col_gap / 2) / (label.note_width * shrink)
            largest = dim.BAR_NOTE_MAX_SIZE / (dim.BAR_NOTE_SCALE * dim.BAR_LABEL_SIZE * shrink)
            grow = min(1 / shrink, largest, fit)
            if grow > 1:  # the note keeps its top: the label grows down
                note_scales[k] = grow
                heights[k] += label.note_height * shrink * (grow - 1)
    digit = (dim.BAR_DIGIT_STACKED if stacked else dim.BAR_DIGIT) * s
    for name, pitch in zip(names, pitches, strict=True):
        widest = widest_nats(name in BAR_BOUNDS, digits)
        digit = min(digit, dim.BAR_NUMBER_FILL * pitch / text_width(advances, widest))
    number_room = (
        digit * (1 + dim.BAR_NUMBER_GAPS * dim.BAR_NUMBER_GAP + dim.BAR_CHEVRON)
        + dim.BAR_NUMBER_CLEARANCE * s
    )
    label_room = (
        max(heights, default=0.0)
        + max(dim.BAR_LABEL_ROOM * s, dim.BAR_LABEL_GAP * dim.BAR_NUMBER_GAP * digit)
        + dim.BAR_LABEL_CLEARANCE
        + dim.BAR_LABEL_FOOT * s
    )
    return _BarSizes(stacked, scale, widths, pitches, note_scales, digit, number_room, label_room)


def _stacked(content: Edges, panels: set[str], sizes: _BarSizes, portrait: bool, s: float):
    """Rows, top down: the main axes; the integrand right under them when it is the only
    panel (sharing their x); the bars; the panels otherwise."""
    left, bottom, right, top = content
    content_w, content_h = right - left, top - bottom
    row_gap = dim.ROW_GAP * s
    integrand = trace = None
    # Portrait frames have height to spare: their bars stand a little taller.
    track_share = dim.TRACK_SHARE_PORTRAIT if portrait else dim.TRACK_SHARE
    bars_h = sizes.number_room + max(dim.TRACK_MIN * s, track_share * content_h) + sizes.label_room
    if panels == {"integrand"}:
        bars = (left, bottom, right, bottom + bars_h)
        panel_bottom = bars[3] + row_gap
        integrand = (left, panel_bottom, right, panel_bottom + dim.PANEL_SHARE * content_h)
        main_bottom = integrand[3] + row_gap
    else:
        share = dim.PANELS_SHARE if len(panels) == 2 else dim.PANEL_SHARE
        panel_h = share * content_h if panels else 0.0
        panel_top = bottom + panel_h
        bars_bottom = panel_top + row_gap if panels else bottom
        bars = (left, bars_bottom, right, bars_bottom + bars_h)
        main_bottom = bars[3] + row_gap
        if len(panels) == 2:
            middle = left + content_w / 2
            integrand = (left, bottom, middle - row_gap, panel_top)
            trace = (middle + row_gap, bottom, right, panel_top)
        elif "trace" in panels:
            trace = (left, bottom, right, panel_top)
    return (left, main_bottom, right, top), bars, integrand, trace


def _beside(content: Edges, panels: set[str], sizes: _BarSizes, any_bars: bool, s: float):
    """The main axes on the left (the integrand under them), the bars in a column on the
    right (the trace under them)."""
    left, bottom, right, top = content
    content_w, content_h = right - left, top - bottom
    row_gap = dim.ROW_GAP * s
    integrand = trace = bars = None
    column_w = max(sum(sizes.pitches), dim.TRACE_COLUMN * content_w if "trace" in panels else 0.0)
    column_left = right - column_w
    main_right = column_left - (dim.AXES_GAP * s if column_w > 0 else 0.0)
    split = bottom + dim.BESIDE_SPLIT * content_h
    main = (left, split + row_gap / 2 if "integrand" in panels else bottom, main_right, top)
    if "integrand" in panels:
        integrand = (left, bottom, main_right, split - row_gap / 2)
    if any_bars:
        bars = (column_left, split + row_gap / 2 if "trace" in panels else bottom, right, top)
    if "trace" in panels:
        trace = (column_left, bottom, right, split - row_gap / 2 if any_bars else top)
    return main, bars, integrand, trace


def key_height(measures: Measures, name: str, box: Box, s: float) -> float:
    """The height of legend ``name`` laid out in ``box``: measured, or computed."""
    if measures.key_height is not None:
        return measures.key_height(name, box)
    entries = {
        "integrand": measures.integrand_key,
        "trace": measures.trace_key,
        "markers": measures.marker_key,
    }[name]
    return legend_size(entries, box.width, dim.LEGEND_FONT * s)[1]


def fitted_key(
    entries: Sequence[Entry], max_width: float, left: float, right: float, s: float
) -> tuple[float, float]:
    """A legend's size, arranged within ``max_width``, then scaled to fit between
    ``left`` and ``right``; and its height before that."""
    key_w, key_h = legend_size(entries, max_width, dim.LEGEND_FONT * s)
    if key_w > right - left:
        return right - left, key_h * (right - left) / key_w
    return key_w, key_h


def _integrand(
    box: Edges,
    y_range: tuple[float, float],
    aligned: bool,
    key: Sequence[Entry],
    key_h: float,
    width_of: Callable[[str], float],
    digit: float,
    s: float,
    under: Box | None = None,
) -> tuple[Panel, float]:
    """The integrand panel, its key above the plot, and the width of its y labels (with
    their ticks). ``under``: the main axes' plot, whose x the panel's plot shares."""
    left, bottom, right, top = box
    i0, i1 = y_range
    plot_top = top - key_h - dim.LEGEND_GAP * digit
    if aligned:  # the x labels are the main axes'
        plot_bottom = (
            bottom
            + (dim.ALIGNED_BOTTOM if i0 >= 0 else dim.ALIGNED_BOTTOM_NEGATIVE) * digit
            + dim.BAND_CLEARANCE * s
        )
    else:
        plot_bottom = bottom + digit * dim.X_LABEL_BAND + dim.BAND_CLEARANCE * s
    y_step = spaced_step(i0, i1, plot_top - plot_bottom, width_of, digit, False)
    label_w = widest_tick_label(i0, i1, y_step, width_of) * digit + dim.Y_LABEL_ROOM * digit
    if under is None:
        plot = Box(left + label_w, plot_bottom, right, plot_top)
    else:
        plot = Box(under.left, plot_bottom, under.right, plot_top)
    key_w, key_h = fitted_key(key, right - left, plot.left, right, s)
    legend = Box.sized(plot.left, plot_top + dim.LEGEND_GAP * digit, key_w, key_h)
    return Panel(Box(*box), plot, legend, y_range, y_step, digit), label_w


def _main_axes(
    box: Edges,
    y_range: tuple[float, float],
    label_room: float | None,
    key: tuple[Sequence[Entry], float] | None,
    least_label_w: float | None,
    width_of: Callable[[str], float],
    s: float,
) -> dict:
    """The main axes: what is left in their box, less room for tick labels (and, when the
    bars stand on their x-axis, ``label_room`` for the bars' labels under it)."""
    m_left, m_bottom, m_right, m_top = box
    y0, y1 = y_range
    digit = dim.TICK_DIGIT * s
    tick_room = digit * dim.X_LABEL_BAND + dim.BAND_CLEARANCE * s
    bottom_room = max(tick_room, label_room) if label_room is not None else tick_room
    plot_top = m_top - dim.TOP_LABEL_ROOM * digit  # room for half the top y label
    if key is not None:
        # The markers' key, above the plot: dash patterns say which optimum is which.
        plot_top -= key[1] + dim.MARKER_KEY_GAP * s
    # The x-axis (and the bars' feet) sit at y = 0, which is a fraction f up the plot
    # when y_range starts below 0: the room under the axis then lies inside the plot.
    f = min(max((0.0 - y0) / (y1 - y0), 0.0), dim.MAX_AXIS_RISE)
    plot_bottom = max(
        (m_bottom + bottom_room - f * plot_top) / (1 - f), m_bottom + dim.TOP_LABEL_ROOM * digit
    )
    plot_height = plot_top - plot_bottom
    y_step = spaced_step(y0, y1, plot_height, width_of, digit, horizontal=False)
    axes_left = m_left + widest_tick_label(y0, y1, y_step, width_of) * digit + digit * 1.2
    if least_label_w is not None:
        axes_left = max(axes_left, m_left + least_label_w)
    # Where DensityAxes puts y = 0 (or the range's end nearest it), as it computes it.
    scale = ((plot_height + plot_bottom) - plot_bottom) / (y1 - y0)
    axis_y = (plot_bottom - y0 * scale) + min(max(0.0, y0), y1) * scale
    marker_key = None
    if key is not None:
        key_w, fitted_h = fitted_key(key[0], m_right - m_left, axes_left, m_right, s)
        marker_key = Box.sized(axes_left, m_top - fitted_h, key_w, fitted_h)
    return {
        "plot": Box(axes_left, plot_bottom, m_right, plot_top),
        "y_step": y_step,
        "axis_y": axis_y,
        "x_labels": Box(axes_left, axis_y - tick_room, m_right, axis_y),
        "y_labels": Box(
            m_left,
            plot_bottom - dim.TOP_LABEL_ROOM * digit,
            axes_left,
            plot_top + dim.TOP_LABEL_ROOM * digit,
        ),
        "key": marker_key,
    }


def _bars(
    names: Sequence[str], box: Edges, sizes: _BarSizes, axis_y: float | None, s: float
) -> tuple[Bar, ...]:
    """The bars, centred in their box: their feet on the x-axis line ``axis_y`` when
    beside the axes, else above their labels."""
    b_left, b_bottom, b_right, b_top = box
    foot = axis_y if axis_y is not None else b_bottom + sizes.label_room
    track_h = b_top - sizes.number_room - foot
    track_w = min(dim.BAR_TRACK * s, dim.BAR_TRACK_SHARE * min(sizes.pitches))
    x = b_left + (b_right - b_left - sum(sizes.pitches)) / 2
    label_gap = dim.BAR_LABEL_GAP * dim.BAR_NUMBER_GAP * sizes.digit + dim.BAR_LABEL_CLEARANCE
    out = []
    for name, width, pitch, grow in zip(
        names, sizes.widths, sizes.pitches, sizes.note_scales, strict=True
    ):
        centre = x + pitch / 2
        label_h = sizes.label_room - label_gap - dim.BAR_LABEL_FOOT * s
        out.append(
            Bar(
                name=name,
                centre=centre,
                foot=foot,
                track_width=track_w,
                track_height=track_h,
                column=Box.sized(
                    x,
                    foot - sizes.label_room,
                    pitch,
                    sizes.label_room + track_h + sizes.number_room,
                ),
                track=Box.sized(centre - track_w / 2, foot, track_w, track_h),
                number=Box.sized(x, foot + track_h, pitch, sizes.number_room),
                label=Box.sized(centre - width / 2, foot - label_gap - label_h, width, label_h),
                note_scale=grow,
            )
        )
        x += pitch
    return tuple(out)


def _trace(
    box: Edges,
    bar_max: float,
    key: Sequence[Entry],
    key_h: float,
    width_of: Callable[[str], float],
    digit: float,
    s: float,
) -> Panel:
    """The trace panel: both KLs against time, its key above the plot."""
    left, bottom, right, top = box
    dot = dim.TRACE_DOT * s
    plot_top = top - key_h - dim.LEGEND_GAP * digit - dot
    plot_bottom = bottom + digit * dim.X_LABEL_BAND + dim.BAND_CLEARANCE * s
    y_step = spaced_step(0.0, bar_max, plot_top - plot_bottom, width_of, digit, False)
    plot_left = (
        left + widest_tick_label(0.0, bar_max, y_step, width_of) * digit + dim.Y_LABEL_ROOM * digit
    )
    plot = Box(plot_left, plot_bottom, right, plot_top)
    key_w, key_h = fitted_key(key, right - left, plot_left, right, s)
    legend = Box.sized(plot_left, plot_top + dim.LEGEND_GAP * digit + dot, key_w, key_h)
    return Panel(Box(*box), plot, legend, (0.0, bar_max), y_step, digit)
