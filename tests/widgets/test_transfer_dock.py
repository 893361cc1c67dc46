"""The "Domain transfer" dock in a real viewer: a user picks a layer, a model and a direction."""

from __future__ import annotations

import numpy as np
import pytest
from qtpy.QtCore import Qt

from napari_cinn.core.spectra import HSI_WAVELENGTHS, PAT_WAVELENGTHS

pytestmark = pytest.mark.gui


@pytest.fixture
def hsi_model_file(tmp_path, perturb):
    from napari_cinn.core import build_model, save_model

    m = build_model(
        "hsi", wavelengths=HSI_WAVELENGTHS, domains=("sim", "real"), n_blocks=2, hidden=16
    )
    rng = np.random.default_rng(0)
    m.fit_normalization(rng.uniform(0.1, 0.6, (300, 100)), "sim")
    m.fit_normalization(rng.uniform(0.1, 0.5, (300, 100)), "real")
    return save_model(perturb(m), tmp_path / "tiny_hsi.safetensors", data="test")


@pytest.fixture
def pat_model_file(tmp_path, perturb):
    from napari_cinn.core import build_model, save_model

    m = build_model(
        "pat", wavelengths=PAT_WAVELENGTHS, n_scales=2, blocks_per_scale=[1, 1], hidden=4
    )
    return save_model(perturb(m), tmp_path / "tiny_pat.safetensors")


def test_dock_is_listed_in_the_plugins_menu(make_napari_viewer):
    viewer = make_napari_viewer()
    dw, widget = viewer.window.add_plugin_dock_widget("napari-cinn", "Domain transfer")
    assert type(widget).__name__ == "TransferWidget"
    assert "torch" not in widget.status_label.text()


def test_only_spectral_image_layers_are_offered(transfer_dock):
    viewer, widget = transfer_dock
    viewer.add_image(np.zeros((8, 8)), name="plain 2-D")
    viewer.add_image(np.zeros((5, 8, 8)), name="no wavelengths")
    viewer.add_labels(np.zeros((8, 8), int), name="labels")
    viewer.add_image(np.zeros((3, 8, 8)), name="cube", metadata={"wavelengths": [1, 2, 3]})
    assert [widget.layer_combo.itemText(i) for i in range(widget.layer_combo.count())] == ["cube"]
    viewer.layers.remove("cube")
    assert widget.layer_combo.count() == 0
    assert not widget.run_btn.isEnabled()


def test_transfer_adds_a_layer_equal_to_transfer_image(transfer_dock, qtbot, hsi_model_file):
    from napari_cinn.core import load_model, transfer_image

    viewer, widget = transfer_dock
    viewer.open_sample("napari-cinn", "hsi_sim")
    cube = viewer.layers["hsi_sim"]
    assert widget.set_model_path(hsi_model_file)
    assert widget.model_label.text().startswith("HSI model: 100 bands 500–995 nm")
    assert [widget.direction_combo.itemText(i) for i in range(widget.direction_combo.count())] == [
        "sim → real",
        "real → sim",
    ]
    assert widget.layer_combo.currentText() == "hsi_sim"
    assert widget.run_btn.isEnabled(), widget.status_label.text()
    widget.chunk = 1024  # several chunks: the progress bar moves
    seen = []
    widget.job.progressed.connect(lambda s, d, t: seen.append((s, d, t)))
    widget.latent_check.setChecked(True)
    widget.likelihood_check.setChecked(True)
    qtbot.mouseClick(widget.run_btn, Qt.MouseButton.LeftButton)
    assert widget.running and not widget.run_btn.isEnabled() and widget.cancel_btn.isEnabled()
    qtbot.waitUntil(lambda: not widget.running, timeout=60000)
    name = "hsi_sim [sim→real]"
    assert name in viewer.layers, widget.status_label.text()
    out = viewer.layers[name]
    expected = transfer_image(
        load_model(hsi_model_file),
        np.asarray(cube.data),
        "sim",
        "real",
        wavelengths=cube.metadata["wavelengths"],
        device="cpu",
    )
    np.testing.assert_allclose(out.data, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out.metadata["wavelengths"], HSI_WAVELENGTHS)
    assert out.metadata["domain"] == "sim→real"
    assert out.metadata["provenance"]["model"] == "tiny_hsi.safetensors"
    assert out.metadata["provenance"]["direction"] == "sim→real"
    assert tuple(out.axis_labels) == ("λ", "y", "x")
    assert len([s for s in seen if s[0] == "transfer"]) >= 4  # 64×64 px in 1024-px chunks
    assert viewer.layers["hsi_sim [latent | sim]"].data.shape == cube.data.shape
    assert viewer.layers[f"{name} [log p | real]"].data.shape == cube.data.shape[1:]
    assert "Done in" in widget.status_label.text()
    assert widget.run_btn.isEnabled()


def test_cancel_adds_no_layer(transfer_dock, qtbot, hsi_model_file):
    viewer, widget = transfer_dock
    viewer.open_sample("napari-cinn", "hsi_sim")
    widget.set_model_path(hsi_model_file)
    widget.chunk = 64
    n_layers = len(viewer.layers)
    qtbot.mouseClick(widget.run_btn, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(widget.cancel_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not widget.running, timeout=60000)
    assert len(viewer.layers) == n_layers
    assert "Cancelled: no layer added." in widget.status_label.text()
    assert widget.run_btn.isEnabled()


def test_cancel_mid_run_while_the_viewer_stays_responsive(transfer_dock, qtbot, hsi_model_file):
    viewer, widget = transfer_dock
    viewer.open_sample("napari-cinn", "hsi_sim")
    widget.set_model_path(hsi_model_file)
    widget.chunk = 16  # 256 chunks
    n_layers = len(viewer.layers)
    seen = []

    def on_progress(stage, done, total):
        # progress arrives through the Qt event loop while the worker runs: the GUI is not blocked
        seen.append((done, total, widget.running, widget.progress_bar.value()))
        if len(seen) == 3:
            viewer.dims.set_point(0, 10)  # the user keeps browsing wavelengths meanwhile
            widget.cancel()

    after_cancel = []  # chunks the worker finished after the cancel flag was set

    def in_worker(stage, done, total):  # runs in the worker thread, as it reports
        if widget.job.cancelled:
            after_cancel.append(done)

    widget.job.progressed.connect(on_progress)
    widget.job.progressed.connect(in_worker, Qt.ConnectionType.DirectConnection)
    widget.run()
    qtbot.waitUntil(lambda: not widget.running, timeout=60000)
    done, total, running, value = seen[2]
    assert running and 0 < value < 100 and done < total
    # counted in the worker, not in the GUI queue (a loaded machine delivers queued reports late)
    assert len(after_cancel) <= 2, "cancel must stop the worker within a chunk or so"
    assert seen[-1][0] < total
    assert len(viewer.layers) == n_layers
    assert "Cancelled" in widget.status_label.text()


def test_mismatched_model_and_layer_shows_the_reason(
    transfer_dock, qtbot, pat_model_file, hsi_model_file
):
    viewer, widget = transfer_dock
    viewer.open_sample("napari-cinn", "hsi_sim")
    widget.set_model_path(pat_model_file)
    reason = "model expects 16 bands 700–850 nm; layer has 100 bands 500–995 nm"
    assert not widget.run_btn.isEnabled()
    assert reason in widget.status_label.text()
    assert reason in widget.run_btn.toolTip()
    widget.run()  # even when called directly, nothing starts
    assert not widget.running and len(viewer.layers) == 2
    widget.set_model_path(hsi_model_file)
    assert widget.run_btn.isEnabled()


def test_pat_transfer_on_pat_sample(transfer_dock, qtbot, pat_model_file):
    viewer, widget = transfer_dock
    viewer.open_sample("napari-cinn", "pat_real")
    widget.set_model_path(pat_model_file)
    widget.set_direction("real", "sim")
    assert widget.run_btn.isEnabled(), widget.status_label.text()
    widget.run()
    qtbot.waitUntil(lambda: not widget.running, timeout=60000)
    out = viewer.layers["pat_real [real→sim]"]
    assert out.data.shape == viewer.layers["pat_real"].data.shape
    assert np.isfinite(out.data).all()


def test_broken_model_file_gives_a_notification(transfer_dock, tmp_path):
    from napari.utils.notifications import notification_manager

    viewer, widget = transfer_dock
    seen = []
    notification_manager.notification_ready.connect(seen.append)
    try:
        bad = tmp_path / "broken.safetensors"
        bad.write_bytes(b"\x80\x04not a model")
        assert not widget.set_model_path(bad)
    finally:
        notification_manager.notification_ready.disconnect(seen.append)
    assert widget.model_info is None and not widget.run_btn.isEnabled()
    assert any("broken.safetensors" in str(n.message) for n in seen)


def test_core_error_during_run_is_a_notification(transfer_dock, qtbot, hsi_model_file, monkeypatch):
    from napari.utils.notifications import notification_manager

    import napari_cinn.core as core

    viewer, widget = transfer_dock
    viewer.open_sample("napari-cinn", "hsi_sim")
    widget.set_model_path(hsi_model_file)

    def fail(*a, **k):
        raise ValueError("device 'cuda' was asked for but no CUDA GPU is available")

    monkeypatch.setattr(core, "transfer_image", fail, raising=False)
    monkeypatch.setattr("napari_cinn.core.transfer.transfer_image", fail)
    seen = []
    notification_manager.notification_ready.connect(seen.append)
    try:
        widget.run()
        qtbot.waitUntil(lambda: not widget.running, timeout=60000)
    finally:
        notification_manager.notification_ready.disconnect(seen.append)
    assert any("no CUDA GPU" in str(n.message) for n in seen)
    assert "no CUDA GPU" in widget.status_label.text()
    assert len(viewer.layers) == 2


def test_shipped_models_are_listed_and_preselected(
    make_napari_viewer, tmp_path, hsi_model_file, monkeypatch
):
    import shutil

    from napari_cinn.widgets._logic import models as model_files
    from napari_cinn.widgets.transfer import BROWSE, TransferWidget

    models = tmp_path / "models"
    models.mkdir()
    shutil.copy(hsi_model_file, models / "hsi_sample.safetensors")
    monkeypatch.setattr(model_files, "SAMPLE_MODEL_DIR", models)
    viewer = make_napari_viewer()
    widget = TransferWidget(viewer)
    items = [widget.model_combo.itemText(i) for i in range(widget.model_combo.count())]
    assert items == ["hsi_sample.safetensors", BROWSE]
    assert widget.model_info is not None and widget.model_info.name == "hsi_sample"
    widget.deleteLater()


def test_models_that_fit_the_layer_come_first_and_one_is_picked(transfer_dock):
    """With the PAT samples open the dock offers the shipped PAT model, the HSI model after it
    with the reason; a model the user chose stays chosen when other layers come and go."""
    viewer, widget = transfer_dock
    viewer.open_sample("napari-cinn", "pat_sim")
    assert widget.layer_combo.currentText() == "pat_sim"
    assert widget.model_info.name == "pat_sample" and widget.run_btn.isEnabled()
    items = widget.picker.items()
    assert items[0] == "pat_sample.safetensors"
    hsi = items.index("hsi_sample.safetensors (does not fit)")
    assert "model expects 100 bands" in widget.model_combo.itemData(
        hsi, Qt.ItemDataRole.ToolTipRole
    )
    assert widget.model_label.wordWrap()  # the description is wrapped, never cut off
    viewer.open_sample("napari-cinn", "hsi_sim")  # a simulated HSI layer is now offered first
    widget.layer_combo.setCurrentText("hsi_sim")
    assert widget.model_info.name == "hsi_sample"
    assert widget.picker.items()[0] == "hsi_sample.safetensors"
    # the shipped HSI model draws the whole-image variability of its 16 real training subjects
    assert "image spread of 16 real images" in widget.model_label.text()
    widget.set_model_path(widget.picker.combo.itemData(2))  # the user picks the PAT model anyway
    assert widget.model_info.name == "pat_sample" and not widget.run_btn.isEnabled()
    viewer.add_points(np.zeros((1, 2)), name="a marker")
    assert widget.model_info.name == "pat_sample"
    assert "model expects 16 bands" in widget.status_label.text()


def test_a_stochastic_realisation_with_a_seed_is_reproducible(
    transfer_dock, qtbot, tmp_path, perturb
):
    """A user ticks 'stochastic realisation', picks seed 5, runs: the layer is that realisation."""
    import torch

    from napari_cinn.core import build_model, load_model, save_model, transfer_image

    viewer, widget = transfer_dock
    m = build_model("hsi", n_blocks=2, hidden=16)
    rng = np.random.default_rng(0)
    m.fit_normalization(rng.uniform(0.1, 0.6, (300, 100)), "sim")
    m.fit_normalization(rng.uniform(0.1, 0.5, (300, 100)), "real")
    with torch.no_grad():
        m.source_noise[0] = 0.02
    path = save_model(perturb(m), tmp_path / "noisy.safetensors")
    cube = viewer.add_image(
        rng.uniform(0.1, 0.6, (100, 16, 16)).astype(np.float32),
        name="hsi_sim",
        metadata={"wavelengths": HSI_WAVELENGTHS, "domain": "sim"},
    )
    assert widget.set_model_path(path)
    assert not widget.seed_spin.isEnabled()
    widget.sample_check.setChecked(True)
    assert widget.seed_spin.isEnabled()
    widget.seed_spin.setValue(5)
    qtbot.mouseClick(widget.run_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not widget.running, timeout=60000)
    out = viewer.layers["hsi_sim [sim→real]"]
    model = load_model(path)
    args = (model, np.asarray(cube.data), "sim", "real")
    expected = transfer_image(*args, device="cpu", sample=True, seed=5)
    np.testing.assert_allclose(out.data, expected, rtol=1e-5, atol=1e-6)
    assert np.abs(out.data - transfer_image(*args, device="cpu")).mean() > 1e-4
    assert out.metadata["provenance"]["realisation"] == "stochastic, seed 5"
