"""A Gaussian mixture as arrays, and the limits of the states kldemo works with.

:class:`Mixture` is the one mixture type of kldemo: the timeline's states, the fits, the
plan's frames and the numeric core's arguments are all mixtures of arrays of shape
(..., components), any leading axes being states.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

# Limits, each with a clear error.
MAX_COMPONENTS = 16
MAX_KEYFRAMES = 1000
MAX_SECONDS = 3600.0
# The range over which the numeric core is verified to full accuracy.
MIN_STD, MAX_STD, MAX_ABS_MEAN = 1e-3, 1e3, 1e4
WEIGHT_SUM_TOLERANCE = 1e-6  # rounding; the sum is then made exact


PARAMS = ("weights", "means", "stds")


@dataclass(frozen=True)
class Mixture:
    """Gaussian mixture parameters, arrays of shape (..., components)."""

    weights: np.ndarray
    means: np.ndarray
    stds: np.ndarray

    @classmethod
    def of(cls, params: dict[str, list[float]]) -> Mixture:
        """The arrays of a config's mixture; weights normalised (see :func:`normalised`)."""
        k = len(params["means"])
        weights = normalised(params.get("weights") or [1.0] * k)
        return cls(
            *(np.asarray(v, dtype=float) for v in (weights, params["means"], params["stds"]))
        )

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter((self.weights, self.means, self.stds))

    @property
    def components(self) -> int:
        return self.means.shape[-1]

    def as_dict(self) -> dict[str, list[float]]:
        return {name: np.asarray(v).tolist() for name, v in zip(PARAMS, self, strict=True)}

    def changed(self, params: dict[str, list[float]]) -> Mixture:
        """This mixture with the named parameters replaced (weights normalised)."""
        if "weights" in params:
            params = {**params, "weights": normalised(params["weights"])}
        return Mixture(
            *(
                np.asarray(params[name], dtype=float) if name in params else v
                for name, v in zip(PARAMS, self, strict=True)
            )
        )

    def take(self, index: object) -> Mixture:
        """The states at ``index`` of the leading axis."""
        return Mixture(*(v[index] for v in self))

    def blend(self, other: Mixture, e: np.ndarray | float) -> Mixture:
        """``(1 - e) * self + e * other``, with e broadcast over leading axes."""
        e = np.asarray(e, dtype=float)[..., None]
        return Mixture(*((1 - e) * a + e * b for a, b in zip(self, other, strict=True)))


def normalised(weights: list[float]) -> list[float]:
    """Weights divided by their exactly rounded sum (``math.fsum``).

    The config accepts weights that miss a sum of 1 by rounding (up to 1e-6, such as three
    of 0.3333333); here, where the config becomes numbers, they are made to sum to 1 to the
    last bit, so that the core and the fits, which assume it, never see another sum.

    >>> [round(w, 15) for w in normalised([0.3333333] * 3)] == [round(1 / 3, 15)] * 3
    True
    """
    total = math.fsum(weights)
    return [w / total for w in weights]
