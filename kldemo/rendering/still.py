"""``kldemo still``, and ``render`` to png: one frame of the video, as a PNG, an SVG or a PDF.

The target's suffix decides: ``.png`` is the frame's pixels, ``.svg`` and ``.pdf`` the same
frame drawn as vectors (:mod:`kldemo.rendering.vector`).
"""

from __future__ import annotations

import dataclasses
import math
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from kldemo.errors import UsageError
from kldemo.plan.build import build_plan
from kldemo.rendering.drawer import FrameDrawer
from kldemo.rendering.formats import VECTOR_FORMATS
from kldemo.rendering.options import RenderOptions, resolve_labels
from kldemo.rendering.video import VideoSettings
from kldemo.storage.files import atomic_path, check_writable

if TYPE_CHECKING:
    from kldemo.plan.frames import ScenePlan
    from kldemo.timeline import Loaded


def render_still(
    loaded: Loaded, at: float, target: Path, options: RenderOptions, bare: bool = False
) -> Path:
    """Write the frame the video shows at time ``at`` to ``target`` (PNG, SVG or PDF, by its
    suffix); ``bare`` leaves out the title and the caption (a figure with its own)."""
    timeline, fps = loaded.timeline, options.frame_rate
    frames = len(timeline.frame_times(fps))
    if not (math.isfinite(at) and 0 <= at <= timeline.duration):
        raise UsageError(f"--at {at:g}: the video runs from 0 to {timeline.duration:g} s")
    index = min(frames - 1, math.floor(at * fps + 1e-9))
    labels = resolve_labels(loaded.config, options)
    check_writable(target)
    plan = build_plan(loaded, fps, labels)
    return render_still_plan(plan, index, target, options, bare)


def bare_plan(plan: ScenePlan) -> ScenePlan:
    """``plan`` without its title and captions: the layout gives their room to the plot."""
    return dataclasses.replace(plan, title=None, captions=())


def render_still_plan(
    plan: ScenePlan, index: int, target: Path, options: RenderOptions, bare: bool = False
) -> Path:
    """Draw frame ``index`` of ``plan`` as the video would (``bare``: without its title and
    captions), and write it to ``target``; a PDF keeps the title in its metadata."""
    from PIL import Image

    width, height = options.size
    fmt = target.suffix.lower().lstrip(".")
    video = VideoSettings.for_format("mp4", width, height, options.frame_rate, options.transparent)
    title = plan.title
    if bare:
        plan = bare_plan(plan)
    with tempfile.TemporaryDirectory(prefix="kldemo-") as scratch:
        drawer = FrameDrawer(
            plan, video, options.transparent, Path(scratch), options.verbose, options.labels_dir
        )
        if fmt in VECTOR_FORMATS:
            from kldemo.rendering.vector import vector_figure

            document = vector_figure(drawer, index, fmt, options.transparent, title)
        else:
            pixels = drawer.image(index)
    with atomic_path(target) as temporary:
        if fmt in VECTOR_FORMATS:
            temporary.write_bytes(document)
        else:
            Image.fromarray(pixels, "RGBA").save(temporary, format="PNG")
    return target
