"""Statistics of the spectra inside a region: mean ± std per band, a normalised sample per class."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from napari_cinn.core.picking import gather_spectra, sample_valid_pixels
from napari_cinn.core.spectra import normalize_spectra, valid_spectra


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
