"""Tivita-style ``.dat`` HSI cubes, memory-mapped.

Layout (as documented in IMSY-DKFZ/htc, MIT): three big-endian int32 giving the stored shape
``(x, y, bands)``, then big-endian float32 values in C order. The stored y axis is flipped with
respect to the camera's RGB image; reading flips it back and swaps x/y, giving ``(y, x, bands)``,
which we expose as ``(bands, y, x)``. The camera has 100 bands; htc uses ``linspace(500, 1000,
100)``, we use the project grid 500–995 nm in 5 nm steps (:data:`HSI_WAVELENGTHS`) by default so
that models trained on it match; ``grid="htc"`` gives htc's grid, and ``metadata["wavelength_grid"]``
says which was used. A ``<stem>_wavelengths.json`` sidecar overrides both.

In the HeiPorSPECTRAL layout (:mod:`._heiporspectral`) the subject comes from the folder and the
annotation PNGs become the labels (``annotator=`` picks whose).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._common import (
    atomic_targets,
    expected_size_check,
    finish_image,
    read_label_sidecars,
    read_wavelength_sidecar,
)
from ._image import LazyCube, SpectralFileError, SpectralImage

HEADER_BYTES = 12
#: Tivita wavelength grids by name: (wavelengths, description for the layer metadata)
GRIDS = {
    "project": (None, "project grid 500–995 nm in 5 nm steps"),
    "htc": (np.linspace(500, 1000, 100), "htc grid linspace(500, 1000, 100)"),
}


def _grid(path: Path, grid: str | None) -> tuple[np.ndarray, str]:
    name = "project" if grid is None else str(grid).lower()
    if name not in GRIDS:
        raise SpectralFileError(f"{path}: unknown wavelength grid {grid!r}; use 'project' or 'htc'")
    wl, text = GRIDS[name]
    if wl is None:
        from napari_cinn.core.spectra import HSI_WAVELENGTHS

        wl = HSI_WAVELENGTHS
    return np.array(wl, dtype=np.float64), text


def read_tivita(
    path: Path, *, labels: bool = True, annotator: str | None = None, grid: str | None = None
) -> SpectralImage:
    """Read a Tivita cube (and its HeiPorSPECTRAL subject and annotations); see the module doc."""
    from ._heiporspectral import read_annotations, subject_of

    path = Path(path)
    size = path.stat().st_size
    if size < HEADER_BYTES:
        raise SpectralFileError(f"{path} is truncated: shorter than the 12-byte Tivita header")
    shape = tuple(int(v) for v in np.fromfile(path, dtype=">i4", count=3))
    if any(s < 1 or s > 100_000 for s in shape):
        raise SpectralFileError(
            f"{path}: not a Tivita cube (header shape {shape} is not three positive sizes)"
        )
    expected_size_check(path, HEADER_BYTES + 4 * int(np.prod(shape)), "float32 data")
    raw = np.memmap(path, dtype=">f4", mode="r", offset=HEADER_BYTES, shape=shape)
    cube = np.swapaxes(np.flip(raw, axis=1), 0, 1)  # (y, x, bands), still a view
    data = LazyCube(np.moveaxis(cube, -1, 0))  # (bands, y, x), converted per read
    wl, meta = read_wavelength_sidecar(path)
    if wl is not None:
        meta["wavelength_grid"] = f"from {path.stem}_wavelengths sidecar"
    elif shape[2] == 100:
        wl, meta["wavelength_grid"] = _grid(path, grid)
    elif grid is not None:
        raise SpectralFileError(f"{path}: grid={grid!r} needs a 100-band cube, this has {shape[2]}")
    mask = names = None
    if labels:
        mask, names = read_label_sidecars(path)
        if mask is None:
            mask, names, ann_meta = read_annotations(path, data.shape[1:], annotator)
            meta.update(ann_meta)
    subject = subject_of(path)
    if subject is not None:
        meta.setdefault("subject", subject)
        meta["layout"] = "HeiPorSPECTRAL"
    return finish_image(path, data, wl, mask, names, {**meta, "format": "tivita"})


def write_tivita(path: Path, image: SpectralImage, overwrite: bool = False) -> list[Path]:
    """Write a ``(bands, y, x)`` cube in the Tivita layout (wavelengths are not stored)."""
    path = Path(path)
    if len(image.shape) != 3:
        raise SpectralFileError(f"{path}: Tivita files hold (bands, y, x) cubes, got {image.shape}")
    cube = np.moveaxis(np.asarray(image.data, dtype=np.float32), 0, -1)  # (y, x, bands)
    raw = np.flip(np.swapaxes(cube, 0, 1), axis=1)  # stored (x, y flipped, bands)
    with atomic_targets(path, overwrite=overwrite) as (tmp,), open(tmp, "wb") as fh:
        np.asarray(raw.shape, dtype=">i4").tofile(fh)
        np.ascontiguousarray(raw, dtype=">f4").tofile(fh)
    return [path]
