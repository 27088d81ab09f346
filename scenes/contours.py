"""Density contours in the plane, free of manim: highest-density levels, the log density
on a grid, contour lines and regions (by contourpy), Gaussian ellipses, and where the
names p and q go.

A contour of mass α is the edge of the highest-density region (HDR) holding α of the
density's mass: the set ``{x : p(x) >= c}`` with ``P_p(p(X) >= c) = α``. Levels are
computed per state, so a level means the same thing as q widens; everything works on log
densities, which are smooth (quadratic for one Gaussian) and never underflow::

    levels = hdr_log_levels(p)                     # (frames, 4): log c for 25/50/75/95 %
    values = log_density_grid(p, xs, ys)           # (frames, ny, nx)
    lines = ContourGrid(xs, ys).lines(values[0], levels[0])   # a level each: Paths
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from contourpy import FillType, LineType, SerialContourGenerator, ZInterp

from kldemo.core.plane import PlaneMixture

__all__ = [
    "HDR_MASSES",
    "ContourGrid",
    "Paths",
    "gaussian_ellipse",
    "gaussian_log_levels",
    "hdr_log_levels",
    "joined",
    "log_density_grid",
    "name_anchors",
    "place_plane_names",
    "simplify_levels",
    "simplify_paths",
    "small_rings",
]

#: The masses of the highest-density regions drawn, innermost first.
HDR_MASSES = (0.25, 0.5, 0.75, 0.95)

#: Contour paths as contourpy's combined form: all vertices (N, 2) and the offsets (M + 1,)
#: where each of the M paths starts (and the last ends). A closed path repeats its first
#: vertex at its end.
Paths = tuple[np.ndarray, np.ndarray]
_NO_PATHS: Paths = (np.zeros((0, 2)), np.zeros(1, dtype=np.intp))

# The fixed rays of the level computation, in each component's whitened coordinates:
# angles evenly spaced (the trapezoid rule, very accurate for periodic integrands) and
# radii evenly spaced to 4.8 standard deviations (beyond it lies e^{-11.5} of the mass).
_RAY_ANGLES, _RAY_RADII, _RAY_REACH = 40, 32, 4.8
_NEWTON_STEPS = 4


def _cholesky(covs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(l11, l21, l22) of the lower Cholesky factors of (..., 2, 2) covariances."""
    a, b, c = covs[..., 0, 0], covs[..., 0, 1], covs[..., 1, 1]
    l11 = np.sqrt(a)
    return l11, b / l11, np.sqrt((a * c - b * b) / a)


def _log_mixture(m: PlaneMixture, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    r"""``log Σ_k w_k N((x, y); m_k, S_k)`` at points whose axes follow the state axes.

    ``x`` and ``y`` broadcast to ``(*m.shape, *points)``; each component's quadratic form
    is ``|L_k^{-1} (x - m_k)|^2``; the terms are summed in log space (``logaddexp``), so
    nothing underflows.
    """
    points = np.broadcast_shapes(np.shape(x), np.shape(y))[len(m.shape) :]
    tail = (...,) + (None,) * len(points)
    l11, l21, l22 = _cholesky(m.covs)
    with np.errstate(divide="ignore"):  # a zero weight is a -inf term, which drops out
        log_w = np.log(m.weights)
    total = None
    for k in range(m.n_components):
        u = (x - m.means[..., k, 0][tail]) / l11[..., k][tail]
        v = (y - m.means[..., k, 1][tail] - l21[..., k][tail] * u) / l22[..., k][tail]
        norm = log_w[..., k] - np.log(2 * np.pi * l11[..., k] * l22[..., k])
        term = norm[tail] - 0.5 * (u * u + v * v)
        # logaddexp: max + log1p(exp(-|a - b|)), one exp per component and no underflow
        total = term if total is None else np.logaddexp(total, term)
    return total


def gaussian_log_levels(covs: np.ndarray, masses: Sequence[float] = HDR_MASSES) -> np.ndarray:
    r"""The log density on the edge of a Gaussian's HDR of each mass α:
    :math:`\log c = \log(1 - α) - \log 2π - \tfrac12 \log\det S`.

    The HDR of mass α is the ellipse of Mahalanobis radius² ``-2 ln(1 - α)``, where the
    density is ``e^{-r²/2} / (2π sqrt(det S))``. ``covs`` (..., 2, 2) gives (..., L).

    >>> bool(np.isclose(gaussian_log_levels(np.eye(2), [0.5])[0], np.log(0.5 / (2 * np.pi))))
    True
    """
    covs = np.asarray(covs, dtype=float)
    det = covs[..., 0, 0] * covs[..., 1, 1] - covs[..., 0, 1] ** 2
    base = -np.log(2 * np.pi) - 0.5 * np.log(det)
    return base[..., None] + np.log1p(-np.asarray(masses, dtype=float))


def hdr_log_levels(m: PlaneMixture, masses: Sequence[float] = HDR_MASSES) -> np.ndarray:
    r"""``log c`` with :math:`P_p(p(X) \ge c) = α` for each mass α, for every state of ``m``.

    One Gaussian: :func:`gaussian_log_levels`. A mixture: the mass above a level is
    :math:`\sum_k \frac{w_k}{n}\sum_j \int 1[\log p(m_k + r L_k u_j) \ge \log c]\,
    r e^{-r^2/2} dr` over fixed rays ``u_j`` of each component's whitened coordinates,
    with ``log p`` linear in r² between the rays' fixed nodes (exact for one Gaussian)
    and each piece's mass integrated exactly; Newton steps from the nodes' weighted
    quantile solve it for c. The rays never change, so levels move smoothly with the
    parameters.

    Returns an array of shape ``(*m.shape, len(masses))``.
    """
    masses = np.asarray(masses, dtype=float)
    if m.n_components == 1:
        return gaussian_log_levels(m.covs[..., 0, :, :], masses)
    flat = PlaneMixture(*(v.reshape(-1, *v.shape[len(m.shape) :]) for v in m))
    # States repeat (holds, a p that stays put while q moves): solve each one once.
    rows = np.concatenate([v.reshape(len(flat.weights), -1) for v in flat], axis=1)
    _, first, inverse = np.unique(rows, axis=0, return_index=True, return_inverse=True)
    levels = _mixture_log_levels(flat.take(first), masses)[inverse.reshape(-1)]
    return levels.reshape(*m.shape, len(masses))


def _mixture_log_levels(flat: PlaneMixture, masses: np.ndarray) -> np.ndarray:
    """:func:`hdr_log_levels` of a mixture of one state axis, by its rays: (states, L)."""
    k = flat.n_components
    angles = 2 * np.pi * (np.arange(_RAY_ANGLES) + 0.5) / _RAY_ANGLES
    r = np.linspace(0.0, _RAY_REACH, _RAY_RADII)
    zx, zy = np.cos(angles)[:, None] * r, np.sin(angles)[:, None] * r  # (angles, radii)
    l11, l21, l22 = (c[:, :, None, None] for c in _cholesky(flat.covs))
    x = flat.means[:, :, None, None, 0] + l11 * zx
    y = flat.means[:, :, None, None, 1] + l21 * zx + l22 * zy  # (states, K, angles, radii)
    n = len(flat.weights)
    log_p = _log_mixture(flat, x.reshape(n, -1), y.reshape(n, -1)).reshape(n, -1, _RAY_RADII)
    start, end = log_p[..., :-1].reshape(n, 1, -1), log_p[..., 1:].reshape(n, 1, -1)
    t = r * r
    rays = (k * _RAY_ANGLES, _RAY_RADII - 1)
    t0 = np.broadcast_to(t[:-1], rays).reshape(-1)
    dt = np.broadcast_to(np.diff(t), rays).reshape(-1)
    tail0, tail1 = np.exp(-t0 / 2), np.exp(-(t0 + dt) / 2)  # the mass beyond each node
    weight = np.repeat(flat.weights / _RAY_ANGLES, _RAY_ANGLES * (_RAY_RADII - 1), axis=-1)
    weight = weight[:, None, :]
    piece = weight * (tail0 - tail1)
    low, high = np.minimum(start, end), np.maximum(start, end)
    with np.errstate(divide="ignore"):  # a flat piece never straddles a level
        slope = dt / (end - start)

    def mass_above(level: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The mass where log p >= level (states, L), and its derivative in the level."""
        level = level[..., None]
        straddles = (high >= level) & (low < level)
        crossing = np.where(straddles, t0 + (level - start) * slope, 0.0)
        tail = np.exp(-crossing / 2)
        part = np.where(start >= level, tail0 - tail, tail - tail1)
        mass = np.where(low >= level, piece, np.where(straddles, weight * part, 0.0)).sum(-1)
        slope_of = np.where(straddles, weight * tail * 0.5 * np.abs(slope), 0.0).sum(-1)
        return mass, -slope_of

    # A first guess from the nodes, each carrying the mass of the piece it starts.
    order = np.argsort(-start[:, 0], axis=-1)
    values = np.take_along_axis(start[:, 0], order, axis=-1)
    cumulative = np.cumsum(np.take_along_axis(piece[:, 0], order, axis=-1), axis=-1)
    level = np.stack([np.interp(masses, c, v) for c, v in zip(cumulative, values, strict=True)])
    for _ in range(_NEWTON_STEPS):
        mass, slope_of = mass_above(level)
        level = level - (mass - masses) / np.where(slope_of < 0, slope_of, -1.0)
    return level


def log_density_grid(m: PlaneMixture, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """``log p`` on the grid ``xs`` × ``ys`` for every state: shape ``(*m.shape, ny, nx)``
    (rows along y, as contourpy takes them), from separable quadratic forms."""
    lead = (1,) * len(m.shape)
    return _log_mixture(
        m, np.asarray(xs, float).reshape(*lead, 1, -1), np.asarray(ys, float).reshape(*lead, -1, 1)
    )


def _window(z: np.ndarray, lowest: float) -> tuple[slice, slice] | None:
    """The rows and columns of ``z`` holding every cell where ``z >= lowest``, and a cell
    more each way (contourpy's time goes with the grid's size: crop it), or None."""
    above = z >= lowest
    rows, cols = np.flatnonzero(above.any(axis=1)), np.flatnonzero(above.any(axis=0))
    if len(rows) == 0:
        return None
    return (
        slice(max(rows[0] - 1, 0), min(rows[-1] + 2, z.shape[0])),
        slice(max(cols[0] - 1, 0), min(cols[-1] + 2, z.shape[1])),
    )


def _combined(chunks) -> Paths:
    points, offsets = chunks[0][0], chunks[1][0]
    if points is None:
        return _NO_PATHS
    return points, np.asarray(offsets, dtype=np.intp)


class ContourGrid:
    """A grid over the view, ``xs`` × ``ys`` (increasing), on which contourpy traces the
    contours of values given at its points (arrays (ny, nx), rows along y).

    Lines end at the grid's edge and regions close along it: on a grid over the view
    they are clipped to the view. Each call crops the grid to the cells the lowest level
    reaches (contourpy's time goes with the grid's size).
    """

    def __init__(self, xs: np.ndarray, ys: np.ndarray):
        self.xs, self.ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
        self._x, self._y = np.meshgrid(self.xs, self.ys)

    def _generator(self, z: np.ndarray, levels: np.ndarray) -> SerialContourGenerator | None:
        window = _window(z, float(np.min(levels)))
        if window is None:
            return None
        # The class itself: contour_generator's checks and masking cost more than the work.
        return SerialContourGenerator(
            self._x[window], self._y[window], z[window], None,
            corner_mask=True, line_type=LineType.ChunkCombinedOffset,
            fill_type=FillType.ChunkCombinedOffset, quad_as_tri=False,
            z_interp=ZInterp.Linear, x_chunk_size=0, y_chunk_size=0,
        )  # fmt: skip

    def lines(self, z: np.ndarray, levels) -> list[Paths]:
        """The contour lines of ``z`` at each level."""
        gen = self._generator(z, levels)
        if gen is None:
            return [_NO_PATHS for _ in levels]
        return [_combined(gen.lines(float(level))) for level in levels]

    def regions(self, z: np.ndarray, levels) -> list[Paths]:
        """The regions where ``z >= level``, for each level: outer edges and holes (of
        opposite orientation, so that a non-zero fill leaves the holes open)."""
        gen = self._generator(z, levels)
        if gen is None:
            return [_NO_PATHS for _ in levels]
        return [_combined(gen.filled(float(level), np.inf)) for level in levels]


def simplify_paths(paths: Paths, tolerance: float, passes: int = 2) -> Paths:
    """``paths`` with the vertices that lie within ``tolerance`` of the chord between their
    neighbours left out: every other one of them per pass (so a chord never skips far),
    never a path's ends. Big smooth contours lose most of their vertices, and the lines
    drawn move by under ``tolerance``; tight turns keep theirs."""
    points, offsets = paths
    for _ in range(passes):
        if len(points) < 3:
            break
        a, b, c = points[:-2], points[1:-1], points[2:]
        chord = c - a
        length = np.hypot(chord[:, 0], chord[:, 1])
        cross = np.abs(chord[:, 0] * (b[:, 1] - a[:, 1]) - chord[:, 1] * (b[:, 0] - a[:, 0]))
        flat = np.zeros(len(points), dtype=bool)
        flat[1:-1] = cross <= tolerance * np.maximum(length, 1e-300)
        starts = np.repeat(offsets[:-1], np.diff(offsets))
        flat &= (np.arange(len(points)) - starts) % 2 == 1  # every other vertex of a path
        flat[offsets[:-1]] = False
        flat[offsets[1:] - 1] = False  # ends (and a closed path's repeated first vertex)
        kept = np.concatenate([[0], np.cumsum(~flat)])
        points, offsets = points[~flat], kept[offsets]
    return points, offsets


def simplify_levels(levels: Sequence[Paths], tolerance: float) -> list[Paths]:
    """:func:`simplify_paths` of each level's paths, all in one go."""
    counts = [len(offsets) - 1 for _, offsets in levels]
    starts = np.cumsum([0, *(len(points) for points, _ in levels)])
    offsets = np.concatenate(
        [[0], *(o[1:] + start for (_, o), start in zip(levels, starts, strict=False))]
    )
    points, offsets = simplify_paths((np.concatenate([p for p, _ in levels]), offsets), tolerance)
    out, first = [], 0
    for count in counts:
        these = offsets[first : first + count + 1]
        out.append((points[these[0] : these[-1]], these - these[0]))
        first += count
    return out


def gaussian_ellipse(mean, cov, mass: float, n: int = 120) -> np.ndarray:
    r"""The edge of a Gaussian's HDR of ``mass``: ``mean + L (r cos θ, r sin θ)`` with
    :math:`r^2 = -2 \ln(1 - α)`, as a closed polyline of ``n`` sides, shape (n + 1, 2)."""
    cov = np.asarray(cov, dtype=float)
    l11, l21, l22 = _cholesky(cov)
    radius = np.sqrt(-2.0 * np.log1p(-mass))
    theta = np.linspace(0.0, 2 * np.pi, n + 1)
    zx, zy = radius * np.cos(theta), radius * np.sin(theta)
    mean = np.asarray(mean, dtype=float)
    return np.stack([mean[0] + l11 * zx, mean[1] + l21 * zx + l22 * zy], axis=-1)


def small_rings(
    weights: np.ndarray, means: np.ndarray, covs: np.ndarray, log_levels, cell: float
) -> list[Paths]:
    r"""For each level, the rings of the components too small for the grid to trace: where
    a component alone reaches the level, :math:`r^2 = -2[\log c + \log(2π\sqrt{\det S_k})
    - \log w_k]`, drawn as its ellipse when that is under 1.5 ``cell`` across its longer
    axis (the grid, ``cell`` apart, misses such a spike or draws a blob of a few cells).

    One state: ``weights`` (K,), ``means`` (K, 2), ``covs`` (K, 2, 2).
    """
    det = covs[:, 0, 0] * covs[:, 1, 1] - covs[:, 0, 1] ** 2
    longest = np.sqrt(0.5 * (covs[:, 0, 0] + covs[:, 1, 1]) + np.sqrt(
        0.25 * (covs[:, 0, 0] - covs[:, 1, 1]) ** 2 + covs[:, 0, 1] ** 2
    ))  # fmt: skip
    with np.errstate(divide="ignore"):  # a weightless component reaches no level
        base = np.log(2 * np.pi * np.sqrt(det)) - np.log(weights)
    r2 = -2.0 * (np.asarray(log_levels, dtype=float)[:, None] + base)  # (levels, K)
    small = (r2 > 0) & (np.sqrt(np.maximum(r2, 0.0)) * longest < 0.75 * cell)
    if not small.any():  # as nearly always: the grid traces every component
        return [_NO_PATHS] * len(r2)
    out = []
    for reach, tiny in zip(r2, small, strict=True):
        rings = [
            gaussian_ellipse(means[k], covs[k], -np.expm1(-reach[k] / 2), n=24)
            for k in np.flatnonzero(tiny)
        ]
        if not rings:
            out.append(_NO_PATHS)
            continue
        offsets = np.concatenate([[0], np.cumsum([len(r) for r in rings])])
        out.append((np.concatenate(rings), offsets))
    return out


def joined(a: Paths, b: Paths) -> Paths:
    """The paths of ``a`` and then those of ``b``, as one :data:`Paths`."""
    if len(b[0]) == 0:
        return a
    if len(a[0]) == 0:
        return b
    return np.concatenate([a[0], b[0]]), np.concatenate([a[1], b[1][1:] + len(a[0])])


def name_anchors(m: PlaneMixture, x_range, y_range) -> np.ndarray:
    """The point each state's name belongs to: its tallest component's mean (by weight /
    sqrt(det S), the first on a tie), kept inside the view. Shape (*m.shape, 2)."""
    det = m.covs[..., 0, 0] * m.covs[..., 1, 1] - m.covs[..., 0, 1] ** 2
    k = np.argmax(m.weights / np.sqrt(det), axis=-1)
    mean = np.take_along_axis(m.means, k[..., None, None], axis=-2)[..., 0, :]
    low = np.array([x_range[0], y_range[0]], dtype=float)
    high = np.array([x_range[1], y_range[1]], dtype=float)
    return np.clip(mean, low, high)


# -------------------------------------------------------------------------- the names

_CANDIDATES = 48  # places tried along a density's outer contour
_INVALID = 1e6  # the cost of a pair of places that overlap: used only when nothing fits


def _candidates(rim: Paths, anchor, size, preferred: float, obstacles, box, gap):
    """Places tried for one name, just outside its outer contour: centres (n, 2), costs."""
    points, offsets = rim
    (w, h), (left, bottom, right, top) = size, box
    if len(points) >= 2:
        stride = max(1, len(points) // _CANDIDATES)
        index = np.arange(0, len(points), stride)
        owner = np.searchsorted(offsets, index, side="right") - 1
        # Outward from the middle of the path each vertex is on.
        sums = np.add.reduceat(points, offsets[:-1], axis=0)
        middles = sums / np.diff(offsets)[:, None]
        at = points[index]
        out = at - middles[owner]
    else:
        at = np.asarray(anchor, dtype=float)[None]
        out = np.zeros((1, 2))
    length = np.hypot(out[:, 0], out[:, 1])
    fallback = np.array([np.cos(preferred), np.sin(preferred)])
    unit = np.where(length[:, None] > 1e-12, out / np.maximum(length, 1e-12)[:, None], fallback)
    reach = w / 2 * np.abs(unit[:, 0]) + h / 2 * np.abs(unit[:, 1]) + gap
    ideal = at + unit * reach[:, None]
    low_x, high_x = left + w / 2 + gap, max(right - w / 2 - gap, left + w / 2 + gap)
    low_y, high_y = bottom + h / 2 + gap, max(top - h / 2 - gap, bottom + h / 2 + gap)
    centres = np.stack(
        [np.clip(ideal[:, 0], low_x, high_x), np.clip(ideal[:, 1], low_y, high_y)], 1
    )
    moved = np.hypot(*(centres - ideal).T)
    turn = 1.0 - (unit @ fallback)  # 0 on the preferred side, 2 opposite
    inside = (np.abs(obstacles[None, :, 0] - centres[:, None, 0]) < w / 2 + gap) & (
        np.abs(obstacles[None, :, 1] - centres[:, None, 1]) < h / 2 + gap
    )
    covered = inside.sum(axis=1)
    cost = turn * h + moved + 4.0 * h * np.minimum(covered, 25) / 25 + 2.0 * h * (covered > 0)
    return centres, cost


def place_plane_names(
    rims: Sequence[Paths],
    anchors: Sequence[Sequence[float]],
    sizes: Sequence[tuple[float, float]],
    obstacles: np.ndarray,
    box: tuple[float, float, float, float],
    gap: float,
    preferred: Sequence[float] = (0.75 * np.pi, 0.25 * np.pi),
) -> list[tuple[float, float]]:
    """The centres of the names of two densities, in the units of the contours and ``box``.

    Each name is tried at places just outside its density's outer contour (``rims``, in
    :data:`Paths` form; ``anchors`` where a density without one in view sits), kept
    inside ``box`` (left, bottom, right, top). A place costs its turn away from the
    ``preferred`` direction (radians: p up-left, q up-right), how far the box pushed it,
    and the contour vertices (``obstacles``, (M, 2)) it covers; the pair of places that
    do not overlap (``gap`` apart) with the least total cost wins (ties: the first).

    >>> ring = (np.array([[1.0, 0], [0, 1], [-1, 0], [0, -1], [1, 0]]), np.array([0, 5]))
    >>> p, q = place_plane_names([ring, ring], [(0, 0), (0, 0)], [(0.4, 0.3)] * 2,
    ...                          ring[0], (-5, -5, 5, 5), 0.05)
    >>> p[0] < 0 < q[0] and p[1] > 0 and q[1] > 0
    True
    """
    if len(rims) != 2 or len(sizes) != 2 or len(anchors) != 2:
        raise ValueError("place_plane_names places two names (p and q)")
    # Contour vertices lie a few pixels apart, names are tens of pixels wide: every third
    # vertex is enough to see what a name would cover.
    obstacles = np.asarray(obstacles, dtype=float).reshape(-1, 2)[::3]
    (pw, ph), (qw, qh) = sizes
    p_at, p_cost = _candidates(rims[0], anchors[0], sizes[0], preferred[0], obstacles, box, gap)
    q_at, q_cost = _candidates(rims[1], anchors[1], sizes[1], preferred[1], obstacles, box, gap)
    dx = np.abs(p_at[:, None, 0] - q_at[None, :, 0]) - (pw + qw) / 2 - gap
    dy = np.abs(p_at[:, None, 1] - q_at[None, :, 1]) - (ph + qh) / 2 - gap
    clash = np.minimum(-dx, -dy)  # > 0: the boxes overlap
    total = p_cost[:, None] + q_cost[None, :] + np.where(clash > 1e-12, _INVALID + clash, 0.0)
    i, j = np.unravel_index(int(np.argmin(total)), total.shape)
    return [(float(p_at[i, 0]), float(p_at[i, 1])), (float(q_at[j, 0]), float(q_at[j, 1]))]
