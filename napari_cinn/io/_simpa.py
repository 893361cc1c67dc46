"""SIMPA simulation output (HDF5, read only): one dataset per wavelength, chosen data field.

SIMPA 1.0 (``simpa.io_handling.save_hdf5``) stores each data field as a group of per-wavelength
datasets, e.g. ``/simulations/reconstructed_data/700`` or
``/simulations/optical_forward_model_output/initial_pressure/700``, and the tissue segmentation
in ``/simulations/simulation_properties/seg``. We stack the per-wavelength arrays (sorted by
wavelength) into ``(bands, ...)``. SIMPA arrays are spatially ``(x, z)`` or ``(x, y, z)`` (z =
depth); singleton axes are dropped and the axes reversed so depth runs down the image:
``(bands, z, x)`` or ``(bands, z, y, x)``.

``field=`` picks the data field (a short name such as ``"initial_pressure"`` or a path); by default
the first of :data:`FIELDS` present. When the segmentation lies on another grid than the field
(reconstructions usually do), it is resampled by nearest neighbour onto the field's grid, assuming
both cover the same field of view, and ``metadata["notes"]`` says so; a 3-D segmentation of a 2-D
image gives its central y plane. Label names are SIMPA's ``SegmentationClasses``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._common import finish_image, read_label_sidecars
from ._image import SpectralFileError, SpectralImage

#: data fields tried in order: what a PAT user most likely wants to see first
FIELDS = (
    "simulations/reconstructed_data",
    "simulations/optical_forward_model_output/initial_pressure",
    "simulations/initial_pressure",
    "simulations/optical_forward_model_output/fluence",
    "simulations/simulation_properties/mua",
)
SEGMENTATION = "simulations/simulation_properties/seg"

#: simpa.utils.constants.SegmentationClasses (simpa 1.0.0)
SEGMENTATION_CLASSES = {
    -1: "generic",
    0: "air",
    1: "muscle",
    2: "bone",
    3: "blood",
    4: "epidermis",
    5: "dermis",
    6: "fat",
    7: "ultrasound_gel",
    8: "water",
    9: "heavy_water",
    10: "coupling_artifact",
    11: "mediprene",
    12: "soft_tissue",
    13: "lymph_node",
}


def is_simpa(fh) -> bool:
    return "simulations" in fh


def _spatial(arr: np.ndarray) -> np.ndarray:
    arr = np.squeeze(np.asarray(arr))
    return arr.T if arr.ndim >= 2 else arr


def available_fields(fh) -> list[str]:
    """Paths of the groups under ``/simulations`` that hold per-wavelength datasets."""
    import h5py

    found: list[str] = []

    def visit(name, obj):
        if isinstance(obj, h5py.Group) and any(_is_number(k) for k in obj):
            found.append(name)

    fh["simulations"].visititems(visit)
    return ["simulations/" + f for f in found]


def _is_number(key: str) -> bool:
    try:
        float(key)
    except ValueError:
        return False
    return True


def _choose_field(fh, path: Path, field: str | None) -> str:
    fields = available_fields(fh)
    if field is None:
        chosen = next((f for f in FIELDS if f in fields), fields[0] if fields else None)
        if chosen is None:
            raise SpectralFileError(
                f"{path}: no spectral data found in /simulations (expected per-wavelength "
                f"datasets such as /{FIELDS[0]}/700)"
            )
        return chosen
    want = str(field).strip("/")
    matches = [f for f in fields if f == want or f.rsplit("/", 1)[-1] == want]
    if not matches:
        short = ", ".join(f.rsplit("/", 1)[-1] for f in fields) or "none"
        raise SpectralFileError(f"{path}: no SIMPA field {field!r}; this file has: {short}")
    return matches[0]


def resample_nearest(arr: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Nearest-neighbour resampling of ``arr`` onto ``shape`` (same number of axes)."""
    index = [
        np.minimum(((np.arange(n) + 0.5) * (m / n)).astype(np.intp), m - 1)
        for m, n in zip(arr.shape, shape, strict=True)
    ]
    return arr[np.ix_(*index)]


def _segmentation(fh, shape: tuple[int, ...]) -> tuple[np.ndarray | None, list[str]]:
    """The segmentation on the data grid ``shape`` (spatial axes) and notes on what was done."""
    if SEGMENTATION not in fh:
        return None, []
    seg = _spatial(fh[SEGMENTATION][()])
    notes: list[str] = []
    if seg.ndim == len(shape) + 1 and seg.ndim == 3:  # (z, y, x) volume of a (z, x) image
        mid = seg.shape[1] // 2
        seg = seg[:, mid, :]
        notes.append(f"the segmentation is 3-D: its central y plane ({mid}) labels the image")
    if seg.ndim != len(shape):
        notes.append(
            f"labels left out: the segmentation {seg.shape} and the data {shape} have different "
            "numbers of axes"
        )
        return None, notes
    if seg.shape != shape:
        ratio = [a / b for a, b in zip(seg.shape, shape, strict=True)]
        if max(ratio) / min(ratio) > 1.05:
            notes.append(
                f"labels left out: the segmentation grid {seg.shape} and the data grid {shape} "
                "have different aspect ratios, so they do not cover the same field of view"
            )
            return None, notes
        notes.append(
            f"the segmentation ({'×'.join(map(str, seg.shape))}) was resampled by nearest "
            f"neighbour onto the data grid ({'×'.join(map(str, shape))}), assuming one field of view"
        )
        seg = resample_nearest(seg, shape)
    return np.round(seg).astype(np.int32), notes


def read_simpa(fh, path: Path, *, labels: bool = True, field: str | None = None) -> SpectralImage:
    """Read the chosen SIMPA field of an open ``h5py.File`` (see the module docstring)."""
    name = _choose_field(fh, path, field)
    group = fh[name]
    entries = sorted((float(k), k) for k in group if _is_number(k))
    try:
        planes = [_spatial(group[key][()]) for _, key in entries]
        data = np.stack(planes).astype(np.float32)
    except ValueError as exc:
        raise SpectralFileError(
            f"{path}: the wavelengths in /{name} have different image shapes"
        ) from exc
    wl = np.array([w for w, _ in entries])
    if data.ndim == 2:  # one spatial axis only: cannot show as an image
        raise SpectralFileError(f"{path}: /{name} holds 1-D data, not images")
    mask = names = None
    notes: list[str] = []
    if labels:
        mask, notes = _segmentation(fh, data.shape[1:])
        if mask is not None:
            names = {
                int(v): SEGMENTATION_CLASSES.get(int(v), f"class {v}") for v in np.unique(mask)
            }
        else:
            mask, names = read_label_sidecars(path)
    meta = {
        "format": "simpa-hdf5",
        "field": name.rsplit("/", 1)[-1],
        "fields_available": [f.rsplit("/", 1)[-1] for f in available_fields(fh)],
    }
    if notes:
        meta["notes"] = notes
    return finish_image(path, data, wl, mask, names, meta)
