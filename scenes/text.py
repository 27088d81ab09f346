"""Reusable mobjects for scenes about KL divergence between 1-D Gaussian mixtures.

Every piece here can be dropped into a manim scene of your own::

    from kldemo.scenes.mobjects import DensityAxes, DensityCurve, DivergenceBar, sample_density

    axes = DensityAxes((-1, 10), (0, 1), width=8, height=5).center()
    curve = DensityCurve(axes, color="#58C4DD", fill_opacity=0.2)
    xs, ys = sample_density([0.5, 0.5], [2, 8], [0.75, 0.75], (-1, 10))
    curve.set_data(xs, ys)
    self.add(axes, curve.area, curve)

The pieces are built for animation by frame: :meth:`DensityCurve.set_data`,
:meth:`DivergenceBar.set_value` and :meth:`GlyphNumber.set_text` change points in place,
with numpy, and create no mobjects. Labels come in two flavours: ``"text"`` (Pango, always
available) and ``"tex"`` (``MathTex``; needs LaTeX, and is only touched when asked for).
"""

from __future__ import annotations

import copy
import math
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
    UP,
    LineJointType,
    ManimColor,
    MarkupText,
    Mobject,
    Rectangle,
    Text,
    VectorizedPoint,
    VGroup,
    VMobject,
    config,
)

from kldemo.core.divergences import density

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
    "DensityAxes",
    "DensityCurve",
    "DivergenceBar",
    "GlyphNumber",
    "GlyphSet",
    "IntegrandPanel",
    "OptimumMarker",
    "TracePanel",
    "bar_label",
    "curve_name_label",
    "divergence_label",
    "fit_text",
    "format_nats",
    "format_tick",
    "integrand_label",
    "legend",
    "legend_swatch",
    "merge_glyphs",
    "nice_step",
    "pango_markup",
    "pango_text",
    "sample_density",
    "sample_integrands",
    "symmetric_label",
    "wide_pango_canvas",
]

# Where the per-component samples sit, in stds from the mean: dense at the mean (a narrow
# spike keeps its peak), sparser in the tails. An odd count puts one sample on the mean.
_SPIKE_OFFSETS = 8.0 * np.sinh(3.0 * np.linspace(-1.0, 1.0, 41)) / np.sinh(3.0)


# --------------------------------------------------------------------------- sampling


def sample_density(
    weights: np.ndarray | Sequence[float],
    means: np.ndarray | Sequence[float],
    stds: np.ndarray | Sequence[float],
    x_range: tuple[float, float],
    n: int = 200,
) -> tuple[np.ndarray, np.ndarray]:
    """Sample mixture densities on a grid that keeps narrow spikes, for many states at once.

    The grid of each state is ``n`` uniform points over ``x_range`` plus 41 points around
    every component (its mean and up to ±8 stds, dense near the mean), clipped to
    ``x_range`` and sorted. A component of std 1e-3 therefore shows its full height
    however coarse the uniform part is. Every state gets the same number of points, so
    the whole batch is one numpy computation.

    Parameters
    ----------
    weights, means, stds
        Mixture parameters, shape ``(..., K)``; leading axes are states (frames).
    x_range
        ``(x_min, x_max)`` of the view.
    n
        Points of the uniform part of the grid.

    Returns
    -------
    xs, ys
        Arrays of shape ``(..., n + 41 K)``: sorted sample positions and the density there.
    """
    weights = np.asarray(weights, dtype=float)
    means = np.asarray(means, dtype=float)
    stds = np.asarray(stds, dtype=float)
    x_min, x_max = float(x_range[0]), float(x_range[1])
    lead = np.broadcast_shapes(weights.shape[:-1], means.shape[:-1], stds.shape[:-1])
    uniform = np.broadcast_to(np.linspace(x_min, x_max, n), (*lead, n))
    around = means[..., :, None] + stds[..., :, None] * _SPIKE_OFFSETS
    around = np.broadcast_to(around, (*lead, *around.shape[-2:]))
    around = around.reshape(*lead, -1)
    xs = np.sort(np.clip(np.concatenate([uniform, around], axis=-1), x_min, x_max), axis=-1)
    ys = density(xs, weights, means, stds)
    return xs, ys


def sample_integrands(
    p: tuple[np.ndarray, np.ndarray, np.ndarray],
    q: tuple[np.ndarray, np.ndarray, np.ndarray],
    x_range: tuple[float, float],
    n: int = 200,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The integrands of both KLs, ``p log(p/q)`` and ``q log(q/p)``, for many states.

    Sampled on the grid of :func:`sample_density` for p and q together (so that narrow
    components of either keep their shape), in log space so that nothing underflows:
    where p is vanishingly small its term is 0, however large ``log(p/q)`` is.

    Parameters
    ----------
    p, q
        ``(weights, means, stds)``, arrays of shape ``(..., K)``.
    x_range
        ``(x_min, x_max)`` of the view.

    Returns
    -------
    xs, forward, reverse
        Arrays of shape ``(..., N)``: sorted positions, ``p log(p/q)`` and ``q log(q/p)``.
    """
    from kldemo.core.divergences import log_density

    xs_p, _ = sample_density(*p, x_range, n=n // 2)
    xs_q, _ = sample_density(*q, x_range, n=n - n // 2)
    lead = np.broadcast_shapes(xs_p.shape[:-1], xs_q.shape[:-1])
    xs = np.sort(
        np.concatenate(
            [np.broadcast_to(xs_p, (*lead, xs_p.shape[-1])),
             np.broadcast_to(xs_q, (*lead, xs_q.shape[-1]))],
            axis=-1,
        ),
        axis=-1,
    )
    log_p = log_density(xs, *p)
    log_q = log_density(xs, *q)
    log_ratio = log_p - log_q
    return xs, np.exp(log_p) * log_ratio, -np.exp(log_q) * log_ratio


# --------------------------------------------------------------------------- number text


def format_nats(value: float) -> str:
    """A divergence as a short, steady string: about 3 significant figures.

    ``0.000`` for anything below 5e-4 (quadrature noise included), fixed decimals up to
    9999, then scientific notation (``1.23e+04``). Minus signs are U+2212.

    >>> [format_nats(v) for v in (0.0, 0.52713, 5.2713, 52.713, 527.13, 5271.3, 12345.6)]
    ['0.000', '0.527', '5.27', '52.7', '527', '5271', '1.23e+04']
    """
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    sign = "−" if value < 0 else ""
    v = abs(value)
    if v < 5e-4:
        return "0.000"
    if v < 0.9995:
        s = f"{v:.3f}"
    elif v < 9.995:
        s = f"{v:.2f}"
    elif v < 99.95:
        s = f"{v:.1f}"
    elif v < 9999.5:
        s = f"{v:.0f}"
    else:
        s = f"{v:.2e}".replace("-", "−")
    return sign + s


def nice_step(span: float, max_ticks: int = 10, min_ticks: int = 4) -> float:
    """The smallest 1-2-5 × 10^k step giving at most ``max_ticks`` ticks over ``span``.

    >>> nice_step(11), nice_step(1.1), nice_step(0.004)
    (2.0, 0.2, 0.0005)
    """
    if not span > 0 or not math.isfinite(span):
        return 1.0
    for step in _nice_steps(span / max_ticks):
        if span / step <= max_ticks - 1 + 1e-9 or span / step < min_ticks:
            return step
    return span  # not reached


def _nice_steps(start: float):
    exponent = math.floor(math.log10(start))
    while True:
        for mantissa in (1, 2, 5):
            step = float(f"{mantissa}e{exponent}")
            if step >= start * (1 - 1e-9):
                yield step
        exponent += 1


def tick_values(lo: float, hi: float, step: float) -> np.ndarray:
    """Multiples of ``step`` within ``[lo, hi]`` (with a little tolerance)."""
    first = math.ceil(lo / step - 1e-9)
    last = math.floor(hi / step + 1e-9)
    return np.arange(first, last + 1) * step


def format_tick(value: float, step: float) -> str:
    """A tick label with as many decimals as the step needs; U+2212 for minus.

    >>> format_tick(0.4, 0.2), format_tick(-2.0, 2.0), format_tick(0.0, 0.5)
    ('0.4', '−2', '0')
    """
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    s = f"{value:.{decimals}f}"
    if float(s) == 0:
        return "0"
    return s.replace("-", "−")


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
        return sum(self.advances[c] for c in text)

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

    def text_width(self, text: str) -> float:
        """Width ``text`` would have, in scene units at the current scale."""
        unit = self._unit.points[0] - self._anchor.points[0]
        return self.glyphs.width(text) * float(np.hypot(unit[0], unit[1]))


# --------------------------------------------------------------------------- labels


def _markup_escape(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def divergence_label(
    first: str,
    second: str,
    colors: dict[str, str],
    labels: LabelMode = "text",
    font_size: float = 32,
    color: str = "#FFFFFF",
) -> VMobject:
    """``D_KL(first‖second)``, with the two names in their colours.

    ``colors`` maps a name (``"p"``, ``"q"``) to its hex colour.
    """
    if labels == "tex":
        from manim import MathTex

        mob = MathTex(r"D_{\mathrm{KL}}(", first, r"\,\|\,", second, ")",
                      font_size=TEX_SCALE * font_size)
        mob.set_color(color)
        mob[1].set_color(colors[first])
        mob[3].set_color(colors[second])
        return mob
    a, b = _markup_escape(first), _markup_escape(second)
    markup = (
        f'D<sub>KL</sub>(<span foreground="{colors[first]}"><i>{a}</i></span>'
        f'<span font_size="small"> </span>‖<span font_size="small"> </span>'
        f'<span foreground="{colors[second]}"><i>{b}</i></span>)'
    )
    return pango_markup(markup, font=MATH_FONT, font_size=font_size, color=color)


_SYMMETRIC_NAMES = {"js": ("JS", r"\mathrm{JS}"), "tv": ("TV", r"\mathrm{TV}"),
                    "hellinger": ("H", "H")}
_BAR_NOTES = {"forward": "nats", "reverse": "nats", "js": "nats, ≤ ln 2", "tv": "≤ 1",
              "hellinger": "Hellinger, ≤ 1"}


def symmetric_label(
    name: str,
    colors: dict[str, str],
    labels: LabelMode = "text",
    font_size: float = 32,
    color: str = "#FFFFFF",
) -> VMobject:
    """``JS(p, q)``, ``TV(p, q)`` or ``H(p, q)`` (``name``: js, tv, hellinger), p and q
    in their colours."""
    text, tex = _SYMMETRIC_NAMES[name]
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
    """The label of the bar for divergence ``name`` (forward, reverse, js, tv, hellinger).

    With ``note_color`` a small note in that colour goes under it: the unit and, for the
    bounded divergences, the bound their bar is scaled to (``nats, max ln 2``).
    """
    if name == "forward":
        mob = divergence_label("p", "q", colors, labels, font_size, color)
    elif name == "reverse":
        mob = divergence_label("q", "p", colors, labels, font_size, color)
    else:
        mob = symmetric_label(name, colors, labels, font_size, color)
    if note_color is None:
        return mob
    note = pango_text(_BAR_NOTES[name], font=TEXT_FONT, font_size=0.55 * font_size,
                      color=note_color)
    note.next_to(mob, DOWN, buff=0.12 * mob.height)
    group = VGroup(mob, note)
    group.note = note
    return group


def legend_swatch(
    color: str, width: float, stroke_width: float, dash: tuple[float, float] | None = None
) -> VMobject:
    """A short horizontal line in ``color`` (dashed with ``dash = (dash, gap)``): the key
    of a legend entry."""
    mob = _line_mob([[0.0, 0.0, 0.0], [width, 0.0, 0.0]], color, stroke_width)
    if dash is not None:
        mob.points = _dashed_corner_points(np.array([[0.0, 0, 0], [width, 0, 0]]), *dash)
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
            first, r"\log(", first, "/", second, r")\quad\text{area} = D_{\mathrm{KL}}(",
            first, r"\,\|\,", second, ")", font_size=TEX_SCALE * font_size,
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
        swatch = key if isinstance(key, Mobject) else legend_swatch(key, 1.4 * font_height,
                                                                      stroke_width)
        items.append(VGroup(swatch, label).arrange(RIGHT, buff=0.4 * font_height))
        swatch.set_y(label.get_center()[1])
    group = VGroup(*items)
    group.arrange(RIGHT, buff=1.6 * font_height)
    if group.width > max_width and len(items) > 1:
        group.arrange(DOWN, buff=0.3 * font_height, aligned_edge=LEFT)
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


class DensityAxes(VGroup):
    """Axes for densities: the y-axis on the left edge, the x-axis at y = 0 (or the bottom).

    Ticks fall on multiples of a 1-2-5 step (chosen so that labels do not crowd), with
    numbers drawn from a :class:`GlyphSet` (``x_labels=False`` leaves the x ticks bare, for
    axes that share their x scale with axes above them; ``"bottom"`` puts the x labels
    under the plot rather than under an x-axis that runs through it). The plot rectangle
    spans ``width`` × ``height`` with its lower-left corner at the origin until moved.
    :meth:`coords_to_point` is vectorised and stays right after moves and scales.
    """

    def __init__(
        self,
        x_range: Sequence[float],
        y_range: Sequence[float],
        width: float = 8.0,
        height: float = 5.0,
        glyphs: GlyphSet | None = None,
        digit_height: float = 0.2,
        color: str = "#A0A0AA",
        label_color: str = "#D0D0D8",
        stroke_width: float = 2.0,
        x_step: float | None = None,
        y_step: float | None = None,
        x_labels: bool | Literal["bottom"] = True,
    ):
        super().__init__()
        x0, x1 = float(x_range[0]), float(x_range[1])
        y0, y1 = float(y_range[0]), float(y_range[1])
        glyphs = glyphs if glyphs is not None else GlyphSet.cached("text")
        self.glyphs = glyphs
        self.digit_height = digit_height
        x_step = x_step or _spaced_step(x0, x1, width, glyphs, digit_height, horizontal=True)
        y_step = y_step or _spaced_step(y0, y1, height, glyphs, digit_height, horizontal=False)
        self.x_range = (x0, x1, x_step)
        self.y_range = (y0, y1, y_step)
        self._lo = VectorizedPoint(ORIGIN)
        self._hi = VectorizedPoint(np.array([width, height, 0.0]))
        self.add(self._lo, self._hi)

        x_axis_y = min(max(0.0, y0), y1)
        tick = 0.6 * digit_height
        buff = 0.6 * digit_height
        self.x_axis = _line_mob(
            [self.c2p(x0, x_axis_y), self.c2p(x1, x_axis_y)], color, stroke_width
        )
        self.y_axis = _line_mob([self.c2p(x0, y0), self.c2p(x0, y1)], color, stroke_width)
        x_ticks = tick_values(x0, x1, x_step)
        y_ticks = tick_values(y0, y1, y_step)
        segments = []
        for x in x_ticks:
            base = self.c2p(x, x_axis_y)
            segments.append((base, base + tick * DOWN))
        for y in y_ticks:
            base = self.c2p(x0, y)
            segments.append((base, base + tick * LEFT))
        self.ticks = _segments_mob(segments, color, stroke_width)
        self.x_labels = VGroup()
        label_y = y0 if x_labels == "bottom" else x_axis_y
        for x in x_ticks if x_labels else ():
            label = GlyphNumber(glyphs, format_tick(x, x_step), digit_height, "center", label_color)
            label.shift(self.c2p(x, label_y) + (tick + buff + digit_height) * DOWN)
            self.x_labels.add(label)
        self.y_labels = VGroup()
        for y in y_ticks:
            label = GlyphNumber(glyphs, format_tick(y, y_step), digit_height, "right", label_color)
            label.shift(self.c2p(x0, y) + (tick + buff) * LEFT + digit_height / 2 * DOWN)
            self.y_labels.add(label)
        self.add(self.x_axis, self.y_axis, self.ticks, self.x_labels, self.y_labels)

    def affine(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``origin, ex, ey`` with ``c2p(x, y) = origin + x ex + y ey``."""
        lo, hi = self._lo.points[0], self._hi.points[0]
        (x0, x1, _), (y0, y1, _) = self.x_range, self.y_range
        ex = np.array([(hi[0] - lo[0]) / (x1 - x0), 0.0, 0.0])
        ey = np.array([0.0, (hi[1] - lo[1]) / (y1 - y0), 0.0])
        origin = lo - x0 * ex - y0 * ey
        return origin, ex, ey

    def coords_to_point(self, x, y) -> np.ndarray:
        """Scene points of data coordinates (scalars or arrays), shape ``(..., 3)``."""
        origin, ex, ey = self.affine()
        x = np.asarray(x, dtype=float)[..., None]
        y = np.asarray(y, dtype=float)[..., None]
        return origin + x * ex + y * ey

    c2p = coords_to_point

    def plot_box(self) -> tuple[float, float, float, float]:
        """``(left, bottom, right, top)`` of the plot rectangle in scene units."""
        lo, hi = self._lo.points[0], self._hi.points[0]
        return float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])


def _spaced_step(lo, hi, length, glyphs, digit_height, horizontal) -> float:
    """A 1-2-5 step whose labels keep clear of each other along an axis of ``length``."""
    span = hi - lo
    if not span > 0:
        return 1.0
    step = nice_step(span)
    for candidate in _nice_steps(step):
        ticks = tick_values(lo, hi, candidate)
        spacing = length * candidate / span
        if horizontal:
            widest = max(glyphs.width(format_tick(t, candidate)) for t in ticks) * digit_height
            room = widest + 1.5 * digit_height
        else:
            room = 2.2 * digit_height
        if spacing >= room or len(ticks) <= 2:
            return candidate
    return step  # not reached


def _line_mob(points, color, stroke_width) -> VMobject:
    mob = VMobject(stroke_color=color, stroke_width=stroke_width)
    mob.points = _corner_points(np.asarray(points, dtype=float))
    mob.polyline = True
    return mob


def _segments_mob(segments, color, stroke_width) -> VMobject:
    """Many separate straight segments as one VMobject (one draw call)."""
    mob = VMobject(stroke_color=color, stroke_width=stroke_width)
    mob.polyline = True
    if segments:
        a = np.array([s[0] for s in segments], dtype=float)
        b = np.array([s[1] for s in segments], dtype=float)
        t = np.array([0.0, 1 / 3, 2 / 3, 1.0])[None, :, None]
        mob.points = (a[:, None] + t * (b - a)[:, None]).reshape(-1, 3)
    return mob


# --------------------------------------------------------------------------- curves


def _corner_points(points: np.ndarray) -> np.ndarray:
    """Cubic Bézier points drawing straight segments through ``points`` (N, 3).

    VMobjects made only of such segments are marked ``polyline = True``: the scene's
    camera (:class:`~.kl_scene.KLCamera`) then draws them with ``line_to``, faster.
    """
    a, b = points[:-1], points[1:]
    d = b - a
    out = np.empty((len(a), 4, 3))
    out[:, 0] = a
    out[:, 1] = a + d / 3
    out[:, 2] = a + 2 * d / 3
    out[:, 3] = b
    return out.reshape(-1, 3)


class DensityCurve(VMobject):
    """A density drawn on axes from sampled arrays, updated in place every frame.

    ``axes`` is anything with a linear ``coords_to_point(x, y)`` (manim's ``Axes`` or
    :class:`DensityAxes`). Values above the top of ``y_range`` (default: the axes'
    ``y_range``) are clipped to it. With ``fill_opacity > 0`` the area under the curve is
    shaded by :attr:`area`, a separate mobject kept in step with the curve: add it to
    the scene beneath the curves (``scene.add(curve.area, curve)``).
    """

    def __init__(
        self,
        axes,
        color: str = "#58C4DD",
        stroke_width: float = 4.0,
        fill_opacity: float = 0.0,
        y_range: Sequence[float] | None = None,
        **kwargs,
    ):
        super().__init__(stroke_color=color, stroke_width=stroke_width, fill_opacity=0, **kwargs)
        self.joint_type = LineJointType.ROUND
        self.polyline = True
        self.axes = axes
        y_range = y_range if y_range is not None else getattr(axes, "y_range", None)
        self.y_bounds = (float(y_range[0]), float(y_range[1])) if y_range is not None else None
        self.area = VMobject(fill_color=color, fill_opacity=fill_opacity, stroke_width=0)
        self.area.polyline = True
        self._with_area = fill_opacity > 0

    def _affine(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if hasattr(self.axes, "affine"):
            return self.axes.affine()
        c2p = self.axes.coords_to_point
        origin = np.asarray(c2p(0, 0), dtype=float)
        return origin, np.asarray(c2p(1, 0)) - origin, np.asarray(c2p(0, 1)) - origin

    def set_data(self, xs: np.ndarray, ys: np.ndarray) -> DensityCurve:
        """Draw the curve through ``(xs, ys)`` (1-D arrays in data coordinates), in place."""
        xs = np.asarray(xs, dtype=float)
        ys = np.asarray(ys, dtype=float)
        if self.y_bounds is not None:
            ys = np.clip(ys, *self.y_bounds)
        if len(xs) < 2:
            self.points = np.zeros((0, 3))
            self.area.points = np.zeros((0, 3))
            return self
        origin, ex, ey = self._affine()
        corners = origin + xs[:, None] * ex + ys[:, None] * ey
        self.points = _corner_points(corners)
        if self._with_area:
            base_y = 0.0
            if self.y_bounds is not None:
                base_y = min(max(0.0, self.y_bounds[0]), self.y_bounds[1])
            base = origin + base_y * ey
            first = base + xs[0] * ex
            last = base + xs[-1] * ex
            outline = np.concatenate([first[None], corners, last[None], first[None]])
            self.area.points = _corner_points(outline)
        return self


# --------------------------------------------------------------------------- bars


class DivergenceBar(VGroup):
    """A bar for one divergence: the live value above it, its label below.

    The bar fills ``height`` at ``bar_max`` nats. Above ``bar_max`` the bar is full, a
    chevron above it marks the overflow, and the number still gives the exact value. A
    bounded divergence (``overflow=False``, ``bar_max`` its bound) is never marked: its
    values above the bound are rounding noise.
    :meth:`set_value` updates everything in place.

    Layout, bottom to top: ``label``, the bar (a faint track of full height with the
    fill), the overflow chevron's room, the number. ``stroke_width`` is the chevron's
    (the track's outline is half of it).
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
    ):
        super().__init__()
        if not bar_max > 0:
            raise ValueError(f"bar_max must be > 0 (got {bar_max})")
        self.bar_max = float(bar_max)
        self.overflows = overflow
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
        gap = 0.35 * digit_height
        mark_h = 0.8 * digit_height
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
                _corner_points(chevron + (height + gap) * UP),
                _corner_points(chevron + (height + gap + 0.45 * mark_h) * UP),
            ]
        )
        self.number = GlyphNumber(glyphs, "", digit_height, "center", text_color).shift(
            (height + 3 * gap + mark_h) * UP
        )
        self.label = label
        label.next_to(self.track, DOWN, buff=1.2 * gap + 0.1)
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
            self.fill.points = _corner_points(corners)
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
        self.number.set_text(format_nats(value))
        return self


# --------------------------------------------------------------------------- panels


def _dashed_corner_points(points: np.ndarray, dash: float, gap: float) -> np.ndarray:
    """Bézier points of the dashes along the polyline ``points`` (N, 3): a dash of length
    ``dash``, a gap of ``gap``, and so on from the first point."""
    if len(points) < 2:
        return np.zeros((0, 3))
    steps = np.diff(points, axis=0)
    cumulative = np.concatenate([[0.0], np.cumsum(np.hypot(steps[:, 0], steps[:, 1]))])
    total = cumulative[-1]
    if not total > 0:
        return np.zeros((0, 3))

    def at(d: float) -> np.ndarray:
        return np.array([np.interp(d, cumulative, points[:, k]) for k in range(3)])

    pieces = []
    for a in np.arange(0.0, total, dash + gap):
        b = min(a + dash, total)
        inside = points[(cumulative > a) & (cumulative < b)]
        pieces.append(_corner_points(np.concatenate([at(a)[None], inside, at(b)[None]])))
    return np.concatenate(pieces)


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
        self.curve.points = _dashed_corner_points(corners, dash, gap)
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


def _set_legend(panel, legend: Mobject, buff: float):
    if panel.legend is not None:
        panel.remove(panel.legend)
    left, _, _, top = panel.axes.plot_box()
    legend.shift([left - legend.get_left()[0], top + buff - legend.get_bottom()[1], 0])
    panel.legend = legend
    panel.add(legend)
    return panel


class IntegrandPanel(VGroup):
    """The integrands of both KLs, ``p log(p/q)`` and ``q log(q/p)``, shaded on small axes.

    Their signed areas are KL(p‖q) and KL(q‖p): the shading goes below the x-axis where
    an integrand is negative. The plot spans ``width`` × ``height`` with its lower-left
    corner at the origin until moved; ``legend`` (see :func:`legend`) sits above it.
    Values beyond ``y_range`` are clipped to it. :meth:`set_data` updates it in place.
    """

    def __init__(
        self,
        x_range: Sequence[float],
        y_range: Sequence[float],
        width: float,
        height: float,
        colors: tuple[str, str],
        legend: Mobject | None = None,
        glyphs: GlyphSet | None = None,
        digit_height: float = 0.16,
        axis_color: str = "#A0A0AA",
        label_color: str = "#D0D0D8",
        stroke_width: float = 3.0,
        fill_opacity: float = 0.3,
        y_step: float | None = None,
        x_labels: bool | Literal["bottom"] = False,
    ):
        super().__init__()
        self.axes = DensityAxes(
            x_range, y_range, width, height, glyphs=glyphs, digit_height=digit_height,
            color=axis_color, label_color=label_color, stroke_width=0.6 * stroke_width,
            y_step=y_step, x_labels=x_labels,
        )
        self.forward_curve = DensityCurve(self.axes, colors[0], stroke_width, fill_opacity)
        self.reverse_curve = DensityCurve(self.axes, colors[1], stroke_width, fill_opacity)
        self.add(self.axes, self.forward_curve.area, self.reverse_curve.area)
        self.add(self.forward_curve, self.reverse_curve)
        self.legend = None
        self._legend_buff = 0.9 * digit_height
        if legend is not None:
            self.set_legend(legend)

    def set_legend(self, legend: Mobject) -> IntegrandPanel:
        """Put ``legend`` above the plot, at its left edge (replacing any legend)."""
        return _set_legend(self, legend, self._legend_buff)

    def set_data(self, xs: np.ndarray, forward: np.ndarray, reverse: np.ndarray) -> IntegrandPanel:
        """Draw ``p log(p/q)`` and ``q log(q/p)`` sampled at ``xs`` (1-D arrays), in place."""
        self.forward_curve.set_data(xs, forward)
        self.reverse_curve.set_data(xs, reverse)
        return self


def _disc_points(centre: np.ndarray, radius: float, sides: int = 20) -> np.ndarray:
    angles = np.linspace(0.0, 2 * np.pi, sides + 1)
    ring = np.stack([np.cos(angles), np.sin(angles), np.zeros_like(angles)], axis=-1)
    return _corner_points(centre + radius * ring)


def _up_triangle_points(centre: np.ndarray, radius: float) -> np.ndarray:
    corners = np.array([[0.0, 1.2, 0.0], [-1.0, -0.6, 0.0], [1.0, -0.6, 0.0], [0.0, 1.2, 0.0]])
    return _corner_points(centre + radius * corners)


class TracePanel(VGroup):
    """Divergences against time so far: a line per series and a dot at its current value.

    The x-axis spans ``[0, duration]`` seconds, the y-axis ``[0, y_max]``. Values above
    ``y_max`` run along the top, and the dot becomes an upward triangle there. The plot
    spans ``width`` × ``height`` with its lower-left corner at the origin until moved;
    ``legend`` sits above it. :meth:`set_data` updates it in place.
    """

    def __init__(
        self,
        duration: float,
        y_max: float,
        width: float,
        height: float,
        colors: Sequence[str],
        legend: Mobject | None = None,
        glyphs: GlyphSet | None = None,
        digit_height: float = 0.16,
        axis_color: str = "#A0A0AA",
        label_color: str = "#D0D0D8",
        stroke_width: float = 3.0,
        dot_radius: float = 0.07,
        x_step: float | None = None,
        y_step: float | None = None,
    ):
        super().__init__()
        self.y_max = float(y_max)
        self.axes = DensityAxes(
            (0.0, float(duration)), (0.0, self.y_max), width, height, glyphs=glyphs,
            digit_height=digit_height, color=axis_color, label_color=label_color,
            stroke_width=0.6 * stroke_width, x_step=x_step, y_step=y_step,
        )
        self.dot_radius = dot_radius
        self.lines, self.dots = [], []
        for color in colors:
            line = VMobject(stroke_color=color, stroke_width=stroke_width, fill_opacity=0)
            line.polyline = True
            line.joint_type = LineJointType.ROUND
            dot = VMobject(fill_color=color, fill_opacity=1.0, stroke_width=0)
            dot.polyline = True
            self.lines.append(line)
            self.dots.append(dot)
        self.add(self.axes, *self.lines, *self.dots)
        self.legend = None
        self._legend_buff = 0.9 * digit_height + dot_radius
        if legend is not None:
            self.set_legend(legend)

    def set_legend(self, legend: Mobject) -> TracePanel:
        """Put ``legend`` above the plot, at its left edge (replacing any legend)."""
        return _set_legend(self, legend, self._legend_buff)

    def set_data(self, t: np.ndarray, *series: np.ndarray) -> TracePanel:
        """Draw each series (values at times ``t``, the last one now), in place."""
        t = np.asarray(t, dtype=float)
        origin, ex, ey = self.axes.affine()
        for line, dot, values in zip(self.lines, self.dots, series, strict=True):
            values = np.asarray(values, dtype=float)
            shown = np.clip(np.nan_to_num(values, nan=0.0, posinf=self.y_max), 0.0, self.y_max)
            corners = origin + t[:, None] * ex + shown[:, None] * ey
            line.points = _corner_points(corners) if len(t) > 1 else np.zeros((0, 3))
            if len(t) == 0:
                dot.points = np.zeros((0, 3))
            elif values[-1] > self.y_max:
                dot.points = _up_triangle_points(corners[-1], self.dot_radius)
            else:
                dot.points = _disc_points(corners[-1], self.dot_radius)
        return self
