"""Loading a keyframe file: safe YAML, then the specs, with every error at once.

:func:`load_config` reads the file with source positions (:mod:`kldemo.config.yamlfile`),
checks it against :class:`~kldemo.config.spec.ConfigSpec`, and reports every problem as
``FILE:LINE:COL: error: PATH: MESSAGE``. The rules that span keyframes are checked by the
timeline (:func:`kldemo.timeline.load`, what every command calls).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ValidationError

from kldemo.config import messages
from kldemo.config.estimate import Estimate
from kldemo.config.spec import ConfigSpec, EasingName
from kldemo.config.yamlfile import DocPath, YamlDocument, document_from_data, read_yaml
from kldemo.errors import MAX_REPORTED, ConfigError, Diagnostic


@dataclass(frozen=True, eq=False)
class SampledP:
    """p given as data: the file named by ``p.samples``, its samples (N, dims), and the
    Gaussian mixture estimated from them (:mod:`kldemo.config.estimate`)."""

    path: Path
    samples: np.ndarray
    estimate: Estimate


@dataclass(frozen=True)
class LoadedConfig:
    """A valid config, with the file it came from; ``data`` where p is given as data."""

    path: Path
    model: ConfigSpec
    document: YamlDocument
    data: SampledP | None = None

    @property
    def name(self) -> str:
        return self.path.stem


#: A keyframe file's path, or a config given as a dict (the Python API's), checked alike.
ConfigSource = str | os.PathLike[str] | Mapping[str, Any]


def load_config(source: ConfigSource) -> LoadedConfig:
    """Read a keyframe file and check its format; raise ConfigError with every problem found.

    ``source`` may also be the config as a dict, checked by the same code: its diagnostics
    name ``<dict>`` (without lines), and its path is ``<dict>``, whose folder is the working
    one. The rules that span keyframes are the timeline's (:func:`kldemo.timeline.load`
    checks both: what every command calls)."""
    if isinstance(source, Mapping):
        document = document_from_data(source)
        path = Path(document.file)
    else:
        path = Path(source)
        document = read_yaml(path)
    if not isinstance(document.data, dict):
        raise ConfigError(
            [
                document.diagnostic(
                    (),
                    f"the top level must be a mapping with keys such as p, q and keyframes "
                    f"(got {messages.describe(document.data)})",
                )
            ]
        )
    try:
        model = ConfigSpec.model_validate(document.data)
    except ValidationError as error:
        # Only the errors shown are worded (a did-you-mean costs time): the first in the file.
        errors = sorted(error.errors(), key=lambda e: document.location(tuple(e["loc"])) or (0, 0))
        shown = [_diagnostic(document, e) for e in errors[:MAX_REPORTED]]
        raise ConfigError(shown, total=len(errors)) from None
    data = _sampled_p(document, model) if model.p.samples is not None else None
    return LoadedConfig(path, model, document, data)


def _sampled_p(document: YamlDocument, model: ConfigSpec) -> SampledP:
    """Read p's samples (beside the config unless absolute; as many columns as q has
    dimensions) and estimate its density, the estimate cached in the user cache folder by
    the samples' values and the settings."""
    from kldemo.config.data import NamedAt, data_path, read_samples
    from kldemo.config.estimate import estimate_density
    from kldemo.storage.cache import default_cache_dir

    assert model.p.samples is not None
    path = data_path(model.p.samples, document.file)
    # Where q's form shows the file's dimension, data of the other is refused in the data
    # file itself, at its first row, and is never fitted.
    samples = read_samples(path, model.q.dims(), NamedAt.of(document, ("p", "samples")))
    given = "components" in model.p.model_fields_set
    estimate = estimate_density(
        samples,
        model.p.components or "auto",
        components_at=NamedAt.of(document, ("p", "components") if given else ("p", "samples")),
        cache_dir=default_cache_dir(),
    )
    return SampledP(path, samples, estimate)


def _diagnostic(document: YamlDocument, error: Any) -> Diagnostic:
    """A pydantic error as a Diagnostic with the position of the value in the file."""
    loc: DocPath = tuple(error["loc"])
    kind, ctx = error["type"], error.get("ctx") or {}
    value = error.get("input")
    shown = messages.shortened(
        messages.describe(value)
        if isinstance(value, str)
        else document.source.get(loc) or messages.describe(value)
    )
    if kind == "float_type" and isinstance(value, int) and not isinstance(value, bool):
        kind = "finite_number"  # an integer too large for a float, like 1e400
    if kind == "extra_forbidden":
        text = messages.unknown_key(str(loc[-1]), _known_keys(loc[:-1]))
        return document.diagnostic(loc, text, key=True)
    if kind == "missing":
        return document.diagnostic(loc[:-1], f"missing required key {loc[-1]!r}")
    if "field" in ctx:
        loc = (*loc, ctx["field"])
    message = messages.MESSAGES.get(kind)
    if message is not None:
        text = message.format(got=shown, **ctx)
    elif kind == "literal_error":
        text = messages.not_a_choice(
            value, ctx.get("expected", ""), shown, easing=_holds(_annotation_at(loc), EasingName)
        )
    else:
        text = error["msg"]
    return document.diagnostic(loc, text)


def _known_keys(path: DocPath) -> list[str]:
    """The keys allowed in the mapping at ``path``, found by walking the specs."""
    model = _model_in(_annotation_at(path)) if path else ConfigSpec
    return list(model.model_fields) if model is not None else []


def _annotation_at(path: DocPath) -> Any:
    """The type of the field at ``path`` (list indices skipped), or None if there is none."""
    annotation: Any = ConfigSpec
    for part in path:
        if isinstance(part, int):
            continue
        model = _model_in(annotation)
        if model is None or part not in model.model_fields:
            return None
        annotation = model.model_fields[part].annotation
    return annotation


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The spec a field holds, looking inside Optional, list and Annotated."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        if (found := _model_in(arg)) is not None:
            return found
    return None


def _holds(annotation: Any, wanted: Any) -> bool:
    """Whether a field's type is ``wanted``, or ``wanted`` inside Optional, list and the like."""
    if annotation is None:
        return False
    return annotation == wanted or any(
        _holds(arg, wanted) for arg in getattr(annotation, "__args__", ()) if arg is not annotation
    )
