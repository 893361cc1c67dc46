"""Checks shared by the readers so that hostile or broken files fail cleanly and cheaply.

Every check raises :class:`SpectralFileError` naming the file and the problem, and runs *before*
anything large is allocated:

- :func:`regular_file` / :func:`read_small_bytes`: sidecars are opened only when they are regular
  files (a FIFO would block, ``/dev/zero`` would never end) and only up to a size cap;
- :func:`check_in_memory`: a read that decompresses into memory (compressed TIFF, ``.npz``,
  HDF5) must fit the memory budget and must not expand implausibly from the bytes stored;
- :func:`as_wavelengths` / :func:`as_labels`: values of the wrong type give a sentence, not a
  raw ``TypeError``;
- :func:`unexpected`: the last resort of :func:`napari_cinn.io.read_spectral`, marking the error
  so the fuzz tests can count what no check anticipated.

The memory budget for in-memory reads is ``NAPARI_CINN_READ_LIMIT_MB`` (MiB; default: half the
RAM, at most 16 GiB). Memory-mapped formats (ENVI, Tivita, ``.npy``, plain TIFF) allocate nothing
up front and are bounded by the file size instead.
"""

from __future__ import annotations

import math
import os
import stat
from pathlib import Path
from typing import Any

import numpy as np

from ._image import SpectralFileError

#: in-memory reads up to this many bytes (as float32) are never questioned
SMALL_BYTES = 64 * 1024**2
#: beyond SMALL_BYTES, decompressed size may be at most this many times the bytes stored
MAX_EXPANSION = 256
#: sidecars (JSON, text) larger than this are refused
MAX_SIDECAR_BYTES = 16 * 1024**2
#: no axis of a spectral image may be longer than this
MAX_AXIS = 2**31 - 1


def memory_budget() -> int:
    """Bytes an in-memory read may produce (``NAPARI_CINN_READ_LIMIT_MB`` overrides)."""
    env = os.environ.get("NAPARI_CINN_READ_LIMIT_MB", "").strip()
    if env:
        try:
            return max(1, int(float(env) * 1024**2))
        except ValueError:
            pass
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        ram = 8 * 1024**3
    return int(min(16 * 1024**3, ram // 2))


def _mb(n: float) -> str:
    return f"{n / 1024**2:,.1f} MB" if n >= 1024**2 else f"{int(n):,} bytes"


def check_shape(path: Path, shape, what: str = "the data") -> tuple[int, ...]:
    """``shape`` as a tuple of positive ints no longer than :data:`MAX_AXIS`, else raise."""
    try:
        dims = tuple(int(s) for s in shape)
    except (TypeError, ValueError, OverflowError):
        raise SpectralFileError(f"{path}: {what} has no valid shape ({shape!r})") from None
    if any(d < 1 or d > MAX_AXIS for d in dims):
        raise SpectralFileError(
            f"{path}: {what} declares the shape {dims}; every axis must be 1 to {MAX_AXIS:,}"
        )
    return dims


def check_in_memory(path: Path, what: str, n_elements: int, stored_bytes: int | None) -> None:
    """Refuse an in-memory read of ``n_elements`` values decompressed from ``stored_bytes``.

    The limit counts float32 output (what the reader produces). ``stored_bytes=None`` means the
    storage size is unknown: only the budget applies.
    """
    out = int(n_elements) * 4
    budget = memory_budget()
    if out > budget:
        raise SpectralFileError(
            f"{path}: {what} would take {_mb(out)} in memory, more than the read limit of "
            f"{_mb(budget)} (set NAPARI_CINN_READ_LIMIT_MB to raise it)"
        )
    if stored_bytes is not None:
        check_expansion(path, what, n_elements, stored_bytes)


def check_expansion(path: Path, what: str, n_elements: int, stored_bytes: int) -> None:
    """Refuse data that would expand implausibly (beyond :data:`MAX_EXPANSION`) from storage."""
    out = int(n_elements) * 4
    if out > SMALL_BYTES and out > MAX_EXPANSION * max(int(stored_bytes), 1):
        raise SpectralFileError(
            f"{path}: {what} declares {_mb(out)} of values but stores only "
            f"{_mb(stored_bytes)}: refused as implausible (a decompression bomb or a "
            "never-written dataset)"
        )


def regular_file(path: Path, what: str) -> bool:
    """True when ``path`` is a regular file, False when absent; raise for FIFOs, devices, folders."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise SpectralFileError(f"{path}: cannot open {what} ({exc.strerror or exc})") from None
    if not stat.S_ISREG(st.st_mode):
        kind = (
            "a folder"
            if stat.S_ISDIR(st.st_mode)
            else "a FIFO"
            if stat.S_ISFIFO(st.st_mode)
            else "a device or socket"
        )
        raise SpectralFileError(f"{path}: {what} is {kind}, not a regular file; refused")
    return True


def read_small_bytes(path: Path, what: str, limit: int = MAX_SIDECAR_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes (opened without blocking)."""
    if not regular_file(path, what):
        raise SpectralFileError(f"{path}: no such file ({what})")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise SpectralFileError(f"{path}: cannot open {what} ({exc.strerror or exc})") from None
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):  # swapped since the check
            raise SpectralFileError(f"{path}: {what} is not a regular file; refused")
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise SpectralFileError(f"{path}: {what} is larger than {_mb(limit)}; refused")
    return data


def read_small_text(path: Path, what: str, limit: int = MAX_SIDECAR_BYTES) -> str:
    """:func:`read_small_bytes` decoded as UTF-8 (with a sentence when it is not)."""
    raw = read_small_bytes(path, what, limit)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SpectralFileError(
            f"{path}: {what} is not UTF-8 text (byte {exc.start} is {raw[exc.start]:#04x})"
        ) from None


def as_wavelengths(value: Any, path: Path, where: str = "the wavelengths") -> np.ndarray:
    """``value`` as a finite 1-D float64 array, or a :class:`SpectralFileError` that says why."""
    if isinstance(value, (str, bytes)) or value is None:
        raise SpectralFileError(f"{path}: {where} must be a list of numbers, got {value!r:.60}")
    try:
        arr = np.asarray(value)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"dtype {arr.dtype}")
        wl = arr.astype(np.float64).ravel()
    except (TypeError, ValueError, OverflowError) as exc:
        raise SpectralFileError(f"{path}: {where} must be a list of numbers ({exc})") from None
    if wl.size == 0:
        raise SpectralFileError(f"{path}: {where} list is empty")
    if not np.all(np.isfinite(wl)):
        raise SpectralFileError(f"{path}: {where} contain NaN or infinite values")
    return wl


def as_labels(value: Any, path: Path, where: str = "the label mask") -> np.ndarray:
    """``value`` as an integer array (integer-valued floats are converted), else raise."""
    arr = np.asarray(value) if not isinstance(value, np.ndarray) else value
    kind = arr.dtype.kind
    if kind in "iub":
        return arr.astype(np.int32) if kind == "b" else arr
    if kind != "f":
        raise SpectralFileError(f"{path}: {where} must hold integers, got dtype {arr.dtype}")
    values = np.asarray(arr)
    if not np.all(np.isfinite(values)) or np.any(values != np.round(values)):
        raise SpectralFileError(f"{path}: {where} must hold whole numbers (found fractions or NaN)")
    if values.size and (values.max() > 2**31 - 1 or values.min() < -(2**31)):
        raise SpectralFileError(f"{path}: {where} holds values beyond the int32 range")
    return values.astype(np.int32)


def check_scale(path: Path, scale: Any, what: str = "reflectance scale factor") -> float:
    """A finite, non-zero scale factor as float, else raise (a NaN scale would blank the cube)."""
    try:
        value = float(scale)
    except (TypeError, ValueError):
        raise SpectralFileError(f"{path}: the {what} {scale!r} is not a number") from None
    if not math.isfinite(value) or value == 0:
        raise SpectralFileError(
            f"{path}: the {what} is {value}; it must be a finite, non-zero number "
            "(every value is divided by it)"
        )
    return value


def unexpected(path: Path, exc: BaseException) -> SpectralFileError:
    """The :class:`SpectralFileError` for a failure no check anticipated (marked ``unexpected``)."""
    kind = "not enough memory" if isinstance(exc, MemoryError) else type(exc).__name__
    text = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
    err = SpectralFileError(
        f"{path}: cannot read this file ({kind}{': ' + text if text else ''}); "
        "it is damaged or not in a supported layout"
    )
    err.unexpected = True
    return err


NPY_MAGIC = b"\x93NUMPY"


def _npy_header(fh, path: Path, what: str) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype from an open ``.npy`` stream, refusing pickled/object content."""
    fmt = np.lib.format
    try:
        version = fmt.read_magic(fh)
        reader = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
        shape, _, dtype = reader(fh)
    except Exception as exc:  # noqa: BLE001 - numpy raises ValueError/TypeError/SyntaxError
        raise SpectralFileError(f"{path}: {what} has no valid NumPy header ({exc})") from None
    if dtype.hasobject:
        raise SpectralFileError(
            f"{path}: {what} holds Python objects (a pickle); napari-cinn never unpickles files"
        )
    return tuple(int(s) for s in shape), dtype


def check_npy(path: Path) -> tuple[tuple[int, ...], np.dtype]:
    """Check a ``.npy`` file's magic and header before it is memory-mapped."""
    with open(path, "rb") as fh:
        if fh.read(6) != NPY_MAGIC:
            raise SpectralFileError(f"{path}: not a .npy file (no NumPy header)")
        fh.seek(0)
        return _npy_header(fh, path, "the array")


def check_npz(path: Path) -> None:
    """Check every array of a ``.npz`` archive before any is decompressed into memory."""
    import zipfile

    if not zipfile.is_zipfile(path):
        raise SpectralFileError(f"{path}: not a readable .npz archive (no zip signature)")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > 10_000:
                raise SpectralFileError(f"{path}: {len(infos):,} members in the archive; refused")
            total = stored = 0
            for info in infos:
                if not info.filename.endswith(".npy"):
                    continue
                what = f"array {info.filename[:-4]!r}"
                with zf.open(info) as fh:
                    shape, dtype = _npy_header(fh, path, what)
                n = int(np.prod(shape, dtype=object))
                nbytes = n * max(dtype.itemsize, 1)
                if nbytes > info.file_size:
                    raise SpectralFileError(
                        f"{path}: {what} declares {nbytes:,} bytes but the archive holds "
                        f"{info.file_size:,}: truncated or inconsistent"
                    )
                total += max(n, nbytes // 4)
                stored += info.compress_size
                check_in_memory(path, what, max(n, nbytes // 4), info.compress_size)
            check_in_memory(path, "the arrays of the archive", total, stored)
    except SpectralFileError:
        raise
    except Exception as exc:  # noqa: BLE001 - BadZipFile, zlib errors, ...
        raise SpectralFileError(f"{path}: not a readable .npz archive ({exc})") from None


def check_numeric(path: Path, dtype, what: str = "the data") -> None:
    """Refuse arrays that are not real numbers (complex, strings, structured, objects)."""
    if np.dtype(dtype).kind not in "biuf":
        raise SpectralFileError(f"{path}: {what} holds {np.dtype(dtype)} values, not real numbers")


def check_tiff_series(path: Path, series) -> None:
    """Before a compressed/tiled TIFF series is decoded: its size against budget and storage."""
    shape = tuple(int(s) for s in series.shape)
    n = int(np.prod(shape, dtype=object))
    check_numeric(path, series.dtype)
    stored = 0
    for page in series.pages:
        if page is None:
            continue
        stored += sum(int(b) for b in getattr(page, "databytecounts", ()) or ())
    check_in_memory(path, f"the image {shape}", n, stored)
