"""Per-pixel mixture of several HSI cINN model files, as a ``fit()`` file for the harness.

The experiment of ``docs/latent_space.md`` ("Ten training seeds, and two flows trained at once");
not part of the package; HSI model files, loaded as ``--method FILE`` loads them (sim→real).
Each realisation draws every pixel from one of the model files (chosen with the realisation's
seed), through that model's own seeded stochastic transfer::

    cinn-train evaluate --sim data/hsi/sim --real $E --classifiers rf lda --samples 3 \\
        --method docs/experiments/mixture.py --option models=runs/s0.safetensors,runs/s5.safetensors \\
        --out reports/mix_0
"""

from __future__ import annotations

import numpy as np

from napari_cinn_training.evaluate import EvaluationError
from napari_cinn_training.evaluate.methods import Method, resolve_method


class Mixture:
    """``sample(x, seed)``: spectra ``(n, bands)`` → one realisation; ``x`` itself: the first
    model's deterministic transfer."""

    stochastic = True

    def __init__(self, models: list[Method]) -> None:
        self.models = models

    @staticmethod
    def _transfer(model: Method, x: np.ndarray, seed: int | None) -> np.ndarray:
        cube = np.ascontiguousarray(x.T[:, :, None], dtype=np.float32)  # (bands, n, 1)
        out = model.image_transform(cube) if seed is None else model.sample_transform(cube, seed)
        return np.asarray(out, np.float32)[:, :, 0].T

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self._transfer(self.models[0], x, None)

    def sample(self, x: np.ndarray, seed: int) -> np.ndarray:
        pick = np.random.default_rng(seed + 1).integers(len(self.models), size=len(x))
        out = np.zeros(np.shape(x), np.float32)
        for j, model in enumerate(self.models):
            rows = pick == j
            if rows.any():
                out[rows] = self._transfer(model, x[rows], seed)
        return out


def fit(sim_spectra: np.ndarray, real_spectra: np.ndarray, *, models: str = "") -> Mixture:
    """Per-pixel mixture of the comma-separated cINN model files ``models`` (nothing is fitted)."""
    if not models:
        raise EvaluationError("mixture.py: pass --option models=a.safetensors,b.safetensors")
    return Mixture([resolve_method(p, device="cpu") for p in models.split(",")])
