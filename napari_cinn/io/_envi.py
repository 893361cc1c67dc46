"""ENVI ``.hdr`` + raw data cubes via the ``spectral`` package, memory-mapped.

On disk ENVI stores (lines, samples, bands) in BSQ/BIL/BIP interleave; we expose ``(bands, y, x)``
without reading the data: a memmap view in BSQ order, wrapped in a :class:`LazyCube` only when
the values need converting (other dtype, scale factor) or the bands need sorting.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from ._common import (
    assumed_wavelengths,
    atomic_targets,
    expected_size_check,
    guess_domain,
    read_label_sidecars,
)
from ._image import LazyCube, SpectralFileError, SpectralImage

#: header keys copied into SpectralImage.metadata (and written back)
META_KEYS = ("domain", "subject", "source", "description")


def _wavelengths_nm(img, header: dict, path: Path, n_bands: int) -> tuple[np.ndarray, dict]:
    extra: dict = {}
    centers = img.bands.centers
    if "wavelength" in header and centers is None:
        raise SpectralFileError(f"{path}: the 'wavelength' field is not a list of numbers")
    if centers is None:
        wl, note = assumed_wavelengths(n_bands)
        extra["wavelengths_assumed"] = note
        return wl, extra
    wl = np.asarray(centers, dtype=np.float64)
    if wl.size != n_bands:
        raise SpectralFileError(
            f"{path}: the header lists {wl.size} wavelengths for {n_bands} bands"
        )
    if not np.all(np.isfinite(wl)):
        raise SpectralFileError(f"{path}: the header's wavelengths contain NaN or infinite values")
    unit = str(header.get("wavelength units", "")).strip().lower()
    if unit in ("micrometers", "micrometer", "microns", "micron", "um", "µm") or (
        unit in ("", "unknown") and wl.max() < 30
    ):
        wl = wl * 1000.0
    elif unit in ("wavenumber", "index", "ghz", "mhz"):
        raise SpectralFileError(f"{path}: wavelength units {unit!r} are not supported (need nm)")
    return wl, extra


def read_envi(path: Path) -> SpectralImage:
    """Read an ENVI cube memory-mapped; see the module docstring for the layout."""
    from ._envi_header import open_envi

    path = Path(path)
    try:
        img = open_envi(path)  # linear-time header parse, sizes and data file checked
    except SpectralFileError:
        raise
    except Exception as exc:  # noqa: BLE001 - spectral raises many types for bad headers
        raise SpectralFileError(f"{path}: not a readable ENVI header ({exc})") from exc
    if not hasattr(img, "open_memmap"):
        raise SpectralFileError(f"{path}: ENVI spectral libraries are not images")
    header = img.metadata
    n_rows, n_cols, n_bands = (int(v) for v in img.shape)
    expected = int(img.offset) + n_rows * n_cols * n_bands * int(img.sample_size)
    expected_size_check(Path(img.filename), expected, "image data")
    wl, extra = _wavelengths_nm(img, header, path, n_bands)
    try:
        mm = img.open_memmap(interleave="bsq")  # (bands, rows, cols), no data read
    except Exception as exc:  # noqa: BLE001
        raise SpectralFileError(f"{path}: cannot memory-map the data ({exc})") from exc
    order = None
    if wl.size > 1 and not np.all(np.diff(wl) > 0):
        order = np.argsort(wl, kind="stable")
        if not np.all(np.diff(wl[order]) > 0):
            raise SpectralFileError(f"{path}: the header lists the same wavelength twice")
        wl = wl[order]
        extra["bands_sorted_from_file_order"] = True
    scale = float(getattr(img, "scale_factor", 1.0) or 1.0)
    data = mm
    if order is not None or scale != 1.0 or mm.dtype != np.dtype(np.float32):
        data = LazyCube(mm, band_order=order, scale=scale)
    labels, names = read_label_sidecars(path)
    meta = {"source": str(path), "format": "envi", "interleave": header.get("interleave")}
    meta.update(extra)
    for key in META_KEYS:
        if key in header and isinstance(header[key], str):
            meta[key] = header[key].strip()
    meta.setdefault("domain", guess_domain(path))
    if meta["domain"] is None:
        del meta["domain"]
    try:
        return SpectralImage(data, wl, labels, names, meta)
    except ValueError as exc:
        raise SpectralFileError(f"{path}: {exc}") from exc


def write_envi(path: Path, image: SpectralImage, overwrite: bool = False) -> list[Path]:
    """Write ``image`` as ``<stem>.hdr`` + ``<stem>.img`` (float32, BSQ) with wavelengths.

    Both files are written in a temporary folder beside the target and renamed when complete.
    """
    from spectral.io import envi

    path = Path(path)
    if len(image.shape) != 3:
        raise SpectralFileError(f"{path}: ENVI holds (bands, y, x) cubes, got shape {image.shape}")
    img_path = path.with_suffix(".img")
    meta = {
        "wavelength": [f"{w:.12g}" for w in image.wavelengths],
        "wavelength units": "Nanometers",
    }
    for key in META_KEYS:
        value = image.metadata.get(key)
        if isinstance(value, str) and value and "\n" not in value and "{" not in value:
            meta[key] = value
    with atomic_targets(img_path, path, overwrite=overwrite) as (tmp_img, tmp_hdr):
        workdir = Path(tempfile.mkdtemp(prefix=f".{path.stem}.", dir=path.parent))
        try:
            cube = np.moveaxis(np.asarray(image.data, dtype=np.float32), 0, -1)  # (y, x, bands)
            envi.save_image(
                str(workdir / "cube.hdr"),
                cube,
                metadata=meta,
                interleave="bsq",
                ext=".img",
                dtype=np.float32,
                byteorder=0,
                force=True,
            )
            os.replace(workdir / "cube.img", tmp_img)
            os.replace(workdir / "cube.hdr", tmp_hdr)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    return [path, img_path]
