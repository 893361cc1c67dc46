"""Make the screenshots of docs/readers.md: ``docs/images/heiporspectral.png`` and ``patato.png``.

Run from the repository root (it starts its own virtual display when none is set)::

    python docs/make_reader_screenshots.py

Both files are written here, in a temporary folder, in the other projects' layouts from the
shipped real-like samples: the HSI cube as a Tivita ``_SpecCube.dat`` in the HeiPorSPECTRAL folder
layout with one binary annotation PNG per organ and annotator (as htc saves them), and the PAT image
as a patato HDF5 file with three frames, ``/wavelengths``, ``/recons/<algorithm>/0`` and one ROI
polygon in metres. Each is then opened the way a user does, File ▸ Open (``viewer.open`` with the
napari-cinn reader), and photographed in a real napari window.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "docs" / "images"
STAMP = "2021_04_15_09_22_02"


def settle(app, seconds: float = 0.8) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.02)


def save(viewer, app, name: str) -> None:
    settle(app)
    viewer.reset_view()
    settle(app)
    out = IMAGES / name
    tmp = out.with_name(f".{out.stem}.tmp.png")
    viewer.screenshot(str(tmp), canvas_only=False)
    os.replace(tmp, out)
    print(f"wrote {out.relative_to(ROOT)}")


def write_heiporspectral(root: Path) -> Path:
    """The real-like HSI sample as ``subjects/P042/<stamp>/<stamp>_SpecCube.dat`` + annotations."""
    from PIL import Image

    from napari_cinn.io import read_spectral, write_spectral

    sample = read_spectral(ROOT / "sample_data" / "hsi_real.hdr").load()
    folder = root / "subjects" / "P042" / STAMP
    (folder / "annotations").mkdir(parents=True)
    cube = folder / f"{STAMP}_SpecCube.dat"
    bare = type(sample)(sample.data, sample.wavelengths)
    write_spectral(cube, bare)
    names = sample.label_names
    drawn = {"annotator1": ("liver", "spleen", "stomach", "colon"), "annotator2": ("liver",)}
    for annotator, organs in drawn.items():
        for organ in organs:
            value = next(k for k, v in names.items() if v == organ)
            mask = sample.labels == value
            png = folder / "annotations" / f"{STAMP}#polygon#{annotator}#{organ}#binary.png"
            Image.fromarray(mask).convert("1").save(png, optimize=True)
    return cube


def write_patato(root: Path) -> Path:
    """The real-like PAT sample as a patato file: 3 frames, one ROI round an artery."""
    import h5py
    from scipy import ndimage

    from napari_cinn.io import read_spectral

    sample = read_spectral(ROOT / "sample_data" / "pat_real.npz").load()
    data = np.asarray(sample.data)  # (16, y, x)
    ny, nx = data.shape[1:]
    fov = 0.04  # m
    frames = np.stack([data * (1 + 0.1 * f) for f in range(3)])[:, :, None]
    artery = ndimage.label(sample.labels == 1)[0]
    cy, cx = ndimage.center_of_mass(artery == np.bincount(artery.ravel())[1:].argmax() + 1)
    r = 1.6 * np.sqrt((artery > 0).sum() / max(artery.max(), 1) / np.pi)
    t = np.linspace(0, 2 * np.pi, 24, endpoint=False)
    px, py = cx + r * np.cos(t), cy + r * np.sin(t)  # pixel coordinates of the ROI
    polygon = np.stack([px / (nx - 1) * fov - fov / 2, py / (ny - 1) * fov - fov / 2], 1)
    path = root / "Scan_7.hdf5"
    with h5py.File(path, "w") as fh:
        fh.create_dataset("wavelengths", data=sample.wavelengths)
        fh.create_dataset("Z-POS", data=np.zeros((3, 16)))
        recon = fh.require_group("recons").require_group("Model Based")
        ds = recon.create_dataset("0", data=frames.astype(np.float32))
        ds.attrs["RECONSTRUCTION_FIELD_OF_VIEW_X"] = fov
        ds.attrs["RECONSTRUCTION_FIELD_OF_VIEW_Y"] = fov
        ds.attrs["RECONSTRUCTION_FIELD_OF_VIEW_Z"] = 0.0
        roi = (
            fh.require_group("rois").require_group("artery_right").create_dataset("0", data=polygon)
        )
        roi.attrs.update(z=0.0, run=0, repetition=1, **{"class": "artery", "position": "right"})
    return path


def new_viewer(title: str):
    """A napari window with the "Open with options" dock, as Plugins ▸ napari-cinn adds it."""
    import napari

    viewer = napari.Viewer(title=title)
    viewer.window.resize(1400, 820)
    _, dock = viewer.window.add_plugin_dock_widget("napari-cinn", "Open with options")
    dock.native.setMaximumWidth(460)
    dock.status.native.setWordWrap(True)
    return viewer, dock


def main() -> int:
    if not os.environ.get("DISPLAY") and shutil.which("xvfb-run") and "--no-xvfb" not in sys.argv:
        cmd = ["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24", sys.executable, __file__]
        return subprocess.call([*cmd, "--no-xvfb"])
    from qtpy.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    IMAGES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        cube = write_heiporspectral(Path(tmp) / "HeiPorSPECTRAL")
        patato = write_patato(Path(tmp))
        viewer, dock = new_viewer("napari-cinn: HeiPorSPECTRAL cube with its annotations")
        dock.file.value = cube
        image, labels = viewer.open(cube, plugin="napari-cinn")
        viewer.dims.set_point(0, 20)  # 600 nm
        labels.opacity = 0.55
        dock.status.value = (
            f"subject {image.metadata['subject']}, annotator {image.metadata['annotator']} of "
            f"{', '.join(image.metadata['annotators'])}; {image.metadata['wavelength_grid']}"
        )
        save(viewer, app, "heiporspectral.png")
        viewer.close()
        viewer, dock = new_viewer("napari-cinn: patato PAT file (3 frames, ROI)")
        dock.file.value = patato
        image, labels = viewer.open(patato, plugin="napari-cinn")
        viewer.dims.set_point(0, 10)  # 800 nm
        viewer.dims.set_point(1, 0)
        image.gamma = 0.5
        labels.opacity = 0.45
        dock.status.value = (
            f"{image.metadata['field']}: {image.metadata['frames']} frames (axis 'frame'), "
            f"ROI {', '.join(labels.metadata['label_names'].values())}"
        )
        save(viewer, app, "patato.png")
        viewer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
