"""``kldemo still``, and ``render`` to png: one frame of the video, as a PNG."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from kldemo.errors import UsageError
from kldemo.plan.build import build_plan
from kldemo.rendering.drawer import FrameDrawer
from kldemo.rendering.options import RenderOptions, resolve_labels
from kldemo.rendering.video import VideoSettings
from kldemo.storage.files import atomic_path, check_writable

if TYPE_CHECKING:
    from kldemo.plan.frames import ScenePlan
    from kldemo.timeline import Loaded


def render_still(loaded: Loaded, at: float, target: Path, options: RenderOptions) -> Path:
    """Write the frame the video shows at time ``at`` to ``target`` (a PNG)."""
    timeline, fps = loaded.timeline, options.frame_rate
    frames = len(timeline.frame_times(fps))
    if not (math.isfinite(at) and 0 <= at <= timeline.duration):
        raise UsageError(f"--at {at:g}: the video runs from 0 to {timeline.duration:g} s")
    index = min(frames - 1, math.floor(at * fps + 1e-9))
    labels = resolve_labels(loaded.config, options)
    check_writable(target)
    plan = build_plan(loaded, fps, labels)
    return render_still_plan(plan, index, target, options)


def render_still_plan(plan: ScenePlan, index: int, target: Path, options: RenderOptions) -> Path:
    """Draw frame ``index`` of ``plan`` as the video would, and write it to ``target``."""
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
