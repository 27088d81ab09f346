"""The timeline: the state of p and q at any time t, as a pure function of t.

Keyframe i is a transition of ``duration`` seconds followed by ``hold`` seconds of
stillness. During the transition every parameter moves as
``(1 - e) * start + e * end`` with ``e = easing(elapsed / duration)``; the state a
transition ends in is that at ``e = easing(1)`` (the target itself for every easing that
ends at 1). Nothing depends on the order in which times are asked for, so any frame can
be rendered alone.

A fit keyframe (``fit: forward`` or ``fit: reverse``) moves q instead along the descent
path that :func:`kldemo.core.fit.fit_path` computes once, in :meth:`Timeline.from_config`: at
``e = easing(elapsed / duration)`` q is the point a fraction e of the path's arc length
along it (:class:`kldemo.core.fit.FitPath`), so the pace is even under ``linear``. Later
keyframes start from where the fit ends.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from kldemo.config import LoadedConfig, load_config
from kldemo.config.load import ConfigSource
from kldemo.config.spec import SHORTHAND_OF
from kldemo.core.easing import ease, easing_range
from kldemo.core.mixture import MAX_ABS_MEAN, MAX_SECONDS, MAX_STD, MIN_STD, Mixture
from kldemo.core.plane import PlaneMixture
from kldemo.errors import ConfigError

#: The state of one distribution: a mixture on the line, or in the plane (a 2-D file).
State = Mixture | PlaneMixture

if TYPE_CHECKING:
    from kldemo.config.load import SampledP
    from kldemo.config.spec import ConfigSpec, KeyframeSpec
    from kldemo.core.fit import FitPath


@dataclass(frozen=True)
class States:
    """p and q at many times: arrays with a leading time axis."""

    t: np.ndarray
    p: State
    q: State
    segment: np.ndarray  # the keyframe whose transition or hold holds t, from its start


@dataclass(frozen=True)
class Step:
    """One keyframe, resolved: the full states it moves between, and its timing."""

    start_p: State
    start_q: State
    target_p: State
    target_q: State
    duration: float
    hold: float
    easing: str
    caption: str | None
    fit: FitPath | None = None  # a fit keyframe: q follows this path; target_q is its end

    @property
    def end_p(self) -> State:
        return self.start_p.blend(self.target_p, float(ease(self.easing, 1.0)))

    @property
    def end_q(self) -> State:
        if self.fit is not None:
            return self.fit.at(float(ease(self.easing, 1.0)))
        return self.start_q.blend(self.target_q, float(ease(self.easing, 1.0)))


class Timeline:
    """Every keyframe of a config resolved into full states, with their times."""

    def __init__(self, p: State, q: State, steps: list[Step], still: float):
        self.p, self.q, self.steps = p, q, steps
        spans = [s.duration + s.hold for s in steps]
        self.starts = np.concatenate([[0.0], np.cumsum(spans)])[:-1] if steps else np.zeros(0)
        self.duration = math.fsum(spans) if steps else still

    @property
    def dims(self) -> int:
        """1 for a file on the line, 2 for one in the plane."""
        return 2 if isinstance(self.p, PlaneMixture) else 1

    @classmethod
    def from_config(cls, config: ConfigSpec, data: SampledP | None = None) -> Timeline:
        """The timeline of a checked config; ``data`` is p's samples and estimate where the
        config gives p as data (:attr:`kldemo.config.LoadedConfig.data`)."""
        if config.p.samples is not None and data is None:
            raise ValueError(
                "p is given by samples: pass its data (LoadedConfig.data), or use "
                "kldemo.timeline.load, which reads it"
            )
        dims = data.estimate.dims if data is not None else config.p.dims()
        kind = PlaneMixture if dims == 2 else Mixture
        first_p = data.estimate.mixture() if data is not None else kind.of(config.p.given())
        p, q = first_p, kind.of(config.q.given())
        steps = []
        for i, frame in enumerate(config.keyframes):
            target_p = p.changed(frame.p.given()) if frame.p else p
            target_q = q.changed(frame.q.given()) if frame.q else q
            path = None
            if frame.fit is not None:
                path = _fit(i, frame, p, q, data)
                target_q = path.end
            step = Step(
                p,
                q,
                target_p,
                target_q,
                duration=frame.duration if frame.duration is not None else config.defaults.duration,
                hold=frame.hold if frame.hold is not None else config.defaults.hold,
                easing=frame.easing or config.defaults.easing,
                caption=frame.caption,
                fit=path,
            )
            steps.append(step)
            p, q = step.end_p, step.end_q
        return cls(first_p, kind.of(config.q.given()), steps, config.defaults.hold)

    @property
    def transition_ends(self) -> np.ndarray:
        """The time at which each keyframe's transition ends (its hold begins)."""
        return self.starts + np.array([s.duration for s in self.steps])

    @property
    def keyframe_ends(self) -> np.ndarray:
        """The time at which each keyframe's hold ends."""
        return self.starts + np.array([s.duration + s.hold for s in self.steps])

    def frame_times(self, fps: float) -> np.ndarray:
        """The time of every frame of a video at ``fps``: k / fps for k = 0, 1, ..."""
        count = max(1, round(self.duration * fps))
        return np.arange(count) / fps

    def state_at(self, t: np.ndarray | float) -> States:
        """p and q at times ``t`` (an array, or one time), vectorised over t."""
        t = np.atleast_1d(np.asarray(t, dtype=float))
        if not self.steps:
            zeros = np.zeros(len(t), dtype=int)
            return States(t, _repeat(self.p, len(t)), _repeat(self.q, len(t)), zeros - 1)
        index = np.clip(np.searchsorted(self.starts, t, side="right") - 1, 0, len(self.steps) - 1)
        durations = np.array([s.duration for s in self.steps])
        alpha = np.clip((t - self.starts[index]) / durations[index], 0.0, 1.0)
        e = np.empty_like(alpha)
        names = np.array([s.easing for s in self.steps])[index]
        for name in set(names):
            e[names == name] = ease(name, alpha[names == name])
        start_p, start_q, target_p, target_q = (
            _stack([getattr(s, which) for s in self.steps])
            for which in ("start_p", "start_q", "target_p", "target_q")
        )
        p = _take(start_p, index).blend(_take(target_p, index), e)
        q = _take(start_q, index).blend(_take(target_q, index), e)
        for i in np.unique(index):
            path = self.steps[i].fit
            if path is not None:
                here = index == i
                on_path = path.at(e[here])
                for mine, moved in zip(q, on_path, strict=True):
                    mine[here] = moved
        return States(t, p, q, index)

    def keyframe_of(self, t: np.ndarray) -> np.ndarray:
        """The keyframe that has moved the state at each t, or -1 at the initial state.

        Keyframe i owns the half-open span (start_i, end of its hold]."""
        return np.searchsorted(self.starts, np.asarray(t, dtype=float), side="left") - 1

    def fit_warnings(self) -> list[str]:
        """One line per fit keyframe whose end may not be a local minimum, naming the
        keyframe and the gradient left, as ``keyframes[3]: fit: reverse stopped ...``: the
        video is still made (from where the fit stopped), but the user should know."""
        return [
            f"keyframes[{i}]: {warning}"
            for i, step in enumerate(self.steps)
            if step.fit is not None and (warning := step.fit.warning()) is not None
        ]


@dataclass(frozen=True)
class Loaded:
    """A keyframe file that passed every check: its validated config and its timeline."""

    config: LoadedConfig
    timeline: Timeline

    @property
    def path(self) -> Path:
        return self.config.path


def load(source: ConfigSource) -> Loaded:
    """Read a keyframe file (or a config given as a dict), check it, and resolve its
    keyframes: what every command does first. Raises ConfigError with every problem: those
    of the format (:func:`kldemo.config.load_config`), then the rules that span keyframes
    (:func:`check_sequence`)."""
    config = load_config(source)
    problems, timeline = _checked(config.model, config.data)
    if problems or timeline is None:
        raise ConfigError(
            [config.document.diagnostic(where, message) for where, message in problems]
        )
    return Loaded(config, timeline)


class _Refused(Exception):
    """A keyframe the timeline cannot resolve: its path in the file and why."""

    def __init__(self, where: tuple[str | int, ...], message: str):
        super().__init__(message)
        self.where, self.message = where, message


def _fit(i: int, frame: KeyframeSpec, p: State, q: State, data: SampledP | None) -> FitPath:
    """The path of fit keyframe ``i`` from q's state there (a 2-D fit moves one Gaussian,
    kept in the keyframe's family). Against data, a forward fit of one Gaussian ends at
    the samples' maximum-likelihood Gaussian (:func:`_to_samples`)."""
    if isinstance(q, Mixture):
        from kldemo.core.fit import PARAMETERS, fit_path

        path = fit_path(p, q, frame.fit, frame.optimize or PARAMETERS)
        return _to_samples(path, data, frame)
    family = frame.family or "full"
    if q.components != 1:
        raise _Refused(
            ("keyframes", i, "fit"),
            f"a fit in 2-D moves one Gaussian q, but q has {q.components} components here",
        )
    if family == "diagonal" and q.covs[0, 0, 1] != 0:
        raise _Refused(
            ("keyframes", i, "family"),
            f"q's covariance is not diagonal here (its off-diagonal entry is "
            f"{q.covs[0, 0, 1]:g}), so a diagonal fit cannot start from it: write a keyframe "
            "before this one that sets q's cov to [[a, 0], [0, c]]",
        )
    from kldemo.core.plane.paths import plane_fit_path

    path = plane_fit_path(p, q, frame.fit, family, tuple(frame.optimize or ("means", "covs")))
    return _to_samples(path, data, frame)


def _to_samples(path: FitPath, data: SampledP | None, frame: KeyframeSpec) -> FitPath:
    """A forward fit of one Gaussian q against data ends at the samples' maximum-likelihood
    Gaussian (their mean and 1/N covariance; in the diagonal family, their variances),
    which minimising KL(p̂‖q) over the estimate p̂ misses by the estimator's regularisation
    (about 1e-6): the path against p̂ is bent onto it (:class:`kldemo.core.retarget.Retargeted`).
    Other fits are left as they are."""
    if data is None or frame.fit != "forward" or path.start.components != 1:
        return path
    from kldemo.config.estimate import sample_gaussian
    from kldemo.core.retarget import Retargeted

    mean, spread = sample_gaussian(data.samples)
    optimize = frame.optimize or ("means", "stds", "covs")
    start = path.start
    if isinstance(start, Mixture):
        end = Mixture(
            np.ones(1),
            np.array([mean]) if "means" in optimize else start.means,
            np.array([spread]) if "stds" in optimize else start.stds,
        )
    else:
        cov = np.diag(np.diag(spread)) if frame.family == "diagonal" else spread
        end = PlaneMixture(
            np.ones(1),
            mean[None] if "means" in optimize else start.means,
            cov[None] if "covs" in optimize else start.covs,
        )
    return Retargeted(path, end)


def _repeat(m: State, n: int) -> State:
    return type(m)(*(np.broadcast_to(v, (n, *v.shape)).copy() for v in m))


def _stack(ms: list[State]) -> State:
    return type(ms[0])(*(np.stack(vs) for vs in zip(*ms, strict=True)))


def _take(m: State, index: np.ndarray) -> State:
    return m.take(index)


Problems = list[tuple[tuple[str | int, ...], str]]


def check_sequence(config: ConfigSpec, data: SampledP | None = None) -> Problems:
    """Rules that span keyframes, as (path, message) pairs; empty when all hold.

    A keyframe keeps the number of components; an easing that overshoots must not move a
    std or weight out of its domain on the way; the video lasts at most an hour.
    """
    return _checked(config, data)[0]


def _checked(config: ConfigSpec, data: SampledP | None = None) -> tuple[Problems, Timeline | None]:
    """The problems of :func:`check_sequence`, and the timeline (None where the component
    counts are wrong, so that none can be built)."""
    problems = _data_problems(config, data) + _dimension_problems(
        config, data.estimate.dims if data is not None else config.p.dims()
    )
    if problems:
        return problems, None
    counts = {
        "p": data.estimate.components if data is not None else config.p.component_count(),
        "q": config.q.component_count(),
    }
    for i, frame in enumerate(config.keyframes):
        if frame.optimize and "weights" in frame.optimize and counts["q"] == 1:
            problems.append(
                (
                    ("keyframes", i, "optimize"),
                    "q is one Gaussian, whose weight is always 1: leave weights out of optimize",
                )
            )
        for name in ("p", "q"):
            change = getattr(frame, name)
            if change is None:
                continue
            for key, values in change.given().items():
                if len(values) != counts[name]:
                    shown = key if key in change.model_fields_set else SHORTHAND_OF[key]
                    problems.append(
                        (
                            ("keyframes", i, name, shown),
                            f"{name} has {counts[name]} component(s); a keyframe cannot "
                            "change that "
                            f"(got {len(values)})"
                            if shown == key
                            else f"{shown} is shorthand for one Gaussian, but {name} has "
                            f"{counts[name]} "
                            f"components: use {key}",
                        )
                    )
    if problems:
        return problems, None

    try:
        timeline = Timeline.from_config(config, data)
    except _Refused as refused:
        return [(refused.where, refused.message)], None
    for i, step in enumerate(timeline.steps):
        low, high = easing_range(step.easing)
        if step.fit is not None:
            problems += _check_fit(config, i, step, low, high)
            continue
        problems += _check_overshoot(i, step, low, high)
    # A millisecond's slack: 1,000 keyframes of 3.6 s add up to a hair over 3600 in binary.
    if timeline.duration > MAX_SECONDS + 1e-3:
        seconds = f"{timeline.duration:,.3f}".rstrip("0").rstrip(".")
        problems.append(
            (
                ("keyframes",) if config.keyframes else ("defaults", "hold"),
                f"the video would last {seconds} s; the limit is one hour (3600 s)",
            )
        )
    if timeline.duration <= 0:
        problems.append(
            (
                ("defaults", "hold"),
                "with no keyframes the initial state is held for defaults.hold seconds, "
                "so it must be > 0",
            )
        )
    return problems, timeline


def _data_problems(config: ConfigSpec, data: SampledP | None) -> Problems:
    """Only p may be given as data, and a data p stays as estimated: keyframes change q."""
    problems: Problems = []
    if config.q.samples is not None:
        problems.append(
            (
                ("q", "samples"),
                "only p can be given as data; q is the approximation kldemo moves: write its "
                "means and stds (or covs)",
            )
        )
    if data is not None:
        problems += [
            (
                ("keyframes", i, "p"),
                "p is estimated from its samples and stays so for the whole file: keyframes "
                "change q (and fit it); remove this p",
            )
            for i, frame in enumerate(config.keyframes)
            if frame.p is not None
        ]
    return problems


def _dimension_problems(config: ConfigSpec, dims: int | None) -> Problems:
    """A file is on the line or in the plane throughout (p's form, or its data, decides),
    and each fit names only the parameters and the family of its dimension."""
    word = {1: "1-D (p's means are numbers)", 2: "2-D (p's means are pairs [x, y])"}[dims or 1]
    if config.p.samples is not None:
        word = f"{dims}-D (p's samples have {dims} column{'s' if dims == 2 else ''})"
    problems: Problems = []
    mappings = [(("q",), config.q)] + [
        (("keyframes", i, name), change)
        for i, frame in enumerate(config.keyframes)
        for name in ("p", "q")
        if (change := getattr(frame, name)) is not None
    ]
    for where, change in mappings:
        if change.dims() not in (None, dims):
            key = next(
                k
                for k in ("means", "mean", "stds", "std", "covs", "cov")
                if k in change.model_fields_set
            )
            problems.append(
                ((*where, key), f"this file is {word}; 1-D and 2-D cannot mix in one file")
            )
    spread, other = ("covs", "stds") if dims == 2 else ("stds", "covs")
    for i, frame in enumerate(config.keyframes):
        if frame.family is not None and dims != 2:
            problems.append(
                (("keyframes", i, "family"), "family is for fits in 2-D; this file is 1-D")
            )
        if frame.optimize and other in frame.optimize:
            problems.append(
                (
                    ("keyframes", i, "optimize"),
                    f"this file is {word}, whose spreads are {spread}: optimize {spread}, "
                    f"not {other}",
                )
            )
    return problems


def _check_overshoot(i: int, step: Step, low: float, high: float) -> Problems:
    """An easing that overshoots must not move a parameter out of its domain on the way."""
    if low >= 0 and high <= 1:
        return []  # the state stays between start and target, both checked already
    problems: Problems = []
    for name in ("p", "q"):
        start, target = getattr(step, f"start_{name}"), getattr(step, f"target_{name}")
        for e in (low, high):
            try:
                state = start.blend(target, e)
            except ValueError:  # a plane state whose covariance is no longer one
                bad = "covs to a matrix that is not positive definite"
            else:
                bad = _out_of_domain(state, MIN_STD, MAX_STD, MAX_ABS_MEAN)
            if bad:
                problems.append(
                    (
                        ("keyframes", i, "easing"),
                        f"{step.easing!r} overshoots (to {e:.0%} of the way), which takes "
                        f"{name}.{bad} on the way; choose an easing that stays within [0, 1]",
                    )
                )
                break
    return problems


def _check_fit(
    config: ConfigSpec,
    i: int,
    step: Step,
    low: float,
    high: float,
) -> list[tuple[tuple[str | int, ...], str]]:
    """A fit's easing must stay within [0, 1] (its path has nothing beyond either end),
    and every state on its path within the range the numeric core is verified in."""
    assert step.fit is not None
    problems: list[tuple[tuple[str | int, ...], str]] = []
    if low < 0 or high > 1:
        inherited = config.keyframes[i].easing is None
        problems.append(
            (
                ("keyframes", i, "easing"),
                f"{step.easing!r}{' (from defaults.easing)' if inherited else ''} overshoots (to "
                f"{(low if low < 0 else high):.0%} of the way), but a fit's path has nothing "
                "beyond "
                f"q's start and the optimum; "
                f"{'set an easing on this keyframe' if inherited else 'choose one'}"
                f" that stays within [0, 1]",
            )
        )
    on_path = step.fit.at(step.fit.arc / max(step.fit.length, 1e-300))
    bad = _out_of_domain(on_path, MIN_STD, MAX_STD, MAX_ABS_MEAN)
    if bad:
        problems.append(
            (
                ("keyframes", i, "fit"),
                f"the {step.fit.direction} fit takes q.{bad} on its way to the optimum; "
                "change p or "
                f"q's start so that it stays in range",
            )
        )
    return problems


def _out_of_domain(m: State, min_std: float, max_std: float, max_mean: float) -> str | None:
    if isinstance(m, PlaneMixture):
        return _plane_out_of_domain(m, min_std, max_std, max_mean)
    if np.any(m.weights < 0):
        return f"weights to {m.weights.min():.3g}, below 0"
    if np.any(m.stds < min_std):
        return f"stds to {m.stds.min():.3g}, below {min_std:g}"
    if np.any(m.stds > max_std):
        return f"stds to {m.stds.max():.3g}, above {max_std:g}"
    if np.any(np.abs(m.means) > max_mean):
        return f"means to {np.abs(m.means).max():.3g} in size, beyond {max_mean:g}"
    return None


def _plane_out_of_domain(
    m: PlaneMixture, min_std: float, max_std: float, max_mean: float
) -> str | None:
    """As :func:`_out_of_domain` in the plane: covariances stay positive definite, their
    condition number at most 1e8, their axes' stds in range."""
    from kldemo.config.values import MAX_CONDITION

    a, b, c = m.covs[..., 0, 0], m.covs[..., 0, 1], m.covs[..., 1, 1]
    det = a * c - b * b
    mid, radius = 0.5 * (a + c), np.hypot(0.5 * (a - c), b)
    if np.any(m.weights < 0):
        return f"weights to {m.weights.min():.3g}, below 0"
    if np.any(det <= 0) or np.any(a <= 0):
        return "covs to a matrix that is not positive definite"
    small, large = det / (mid + radius), mid + radius
    if np.any(large > MAX_CONDITION * small):
        return f"covs to a condition number of {np.max(large / small):.3g}, above 1e8"
    if np.any(small < min_std**2):
        return f"covs to an axis std of {np.sqrt(small.min()):.3g}, below {min_std:g}"
    if np.any(large > max_std**2):
        return f"covs to an axis std of {np.sqrt(large.max()):.3g}, above {max_std:g}"
    if np.any(np.abs(m.means) > max_mean):
        return f"means to {np.abs(m.means).max():.3g} in size, beyond {max_mean:g}"
    return None
