"""Tivita-style ``.dat`` HSI cubes, memory-mapped.

Layout (as documented in IMSY-DKFZ/htc, MIT): three big-endian int32 giving the stored shape
``(x, y, bands)``, then big-endian float32 values in C order. The stored y axis is flipped with
respect to the camera's RGB image; reading flips it back and swaps x/y, giving ``(y, x, bands)``,
which we expose as ``(bands, y, x)``. The camera has 100 bands; htc uses ``linspace(500, 1000,
100)``, we use the project grid 500–995 nm in 5 nm steps (:data:`HSI_WAVELENGTHS`) so that models
trained on it match. A ``<stem>_wavelengths.json`` sidecar overrides the grid.
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


def read_tivita(path: Path) -> SpectralImage:
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
    if wl is None and shape[2] == 100:
        from napari_cinn.core.spectra import HSI_WAVELENGTHS

        wl = HSI_WAVELENGTHS.copy()
    labels, names = read_label_sidecars(path)
    return finish_image(path, data, wl, labels, names, {**meta, "format": "tivita"})


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
