"""The scene's dimensions, each once: sizes, gaps and shares of the layout and of the
parts it places (bars, axes, legends), free of manim.

Lengths are in text units (``unit``: 1 at 16:9 with a frame 8 scene units high) unless
said otherwise; font sizes are manim's, times the unit.
"""

from __future__ import annotations

# -- the frame and its text ---------------------------------------------------------------

#: The frame height (scene units) per text unit; ``unit`` is 1 at 16:9 with height 8.
FRAME_UNITS = 8
#: A landscape frame's width per unit of height below which the unit shrinks (16:9 is 1.78).
WIDE_ASPECT = 1.5
#: The same for a portrait frame: it stacks its parts, so its text may be larger.
TALL_ASPECT = 1.2
MARGIN = 0.3  # between the frame's edge and everything, in units
TITLE_SIZE = 38  # font sizes, in units (× unit)
TITLE_MAX_HEIGHT = 0.9  # the title's height at most, in units
TITLE_GAP = 0.3  # under the title, in units
CAPTION_SIZE = 30
CAPTION_MAX_LINES = 3
#: How far past the content width a caption may run before it takes another line (it is
#: then scaled down to fit), in content widths.
CAPTION_OVERRUN = 0.15
CAPTION_LINE = 0.65  # the caption band's height for one line, in units
CAPTION_LEADING = 0.42  # the band's height for each further line, in units
CAPTION_GAP = 0.25  # above the caption band, in units
ROW_GAP = 0.35  # between stacked rows and between the panels of a row, in units
COLUMN_GAP = 0.3  # between the bars' labels, in units
AXES_GAP = 0.45  # between the main axes and the column of bars beside them, in units

# -- axes ---------------------------------------------------------------------------------

TICK_DIGIT = 0.2  # the main axes' tick digits' height, in units
PANEL_DIGIT = 0.17  # the panels' tick digits' height, in units
TICK_LENGTH = 0.6  # a tick's length, in digit heights (DensityAxes draws them)
TICK_LABEL_GAP = 0.6  # between a tick's end and its label, in digit heights
#: The band of x tick labels under the axis: tick, gap and a digit, in digit heights...
X_LABEL_BAND = TICK_LENGTH + TICK_LABEL_GAP + 1.0
BAND_CLEARANCE = 0.05  # ...and this much more, in units
#: Room above the plot for half the top y label (centred on its tick), in digit heights.
TOP_LABEL_ROOM = 0.6
#: Room left of the plot besides the widest y label: tick and gap, in digit heights.
Y_LABEL_ROOM = TICK_LENGTH + TICK_LABEL_GAP
#: The x-axis sits at y = 0, at most this fraction of the plot's height above its bottom.
MAX_AXIS_RISE = 0.9
MARKER_KEY_GAP = 0.25  # between the optimum markers' key and the plot, in units
#: The integrand panel's room under a y range starting at 0 (half a digit more otherwise)
#: when it shares the main axes' x labels, in digit heights.
ALIGNED_BOTTOM, ALIGNED_BOTTOM_NEGATIVE = 0.6, 0.5
PANEL_SHARE = 0.26  # a row of one panel, under stacked bars: its share of the height
PANELS_SHARE = 0.29  # the same for a row of two panels
#: Beside the axes, the height the integrand's row leaves above it, in content heights.
BESIDE_SPLIT = 0.42
TRACE_COLUMN = 0.36  # the least width of a trace panel beside the axes, in content widths
TRACE_DOT = 0.07  # the radius of the trace's dots, in units
LEGEND_GAP = 0.9  # between a panel's legend and its plot, in digit heights

# -- legends (scenes.text.legend) ---------------------------------------------------------

LEGEND_FONT = 0.3  # the legends' font height, in units: it scales their swatches and gaps
LEGEND_STROKE = 3.0  # the panels' legend swatches' stroke width, in units
LEGEND_SWATCH = 1.4  # a colour swatch's length, in font heights
LEGEND_SWATCH_GAP = 0.4  # between a swatch and its label, in font heights
LEGEND_ENTRY_GAP = 1.6  # between entries in a row, in font heights
LEGEND_ROW_GAP = 0.3  # between stacked entries, in font heights
PANEL_KEY_SIZE = 22  # the panels' legend labels' font size, in units
MARKER_KEY_SIZE = 20  # the optimum markers' key labels' font size, in units

# -- bars (scenes.bars.DivergenceBar) -----------------------------------------------------

BAR_LABEL_SIZE = 32  # the bars' labels' font size at full size, in units
BAR_NOTE_SCALE = 0.55  # a note's font size, in label font sizes
BAR_NOTE_GAP = 0.12  # between a label and its note, in label heights
BAR_NOTE_MAX_SIZE = 15  # a shrunk note grows back at most to this font size, in units
BAR_NUMBER_GAP = 0.35  # the gap between a bar's parts above its track, in digit heights
BAR_CHEVRON = 0.8  # the overflow chevron's height, in digit heights
BAR_NUMBER_GAPS = 3  # gaps between the track's top and the number (around the chevron)
BAR_LABEL_GAP = 1.2  # between the track and its label: gaps of BAR_NUMBER_GAP...
BAR_LABEL_CLEARANCE = 0.1  # ...and this much more, in scene units
BAR_NUMBER_CLEARANCE = 0.1  # above a bar's number, in units
BAR_LABEL_ROOM = 0.2  # the least room between a track and its label, in units
BAR_LABEL_FOOT = 0.05  # under a bar's label, in units
BAR_DIGIT, BAR_DIGIT_STACKED = 0.3, 0.25  # the numbers' digit height beside / under, units
BAR_NUMBER_FILL = 0.92  # the widest number's share of a bar's pitch at most
BAR_TRACK = 0.7  # a track's width at most, in units...
BAR_TRACK_SHARE = 0.45  # ...and in the narrowest pitch
#: The bars stand beside the axes when their labels take at most this share of the
#: content width (or the frame is wide, or there are two bars and no panel)...
BARS_BESIDE_SHARE = 0.42
BESIDE_ASPECT = 1.6  # ...a content area this wide per unit of height is always "wide"
#: Beside the axes, the bars' column takes at most this share of the content width, and
#: this much more for each bar past two.
BARS_COLUMN, BARS_COLUMN_PER_BAR, BARS_COLUMN_MAX = 0.36, 0.04, 0.46
STACKED_LABEL_SCALE = 0.8  # in a row of their own, labels at most this of full size
STACKED_SPREAD = 1.4  # ...and spread out to at most this of their pitches
#: A row of bars' track height: this share of the content height, at least a unit.
TRACK_SHARE, TRACK_SHARE_PORTRAIT, TRACK_MIN = 0.1, 0.14, 0.8

# -- strokes and sizes of the drawn parts --------------------------------------------------

AXIS_STROKE = 2.5  # axis lines, and the optimum markers' dashes
CURVE_STROKE_DARK, CURVE_STROKE_LIGHT = 4.5, 5.0  # q's curve on each theme
P_STROKE_SCALE = 1.5  # p's curve is this much wider: where q fits p, p shows as its outline
BAR_STROKE = 4.0  # the overflow chevron (a track's outline is half of it)
NAME_SIZE = 44  # the font size of the curves' names
NAME_PAD = 0.12  # the least room between a name and a curve or the plot's edge

# -- the plane (2-D: contours at equal scale) ----------------------------------------------

CONTOUR_STROKE = 2.6  # q's innermost contour; outer levels thinner (scenes.plane_axes)
P_CONTOUR_SCALE = 1.45  # p's contours are this much wider: where q fits p, p shows round it
CONTOUR_FILL_SHARE = 0.7  # a filled level's opacity, in the theme's area opacity
CONTOUR_CELL_PX = 8  # the contour grid's cell, in pixels of the plot (finer: no wobble)
HEAT_CELL_PX = 3  # the integrand heat map's cell, in pixels
#: Beside the plot, the integrand's heat map is at least this much of the plot's size...
PLANE_SIDE_MIN = 0.4
#: ...its key shrinks to no less than this of its size to fit there...
PLANE_KEY_SHRINK = 0.6
#: ...and the heat map is at most this much of the plot's width.
PLANE_HEAT_SHARE = 0.6
#: Contour vertices closer than this to the chord of their neighbours are left out, in
#: pixels: the lines move by less, and Cairo strokes far fewer vertices.
CONTOUR_TOLERANCE_PX = 0.25
