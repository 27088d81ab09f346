"""The Python API: kldemo's commands as functions that return data, for scripts and notebooks.

``render``, ``still``, ``kl`` and ``validate`` do what the commands of the same names do,
through the same rooms, and take a config as a path or as a dict (checked by the same code
as a file: its diagnostics name ``<dict>``). Nothing is printed: a bad config raises
:class:`~kldemo.errors.ConfigError` with every diagnostic, options that cannot work raise
:class:`~kldemo.errors.UsageError`, a fit that stopped early is a :class:`FitWarning`, and
the results display themselves in Jupyter (a video player, the image, a table).

The API is a top room, beside the CLI: it imports the rooms below it, and the heavy ones
(the timeline, manim) only inside the calls that need them, so that ``import kldemo`` stays
light.
"""

from __future__ import annotations

import base64
import difflib
import html
import io
import json
import math
import os
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from numbers import Real
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from kldemo.errors import UsageError
from kldemo.rendering.formats import FORMATS, VIDEO_FORMATS
from kldemo.rendering.options import (
    FPS_RANGE,
    LABELS,
    MAX_HEIGHT,
    MAX_WIDTH,
    MIN_SIDE,
    QUALITIES,
    RenderOptions,
)
from kldemo.rendering.progress import MODES

if TYPE_CHECKING:
    from kldemo.config.load import ConfigSource
    from kldemo.rendering.slides import Slideshow
    from kldemo.timeline import Loaded

#: Videos up to this size are embedded in the notebook (a data: URL); larger ones are linked.
EMBED_LIMIT = 2 * 2**20
MIME = {
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "webm": "video/webm",
    "gif": "image/gif",
    "png": "image/png",
}


class FitWarning(UserWarning):
    """A fit keyframe that stopped before converging: the video is made, the fit is not done."""


# -- options: the CLI's, by their long names ------------------------------------------

# What each call takes, as the command of its name does (``format`` is ``fmt``).
RENDER_OPTIONS = (
    "fmt",
    "quality",
    "fps",
    "resolution",
    "transparent",
    "labels",
    "jobs",
    "no_cache",
    "cache_dir",
    "contact_sheet",
    "slides",
    "subtitles",
    "progress",
    "verbose",
)
STILL_OPTIONS = (
    "quality",
    "fps",
    "resolution",
    "transparent",
    "labels",
    "cache_dir",
    "verbose",
)  # and bare, a keyword of still() itself


def _choice(name: str, value: Any, choices: Iterable[str]) -> str:
    choices = tuple(choices)
    if value not in choices:
        raise UsageError(f"{name}={value!r}: choose one of {', '.join(map(repr, choices))}")
    return value


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise UsageError(f"{name}={value!r}: must be True or False")
    return value


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise UsageError(f"{name}={value!r}: must be a number")
    return float(value)


def _fps(value: Any) -> float:
    fps = _number("fps", value)
    if not FPS_RANGE[0] <= fps <= FPS_RANGE[1]:
        raise UsageError(f"fps={value!r}: must be from {FPS_RANGE[0]} to {FPS_RANGE[1]}")
    return fps


def _resolution(value: Any) -> tuple[int, int]:
    """``(W, H)``, or ``"W,H"`` as on the command line."""
    sides = value.replace("x", ",").split(",") if isinstance(value, str) else value
    try:
        width, height = (
            int(v) if isinstance(v, str) or float(v).is_integer() else None for v in sides
        )
    except (TypeError, ValueError):
        width = height = None
    if width is None or height is None or isinstance(value, bool):
        raise UsageError(f"resolution={value!r}: write it as (W, H), e.g. (1920, 1080)")
    if not (MIN_SIDE <= width <= MAX_WIDTH and MIN_SIDE <= height <= MAX_HEIGHT):
        raise UsageError(
            f"resolution={value!r}: each side must be from {MIN_SIDE} to "
            f"{MAX_WIDTH} ({MAX_HEIGHT} high)"
        )
    return width, height


def _jobs(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UsageError(f"jobs={value!r}: must be a whole number of workers, 1 or more")
    return value


def _folder(value: Any) -> Path:
    if not isinstance(value, str | os.PathLike):
        raise UsageError(f"cache_dir={value!r}: must be a path")
    return Path(value)


CHECKS = {
    "fmt": lambda v: _choice("format", v, FORMATS),
    "quality": lambda v: _choice("quality", v, QUALITIES),
    "fps": _fps,
    "resolution": _resolution,
    "labels": lambda v: _choice("labels", v, LABELS),
    "jobs": _jobs,
    "cache_dir": _folder,
    "progress": lambda v: _choice("progress", v, MODES),
}


def render_options(
    command: str, allowed: tuple[str, ...], output: Any, given: dict[str, Any]
) -> RenderOptions:
    """The options of one call, each checked as the CLI checks it; None means the default.

    ``format`` is accepted for ``fmt``. Options of RenderOptions that no check knows (a
    feature newer than this list) are passed on as given, booleans checked as such.
    """
    given = dict(given)
    if "format" in given:
        if "fmt" in given:
            raise UsageError("give format= or fmt=, not both")
        given["fmt"] = given.pop("format")
    known = {f.name: f for f in fields(RenderOptions)}
    for name in given:
        if name not in allowed:
            close = difflib.get_close_matches(name, allowed, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise UsageError(
                f"{command}() takes no option {name!r}{hint} (its options: {', '.join(allowed)})"
            )
    settled: dict[str, Any] = {}
    for name, value in given.items():
        if value is None:
            continue
        if name in CHECKS:
            settled[name] = CHECKS[name](value)
        elif isinstance(known[name].default, bool):
            settled[name] = _flag(name, value)
        else:
            settled[name] = value
    if output is not None:
        if not isinstance(output, str | os.PathLike):
            raise UsageError(f"output={output!r}: must be a path")
        settled["output"] = Path(output)
    return RenderOptions(**{"progress": "none", **settled})


def _source(config: Any) -> ConfigSource:
    """A path or a dict; anything else is refused before it is read."""
    if isinstance(config, Mapping):
        return config
    if isinstance(config, str | os.PathLike):
        return Path(config)
    raise UsageError(
        f"config={config!r}: give the path of a keyframe file, or the config as a dict"
    )


def _named(source: ConfigSource, output: Path | None, what: str) -> Path:
    """The path outputs are named after; a dict has none, so it needs ``output``."""
    from kldemo.config.yamlfile import DICT_SOURCE
    from kldemo.rendering.outputs import names_folder

    if isinstance(source, Mapping):
        if output is None or names_folder(output):
            named = "" if output is None else f"output={str(output)!r} names a folder, and "
            raise UsageError(
                f"{named}a config given as a dict has no file name to name the "
                f"{what} after: pass output=..., e.g. output='media/lecture.mp4'"
            )
        return Path(DICT_SOURCE)  # never used: output names the file
    return Path(source)


def _load(source: ConfigSource) -> Loaded:
    from kldemo.timeline import load

    loaded = load(source)
    for warning in loaded.timeline.fit_warnings():
        warnings.warn(f"{loaded.path}: {warning}", FitWarning, stacklevel=3)
    return loaded


# -- the calls ----------------------------------------------------------------------


def validate(config: str | os.PathLike[str] | Mapping[str, Any]) -> None:
    """Check a config as ``kldemo validate`` does: returns None when it is valid, raises
    ConfigError with every diagnostic when it is not (``error.diagnostics``; ``str(error)``
    is the lines the CLI prints)."""
    from kldemo.timeline import load

    load(_source(config))


def kl(
    config: str | os.PathLike[str] | Mapping[str, Any],
    at: float | Iterable[float] = (),
    every: float | None = None,
) -> KLRows:
    """The divergences without rendering, as ``kldemo kl --format json`` gives them: by
    default at t = 0 and the end of each transition; at ``at`` (one time or several) and
    every ``every`` seconds when given. Returns the JSON's rows as a list of dicts, which
    a notebook shows as a table."""
    from kldemo.plan.table import kl_rows, write_rows

    times = [at] if isinstance(at, Real) else list(at)
    for t in times:
        _number("at", t)
    if every is not None and _number("every", every) <= 0:
        raise UsageError(f"every={every!r}: must be a number of seconds > 0")
    loaded = _load(_source(config))
    _within(loaded, times, "at")
    rows = kl_rows(loaded.timeline, at=times, every=every)
    # Through the CLI's own JSON, so that the rows are the command's, key for key.
    text = io.StringIO()
    write_rows(text, loaded.config, rows, "json")
    document = json.loads(text.getvalue())
    return KLRows(document["rows"], duration=document["duration"])


def still(
    config: str | os.PathLike[str] | Mapping[str, Any],
    at: float,
    output: str | os.PathLike[str] | None = None,
    *,
    bare: bool = False,
    **options: Any,
) -> StillResult:
    """The frame the video shows at ``at`` seconds, written as ``kldemo still`` does: PNG,
    or SVG and PDF by ``output``'s suffix (default ``media/<name>-<T>.png``; a dict needs
    ``output``). ``bare`` leaves out the title and caption. Options: those of
    :data:`STILL_OPTIONS`, as the command's (``quality='h'`` by default)."""
    from kldemo.rendering.outputs import still_output
    from kldemo.rendering.still import render_still

    chosen = render_options("still", STILL_OPTIONS, output, {"quality": "h", **options})
    _flag("bare", bare)
    _number("at", at)
    source = _source(config)
    target = still_output(_named(source, chosen.output, "still"), float(at), chosen.output)
    loaded = _load(source)
    _within(loaded, [at], "at")
    path = render_still(loaded, float(at), target, chosen, bare=bare)
    return StillResult(path, float(at), chosen.size, tuple(loaded.timeline.fit_warnings()))


def render(
    config: str | os.PathLike[str] | Mapping[str, Any],
    output: str | os.PathLike[str] | None = None,
    **options: Any,
) -> RenderResult:
    """Render a config as ``kldemo render`` does (default ``media/<name>.<ext>``; a dict
    needs ``output``), and return what was written. Options: those of
    :data:`RENDER_OPTIONS`, named as the command's long options (``quality='l'``,
    ``resolution=(854, 480)``, ``format='webm'``, ``no_cache=True``, ...); ``progress``
    is ``'none'`` unless given. Nothing is written for a bad config or bad options."""
    from kldemo.batch.run import check_targets, plan_outputs, render_checked
    from kldemo.rendering.progress import Progress
    from kldemo.rendering.subtitles import subtitle_paths

    chosen = render_options("render", RENDER_OPTIONS, output, options)
    source = _source(config)
    named = _named(source, chosen.output, "video")
    # The batch's own checks of a one-config batch: the format, the frame rate, what the
    # extras need, and the files they write.
    ((target, fmt),) = plan_outputs([named], chosen).values()
    chosen = chosen.for_format(fmt)
    loaded = _load(source)
    check_targets(target, chosen)
    progress = Progress.create(chosen.progress)
    done, slides = render_checked(loaded, chosen, target, fmt, progress)
    return RenderResult(
        path=done.output,
        format=fmt,
        duration=done.length,
        frames=round(done.length * chosen.frame_rate),
        size=chosen.size,
        fps=chosen.frame_rate,
        status="cached" if done.from_cache else "ok",
        segments=done.segments,
        rendered=done.rendered,
        seconds=done.seconds,
        contact_sheet=done.contact_sheet,
        slides=slides,
        subtitles=subtitle_paths(target) if chosen.subtitles else (),
        warnings=tuple(loaded.timeline.fit_warnings()),
    )


def _within(loaded: Loaded, times: Iterable[float], name: str) -> None:
    end = loaded.timeline.duration
    for t in times:
        if not 0 <= t <= end:
            raise UsageError(f"{name}={t!r}: the video runs from 0 to {end:g} s")


# -- results ------------------------------------------------------------------------


@dataclass(frozen=True)
class RenderResult:
    """What ``render`` wrote. A path-like (``open(result)`` works); in Jupyter it shows as
    a player: ``<video controls>`` (``<img>`` for gif and png)."""

    path: Path
    format: str
    duration: float  # seconds of video
    frames: int
    size: tuple[int, int]
    fps: float
    status: str  # ok, or cached: every segment came from the cache
    segments: int  # 0 for png: one frame
    rendered: int  # segments drawn; the rest came from the cache
    seconds: float  # of work
    contact_sheet: Path | None = None
    slides: Slideshow | None = None  # with slides=True: the JSON, the HTML, the clips
    subtitles: tuple[Path, ...] = ()  # with subtitles=True: NAME.srt and NAME.vtt
    warnings: tuple[str, ...] = ()

    def __fspath__(self) -> str:
        return str(self.path)

    def html(self, embed: bool | None = None) -> str:
        """The HTML that shows the file. ``embed`` puts the file in the page as a data:
        URL, so that the notebook carries it; by default files up to EMBED_LIMIT (2 MiB)
        are embedded, larger ones linked by their path relative to the working folder
        (Jupyter's: the notebook's folder)."""
        if embed is None:
            embed = self.path.stat().st_size <= EMBED_LIMIT
        source = _source_url(self.path, MIME[self.format], embed)
        width = self.size[0]
        if self.format in VIDEO_FORMATS and self.format != "gif":
            return (
                f'<video controls loop src="{source}" width="{width}" '
                f'style="max-width: 100%">{html.escape(str(self.path))}</video>'
            )
        return (
            f'<img src="{source}" width="{width}" style="max-width: 100%" '
            f'alt="{html.escape(str(self.path))}">'
        )

    def _repr_html_(self) -> str:
        return self.html()


@dataclass(frozen=True)
class StillResult:
    """What ``still`` wrote: a path; in Jupyter, the image itself (PNG or SVG)."""

    path: Path
    at: float
    size: tuple[int, int]
    warnings: tuple[str, ...] = ()

    def __fspath__(self) -> str:
        return str(self.path)

    def _repr_png_(self) -> bytes | None:
        return self.path.read_bytes() if self.path.suffix.lower() == ".png" else None

    def _repr_svg_(self) -> str | None:
        if self.path.suffix.lower() != ".svg":
            return None
        return self.path.read_text(encoding="utf-8")


def _source_url(path: Path, mime: str, embed: bool) -> str:
    if embed:
        return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"
    absolute = path.resolve()
    try:
        shown = absolute.relative_to(Path.cwd().resolve())
    except ValueError:
        shown = absolute  # outside the working folder: a notebook server cannot serve it
    return html.escape(quote(shown.as_posix()))


class KLRows(list):  # type: ignore[type-arg]
    """The rows of ``kl``: a plain list of the JSON's dicts, shown in Jupyter as a table."""

    def __init__(self, rows: Iterable[dict[str, Any]], duration: float):
        super().__init__(rows)
        self.duration = duration

    def _repr_html_(self) -> str:
        if not self:
            return "<p>no rows</p>"
        columns = list(self[0])
        head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(_cell(c, row[c]))}</td>" for c in columns) + "</tr>"
            for row in self
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell(column: str, value: Any) -> str:
    """A table cell as the CLI's table reads: numbers to 4 significant figures, a mixture
    as its parameters, the initial state's keyframe as ``start``."""
    if column == "keyframe" and value is None:
        return "start"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict) and "means" in value:
        spread = ("Σ", "covs") if "covs" in value else ("σ", "stds")
        text = (
            f"μ=[{_numbers(value['means'])}] {spread[0]}=[{_numbers(value[spread[1]])}] "
            f"w=[{_numbers(value['weights'])}]"
        )
        estimate = value.get("estimate")
        if estimate:  # a p estimated from data says so
            text += f" ({estimate['method']}, K={estimate['components']}, n={estimate['samples']})"
        return text
    return "" if value is None else str(value)


def _numbers(values: Any) -> str:
    """Numbers, pairs and matrices as the table reads them: 4 significant figures, nested
    lists in brackets."""
    return ", ".join(f"[{_numbers(v)}]" if isinstance(v, list) else f"{v:.4g}" for v in values)


__all__ = [
    "FitWarning",
    "KLRows",
    "RenderResult",
    "StillResult",
    "kl",
    "render",
    "still",
    "validate",
]
