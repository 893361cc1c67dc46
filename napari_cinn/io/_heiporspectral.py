"""The HeiPorSPECTRAL / htc folder layout around a Tivita cube: subject and annotation masks.

Layout (as the public HeiPorSPECTRAL data set and IMSY-DKFZ/htc write it)::

    subjects/P086/2021_04_15_09_22_02/
        2021_04_15_09_22_02_SpecCube.dat
        2021_04_15_09_22_02_meta.log
        annotations/2021_04_15_09_22_02#polygon#annotator1#spleen#binary.png

Each PNG is one binary mask: one label drawn by one annotator. The subject is the folder above the
timestamp folder (``P086``). Which annotator wins: the one asked for, else ``annotator1`` (htc's
default annotation for this data set), else the first in sorted order; the others are listed in
the metadata. Label values are the annotator's label names in sorted order, 1, 2, ... (htc also
numbers labels by sorted name; 0 stays unlabelled here); pixels claimed by two labels get the
extra label ``overlap`` (htc's name for them).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._image import SpectralFileError

DEFAULT_ANNOTATOR = "annotator1"
CUBE_SUFFIX = "_SpecCube.dat"


def timestamp_of(path: Path) -> str | None:
    """``2021_04_15_09_22_02`` for ``.../2021_04_15_09_22_02/2021_04_15_09_22_02_SpecCube.dat``."""
    if not path.name.endswith(CUBE_SUFFIX):
        return None
    stamp = path.name[: -len(CUBE_SUFFIX)]
    return stamp if path.parent.name == stamp else None


def subject_of(path: Path) -> str | None:
    """The subject folder (``P086``) of a cube in the HeiPorSPECTRAL layout, else None."""
    if timestamp_of(path) is None:
        return None
    name = path.parent.parent.name
    return name or None


def annotation_files(path: Path) -> dict[str, dict[str, Path]]:
    """``{annotator: {label: png}}`` for the binary masks beside a cube (empty when none)."""
    stamp = timestamp_of(path)
    folder = path.parent / "annotations"
    out: dict[str, dict[str, Path]] = {}
    if stamp is None or not folder.is_dir():
        return out
    for png in sorted(folder.glob(f"{stamp}#*#binary.png")):
        parts = png.stem.split("#")
        if len(parts) != 5:
            continue
        _, _kind, annotator, label, _ = parts
        out.setdefault(annotator, {})[label] = png
    return out


def _read_mask(png: Path, shape: tuple[int, int]) -> np.ndarray:
    from PIL import Image

    try:
        with Image.open(png) as im:
            mask = np.asarray(im.convert("L")) > 0
    except Exception as exc:  # noqa: BLE001 - PIL raises many types for broken files
        raise SpectralFileError(f"{png}: not a readable annotation mask ({exc})") from exc
    if mask.shape != shape:
        raise SpectralFileError(
            f"{png}: the mask is {mask.shape[0]}×{mask.shape[1]} but the cube is "
            f"{shape[0]}×{shape[1]} (y, x)"
        )
    return mask


def read_annotations(
    path: Path, shape: tuple[int, int], annotator: str | None = None
) -> tuple[np.ndarray | None, dict[int, str] | None, dict]:
    """Labels ``(y, x)``, names and metadata from the annotation PNGs of one annotator.

    Returns ``(None, None, {})`` when the cube has no annotations; raises when ``annotator`` is
    asked for but did not annotate this image.
    """
    found = annotation_files(path)
    if not found:
        if annotator is not None:
            raise SpectralFileError(
                f"{path}: no annotations beside the cube (asked for {annotator})"
            )
        return None, None, {}
    names_found = sorted(found)
    if annotator is None:
        annotator = DEFAULT_ANNOTATOR if DEFAULT_ANNOTATOR in found else names_found[0]
    elif annotator not in found:
        raise SpectralFileError(
            f"{path}: {annotator!r} did not annotate this image; annotators: "
            f"{', '.join(names_found)}"
        )
    masks = {label: _read_mask(png, shape) for label, png in sorted(found[annotator].items())}
    labels = np.zeros(shape, dtype=np.int32)
    names: dict[int, str] = {}
    count = np.zeros(shape, dtype=np.int32)
    for value, (label, mask) in enumerate(masks.items(), start=1):
        labels[mask] = value
        count += mask
        names[value] = label
    if np.any(count > 1):
        overlap = len(names) + 1
        labels[count > 1] = overlap
        names[overlap] = "overlap"
    meta = {
        "annotator": annotator,
        "annotators": names_found,
        "annotation_files": [str(p) for p in found[annotator].values()],
    }
    return labels, names, meta
