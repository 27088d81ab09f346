"""Adaptive Gauss-Kronrod quadrature in a component's standardised variable.

Every integral of kldemo's core has the form ``∫ φ(z) F(z) dz`` on ``|z| <= 9``, in the
variable ``z = (x - m_i) / s_i`` of one component (m_i, s_i) of a mixture: a *job*, one
of many integrated at once (every component of every state of an animation). This module
holds the rules, where the first panels go, and the one driver, :func:`integrate`, which
bisects panels for all jobs at once until a stopping rule is satisfied.

Rules
    21-point Gauss-Kronrod panels. QUADPACK's Kronrod rule embeds a 10-point Gauss rule
    (its odd nodes), and on the even nodes an 11-point interpolatory rule gives a second,
    independent error indicator (:func:`error_estimate`).

Panels
    The breakpoints are placed a priori (:func:`initial_panels`). With ``h`` quadratic in
    ``z`` (the log of a weighted Gaussian), ``log(e^h_c + e^h_d)`` is analytic except
    where ``h_c - h_d = ±iπ``, at the roots of a quadratic. For every pair of components
    that both matter there, panels are graded geometrically towards the root's real part
    ``x``, starting at 2.5 times its distance ``y`` from the real axis, so each panel keeps
    these singularities outside a Bernstein ellipse of parameter 2.5 or more, where the
    Kronrod rule's error falls like ``ρ^-32``. That resolves narrow spikes inside broad
    components and sharp switches between dominant components; ordinary jobs finish
    after the first pass.

Stopping rules
    :class:`StateTolerance` (the divergences: a state is done when the error summed over
    its panels is within its tolerance) and :class:`PanelTolerance` (the fits' gradients:
    a panel is done when each of its values is within a part of its job's ∫φ|F|).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "KRONROD",
    "NODES",
    "RULES",
    "Z_MAX",
    "PanelTolerance",
    "Panels",
    "StateTolerance",
    "component_params",
    "error_estimate",
    "initial_panels",
    "integrate",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]

# QUADPACK's 21-point Kronrod rule and its embedded 10-point Gauss rule, on the
# non-negative half of [-1, 1]; the Gauss nodes are the odd ones.  On the even
# ones an 11-point interpolatory rule (exact to degree 11) gives a second,
# independent error indicator.
_XK = np.array(
    [
        0.995657163025808080735527280689003,
        0.973906528517171720077964012084452,
        0.930157491355708226001207180059508,
        0.865063366688984510732096688423493,
        0.780817726586416897063717578345042,
        0.679409568299024406234327365114874,
        0.562757134668604683339000099272694,
        0.433395394129247190799265943165784,
        0.294392862701460198131126603103866,
        0.148874338981631210884826001129720,
        0.0,
    ]
)
_WK = np.array(
    [
        0.011694638867371874278064396062192,
        0.032558162307964727478818972459390,
        0.054755896574351996031381300244580,
        0.075039674810919952767043140916190,
        0.093125454583697605535065465083366,
        0.109387158802297641899210590325805,
        0.123491976262065851077600525452058,
        0.134709217311473325928054001771707,
        0.142775938577060080797094273138717,
        0.147739104901338491374841515972068,
        0.149445554002916905664936468389821,
    ]
)
_WG, _WL = np.zeros(11), np.zeros(11)
_WG[1::2] = [
    0.066671344308688137593568809893332,
    0.149451349150580593145776339657697,
    0.219086362515982043995534934228163,
    0.269266719309996355091226921569469,
    0.295524224714752870173892994651338,
]
_WL[0::2] = [
    0.022516403409274716939,
    0.10897571241180882979,
    0.18677625941453204631,
    0.24650565268786806814,
    0.28599922235261054602,
    0.29845349944781158561,
]
NODES = np.concatenate([-_XK[:-1], _XK[::-1]])
RULES = np.stack([np.concatenate([w[:-1], w[::-1]]) for w in (_WK, _WG, _WL)])
KRONROD = RULES[0]

Z_MAX = 9.0
_BASE_GRID = np.array([-Z_MAX, -4.0, 0.0, 4.0, Z_MAX])  # resolves φ itself
_BASE_SPACING = 2.0  # the panel size the base grid sets
_SING_Y_MAX = 3.0  # singularities farther from the real axis do no harm
_SING_Y_MIN = 1e-9  # nearer ones act as kinks; finer grading gains nothing
_FIRST_STEP = 2.5  # first graded offset, in units of y
_GRADING = 4.0  # ratio of successive graded offsets
_GRADED_MAX = 4.0  # so that a base panel beyond starts 1/3 of its width away
_MERGE = 0.3  # drop points nearer than this many panel sizes to a finer one
NEGLIGIBLE_LOG = -40.0  # a component this far below the mixture is invisible
CLIP = -100.0  # log-ratios below this add nothing (e^-100 = 4e-44)
_EPS = np.finfo(float).eps

# Seen from the standardised variable z of the integrating component (m_i, s_i),
# log(w_c N(x; m_c, s_c)) = kappa_c - y_c^2/2 + const, y_c = alpha_c + beta_c z,
# with alpha_c = (m_i - m_c)/s_c, beta_c = s_i/s_c and kappa_c = log(w_c s_i/s_c).
# The constant is the same in p and q, so it cancels in f.


def component_params(
    own_mean: FloatArray,
    own_std: FloatArray,
    weights: FloatArray,
    means: FloatArray,
    stds: FloatArray,
) -> tuple[FloatArray, ...]:
    beta = own_std / stds
    kappa = np.full(weights.shape, -np.inf)  # zero weight: no component
    np.log(weights, out=kappa, where=weights > 0)
    return (own_mean - means) / stds, beta, kappa + np.log(beta)


def _singularities(
    alpha: FloatArray,
    beta: FloatArray,
    kappa: FloatArray,
    pairs: list[tuple[int, int]] | None = None,
) -> tuple[NDArray[np.intp], FloatArray, FloatArray]:
    """Singularities of log Σ_c exp(h_c) near the real axis, a pair at a time.

    log(e^h_c + e^h_d) is singular where h_c - h_d = iπ (and at the conjugate):
    at the roots of A z^2 + 2 B z + C + 2πi = 0.  A root counts if both
    components matter at its real part.  Returns (job, x, y) for each: its real
    part and its distance from the real axis.  pairs limits the pairs looked
    at (default: all).
    """
    if pairs is None:
        pairs = [(c, d) for c in range(kappa.shape[1]) for d in range(c + 1, kappa.shape[1])]
    alpha, beta, kappa = (np.ascontiguousarray(p.T) for p in (alpha, beta, kappa))
    roots, differences = [], []
    # Zero weights (kappa = -inf) give inf or nan roots, which are discarded.
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        for c, d in pairs:
            a = (beta[c] - beta[d]) * (beta[c] + beta[d])
            b = alpha[c] * beta[c] - alpha[d] * beta[d]
            constant = (
                (alpha[c] - alpha[d]) * (alpha[c] + alpha[d])
                - 2.0 * (kappa[c] - kappa[d])
                + 2j * np.pi
            )
            root = np.sqrt(b * b - a * constant)
            q = -(b + np.where((b * root).real >= 0, root, -root))  # no cancellation
            for z in (q / a, constant / q):
                roots.append(z)
                x = z.real  # h_c - h_d at x, to see whether the pair matters there
                differences.append(-0.5 * ((a * x + 2.0 * b) * x + constant.real))
        roots = np.stack(roots) if roots else np.empty((0, alpha.shape[1]), complex)
        x, y = roots.real, np.abs(roots.imag)
        candidate = (np.abs(x) < Z_MAX) & (y < _SING_Y_MAX)
        if len(kappa) == 2:  # min(h_c, h_d) - log(e^h_c + e^h_d) = -softplus(|h_c - h_d|)
            relevant = np.abs(np.array(differences)) < -NEGLIGIBLE_LOG
        else:  # a third component may hide the pair
            x = np.where(candidate, x, 0.0)
            h = [kappa[c] - 0.5 * (alpha[c] + beta[c] * x) ** 2 for c in range(len(kappa))]
            largest = np.maximum.reduce(h)
            log_mix = largest + np.log(sum(np.exp(np.maximum(h_c - largest, CLIP)) for h_c in h))
            weaker = np.array(
                [
                    np.minimum(h[c][k], h[d][k])
                    for k, (c, d) in enumerate(pair for pair in pairs for _ in range(2))
                ]
            )
            relevant = weaker.reshape(x.shape) - log_mix > NEGLIGIBLE_LOG
    root, job = np.nonzero(candidate & relevant)
    return job, x[root, job], y[root, job]


def _graded_points(
    job: NDArray[np.intp],
    x: FloatArray,
    y: FloatArray,
) -> tuple[NDArray[np.intp], FloatArray, FloatArray]:
    """x and x ± FIRST_STEP y GRADING^k for offsets up to GRADED_MAX, with the
    offset of each (0 for x itself): the panel size it sets."""
    step = _FIRST_STEP * np.maximum(y, _SING_Y_MIN)
    levels = np.ceil(np.log(_GRADED_MAX / step) / np.log(_GRADING) + 1e-9)
    count = 1 + 2 * np.maximum(levels, 0).astype(np.intp)
    owner = np.repeat(np.arange(x.size), count)
    index = np.arange(owner.size) - (np.cumsum(count) - count)[owner]  # 0, 1, 2, ...
    factor = np.concatenate([[0.0], _GRADING ** np.arange(count.max(initial=1) // 2)])
    offset = step[owner] * factor[(index + 1) // 2]  # 0, s, s, 4s, 4s, ...
    points = x[owner] + np.where(index % 2 == 1, -offset, offset)
    inside = np.abs(points) < Z_MAX
    return job[owner][inside], points[inside], offset[inside]


def initial_panels(
    params: tuple[FloatArray, ...],
    union: bool = False,
) -> tuple[FloatArray, FloatArray, NDArray[np.intp]]:
    """Flat panels (left, right, job): the base grid and the graded points.

    params are the (alpha, beta, kappa) of a and of b.  With union, also the
    singularities of log(a + b): the pairs of one component of a and one of b,
    seen against both mixtures together.  Those are where a and b switch
    dominance, which the integrands of JS, TV and Hellinger (functions of
    a / (a + b)) feel, and KL's does not.
    """
    n_jobs = params[0].shape[0]
    jobs, points = [np.repeat(np.arange(n_jobs), _BASE_GRID.size)], [np.tile(_BASE_GRID, n_jobs)]
    # The panel size each point sets; the two ends are never dropped.
    spacings = [np.tile(np.where(np.abs(_BASE_GRID) < Z_MAX, _BASE_SPACING, 0.0), n_jobs)]
    found = [_singularities(*params[:3]), _singularities(*params[3:])]
    if union:
        n_a = params[2].shape[1]
        cross = [(c, n_a + d) for c in range(n_a) for d in range(params[5].shape[1])]
        found.append(
            _singularities(
                *(np.concatenate([params[k], params[k + 3]], axis=1) for k in range(3)), pairs=cross
            )
        )
    for singularities in found:
        for array, new in zip(
            (jobs, points, spacings), _graded_points(*singularities), strict=True
        ):
            array.append(new)
    job, z, spacing = (np.concatenate(v) for v in (jobs, points, spacings))
    order = np.argsort(job * (4.0 * Z_MAX) + z, kind="stable")  # a fast combined key
    job, z, spacing = job[order], z[order], spacing[order]
    if np.any((job[1:] == job[:-1]) & (z[1:] < z[:-1])):  # the key was too coarse
        order = np.lexsort((z, job))
        job, z, spacing = job[order], z[order], spacing[order]
    # A point nearer than MERGE of its own panel size to a neighbour that sets
    # finer panels only adds a sliver: drop it (on a tie, the right one).
    same, gap = job[1:] == job[:-1], z[1:] - z[:-1]
    drop = np.zeros(z.size, dtype=bool)
    drop[1:] |= same & (spacing[:-1] <= spacing[1:]) & (gap < _MERGE * spacing[1:])
    drop[:-1] |= same & (spacing[1:] < spacing[:-1]) & (gap < _MERGE * spacing[:-1])
    job, z = job[~drop], z[~drop]
    panel = (job[1:] == job[:-1]) & (z[1:] > z[:-1])
    return z[:-1][panel], z[1:][panel], job[:-1][panel]


def error_estimate(values: FloatArray, absolute: FloatArray) -> FloatArray:
    """Error of the Kronrod value ``values[0]``, from the Gauss and interpolatory ones.

    For an analytic integrand the error of a rule exact to degree d falls like
    ρ^-(d+1): 21-point Kronrod (d = 31) as the 1.6th power of 10-point Gauss (d = 19),
    and as the 2.67th power of the 11-point rule (d = 11), here taken as 2.5 to stay on
    the safe side. ``absolute`` is the panel's ∫|integrand|.
    """
    scale = np.maximum(absolute, 1e-300)
    from_gauss = np.minimum(np.abs(values[0] - values[1]) / scale, 1.0)
    from_interpolatory = np.minimum(np.abs(values[0] - values[2]) / scale, 1.0)
    return scale * np.maximum(from_gauss**1.6, from_interpolatory**2.5)


@dataclass(frozen=True)
class Panels:
    """Evaluated panels: ends, job, and the Kronrod value, error estimate and ∫|integrand|
    of each, shaped (..., panels) for an integrand of shape (...)."""

    left: FloatArray
    right: FloatArray
    job: IntArray
    kronrod: FloatArray
    error: FloatArray
    absolute: FloatArray

    def __len__(self) -> int:
        return len(self.left)

    def join(self, other: Panels) -> Panels:
        if not len(self):
            return other
        return Panels(
            *(
                np.concatenate([a, b], axis=-1)
                for a, b in zip(self.fields(), other.fields(), strict=True)
            )
        )

    def select(self, mask: BoolArray) -> Panels:
        return Panels(*(a[..., mask] for a in self.fields()))

    def fields(self) -> tuple[np.ndarray, ...]:
        return (self.left, self.right, self.job, self.kronrod, self.error, self.absolute)


class StoppingRule(Protocol):
    """Judges the panels evaluated so far (those of jobs not yet done)."""

    def __call__(self, panels: Panels) -> tuple[BoolArray, BoolArray]:
        """Which panels to bisect, and which to keep unsplit for the next round (their
        job goes on); the rest are done, their values final."""
        ...


#: ``integrand(z, job)``: ``e^(-z²/2) F(z)`` at nodes z (nodes, n) of panels of the jobs
#: ``job`` (n,), shaped (..., nodes, n), an array the driver may overwrite.
Integrand = Callable[[FloatArray, IntArray], FloatArray]


def integrate(
    left: FloatArray,
    right: FloatArray,
    job: IntArray,
    integrand: Integrand,
    rule: StoppingRule,
    groups: int,
    group: IntArray | None = None,
    weight: FloatArray | None = None,
    chunk: int | None = None,
    max_rounds: int = 50,
) -> FloatArray:
    """``Σ_j weight_j ∫ φ(z) F_j(z) dz`` over the jobs j of each group, shaped (..., groups).

    Parameters
    ----------
    left, right, job
        The first panels (:func:`initial_panels`): their ends in z and their jobs.
    integrand
        ``e^(-z²/2) F`` (the standard normal density but for its constant, which is
        applied here), scalar or of any shape (...) per point.
    rule
        Decides, after each round, which panels are bisected and which jobs are done.
    groups, group, weight
        Job j adds ``weight[j]`` (default 1) times its integral to ``group[j]`` (default:
        each job its own group, ``groups`` of them).
    chunk
        Panels evaluated at a time (bounds the integrand's temporaries; default all).
    max_rounds
        After so many rounds, every panel's value is taken as it is.
    """
    total: FloatArray | None = None
    pool = Panels(*(np.empty(0),) * 2, np.empty(0, dtype=np.intp), *(np.empty(0),) * 3)
    for round_ in range(max_rounds):
        pool = pool.join(_evaluate(left, right, job, integrand, chunk))
        split, keep = rule(pool)
        if not split.any() or round_ == max_rounds - 1:
            split = keep = np.zeros(len(pool), dtype=bool)
        done = pool.select(~split & ~keep)
        owner = done.job if group is None else group[done.job]
        values = done.kronrod if weight is None else weight[done.job] * done.kronrod
        summed = np.stack([np.bincount(owner, row, minlength=groups) for row in _rows(values)])
        summed = summed.reshape((*values.shape[:-1], groups))
        total = summed if total is None else total + summed
        if not split.any():
            break
        middle = 0.5 * (pool.left[split] + pool.right[split])
        left = np.concatenate([pool.left[split], middle])
        right = np.concatenate([middle, pool.right[split]])
        job = np.tile(pool.job[split], 2)
        pool = pool.select(keep)
    return total


def _rows(values: FloatArray) -> FloatArray:
    """Values (..., panels) as rows (outputs, panels)."""
    return values.reshape((math.prod(values.shape[:-1]), values.shape[-1]))


def _evaluate(
    left: FloatArray, right: FloatArray, job: IntArray, integrand: Integrand, chunk: int | None
) -> Panels:
    """The panels' Kronrod values, error estimates and ∫|integrand|, a chunk at a time."""
    chunk = max(1, chunk or left.size)
    values, absolute = None, None
    for start in range(0, left.size, chunk):
        part = slice(start, start + chunk)
        half = 0.5 * (right[part] - left[part])
        z = np.multiply(NODES[:, None], half)
        z += 0.5 * (right[part] + left[part])
        g = integrand(z, job[part])
        if values is None:
            values = np.empty((len(RULES), *g.shape[:-2], left.size))
            absolute = np.empty((*g.shape[:-2], left.size))
        scale = half / np.sqrt(2.0 * np.pi)
        np.multiply(np.moveaxis(RULES @ g, -2, 0), scale, out=values[..., part])
        absolute[..., part] = (KRONROD @ np.abs(g, out=g)) * scale
    if values is None:
        values, absolute = np.empty((len(RULES), 0)), np.empty(0)
    return Panels(left, right, job, values[0], error_estimate(values, absolute), absolute)


class StateTolerance:
    """Done per state: when the error summed over a state's panels is within
    ``max(rtol |total|, atol, 4 eps ∫|integrand|, noise sqrt|total|)``.

    Job j belongs to state ``state[j]`` with weight ``weight[j]``. The last two terms
    say that rounding in the integrand bounds what is attainable. Of an unfinished state
    the panels whose weighted error is at least their share of the tolerance are
    bisected, the rest kept; a state with ``max_panels`` panels stops where it is.
    """

    def __init__(
        self,
        state: IntArray,
        weight: FloatArray,
        states: int,
        rtol: float,
        atol: float,
        noise: float,
        max_panels: int = 20_000,
    ):
        self.state, self.weight, self.states = state, weight, states
        self.rtol, self.atol, self.noise, self.max_panels = rtol, atol, noise, max_panels

    def __call__(self, panels: Panels) -> tuple[BoolArray, BoolArray]:
        panel_state, panel_weight = self.state[panels.job], self.weight[panels.job]
        kronrod_sum, error_sum, absolute_sum = (
            np.bincount(panel_state, panel_weight * x, minlength=self.states)
            for x in (panels.kronrod, panels.error, panels.absolute)
        )
        active = np.bincount(panel_state, minlength=self.states)  # panels per state
        total = np.where(active > 0, kronrod_sum, 0.0)
        tolerance = np.maximum.reduce(
            [
                self.rtol * np.abs(total),
                np.full(self.states, self.atol),
                4 * _EPS * absolute_sum,
                self.noise * np.sqrt(np.abs(total)),
            ]
        )
        unfinished = (error_sum > tolerance) & (active < self.max_panels)
        split = (
            unfinished[panel_state]
            & (panels.right - panels.left > 1e-12)
            & (panel_weight * panels.error >= (tolerance / np.maximum(active, 1))[panel_state])
        )
        return split, unfinished[panel_state] & ~split


class PanelTolerance:
    """Done per panel: when every value's error is within ``rtol / 8`` of its job's
    ∫φ|F| (from the first round) or ``atol``; no more than ``max_panels`` at once.

    The floor ``atol`` and the cap are there because rounding in the integrand (say, a
    log-ratio cancelling near an optimum) can keep an error estimate above a tolerance
    near machine precision however fine the panels: then the panels' values are taken.
    """

    def __init__(self, jobs: int, rtol: float, atol: float, max_panels: int):
        self.jobs, self.rtol, self.atol, self.max_panels = jobs, rtol, atol, max_panels
        self.scale: FloatArray | None = None

    def __call__(self, panels: Panels) -> tuple[BoolArray, BoolArray]:
        absolute = _rows(panels.absolute)
        if self.scale is None:  # each job's ∫φ|F|, from the first round
            self.scale = np.stack(
                [np.bincount(panels.job, row, minlength=self.jobs) for row in absolute]
            )
        tolerance = np.maximum(self.rtol * self.scale[:, panels.job] / 8, self.atol)
        error = _rows(panels.error)
        split = np.any(error > tolerance, axis=0) & (panels.right - panels.left > 1e-9)
        if len(panels) + np.count_nonzero(split) > self.max_panels:
            split[:] = False
        return split, np.zeros(len(panels), dtype=bool)
