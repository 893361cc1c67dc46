"""Pixel sampling of the evaluation: which pixels of which images the classifiers and the
methods' fits see, and the per-pixel normalised features."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from napari_cinn.core.spectra import normalize_spectra
from napari_cinn_training.evaluate.data import EvaluationError, LabelledImage


@dataclass
class Sample:
    """Sampled pixels: raw ``spectra`` ``(n, bands)``, ``labels`` ``(n,)``, image index, flat pixel."""

    spectra: np.ndarray
    labels: np.ndarray
    image: np.ndarray
    pixel: np.ndarray


def sample_pixels(
    images: Sequence[LabelledImage],
    rng: np.random.Generator,
    per_image: int,
    classes: np.ndarray | None,
) -> Sample:
    """Up to ``per_image`` random pixels per image (only labelled ones when ``classes`` given)."""
    parts = []
    for i, img in enumerate(images):
        lab = img.labels.ravel()
        pool = np.flatnonzero(np.isin(lab, classes)) if classes is not None else np.arange(lab.size)
        if pool.size == 0:
            continue
        pick = rng.choice(pool, min(per_image, pool.size), replace=False)
        spectra = img.data.reshape(img.data.shape[0], -1)[:, pick].T
        parts.append((spectra, lab[pick], np.full(pick.size, i), pick))
    if not parts:
        raise EvaluationError("no labelled pixels of the evaluated classes found")
    return Sample(*(np.concatenate(p) for p in zip(*parts, strict=True)))


def features(spectra: np.ndarray, norm: str) -> tuple[np.ndarray, np.ndarray]:
    """Classifier features: the valid ``spectra`` normalised per pixel, and the validity mask."""
    x, _, valid = normalize_spectra(spectra, norm)
    return x[valid], valid
