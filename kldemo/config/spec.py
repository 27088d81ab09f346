"""The keyframe file, format version 1, as strict typed specs (pydantic).

Each spec names the rule it checks in its validators; the rules of one mixture are checked
together, so that every problem is reported at once. Reading a file and turning pydantic's
errors into diagnostics is :mod:`kldemo.config.load`'s; the JSON Schema is generated from
these specs (:mod:`kldemo.config.schema`).
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from kldemo.config.rules import dimension_errors, plane_keys, rule
from kldemo.config.values import (
    BarMax,
    Color,
    ComponentCount,
    Covariance,
    Location,
    is_number,
    no_null,
)
from kldemo.core.easing import EASINGS
from kldemo.core.mixture import (
    MAX_COMPONENTS,
    MAX_KEYFRAMES,
    MAX_SECONDS,
    MAX_STD,
    MIN_STD,
    WEIGHT_SUM_TOLERANCE,
)
from kldemo.core.registry import DIVERGENCES

Number = Annotated[float, Field(allow_inf_nan=False)]
Std = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Weight = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Duration = Annotated[float, Field(gt=0, le=MAX_SECONDS, allow_inf_nan=False)]
Hold = Annotated[float, Field(ge=0, le=MAX_SECONDS, allow_inf_nan=False)]
EasingName = Literal[tuple(EASINGS)]  # type: ignore[valid-type]
Components = Field(min_length=1, max_length=MAX_COMPONENTS)
Direction = Literal["forward", "reverse"]
Parameter = Literal["means", "stds", "covs", "weights"]
Family = Literal["full", "diagonal"]
BarName = Literal[tuple(DIVERGENCES)]  # the registry's names, in its order
PanelName = Literal["integrand", "trace"]

SHORTHAND = {"mean": "means", "std": "stds", "cov": "covs"}
"""Each shorthand key of a mixture (one Gaussian), and the list it stands for."""
SHORTHAND_OF = {full: short for short, full in SHORTHAND.items()}
"""Each list of a mixture that has a shorthand, and that shorthand."""


def format_name(spec: type) -> str:
    """The name of a spec in the format and its schema: the class's, less ``Spec``."""
    return spec.__name__.removesuffix("Spec")


class _Model(BaseModel):
    model_config = ConfigDict(
        strict=True, extra="forbid", frozen=True, model_title_generator=format_name
    )

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        return no_null(value)


class MixtureChangeSpec(_Model):
    """A Gaussian mixture, or what a keyframe changes of one: only the named keys change.

    One mapping uses one form: the lists ``means``, ``stds`` (and ``weights``), or the
    shorthand ``mean`` and ``std`` for one Gaussian. In 2-D the means are pairs ``[x, y]``
    and ``covs`` (shorthand ``cov``) take the place of ``stds``. The rules between keys
    are checked on the raw mapping beside the per-key checks, so that every problem of
    one mixture is reported at once (a bad weight does not hide a length mismatch).
    """

    weights: Annotated[list[Weight], Components] | None = Field(
        default=None,
        description="each component's share of the mass, >= 0 and summing to 1 (within 1e-6, "
        "then normalised exactly); leave it out for equal weights",
        examples=[[0.5, 0.5]],
    )
    means: Annotated[list[Location], Components] | None = Field(
        default=None,
        description="each component's mean, within ±1e4: numbers, or pairs [x, y] in 2-D",
        examples=[[4, 6], [[-2, 0], [2, 0]]],
    )
    stds: Annotated[list[Std], Components] | None = Field(
        default=None,
        description="each component's standard deviation, from 1e-3 to 1e3",
        examples=[[0.75, 0.75]],
    )
    covs: Annotated[list[Covariance], Components] | None = Field(
        default=None,
        description="2-D: each component's covariance, a symmetric positive definite 2x2 "
        "matrix [[a, b], [b, c]] (condition number at most 1e8)",
        examples=[[[[1, 0.9], [0.9, 1]]]],
    )
    mean: Location | None = Field(
        default=None,
        description="shorthand: the mean of one Gaussian (a pair [x, y] in 2-D)",
        examples=[5, [0, 0]],
    )
    std: Std | None = Field(
        default=None, description="shorthand: the std of one Gaussian", examples=[1]
    )
    cov: Covariance | None = Field(
        default=None,
        description="2-D shorthand: the covariance of one Gaussian",
        examples=[[[1, 0], [0, 1]]],
    )

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

    @model_validator(mode="wrap")
    @classmethod
    def every_rule_at_once(cls, data: Any, handler: Any) -> Any:
        """The per-key errors and the rules between keys, together in one ValidationError."""
        rules = cls.rule_errors(data) if isinstance(data, dict) else []
        try:
            model = handler(data)
        except ValidationError as error:
            if not rules:
                raise
            raise ValidationError.from_exception_data(
                cls.__name__, [*map(_init_details, error.errors()), *rules]
            ) from None
        if rules:
            raise ValidationError.from_exception_data(cls.__name__, rules)
        return model

    @classmethod
    def rule_errors(cls, data: dict[Any, Any]) -> list[Any]:
        """The rules between keys, on the raw mapping (its values not yet checked)."""
        errors = []
        shorthand = [key for key in SHORTHAND if key in data]
        lists = [key for key in ("weights", "means", "stds", "covs") if key in data]
        for short in shorthand[:1]:  # one form or the other: said once per mapping
            full = SHORTHAND[short]
            if full in data:
                errors.append(
                    rule(
                        short,
                        data[short],
                        f"give either {short} (one Gaussian) or {full}, not both",
                    )
                )
            elif lists:
                errors.append(
                    rule(
                        short,
                        data[short],
                        f"{short} is shorthand for one Gaussian and cannot be mixed with "
                        f"{' or '.join(k for k in data if k in lists)} in one mapping: "
                        f"write {full}: [{_shown(data[short])}] "
                        f"instead, or use mean and std alone",
                    )
                )
        errors += dimension_errors(data)
        lengths = {key: len(v) for key in lists if isinstance(v := data[key], list)}
        if len(set(lengths.values())) > 1:
            said = ", ".join(f"{n} {key}" for key, n in lengths.items())
            last = list(lengths)[-1]
            errors.append(
                rule(
                    last,
                    data[last],
                    f"weights, means and {'covs' if 'covs' in lengths else 'stds'} must have one "
                    f"length (got {said})",
                )
            )
        weights = data.get("weights")
        if (
            isinstance(weights, list)
            and weights
            and all(_is_number(w) and 0 <= w <= 1 for w in weights)
        ):
            total = math.fsum(weights)
            if abs(total - 1) > WEIGHT_SUM_TOLERANCE:
                errors.append(
                    rule(
                        "weights",
                        weights,
                        (
                            f"must sum to 1 (they sum to {total:.12g}); leave weights out for "
                            "equal "
                            f"weights"
                        ),
                    )
                )
        return errors

    def given(self) -> dict[str, list[float]]:
        """The parameters this names, with the shorthand written out as one-item lists."""
        out = {
            key: list(v)
            for key in ("weights", "means", "stds", "covs")
            if (v := getattr(self, key)) is not None
        }
        for short, full in SHORTHAND.items():
            if (v := getattr(self, short)) is not None:
                out[full] = [v]
        return out

    def dims(self) -> int | None:
        """2 where the means are pairs or covariances are given, 1 where the means are
        numbers or stds are given; None where only weights are named."""
        given = self.given()
        if "covs" in given or any(isinstance(m, list) for m in given.get("means", ())):
            return 2
        return 1 if "means" in given or "stds" in given else None


class MixtureSpec(MixtureChangeSpec):
    """The initial state of a distribution: means and stds (covs in 2-D) required, weights
    uniform by default; or, for p, ``samples`` whose density is estimated."""

    samples: Annotated[str, Field(min_length=1, max_length=4096)] | None = Field(
        default=None,
        description="p from data: a CSV file (one column for 1-D, two for 2-D; an optional "
        "header row) or a .npy array of samples, relative to this file; p is then the density "
        "estimated from them, for the whole file",
        examples=["data/blobs.csv"],
    )
    density: Literal["gmm"] | None = Field(
        default=None,
        description="with samples: how p's density is estimated; gmm (the default) fits a "
        "Gaussian mixture by maximum likelihood",
        examples=["gmm"],
    )
    components: ComponentCount | None = Field(
        default=None,
        description="with samples: the estimate's number of components, 1 to 16, or auto (the "
        "default): the least BIC over 1 to 8",
        examples=[2, "auto"],
    )

    @classmethod
    def rule_errors(cls, data: dict[Any, Any]) -> list[Any]:
        if "samples" in data:
            return [
                rule(
                    key,
                    data[key],
                    f"p is estimated from its samples, so it takes no {key}: leave {key} out, "
                    "or leave samples out and write p's parameters",
                )
                for key in data
                if key in MixtureChangeSpec.model_fields
            ]
        errors = [
            rule(key, data[key], f"{key} belongs with samples: p: {{samples: FILE, {key}: ...}}")
            for key in ("density", "components")
            if key in data
        ]
        errors += super().rule_errors(data)
        short = SHORTHAND_OF
        plane = plane_keys(data)
        # The spread a mixture needs: stds on a line, covs in the plane.
        needed = ("means", "covs" if plane else "stds")
        missing = [key for key in needed if key not in data and short[key] not in data]
        if missing and set(data) <= set(cls.model_fields):  # else a misspelt key says it
            names = " and ".join(f"{k} (or {short[k]})" for k in missing)
            if "stds" in missing and plane is None:
                names += "; in 2-D, means as pairs [x, y] and covs (or cov)"
            errors.append(
                {
                    "type": PydanticCustomError("missing_param", f"needs {names}"),
                    "loc": (),
                    "input": data,
                }
            )
        return errors

    def component_count(self) -> int:
        return len(self.given()["means"])


_is_number = is_number


def _shown(value: Any) -> str:
    return f"{value:g}" if _is_number(value) else "..."


def _init_details(error: Any) -> dict[str, Any]:
    """An error pydantic reported, in the form it takes to report it again, unchanged."""
    ctx = error.get("ctx")
    message = error["msg"]
    return {
        "type": PydanticCustomError(error["type"], message, ctx),
        "loc": error["loc"],
        "input": error.get("input"),
        **({"ctx": ctx} if ctx else {}),
    }


class DefaultsSpec(_Model):
    """What each keyframe uses unless it says otherwise."""

    duration: Duration = Field(default=2.0, description="seconds per transition", examples=[2.75])
    hold: Hold = Field(
        default=0.5, description="seconds held still after each transition", examples=[0.75]
    )
    easing: EasingName = Field(
        default="smooth",
        examples=["linear"],
        description="a manim rate function name (`kldemo easings`)",
    )


class ViewSpec(_Model):
    """The axes' ranges; each defaults to one fitted to every state of the video."""

    x_range: Annotated[list[Number], Field(min_length=2, max_length=2)] | None = Field(
        default=None,
        description="[low, high] of the x axis; default: fitted to every state",
        examples=[[-1, 10]],
    )
    y_range: Annotated[list[Number], Field(min_length=2, max_length=2)] | None = Field(
        default=None,
        description="[low, high] of the density axis (in 2-D: of the plane's y axis, drawn at "
        "the x axis's scale); default: fitted to every state",
        examples=[[0, 1.0]],
    )

    @field_validator("x_range", "y_range")
    @classmethod
    def range_goes_up(cls, value: list[float] | None) -> list[float] | None:
        if value is not None and not value[0] < value[1]:
            raise PydanticCustomError(
                "range", f"must go up: [low, high] (got [{value[0]:g}, {value[1]:g}])"
            )
        return value


class StyleSpec(_Model):
    """Colours, theme, labels, the bars shown and their scale, and the optimum markers."""

    theme: Literal["dark", "light"] = Field(
        default="dark", description="the background and palette", examples=["light"]
    )
    p_color: Color | None = Field(
        default=None,
        examples=["#58C4DD", "BLUE"],
        description="the colour of p's curve and labels (default: the theme's, #58C4DD on dark, "
        "#1F6FB2 on light)",
    )
    q_color: Color | None = Field(
        default=None,
        examples=["#83C167", "GREEN"],
        description="the colour of q's curve and labels (default: the theme's, #83C167 on dark, "
        "#2A7D2E on light)",
    )
    labels: Literal["auto", "tex", "text"] = Field(
        default="auto",
        description="auto: LaTeX when installed, else Unicode text",
        examples=["text"],
    )
    bar_max: BarMax = Field(
        default="auto",
        description="nats at full bar height, or auto: the timeline's largest value",
        examples=["auto", 2.5],
    )
    bars: Annotated[list[BarName], Field(min_length=1)] = Field(
        json_schema_extra={"uniqueItems": True},
        default=["forward", "reverse"],
        description="the bars shown, in order: forward = KL(p‖q), reverse = KL(q‖p), js = "
        "Jensen-Shannon (nats), tv = total variation, hellinger = Hellinger distance",
        examples=[["forward", "reverse", "js"]],
    )
    markers: bool = Field(
        default=False,
        description="mark the forward-KL optimum and every reverse-KL local optimum over single "
        "Gaussians (dashed, labelled)",
        examples=[True],
    )
    caption_fade: Annotated[float, Field(ge=0, le=5, allow_inf_nan=False)] = Field(
        default=0.3,
        description="seconds over which a caption fades in where it appears and out where it "
        "goes (shortened to half its span when that is shorter); 0 cuts",
        examples=[0.5, 0],
    )
    contours: Literal["lines", "filled"] = Field(
        default="lines",
        description="2-D: draw the density contours (the regions holding 25, 50, 75 and 95% of "
        "each density's mass) as lines or filled",
        examples=["filled"],
    )
    digits: Annotated[int, Field(ge=1, le=8)] = Field(
        default=3,
        description="significant figures of the numbers above the bars (1 to 8)",
        examples=[5],
    )

    @field_validator("bars")
    @classmethod
    def bars_are_named_once(cls, bars: list[str]) -> list[str]:
        return _named_once(bars, "bar")


class KeyframeSpec(_Model):
    """One transition: what changes, how long it takes, then how long it holds still."""

    p: MixtureChangeSpec | None = Field(
        default=None,
        description="what changes of p; keys left out keep their value",
        examples=[{"means": [2, 8]}],
    )
    q: MixtureChangeSpec | None = Field(
        default=None,
        description="what changes of q; keys left out keep their value",
        examples=[{"mean": 2}],
    )
    duration: Duration | None = Field(
        default=None,
        description="seconds of this transition (default: defaults.duration)",
        examples=[1.5],
    )
    hold: Hold | None = Field(
        default=None,
        description="seconds held still after it (default: defaults.hold)",
        examples=[0],
    )
    easing: EasingName | None = Field(
        default=None,
        description="this transition's rate function (default: defaults.easing)",
        examples=["linear"],
    )
    caption: Annotated[str, Field(max_length=200)] | None = Field(
        default=None,
        description="text shown under the plot from this keyframe on, up to 200 characters",
        examples=["q sits on one mode"],
    )
    fit: Direction | None = Field(
        default=None,
        description="move q down the gradient of KL(p‖q) (forward) or KL(q‖p) (reverse) to a "
        "local optimum, at an even pace along the path (the easing maps time to the "
        "fraction of the path's length covered)",
        examples=["reverse"],
    )
    optimize: Annotated[list[Parameter], Field(min_length=1)] | None = Field(
        json_schema_extra={"uniqueItems": True},
        default=None,
        description="which of q's parameters a fit moves (default all; weights need two or more "
        "components; covs in 2-D)",
        examples=[["means", "stds"]],
    )
    family: Family | None = Field(
        default=None,
        description="2-D: the family a fit keeps q in: full covariances, or diagonal ones (the "
        "factorised, mean-field case; q must be diagonal when the fit starts); default full",
        examples=["diagonal"],
    )

    @field_validator("optimize")
    @classmethod
    def parameters_are_named_once(cls, names: list[str] | None) -> list[str] | None:
        return _named_once(names, "parameter") if names is not None else None

    @model_validator(mode="after")
    def a_fit_moves_only_q(self) -> KeyframeSpec:
        if self.fit is not None:
            for name in ("p", "q"):
                if getattr(self, name) is not None:
                    raise _field_error(
                        name,
                        f"a fit keyframe moves q itself, so it cannot also "
                        f"set {name}; make the change a keyframe of its own",
                    )
        else:
            for name in ("optimize", "family"):
                if getattr(self, name) is not None:
                    raise _field_error(
                        name,
                        f"{name} belongs to a fit keyframe: add fit: forward "
                        f"or fit: reverse, or remove {name}",
                    )
        return self


class ConfigSpec(_Model):
    """A kldemo keyframe file, format version 1."""

    model_config = ConfigDict(title="kldemo keyframe file (format version 1)")

    version: Literal[1] | None = Field(
        default=None, description="the format version; 1", examples=[1]
    )
    title: Annotated[str, Field(max_length=120)] | None = Field(
        default=None,
        description="shown above the plot for the whole video, up to 120 characters",
        examples=["KL divergence is asymmetric"],
    )
    p: MixtureSpec = Field(
        description="the target distribution's initial state",
        examples=[{"weights": [0.5, 0.5], "means": [4, 6], "stds": [0.75, 0.75]}],
    )
    q: MixtureSpec = Field(
        description="the approximation's initial state", examples=[{"mean": 5, "std": 1}]
    )
    defaults: DefaultsSpec = Field(
        default=DefaultsSpec(),
        description="what each keyframe uses unless it says otherwise",
        examples=[{"duration": 2.75, "hold": 0.75}],
    )
    view: ViewSpec = Field(
        default=ViewSpec(),
        description="the axes' ranges (default: fitted to every state)",
        examples=[{"x_range": [-1, 10], "y_range": [0, 1.0]}],
    )
    style: StyleSpec = Field(
        default=StyleSpec(),
        description="colours, theme, labels, bars and markers",
        examples=[{"theme": "light", "bars": ["forward", "reverse"]}],
    )
    panels: list[PanelName] = Field(
        json_schema_extra={"uniqueItems": True},
        default=[],
        description="small plots of their own: integrand (p·log(p/q) and q·log(q/p), "
        "whose signed areas are the two KLs), trace (both KLs against time)",
        examples=[["integrand"]],
    )
    keyframes: Annotated[list[KeyframeSpec], Field(max_length=MAX_KEYFRAMES)] = Field(
        default=[],
        description="the transitions, in order; empty: a still of defaults.hold seconds",
        examples=[[{"q": {"mean": 2}}, {"fit": "reverse"}]],
    )

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
