"""Wavelength grids, per-pixel normalisation, resampling and RGB rendering of spectral images.

Conventions: a spectral image is ``(bands, y, x)`` (or ``(bands, z, y, x)``), a batch of spectra
is ``(n, bands)``, wavelengths are a sorted 1-D float array in nm. NumPy only: no torch here.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

Norm = Literal["l1", "l2", "none"]

#: Tivita-type HSI camera: 100 bands, 500–995 nm in 5 nm steps.
HSI_WAVELENGTHS = np.arange(500.0, 1000.0, 5.0)
#: MSOT-type PAT scanner: 16 wavelengths, 700–850 nm in 10 nm steps.
PAT_WAVELENGTHS = np.arange(700.0, 851.0, 10.0)


def wavelength_grid(start: float, stop: float, n: int) -> np.ndarray:
    """``n`` evenly spaced wavelengths from ``start`` to ``stop`` nm inclusive, float64."""
    if n < 1:
        raise ValueError(f"a wavelength grid needs at least one band, got n={n}")
    if n > 1 and not stop > start:
        raise ValueError(f"wavelength grid stop ({stop} nm) must exceed start ({start} nm)")
    return np.linspace(float(start), float(stop), int(n))


def check_wavelengths(wavelengths, n_bands: int | None = None) -> np.ndarray:
    """Validate a wavelength array: 1-D, finite, strictly increasing, matching ``n_bands``."""
    wl = np.asarray(wavelengths, dtype=np.float64)
    if wl.ndim != 1 or wl.size == 0:
        raise ValueError(f"wavelengths must be a non-empty 1-D array, got shape {wl.shape}")
    if not np.all(np.isfinite(wl)):
        raise ValueError("wavelengths contain NaN or infinite values")
    if wl.size > 1 and not np.all(np.diff(wl) > 0):
        raise ValueError("wavelengths must be strictly increasing (sort the bands first)")
    if n_bands is not None and wl.size != n_bands:
        raise ValueError(f"{wl.size} wavelengths given for an image with {n_bands} bands")
    return wl


def describe_grid(wavelengths) -> str:
    """Human description of a grid, e.g. ``"100 bands 500–995 nm"``."""
    wl = np.asarray(wavelengths, dtype=float).ravel()
    if wl.size == 0:
        return "0 bands"
    word = "band" if wl.size == 1 else "bands"
    if wl.size == 1:
        return f"1 {word} at {wl[0]:g} nm"
    return f"{wl.size} {word} {wl[0]:g}–{wl[-1]:g} nm"


def same_grid(a, b, atol: float = 0.5) -> bool:
    """True if two wavelength grids have the same length and agree within ``atol`` nm."""
    a = np.asarray(a, dtype=float).ravel()
    b = np.asarray(b, dtype=float).ravel()
    return a.shape == b.shape and bool(np.allclose(a, b, atol=atol, rtol=0))


def grid_problem(
    expected, n_bands: int, wavelengths=None, *, allow_resample: bool = False, noun: str = "image"
) -> str | None:
    """Why data with ``n_bands`` (and ``wavelengths``) do not fit a model's grid ``expected``.

    None when they fit: the same grid, or (``allow_resample``) a grid covering the model's range.
    ``noun`` names the data in the sentence ("image", "layer"), e.g. *model expects 16 bands
    700–850 nm; layer has 100 bands 500–995 nm (enable resampling to interpolate)*.
    """
    expected = np.asarray(expected, dtype=float).ravel()
    expects = f"model expects {describe_grid(expected)}"
    if wavelengths is None:
        if n_bands != expected.size:
            return f"{expects}; {noun} has {n_bands} bands (and no wavelengths)"
        return None
    wl = np.asarray(wavelengths, dtype=float).ravel()
    if wl.size != n_bands:
        return f"{noun} has {n_bands} bands but {wl.size} wavelengths"
    if same_grid(wl, expected):
        return None
    if allow_resample:
        if wl.size > 1 and wl[0] <= expected[0] + 1e-6 and wl[-1] >= expected[-1] - 1e-6:
            return None
        return f"{expects}; {noun} has {describe_grid(wl)}, which does not cover that range"
    return f"{expects}; {noun} has {describe_grid(wl)} (enable resampling to interpolate)"


def valid_spectra(spectra: np.ndarray) -> np.ndarray:
    """Mask of usable spectra ``(n,)``: all values finite and not all zero. ``spectra`` is ``(n, bands)``."""
    s = np.asarray(spectra)
    finite = np.isfinite(s).all(axis=1)
    nonzero = np.any(np.where(np.isfinite(s), s, 0) != 0, axis=1)
    return finite & nonzero


def spectrum_norms(spectra: np.ndarray, norm: Norm = "l2") -> np.ndarray:
    """Per-spectrum norm ``(n,)`` of ``(n, bands)`` spectra (``"l1"``: sum of |x|, ``"l2"``: Euclidean)."""
    s = np.asarray(spectra, dtype=np.float32)
    if norm == "l1":
        return np.abs(s).sum(axis=1)
    if norm == "l2":
        return np.sqrt(np.einsum("ij,ij->i", s, s, dtype=np.float64)).astype(np.float32)
    if norm == "none":
        return np.ones(s.shape[0], dtype=np.float32)
    raise ValueError(f"unknown normalisation {norm!r}; use 'l1', 'l2' or 'none'")


def normalize_spectra(
    spectra: np.ndarray, norm: Norm = "l2"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scale each spectrum to unit norm, masking unusable ones.

    Parameters
    ----------
    spectra : (n, bands) array
    norm : "l1", "l2" (default, as in the paper's code) or "none"

    Returns
    -------
    normalised : (n, bands) float32; rows of invalid spectra (non-finite or all zero) are NaN
    norms : (n,) float32; the factor to multiply by to restore the input (NaN where invalid)
    valid : (n,) bool
    """
    s = np.asarray(spectra, dtype=np.float32)
    if s.ndim != 2:
        raise ValueError(f"spectra must be (n, bands), got shape {s.shape}")
    valid = valid_spectra(s)
    if norm == "none":
        out = s.copy()
        norms = np.ones(s.shape[0], dtype=np.float32)
    else:
        norms = spectrum_norms(np.where(valid[:, None], s, 0), norm)
        valid &= norms > 0
        safe = np.where(valid, norms, 1.0).astype(np.float32)
        out = s / safe[:, None]
    out[~valid] = np.nan
    norms = norms.astype(np.float32)
    norms[~valid] = np.nan
    return out, norms, valid


def resample(
    image: np.ndarray, source_wavelengths, target_wavelengths, axis: int = 0
) -> np.ndarray:
    """Linearly interpolate ``image`` along ``axis`` from one wavelength grid to another.

    Explicit opt-in only: models never resample silently. Target wavelengths outside the source
    range are refused rather than extrapolated.
    """
    src = check_wavelengths(source_wavelengths, np.shape(image)[axis])
    dst = check_wavelengths(target_wavelengths)
    if dst[0] < src[0] - 1e-6 or dst[-1] > src[-1] + 1e-6:
        raise ValueError(
            f"cannot resample {describe_grid(src)} to {describe_grid(dst)}: "
            "the target range lies outside the measured range (no extrapolation)"
        )
    data = np.moveaxis(np.asarray(image, dtype=np.float32), axis, 0)
    idx = np.clip(np.searchsorted(src, dst, side="right") - 1, 0, max(src.size - 2, 0))
    if src.size == 1:
        out = np.repeat(data[:1], dst.size, axis=0)
    else:
        lo, hi = src[idx], src[idx + 1]
        w = ((dst - lo) / (hi - lo)).astype(np.float32)
        shape = (-1,) + (1,) * (data.ndim - 1)
        out = data[idx] * (1 - w).reshape(shape) + data[idx + 1] * w.reshape(shape)
    return np.moveaxis(out, 0, axis)


# CIE 1931 colour matching, multi-lobe Gaussian fit (Wyman, Sloan & Shirley, JCGT 2013).
def _g(x: np.ndarray, mu: float, s1: float, s2: float) -> np.ndarray:
    return np.exp(-0.5 * ((x - mu) / np.where(x < mu, s1, s2)) ** 2)


def cie_xyz(wavelengths) -> np.ndarray:
    """CIE 1931 2° colour-matching functions ``(3, bands)`` at ``wavelengths`` (nm)."""
    w = np.asarray(wavelengths, dtype=np.float64)
    x = (
        1.056 * _g(w, 599.8, 37.9, 31.0)
        + 0.362 * _g(w, 442.0, 16.0, 26.7)
        - 0.065 * _g(w, 501.1, 20.4, 26.2)
    )
    y = 0.821 * _g(w, 568.8, 46.9, 40.5) + 0.286 * _g(w, 530.9, 16.3, 31.1)
    z = 1.217 * _g(w, 437.0, 11.8, 36.0) + 0.681 * _g(w, 459.0, 26.0, 13.8)
    return np.stack([x, y, z])


_XYZ_TO_SRGB = np.array(
    [[3.2406, -1.5372, -0.4986], [-0.9689, 1.8758, 0.0415], [0.0557, -0.2040, 1.0570]]
)


def render_rgb(cube: np.ndarray, wavelengths, gamma: bool = True) -> np.ndarray:
    """Render a ``(bands, y, x)`` reflectance cube as an sRGB image ``(y, x, 3)`` in [0, 1].

    Bands in the visible range are weighted with the CIE 1931 colour-matching functions. When the
    cube has too little visible coverage (e.g. NIR-only PAT), three bands spread over the range
    stand in for red, green and blue (a false-colour view). Non-finite pixels render black.
    """
    data = np.asarray(cube, dtype=np.float32)
    if data.ndim != 3:
        raise ValueError(f"render_rgb expects a (bands, y, x) cube, got shape {data.shape}")
    wl = check_wavelengths(wavelengths, data.shape[0])
    data = np.where(np.isfinite(data), data, 0)
    cmf = cie_xyz(wl)
    if cmf[1].sum() > 1.0:  # at least a few visible bands
        xyz = np.tensordot(cmf / cmf[1].sum(), data, axes=(1, 0))
        rgb = np.tensordot(_XYZ_TO_SRGB, xyz, axes=(1, 0))
    else:
        picks = np.linspace(data.shape[0] - 1, 0, 3).round().astype(int)
        rgb = data[picks]
    rgb = np.moveaxis(rgb, 0, -1)
    hi = np.percentile(rgb, 99.5) if rgb.size else 1.0
    rgb = np.clip(rgb / (hi if hi > 0 else 1.0), 0, 1)
    if gamma:
        rgb = np.where(rgb <= 0.0031308, 12.92 * rgb, 1.055 * np.power(rgb, 1 / 2.4) - 0.055)
    return rgb.astype(np.float32)
