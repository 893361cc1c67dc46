"""Multi-page TIFF: one page per band, ``(bands, y, x)``, via ``tifffile``.

Wavelengths come from the JSON metadata that ``tifffile`` writes into the first page's
description (``{"wavelengths": [...]}``, which our writer produces), else from a
``<stem>_wavelengths.json`` / ``.txt`` sidecar. Uncompressed files are memory-mapped.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._common import (
    atomic_targets,
    finish_image,
    json_safe,
    read_label_sidecars,
    read_wavelength_sidecar,
)
from ._image import SpectralFileError, SpectralImage
from ._safety import check_numeric, check_tiff_series

_RESERVED = ("shape", "axes", "wavelengths", "wavelength")


def read_tiff(path: Path) -> SpectralImage:
    import tifffile

    path = Path(path)
    try:
        with tifffile.TiffFile(path) as tf:
            series = tf.series[0]
            axes = series.axes
            shaped = dict(tf.shaped_metadata[0]) if tf.shaped_metadata else {}
            try:
                data = tifffile.memmap(path, mode="r")
            except Exception:  # noqa: BLE001 - compressed or tiled: read into memory
                check_tiff_series(path, series)  # decoded size vs budget and bytes stored
                data = series.asarray()
    except SpectralFileError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise SpectralFileError(f"{path}: not a readable TIFF ({exc})") from exc
    check_numeric(path, data.dtype)
    if data.ndim == 2:
        data = data[None]
    elif data.ndim == 3 and axes.endswith("S"):  # colour samples last: bands first
        data = np.moveaxis(data, -1, 0)
    if data.ndim not in (3, 4):
        raise SpectralFileError(f"{path}: expected pages of (bands, y, x), got shape {data.shape}")
    wl = shaped.get("wavelengths", shaped.get("wavelength"))
    meta: dict = {}
    if wl is None:
        wl, meta = read_wavelength_sidecar(path)
    meta.update({k: v for k, v in shaped.items() if k not in _RESERVED})
    labels, names = read_label_sidecars(path)
    return finish_image(path, data, wl, labels, names, {**meta, "format": "tiff"})


def write_tiff(path: Path, image: SpectralImage, overwrite: bool = False) -> list[Path]:
    """Write one float32 page per band with wavelengths and metadata in the description."""
    import tifffile

    path = Path(path)
    meta = json_safe({k: v for k, v in image.metadata.items() if k not in ("source", "format")})
    meta = {k: v for k, v in meta.items() if k not in _RESERVED}
    meta["wavelengths"] = [float(w) for w in image.wavelengths]
    data = np.asarray(image.data, dtype=np.float32)
    with atomic_targets(path, overwrite=overwrite) as (tmp,), open(tmp, "wb") as fh:
        tifffile.imwrite(fh, data, metadata=meta, photometric="minisblack")
    return [path]
