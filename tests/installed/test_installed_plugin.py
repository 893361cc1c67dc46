"""napari-cinn installed from its wheel, as napari users install plugins: the samples, their
labels and the shipped models travel inside the distribution, the Transfer dock offers the
shipped model, and no bare ``training`` module is installed.

Runs only against an installed wheel, from a folder outside the source tree: ``.ci/wheel_check.sh``
builds the wheel, installs it into a fresh virtual environment and runs this file there. In the
checkout's own (editable) environment it is skipped.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tqdm

import napari_cinn

tqdm.tqdm.monitor_interval = 0  # a known Qt race with tqdm's monitor thread

HERE = Path(__file__).resolve()
INSTALLED = Path(napari_cinn.__file__).resolve().parent
pytestmark = pytest.mark.skipif(
    "site-packages" not in INSTALLED.parts,
    reason=f"napari_cinn is imported from {INSTALLED}, not from an installed wheel",
)
SAMPLES = {"hsi_sim": (100, 11), "hsi_real": (100, 11), "pat_sim": (16, 3), "pat_real": (16, 3)}


def test_the_source_tree_is_not_on_the_path():
    assert not any((Path(p) / "training" / "cli.py").is_file() for p in sys.path if p)
    assert (INSTALLED / "sample_data" / "models" / "hsi_sample.safetensors").is_file()


def test_no_bare_training_module_but_the_cinn_train_command_works():
    bare = subprocess.run([sys.executable, "-c", "import training"], capture_output=True, text=True)
    assert bare.returncode != 0 and "No module named 'training'" in bare.stderr
    exe = shutil.which("cinn-train") or str(Path(sys.executable).with_name("cinn-train"))
    helped = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=300)
    assert helped.returncode == 0, helped.stderr[-2000:]
    assert "fit" in helped.stdout and "evaluate" in helped.stdout


def test_samples_open_with_labels_and_the_shipped_model_transfers(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    for key, (bands, n_names) in SAMPLES.items():
        viewer.open_sample("napari-cinn", key)
        cube, labels = viewer.layers[key], viewer.layers[f"{key} labels"]
        assert cube.data.shape[0] == bands and len(cube.metadata["wavelengths"]) == bands
        assert cube.metadata["domain"] == key.split("_")[1]
        assert labels.data.shape == cube.data.shape[1:]
        assert len(labels.metadata["label_names"]) == n_names
        assert set(np.unique(labels.data)) <= set(labels.metadata["label_names"])
    _, dock = viewer.window.add_plugin_dock_widget("napari-cinn", "Domain transfer")
    # a PAT layer: the shipped PAT model is offered first, the HSI one after it, marked
    dock.layer_combo.setCurrentText("pat_sim")
    assert dock.model_info is not None and dock.model_info.name == "pat_sample"
    items = dock.picker.items()
    assert items.index("pat_sample.safetensors") < items.index(
        "hsi_sample.safetensors (does not fit)"
    )
    # the user picks hsi_sim and the shipped HSI model from the list, and runs sim → real
    dock.layer_combo.setCurrentText("hsi_sim")
    combo = dock.model_combo
    index = next(i for i in range(combo.count()) if combo.itemText(i) == "hsi_sample.safetensors")
    combo.setCurrentIndex(index)
    combo.activated.emit(index)
    assert dock.model_info.path.resolve().is_relative_to(INSTALLED)
    dock.set_direction("sim", "real")
    assert dock.run_btn.isEnabled(), dock.status_label.text()
    dock.run()
    qtbot.waitUntil(lambda: not dock.running, timeout=300_000)
    out = viewer.layers["hsi_sim [sim→real]"]
    assert out.data.shape == viewer.layers["hsi_sim"].data.shape
    assert np.isfinite(out.data).all()
    assert out.metadata["provenance"]["model"] == "hsi_sample.safetensors"
    assert "Done in" in dock.status_label.text()
