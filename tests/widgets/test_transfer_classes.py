"""The Transfer dock with a class-conditioned model (like the paper's cINN_DY): a user conditions
the transfer on a Labels layer, as the paper transfers simulated spectra with their organ labels."""

from __future__ import annotations

import numpy as np
import pytest
from qtpy.QtCore import Qt

from napari_cinn.core.spectra import HSI_WAVELENGTHS
from napari_cinn.widgets._logic.transfer import UNIFORM

pytestmark = pytest.mark.gui


def _model_file(path, perturb, n_classes: int):
    from napari_cinn.core import build_model, save_model

    m = build_model("hsi", n_blocks=2, hidden=16, n_classes=n_classes)
    rng = np.random.default_rng(0)
    m.fit_normalization(rng.uniform(0.1, 0.6, (300, 100)), "sim")
    m.fit_normalization(rng.uniform(0.1, 0.5, (300, 100)), "real")
    return save_model(perturb(m, scale=0.2), path)  # the class condition matters


@pytest.fixture
def class_model_file(tmp_path, perturb):
    """A tiny HSI model conditioned on 3 classes."""
    return _model_file(tmp_path / "classes3.safetensors", perturb, 3)


@pytest.fixture
def plain_model_file(tmp_path, perturb):
    return _model_file(tmp_path / "plain.safetensors", perturb, 0)


def _cube(viewer, name="hsi_sim", shape=(16, 12)):
    data = np.random.default_rng(1).uniform(0.1, 0.6, (100, *shape)).astype(np.float32)
    meta = {"wavelengths": HSI_WAVELENGTHS, "domain": "sim"}
    return viewer.add_image(data, name=name, metadata=meta)


def _labels(shape=(16, 12), high=3, seed=2):
    return np.random.default_rng(seed).integers(0, high, shape).astype(np.int32)


def row_shown(widget) -> bool:
    picker = widget.class_picker
    return picker.isVisibleTo(widget) and picker.label.isVisibleTo(widget)


def test_transfer_is_conditioned_on_the_cubes_own_labels(transfer_dock, qtbot, class_model_file):
    """The user opens a simulated cube with its labels and a 3-class model: the "Class map" row
    appears with the cube's labels chosen; the result is transfer_image(..., classes=labels)."""
    from napari_cinn.core import encode_image, load_model, transfer_image

    viewer, widget = transfer_dock
    cube = _cube(viewer)
    viewer.add_labels(_labels(seed=3), name="other segmentation")
    labels = viewer.add_labels(_labels(), name="hsi_sim labels")
    assert widget.set_model_path(class_model_file)
    assert row_shown(widget)
    assert "conditioned on 3 classes" in widget.model_label.text()
    assert widget.class_picker.items() == [UNIFORM, "other segmentation", "hsi_sim labels"]
    assert widget.class_picker.currentText() == "hsi_sim labels"
    assert "classes from 'hsi_sim labels'" in widget.status_label.text()
    assert widget.run_btn.isEnabled(), widget.status_label.text()
    widget.latent_check.setChecked(True)
    qtbot.mouseClick(widget.run_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not widget.running, timeout=60000)
    out = viewer.layers["hsi_sim [sim→real]"]
    model = load_model(class_model_file)
    args = (model, np.asarray(cube.data), "sim", "real")
    expected = transfer_image(*args, classes=labels.data, device="cpu")
    np.testing.assert_allclose(out.data, expected, rtol=1e-5, atol=1e-6)
    uniform = transfer_image(*args, device="cpu")
    assert np.abs(out.data - uniform).mean() > 1e-4  # the labels changed the transfer
    assert out.metadata["provenance"]["class_map"] == "hsi_sim labels"
    latent = encode_image(model, np.asarray(cube.data), "sim", classes=labels.data, device="cpu")
    np.testing.assert_allclose(viewer.layers["hsi_sim [latent | sim]"].data, latent, atol=1e-5)

    widget.class_picker.setCurrentText(UNIFORM)  # back to the uniform condition
    assert "uniform class condition" in widget.status_label.text()
    viewer.layers.remove(out)
    viewer.layers.remove("hsi_sim [latent | sim]")
    widget.latent_check.setChecked(False)
    widget.run()
    qtbot.waitUntil(lambda: not widget.running, timeout=60000)
    out = viewer.layers["hsi_sim [sim→real]"]
    np.testing.assert_allclose(out.data, uniform, rtol=1e-5, atol=1e-6)
    assert out.metadata["provenance"]["class_map"] == "uniform"


def test_a_model_without_classes_hides_the_row(transfer_dock, class_model_file, plain_model_file):
    viewer, widget = transfer_dock
    _cube(viewer)
    viewer.add_labels(_labels(), name="hsi_sim labels")
    assert widget.set_model_path(plain_model_file)
    assert not row_shown(widget) and "classes" not in widget.model_label.text()
    assert widget.class_picker.class_map() is None
    assert "class" not in widget.status_label.text()
    assert widget.set_model_path(class_model_file)
    assert row_shown(widget)
    assert widget.set_model_path(plain_model_file)
    assert not row_shown(widget) and widget.run_btn.isEnabled()


def test_labels_beyond_the_models_classes_block_run(transfer_dock, class_model_file):
    viewer, widget = transfer_dock
    _cube(viewer)
    bad = _labels()
    bad[5, 5] = 3  # a 4th class: the model knows 0, 1, 2
    viewer.add_labels(bad, name="hsi_sim labels")
    assert widget.set_model_path(class_model_file)
    reason = "class map 'hsi_sim labels' has class 3; the model knows 3 classes (0–2)"
    assert not widget.run_btn.isEnabled()
    assert reason in widget.status_label.text() and reason in widget.run_btn.toolTip()
    n_layers = len(viewer.layers)
    widget.run()  # even when called directly, nothing starts
    assert not widget.running and len(viewer.layers) == n_layers
    widget.class_picker.setCurrentText(UNIFORM)
    assert widget.run_btn.isEnabled(), widget.status_label.text()


def test_labels_painted_out_of_range_after_choosing_block_run(transfer_dock, class_model_file):
    """The map is checked again when Run is pressed: a class painted meanwhile is caught."""
    viewer, widget = transfer_dock
    _cube(viewer)
    labels = viewer.add_labels(_labels(), name="hsi_sim labels")
    assert widget.set_model_path(class_model_file) and widget.run_btn.isEnabled()
    labels.data[0, 0] = 7
    widget.run()
    assert not widget.running
    assert "class map 'hsi_sim labels' has class 7" in widget.status_label.text()


def test_only_labels_of_the_inputs_shape_are_offered(transfer_dock, class_model_file):
    viewer, widget = transfer_dock
    _cube(viewer)
    viewer.add_labels(_labels(shape=(12, 16)), name="transposed")
    viewer.add_labels(_labels(shape=(4, 16, 12)), name="a stack")
    viewer.add_labels(_labels(), name="mask")
    assert widget.set_model_path(class_model_file)
    assert widget.class_picker.items() == [UNIFORM, "mask"]
    assert widget.class_picker.currentText() == UNIFORM  # no labels of the cube's own: uniform
    viewer.layers["mask"].name = "tissue"  # renaming refreshes the list
    assert widget.class_picker.items() == [UNIFORM, "tissue"]
    _cube(viewer, name="small", shape=(8, 8))
    widget.layer_combo.setCurrentText("small")
    assert widget.class_picker.items() == [UNIFORM]
