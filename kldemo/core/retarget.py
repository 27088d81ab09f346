"""A fit's path bent onto another end: the way a forward fit reaches the samples' own
maximum-likelihood Gaussian when p is a density estimated from them.

Minimising KL(p̂‖q) over Gaussians q ends at p̂'s moments, which differ from the samples'
mean and 1/N covariance only by the estimator's regularisation (about 1e-6 of the
variance). :class:`Retargeted` keeps the path's shape and pace and adds the difference in
proportion to the fraction of the path covered, so that it ends exactly at the new end.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike


@dataclass(frozen=True, eq=False)
class Retargeted:
    """``path`` with its end moved to ``end``: at fraction e, ``path.at(e) + e (end -
    path.end)`` parameter by parameter; exactly ``path.start`` at e <= 0 and ``end`` at
    e >= 1. Everything else (direction, arc length, convergence) is the path's.

    >>> from kldemo.core.mixture import Mixture
    >>> from kldemo.core.fit import fit_path
    >>> p = Mixture.of({"means": [0.0], "stds": [1.0]})
    >>> q = Mixture.of({"means": [2.0], "stds": [0.5]})
    >>> bent = Retargeted(fit_path(p, q, "forward"), Mixture.of({"means": [0.1], "stds": [1.0]}))
    >>> float(bent.at(1.0).means[0]), float(bent.at(0.0).means[0])
    (0.1, 2.0)
    """

    path: Any  # a FitPath or a PlaneFitPath
    end: Any  # a Mixture or PlaneMixture of the path's type and shape

    def __getattr__(self, name: str) -> Any:
        # direction, optimize, family, start, arc, length, converged, warning, ...
        return getattr(self.path, name)

    def at(self, e: ArrayLike) -> Any:
        e = np.clip(np.asarray(e, dtype=float), 0.0, 1.0)
        base = self.path.at(e)
        arrays = []
        for moved, old_end, new_end in zip(base, self.path.end, self.end, strict=True):
            old_end, new_end = np.asarray(old_end), np.asarray(new_end)
            share = e.reshape(e.shape + (1,) * old_end.ndim)
            bent = moved + share * (new_end - old_end)
            arrays.append(np.where(share >= 1.0, np.broadcast_to(new_end, bent.shape), bent))
        return type(base)(*arrays)
