"""One domain's data: :class:`DomainData` (its subjects and their pool) and :func:`load_domain`.

Every file a reader of the plugin opens (``napari_cinn.io.read_spectral``: ENVI, npz, npy, tif,
h5, Tivita) is one *subject*, unless its metadata names a ``subject`` (then files of one subject
stay together).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from napari_cinn.core.spectra import describe_grid, same_grid

from .files import (  # noqa: F401 - re-exported: the names callers know from here
    DOMAINS,
    EXTENSIONS,
    DataError,
    Subject,
    _pat_images,
    array_subject,
    list_files,
    read_image,
)
from .hashing import HashCache
from .sampling import EpochPool, Sampling, sample_file


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
