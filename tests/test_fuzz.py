"""Fuzzing the loader and validator: whatever the file holds, a valid config or a ConfigError.

Random YAML documents (from nested data, shaped like configs or not), random text and
bytes, and mutations of the example configs are each checked the way `kldemo validate`
checks a file (:func:`kldemo.timeline.load`). Every outcome must be a valid config or
a ConfigError whose every line reads `FILE:LINE:COL: error: ...` (or `FILE: error: ...`
where there is no line); any other exception, or a call over the deadline, fails.
Deterministic: hypothesis runs derandomized, so CI sees the same examples each time.
"""

from __future__ import annotations

import math
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kldemo.core.mixture import MAX_SECONDS
from kldemo.errors import ConfigError
from kldemo.timeline import Timeline, load

CONFIGS = sorted((Path(__file__).resolve().parent.parent / "configs").glob("*.yaml"))

FUZZ = settings(
    max_examples=150,
    deadline=2000,  # ms per example: a hang guard
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# -- the check ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="kldemo-fuzz-") as name:
        yield Path(name)


def check(folder: Path, data: bytes) -> None:
    """Load ``data`` as a config file: a valid config, or well-formed errors; nothing else."""
    path = folder / "fuzz.yaml"
    path.write_bytes(data)
    try:
        loaded = load(path).config
    except ConfigError as error:
        assert error.diagnostics, "a ConfigError with no diagnostics"
        line = re.compile(rf"^{re.escape(str(path))}(:[1-9]\d*:[1-9]\d*)?: error: \S.*$")
        for diagnostic in error.diagnostics:
            text = str(diagnostic)
            assert "\n" not in text and "\r" not in text, text
            assert line.match(text), text
        assert str(error) == "\n".join(map(str, error.diagnostics))
        return
    # Valid: the timeline it describes is within the limits.
    duration = Timeline.from_config(loaded.model).duration
    assert math.isfinite(duration)
    assert 0 < duration <= MAX_SECONDS


# -- random documents --------------------------------------------------------------------

KEYS = [
    "p",
    "q",
    "title",
    "version",
    "defaults",
    "view",
    "style",
    "keyframes",
    "weights",
    "means",
    "stds",
    "mean",
    "std",
    "duration",
    "hold",
    "easing",
    "caption",
    "x_range",
    "y_range",
    "theme",
    "p_color",
    "q_color",
    "labels",
    "bar_max",
    "mena",
    "<<",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(
        [
            0,
            1,
            -1,
            0.5,
            1e-3,
            1e3,
            1e4,
            3600,
            3601,
            "auto",
            "smooth",
            "linear",
            "dark",
            "#58C4DD",
            "BLUE",
            "tex",
            ".nan",
            "1e400",
            "",
        ]
    ),
    st.text(max_size=12),
)
keys = st.one_of(st.sampled_from(KEYS), st.text(max_size=8))
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=6),
        st.dictionaries(keys, inner, max_size=6),
    ),
    max_leaves=40,
)
mixtures = st.fixed_dictionaries(
    {},
    optional={
        "weights": st.lists(scalars | st.floats(0, 1), max_size=4),
        "means": st.lists(st.floats(-20, 20) | scalars, max_size=4),
        "stds": st.lists(st.floats(0, 5) | scalars, max_size=4),
        "mean": st.floats(-20, 20) | scalars,
        "std": st.floats(0, 5) | scalars,
    },
)
# Documents shaped like configs, so that validation gets past the top level.
config_like = st.fixed_dictionaries(
    {"p": mixtures, "q": mixtures},
    optional={
        "defaults": st.dictionaries(st.sampled_from(["duration", "hold", "easing", "x"]), scalars),
        "view": st.dictionaries(
            st.sampled_from(["x_range", "y_range"]),
            st.lists(st.floats(-10, 10) | scalars, max_size=3),
        ),
        "style": st.dictionaries(
            st.sampled_from(["theme", "p_color", "q_color", "labels", "bar_max"]), scalars
        ),
        "keyframes": st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "p": mixtures,
                    "q": mixtures,
                    "duration": st.floats(0, 100) | scalars,
                    "hold": st.floats(0, 100) | scalars,
                    "easing": st.sampled_from(
                        [
                            "smooth",
                            "linear",
                            "wiggle",
                            "running_start",
                            "ease_in_out_back",
                            "there_and_back",
                            "smoth",
                        ]
                    ),
                    "caption": scalars,
                },
            ),
            max_size=6,
        ),
        "extra": documents,
    },
)


def dump(document: object, flow: bool | None) -> bytes:
    return yaml.safe_dump(document, default_flow_style=flow, allow_unicode=True).encode("utf-8")


@FUZZ
@given(document=documents | config_like, flow=st.sampled_from([None, True, False]))
def test_random_documents(folder, document, flow):
    check(folder, dump(document, flow))


@FUZZ
@given(text=st.text(max_size=400))
def test_random_text(folder, text):
    check(folder, text.encode("utf-8"))


@FUZZ
@given(data=st.binary(max_size=400))
def test_random_bytes(folder, data):
    check(folder, data)


# -- mutations of the example configs ----------------------------------------------------


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True)


@st.composite
def mutated_configs(draw: st.DrawFn) -> bytes:
    data = draw(st.sampled_from(CONFIGS)).read_bytes()
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(
            st.sampled_from(
                [
                    "delete-line",
                    "replace-value",
                    "duplicate-line",
                    "insert-tab",
                    "truncate",
                    "flip-byte",
                ]
            )
        )
        lines = _lines(data)
        if kind == "delete-line" and lines:
            del lines[draw(st.integers(0, len(lines) - 1))]
            data = b"".join(lines)
        elif kind == "replace-value":
            keyed = [i for i, line in enumerate(lines) if b": " in line]
            if keyed:
                i = draw(st.sampled_from(keyed))
                value = yaml.safe_dump(draw(documents), default_flow_style=True, width=10**6)
                value = value.strip().removesuffix("...").strip().replace("\n", " ")
                head = lines[i].split(b": ", 1)[0]
                lines[i] = head + b": " + value.encode("utf-8") + b"\n"
                data = b"".join(lines)
        elif kind == "duplicate-line" and lines:
            i = draw(st.integers(0, len(lines) - 1))
            lines.insert(i, lines[i])
            data = b"".join(lines)
        elif kind == "insert-tab":
            i = draw(st.integers(0, len(data)))
            data = data[:i] + b"\t" + data[i:]
        elif kind == "truncate":
            data = data[: draw(st.integers(0, len(data)))]
        elif kind == "flip-byte" and data:
            i = draw(st.integers(0, len(data) - 1))
            data = data[:i] + bytes([data[i] ^ (1 << draw(st.integers(0, 7)))]) + data[i + 1 :]
    return data


@FUZZ
@given(data=mutated_configs())
def test_mutated_example_configs(folder, data):
    check(folder, data)


def test_the_examples_themselves_pass_the_check(folder):
    # The mutations start from valid files, which the check accepts as valid.
    for config in CONFIGS:
        load(config)
        check(folder, config.read_bytes())
