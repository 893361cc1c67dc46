"""ENVI ``.hdr`` + raw data cubes, memory-mapped (headers parsed by ``spectral``).

On disk ENVI stores (lines, samples, bands) in BSQ/BIL/BIP interleave; we expose ``(bands, y, x)``
without reading the data: a memmap view in BSQ order, wrapped in a :class:`LazyCube` only when
the values need converting (other dtype, scale factor, ``data ignore value`` → NaN) or the bands
need sorting. ESRI ``LAYOUT`` headers, headers without ``byte order`` and data files opened
directly are handled in :mod:`._envi_layouts`.
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
from ._envi_layouts import data_beside, header_beside, read_header
from ._image import LazyCube, SpectralFileError, SpectralImage

#: header keys copied into SpectralImage.metadata (and written back)
META_KEYS = ("domain", "subject", "source", "description")


def _centers(header: dict) -> list[float] | None:
    """The header's ``wavelength`` list as floats, or None (absent or not numbers)."""
    try:
        return [float(v) for v in header["wavelength"]] if "wavelength" in header else None
    except (TypeError, ValueError):
        return None


def _wavelengths_nm(header: dict, path: Path, n_bands: int) -> tuple[np.ndarray, dict]:
    extra: dict = {}
    centers = _centers(header)
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


def _locate(path: Path) -> tuple[Path, Path, dict, list[str]]:
    """(header, data file, header dict, notes) for a header or a data file given by the user."""
    if path.suffix.lower() == ".hdr":
        hdr = path
        header, notes = read_header(hdr)
        data_path = data_beside(hdr, header)
        if data_path is None:
            raise SpectralFileError(
                f"{path}: no data file found beside the header (looked for {path.stem}.img, "
                ".dat, .raw, .bil ...)"
            )
    else:
        hdr = header_beside(path)
        if hdr is None:
            raise SpectralFileError(
                f"{path}: a raw data file needs its header beside it ({path.stem}.hdr); none found"
            )
        header, notes = read_header(hdr)
        data_path = path
    return hdr, data_path, header, notes


def _memmap(hdr: Path, data_path: Path, header: dict) -> np.ndarray:
    """The data as a read-only ``(bands, rows, cols)`` memmap view, whatever the interleave."""
    from spectral.io.envi import envi_to_dtype

    try:
        rows, cols, bands = (int(header[k]) for k in ("lines", "samples", "bands"))
        offset = int(header.get("header offset", 0))
        order = int(header["byte order"])
    except (TypeError, ValueError) as exc:
        raise SpectralFileError(
            f"{hdr}: lines/samples/bands/offset must be integers ({exc})"
        ) from None
    if min(rows, cols, bands) < 1 or offset < 0 or order not in (0, 1):
        raise SpectralFileError(
            f"{hdr}: header sizes lines={rows}, samples={cols}, bands={bands}, offset={offset}, "
            f"byte order={order} are not valid"
        )
    code = str(header["data type"]).strip()
    if code not in envi_to_dtype:
        raise SpectralFileError(f"{hdr}: ENVI data type {code} is not supported")
    dtype = np.dtype(envi_to_dtype[code]).newbyteorder(">" if order == 1 else "<")
    inter = str(header.get("interleave", "bsq")).strip().lower()
    shapes = {"bsq": (bands, rows, cols), "bil": (rows, bands, cols), "bip": (rows, cols, bands)}
    if inter not in shapes:
        raise SpectralFileError(f"{hdr}: interleave {inter!r} is not bsq, bil or bip")
    expected_size_check(data_path, offset + rows * cols * bands * dtype.itemsize, "image data")
    try:
        mm = np.memmap(data_path, dtype=dtype, mode="r", offset=offset, shape=shapes[inter])
    except (OSError, ValueError) as exc:
        raise SpectralFileError(f"{data_path}: cannot memory-map the data ({exc})") from None
    axes = {"bsq": (0, 1, 2), "bil": (1, 0, 2), "bip": (2, 0, 1)}[inter]
    return mm.transpose(axes)


def _ignore_value(hdr: Path, header: dict) -> float | None:
    raw = header.get("data ignore value")
    if raw is None or str(raw).strip() == "":
        return None
    try:
        return float(str(raw).strip())
    except ValueError:
        raise SpectralFileError(f"{hdr}: 'data ignore value' {raw!r} is not a number") from None


def read_envi(path: Path) -> SpectralImage:
    """Read an ENVI cube memory-mapped, from its ``.hdr`` or from its data file."""
    path = Path(path)
    hdr, data_path, header, notes = _locate(path)
    mm = _memmap(hdr, data_path, header)
    n_bands = mm.shape[0]
    wl, extra = _wavelengths_nm(header, hdr, n_bands)
    order = None
    if wl.size > 1 and not np.all(np.diff(wl) > 0):
        order = np.argsort(wl, kind="stable")
        if not np.all(np.diff(wl[order]) > 0):
            raise SpectralFileError(f"{hdr}: the header lists the same wavelength twice")
        wl = wl[order]
        extra["bands_sorted_from_file_order"] = True
    try:
        scale = float(header.get("reflectance scale factor", 1.0) or 1.0)
    except ValueError:
        raise SpectralFileError(f"{hdr}: 'reflectance scale factor' is not a number") from None
    if not np.isfinite(scale) or scale == 0:
        raise SpectralFileError(f"{hdr}: 'reflectance scale factor' {scale} cannot divide the data")
    nodata = _ignore_value(hdr, header)
    data = mm
    native = mm.dtype == np.dtype(np.float32)
    if order is not None or scale != 1.0 or not native or nodata is not None:
        data = LazyCube(mm, band_order=order, scale=scale, nodata=nodata)
    labels, names = read_label_sidecars(hdr)
    meta = {"source": str(path), "format": "envi", "interleave": header.get("interleave")}
    meta.update(extra)
    if nodata is not None:
        meta["data_ignore_value"] = nodata
        notes.append(f"pixels equal to the data ignore value {nodata:g} are shown as NaN")
    if data_path != path:
        meta["data_file"] = str(data_path)
    if notes:
        meta["notes"] = notes
    for key in META_KEYS:
        if key in header and isinstance(header[key], str):
            meta[key] = header[key].strip()
    meta.setdefault("domain", guess_domain(hdr))
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
