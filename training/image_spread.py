"""``cinn-train image-spread``: give an HSI model file the whole-image variability its transfers lack.

Measures, on unlabelled images of both domains (the model's training folders, say), how much more
real images differ from each other as a whole than the model's transfers of simulated ones do
(:mod:`napari_cinn.core.image_spread`), and writes a copy of the model file that draws that spread
in every stochastic transfer. Weights are unchanged; the figures go into the file's provenance.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np


class ImageSpreadError(ValueError):
    """The spread cannot be measured or written (the message says why)."""


def _spectra(cube: np.ndarray) -> np.ndarray:
    """``(bands, y, x)`` → ``(y·x, bands)``."""
    cube = np.asarray(cube)
    return cube.reshape(cube.shape[0], -1).T


def fit_image_spread(
    model, source_images, target_images, src="sim", tgt="real", *, device="cpu"
) -> dict:
    """Measure and store in ``model`` the image spread of ``tgt`` (what transfers from ``src`` lack).

    ``source_images`` / ``target_images``: iterables of unlabelled ``(bands, y, x)`` images of
    each domain on the model's grid (its training images, say), consumed one at a time (only
    each image's mean spectrum is kept). Each source image is transferred deterministically; the
    spread is :func:`~napari_cinn.core.image_spread.missing_spread` of the two between-image
    covariances. Returns the figures (numbers of images, between-image variances, the variance
    added) for provenance and reports.
    """
    from napari_cinn.core import transfer_image
    from napari_cinn.core.image_spread import between_image_cov, missing_spread

    if model.modality != "hsi":
        raise ValueError("an image spread is measured for HSI models (per-pixel spectra) only")
    counts = {"source": 0, "target": 0}

    def counted(images, side: str, transfer: bool):
        for im in images:
            counts[side] += 1
            yield _spectra(transfer_image(model, im, src, tgt, device=device) if transfer else im)

    transferred = between_image_cov(counted(source_images, "source", transfer=True))
    target = between_image_cov(counted(target_images, "target", transfer=False))
    root = missing_spread(target, transferred)
    model.set_image_spread(tgt, root)
    return {
        "source": str(src),
        "target": str(tgt),
        "n_source_images": counts["source"],
        "n_target_images": counts["target"],
        "target_variance": float(np.trace(target)),
        "transferred_variance": float(np.trace(transferred)),
        "added_variance": float(np.sum(root.astype(np.float64) ** 2)),
    }


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Measure the whole-image variability (white balance, illumination, blood state) that an "
        "HSI model's sim→real transfers lack, on unlabelled images of both domains, and write a "
        "model file whose stochastic transfer draws it once per image."
    )
    parser.add_argument("model", metavar="MODEL.safetensors", help="an HSI model file")
    parser.add_argument("--sim", required=True, metavar="DIR", help="source-domain images")
    parser.add_argument("--real", required=True, metavar="DIR", help="target-domain images")
    parser.add_argument("--src", default="sim", help="source domain name (default sim)")
    parser.add_argument("--tgt", default="real", help="target domain name (default real)")
    parser.add_argument("--out", required=True, metavar="FILE.safetensors", help="file to write")
    parser.add_argument("--force", action="store_true", help="replace FILE if it exists")


def add_image_spread(args: argparse.Namespace) -> tuple[Path, dict]:
    """Measure the spread of ``args.model`` on the two folders and write ``args.out``."""
    from napari_cinn.core import load_model, save_model
    from napari_cinn.core.spectra import describe_grid, same_grid

    from .evaluate.data import EvaluationError, folder_files, read_labelled

    out = Path(args.out)
    if out.exists() and not args.force:
        raise ImageSpreadError(f"{out} already exists; pass --force to replace it")
    model = load_model(args.model)
    if model.modality != "hsi":
        raise ImageSpreadError(
            f"{args.model} is a {model.modality.upper()} model; an image spread is measured for "
            "HSI models (per-pixel spectra) only"
        )
    for name in (args.src, args.tgt):
        if name not in model.domains:
            raise ImageSpreadError(f"{args.model} has domains {list(model.domains)}, not {name!r}")
    files = {}
    for role, folder in (("--sim", args.sim), ("--real", args.real)):
        try:
            files[role] = folder_files(folder, role)
        except EvaluationError as err:
            raise ImageSpreadError(str(err)) from None
        if len(files[role]) < 2:
            raise ImageSpreadError(f"{role} folder {folder} holds one image; need two")

    def images(role: str):
        """The folder's cubes one at a time, each checked against the model's grid."""
        for path in files[role]:
            try:
                im = read_labelled(path, labelled=False)
            except EvaluationError as err:
                raise ImageSpreadError(str(err)) from None
            if not same_grid(im.wavelengths, model.wavelengths):
                raise ImageSpreadError(
                    f"{path}: {describe_grid(im.wavelengths)}, the model has "
                    f"{describe_grid(model.wavelengths)}"
                )
            yield im.data

    figures = fit_image_spread(model, images("--sim"), images("--real"), args.src, args.tgt)
    figures.update(source_folder=Path(args.sim).name, target_folder=Path(args.real).name)
    save_model(model, out, overwrite=args.force, image_spread=figures)
    return out, figures


def run(args: argparse.Namespace) -> int:
    from napari_cinn.core import ModelFileError

    try:
        out, f = add_image_spread(args)
    except (ImageSpreadError, ModelFileError, ValueError) as err:
        print(f"cinn-train image-spread: {err}", file=sys.stderr)
        return 2
    print(
        f"between-image variance of mean log spectra: {f['target']} {f['target_variance']:.4f} "
        f"({f['n_target_images']} images), transfers {f['transferred_variance']:.4f} "
        f"({f['n_source_images']} images); added {f['added_variance']:.4f}"
    )
    print(f"wrote {out}")
    return 0
