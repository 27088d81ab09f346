"""``--contact-sheet``: one PNG of the state each keyframe ends in, to review a change.

Tile k shows the video's frame at the end of keyframe k's transition: the first frame of
its hold, ``ceil(t_k * fps)``, which shows the state the transition ends in; where the hold
is shorter than a frame (or ends the video), the transition's last frame,
``floor(t_k * fps)``. Tiles are drawn exactly as the video draws those frames (and as
``kldemo still --at T`` draws them). A file without keyframes gets one tile, its still. Tiles
run left to right, at most :data:`COLUMNS` a row, each under a label ``#k  t = T s``
giving the keyframe's number and the time of the frame shown. Tiles wider than
:data:`TILE_WIDTH` pixels are scaled down. The layout is also stored in the PNG as JSON
text under the key ``kldemo:tiles``: ``[{"keyframe", "t", "frame", "box": [x, y, w, h]}]``.
"""

from __future__ import annotations

import json
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kldemo.rendering.drawer import FrameDrawer
from kldemo.rendering.video import VideoSettings
from kldemo.storage.files import atomic_path

if TYPE_CHECKING:
    from kldemo.plan.frames import ScenePlan
    from kldemo.rendering.options import RenderOptions
    from kldemo.timeline import Loaded, Timeline

COLUMNS = 4
TILE_WIDTH = 480
MARGIN = 8
LABEL_HEIGHT = 20
BACKGROUNDS = {"dark": ((24, 24, 24), (235, 235, 235)), "light": ((240, 240, 240), (20, 20, 20))}


@dataclass(frozen=True)
class Tile:
    keyframe: int  # 1-based; 0 for the still of a file without keyframes
    frame: int
    t: float


def sheet_tiles(timeline: Timeline, fps: float) -> list[Tile]:
    """The frame that shows the state each keyframe's transition ends in."""
    frames = len(timeline.frame_times(fps))
    if not timeline.steps:
        return [Tile(0, 0, 0.0)]
    tiles = []
    for k, (end, held_until) in enumerate(
        zip(timeline.transition_ends, timeline.keyframe_ends, strict=True), start=1
    ):
        frame = math.ceil(float(end) * fps - 1e-9)
        if frame >= frames or frame / fps > held_until + 1e-9:  # no frame of the hold
            frame = min(frames - 1, math.floor(float(end) * fps + 1e-9))
        tiles.append(Tile(k, frame, frame / fps))
    return tiles


def write_contact_sheet(
    loaded: Loaded, plan: ScenePlan, options: RenderOptions, target: Path
) -> Path:
    """Draw the sheet of ``loaded`` as its video's ``plan`` at ``options`` shows it (the
    plan the video was drawn from); write it atomically."""
    from PIL import Image, ImageDraw
    from PIL.PngImagePlugin import PngInfo

    fps = options.frame_rate
    tiles = sheet_tiles(loaded.timeline, fps)
    width, height = options.size
    video = VideoSettings.for_format("mp4", width, height, fps, options.transparent)
    with tempfile.TemporaryDirectory(prefix="kldemo-") as scratch:
        drawer = FrameDrawer(
            plan, video, options.transparent, Path(scratch), options.verbose, options.labels_dir
        )
        with drawer.configured():
            images = [Image.fromarray(drawer.image(tile.frame), "RGBA") for tile in tiles]

    tile_w = min(width, TILE_WIDTH)
    tile_h = round(height * tile_w / width)
    if (tile_w, tile_h) != (width, height):
        images = [im.resize((tile_w, tile_h), Image.Resampling.LANCZOS) for im in images]
    columns = min(COLUMNS, len(tiles))
    rows = math.ceil(len(tiles) / columns)
    cell_h = LABEL_HEIGHT + tile_h
    size = (MARGIN + columns * (tile_w + MARGIN), MARGIN + rows * (cell_h + MARGIN))
    background, ink = BACKGROUNDS[plan.theme]
    sheet = Image.new("RGBA", size, (*background, 0 if options.transparent else 255))
    draw = ImageDraw.Draw(sheet)
    font = _font(LABEL_HEIGHT - 6)
    layout = []
    for n, (tile, image) in enumerate(zip(tiles, images, strict=True)):
        x = MARGIN + (n % columns) * (tile_w + MARGIN)
        y = MARGIN + (n // columns) * (cell_h + MARGIN)
        name = f"#{tile.keyframe}" if tile.keyframe else "still"
        draw.text((x + 2, y + 2), f"{name}  t = {tile.t:.2f} s", fill=(*ink, 255), font=font)
        sheet.alpha_composite(image, (x, y + LABEL_HEIGHT))
        layout.append(
            {
                "keyframe": tile.keyframe,
                "t": tile.t,
                "frame": tile.frame,
                "box": [x, y + LABEL_HEIGHT, tile_w, tile_h],
            }
        )

    info = PngInfo()
    info.add_text("kldemo:config", str(loaded.path))
    info.add_text("kldemo:tiles", json.dumps(layout))
    if not options.transparent:
        sheet = sheet.convert("RGB")
    with atomic_path(target) as temporary:
        sheet.save(temporary, format="PNG", pnginfo=info)
    return target


def _font(size: int):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except (TypeError, ImportError, OSError):  # Pillow without FreeType: its bitmap font
        return ImageFont.load_default()
