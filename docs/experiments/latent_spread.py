"""A whole-image draw in the cINN's latent space instead of a spectral factor (HSI; not shipped).

The experiment of ``docs/latent_space.md`` ("Whole-image variability: the image spread"); not part
of the package. Per image the mean latent code: the unlabelled real training images under "real",
the sim training images under "sim" with one draw of the model's sim noise (as the stochastic
transfer encodes them); the positive part of real minus sim between-image covariance gives a root
R. A realisation of an image: ``z = f(x + ε | sim) + R·η`` (one η per image and realisation),
decoded as real. Scored like a model file with a spread::

    python docs/experiments/latent_spread.py runs/s0.safetensors --out reports/latent_spread_s0
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from _scoring import flat, folder_arguments, score

from napari_cinn.core import load_model
from napari_cinn.core.image_spread import missing_spread
from napari_cinn_training.evaluate.data import load_folder
from napari_cinn_training.evaluate.methods import Method


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("model", help="an HSI model file (.safetensors)")
    folder_arguments(p)
    args = p.parse_args()
    model = load_model(args.model, device="cpu")

    @torch.no_grad()
    def mean_code(x: np.ndarray, domain: str, seed: int | None = None) -> np.ndarray:
        t = torch.tensor(x, dtype=torch.float32)
        if seed is not None:
            t = model.add_source_noise(t, domain, torch.Generator().manual_seed(seed))
        return model.encode(t, domain, jac=False)[0].double().mean(0).numpy()

    real = np.stack(
        [mean_code(flat(im.data), "real") for im in load_folder(args.real, "--real", False)]
    )
    sims = load_folder(args.sim, "--sim", labelled=False)
    sim = np.stack([mean_code(flat(im.data), "sim", 100 + i) for i, im in enumerate(sims)])
    root = missing_spread(np.cov(real.T), np.cov(sim.T)).astype(np.float64)

    @torch.no_grad()
    def realisation(cube: np.ndarray, seed: int) -> np.ndarray:
        x = torch.tensor(flat(cube), dtype=torch.float32)
        g = torch.Generator().manual_seed(int(seed))
        z = model.encode(model.add_source_noise(x, "sim", g), "sim", jac=False)[0]
        rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(2,)))
        z = z + torch.tensor(root @ rng.standard_normal(len(root)), dtype=z.dtype)
        return model.decode(z, "real").numpy().T.reshape(cube.shape)

    @torch.no_grad()
    def deterministic(cube: np.ndarray) -> np.ndarray:
        x = torch.tensor(flat(cube), dtype=torch.float32)
        return model.transfer(x, "sim", "real").numpy().T.reshape(cube.shape)

    method = Method(
        "latent spread",
        image_transform=deterministic,
        sample_transform=realisation,
        per_image_draws=True,
        description=f"{args.model} + latent image spread (docs/experiments/latent_spread.py)",
    )
    print(
        f"latent between-image variance real {np.trace(np.cov(real.T)):.3f}, sim "
        f"{np.trace(np.cov(sim.T)):.3f}; {score(method, args)}"
    )


if __name__ == "__main__":
    main()
