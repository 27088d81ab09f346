"""The command line: parses options and calls the rooms that do the work.

``--help``, ``validate``, ``kl`` and ``schema`` never import manim: rendering modules are
imported inside the commands that render.
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
from kldemo.errors import ConfigError, OutputError, RenderError, UsageError

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_TERMINATED = 0, 1, 2, 130, 143


class Terminated(KeyboardInterrupt):
    """SIGTERM, unwound like Ctrl-C so that every cleanup runs, then exit 143."""


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
@click.option("--at", "at", multiple=True, type=float, metavar="T",
              help="A time in seconds to report (repeatable).")
@click.option("--every", type=float, metavar="DT",
              help="Report every DT seconds, from 0 to the end.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True)
def kl(config: Path, at: tuple[float, ...], every: float | None, fmt: str) -> None:
    """The divergences without rendering: by default at t = 0 and the end of each transition."""
    from kldemo.plan.table import kl_rows, write_rows
    from kldemo.timeline import load

    loaded = load(config)
    rows = kl_rows(loaded.config, at=at, every=every)
    for warning in loaded.timeline.fit_warnings():
        click.echo(f"{config}: warning: {warning}", err=True)
    write_rows(sys.stdout, loaded.config, rows, fmt)


@cli.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the schema to a file instead of printing it.")
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
@click.option("--force", is_flag=True, help="Overwrite PATH if it exists.")
def init(path: Path | None, example: str | None, force: bool) -> None:
    """Write a commented example config to PATH (default: ./<example>.yaml)."""
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
    if target.exists() and not force:
        raise UsageError(f"{target} exists; pass --force to overwrite it")
    text = bundled[name].read_text(encoding="utf-8")
    modeline = "# yaml-language-server: $schema="
    if text.startswith(modeline):
        # A copy of the schema beside the config, named relatively: the folder still works
        # for editors when it is moved, shared or committed.
        text = f"{modeline}{SCHEMA_NAME}\n" + text.split("\n", 1)[1]
        write_text_atomic(target.parent / SCHEMA_NAME, schema_text())
    write_text_atomic(target, text)
    click.echo(f"wrote {target} (and {SCHEMA_NAME} beside it, for editors); "
               f"render it with: kldemo render {target}")


@cli.command()
def easings() -> None:
    """List the easing (rate function) names a keyframe can use."""
    from kldemo.core.easing import EASINGS, describe

    for name in EASINGS:
        click.echo(f"{name:<28}{describe(name)}".rstrip())


# -- rendering ------------------------------------------------------------------------


def render_options(command: Callable[..., Any] | None = None, *,
                   default_quality: str | None = "h") -> Callable[..., Any]:
    """The options that say how frames look, shared by render, still and watch.

    ``default_quality`` None leaves the preset to the output format (a GIF is 480p15).
    """
    if command is None:
        return functools.partial(render_options, default_quality=default_quality)
    presets = "manim's presets: l 480p15, m 720p30, h 1080p60, p 1440p60, k 2160p60"
    options = [
        click.option("-q", "--quality", type=click.Choice(list("lmhpk")), default=default_quality,
                     show_default=default_quality is not None,
                     help=f"{presets}." if default_quality else
                     f"{presets} [default: h; gif: l, and at most 50 fps]."),
        click.option("--fps", type=click.FloatRange(min=1, max=240), help="Frames per second."),
        click.option("-r", "--resolution", metavar="W,H", callback=_parse_resolution,
                     help="Pixel size, e.g. 1920,1080 (overrides the quality's)."),
        click.option("-t", "--transparent", is_flag=True, help="Transparent background."),
        click.option("--labels", type=click.Choice(["auto", "tex", "text"]),
                     help="LaTeX or Unicode text labels (overrides style.labels)."),
        click.option("-v", "--verbose", is_flag=True, help="Show manim's own log."),
    ]
    return functools.reduce(lambda f, option: option(f), reversed(options), command)


def _parse_resolution(ctx: click.Context, param: click.Parameter, value: str | None):
    if value is None:
        return None
    try:
        width, height = (int(v) for v in value.replace("x", ",").split(","))
    except ValueError:
        raise click.BadParameter(f"{value!r}: write it as W,H, e.g. 1920,1080") from None
    if not (16 <= width <= 7680 and 16 <= height <= 4320):
        raise click.BadParameter(f"{value!r}: each side must be from 16 to 7680 (4320 high)")
    return width, height


@cli.command()
@click.argument("configs", nargs=-1, required=True, type=ConfigPath)
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="The output file (one config) or folder (several). Default: media/<name>.<ext>.")
@click.option("--format", "fmt", type=click.Choice(["mp4", "webm", "gif", "mov", "png"]),
              help="Container (default: from -o's suffix, which it must not contradict, else "
                   "mp4; png writes the last frame).")
@render_options(default_quality=None)
@click.option("-j", "--jobs", type=click.IntRange(min=1),
              help="Parallel workers (default: all cores).")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the segment cache.")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path),
              envvar="KLDEMO_CACHE_DIR", help="Segment cache folder [env KLDEMO_CACHE_DIR].")
@click.option("--shard", metavar="I/N", callback=lambda c, p, v: _parse_shard(v),
              help="Render only slice I of N of the configs (sorted by path).")
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a JSON report of every config's outcome.")
@click.option("--progress", type=click.Choice(["auto", "bar", "plain", "none"]), default="auto",
              show_default=True, help="auto: a bar on a terminal, plain lines otherwise.")
@click.option("--contact-sheet", is_flag=True,
              help="Also write <name>.contact.png beside each video: the frame each keyframe "
                   "ends on, labelled, for review.")
def render(configs: Sequence[Path], **options: Any) -> None:
    """Render keyframe files to video.

    With several configs, each is rendered even when another is bad; the exit status is 2
    if any was invalid, else 1 if any render failed, else 0.
    """
    from kldemo.rendering.render import RenderOptions, render_many

    sys.exit(render_many(list(configs), RenderOptions.from_cli(options)))


@cli.command()
@click.argument("config", type=ConfigPath)
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="The output file or folder. Default: media/<name>.<ext>.")
@click.option("--format", "fmt", type=click.Choice(["mp4", "webm", "gif", "mov", "png"]),
              help="Container (default: from -o's suffix, else mp4).")
@render_options(default_quality="l")
@click.option("-j", "--jobs", type=click.IntRange(min=1),
              help="Parallel workers (default: all cores).")
@click.option("--no-cache", is_flag=True, help="Render every segment again on each save.")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path),
              envvar="KLDEMO_CACHE_DIR", help="Segment cache folder [env KLDEMO_CACHE_DIR].")
@click.option("--contact-sheet", is_flag=True, help="Also write <name>.contact.png on each render.")
def watch(config: Path, **options: Any) -> None:
    """Render CONFIG, then again on every save of it, until Ctrl-C.

    Only the segments a change touched are rendered again (the segment cache). A save
    that does not validate prints its errors and keeps the last good video.
    """
    from kldemo.rendering.render import RenderOptions
    from kldemo.watch import watch as watch_config

    watch_config(config, RenderOptions.from_cli(options))


@cli.command()
@click.argument("config", type=ConfigPath)
@click.option("--at", "at", type=float, required=True, metavar="T", help="The time in seconds.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="The PNG to write, named .png (default: media/<name>-<T>.png).")
@render_options
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path),
              envvar="KLDEMO_CACHE_DIR",
              help="Cache folder, where typeset labels are kept [env KLDEMO_CACHE_DIR].")
def still(config: Path, at: float, output: Path | None, **options: Any) -> None:
    """Render the one frame the video shows at time T, as PNG."""
    from kldemo.rendering.render import RenderOptions, render_still
    from kldemo.timeline import load

    loaded = load(config).config
    path = render_still(loaded, at, output, RenderOptions.from_cli(options))
    click.echo(f"wrote {path}")


def _parse_shard(value: str | None) -> tuple[int, int] | None:
    if value is None:
        return None
    try:
        index, count = (int(v) for v in value.split("/"))
    except ValueError:
        raise click.BadParameter(f"{value!r}: write it as I/N, e.g. 2/4") from None
    if not 1 <= index <= count:
        raise click.BadParameter(f"{value!r}: I must be from 1 to N")
    return index, count


@cli.group()
def cache() -> None:
    """Inspect or clear the segment cache."""


def _cache_dir_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path),
                        envvar="KLDEMO_CACHE_DIR",
                        help="Segment cache folder [env KLDEMO_CACHE_DIR].")(command)


@cache.command("info")
@_cache_dir_option
def cache_info(cache_dir: Path | None) -> None:
    """Where the cache is, how many segments it holds and how large it is."""
    from kldemo.storage.cache import SegmentCache, default_cache_dir

    info = SegmentCache(cache_dir or default_cache_dir()).info()
    click.echo(f"folder   {info.folder}")
    click.echo(f"segments {info.entries}")
    click.echo(f"size     {info.bytes / 2**20:.1f} MiB of {info.limit / 2**20:.0f} MiB")


@cache.command("clear")
@_cache_dir_option
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
