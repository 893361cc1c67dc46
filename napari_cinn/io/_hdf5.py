"""SIMPA-style HDF5 simulation output (read only), via ``h5py``.

SIMPA stores one dataset per wavelength in a group named after the data field, e.g.
``/simulations/reconstructed_data/700`` or
``/simulations/optical_forward_model_output/initial_pressure/700``, the wavelengths in
``/settings/wavelengths`` and the tissue segmentation in ``/simulations/simulation_properties/seg``.
We stack the per-wavelength arrays (sorted by wavelength) into ``(bands, ...)``. SIMPA arrays are
spatially ``(x, z)`` or ``(x, y, z)`` (z = depth); singleton axes are dropped and the axes reversed
so depth runs down the image: ``(bands, z, x)`` or ``(bands, z, y, x)``.

A plain file with top-level datasets ``data`` ``(bands, y, x)`` and ``wavelengths`` also works.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._common import finish_image, read_label_sidecars
from ._h5_safety import check_hdf5, read_dataset
from ._image import SpectralFileError, SpectralImage
from ._safety import check_in_memory

#: data fields tried in order: what a PAT user most likely wants to see first
FIELDS = (
    "simulations/reconstructed_data",
    "simulations/optical_forward_model_output/initial_pressure",
    "simulations/initial_pressure",
    "simulations/optical_forward_model_output/fluence",
    "simulations/simulation_properties/mua",
)
SEGMENTATION = "simulations/simulation_properties/seg"


def _spatial(arr: np.ndarray) -> np.ndarray:
    arr = np.squeeze(np.asarray(arr))
    return arr.T if arr.ndim >= 2 else arr


def read_hdf5(path: Path) -> SpectralImage:
    import h5py

    path = Path(path)
    try:
        fh = h5py.File(path, "r")
    except Exception as exc:  # noqa: BLE001
        raise SpectralFileError(f"{path}: not a readable HDF5 file ({exc})") from exc
    with fh:
        check_hdf5(fh, path)  # no external links/storage, sizes plausible: before any read
        if "data" in fh and isinstance(fh["data"], h5py.Dataset):
            data = read_dataset(fh["data"], path, "data", 3).astype(np.float32)
            wl = (
                read_dataset(fh["wavelengths"], path, "wavelengths")
                if "wavelengths" in fh
                else None
            )
            labels = read_dataset(fh["labels"], path, "labels") if "labels" in fh else None
            if labels is None:
                labels, names = read_label_sidecars(path)
            else:
                names = None
            return finish_image(path, data, wl, labels, names, {"format": "hdf5"})
        field = next((f for f in FIELDS if f in fh and isinstance(fh[f], h5py.Group)), None)
        if field is None:
            raise SpectralFileError(
                f"{path}: no spectral data found (expected a top-level 'data' dataset or a SIMPA "
                f"group such as /{FIELDS[0]}/<wavelength>)"
            )
        group = fh[field]
        entries = []
        for key in group:
            try:
                entries.append((float(key), key))
            except ValueError:
                continue
        if not entries:
            raise SpectralFileError(f"{path}: /{field} holds no per-wavelength datasets")
        entries.sort()
        sizes = [
            (int(group[k].size or 0), group[k].id.get_storage_size())
            for _, k in entries
            if isinstance(group[k], h5py.Dataset)
        ]
        check_in_memory(path, f"/{field}", sum(n for n, _ in sizes), sum(b for _, b in sizes))
        try:
            planes = [_spatial(read_dataset(group[k], path, f"{field}/{k}")) for _, k in entries]
            data = np.stack(planes).astype(np.float32)
        except ValueError as exc:
            raise SpectralFileError(
                f"{path}: the wavelengths in /{field} have different image shapes"
            ) from exc
        wl = np.array([w for w, _ in entries])
        if data.ndim == 2:  # one spatial axis only: cannot show as an image
            raise SpectralFileError(f"{path}: /{field} holds 1-D data, not images")
        labels = names = None
        if SEGMENTATION in fh:
            seg = _spatial(read_dataset(fh[SEGMENTATION], path, SEGMENTATION))
            if seg.shape == data.shape[1:]:
                labels = np.round(seg).astype(np.int32)
        side_labels, names = read_label_sidecars(path)
        if labels is None:
            labels = side_labels
        meta = {"format": "simpa-hdf5", "field": field.rsplit("/", 1)[-1]}
    return finish_image(path, data, wl, labels, names, meta)
