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

import numpy as np
from manim import BOLD, UL, UP, ManimColor, Mobject, Scene, VectorizedPoint, VGroup, config

from kldemo.plan.frames import BAR_BOUNDS, ScenePlan
from kldemo.plan.theme import DARK, LIGHT, THEMES, Theme

from .axes import DensityAxes, DensityCurve
from .bars import DivergenceBar
from .camera import KLCamera
from .data_layer import add_data_layer
from .dimensions import (
    AXIS_STROKE,
    BAR_LABEL_SIZE,
    BAR_STROKE,
    CAPTION_SIZE,
    CURVE_STROKE_DARK,
    CURVE_STROKE_LIGHT,
    LEGEND_FONT,
    LEGEND_STROKE,
    LEGEND_SWATCH,
    NAME_PAD,
    NAME_SIZE,
    P_STROKE_SCALE,
    PANEL_KEY_SIZE,
    TITLE_MAX_HEIGHT,
    TITLE_SIZE,
    TRACE_DOT,
)
from .labels import place_names
from .layout import Box, LabelSize, Layout, Measures, Panel, bar_notes, compute_layout, frame_area
from .markers import MARKER_STROKE, marker_group, marker_key_entries
from .panels import IntegrandPanel, TracePanel, fitted_panel
from .sampling import Chunk, label_anchor, sample_density, sample_integrands
from .text import (
    GlyphSet,
    bar_label,
    curve_name_label,
    divergence_label,
    fit_legend,
    fit_text,
    integrand_label,
    legend,
    merge_glyphs,
)

__all__ = ["DARK", "LIGHT", "KLCamera", "KLScene", "Theme"]


_CHUNK = 240  # frames sampled per numpy batch
_TRACE_POINTS = 600  # at most about this many points per line of the trace panel


@dataclass
class _Texts:
    """The texts made before the layout, which their sizes decide."""

    measures: Measures
    title: Mobject | None
    bar_labels: list[Mobject]


class KLScene(Scene):
    """p and q as density curves with their names, and bars for KL(p‖q) and KL(q‖p).

    Parameters
    ----------
    plan
        Every frame's state, the view and the style.
    **kwargs
        Passed to :class:`manim.Scene`.
    """

    def __init__(self, plan: ScenePlan, **kwargs):
        self.plan = plan
        self.theme = THEMES[plan.theme]
        self._built = False
        self._chunk: Chunk | None = None
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

        The boxes come from :func:`~.layout.compute_layout`, given the sizes of the texts
        measured here; each part is then built into its box.
        """
        if self._built:
            return
        plan, theme = self.plan, self.theme
        self.renderer.camera.background_color = ManimColor(theme.background)
        width, height = config.frame_width, config.frame_height
        self.unit, area = frame_area(width, height)
        self.glyphs = GlyphSet.cached(plan.labels)
        parts = self._texts(area)
        self.layout = layout = self._layout(width, height, parts.measures)
        self.title = parts.title
        self._caption_box = None
        if layout.caption is not None:
            box = layout.caption
            self._caption_lines = layout.caption_lines
            band = layout.caption_band
            self._caption_box = (box.width, band, box.bottom + band / 2)
        self._build_axes(layout)
        add_data_layer(self)  # a data p's samples, under the densities
        self._build_curves()
        self._build_bars(layout, parts.bar_labels)
        self.integrand_panel = self.trace_panel = None
        if layout.integrand is not None:
            self.integrand_panel = self._build_integrand(layout)
        if layout.trace is not None:
            self.trace_panel = self._build_trace(layout.trace)
        self._add_parts()

    def _layout(self, width: float, height: float, measures: Measures) -> Layout:
        """The boxes of every part (see :func:`~.layout.compute_layout`)."""
        p = self.plan
        return compute_layout(
            width, height, measures, p.bars, p.panels, p.y_range, p.bar_max,
            p.integrand_range, bool(p.optima),
        )  # fmt: skip

    def _texts(self, area: Box) -> _Texts:
        """The texts whose sizes decide the layout, made at full size and measured (the
        title in its place, at the top of ``area``)."""
        plan, theme, s = self.plan, self.theme, self.unit
        colors = {"p": plan.p_color, "q": plan.q_color}
        title = None
        if plan.title:
            title = fit_text(
                plan.title,
                area.width,
                TITLE_MAX_HEIGHT * s,
                TITLE_SIZE * s,
                theme.text,
                weight=BOLD,
            )
            title.move_to([0, area.top - title.height / 2, 0])
        caption_width = None
        if plan.captions:
            longest = max(plan.captions, key=len)
            caption_width = fit_text(
                longest, 1e9, 1e9, CAPTION_SIZE * s, theme.muted, max_lines=1
            ).width
        note_color = theme.muted if bar_notes(plan.bars) else None
        labels = [
            bar_label(name, colors, plan.labels, BAR_LABEL_SIZE * s, theme.text, note_color)
            for name in plan.bars
        ]
        keys = {}  # the panels' legends: p's term, or KL, and q's
        for panel, make in (("integrand", integrand_label), ("trace", divergence_label)):
            keys[panel] = (
                []
                if panel not in plan.panels
                else [
                    (color, make(a, b, colors, plan.labels, PANEL_KEY_SIZE * s, theme.text))
                    for color, a, b in ((plan.p_color, "p", "q"), (plan.q_color, "q", "p"))
                ]
            )
        integrand_entries, trace_entries = keys["integrand"], keys["trace"]
        marker_entries = marker_key_entries(plan.optima, theme.muted, s) if plan.optima else []
        swatch = LEGEND_SWATCH * (LEGEND_FONT * s)
        self._entries = {
            "integrand": integrand_entries,
            "trace": trace_entries,
            "markers": marker_entries,
        }
        self._keys: dict[str, VGroup] = {}

        def sizes(entries) -> tuple[tuple[float, float, float], ...]:
            return tuple(
                (key.width if isinstance(key, Mobject) else swatch, label.width, label.height)
                for key, label in entries
            )

        measures = Measures(
            advances=self.glyphs.advances,
            bar_labels=tuple(LabelSize.of(label) for label in labels),
            title_height=None if title is None else title.height,
            caption_width=caption_width,
            integrand_key=sizes(integrand_entries),
            trace_key=sizes(trace_entries),
            marker_key=sizes(marker_entries),
            key_height=self._key_height,
            digits=plan.digits,
        )
        return _Texts(measures, title, labels)

    def _key_height(self, name: str, box: Box) -> float:
        """Legend ``name`` made for ``box`` (the markers' at its top left), kept for
        building, and its height."""
        s = self.unit
        stroke = (MARKER_STROKE if name == "markers" else LEGEND_STROKE) * s
        key = legend(self._entries[name], box.width, LEGEND_FONT * s, stroke)
        if name == "markers":
            key.move_to([box.left, box.top, 0], aligned_edge=UL)
        self._keys[name] = key
        return key.height

    def _build_axes(self, layout: Layout) -> None:
        """The main axes in their box, narrowed until the last x label fits; the optimum
        markers' key above them."""
        plan, s, plot = self.plan, self.unit, layout.plot
        self._marker_key = self._keys.get("markers")
        room = plot.width
        plot_width = room
        axes = None
        for _ in range(3):
            axes = DensityAxes(
                plan.x_range,
                plan.y_range,
                plot_width,
                plot.height,
                glyphs=self.glyphs,
                digit_height=layout.tick_digit,
                color=self.theme.axis,
                label_color=self.theme.muted,
                stroke_width=AXIS_STROKE * s,
                y_step=layout.y_step,
            )
            # The last x label may stick out past the plot's right end: make room for it.
            overflow = axes.x_labels.get_right()[0] - room if len(axes.x_labels) else 0.0
            if overflow <= 1e-9:
                break
            plot_width -= overflow
        self.axes = axes
        axes.shift(np.array([plot.left, plot.bottom, 0]) - axes.plot_corner)
        if self._marker_key is not None:
            fit_legend(self._marker_key, plot.left, layout.axes.right)

    def _build_curves(self) -> None:
        """p and q on the main axes, and their names."""
        plan, theme, s = self.plan, self.theme, self.unit
        # p drawn wider, under q: where q fits p exactly, p still shows as q's outline.
        stroke = (CURVE_STROKE_DARK if plan.theme == "dark" else CURVE_STROKE_LIGHT) * s
        self.p_curve = DensityCurve(
            self.axes, plan.p_color, P_STROKE_SCALE * stroke, theme.area_opacity
        )
        self.q_curve = DensityCurve(self.axes, plan.q_color, stroke, theme.area_opacity)
        self.p_name = curve_name_label("p", plan.p_color, plan.labels, NAME_SIZE * s)
        self.q_name = curve_name_label("q", plan.q_color, plan.labels, NAME_SIZE * s)
        self._name_sizes = [(m.width, m.height) for m in (self.p_name, self.q_name)]

    def _build_bars(self, layout: Layout, labels: list[Mobject]) -> None:
        """The bars on their tracks' boxes, their labels scaled as the layout says."""
        plan, theme, s = self.plan, self.theme, self.unit
        self.bars: dict[str, DivergenceBar] = {}
        for slot, label in zip(layout.bars, labels, strict=True):
            if layout.label_scale < 1:
                label.scale(layout.label_scale)
            note = getattr(label, "note", None)
            if note is not None and slot.note_scale > 1:
                # A note shrunk with its label grows back to a readable size, keeping its top.
                note_top = note.get_top()[1]
                note.scale(slot.note_scale).shift((note_top - note.get_top()[1]) * UP)
                note.set_x(label.submobjects[0].get_center()[0])
            bar = DivergenceBar(
                label,
                BAR_BOUNDS.get(slot.name, plan.bar_max),
                self.glyphs,
                height=slot.track_height,
                width=slot.track_width,
                color=theme.bar,
                track_color=theme.track,
                text_color=theme.text,
                digit_height=layout.bar_digit,
                stroke_width=BAR_STROKE * s,
                overflow=slot.name not in BAR_BOUNDS,
                digits=plan.digits,
            )
            bar.shift(np.array([slot.centre, slot.foot, 0]) - bar.track.get_bottom())
            self.bars[slot.name] = bar

    def _panel_axes(self, box: Panel) -> dict:
        """What a panel's axes share with every other panel's: glyphs, sizes, colours."""
        return dict(
            glyphs=self.glyphs, digit_height=box.digit, axis_color=self.theme.axis,
            label_color=self.theme.muted, stroke_width=AXIS_STROKE * self.unit,
        )  # fmt: skip

    def _build_integrand(self, layout: Layout) -> IntegrandPanel:
        """The integrand panel in its box; when aligned, its plot under the main axes'."""
        plan, theme, box = self.plan, self.theme, layout.integrand
        key = self._keys["integrand"]
        if layout.aligned:
            plot_left, _, plot_right, _ = self.axes.plot_box()
        else:
            plot_left, plot_right = box.plot.left, box.box.right
        panel = fitted_panel(
            lambda w: IntegrandPanel(
                plan.x_range,
                box.y_range,
                w,
                box.plot.height,
                (plan.p_color, plan.q_color),
                **self._panel_axes(box),
                fill_opacity=2 * theme.area_opacity,
                y_step=box.y_step,
                x_labels=False if layout.aligned else "bottom",
            ),
            plot_left,
            plot_right,
            box.plot.bottom,
        )
        fit_legend(key, plot_left, box.box.right)
        panel.set_legend(key)
        return panel

    def _build_trace(self, box: Panel) -> TracePanel:
        """Both KLs against time, fitted into its box."""
        plan, s = self.plan, self.unit
        key = self._keys["trace"]
        panel = fitted_panel(
            lambda w: TracePanel(
                plan.time_span,
                plan.bar_max,
                w,
                box.plot.height,
                (plan.p_color, plan.q_color),
                **self._panel_axes(box),
                dot_radius=TRACE_DOT * s,
                y_step=box.y_step,
            ),
            box.plot.left,
            box.box.right,
            box.plot.bottom,
        )
        fit_legend(key, box.plot.left, box.box.right)
        panel.set_legend(key)
        return panel

    def _add_parts(self) -> None:
        """Add every part in drawing order, and make every caption now."""
        self.caption_slot = VGroup()
        self.marker_slot = VGroup()
        self._markers: dict[int, Mobject] = {}
        self.add(self.axes, self.marker_slot, *self._density_parts())
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
        for index in range(len(self.plan.captions)):
            self._show_caption(index)
        self.caption_slot.submobjects = []
        self._trace_stride = max(1, math.ceil(len(self.plan.frames) / _TRACE_POINTS))
        self._built = True

    def _density_parts(self) -> list[Mobject]:
        """What draws p and q, in drawing order."""
        return [self.p_curve.area, self.q_curve.area, self.p_curve, self.q_curve]

    @property
    def reverse_bar(self) -> DivergenceBar | None:
        """The bar of KL(q‖p), when shown."""
        return self.bars.get("reverse")

    def layout_regions(self) -> dict[str, Mobject]:
        """The parts of the layout that must neither overlap nor leave the frame, by name.

        ``axes`` is the main axes with everything drawn in them; each bar is
        ``bar:<name>``; panels go by their names; ``caption`` is the caption shown now.
        """
        parts = [self.axes, self.marker_slot, *self._density_parts(), self.p_name, self.q_name]
        regions: dict[str, Mobject] = {"axes": VGroup(*parts)}
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
        dynamic = [*self._density_parts(), self.p_name, self.q_name]
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
        self._show_densities(i)
        for name, bar in self.bars.items():
            bar.set_value(frames.values(name)[i])
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
        opacity = 1.0 if frames.caption_opacity is None else float(frames.caption_opacity[i])
        self._show_caption(int(frames.caption[i]), opacity)

    def _show_densities(self, i: int) -> None:
        """Set p's and q's curves, their names and the integrand panel to frame ``i``."""
        chunk = self._chunk_of(i)
        j = i - chunk.start
        self.p_curve.set_data(chunk.p_xs[j], chunk.p_ys[j])
        self.q_curve.set_data(chunk.q_xs[j], chunk.q_ys[j])
        self._place_names(
            chunk.p_peak[j],
            chunk.q_peak[j],
            [(chunk.p_xs[j], chunk.p_ys[j]), (chunk.q_xs[j], chunk.q_ys[j])],
        )
        if self.integrand_panel is not None:
            self.integrand_panel.set_data(
                chunk.int_xs[j], chunk.int_forward[j], chunk.int_reverse[j]
            )

    def capture(self, i: int, copy: bool = True) -> np.ndarray:
        """Frame ``i`` as pixels (an ``(H, W, 4)`` uint8 array), drawing only what moves.

        What stays put (axes, bar frames, labels, title, the caption, the optimum markers)
        is drawn into a background image, kept until the caption (or its opacity, in a fade)
        or the markers change.
        With ``copy=False`` the result is the camera's own buffer, valid until the next
        call.
        """
        self.show(i)
        renderer = self.renderer
        caption = self.caption_slot.submobjects[0] if self.caption_slot.submobjects else None
        markers = self.marker_slot.submobjects[0] if self.marker_slot.submobjects else None
        key = (id(caption), id(markers), None if caption is None else caption.get_fill_opacity())
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

    def _chunk_of(self, i: int) -> Chunk:
        if self._chunk is not None and 0 <= i - self._chunk.start < len(self._chunk.p_xs):
            return self._chunk
        start = i - i % _CHUNK
        f = self.plan.frames.take(slice(start, start + _CHUNK))
        x_range = self.plan.x_range
        p_xs, p_ys = sample_density(*f.p, x_range)
        q_xs, q_ys = sample_density(*f.q, x_range)
        self._chunk = Chunk(
            start,
            p_xs,
            p_ys,
            q_xs,
            q_ys,
            label_anchor(*f.p, x_range),
            label_anchor(*f.q, x_range),
        )
        if self.integrand_panel is not None:
            self._chunk.int_xs, self._chunk.int_forward, self._chunk.int_reverse = (
                sample_integrands(f.p, f.q, x_range)
            )
        return self._chunk

    def _place_names(
        self, p_peak: np.ndarray, q_peak: np.ndarray, curves: list[tuple[np.ndarray, np.ndarray]]
    ) -> None:
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
            scene_curves, anchors, self._name_sizes, self.axes.plot_box(), NAME_PAD * self.unit
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
            group = marker_group(
                self.axes, self.plan.optima[index], self._marker_key, self.theme.muted, self.unit
            )
            self._markers[index] = group
        if not self.marker_slot.submobjects or self.marker_slot.submobjects[0] is not group:
            self.marker_slot.submobjects = [group]

    def _show_caption(self, index: int, opacity: float = 1.0) -> None:
        """Show caption ``index`` (none for -1) at ``opacity`` (a fade's; 1 is full)."""
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
                CAPTION_SIZE * self.unit,
                self.theme.muted,
                max_lines=self._caption_lines,
            )
            mob = merge_glyphs(text.move_to([0, centre_y, 0]))
            self._captions[index] = mob
        if mob.get_fill_opacity() != opacity:
            mob.set_fill(opacity=opacity)
        if not current or current[0] is not mob:
            self.caption_slot.submobjects = [mob]
