"""Random spatial fields and layouts shared by the image generators (NumPy + scipy.ndimage)."""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def smooth_field(
    shape: tuple[int, int], sigma: float, rng: np.random.Generator, n: int = 1
) -> np.ndarray:
    """``n`` smooth standard-normal random fields ``(n, y, x)`` with correlation length ``sigma`` px."""
    white = rng.standard_normal((n, *shape))
    out = ndimage.gaussian_filter(white, sigma=(0, sigma, sigma), mode="wrap")
    sd = out.reshape(n, -1).std(axis=1)
    return out / np.where(sd > 0, sd, 1)[:, None, None]


def organ_layout(
    size: int, n_classes: int, rng: np.random.Generator, gap: float = 0.6
) -> tuple[np.ndarray, np.ndarray]:
    """Organ regions as a warped Voronoi tessellation of a ``size``² image.

    Every class 1..``n_classes`` owns at least one region. Returns ``(tissue, labels)``, both
    ``(size, size)`` int: ``tissue`` is the class of every pixel, ``labels`` equals ``tissue`` except
    thin unannotated gaps (0) along region borders, as in hand-made annotations.
    """
    n_regions = n_classes + int(rng.integers(0, n_classes // 2 + 1))
    seeds = rng.uniform(0, size, size=(n_regions, 2))
    classes = np.concatenate(
        [rng.permutation(n_classes) + 1, rng.integers(1, n_classes + 1, n_regions - n_classes)]
    )
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    warp = smooth_field((size, size), size / 8, rng, 2) * (size / 25)
    py, px = yy + warp[0], xx + warp[1]
    d = (py[None] - seeds[:, 0, None, None]) ** 2 + (px[None] - seeds[:, 1, None, None]) ** 2
    order = np.argsort(d, axis=0)[:2]
    nearest = np.take_along_axis(d, order, axis=0)
    tissue = classes[order[0]]
    border = (np.sqrt(nearest[1]) - np.sqrt(nearest[0])) < 2 * gap
    labels = np.where(border & (classes[order[1]] != tissue), 0, tissue)
    return tissue, labels


def blobs(
    shape: tuple[int, int], n: int, sigma_range: tuple[float, float], rng: np.random.Generator
) -> np.ndarray:
    """Sum of ``n`` Gaussian spots of peak 1 at random places ``(y, x)`` (specular highlights)."""
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float64)
    out = np.zeros(shape)
    for _ in range(n):
        cy, cx = rng.uniform(0, shape[0]), rng.uniform(0, shape[1])
        s = rng.uniform(*sigma_range)
        out = np.maximum(out, np.exp(-0.5 * ((yy - cy) ** 2 + (xx - cx) ** 2) / s**2))
    return out
