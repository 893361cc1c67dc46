"""An image spread for PAT: one spectral factor per transferred image (experiment; not shipped).

The experiment of ``docs/latent_space.md`` ("Whole-image variability: the image spread"); not part
of the package. The real-like PAT domain has a per-subject laser calibration tilt and
per-wavelength pulse-energy jitter, factors on whole images. Per image its total spectrum (sum
over pixels of max(p₀, 0)) at unit norm, logged; the positive part of the between-image
covariance of the unlabelled real training images minus that of the model's deterministic
transfers of the sim training images gives a root R; each realisation of a whole image is
multiplied by exp(R·η)::

    python docs/experiments/pat_spread.py runs/pat_s0.safetensors --out reports/pat_spread_s0
"""

from __future__ import annotations

import argparse

import numpy as np
from _scoring import folder_arguments, score

from napari_cinn.core import load_model, transfer_image
from napari_cinn.core.image_spread import draw_factor, missing_spread
from napari_cinn_training.evaluate.data import load_folder
from napari_cinn_training.evaluate.methods import Method


def total_log(cube: np.ndarray) -> np.ndarray:
    """log of the image's total spectrum ``(bands,)`` at unit norm (background adds ~nothing)."""
    s = np.clip(np.asarray(cube, np.float64), 0, None).reshape(len(cube), -1).sum(1)
    return np.log(s / np.linalg.norm(s))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("model", help="a PAT model file (.safetensors)")
    folder_arguments(p, "pat")
    args = p.parse_args()
    model = load_model(args.model, device="cpu")

    def move(cube: np.ndarray) -> np.ndarray:
        return transfer_image(model, cube, "sim", "real", device="cpu")

    real = np.stack([total_log(im.data) for im in load_folder(args.real, "--real", False)])
    moved = np.stack([total_log(move(im.data)) for im in load_folder(args.sim, "--sim", False)])
    root = missing_spread(np.cov(real.T), np.cov(moved.T))

    def realisation(cube: np.ndarray, seed: int) -> np.ndarray:
        y = transfer_image(model, cube, "sim", "real", sample=True, seed=seed, device="cpu")
        return y * draw_factor(root, seed)[:, None, None]

    method = Method(
        "PAT image spread",
        image_transform=move,
        per_pixel=False,
        sample_transform=realisation,
        model=model,
        description=f"{args.model} + PAT image spread (docs/experiments/pat_spread.py)",
    )
    print(
        f"between-image variance real {np.trace(np.cov(real.T)):.4f} ({len(real)} images), "
        f"transfers {np.trace(np.cov(moved.T)):.4f}; {score(method, args)}"
    )


if __name__ == "__main__":
    main()
