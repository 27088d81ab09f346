"""A video's segments and their keys.

A video is cut into segments at every keyframe's transition and hold (long transitions
into pieces of at most :data:`SEGMENT_FRAMES`). Each segment is keyed by everything that
decides its pixels and bytes, so that a segment found in the cache under its key is the
one that would be drawn. Frames are pure functions of time, so the output does not depend
on how the work was split.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from kldemo import __version__

if TYPE_CHECKING:
    from kldemo.plan.frames import ScenePlan
    from kldemo.rendering.video import VideoSettings
    from kldemo.timeline import Timeline

SEGMENT_FRAMES = 60


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


def segment_keys(
    plan: ScenePlan, video: VideoSettings, transparent: bool, segments: list[Segment]
) -> list[Segment]:
    """Each segment with the key of everything that decides its pixels and bytes: the
    drawing and encoding versions (:func:`look_version`), kldemo's and manim's, the output
    settings, the plan's look and each segment's frames."""
    import manim

    from kldemo.core.registry import DIVERGENCES
    from kldemo.storage.cache import segment_key

    look = repr(
        (
            __version__,
            manim.__version__,
            look_version(),
            video,
            transparent,
            plan.x_range,
            plan.y_range,
            plan.bar_max,
            plan.theme,
            plan.p_color,
            plan.q_color,
            plan.labels,
            plan.title,
            plan.bars,
            plan.panels,
            plan.integrand_range,
            plan.optima,
            plan.digits,
            *((plan.contours,) if plan.dims == 2 else ()),  # 1-D keys stay as they were
            *(
                _digest(plan.histogram, plan.points)
                if plan.histogram or plan.points is not None
                else ()
            ),
            # The trace panel's time axis spans the video: only it makes the length matter.
            plan.duration if "trace" in plan.panels else None,
        )
    )
    f = plan.frames
    # Hashed in this order: p's and q's parameters, the divergences, the markers, the
    # caption's opacity (a fade).
    columns = [
        *f.p,
        *f.q,
        *(getattr(f, d.column) for d in DIVERGENCES.values()),
        f.optimum,
        f.caption_opacity,
    ]
    columns = [array for array in columns if array is not None]
    # The trace panel draws every frame so far: a segment's pixels depend on the frames
    # before it (and on the frame count, which sets how densely the trace is sampled).
    trace = "trace" in plan.panels
    traced = np.stack([f.t, f.forward_kl, f.reverse_kl], axis=1) if trace else None
    history = hashlib.sha256(str(len(f)).encode())
    done = 0
    keys: dict[int, str] = {}
    for k in sorted(range(len(segments)), key=lambda k: segments[k].start):
        s = segments[k]
        arrays = [np.ascontiguousarray(array[s.start : s.stop]) for array in columns]
        shown = [plan.captions[c] if c >= 0 else "" for c in f.caption[s.start : s.stop]]
        before = ""
        if trace:
            history.update(np.ascontiguousarray(traced[done : s.start]).tobytes())
            done = s.start
            before = history.hexdigest()
            arrays.append(np.ascontiguousarray(f.t[s.start : s.stop]))
        keys[k] = segment_key(look, *(a.tobytes() for a in arrays), "\x00".join(shown), before)
    return [replace(s, key=keys[k]) for k, s in enumerate(segments)]


def _digest(*arrays: object) -> tuple[str]:
    """The SHA-256 of a data p's drawn samples (a histogram's edges and heights, or points)."""
    digest = hashlib.sha256()
    for array in arrays:
        for part in array if isinstance(array, tuple) else (array,):
            if part is not None:
                digest.update(np.ascontiguousarray(part, dtype=float).tobytes())
    return (digest.hexdigest(),)
