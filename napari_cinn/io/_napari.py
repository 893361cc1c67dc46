"""napari reader and writers (npe2 commands named in ``napari.yaml``).

The reader answers ``None`` for files that are not spectral images (so other plugins may try),
and for a file it should read but cannot, shows a napari notification with the reason and adds
nothing (instead of a traceback). Writers refuse to overwrite and write atomically.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from . import READ_EXTENSIONS, SpectralFileError, read_spectral, write_spectral
from ._layers import image_from_layer, layer_tuples

LayerData = list[tuple[Any, ...]]
#: napari's sentinel for "read fine, nothing to add"
_NOTHING: LayerData = [(None,)]


def _looks_spectral(path: Path) -> bool:
    """Cheap sniff for generic extensions that other readers also claim."""
    from . import ENVI_DATA_EXTENSIONS
    from ._envi_layouts import header_beside

    ext = path.suffix.lower()
    if ext == ".hdr":
        return True
    if ext in (*ENVI_DATA_EXTENSIONS, ".dat") and header_beside(path) is not None:
        return True  # an ENVI data file with its header beside it
    if ext in ENVI_DATA_EXTENSIONS:
        return False  # .img/.raw without a header: some other format
    try:
        if ext == ".npy":
            with open(path, "rb") as fh:
                version = np.lib.format.read_magic(fh)
                if version == (1, 0):
                    shape = np.lib.format.read_array_header_1_0(fh)[0]
                else:
                    shape = np.lib.format.read_array_header_2_0(fh)[0]
            return len(shape) in (3, 4) or (
                len(shape) == 2 and (shape[1] in (16, 100) or _has_wl_sidecar(path))
            )
        if ext == ".npz":
            with np.load(path, allow_pickle=False) as z:
                return "data" in z.files or "reconstruction" in z.files
        if ext == ".dat":
            head = np.fromfile(path, dtype=">i4", count=3)
            size = path.stat().st_size
            return (
                head.size == 3
                and bool(np.all(head > 0))
                and size >= 12 + 4 * int(np.prod(head.astype(np.int64))) - 4096
            )  # a little short still counts: reading says "truncated"
        if ext in (".tif", ".tiff"):
            import tifffile

            with tifffile.TiffFile(path) as tf:
                shaped = tf.shaped_metadata[0] if tf.shaped_metadata else {}
                return "wavelengths" in shaped or len(tf.pages) > 1 or _has_wl_sidecar(path)
        if ext in (".h5", ".hdf5"):
            import h5py

            from ._hdf5 import FIELDS

            with h5py.File(path, "r") as fh:
                return "data" in fh or "recons" in fh or any(f in fh for f in FIELDS)
    except Exception:  # noqa: BLE001 - broken generic files: our format? ask the full reader
        return ext in (".npz", ".dat") and path.exists()
    return False


def _has_wl_sidecar(path: Path) -> bool:
    return any(
        path.with_name(path.stem + s).exists() for s in ("_wavelengths.json", "_wavelengths.txt")
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
        image = read_spectral(p)
    except SpectralFileError as exc:
        _notify_error(str(exc))
        return _NOTHING
    except (OSError, MemoryError) as exc:
        _notify_error(f"{p}: cannot read ({exc})")
        return _NOTHING
    if "wavelengths_assumed" in image.metadata:
        _notify_warning(f"{p.name}: {image.metadata['wavelengths_assumed']}")
    for note in image.metadata.get("notes", []):
        _notify_warning(f"{p.name}: {note}")
    return layer_tuples(image, p.stem)


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
