"""Load a folder of labelled spectral images for evaluation, with clear errors for bad input.

A folder holds cubes in any format the plugin reads (``napari_cinn.io.READ_EXTENSIONS``)
with label masks (``<stem>_labels.npy`` sidecars or ``labels`` inside ``.npz``). One file is one
subject, read with ``napari_cinn.io.read_spectral``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from napari_cinn.core.spectra import describe_grid, same_grid
from napari_cinn.io import ENVI_DATA_EXTENSIONS, READ_EXTENSIONS, read_spectral


class EvaluationError(ValueError):
    """Bad evaluation input; the message names the file and the problem."""


@dataclass
class LabelledImage:
    """One subject: ``data`` ``(bands, y, x)`` float32, ``labels`` ``(y, x)`` int."""

    path: Path
    data: np.ndarray
    wavelengths: np.ndarray
    labels: np.ndarray
    label_names: dict[int, str] = field(default_factory=dict)


def read_labelled(path: Path, labelled: bool = True) -> LabelledImage:
    """Read one labelled cube; raise :class:`EvaluationError` naming the file and the problem.

    ``labelled=False``: any mask is dropped and every pixel reads as unlabelled (0), for data
    whose labels must not be used (the unlabelled real images a baseline fits on).
    """
    try:
        img = read_spectral(path)
        data, wl, labels = img.data, np.asarray(img.wavelengths), img.labels
        names = dict(img.label_names or {})
    except (OSError, ValueError, KeyError) as err:
        msg = str(err)
        raise EvaluationError(msg if str(path) in msg else f"{path}: unreadable ({msg})") from err
    data = np.asarray(data, dtype=np.float32)
    if data.ndim != 3:
        raise EvaluationError(f"{path}: expected a (bands, y, x) cube, got shape {data.shape}")
    if wl.shape != (data.shape[0],):
        raise EvaluationError(f"{path}: {wl.size} wavelengths for {data.shape[0]} bands")
    if not labelled:
        labels, names = np.zeros(data.shape[1:], dtype=np.int64), {}
    if labels is None:
        raise EvaluationError(
            f"{path}: no label mask (expected {path.with_suffix('')}_labels.npy or a 'labels' key)"
        )
    labels = np.asarray(labels)
    if labels.shape != data.shape[1:]:
        raise EvaluationError(
            f"{path}: label mask has shape {labels.shape} but the cube is "
            f"{data.shape[1]}x{data.shape[2]} pixels"
        )
    return LabelledImage(path, data, wl, labels.astype(np.int64), names)


def folder_files(folder: Path | str, role: str = "data") -> list[Path]:
    """The spectral files of ``folder`` (one subject each, sorted), or a clear error."""
    folder = Path(folder)
    if not folder.is_dir():
        raise EvaluationError(f"{role} folder {folder} does not exist")
    files = sorted(
        p
        for p in folder.iterdir()
        if p.suffix.lower() in READ_EXTENSIONS
        and not p.stem.endswith("_labels")
        and not p.name.startswith(".")
        # an ENVI data file beside its header is the same subject as the header
        and not (p.suffix.lower() in ENVI_DATA_EXTENSIONS and p.with_suffix(".hdr").is_file())
    )
    if not files:
        raise EvaluationError(
            f"{role} folder {folder} holds no readable spectral images "
            f"(looked for {', '.join(READ_EXTENSIONS)})"
        )
    return files


def load_folder(
    folder: Path | str, role: str = "data", labelled: bool = True
) -> list[LabelledImage]:
    """All cubes in ``folder`` (one subject each), checked for one wavelength grid.

    ``labelled=False`` reads no masks (see :func:`read_labelled`).
    """
    images = [read_labelled(p, labelled) for p in folder_files(folder, role)]
    first = images[0]
    for img in images[1:]:
        if not same_grid(img.wavelengths, first.wavelengths):
            raise EvaluationError(
                f"{img.path}: wavelength grid {describe_grid(img.wavelengths)} differs from "
                f"{first.path.name} ({describe_grid(first.wavelengths)})"
            )
    return images


def folder_list(folders: Path | str | Sequence[Path | str]) -> list[Path]:
    """One folder or several, as a list of paths."""
    return [Path(folders)] if isinstance(folders, (str, Path)) else [Path(f) for f in folders]


def load_folders(
    folders: Path | str | Sequence[Path | str], role: str = "data"
) -> list[LabelledImage]:
    """The subjects of one folder or of several pooled in the order given, on one grid."""
    images = [img for folder in folder_list(folders) for img in load_folder(folder, role)]
    for img in images[1:]:
        if not same_grid(img.wavelengths, images[0].wavelengths):
            raise EvaluationError(
                f"{img.path}: wavelength grid {describe_grid(img.wavelengths)} differs from "
                f"{images[0].path} ({describe_grid(images[0].wavelengths)})"
            )
    return images


def check_pair(sim: list[LabelledImage], real: list[LabelledImage]) -> np.ndarray:
    """Check that sim and real share the grid and classes; return the class ids (> 0) used."""
    if not same_grid(sim[0].wavelengths, real[0].wavelengths):
        raise EvaluationError(
            f"wavelength grids differ: sim {sim[0].path} has {describe_grid(sim[0].wavelengths)}, "
            f"real {real[0].path} has {describe_grid(real[0].wavelengths)}"
        )
    sim_classes = np.unique(np.concatenate([np.unique(i.labels) for i in sim]))
    real_classes = np.unique(np.concatenate([np.unique(i.labels) for i in real]))
    sim_classes, real_classes = sim_classes[sim_classes > 0], real_classes[real_classes > 0]
    missing = np.setdiff1d(sim_classes, real_classes)
    if missing.size:
        names = sim[0].label_names
        listed = ", ".join(f"{c} ({names.get(int(c), '?')})" for c in missing)
        raise EvaluationError(
            f"class(es) {listed} labelled in sim ({sim[0].path.parent}) are "
            f"absent from every real image in {real[0].path.parent}"
        )
    if sim_classes.size < 2:
        raise EvaluationError(f"sim data in {sim[0].path.parent} label fewer than two classes")
    if len(real) < 2:
        raise EvaluationError(
            f"real folder {real[0].path.parent} needs at least two subjects "
            "(one to train the upper bound, one to test)"
        )
    return sim_classes
