"""A baseline with the same image spread as the cINN: is the spread the cINN's gain or anyone's?

The experiment of ``docs/latent_space.md`` ("Whole-image variability: the image spread"); not part
of the package. ``--baseline ot-noise`` (default): the linear OT map plus the measured camera
noise; ``ot-emd``: exact OT, which has no noise draw, so its realisations differ by the factor
alone. Either is fitted once on 1,250 pixels per image of the unlabelled sim and real training
folders (as ``--fit-pixels 1250 --fit-real``), and its image spread measured as ``cinn-train
image-spread`` measures the cINN's (the positive part of real minus the baseline's own
transfers' between-image covariance). Scored in the harness exactly like a model file with a
spread: realisations image by image, one whole-image factor each::

    python docs/experiments/spread_baseline.py --out reports/ot_noise_spread
    python docs/experiments/spread_baseline.py --baseline ot-emd --out reports/ot_emd_spread
"""

from __future__ import annotations

import argparse

import numpy as np
from _scoring import flat, folder_arguments, score

from napari_cinn.core.image_spread import between_image_cov, draw_factor, missing_spread
from napari_cinn_training.baselines.ot import fit_emd
from napari_cinn_training.baselines.ot_noise import fit as fit_ot_noise
from napari_cinn_training.evaluate.data import load_folder
from napari_cinn_training.evaluate.methods import Method


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    folder_arguments(p)
    p.add_argument("--baseline", choices=("ot-noise", "ot-emd"), default="ot-noise")
    p.add_argument("--fit-pixels", type=int, default=1250)
    p.add_argument("--samples", type=int, default=3, help="realisations per sim image")
    args = p.parse_args()
    sims = [flat(im.data) for im in load_folder(args.sim, "--sim", labelled=False)]
    reals = [flat(im.data) for im in load_folder(args.real, "--real", labelled=False)]
    rng = np.random.default_rng(0)
    take = lambda a: a[rng.choice(len(a), min(args.fit_pixels, len(a)), replace=False)]  # noqa: E731
    fit = fit_ot_noise if args.baseline == "ot-noise" else fit_emd
    ot = fit(np.concatenate([take(x) for x in sims]), np.concatenate([take(x) for x in reals]))
    draw = ot.sample if args.baseline == "ot-noise" else lambda x, seed: ot(x)
    root = missing_spread(between_image_cov(reals), between_image_cov(ot(x) for x in sims))

    def deterministic(cube: np.ndarray) -> np.ndarray:
        return ot(flat(cube)).T.reshape(cube.shape)

    def realisation(cube: np.ndarray, seed: int) -> np.ndarray:
        y = draw(flat(cube), seed).T.reshape(cube.shape)
        return y * draw_factor(root, seed)[:, None, None]

    method = Method(
        f"{args.baseline} + image spread",
        image_transform=deterministic,
        sample_transform=realisation,
        per_image_draws=True,
        description=f"{args.baseline} + image spread (docs/experiments/spread_baseline.py)",
    )
    print(f"{score(method, args, args.samples)}; added variance {float((root**2).sum()):.4f}")


if __name__ == "__main__":
    main()
