"""Where each KL divergence is minimised over single plane Gaussians q, for the markers.

The forward optimum is moment matching, in closed form; reverse KL may have several
local minima (one on each well-separated mode, and a broad one between), found by descent
(:func:`kldemo.core.plane.paths.descend`) from several starts.
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass

import numpy as np

from kldemo.core.plane.fits import family_name as _family
from kldemo.core.plane.fits import moment_match
from kldemo.core.plane.gaussians import FloatArray, PlaneMixture
from kldemo.core.plane.objective import PlaneObjective, cholesky_coordinates, gaussian_of
from kldemo.core.plane.paths import descend
from kldemo.core.plane.quadrature import forward_kl, reverse_kl

__all__ = ["PlaneGaussian", "PlaneOptima", "clear_cache", "plane_optima", "plane_optima_of_states"]

DEDUPLICATE = 1e-6  # optima nearer than this (in the Fisher metric) are one
SEARCH_STEP = 0.5  # longest flow step of a search, in metric units
SEARCH_TOLERANCE = 1e-3
SEARCH_STOP = math.inf  # no flow: Newton's method (with its trust region) from the start
SEARCH_RTOL = 1e-10  # the last quadratures' tolerance: optima to ~1e-10, far below a pixel


@dataclass(frozen=True)
class PlaneGaussian:
    """One plane Gaussian: its mean (x, y) and its 2x2 covariance, as nested tuples."""

    mean: tuple[float, float]
    cov: tuple[tuple[float, float], tuple[float, float]]

    @classmethod
    def of(cls, mean: FloatArray, cov: FloatArray) -> PlaneGaussian:
        m, c = np.asarray(mean, dtype=float), np.asarray(cov, dtype=float)
        return cls(
            (float(m[0]), float(m[1])),
            ((float(c[0, 0]), float(c[0, 1])), (float(c[1, 0]), float(c[1, 1]))),
        )

    def mixture(self) -> PlaneMixture:
        """As a one-component PlaneMixture of state shape ()."""
        return PlaneMixture.gaussian(self.mean, self.cov)


@dataclass(frozen=True)
class PlaneOptima:
    """Where each divergence is minimised over single Gaussians q of ``family``, for one
    state of p.

    ``forward`` is the unique minimiser of KL(p‖q), moment matching; ``reverse`` every
    local minimiser of KL(q‖p) found, by increasing mean x (then y), with ``reverse_kl``
    its value (the least of them is the global minimum among those found).
    """

    family: str
    forward: PlaneGaussian
    forward_kl: float
    reverse: tuple[PlaneGaussian, ...]
    reverse_kl: tuple[float, ...]


def plane_optima(p: PlaneMixture, family: str = "full") -> PlaneOptima:
    """The forward-KL optimum and every reverse-KL local optimum found, for one Gaussian q.

    The forward optimum is exact (:func:`~kldemo.core.plane.fits.moment_match`). The
    reverse optima are found by descent (natural gradient, then Newton's method with the
    exact Hessian, to a gradient at rounding level) from each component of p, from
    midway between each pair of components (with the covariance of the pair's equal
    mixture), and from the forward optimum; ends that are not minima are dropped, and
    ends nearer than 1e-6 in the Fisher metric count once.

    Parameters
    ----------
    p : PlaneMixture
        One state (state shape ()).
    family : "full" or "diagonal"

    Examples
    --------
    >>> p = PlaneMixture([0.5, 0.5], [[-5, 0], [5, 0]], [np.eye(2), np.eye(2)])
    >>> found = plane_optima(p)
    >>> [round(g.mean[0], 3) + 0.0 for g in found.reverse]   # one on each mode, a wide one between
    [-5.0, 0.0, 5.0]
    >>> round(found.forward.cov[0][0], 12)                   # 1 + 25
    26.0
    """
    _family(family)
    if p.shape != ():
        raise ValueError(f"p must be one state, got state shape {p.shape}")
    key = tuple(tuple(float(x) for x in np.asarray(v).reshape(-1)) for v in p)
    return _cached_optima(key, family)


def plane_optima_of_states(p: PlaneMixture, family: str = "full") -> list[PlaneOptima]:
    """:func:`plane_optima` for every state of p (state shape (n,)); each distinct state
    is solved once."""
    if len(p.shape) != 1:
        raise ValueError(f"p must have one state axis, got state shape {p.shape}")
    return [plane_optima(p.take(i), family) for i in range(p.shape[0])]


def _starts(p: PlaneMixture, family: str) -> list[tuple[FloatArray, FloatArray]]:
    """Each component of p, the moments of each pair's equal mixture, and p's moments."""
    alive = np.flatnonzero(p.weights > 0)
    starts = [(p.means[i], p.covs[i]) for i in alive]
    for i, j in itertools.combinations(alive, 2):
        d = p.means[j] - p.means[i]
        cov = 0.5 * (p.covs[i] + p.covs[j]) + 0.25 * d[:, None] * d[None, :]
        starts.append((0.5 * (p.means[i] + p.means[j]), cov))
    forward = moment_match(p, family)
    starts.append((forward.means[0], forward.covs[0]))
    if family == "diagonal":
        starts = [(mean, cov * np.eye(2)) for mean, cov in starts]
    return starts


@functools.lru_cache(maxsize=4096)
def _cached_optima(p_key: tuple, family: str) -> PlaneOptima:
    weights, means, covs = (np.array(v) for v in p_key)
    p = PlaneMixture(weights / weights.sum(), means.reshape(-1, 2), covs.reshape(-1, 2, 2))
    objective = PlaneObjective(p, "reverse", family, {"means", "covs"})
    found: list[FloatArray] = []
    seen = set()
    for mean, cov in _starts(p, family):
        theta = cholesky_coordinates(mean, cov)
        if tuple(theta) in seen:
            continue
        seen.add(tuple(theta))
        vertices, descent = descend(
            objective, theta, SEARCH_STEP, SEARCH_TOLERANCE, SEARCH_STOP, SEARCH_RTOL
        )
        end = vertices[-1]
        if descent.minimum and all(
            objective.norm(end, end - other) >= DEDUPLICATE for other in found
        ):
            found.append(end)
    found.sort(key=lambda theta: (theta[0], theta[1]))
    forward = moment_match(p, family)
    reverse = [PlaneGaussian.of(*gaussian_of(theta)) for theta in found]
    values = ()
    if reverse:
        states = PlaneMixture.gaussian(
            np.array([g.mean for g in reverse]), np.array([g.cov for g in reverse])
        )
        values = tuple(float(v) for v in reverse_kl(p, states))
    return PlaneOptima(
        family,
        PlaneGaussian.of(forward.means[0], forward.covs[0]),
        float(forward_kl(p, forward)),
        tuple(reverse),
        values,
    )


def clear_cache() -> None:
    """Forget every set of optima computed so far (each is cached per distinct input)."""
    _cached_optima.cache_clear()
