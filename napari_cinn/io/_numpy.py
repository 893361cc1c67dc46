"""NumPy ``.npy`` (memory-mapped, wavelengths in a sidecar) and ``.npz`` (everything inside) files.

``.npz`` keys: ``data`` (bands, y, x), optional ``wavelengths`` (bands,), ``labels`` (y, x),
``label_names`` and ``metadata`` (JSON strings). ``.npy`` holds the cube only; wavelengths come
from ``<stem>_wavelengths.json`` and labels from ``<stem>_labels.npy`` / ``<stem>_labels.json``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ._common import (
    atomic_targets,
    finish_image,
    json_safe,
    names_to_json,
    parse_label_names,
    read_label_sidecars,
    read_wavelength_sidecar,
    write_wavelength_sidecar,
)
from ._image import SpectralFileError, SpectralImage
from ._safety import check_npy, check_npz


def _check_array(path: Path, arr) -> None:
    if arr.ndim not in (3, 4):
        raise SpectralFileError(
            f"{path}: expected a (bands, y, x) or (bands, z, y, x) array, got shape {arr.shape}"
        )
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise SpectralFileError(f"{path}: expected numbers, got dtype {arr.dtype}")


def read_npy(path: Path) -> SpectralImage:
    path = Path(path)
    check_npy(path)  # NumPy magic and no pickled objects, before numpy sees it
    try:
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
    except Exception as exc:  # noqa: BLE001 - truncated, not .npy, object arrays ...
        raise SpectralFileError(f"{path}: not a readable .npy array ({exc})") from exc
    _check_array(path, arr)
    wl, meta = read_wavelength_sidecar(path)
    labels, names = read_label_sidecars(path)
    meta = {**meta, "format": "npy"}
    return finish_image(path, arr, wl, labels, names, meta)


def read_npz(path: Path) -> SpectralImage:
    path = Path(path)
    check_npz(path)  # zip signature, no pickles, sizes checked before decompressing
    try:
        with np.load(path, allow_pickle=False) as z:
            keys = set(z.files)
            if "data" not in keys:
                raise SpectralFileError(
                    f"{path}: no 'data' array inside (found {sorted(keys) or 'nothing'}); "
                    "expected keys data, wavelengths, labels, label_names"
                )
            arr = z["data"]
            wl = z["wavelengths"] if "wavelengths" in keys else None
            labels = z["labels"] if "labels" in keys else None
            names_raw = str(z["label_names"]) if "label_names" in keys else None
            meta_raw = str(z["metadata"]) if "metadata" in keys else None
    except SpectralFileError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise SpectralFileError(f"{path}: not a readable .npz archive ({exc})") from exc
    _check_array(path, arr)
    names = parse_label_names(names_raw, path) if names_raw else None
    if labels is None:
        labels, side_names = read_label_sidecars(path)
        names = names or side_names
    meta = {}
    if meta_raw:
        try:
            meta = dict(json.loads(meta_raw))
        except Exception as exc:  # noqa: BLE001
            raise SpectralFileError(f"{path}: 'metadata' is not a JSON object ({exc})") from exc
    meta["format"] = "npz"
    return finish_image(path, arr, wl, labels, names, meta)


def write_npy(path: Path, image: SpectralImage, overwrite: bool = False) -> list[Path]:
    """The cube as ``.npy`` plus ``<stem>_wavelengths.json``."""
    path = Path(path)
    with atomic_targets(path, overwrite=overwrite) as (tmp,), open(tmp, "wb") as fh:
        np.save(fh, np.asarray(image.data, dtype=np.float32), allow_pickle=False)
    return [path, write_wavelength_sidecar(path, image, overwrite=True)]


def write_npz(path: Path, image: SpectralImage, overwrite: bool = False) -> list[Path]:
    """Everything in one ``.npz``: data, wavelengths, labels, label_names, metadata."""
    path = Path(path)
    arrays = {
        "data": np.asarray(image.data, dtype=np.float32),
        "wavelengths": np.asarray(image.wavelengths, dtype=np.float64),
        "metadata": np.array(
            json.dumps(
                json_safe(
                    {k: v for k, v in image.metadata.items() if k not in ("source", "format")}
                )
            )
        ),
    }
    if image.labels is not None:
        arrays["labels"] = np.asarray(image.labels)
    if image.label_names:
        arrays["label_names"] = np.array(json.dumps(names_to_json(image.label_names)))
    with atomic_targets(path, overwrite=overwrite) as (tmp,), open(tmp, "wb") as fh:
        np.savez(fh, **arrays)
    return [path]
