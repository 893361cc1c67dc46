"""2-D Gaussian kernel densities of point clouds on a grid, with marginals and HDR contour levels.

Points are ``(n, 2)``; grids ``(gy, gx)`` with rows following ``y``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: below this many points (or with a degenerate spread) a KDE is not attempted: scatter only.
MIN_KDE_POINTS = 10


def padded_extent(points: list[np.ndarray], pad: float = 0.1) -> tuple[float, float, float, float]:
    """Common ``(xmin, xmax, ymin, ymax)`` of several ``(n, 2)`` clouds with a relative margin."""
    finite = [p[np.isfinite(p).all(axis=1)] for p in points if len(p)]
    if not finite or not sum(len(p) for p in finite):
        return (-1.0, 1.0, -1.0, 1.0)
    allp = np.concatenate(finite)
    lo, hi = allp.min(axis=0), allp.max(axis=0)
    span = np.where(hi - lo > 0, hi - lo, 1.0)
    lo, hi = lo - pad * span, hi + pad * span
    return (float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1]))


@dataclass
class KdeGrid:
    """A 2-D density on a regular grid with its two marginals.

    ``x`` ``(gx,)``, ``y`` ``(gy,)``, ``density`` ``(gy, gx)`` (rows follow ``y``), ``marginal_x``
    ``(gx,)`` and ``marginal_y`` ``(gy,)`` (1-D KDEs of each coordinate), ``levels`` for contours.
    """

    x: np.ndarray
    y: np.ndarray
    density: np.ndarray
    marginal_x: np.ndarray
    marginal_y: np.ndarray
    levels: np.ndarray = field(default_factory=lambda: np.zeros(0))


def _kde_ok(points: np.ndarray) -> bool:
    if points.shape[0] < MIN_KDE_POINTS:
        return False
    cov = np.cov(points.T)
    return bool(
        np.all(np.isfinite(cov))
        and np.linalg.det(np.atleast_2d(cov))
        > 1e-12 * max(float(np.trace(np.atleast_2d(cov))) ** 2, 1e-300)
    )


def kde_1d(values: np.ndarray, grid: np.ndarray) -> np.ndarray | None:
    """Gaussian KDE of 1-D ``values`` on ``grid``; None when it cannot be estimated."""
    from scipy.stats import gaussian_kde

    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size < MIN_KDE_POINTS or not np.std(v) > 0:
        return None
    return gaussian_kde(v)(grid)


#: the binned estimate works on a grid this many times finer than the output grid
BIN_REFINE = 4


def binned_kde_2d(points: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray | None:
    """The Gaussian KDE of ``(n, 2)`` points (Scott's rule, full covariance: what
    ``scipy.stats.gaussian_kde`` computes) on the grid ``x`` ``(gx,)`` × ``y`` ``(gy,)``, returned
    ``(gy, gx)``, estimated by linear binning onto a finer grid and one FFT convolution with the
    kernel: cost independent of the number of points. Points outside the grid are dropped.

    None when the kernel is too narrow for the fine grid (the caller then evaluates exactly).
    """
    from scipy.signal import fftconvolve

    n = points.shape[0]
    cov = np.cov(points.T) * n ** (-2.0 / 6.0)  # Scott: bandwidth factor n^(-1/(d+4)), d = 2
    fx = np.linspace(x[0], x[-1], (len(x) - 1) * BIN_REFINE + 1)
    fy = np.linspace(y[0], y[-1], (len(y) - 1) * BIN_REFINE + 1)
    dx, dy = fx[1] - fx[0], fy[1] - fy[0]
    sx, sy = np.sqrt(np.diag(cov))
    if not (sx > 1.5 * dx and sy > 1.5 * dy):
        return None
    # linear binning: each point's unit weight split between its four surrounding nodes
    gx = (points[:, 0] - fx[0]) / dx
    gy = (points[:, 1] - fy[0]) / dy
    inside = (gx >= 0) & (gx <= len(fx) - 1) & (gy >= 0) & (gy <= len(fy) - 1)
    gx, gy = gx[inside], gy[inside]
    i0 = np.minimum(gx.astype(int), len(fx) - 2)
    j0 = np.minimum(gy.astype(int), len(fy) - 2)
    wx, wy = gx - i0, gy - j0
    counts = np.zeros(len(fy) * len(fx))
    for dj, di, w in (
        (0, 0, (1 - wy) * (1 - wx)),
        (0, 1, (1 - wy) * wx),
        (1, 0, wy * (1 - wx)),
        (1, 1, wy * wx),
    ):
        counts += np.bincount((j0 + dj) * len(fx) + (i0 + di), weights=w, minlength=counts.size)
    counts = counts.reshape(len(fy), len(fx))
    # the kernel (a 2-D normal with covariance ``cov``) on grid offsets out to 4 sigma
    kx = np.arange(
        -min(len(fx) - 1, int(np.ceil(4 * sx / dx))),
        min(len(fx) - 1, int(np.ceil(4 * sx / dx))) + 1,
    )
    ky = np.arange(
        -min(len(fy) - 1, int(np.ceil(4 * sy / dy))),
        min(len(fy) - 1, int(np.ceil(4 * sy / dy))) + 1,
    )
    ox, oy = np.meshgrid(kx * dx, ky * dy)
    d = np.stack([ox.ravel(), oy.ravel()])
    inv = np.linalg.inv(cov)
    kernel = np.exp(-0.5 * np.einsum("in,ij,jn->n", d, inv, d)).reshape(ox.shape)
    kernel /= 2 * np.pi * np.sqrt(np.linalg.det(cov))
    dens = fftconvolve(counts, kernel, mode="same") / n
    return np.clip(dens[::BIN_REFINE, ::BIN_REFINE], 0.0, None)


def kde_grid(
    points: np.ndarray,
    extent: tuple[float, float, float, float] | None = None,
    gridsize: int = 64,
    *,
    max_points: int = 4000,
    levels: tuple[float, ...] = (0.25, 0.5, 0.75, 0.9),
    seed: int = 0,
) -> KdeGrid | None:
    """Gaussian KDE of ``(n, 2)`` points on a ``gridsize``² grid, or None when it cannot be done.

    None (the caller falls back to a scatter) when there are fewer than :data:`MIN_KDE_POINTS`
    finite points or they are collinear. The density is the binned FFT estimate of
    :func:`binned_kde_2d` over all points (milliseconds for any number of points); when the
    kernel is too narrow for that grid, an exact ``gaussian_kde`` of at most ``max_points``
    points (random subsample) is evaluated instead. ``levels`` are the probability masses the
    contours enclose (highest-density regions), turned into density thresholds in ``KdeGrid.levels``.
    """
    from scipy.stats import gaussian_kde

    p = np.asarray(points, dtype=np.float64)
    p = p[np.isfinite(p).all(axis=1)] if p.ndim == 2 else np.zeros((0, 2))
    if not _kde_ok(p):
        return None
    if extent is None:
        extent = padded_extent([p])
    x = np.linspace(extent[0], extent[1], gridsize)
    y = np.linspace(extent[2], extent[3], gridsize)
    dens = binned_kde_2d(p, x, y)
    if p.shape[0] > max_points:
        p = p[np.random.default_rng(seed).choice(p.shape[0], max_points, replace=False)]
    if dens is None:
        xx, yy = np.meshgrid(x, y)
        try:
            dens = gaussian_kde(p.T)(np.vstack([xx.ravel(), yy.ravel()])).reshape(
                gridsize, gridsize
            )
        except np.linalg.LinAlgError:
            return None
    mx = kde_1d(p[:, 0], x)
    my = kde_1d(p[:, 1], y)
    if mx is None or my is None:
        return None
    # density thresholds enclosing the requested probability masses
    flat = np.sort(dens.ravel())[::-1]
    cum = np.cumsum(flat)
    cum /= cum[-1] if cum[-1] > 0 else 1.0
    thr = [flat[min(np.searchsorted(cum, m), flat.size - 1)] for m in levels]
    thr = np.unique(np.asarray(thr))
    thr = thr[thr > 0]
    return KdeGrid(x, y, dens, mx, my, thr)
