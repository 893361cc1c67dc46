"""Make the README screenshot: napari with the "Domain transfer" dock, the simulated HSI sample and
its transferred version side by side. Saves ``docs/images/transfer.png``.

Run from the repository root (it starts its own virtual display when none is set)::

    python docs/make_screenshots.py

Uses the shipped model ``sample_data/models/hsi_sample.safetensors`` when present; otherwise a
small untrained model whose per-domain band statistics are fitted on the two sample cubes (so the
picture shows the mechanics, not the trained transfer). Says which one it used.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "images" / "transfer.png"
sys.path.insert(0, str(ROOT))


def _model(tmp: Path) -> tuple[Path, str]:
    from napari_cinn.widgets._transfer_logic import shipped_models

    shipped = [p for p in shipped_models() if "hsi" in p.name]
    if shipped:
        return shipped[0], f"shipped model {shipped[0].name}"
    import numpy as np

    from napari_cinn._sample_data import load_sample
    from napari_cinn.core import build_model, save_model

    model = build_model("hsi", n_blocks=4, hidden=64)
    for domain in ("sim", "real"):
        cube = np.asarray(load_sample(f"hsi_{domain}").data)
        model.fit_normalization(cube.reshape(cube.shape[0], -1).T, domain)
    path = save_model(model, tmp / "hsi_illustration.safetensors", note="screenshot stand-in")
    return path, "untrained stand-in model (band statistics fitted on the samples)"


def main() -> int:
    if not os.environ.get("DISPLAY") and shutil.which("xvfb-run") and "--no-xvfb" not in sys.argv:
        cmd = ["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24", sys.executable, __file__, "--no-xvfb"]
        return subprocess.call(cmd)
    import napari
    from qtpy.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as tmp:
        model, used = _model(Path(tmp))
        viewer = napari.Viewer(title="napari-cinn: domain transfer", show=True)
        viewer.window._qt_window.resize(1400, 720)
        viewer.open_sample("napari-cinn", "hsi_sim")
        viewer.open_sample("napari-cinn", "hsi_real")
        _, dock = viewer.window.add_plugin_dock_widget("napari-cinn", "Domain transfer")
        dock.set_model_path(model)
        dock.layer_combo.setCurrentText("hsi_sim")
        dock.likelihood_check.setChecked(False)
        dock.run()
        t0 = time.perf_counter()
        while dock.running and time.perf_counter() - t0 < 300:
            app.processEvents()
            time.sleep(0.01)
        for name in ("hsi_sim labels", "hsi_real labels"):
            viewer.layers.remove(name)  # grid cells for the three cubes only
        # side by side (grid fills from the bottom of the layer list): sim | sim→real | real-like
        order = ["hsi_sim", "hsi_sim [sim→real]", "hsi_real"]
        for i, name in enumerate(order):
            viewer.layers.move(viewer.layers.index(name), i)
            viewer.layers[name].name_overlay.visible = True
        viewer.canvas.grid.enabled = True
        viewer.canvas.grid.shape = (1, 3)
        viewer.dims.set_point(0, 12)  # band 12 = 560 nm (haemoglobin dip)
        viewer.layers.selection.active = viewer.layers["hsi_sim [sim→real]"]
        viewer.reset_view()
        for _ in range(20):
            app.processEvents()
            time.sleep(0.05)
        OUT.parent.mkdir(parents=True, exist_ok=True)
        tmp_png = OUT.with_name(".transfer.tmp.png")
        viewer.screenshot(str(tmp_png), canvas_only=False)
        os.replace(tmp_png, OUT)
        print(f"saved {OUT.relative_to(ROOT)} using the {used}; dock status: "
              f"{dock.status_label.text().splitlines()[0]}")
        viewer.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
