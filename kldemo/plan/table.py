"""``kldemo kl``: the divergences at chosen times, as a table, CSV or JSON.

Every row has every divergence of :data:`kldemo.core.registry.DIVERGENCES`, in its order:
both KLs and, beside them, the Jensen-Shannon divergence (nats), the total variation
distance and the Hellinger distance. JSON rows keep the keys ``t, keyframe, p, q`` in that
order, followed by each divergence's ``column`` (``forward_kl, reverse_kl, js, tv,
hellinger``), then ``caption``: the caption the video's frame at t shows, or null
(:mod:`kldemo.plan.captions`). CSV ends each row with it (empty for none); the table shows
it last, where any row has one.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np

from kldemo.core.plane import PlaneMixture
from kldemo.core.registry import DIVERGENCES, divergence_values
from kldemo.errors import UsageError
from kldemo.plan.captions import captions_at
from kldemo.timeline import State, Timeline

if TYPE_CHECKING:
    from collections.abc import Sequence

    from kldemo.config.load import LoadedConfig

MAX_ROWS = 1_000_000


@dataclass(frozen=True)
class Rows:
    """The divergences at times ``t``; parameters as arrays with a leading time axis.

    ``values`` maps each divergence's name (``forward``, ...) to its values, in the
    registry's order; ``captions`` holds the caption shown at each time (None: none).
    """

    t: np.ndarray
    keyframe: np.ndarray
    p: State
    q: State
    duration: float
    values: dict[str, np.ndarray]
    captions: list[str | None]


def report_times(
    timeline: Timeline, at: Sequence[float] = (), every: float | None = None
) -> np.ndarray:
    """The times to report: those asked for, else t = 0 and the end of each transition."""
    end = timeline.duration
    for t in at:
        if not (math.isfinite(t) and 0 <= t <= end):
            raise UsageError(f"--at {t:g}: the video runs from 0 to {end:g} s")
    times = list(at)
    if every is not None:
        if not (math.isfinite(every) and every > 0):
            raise UsageError(f"--every {every:g}: must be a number of seconds > 0")
        count = math.floor(end / every + 1e-9) + 1
        if count > MAX_ROWS:
            raise UsageError(f"--every {every:g} gives {count:,} rows; the limit is {MAX_ROWS:,}")
        times.extend(np.arange(count) * every)
    if not times:
        times = [0.0, *timeline.transition_ends]
    return np.unique(np.asarray(times, dtype=float))


def kl_rows(timeline: Timeline, at: Sequence[float] = (), every: float | None = None) -> Rows:
    """The divergences of ``timeline`` at the times :func:`report_times` picks."""
    t = report_times(timeline, at, every)
    states = timeline.state_at(t)
    values = divergence_values(states.p, states.q)
    return Rows(
        t,
        timeline.keyframe_of(t),
        states.p,
        states.q,
        timeline.duration,
        values,
        captions_at(timeline, states.segment),
    )


def write_rows(out: TextIO, config: LoadedConfig, rows: Rows, fmt: str) -> None:
    if fmt == "json":
        json.dump(_json(config, rows), out, indent=2)
        out.write("\n")
    elif fmt == "csv":
        _csv(out, rows, _estimate(config))
    else:
        _table(out, config, rows)


def _mixture_dict(m: State, i: int) -> dict[str, list]:
    """State i's parameters: weights, means (pairs in 2-D), stds (full 2x2 covs in 2-D)."""
    return m.take(i).as_dict()


def _param_columns(name: str, m: State) -> list[str]:
    """The CSV columns of a mixture's parameters: ``p_weight0, p_mean0, p_std0`` in 1-D;
    in 2-D ``p_mean0_x, p_mean0_y`` and each covariance as ``p_cov0_xx, _xy, _yy``."""
    k = range(m.components)
    if isinstance(m, PlaneMixture):
        return [
            *(f"{name}_weight{j}" for j in k),
            *(f"{name}_mean{j}_{a}" for j in k for a in "xy"),
            *(f"{name}_cov{j}_{e}" for j in k for e in ("xx", "xy", "yy")),
        ]
    return [f"{name}_{param[:-1]}{j}" for param in ("weights", "means", "stds") for j in k]


def _param_values(m: State, i: int) -> list[float]:
    """Row i's parameters in the order of :func:`_param_columns`."""
    if isinstance(m, PlaneMixture):
        covs = m.covs[i]
        return [
            *m.weights[i],
            *m.means[i].reshape(-1),
            *np.stack([covs[:, 0, 0], covs[:, 0, 1], covs[:, 1, 1]], axis=-1).reshape(-1),
        ]
    return [v for arr in m for v in arr[i]]


def _json(config: LoadedConfig, rows: Rows) -> dict[str, Any]:
    return {
        "config": str(config.path),
        "duration": rows.duration,
        "rows": [
            {
                "t": float(rows.t[i]),
                "keyframe": int(rows.keyframe[i]) if rows.keyframe[i] >= 0 else None,
                "p": {**_mixture_dict(rows.p, i), **_estimate_field(config)},
                "q": _mixture_dict(rows.q, i),
                **{DIVERGENCES[name].column: float(v[i]) for name, v in rows.values.items()},
                "caption": rows.captions[i],
            }
            for i in range(len(rows.t))
        ],
    }


def _estimate(config: LoadedConfig) -> dict[str, Any]:
    """What ``kl`` says of a p estimated from data (method, components, samples, mean
    log-likelihood); empty for a p the file writes out."""
    return {} if config.data is None else config.data.estimate.summary()


def _estimate_field(config: LoadedConfig) -> dict[str, Any]:
    estimate = _estimate(config)
    return {"estimate": estimate} if estimate else {}


def _csv(out: TextIO, rows: Rows, estimate: dict[str, Any]) -> None:
    writer = csv.writer(out, lineterminator="\n")
    columns = ["t", "keyframe"]
    for name, m in (("p", rows.p), ("q", rows.q)):
        columns += _param_columns(name, m)
    # A data p: the estimate's own columns, the same in every row.
    columns += [f"p_estimate_{key}" for key in estimate]
    shown = [repr(v) if isinstance(v, float) else str(v) for v in estimate.values()]
    writer.writerow([*columns, *(DIVERGENCES[name].column for name in rows.values), "caption"])
    for i in range(len(rows.t)):
        params = [repr(float(v)) for m in (rows.p, rows.q) for v in _param_values(m, i)]
        keyframe = int(rows.keyframe[i]) if rows.keyframe[i] >= 0 else ""
        writer.writerow(
            [
                repr(float(rows.t[i])),
                keyframe,
                *params,
                *shown,
                *(repr(float(v[i])) for v in rows.values.values()),
                rows.captions[i] or "",
            ]
        )


NEGLIGIBLE = 1e-12  # relative to the scale of the problem: below it, a number prints as 0


def _tidy(value: float, scale: float) -> float:
    """0 for a value that is rounding noise next to ``scale`` (a mean of -7.7e-27 where the
    stds are 1), so that the table shows 0 rather than a number nobody wrote; the
    CSV and JSON keep the exact value."""
    return 0.0 if abs(value) < NEGLIGIBLE * scale else value + 0.0  # + 0.0: no "-0"


def _number(value: float) -> str:
    value = _tidy(value, 1.0)  # divergences are read in nats
    return f"{value:.4f}" if abs(value) < 1e4 else f"{value:.4e}"


def _describe(m: State, i: int) -> str:
    # The problem's scale: its spread and its distance from 0, whichever is larger.
    spread = m.covs[i] if isinstance(m, PlaneMixture) else m.stds[i]
    scale = float(max(np.max(np.abs(m.means[i])), np.max(np.abs(spread))))

    def listed(values: np.ndarray, scale: float = scale) -> str:
        inner = ", ".join(f"{_tidy(float(v), scale):.4g}" for v in values)
        return inner if len(values) == 1 else f"[{inner}]"

    if isinstance(m, PlaneMixture):
        # Each component as its mean (x, y) and covariance (xx, xy, yy).
        parts = [
            f"μ=({listed(mean)}) Σ=({listed(np.array([c[0, 0], c[0, 1], c[1, 1]]))})".replace(
                "([", "("
            ).replace("])", ")")
            for mean, c in zip(m.means[i], m.covs[i], strict=True)
        ]
        text = "; ".join(parts)
    else:
        text = f"μ={listed(m.means[i])} σ={listed(m.stds[i])}"
    if m.components > 1 and not np.allclose(m.weights[i], 1 / m.components, rtol=0, atol=1e-12):
        text = f"w={listed(m.weights[i], 1.0)} " + text
    return text


def _table(out: TextIO, config: LoadedConfig, rows: Rows) -> None:
    header = ["t (s)", "keyframe", "p", "q", *(DIVERGENCES[name].heading for name in rows.values)]
    body = [
        [
            f"{rows.t[i]:.3f}",
            "start" if rows.keyframe[i] < 0 else str(int(rows.keyframe[i])),
            _describe(rows.p, i),
            _describe(rows.q, i),
            *(_number(float(v[i])) for v in rows.values.values()),
        ]
        for i in range(len(rows.t))
    ]
    right = {0, *range(4, len(header))}
    if any(rows.captions):  # last, where it may run long
        header.append("caption")
        for row, caption in zip(body, rows.captions, strict=True):
            row.append(caption or "")
    widths = [max(len(r[c]) for r in [header, *body]) for c in range(len(header))]
    title = config.model.title or config.path.name
    out.write(f"{title} ({rows.duration:g} s)\n")
    if config.data is not None:
        e = config.data.estimate
        out.write(
            f"p: a {e.method} estimate with {e.components} component(s) from {e.samples:,} "
            f"samples in {config.data.path.name} (mean log-likelihood {e.mean_log_likelihood:.4g})"
            "; the divergences are of the estimate\n"
        )
    for row in [header, *body]:
        cells = [
            cell.rjust(w) if c in right else cell.ljust(w)
            for c, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        out.write("  ".join(cells).rstrip() + "\n")
