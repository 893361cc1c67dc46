"""Open a 640×480×100 ENVI cube memory-mapped, transfer it through the dock, time napari start-up.

Run under a display (the transfer and start-up parts use a real napari window)::

    xvfb-run -a python benchmarks/bench_open_transfer.py            # full size
    xvfb-run -a python benchmarks/bench_open_transfer.py --quick    # 160×120, small model

Figures:
- open: ``read_spectral`` of the ENVI cube with its pages evicted from the OS cache first
  (``posix_fadvise(DONTNEED)``), the napari reader (layer tuples incl. robust contrast limits),
  and ``viewer.open`` in a real viewer (the first open in a fresh viewer also pays napari's own
  one-off lazy imports, e.g. scipy.ndimage for thumbnails; the second is the file's own cost).
  Target: ≤ 2 s.
- transfer: the "Domain transfer" dock on that layer (thread_worker), wall time, number of progress
  updates, and the longest gap between ticks of a 20 ms Qt timer during the run (the viewer stays
  responsive when that gap stays small).
- start-up: ``napari.Viewer()`` shown and closed in a fresh process, with napari-cinn enabled vs
  disabled in npe2 (median of N), and whether torch got imported at start-up.
The last line printed is one JSON object with all figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def evict(path: Path) -> bool:
    """Drop ``path`` from the page cache so the open is measured cold (Linux; best effort)."""
    if not hasattr(os, "posix_fadvise"):
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)
    return True


def write_cube(folder: Path, shape: tuple[int, int, int]) -> Path:
    from napari_cinn.core.spectra import HSI_WAVELENGTHS, wavelength_grid
    from napari_cinn.io import SpectralImage, write_spectral

    bands, y, x = shape
    wl = HSI_WAVELENGTHS if bands == 100 else wavelength_grid(500, 995, bands)
    rng = np.random.default_rng(0)
    base = 0.2 + 0.3 / (1 + np.exp(-(wl - 600) / 15))
    data = np.empty(shape, np.float32)
    shade = (0.8 + 0.4 * rng.random((y, x))).astype(np.float32)
    for b in range(bands):  # band by band: bounded memory
        data[b] = base[b] * shade + rng.normal(0, 0.005, (y, x)).astype(np.float32)
    path = folder / "bench_cube.hdr"
    write_spectral(path, SpectralImage(data, wl, metadata={"domain": "sim"}))
    return path


def model_file(folder: Path, quick: bool) -> tuple[Path, str]:
    from napari_cinn.widgets._logic.models import shipped_models

    shipped = [p for p in shipped_models() if "hsi" in p.name]
    if shipped and not quick:
        return shipped[0], f"shipped {shipped[0].name}"
    from napari_cinn.core import build_model, save_model

    hyper = {"n_blocks": 4, "hidden": 64} if quick else {}
    m = build_model("hsi", **hyper)
    desc = "fresh HSI model, " + ("4 blocks × 64" if quick else "default 20 blocks × 256")
    return save_model(m, folder / "bench_model.safetensors"), desc


def bench_open(path: Path) -> dict:
    from napari_cinn.io import read_spectral
    from napari_cinn.io._napari import get_reader

    out = {"cold_cache": evict(path.with_suffix(".img"))}
    t0 = time.perf_counter()
    img = read_spectral(path)
    out["read_spectral_s"] = time.perf_counter() - t0
    out["memmap"] = type(img.data).__name__
    evict(path.with_suffix(".img"))
    t0 = time.perf_counter()
    reader = get_reader(str(path))
    layers = reader(str(path))
    out["napari_reader_s"] = time.perf_counter() - t0
    out["shape"] = list(layers[0][0].shape)
    return out


def bench_viewer(path: Path, model: Path, chunk: int | None, skip_transfer: bool = False) -> dict:
    import napari
    from qtpy.QtCore import QTimer
    from qtpy.QtWidgets import QApplication

    from napari_cinn.widgets.transfer import TransferWidget

    out: dict = {}
    viewer = napari.Viewer(show=True)
    app = QApplication.instance()
    evict(path.with_suffix(".img"))
    t0 = time.perf_counter()
    (first,) = viewer.open(path, plugin="napari-cinn")
    app.processEvents()
    out["viewer_open_first_s"] = time.perf_counter() - t0  # includes napari's one-off imports
    viewer.layers.remove(first)
    evict(path.with_suffix(".img"))
    t0 = time.perf_counter()
    (layer,) = viewer.open(path, plugin="napari-cinn")
    app.processEvents()
    out["viewer_open_s"] = time.perf_counter() - t0
    if skip_transfer:
        viewer.close()
        return out
    widget = TransferWidget(viewer)
    viewer.window.add_dock_widget(widget, name="Domain transfer")
    widget.set_model_path(model)
    widget.layer_combo.setCurrentText(layer.name)
    widget.chunk = chunk
    progress: list[float] = []
    widget.job.progressed.connect(lambda s, d, t: progress.append(d / t))
    ticks: list[float] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(20)
    t0 = time.perf_counter()
    widget.run()
    while widget.running:
        app.processEvents()
        time.sleep(0.005)
    out["transfer_s"] = time.perf_counter() - t0
    timer.stop()
    gaps = np.diff(ticks) if len(ticks) > 1 else np.array([np.nan])
    out["progress_updates"] = len(progress)
    out["max_event_loop_gap_ms"] = float(np.nanmax(gaps) * 1000)
    out["median_event_loop_gap_ms"] = float(np.nanmedian(gaps) * 1000)
    out["status"] = widget.status_label.text().splitlines()[0]
    out["pixels_per_s"] = float(np.prod(layer.data.shape[1:]) / out["transfer_s"])
    viewer.close()
    return out


STARTUP = r"""
import sys, time
t0 = time.perf_counter()
import napari
from npe2 import PluginManager
pm = PluginManager.instance()
pm.discover()
if {disable!r}:
    pm.disable("napari-cinn")
v = napari.Viewer(show=True)
from qtpy.QtWidgets import QApplication
QApplication.instance().processEvents()
t1 = time.perf_counter()
mods = [m for m in sys.modules if m.startswith("napari_cinn")]
print("RESULT", t1 - t0, "torch" in sys.modules, ",".join(sorted(mods)))
v.close()
"""


def bench_startup(repeats: int) -> dict:
    res: dict = {}
    for label, disable in (("with_plugin", False), ("without_plugin", True)):
        times, torch_flags, modules = [], [], ""
        for _ in range(repeats):
            proc = subprocess.run(
                [sys.executable, "-c", STARTUP.format(disable=disable)],
                capture_output=True,
                text=True,
                cwd=ROOT,
                timeout=300,
            )
            line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")), None)
            if line is None:
                raise RuntimeError(f"start-up probe failed:\n{proc.stderr[-2000:]}")
            _, t, torch_loaded, mods = (line.split(" ") + [""])[:4]
            times.append(float(t))
            torch_flags.append(torch_loaded == "True")
            modules = mods
        res[f"startup_{label}_s"] = statistics.median(times)
        res[f"startup_{label}_all_s"] = [round(t, 2) for t in times]
        res[f"torch_imported_at_startup_{label}"] = any(torch_flags)
        res[f"napari_cinn_modules_at_startup_{label}"] = modules
    proc = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-c",
            "import napari_cinn.io._napari, napari_cinn._sample_data, napari_cinn.widgets.transfer",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    tops = [ln for ln in proc.stderr.splitlines() if ln.rstrip().endswith(("torch", "napari_cinn"))]
    res["plugin_modules_import_torch"] = any(ln.rstrip().endswith(" torch") for ln in tops)
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="160×120×100 cube and a small model")
    ap.add_argument("--startup-repeats", type=int, default=3)
    ap.add_argument("--skip-startup", action="store_true")
    ap.add_argument("--skip-transfer", action="store_true")
    ap.add_argument("--chunk", type=int, default=None, help="pixels per transfer chunk")
    args = ap.parse_args()
    shape = (100, 120, 160) if args.quick else (100, 480, 640)
    figures: dict = {"cube_shape_bands_y_x": list(shape)}
    with tempfile.TemporaryDirectory(prefix="bench_open_") as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        path = write_cube(folder, shape)
        figures["write_envi_s"] = time.perf_counter() - t0
        figures["cube_mb"] = round(path.with_suffix(".img").stat().st_size / 2**20, 1)
        model, desc = model_file(folder, args.quick)
        figures["model"] = desc
        figures.update(bench_open(path))
        if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
            figures.update(bench_viewer(path, model, args.chunk, args.skip_transfer))
            if not args.skip_startup:
                figures.update(bench_startup(args.startup_repeats))
        else:
            figures["note"] = "no display: run under xvfb-run -a for the viewer figures"
    import torch

    figures["torch_threads"] = torch.get_num_threads()
    figures["cpu_count"] = os.cpu_count()
    print(f"{'figure':44s} value")
    for k, v in figures.items():
        if isinstance(v, float):
            v = f"{v:.3f}"
        print(f"{k:44s} {v}")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
