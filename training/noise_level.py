"""Per-band noise level of spectral data, estimated from the data itself (no labels, no model).

Spectra are smooth along wavelength while sensor noise is independent between bands, so the second
difference along the band axis, x[b-1] − 2 x[b] + x[b+1], is dominated by noise; for white noise of
std σ its std is σ·√6. A robust scale (MAD) keeps specular spikes and edges from inflating it.
Used to dequantise a noise-free simulation up to the measured domain's noise (``loss.dequantize``).

Two noise models: :func:`band_noise` (one std per band, relative to each pixel's norm: what
``dequantize: matched`` adds) and :func:`camera_noise`, the Poisson–Gaussian model of an image
sensor (variance = read² + shot · signal per band, Foi et al., IEEE TIP 2008), which also says
that dark pixels are relatively noisier than bright ones (``dequantize: camera``).
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


def camera_noise(
    spectra: np.ndarray, bins: int = 12, max_n: int = 200_000, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Poisson–Gaussian noise per band of spectra ``(n, bands)`` in their own units.

    Returns ``read`` ``(bands,)`` (std at zero signal) and ``shot`` ``(bands,)`` (variance per
    unit of signal), so that the noise variance of band b at signal s is ``read² + shot · s``.
    Fitted by non-negative least squares to robust variances of the second difference in
    ``bins`` signal-level quantile bins per band (at most ``max_n`` spectra, drawn with ``seed``).
    """
    from scipy.optimize import nnls

    x = np.asarray(spectra, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] < 5:
        raise ValueError(f"need spectra (n, bands) with at least 5 bands, got shape {x.shape}")
    x = x[np.isfinite(x).all(1)]
    if len(x) > max_n:
        x = x[np.random.default_rng(seed).choice(len(x), max_n, replace=False)]
    if len(x) < 8:
        raise ValueError(f"need at least 8 valid spectra to fit the noise, got {len(x)}")
    bins = max(2, min(bins, len(x) // 4))  # at least 4 spectra per signal-level bin
    # the second difference at band b uses bands b-1..b+1; the signal level comes from bands b±2,
    # whose noise is independent of it (binning on x[b] itself would select on its noise)
    d2 = (x[:, :-2] - 2 * x[:, 1:-1] + x[:, 2:])[:, 1:-1]
    level = 0.5 * (x[:, :-4] + x[:, 4:])
    read, shot = np.zeros(d2.shape[1]), np.zeros(d2.shape[1])
    for b in range(d2.shape[1]):
        order = np.argsort(level[:, b])
        groups = np.array_split(order, bins)  # equal-count signal-level bins
        mean = np.array([level[g, b].mean() for g in groups])
        var = np.array([_robust_var(d2[g, b]) / 6.0 for g in groups])
        weight = np.sqrt([len(g) for g in groups])
        design = np.c_[np.ones(bins), mean] * weight[:, None]
        (c, a), _ = nnls(design, var * weight)
        read[b], shot[b] = np.sqrt(c), a
    pad = lambda v: np.concatenate([v[:1]] * 2 + [v] + [v[-1:]] * 2).astype(np.float32)  # noqa: E731
    return pad(read), pad(shot)


def _robust_var(values: np.ndarray) -> float:
    """Variance from the median absolute deviation (spikes and edges do not inflate it)."""
    return float((MAD_TO_STD * np.median(np.abs(values - np.median(values)))) ** 2)


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
