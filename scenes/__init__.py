"""The manim side of kldemo: the scene and its reusable mobjects.

What it draws comes from a :class:`kldemo.plan.ScenePlan`, which is free of manim; the
scene's modules are imported lazily, so that importing this package does not import manim.
"""

from __future__ import annotations

from typing import Any

from kldemo.plan.frames import FrameStates, Optimum, ScenePlan

#: The version of the picture: bump it with every change to how any frame looks, so that
#: segments cached by an earlier look are never spliced into a new video. The control
#: frames' test (tests/test_control_frames.py) refuses a changed picture without a bump.
LOOK_VERSION = 2

_LAZY = {
    "KLScene": "kl_scene",
    "DensityAxes": "mobjects",
    "DensityCurve": "mobjects",
    "DivergenceBar": "mobjects",
    "IntegrandPanel": "mobjects",
    "OptimumMarker": "mobjects",
    "TracePanel": "mobjects",
    "GlyphNumber": "mobjects",
    "GlyphSet": "mobjects",
    "sample_density": "mobjects",
    "format_nats": "mobjects",
}

__all__ = ["FrameStates", "Optimum", "ScenePlan", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f".{module}", __name__), name)
