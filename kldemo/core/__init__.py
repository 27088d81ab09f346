"""The numbers: mixtures, quadrature, divergences (and their registry), fits and easings.

numpy and scipy only; the core imports no other room of kldemo and never manim. The
public names below are loaded on first use, so that importing
:mod:`kldemo.core.mixture` alone (as the config does) stays light::

    from kldemo.core import forward_kl, gaussian_kl, kl_divergence
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kldemo.core.divergences import (
        density,
        forward_kl,
        gaussian_kl,
        hellinger_distance,
        js_divergence,
        kl_divergence,
        log_density,
        reverse_kl,
        tv_distance,
    )
    from kldemo.core.mixture import Mixture
    from kldemo.core.registry import DIVERGENCES, Divergence, divergence_values

_HOMES = {
    **dict.fromkeys(
        (
            "density",
            "log_density",
            "gaussian_kl",
            "kl_divergence",
            "forward_kl",
            "reverse_kl",
            "js_divergence",
            "tv_distance",
            "hellinger_distance",
        ),
        "divergences",
    ),
    **dict.fromkeys(("divergence_values", "DIVERGENCES", "Divergence"), "registry"),
    "Mixture": "mixture",
}

__all__ = [
    "DIVERGENCES",
    "Divergence",
    "Mixture",
    "density",
    "divergence_values",
    "forward_kl",
    "gaussian_kl",
    "hellinger_distance",
    "js_divergence",
    "kl_divergence",
    "log_density",
    "reverse_kl",
    "tv_distance",
]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
