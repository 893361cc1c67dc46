"""Read and write spectral images without napari: :class:`SpectralImage`, :func:`read_spectral`,
:func:`write_spectral`.

Formats (chosen by extension):

========================  ======  ======  ==========================================================
extension                 read    write   notes
========================  ======  ======  ==========================================================
``.hdr`` (+ ``.img``)     yes     yes     ENVI via ``spectral``, memory-mapped, wavelengths in header
                                          (also ESRI ``LAYOUT BIL`` headers)
``.img`` ``.raw`` ``.bil`` yes    no      ENVI data file opened directly: its ``.hdr`` lies beside it
``.dat``                  yes     yes     Tivita cube: 3 big-endian int32 (shape), big-endian float32
                                          (HeiPorSPECTRAL annotations beside it become labels); an
                                          ENVI data file when a ``.hdr`` lies beside it
``.npy``                  yes     yes     memory-mapped; wavelengths in ``<stem>_wavelengths.json``;
                                          ``(n, bands)`` spectra tables become ``(bands, 1, n)``
``.npz``                  yes     yes     keys data, wavelengths, labels, label_names, metadata (or
                                          the UDT-cINN paper's reconstruction/segmentation/oxygenation)
``.tif`` / ``.tiff``      yes     yes     multi-page, one page per band; wavelengths in metadata
``.h5`` / ``.hdf5``       yes     no      SIMPA simulation output, patato PAT files, or plain
                                          ``data`` + ``wavelengths`` datasets
========================  ======  ======  ==========================================================

Reader options (keywords of :func:`read_spectral`; ``docs/readers.md`` has the details):
``field`` (SIMPA data field, e.g. ``"initial_pressure"``), ``frame`` (patato frame index, None =
all frames as a stack), ``recon`` (patato reconstruction name), ``annotator`` (HeiPorSPECTRAL),
``grid`` (Tivita wavelengths: ``"project"`` 500–995 nm or ``"htc"`` ``linspace(500, 1000, 100)``),
``labels=False`` (skip label masks, as training does for real data).

Label masks may sit beside a cube as ``<stem>_labels.npy`` with names in ``<stem>_labels.json``.
Every problem is raised as :class:`SpectralFileError` (a ``ValueError``) naming the file. Writes
go to a temporary file that is renamed when complete, and refuse to replace an existing file
unless ``overwrite=True``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ._image import LazyCube, SpectralFileError, SpectralImage

__all__ = [
    "LazyCube",
    "SpectralFileError",
    "SpectralImage",
    "read_spectral",
    "write_spectral",
    "READ_EXTENSIONS",
    "WRITE_EXTENSIONS",
]

#: ENVI data files that open through the header beside them
ENVI_DATA_EXTENSIONS = (".img", ".raw", ".bil", ".bip", ".bsq")
READ_EXTENSIONS = (
    ".hdr",
    ".dat",
    ".npy",
    ".npz",
    ".tif",
    ".tiff",
    ".h5",
    ".hdf5",
    *ENVI_DATA_EXTENSIONS,
)
WRITE_EXTENSIONS = (".hdr", ".dat", ".npy", ".npz", ".tif", ".tiff")


def _suffix(path: Path) -> str:
    return path.suffix.lower()


def _reader(path: Path) -> Callable[..., SpectralImage]:
    ext = _suffix(path)
    if ext == ".dat":
        from ._envi_layouts import header_beside

        ext = ".hdr" if header_beside(path) is not None else ".dat"
    if ext in (".hdr", *ENVI_DATA_EXTENSIONS):
        from ._envi import read_envi as fn
    elif ext == ".dat":
        from ._tivita import read_tivita as fn
    elif ext == ".npy":
        from ._numpy import read_npy as fn
    elif ext == ".npz":
        from ._numpy import read_npz as fn
    elif ext in (".tif", ".tiff"):
        from ._tiff import read_tiff as fn
    elif ext in (".h5", ".hdf5"):
        from ._hdf5 import read_hdf5 as fn
    else:
        raise SpectralFileError(
            f"unsupported file type {ext or '(no extension)'}; "
            f"readable: {', '.join(READ_EXTENSIONS)}"
        )
    return fn


def read_spectral(path: str | Path, *, labels: bool = True, **options) -> SpectralImage:
    """Read a spectral image ``(bands, y, x)`` with wavelengths, labels and metadata.

    Large formats (ENVI, Tivita, .npy) are memory-mapped: ``image.data`` reads lazily.
    ``labels=False`` skips label masks and annotations; ``options`` are format options (see the
    module docstring), refused with a clear message by formats they do not apply to.

    Raises
    ------
    SpectralFileError
        the file is missing, of an unknown type, truncated or inconsistent; the message says which.
    """
    import inspect

    path = Path(path)
    if not path.is_file():
        _reader(path)  # an unknown type is named first
        raise SpectralFileError(f"{path}: no such file")
    fn = _reader(path)
    accepted = inspect.signature(fn).parameters
    wrong = sorted(k for k, v in options.items() if k not in accepted and v is not None)
    if wrong:
        known = [k for k in accepted if k not in ("path", "labels")]
        raise SpectralFileError(
            f"{path}: option(s) {', '.join(wrong)} do not apply to this file type "
            f"(it takes {', '.join(known) or 'no options'})"
        )
    kwargs = {k: v for k, v in options.items() if k in accepted}
    image = fn(path, **kwargs) if "labels" not in accepted else fn(path, labels=labels, **kwargs)
    if not labels:
        image.labels = None
        image.label_names = None
    return image


def write_spectral(
    path: str | Path, image: SpectralImage, *, overwrite: bool = False
) -> list[Path]:
    """Write ``image`` in the format given by the extension; returns every file written.

    Labels (if any) go beside the cube as ``<stem>_labels.npy`` / ``_labels.json`` (``.npz``
    keeps them inside). Refuses to replace existing files unless ``overwrite=True``; never leaves
    a half-written file.
    """
    from ._common import refuse_existing, sidecar, write_label_sidecars

    path = Path(path)
    ext = _suffix(path)
    if not isinstance(image, SpectralImage):
        raise TypeError(f"write_spectral needs a SpectralImage, got {type(image).__name__}")
    if ext == ".hdr":
        from ._envi import write_envi as fn

        targets = [path, path.with_suffix(".img")]
    elif ext == ".dat":
        from ._tivita import write_tivita as fn

        targets = [path]
    elif ext == ".npy":
        from ._numpy import write_npy as fn

        targets = [path, sidecar(path, "_wavelengths.json")]
    elif ext == ".npz":
        from ._numpy import write_npz as fn

        targets = [path]
    elif ext in (".tif", ".tiff"):
        from ._tiff import write_tiff as fn

        targets = [path]
    else:
        raise SpectralFileError(
            f"{path}: cannot write {ext or '(no extension)'} files; "
            f"writable: {', '.join(WRITE_EXTENSIONS)}"
        )
    with_labels = image.labels is not None and ext != ".npz"
    if with_labels:
        targets.append(sidecar(path, "_labels.npy"))
        if image.label_names:
            targets.append(sidecar(path, "_labels.json"))
    refuse_existing(targets, overwrite)
    written = fn(path, image, overwrite=overwrite)
    if with_labels:
        written += write_label_sidecars(path, image.labels, image.label_names, overwrite=True)
    return written
