"""Per-band moment matching: the cheapest sim→real baseline.

Each band of the simulated spectra is shifted and scaled so that its mean and standard deviation
over the training set equal those of the real spectra: y_b = (x_b − μ_sim,b) / σ_sim,b · σ_real,b +
μ_real,b. Unpaired and unlabelled, like the cINN.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def fit(sim_spectra: np.ndarray, real_spectra: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """Fit on ``(n, bands)`` sim and ``(m, bands)`` real spectra; return ``(k, bands) -> (k, bands)``."""
    sim = np.asarray(sim_spectra, dtype=np.float64)
    real = np.asarray(real_spectra, dtype=np.float64)
    if sim.ndim != 2 or real.ndim != 2 or sim.shape[1] != real.shape[1]:
        raise ValueError(
            f"need (n, bands) spectra with equal bands, got {sim.shape} and {real.shape}"
        )
    sim = sim[np.isfinite(sim).all(1)]
    real = real[np.isfinite(real).all(1)]
    if len(sim) < 2 or len(real) < 2:
        raise ValueError("moment matching needs at least 2 finite spectra per domain")
    mu_s, sd_s = sim.mean(0), sim.std(0)
    mu_r, sd_r = real.mean(0), real.std(0)
    scale = np.where(sd_s > 0, sd_r / np.where(sd_s > 0, sd_s, 1), 1.0)

    def transform(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        return ((x - mu_s) * scale + mu_r).astype(np.float32)

    return transform
