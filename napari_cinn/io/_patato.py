"""patato PAT files (HDF5, read only): reconstructions, wavelengths, segmentation and ROIs.

Layout (as ``patato.io.hdf.hdf5_interface.HDF5Writer`` writes it, patato 0.7):

- ``/wavelengths`` ``(wavelengths,)`` nm (a reconstruction may also carry a ``wavelengths`` attr);
- ``/recons/<algorithm>/<n>`` ``(frames, wavelengths, z, y, x)`` with the field of view in the
  attributes ``RECONSTRUCTION_FIELD_OF_VIEW_X/Y/Z`` (metres; old files: ``RECON_FOV``);
- ``/seg``: a label volume (optional); ``/rois/<class>_<position>/<n>``: polygons ``(points, 2)``
  of ``(x, y)`` in metres over the field of view, with the attributes ``z`` (scanner position)
  and ``class``/``position``; ``/Z-POS`` ``(frames, ...)`` says which frame sits where.

We expose one reconstruction: all frames as a stack ``(wavelengths, frame, y, x)`` (a 2-D scan,
``z == 1``; the second axis is labelled ``frame``) or one frame (``frame=k``) as ``(wavelengths,
y, x)`` (``(wavelengths, z, y, x)`` for a 3-D reconstruction). Data stays in the file and is read
per slice. ROIs are rasterised on the reconstruction grid the way patato's ``generate_mask`` does
(pixel ``(i, j)`` at ``(x_j, y_i)`` on ``linspace(-fov/2, fov/2, n)``), into the frames whose
``Z-POS`` matches the ROI's ``z``. napari draws row 0 at the top, patato's ``imshow`` at the bottom
(``origin="lower"``): images look upside down next to patato's figures; labels stay aligned.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._common import finish_image
from ._image import LazyCube, SpectralFileError, SpectralImage

FOV_TAGS = (
    "RECONSTRUCTION_FIELD_OF_VIEW_X",
    "RECONSTRUCTION_FIELD_OF_VIEW_Y",
    "RECONSTRUCTION_FIELD_OF_VIEW_Z",
)


def is_patato(fh) -> bool:
    return "recons" in fh or ("raw_data" in fh and "wavelengths" in fh)


class H5Slab:
    """A lazily read view of one HDF5 dataset ``(frames, wl, z, y, x)`` as ``(wl, *rest)``.

    ``frame`` None keeps all frames as the second axis (z must be 1); an int selects one frame.
    Every read opens the file, reads the needed slab and closes it again.
    """

    def __init__(self, path: Path, name: str, shape: tuple[int, ...], frame: int | None):
        self.path, self.name, self.frame = path, name, frame
        frames, n_wl, nz, ny, nx = shape
        if frame is None:
            self.shape = (n_wl, frames, ny, nx)
        else:
            self.shape = (n_wl, ny, nx) if nz == 1 else (n_wl, nz, ny, nx)
        self.nz = nz
        self.dtype = np.dtype(np.float32)
        self.ndim = len(self.shape)

    def _file_key(self, key: tuple) -> tuple[tuple, bool]:
        key = key + (slice(None),) * (self.ndim - len(key))
        if self.frame is None:  # (wl, frame, y, x) <- file (frame, wl, 0, y, x)
            swap = all(isinstance(k, slice) for k in key[:2])
            return (key[1], key[0], 0, key[2], key[3]), swap
        if self.nz == 1:
            return (self.frame, key[0], 0, key[1], key[2]), False
        return (self.frame, *key), False

    def __getitem__(self, key) -> np.ndarray:
        import h5py

        if not isinstance(key, tuple):
            key = (key,)
        simple = all(isinstance(k, (int, np.integer, slice)) for k in key) and Ellipsis not in key
        if not simple:
            return np.asarray(self)[key]
        fkey, swap = self._file_key(tuple(int(k) if not isinstance(k, slice) else k for k in key))
        with h5py.File(self.path, "r") as fh:
            out = np.asarray(fh[self.name][fkey])
        return np.swapaxes(out, 0, 1) if swap else out

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        out = self[(slice(None),) * self.ndim].astype(np.float32, copy=False)
        return out if dtype is None else out.astype(dtype, copy=False)


def _choose_recon(fh, path: Path, recon: str | None) -> str:
    import h5py

    if "recons" not in fh or not len(fh["recons"]):
        raise SpectralFileError(
            f"{path}: this patato file holds no reconstructions (only raw time series); "
            "reconstruct it in patato first"
        )
    found = [
        f"recons/{alg}/{n}"
        for alg in sorted(fh["recons"])
        if isinstance(fh["recons"][alg], h5py.Group)
        for n in sorted(fh["recons"][alg], key=lambda s: (len(s), s))
    ]
    if recon is None:
        return found[0]
    want = str(recon).strip("/")
    for name in found:
        if name in (want, f"recons/{want}") or name.split("/")[1] == want:
            return name
    listing = ", ".join(n.removeprefix("recons/") for n in found)
    raise SpectralFileError(f"{path}: no reconstruction {recon!r}; this file has: {listing}")


def _fov(attrs, ny: int, nx: int) -> tuple[float, float]:
    fx, fy = (attrs.get(t) for t in FOV_TAGS[:2])
    if fx is None or fy is None:
        old = attrs.get("RECON_FOV")
        if old is None:
            return float(nx), float(ny)  # unknown: unit pixels (ROIs then cannot match)
        fx = fy = old
    return float(np.asarray(fx).ravel()[0]), float(np.asarray(fy).ravel()[0])


def polygon_mask(points: np.ndarray, fov: tuple[float, float], ny: int, nx: int) -> np.ndarray:
    """Pixels ``(ny, nx)`` inside a polygon of ``(x, y)`` metres (even-odd rule)."""
    xs = np.linspace(-fov[0] / 2, fov[0] / 2, nx)
    ys = np.linspace(-fov[1] / 2, fov[1] / 2, ny)
    px, py = np.meshgrid(xs, ys)
    inside = np.zeros((ny, nx), dtype=bool)
    x0, y0 = points[:, 0], points[:, 1]
    x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
    for a, b, c, d in zip(x0, y0, x1, y1, strict=True):
        crosses = (b > py) != (d > py)
        with np.errstate(divide="ignore", invalid="ignore"):
            xcross = a + (py - b) * (c - a) / (d - b)
        inside ^= crosses & (px < xcross)
    return inside


def _rois(fh, attrs, frames: int, ny: int, nx: int):
    """Labels ``(frames, ny, nx)`` and names from ``/rois``, or (None, None)."""
    import h5py

    if "rois" not in fh or not len(fh["rois"]):
        return None, None
    fov = _fov(attrs, ny, nx)
    zpos = np.asarray(fh["Z-POS"])[:, 0] if "Z-POS" in fh else None
    labels = np.zeros((frames, ny, nx), dtype=np.int32)
    names: dict[int, str] = {}
    for value, group in enumerate(sorted(fh["rois"]), start=1):
        names[value] = group
        for ds in fh["rois"][group].values():
            if not isinstance(ds, h5py.Dataset):
                continue
            mask = polygon_mask(np.asarray(ds, dtype=np.float64).reshape(-1, 2), fov, ny, nx)
            where = range(frames)
            if zpos is not None and "z" in ds.attrs:
                where = np.flatnonzero(np.isclose(zpos[:frames], float(ds.attrs["z"])))
            for f in where:
                labels[f][mask] = value
    return labels, names


def read_patato(
    fh, path: Path, *, labels: bool = True, frame: int | None = None, recon: str | None = None
) -> SpectralImage:
    """Read one reconstruction of an open patato ``h5py.File`` (see the module docstring)."""
    name = _choose_recon(fh, path, recon)
    ds = fh[name]
    if ds.ndim != 5:
        raise SpectralFileError(
            f"{path}: /{name} has shape {ds.shape}; patato reconstructions are "
            "(frames, wavelengths, z, y, x)"
        )
    frames, n_wl, nz, ny, nx = (int(s) for s in ds.shape)
    wl = ds.attrs.get("wavelengths", fh["wavelengths"][()] if "wavelengths" in fh else None)
    if frame is not None and not 0 <= int(frame) < frames:
        raise SpectralFileError(f"{path}: frame {frame} out of range (the file has {frames})")
    if frame is None and frames == 1:
        frame = 0
    if frame is None and nz > 1:
        raise SpectralFileError(
            f"{path}: {frames} frames of 3-D reconstructions; choose one with frame=0..{frames - 1}"
        )
    data = LazyCube(H5Slab(path, name, tuple(ds.shape), None if frame is None else int(frame)))
    mask = names = None
    if labels:
        mask, names = _rois(fh, ds.attrs, frames, ny, nx)
        if mask is None and "seg" in fh and tuple(fh["seg"].shape[-2:]) == (ny, nx):
            seg = np.asarray(fh["seg"]).astype(np.int32).reshape(-1, ny, nx)
            mask = seg if len(seg) == frames else np.broadcast_to(seg[:1], (frames, ny, nx))
        if mask is not None and frame is not None:
            mask = mask[int(frame)]
            if nz > 1:
                mask = np.broadcast_to(mask, (nz, ny, nx)).copy()
    meta = {
        "format": "patato-hdf5",
        "field": name.removeprefix("recons/"),
        "frames": frames,
    }
    if frame is None:
        meta["axis_labels"] = ["λ", "frame", "y", "x"]
    else:
        meta["frame"] = int(frame)
    return finish_image(path, data, wl, mask, names, meta)
