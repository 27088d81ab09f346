"""Vector stills: one frame drawn through Cairo's SVG or PDF surface instead of its pixel one.

The scene is drawn by manim's Cairo camera; here the same camera code draws onto a Cairo
context made from an :class:`cairo.SVGSurface` or :class:`cairo.PDFSurface`, with the
transform the camera sets for its pixel surface (frame coordinates scaled and flipped onto
the page), so that the figure is the video's frame as curves, not a picture of it.

Text comes out as paths: manim's ``Text`` (Pango) and ``MathTex`` (LaTeX through dvisvgm)
are outlines already, so a figure needs no fonts to show, and its text cannot be selected.
Nothing is rasterised: a part that manim would draw as pixels (an image, a point cloud, a
background-coloured VMobject) is refused rather than pasted in as a picture.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

import cairo
import numpy as np
from manim import VMobject

from kldemo.errors import RenderError
from kldemo.rendering.formats import VECTOR_FORMATS
from kldemo.scenes.camera import KLCamera

if TYPE_CHECKING:
    from collections.abc import Iterable

    from manim import Mobject

    from kldemo.rendering.drawer import FrameDrawer

#: The page's width in points: 6.4 in, a figure's usual width (matplotlib's default). LaTeX's
#: ``\includegraphics[width=...]`` scales it to the column; the height follows the frame.
PAGE_WIDTH_PT = 460.8


def page_size(width: int, height: int) -> tuple[float, float]:
    """The page in points for a frame of ``width`` x ``height`` pixels: its aspect ratio."""
    return PAGE_WIDTH_PT, PAGE_WIDTH_PT * height / width


class VectorCamera(KLCamera):
    """The scene's camera, drawing onto a given Cairo context instead of its pixel array.

    manim swaps red and blue when it sets a colour, because its image surface stores pixels
    as BGRA in memory; a vector surface takes colours as they are, so they are set unswapped
    here. Fully transparent fills and strokes are left out: they would draw nothing, yet
    fill the file with invisible paths.
    """

    def __init__(self, ctx: cairo.Context, **kwargs: Any):
        super().__init__(**kwargs)
        self.vector_ctx = ctx

    def get_cairo_context(self, pixel_array: np.ndarray) -> cairo.Context:
        return self.vector_ctx

    def set_cairo_context_color(
        self, ctx: cairo.Context, rgbas: np.ndarray, vmobject: VMobject
    ) -> VectorCamera:
        if len(rgbas) == 1:
            ctx.set_source_rgba(*rgbas[0][:3], rgbas[0][3])
            return self
        start, end = self.transform_points_pre_display(
            vmobject, vmobject.get_gradient_start_and_end_points()
        )
        pattern = cairo.LinearGradient(*start[:2], *end[:2])
        for rgba, offset in zip(rgbas, np.linspace(0, 1, len(rgbas)), strict=True):
            pattern.add_color_stop_rgba(offset, *rgba[:3], rgba[3])
        ctx.set_source(pattern)
        return self

    def apply_fill(self, ctx: cairo.Context, vmobject: VMobject) -> VectorCamera:
        if np.any(self.get_fill_rgbas(vmobject)[:, 3] > 0):
            super().apply_fill(ctx, vmobject)
        return self

    def apply_stroke(
        self, ctx: cairo.Context, vmobject: VMobject, background: bool = False
    ) -> VectorCamera:
        if np.any(self.get_stroke_rgbas(vmobject, background)[:, 3] > 0):
            super().apply_stroke(ctx, vmobject, background)
        return self

    def capture_mobjects(self, mobjects: Iterable[Mobject], **kwargs: Any) -> None:
        drawn = self.get_mobjects_to_display(mobjects, **kwargs)
        raster = [m for m in drawn if not isinstance(m, VMobject) or m.get_background_image()]
        if raster:
            kinds = ", ".join(sorted({type(m).__name__ for m in raster}))
            raise RenderError(
                f"a vector still cannot draw {kinds} without rasterising it; write a PNG instead"
            )
        self.display_multiple_vectorized_mobjects(drawn, self.pixel_array)


def vector_figure(
    drawer: FrameDrawer, index: int, fmt: str, transparent: bool, title: str | None = None
) -> bytes:
    """Frame ``index`` of ``drawer``'s scene as an SVG or PDF document (``fmt``).

    The page is :func:`page_size` of the frame; the theme's background fills it unless
    ``transparent``; ``title`` goes into the PDF's metadata.
    """
    scene = drawer.scene
    with drawer.configured():
        from manim import config

        width, height = page_size(config.pixel_width, config.pixel_height)
        buffer = io.BytesIO()
        surface = _surface(fmt, buffer, width, height, title)
        ctx = cairo.Context(surface)
        if not transparent:
            ctx.set_source_rgb(*scene.renderer.camera.background_color.to_rgb())
            ctx.paint()
        fw, fh = config.frame_width, config.frame_height
        centre = scene.renderer.camera.frame_center
        # The matrix manim's Camera.get_cairo_context sets, with the page's size in points
        # for the pixel size: x right, y up, the frame's centre in the page's middle.
        ctx.set_matrix(
            cairo.Matrix(
                width / fw,
                0,
                0,
                -height / fh,
                width / 2 - centre[0] * width / fw,
                height / 2 + centre[1] * height / fh,
            )
        )
        camera = VectorCamera(ctx, background_color=scene.renderer.camera.background_color)
        scene.show(index)
        # In the video's order: what stays put first, then what moves, on top.
        camera.capture_mobjects(scene.static_parts)
        camera.capture_mobjects(scene.moving_parts)
        surface.finish()
    return buffer.getvalue()


def _surface(
    fmt: str, buffer: io.BytesIO, width: float, height: float, title: str | None
) -> cairo.Surface:
    if fmt == "svg":
        surface = cairo.SVGSurface(buffer, width, height)
        surface.set_document_unit(cairo.SVGUnit.PT)
        return surface
    if fmt == "pdf":
        surface = cairo.PDFSurface(buffer, width, height)
        surface.set_metadata(cairo.PDFMetadata.CREATOR, "kldemo")
        if title:
            surface.set_metadata(cairo.PDFMetadata.TITLE, title)
        return surface
    raise ValueError(f"not a vector format: {fmt!r} (known: {', '.join(VECTOR_FORMATS)})")
