"""Rendering: manim settings, the frames' states, segments, workers, the cache, atomic output.

A video is cut into segments at every keyframe's transition and hold (long transitions
into pieces of at most :data:`SEGMENT_FRAMES`). Each segment is keyed by everything that
decides its pixels; segments found in the cache are reused, the rest are rendered by
worker processes, and the video is their stream copy, written beside the target and
renamed onto it. Frames are pure functions of time, so the output does not depend on
how the work was split.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import math
import os
import shutil
import signal
import sys
import tempfile
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from kldemo import __version__
from kldemo.errors import ConfigError, Diagnostic, RenderError, UsageError
from kldemo.rendering.progress import Progress
from kldemo.rendering.video import FORMATS, GIF_MAX_FPS, VideoSettings
from kldemo.storage.files import atomic_path, check_writable
from kldemo.timeline import Timeline

if TYPE_CHECKING:
    from kldemo.config.spec import LoadedConfig
    from kldemo.plan.frames import ScenePlan

QUALITIES = {  # manim's presets: width, height, frames per second
    "l": (854, 480, 15),
    "m": (1280, 720, 30),
    "h": (1920, 1080, 60),
    "p": (2560, 1440, 60),
    "k": (3840, 2160, 60),
}
SEGMENT_FRAMES = 60


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

    @classmethod
    def from_cli(cls, options: dict[str, Any]) -> RenderOptions:
        names = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in options.items() if key in names})

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
            raise UsageError(f"--fps {self.fps:g}: a GIF plays at most {GIF_MAX_FPS} frames per "
                             "second (its delays count 1/100 s, and browsers slow down shorter "
                             f"ones); use --fps {GIF_MAX_FPS} or less, or mp4/webm for more")
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


# -- the plan: every frame's state ------------------------------------------------------


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
        message = ("labels: tex needs LaTeX (latex and dvisvgm on PATH); install it, or use "
                   "labels: text (or auto)")
        if os.environ.get("KLDEMO_NO_LATEX") == "1":
            message = ("labels: tex needs LaTeX, and KLDEMO_NO_LATEX=1 asks kldemo to act as if "
                       "it were absent; unset it, or use labels: text (or auto)")
        if options.labels:
            raise UsageError(f"--labels tex: {message}")
        raise ConfigError([config.document.diagnostic(("style", "labels"), message)])
    return wanted


def build_plan(config: LoadedConfig, fps: float, labels: str) -> ScenePlan:
    """Every frame's state and divergences, computed at once, and the fixed look."""
    from kldemo.core.divergences import DIVERGENCE_BOUNDS, divergence_values
    from kldemo.plan.frames import FrameStates, ScenePlan
    from kldemo.plan.view import fit_bar_max, fit_x_range, fit_y_range, sample_times

    model = config.model
    style = model.style
    bars, panels = tuple(style.bars), tuple(model.panels)
    timeline = Timeline.from_config(model)
    states = timeline.state_at(timeline.frame_times(fps))
    # Both KLs always (the trace panel and the bar scale use them); the bounded
    # divergences only for the bars shown (each is a quadrature per frame).
    shown = divergence_values(states.p, states.q,
                              ["forward", "reverse", *(n for n in bars if n in DIVERGENCE_BOUNDS)])
    forward, reverse = shown.pop("forward"), shown.pop("reverse")

    samples = timeline.state_at(sample_times(timeline))
    x_range = tuple(model.view.x_range) if model.view.x_range else fit_x_range(samples.p, samples.q)
    y_range = (tuple(model.view.y_range) if model.view.y_range
               else fit_y_range(samples.p, samples.q, x_range))
    if style.bar_max == "auto":
        # Fitted to the KLs drawn against it: their bars, and both in the trace panel.
        sample_kl = divergence_values(samples.p, samples.q, ("forward", "reverse"))
        scaled = [sample_kl[name] for name in sample_kl if name in bars or "trace" in panels]
        bar_max = fit_bar_max(np.concatenate(scaled or list(sample_kl.values())))
    else:
        bar_max = float(style.bar_max)
    integrand_range = None
    if "integrand" in panels:
        from kldemo.plan.view import fit_integrand_range

        integrand_range = fit_integrand_range(samples.p, samples.q, x_range)
    optima, optimum = (), None
    if style.markers:
        from kldemo.plan.view import optimum_markers

        optima, optimum = optimum_markers(timeline, states.t, states.p)

    captions = [s.caption for s in timeline.steps]
    caption_texts = tuple(dict.fromkeys(c for c in captions if c))
    caption_index = np.array([caption_texts.index(c) if c else -1 for c in captions] or [-1])
    frame_caption = caption_index[np.clip(states.segment, 0, None)] if timeline.steps else \
        np.full(len(states.t), -1)

    frames = FrameStates(
        t=states.t, p_weights=states.p.weights, p_means=states.p.means, p_stds=states.p.stds,
        q_weights=states.q.weights, q_means=states.q.means, q_stds=states.q.stds,
        forward_kl=forward, reverse_kl=reverse, caption=frame_caption, optimum=optimum,
        **shown,
    )
    return ScenePlan(
        frames=frames, x_range=x_range, y_range=y_range, bar_max=bar_max, theme=style.theme,
        # Colours the file leaves out are the theme's (ScenePlan fills them in).
        p_color=style.p_color,
        q_color=style.q_color,
        labels=labels, title=model.title,
        captions=caption_texts, bars=bars, panels=panels, integrand_range=integrand_range,
        duration=timeline.duration, optima=tuple(optima),
    )


# -- segments ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    """Frames [start, stop) of a video, and the key of their pixels."""

    start: int
    stop: int
    key: str = ""

    def __len__(self) -> int:
        return self.stop - self.start


def cut_segments(timeline: Timeline, frame_count: int, fps: float) -> list[Segment]:
    """Segments at every transition's and hold's start, none longer than SEGMENT_FRAMES."""
    times = [*timeline.starts, *timeline.transition_ends] if timeline.steps else []
    cuts = sorted({0, frame_count, *(min(frame_count, math.ceil(t * fps - 1e-9)) for t in times)})
    segments = []
    for start, stop in itertools.pairwise(cuts):
        pieces = max(1, math.ceil((stop - start) / SEGMENT_FRAMES))
        bounds = np.linspace(start, stop, pieces + 1).round().astype(int)
        segments += [Segment(int(a), int(b)) for a, b in itertools.pairwise(bounds) if b > a]
    return segments


def look_version() -> str:
    """The versions of the drawing and the encoding: what a segment's pixels and bytes
    depend on besides the plan and the settings.

    Segment keys include it (with kldemo's and manim's versions), so that a cache filled
    by an older kldemo, or a CI cache restored after a change to the look, never splices
    old-look segments into a new video. Refactoring that keeps every pixel keeps the
    cache; the control frames' test refuses a changed picture without a bumped version.
    """
    from kldemo.rendering import video
    from kldemo.scenes import LOOK_VERSION

    return f"look {LOOK_VERSION}, encoding {video.ENCODING_VERSION}"


def segment_keys(plan: ScenePlan, video: VideoSettings, transparent: bool,
                 segments: list[Segment]) -> list[Segment]:
    """Each segment with the key of everything that decides its pixels and bytes: the
    drawing and encoding versions (:func:`look_version`), kldemo's and manim's, the output
    settings, the plan's look and each segment's frames."""
    import manim

    from kldemo.storage.cache import segment_key

    look = repr((
        __version__, manim.__version__, look_version(), video, transparent, plan.x_range,
        plan.y_range,
        plan.bar_max, plan.theme, plan.p_color, plan.q_color, plan.labels, plan.title,
        plan.bars, plan.panels, plan.integrand_range, plan.optima,
        # The trace panel's time axis spans the video: only it makes the length matter.
        plan.duration if "trace" in plan.panels else None,
    ))
    f = plan.frames
    names = ["p_weights", "p_means", "p_stds", "q_weights", "q_means", "q_stds",
             "forward_kl", "reverse_kl"]
    names += [name for name in ("js", "tv", "hellinger", "optimum") if getattr(f, name) is not None]
    # The trace panel draws every frame so far: a segment's pixels depend on the frames
    # before it (and on the frame count, which sets how densely the trace is sampled).
    trace = "trace" in plan.panels
    traced = np.stack([f.t, f.forward_kl, f.reverse_kl], axis=1) if trace else None
    history = hashlib.sha256(str(len(f)).encode())
    done = 0
    keys: dict[int, str] = {}
    for k in sorted(range(len(segments)), key=lambda k: segments[k].start):
        s = segments[k]
        arrays = [np.ascontiguousarray(getattr(f, name)[s.start:s.stop]) for name in names]
        shown = [plan.captions[c] if c >= 0 else "" for c in f.caption[s.start:s.stop]]
        before = ""
        if trace:
            history.update(np.ascontiguousarray(traced[done:s.start]).tobytes())
            done = s.start
            before = history.hexdigest()
            arrays.append(np.ascontiguousarray(f.t[s.start:s.stop]))
        keys[k] = segment_key(look, *(a.tobytes() for a in arrays), "\x00".join(shown), before)
    return [replace(s, key=keys[k]) for k, s in enumerate(segments)]


# -- drawing frames (in a worker process, or in this one) -------------------------------

_worker: dict[str, Any] = {}


def _manim_settings(video: VideoSettings, transparent: bool, scratch: Path, verbose: bool,
                    labels_dir: Path) -> dict:
    return {
        # Typeset labels and text are kept between renders, keyed by manim on their source.
        "tex_dir": str(labels_dir / "tex"), "text_dir": str(labels_dir / "text"),
        "pixel_width": video.width, "pixel_height": video.height,
        "frame_height": 8.0, "frame_width": 8.0 * video.width / video.height,
        "frame_rate": float(video.fps), "transparent": transparent,
        "disable_caching": True, "save_last_frame": False,
        "media_dir": str(scratch / "manim"), "verbosity": "WARNING" if verbose else "ERROR",
        "progress_bar": "none",
    }


class FrameDrawer:
    """A scene set up for one plan; draws any frame of it to RGBA pixels."""

    def __init__(self, plan: ScenePlan, video: VideoSettings, transparent: bool, scratch: Path,
                 verbose: bool = False, labels_dir: Path | None = None):
        import logging

        import manim

        from kldemo.scenes.kl_scene import KLScene

        logging.getLogger("manim").setLevel(logging.WARNING if verbose else logging.ERROR)
        if labels_dir is None:
            from kldemo.storage.cache import default_cache_dir

            labels_dir = default_cache_dir() / "labels"
        settings = _manim_settings(video, transparent, scratch, verbose, labels_dir)
        for key, value in settings.items():
            manim.config[key] = value
        self.plan = plan
        self.scene = KLScene(plan)
        # manim writes the SVGs of text and TeX into a folder that every kldemo process
        # shares: build one scene at a time.
        with _lock(labels_dir / "build.lock"):
            self.scene.build()
        self._last: bytes | None = None

    def _state_key(self, i: int) -> bytes:
        f = self.plan.frames
        names = ["p_weights", "p_means", "p_stds", "q_weights", "q_means", "q_stds", "caption"]
        if f.optimum is not None:
            names.append("optimum")  # markers appear once p has come to rest
        if "trace" in self.plan.panels:
            names.append("t")  # the trace grows during holds too
        return b"".join(np.asarray(getattr(f, n)[i]).tobytes() for n in names)

    def draw(self, i: int) -> np.ndarray | None:
        """The RGBA pixels (height, width, 4) of frame i, or None when they are those of
        the frame drawn last (a still moment: a hold).

        The array is the camera's buffer, valid until the next call.
        """
        key = self._state_key(i)
        if key == self._last:
            return None
        self._last = key
        return self.scene.capture(i, copy=False)

    def forget(self) -> None:
        """Draw the next frame even if it shows the state drawn last."""
        self._last = None

    def image(self, i: int) -> np.ndarray:
        """Frame i as a new RGBA array of its own."""
        self._last = None
        return np.array(self.draw(i), copy=True)


def _drawer(plan: ScenePlan, video: VideoSettings, transparent: bool, scratch: Path,
            verbose: bool, labels_dir: Path | None = None) -> FrameDrawer:
    """The drawer for this plan: built once, in the parent, and inherited by forked workers."""
    token = (id(plan), video, transparent)
    if _worker.get("token") != token:
        _worker["drawer"] = FrameDrawer(plan, video, transparent, scratch, verbose, labels_dir)
        _worker["token"] = token
    return _worker["drawer"]


@contextlib.contextmanager
def _lock(path: Path):
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def render_segment(plan: ScenePlan, video: VideoSettings, transparent: bool, segment: Segment,
                   scratch: Path, verbose: bool = False, into: Path | None = None) -> Path:
    """Encode the frames of one segment into a new file in ``into`` (default: ``scratch``);
    return its path."""
    from kldemo.rendering.video import SegmentEncoder

    drawer = _drawer(plan, video, transparent, scratch, verbose)
    fd, name = tempfile.mkstemp(prefix=f"{segment.key[:16]}.", suffix=video.suffix,
                                dir=into or scratch)
    os.close(fd)
    path = Path(name)
    encoder = SegmentEncoder(path, video)
    try:
        drawer.forget()  # a segment starts with a drawn frame, whatever was drawn before
        for i in range(segment.start, segment.stop):
            pixels = drawer.draw(i)
            if pixels is None:
                encoder.repeat()
            else:
                encoder.write(pixels)
        encoder.close()
    except BaseException:
        encoder.abort()
        path.unlink(missing_ok=True)
        raise
    return path


def _worker_init() -> None:
    # Workers leave Ctrl-C to the parent, which stops them; SIGTERM unwinds them cleanly
    # so that their temporary files are removed.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _raise_interrupt)


def _worker_render(index: int) -> tuple[int, Path]:
    job = _worker["job"]
    return index, render_segment(job["plan"], job["video"], job["transparent"],
                                 job["segments"][index], job["scratch"], job["verbose"],
                                 job["into"])


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def render_segments(plan: ScenePlan, video: VideoSettings, transparent: bool,
                    segments: list[Segment], scratch: Path, jobs: int, verbose: bool,
                    on_done, into: Path | None = None) -> dict[int, Path]:
    """Render segments, in ``jobs`` worker processes when more than one; return their files
    (in ``into``, default ``scratch``)."""
    done: dict[int, Path] = {}
    if jobs <= 1 or len(segments) <= 1:
        for index, segment in enumerate(segments):
            done[index] = render_segment(plan, video, transparent, segment, scratch, verbose, into)
            on_done(index, done[index])
        return done

    import multiprocessing

    _drawer(plan, video, transparent, scratch, verbose)  # built once, inherited by workers
    _worker["job"] = {"plan": plan, "video": video, "transparent": transparent,
                      "segments": segments, "scratch": scratch, "verbose": verbose, "into": into}
    context = multiprocessing.get_context("fork")
    pool = ProcessPoolExecutor(max_workers=min(jobs, len(segments)), mp_context=context,
                               initializer=_worker_init)
    # Longest first, so that no long segment starts last.
    order = sorted(range(len(segments)), key=lambda i: -len(segments[i]))
    try:
        pending = {pool.submit(_worker_render, i) for i in order}
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                index, path = future.result()
                done[index] = path
                on_done(index, path)
    except BaseException:
        _stop_pool(pool)
        for path in done.values():
            path.unlink(missing_ok=True)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        _worker.pop("job", None)
    return done


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    processes = list((pool._processes or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        with contextlib.suppress(ProcessLookupError, AttributeError):
            if process.is_alive():
                process.terminate()
    for process in processes:
        process.join(timeout=5)
        if process.is_alive():
            process.kill()
            process.join()


# -- one config -------------------------------------------------------------------------


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
    warnings: list[str] = field(default_factory=list)   # e.g. a fit that did not converge


STILL_FORMATS = ("png",)
VECTOR_SUFFIXES = (".svg", ".pdf")


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
            raise UsageError(f"-o {target}: kldemo cannot write {suffix} files; render writes "
                             f"{_listed(FORMATS)} (png: the last frame), named by its suffix")
        suffix = suffix.lstrip(".")
        if options.fmt and options.fmt != suffix:
            raise UsageError(f"--format {options.fmt} and -o {target} disagree; name the output "
                             f"FILE.{options.fmt}, or leave --format out")
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
    """Where ``still`` writes: -o, which must name a PNG; default media/<name>-<T>.png."""
    if output is None:
        return Path("media") / f"{config.stem}-{at:g}.png"
    suffix = output.suffix.lower()
    if suffix in VECTOR_SUFFIXES:
        raise UsageError(f"-o {output}: vector stills ({', '.join(VECTOR_SUFFIXES)}) are not "
                         f"supported yet; still writes {_listed(STILL_FORMATS)}: name it "
                         f"{output.with_suffix('.png')}")
    if suffix.lstrip(".") not in STILL_FORMATS:
        what = f"{suffix} files" if suffix else "files without a suffix"
        raise UsageError(f"-o {output}: kldemo cannot write {what}; still writes "
                         f"{_listed(STILL_FORMATS)}: name it {output.with_suffix('.png')}")
    return output


def render_config(config: LoadedConfig, options: RenderOptions, target: Path, fmt: str,
                  progress: Progress) -> Outcome:
    from kldemo.storage.cache import SegmentCache, default_cache_dir

    began = time.perf_counter()
    labels = resolve_labels(config, options)
    width, height = options.size
    if fmt != "png" and (width % 2 or height % 2):
        raise UsageError(f"-r {width},{height}: video needs an even width and height")
    plan = build_plan(config, options.frame_rate, labels)
    timeline_length = len(plan.frames) / options.frame_rate
    if fmt == "png":
        return _render_png(config, plan, options, target, began)

    video = VideoSettings.for_format(fmt, width, height, options.frame_rate,
                                     options.transparent)
    timeline = Timeline.from_config(config.model)
    segments = segment_keys(plan, video, options.transparent,
                            cut_segments(timeline, len(plan.frames), options.frame_rate))

    cache = None if options.no_cache else SegmentCache(options.cache_dir or default_cache_dir())
    with contextlib.ExitStack() as stack:
        if cache is None:
            scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="kldemo-")))
        else:
            scratch = cache.scratch()
            # Links to the cached segments this render uses, held until the join is done,
            # and the segments it is writing.
            held = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="held-",
                                                                        dir=scratch)))
        files: dict[int, Path] = {}
        todo: list[int] = []
        for index, segment in enumerate(segments):
            found = cache.get(segment.key, video.suffix, into=held) if cache else None
            if found is not None:
                files[index] = found
            else:
                todo.append(index)
        progress.start(config.path, len(plan.frames), sum(len(segments[i]) for i in todo),
                       len(segments) - len(todo))

        def finished(j: int, path: Path) -> None:
            segment = segments[todo[j]]
            if cache is None:
                files[todo[j]] = path
            else:
                # Held before it is shared, so that no other process's clear or eviction
                # can take it away; a segment of the same key as an earlier one reuses its link.
                link = held / f"{segment.key}{video.suffix}"
                if not link.exists():
                    os.link(path, link)
                cache.put(segment.key, video.suffix, path)
                files[todo[j]] = link
            progress.advance(len(segment))

        if todo:  # the scene, built here once (and inherited by forked workers)
            _drawer(plan, video, options.transparent, scratch, options.verbose, options.labels_dir)
        # Written into this render's own folder: whatever an interrupt leaves there goes with it.
        render_segments(plan, video, options.transparent, [segments[i] for i in todo], scratch,
                        options.workers, options.verbose, finished, held if cache else None)
        with atomic_path(target) as temporary:
            from kldemo.rendering.video import join_segments

            join_segments([files[i] for i in range(len(segments))], temporary, fmt, video)
        if cache is not None:
            cache.evict(keep={s.key for s in segments})
    seconds = time.perf_counter() - began
    status = "ok" if todo else "cached"
    progress.finish(config.path, target, seconds)
    return Outcome(config.path, status, target, timeline_length, seconds,
                   segments=len(segments), rendered=len(todo))


def _render_png(config, plan, options, target, began) -> Outcome:
    """png: the video's last frame as one image."""
    path = render_still_plan(plan, len(plan.frames) - 1, target, options)
    return Outcome(config.path, "ok", path, len(plan.frames) / options.frame_rate,
                   time.perf_counter() - began)


def render_still_plan(plan: ScenePlan, index: int, target: Path, options: RenderOptions) -> Path:
    from PIL import Image

    width, height = options.size
    video = VideoSettings.for_format("mp4", width, height, options.frame_rate, options.transparent)
    with tempfile.TemporaryDirectory(prefix="kldemo-") as scratch:
        drawer = FrameDrawer(plan, video, options.transparent, Path(scratch), options.verbose,
                             options.labels_dir)
        pixels = drawer.image(index)
    with atomic_path(target) as temporary:
        Image.fromarray(pixels, "RGBA").save(temporary, format="PNG")
    return target


def render_still(config: LoadedConfig, at: float, output: Path | None,
                 options: RenderOptions) -> Path:
    """The frame the video shows at time ``at``, as a PNG."""
    target = still_output(config.path, at, output)
    timeline = Timeline.from_config(config.model)
    for warning in timeline.fit_warnings():
        print(f"{config.path}: warning: {warning}", file=sys.stderr)
    fps = options.frame_rate
    frames = len(timeline.frame_times(fps))
    if not (math.isfinite(at) and 0 <= at <= timeline.duration):
        raise UsageError(f"--at {at:g}: the video runs from 0 to {timeline.duration:g} s")
    index = min(frames - 1, math.floor(at * fps + 1e-9))
    labels = resolve_labels(config, options)
    check_writable(target)
    plan = build_plan(config, fps, labels)
    return render_still_plan(plan, index, target, options)


# -- several configs --------------------------------------------------------------------


def shard(configs: list[Path], index: int, count: int) -> list[Path]:
    """Slice ``index`` (1-based) of ``count`` of the configs sorted by path."""
    ordered = sorted(configs, key=lambda p: p.as_posix())
    size, extra = divmod(len(ordered), count)
    start = (index - 1) * size + min(index - 1, extra)
    return ordered[start:start + size + (1 if index <= extra else 0)]


def plan_outputs(configs: list[Path], options: RenderOptions) -> dict[Path, tuple[Path, str]]:
    """Each config's output file and format, checked before anything renders.

    Decided over every config given, before ``--shard`` picks a slice, so that each shard
    of a CI matrix names its outputs alike and refuses the same collisions.
    """
    several = len(configs) > 1
    if several and options.output is not None and not names_folder(options.output):
        raise UsageError(f"-o {options.output}: with several configs, -o names a folder "
                         "(one that exists, or a name without a suffix)")
    outputs: dict[Path, tuple[Path, str]] = {}
    writers: dict[Path, Path] = {}  # every file a config writes -> that config
    for config in sorted(dict.fromkeys(configs), key=lambda p: p.as_posix()):
        fmt = output_format(options, None if several else options.output)
        options.for_format(fmt)  # an impossible frame rate is refused before anything renders
        target = output_path(config, options, fmt, several)
        written = [target, contact_sheet_path(target)] if options.contact_sheet else [target]
        for path in written:
            other = writers.setdefault(path.resolve(), config)
            if other != config:
                raise UsageError(
                    f"{other} and {config} would both write {path}; rename one of them, "
                    "or render them in separate runs with different -o folders")
        outputs[config] = (target, fmt)
    return outputs


def contact_sheet_path(target: Path) -> Path:
    """``<stem>.contact.png`` beside the video."""
    return target.with_name(f"{target.stem}.contact.png")


def render_one(config: Path, options: RenderOptions, target: Path, fmt: str,
               progress: Progress) -> Outcome:
    """Load, render and (with --contact-sheet) draw the sheet of one config.

    A bad file is ``invalid`` and a render that raises is ``failed``, with their errors;
    neither is raised, so that the other configs of a batch go on.
    """
    from kldemo.timeline import load

    began = time.perf_counter()
    options = options.for_format(fmt)
    try:
        checked = load(config)
        loaded = checked.config
        check_writable(target)  # before the work, not after it
        warnings = checked.timeline.fit_warnings()
        for warning in warnings:
            progress.error(f"{config}: warning: {warning}")
        outcome = render_config(loaded, options, target, fmt, progress)
        outcome.warnings = warnings
        if options.contact_sheet:
            from kldemo.rendering.contact import write_contact_sheet

            outcome.contact_sheet = write_contact_sheet(
                loaded, options, contact_sheet_path(target))
            progress.note(f"{config.name}: wrote {outcome.contact_sheet}")
    except ConfigError as error:
        for diagnostic in error.diagnostics:
            progress.error(str(diagnostic))
        outcome = Outcome(config, "invalid", errors=list(error.diagnostics))
    except (KeyboardInterrupt, SystemExit, UsageError):
        raise
    except Exception as error:  # a failed render must not stop the other configs
        failure = Diagnostic(str(config), None, None, "", str(error) if isinstance(
            error, RenderError) else f"render failed: {type(error).__name__}: {error}")
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
        return 2
    if any(o.status == "failed" for o in outcomes):
        return 1
    return 0


def render_many(configs: list[Path], options: RenderOptions) -> int:
    """Render every config; one bad file does not stop the others. Returns the exit status."""
    from kldemo.batch.report import write_report

    outputs = plan_outputs(configs, options)
    chosen = list(outputs)
    if options.shard:
        chosen = shard(chosen, *options.shard)
    progress = Progress.create(options.progress)
    if options.shard and not chosen:
        progress.note(f"shard {options.shard[0]}/{options.shard[1]}: no config in this slice "
                      f"of {len(outputs)}")
    outcomes = [render_one(config, options, *outputs[config], progress) for config in chosen]
    status = exit_status(outcomes)
    if options.report:
        write_report(options.report, outcomes, shard=options.shard, exit_status=status)
    if len(outputs) > 1:
        progress.summary(outcomes, "shard {}/{}: ".format(*options.shard) if options.shard else "")
    return status


__all__ = ["RenderError", "RenderOptions", "render_many", "render_still", "sys"]
