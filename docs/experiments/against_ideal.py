"""How far transfers of the simulated training subjects are from the ideal transfer (HSI benchmark).

The experiment of ``docs/latent_space.md`` ("How far can a transfer go?"); not part of the package.
The ideal transfer is the same labelled sim pixels rendered by the generator's real-like camera
(``cinn-train simulate hsi --domain sim --camera real``), which only a synthetic benchmark has.
Uses the sim labels and no real label, no evaluation subject. Per method, on unit-norm spectra:
the C2ST AUC against the ideal transfer (0.5 = indistinguishable), the per-class spread (total
variance relative to the ideal's) and the class-mean error (distance of each class mean to the
ideal's, relative to the untransferred simulation's, mean over classes: 1 = nothing corrected);
with several models also the error of their class means averaged::

    python docs/experiments/against_ideal.py sample_data/models/hsi_sample.safetensors
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from _scoring import flat

from napari_cinn.core import load_model, transfer_image
from napari_cinn.core.metrics import c2st_auc
from napari_cinn_training.baselines.ot_noise import fit as fit_ot_noise
from napari_cinn_training.evaluate.data import load_folder


def spectra(folder: Path) -> list[np.ndarray]:
    """Per image of ``folder``: its spectra ``(y·x, bands)`` (masks not read)."""
    return [flat(im.data) for im in load_folder(folder, str(folder), labelled=False)]


def cinn(path: str, images: list, seed: int) -> list[np.ndarray]:
    """One seeded stochastic sim→real realisation of every sim image, flattened as :func:`flat`;
    class-conditioned models (cINN_DY) get each image's sim labels as the harness gives them."""
    model = load_model(path)
    out = []
    for i, im in enumerate(images):
        classes = im.labels if getattr(model, "n_classes", 0) else None
        y = transfer_image(
            model, im.data, "sim", "real", classes=classes, sample=True, seed=seed + i, device="cpu"
        )
        out.append(flat(np.asarray(y)))
    return out


def unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("models", nargs="*", help="cINN model files (.safetensors)")
    p.add_argument("--sim", type=Path, default=Path("data/hsi/sim"))
    p.add_argument("--ideal", type=Path, default=Path("data/hsi/oracle_d0"))
    p.add_argument("--ideal2", type=Path, default=Path("data/hsi/oracle_d1"))
    p.add_argument("--real", type=Path, default=Path("data/hsi/real"), help="ot-noise's fit")
    p.add_argument("--fit-pixels", type=int, default=1250)
    args = p.parse_args()
    images = load_folder(args.sim, "--sim")  # labelled: the sim labels are read
    sim = [flat(im.data) for im in images]
    labels = [im.labels.ravel() for im in images]
    real = spectra(args.real)
    rng = np.random.default_rng(0)
    take = lambda a: a[rng.choice(len(a), min(args.fit_pixels, len(a)), replace=False)]  # noqa: E731
    ot_noise = fit_ot_noise(
        np.concatenate([take(x) for x in sim]), np.concatenate([take(x) for x in real])
    )
    seed = 1000
    methods = {"ideal, another camera draw": spectra(args.ideal2)}
    methods.update({m: cinn(m, images, seed) for m in args.models})
    methods["ot-noise"] = [ot_noise.sample(x, seed + i) for i, x in enumerate(sim)]
    methods["none (simulation)"] = sim
    y = np.concatenate(labels)
    classes = [c for c in np.unique(y) if c > 0]
    ideal = unit(np.concatenate(spectra(args.ideal)))
    mean = lambda x: np.stack([x[y == c].mean(0) for c in classes])  # noqa: E731
    spread = lambda x: np.array([np.trace(np.cov(x[y == c].T)) for c in classes])  # noqa: E731
    s = unit(np.concatenate(sim))
    sim_error = np.linalg.norm(mean(s) - mean(ideal), axis=1)
    print("| method | C2ST against the ideal | per-class spread / ideal's | class-mean error |")
    print("|---|---|---|---|")
    class_means = {}
    for name, out in methods.items():
        t = unit(np.concatenate(out))
        class_means[name] = mean(t)
        auc = c2st_auc(t[y > 0], ideal[y > 0], max_n=2000)
        ratio = np.mean(spread(t) / spread(ideal))
        error = np.mean(np.linalg.norm(class_means[name] - mean(ideal), axis=1) / sim_error)
        print(f"| {name} | {auc:.3f} | {ratio:.2f} | {error:.3f} |", flush=True)
    if len(args.models) > 1:  # is the class-mean error seed noise (averages away) or a bias?
        pooled = np.mean([class_means[m] for m in args.models], 0)
        error = np.mean(np.linalg.norm(pooled - mean(ideal), axis=1) / sim_error)
        print(f"| the {len(args.models)} models' class means averaged | – | – | {error:.3f} |")


if __name__ == "__main__":
    main()
