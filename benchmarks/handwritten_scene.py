"""configs/asym-kl.yaml written by hand as a plain manim scene: the baseline of
``benchmarks/vs_handwritten.py``.

This is the straightforward way to draw the sequence in manim: value trackers for the
parameters, the density curves redrawn every frame with ``always_redraw(axes.plot(...))``,
both divergences integrated every frame with ``scipy.integrate.quad``, and two bars with
``DecimalNumber`` read-outs. Labels are Pango ``Text``, so it runs without LaTeX (as
``kldemo render --labels text`` does). Render it with::

    manim -ql benchmarks/handwritten_scene.py AsymKL
"""

from __future__ import annotations

import math

from manim import (
    BLUE_D,
    DOWN,
    LEFT,
    ORIGIN,
    RIGHT,
    UP,
    WHITE,
    Axes,
    DecimalNumber,
    Rectangle,
    Scene,
    Text,
    ValueTracker,
    VGroup,
    always_redraw,
    smooth,
)
from scipy.integrate import quad

P_COLOR, Q_COLOR = "#58C4DD", "#83C167"
DURATION, HOLD = 2.75, 0.75
BAR_MAX = 5.0  # nats at full bar height
BAR_HEIGHT = 4.0

# The keyframes of configs/asym-kl.yaml: (p means, p stds, q mean, q std, caption or None).
KEYFRAMES = [
    ((2, 8), (0.75, 0.75), 5, 1, "p splits into two distant modes"),
    ((2, 8), (0.75, 0.75), 2, 1, "q sits on one mode: reverse KL is small, forward KL is large"),
    ((2, 8), (0.75, 0.75), 2, 0.7, None),
    ((2, 8), (0.75, 0.75), 5, 0.7, "q between the modes"),
    ((2, 8), (0.75, 0.75), 5, 2, "a wide q covers both modes: forward KL is small"),
    ((2, 8), (0.35, 0.35), 5, 2, None),
    ((2, 8), (0.35, 0.35), 5, 1, None),
    ((4, 6), (0.75, 0.75), 5, 1, "back to the start"),
]


LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def log_normal(x: float, mean: float, std: float) -> float:
    return -0.5 * ((x - mean) / std) ** 2 - math.log(std) - LOG_SQRT_2PI


def log_p(x: float, means: list[float], stds: list[float]) -> float:
    """log of the equal-weight mixture p at x, without underflow far from the modes."""
    logs = [log_normal(x, m, s) for m, s in zip(means, stds, strict=True)]
    top = max(logs)
    return top + math.log(sum(math.exp(v - top) for v in logs) / len(logs))


def divergences(means: list[float], stds: list[float], mean: float, std: float):
    """KL(p||q) and KL(q||p), each by adaptive quadrature over where the mass is."""
    lo = min(*means, mean) - 10 * max(*stds, std)
    hi = max(*means, mean) + 10 * max(*stds, std)

    def forward(x: float) -> float:
        lp = log_p(x, means, stds)
        return math.exp(lp) * (lp - log_normal(x, mean, std))

    def reverse(x: float) -> float:
        lq = log_normal(x, mean, std)
        return math.exp(lq) * (lq - log_p(x, means, stds))

    breaks = [*means, mean]
    kl_pq = quad(forward, lo, hi, points=breaks, limit=200)[0]
    kl_qp = quad(reverse, lo, hi, points=breaks, limit=200)[0]
    return kl_pq, kl_qp


class AsymKL(Scene):
    def construct(self) -> None:
        m1, m2 = ValueTracker(4), ValueTracker(6)
        s1, s2 = ValueTracker(0.75), ValueTracker(0.75)
        qm, qs = ValueTracker(5), ValueTracker(1)
        trackers = (m1, m2, s1, s2, qm, qs)

        axes = (
            Axes(x_range=[-1, 10, 1], y_range=[0, 0.8, 0.2], x_length=8, y_length=4.5, tips=False)
            .to_edge(LEFT)
            .shift(DOWN * 0.3)
        )
        title = Text("KL divergence is asymmetric", font_size=32).to_edge(UP)

        def p_pdf(x: float) -> float:
            return math.exp(
                log_p(x, [m1.get_value(), m2.get_value()], [s1.get_value(), s2.get_value()])
            )

        def q_pdf(x: float) -> float:
            return math.exp(log_normal(x, qm.get_value(), qs.get_value()))

        p_curve = always_redraw(lambda: axes.plot(p_pdf, x_range=[-1, 10, 0.05], color=P_COLOR))
        q_curve = always_redraw(lambda: axes.plot(q_pdf, x_range=[-1, 10, 0.05], color=Q_COLOR))
        p_label = Text("p", font_size=28, color=P_COLOR).next_to(axes, UP, buff=0.1).shift(LEFT)
        q_label = Text("q", font_size=28, color=Q_COLOR).next_to(p_label, RIGHT)

        # Both divergences of the current frame, integrated once per frame by an updater.
        values = {"forward": 0.0, "reverse": 0.0}

        def integrate(_mob) -> None:
            values["forward"], values["reverse"] = divergences(
                [m1.get_value(), m2.get_value()],
                [s1.get_value(), s2.get_value()],
                qm.get_value(),
                qs.get_value(),
            )

        clock = VGroup().add_updater(integrate)
        integrate(clock)
        base = axes.get_corner(DOWN + RIGHT) + RIGHT * 1.2

        def bar(key: str, color, where: int) -> VGroup:
            x = base + RIGHT * 1.6 * where

            def draw() -> Rectangle:
                height = max(1e-3, min(values[key] / BAR_MAX, 1) * BAR_HEIGHT)
                return Rectangle(
                    width=0.8, height=height, color=color, fill_opacity=0.8, stroke_width=0
                ).move_to(x, aligned_edge=DOWN)

            rect = always_redraw(draw)
            number = DecimalNumber(values[key], num_decimal_places=3, font_size=24)
            number.add_updater(lambda n: n.set_value(values[key]).next_to(rect, UP, buff=0.1))
            name = Text("KL(p‖q)" if key == "forward" else "KL(q‖p)", font_size=20)
            name.next_to(x, DOWN, buff=0.15)
            return VGroup(rect, number, name)

        forward_bar, reverse_bar = bar("forward", BLUE_D, 0), bar("reverse", WHITE, 1)
        self.add(clock, axes, title, p_curve, q_curve, p_label, q_label, forward_bar, reverse_bar)

        caption = Text("", font_size=24).move_to(ORIGIN).to_edge(DOWN)
        self.add(caption)
        for means, stds, mean, std, text in KEYFRAMES:
            if text is not None:
                new = Text(text, font_size=24).to_edge(DOWN)
                self.remove(caption)
                caption = new
                self.add(caption)
            targets = (*means, *stds, mean, std)
            self.play(
                *(t.animate.set_value(v) for t, v in zip(trackers, targets, strict=True)),
                run_time=DURATION,
                rate_func=smooth,
            )
            self.wait(HOLD)
