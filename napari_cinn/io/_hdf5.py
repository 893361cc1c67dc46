"""HDF5 spectral files (read only), via ``h5py``: which writer made the file decides the reader.

- SIMPA simulation output (a ``/simulations`` group): :mod:`._simpa`, option ``field``;
- patato PAT files (a ``/recons`` group, or raw data with ``/wavelengths``): :mod:`._patato`,
  options ``frame`` and ``recon``;
- a plain file with top-level datasets ``data`` ``(bands, y, x)`` and ``wavelengths`` (optional
  ``labels``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._common import finish_image, read_label_sidecars
from ._image import SpectralFileError, SpectralImage
from ._simpa import FIELDS  # noqa: F401 - re-exported: the napari sniff uses it


def read_hdf5(
    path: Path,
    *,
    labels: bool = True,
    field: str | None = None,
    frame: int | None = None,
    recon: str | None = None,
) -> SpectralImage:
    import h5py

    from ._patato import is_patato, read_patato
    from ._simpa import is_simpa, read_simpa

    path = Path(path)
    try:
        fh = h5py.File(path, "r")
    except Exception as exc:  # noqa: BLE001
        raise SpectralFileError(f"{path}: not a readable HDF5 file ({exc})") from exc
    with fh:
        plain = "data" in fh and isinstance(fh["data"], h5py.Dataset)
        simpa = not plain and is_simpa(fh)
        patato = not plain and not simpa and is_patato(fh)
        misplaced = [
            name
            for name, value, ok in (
                ("field", field, simpa),
                ("frame", frame, patato),
                ("recon", recon, patato),
            )
            if value is not None and not ok
        ]
        if misplaced:
            kind = "SIMPA" if simpa else "patato" if patato else "plain 'data'"
            raise SpectralFileError(
                f"{path}: option {', '.join(misplaced)} does not apply to a {kind} file"
            )
        if simpa:
            return read_simpa(fh, path, labels=labels, field=field)
        if patato:
            return read_patato(fh, path, labels=labels, frame=frame, recon=recon)
        if not plain:
            raise SpectralFileError(
                f"{path}: no spectral data found (expected a top-level 'data' dataset, a SIMPA "
                "/simulations group or a patato /recons group)"
            )
        data = np.asarray(fh["data"], dtype=np.float32)
        wl = np.asarray(fh["wavelengths"]) if "wavelengths" in fh else None
        mask = np.asarray(fh["labels"]) if labels and "labels" in fh else None
        names = None
        if mask is None and labels:
            mask, names = read_label_sidecars(path)
        return finish_image(path, data, wl, mask, names, {"format": "hdf5"})
