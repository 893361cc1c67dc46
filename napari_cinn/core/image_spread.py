"""Whole-image variability a transfer lacks: estimated from unlabelled images, drawn per realisation.

Real acquisitions differ from image to image as a whole (white balance, illumination, the oxygenation
and oxidation state of the blood): one multiplicative spectral factor per image. A pixel-wise transfer
of a simulation cannot invent that factor, so transferred images vary less between each other than
measured ones (on the HSI benchmark: half the between-image variance). The *image spread* of a
target domain is the part of its between-image covariance of mean log spectra that the model's own
transfers into it miss; a stochastic transfer multiplies each realisation by one draw
``exp(R @ η)``, ``η ~ N(0, I)``. Estimated from images without labels.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

#: floor of unit-norm spectra before the log (dark, noisy bands can read ≤ 0)
LOG_FLOOR = 1e-4


def mean_log_spectrum(spectra: np.ndarray) -> np.ndarray:
    """Mean over valid pixels of the log unit-norm spectra ``(n, bands)`` → ``(bands,)``.

    Unit norm removes brightness; the log turns a multiplicative spectral factor into a shift.
    """
    x = np.asarray(spectra, dtype=np.float64)
    x = x[np.isfinite(x).all(1) & (np.abs(x).sum(1) > 0)]
    if not len(x):
        raise ValueError("an image has no valid spectra (all NaN or zero)")
    u = x / np.linalg.norm(x, axis=1, keepdims=True)
    return np.log(np.clip(u, LOG_FLOOR, None)).mean(0)


def between_image_cov(images: Iterable[np.ndarray]) -> np.ndarray:
    """Covariance ``(bands, bands)`` over images of their :func:`mean_log_spectrum`.

    ``images``: per image its spectra ``(n, bands)``; at least two images.
    """
    means = np.stack([mean_log_spectrum(x) for x in images])
    if len(means) < 2:
        raise ValueError(f"need at least 2 images to measure their spread, got {len(means)}")
    return np.atleast_2d(np.cov(means.T))


def missing_spread(target: np.ndarray, transferred: np.ndarray) -> np.ndarray:
    """Root ``R`` ``(bands, bands)`` of the positive part of ``target − transferred`` covariance.

    ``R @ Rᵀ`` is the between-image covariance the transfers lack; directions in which they already
    vary as much as (or more than) the target get nothing.
    """
    w, v = np.linalg.eigh(np.asarray(target, np.float64) - np.asarray(transferred, np.float64))
    return (v * np.sqrt(np.clip(w, 0.0, None))).astype(np.float32)


def draw_factor(root: np.ndarray, seed: int) -> np.ndarray:
    """One whole-image spectral factor ``exp(R @ η)`` ``(bands,)``, seeded.

    Its own stream (spawn key 1 of ``seed``), so adding a spread leaves the noise draws of a seed as
    they were.
    """
    root = np.asarray(root, np.float64)
    rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(1,)))
    return np.exp(root @ rng.standard_normal(root.shape[1])).astype(np.float32)
