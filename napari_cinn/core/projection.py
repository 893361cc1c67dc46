"""Projections and difference statistics behind the Spectra, Latent space and Compare docks.

Qt-free and napari-free: NumPy and SciPy only. Conventions: a spectral image is ``(bands, y, x)``
(or ``(bands, z, y, x)``), a batch of spectra ``(n, bands)``, a point cloud ``(n, 2)``.

Contents
--------
- pixel picking: :func:`spectrum_at`, :func:`valid_pixel_mask`, :func:`sample_valid_pixels`,
  :func:`gather_spectra`
- ROI statistics: :func:`roi_stats`
- projections: :class:`PCAProjection` (fitted on a reference), :func:`kde_grid`, :func:`kde_1d`,
  :func:`points_in_polygon`
- differences: :func:`difference_map`, :func:`compare_to_reference` (per-wavelength median
  differences, MMD², C2ST AUC from :mod:`napari_cinn.core.metrics`, the one shared implementation)
- CSV export of plotted spectra: :func:`write_spectra_csv`, :func:`read_spectra_csv`
"""

from __future__ import annotations

import csv
import os
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from napari_cinn.core.files import atomic_targets
from napari_cinn.core.spectra import normalize_spectra, valid_spectra

#: below this many points (or with a degenerate spread) a KDE is not attempted: scatter only.
MIN_KDE_POINTS = 10


# ----------------------------------------------------------------------------- pixel picking
def spectrum_at(cube, index: tuple[int, ...]) -> np.ndarray | None:
    """The spectrum ``(bands,)`` of ``cube`` at spatial ``index`` (``(y, x)`` or ``(z, y, x)``).

    Returns None when the index lies outside the image (no exception: clicks outside are normal).
    ``cube`` may be a memory map: only the ``bands`` values of that pixel are read.
    """
    shape = np.shape(cube)
    spatial = shape[1:]
    if len(index) != len(spatial):
        return None
    if any(i < 0 or i >= n for i, n in zip(index, spatial, strict=True)):
        return None
    return np.asarray(cube[(slice(None), *(int(i) for i in index))], dtype=np.float32)


def valid_pixel_mask(cube) -> np.ndarray:
    """Spatial mask ``(y, x)`` of usable pixels: finite in every band and not all zero."""
    data = np.asarray(cube, dtype=np.float32)
    bands = data.shape[0]
    flat = data.reshape(bands, -1).T
    return valid_spectra(flat).reshape(data.shape[1:])


def sample_valid_pixels(
    cube, n: int, *, seed: int | None = 0, mask: np.ndarray | None = None
) -> tuple[np.ndarray, ...]:
    """Indices of up to ``n`` random usable pixels, sorted in raster order.

    Parameters
    ----------
    cube : (bands, y, x) array
    n : int
        How many pixels at most; all usable pixels are returned when there are fewer.
    seed : int or None
        Random seed (reproducible subsample by default).
    mask : (y, x) bool array, optional
        Restrict the sample to this region (e.g. a label).

    Returns
    -------
    index : tuple of 1-D int arrays ``(ys, xs)`` (one array per spatial axis), each ``(m,)``
    """
    valid = valid_pixel_mask(cube)
    if mask is not None:
        if np.shape(mask) != valid.shape:
            raise ValueError(f"mask shape {np.shape(mask)} does not match image {valid.shape}")
        valid &= np.asarray(mask, dtype=bool)
    flat = np.flatnonzero(valid)
    if n < flat.size:
        rng = np.random.default_rng(seed)
        flat = np.sort(rng.choice(flat, size=int(n), replace=False))
    return np.unravel_index(flat, valid.shape)


def gather_spectra(cube, index: tuple[np.ndarray, ...]) -> np.ndarray:
    """Spectra ``(n, bands)`` float32 at pixel ``index`` (as returned by :func:`sample_valid_pixels`)."""
    data = np.asarray(cube)
    return np.asarray(data[(slice(None), *index)], dtype=np.float32).T


# ----------------------------------------------------------------------------- ROI statistics
@dataclass
class RoiStats:
    """Per-band statistics of the spectra inside a region: ``mean``, ``std`` ``(bands,)``, ``n`` pixels."""

    mean: np.ndarray
    std: np.ndarray
    n: int


def roi_stats(cube, mask: np.ndarray, *, norm: Literal["none", "l1", "l2"] = "none") -> RoiStats:
    """Mean ± std per band of the usable spectra of ``cube`` ``(bands, y, x)`` inside ``mask`` ``(y, x)``.

    Invalid pixels (NaN or all zero) are left out. With ``norm`` each spectrum is normalised first.
    An empty region gives NaN statistics and ``n == 0``.
    """
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != np.shape(cube)[1:]:
        raise ValueError(f"region shape {mask.shape} does not match image {np.shape(cube)[1:]}")
    spectra = gather_spectra(cube, np.nonzero(mask))
    if norm != "none":
        spectra, _, ok = normalize_spectra(spectra, norm)
    else:
        ok = valid_spectra(spectra)
    spectra = spectra[ok].astype(np.float64)
    bands = np.shape(cube)[0]
    if spectra.shape[0] == 0:
        nan = np.full(bands, np.nan, dtype=np.float32)
        return RoiStats(nan, nan.copy(), 0)
    return RoiStats(
        spectra.mean(axis=0).astype(np.float32),
        spectra.std(axis=0).astype(np.float32),
        spectra.shape[0],
    )


# ----------------------------------------------------------------------------- projections
@dataclass
class PCAProjection:
    """Principal components fitted on reference points ``(n, d)``; projects to ``(n, k)``.

    Attributes: ``mean`` ``(d,)``, ``components`` ``(k, d)``, ``explained_variance_ratio`` ``(k,)``
    (share of the *reference's* total variance, as in the paper's Fig. 5a axes).
    """

    mean: np.ndarray
    components: np.ndarray
    explained_variance_ratio: np.ndarray

    @classmethod
    def fit(cls, reference: np.ndarray, n_components: int = 2) -> PCAProjection:
        x = np.asarray(reference, dtype=np.float64)
        if x.ndim != 2:
            raise ValueError(f"PCA needs (n, features) points, got shape {x.shape}")
        x = x[np.isfinite(x).all(axis=1)]
        if x.shape[0] < 2:
            raise ValueError(f"PCA needs at least 2 usable reference points, got {x.shape[0]}")
        k = min(n_components, x.shape[1])
        mean = x.mean(axis=0)
        # eigen-decomposition of the (features, features) covariance: one matrix product over the
        # points instead of an SVD of the (n, features) matrix (same axes, far fewer BLAS calls,
        # which matters on a busy 2-core machine)
        xc = x - mean
        var, vecs = np.linalg.eigh(xc.T @ xc)
        order = np.argsort(var)[::-1]
        var = np.clip(var[order], 0.0, None)
        total = var.sum()
        ratio = var[:k] / total if total > 0 else np.zeros(k)
        comps = vecs[:, order[:k]].T
        # deterministic sign: the largest loading of each component is positive
        signs = np.sign(comps[np.arange(k), np.abs(comps).argmax(axis=1)])
        comps = comps * np.where(signs == 0, 1, signs)[:, None]
        if k < n_components:  # pad (1-D data) so callers always get n_components columns
            comps = np.vstack([comps, np.zeros((n_components - k, x.shape[1]))])
            ratio = np.concatenate([ratio, np.zeros(n_components - k)])
        return cls(mean, comps, ratio)

    def transform(self, points: np.ndarray) -> np.ndarray:
        """Project ``(n, d)`` points to ``(n, k)`` float32."""
        x = np.asarray(points, dtype=np.float64)
        if x.ndim == 1:
            x = x[None]
        if x.shape[1] != self.mean.shape[0]:
            raise ValueError(
                f"points have {x.shape[1]} features, the projection was fitted on {self.mean.shape[0]}"
            )
        return ((x - self.mean) @ self.components.T).astype(np.float32)

    def axis_label(self, i: int) -> str:
        return f"PC{i + 1} ({100 * self.explained_variance_ratio[i]:.1f} % var.)"


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


def points_in_polygon(points: np.ndarray, vertices: np.ndarray) -> np.ndarray:
    """Boolean mask ``(n,)`` of the ``(n, 2)`` points inside the polygon ``vertices`` ``(m, 2)``."""
    from matplotlib.path import Path as MplPath

    pts = np.asarray(points, dtype=np.float64)
    verts = np.asarray(vertices, dtype=np.float64)
    if pts.size == 0 or verts.shape[0] < 3:
        return np.zeros(pts.shape[0] if pts.ndim == 2 else 0, dtype=bool)
    return MplPath(verts).contains_points(pts)


# ----------------------------------------------------------------------------- differences
def difference_map(
    a,
    b,
    *,
    mode: Literal["signed", "abs"] = "signed",
    reduce: Literal["band", "sum", "mean"] = "band",
) -> np.ndarray:
    """Difference of two spectral images of equal shape ``(bands, y, x)``.

    ``mode="signed"``: ``a - b`` (e.g. transferred − source); ``"abs"``: ``|a - b|`` (e.g. against
    a reference). ``reduce="band"`` keeps ``(bands, y, x)``; ``"sum"``/``"mean"`` collapse the bands
    to ``(y, x)`` (NaN bands are skipped; all-NaN pixels stay NaN). Returns float32.
    """
    sa, sb = np.shape(a), np.shape(b)
    if sa != sb:
        raise ValueError(f"images differ in shape: {sa} vs {sb}; a difference needs equal shapes")
    d = np.asarray(a, dtype=np.float32) - np.asarray(b, dtype=np.float32)
    if mode == "abs":
        d = np.abs(d)
    elif mode != "signed":
        raise ValueError(f"unknown difference mode {mode!r}; use 'signed' or 'abs'")
    if reduce == "band":
        return d
    if reduce not in ("sum", "mean"):
        raise ValueError(f"unknown reduction {reduce!r}; use 'band', 'sum' or 'mean'")
    allnan = np.isnan(d).all(axis=0)
    out = np.nansum(d, axis=0) if reduce == "sum" else np.nanmean(np.where(allnan, 0, d), axis=0)
    out = out.astype(np.float32)
    out[allnan] = np.nan
    return out


# ----------------------------------------------------------------------------- CSV export
@dataclass
class Series:
    """One plotted curve: ``name``, ``x`` ``(bands,)`` (nm or band index), ``y``, optional ``std``."""

    name: str
    x: np.ndarray
    y: np.ndarray
    std: np.ndarray | None = None
    x_unit: str = "nm"


def write_spectra_csv(
    path: str | os.PathLike, series: list[Series], *, overwrite: bool = True
) -> Path:
    """Write plotted spectra as a long table ``series,x,x_unit,value,std`` (one row per point).

    Written to a temporary file in the same folder, then renamed: never a half-written file.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; choose another name")
    if not series:
        raise ValueError("nothing to export: no spectra are plotted")
    with (
        atomic_targets(path, overwrite=overwrite) as (tmp,),
        open(tmp, "w", newline="", encoding="utf-8") as fh,
    ):
        w = csv.writer(fh)
        w.writerow(["series", "x", "x_unit", "value", "std"])
        for s in series:
            std = s.std if s.std is not None else [None] * len(s.x)
            for xv, yv, sv in zip(s.x, s.y, std, strict=True):
                w.writerow(
                    [
                        s.name,
                        repr(float(xv)),
                        s.x_unit,
                        repr(float(yv)),
                        "" if sv is None else repr(float(sv)),
                    ]
                )
    return path


def read_spectra_csv(path: str | os.PathLike) -> list[Series]:
    """Read a file written by :func:`write_spectra_csv` back into :class:`Series` (order kept)."""
    rows: dict[str, list[tuple[float, float, float | None, str]]] = {}
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        for r in reader:
            std = float(r["std"]) if r["std"] else None
            rows.setdefault(r["series"], []).append(
                (float(r["x"]), float(r["value"]), std, r["x_unit"])
            )
    out = []
    for name, pts in rows.items():
        x = np.array([p[0] for p in pts])
        y = np.array([p[1] for p in pts])
        std = None if pts[0][2] is None else np.array([p[2] for p in pts])
        out.append(Series(name, x, y, std, pts[0][3]))
    return out


# ----------------------------------------------------------------------------- layer projections
@dataclass
class CloudInput:
    """One spectral image to project: ``cube`` ``(bands, y, x)``, its wavelengths and domain name."""

    name: str
    cube: object
    wavelengths: np.ndarray | None = None
    domain: str | None = None


@dataclass
class Cloud:
    """Projected pixels of one image: ``index`` (``ys``, ``xs``), ``points`` ``(n, 2)``, ``kde``."""

    name: str
    index: tuple[np.ndarray, ...]
    points: np.ndarray
    kde: KdeGrid | None
    domain: str | None = None


@dataclass
class ProjectionResult:
    """All clouds in one PCA plane fitted on ``reference``; ``notes`` say what was left out and why."""

    clouds: list[Cloud]
    pca: PCAProjection
    space: str
    reference: str
    extent: tuple[float, float, float, float]
    notes: list[str] = field(default_factory=list)


def features(
    spectra: np.ndarray,
    space: str,
    *,
    model=None,
    domain: str | None = None,
    wavelengths=None,
    device: str = "cpu",
) -> np.ndarray:
    """Features ``(n, d)`` of ``(n, bands)`` spectra: L2-normalised spectra (``space="data"``)
    or the model's latent codes under ``domain`` (``space="latent"``; torch imported lazily)."""
    if space == "data":
        return normalize_spectra(spectra, "l2")[0]
    if space != "latent":
        raise ValueError(f"unknown space {space!r}; use 'data' or 'latent'")
    from napari_cinn.core.transfer import encode_image

    image = np.ascontiguousarray(spectra.T[:, :, None])  # (bands, n, 1)
    return encode_image(model, image, domain, wavelengths=wavelengths, device=device)[:, :, 0].T


def latent_problem(model, item: CloudInput) -> str | None:
    """Why ``item`` cannot be encoded with ``model`` (bands, wavelengths, domain), or None."""
    from napari_cinn.core.transfer import fit_problem

    problem = fit_problem(model, np.shape(item.cube)[0], item.wavelengths)
    if problem:
        return problem
    if item.domain not in tuple(model.domains):
        got = "no domain" if item.domain is None else f"domain {item.domain!r}"
        return f"model knows domains {list(model.domains)}; the layer has {got}"
    return None


def project_clouds(
    inputs: list[CloudInput],
    reference: str,
    *,
    n: int = 5000,
    space: str = "latent",
    model=None,
    seed: int = 0,
    chunk: int = 8192,
    device: str = "cpu",
    gridsize: int = 64,
    threads: int | None = 1,
):
    """Project a random subsample of usable pixels of each input into one 2-D PCA plane.

    ``threads``: torch CPU threads while encoding (latent space; restored afterwards; None: leave
    torch's setting). One by default: the cINN's layers are small, so on an idle 2-core machine
    one thread encodes as fast as two, and on a shared one it is many times faster (measured on
    the sample model, 10 000 pixels at load 3 on 2 cores: 0.12 s with one thread, 1–11 s with two).

    A generator: yields ``(done, total)`` pixel counts while encoding (so a GUI worker can show
    progress and stop between chunks) and *returns* a :class:`ProjectionResult`. The PCA is fitted
    on the ``reference`` input only. Inputs that cannot be projected (model does not fit, unknown
    domain, other band count) are left out with a note; if the reference fails, ValueError.
    """
    if space == "latent" and model is None:
        raise ValueError("latent space needs a model: load a model file first")
    names = [i.name for i in inputs]
    if reference not in names:
        raise ValueError(f"reference {reference!r} is not among the chosen layers {names}")
    notes: list[str] = []
    usable: list[CloudInput] = []
    for item in inputs:
        problem = latent_problem(model, item) if space == "latent" else None
        if problem is None and np.ndim(item.cube) != 3:
            problem = f"expected a (bands, y, x) image, got shape {np.shape(item.cube)}"
        ref_bands = np.shape(next(i for i in inputs if i.name == reference).cube)[0]
        if problem is None and space == "data" and np.shape(item.cube)[0] != ref_bands:
            problem = f"{np.shape(item.cube)[0]} bands, the reference has {ref_bands}"
        if problem:
            if item.name == reference:
                raise ValueError(f"reference '{item.name}' cannot be projected: {problem}")
            notes.append(f"'{item.name}' left out: {problem}")
        else:
            usable.append(item)
    picks = []
    for item in usable:
        idx = sample_valid_pixels(item.cube, n, seed=seed)
        if len(idx[0]) == 0:
            if item.name == reference:
                raise ValueError(f"reference '{item.name}' has no usable pixel (all NaN or zero)")
            notes.append(f"'{item.name}' left out: no usable pixel")
            continue
        picks.append((item, idx))
    total = sum(len(idx[0]) for _, idx in picks)
    done = 0
    feats: dict[str, np.ndarray] = {}
    yield (0, total)
    if space == "latent":
        from napari_cinn.core.transfer import torch_threads

        limit = torch_threads(threads)
    else:
        limit = nullcontext()
    with limit:
        for item, idx in picks:
            spectra = gather_spectra(item.cube, idx)
            parts = []
            for start in range(0, spectra.shape[0], chunk):
                part = spectra[start : start + chunk]
                parts.append(
                    features(
                        part,
                        space,
                        model=model,
                        domain=item.domain,
                        wavelengths=item.wavelengths,
                        device=device,
                    )
                )
                done += part.shape[0]
                yield (done, total)
            feats[item.name] = np.concatenate(parts)
    pca = PCAProjection.fit(feats[reference])
    projected = {name: pca.transform(f) for name, f in feats.items()}
    extent = padded_extent(list(projected.values()))
    clouds = []
    for item, idx in picks:
        pts = projected[item.name]
        kde = kde_grid(pts, extent, gridsize, seed=seed)
        if kde is None:
            notes.append(
                f"'{item.name}': too few or degenerate points for a density, shown as scatter"
            )
        clouds.append(Cloud(item.name, idx, pts, kde, item.domain))
    notes.extend(coinciding_clouds(clouds))
    return ProjectionResult(clouds, pca, space, reference, extent, notes)


def coinciding_clouds(clouds: list[Cloud], rtol: float = 1e-4) -> list[str]:
    """Notes for clouds drawn exactly on top of an earlier one (same pixels, same points).

    In latent space a transferred layer encoded under its target domain has the codes of its
    source under the source domain (the transfer keeps ``z``), so one cloud hides the other.
    """
    notes = []
    for k, b in enumerate(clouds):
        for a in clouds[:k]:
            same_pixels = len(a.index) == len(b.index) and all(
                np.array_equal(i, j) for i, j in zip(a.index, b.index, strict=True)
            )
            if (
                same_pixels
                and a.points.shape == b.points.shape
                and np.allclose(
                    a.points,
                    b.points,
                    rtol=rtol,
                    atol=rtol * (float(np.abs(a.points).max()) + 1e-12),
                )
            ):
                notes.append(
                    f"'{b.name}' lies exactly on '{a.name}' (same codes; a transfer keeps "
                    "the latent code)."
                )
                break
    return notes


def run_projection(*args, **kwargs) -> ProjectionResult:
    """:func:`project_clouds` run to the end (no progress): the result."""
    gen = project_clouds(*args, **kwargs)
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value


# ----------------------------------------------------------------------------- comparison to a reference
@dataclass
class Comparison:
    """One layer against the reference: ``classes`` ``(k,)``, ``diff`` ``(k, bands)`` of
    |median − median_ref| per class and wavelength, ``mmd2``, ``c2st_auc`` (NaN when not computed),
    ``n`` spectra used."""

    name: str
    classes: np.ndarray
    diff: np.ndarray
    mmd2: float
    c2st_auc: float
    n: int


def region_spectra(
    cube,
    mask: np.ndarray | None = None,
    labels: np.ndarray | None = None,
    *,
    norm: Literal["none", "l1", "l2"] = "l1",
    max_n: int = 5000,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Up to ``max_n`` usable spectra ``(n, bands)`` of ``cube`` inside ``mask`` (``(y, x)``; None:
    whole image), normalised with ``norm``, and their class ``labels`` ``(n,)`` when given."""
    idx = sample_valid_pixels(cube, max_n, seed=seed, mask=mask)
    spectra = gather_spectra(cube, idx)
    if norm != "none":
        spectra = normalize_spectra(spectra, norm)[0]
    lab = None if labels is None else np.asarray(labels)[idx]
    return spectra, lab


def compare_to_reference(
    items: list[CloudInput],
    reference: CloudInput,
    *,
    mask: np.ndarray | None = None,
    labels: np.ndarray | None = None,
    norm: Literal["none", "l1", "l2"] = "l1",
    max_n: int = 5000,
    metrics: bool = True,
    seed: int = 0,
):
    """Per-wavelength difference of each item to the reference inside a region, plus MMD² and
    C2ST AUC (:mod:`napari_cinn.core.metrics`).

    A generator: yields ``(done, total)`` items and returns ``(comparisons, notes)``. ``mask`` and
    ``labels`` (``(y, x)``) apply to every image of that size; an item of another size is compared
    over its whole image when no region is given, else left out with a note. With ``labels`` the
    differences are per class present in both (the paper's per-organ Fig. 5b); otherwise one class.
    """
    from napari_cinn.core import metrics as M

    def region_of(item):
        spatial = np.shape(item.cube)[1:]
        for name, arr in (("region", mask), ("labels", labels)):
            if arr is not None and np.shape(arr) != spatial:
                return None, f"its size {spatial} differs from the {name} {np.shape(arr)}"
        return True, None

    ok, why = region_of(reference)
    if ok is None:
        raise ValueError(f"reference '{reference.name}': {why}")
    ref_spectra, ref_labels = region_spectra(
        reference.cube, mask, labels, norm=norm, max_n=max_n, seed=seed
    )
    if ref_spectra.shape[0] < 2:
        raise ValueError(
            f"reference '{reference.name}' has fewer than 2 usable pixels in the region"
        )
    notes: list[str] = []
    out: list[Comparison] = []
    total = len(items)
    yield (0, total)
    for k, item in enumerate(items):
        ok, why = region_of(item)
        if ok is None:
            notes.append(f"'{item.name}' left out: {why}")
        elif np.shape(item.cube)[0] != np.shape(reference.cube)[0]:
            notes.append(
                f"'{item.name}' left out: {np.shape(item.cube)[0]} bands, the reference has "
                f"{np.shape(reference.cube)[0]}"
            )
        else:
            x, lab = region_spectra(item.cube, mask, labels, norm=norm, max_n=max_n, seed=seed + 1)
            if x.shape[0] < 2:
                notes.append(f"'{item.name}' left out: fewer than 2 usable pixels in the region")
            else:
                try:
                    classes, diff = M.per_wavelength_difference(x, ref_spectra, lab, ref_labels)
                except ValueError as err:
                    notes.append(f"'{item.name}' left out: {err}")
                else:
                    mmd = c2st = float("nan")
                    if metrics:
                        try:
                            mmd = M.mmd2(x, ref_spectra, seed=seed)
                            c2st = M.c2st_auc(x, ref_spectra, seed=seed)
                        except ValueError as err:
                            notes.append(f"'{item.name}': no MMD/C2ST ({err})")
                    out.append(Comparison(item.name, classes, diff, mmd, c2st, x.shape[0]))
        yield (k + 1, total)
    return out, notes
