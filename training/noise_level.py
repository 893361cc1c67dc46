"""Per-band noise level of spectral data, estimated from the data itself (no labels, no model).

Spectra are smooth along wavelength while sensor noise is independent between bands, so the second
difference along the band axis, x[b-1] − 2 x[b] + x[b+1], is dominated by noise; for white noise of
std σ its std is σ·√6. A robust scale (MAD) keeps specular spikes and edges from inflating it.
Used to dequantise a noise-free simulation up to the measured domain's noise (``loss.dequantize``).
"""

from __future__ import annotations

import numpy as np

MAD_TO_STD = 1.4826


def band_noise(spectra: np.ndarray) -> np.ndarray:
    """Noise std per band ``(bands,)`` of spectra ``(n, bands)`` (≥ 3 bands; ends copy neighbours)."""
    x = np.asarray(spectra, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] < 3:
        raise ValueError(f"need spectra (n, bands) with at least 3 bands, got shape {x.shape}")
    x = x[np.isfinite(x).all(1)]
    d2 = x[:, :-2] - 2 * x[:, 1:-1] + x[:, 2:]
    mad = np.median(np.abs(d2 - np.median(d2, 0)), 0)
    inner = MAD_TO_STD * mad / np.sqrt(6.0)
    return np.concatenate([inner[:1], inner, inner[-1:]]).astype(np.float32)


def missing_noise(levels: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per domain, the std of the noise it lacks against the noisiest domain in each band."""
    top = np.max(np.stack(list(levels.values())), 0)
    return {
        d: np.sqrt(np.clip(top**2 - v**2, 0, None)).astype(np.float32) for d, v in levels.items()
    }


def as_spectra(x: np.ndarray) -> np.ndarray:
    """HSI ``(n, bands)`` as is; PAT images ``(n, bands, y, x)`` as their pixel spectra."""
    x = np.asarray(x)
    return np.moveaxis(x, 1, -1).reshape(-1, x.shape[1]) if x.ndim == 4 else x
