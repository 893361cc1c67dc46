"""NumPy ``.npy`` (memory-mapped, wavelengths in a sidecar) and ``.npz`` (everything inside) files.

``.npz`` keys: ``data`` (bands, y, x), optional ``wavelengths`` (bands,), ``labels`` (y, x),
``label_names`` and ``metadata`` (JSON strings). ``.npy`` holds the cube only; wavelengths come
from ``<stem>_wavelengths.json`` and labels from ``<stem>_labels.npy`` / ``<stem>_labels.json``.

The UDT-cINN paper's files (:mod:`._udt`) open too: PAT ``.npz`` with ``reconstruction`` /
``segmentation`` / ``oxygenation``, and ``(n, bands)`` spectra tables as ``(bands, 1, n)`` images.
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


def _check_array(path: Path, arr) -> None:
    if arr.ndim not in (3, 4):
        raise SpectralFileError(
            f"{path}: expected a (bands, y, x) or (bands, z, y, x) array, got shape {arr.shape}"
        )
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise SpectralFileError(f"{path}: expected numbers, got dtype {arr.dtype}")


def _table_bands(path: Path, arr, wl) -> bool:
    """Whether a 2-D array is an ``(n, bands)`` spectra table (a known band count or a sidecar)."""
    from napari_cinn.core.spectra import HSI_WAVELENGTHS, PAT_WAVELENGTHS

    if arr.ndim != 2:
        return False
    if wl is not None:
        return arr.shape[1] == np.size(wl)
    return arr.shape[1] in (HSI_WAVELENGTHS.size, PAT_WAVELENGTHS.size)


def read_npy(path: Path, *, labels: bool = True) -> SpectralImage:
    from ._udt import subject_of_table, table_labels

    path = Path(path)
    try:
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
    except Exception as exc:  # noqa: BLE001 - truncated, not .npy, object arrays ...
        raise SpectralFileError(f"{path}: not a readable .npy array ({exc})") from exc
    wl, meta = read_wavelength_sidecar(path)
    mask = names = None
    if _table_bands(path, arr, wl):  # (n, bands) spectra: one row of n pixels
        meta = {**meta, "format": "npy-spectra", "spectra": int(arr.shape[0])}
        subject = subject_of_table(path)
        if subject:
            meta.setdefault("subject", subject)
        if labels:
            mask, names = table_labels(path, arr.shape[0])
        arr = arr.T[:, None, :]
    else:
        _check_array(path, arr)
        meta = {**meta, "format": "npy"}
    if mask is None and labels:
        mask, names = read_label_sidecars(path)
    return finish_image(path, arr, wl, mask, names, meta)


def _read_udt_npz(path: Path, z, keys: set[str], labels: bool) -> SpectralImage:
    """The UDT-cINN paper's PAT ``.npz`` (reconstruction, segmentation, oxygenation)."""
    from ._udt import PAT_WAVELENGTHS

    arr = np.asarray(z["reconstruction"])
    if arr.ndim == 2:
        arr = arr[None]
    _check_array(path, arr)
    meta: dict = {"format": "udt-cinn-npz"}
    wl = None
    if arr.shape[0] == PAT_WAVELENGTHS.size:
        wl = PAT_WAVELENGTHS
        meta["wavelengths_assumed"] = (
            "no wavelengths in the file: the UDT-cINN PAT grid 700–850 nm (10 nm steps)"
        )
    mask = np.asarray(z["segmentation"]) if labels and "segmentation" in keys else None
    extras = {}
    if "oxygenation" in keys:
        extras["oxygenation"] = np.asarray(z["oxygenation"], dtype=np.float32)
    return finish_image(path, arr, wl, mask, None, meta, extras=extras)


def read_npz(path: Path, *, labels: bool = True) -> SpectralImage:
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            keys = set(z.files)
            if "data" not in keys and "reconstruction" in keys:
                return _read_udt_npz(path, z, keys, labels)
            if "data" not in keys:
                raise SpectralFileError(
                    f"{path}: no 'data' array inside (found {sorted(keys) or 'nothing'}); "
                    "expected keys data, wavelengths, labels, label_names (or the UDT-cINN "
                    "paper's reconstruction, segmentation, oxygenation)"
                )
            arr = z["data"]
            wl = z["wavelengths"] if "wavelengths" in keys else None
            mask = z["labels"] if labels and "labels" in keys else None
            names_raw = str(z["label_names"]) if "label_names" in keys else None
            meta_raw = str(z["metadata"]) if "metadata" in keys else None
    except SpectralFileError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise SpectralFileError(f"{path}: not a readable .npz archive ({exc})") from exc
    _check_array(path, arr)
    names = parse_label_names(names_raw, path) if names_raw else None
    if mask is None and labels:
        mask, side_names = read_label_sidecars(path)
        names = names or side_names
    meta = {}
    if meta_raw:
        try:
            meta = dict(json.loads(meta_raw))
        except Exception as exc:  # noqa: BLE001
            raise SpectralFileError(f"{path}: 'metadata' is not a JSON object ({exc})") from exc
    meta["format"] = "npz"
    return finish_image(path, arr, wl, mask, names, meta)


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
