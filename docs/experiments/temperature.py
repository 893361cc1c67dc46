"""Stochastic HSI transfer with a latent temperature, as a ``fit()`` file for the harness.

The experiment of ``docs/latent_space.md`` ("How far can a transfer go?"); not part of the
package. A realisation encodes the dequantised sim pixel (as ``transfer_image(..., sample=True)``
does), mixes its code with fresh noise, ``z' = √(1 − t²)·z + t·η`` (variance preserving, so a
shared N(0, I) latent stays N(0, I)), and decodes it as real: ``t = 0`` is the shipped transfer,
``t = 1`` forgets the pixel. Wider realisations per pixel, at the risk of its class::

    cinn-train evaluate --sim data/hsi/sim --real $E --classifiers rf lda --samples 3 \\
        --method docs/experiments/temperature.py --option model=runs/s0.safetensors \\
        --option t=0.25 --out reports/t25_s0
"""

from __future__ import annotations

import numpy as np
import torch

from napari_cinn.core import load_model
from napari_cinn_training.evaluate import EvaluationError


class Tempered:
    """``sample(x, seed)``: spectra ``(n, bands)`` → one realisation at temperature ``t``."""

    stochastic = True

    def __init__(self, path: str, t: float) -> None:
        self.model = load_model(path, device="cpu")
        self.t = float(t)

    @torch.no_grad()
    def sample(self, x: np.ndarray, seed: int) -> np.ndarray:
        g = torch.Generator().manual_seed(int(seed))
        x = self.model.add_source_noise(torch.tensor(np.asarray(x), dtype=torch.float32), "sim", g)
        z, _ = self.model.encode(x, "sim", jac=False)
        eta = torch.randn(z.shape, generator=g, dtype=z.dtype)
        z = (1 - self.t**2) ** 0.5 * z + self.t * eta
        return self.model.decode(z, "real").numpy()

    def __call__(self, x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return self.model.transfer(
                torch.tensor(np.asarray(x), dtype=torch.float32), "sim", "real"
            ).numpy()


def fit(
    sim_spectra: np.ndarray, real_spectra: np.ndarray, *, model: str = "", t: float = 0.0
) -> Tempered:
    """A cINN model file's stochastic sim→real transfer at latent temperature ``t`` (nothing fitted)."""
    if not model:
        raise EvaluationError("temperature.py: pass --option model=FILE.safetensors")
    if not 0 <= float(t) <= 1:
        raise EvaluationError(f"temperature.py: t must lie in 0..1, got {t}")
    return Tempered(model, t)
