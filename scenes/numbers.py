"""Numbers as the scene writes them, and where ticks go: free of manim.

A divergence's value (:func:`format_nats`), tick labels (:func:`format_tick`) and the
1-2-5 steps of ticks whose labels keep clear of each other (:func:`spaced_step`). Widths
of text come in as a function giving a string's width in digit heights (for the glyphs
the scene draws numbers with: :func:`text_width` of their advances).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import numpy as np

from kldemo.plan.view import nice_steps

__all__ = [
    "format_nats",
    "format_tick",
    "nice_step",
    "spaced_step",
    "text_width",
    "tick_values",
    "widest_nats",
    "widest_tick_label",
]

#: Room along a horizontal axis between neighbouring tick labels, in digit heights.
X_LABEL_GAP = 1.5
#: The least distance between ticks along a vertical axis, in digit heights.
Y_TICK_SPACING = 2.2


def format_nats(value: float, digits: int = 3) -> str:
    """A divergence as a short, steady string: about ``digits`` significant figures.

    Zero (``0.000`` at 3 digits) for anything below half a unit of the last decimal
    (quadrature noise included), then ``digits`` significant figures in fixed decimals up
    to the integers, the integers whole up to 9999 (or ``digits`` figures, if more), then
    scientific notation (``1.23e+04``). Minus signs are U+2212.

    >>> [format_nats(v) for v in (0.0, 0.52713, 5.2713, 52.713, 527.13, 5271.3, 12345.6)]
    ['0.000', '0.527', '5.27', '52.7', '527', '5271', '1.23e+04']
    >>> [format_nats(v, 5) for v in (0.0, 0.52713, 5.27134, 52713.4, 123456.7)]
    ['0.00000', '0.52713', '5.2713', '52713', '1.2346e+05']
    """
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    sign = "−" if value < 0 else ""
    v = abs(value)
    if v < 0.5 * 10.0**-digits:
        return f"{0:.{digits}f}"
    s = None
    for k in range(digits):  # below 10^k (as it rounds), digits - k decimals
        if v < 10.0**k - 0.5 * 10.0 ** (k - digits):
            s = f"{v:.{digits - k}f}"
            break
    if s is None:
        s = (
            f"{v:.0f}"
            if v < max(10.0**digits, 1e4) - 0.5
            else f"{v:.{digits - 1}e}".replace("-", "−")
        )
    return sign + s


def widest_nats(bounded: bool, digits: int = 3) -> str:
    """The widest number a bar shows at ``digits`` figures: for a bounded divergence (at
    most 1) its zero, ``0.000``; else the scientific form, ``1.23e+04``.

    >>> widest_nats(True), widest_nats(False), widest_nats(False, 1), widest_nats(True, 5)
    ('0.000', '1.23e+04', '1e+04', '0.00000')
    """
    if bounded:
        return f"{0:.{digits}f}"
    return f"1.{'2345678'[: digits - 1]}e+04" if digits > 1 else "1e+04"


def nice_step(span: float, max_ticks: int = 10, min_ticks: int = 4) -> float:
    """The smallest 1-2-5 × 10^k step giving at most ``max_ticks`` ticks over ``span``.

    >>> nice_step(11), nice_step(1.1), nice_step(0.004)
    (2.0, 0.2, 0.0005)
    """
    if not span > 0 or not math.isfinite(span):
        return 1.0
    for step in nice_steps(span / max_ticks):
        if span / step <= max_ticks - 1 + 1e-9 or span / step < min_ticks:
            return step
    return span  # not reached


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


def text_width(advances: Mapping[str, float], text: str) -> float:
    """The width of ``text`` set from glyphs of these advance widths (digit heights)."""
    return sum(advances[c] for c in text)


def spaced_step(
    lo: float,
    hi: float,
    length: float,
    width: Callable[[str], float],
    digit_height: float,
    horizontal: bool,
) -> float:
    """A 1-2-5 step whose labels keep clear of each other along an axis of ``length``.

    ``width`` gives a label's width in digit heights.
    """
    span = hi - lo
    if not span > 0:
        return 1.0
    step = nice_step(span)
    for candidate in nice_steps(step):
        ticks = tick_values(lo, hi, candidate)
        spacing = length * candidate / span
        if horizontal:
            widest = max(width(format_tick(t, candidate)) for t in ticks) * digit_height
            room = widest + X_LABEL_GAP * digit_height
        else:
            room = Y_TICK_SPACING * digit_height
        if spacing >= room or len(ticks) <= 2:
            return candidate
    return step  # not reached


def widest_tick_label(lo: float, hi: float, step: float, width: Callable[[str], float]) -> float:
    """The widest tick label over ``[lo, hi]`` at ``step``, in digit heights."""
    return max((width(format_tick(y, step)) for y in tick_values(lo, hi, step)), default=0.0)
