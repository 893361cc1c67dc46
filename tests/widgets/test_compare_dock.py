"""Compare dock: side by side, difference maps, per-wavelength difference to the real layer."""

import numpy as np
import pytest

from napari_cinn.widgets.compare import ABSOLUTE, SUMMED, CompareWidget

pytestmark = pytest.mark.gui

WL = np.linspace(500, 995, 6)


@pytest.fixture
def cubes():
    rng = np.random.default_rng(0)
    real = rng.random((6, 10, 12)).astype(np.float32) + 1
    return {
        "sim": real + np.linspace(0, 1, 6)[:, None, None].astype(np.float32),
        "sim→real": real * (1 + 0.01 * rng.standard_normal(real.shape)).astype(np.float32),
        "real": real,
    }


@pytest.fixture
def dock(make_napari_viewer, cubes):
    viewer = make_napari_viewer()
    for name, cube in cubes.items():
        viewer.add_image(cube, name=name, metadata={"wavelengths": WL, "domain": name})
    viewer.add_labels(np.zeros((10, 12), int), name="unrelated")
    widget = CompareWidget(viewer)
    viewer.window.add_dock_widget(widget)
    return viewer, widget


def test_side_by_side_toggles_grid_with_chosen_layers_only(dock):
    viewer, widget = dock
    assert widget.reference.currentText() == "real"
    widget.set_checked(["sim", "real"])
    widget.side_btn.click()
    assert viewer.canvas.grid.enabled
    assert {ly.name for ly in viewer.layers if ly.visible} == {"sim", "real"}
    assert tuple(viewer.canvas.grid.shape) == (1, 2)  # one row, no empty cell
    assert {ly.name for ly in viewer.layers if ly.name_overlay.visible} == {"sim", "real"}
    # contrast is linked among the chosen layers
    viewer.layers["sim"].contrast_limits = (0.5, 1.5)
    assert list(viewer.layers["real"].contrast_limits) == [0.5, 1.5]
    assert widget.side_btn.text() == "Back to single view"
    widget.side_btn.click()
    assert not viewer.canvas.grid.enabled
    assert all(ly.visible for ly in viewer.layers)
    assert tuple(viewer.canvas.grid.shape) == (-1, -1)
    assert not any(ly.name_overlay.visible for ly in viewer.layers)
    viewer.layers["sim"].contrast_limits = (0.1, 0.2)
    assert list(viewer.layers["real"].contrast_limits) == [0.5, 1.5]  # unlinked again


def test_side_by_side_needs_two_layers(dock):
    viewer, widget = dock
    widget.set_checked(["sim"])
    widget.side_btn.click()
    assert not viewer.canvas.grid.enabled and not widget.side_btn.isChecked()
    assert "at least two" in widget.status.text()


def test_difference_map_equals_numpy(dock, cubes):
    viewer, widget = dock
    widget.a.setCurrentText("sim→real")
    widget.b.setCurrentText("sim")
    layer = widget.add_difference()
    np.testing.assert_allclose(layer.data, cubes["sim→real"] - cubes["sim"])
    np.testing.assert_array_equal(layer.metadata["wavelengths"], WL)
    assert layer.contrast_limits[0] == pytest.approx(-layer.contrast_limits[1])
    widget.b.setCurrentText("real")
    widget.mode.setCurrentText(ABSOLUTE)
    widget.reduce.setCurrentText(SUMMED)
    summed = widget.add_difference()
    np.testing.assert_allclose(
        summed.data, np.abs(cubes["sim→real"] - cubes["real"]).sum(axis=0), rtol=1e-5
    )
    assert summed.data.shape == (10, 12)


def test_difference_of_different_shapes_is_refused_politely(dock):
    viewer, widget = dock
    viewer.add_image(np.ones((6, 4, 4), np.float32), name="small", metadata={"wavelengths": WL})
    viewer.add_image(
        np.ones((3, 10, 12), np.float32), name="pat", metadata={"wavelengths": [700, 710, 720]}
    )
    widget.a.setCurrentText("small")
    widget.b.setCurrentText("real")
    assert widget.add_difference() is None
    assert "differ in shape" in widget.status.text()
    widget.a.setCurrentText("pat")
    assert widget.add_difference() is None
    assert "different wavelengths" in widget.status.text()


def test_difference_to_reference_per_class_with_metrics(dock, qtbot, cubes):
    viewer, widget = dock
    labels = np.zeros((10, 12), int)
    labels[:5] = 1
    labels[5:] = 2
    viewer.add_labels(labels, name="organs")
    widget.roi.setCurrentText("organs")
    widget.l1.setChecked(False)
    worker = widget.compute_summary()
    assert worker is not None, widget.status.text()
    qtbot.waitUntil(lambda: widget.job.worker is None, timeout=60000)
    assert widget.error is None
    comps = {c.name: c for c in widget.comparisons}
    assert set(comps) == {"sim", "sim→real"}
    np.testing.assert_array_equal(comps["sim"].classes, [1, 2])
    sel = labels == 2
    expected = np.abs(np.median(cubes["sim"][:, sel], 1) - np.median(cubes["real"][:, sel], 1))
    np.testing.assert_allclose(comps["sim"].diff[1], expected, rtol=1e-5)
    assert comps["sim→real"].diff.mean() < comps["sim"].diff.mean()
    assert comps["sim→real"].c2st_auc < comps["sim"].c2st_auc
    assert widget.table.rowCount() == 2
    assert widget.table.item(0, 0).text() == "sim"
    assert len(widget.ax.collections) >= 4  # two violins and their dots


def test_empty_region_and_wrong_size_region_are_explained(dock):
    viewer, widget = dock
    widget.roi.setCurrentText("unrelated")
    assert widget.compute_summary() is None
    assert "empty" in widget.status.text()
    viewer.add_labels(np.ones((3, 3), int), name="tiny")
    widget.roi.setCurrentText("tiny")
    assert widget.compute_summary() is None
    assert "must cover the same pixels" in widget.status.text()
