"""Adaptive Gauss-Kronrod quadrature in a component's standardised variable.

Every integral of kldemo's core is one of many *jobs* integrated at once (every state of
an animation), each in the variable ``z = (x - m_i) / s_i`` of one component (m_i, s_i)
of a mixture, on part of ``|z| <= 9``: for the fits, ``∫ φ(z) F(z) dz`` over the
component's whole range; for the divergences, the integrand over the piece of the line
that component owns (:mod:`kldemo.core.panels`). This module holds the rules, where the
first panels go, and the one driver, :func:`integrate`, which bisects panels for all jobs
at once until a stopping rule is satisfied.

Rules
    21-point Gauss-Kronrod panels. QUADPACK's Kronrod rule embeds a 10-point Gauss rule
    (its odd nodes), and on the even nodes an 11-point interpolatory rule gives a second,
    independent error indicator (:func:`error_estimate`). The rules' sums are taken
    node pair by node pair in a fixed order (:func:`rule_sums`), not by a BLAS product,
    whose rounding depends on where a panel falls in its blocking: a state's values are
    the same bits whatever other states share the call.

Panels
    Placed a priori (:func:`march_panels`). With ``h`` quadratic in ``z`` (the log of a
    weighted Gaussian), ``log(e^h_c + e^h_d)`` is analytic except where
    ``h_c - h_d = ±iπ``, at the roots of a quadratic. Each panel is as wide as keeps every
    such singularity of a pair that matters there outside its Bernstein ellipse of
    parameter 3, where the Kronrod rule's error falls like ``3^-32``, and no wider than
    the panels of the base grid -9, -4, 0, 4, 9, which resolve φ itself: panels shrink
    geometrically towards a singularity near the real axis and grow again beyond it,
    however many singularities crowd a job. That resolves narrow spikes inside broad
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
    "HALF_RULES",
    "KRONROD",
    "KRONROD_HALF",
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
    "march_panels",
    "rule_sums",
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
_PAIRS = _XK.size - 1  # nodes ±x_k; the centre, 0, is node _PAIRS
#: The rules' weights of the node pairs ±x_k, outermost first, then of the centre.
HALF_RULES = np.stack([_WK, _WG, _WL])
KRONROD_HALF = HALF_RULES[:1]

Z_MAX = 9.0  # each component's range, in its own variable: 2e-19 of its mass beyond
_SING_Y_MIN = 1e-9  # singularities nearer the axis act as kinks; finer grading gains nothing
NEGLIGIBLE_LOG = -40.0  # a component this far below the mixture is invisible
# Marched panels (march_panels) keep every singularity outside their Bernstein ellipse
# of parameter RHO (where the Kronrod rule's error falls like RHO^-32, 5e-16 for 3) and
# are at most 2 MAX_HALF_WIDTH wide, 4 where they reach into (-CENTRE, CENTRE): the
# widths of the base grid -9, -4, 0, 4, 9 that resolves φ itself.  A singularity at
# u + i y from a panel's left end allows a half-width of at least MAX_HALF_WIDTH if
# u < -BIND_BEHIND, u > BIND_AHEAD or y > BIND_HEIGHT: only nearer ones bind.
RHO = 3.0
_ALPHA, _BETA = 0.5 * (RHO + 1.0 / RHO), 0.5 * (RHO - 1.0 / RHO)
MAX_HALF_WIDTH = 2.5
_CENTRE = 4.0
BIND_BEHIND = MAX_HALF_WIDTH * (_ALPHA - 1.0)
BIND_AHEAD = MAX_HALF_WIDTH * (_ALPHA + 1.0)
BIND_HEIGHT = MAX_HALF_WIDTH * _BETA
_MAX_MARCH = 10_000  # steps: far more than any valid input needs
_PRUNE_MARGIN = 1e-9  # beyond BIND_BEHIND: far above the rounding of the half-widths
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
    alpha: FloatArray, beta: FloatArray, kappa: FloatArray
) -> tuple[IntArray, FloatArray, FloatArray]:
    """Singularities of log Σ_c exp(h_c) near the real axis, a pair at a time, in the
    variable of each job.

    log(e^h_c + e^h_d) is singular where h_c - h_d = iπ (and at the conjugate):
    at the roots of A z^2 + 2 B z + C + 2πi = 0.  A root counts if both
    components matter at its real part and it may bind a panel on |z| <= Z_MAX
    (:func:`march_panels`).  Returns (job, x, y) for each: its real part and its
    distance from the real axis.
    """
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
        candidate = (x > -Z_MAX - BIND_BEHIND) & (x < Z_MAX + BIND_AHEAD) & (y < BIND_HEIGHT)
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


def march_panels(
    start: FloatArray,
    end: FloatArray,
    job: IntArray,
    z: FloatArray,
    y: FloatArray,
) -> tuple[FloatArray, FloatArray, IntArray]:
    """Panels (left, right, job) from ``start[j]`` to ``end[j]`` of every job j, each as
    wide as the singularities ``z[k] ± i y[k]`` of its job ``job[k]`` allow.

    A panel [a, a + 2r] keeps a singularity at ``u = z - a`` and ``y`` outside its
    Bernstein ellipse of parameter ρ (foci the panel's ends, semi-axes ``r α`` and
    ``r β``, ``α, β = (ρ ± 1/ρ)/2``) when ``r <= (α √(u² + y²) - u) / β²``. Marching from
    the left, each panel is the widest that every singularity and the base grid's widths
    allow, so that towards a singularity near the axis panels shrink by 4 (for ρ = 3) and
    beyond it grow by 4; a remainder of less than two widths is halved rather than left a
    sliver. All jobs march at once, one panel per step.
    """
    order = np.lexsort((z, job))
    job, z = job[order], z[order]
    y2 = np.maximum(y[order], _SING_Y_MIN) ** 2
    position = np.array(start, dtype=float)
    running = end > start
    active = np.flatnonzero(running)
    half = np.empty(start.size)
    lefts, rights, jobs = [], [], []
    compressed = -1  # the active jobs when the singularities were last pruned
    for step in range(_MAX_MARCH):
        if not active.size:
            break
        here = position[active]
        # the base grid's widths: 4 where a panel would reach into (-4, 4), else 5
        half[active] = np.where(
            (here >= _CENTRE) | (here <= -_CENTRE - 2.0 * MAX_HALF_WIDTH),
            MAX_HALF_WIDTH,
            0.5 * _CENTRE,
        )
        if 2 * active.size < compressed or compressed < 0:
            # Drop the singularities of finished jobs and those passed for good. When
            # that happens depends on the other jobs, so it must change nothing: a
            # singularity BIND_BEHIND + m behind allows a half-width of at least
            # MAX_HALF_WIDTH + 1.5 m, which the margin keeps clear of rounding.
            alive = running[job] & (z - position[job] > -BIND_BEHIND - _PRUNE_MARGIN)
            job, z, y2 = job[alive], z[alive], y2[alive]
            first = np.flatnonzero(np.concatenate([[True], job[1:] != job[:-1]])[: job.size])
            owners, compressed = job[first], active.size
        if job.size:
            u = z - position[job]
            allowed = np.sqrt(u * u + y2)
            allowed *= _ALPHA
            allowed -= u
            limit = np.minimum.reduceat(allowed, first)
            limit *= 1.0 / (_BETA * _BETA)
            half[owners] = np.minimum(limit, half[owners])
        width = 2.0 * half[active]
        remaining = end[active] - here
        right = np.where(
            (remaining <= width) | (step == _MAX_MARCH - 1),
            end[active],
            here + np.minimum(width, 0.5 * remaining),
        )
        lefts.append(here)
        rights.append(right)
        jobs.append(active)
        position[active] = right
        finished = right >= end[active]
        running[active[finished]] = False
        active = active[~finished]
    if not lefts:
        return np.empty(0), np.empty(0), np.empty(0, dtype=np.intp)
    return np.concatenate(lefts), np.concatenate(rights), np.concatenate(jobs)


def initial_panels(params: tuple[FloatArray, ...]) -> tuple[FloatArray, FloatArray, IntArray]:
    """First panels (left, right, job) of every job on ``|z| <= Z_MAX``, as wide as the
    singularities of log a and log b allow (:func:`march_panels`); params are the
    (alpha, beta, kappa) of a and of b seen from each job (:func:`component_params`)."""
    found = [_singularities(*params[:3]), _singularities(*params[3:])]
    job, z, y = (np.concatenate(v) for v in zip(*found, strict=True))
    edge = np.full(params[0].shape[0], Z_MAX)
    return march_panels(-edge, edge, job, z, y)


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
        The first panels (:func:`march_panels`, :func:`initial_panels`): their ends in
        z and their jobs.
    integrand
        ``e^(-z²/2) F`` (the standard normal density but for its constant, which is
        applied here), scalar or of any shape (...) per point: for a divergence,
        ``e^(log a) g(f)`` with ``log a`` the scaled log density of a in the job's
        variable, so that ``F = e^(log a + z²/2) g(f)``.
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
    """The panels' Kronrod values, error estimates and ∫|integrand|: the integrand a chunk
    at a time, its node pairs folded (:func:`_fold`), then the rules for all at once."""
    chunk = max(1, chunk or left.size)
    folded, folded_absolute = None, None
    for start in range(0, left.size, chunk):
        part = slice(start, start + chunk)
        half = 0.5 * (right[part] - left[part])
        z = np.multiply(NODES[:, None], half)
        z += 0.5 * (right[part] + left[part])
        g = integrand(z, job[part])
        if folded is None:
            folded = np.empty((_PAIRS + 1, *g.shape[:-2], left.size))
            folded_absolute = np.empty(folded.shape)
        _fold(g, -2, out=folded[..., part])
        _fold(np.abs(g, out=g), -2, out=folded_absolute[..., part])
    if folded is None:
        return Panels(left, right, job, *(np.empty(0),) * 3)
    scale = 0.5 * (right - left) / np.sqrt(2.0 * np.pi)
    values = _weighted_sums(folded, HALF_RULES)
    values *= scale
    absolute = _weighted_sums(folded_absolute, KRONROD_HALF)[0]
    absolute *= scale
    return Panels(left, right, job, values[0], error_estimate(values, absolute), absolute)


def rule_sums(g: FloatArray, rules: FloatArray = HALF_RULES, axis: int = -1) -> FloatArray:
    """``Σ_k w_rk g_k`` over the 21 nodes k of g's ``axis``, for each rule r: rules holds
    the weights (r, 11) of the node pairs ±x_k and, last, of the centre
    (:data:`HALF_RULES`, :data:`KRONROD_HALF`); shaped (r, ...) with g's other axes.

    Unlike a BLAS product, whose summation order follows its blocking, every sum takes
    the same operations in the same order wherever it lies in g and however large g is:
    a panel's value, and with it a state's, cannot change with the other states of a
    call.
    """
    return _weighted_sums(_fold(g, axis), rules)


def _fold(g: FloatArray, axis: int, out: FloatArray | None = None) -> FloatArray:
    """g's 21 nodes along ``axis`` folded into 11: node k plus its mirror ``-x_k``, for
    the pairs from the outermost in, then the centre; shaped (11, ...) with the other
    axes."""
    g = np.moveaxis(g, axis, 0)
    if out is None:
        out = np.empty((_PAIRS + 1, *g.shape[1:]))
    np.add(g[:_PAIRS], g[:_PAIRS:-1], out=out[:_PAIRS])
    out[_PAIRS] = g[_PAIRS]
    return out


def _weighted_sums(folded: FloatArray, rules: FloatArray) -> FloatArray:
    """``Σ_k w_rk folded_k`` for each rule r (rules (r, 11)), shaped (r, ...): term by term
    in the order of k, skipping the rule's zero weights, each step one elementwise
    operation on whole arrays, so that each sum's rounding is its own."""
    out = np.empty((rules.shape[0], *folded.shape[1:]))
    term = np.empty(folded.shape[1:])
    for total, weights in zip(out, rules, strict=True):
        first, *rest = np.flatnonzero(weights)
        np.multiply(folded[first], weights[first], out=total)
        for k in rest:
            total += np.multiply(folded[k], weights[k], out=term)
    return out


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
