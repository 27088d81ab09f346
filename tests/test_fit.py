"""Fits and optima (kldemo.core.fit) against an independent optimiser, and fit keyframes.

The reference divergence is ``scipy.integrate.quad`` of a pure-Python integrand over
intervals split at every component's mean ± 2 and 4 stds (none of kldemo's quadrature);
the reference optimiser is ``scipy.optimize.minimize`` (BFGS, three-point differences) on
it, started from a point well off the end state under test, in the same basin.
"""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
from scipy import integrate, optimize
from scipy.special import softmax

from kldemo.core.divergences import kl_divergence
from kldemo.core.fit import clear_cache, fit_path, optima
from kldemo.core.mixture import Mixture
from kldemo.plan.table import kl_rows
from kldemo.timeline import Timeline, load

from .conftest import REPO, kldemo

BIMODAL = Mixture.of({"means": [2.0, 8.0], "stds": [0.8, 0.8]})
THREE = Mixture.of({"weights": [0.2, 0.5, 0.3], "means": [0.0, 4.0, 9.0], "stds": [1.0, 0.7, 1.5]})
MATCH = 1e-6  # fit against the reference optimiser


# --------------------------------------------------------------------------
# Independent reference
# --------------------------------------------------------------------------


def _terms(m):
    return [
        (math.log(w) - math.log(s) - 0.5 * math.log(2 * math.pi), mu, 1 / s)
        for w, mu, s in zip(*(np.asarray(v, dtype=float) for v in m), strict=True)
        if w > 0
    ]


def _log_pdf(x, terms):
    exponents = [c - 0.5 * ((x - mu) * inv) ** 2 for c, mu, inv in terms]
    top = max(exponents)
    return top + math.log(math.fsum(math.exp(e - top) for e in exponents))


def reference_kl(a, b):
    """KL(a‖b) by scipy.integrate.quad over a's support, split at components."""
    ta, tb = _terms(a), _terms(b)
    low = min(mu - 12 / inv for _, mu, inv in ta)
    high = max(mu + 12 / inv for _, mu, inv in ta)
    points = {low, high}
    for _, mu, inv in ta + tb:
        points.update(mu + k / inv for k in (-4, -2, 0, 2, 4))
    edges = sorted(x for x in points if low <= x <= high)

    def integrand(x):
        log_a = _log_pdf(x, ta)
        return math.exp(log_a) * (log_a - _log_pdf(x, tb))

    return math.fsum(
        integrate.quad(integrand, lo, hi, epsabs=1e-15, epsrel=1e-12, limit=200)[0]
        for lo, hi in itertools.pairwise(edges)
    )


def reference_fit(p, start, direction, optimize_=("weights", "means", "stds")):
    """scipy's BFGS on the reference divergence from ``start``, over the named parameters."""
    k = len(start.means)
    free = [
        name
        for name in ("weights", "means", "stds")
        if name in optimize_ and (name != "weights" or k > 1)
    ]
    base = {
        "weights": np.log(start.weights),
        "means": np.array(start.means, dtype=float),
        "stds": np.log(start.stds),
    }
    sizes = {"weights": k - 1, "means": k, "stds": k}

    def unpack(x):
        values, at = dict(base), 0
        for name in free:
            part = x[at : at + sizes[name]]
            values[name] = np.r_[0.0, part] if name == "weights" else part
            at += sizes[name]
        return Mixture(softmax(values["weights"]), values["means"], np.exp(values["stds"]))

    def objective(x):
        q = unpack(x)
        return reference_kl(p, q) if direction == "forward" else reference_kl(q, p)

    x0 = np.concatenate([base[n][1:] - base[n][0] if n == "weights" else base[n] for n in free])
    result = optimize.minimize(objective, x0, method="BFGS", jac="3-point", options={"gtol": 1e-10})
    return unpack(result.x)


def off(m, parameters=("weights", "means", "stds"), by=0.05):
    """A state near m, a few percent off in each of the named parameters (the rest as in m)."""
    k = len(m.means)
    weights = m.weights * np.exp(by * np.arange(k))
    return Mixture(
        weights / weights.sum() if "weights" in parameters else m.weights,
        m.means + by * m.stds if "means" in parameters else m.means,
        m.stds * (1 + by) if "stds" in parameters else m.stds,
    )


def assert_same_state(a, b, tolerance):
    for name in ("weights", "means", "stds"):
        np.testing.assert_allclose(
            getattr(a, name), getattr(b, name), rtol=0, atol=tolerance, err_msg=name
        )


def moment_matching(p):
    mean = float(np.dot(p.weights, p.means))
    return mean, math.sqrt(float(np.dot(p.weights, p.stds**2 + (p.means - mean) ** 2)))


# --------------------------------------------------------------------------
# End states
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("p", "q", "direction", "parameters"),
    [
        pytest.param(
            BIMODAL,
            Mixture.of({"means": [4.5], "stds": [1.0]}),
            "reverse",
            ("means", "stds"),
            id="gaussian-reverse",
        ),
        pytest.param(
            THREE,
            Mixture.of({"means": [4.0], "stds": [0.5]}),
            "reverse",
            ("means",),
            id="gaussian-reverse-means-only",
        ),
        pytest.param(
            THREE,
            Mixture.of({"weights": [0.3, 0.7], "means": [3.0, 5.0], "stds": [1.0, 2.0]}),
            "forward",
            ("weights", "means", "stds"),
            id="mixture-forward",
        ),
        pytest.param(
            THREE,
            Mixture.of({"weights": [0.3, 0.7], "means": [3.0, 5.0], "stds": [1.0, 2.0]}),
            "reverse",
            ("weights", "means", "stds"),
            id="mixture-reverse",
        ),
        pytest.param(
            THREE,
            Mixture.of({"weights": [0.6, 0.4], "means": [1.0, 8.0], "stds": [1.0, 1.0]}),
            "forward",
            ("weights",),
            id="mixture-forward-weights-only",
        ),
    ],
)
def test_fit_ends_where_an_independent_optimiser_does(p, q, direction, parameters):
    path = fit_path(p, q, direction, parameters)
    assert path.converged and path.last_step < 1e-10
    reference = reference_fit(p, off(path.end, parameters), direction, parameters)
    assert_same_state(path.end, reference, MATCH)
    # the parameters not optimised are exactly where they were
    for name in {"weights", "means", "stds"} - set(parameters):
        assert np.array_equal(getattr(path.end, name), getattr(q, name))


@pytest.mark.parametrize(
    "p",
    [
        BIMODAL,
        THREE,
        Mixture.of({"weights": [1e-3, 0.999], "means": [-50.0, 3.0], "stds": [0.01, 20.0]}),
        Mixture.of({"means": [1e3], "stds": [1e-3]}),
    ],
)
def test_forward_fit_of_one_gaussian_is_moment_matching(p):
    path = fit_path(p, Mixture.of({"means": [0.0], "stds": [1.0]}), "forward")
    mean, std = moment_matching(p)
    assert abs(path.end.means[0] - mean) <= 1e-8 * max(1.0, abs(mean))
    assert abs(path.end.stds[0] - std) <= 1e-8 * std


def test_reverse_fit_on_separated_modes_lands_on_the_mode_it_starts_under():
    p = Mixture.of({"weights": [0.4, 0.6], "means": [-20.0, 20.0], "stds": [1.0, 2.0]})
    # Under q = N(-12, 3) log p is the left mode's; at -3 the wider right mode's tail
    # already dominates p (exp(-23²/8) against exp(-17²/2)), so the flow goes right.
    for start, (mode, std) in ((-12.0, (-20.0, 1.0)), (-3.0, (20.0, 2.0)), (4.0, (20.0, 2.0))):
        end = fit_path(p, Mixture.of({"means": [start], "stds": [3.0]}), "reverse").end
        # the other mode is 20 stds away: its pull is far below 1e-9
        assert abs(end.means[0] - mode) < 1e-9 * std and abs(end.stds[0] - std) < 1e-9 * std


@pytest.mark.parametrize("direction", ["forward", "reverse"])
def test_a_fit_from_a_saddle_leaves_it_and_is_deterministic(direction):
    # Two identical components stay identical under the flow, down to the best single
    # Gaussian: a saddle, since splitting them lowers either KL, to 0 at p itself.
    start = Mixture.of({"weights": [0.5, 0.5], "means": [5.0, 5.0], "stds": [1.0, 1.0]})
    path = fit_path(BIMODAL, start, direction)
    assert path.converged
    order = np.argsort(path.end.means)
    assert_same_state(Mixture(*(v[order] for v in path.end)), BIMODAL, 1e-8)
    clear_cache()
    again = fit_path(BIMODAL, start, direction)
    assert np.array_equal(again.vertices, path.vertices)


# --------------------------------------------------------------------------
# The path
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "direction"),
    [
        (Mixture.of({"means": [4.5], "stds": [1.0]}), "reverse"),
        (Mixture.of({"means": [4.5], "stds": [0.3]}), "forward"),
        (Mixture.of({"weights": [0.3, 0.7], "means": [3.0, 5.0], "stds": [1.0, 2.0]}), "reverse"),
    ],
)
def test_the_path_descends_from_start_to_end_at_an_even_pace(q, direction):
    p = BIMODAL if q.components == 1 else THREE
    path = fit_path(p, q, direction)
    n = 200
    states = path.at(np.linspace(0.0, 1.0, n + 1))
    for name in ("weights", "means", "stds"):
        assert np.array_equal(getattr(states, name)[0], getattr(q, name))
        assert np.array_equal(getattr(states, name)[-1], getattr(path.end, name))
    values = kl_divergence(*p, *states) if direction == "forward" else kl_divergence(*states, *p)
    assert np.all(np.diff(values) <= 1e-12 * np.abs(values[:-1]))
    assert values[-1] < values[0]
    # equal steps of the fraction are equal lengths in the metric (chords of a fine polyline)
    u = np.concatenate([np.log(states.weights), states.means, np.log(states.stds)], axis=1)
    k = q.components
    mid_w = 0.5 * (states.weights[1:] + states.weights[:-1])
    mid_s = np.exp(0.5 * (u[1:, 2 * k :] + u[:-1, 2 * k :]))
    du = np.diff(u, axis=0)
    da = du[:, :k] - np.sum(mid_w * du[:, :k], axis=1, keepdims=True)
    chords = np.sqrt(
        np.sum(mid_w * (da**2 + (du[:, k : 2 * k] / mid_s) ** 2 + 2 * du[:, 2 * k :] ** 2), axis=1)
    )
    assert chords.sum() == pytest.approx(path.length, rel=1e-3)
    np.testing.assert_allclose(chords, path.length / n, rtol=0.05)


# --------------------------------------------------------------------------
# Optima markers
# --------------------------------------------------------------------------


def test_optima_are_moment_matching_and_every_reverse_local_minimum():
    found = optima(BIMODAL)
    mean, std = moment_matching(BIMODAL)
    assert found.forward.mean == pytest.approx(mean, abs=1e-12)
    assert found.forward.std == pytest.approx(std, rel=1e-12)
    # An independent multi-start on a grid of starts finds the same set of minima.
    starts = [(m, s) for m in np.linspace(0.0, 10.0, 6) for s in (0.5, 3.0)]
    minima = []
    for m, s in starts:
        end = reference_fit(BIMODAL, Mixture.of({"means": [m], "stds": [s]}), "reverse")
        if not any(abs(end.means[0] - a) < 1e-4 and abs(end.stds[0] - b) < 1e-4 for a, b in minima):
            minima.append((float(end.means[0]), float(end.stds[0])))
    minima.sort()
    assert len(found.reverse) == len(minima) == 3  # both modes, and a wide q between them
    for g, (m, s) in zip(found.reverse, minima, strict=True):
        assert abs(g.mean - m) < MATCH and abs(g.std - s) < MATCH
    for g, value in zip(found.reverse, found.reverse_kl, strict=True):
        assert value == pytest.approx(reference_kl(([1.0], [g.mean], [g.std]), BIMODAL), rel=1e-10)


def test_one_gaussian_p_has_itself_as_its_only_optimum():
    p = Mixture.of({"means": [3.0], "stds": [0.2]})
    clear_cache()
    found = optima(p)
    assert found.forward.mean == 3.0 and found.forward.std == pytest.approx(0.2, rel=1e-15)
    assert len(found.reverse) == 1
    assert found.reverse[0].mean == pytest.approx(3.0, abs=1e-10)
    assert found.reverse[0].std == pytest.approx(0.2, rel=1e-10)


# --------------------------------------------------------------------------
# Fit keyframes in the timeline and in `kldemo kl`
# --------------------------------------------------------------------------

FIT_CONFIG = """
p: {means: [2, 8], stds: [0.8, 0.8]}
q: {mean: 4.5, std: 1}
defaults: {duration: 2, hold: 1, easing: linear}
keyframes:
  - fit: reverse
  - q: {std: 2}
  - fit: forward
    easing: smooth
  - fit: forward
    optimize: [means]
"""


def test_fit_keyframes_in_the_timeline(write_config):
    timeline = Timeline.from_config(load(write_config(FIT_CONFIG)).config.model)
    first, second, third, fourth = timeline.steps
    assert first.fit is not None and first.fit.direction == "reverse"
    # the transition follows the path; the hold keeps its end
    t = np.array([0.0, 0.5, 1.0, 2.0, 2.5])
    q = timeline.state_at(t).q
    expected = first.fit.at(np.array([0.0, 0.25, 0.5, 1.0, 1.0]))  # linear easing
    assert_same_state(q, expected, 0.0)
    # the next keyframe starts from the fitted end, and changes only the std
    assert second.start_q.means[0] == first.fit.end.means[0]
    assert second.target_q.stds[0] == 2.0
    # forward from there: moment matching, whatever the start
    mean, std = moment_matching(BIMODAL)
    assert third.fit.end.means[0] == pytest.approx(mean, abs=1e-12)
    assert third.fit.end.stds[0] == pytest.approx(std, rel=1e-12)
    assert fourth.fit.length < 1e-9  # its mean is already optimal: q stays
    # vectorised: all times at once equal one at a time, in any order
    times = np.linspace(0, timeline.duration, 37)
    together = timeline.state_at(times[::-1]).q
    for i, ti in enumerate(times[::-1]):
        alone = timeline.state_at(ti).q
        assert_same_state(Mixture(*(v[i : i + 1] for v in together)), alone, 0.0)


def test_kl_rows_show_the_fitted_q(write_config):
    path = write_config(FIT_CONFIG)
    rows = kl_rows(load(path).timeline)
    assert rows.q.means[1, 0] == pytest.approx(2.0, abs=2e-3)  # reverse: a mode
    result = kldemo("kl", str(path), "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    mean, std = moment_matching(BIMODAL)
    row = data["rows"][3]  # end of the forward fit
    assert row["q"]["means"][0] == pytest.approx(mean, abs=1e-12)
    assert row["q"]["stds"][0] == pytest.approx(std, rel=1e-12)
    assert row["forward_kl"] == pytest.approx(
        reference_kl(BIMODAL, ([1.0], [mean], [std])), rel=1e-10
    )


# --------------------------------------------------------------------------
# Flat valleys, merging components, and fits that say they stopped short
# --------------------------------------------------------------------------

CLOSE = Mixture.of({"weights": [0.5, 0.5], "means": [0.0, 0.5], "stds": [1.0, 1.0]})
APART = Mixture.of({"weights": [0.5, 0.5], "means": [-2.0, 2.0], "stds": [1.0, 1.0]})
STANDARD = Mixture.of({"means": [0.0], "stds": [1.0]})
PAIR = Mixture.of({"weights": [0.5, 0.5], "means": [-1.0, 1.0], "stds": [1.0, 1.0]})


def _divergence(p, q, direction):
    return float(kl_divergence(*p, *q) if direction == "forward" else kl_divergence(*q, *p))


@pytest.mark.parametrize("direction", ["forward", "reverse"])
@pytest.mark.parametrize(
    ("p", "q"),
    [
        pytest.param(CLOSE, APART, id="close-components"),  # nearly one Gaussian: a flat valley
        pytest.param(STANDARD, PAIR, id="components-merge"),  # q's two components become p's one
    ],
)
def test_a_fit_in_a_flat_valley_reaches_q_equal_to_p(p, q, direction):
    path = fit_path(p, q, direction)
    assert path.converged and path.warning() is None
    assert _divergence(p, path.end, direction) < 1e-12
    assert reference_kl(p, path.end) < 1e-12 and reference_kl(path.end, p) < 1e-12
    if p.components == 2:
        assert_same_state(path.end, p, 1e-6)
    else:  # two copies of p's Gaussian, with any weights
        assert np.all(np.abs(path.end.means) < 1e-6) and np.all(np.abs(path.end.stds - 1) < 1e-6)


def test_a_fit_capped_short_of_the_optimum_says_so():
    path = fit_path(CLOSE, APART, "reverse", max_newton_steps=1)
    assert not path.converged
    assert path.gradient > 0
    assert path.warning() == (
        f"fit: reverse stopped before converging (gradient {path.gradient:.1g} left)"
    )


def test_the_forward_fit_normalises_p_weights_exactly():
    # weights within the config's tolerance of summing to 1, means near the limit of 1e4
    p = Mixture(
        np.array([0.5, 0.5 + 9e-10]), np.array([1e4 - 3.0, 1e4 + 2.0]), np.array([1.0, 0.5])
    )
    end = fit_path(p, Mixture.of({"means": [1e4], "stds": [1.0]}), "forward").end
    normalised = Mixture(p.weights / p.weights.sum(), p.means, p.stds)
    mean, std = moment_matching(normalised)
    assert abs(end.means[0] - mean) <= 1e-10 * abs(mean)
    assert abs(end.stds[0] - std) <= 1e-10 * std


CAPPED = """
p: {weights: [0.5, 0.5], means: [0, 0.5], stds: [1, 1]}
q: {weights: [0.5, 0.5], means: [-2, 2], stds: [1, 1]}
defaults: {duration: 0.4, hold: 0}
style: {labels: text}
keyframes:
  - fit: reverse
"""


@pytest.fixture
def capped_fits(monkeypatch):
    """Fits capped at one Newton step, so that one stops short; the cache forgets them."""
    import kldemo.core.fit

    monkeypatch.setattr(kldemo.core.fit, "MAX_NEWTON_STEPS", 1)
    clear_cache()
    yield
    clear_cache()


def test_kl_warns_of_a_fit_that_stopped_short(write_config, capped_fits):
    from click.testing import CliRunner

    from kldemo.cli import cli

    path = write_config(CAPPED)
    result = CliRunner().invoke(cli, ["kl", str(path)])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stderr.splitlines() if "warning" in line]
    assert len(lines) == 1
    assert lines[0].startswith(
        f"{path}: warning: keyframes[0]: fit: reverse stopped before converging (gradient "
    )
    assert "warning" not in result.stdout


def test_the_report_lists_a_fit_that_stopped_short(write_config, capped_fits, tmp_path):
    from click.testing import CliRunner

    from kldemo.cli import cli

    path = write_config(CAPPED)
    report = tmp_path / "report.json"
    result = CliRunner().invoke(
        cli,
        [
            "render",
            str(path),
            "-r",
            "160,90",
            "--fps",
            "5",
            "-j",
            "1",
            "--labels",
            "text",
            "--no-cache",
            "-o",
            str(tmp_path / "a.mp4"),
            "--report",
            str(report),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "warning: keyframes[0]: fit: reverse stopped before converging" in result.stderr
    (config,) = json.loads(report.read_text())["configs"]
    assert config["status"] == "ok"
    assert len(config["warnings"]) == 1
    assert config["warnings"][0].startswith("keyframes[0]: fit: reverse stopped before")


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(None, id="mode-seeking"),
        pytest.param(CAPPED.replace("reverse", "forward"), id="close-components"),
        pytest.param(
            "p: {mean: 0, std: 1}\nq: {weights: [0.5, 0.5], means: [-1, 1], stds: [1, 1]}\n"
            "keyframes:\n  - fit: reverse\n  - fit: forward\n",
            id="components-merge",
        ),
    ],
)
def test_kl_of_fit_configs_prints_no_numpy_warnings(text, write_config):
    path = REPO / "configs" / "mode-seeking.yaml" if text is None else write_config(text)
    result = kldemo("kl", str(path))
    assert result.returncode == 0, result.stderr
    assert "RuntimeWarning" not in result.stderr and "warning" not in result.stderr


def test_a_component_whose_weight_vanishes_ends_the_fit_with_a_warning_not_a_crash(tmp_path):
    # Two coincident components of q, far from p: the forward fit gives one of them all the
    # weight, and the other's weight falls below rounding, leaving its mean and std free.
    config = tmp_path / "vanishing.yaml"
    config.write_text(
        "p: {means: [2.662], stds: [0.235]}\n"
        "q: {means: [0.0, 0.0], stds: [0.2, 0.293]}\n"
        "keyframes:\n  - fit: forward\n"
    )
    result = kldemo("kl", config, "--format", "json")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "RuntimeWarning" not in result.stderr
    end = json.loads(result.stdout)["rows"][-1]
    assert 0 <= end["forward_kl"] < 1e-9
    assert max(end["q"]["weights"]) > 1 - 1e-9
