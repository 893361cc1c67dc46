"""HDF5 files are checked as a whole before any dataset is read (h5py only, read only).

:func:`check_hdf5` walks every link once without following it and refuses a file that

- has an **external link** (it would open another file) or a **soft link** that dangles or loops;
- has a dataset with **external raw storage** (its bytes live in another file, e.g.
  ``/etc/passwd``) or a **virtual** dataset (mapped from other files);
- has a dataset whose declared size expands implausibly from the bytes it stores (a
  never-written chunked dataset reads as gigabytes of fill values);
- has more objects than :data:`MAX_OBJECTS`.

:func:`read_dataset` then reads one dataset whole as a numeric array (within the memory budget),
with a sentence for a group, a scalar or a string where an array of numbers belongs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._image import SpectralFileError
from ._safety import check_expansion, check_in_memory

MAX_OBJECTS = 100_000
MAX_LINK_DEPTH = 32


def _resolve_soft(fh, name: str, target: str, path: Path) -> None:
    import h5py

    seen = {name}
    cur = target
    for _ in range(MAX_LINK_DEPTH):
        if cur in seen:
            raise SpectralFileError(f"{path}: the soft link /{name} loops back on itself; refused")
        seen.add(cur)
        parent = cur.rsplit("/", 1)[0] or "/"
        try:
            link = fh.get(cur, getlink=True)
        except (KeyError, RuntimeError, ValueError, TypeError):
            link = None
        if link is None:
            raise SpectralFileError(f"{path}: the soft link /{name} points to missing {cur!r}")
        if isinstance(link, h5py.ExternalLink):
            raise SpectralFileError(f"{path}: /{name} leads to an external link; refused")
        if not isinstance(link, h5py.SoftLink):
            return
        nxt = link.path
        cur = nxt if nxt.startswith("/") else f"{parent.rstrip('/')}/{nxt}"
    raise SpectralFileError(f"{path}: the soft link /{name} is nested too deeply; refused")


def check_dataset(ds, path: Path, name: str, whole: bool = True) -> None:
    """Refuse external/virtual storage and implausible sizes of one dataset (nothing is read).

    ``whole=False`` (the file-wide walk) checks only how far the data would expand from the
    bytes stored; the memory budget applies when a dataset is read whole (:func:`read_dataset`),
    not to datasets read slice by slice (patato reconstructions).
    """
    if ds.external:
        raise SpectralFileError(
            f"{path}: dataset /{name} keeps its data in external file(s) "
            f"({ds.external[0][0]!r}); refused: a spectral file must be self-contained"
        )
    if ds.is_virtual:
        raise SpectralFileError(f"{path}: dataset /{name} is a virtual dataset; refused")
    n = int(np.prod(ds.shape, dtype=np.int64)) if ds.shape else 1
    itemsize = max(int(ds.dtype.itemsize), 1)
    try:
        stored = int(ds.id.get_storage_size())
    except Exception:  # noqa: BLE001 - storage size unknown
        stored = None
    if ds.chunks is None and ds.compression is None:
        stored = None  # contiguous: read straight from the file, bounded by its size
    if whole:
        check_in_memory(path, f"dataset /{name}", max(n, n * itemsize // 4), stored)
    elif stored is not None:
        check_expansion(path, f"dataset /{name}", max(n, n * itemsize // 4), stored)


def check_hdf5(fh, path: Path) -> None:
    """Walk all links of an open ``h5py.File`` once and refuse unsafe structure (module doc)."""
    import h5py

    count = 0
    problems: list[Exception] = []

    def check(name: str, link) -> None:
        nonlocal count
        count += 1
        if count > MAX_OBJECTS:
            raise SpectralFileError(f"{path}: more than {MAX_OBJECTS:,} objects; refused")
        if isinstance(link, h5py.ExternalLink):
            raise SpectralFileError(
                f"{path}: /{name} is an external link to {link.filename!r}; refused: a spectral "
                "file must be self-contained"
            )
        if isinstance(link, h5py.SoftLink):
            _resolve_soft(fh, name, link.path, path)
            return
        try:
            obj = fh[name]  # not .get(): it would swallow the KeyError of a damaged object
        except Exception as exc:  # noqa: BLE001 - broken object headers
            raise SpectralFileError(f"{path}: damaged HDF5 object /{name} ({exc})") from None
        if isinstance(obj, h5py.Dataset):
            check_dataset(obj, path, name, whole=False)

    def visit(name: str, link):
        # exceptions must not cross h5py's C iteration: record the first and stop (non-None)
        try:
            check(name, link)
        except Exception as exc:  # noqa: BLE001
            problems.append(exc)
            return True
        return None

    try:
        fh.visititems_links(visit)
    except Exception as exc:  # noqa: BLE001 - HDF5 raises many types for damaged files
        raise SpectralFileError(f"{path}: damaged HDF5 structure ({exc})") from None
    if problems:
        if isinstance(problems[0], SpectralFileError):
            raise problems[0]
        raise SpectralFileError(f"{path}: damaged HDF5 object ({problems[0]})")


def read_dataset(obj, path: Path, name: str, min_ndim: int = 1) -> np.ndarray:
    """The values of dataset ``obj`` (named ``name``) as a numeric array, or a sentence."""
    import h5py

    if not isinstance(obj, h5py.Dataset):
        raise SpectralFileError(f"{path}: /{name} is a {type(obj).__name__}, not an array")
    if obj.dtype.kind not in "biuf":
        raise SpectralFileError(f"{path}: /{name} holds {obj.dtype} values, not numbers")
    if len(obj.shape or ()) < min_ndim:
        raise SpectralFileError(
            f"{path}: /{name} has shape {obj.shape}; need at least {min_ndim} dimension(s)"
        )
    check_dataset(obj, path, name)
    try:
        return obj[()]
    except Exception as exc:  # noqa: BLE001 - filters, damaged chunks
        raise SpectralFileError(f"{path}: cannot read /{name} ({exc})") from None
