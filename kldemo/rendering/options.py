"""How to render: the command line's options with manim's presets, and the labels' kind."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kldemo.errors import ConfigError, UsageError
from kldemo.rendering.formats import GIF_MAX_FPS

if TYPE_CHECKING:
    from kldemo.config.load import LoadedConfig

QUALITIES = {  # manim's presets: width, height, frames per second
    "l": (854, 480, 15),
    "m": (1280, 720, 30),
    "h": (1920, 1080, 60),
    "p": (2560, 1440, 60),
    "k": (3840, 2160, 60),
}
#: The labels: typeset with LaTeX, drawn as Unicode text, or tex where LaTeX is installed.
LABELS = ("auto", "tex", "text")
FPS_RANGE = (1, 240)  # frames per second a render may ask for
MIN_SIDE, MAX_WIDTH, MAX_HEIGHT = 16, 7680, 4320  # pixel sizes a render may ask for (8K)


@dataclass(frozen=True)
class RenderOptions:
    """How to render: the command line's options, with manim's defaults."""

    output: Path | None = None
    fmt: str | None = None
    quality: str | None = None  # None: the format's own default (l for gif, else h)
    fps: float | None = None
    resolution: tuple[int, int] | None = None
    transparent: bool = False
    labels: str | None = None
    verbose: bool = False
    jobs: int | None = None
    no_cache: bool = False
    cache_dir: Path | None = None
    shard: tuple[int, int] | None = None
    report: Path | None = None
    progress: str = "auto"
    contact_sheet: bool = False
    slides: bool = False  # also the slides: manim-slides' JSON and an HTML presenter
    subtitles: bool = False  # also NAME.srt and NAME.vtt, and a track in mp4/mov/webm

    @classmethod
    def from_cli(cls, options: dict[str, Any]) -> RenderOptions:
        """The options a command parsed, by name; a name that is not an option is refused,
        so that an option declared on a command but never read cannot go unnoticed."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - names)
        if unknown:
            raise TypeError(
                f"not render options: {', '.join(unknown)} (known: {', '.join(sorted(names))})"
            )
        return cls(**options)

    @property
    def size(self) -> tuple[int, int]:
        return self.resolution or QUALITIES[self.quality or "h"][:2]

    @property
    def frame_rate(self) -> float:
        return float(self.fps or QUALITIES[self.quality or "h"][2])

    def for_format(self, fmt: str) -> RenderOptions:
        """These options as an output of ``fmt`` takes them.

        A GIF is a preview, heavy per pixel: without ``-q`` it is 480p15 (``-r`` and
        ``--fps`` still apply), and a preset whose rate is above GIF's 50 frames per second
        gives 50. GIF delays count hundredths of a second and browsers slow down delays
        under two of them, so an ``--fps`` above 50 is refused rather than played slowly.
        """
        if fmt != "gif":
            return self
        if self.fps is not None and self.fps > GIF_MAX_FPS:
            raise UsageError(
                f"--fps {self.fps:g}: a GIF plays at most {GIF_MAX_FPS} frames per "
                "second (its delays count 1/100 s, and browsers slow down shorter "
                f"ones); use --fps {GIF_MAX_FPS} or less, or mp4/webm for more"
            )
        settled = replace(self, quality=self.quality or "l")
        if settled.fps is None and settled.frame_rate > GIF_MAX_FPS:
            settled = replace(settled, fps=float(GIF_MAX_FPS))
        return settled

    @property
    def workers(self) -> int:
        return self.jobs or os.cpu_count() or 1

    @property
    def labels_dir(self) -> Path:
        """Where manim's typeset text and TeX are kept between renders."""
        from kldemo.storage.cache import default_cache_dir

        return (self.cache_dir or default_cache_dir()) / "labels"


def latex_available() -> bool:
    """Whether labels can be typeset: latex and dvisvgm on PATH, unless ``KLDEMO_NO_LATEX=1``
    asks kldemo to behave as on a machine without LaTeX (CI runs the tests both ways)."""
    if os.environ.get("KLDEMO_NO_LATEX") == "1":
        return False
    return shutil.which("latex") is not None and shutil.which("dvisvgm") is not None


def resolve_labels(config: LoadedConfig, options: RenderOptions) -> str:
    """tex or text; ``tex`` without LaTeX installed is an error before anything renders."""
    wanted = options.labels or config.model.style.labels
    if wanted == "auto":
        return "tex" if latex_available() else "text"
    if wanted == "tex" and not latex_available():
        message = (
            "labels: tex needs LaTeX (latex and dvisvgm on PATH); install it, or use "
            "labels: text (or auto)"
        )
        if os.environ.get("KLDEMO_NO_LATEX") == "1":
            message = (
                "labels: tex needs LaTeX, and KLDEMO_NO_LATEX=1 asks kldemo to act as if "
                "it were absent; unset it, or use labels: text (or auto)"
            )
        if options.labels:
            raise UsageError(f"--labels tex: {message}")
        raise ConfigError([config.document.diagnostic(("style", "labels"), message)])
    return wanted
