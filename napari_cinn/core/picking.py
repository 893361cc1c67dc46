"""Pixel picking: one spectrum under a click, random usable pixels, their spectra.

Conventions: a spectral image is ``(bands, y, x)`` (or ``(bands, z, y, x)``); a batch of spectra
``(n, bands)``. A pixel is usable when its spectrum is finite in every band and not all zero.
"""

from __future__ import annotations

import numpy as np

from napari_cinn.core.spectra import valid_spectra


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
