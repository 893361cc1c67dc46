"""Screenshots of the Spectra, Latent space and Compare docks for the README tour.

Saves ``docs/images/spectra.png``, ``latent.png`` and ``compare.png``. Run from the repository
root (it starts its own virtual display when none is set)::

    python docs/_screenshots_part2.py

Data: the HSI samples (``napari_cinn._sample_data.load_sample``) when available, otherwise a small
synthetic sim / real-like pair made here (four tissue discs; real-like adds a white-balance error,
an offset, blur and noise). The "sim→real" layer is the shipped model's transfer when
``sample_data/models/hsi_sample.safetensors`` exists; otherwise a per-band moment-matching stand-in,
named as such. The latent view uses the sample model's latent space when present, else data space.
Each choice is printed. (Meant to be folded into docs/make_screenshots.py.)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "docs" / "images"
SAMPLE_MODEL = ROOT / "sample_data" / "models" / "hsi_sample.safetensors"
sys.path.insert(0, str(ROOT))


def _synthetic(wl: np.ndarray, real: bool, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A 64×64 cube of four tissue discs on background, and its labels."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:64, :64]
    labels = np.ones((64, 64), int)
    for k, (cy, cx, r) in enumerate(((18, 20, 12), (20, 46, 11), (46, 18, 12), (46, 46, 13)), start=2):
        labels[(yy - cy) ** 2 + (xx - cx) ** 2 < r**2] = k
    hb = np.exp(-0.5 * ((wl - 560) / 25) ** 2) + 0.8 * np.exp(-0.5 * ((wl - 760) / 40) ** 2)
    water = 1 / (1 + np.exp(-(wl - 950) / 15))
    spectra = {
        1: 0.55 - 0.15 * hb - 0.10 * water,
        2: 0.35 - 0.25 * hb - 0.05 * water,
        3: 0.60 - 0.05 * hb - 0.30 * water,
        4: 0.45 - 0.20 * hb * (wl > 600) - 0.15 * water,
        5: 0.30 + 0.10 * np.sin(wl / 60) - 0.10 * hb,
    }
    cube = np.stack([spectra[lab] for lab in labels.ravel()], axis=1).reshape(wl.size, 64, 64)
    cube = cube * (1 + 0.03 * rng.standard_normal((1, 64, 64)))
    if real:
        gain = 1 + 0.15 * np.sin((wl - 500) / 120)[:, None, None]
        cube = cube * gain + 0.04
        from scipy.ndimage import uniform_filter

        cube = uniform_filter(cube, size=(1, 3, 3))
        cube = cube + 0.015 * rng.standard_normal(cube.shape)
    return np.clip(cube, 1e-3, None).astype(np.float32), labels


def _data(wl):
    try:
        from napari_cinn._sample_data import load_sample

        sim, real = load_sample("hsi_sim"), load_sample("hsi_real")
        print("data: HSI samples (napari_cinn._sample_data.load_sample)")
        return (np.asarray(sim.data, np.float32), np.asarray(sim.wavelengths), sim.labels,
                np.asarray(real.data, np.float32))
    except Exception as err:  # samples not there yet: synthetic stand-in
        print(f"data: synthetic stand-in ({type(err).__name__}: {err})")
        sim, labels = _synthetic(wl, False, 0)
        real, _ = _synthetic(wl, True, 1)
        return sim, wl, labels, real


def _transferred(sim, real, wl):
    if SAMPLE_MODEL.exists():
        from napari_cinn.core import load_model, transfer_image

        model = load_model(SAMPLE_MODEL)
        print(f"sim→real: {SAMPLE_MODEL.relative_to(ROOT)}")
        return transfer_image(model, sim, "sim", "real", wavelengths=wl, device="cpu"), "sim→real", model
    print("sim→real: per-band moment-matching stand-in (no sample model yet)")
    s = sim.reshape(sim.shape[0], -1)
    r = real.reshape(real.shape[0], -1)
    out = (s - s.mean(1, keepdims=True)) / s.std(1, keepdims=True) * r.std(1, keepdims=True)
    out = out + r.mean(1, keepdims=True)
    return out.reshape(sim.shape).astype(np.float32), "sim→real (moment matching)", None


def _settle(app, n=30):
    import time

    for _ in range(n):
        app.processEvents()
        time.sleep(0.02)


def main() -> int:
    if not os.environ.get("DISPLAY") and shutil.which("xvfb-run") and "--no-xvfb" not in sys.argv:
        cmd = ["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24", sys.executable, __file__, "--no-xvfb"]
        return subprocess.call(cmd)
    import napari
    from qtpy.QtWidgets import QApplication

    from napari_cinn.core.spectra import HSI_WAVELENGTHS
    from napari_cinn.widgets.compare import CompareWidget
    from napari_cinn.widgets.latent import DATA, LatentWidget
    from napari_cinn.widgets.spectra import SpectraWidget

    app = QApplication.instance() or QApplication([])
    IMAGES.mkdir(parents=True, exist_ok=True)
    sim, wl, labels, real = _data(HSI_WAVELENGTHS)
    transferred, tname, model = _transferred(sim, real, wl)

    def viewer_with_layers(title):
        viewer = napari.Viewer(title=title, show=True)
        viewer.window._qt_window.resize(1500, 820)
        for name, cube, dom in (("sim", sim, "sim"), (tname, transferred, "sim→real"), ("real", real, "real")):
            viewer.add_image(cube, name=name, metadata={"wavelengths": wl, "domain": dom},
                             axis_labels=("λ", "y", "x"), colormap="gray")
        viewer.dims.set_current_step(0, 20)
        return viewer

    # --- Spectra: a click on a tissue disc, a pinned background pixel, an ROI mean ± std
    viewer = viewer_with_layers("napari-cinn: Spectra")
    if labels is not None:
        viewer.add_labels(np.asarray(labels), name="labels", opacity=0.25)
    spectra = SpectraWidget(viewer)
    viewer.window.add_dock_widget(spectra, name="Spectra", area="right")
    viewer.layers.selection.active = viewer.layers["sim"]
    _settle(app)
    y, x = sim.shape[1] // 4, sim.shape[2] // 3
    spectra.show_at((20, 2, 3))
    spectra.pin()
    spectra.show_at((20, y, x))
    if labels is not None:
        spectra.roi.setCurrentText("labels")
        spectra.label.setValue(int(np.asarray(labels)[y, x]))
        spectra.compute_roi()
    spectra.show_at((20, y, x))
    spectra.plot.draw()
    _settle(app)
    viewer.screenshot(str(IMAGES / "spectra.png"), canvas_only=False)
    print("wrote docs/images/spectra.png")
    viewer.close()

    # --- Latent space: KDE + marginals, PCA fitted on real; a clicked pixel; a lasso selection
    viewer = viewer_with_layers("napari-cinn: Latent space")
    latent = LatentWidget(viewer)
    viewer.window.add_dock_widget(latent, name="Latent space", area="right")
    if model is not None:
        latent.set_model(model)
        latent.model_path.setText(str(SAMPLE_MODEL.relative_to(ROOT)))
    else:
        latent.space.setCurrentText(DATA)
    latent.n_pixels.setValue(3000)
    latent.compute()
    while latent._worker is not None:
        _settle(app, 5)
    latent.mark_pixel((20, y, x))
    res = latent.result
    ref = next(c for c in res.clouds if c.name == res.reference)
    if labels is not None:  # lasso around the reference pixels of the clicked tissue
        tissue = np.asarray(labels)[ref.index] == np.asarray(labels)[y, x]
        pts = ref.points[tissue]
    else:
        pts = ref.points
    lo, hi = np.percentile(pts, 5, axis=0), np.percentile(pts, 95, axis=0)
    box = [(lo[0], lo[1]), (hi[0], lo[1]), (hi[0], hi[1]), (lo[0], hi[1])]
    latent.select_polygon(box)
    latent.plot.draw()
    _settle(app)
    viewer.screenshot(str(IMAGES / "latent.png"), canvas_only=False)
    print(f"wrote docs/images/latent.png ({res.space} space)")
    viewer.close()

    # --- Compare: side by side, per-wavelength difference to real with MMD/C2ST
    viewer = viewer_with_layers("napari-cinn: Compare")
    if labels is not None:
        viewer.add_labels(np.asarray(labels), name="labels", opacity=0.0)
    compare = CompareWidget(viewer)
    viewer.window.add_dock_widget(compare, name="Compare", area="right")
    compare.set_checked(["sim", tname, "real"])
    compare.reference.setCurrentText("real")
    if labels is not None:
        compare.roi.setCurrentText("labels")
    compare.compute_summary()
    while compare._worker is not None:
        _settle(app, 5)
    compare.side_btn.click()
    viewer.layers.selection.active = viewer.layers["sim"]
    compare.plot.draw()
    _settle(app)
    viewer.screenshot(str(IMAGES / "compare.png"), canvas_only=False)
    print("wrote docs/images/compare.png")
    compare.side_btn.click()
    viewer.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
