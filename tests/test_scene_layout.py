"""The scene's layout as a pure function of sizes: every mix of bars and panels at every
aspect, without manim (the drawn layout is checked from the mobjects in test_layout.py)."""

from __future__ import annotations

import itertools
import subprocess
import sys
from dataclasses import replace

import pytest
from kldemo.scenes.dimensions import BAR_LABEL_SIZE, LEGEND_FONT, LEGEND_SWATCH
from kldemo.scenes.layout import (
    Box,
    LabelSize,
    Measures,
    bar_notes,
    compute_layout,
    frame_area,
)

from kldemo.core.registry import DIVERGENCES

# Advances of the number glyphs in digit heights, about those of DejaVu Sans.
ADVANCES = {c: 0.87 for c in "0123456789"} | {
    ".": 0.44,
    "e": 0.85,
    "+": 1.15,
    "−": 1.15,
    "∞": 1.15,
    "n": 0.87,
    "a": 0.84,
}
ASPECTS = {"16:9": (16 * 8 / 9, 8.0), "4:3": (32 / 3, 8.0), "1:1": (8.0, 8.0), "9:16": (4.5, 8.0)}
BAR_SETS = [list(c) for n in (1, 2, 3, 5) for c in itertools.combinations(DIVERGENCES, n)][::3]
BAR_SETS += [["forward"], ["forward", "reverse"], list(DIVERGENCES)]
PANEL_SETS = [[], ["integrand"], ["trace"], ["integrand", "trace"]]


def measures(bars: list[str], panels: list[str], unit: float, width: float) -> Measures:
    """Sizes like those Pango gives the scene's texts (scaled with the text unit)."""
    font = BAR_LABEL_SIZE * unit / 32
    notes = bar_notes(bars)
    labels = []
    for name in bars:
        w = (1.6 if DIVERGENCES[name].arguments else 1.15) * font
        h = 0.45 * font
        labels.append(
            LabelSize(w, h + 0.25 * font, 0.7 * font, 0.2 * font) if notes else LabelSize(w, h)
        )
    swatch = LEGEND_SWATCH * LEGEND_FONT * unit
    panel_key = ((swatch, 2.9 * unit, 0.3 * unit), (swatch, 2.9 * unit, 0.3 * unit))
    return Measures(
        advances=ADVANCES,
        bar_labels=tuple(labels),
        title_height=min(0.9 * unit, 0.55 * unit * 20 / width),
        caption_width=9.0 * unit,
        integrand_key=panel_key if "integrand" in panels else (),
        trace_key=panel_key if "trace" in panels else (),
        marker_key=((0.75 * unit, 2.8 * unit, 0.27 * unit), (0.71 * unit, 2.5 * unit, 0.27 * unit)),
    )


def layout_of(bars, panels, aspect, y_range=(0.0, 0.5)):
    width, height = ASPECTS[aspect]
    unit, _ = frame_area(width, height)
    return compute_layout(
        width,
        height,
        measures(bars, panels, unit, width),
        bars,
        panels,
        y_range=y_range,
        bar_max=2.0,
        integrand_range=(-0.3, 0.6),
        markers=True,
    )


@pytest.mark.parametrize("aspect", ASPECTS)
@pytest.mark.parametrize("panels", PANEL_SETS, ids="+".join)
@pytest.mark.parametrize("bars", BAR_SETS, ids="+".join)
def test_boxes_stay_in_the_frame_apart_and_large_enough(bars, panels, aspect):
    for y_range in ((0.0, 0.5), (-0.1, 0.4)):
        layout = layout_of(bars, panels, aspect, y_range)
        frame, s = layout.frame, layout.unit
        regions = layout.regions()
        assert {"axes", "title", "caption"} <= set(regions)
        assert {name for name in regions if name.startswith("bar:")} == {
            f"bar:{name}" for name in bars
        }
        assert ("integrand" in regions) == ("integrand" in panels)
        assert ("trace" in regions) == ("trace" in panels)
        inner = Box(
            frame.left + 0.25 * s,
            frame.bottom + 0.25 * s,
            frame.right - 0.25 * s,
            frame.top - 0.25 * s,
        )
        for name, box in regions.items():
            assert inner.contains(box), (name, box, frame)
            assert box.width > 0 and box.height > 0, (name, box)
        for (a, box_a), (b, box_b) in itertools.combinations(regions.items(), 2):
            assert box_a.overlap(box_b) < 1e-9, f"{a} {box_a} overlaps {b} {box_b}"
        # Inside the main axes' box: the plot, its tick label bands and the markers' key.
        axes = layout.axes
        for name in ("plot", "x_labels", "y_labels", "marker_key"):
            assert axes.contains(getattr(layout, name)), name
        assert layout.marker_key.bottom > layout.plot.top
        assert layout.y_labels.right <= layout.plot.left + 1e-9
        # The main plot keeps a fair share of the frame whatever else is shown.
        assert layout.plot.width >= 0.3 * frame.width
        assert layout.plot.height >= 0.12 * frame.height
        if frame.height > frame.width:  # portrait: the plot spans the width, bars below
            assert layout.stacked and layout.plot.width >= 0.75 * frame.width
            assert layout.plot.height >= 0.25 * frame.height
        for bar in layout.bars:
            column = bar.column
            for part in (bar.track, bar.number, bar.label):
                assert column.contains(part), (bar.name, part, column)
            assert bar.track.height >= 0.5 * s and bar.track.width >= 0.1 * s
            assert bar.number.top <= column.top + 1e-9 and bar.label.top <= bar.track.bottom
            if layout.stacked:
                assert column.top < layout.plot.bottom
        if layout.shared_axis:  # the bars stand on the main axes' x-axis line
            assert all(abs(bar.foot - layout.x_labels.top) < 1e-12 for bar in layout.bars)
        for panel in (layout.integrand, layout.trace):
            if panel is not None:
                assert panel.box.contains(panel.plot) and panel.box.contains(panel.legend)
                assert panel.legend.bottom > panel.plot.top
                assert panel.plot.width >= 0.15 * frame.width
                assert panel.plot.height >= 0.05 * frame.height
        if layout.aligned:  # the integrand panel shares the main axes' x
            assert layout.integrand.plot.left == layout.plot.left
            assert layout.integrand.plot.right == layout.plot.right


def test_a_caption_takes_as_many_lines_as_it_needs():
    width, height = ASPECTS["16:9"]
    unit, area = frame_area(width, height)
    lines = []
    for factor in (0.5, 1.1, 1.5, 2.5, 9.0):
        m = replace(measures(["forward"], [], unit, width), caption_width=factor * area.width)
        lines.append(compute_layout(width, height, m, ["forward"]).caption_lines)
    assert lines == [1, 1, 2, 3, 3]


def test_the_layout_needs_no_manim():
    code = (
        "import sys; import kldemo.scenes.layout, kldemo.scenes.dimensions; "
        "assert 'manim' not in sys.modules, 'manim imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
