"""Where a render writes, and in which format: decided from ``-o`` and ``--format`` before
anything is drawn, so that a file is never written in a format its name does not say."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from kldemo.errors import UsageError
from kldemo.rendering.formats import FORMATS, STILL_FORMATS, VECTOR_FORMATS

if TYPE_CHECKING:
    from kldemo.rendering.options import RenderOptions


def _listed(formats: tuple[str, ...]) -> str:
    return ", ".join(formats[:-1]) + f" or {formats[-1]}" if len(formats) > 1 else formats[0]


def names_folder(output: Path) -> bool:
    """Whether ``-o`` names a folder: one that exists, or a name without a suffix."""
    return output.is_dir() or not output.suffix


def output_format(options: RenderOptions, target: Path | None) -> str:
    """The format of a render: -o's suffix, which ``--format`` may repeat but not contradict;
    else ``--format``; else mp4 (mov with ``--transparent``).

    The name decides, so that a file is never written in a format its name does not say:
    a suffix kldemo cannot write is refused, listing what it can.
    """
    suffix = None
    if target is not None and not names_folder(target):
        suffix = target.suffix.lower()
        if suffix.lstrip(".") not in FORMATS:
            vector = (
                f"; for a vector figure: kldemo still CONFIG --at T -o {target.name}"
                if suffix.lstrip(".") in VECTOR_FORMATS
                else ""
            )
            raise UsageError(
                f"-o {target}: kldemo cannot write {suffix} files; render writes "
                f"{_listed(FORMATS)} (png: the last frame), named by its "
                f"suffix{vector}"
            )
        suffix = suffix.lstrip(".")
        if options.fmt and options.fmt != suffix:
            raise UsageError(
                f"--format {options.fmt} and -o {target} disagree; name the output "
                f"FILE.{options.fmt}, or leave --format out"
            )
    fmt = suffix or options.fmt or ("mov" if options.transparent else "mp4")
    if options.transparent and fmt in ("mp4", "gif"):
        raise UsageError(f"--transparent needs mov, webm or png output, not {fmt}")
    return fmt


def output_path(config: Path, options: RenderOptions, fmt: str, several: bool) -> Path:
    """-o as a file (one config) or a folder (several, or one that exists or has no
    suffix); default media/<name>.<ext>."""
    name = f"{config.stem}.{fmt}"
    if options.output is None:
        return Path("media") / name
    if several or names_folder(options.output):
        return options.output / name
    return options.output


def still_output(config: Path, at: float, output: Path | None) -> Path:
    """Where ``still`` writes: -o, which must name a PNG, an SVG or a PDF (the format);
    default media/<name>-<T>.png."""
    if output is None:
        return Path("media") / f"{config.stem}-{at:g}.png"
    suffix = output.suffix.lower()
    if suffix.lstrip(".") not in STILL_FORMATS:
        what = f"{suffix} files" if suffix else "files without a suffix"
        raise UsageError(
            f"-o {output}: kldemo cannot write {what}; still writes "
            f"{_listed(STILL_FORMATS)}: name it {output.with_suffix('.png')}"
        )
    return output


def contact_sheet_path(target: Path) -> Path:
    """``<stem>.contact.png`` beside the video."""
    return target.with_name(f"{target.stem}.contact.png")
