"""The files of one domain: listing, lazy reading, and the :class:`Subject` each file becomes.

HSI files stay on disk: a :class:`Subject` records the path, shape and subject name read from the
header (memory-mapped formats read no pixel data for that); :mod:`.sampling` reads a capped sample
of pixels chunk by chunk when the training pool asks for it. PAT images are small and are kept in
memory. Labels of the real domain are never used: they are dropped as the file is read.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from napari_cinn.core.spectra import valid_spectra

DOMAINS = ("sim", "real")
#: file types read as cubes; label / wavelength sidecars are skipped
EXTENSIONS = (".hdr", ".dat", ".npy", ".npz", ".tif", ".tiff", ".h5", ".hdf5")
_SIDECARS = ("_labels.npy", "_wavelengths.json", "_seg.npy", "_ind.npy")


class DataError(ValueError):
    """Training data that cannot be used; the message names the folder/file and the problem."""


@dataclass
class Subject:
    """One file of one domain.

    ``shape``: spatial shape ``(y, x)`` or ``(z, y, x)``. File subjects of HSI data hold no pixels
    (see :func:`napari_cinn_training.data.sampling.sample_file`); in-memory ones hold ``spectra``
    ``(n, bands)`` float32 and ``labels`` ``(n,)`` or None. PAT subjects hold ``images``
    ``(n_images, bands, y, x)`` float32 (volumes give one image per z).
    """

    path: Path
    subject: str
    domain: str
    spectra: np.ndarray | None = None
    labels: np.ndarray | None = None
    images: np.ndarray | None = None
    sha256: str = ""
    shape: tuple[int, ...] = ()
    has_labels: bool = False
    background: bool = True  # HSI: pixels labelled 0 may be sampled

    @property
    def in_memory(self) -> bool:
        return self.spectra is not None or self.images is not None

    @property
    def n_pixels(self) -> int:
        if self.spectra is not None:
            return len(self.spectra)
        if self.images is not None:
            return int(np.prod(self.images.shape[0:1] + self.images.shape[2:]))
        return int(np.prod(self.shape)) if self.shape else 0


def list_files(path: str | Path, domain: str) -> list[Path]:
    """Spectral files in a folder (sorted; sidecars skipped) or the single file given."""
    p = Path(path)
    if not str(path):
        raise DataError(f"data.{domain} is not set: give the folder of {domain} images")
    if p.is_file():
        return [p]
    if not p.is_dir():
        raise DataError(f"{domain} data folder {str(p)!r} does not exist")
    files = _cube_files(p.iterdir())
    if not files:  # a nested layout, e.g. HeiPorSPECTRAL subjects/<subject>/<timestamp>/
        files = _cube_files(
            f for f in p.rglob("*") if not f.relative_to(p).parts[0].startswith(".")
        )
    if not files:
        raise DataError(
            f"{domain} data folder {str(p)!r} holds no readable spectral files "
            f"(looked for {', '.join(EXTENSIONS)})"
        )
    return files


def _cube_files(candidates) -> list[Path]:
    """Spectral files among ``candidates``, sorted; sidecars and ENVI data files skipped."""
    return sorted(
        f
        for f in candidates
        if f.is_file()
        and f.suffix.lower() in EXTENSIONS
        and not any(f.name.endswith(s) for s in _SIDECARS)
        and not f.name.startswith(".")
        and not (f.suffix.lower() == ".dat" and f.with_suffix(".hdr").exists())
    )


def read_image(path: Path, with_labels: bool):
    """``read_spectral(path)`` (lazy where the format allows), real labels dropped."""
    from napari_cinn.io import read_spectral

    try:
        if not with_labels and "labels" in inspect.signature(read_spectral).parameters:
            image = read_spectral(path, labels=False)
        else:
            image = read_spectral(path)
    except ValueError as err:  # SpectralFileError names the file already
        raise DataError(str(err)) from None
    if not with_labels:
        image.labels = None  # real labels are never used by training
        image.label_names = None
    return image


def _pat_images(f: Path, image) -> np.ndarray:
    cube = np.asarray(image.data, dtype=np.float32)
    if cube.ndim == 3:
        cube = cube[:, None]  # (bands, 1, y, x)
    images = np.ascontiguousarray(cube.transpose(1, 0, 2, 3))  # (z, bands, y, x)
    if not np.isfinite(images).all():
        raise DataError(f"{f}: the image contains NaN or infinite values")
    return images


def array_subject(domain: str, x: np.ndarray, modality: str) -> Subject:
    """An in-memory subject: HSI spectra ``(n, bands)`` or PAT images ``(n, bands, y, x)``."""
    x = np.asarray(x, np.float32)
    s = Subject(path=Path(f"<{domain} array>"), subject=domain, domain=domain)
    if modality == "hsi":
        s.spectra = x[valid_spectra(x)]
        s.shape = (len(s.spectra),)
    else:
        s.images = x
    return s
