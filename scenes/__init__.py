"""The manim side of kldemo: the scene, its layout and its reusable mobjects.

What it draws comes from a :class:`kldemo.plan.ScenePlan`, which is free of manim; the
scene's modules are imported lazily, so that importing this package does not import manim.

Modules: ``layout`` (where each part goes, a pure function of sizes), ``numbers`` (number
and tick text), ``sampling`` (densities and integrands sampled for drawing) and ``labels``
(where the curves' names go) are free of manim, as are, for 2-D plans, ``plane_layout``
(the plot carved at equal scale) and ``contours`` (HDR levels, contour lines by contourpy,
the names' places); ``text`` (Pango and TeX labels, glyphs, legends), ``paths``, ``axes``,
``bars``, ``panels``, ``markers``, ``camera``, ``kl_scene`` (the :class:`KLScene`),
``plane_axes`` and ``plane_scene`` (the :class:`PlaneScene`) draw.
"""

from __future__ import annotations

from typing import Any

from kldemo.plan.frames import FrameStates, Optimum, PlaneOptimum, ScenePlan

#: The version of the picture: bump it with every change to how any frame looks, so that
#: segments cached by an earlier look are never spliced into a new video. The control
#: frames' test (tests/test_control_frames.py) refuses a changed picture without a bump.
LOOK_VERSION = 3

_LAZY = {
    "KLScene": "kl_scene",
    "PlaneScene": "plane_scene",
    "PlaneAxes": "plane_axes",
    "DensityContours": "plane_axes",
    "hdr_log_levels": "contours",
    "plane_layout": "plane_layout",
    "KLCamera": "camera",
    "DensityAxes": "axes",
    "DensityCurve": "axes",
    "DivergenceBar": "bars",
    "IntegrandPanel": "panels",
    "TracePanel": "panels",
    "OptimumMarker": "markers",
    "GlyphNumber": "text",
    "GlyphSet": "text",
    "sample_density": "sampling",
    "sample_integrands": "sampling",
    "format_nats": "numbers",
    "compute_layout": "layout",
}

__all__ = ["FrameStates", "Optimum", "PlaneOptimum", "ScenePlan", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f".{module}", __name__), name)
