"""Rendering many configs: outputs decided over the whole list, shards, the report, and
the exit status. One bad file does not stop the others."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from kldemo.errors import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_OK,
    ConfigError,
    Diagnostic,
    RenderError,
    UsageError,
)
from kldemo.rendering.options import RenderOptions
from kldemo.rendering.outputs import contact_sheet_path, names_folder, output_format, output_path
from kldemo.rendering.progress import Progress
from kldemo.rendering.slides import (
    Slideshow,
    require_manim_slides,
    slide_paths,
    write_slides,
)
from kldemo.rendering.subtitles import subtitle_paths
from kldemo.storage.files import check_writable

if TYPE_CHECKING:
    from kldemo.rendering.job import Rendered
    from kldemo.timeline import Loaded


@dataclass
class Outcome:
    """What became of one config."""

    config: Path
    status: str  # ok, cached, invalid, failed
    output: Path | None = None
    length: float | None = None
    seconds: float = 0.0
    errors: list[Diagnostic] | None = None
    segments: int = 0
    rendered: int = 0
    contact_sheet: Path | None = None
    warnings: list[str] = field(default_factory=list)  # e.g. a fit that did not converge
    slides: Slideshow | None = None  # with --slides: what was written


def shard(configs: list[Path], index: int, count: int) -> list[Path]:
    """Slice ``index`` (1-based) of ``count`` of the configs sorted by path."""
    ordered = sorted(configs, key=lambda p: p.as_posix())
    size, extra = divmod(len(ordered), count)
    start = (index - 1) * size + min(index - 1, extra)
    return ordered[start : start + size + (1 if index <= extra else 0)]


def plan_outputs(configs: list[Path], options: RenderOptions) -> dict[Path, tuple[Path, str]]:
    """Each config's output file and format, checked before anything renders.

    Decided over every config given, before ``--shard`` picks a slice, so that each shard
    of a CI matrix names its outputs alike and refuses the same collisions.
    """
    several = len(configs) > 1
    if several and options.output is not None and not names_folder(options.output):
        raise UsageError(
            f"-o {options.output}: with several configs, -o names a folder "
            "(one that exists, or a name without a suffix)"
        )
    if options.slides:
        require_manim_slides()
    outputs: dict[Path, tuple[Path, str]] = {}
    writers: dict[Path, Path] = {}  # every file a config writes -> that config
    for config in sorted(dict.fromkeys(configs), key=lambda p: p.as_posix()):
        fmt = output_format(options, None if several else options.output)
        options.for_format(fmt)  # an impossible frame rate is refused before anything renders
        target = output_path(config, options, fmt, several)
        written = [target, contact_sheet_path(target)] if options.contact_sheet else [target]
        if options.slides:
            written += slide_paths(target)
        if options.subtitles:
            if fmt == "png":
                raise UsageError(
                    "--subtitles: a png is one frame, with no time to caption; "
                    "render a video (mp4, mov, webm or gif)"
                )
            written += subtitle_paths(target)
        for path in written:
            other = writers.setdefault(path.resolve(), config)
            if other != config:
                raise UsageError(
                    f"{other} and {config} would both write {path}; rename one of them, "
                    "or render them in separate runs with different -o folders"
                )
        outputs[config] = (target, fmt)
    return outputs


def check_targets(target: Path, options: RenderOptions) -> None:
    """That the video and, with slides, their JSON and HTML can be written: before the work."""
    check_writable(target)
    for path in slide_paths(target)[:2] if options.slides else ():
        check_writable(path)


def render_checked(
    loaded: Loaded, options: RenderOptions, target: Path, fmt: str, progress: Progress
) -> tuple[Rendered, Slideshow | None]:
    """Render a checked config into ``target``, with its contact sheet and slides when
    asked for; raises what the render raises (:func:`render_one` turns it into an
    outcome, the Python API lets it through)."""
    from kldemo.rendering.job import render_config

    sheet = contact_sheet_path(target) if options.contact_sheet else None
    done = render_config(loaded, options, target, fmt, progress, contact_sheet=sheet)
    slides = write_slides(loaded, options, target, fmt, progress) if options.slides else None
    return done, slides


def render_one(
    config: Path, options: RenderOptions, target: Path, fmt: str, progress: Progress
) -> Outcome:
    """Load, render and (with --contact-sheet) draw the sheet of one config.

    A bad file is ``invalid`` and a render that raises is ``failed``, with their errors;
    neither is raised, so that the other configs of a batch go on.
    """
    from kldemo.timeline import load

    began = time.perf_counter()
    options = options.for_format(fmt)
    try:
        loaded = load(config)
        check_targets(target, options)  # before the work, not after it
        warnings = loaded.timeline.fit_warnings()
        for warning in warnings:
            progress.error(f"{config}: warning: {warning}")
        done, slides = render_checked(loaded, options, target, fmt, progress)
        outcome = Outcome(
            config,
            "cached" if done.from_cache else "ok",
            done.output,
            done.length,
            done.seconds,
            segments=done.segments,
            rendered=done.rendered,
            contact_sheet=done.contact_sheet,
            warnings=warnings,
            slides=slides,
        )
    except ConfigError as error:
        for diagnostic in error.diagnostics:
            progress.error(str(diagnostic))
        outcome = Outcome(config, "invalid", errors=list(error.diagnostics))
    except (KeyboardInterrupt, SystemExit, UsageError):
        raise
    except Exception as error:  # a failed render must not stop the other configs
        failure = Diagnostic(
            str(config),
            None,
            None,
            "",
            str(error)
            if isinstance(error, RenderError)
            else f"render failed: {type(error).__name__}: {error}",
        )
        progress.error(str(failure))
        if options.verbose:
            import traceback

            traceback.print_exc()
        outcome = Outcome(config, "failed", errors=[failure])
    outcome.seconds = outcome.seconds or time.perf_counter() - began
    return outcome


def exit_status(outcomes: list[Outcome]) -> int:
    """2 if any config was invalid, else 1 if any render failed, else 0."""
    if any(o.status == "invalid" for o in outcomes):
        return EXIT_BAD_INPUT
    if any(o.status == "failed" for o in outcomes):
        return EXIT_FAILED
    return EXIT_OK


def render_many(configs: list[Path], options: RenderOptions) -> int:
    """Render every config; one bad file does not stop the others. Returns the exit status."""
    from kldemo.batch.report import write_report

    outputs = plan_outputs(configs, options)
    chosen = list(outputs)
    if options.shard:
        chosen = shard(chosen, *options.shard)
    progress = Progress.create(options.progress)
    if options.shard and not chosen:
        progress.note(
            f"shard {options.shard[0]}/{options.shard[1]}: no config in this slice "
            f"of {len(outputs)}"
        )
    outcomes = [render_one(config, options, *outputs[config], progress) for config in chosen]
    status = exit_status(outcomes)
    if options.report:
        write_report(options.report, outcomes, shard=options.shard, exit_status=status)
    if len(outputs) > 1:
        progress.summary(outcomes, "shard {}/{}: ".format(*options.shard) if options.shard else "")
    return status
