"""The plan of a video: every frame's state and divergences, and the fixed look.

Built once per render from the timeline the file was checked with
(:func:`kldemo.timeline.load`), and read by everything that draws: the video's segments,
the still, the contact sheet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from kldemo.core.registry import DIVERGENCES, divergence_values
from kldemo.plan.captions import caption_index, caption_opacity, caption_texts
from kldemo.plan.frames import MAX_POINTS, FrameStates, ScenePlan
from kldemo.plan.plane_view import fit_plane_integrand_range, fit_plane_ranges
from kldemo.plan.view import (
    fit_bar_max,
    fit_integrand_range,
    fit_x_range,
    fit_y_range,
    optimum_markers,
    sample_times,
)

if TYPE_CHECKING:
    from kldemo.config.spec import ConfigSpec
    from kldemo.timeline import Loaded, Timeline


def build_plan(loaded: Loaded, fps: float, labels: str) -> ScenePlan:
    """Every frame's state and divergences at ``fps``, computed at once, and the fixed look
    (ranges, bar scale, colours, captions) that the file and its samples decide."""
    model, timeline = loaded.config.model, loaded.timeline
    style = model.style
    bars, panels = tuple(style.bars), tuple(model.panels)
    states = timeline.state_at(timeline.frame_times(fps))
    # Both KLs always (the trace panel and the bar scale use them); the bounded
    # divergences only for the bars shown (each is a quadrature per frame).
    bounded = [n for n in bars if DIVERGENCES[n].bound is not None]
    shown = divergence_values(states.p, states.q, ["forward", "reverse", *bounded])
    forward, reverse = shown.pop("forward"), shown.pop("reverse")

    optima, optimum = (), None
    if style.markers:
        optima, optimum = optimum_markers(timeline, states.t, states.p, _fit_family(model))
    histogram, points = _data_layer(loaded)
    x_range, y_range, bar_max, integrand_range = _view(model, timeline, histogram, optima)
    frame_caption = caption_index(timeline, states.segment)
    opacity = caption_opacity(
        timeline, states.t, states.segment, frame_caption, fps, style.caption_fade
    )

    frames = FrameStates(
        t=states.t,
        p=states.p,
        q=states.q,
        forward_kl=forward,
        reverse_kl=reverse,
        caption=frame_caption,
        optimum=optimum,
        caption_opacity=opacity,
        **{DIVERGENCES[name].column: values for name, values in shown.items()},
    )
    return ScenePlan(
        frames=frames,
        x_range=x_range,
        y_range=y_range,
        bar_max=bar_max,
        theme=style.theme,
        # Colours the file leaves out are the theme's (ScenePlan fills them in).
        p_color=style.p_color,
        q_color=style.q_color,
        labels=labels,
        title=model.title,
        captions=caption_texts(timeline),
        bars=bars,
        panels=panels,
        integrand_range=integrand_range,
        duration=timeline.duration,
        optima=tuple(optima),
        digits=style.digits,
        contours=style.contours,
        histogram=histogram,
        points=points,
    )


def _data_layer(loaded: Loaded) -> tuple[tuple[np.ndarray, np.ndarray] | None, np.ndarray | None]:
    """What a data p draws beneath its density: in 1-D a density-normalised histogram of the
    samples (numpy's ``auto`` bin rule), in 2-D the samples as points (a fixed random
    subsample of at most MAX_POINTS, so the picture does not depend on the file's order)."""
    data = loaded.config.data
    if data is None:
        return None, None
    samples = data.samples
    if samples.shape[1] == 1:
        edges = np.histogram_bin_edges(samples[:, 0], bins="auto")
        heights, _ = np.histogram(samples[:, 0], bins=edges, density=True)
        return (edges, heights), None
    if len(samples) > MAX_POINTS:
        chosen = np.sort(np.random.default_rng(0).choice(len(samples), MAX_POINTS, replace=False))
        samples = samples[chosen]
    return None, np.array(samples)


def _fit_family(model: ConfigSpec) -> str:
    """The family the optimum markers range over: that of the file's first fit keyframe
    (full when it names none, or has no fit)."""
    return next((f.family or "full" for f in model.keyframes if f.fit is not None), "full")


def _view(
    model: ConfigSpec,
    timeline: Timeline,
    histogram: tuple[np.ndarray, np.ndarray] | None = None,
    optima: tuple = (),
) -> tuple[tuple[float, float], tuple[float, float], float, tuple[float, float] | None]:
    """The x and y ranges, the bars' scale and the integrand panel's range: those the file
    gives, else fitted to states sampled over the whole video (not only the frames')."""
    style, panels = model.style, tuple(model.panels)
    samples = timeline.state_at(sample_times(timeline))
    plane = timeline.dims == 2
    if plane:
        x_range, y_range = fit_plane_ranges(
            samples.p, samples.q, model.view.x_range, model.view.y_range
        )
    else:
        x_range = (
            tuple(model.view.x_range) if model.view.x_range else fit_x_range(samples.p, samples.q)
        )
        y_range = (
            tuple(model.view.y_range)
            if model.view.y_range
            else fit_y_range(
                samples.p, samples.q, x_range, histogram, _marker_peak(optima, x_range)
            )
        )
    if style.bar_max == "auto":
        # Fitted to the KLs drawn against it: their bars, and both in the trace panel.
        sample_kl = divergence_values(samples.p, samples.q, ("forward", "reverse"))
        scaled = [sample_kl[name] for name in sample_kl if name in style.bars or "trace" in panels]
        bar_max = fit_bar_max(np.concatenate(scaled or list(sample_kl.values())))
    else:
        bar_max = float(style.bar_max)
    integrand_range = None
    if "integrand" in panels and plane:
        integrand_range = fit_plane_integrand_range(samples.p, samples.q, x_range, y_range)
    elif "integrand" in panels:
        integrand_range = fit_integrand_range(samples.p, samples.q, x_range)
    return x_range, y_range, bar_max, integrand_range


def _marker_peak(optima: tuple, x_range: tuple[float, float]) -> float:
    """The highest peak of the 1-D optimum markers inside x_range (0 for none): the y range
    must show them whole, as it shows p and q."""
    return max(
        (
            1.0 / (np.sqrt(2.0 * np.pi) * m.std)
            for markers in optima
            for m in markers
            if x_range[0] <= m.mean <= x_range[1]
        ),
        default=0.0,
    )
