"""The command line: parses options and calls the rooms that do the work.

``--help``, ``validate``, ``kl`` and ``schema`` never import manim: rendering modules are
imported inside the commands that render; at import, only the light lists the options offer
(formats, presets, labels, progress modes) are read from the rooms that decide them.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from kldemo import __version__
from kldemo.errors import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_TERMINATED,
    ConfigError,
    OutputError,
    RenderError,
    Terminated,
    UsageError,
)
from kldemo.rendering.formats import FORMATS
from kldemo.rendering.options import (
    FPS_RANGE,
    LABELS,
    MAX_HEIGHT,
    MAX_WIDTH,
    MIN_SIDE,
    QUALITIES,
)
from kldemo.rendering.progress import MODES


def _on_sigterm(signum: int, frame: Any) -> None:
    raise Terminated


ConfigPath = click.Path(dir_okay=True, path_type=Path)


def _report_config_error(error: ConfigError) -> None:
    for diagnostic in error.diagnostics:
        click.echo(str(diagnostic), err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="kldemo")
def cli() -> None:
    """Render videos that show why KL divergence is asymmetric.

    \b
    kldemo render configs/asym-kl.yaml      # -> media/asym-kl.mp4
    kldemo kl configs/asym-kl.yaml          # the numbers, without rendering
    kldemo init my.yaml                     # start from an example
    """


# -- checking and numbers -------------------------------------------------------------


@cli.command()
@click.argument("configs", nargs=-1, required=True, type=ConfigPath)
@click.option("-q", "--quiet", is_flag=True, help="Print only errors.")
def validate(configs: Sequence[Path], quiet: bool) -> None:
    """Check keyframe files; print every error of each, as FILE:LINE:COL: error: ..."""
    from kldemo.timeline import load

    bad = 0
    for path in configs:
        try:
            load(path)
        except ConfigError as error:
            _report_config_error(error)
            bad += 1
        else:
            if not quiet:
                click.echo(f"{path}: ok")
    sys.exit(EXIT_BAD_INPUT if bad else EXIT_OK)


@cli.command()
@click.argument("config", type=ConfigPath)
@click.option(
    "--at",
    "at",
    multiple=True,
    type=float,
    metavar="T",
    help="A time in seconds to report (repeatable).",
)
@click.option(
    "--every", type=float, metavar="DT", help="Report every DT seconds, from 0 to the end."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
)
def kl(config: Path, at: tuple[float, ...], every: float | None, fmt: str) -> None:
    """The divergences without rendering: by default at t = 0 and the end of each transition."""
    from kldemo.plan.table import kl_rows, write_rows
    from kldemo.timeline import load

    loaded = load(config)
    rows = kl_rows(loaded.timeline, at=at, every=every)
    for warning in loaded.timeline.fit_warnings():
        click.echo(f"{config}: warning: {warning}", err=True)
    write_rows(sys.stdout, loaded.config, rows, fmt)


@cli.command()
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the schema to a file instead of printing it.",
)
def schema(output: Path | None) -> None:
    """The JSON Schema of the keyframe format (for yaml-language-server in editors)."""
    from kldemo.config.schema import schema_text
    from kldemo.storage.files import write_text_atomic

    if output is None:
        click.echo(schema_text(), nl=False)
    else:
        write_text_atomic(output, schema_text())
        click.echo(f"wrote {output}", err=True)


# -- examples -------------------------------------------------------------------------


@cli.command()
def examples() -> None:
    """List the bundled example configs."""
    from kldemo.config.examples import examples as found
    from kldemo.config.examples import summary

    for name, path in found().items():
        click.echo(f"{name:<22} {summary(path)}")


@cli.command()
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option("--example", default=None, metavar="NAME", help="Which example to start from.")
@click.option("--force", is_flag=True, help="Overwrite PATH (and its data files) if they exist.")
def init(path: Path | None, example: str | None, force: bool) -> None:
    """Write a commented example config to PATH (default: ./<example>.yaml), with the data
    files it reads beside it."""
    import difflib

    from kldemo.config.examples import DEFAULT_EXAMPLE
    from kldemo.config.examples import examples as found
    from kldemo.config.schema import SCHEMA_NAME, schema_text
    from kldemo.storage.files import write_text_atomic

    bundled = found()
    name = example or DEFAULT_EXAMPLE
    if name not in bundled:
        close = difflib.get_close_matches(name, bundled, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise UsageError(f"no example named {name!r}; {hint}`kldemo examples` lists them")
    target = path or Path(f"{name}.yaml")
    if target.is_dir():
        target = target / f"{name}.yaml"
    # Every refusal before anything is written: a config is never left without its data.
    if target.exists() and not force:
        raise UsageError(f"{target} exists; pass --force to overwrite it")
    data = _init_data(bundled[name], target.parent, force)
    text = bundled[name].read_text(encoding="utf-8")
    modeline = "# yaml-language-server: $schema="
    if text.startswith(modeline):
        # A copy of the schema beside the config, named relatively: the folder still works
        # for editors when it is moved, shared or committed.
        text = f"{modeline}{SCHEMA_NAME}\n" + text.split("\n", 1)[1]
        write_text_atomic(target.parent / SCHEMA_NAME, schema_text())
    for source, copy in data:
        _copy_atomic(source, copy)
    write_text_atomic(target, text)  # last: a config that exists has its data beside it
    samples = f"; the samples p is estimated from: {', '.join(str(c) for _, c in data)}"
    click.echo(
        f"wrote {target} (and {SCHEMA_NAME} beside it, for editors{samples if data else ''}); "
        f"render it with: kldemo render {target}"
    )


def _init_data(example: Path, folder: Path, force: bool) -> list[tuple[Path, Path]]:
    """The (bundled file, copy) of each data file the example reads, at the same path
    relative to the new config as to the example. A copy that exists already is left as it
    is when it holds the same bytes, and refused without --force when it differs."""
    from kldemo.config.examples import data_files

    pairs = []
    for relative in data_files(example):
        source, copy = example.parent / relative, folder / relative
        if copy.is_dir():
            raise UsageError(f"{copy} is a folder; the example reads its samples from that path")
        if copy.exists():
            if copy.read_bytes() == source.read_bytes():
                continue
            if not force:
                raise UsageError(
                    f"{copy} exists and differs from the example's data; pass --force to "
                    "overwrite it"
                )
        pairs.append((source, copy))
    return pairs


def _copy_atomic(source: Path, target: Path) -> None:
    from kldemo.storage.files import atomic_path

    with atomic_path(target) as temporary:
        temporary.write_bytes(source.read_bytes())


@cli.command()
def easings() -> None:
    """List the easing (rate function) names a keyframe can use."""
    from kldemo.core.easing import EASINGS, describe

    for name in EASINGS:
        click.echo(f"{name:<28}{describe(name)}".rstrip())


# -- rendering ------------------------------------------------------------------------
# Each option is declared once, here, and stacked on the commands that take it.


def _stack(*options: Callable[..., Any]) -> Callable[..., Any]:
    """One decorator of several options, in the order they are listed in ``--help``."""
    return lambda command: functools.reduce(lambda f, option: option(f), reversed(options), command)


def output_option(help: str, file_only: bool = False) -> Callable[..., Any]:
    return click.option(
        "-o", "--output", help=help, type=click.Path(dir_okay=not file_only, path_type=Path)
    )


format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    help="Container (default: from -o's suffix, which it must not contradict, else mp4; png "
    "writes the last frame).",
)
jobs_option = click.option(
    "-j", "--jobs", type=click.IntRange(min=1), help="Parallel workers (default: all cores)."
)
no_cache_option = click.option(
    "--no-cache", is_flag=True, help="Neither read nor write the segment cache."
)
cache_dir_option = click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="KLDEMO_CACHE_DIR",
    help="Cache folder: rendered segments and typeset labels [env KLDEMO_CACHE_DIR].",
)
contact_sheet_option = click.option(
    "--contact-sheet",
    is_flag=True,
    help="Also write <name>.contact.png beside each video: the frame each keyframe ends on, "
    "labelled, for review.",
)


def render_options(
    command: Callable[..., Any] | None = None, *, default_quality: str | None = "h"
) -> Callable[..., Any]:
    """The options that say how frames look, shared by render, still and watch.

    ``default_quality`` None leaves the preset to the output format (a GIF is 480p15).
    """
    if command is None:
        return functools.partial(render_options, default_quality=default_quality)
    presets = "manim's presets: " + ", ".join(
        f"{name} {height}p{fps}" for name, (_, height, fps) in QUALITIES.items()
    )
    return _stack(
        click.option(
            "-q",
            "--quality",
            type=click.Choice(list(QUALITIES)),
            default=default_quality,
            show_default=default_quality is not None,
            help=f"{presets}."
            if default_quality
            else f"{presets} [default: h; gif: l, and at most 50 fps].",
        ),
        click.option("--fps", type=click.FloatRange(*FPS_RANGE), help="Frames per second."),
        click.option(
            "-r",
            "--resolution",
            metavar="W,H",
            callback=_parse_resolution,
            help="Pixel size, e.g. 1920,1080 (overrides the quality's).",
        ),
        click.option("-t", "--transparent", is_flag=True, help="Transparent background."),
        click.option(
            "--labels",
            type=click.Choice(LABELS),
            help="LaTeX or Unicode text labels (overrides style.labels).",
        ),
        click.option("-v", "--verbose", is_flag=True, help="Show manim's own log."),
    )(command)


def _parse_resolution(ctx: click.Context, param: click.Parameter, value: str | None):
    if value is None:
        return None
    try:
        width, height = (int(v) for v in value.replace("x", ",").split(","))
    except ValueError:
        raise click.BadParameter(f"{value!r}: write it as W,H, e.g. 1920,1080") from None
    if not (MIN_SIDE <= width <= MAX_WIDTH and MIN_SIDE <= height <= MAX_HEIGHT):
        raise click.BadParameter(
            f"{value!r}: each side must be from {MIN_SIDE} to {MAX_WIDTH} ({MAX_HEIGHT} high)"
        )
    return width, height


def _parse_shard(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> tuple[int, int] | None:
    if value is None:
        return None
    try:
        index, count = (int(v) for v in value.split("/"))
    except ValueError:
        raise click.BadParameter(f"{value!r}: write it as I/N, e.g. 2/4") from None
    if not 1 <= index <= count:
        raise click.BadParameter(f"{value!r}: I must be from 1 to N")
    return index, count


@cli.command()
@click.argument("configs", nargs=-1, required=True, type=ConfigPath)
@output_option("The output file (one config) or folder (several). Default: media/<name>.<ext>.")
@format_option
@render_options(default_quality=None)
@jobs_option
@no_cache_option
@cache_dir_option
@click.option(
    "--shard",
    metavar="I/N",
    callback=_parse_shard,
    help="Render only slice I of N of the configs (sorted by path).",
)
@click.option(
    "--report",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write a JSON report of every config's outcome.",
)
@click.option(
    "--progress",
    type=click.Choice(MODES),
    default="auto",
    show_default=True,
    help="auto: a bar on a terminal, plain lines otherwise.",
)
@contact_sheet_option
@click.option(
    "--slides",
    is_flag=True,
    help="Also write slides: one per keyframe, stopping on its hold; "
    "slides/<name>.json (manim-slides) and <name>.html beside the video.",
)
@click.option(
    "--subtitles",
    is_flag=True,
    help="Also write <name>.srt and <name>.vtt beside the video, one cue per "
    "caption, and put them in mp4, mov and webm as a subtitle track that "
    "players switch on (a GIF has no track; a png is refused).",
)
def render(configs: Sequence[Path], **options: Any) -> None:
    """Render keyframe files to video.

    With several configs, each is rendered even when another is bad; the exit status is 2
    if any was invalid, else 1 if any render failed, else 0.
    """
    from kldemo.batch.run import render_many
    from kldemo.rendering.options import RenderOptions

    sys.exit(render_many(list(configs), RenderOptions.from_cli(options)))


@cli.command()
@click.argument("config", type=ConfigPath)
@output_option("The output file or folder. Default: media/<name>.<ext>.")
@format_option
@render_options(default_quality="l")
@jobs_option
@no_cache_option
@cache_dir_option
@contact_sheet_option
def watch(config: Path, **options: Any) -> None:
    """Render CONFIG, then again on every save of it, until Ctrl-C.

    Only the segments a change touched are rendered again (the segment cache). A save
    that does not validate prints its errors and keeps the last good video.
    """
    from kldemo.rendering.options import RenderOptions
    from kldemo.watch import watch as watch_config

    watch_config(config, RenderOptions.from_cli(options))


@cli.command()
@click.argument("config", type=ConfigPath)
@click.option("--at", "at", type=float, required=True, metavar="T", help="The time in seconds.")
@output_option(
    "The file to write, named .png, or .svg or .pdf for a vector figure (text as "
    "paths; the page 6.4 in wide, the frame's aspect). Default: "
    "media/<name>-<T>.png.",
    file_only=True,
)
@render_options
@cache_dir_option
@click.option(
    "--bare",
    is_flag=True,
    help="Leave out the title and the caption (a figure with a caption of its own).",
)
def still(config: Path, at: float, output: Path | None, bare: bool, **options: Any) -> None:
    """Render the one frame the video shows at time T, as PNG, SVG or PDF."""
    from kldemo.rendering.options import RenderOptions
    from kldemo.rendering.outputs import still_output
    from kldemo.rendering.still import render_still
    from kldemo.timeline import load

    loaded = load(config)
    target = still_output(config, at, output)
    for warning in loaded.timeline.fit_warnings():
        click.echo(f"{config}: warning: {warning}", err=True)
    path = render_still(loaded, at, target, RenderOptions.from_cli(options), bare=bare)
    click.echo(f"wrote {path}")


@cli.group()
def cache() -> None:
    """Inspect or clear the segment cache."""


@cache.command("info")
@cache_dir_option
def cache_info(cache_dir: Path | None) -> None:
    """Where the cache is, how many segments it holds and how large it is."""
    from kldemo.storage.cache import SegmentCache, default_cache_dir

    info = SegmentCache(cache_dir or default_cache_dir()).info()
    click.echo(f"folder   {info.folder}")
    click.echo(f"segments {info.entries}")
    click.echo(f"size     {info.bytes / 2**20:.1f} MiB of {info.limit / 2**20:.0f} MiB")


@cache.command("clear")
@cache_dir_option
def cache_clear(cache_dir: Path | None) -> None:
    """Remove every cached segment."""
    from kldemo.storage.cache import SegmentCache, default_cache_dir

    removed = SegmentCache(cache_dir or default_cache_dir()).clear()
    click.echo(f"removed {removed} segment(s)")


def main(argv: Sequence[str] | None = None) -> None:
    """The ``kldemo`` entry point: maps every outcome to its exit status."""
    import signal

    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        cli.main(args=argv, prog_name="kldemo", standalone_mode=False)
    except ConfigError as error:
        _report_config_error(error)
        sys.exit(EXIT_BAD_INPUT)
    except UsageError as error:
        click.echo(f"kldemo: error: {error}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.ClickException as error:
        error.show()
        sys.exit(EXIT_BAD_INPUT if error.exit_code == 2 else error.exit_code)
    except (KeyboardInterrupt, click.exceptions.Abort) as stop:
        click.echo("kldemo: interrupted", err=True)
        # click turns an interrupt into Abort, the interrupt its cause.
        terminated = isinstance(stop, Terminated) or isinstance(stop.__cause__, Terminated)
        sys.exit(EXIT_TERMINATED if terminated else EXIT_INTERRUPTED)
    except OutputError as error:
        click.echo(f"kldemo: error: {error}", err=True)
        sys.exit(EXIT_FAILED)
    except RenderError as error:
        click.echo(f"kldemo: render failed: {error}", err=True)
        sys.exit(EXIT_FAILED)
    except BrokenPipeError:
        # Output piped into a command that stopped reading (| head): not an error.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(EXIT_OK)
    except OSError as error:  # an output that cannot be written: a clear line, no traceback
        where = f" {error.filename}" if error.filename else ""
        click.echo(f"kldemo: error:{where}: {error.strerror or error}", err=True)
        sys.exit(EXIT_FAILED)
    sys.exit(EXIT_OK)
