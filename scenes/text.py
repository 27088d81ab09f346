"""Text in the scene: Pango and TeX labels, the glyphs numbers are set from, and legends.

Labels come in two flavours: ``"text"`` (Pango, always available) and ``"tex"``
(``MathTex``; needs LaTeX, and is only touched when asked for). Numbers that change every
frame are a :class:`GlyphNumber`, set from the outlines of a :class:`GlyphSet` without
new mobjects. A divergence's label reads its symbol and note from the registry
(:data:`kldemo.core.registry.DIVERGENCES`).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Literal

import numpy as np
from manim import (
    DOWN,
    ITALIC,
    LEFT,
    ORIGIN,
    RIGHT,
    ManimColor,
    MarkupText,
    Mobject,
    Text,
    VectorizedPoint,
    VGroup,
    VMobject,
    config,
)

from kldemo.core.registry import DIVERGENCES

from .dimensions import (
    BAR_NOTE_GAP,
    BAR_NOTE_SCALE,
    LEGEND_ENTRY_GAP,
    LEGEND_ROW_GAP,
    LEGEND_SWATCH,
    LEGEND_SWATCH_GAP,
)
from .numbers import text_width
from .paths import dashed_corner_points, line_mob

LabelMode = Literal["tex", "text"]

#: Pango families: plain text (titles, captions, numbers) in a sans, and the math-like
#: labels (p, q, D_KL) in an italic serif, as LaTeX would set them. Generic names, so that
#: Pango picks what the machine has.
TEXT_FONT = "Sans"
MATH_FONT = "Serif"


@contextmanager
def wide_pango_canvas() -> Iterator[None]:
    """Let Pango lay out text on a canvas wider than any text we set.

    manim's ``Text`` renders onto an SVG canvas as large as ``config.pixel_width`` ×
    ``pixel_height`` and silently drops the glyphs that fall outside it; the SVG is then
    cached under a name that ignores the canvas. At small resolutions (160×90 in tests)
    long strings lost their ends, and the truncated SVG was reused at every resolution.
    The canvas is vector data, so a large one costs nothing.
    """
    saved = config.pixel_width, config.pixel_height
    config.pixel_width = max(saved[0], 16384)
    config.pixel_height = max(saved[1], 4096)
    try:
        yield
    finally:
        config.pixel_width, config.pixel_height = saved


# MathTex at a given font_size is smaller than Pango's math font at the same size: these
# factors give TeX labels the height of their text counterparts (measured on the labels).
TEX_SCALE = 1.35
TEX_NAME_SCALE = 1.55

_TEXTS: dict[tuple, Mobject] = {}
_TEXTS_KEPT = 256


def _made_once(cls: type, text: str, kwargs: dict) -> Mobject:
    """A copy of ``cls(text, **kwargs)``, laid out by Pango once per process.

    manim keeps the SVG Pango writes, but parses it into paths anew each time; scenes
    built again (other sizes, other plans) reuse the paths instead.
    """
    key = (cls.__name__, text, tuple(sorted((k, repr(v)) for k, v in kwargs.items())))
    mob = _TEXTS.get(key)
    if mob is None:
        with wide_pango_canvas():
            mob = cls(text, **kwargs)
        if len(_TEXTS) >= _TEXTS_KEPT:
            _TEXTS.pop(next(iter(_TEXTS)))
        _TEXTS[key] = mob
    return _copy(mob)


def _copy(mob: Mobject) -> Mobject:
    """A copy of ``mob`` and its family that shares nothing it could change: arrays,
    lists and dicts are copied, the rest (colours, parsed SVG paths) shared. Much faster
    than ``mob.copy()``, which deep-copies every glyph's parsed SVG path."""
    new = copy.copy(mob)
    for name, value in mob.__dict__.items():
        if isinstance(value, np.ndarray):
            new.__dict__[name] = value.copy()
        elif isinstance(value, list | dict):
            new.__dict__[name] = copy.copy(value)
    new.submobjects = [_copy(m) for m in mob.submobjects]
    return new


def pango_text(text: str, **kwargs) -> Text:
    """``Text(text, **kwargs)``, laid out on a canvas that clips nothing."""
    return _made_once(Text, text, kwargs)


def pango_markup(markup: str, **kwargs) -> MarkupText:
    """``MarkupText(markup, **kwargs)``, laid out on a canvas that clips nothing."""
    return _made_once(MarkupText, markup, kwargs)


__all__ = [
    "MATH_FONT",
    "TEXT_FONT",
    "GlyphNumber",
    "GlyphSet",
    "LabelMode",
    "bar_label",
    "curve_name_label",
    "divergence_label",
    "fit_legend",
    "fit_text",
    "integrand_label",
    "legend",
    "legend_swatch",
    "merge_glyphs",
    "pango_markup",
    "pango_text",
    "symmetric_label",
    "wide_pango_canvas",
]


# --------------------------------------------------------------------------- glyphs

_GLYPH_SETS: dict[str, GlyphSet] = {}


class GlyphSet:
    """Outlines of a few characters, rendered once, to set numbers without new mobjects.

    Each glyph is stored relative to a pen position on the baseline, in units of the
    height of the digit "8", with its advance width; :class:`GlyphNumber` lays strings
    out from them. Digits are tabular in the usual fonts, so numbers do not wobble.
    """

    CHARS = "0123456789.e+−∞na"

    def __init__(self, outlines: dict[str, np.ndarray], advances: dict[str, float]):
        self.outlines = outlines
        self.advances = advances

    @classmethod
    def from_text(cls, font: str = TEXT_FONT, weight: str = "NORMAL") -> GlyphSet:
        """Glyphs from Pango (``Text``) in ``font``; one ``Text`` call in all."""
        chars = cls.CHARS
        # "8c8d8...": every character between two 8s, which give its advance.
        text = pango_text("8" + "8".join(chars) + "8", font=font, weight=weight, font_size=96)
        glyphs = list(text.submobjects)
        if len(glyphs) != 2 * len(chars) + 1:
            raise RuntimeError(f"Pango gave {len(glyphs)} glyphs for {2 * len(chars) + 1}")
        parts = [[glyphs[2 * i], [glyphs[2 * i + 1]], glyphs[2 * i + 2]] for i in range(len(chars))]
        return cls._from_parts(chars, parts)

    @classmethod
    def from_tex(cls) -> GlyphSet:
        """Glyphs from LaTeX (``MathTex``): needs a LaTeX installation."""
        from manim import MathTex

        tex_of = {
            ".": ".",
            "e": r"\mathrm{e}",
            "+": "{+}",
            "−": "{-}",
            "∞": r"\infty",
            "n": r"\mathrm{n}",
            "a": r"\mathrm{a}",
        }
        chars = cls.CHARS
        # One LaTeX run: "8", c, "8", d, "8", ... as separate parts of one MathTex.
        pieces = ["8"]
        for c in chars:
            pieces += [tex_of.get(c, c), "8"]
        mob = MathTex(*pieces)
        if len(mob.submobjects) == len(pieces) and all(
            part.family_members_with_points() for part in mob.submobjects
        ):
            glyphs = [part.family_members_with_points() for part in mob.submobjects]
            parts = [
                [glyphs[2 * i][0], glyphs[2 * i + 1], glyphs[2 * i + 2][0]]
                for i in range(len(chars))
            ]
            return cls._from_parts(chars, parts)
        parts = []  # the parts did not come apart as expected: one run per character
        for c in chars:
            mob = MathTex("8" + tex_of.get(c, c) + "8")
            glyphs = sorted(mob.family_members_with_points(), key=lambda g: g.get_left()[0])
            parts.append([glyphs[0], glyphs[1:-1], glyphs[-1]])
        return cls._from_parts(chars, parts)

    @classmethod
    def cached(cls, labels: LabelMode) -> GlyphSet:
        """The glyph set for a label mode, made once per process."""
        key = "tex" if labels == "tex" else "text"
        if key not in _GLYPH_SETS:
            _GLYPH_SETS[key] = cls.from_tex() if key == "tex" else cls.from_text()
        return _GLYPH_SETS[key]

    @classmethod
    def _from_parts(cls, chars: str, parts: list) -> GlyphSet:
        eight = parts[0][0]
        unit = eight.height
        baseline = eight.get_bottom()[1]
        # The advance of "8" itself: the distance between consecutive 8s around "8".
        i8 = chars.index("8")
        left8, _, right8 = parts[i8]
        adv8 = (right8.get_left()[0] - left8.get_left()[0]) / 2
        outlines, advances = {}, {}
        for c, (first, middle, last) in zip(chars, parts, strict=True):
            pen = first.get_left()[0] + adv8
            points = np.concatenate([g.points for g in middle]) if middle else np.zeros((0, 3))
            points = (points - np.array([pen, baseline, 0.0])) / unit
            outlines[c] = points
            advances[c] = (last.get_left()[0] - pen) / unit
        return cls(outlines, advances)

    def width(self, text: str) -> float:
        """Width of ``text`` in digit heights."""
        return text_width(self.advances, text)

    def layout(self, text: str) -> np.ndarray:
        """Outline points of ``text`` with the pen starting at 0, in digit heights."""
        pieces, pen = [], 0.0
        for c in text:
            outline = self.outlines[c]
            if len(outline):
                pieces.append(outline + np.array([pen, 0.0, 0.0]))
            pen += self.advances[c]
        return np.concatenate(pieces) if pieces else np.zeros((0, 3))


class GlyphNumber(VMobject):
    """A short string of digits that can change every frame without new mobjects.

    ``height`` is the height of a digit. The text is aligned on the anchor (its baseline
    point) to the left, centre or right. Moving or scaling the mobject moves the anchor,
    since the anchor is kept as two points among its submobjects.
    """

    def __init__(
        self,
        glyphs: GlyphSet,
        text: str = "",
        height: float = 0.25,
        align: Literal["left", "center", "right"] = "center",
        color: ManimColor | str = "#FFFFFF",
        **kwargs,
    ):
        super().__init__(fill_color=color, fill_opacity=1.0, stroke_width=0, **kwargs)
        self.glyphs = glyphs
        self.align = align
        # The anchor and a point one digit height to its right.
        self._anchor = VectorizedPoint(ORIGIN)
        self._unit = VectorizedPoint(height * RIGHT)
        self.add(self._anchor, self._unit)
        self.text = None
        self.set_text(text)

    def set_text(self, text: str) -> GlyphNumber:
        """Show ``text`` (characters of the glyph set only), in place."""
        if text == self.text:
            return self
        anchor = self._anchor.points[0]
        unit = self._unit.points[0] - anchor
        scale = float(np.hypot(unit[0], unit[1]))
        width = self.glyphs.width(text)
        start = {"left": 0.0, "center": -width / 2, "right": -width}[self.align]
        points = self.glyphs.layout(text)
        points[:, 0] += start
        self.points = anchor + points * scale
        self.text = text
        return self


def _markup_escape(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def divergence_label(
    first: str,
    second: str,
    colors: dict[str, str],
    labels: LabelMode = "text",
    font_size: float = 32,
    color: str = "#FFFFFF",
    name: str = "forward",
) -> VMobject:
    """``D_KL(first‖second)``, with the two names in their colours.

    ``colors`` maps a name (``"p"``, ``"q"``) to its hex colour; ``name`` is the registry
    entry whose symbol is written (any with arguments: KL for forward and reverse).
    """
    divergence = DIVERGENCES[name]
    if labels == "tex":
        from manim import MathTex

        mob = MathTex(
            divergence.symbol_tex + "(",
            first,
            r"\,\|\,",
            second,
            ")",
            font_size=TEX_SCALE * font_size,
        )
        mob.set_color(color)
        mob[1].set_color(colors[first])
        mob[3].set_color(colors[second])
        return mob
    a, b = _markup_escape(first), _markup_escape(second)
    markup = (
        f'D<sub>{divergence.symbol}</sub>(<span foreground="{colors[first]}"><i>{a}</i></span>'
        f'<span font_size="small"> </span>‖<span font_size="small"> </span>'
        f'<span foreground="{colors[second]}"><i>{b}</i></span>)'
    )
    return pango_markup(markup, font=MATH_FONT, font_size=font_size, color=color)


def symmetric_label(
    name: str,
    colors: dict[str, str],
    labels: LabelMode = "text",
    font_size: float = 32,
    color: str = "#FFFFFF",
) -> VMobject:
    """A symmetric divergence's label, such as ``JS(p, q)`` (``name``: a registry name
    whose ``arguments`` are empty), p and q in their colours."""
    text, tex = DIVERGENCES[name].symbol, DIVERGENCES[name].symbol_tex
    if labels == "tex":
        from manim import MathTex

        mob = MathTex(tex + "(", "p", r",\,", "q", ")", font_size=TEX_SCALE * font_size)
        mob.set_color(color)
        mob[1].set_color(colors["p"])
        mob[3].set_color(colors["q"])
        return mob
    markup = (
        f'{text}(<span foreground="{colors["p"]}"><i>p</i></span>, '
        f'<span foreground="{colors["q"]}"><i>q</i></span>)'
    )
    return pango_markup(markup, font=MATH_FONT, font_size=font_size, color=color)


def bar_label(
    name: str,
    colors: dict[str, str],
    labels: LabelMode = "text",
    font_size: float = 32,
    color: str = "#FFFFFF",
    note_color: str | None = None,
) -> VMobject:
    """The label of the bar for divergence ``name`` (a key of the registry).

    With ``note_color`` a small note in that colour goes under it: the registry's note,
    the unit and, for the bounded divergences, the bound their bar is scaled to
    (``nats, ≤ ln 2``).
    """
    divergence = DIVERGENCES[name]
    if divergence.arguments:
        first, second = divergence.arguments
        mob = divergence_label(first, second, colors, labels, font_size, color, name)
    else:
        mob = symmetric_label(name, colors, labels, font_size, color)
    if note_color is None:
        return mob
    note = pango_text(
        divergence.note, font=TEXT_FONT, font_size=BAR_NOTE_SCALE * font_size, color=note_color
    )
    note.next_to(mob, DOWN, buff=BAR_NOTE_GAP * mob.height)
    group = VGroup(mob, note)
    group.note = note
    return group


def legend_swatch(
    color: str, width: float, stroke_width: float, dash: tuple[float, float] | None = None
) -> VMobject:
    """A short horizontal line in ``color`` (dashed with ``dash = (dash, gap)``): the key
    of a legend entry."""
    mob = line_mob([[0.0, 0.0, 0.0], [width, 0.0, 0.0]], color, stroke_width)
    if dash is not None:
        mob.points = dashed_corner_points(np.array([[0.0, 0, 0], [width, 0, 0]]), *dash)
    return mob


def integrand_label(
    first: str,
    second: str,
    colors: dict[str, str],
    labels: LabelMode = "text",
    font_size: float = 24,
    color: str = "#FFFFFF",
) -> VMobject:
    """``first·log(first/second)   area = D_KL(first‖second)``: what an integrand's
    signed area is."""
    if labels == "tex":
        from manim import MathTex

        mob = MathTex(
            first,
            r"\log(",
            first,
            "/",
            second,
            r")\quad\text{area} = D_{\mathrm{KL}}(",
            first,
            r"\,\|\,",
            second,
            ")",
            font_size=TEX_SCALE * font_size,
        )
        mob.set_color(color)
        for k, name in ((0, first), (2, first), (4, second), (6, first), (8, second)):
            mob[k].set_color(colors[name])
        return mob
    a = f'<span foreground="{colors[first]}"><i>{_markup_escape(first)}</i></span>'
    b = f'<span foreground="{colors[second]}"><i>{_markup_escape(second)}</i></span>'
    markup = (
        f'{a}·log({a}/{b})<span font_family="{TEXT_FONT}" font_size="small">'
        f'   area = </span>D<sub>KL</sub>({a}<span font_size="small"> </span>‖'
        f'<span font_size="small"> </span>{b})'
    )
    return pango_markup(markup, font=MATH_FONT, font_size=font_size, color=color)


def legend(
    entries: Sequence[tuple[str | Mobject, Mobject]],
    max_width: float,
    font_height: float,
    stroke_width: float,
) -> VGroup:
    """Legend entries (a colour, or a swatch of one's own, and a label), in one row when
    they fit, else stacked.

    ``font_height`` sets the swatches' length and the gaps; the whole is scaled down to
    ``max_width`` when even the stack is wider.
    """
    items = []
    for key, label in entries:
        swatch = (
            key
            if isinstance(key, Mobject)
            else legend_swatch(key, LEGEND_SWATCH * font_height, stroke_width)
        )
        items.append(VGroup(swatch, label).arrange(RIGHT, buff=LEGEND_SWATCH_GAP * font_height))
        swatch.set_y(label.get_center()[1])
    group = VGroup(*items)
    group.arrange(RIGHT, buff=LEGEND_ENTRY_GAP * font_height)
    if group.width > max_width and len(items) > 1:
        group.arrange(DOWN, buff=LEGEND_ROW_GAP * font_height, aligned_edge=LEFT)
    if group.width > max_width:
        group.scale(max_width / group.width)
    return group


def curve_name_label(
    name: str, color: str, labels: LabelMode = "text", font_size: float = 36
) -> VMobject:
    """The name of a curve (``p``, ``q``) as an italic label in its colour."""
    if labels == "tex":
        from manim import MathTex

        return MathTex(name, font_size=TEX_NAME_SCALE * font_size, color=color)
    return pango_text(name, font=MATH_FONT, slant=ITALIC, font_size=font_size, color=color)


def fit_text(
    text: str,
    max_width: float,
    max_height: float,
    font_size: float,
    color: str,
    weight: str = "NORMAL",
    max_lines: int = 2,
) -> Text:
    """``text`` as a Pango ``Text`` no wider than ``max_width`` nor taller than ``max_height``.

    Text too wide for one line is broken into up to ``max_lines`` balanced lines at spaces
    (centred) when that keeps it larger, then scaled down to fit.
    """
    best, best_scale = None, 0.0
    words = text.split()
    for lines in range(1, max_lines + 1):
        if lines > 1 and (best_scale >= 1 or len(words) < lines):
            break
        mob = _centred_text(
            _balanced_lines(words, lines) if lines > 1 else " ".join(words),
            font_size,
            color,
            weight,
        )
        scale = _fit_scale(mob, max_width, max_height)
        if best is None or scale > best_scale * 1.05:
            best, best_scale = mob, scale
    if best_scale < 1:
        best.scale(best_scale)
    return best


def _centred_text(text: str, font_size: float, color: str, weight: str) -> Text:
    """A Pango ``Text`` whose lines are centred on each other."""
    # Without ligatures manim's Text has one submobject per character, newlines included.
    mob = pango_text(
        text,
        font=TEXT_FONT,
        font_size=font_size,
        color=color,
        weight=weight,
        disable_ligatures=True,
    )
    lines = text.split("\n")
    if len(lines) > 1 and len(mob.submobjects) == len(text):
        centre = mob.get_center()[0]
        start = 0
        for line in lines:
            glyphs = [g for g in mob.submobjects[start : start + len(line)] if g.has_points()]
            if glyphs:
                VGroup(*glyphs).set_x(centre)
            start += len(line) + 1
    return mob


def merge_glyphs(mob: Mobject) -> VMobject:
    """One filled VMobject with the outlines of every glyph of ``mob`` (a single colour).

    A line of text drawn as one path instead of one path per glyph: much cheaper to draw
    every frame.
    """
    parts = [m for m in mob.family_members_with_points() if m.get_fill_opacity() > 0]
    merged = VMobject(stroke_width=0)
    if parts:
        merged.points = np.concatenate([m.points for m in parts])
        merged.set_fill(parts[0].get_fill_color(), opacity=parts[0].get_fill_opacity())
    return merged


def _fit_scale(mob: Mobject, max_width: float, max_height: float) -> float:
    scale = 1.0
    if mob.width > max_width:
        scale = max_width / mob.width
    if mob.height * scale > max_height:
        scale = max_height / mob.height
    return scale


def _balanced_lines(words: list[str], lines: int) -> str:
    """Words in ``lines`` lines of about equal length (greedy on a target length)."""
    target = len(" ".join(words)) / lines
    out, current = [], []
    for word in words:
        if current and len(" ".join([*current, word])) > target and len(out) < lines - 1:
            out.append(" ".join(current))
            current = []
        current.append(word)
    out.append(" ".join(current))
    return "\n".join(out)


# --------------------------------------------------------------------------- axes


def fit_legend(key: Mobject, left: float, right: float) -> None:
    """Scale a legend down to fit between ``left`` and ``right``, keeping its top, and
    put it at ``left``."""
    top = key.get_top()[1]
    if key.width > right - left:
        key.scale((right - left) / key.width)
    key.shift([left - key.get_left()[0], top - key.get_top()[1], 0])
