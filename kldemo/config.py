"""The keyframe file, format version 1: typed models, and loading with every error at once.

A file is read by :func:`load_config`: safe YAML with source positions
(:mod:`kldemo.yamlfile`), then the strict models below (pydantic), then the rules that span
keyframes (:func:`kldemo.timeline.check_sequence`). Every problem is reported at once as
``FILE:LINE:COL: error: PATH: MESSAGE``.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from kldemo.easing import EASINGS
from kldemo.errors import MAX_REPORTED, ConfigError, Diagnostic
from kldemo.yamlfile import DocPath, YamlDocument, read_yaml

# Limits, each with a clear error.
MAX_COMPONENTS = 16
MAX_KEYFRAMES = 1000
MAX_SECONDS = 3600.0
# The range over which the numeric core is verified to full accuracy.
MIN_STD, MAX_STD, MAX_ABS_MEAN = 1e-3, 1e3, 1e4
WEIGHT_SUM_TOLERANCE = 1e-9

NAMED_COLORS = {  # manim's palette, by the names manim users know
    "WHITE": "#FFFFFF", "BLACK": "#000000", "GRAY": "#888888", "GREY": "#888888",
    "BLUE": "#58C4DD", "TEAL": "#5CD0B3", "GREEN": "#83C167", "YELLOW": "#FFFF00",
    "GOLD": "#F0AC5F", "RED": "#FC6255", "MAROON": "#C55F73", "PURPLE": "#9A72AC",
    "PINK": "#D147BD", "ORANGE": "#FF862F",
}
_HEX_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


def _no_null(value: Any) -> Any:
    # An optional key may be left out, but not set to null: null is no number.
    if value is None:
        raise PydanticCustomError("null", "must not be null; leave the key out instead")
    return value


def _color(value: Any) -> str:
    if isinstance(value, str):
        if _HEX_COLOR.match(value):
            return (value.upper() if len(value) == 7
                    else "#" + "".join(c * 2 for c in value[1:]).upper())
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
    if (isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
            and value > 0):
        return float(value)
    raise PydanticCustomError(
        "bar_max", "must be auto or a number of nats > 0 (got {got})", {"got": describe(value)}
    )


Number = Annotated[float, Field(allow_inf_nan=False)]
Mean = Annotated[float, Field(ge=-MAX_ABS_MEAN, le=MAX_ABS_MEAN, allow_inf_nan=False)]
Std = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Weight = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Duration = Annotated[float, Field(gt=0, le=MAX_SECONDS, allow_inf_nan=False)]
Hold = Annotated[float, Field(ge=0, le=MAX_SECONDS, allow_inf_nan=False)]
EasingName = Literal[tuple(EASINGS)]  # type: ignore[valid-type]
Color = Annotated[
    str,
    PlainValidator(_color),
    WithJsonSchema({"type": "string", "pattern": r"^(#[0-9a-fA-F]{3}|#[0-9a-fA-F]{6}|[A-Za-z]+)$",
                    "description": "'#RRGGBB', '#RGB' or a manim colour name such as BLUE"}),
]
BarMax = Annotated[
    float | Literal["auto"],
    PlainValidator(_bar_max),
    WithJsonSchema({"anyOf": [{"const": "auto"}, {"type": "number", "exclusiveMinimum": 0}],
                    "description": "nats at full bar height, or auto"}),
]
Components = Field(min_length=1, max_length=MAX_COMPONENTS)
Direction = Literal["forward", "reverse"]
Parameter = Literal["means", "stds", "weights"]
BarName = Literal["forward", "reverse", "js", "tv", "hellinger"]
PanelName = Literal["integrand", "trace"]


class _Model(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        return _no_null(value)


class MixtureChange(_Model):
    """A Gaussian mixture, or what a keyframe changes of one: only the named keys change."""

    weights: Annotated[list[Weight], Components] | None = None
    means: Annotated[list[Mean], Components] | None = None
    stds: Annotated[list[Std], Components] | None = None
    mean: Mean | None = Field(default=None, description="shorthand: the mean of one Gaussian")
    std: Std | None = Field(default=None, description="shorthand: the std of one Gaussian")

    @field_validator("stds")
    @classmethod
    def stds_are_in_range(cls, stds: list[float] | None) -> list[float] | None:
        for std in stds or ():
            _check_std(std)
        return stds

    @field_validator("std")
    @classmethod
    def std_is_in_range(cls, std: float | None) -> float | None:
        return _check_std(std) if std is not None else None

    @field_validator("weights")
    @classmethod
    def weights_sum_to_one(cls, weights: list[float] | None) -> list[float] | None:
        if weights is not None and abs(math.fsum(weights) - 1) > WEIGHT_SUM_TOLERANCE:
            raise PydanticCustomError(
                "weights_sum", "must sum to 1 (they sum to {total})",
                {"total": f"{math.fsum(weights):.12g}"}
            )
        return weights

    @model_validator(mode="after")
    def shorthand_is_not_mixed(self) -> MixtureChange:
        for short, full in (("mean", "means"), ("std", "stds")):
            if getattr(self, short) is not None and getattr(self, full) is not None:
                raise _field_error(short, f"give either {short} (one Gaussian) or {full}, not both")
        if ((self.mean is not None or self.std is not None) and self.weights is not None
                and len(self.weights) > 1):
            raise _field_error("weights",
                               "mean/std is shorthand for one Gaussian; use means and stds")
        return self

    @model_validator(mode="after")
    def lists_have_one_length(self) -> MixtureChange:
        lengths = {key: len(v) for key in ("weights", "means", "stds")
                   if (v := getattr(self, key)) is not None}
        if len(set(lengths.values())) > 1:
            said = ", ".join(f"{n} {key}" for key, n in lengths.items())
            raise _field_error(list(lengths)[-1],
                               f"weights, means and stds must have one length (got {said})")
        return self

    def given(self) -> dict[str, list[float]]:
        """The parameters this names, with the shorthand written out as one-item lists."""
        out = {key: list(v) for key in ("weights", "means", "stds")
               if (v := getattr(self, key)) is not None}
        if self.mean is not None:
            out["means"] = [self.mean]
        if self.std is not None:
            out["stds"] = [self.std]
        return out


class Mixture(MixtureChange):
    """The initial state of a distribution: means and stds required, weights uniform by default."""

    @model_validator(mode="after")
    def means_and_stds_are_given(self) -> Mixture:
        given = self.given()
        missing = [key for key in ("means", "stds") if key not in given]
        if missing:
            short = {"means": "mean", "stds": "std"}
            names = " and ".join(f"{k} (or {short[k]})" for k in missing)
            raise PydanticCustomError("missing_param", "needs {names}", {"names": names})
        return self

    def components(self) -> int:
        return len(self.given()["means"])


class Defaults(_Model):
    """What each keyframe uses unless it says otherwise."""

    duration: Duration = Field(default=2.0, description="seconds per transition")
    hold: Hold = Field(default=0.5, description="seconds held still after each transition")
    easing: EasingName = Field(default="smooth", description="a manim rate function name")


class View(_Model):
    """The axes' ranges; each defaults to one fitted to every state of the video."""

    x_range: Annotated[list[Number], Field(min_length=2, max_length=2)] | None = None
    y_range: Annotated[list[Number], Field(min_length=2, max_length=2)] | None = None

    @field_validator("x_range", "y_range")
    @classmethod
    def range_goes_up(cls, value: list[float] | None) -> list[float] | None:
        if value is not None and not value[0] < value[1]:
            raise PydanticCustomError(
                "range", f"must go up: [low, high] (got [{value[0]:g}, {value[1]:g}])"
            )
        return value


class Style(_Model):
    """Colours, theme, labels, the bars shown and their scale, and the optimum markers."""

    theme: Literal["dark", "light"] = "dark"
    p_color: Color = "#58C4DD"
    q_color: Color = "#83C167"
    labels: Literal["auto", "tex", "text"] = Field(
        default="auto", description="auto: LaTeX when installed, else Unicode text"
    )
    bar_max: BarMax = "auto"
    bars: Annotated[list[BarName], Field(min_length=1)] = Field(
        json_schema_extra={"uniqueItems": True},
        default=["forward", "reverse"],
        description="the bars shown, in order: forward = KL(p‖q), reverse = KL(q‖p), js = "
                    "Jensen-Shannon (nats), tv = total variation, hellinger = Hellinger distance",
    )
    markers: bool = Field(
        default=False,
        description="mark the forward-KL optimum and every reverse-KL local optimum over single "
                    "Gaussians (dashed, labelled)",
    )

    @field_validator("bars")
    @classmethod
    def bars_are_named_once(cls, bars: list[str]) -> list[str]:
        return _named_once(bars, "bar")


class Keyframe(_Model):
    """One transition: what changes, how long it takes, then how long it holds still."""

    p: MixtureChange | None = None
    q: MixtureChange | None = None
    duration: Duration | None = None
    hold: Hold | None = None
    easing: EasingName | None = None
    caption: Annotated[str, Field(max_length=200)] | None = None
    fit: Direction | None = Field(
        default=None,
        description="move q down the gradient of KL(p‖q) (forward) or KL(q‖p) (reverse) to a "
                    "local optimum, at an even pace along the path (the easing maps time to the "
                    "fraction of the path's length covered)",
    )
    optimize: Annotated[list[Parameter], Field(min_length=1)] | None = Field(
        json_schema_extra={"uniqueItems": True},
        default=None,
        description="which of q's parameters a fit moves (default all; weights need two or more "
                    "components)",
    )

    @field_validator("optimize")
    @classmethod
    def parameters_are_named_once(cls, names: list[str] | None) -> list[str] | None:
        return _named_once(names, "parameter") if names is not None else None

    @model_validator(mode="after")
    def a_fit_moves_only_q(self) -> Keyframe:
        if self.fit is not None:
            for name in ("p", "q"):
                if getattr(self, name) is not None:
                    raise _field_error(name, f"a fit keyframe moves q itself, so it cannot also "
                                             f"set {name}; make the change a keyframe of its own")
        elif self.optimize is not None:
            raise _field_error("optimize", "optimize belongs to a fit keyframe: add fit: forward "
                                           "or fit: reverse, or remove optimize")
        return self


class Config(_Model):
    """A kldemo keyframe file, format version 1."""

    model_config = ConfigDict(title="kldemo keyframe file (format version 1)")

    version: Literal[1] | None = Field(default=None, description="the format version; 1")
    title: Annotated[str, Field(max_length=120)] | None = None
    p: Mixture = Field(description="the target distribution's initial state")
    q: Mixture = Field(description="the approximation's initial state")
    defaults: Defaults = Defaults()
    view: View = View()
    style: Style = Style()
    panels: list[PanelName] = Field(
        json_schema_extra={"uniqueItems": True},
        default=[],
        description="small plots of their own: integrand (p·log(p/q) and q·log(q/p), "
                    "whose signed areas are the two KLs), trace (both KLs against time)",
    )
    keyframes: Annotated[list[Keyframe], Field(max_length=MAX_KEYFRAMES)] = []

    @field_validator("panels")
    @classmethod
    def panels_are_named_once(cls, panels: list[str]) -> list[str]:
        return _named_once(panels, "panel")


def _check_std(std: float) -> float:
    if not MIN_STD <= std <= MAX_STD:
        raise PydanticCustomError("std_range", f"must be between 1e-3 and 1e3 (got {std:g})")
    return std


def _named_once(names: list[str], what: str) -> list[str]:
    for i, name in enumerate(names):
        if name in names[:i]:
            raise PydanticCustomError(
                "repeated", f"{name!r} is listed twice; name each {what} once"
            )
    return names


def _field_error(field: str, message: str) -> PydanticCustomError:
    # The context's "field" moves the error from the model to one of its keys.
    return PydanticCustomError("rule", message, {"field": field})


@dataclass(frozen=True)
class LoadedConfig:
    """A valid config, with the file it came from."""

    path: Path
    model: Config
    document: YamlDocument

    @property
    def name(self) -> str:
        return self.path.stem


def load_config(path: str | Path) -> LoadedConfig:
    """Read and check a keyframe file; raise ConfigError with every problem found."""
    from kldemo.timeline import check_sequence

    path = Path(path)
    document = read_yaml(path)
    if not isinstance(document.data, dict):
        raise ConfigError([document.diagnostic(
            (), f"the top level must be a mapping with keys such as p, q and keyframes "
                f"(got {describe(document.data)})")])
    try:
        model = Config.model_validate(document.data)
    except ValidationError as error:
        # Only the errors shown are worded (a did-you-mean costs time): the first in the file.
        errors = sorted(error.errors(), key=lambda e: document.location(tuple(e["loc"])) or (0, 0))
        shown = [_diagnostic(document, e) for e in errors[:MAX_REPORTED]]
        raise ConfigError(shown, total=len(errors)) from None
    problems = [document.diagnostic(where, message) for where, message in check_sequence(model)]
    if problems:
        raise ConfigError(problems)
    return LoadedConfig(path, model, document)


def describe(value: Any) -> str:
    """How a value found in YAML reads in an error message."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _known_keys(path: DocPath) -> list[str]:
    """The keys allowed in the mapping at ``path``, found by walking the models."""
    model: Any = Config
    for part in path:
        if isinstance(part, int):
            continue
        model = _model_in(model.model_fields[part].annotation)
        if model is None:
            return []
    return list(model.model_fields)


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds, looking inside Optional, list and Annotated."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        if (found := _model_in(arg)) is not None:
            return found
    return None


def _diagnostic(document: YamlDocument, error: Any) -> Diagnostic:
    """A pydantic error as a Diagnostic with the position of the value in the file."""
    loc: DocPath = tuple(error["loc"])
    kind, ctx = error["type"], error.get("ctx") or {}
    value = error.get("input")
    shown = (describe(value) if isinstance(value, str)
             else document.source.get(loc) or describe(value))
    if len(shown) > 60:
        shown = f"{shown[:40]}... ({len(shown):,} characters)"
    if kind == "float_type" and isinstance(value, int) and not isinstance(value, bool):
        kind = "finite_number"  # an integer too large for a float, like 1e400
    if kind == "extra_forbidden":
        known = _known_keys(loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else f"; known keys: {', '.join(known)}"
        return document.diagnostic(loc, f"unknown key {loc[-1]!r}{hint}", key=True)
    if kind == "missing":
        return document.diagnostic(loc[:-1], f"missing required key {loc[-1]!r}")
    if "field" in ctx:
        loc = (*loc, ctx["field"])
    message = _MESSAGES.get(kind)
    if message is not None:
        text = message.format(got=shown, **ctx)
    elif kind == "literal_error":
        text = _literal_message(value, ctx.get("expected", ""), shown)
    else:
        text = error["msg"]
    return document.diagnostic(loc, text)


def _literal_message(value: Any, expected: str, shown: str) -> str:
    choices = re.findall(r"'([^']*)'", expected) or re.findall(r"\d+", expected)
    close = (difflib.get_close_matches(str(value), choices, n=1, cutoff=0.6)
             if isinstance(value, str) else [])
    hint = f"; did you mean {close[0]!r}?" if close else ""
    if isinstance(value, str):
        shown = repr(value)
    if len(choices) > 6:
        return f"unknown easing {shown}{hint} (`kldemo easings` lists them)"
    return f"must be one of {', '.join(choices)} (got {shown}){hint}"


_MESSAGES = {
    "float_type": "must be a number (got {got})",
    "int_type": "must be a whole number (got {got})",
    "string_type": "must be a string (got {got})",
    "bool_type": "must be true or false (got {got})",
    "list_type": "must be a list (got {got})",
    "tuple_type": "must be a list of two numbers, [low, high] (got {got})",
    "model_type": "must be a mapping of keys to values (got {got})",
    "dict_type": "must be a mapping of keys to values (got {got})",
    "finite_number": "must be a finite number (got {got})",
    "greater_than": "must be > {gt:g} (got {got})",
    "greater_than_equal": "must be >= {ge:g} (got {got})",
    "less_than": "must be < {lt:g} (got {got})",
    "less_than_equal": "must be <= {le:g} (got {got})",
    "too_short": "must have at least {min_length} item(s) (got {actual_length})",
    "too_long": "must have at most {max_length} items (got {actual_length})",
    "string_too_long": "must be at most {max_length} characters long",
}
