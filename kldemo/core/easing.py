"""Easing (rate) functions by manim's names, vectorised, without importing manim.

Each function maps progress ``alpha`` in [0, 1] to eased progress; a transition moves every
parameter as ``start + easing(alpha) * (end - start)``. The formulas are those of
``manim.utils.rate_functions`` (a test checks them against manim's own), written here for
numpy arrays so that a whole timeline is eased in one call.

Most easings end at 1. A few return to 0 (``there_and_back``, ``wiggle``, ...) or stop
short (``exponential_decay`` ends at 1 - e^-10); the state a transition ends in is
``start + easing(1) * (end - start)``. Some overshoot [0, 1] on the way
(``running_start``, ``ease_*_back``, ``ease_*_elastic``); the config layer checks that no
parameter leaves its domain then.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np

Easing = Callable[[np.ndarray], np.ndarray]

_C1 = 1.70158  # the "back" easings' overshoot constant
_BOUNCE_N, _BOUNCE_D = 7.5625, 2.75


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def linear(t: np.ndarray) -> np.ndarray:
    return t


def smooth(t: np.ndarray, inflection: float = 10.0) -> np.ndarray:
    error = _sigmoid(np.float64(-inflection / 2))
    return np.clip((_sigmoid(inflection * (t - 0.5)) - error) / (1 - 2 * error), 0, 1)


def rush_into(t: np.ndarray) -> np.ndarray:
    return 2 * smooth(t / 2.0)


def rush_from(t: np.ndarray) -> np.ndarray:
    return 2 * smooth(t / 2.0 + 0.5) - 1


def slow_into(t: np.ndarray) -> np.ndarray:
    return np.sqrt(1 - (1 - t) * (1 - t))


def double_smooth(t: np.ndarray) -> np.ndarray:
    return np.where(t < 0.5, 0.5 * smooth(2 * t), 0.5 * (1 + smooth(2 * t - 1)))


def there_and_back(t: np.ndarray) -> np.ndarray:
    return smooth(np.where(t < 0.5, 2 * t, 2 * (1 - t)))


def there_and_back_with_pause(t: np.ndarray, pause_ratio: float = 1.0 / 3) -> np.ndarray:
    a = 1.0 / pause_ratio
    rising, falling = t < 0.5 - pause_ratio / 2, t >= 0.5 + pause_ratio / 2
    return np.where(rising, smooth(a * t), np.where(falling, smooth(a - a * t), 1.0))


def running_start(t: np.ndarray, pull_factor: float = -0.5) -> np.ndarray:
    # The Bezier curve with control values [0, 0, pull, pull, 1, 1, 1], in Bernstein form.
    s = 1 - t
    return (
        pull_factor * (20 * s**3 * t**3 + 15 * s**4 * t**2) + 15 * s**2 * t**4 + 6 * s * t**5 + t**6
    )


def wiggle(t: np.ndarray, wiggles: float = 2) -> np.ndarray:
    return there_and_back(t) * np.sin(wiggles * np.pi * t)


def lingering(t: np.ndarray) -> np.ndarray:
    return np.minimum(t / 0.8, 1.0)


def exponential_decay(t: np.ndarray, half_life: float = 0.1) -> np.ndarray:
    return 1 - np.exp(-t / half_life)


def ease_in_sine(t):
    return 1 - np.cos(t * np.pi / 2)


def ease_out_sine(t):
    return np.sin(t * np.pi / 2)


def ease_in_out_sine(t):
    return -(np.cos(np.pi * t) - 1) / 2


def _power_easings(n: int) -> tuple[Easing, Easing, Easing]:
    def ease_in(t):
        return t**n

    def ease_out(t):
        return 1 - (1 - t) ** n

    def ease_in_out(t):
        return np.where(t < 0.5, 2 ** (n - 1) * t**n, 1 - (2 - 2 * t) ** n / 2)

    return ease_in, ease_out, ease_in_out


ease_in_quad, ease_out_quad, ease_in_out_quad = _power_easings(2)
ease_in_cubic, ease_out_cubic, ease_in_out_cubic = _power_easings(3)
ease_in_quart, ease_out_quart, ease_in_out_quart = _power_easings(4)
ease_in_quint, ease_out_quint, ease_in_out_quint = _power_easings(5)


def ease_in_expo(t):
    return np.where(t == 0, 0.0, 2.0 ** (10 * t - 10))


def ease_out_expo(t):
    return np.where(t == 1, 1.0, 1 - 2.0 ** (-10 * t))


def ease_in_out_expo(t):
    inner = np.where(t < 0.5, 2.0 ** (20 * t - 10) / 2, (2 - 2.0 ** (-20 * t + 10)) / 2)
    return np.where(t == 0, 0.0, np.where(t == 1, 1.0, inner))


def ease_in_circ(t):
    return 1 - np.sqrt(1 - t**2)


def ease_out_circ(t):
    return np.sqrt(1 - (t - 1) ** 2)


def ease_in_out_circ(t):
    lower = (1 - np.sqrt(np.clip(1 - (2 * t) ** 2, 0, 1))) / 2
    upper = (np.sqrt(np.clip(1 - (2 - 2 * t) ** 2, 0, 1)) + 1) / 2
    return np.where(t < 0.5, lower, upper)


def ease_in_back(t):
    return (_C1 + 1) * t**3 - _C1 * t**2


def ease_out_back(t):
    return 1 + (_C1 + 1) * (t - 1) ** 3 + _C1 * (t - 1) ** 2


def ease_in_out_back(t):
    c2 = _C1 * 1.525
    lower = (2 * t) ** 2 * ((c2 + 1) * 2 * t - c2) / 2
    upper = ((2 * t - 2) ** 2 * ((c2 + 1) * (2 * t - 2) + c2) + 2) / 2
    return np.where(t < 0.5, lower, upper)


def ease_in_elastic(t):
    inner = -(2.0 ** (10 * t - 10)) * np.sin((t * 10 - 10.75) * (2 * np.pi / 3))
    return np.where(t == 0, 0.0, np.where(t == 1, 1.0, inner))


def ease_out_elastic(t):
    inner = 2.0 ** (-10 * t) * np.sin((t * 10 - 0.75) * (2 * np.pi / 3)) + 1
    return np.where(t == 0, 0.0, np.where(t == 1, 1.0, inner))


def ease_in_out_elastic(t):
    c5 = 2 * np.pi / 4.5
    wave = np.sin((20 * t - 11.125) * c5)
    inner = np.where(
        t < 0.5, -(2.0 ** (20 * t - 10)) * wave / 2, 2.0 ** (-20 * t + 10) * wave / 2 + 1
    )
    return np.where(t == 0, 0.0, np.where(t == 1, 1.0, inner))


def ease_out_bounce(t):
    n, d = _BOUNCE_N, _BOUNCE_D
    return np.select(
        [t < 1 / d, t < 2 / d, t < 2.5 / d],
        [n * t * t, n * (t - 1.5 / d) ** 2 + 0.75, n * (t - 2.25 / d) ** 2 + 0.9375],
        n * (t - 2.625 / d) ** 2 + 0.984375,
    )


def ease_in_bounce(t):
    return 1 - ease_out_bounce(1 - t)


def ease_in_out_bounce(t):
    return np.where(
        t < 0.5, (1 - ease_out_bounce(1 - 2 * t)) / 2, (1 + ease_out_bounce(2 * t - 1)) / 2
    )


EASINGS: dict[str, Easing] = {
    "linear": linear,
    "smooth": smooth,
    "rush_into": rush_into,
    "rush_from": rush_from,
    "slow_into": slow_into,
    "double_smooth": double_smooth,
    "there_and_back": there_and_back,
    "there_and_back_with_pause": there_and_back_with_pause,
    "running_start": running_start,
    "wiggle": wiggle,
    "lingering": lingering,
    "exponential_decay": exponential_decay,
    "ease_in_sine": ease_in_sine,
    "ease_out_sine": ease_out_sine,
    "ease_in_out_sine": ease_in_out_sine,
    "ease_in_quad": ease_in_quad,
    "ease_out_quad": ease_out_quad,
    "ease_in_out_quad": ease_in_out_quad,
    "ease_in_cubic": ease_in_cubic,
    "ease_out_cubic": ease_out_cubic,
    "ease_in_out_cubic": ease_in_out_cubic,
    "ease_in_quart": ease_in_quart,
    "ease_out_quart": ease_out_quart,
    "ease_in_out_quart": ease_in_out_quart,
    "ease_in_quint": ease_in_quint,
    "ease_out_quint": ease_out_quint,
    "ease_in_out_quint": ease_in_out_quint,
    "ease_in_expo": ease_in_expo,
    "ease_out_expo": ease_out_expo,
    "ease_in_out_expo": ease_in_out_expo,
    "ease_in_circ": ease_in_circ,
    "ease_out_circ": ease_out_circ,
    "ease_in_out_circ": ease_in_out_circ,
    "ease_in_back": ease_in_back,
    "ease_out_back": ease_out_back,
    "ease_in_out_back": ease_in_out_back,
    "ease_in_elastic": ease_in_elastic,
    "ease_out_elastic": ease_out_elastic,
    "ease_in_out_elastic": ease_in_out_elastic,
    "ease_out_bounce": ease_out_bounce,
    "ease_in_bounce": ease_in_bounce,
    "ease_in_out_bounce": ease_in_out_bounce,
}
"""Every easing by the name of manim's rate function, in the order they are defined above.

A new easing is a function above and a line here."""


def ease(name: str, alpha: np.ndarray | float) -> np.ndarray:
    """Eased progress ``easing(alpha)`` for progress ``alpha``, clipped to [0, 1] first.

    >>> float(ease("smooth", 0.5))
    0.5
    >>> float(ease("linear", 2.0))
    1.0
    """
    t = np.clip(np.asarray(alpha, dtype=float), 0.0, 1.0)
    with np.errstate(over="ignore"):  # the expo/elastic branches np.where discards
        return np.asarray(EASINGS[name](t), dtype=float)


def end_value(name: str) -> float:
    """Where an easing ends: the fraction of the way a transition has moved at alpha = 1."""
    return float(ease(name, 1.0)) + 0.0  # + 0.0 turns wiggle's -0.0 into 0.0


def describe(name: str) -> str:
    """What ``kldemo easings`` says of an easing: where it overshoots, where it ends.

    The end value is printed with enough digits to tell it from 1 (``exponential_decay``
    ends at 1 - e^-10 = 0.9999546..., not at 1), so that the listing never rounds a stop
    short of the end into the end itself.

    >>> describe("exponential_decay")
    'ends at 0.9999546 of the way'
    >>> describe("linear")
    ''
    """
    low, high = easing_range(name)
    notes = []
    if low < 0 or high > 1:
        notes.append(f"overshoots to [{low:.2f}, {high:.2f}]")
    end = end_value(name)
    if abs(end - 1) > 1e-12:
        notes.append(f"ends at {_significant(end)} of the way")
    return "; ".join(notes)


def _significant(value: float) -> str:
    """``value`` with the fewest significant digits (up to 17) that round-trip within 1e-7."""
    for digits in range(1, 18):
        text = f"{value:.{digits}g}"
        if abs(float(text) - value) <= 1e-7 * max(abs(value), 1e-300):
            return text
    return repr(value)  # pragma: no cover


@cache
def easing_range(name: str) -> tuple[float, float]:
    """The least and greatest value an easing takes on [0, 1], sampled finely."""
    values = ease(name, np.linspace(0.0, 1.0, 20_001))
    return float(values.min()), float(values.max())
