"""Linear OT map plus the measured camera noise: the cheap baseline for a *stochastic* transfer.

The cINN's stochastic transfer adds the noise the simulation lacks (measured from the data,
``napari_cinn_training.noise_level``). This baseline does the same on top of the closed-form linear
Gaussian OT map (``baselines.ot``), so a table shows what the invertible network adds beyond
"OT + noise". Realisations are drawn like the cINN's (``cinn-train evaluate --samples K``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from napari_cinn_training.baselines.ot import fit_map
from napari_cinn_training.linear_ot import unit_spectra
from napari_cinn_training.noise_level import band_noise, missing_noise


class NoisyTransform:
    """``transform(x)``: the deterministic map; ``sample(x, seed)``: map plus one noise draw."""

    stochastic = True

    def __init__(self, move: Callable[[np.ndarray], np.ndarray], sigma: np.ndarray):
        self.move, self.sigma = move, np.asarray(sigma, np.float32)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.move(x)

    def sample(self, x: np.ndarray, seed: int) -> np.ndarray:
        y = self.move(x)
        r = np.linalg.norm(np.nan_to_num(y), axis=1, keepdims=True)
        eps = np.random.default_rng(seed).standard_normal(y.shape).astype(np.float32)
        return (y + self.sigma * r * eps).astype(np.float32)


def fit(sim_spectra: np.ndarray, real_spectra: np.ndarray) -> NoisyTransform:
    """Linear Gaussian OT map of unit-norm spectra plus the real domain's measured missing noise."""
    move = fit_map(sim_spectra, real_spectra, kind="linear")
    moved = move(np.asarray(sim_spectra, np.float32))
    levels = {
        "moved": band_noise(unit_spectra(moved)),
        "real": band_noise(unit_spectra(real_spectra)),
    }
    return NoisyTransform(move, missing_noise(levels)["moved"])
