"""The two palettes, and the contrast each colour must keep against its background.

Free of manim, so that the plan can fill in a theme's default p and q colours and a test
can check every palette without drawing. Contrast is WCAG 2's ratio of relative
luminances: text needs 4.5:1 (WCAG AA for normal text), curves, bars and axis lines 3:1
(AA for graphical objects). The dark palette's p and q are manim's BLUE and GREEN; the
light palette darkens them, since pastels on white fall near 2:1.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

#: The least contrast against the background for each kind of colour (WCAG 2.1 AA).
TEXT_CONTRAST = 4.5
GRAPHIC_CONTRAST = 3.0


@dataclass(frozen=True)
class Theme:
    """Every colour of a theme. ``p`` and ``q`` are the curves' defaults: a config's
    ``p_color`` and ``q_color`` replace them as given."""

    background: str
    text: str  # title, bar numbers, bar labels
    muted: str  # captions, tick labels, legends, optimum markers
    axis: str  # axis lines
    track: str  # the outline of a bar's full height (its inside is a faint wash of it)
    bar: str  # a bar's fill
    p: str
    q: str
    area_opacity: float  # the wash under each curve

    def roles(self) -> dict[str, float]:
        """Each colour field's least contrast against :attr:`background`.

        The names ``p`` and ``q`` are text too (the curves' names and the bar labels are
        set in them), so they need text contrast, not only a curve's.
        """
        text = {"text", "muted", "p", "q"}
        return {
            f.name: TEXT_CONTRAST if f.name in text else GRAPHIC_CONTRAST
            for f in fields(self)
            if f.name not in ("background", "area_opacity")
        }


DARK = Theme(
    background="#0F0F14",
    text="#ECECF1",
    muted="#B9B9C3",
    axis="#8C8C98",
    track="#62626F",
    bar="#FF9A3C",
    p="#58C4DD",
    q="#83C167",
    area_opacity=0.16,
)
LIGHT = Theme(
    background="#FFFFFF",
    text="#1B1B22",
    muted="#3F3F4A",
    axis="#5C5C68",
    track="#8A8A96",
    bar="#C2410C",
    p="#1F6FB2",
    q="#2A7D2E",
    area_opacity=0.14,
)
THEMES = {"dark": DARK, "light": LIGHT}


def relative_luminance(color: str) -> float:
    """WCAG 2's relative luminance of an sRGB colour ``'#RRGGBB'``, from 0 (black) to 1.

    >>> relative_luminance("#FFFFFF"), relative_luminance("#000000")
    (1.0, 0.0)
    """
    digits = color.lstrip("#")
    if len(digits) != 6:
        raise ValueError(f"color must be '#RRGGBB' (got {color!r})")
    channels = [int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(a: str, b: str) -> float:
    """WCAG 2's contrast ratio (L1 + 0.05) / (L2 + 0.05) of two colours, from 1 to 21.

    >>> round(contrast_ratio("#000000", "#FFFFFF"), 6)
    21.0
    >>> contrast_ratio("#1F6FB2", "#FFFFFF") == contrast_ratio("#FFFFFF", "#1F6FB2")
    True
    """
    high, low = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def blend(color: str, under: str, opacity: float) -> str:
    """``color`` laid over ``under`` at ``opacity``, as '#RRGGBB' (sRGB blending, as Cairo
    does)."""
    top, bottom = color.lstrip("#"), under.lstrip("#")
    mixed = (
        round(int(top[i : i + 2], 16) * opacity + int(bottom[i : i + 2], 16) * (1 - opacity))
        for i in (0, 2, 4)
    )
    return "#" + "".join(f"{c:02X}" for c in mixed)
