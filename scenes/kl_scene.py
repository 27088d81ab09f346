"""The KL-divergence scene: p and q on axes, and a bar for each direction of KL.

The scene draws frames of a :class:`~.plan.ScenePlan`; it knows nothing of YAML or of the
timeline. Drive it frame by frame::

    scene = KLScene(plan)
    scene.build()
    for i in range(len(plan.frames)):
        pixels = scene.capture(i)          # show(i), then draw; an (H, W, 4) uint8 array

or call :meth:`KLScene.show` and draw with the renderer yourself. Each frame is a pure
function of its index: :meth:`show` sets every changing mobject from the plan alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise
from typing import ClassVar

import cairo
import numpy as np
from manim import (
    BOLD,
    UL,
    UP,
    Camera,
    ManimColor,
    Mobject,
    Scene,
    VectorizedPoint,
    VGroup,
    config,
)

from .labels import place_names
from .mobjects import (
    DensityAxes,
    DensityCurve,
    DivergenceBar,
    GlyphSet,
    IntegrandPanel,
    OptimumMarker,
    TracePanel,
    _spaced_step,
    bar_label,
    curve_name_label,
    density,
    divergence_label,
    fit_text,
    format_tick,
    integrand_label,
    legend,
    legend_swatch,
    merge_glyphs,
    pango_text,
    sample_density,
    sample_integrands,
    tick_values,
)
from kldemo.plan.frames import BAR_BOUNDS, ScenePlan
from kldemo.plan.theme import DARK, LIGHT, THEMES, Theme

__all__ = ["DARK", "LIGHT", "KLCamera", "KLScene", "Theme"]


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


_CHUNK = 240  # frames sampled per numpy batch
_TRACE_POINTS = 600  # at most about this many points per line of the trace panel


@dataclass
class _Chunk:
    start: int
    p_xs: np.ndarray
    p_ys: np.ndarray
    q_xs: np.ndarray
    q_ys: np.ndarray
    p_peak: np.ndarray  # (frames, 2): x, y of the point the name label follows
    q_peak: np.ndarray
    int_xs: np.ndarray | None = None  # the integrand panel's samples, when shown
    int_forward: np.ndarray | None = None
    int_reverse: np.ndarray | None = None


class KLScene(Scene):
    """p and q as density curves with their names, and bars for KL(p‖q) and KL(q‖p).

    Parameters
    ----------
    plan
        Every frame's state, the view and the style.
    **kwargs
        Passed to :class:`manim.Scene`.
    """

    CAPTION_SIZE = 30  # font sizes at 16:9 (scaled down for narrower frames)

    def __init__(self, plan: ScenePlan, **kwargs):
        self.plan = plan
        self.theme = THEMES[plan.theme]
        self._built = False
        self._chunk: _Chunk | None = None
        self._captions: dict[int, Mobject] = {}
        self._static_image: np.ndarray | None = None
        self._static_key: tuple[int, int] | None = None
        kwargs.setdefault("camera_class", KLCamera)
        super().__init__(**kwargs)

    # ------------------------------------------------------------------ manim entry

    def construct(self) -> None:
        self.build()
        self.show(0)

    # ------------------------------------------------------------------ building

    def build(self) -> None:
        """Create every mobject, lay them out for the current frame size, and add them.

        The layout, in the content area left between the title and the caption band, is
        one of two. Wide frames, or few bars::

            main axes (p, q, optimum markers) | bars, one per divergence
            integrand panel (same x as above) | trace panel

        and tall frames (height > width), or narrow ones with more bars than fit beside
        the axes::

            main axes
            bars
            integrand panel | trace panel

        Panel rows exist only when a panel is shown; a column with one item gives it the
        whole height, a row with one panel the whole width. Bars share the main axes'
        x-axis line when they stand beside them.
        """
        if self._built:
            return
        plan, theme = self.plan, self.theme
        self.renderer.camera.background_color = ManimColor(theme.background)

        width, height = config.frame_width, config.frame_height
        # 1 at 16:9; smaller for narrower frames. A portrait frame stacks its parts, so
        # the plot spans the whole width and its text may be larger than beside bars.
        s = min(height, width / (1.5 if width >= height else 1.2)) / 8
        self.unit = s
        margin = 0.3 * s
        left, right = -width / 2 + margin, width / 2 - margin
        top, bottom = height / 2 - margin, -height / 2 + margin

        self.glyphs = GlyphSet.cached(plan.labels)

        # Title, then the caption band: both take their room from the content area.
        self.title = None
        if plan.title:
            self.title = fit_text(
                plan.title, right - left, 0.9 * s, 38 * s, theme.text, weight=BOLD
            )
            self.title.move_to([0, top - self.title.height / 2, 0])
            top -= self.title.height + 0.3 * s
        self._caption_box = None
        if plan.captions:
            # As many lines (up to 3) as the longest caption needs at full size.
            longest = max(plan.captions, key=len)
            one_line = fit_text(longest, 1e9, 1e9, self.CAPTION_SIZE * s, theme.muted, max_lines=1)
            lines = min(3, max(1, int(np.ceil(one_line.width / (right - left) - 0.15))))
            band = (0.65 + 0.42 * (lines - 1)) * s
            self._caption_lines = lines
            self._caption_box = (right - left, band, bottom + band / 2)
            bottom += band + 0.25 * s

        colors = {"p": plan.p_color, "q": plan.q_color}
        panels = set(plan.panels)
        content_w, content_h = right - left, top - bottom
        row_gap = 0.35 * s
        tick_digit = 0.2 * s
        panel_digit = 0.17 * s

        # The bars' labels, at full size, decide where the bars go and how wide they are.
        notes = any(name in BAR_BOUNDS for name in plan.bars)
        labels = [
            bar_label(name, colors, plan.labels, 32 * s, theme.text, theme.muted if notes else None)
            for name in plan.bars
        ]
        col_gap = 0.3 * s
        need = sum(label.width + col_gap for label in labels)
        # A tall frame (portrait, 9:16) always stacks: beside the axes, the bars would
        # squeeze the plot into a thin strip with the curves in its bottom third.
        portrait = height > width  # (the unit above already counts on it)
        below = portrait or (
            content_w < 1.6 * content_h
            and need > 0.42 * content_w
            and (len(labels) > 2 or bool(panels))
        )
        room_for_bars = content_w if below else (
            min(0.46, 0.36 + 0.04 * max(0, len(labels) - 2)) * content_w
        )
        # In a row of their own the bars stay low, to leave the height to the axes.
        shrink = min(room_for_bars / need if need > 0 else 1.0, 0.8 if below else 1.0)
        if shrink < 1:
            for label in labels:
                label.scale(shrink)
        pitches = [label.width + col_gap for label in labels]
        if below and pitches:  # spread out a little
            spread = min(content_w, 1.4 * sum(pitches)) / sum(pitches)
            pitches = [pitch * spread for pitch in pitches]
        bars_w = sum(pitches)
        if shrink < 1:
            # Notes shrunk with their labels grow back to a readable size where they fit.
            for label, pitch in zip(labels, pitches, strict=True):
                note = getattr(label, "note", None)
                if note is None:
                    continue
                fit = (pitch - col_gap / 2) / note.width
                grow = min(1 / shrink, 15 / (0.55 * 32 * shrink), fit)
                if grow > 1:
                    note_top = note.get_top()[1]
                    note.scale(grow).shift((note_top - note.get_top()[1]) * UP)
                    note.set_x(label.submobjects[0].get_center()[0])
        digit = (0.25 if below else 0.3) * s
        for name, pitch in zip(plan.bars, pitches, strict=True):
            widest = "0.000" if name in BAR_BOUNDS else "1.23e+04"
            digit = min(digit, 0.92 * pitch / self.glyphs.width(widest))
        number_room = digit * (1 + 3 * 0.35 + 0.8) + 0.1 * s  # number, gaps, chevron
        label_h = max((label.height for label in labels), default=0.0)
        # DivergenceBar sets its label 1.2 * 0.35 * digit + 0.1 under the track.
        label_room = label_h + max(0.2 * s, 1.2 * 0.35 * digit) + 0.1 + 0.05 * s

        # The boxes (left, bottom, right, top) of the main axes, the bars and the panels.
        integrand_box = trace_box = bars_box = None
        aligned = False  # the integrand panel right under the main axes, sharing their x
        if below:
            # Rows, top down: the main axes; the integrand right under them when it is the
            # only panel (sharing their x); the bars; the panels otherwise.
            # Portrait frames have height to spare: their bars stand a little taller.
            track_share = 0.14 if portrait else 0.1
            bars_h = number_room + max(0.8 * s, track_share * content_h) + label_room
            if panels == {"integrand"}:
                bars_box = (left, bottom, right, bottom + bars_h)
                panel_bottom = bars_box[3] + row_gap
                integrand_box = (left, panel_bottom, right, panel_bottom + 0.26 * content_h)
                aligned = True
                main_bottom = integrand_box[3] + row_gap
            else:
                panel_h = (0.29 if len(panels) == 2 else 0.26) * content_h if panels else 0.0
                panel_top = bottom + panel_h
                bars_bottom = panel_top + row_gap if panels else bottom
                bars_box = (left, bars_bottom, right, bars_bottom + bars_h)
                main_bottom = bars_box[3] + row_gap
                if len(panels) == 2:
                    middle = left + content_w / 2
                    integrand_box = (left, bottom, middle - row_gap, panel_top)
                    trace_box = (middle + row_gap, bottom, right, panel_top)
                elif "trace" in panels:
                    trace_box = (left, bottom, right, panel_top)
            main_box = (left, main_bottom, right, top)
        else:
            column_w = max(bars_w, 0.36 * content_w if "trace" in panels else 0.0)
            column_left = right - column_w
            main_right = column_left - (0.45 * s if column_w > 0 else 0.0)
            split = bottom + 0.42 * content_h
            main_box = (left, split + row_gap / 2 if "integrand" in panels else bottom,
                        main_right, top)
            if "integrand" in panels:
                integrand_box, aligned = (left, bottom, main_right, split - row_gap / 2), True
            if labels:
                bars_box = (column_left, split + row_gap / 2 if "trace" in panels else bottom,
                            right, top)
            if "trace" in panels:
                trace_box = (column_left, bottom, right, split - row_gap / 2 if labels else top)
        shared = bars_box is not None and not below and bars_box[1] == main_box[1]

        # The integrand panel's key and y labels (when aligned, its plot starts where the
        # main axes' plot does: whichever y labels are wider set both).
        integrand = None
        if integrand_box is not None:
            entries = [
                (plan.p_color, integrand_label("p", "q", colors, plan.labels, 22 * s, theme.text)),
                (plan.q_color, integrand_label("q", "p", colors, plan.labels, 22 * s, theme.text)),
            ]
            key = legend(entries, integrand_box[2] - integrand_box[0], 0.3 * s, 3 * s)
            i0, i1 = plan.integrand_range or (-1.0, 1.0)
            int_top = integrand_box[3] - key.height - 0.9 * panel_digit
            if aligned:
                int_bottom = integrand_box[1] + (0.6 if i0 >= 0 else 0.5) * panel_digit + 0.05 * s
            else:
                int_bottom = integrand_box[1] + panel_digit * (0.6 + 0.6 + 1.0) + 0.05 * s
            int_step = _spaced_step(i0, i1, int_top - int_bottom, self.glyphs, panel_digit, False)
            int_label_w = self._y_label_width(i0, i1, int_step) * panel_digit + 1.2 * panel_digit
            integrand = (key, (i0, i1), int_top, int_bottom, int_step, int_label_w)

        # The main axes: what is left in their box, less room for tick labels.
        m_left, m_bottom, m_right, m_top = main_box
        tick_room = tick_digit * (0.6 + 0.6 + 1.0) + 0.05 * s
        bottom_room = max(tick_room, label_room) if shared else tick_room
        x0, (y0, y1) = plan.x_range[0], plan.y_range
        plot_top = m_top - 0.6 * tick_digit  # room for half the top y label
        self._marker_key = None
        if plan.optima:
            # The markers' key, above the plot: dash patterns say which optimum is which.
            self._marker_key = self._marker_legend(m_right - m_left)
            self._marker_key.move_to([m_left, m_top, 0], aligned_edge=UL)
            plot_top -= self._marker_key.height + 0.25 * s
        # The x-axis (and the bars' feet) sit at y = 0, which is a fraction f up the plot
        # when y_range starts below 0: the room under the axis then lies inside the plot.
        f = min(max((0.0 - y0) / (y1 - y0), 0.0), 0.9)
        plot_bottom = max(
            (m_bottom + bottom_room - f * plot_top) / (1 - f), m_bottom + 0.6 * tick_digit
        )
        plot_height = plot_top - plot_bottom
        y_step = _spaced_step(y0, y1, plot_height, self.glyphs, tick_digit, horizontal=False)
        axes_left = m_left + self._y_label_width(y0, y1, y_step) * tick_digit + tick_digit * 1.2
        if aligned:
            axes_left = max(axes_left, m_left + integrand[-1])
        room = m_right - axes_left
        plot_width = room
        axes = None
        for _ in range(3):
            axes = DensityAxes(
                plan.x_range,
                plan.y_range,
                plot_width,
                plot_height,
                glyphs=self.glyphs,
                digit_height=tick_digit,
                color=theme.axis,
                label_color=theme.muted,
                stroke_width=2.5 * s,
                y_step=y_step,
            )
            # The last x label may stick out past the plot's right end: make room for it.
            overflow = axes.x_labels.get_right()[0] - room if len(axes.x_labels) else 0.0
            if overflow <= 1e-9:
                break
            plot_width -= overflow
        self.axes = axes
        axes.shift(np.array([axes_left, plot_bottom, 0]) - axes._lo.points[0])
        if self._marker_key is not None:
            _fit_key(self._marker_key, axes_left, m_right)

        # Curves and their names.
        # p drawn wider, under q: where q fits p exactly, p still shows as q's outline.
        stroke = (4.5 if plan.theme == "dark" else 5.0) * s
        self.p_curve = DensityCurve(axes, plan.p_color, 1.5 * stroke, theme.area_opacity)
        self.q_curve = DensityCurve(axes, plan.q_color, stroke, theme.area_opacity)
        self.p_name = curve_name_label("p", plan.p_color, plan.labels, 44 * s)
        self.q_name = curve_name_label("q", plan.q_color, plan.labels, 44 * s)
        self._name_sizes = [(m.width, m.height) for m in (self.p_name, self.q_name)]

        # The bars: their feet on the x-axis line when beside the axes, else above labels.
        self.bars: dict[str, DivergenceBar] = {}
        if bars_box is not None:
            b_left, b_bottom, b_right, b_top = bars_box
            axis_y = axes.c2p(x0, min(max(0.0, y0), y1))[1] if shared else b_bottom + label_room
            track_h = b_top - number_room - axis_y
            track_w = min(0.7 * s, 0.45 * min(pitches))
            x = b_left + (b_right - b_left - bars_w) / 2
            for name, label, pitch in zip(plan.bars, labels, pitches, strict=True):
                bar = DivergenceBar(
                    label,
                    BAR_BOUNDS.get(name, plan.bar_max),
                    self.glyphs,
                    height=track_h,
                    width=track_w,
                    color=theme.bar,
                    track_color=theme.track,
                    text_color=theme.text,
                    digit_height=digit,
                    stroke_width=4 * s,
                    overflow=name not in BAR_BOUNDS,
                )
                bar.shift(np.array([x + pitch / 2, axis_y, 0]) - bar.track.get_bottom())
                self.bars[name] = bar
                x += pitch

        # The panels.
        self.integrand_panel = None
        if integrand is not None:
            key, int_range, int_top, int_bottom, int_step, int_label_w = integrand
            if aligned:
                plot_left, _, plot_right, _ = axes.plot_box()
            else:
                plot_left, plot_right = integrand_box[0] + int_label_w, integrand_box[2]
            self.integrand_panel = self._fitted(
                lambda w: IntegrandPanel(
                    plan.x_range,
                    int_range,
                    w,
                    int_top - int_bottom,
                    (plan.p_color, plan.q_color),
                    glyphs=self.glyphs,
                    digit_height=panel_digit,
                    axis_color=theme.axis,
                    label_color=theme.muted,
                    stroke_width=2.5 * s,
                    fill_opacity=2 * theme.area_opacity,
                    y_step=int_step,
                    x_labels=False if aligned else "bottom",
                ),
                plot_left,
                plot_right,
                int_bottom,
            )
            _fit_key(key, plot_left, integrand_box[2])
            self.integrand_panel.set_legend(key)
        self.trace_panel = None
        if trace_box is not None:
            self.trace_panel = self._trace_panel(trace_box, panel_digit, colors)

        self.caption_slot = VGroup()
        self.marker_slot = VGroup()
        self._markers: dict[int, Mobject] = {}
        self.add(axes, self.marker_slot)
        self.add(self.p_curve.area, self.q_curve.area, self.p_curve, self.q_curve)
        self.add(self.p_name, self.q_name, *self.bars.values())
        for panel in (self.integrand_panel, self.trace_panel):
            if panel is not None:
                self.add(panel)
        if self.title is not None:
            self.add(self.title)
        self.add(self.caption_slot)
        # Every caption now, while kldemo holds its lock on manim's shared text folder:
        # forked workers inherit them. Built lazily, two workers writing the same caption
        # race on manim's scratch copy of its SVG (<hash>_.svg), which the first removes.
        for index in range(len(plan.captions)):
            self._show_caption(index)
        self.caption_slot.submobjects = []
        self._trace_stride = max(1, math.ceil(len(plan.frames) / _TRACE_POINTS))
        self._built = True

    @staticmethod
    def _fitted(make, plot_left: float, plot_right: float, plot_bottom: float):
        """``make(width)``, a panel whose plot starts at ``plot_left`` and whose x labels
        end by ``plot_right``, moved there (its plot's lower-left at ``plot_left``,
        ``plot_bottom``)."""
        room = plot_right - plot_left
        width = room
        panel = None
        for _ in range(3):
            panel = make(width)
            labels = panel.axes.x_labels
            overflow = labels.get_right()[0] - room if len(labels) else 0.0
            if overflow <= 1e-9:
                break
            width -= overflow
        panel.shift(np.array([plot_left, plot_bottom, 0]) - panel.axes._lo.points[0])
        return panel

    def _y_label_width(self, lo: float, hi: float, step: float) -> float:
        """The widest y tick label over ``[lo, hi]``, in digit heights."""
        return max(
            (self.glyphs.width(format_tick(y, step)) for y in tick_values(lo, hi, step)),
            default=0.0,
        )

    def _trace_panel(self, box, digit: float, colors: dict[str, str]) -> TracePanel:
        """Both KLs against time, fitted into ``box`` (left, bottom, right, top)."""
        plan, theme, s = self.plan, self.theme, self.unit
        left, bottom, right, top = box
        entries = [
            (plan.p_color, divergence_label("p", "q", colors, plan.labels, 22 * s, theme.text)),
            (plan.q_color, divergence_label("q", "p", colors, plan.labels, 22 * s, theme.text)),
        ]
        dot = 0.07 * s
        key = legend(entries, right - left, 0.3 * s, 3 * s)
        plot_top = top - key.height - 0.9 * digit - dot
        plot_bottom = bottom + digit * (0.6 + 0.6 + 1.0) + 0.05 * s
        y_step = _spaced_step(0.0, plan.bar_max, plot_top - plot_bottom, self.glyphs, digit, False)
        plot_left = left + self._y_label_width(0.0, plan.bar_max, y_step) * digit + 1.2 * digit
        panel = self._fitted(
            lambda w: TracePanel(
                plan.time_span,
                plan.bar_max,
                w,
                plot_top - plot_bottom,
                (plan.p_color, plan.q_color),
                glyphs=self.glyphs,
                digit_height=digit,
                axis_color=theme.axis,
                label_color=theme.muted,
                stroke_width=2.5 * s,
                dot_radius=dot,
                y_step=y_step,
            ),
            plot_left,
            right,
            plot_bottom,
        )
        _fit_key(key, plot_left, right)
        panel.set_legend(key)
        return panel

    @property
    def forward_bar(self) -> DivergenceBar | None:
        """The bar of KL(p‖q), when shown."""
        return self.bars.get("forward")

    @property
    def reverse_bar(self) -> DivergenceBar | None:
        """The bar of KL(q‖p), when shown."""
        return self.bars.get("reverse")

    def layout_regions(self) -> dict[str, Mobject]:
        """The parts of the layout that must neither overlap nor leave the frame, by name.

        ``axes`` is the main axes with everything drawn in them; each bar is
        ``bar:<name>``; panels go by their names; ``caption`` is the caption shown now.
        """
        regions: dict[str, Mobject] = {
            "axes": VGroup(
                self.axes, self.marker_slot, self.p_curve, self.q_curve, self.p_name, self.q_name
            )
        }
        for name, bar in self.bars.items():
            regions[f"bar:{name}"] = bar
        if self.integrand_panel is not None:
            regions["integrand"] = self.integrand_panel
        if self.trace_panel is not None:
            regions["trace"] = self.trace_panel
        if self.title is not None:
            regions["title"] = self.title
        if self.caption_slot.submobjects:
            regions["caption"] = self.caption_slot
        return regions

    # ------------------------------------------------------------------ frames

    @property
    def static_parts(self) -> list[Mobject]:
        """What stays put between caption changes (drawn once per caption by :meth:`capture`)."""
        static = [self.axes, self.marker_slot]
        for bar in self.bars.values():
            static += [bar.track, bar.label]
        for panel in (self.integrand_panel, self.trace_panel):
            if panel is not None:
                static += [panel.axes, panel.legend]
        if self.title is not None:
            static.append(self.title)
        static.append(self.caption_slot)
        return static

    @property
    def moving_parts(self) -> list[Mobject]:
        """What :meth:`show` changes every frame, in drawing order (above the static ones)."""
        dynamic = [self.p_curve.area, self.q_curve.area, self.p_curve, self.q_curve]
        dynamic += [self.p_name, self.q_name]
        for bar in self.bars.values():
            dynamic += [bar.fill, bar.overflow_mark, bar.number]
        if self.integrand_panel is not None:
            panel = self.integrand_panel
            dynamic += [panel.forward_curve.area, panel.reverse_curve.area]
            dynamic += [panel.forward_curve, panel.reverse_curve]
        if self.trace_panel is not None:
            dynamic += [*self.trace_panel.lines, *self.trace_panel.dots]
        return dynamic

    def show(self, i: int) -> None:
        """Set every mobject to frame ``i`` of the plan, in place."""
        if not self._built:
            self.build()
        frames = self.plan.frames
        n = len(frames)
        if not -n <= i < n:
            raise IndexError(f"frame {i} out of range (the plan has {n} frames)")
        i = int(i) % n
        chunk = self._chunk_of(i)
        j = i - chunk.start
        self.p_curve.set_data(chunk.p_xs[j], chunk.p_ys[j])
        self.q_curve.set_data(chunk.q_xs[j], chunk.q_ys[j])
        self._place_names(
            chunk.p_peak[j],
            chunk.q_peak[j],
            [(chunk.p_xs[j], chunk.p_ys[j]), (chunk.q_xs[j], chunk.q_ys[j])],
        )
        for name, bar in self.bars.items():
            bar.set_value(frames.values(name)[i])
        if self.integrand_panel is not None:
            self.integrand_panel.set_data(
                chunk.int_xs[j], chunk.int_forward[j], chunk.int_reverse[j]
            )
        if self.trace_panel is not None:
            # Every stride-th frame up to now, and now: the same points whichever frame
            # was drawn before.
            index = np.arange(0, i + 1, self._trace_stride)
            if index[-1] != i:
                index = np.append(index, i)
            self.trace_panel.set_data(
                frames.t[index], frames.forward_kl[index], frames.reverse_kl[index]
            )
        self._show_markers(-1 if frames.optimum is None else int(frames.optimum[i]))
        self._show_caption(int(frames.caption[i]))

    def capture(self, i: int, copy: bool = True) -> np.ndarray:
        """Frame ``i`` as pixels (an ``(H, W, 4)`` uint8 array), drawing only what moves.

        What stays put (axes, bar frames, labels, title, the caption, the optimum markers)
        is drawn into a background image, kept until the caption or the markers change.
        With ``copy=False`` the result is the camera's own buffer, valid until the next
        call.
        """
        self.show(i)
        renderer = self.renderer
        caption = self.caption_slot.submobjects[0] if self.caption_slot.submobjects else None
        markers = self.marker_slot.submobjects[0] if self.marker_slot.submobjects else None
        key = (id(caption), id(markers))
        if self._static_image is None or self._static_key != key:
            renderer.static_image = None
            renderer.update_frame(self, mobjects=self.static_parts)
            self._static_image = renderer.get_frame()
            self._static_key = key
        renderer.static_image = self._static_image
        renderer.update_frame(self, mobjects=self._dynamic_leaves(), include_submobjects=False)
        return renderer.get_frame() if copy else renderer.camera.pixel_array

    def _dynamic_leaves(self) -> list[Mobject]:
        """The members of the moving parts that draw something, in drawing order."""
        leaves = []
        for mob in self.moving_parts:
            leaves += [
                m for m in mob.family_members_with_points() if not isinstance(m, VectorizedPoint)
            ]
        return leaves

    def _chunk_of(self, i: int) -> _Chunk:
        if self._chunk is not None and 0 <= i - self._chunk.start < len(self._chunk.p_xs):
            return self._chunk
        start = i - i % _CHUNK
        f = self.plan.frames.take(slice(start, start + _CHUNK))
        x_range = self.plan.x_range
        p_xs, p_ys = sample_density(f.p_weights, f.p_means, f.p_stds, x_range)
        q_xs, q_ys = sample_density(f.q_weights, f.q_means, f.q_stds, x_range)
        self._chunk = _Chunk(
            start,
            p_xs,
            p_ys,
            q_xs,
            q_ys,
            _label_anchor(f.p_weights, f.p_means, f.p_stds, x_range),
            _label_anchor(f.q_weights, f.q_means, f.q_stds, x_range),
        )
        if self.integrand_panel is not None:
            self._chunk.int_xs, self._chunk.int_forward, self._chunk.int_reverse = (
                sample_integrands(
                    (f.p_weights, f.p_means, f.p_stds), (f.q_weights, f.q_means, f.q_stds), x_range
                )
            )
        return self._chunk

    def _place_names(self, p_peak: np.ndarray, q_peak: np.ndarray,
                     curves: list[tuple[np.ndarray, np.ndarray]]) -> None:
        """Put each name near the peak it follows, above both curves, inside the plot,
        apart (see :func:`~.labels.place_names`); ``curves`` are the frame's samples."""
        origin, ex, ey = self.axes.affine()
        y_lo, y_hi = self.axes.y_range[:2]
        scene_curves = [
            (origin[0] + xs * ex[0], origin[1] + np.clip(ys, y_lo, y_hi) * ey[1])
            for xs, ys in curves
        ]
        anchors = [
            tuple(self.axes.c2p(peak[0], min(max(peak[1], y_lo), y_hi))[:2])
            for peak in (p_peak, q_peak)
        ]
        centres = place_names(
            scene_curves, anchors, self._name_sizes, self.axes.plot_box(), 0.12 * self.unit
        )
        for name, (cx, cy) in zip((self.p_name, self.q_name), centres, strict=True):
            name.move_to([cx, cy, 0])

    def _show_markers(self, index: int) -> None:
        """Show set ``index`` of the plan's optimum markers (none for -1)."""
        if index < 0 or index >= len(self.plan.optima):
            if self.marker_slot.submobjects:
                self.marker_slot.submobjects = []
            return
        group = self._markers.get(index)
        if group is None:
            group = self._marker_group(self.plan.optima[index])
            self._markers[index] = group
        if not self.marker_slot.submobjects or self.marker_slot.submobjects[0] is not group:
            self.marker_slot.submobjects = [group]

    # dash, gap (× unit) of each kind of optimum marker
    _DASHES: ClassVar[dict[str, tuple[float, float]]] = {
        "forward": (0.22, 0.12),
        "reverse": (0.07, 0.09),
    }

    def _marker_legend(self, max_width: float) -> VGroup:
        """The key of the optimum markers: each kind's dash pattern and what it marks."""
        s, theme = self.unit, self.theme
        several = any(sum(o.kind == "reverse" for o in group) > 1 for group in self.plan.optima)
        entries = []
        for kind, text in (("forward", "forward-KL optimum"),
                           ("reverse", "reverse-KL optima" if several else "reverse-KL optimum")):
            dash, gap = self._DASHES[kind]
            swatch = legend_swatch(theme.muted, 0.75 * s, 2.5 * s, (dash * s, gap * s))
            label = pango_text(text, font="Sans", font_size=20 * s, color=theme.muted)
            entries.append((swatch, label))
        return legend(entries, max_width, 0.3 * s, 2.5 * s)

    def _marker_group(self, optima) -> VGroup:
        """Dashed Gaussians of a set of optima, under the key of their dash patterns."""
        s, theme = self.unit, self.theme
        group = VGroup()
        for optimum in sorted(optima, key=lambda o: (o.kind != "forward", o.mean)):
            dash, gap = self._DASHES[optimum.kind]
            group.add(
                OptimumMarker(
                    self.axes,
                    optimum.mean,
                    optimum.std,
                    color=theme.muted,
                    stroke_width=2.5 * s,
                    dash=dash * s,
                    gap=gap * s,
                )
            )
        group.add(self._marker_key)
        return group

    def _show_caption(self, index: int) -> None:
        current = self.caption_slot.submobjects
        if index < 0 or index >= len(self.plan.captions) or self._caption_box is None:
            if current:
                self.caption_slot.submobjects = []
            return
        mob = self._captions.get(index)
        if mob is None:
            max_w, max_h, centre_y = self._caption_box
            text = fit_text(
                self.plan.captions[index],
                max_w,
                max_h,
                self.CAPTION_SIZE * self.unit,
                self.theme.muted,
                max_lines=self._caption_lines,
            )
            mob = merge_glyphs(text.move_to([0, centre_y, 0]))
            self._captions[index] = mob
        if not current or current[0] is not mob:
            self.caption_slot.submobjects = [mob]


def _fit_key(key: Mobject, left: float, right: float) -> None:
    """Scale a legend down to fit between ``left`` and ``right``, keeping its top, and
    put it at ``left``."""
    top = key.get_top()[1]
    if key.width > right - left:
        key.scale((right - left) / key.width)
    key.shift([left - key.get_left()[0], top - key.get_top()[1], 0])


def _label_anchor(weights, means, stds, x_range) -> np.ndarray:
    """Where each frame's name label goes: the tallest component's mean, on the curve.

    "Tallest" by weight / std, the first on a tie, so that symmetric mixtures keep their
    label on one mode instead of flickering between them. Shape (frames, 2).
    """
    k = np.argmax(weights / stds, axis=-1)
    x = np.take_along_axis(means, k[:, None], axis=-1)
    x = np.clip(x, x_range[0], x_range[1])
    y = density(x, weights, means, stds)[:, 0]
    return np.stack([x[:, 0], y], axis=-1)
