"""p estimated from samples: a Gaussian mixture fitted by EM, cached by the samples' hash.

:func:`estimate_density` fits scikit-learn's ``GaussianMixture`` (full covariances, a fixed
seed, a few initialisations) with K components, or with the K of least BIC over 1 to 8
(``auto``). The fit is stored as a small JSON file under ``CACHE/densities``, named by a
SHA-256 of the samples and every setting that decides the fit (scikit-learn's and numpy's
versions included), so that ``validate``, ``kl`` and ``render`` fit a data file once; a
cache hit imports neither scikit-learn nor fits anything. :func:`sample_gaussian` is the
maximum-likelihood Gaussian of the samples (``fit: forward`` against data).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import warnings
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from kldemo.config.data import NamedAt
from kldemo.core.mixture import MAX_COMPONENTS, MAX_STD, MIN_STD, Mixture
from kldemo.core.plane import PlaneMixture
from kldemo.errors import OutputError
from kldemo.storage.cache import segment_key
from kldemo.storage.files import write_text_atomic

FloatArray = NDArray[np.float64]

METHOD = "gmm"
AUTO_MAX_COMPONENTS = 8  # `components: auto` chooses K in 1..8 by BIC
N_INIT = 3  # EM runs from different starts; the best likelihood is kept
SEED = 0
CACHE_FORMAT = "1"  # raise when the stored fields change: older entries are then not read
DENSITY_FOLDER = "densities"

Components = int | Literal["auto"]


@dataclass(frozen=True, eq=False)
class Estimate:
    r"""A Gaussian mixture fitted to samples, :math:`\hat p(x) = \sum_k w_k N(x; m_k, S_k)`.

    ``weights`` has shape (K,); ``means`` (K,) in 1-D or (K, 2) in 2-D; ``stds`` (K,) in 1-D,
    or ``covs`` (K, 2, 2) in 2-D, exactly symmetric. Components are in order of their
    means (by x, then y). The fitted spreads are clipped into the range over which kldemo's
    numeric core is verified: each std, or the square root of each covariance eigenvalue,
    within [MIN_STD, MAX_STD] (1e-3 to 1e3; to rounding, in 2-D). ``mean_log_likelihood``
    is the fitted model's mean log-density over the samples, before clipping (the same
    wherever no spread was clipped).
    """

    method: str
    components: int
    samples: int
    mean_log_likelihood: float
    weights: FloatArray
    means: FloatArray
    stds: FloatArray | None = None
    covs: FloatArray | None = None

    @property
    def dims(self) -> int:
        return 1 if self.means.ndim == 1 else 2

    def summary(self) -> dict[str, Any]:
        """What ``kl`` reports of the estimate: ``p.estimate`` in its JSON."""
        return {
            "method": self.method,
            "components": self.components,
            "samples": self.samples,
            "mean_log_likelihood": self.mean_log_likelihood,
        }

    def mixture(self) -> Mixture | PlaneMixture:
        """The estimate as kldemo's mixture type: a Mixture in 1-D, a PlaneMixture in 2-D."""
        if self.covs is not None:
            return PlaneMixture(self.weights, self.means, self.covs)
        assert self.stds is not None
        return Mixture(self.weights, self.means, self.stds)

    def as_json(self) -> dict[str, Any]:
        spread = {"covs": self.covs} if self.covs is not None else {"stds": self.stds}
        arrays = {"weights": self.weights, "means": self.means, **spread}
        return {**self.summary(), **{k: np.asarray(v).tolist() for k, v in arrays.items()}}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Estimate:
        """An estimate from :meth:`as_json`'s dict; ValueError if it is not one."""
        weights = np.asarray(data["weights"], dtype=float)
        means = np.asarray(data["means"], dtype=float)
        k = int(data["components"])
        spread = "covs" if means.ndim == 2 else "stds"
        values = np.asarray(data[spread], dtype=float)
        shapes = {"weights": (k,), "stds": (k,), "covs": (k, 2, 2)}
        if weights.shape != (k,) or means.shape[:1] != (k,) or values.shape != shapes[spread]:
            raise ValueError("the stored arrays do not have the shapes of the estimate")
        if not all(np.all(np.isfinite(a)) for a in (weights, means, values)):
            raise ValueError("the stored arrays are not finite")
        return cls(
            str(data["method"]),
            k,
            int(data["samples"]),
            float(data["mean_log_likelihood"]),
            _frozen(weights),
            _frozen(means),
            **{spread: _frozen(values)},
        )


def samples_key(samples: FloatArray) -> str:
    """The SHA-256 of the samples' shape and float64 values: the data's part of a cache key.

    The same numbers give the same key whichever file (CSV or .npy) held them.
    """
    values = np.ascontiguousarray(samples, dtype=np.float64)
    digest = hashlib.sha256(repr(values.shape).encode())
    digest.update(values.tobytes())
    return digest.hexdigest()


def estimate_density(
    samples: FloatArray,
    components: Components,
    *,
    components_at: NamedAt,
    content_key: str | None = None,
    cache_dir: Path | None = None,
) -> Estimate:
    r"""The Gaussian mixture of ``components`` components (or ``"auto"``) fitted to the samples.

    ``samples`` has shape (N, 1) or (N, 2). ``auto`` fits K = 1 .. min(8, N) and keeps the
    K of least BIC, :math:`\mathrm{BIC} = m \ln N - 2 \ln \hat L` (m free parameters).
    More components than samples is a ConfigError at ``components_at`` (the config's
    ``p.components``). ``content_key`` names the data (default: :func:`samples_key`); with
    ``cache_dir`` the fit is read from, or stored in, ``cache_dir/densities``, a second call
    on the same data and settings fitting nothing. A cache that cannot be written is
    skipped: it only saves time.
    """
    x = _as_samples(samples)
    n = len(x)
    if components != "auto" and (
        isinstance(components, bool)
        or not isinstance(components, int)
        or not 1 <= components <= MAX_COMPONENTS
    ):
        raise ValueError(
            f"components must be 'auto' or an integer in 1..{MAX_COMPONENTS}, got {components!r}"
        )
    if components != "auto" and components > n:
        raise components_at.error(
            f"{components} components need at least {components} samples; the data has "
            f"{_count(n, 'sample')}: use fewer components, or `auto`"
        )
    key = _cache_key(content_key or samples_key(x), components)
    target = cache_dir / DENSITY_FOLDER / f"{key}.json" if cache_dir is not None else None
    if target is not None and (cached := _load(target, x)) is not None:
        return cached
    estimate = _fit(x, components)
    if target is not None:
        # A read-only or full cache folder must not fail the command: the fit is in hand.
        with contextlib.suppress(OSError, OutputError):
            write_text_atomic(target, json.dumps(estimate.as_json()))
    return estimate


def sample_gaussian(samples: FloatArray) -> tuple[float, float] | tuple[FloatArray, FloatArray]:
    r"""The maximum-likelihood Gaussian of the samples: their mean and 1/N covariance.

    :math:`\hat m = \frac1N \sum_i x_i`, :math:`\hat S = \frac1N \sum_i (x_i - \hat m)
    (x_i - \hat m)^\top`. For samples of shape (N, 1), the floats ``(mean, std)``; for
    (N, 2), the arrays ``(mean (2,), cov (2, 2))``, the covariance exactly symmetric. The
    spread is clipped into kldemo's verified range as in :class:`Estimate`.

    >>> mean, std = sample_gaussian(np.array([[1.0], [3.0]]))
    >>> mean, std
    (2.0, 1.0)
    """
    x = _as_samples(samples)
    mean = x.mean(axis=0)
    centred = x - mean
    cov = centred.T @ centred / len(x)
    if x.shape[1] == 1:
        return float(mean[0]), float(np.clip(np.sqrt(cov[0, 0]), MIN_STD, MAX_STD))
    return mean, _clipped_covs(cov[None])[0]


def _as_samples(samples: FloatArray) -> FloatArray:
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] not in (1, 2) or len(x) == 0:
        raise ValueError(f"samples must have shape (N, 1) or (N, 2) with N >= 1, got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("samples must be finite")
    return x


def _cache_key(content_key: str, components: Components) -> str:
    return segment_key(
        "kldemo-density",
        CACHE_FORMAT,
        content_key,
        METHOD,
        str(components),
        f"covariance=full n_init={N_INIT} seed={SEED} auto_max={AUTO_MAX_COMPONENTS}",
        f"clip={MIN_STD!r},{MAX_STD!r}",
        version("scikit-learn"),  # from the metadata: a cache hit never imports scikit-learn
        np.__version__,
    )


def _load(target: Path, x: FloatArray) -> Estimate | None:
    """The stored estimate, or None if there is none or it is not whole (then it is refitted)."""
    try:
        estimate = Estimate.from_json(json.loads(target.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    fits = (estimate.method, estimate.samples, estimate.dims) == (METHOD, *x.shape)
    return estimate if fits else None


def _fit(x: FloatArray, components: Components) -> Estimate:
    """EM for each K asked for; the model of least BIC (the only one, for a fixed K)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture
    from threadpoolctl import threadpool_limits  # a dependency of scikit-learn

    n = len(x)
    ks = range(1, min(AUTO_MAX_COMPONENTS, n) + 1) if components == "auto" else [components]
    best, best_bic = None, np.inf
    # One thread: in 2 dimensions EM's products (BLAS) and k-means starts (OpenMP) are too
    # small to share out, and threads only wait on each other (a 400-point `auto` took
    # 5 s with them on a busy 2-core machine, 0.3 s without).
    with warnings.catch_warnings(), threadpool_limits(limits=1):
        # EM that stops at its iteration limit still gives a usable mixture; a warning
        # would reach the user as noise around the numbers.
        warnings.simplefilter("ignore", ConvergenceWarning)
        for k in ks:
            model = GaussianMixture(
                n_components=k, covariance_type="full", random_state=SEED, n_init=N_INIT
            ).fit(x)
            bic = model.bic(x) if len(ks) > 1 else 0.0
            if bic < best_bic:  # ties keep the smaller K
                best, best_bic = model, bic
    assert best is not None
    return _from_model(best, x)


def _from_model(model: Any, x: FloatArray) -> Estimate:
    """A fitted GaussianMixture as an Estimate: components ordered, spreads clipped."""
    means = np.asarray(model.means_, dtype=float)
    order = np.lexsort(means.T[::-1])  # by x, then y
    weights = np.asarray(model.weights_, dtype=float)[order]
    weights = weights / weights.sum()
    covs = np.asarray(model.covariances_, dtype=float)[order]
    means = means[order]
    common = (METHOD, len(order), len(x), float(model.score(x)), _frozen(weights))
    if x.shape[1] == 1:
        stds = np.clip(np.sqrt(covs[:, 0, 0]), MIN_STD, MAX_STD)
        return Estimate(*common, _frozen(means[:, 0]), stds=_frozen(stds))
    return Estimate(*common, _frozen(means), covs=_frozen(_clipped_covs(covs)))


def _clipped_covs(covs: FloatArray) -> FloatArray:
    r"""Covariances (K, 2, 2) made exactly symmetric, eigenvalues clipped to [MIN_STD², MAX_STD²].

    :math:`S \to V \,\mathrm{clip}(\Lambda)\, V^\top` for the components with an eigenvalue
    out of range; the others are only symmetrised, :math:`(S + S^\top)/2`, which leaves a
    symmetric matrix's bits as they are.
    """
    covs = (covs + np.swapaxes(covs, -1, -2)) / 2
    values, vectors = np.linalg.eigh(covs)
    low, high = MIN_STD**2, MAX_STD**2
    out_of_range = np.any((values < low) | (values > high), axis=-1)
    if not out_of_range.any():
        return covs
    rebuilt = (vectors * np.clip(values, low, high)[..., None, :]) @ np.swapaxes(vectors, -1, -2)
    rebuilt = (rebuilt + np.swapaxes(rebuilt, -1, -2)) / 2  # a + b == b + a: exact symmetry
    return np.where(out_of_range[:, None, None], rebuilt, covs)


def _frozen(array: FloatArray) -> FloatArray:
    array = np.array(array, dtype=float)
    array.setflags(write=False)
    return array


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")
