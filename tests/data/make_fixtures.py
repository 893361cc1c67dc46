"""Regenerate the small reader fixtures in this folder: ``python tests/data/make_fixtures.py``.

Each file is written by the real writer where that writer is light (``spectral`` for ENVI,
``PIL`` for the HeiPorSPECTRAL annotation PNGs as htc saves them, ``h5py`` laid out exactly as
``simpa.io_handling.save_hdf5`` (simpa 1.0.0) and ``patato.io.hdf.hdf5_interface.HDF5Writer``
(patato 0.7) write their files, ``numpy`` for the UDT-cINN paper's ``.npz`` / ``.npy`` files).
The ESRI ``LAYOUT BIL`` header and the header without ``byte order`` are written as text, in the
form ArcGIS/Specim and PlantCV write them. Values are small and seeded; the tests state what they
expect from them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import h5py
import numpy as np
from PIL import Image
from spectral.io import envi

HERE = Path(__file__).resolve().parent
RNG = np.random.default_rng(0)
STAMP = "2021_04_15_09_22_02"


def envi_ignore_value(out: Path) -> None:
    """int16 reflectance ×10000 with ``data ignore value = -9999`` at two pixels."""
    cube = RNG.integers(1000, 9000, size=(4, 6, 5)).astype(np.int16)  # (rows, cols, bands)
    cube[0, 0, :] = -9999
    cube[3, 5, 2] = -9999
    meta = {
        "wavelength": [f"{w:g}" for w in (0.5, 0.6, 0.7, 0.8, 0.9)],
        "wavelength units": "Micrometers",
        "reflectance scale factor": "10000",
        "data ignore value": "-9999",
    }
    envi.save_image(str(out / "envi_ignore.hdr"), cube, metadata=meta, interleave="bil", force=True)


def envi_no_byte_order(out: Path) -> None:
    """A PlantCV-style header without ``byte order`` (float32 BIL, little-endian data)."""
    cube = RNG.random((3, 4, 6), dtype=np.float32)  # (rows, cols, bands)
    np.ascontiguousarray(cube.transpose(0, 2, 1), dtype="<f4").tofile(out / "plantcv_cube.raw")
    wl = ", ".join(f"{w:.2f}" for w in np.linspace(400, 900, 6))
    (out / "plantcv_cube.hdr").write_text(
        "ENVI\n"
        "description = {PlantCV hyperspectral test image}\n"
        "samples = 4\nlines = 3\nbands = 6\nheader offset = 0\n"
        "file type = ENVI Standard\ninterleave = bil\ndata type = 4\n"
        "wavelength units = nm\n"
        f"wavelength = {{{wl}}}\n",
        encoding="utf-8",
    )


def esri_bil(out: Path) -> None:
    """An ESRI/ArcGIS ``LAYOUT BIL`` header (as Specim and GDAL's EHdr write) + uint16 data."""
    rows, cols, bands = 5, 7, 3
    cube = RNG.integers(0, 4000, size=(rows, bands, cols)).astype(">u2")  # BIL, big-endian
    cube.tofile(out / "specim_scan.bil")
    (out / "specim_scan.hdr").write_text(
        "BYTEORDER      M\nLAYOUT         BIL\n"
        f"NROWS          {rows}\nNCOLS          {cols}\nNBANDS         {bands}\n"
        "NBITS          16\nPIXELTYPE      UNSIGNEDINT\n"
        f"BANDROWBYTES   {cols * 2}\nTOTALROWBYTES  {cols * 2 * bands}\nBANDGAPBYTES   0\n",
        encoding="utf-8",
    )


def envi_dat(out: Path) -> None:
    """An ENVI data file named ``.dat`` (spectral writes it when asked for ``ext='.dat'``)."""
    cube = RNG.random((3, 5, 4), dtype=np.float32)
    meta = {"wavelength": ["510", "520", "530", "540"], "wavelength units": "Nanometers"}
    envi.save_image(str(out / "envi_cube.hdr"), cube, metadata=meta, ext=".dat", force=True)


def heiporspectral(out: Path) -> None:
    """``subjects/P001/<stamp>/<stamp>_SpecCube.dat`` with two annotators' binary PNGs."""
    folder = out / "heiporspectral" / "subjects" / "P001" / STAMP
    if folder.parent.parent.parent.exists():
        shutil.rmtree(folder.parent.parent.parent)
    (folder / "annotations").mkdir(parents=True)
    y, x, bands = 12, 16, 100
    wl = np.linspace(500, 1000, bands)
    spleen = 0.3 + 0.2 * np.exp(-(((wl - 760) / 80) ** 2))
    liver = 0.2 + 0.1 * (wl - 500) / 500
    cube = np.full((y, x, bands), 0.1, dtype=np.float32)
    cube[2:7, 2:8] = spleen
    cube[6:11, 9:15] = liver
    cube += RNG.normal(0, 0.005, cube.shape).astype(np.float32)
    raw = np.flip(np.swapaxes(cube, 0, 1), axis=1)  # Tivita stores (x, y flipped, bands)
    with open(folder / f"{STAMP}_SpecCube.dat", "wb") as fh:
        np.asarray(raw.shape, dtype=">i4").tofile(fh)
        np.ascontiguousarray(raw, dtype=">f4").tofile(fh)
    (folder / f"{STAMP}_meta.log").write_text(
        "[Camera]\nExposure time [ms] = 45\n", encoding="utf-8"
    )
    masks = {
        ("annotator1", "spleen"): (slice(2, 7), slice(2, 8)),
        ("annotator1", "liver"): (slice(6, 11), slice(9, 15)),
        ("annotator2", "spleen"): (slice(3, 6), slice(3, 7)),
    }
    for (annotator, label), (rows, cols) in masks.items():
        mask = np.zeros((y, x), dtype=bool)
        mask[rows, cols] = True
        name = f"{STAMP}#polygon#{annotator}#{label}#binary.png"
        Image.fromarray(mask).convert("1").save(folder / "annotations" / name, optimize=True)


def simpa(out: Path) -> None:
    """A SIMPA 1.0 file: initial pressure on the 20×10 simulation grid, reconstruction on 10×5."""
    with h5py.File(out / "simpa_forearm.hdf5", "w") as fh:
        fh["simpa_version"] = "1.0.0"
        for i, w in enumerate((700, 800)):
            fh[f"settings/wavelengths/list/{i}"] = w
        fh["settings/voxel_spacing_mm"] = 0.5
        fh["settings/volume_x_dim_mm"] = 10.0
        fh["settings/volume_z_dim_mm"] = 5.0
        seg = np.zeros((20, 10))  # (x, z): air above, muscle, one vessel
        seg[:, 2:] = 1
        seg[8:12, 5:8] = 3
        fh["simulations/simulation_properties/seg"] = seg
        for w in (700, 800):
            p0 = (seg == 3) * (2.0 if w == 800 else 1.0) + (seg == 1) * 0.2
            fh[f"simulations/simulation_properties/mua/{w}"] = p0 / 2
            fh[f"simulations/optical_forward_model_output/initial_pressure/{w}"] = p0
            fh[f"simulations/optical_forward_model_output/fluence/{w}"] = np.ones((20, 10))
            fh[f"simulations/reconstructed_data/{w}"] = p0[::2, ::2] + 0.01
        fh["simulation_pipeline/list/0"] = "ModelBasedVolumeCreationAdapter"


def patato(out: Path) -> None:
    """A patato file: 2 frames × 3 wavelengths of a 12×16 reconstruction, one ROI, Z-POS."""
    frames, wl, ny, nx = 2, np.array([700.0, 750.0, 800.0]), 12, 16
    with h5py.File(out / "patato_scan.hdf5", "w") as fh:
        fh.attrs["date"] = "2023-05-04T10:00:00"
        fh.attrs["name"] = "Scan_1"
        fh.create_dataset("raw_data", data=np.zeros((frames, 3, 8, 32)), dtype=np.uint16)
        fh.create_dataset("wavelengths", data=wl)
        fh.create_dataset("Z-POS", data=np.array([[0.0] * 3, [0.5] * 3]), compression="gzip")
        fh.create_dataset("REPETITION", data=np.ones((frames, 3)), compression="gzip")
        fh.create_dataset("RUN", data=np.zeros((frames, 3)), compression="gzip")
        yy, xx = np.mgrid[0:ny, 0:nx]
        blob = np.exp(-((yy - 4) ** 2 + (xx - 5) ** 2) / 6.0)
        recon = np.stack([np.stack([blob * (1 + k) + f for k in range(3)]) for f in range(frames)])[
            :, :, None
        ]  # (frames, wavelengths, z, y, x)
        ds = fh.require_group("recons").require_group("Backprojection Preclinical")
        d = ds.create_dataset("0", data=recon.astype(np.float64))
        for tag, value in (("X", 0.016), ("Y", 0.012), ("Z", 0.0)):
            d.attrs[f"RECONSTRUCTION_FIELD_OF_VIEW_{tag}"] = value
        d.attrs["RECONSTRUCTION_NX"], d.attrs["RECONSTRUCTION_NY"] = nx, ny
        d.attrs["RECONSTRUCTION_NZ"] = 1
        d.attrs["RECONSTRUCTION_ALGORITHM"] = b"Backprojection Preclinical"
        d.attrs["wavelengths"] = wl
        # an ROI around the blob, in metres: x in [-0.008, 0.008], y in [-0.006, 0.006]
        square = np.array([[-0.005, -0.004], [-0.001, -0.004], [-0.001, 0.0], [-0.005, 0.0]])
        roi = fh.require_group("rois").require_group("artery_left").create_dataset("0", data=square)
        roi.attrs.update(z=0.0, run=0, repetition=1, **{"class": "artery", "position": "left"})
        roi.attrs["generated"] = False


def udt_paper(out: Path) -> None:
    """The UDT-cINN paper's PAT ``.npz`` and an HSI ``(n, 100)`` spectra table with ``_seg``."""
    seg = np.zeros((8, 12), dtype=np.int64)
    seg[2:5, 3:7] = 1
    recon = RNG.random((16, 8, 12)).astype(np.float32) + seg
    oxy = np.where(seg == 1, 0.95, 0.7).astype(np.float32)
    np.savez(out / "udt_pat_0001.npz", reconstruction=recon, segmentation=seg, oxygenation=oxy)
    spectra = RNG.random((30, 100)).astype(np.float32) + 0.1
    np.save(out / f"P001#{STAMP}.npy", spectra)
    np.save(out / f"P001#{STAMP}_seg.npy", np.repeat([3, 17, 29], 10).astype(np.int64))


def main() -> None:
    for make in (
        envi_ignore_value,
        envi_no_byte_order,
        esri_bil,
        envi_dat,
        heiporspectral,
        simpa,
        patato,
        udt_paper,
    ):
        make(HERE)
        print("wrote", make.__name__)


if __name__ == "__main__":
    main()
