"""The files of one domain: listing, lazy reading, and the :class:`Subject` each file becomes.

HSI files stay on disk: a :class:`Subject` records the path, shape and subject name read from the
header (memory-mapped formats read no pixel data for that), and :mod:`.sampling` reads a capped
sample of pixels chunk by chunk when the training pool asks for it. PAT images are small and are
kept in memory as ``(n_images, bands, y, x)``. In-memory subjects (``from_arrays``) hold their
spectra directly.

Every file a reader of the plugin opens (``napari_cinn.io.read_spectral``: ENVI, npz, npy, tif,
h5, Tivita) is one *subject*, unless its metadata names a ``subject``. Labels of the real domain
are never used: they are dropped as the file is read.
"""

from __future__ import annotations

import inspect
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from napari_cinn.core.spectra import describe_grid, same_grid, valid_spectra

log = logging.getLogger(__name__)

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


@dataclass
class DomainData:
    """The subjects of one domain with their common wavelength grid."""

    domain: str
    wavelengths: np.ndarray
    subjects: list[Subject] = field(default_factory=list)
    sampling: Any = None  # a data.sampling.Sampling (None: its defaults)
    pools: dict = field(default_factory=dict, repr=False)  # (seed, rank, world) -> EpochPool

    def pool(self, seed: int, rank: int = 0, world: int = 1):
        """The training pool of this domain (one per seed and rank, shared by its users)."""
        from .sampling import EpochPool, Sampling

        key = (int(seed), int(rank), int(world))
        if key not in self.pools:
            offset = DOMAINS.index(self.domain) if self.domain in DOMAINS else 7
            self.pools[key] = EpochPool(
                self.subjects,
                self.sampling or Sampling(),
                2 * int(seed) + offset,
                int(self.wavelengths.size),
                rank,
                world,
            )
        return self.pools[key]

    def spectra(self) -> np.ndarray:
        """All usable spectra ``(n, bands)`` (HSI) or all image pixels (PAT), read fully.

        For in-memory or small data only (baselines fitted inside ``evaluate``); training samples
        through the bounded pool of :mod:`.sampling` instead.
        """
        from .sampling import sample_file

        if not self.subjects:
            return np.empty((0, self.wavelengths.size), np.float32)
        if self.subjects[0].images is not None:
            return np.concatenate(
                [
                    s.images.transpose(0, 2, 3, 1).reshape(-1, s.images.shape[1])
                    for s in self.subjects
                ]
            )
        return np.concatenate([sample_file(s, seed=0, per_file=0)[0] for s in self.subjects])


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


def load_domain(
    path: str | Path,
    domain: str,
    modality: str,
    *,
    with_labels: bool,
    wavelengths: np.ndarray | None = None,
    background: bool = True,
    hashes=None,
) -> DomainData:
    """Index every file of one domain (HSI: headers only; PAT: images read).

    Parameters
    ----------
    path : folder (or single file) of this domain
    modality : "hsi" indexes files for lazy sampling; "pat" keeps whole images
    with_labels : the label masks may be used (sim only)
    wavelengths : expected grid; every file must match it (and each other)
    background : HSI sim: also sample pixels labelled 0
    hashes : a :class:`~napari_cinn_training.data.manifest.HashCache` (default: the user's cache)
    """
    from .manifest import HashCache

    hashes = HashCache() if hashes is None else hashes
    data = DomainData(domain, np.empty(0))
    for f in list_files(path, domain):
        image = read_image(f, with_labels)
        wl = np.asarray(image.wavelengths, dtype=float)
        if wavelengths is None:
            wavelengths = wl
        elif not same_grid(wl, wavelengths):
            raise DataError(
                f"{f}: wavelengths ({describe_grid(wl)}) differ from the rest of the "
                f"training data ({describe_grid(wavelengths)}); resample the files to one "
                "grid first"
            )
        subject = str(image.metadata.get("subject", f.stem)) if image.metadata else f.stem
        s = Subject(
            path=f,
            subject=subject,
            domain=domain,
            sha256=hashes.sha256(f),
            shape=tuple(int(v) for v in image.shape[1:]),
            has_labels=with_labels and image.labels is not None,
            background=background,
        )
        if modality == "pat":
            s.images = _pat_images(f, image)
        data.subjects.append(s)
    hashes.save()
    if not data.subjects:
        raise DataError(f"{domain} data in {str(path)!r}: no usable samples in any file")
    data.wavelengths = np.asarray(wavelengths, dtype=float)
    return data


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
