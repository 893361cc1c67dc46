"""Make the README screenshots in one run: ``docs/images/transfer.png``, ``spectra.png``,
``latent.png``, ``latent_health.png`` and ``compare.png``.

Run from the repository root (it starts its own virtual display when none is set)::

    python docs/make_screenshots.py

One napari window, the shipped HSI samples (File ▸ Open Sample ▸ napari-cinn) and the shipped
trained model ``sample_data/models/hsi_sample.safetensors``; no stand-ins (it stops with a message
when the model is missing). Each dock is added, shown, photographed and removed in turn:

1. *Domain transfer*: the dock runs the cINN sim→real transfer (with the log-likelihood map);
   grid of the simulated cube, its transfer, the real-like cube and the realism map.
2. *Spectra*: a clicked pixel that is colon in both the simulated and the real-like cube, and the
   mean ± std over the pixels that are bladder in both (so every layer's curve shows one tissue).
3. *Latent space*: all 4096 pixels of the simulated and of the real-like cube encoded by the trained
   model, PCA fitted on the real-like cube; the clicked pixel is starred and a box round the
   cleanest tissue cluster paints those pixels into a Labels layer (linked brushing); each cube
   plus the noise the model adds to its domain, as the transfer encodes it. Then the
   dock's *Latent health* tab: the per-dimension std of each cube's codes (N(0, 1) wants 1).
4. *Compare*: side by side in napari's grid, per-wavelength |Δ median| per class to the real-like
   cube with MMD² and C2ST AUC.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "docs" / "images"
MODEL = ROOT / "sample_data" / "models" / "hsi_sample.safetensors"
WINDOW = (1500, 820)
BAND = 20  # 600 nm: tissues differ clearly
sys.path.insert(0, str(ROOT))

SIM, REAL = "hsi_sim", "hsi_real"
SIM_LABELS, REAL_LABELS = f"{SIM} labels", f"{REAL} labels"
TRANSFERRED = f"{SIM} [sim→real]"
CLICK_CLASS, ROI_CLASS = 6, 9  # colon (the clicked pixel), bladder (the ROI); see sample labels


# ----------------------------------------------------------------------------- shared helpers
def settle(app, seconds: float = 0.6) -> None:
    """Let Qt, vispy and matplotlib finish painting."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.02)


def wait_for(app, done, what: str, timeout: float = 300.0) -> None:
    t0 = time.perf_counter()
    while not done():
        if time.perf_counter() - t0 > timeout:
            raise RuntimeError(f"{what} did not finish within {timeout:.0f} s")
        app.processEvents()
        time.sleep(0.02)


def save(viewer, app, name: str) -> None:
    """Screenshot of the whole window to ``docs/images/<name>`` (temp file, then rename)."""
    settle(app)
    out = IMAGES / name
    tmp = out.with_name(f".{out.stem}.tmp.png")
    viewer.screenshot(str(tmp), canvas_only=False)
    os.replace(tmp, out)
    print(f"wrote {out.relative_to(ROOT)}")


def show_only(viewer, names) -> None:
    for layer in viewer.layers:
        layer.visible = layer.name in names


def dock(viewer, widget_name: str):
    """Add a napari-cinn dock through the plugin manifest (as the Plugins menu does)."""
    dock_widget, widget = viewer.window.add_plugin_dock_widget("napari-cinn", widget_name)
    return dock_widget, widget


def undock(viewer, dock_widget) -> None:
    viewer.window.remove_dock_widget(dock_widget)


def both_labelled(viewer, value: int) -> np.ndarray:
    """Pixels labelled ``value`` in both sample label masks (the two cubes differ in layout)."""
    return (np.asarray(viewer.layers[SIM_LABELS].data) == value) & (
        np.asarray(viewer.layers[REAL_LABELS].data) == value
    )


def inner_pixel(mask: np.ndarray) -> tuple[int, int]:
    """A pixel deep inside ``mask`` (largest distance to its border)."""
    from scipy.ndimage import distance_transform_edt

    y, x = np.unravel_index(np.argmax(distance_transform_edt(mask)), mask.shape)
    return int(y), int(x)


def _clean_cluster(viewer, res):
    """(tissue name, box) for the tissue whose reference points fill a 15–85 % box most purely."""
    ref = next(c for c in res.clouds if c.name == res.reference)
    labels = np.asarray(viewer.layers[REAL_LABELS].data)[ref.index]
    names = json.loads((ROOT / "sample_data" / f"{REAL}_labels.json").read_text(encoding="utf-8"))
    from napari_cinn.core.polygons import points_in_polygon

    best = None
    for value in np.unique(labels[labels > 0]):
        pts = ref.points[labels == value]
        if len(pts) < 30:
            continue
        lo, hi = np.percentile(pts, 15, axis=0), np.percentile(pts, 85, axis=0)
        box = [(lo[0], lo[1]), (hi[0], lo[1]), (hi[0], hi[1]), (lo[0], hi[1])]
        inside = points_in_polygon(ref.points, np.asarray(box))
        purity = float(np.mean(labels[inside] == value)) if inside.any() else 0.0
        if best is None or purity > best[0]:
            best = (purity, int(value), box)
    purity, value, box = best
    name = names.get(str(value), f"label {value}")
    return f"{name} ({purity:.0%} of the boxed reference points)", box


# ----------------------------------------------------------------------------- the four pictures
def shot_transfer(viewer, app) -> None:
    dock_widget, widget = dock(viewer, "Domain transfer")
    if not widget.set_model_path(MODEL):
        raise RuntimeError(f"the dock refused {MODEL}: {widget.status_label.text()}")
    widget.layer_combo.setCurrentText(SIM)
    widget.likelihood_check.setChecked(True)
    widget.sample_check.setChecked(True)  # one stochastic realisation (seed 0): real-like noise
    widget.run()
    wait_for(app, lambda: not widget.running, "the transfer")
    if TRANSFERRED not in viewer.layers:
        raise RuntimeError(f"no transferred layer: {widget.status_label.text()}")
    ll_name = next(ly.name for ly in viewer.layers if "log p" in ly.name)
    # grid (filled from the bottom of the layer list): sim | sim→real / real | log p under real
    order = [SIM, TRANSFERRED, REAL, ll_name]
    for i, name in enumerate(order):
        viewer.layers.move(viewer.layers.index(name), i)
        viewer.layers[name].name_overlay.visible = True
    show_only(viewer, order)
    viewer.canvas.grid.shape = (2, 2)
    viewer.canvas.grid.enabled = True
    viewer.layers.selection.active = viewer.layers[TRANSFERRED]
    viewer.reset_view()
    save(viewer, app, "transfer.png")
    print(f"  transfer: {widget.status_label.text().splitlines()[-1]}")
    undock(viewer, dock_widget)
    viewer.canvas.grid.enabled = False
    for name in order:
        viewer.layers[name].name_overlay.visible = False


def shot_spectra(viewer, app) -> tuple[int, int]:
    """Returns the clicked pixel (y, x)."""
    roi = viewer.add_labels(
        both_labelled(viewer, ROI_CLASS).astype(np.uint8) * ROI_CLASS,
        name="bladder in both",
        opacity=0.45,
    )
    show_only(viewer, [SIM, "bladder in both"])
    dock_widget, widget = dock(viewer, "Spectra")
    settle(app)
    y, x = inner_pixel(both_labelled(viewer, CLICK_CLASS))
    widget.roi.setCurrentText(roi.name)
    widget.label.setValue(ROI_CLASS)
    widget.compute_roi()
    widget.show_at((BAND, y, x))
    viewer.layers.selection.active = viewer.layers[SIM]
    widget.plot.draw()
    save(viewer, app, "spectra.png")
    print(
        f"  spectra: colon pixel (y={y}, x={x}); ROI bladder in both, "
        f"{int(np.count_nonzero(roi.data))} px; {widget.status.text()}"
    )
    undock(viewer, dock_widget)
    viewer.layers.remove(roi)
    return y, x


def shot_latent(viewer, app, pixel: tuple[int, int]) -> None:
    show_only(viewer, [SIM])
    dock_widget, widget = dock(viewer, "Latent space")
    if not widget.load_model(str(MODEL)):
        raise RuntimeError(f"the Latent dock refused {MODEL}: {widget.status.text()}")
    # "model noise" on (the default): sim is encoded plus the camera noise it lacks, as the
    # stochastic transfer encodes it, so its cloud fills the real one (off: a thin core)
    widget.set_checked([SIM, TRANSFERRED, REAL])
    widget.reference.setCurrentText(REAL)
    widget.n_pixels.setValue(5000)  # every pixel of the 64×64 samples
    widget.compute()
    wait_for(app, lambda: not widget.running, "the latent projection")
    if widget.result is None:
        raise RuntimeError(f"no latent projection: {widget.status.text()}")
    res = widget.result
    widget.mark_pixel((BAND, *pixel))
    # a lasso drawn by hand round a tight cluster of the reference: here the box round the middle
    # of the tissue whose reference points cluster most cleanly
    tissue, box = _clean_cluster(viewer, res)
    widget.select_polygon(box)
    show_only(viewer, [REAL, "latent selection"])
    viewer.layers.selection.active = viewer.layers[REAL]
    widget.plot.draw()
    save(viewer, app, "latent.png")
    print(f"  latent: {res.space} space; box round {tissue}; {widget.status.text()}")
    # the same projection's latent health: per-dimension std strip of each domain, in words
    widget.tabs.setCurrentIndex(1)
    widget.health_plot.draw()
    save(viewer, app, "latent_health.png")
    print(f"  latent health: {widget.health_text.text()}")
    widget.tabs.setCurrentIndex(0)
    undock(viewer, dock_widget)
    viewer.layers.remove("latent selection")


def shot_compare(viewer, app) -> None:
    show_only(viewer, [SIM, TRANSFERRED, REAL])
    dock_widget, widget = dock(viewer, "Compare")
    names = [SIM, TRANSFERRED, REAL]
    widget.set_checked(names)
    widget.reference.setCurrentText(REAL)
    widget.roi.setCurrentText(REAL_LABELS)
    widget.compute_summary()
    wait_for(app, lambda: widget.job.worker is None, "the comparison")
    widget.side_btn.click()
    viewer.layers.selection.active = viewer.layers[TRANSFERRED]
    widget.plot.draw()
    save(viewer, app, "compare.png")
    print(f"  compare: {widget.status.text()}")
    widget.side_btn.click()
    undock(viewer, dock_widget)


# ----------------------------------------------------------------------------- main
def main() -> int:
    if not os.environ.get("DISPLAY") and shutil.which("xvfb-run") and "--no-xvfb" not in sys.argv:
        cmd = [
            "xvfb-run",
            "-a",
            "-s",
            "-screen 0 1600x1000x24",
            sys.executable,
            __file__,
            "--no-xvfb",
        ]
        return subprocess.call(cmd)
    if not MODEL.exists():
        print(
            f"error: the shipped model {MODEL.relative_to(ROOT)} is missing; "
            "see sample_data/README.md for how it is made",
            file=sys.stderr,
        )
        return 1
    import napari
    from qtpy.QtWidgets import QApplication

    from napari_cinn.core import load_model

    app = QApplication.instance() or QApplication([])
    IMAGES.mkdir(parents=True, exist_ok=True)
    model = load_model(MODEL, device="cpu")
    print(f"model: {MODEL.relative_to(ROOT)} ({model.modality}, domains {list(model.domains)})")
    viewer = napari.Viewer(title="napari-cinn", show=True)
    viewer.window._qt_window.resize(*WINDOW)
    viewer.open_sample("napari-cinn", SIM)
    viewer.open_sample("napari-cinn", REAL)
    viewer.dims.set_current_step(0, BAND)
    try:
        shot_transfer(viewer, app)
        pixel = shot_spectra(viewer, app)
        shot_latent(viewer, app, pixel)
        shot_compare(viewer, app)
    finally:
        viewer.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
