"""Value types of the format that need more than a bound: colours, the bars' scale, and
the plane's points and covariance matrices.

Each is a pydantic type with its own validator (worded as :mod:`kldemo.config.messages`
words the rest) and its JSON Schema written out, so that editors check it too.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal

from pydantic import PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from kldemo.config.messages import describe
from kldemo.core.mixture import MAX_ABS_MEAN, MAX_COMPONENTS, MAX_STD, MIN_STD

#: A covariance's condition number (largest over smallest eigenvalue) at most this.
MAX_CONDITION = 1e8
#: A covariance's off-diagonal entries agree within this, relative to its largest entry.
SYMMETRY_TOLERANCE = 1e-12


def is_number(value: Any) -> bool:
    """A finite number that is not a boolean (an integer too large for a float is none)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer such as 10**400
        return False


NAMED_COLORS = {  # manim's palette, by the names manim users know
    "WHITE": "#FFFFFF",
    "BLACK": "#000000",
    "GRAY": "#888888",
    "GREY": "#888888",
    "BLUE": "#58C4DD",
    "TEAL": "#5CD0B3",
    "GREEN": "#83C167",
    "YELLOW": "#FFFF00",
    "GOLD": "#F0AC5F",
    "RED": "#FC6255",
    "MAROON": "#C55F73",
    "PURPLE": "#9A72AC",
    "PINK": "#D147BD",
    "ORANGE": "#FF862F",
}
_HEX_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


def no_null(value: Any) -> Any:
    # An optional key may be left out, but not set to null: null is no number.
    if value is None:
        raise PydanticCustomError("null", "must not be null; leave the key out instead")
    return value


def _color(value: Any) -> str:
    if isinstance(value, str):
        if _HEX_COLOR.match(value):
            return (
                value.upper()
                if len(value) == 7
                else "#" + "".join(c * 2 for c in value[1:]).upper()
            )
        if value.upper() in NAMED_COLORS:
            return NAMED_COLORS[value.upper()]
    raise PydanticCustomError(
        "color",
        "must be a colour: '#RRGGBB', '#RGB' or a name such as BLUE (got {got})",
        {"got": describe(value)},
    )


def _bar_max(value: Any) -> float | Literal["auto"]:
    if value == "auto":
        return "auto"
    if (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    ):
        return float(value)
    raise PydanticCustomError(
        "bar_max", "must be auto or a number of nats > 0 (got {got})", {"got": describe(value)}
    )


Color = Annotated[
    str,
    PlainValidator(_color),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^(#[0-9a-fA-F]{3}|#[0-9a-fA-F]{6}|[A-Za-z]+)$",
            "description": "'#RRGGBB', '#RGB' or a manim colour name such as BLUE",
        }
    ),
]
BarMax = Annotated[
    float | Literal["auto"],
    PlainValidator(_bar_max),
    WithJsonSchema(
        {
            "anyOf": [{"const": "auto"}, {"type": "number", "exclusiveMinimum": 0}],
            "description": "nats at full bar height, or auto",
        }
    ),
]


def _location(value: Any) -> float | list[float]:
    """A mean: a number (1-D) or a pair [x, y] (2-D), each coordinate within ±1e4."""
    if isinstance(value, list):
        if len(value) != 2 or not all(is_number(v) for v in value):
            raise PydanticCustomError(
                "location",
                "must be a number, or a pair [x, y] of finite numbers in 2-D (got {got})",
                {"got": _written(value)},
            )
        coords = [float(v) for v in value]
    elif not isinstance(value, int | float) or isinstance(value, bool):
        raise PydanticCustomError("float_type", "must be a number")  # worded by the loader
    elif not is_number(value):
        raise PydanticCustomError("finite_number", "must be a finite number")
    else:
        coords = [float(value)]
    for name, v in zip(("x", "y") if len(coords) == 2 else ("",), coords, strict=True):
        if abs(v) > MAX_ABS_MEAN:
            what = f"its {name} is {v:g}" if name else f"got {v:g}"
            raise PydanticCustomError("mean_range", f"must be within ±1e4 ({what})")
    return coords if isinstance(value, list) else coords[0]


def _written(value: Any) -> str:
    if isinstance(value, list) and all(is_number(v) for v in value):
        return "[" + ", ".join(f"{v:g}" for v in value) + "]"
    return describe(value)


def _covariance(value: Any) -> list[list[float]]:
    """A 2x2 covariance [[a, b], [b, c]]: symmetric (within 1e-12 relative, then made
    exactly so), positive definite, its std along each principal axis from 1e-3 to 1e3,
    its condition number at most 1e8."""
    if not (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(row, list) and len(row) == 2 for row in value)
        and all(is_number(v) for row in value for v in row)
    ):
        raise PydanticCustomError(
            "covariance",
            "must be a 2x2 matrix of numbers, [[a, b], [b, c]] (got {got})",
            {"got": describe(value)},
        )
    (a, b), (b2, c) = ([float(v) for v in row] for row in value)
    scale = max(abs(a), abs(b), abs(b2), abs(c))
    if abs(b - b2) > SYMMETRY_TOLERANCE * scale:
        raise PydanticCustomError(
            "covariance",
            f"must be symmetric: its off-diagonal entries differ ({b:g} and {b2:g})",
        )
    b = 0.5 * (b + b2)
    det = a * c - b * b
    if a <= 0 or c <= 0 or det <= 0:
        raise PydanticCustomError(
            "covariance",
            "must be positive definite: a > 0, c > 0 and b² < a·c "
            f"(got a = {a:g}, c = {c:g}, b² - a·c = {-det:g})",
        )
    mid, radius = 0.5 * (a + c), math.hypot(0.5 * (a - c), b)
    small, large = det / (mid + radius), mid + radius  # no cancellation in the small one
    if large / small > MAX_CONDITION:
        raise PydanticCustomError(
            "covariance",
            f"is too elongated: its condition number is {large / small:.3g}, at most 1e8 "
            "(its axes' stds may differ by a factor of 1e4)",
        )
    if not (small >= MIN_STD**2 and large <= MAX_STD**2):
        raise PydanticCustomError(
            "covariance",
            f"its stds along its axes ({math.sqrt(small):.3g} and {math.sqrt(large):.3g}) must be "
            "between 1e-3 and 1e3",
        )
    return [[a, b], [b, c]]


Location = Annotated[
    float | list[float],
    PlainValidator(_location),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": -MAX_ABS_MEAN, "maximum": MAX_ABS_MEAN},
                {
                    "type": "array",
                    "items": {"type": "number", "minimum": -MAX_ABS_MEAN, "maximum": MAX_ABS_MEAN},
                    "minItems": 2,
                    "maxItems": 2,
                },
            ],
            "description": "a number, or a pair [x, y] in 2-D; within ±1e4",
        }
    ),
]
Covariance = Annotated[
    list[list[float]],
    PlainValidator(_covariance),
    WithJsonSchema(
        {
            "type": "array",
            "items": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2},
            "minItems": 2,
            "maxItems": 2,
            "description": "a symmetric positive definite 2x2 matrix [[a, b], [b, c]], "
            "condition number at most 1e8",
        }
    ),
]


def _component_count(value: Any) -> int | Literal["auto"]:
    if value == "auto":
        return "auto"
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_COMPONENTS:
        return value
    raise PydanticCustomError(
        "components",
        "must be a whole number from 1 to 16, or auto (got {got})",
        {"got": describe(value)},
    )


ComponentCount = Annotated[
    int | Literal["auto"],
    PlainValidator(_component_count),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": 1, "maximum": MAX_COMPONENTS},
                {"const": "auto"},
            ],
            "description": "a number of components from 1 to 16, or auto (by BIC over 1 to 8)",
        }
    ),
]
