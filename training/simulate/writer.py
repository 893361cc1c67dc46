"""Write generated subjects in the layout the plugin's readers open (see TEAM.md).

HSI: ENVI ``<stem>.hdr`` + ``<stem>.img`` (float32, BSQ, ``wavelength`` in nm) with label sidecars
``<stem>_labels.npy`` (int mask) and ``<stem>_labels.json`` (``{"0": "unlabelled", ...}``).
PAT: ``<stem>.npz`` with keys ``data`` ``(bands, y, x)``, ``wavelengths``, ``labels``,
``label_names`` (JSON string) and ``metadata`` (JSON string). Every file is written to a temporary
name first and renamed, so a failure never leaves a half-written file behind.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np


def _check_free(paths: list[Path], overwrite: bool) -> None:
    taken = [str(p) for p in paths if p.exists()]
    if taken and not overwrite:
        raise FileExistsError(f"refusing to overwrite {', '.join(taken)} (pass --overwrite)")


def _tmp(path: Path) -> Path:
    return path.with_name(f".tmp-{os.getpid()}-{path.name}")


def write_envi(folder: Path, stem: str, cube: np.ndarray, wavelengths, *,
               overwrite: bool = False) -> list[Path]:
    """Write a ``(bands, y, x)`` cube as ENVI ``<stem>.hdr``/``<stem>.img``; returns both paths."""
    from spectral import envi

    hdr, img = folder / f"{stem}.hdr", folder / f"{stem}.img"
    _check_free([hdr, img], overwrite)
    tmp_hdr = _tmp(hdr)
    tmp_img = tmp_hdr.with_suffix(".img")
    try:
        envi.save_image(str(tmp_hdr), np.ascontiguousarray(np.moveaxis(cube, 0, -1)),
                        dtype=np.float32, interleave="bsq", ext=".img", force=True,
                        metadata={"wavelength": [f"{w:g}" for w in wavelengths],
                                  "wavelength units": "nm"})
        os.replace(tmp_img, img)
        os.replace(tmp_hdr, hdr)
    finally:
        for p in (tmp_hdr, tmp_img):
            p.unlink(missing_ok=True)
    return [hdr, img]


def write_labels(folder: Path, stem: str, labels: np.ndarray, names: dict[int, str], *,
                 overwrite: bool = False) -> list[Path]:
    """Write the sidecars ``<stem>_labels.npy`` and ``<stem>_labels.json``."""
    npy, js = folder / f"{stem}_labels.npy", folder / f"{stem}_labels.json"
    _check_free([npy, js], overwrite)
    tmp = _tmp(npy)
    with open(tmp, "wb") as fh:
        np.save(fh, np.asarray(labels, dtype=np.int32))
    os.replace(tmp, npy)
    tmp = _tmp(js)
    tmp.write_text(json.dumps({str(k): v for k, v in names.items()}, indent=1))
    os.replace(tmp, js)
    return [npy, js]


def write_npz(folder: Path, stem: str, cube: np.ndarray, wavelengths, labels: np.ndarray,
              names: dict[int, str], metadata: dict, *, overwrite: bool = False) -> list[Path]:
    """Write one ``<stem>.npz`` holding cube, wavelengths, labels and the name table."""
    path = folder / f"{stem}.npz"
    _check_free([path], overwrite)
    tmp = _tmp(path)
    try:
        with open(tmp, "wb") as fh:
            np.savez(fh, data=np.asarray(cube, dtype=np.float32),
                     wavelengths=np.asarray(wavelengths, dtype=np.float64),
                     labels=np.asarray(labels, dtype=np.int32),
                     label_names=json.dumps({str(k): v for k, v in names.items()}),
                     metadata=json.dumps(metadata))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return [path]


def write_manifest(path: Path, manifest: dict, *, overwrite: bool = False) -> Path:
    """Write the JSON manifest describing a generated folder."""
    _check_free([path], overwrite)
    tmp = _tmp(path)
    tmp.write_text(json.dumps(manifest, indent=1))
    os.replace(tmp, path)
    return path
