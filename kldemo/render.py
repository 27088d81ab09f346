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
import math
import os
import shutil
import signal
import sys
import tempfile
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from kldemo import __version__
from kldemo.errors import ConfigError, RenderError, UsageError
from kldemo.files import atomic_path
from kldemo.progress import Progress
from kldemo.timeline import Timeline
from kldemo.video import FORMATS, VideoSettings

if TYPE_CHECKING:
    from kldemo.config import LoadedConfig
    from kldemo.scenes.plan import ScenePlan

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
    quality: str = "h"
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

    @classmethod
    def from_cli(cls, options: dict[str, Any]) -> RenderOptions:
        names = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in options.items() if key in names})

    @property
    def size(self) -> tuple[int, int]:
        return self.resolution or QUALITIES[self.quality][:2]

    @property
    def frame_rate(self) -> float:
        return float(self.fps or QUALITIES[self.quality][2])

    @property
    def workers(self) -> int:
        return self.jobs or os.cpu_count() or 1


# -- the plan: every frame's state ------------------------------------------------------


def latex_available() -> bool:
    return shutil.which("latex") is not None and shutil.which("dvisvgm") is not None


def resolve_labels(config: LoadedConfig, options: RenderOptions) -> str:
    """tex or text; ``tex`` without LaTeX installed is an error before anything renders."""
    wanted = options.labels or config.model.style.labels
    if wanted == "auto":
        return "tex" if latex_available() else "text"
    if wanted == "tex" and not latex_available():
        message = ("labels: tex needs LaTeX (latex and dvisvgm on PATH); install it, or use "
                   "labels: text (or auto)")
        if options.labels:
            raise UsageError(f"--labels tex: {message}")
        raise ConfigError([config.document.diagnostic(("style", "labels"), message)])
    return wanted


def build_plan(config: LoadedConfig, fps: float, labels: str) -> ScenePlan:
    """Every frame's state and divergences, computed at once, and the fixed look."""
    from kldemo.table import divergences
    from kldemo.view import fit_bar_max, fit_x_range, fit_y_range, sample_times
    from kldemo.scenes.plan import FrameStates, ScenePlan

    model = config.model
    timeline = Timeline.from_config(model)
    states = timeline.state_at(timeline.frame_times(fps))
    forward, reverse = divergences(states.p, states.q)

    samples = timeline.state_at(sample_times(timeline))
    x_range = tuple(model.view.x_range) if model.view.x_range else fit_x_range(samples.p, samples.q)
    y_range = tuple(model.view.y_range) if model.view.y_range else fit_y_range(samples.p, samples.q, x_range)
    if model.style.bar_max == "auto":
        bar_max = fit_bar_max(np.concatenate(divergences(samples.p, samples.q)))
    else:
        bar_max = float(model.style.bar_max)

    captions = [s.caption for s in timeline.steps]
    caption_texts = tuple(dict.fromkeys(c for c in captions if c))
    caption_index = np.array([caption_texts.index(c) if c else -1 for c in captions] or [-1])
    frame_caption = caption_index[np.clip(states.segment, 0, None)] if timeline.steps else \
        np.full(len(states.t), -1)

    frames = FrameStates(
        t=states.t, p_weights=states.p.weights, p_means=states.p.means, p_stds=states.p.stds,
        q_weights=states.q.weights, q_means=states.q.means, q_stds=states.q.stds,
        forward_kl=forward, reverse_kl=reverse, caption=frame_caption,
    )
    style = model.style
    return ScenePlan(
        frames=frames, x_range=x_range, y_range=y_range, bar_max=bar_max, theme=style.theme,
        p_color=style.p_color, q_color=style.q_color, labels=labels, title=model.title,
        captions=caption_texts,
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
    for start, stop in zip(cuts, cuts[1:], strict=False):
        pieces = max(1, math.ceil((stop - start) / SEGMENT_FRAMES))
        bounds = np.linspace(start, stop, pieces + 1).round().astype(int)
        segments += [Segment(int(a), int(b)) for a, b in zip(bounds, bounds[1:], strict=False) if b > a]
    return segments


def segment_keys(plan: ScenePlan, video: VideoSettings, transparent: bool,
                 segments: list[Segment]) -> list[Segment]:
    """Each segment with the key of everything that decides its pixels and bytes."""
    import manim

    from kldemo.cache import segment_key

    look = repr((
        __version__, manim.__version__, video, transparent, plan.x_range, plan.y_range,
        plan.bar_max, plan.theme, plan.p_color, plan.q_color, plan.labels, plan.title,
    ))
    f = plan.frames
    keyed = []
    for s in segments:
        arrays = [np.ascontiguousarray(getattr(f, name)[s.start:s.stop]) for name in (
            "p_weights", "p_means", "p_stds", "q_weights", "q_means", "q_stds",
            "forward_kl", "reverse_kl")]
        shown = [plan.captions[c] if c >= 0 else "" for c in f.caption[s.start:s.stop]]
        key = segment_key(look, *(a.tobytes() for a in arrays), "\x00".join(shown))
        keyed.append(replace(s, key=key))
    return keyed


# -- drawing frames (in a worker process, or in this one) -------------------------------

_worker: dict[str, Any] = {}


def _manim_settings(video: VideoSettings, transparent: bool, scratch: Path, verbose: bool) -> dict:
    return {
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
                 verbose: bool = False):
        import logging

        import manim

        from kldemo.scenes.kl_scene import KLScene

        logging.getLogger("manim").setLevel(logging.WARNING if verbose else logging.ERROR)
        for key, value in _manim_settings(video, transparent, scratch, verbose).items():
            manim.config[key] = value
        self.plan = plan
        self.scene = KLScene(plan)
        self.scene.build()
        self._last: tuple[bytes, np.ndarray] | None = None

    def _state_key(self, i: int) -> bytes:
        f = self.plan.frames
        return b"".join(np.asarray(getattr(f, n)[i]).tobytes() for n in (
            "p_weights", "p_means", "p_stds", "q_weights", "q_means", "q_stds", "caption"))

    def draw(self, i: int) -> np.ndarray:
        """The RGBA pixels (height, width, 4) of frame i."""
        key = self._state_key(i)
        if self._last is not None and self._last[0] == key:
            return self._last[1]  # a still moment (a hold): the same pixels again
        pixels = np.array(self.scene.capture(i), copy=True)
        self._last = (key, pixels)
        return pixels


def _drawer(plan: ScenePlan, video: VideoSettings, transparent: bool, scratch: Path,
            verbose: bool) -> FrameDrawer:
    """The drawer for this plan: built once, in the parent, and inherited by forked workers."""
    token = (id(plan), video, transparent)
    if _worker.get("token") != token:
        # manim writes the SVGs of text and TeX into a folder shared by every kldemo
        # process using the cache: build one scene at a time.
        with _lock(scratch / "manim.lock"):
            _worker["drawer"] = FrameDrawer(plan, video, transparent, scratch, verbose)
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
                   scratch: Path, verbose: bool = False) -> Path:
    """Encode the frames of one segment into a new file in ``scratch``; return its path."""
    from kldemo.video import SegmentEncoder

    drawer = _drawer(plan, video, transparent, scratch, verbose)
    fd, name = tempfile.mkstemp(prefix=f"{segment.key[:16]}.", suffix=video.suffix, dir=scratch)
    os.close(fd)
    path = Path(name)
    encoder = SegmentEncoder(path, video)
    try:
        previous, repeat = None, 0
        for i in range(segment.start, segment.stop):
            pixels = drawer.draw(i)
            if pixels is previous:
                repeat += 1
                continue
            if previous is not None:
                encoder.write(previous, repeat)
            previous, repeat = pixels, 1
        if previous is not None:
            encoder.write(previous, repeat)
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
                                 job["segments"][index], job["scratch"], job["verbose"])


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def render_segments(plan: ScenePlan, video: VideoSettings, transparent: bool,
                    segments: list[Segment], scratch: Path, jobs: int, verbose: bool,
                    on_done) -> dict[int, Path]:
    """Render segments, in ``jobs`` worker processes when more than one; return their files."""
    done: dict[int, Path] = {}
    if jobs <= 1 or len(segments) <= 1:
        for index, segment in enumerate(segments):
            done[index] = render_segment(plan, video, transparent, segment, scratch, verbose)
            on_done(index, done[index])
        return done

    import multiprocessing

    _drawer(plan, video, transparent, scratch, verbose)  # built once, inherited by workers
    _worker["job"] = {"plan": plan, "video": video, "transparent": transparent,
                      "segments": segments, "scratch": scratch, "verbose": verbose}
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
    processes = list((pool._processes or {}).values())  # noqa: SLF001
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
    errors: list[str] | None = None
    segments: int = 0
    rendered: int = 0


def output_format(options: RenderOptions, target: Path | None) -> str:
    if options.fmt:
        fmt = options.fmt
    elif target is not None and target.suffix.lstrip(".").lower() in FORMATS:
        fmt = target.suffix.lstrip(".").lower()
    else:
        fmt = "mov" if options.transparent else "mp4"
    if options.transparent and fmt in ("mp4", "gif"):
        raise UsageError(f"--transparent needs mov, webm or png output, not {fmt}")
    return fmt


def output_path(config: Path, options: RenderOptions, fmt: str, several: bool) -> Path:
    """-o as a file (one config) or a folder (several); default media/<name>.<ext>."""
    name = f"{config.stem}.{fmt}"
    if options.output is None:
        return Path("media") / name
    if several or options.output.is_dir():
        return options.output / name
    return options.output


def render_config(config: LoadedConfig, options: RenderOptions, target: Path, fmt: str,
                  progress: Progress) -> Outcome:
    from kldemo.cache import SegmentCache, default_cache_dir

    began = time.perf_counter()
    labels = resolve_labels(config, options)
    width, height = options.size
    if fmt != "png" and (width % 2 or height % 2):
        raise UsageError(f"-r {width},{height}: video needs an even width and height")
    plan = build_plan(config, options.frame_rate, labels)
    timeline_length = len(plan.frames) / options.frame_rate
    if fmt == "png":
        return _render_png(config, plan, options, target, began)

    segment_format = "mp4" if fmt == "gif" else fmt
    video = VideoSettings.for_format(segment_format, width, height, options.frame_rate,
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
        files: dict[int, Path] = {}
        todo: list[int] = []
        for index, segment in enumerate(segments):
            found = cache.get(segment.key, video.suffix) if cache else None
            if found is not None:
                files[index] = found
            else:
                todo.append(index)
        progress.start(config.path, len(plan.frames), sum(len(segments[i]) for i in todo),
                       len(segments) - len(todo))

        def finished(j: int, path: Path) -> None:
            segment = segments[todo[j]]
            files[todo[j]] = cache.put(segment.key, video.suffix, path) if cache else path
            progress.advance(len(segment))

        render_segments(plan, video, options.transparent, [segments[i] for i in todo], scratch,
                        options.workers, options.verbose, finished)
        with atomic_path(target) as temporary:
            from kldemo.video import join_segments

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
        drawer = FrameDrawer(plan, video, options.transparent, Path(scratch), options.verbose)
        pixels = drawer.draw(index)
    with atomic_path(target) as temporary:
        Image.fromarray(pixels, "RGBA").save(temporary, format="PNG")
    return target


def render_still(config: LoadedConfig, at: float, output: Path | None, options: RenderOptions) -> Path:
    """The frame the video shows at time ``at``, as a PNG."""
    timeline = Timeline.from_config(config.model)
    fps = options.frame_rate
    frames = len(timeline.frame_times(fps))
    if not (math.isfinite(at) and 0 <= at <= timeline.duration):
        raise UsageError(f"--at {at:g}: the video runs from 0 to {timeline.duration:g} s")
    index = min(frames - 1, int(math.floor(at * fps + 1e-9)))
    labels = resolve_labels(config, options)
    plan = build_plan(config, fps, labels)
    target = output or Path("media") / f"{config.path.stem}-{at:g}.png"
    return render_still_plan(plan, index, target, options)


# -- several configs --------------------------------------------------------------------


def shard(configs: list[Path], index: int, count: int) -> list[Path]:
    """Slice ``index`` (1-based) of ``count`` of the configs sorted by path."""
    ordered = sorted(configs, key=lambda p: p.as_posix())
    size, extra = divmod(len(ordered), count)
    start = (index - 1) * size + min(index - 1, extra)
    return ordered[start:start + size + (1 if index <= extra else 0)]


def render_many(configs: list[Path], options: RenderOptions) -> int:
    """Render every config; one bad file does not stop the others. Returns the exit status."""
    from kldemo.config import load_config
    from kldemo.report import write_report

    if options.shard:
        configs = shard(configs, *options.shard)
    several = len(configs) > 1
    if several and options.output is not None and options.output.suffix.lstrip(".") in FORMATS \
            and not options.output.is_dir():
        raise UsageError(f"-o {options.output}: with several configs, -o names a folder")
    progress = Progress.create(options.progress)
    targets: dict[Path, Path] = {}
    plans: list[tuple[Path, Path | None, str | None]] = []
    for config in configs:
        fmt = output_format(options, None if several else options.output)
        target = output_path(config, options, fmt, several)
        if target.resolve() in targets:
            raise UsageError(f"{config} and {targets[target.resolve()]} would both write {target}")
        targets[target.resolve()] = config
        plans.append((config, target, fmt))

    outcomes: list[Outcome] = []
    for config, target, fmt in plans:
        began = time.perf_counter()
        try:
            loaded = load_config(config)
            outcome = render_config(loaded, options, target, fmt, progress)
        except ConfigError as error:
            for diagnostic in error.diagnostics:
                progress.error(str(diagnostic))
            outcome = Outcome(config, "invalid", errors=[str(d) for d in error.diagnostics])
        except (KeyboardInterrupt, SystemExit):
            raise
        except UsageError:
            raise
        except Exception as error:  # a failed render must not stop the other configs
            message = f"{config}: render failed: {type(error).__name__}: {error}"
            progress.error(message)
            if options.verbose:
                import traceback

                traceback.print_exc()
            outcome = Outcome(config, "failed", errors=[message])
        outcome.seconds = outcome.seconds or time.perf_counter() - began
        outcomes.append(outcome)
    if options.report:
        write_report(options.report, outcomes)
    if several:
        progress.summary(outcomes)
    if any(o.status == "invalid" for o in outcomes):
        return 2
    if any(o.status == "failed" for o in outcomes):
        return 1
    return 0


__all__ = ["RenderError", "RenderOptions", "render_many", "render_still", "sys"]
