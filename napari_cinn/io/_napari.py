"""napari reader and writers (npe2 commands named in ``napari.yaml``).

The reader answers ``None`` for files that are not spectral images (so other plugins may try),
and for a file it should read but cannot, shows a napari notification with the reason and adds
nothing (instead of a traceback). Writers refuse to overwrite and write atomically.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from . import READ_EXTENSIONS, SpectralFileError, read_spectral, write_spectral
from ._layers import image_from_layer, layer_tuples

LayerData = list[tuple[Any, ...]]
#: napari's sentinel for "read fine, nothing to add"
_NOTHING: LayerData = [(None,)]


def _colour_like(shape: tuple[int, ...], dtype) -> bool:
    """An RGB(A) picture rather than a cube: ``(y, x, 3|4)``, or 8-bit ``(3|4, y, x)``."""
    if len(shape) == 3 and shape[-1] in (3, 4) and shape[0] > 4:
        return True
    return len(shape) == 3 and shape[0] in (3, 4) and np.dtype(dtype) == np.uint8


def _cube_shape_ok(shape: tuple[int, ...], dtype, has_wavelengths: bool) -> bool:
    if len(shape) not in (3, 4) or min(shape, default=0) < 1:
        return False
    if np.dtype(dtype).kind not in "biuf":
        return False
    return has_wavelengths or not _colour_like(shape, dtype)


_ESRI_FIRST = re.compile(r"^(BYTEORDER|LAYOUT|NROWS|NCOLS|NBANDS|NBITS)\b", re.IGNORECASE)


def _looks_spectral(path: Path) -> bool:
    """What napari-cinn claims in the viewer (all else is left to other readers).

    - ``.hdr``: a text header whose first line starts with ``ENVI`` or an ESRI keyword
      (``LAYOUT``, ``NROWS`` ...), not e.g. a binary Analyze header; an ENVI data file
      (``.img``, ``.raw``, ``.bil`` ... or ``.dat``) with its header beside it;
    - ``.dat``: three plausible big-endian sizes and about the bytes they describe (Tivita);
    - ``.npy`` / ``.npz`` (``data`` member): a 3-D or 4-D numeric array that is not a colour
      picture — ``(y, x, 3|4)`` or 8-bit ``(3|4, y, x)`` are RGB(A) unless wavelengths come with
      it (a ``_wavelengths`` sidecar, or a ``wavelengths`` member in the ``.npz``); a 2-D
      ``.npy`` table of spectra with 16 or 100 columns (or a sidecar); a patato ``.npz``;
    - ``.tif`` / ``.tiff``: wavelengths in the description (as our writer stores them) or in a
      sidecar; a multi-page grey TIFF without them is a z-stack or a time series, not a cube;
    - ``.h5`` / ``.hdf5``: a top-level 3-D/4-D ``data`` dataset, a SIMPA data group or a patato
      ``recons`` group, reached through hard links only.

    Only headers are read. A file that passes is then read fully; if that fails, the user gets
    one notification with the reason (instead of "no reader found").
    """
    from . import ENVI_DATA_EXTENSIONS
    from ._envi_layouts import header_beside
    from ._safety import NPY_MAGIC

    ext = path.suffix.lower()
    try:
        if ext == ".hdr":
            with open(path, "rb") as fh:
                first = fh.read(256).split(b"\n", 1)[0].decode("latin-1").strip()
            return first.startswith("ENVI") or bool(_ESRI_FIRST.match(first))
        if ext in (*ENVI_DATA_EXTENSIONS, ".dat") and header_beside(path) is not None:
            return True  # an ENVI data file with its header beside it
        if ext in ENVI_DATA_EXTENSIONS:
            return False  # .img/.raw without a header: some other format
        if ext == ".dat":
            head = np.fromfile(path, dtype=">i4", count=3)
            size = path.stat().st_size
            return (
                head.size == 3
                and bool(np.all((head > 0) & (head <= 100_000)))
                and size >= 12 + 4 * int(np.prod(head.astype(np.int64))) - 4096
            )  # a little short still counts: reading says "truncated"
        if ext == ".npy":
            with open(path, "rb") as fh:
                if fh.read(6) != NPY_MAGIC:
                    return False
                fh.seek(0)
                shape, dtype = _npy_header(fh)
            if len(shape) == 2:
                return shape[1] in (16, 100) or _has_wl_sidecar(path)
            return _cube_shape_ok(shape, dtype, _has_wl_sidecar(path))
        if ext == ".npz":
            import zipfile

            with zipfile.ZipFile(path) as zf:
                names = set(zf.namelist())
                if "reconstruction.npy" in names:
                    return True
                if "data.npy" not in names:
                    return False
                with zf.open("data.npy") as fh:
                    shape, dtype = _npy_header(fh)
            return _cube_shape_ok(shape, dtype, "wavelengths.npy" in names)
        if ext in (".tif", ".tiff"):
            import tifffile

            with tifffile.TiffFile(path) as tf:
                shaped = tf.shaped_metadata[0] if tf.shaped_metadata else {}
                has_wl = "wavelengths" in shaped or "wavelength" in shaped
            return has_wl or _has_wl_sidecar(path)
        if ext in (".h5", ".hdf5"):
            import h5py

            from ._hdf5 import FIELDS

            with h5py.File(path, "r") as fh:
                data = _hard_node(fh, "data")
                if isinstance(data, h5py.Dataset):
                    return len(data.shape or ()) in (3, 4)
                groups = (*FIELDS, "recons")
                return any(isinstance(_hard_node(fh, f), h5py.Group) for f in groups)
    except Exception:  # noqa: BLE001 - unreadable headers: not ours to claim
        return False
    return False


def _hard_node(fh, name: str):
    """The object at ``name`` if every step there is a hard link (no external/soft links)."""
    import h5py

    node = fh
    for part in name.split("/"):
        if not isinstance(node, h5py.Group):
            return None
        if not isinstance(node.get(part, getlink=True), h5py.HardLink):
            return None
        node = node[part]
    return node


def _npy_header(fh) -> tuple[tuple[int, ...], np.dtype]:
    fmt = np.lib.format
    version = fmt.read_magic(fh)
    reader = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
    shape, _, dtype = reader(fh)
    return tuple(shape), dtype


def _has_wl_sidecar(path: Path) -> bool:
    return any(
        path.with_name(path.stem + s).is_file() for s in ("_wavelengths.json", "_wavelengths.txt")
    )


def get_reader(path: str | list[str]) -> Callable[[Any], LayerData] | None:
    """npe2 reader contribution: a reader function for spectral files, else None."""
    if isinstance(path, list):
        if len(path) != 1:
            return None
        path = path[0]
    p = Path(path)
    if p.suffix.lower() not in READ_EXTENSIONS or not p.is_file():
        return None
    if not _looks_spectral(p):
        return None
    return read_layers


def read_layers(path: str | list[str]) -> LayerData:
    """Read one spectral file into an Image layer (+ a Labels layer when labels lie beside it)."""
    if isinstance(path, list):
        path = path[0]
    p = Path(path)
    try:
        image = read_spectral(p)  # raises SpectralFileError only
        layers = layer_tuples(image, p.stem)
    except SpectralFileError as exc:
        _notify_error(str(exc))
        return _NOTHING
    except Exception as exc:  # noqa: BLE001 - one notification, never a traceback
        _notify_error(f"{p}: cannot show this file ({type(exc).__name__}: {exc})")
        return _NOTHING
    if "wavelengths_assumed" in image.metadata:
        _notify_warning(f"{p.name}: {image.metadata['wavelengths_assumed']}")
    for note in image.metadata.get("notes", []):
        _notify_warning(f"{p.name}: {note}")
    return layers


def _notify_error(msg: str) -> None:
    from napari.utils.notifications import show_error

    show_error(msg)


def _notify_warning(msg: str) -> None:
    from napari.utils.notifications import show_warning

    show_warning(msg)


def _write(path: str, data: Any, attributes: dict, ext: tuple[str, ...]) -> list[str]:
    p = Path(path)
    if p.suffix.lower() not in ext:
        p = p.with_suffix(ext[0])
    image = image_from_layer(data, attributes, p)
    return [str(f) for f in write_spectral(p, image)]


def write_envi(path: str, data: Any, attributes: dict) -> list[str]:
    """Save a spectral Image layer as ENVI ``.hdr`` + ``.img`` with its wavelengths."""
    return _write(path, data, attributes, (".hdr",))


def write_npy(path: str, data: Any, attributes: dict) -> list[str]:
    """Save a spectral Image layer as ``.npy`` plus ``<stem>_wavelengths.json``."""
    return _write(path, data, attributes, (".npy",))


def write_tiff(path: str, data: Any, attributes: dict) -> list[str]:
    """Save a spectral Image layer as a multi-page TIFF with wavelengths in its metadata."""
    return _write(path, data, attributes, (".tif", ".tiff"))
