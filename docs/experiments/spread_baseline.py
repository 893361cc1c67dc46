"""``ot-noise`` with the same image spread as the cINN: is the spread the cINN's gain or anyone's?

The experiment of ``docs/latent_space.md`` ("Whole-image variability: the image spread"); not part
of the package. The linear OT map plus the measured camera noise (``ot-noise``, fitted once on
1,250 pixels per image of the unlabelled sim and real training folders, as ``--fit-pixels 1250
--fit-real``), and its image spread measured as ``cinn-train image-spread`` measures the cINN's
(:func:`napari_cinn.core.image_spread.fit_image_spread`'s recipe on the OT map's own transfers).
Scored in the harness exactly like a model file with a spread: realisations image by image, one
whole-image factor each::

    python docs/experiments/spread_baseline.py --out reports/ot_noise_spread
"""

from __future__ import annotations

import argparse

import numpy as np
from _scoring import flat, folder_arguments, score

from napari_cinn.core.image_spread import between_image_cov, draw_factor, missing_spread
from napari_cinn_training.baselines.ot_noise import fit as fit_ot_noise
from napari_cinn_training.evaluate.data import load_folder
from napari_cinn_training.evaluate.methods import Method


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    folder_arguments(p)
    p.add_argument("--fit-pixels", type=int, default=1250)
    p.add_argument("--samples", type=int, default=3, help="realisations per sim image")
    args = p.parse_args()
    sims = [flat(im.data) for im in load_folder(args.sim, "--sim", labelled=False)]
    reals = [flat(im.data) for im in load_folder(args.real, "--real", labelled=False)]
    rng = np.random.default_rng(0)
    take = lambda a: a[rng.choice(len(a), min(args.fit_pixels, len(a)), replace=False)]  # noqa: E731
    ot = fit_ot_noise(
        np.concatenate([take(x) for x in sims]), np.concatenate([take(x) for x in reals])
    )
    root = missing_spread(between_image_cov(reals), between_image_cov(ot(x) for x in sims))

    def deterministic(cube: np.ndarray) -> np.ndarray:
        return ot(flat(cube)).T.reshape(cube.shape)

    def realisation(cube: np.ndarray, seed: int) -> np.ndarray:
        y = ot.sample(flat(cube), seed).T.reshape(cube.shape)
        return y * draw_factor(root, seed)[:, None, None]

    method = Method(
        "ot-noise + image spread",
        image_transform=deterministic,
        sample_transform=realisation,
        per_image_draws=True,
        description="linear OT + camera noise + image spread (docs/experiments/spread_baseline.py)",
    )
    print(f"{score(method, args, args.samples)}; added variance {float((root**2).sum()):.4f}")


if __name__ == "__main__":
    main()
