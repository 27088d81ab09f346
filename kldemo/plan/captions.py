"""Which caption each frame shows, and how opaque: one rule for the video, ``kl`` and cues.

A keyframe's caption is shown from the start of its transition to the end of its hold;
keyframes in a row with the same caption show it as one span. The state of time t belongs
to the keyframe whose span [start, next start) holds t (:attr:`kldemo.timeline.States.segment`),
so a frame, a ``kl`` row and a subtitle cue agree on the caption at t.

A caption fades in over the first ``fade`` seconds of its span and out over the last
(:func:`caption_opacity`); where a span begins with the video or ends with it, the caption
is shown fully there, since nothing cuts in or out (the last frame, a ``png``, shows it
whole).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from kldemo.timeline import Timeline

_EDGE = 1e-9  # seconds: a span this close to the video's start or end begins or ends with it


def caption_texts(timeline: Timeline) -> tuple[str, ...]:
    """The distinct captions, in order of first appearance."""
    return tuple(dict.fromkeys(s.caption for s in timeline.steps if s.caption))


def caption_index(timeline: Timeline, segment: np.ndarray) -> np.ndarray:
    """Each time's index into :func:`caption_texts` (-1: none), from the keyframe whose
    span holds it (``segment``, as :meth:`kldemo.timeline.Timeline.state_at` gives it)."""
    texts = caption_texts(timeline)
    if not timeline.steps:
        return np.full(len(segment), -1)
    index = np.array([texts.index(s.caption) if s.caption else -1 for s in timeline.steps])
    return index[np.clip(segment, 0, None)]


def captions_at(timeline: Timeline, segment: np.ndarray) -> list[str | None]:
    """The caption shown at each time (None: none), as :func:`caption_index` finds it."""
    texts = caption_texts(timeline)
    return [texts[i] if i >= 0 else None for i in caption_index(timeline, segment)]


def caption_spans(timeline: Timeline) -> tuple[np.ndarray, np.ndarray]:
    """For each keyframe, the start and end (seconds) of the span its caption is shown in:
    from the first keyframe of its run of equal captions to the last one's hold's end."""
    steps = timeline.steps
    starts, ends = timeline.starts.copy(), timeline.keyframe_ends.copy()
    for i in range(1, len(steps)):
        if steps[i].caption == steps[i - 1].caption:
            starts[i] = starts[i - 1]
    for i in range(len(steps) - 2, -1, -1):
        if steps[i].caption == steps[i + 1].caption:
            ends[i] = ends[i + 1]
    return starts, ends


def caption_opacity(
    timeline: Timeline,
    t: np.ndarray,
    segment: np.ndarray,
    index: np.ndarray,
    fps: float,
    fade: float,
) -> np.ndarray:
    """Each frame's caption opacity, in [0, 1]: 0 where it shows none, else a ramp of
    ``fade`` seconds (shortened to half the span when the span is shorter) up from the
    span's start and down to its end; ``fade`` 0 is a cut (1 throughout).

    Frame k is on screen over [t_k, t_k + 1/fps); the ramp is read at the middle of the
    part of that interval inside the span, so that every frame of a span has an opacity
    above 0 and the frames that show a caption are exactly those :func:`caption_index`
    gives (and the subtitle cues time).
    """
    t = np.asarray(t, dtype=float)
    opacity = np.where(index >= 0, 1.0, 0.0)
    if fade <= 0 or not timeline.steps:
        return opacity
    starts, ends = caption_spans(timeline)
    seg = np.clip(segment, 0, None)
    start, end = starts[seg], ends[seg]
    middle = (t + np.minimum(t + 1 / fps, end)) / 2
    ramp = np.minimum(fade, (end - start) / 2)
    with np.errstate(divide="ignore", invalid="ignore"):  # a span of 0 s holds no frame
        # The video's own edges cut nothing (and sums of seconds differ in the last bits).
        rise = np.where(start > _EDGE, (middle - start) / ramp, np.inf)
        fall = np.where(end < timeline.duration - _EDGE, (end - middle) / ramp, np.inf)
    return np.where(index >= 0, np.clip(np.minimum(rise, fall), 0.0, 1.0), 0.0)
