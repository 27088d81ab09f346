"""The boxes a layout is made of, and the measured sizes it is computed from: plain data,
free of manim (see :mod:`.layout`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Box:
    """A rectangle by its edges, in scene units. (Edges, not a corner and a size: the
    scene builds from the very numbers the layout computed, to the last bit.)"""

    left: float
    bottom: float
    right: float
    top: float

    @classmethod
    def sized(cls, left: float, bottom: float, width: float, height: float) -> Box:
        return cls(left, bottom, left + width, bottom + height)

    @property
    def width(self) -> float:
        return self.right - self.left

    @property
    def height(self) -> float:
        return self.top - self.bottom

    def overlap(self, other: Box) -> float:
        """The area this box shares with ``other``."""
        width = min(self.right, other.right) - max(self.left, other.left)
        height = min(self.top, other.top) - max(self.bottom, other.bottom)
        return max(width, 0.0) * max(height, 0.0)

    def contains(self, other: Box, tolerance: float = 1e-9) -> bool:
        return (
            other.left >= self.left - tolerance
            and other.right <= self.right + tolerance
            and other.bottom >= self.bottom - tolerance
            and other.top <= self.top + tolerance
        )


@dataclass(frozen=True)
class LabelSize:
    """A bar's label as measured at full size: the whole (label and note) and its note."""

    width: float
    height: float
    note_width: float = 0.0  # 0: no note
    note_height: float = 0.0

    @classmethod
    def of(cls, label) -> LabelSize:
        """The size of a label mobject, and of its ``note`` when it has one."""
        note = getattr(label, "note", None)
        if note is None:
            return cls(label.width, label.height)
        return cls(label.width, label.height, note.width, note.height)


#: A legend entry as measured: its swatch's width, its label's width and height.
Entry = tuple[float, float, float]


@dataclass(frozen=True)
class Measures:
    """The sizes of the texts, measured by the scene (scene units unless said).

    ``title_height`` is the title fitted to :func:`frame_area`'s width; ``caption_width``
    the longest caption on one line at :data:`~.dimensions.CAPTION_SIZE`; ``bar_labels`` the bars'
    labels at :data:`~.dimensions.BAR_LABEL_SIZE` (with notes when :func:`bar_notes` says so);
    ``advances`` the widths of the number glyphs in digit heights; the keys are legend
    entries (see :data:`Entry`). ``key_height(name, box)``, when given, is the height of
    legend ``name`` ("integrand", "trace", "markers") as the scene draws it in ``box``
    (the panel's, or the main axes' with the key at its top left); else it is computed
    from the entries by :func:`legend_size` (the same, but for rounding). ``digits`` is the
    bars' numbers' significant figures: their widest form (:func:`~.numbers.widest_nats`)
    must fit a bar's column.
    """

    advances: Mapping[str, float]
    bar_labels: Sequence[LabelSize] = ()
    title_height: float | None = None
    caption_width: float | None = None
    integrand_key: Sequence[Entry] = ()
    trace_key: Sequence[Entry] = ()
    marker_key: Sequence[Entry] = ()
    key_height: Callable[[str, Box], float] | None = None
    digits: int = 3


@dataclass(frozen=True)
class Bar:
    """One bar: its column (``pitch`` wide), its track, number and label boxes; the
    track's foot (its bottom centre) and size."""

    name: str
    centre: float
    foot: float
    track_width: float
    track_height: float
    column: Box
    track: Box
    number: Box
    label: Box
    note_scale: float  # how much the label's note grows back after shrinking (1: not)


@dataclass(frozen=True)
class Panel:
    """A small plot: its box, its plot rectangle (the widest; x labels may narrow it),
    its legend, its y tick step and digit height."""

    box: Box
    plot: Box
    legend: Box
    y_range: tuple[float, float]
    y_step: float
    digit: float


@dataclass(frozen=True)
class Layout:
    """Every part's box. ``plot`` is the main axes' plot rectangle at its widest (x labels
    may narrow it); ``axes`` the main axes' box with their tick labels and marker key."""

    unit: float
    frame: Box
    stacked: bool  # the bars in a row under the axes (else in a column beside them)
    shared_axis: bool  # the bars stand on the main axes' x-axis line
    aligned: bool  # the integrand panel right under the main axes, sharing their x
    title: Box | None
    caption: Box | None
    caption_lines: int
    caption_band: float  # the caption band's height (0 without captions)
    axes: Box
    plot: Box
    y_step: float
    tick_digit: float
    x_labels: Box  # the band of x tick labels under the x-axis line
    y_labels: Box  # the band of y tick labels left of the plot
    marker_key: Box | None
    bars: tuple[Bar, ...]
    bar_digit: float
    label_scale: float  # the bars' labels' scale from full size
    integrand: Panel | None
    trace: Panel | None

    def regions(self) -> dict[str, Box]:
        """The parts that must neither overlap nor leave the frame, by name."""
        regions = {"axes": self.axes}
        if self.marker_key is not None and not self.axes.contains(self.marker_key):
            regions["marker_key"] = self.marker_key  # beside a 2-D plot, not above it
        regions.update({f"bar:{bar.name}": bar.column for bar in self.bars})
        for name, panel in (("integrand", self.integrand), ("trace", self.trace)):
            if panel is not None:
                regions[name] = panel.box
        if self.title is not None:
            regions["title"] = self.title
        if self.caption is not None:
            regions["caption"] = self.caption
        return regions
