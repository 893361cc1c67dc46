"""Spectra dock: a researcher clicks a pixel and sees every spectral layer's spectrum there."""

import numpy as np
import pytest
from napari.utils.interactions import (
    mouse_move_callbacks,
    mouse_press_callbacks,
    mouse_release_callbacks,
)

from napari_cinn.io.spectra_csv import read_spectra_csv
from napari_cinn.widgets.spectra import BAND, MARKER_NAME, SpectraWidget

pytestmark = pytest.mark.gui

WL = np.arange(500.0, 540.0, 5.0)  # 8 bands


class FakeEvent:
    """The bits of a napari mouse event the dock reads."""

    def __init__(self, position, type="mouse_press", modifiers=(), button=1):
        self.position = position
        self.type = type
        self.modifiers = modifiers
        self.button = button
        self.handled = False
        self.is_dragging = False


def click(viewer, position):
    press = FakeEvent(position)
    mouse_press_callbacks(viewer, press)
    press.type = "mouse_release"
    mouse_release_callbacks(viewer, press)


@pytest.fixture
def cubes():
    rng = np.random.default_rng(0)
    return {
        "sim": rng.random((8, 20, 30)).astype(np.float32),
        "real": rng.random((8, 20, 30)).astype(np.float32) + 1,
        "sim→real": rng.random((8, 20, 30)).astype(np.float32) + 2,
    }


@pytest.fixture
def dock(make_napari_viewer, cubes):
    viewer = make_napari_viewer()
    for name, cube in cubes.items():
        viewer.add_image(
            cube,
            name=name,
            metadata={"wavelengths": WL, "domain": name},
            axis_labels=("λ", "y", "x"),
        )
    widget = SpectraWidget(viewer)
    viewer.window.add_dock_widget(widget)
    return viewer, widget


def lines(widget):
    return {c.layer: c for c in widget.pixel_curves}


def test_click_plots_one_line_per_layer_with_wavelengths(dock, cubes):
    viewer, widget = dock
    click(viewer, (0, 4, 7))
    assert set(widget.plot.lines) == {f"px:{n}" for n in cubes}
    for name, cube in cubes.items():
        line = widget.plot.lines[f"px:{name}"]
        np.testing.assert_array_equal(line.get_xdata(), WL)
        np.testing.assert_array_equal(line.get_ydata(), cube[:, 4, 7])
    # the clicked pixel is marked in the viewer, and the selection did not move to the marker
    marker = viewer.layers[MARKER_NAME]
    np.testing.assert_allclose(marker.data, [[4, 7]])
    assert viewer.layers.selection.active is not marker
    # a second click reuses the lines
    first = widget.plot.lines["px:sim"]
    click(viewer, (0, 10, 2.6))
    assert widget.plot.lines["px:sim"] is first
    np.testing.assert_array_equal(first.get_ydata(), cubes["sim"][:, 10, 3])
    np.testing.assert_allclose(marker.data, [[10, 3]])


def test_drag_is_not_a_click(dock):
    viewer, widget = dock
    ev = FakeEvent((0, 4, 7))
    mouse_press_callbacks(viewer, ev)
    ev.type = "mouse_move"
    ev.is_dragging = True
    mouse_move_callbacks(viewer, ev)
    ev.type = "mouse_release"
    mouse_release_callbacks(viewer, ev)
    assert widget.pixel_curves == []


def test_shift_hover_updates_live(dock, cubes):
    viewer, widget = dock
    mouse_move_callbacks(viewer, FakeEvent((0, 3, 3), type="mouse_move"))
    assert widget.pixel_curves == []  # no modifier: nothing
    mouse_move_callbacks(viewer, FakeEvent((0, 3, 3), type="mouse_move", modifiers=("Shift",)))
    np.testing.assert_array_equal(lines(widget)["real"].y, cubes["real"][:, 3, 3])


def test_real_click_on_the_canvas(make_napari_viewer, qtbot, cubes):
    """End to end: a Qt mouse click in the middle of the canvas plots the centre pixel."""
    from qtpy.QtCore import QPoint, Qt

    viewer = make_napari_viewer(show=True)
    cube = np.random.default_rng(2).random((8, 21, 31)).astype(np.float32)
    viewer.add_image(cube, name="odd", metadata={"wavelengths": WL})
    widget = SpectraWidget(viewer)
    viewer.window.add_dock_widget(widget)
    viewer.reset_view()
    native = viewer.window._qt_viewer.canvas.native
    qtbot.waitExposed(native)
    centre = QPoint(native.width() // 2, native.height() // 2)
    qtbot.mouseClick(native, Qt.MouseButton.LeftButton, pos=centre)
    qtbot.waitUntil(lambda: len(widget.pixel_curves) == 1, timeout=3000)
    np.testing.assert_array_equal(widget.pixel_curves[0].y, cube[:, 10, 15])


def test_click_outside_and_different_shapes(dock, cubes):
    viewer, widget = dock
    small = np.ones((8, 5, 5), np.float32)
    viewer.add_image(small, name="small", metadata={"wavelengths": WL})
    click(viewer, (0, 100, 100))
    assert widget.pixel_curves == []
    assert "outside" in widget.status.text()
    click(viewer, (0, 12, 12))
    assert set(lines(widget)) == set(cubes)
    assert "not covering this pixel: small" in widget.status.text()
    click(viewer, (0, 2, 2))
    assert set(lines(widget)) == {*cubes, "small"}


def test_layer_without_wavelengths_uses_band_index(make_napari_viewer):
    viewer = make_napari_viewer()
    cube = np.arange(4 * 3 * 3, dtype=np.float32).reshape(4, 3, 3) + 1
    viewer.add_image(cube, name="plain")
    widget = SpectraWidget(viewer)
    click(viewer, (0, 1, 2))
    assert widget.xaxis.currentText() == BAND
    np.testing.assert_array_equal(widget.pixel_curves[0].x, np.arange(4))
    np.testing.assert_array_equal(widget.pixel_curves[0].y, cube[:, 1, 2])
    # with one layer that has wavelengths, the other one is named as skipped in nm mode
    viewer.add_image(cube * 2, name="withwl", metadata={"wavelengths": [600, 610, 620, 630]})
    widget.xaxis.setCurrentText("wavelength (nm)")
    click(viewer, (0, 1, 2))
    assert [c.layer for c in widget.pixel_curves] == ["withwl"]
    assert "plain" in widget.status.text() and "band index" in widget.status.text()


def test_pin_l1_view_and_csv_round_trip(dock, cubes, tmp_path):
    viewer, widget = dock
    click(viewer, (0, 4, 7))
    widget.pin()
    click(viewer, (0, 5, 5))
    assert len(widget.series()) == 6
    widget.l1.setChecked(True)
    shown = {s.name: s for s in widget.series()}
    sim = shown["sim"]
    expected = cubes["sim"][:, 5, 5] / cubes["sim"][:, 5, 5].sum()
    np.testing.assert_allclose(sim.y, expected, rtol=1e-6)
    np.testing.assert_allclose(widget.plot.lines["px:sim"].get_ydata(), expected, rtol=1e-6)
    path = widget.export_csv(tmp_path / "spectra.csv")
    back = {s.name: s for s in read_spectra_csv(path)}
    assert set(back) == set(shown)
    for name, s in shown.items():
        np.testing.assert_allclose(back[name].y, s.y, rtol=1e-7)
        np.testing.assert_array_equal(back[name].x, WL)
    widget.clear_pins()
    assert len(widget.series()) == 3


def test_roi_mean_equals_numpy_for_labels_and_shapes(dock, cubes):
    viewer, widget = dock
    labels = np.zeros((20, 30), int)
    labels[2:6, 3:9] = 1
    labels[10:12, 10:20] = 2
    viewer.add_labels(labels, name="organs")
    widget.roi.setCurrentText("organs")
    widget.label.setValue(2)
    widget.compute_roi()
    roi = {c.layer: c for c in widget.roi_curves}
    assert set(roi) == set(cubes)
    for name, cube in cubes.items():
        np.testing.assert_allclose(roi[name].y, cube[:, labels == 2].mean(axis=1), rtol=1e-6)
        np.testing.assert_allclose(roi[name].std, cube[:, labels == 2].std(axis=1), rtol=1e-5)
    assert len(widget.plot.fills) == 3
    # editing the labels recomputes the shown statistics
    viewer.layers["organs"].data = np.where(labels == 2, 2, 0)
    widget.label.setValue(0)
    widget.compute_roi()
    np.testing.assert_allclose(
        widget.roi_curves[0].y, cubes["sim"][:, labels == 2].mean(axis=1), rtol=1e-6
    )
    # a rectangle in a Shapes layer
    viewer.add_shapes(
        [np.array([[2, 3], [2, 8], [5, 8], [5, 3]])], shape_type="rectangle", name="box"
    )
    widget.roi.setCurrentText("box")
    widget.compute_roi()
    box = np.zeros((20, 30), bool)
    box[2:6, 3:9] = True
    np.testing.assert_allclose(
        widget.roi_curves[1].y, cubes["real"][:, box].mean(axis=1), rtol=1e-6
    )
    widget.clear_roi()
    assert widget.plot.fills == {}


def test_roi_of_other_size_is_named_not_raised(dock):
    viewer, widget = dock
    viewer.add_labels(np.ones((4, 4), int), name="tiny")
    widget.roi.setCurrentText("tiny")
    widget.compute_roi()
    assert widget.roi_curves == []
    assert "must cover the same pixels" in widget.status.text()


def test_closing_the_dock_leaves_no_callbacks(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    viewer.add_image(np.ones((8, 4, 4), np.float32), name="a", metadata={"wavelengths": WL})
    before = (len(viewer.mouse_drag_callbacks), len(viewer.mouse_move_callbacks))
    widget = SpectraWidget(viewer)
    assert len(viewer.mouse_drag_callbacks) == before[0] + 1
    widget.deleteLater()
    qtbot.waitUntil(lambda: len(viewer.mouse_drag_callbacks) == before[0], timeout=3000)
    assert len(viewer.mouse_move_callbacks) == before[1]
    viewer.add_image(np.ones((8, 4, 4), np.float32), name="b")  # layer events: no error
    viewer.dims.set_current_step(0, 3)


def test_legend_sits_above_the_axes_and_names_layers_and_kinds(dock, cubes):
    """Pixel, pinned and ROI curves of three layers: the legend lists the three layers (colours)
    and the three kinds (line styles) and lies wholly above the axes, never over the spectra."""
    viewer, widget = dock
    viewer.add_labels(np.ones((20, 30), int), name="organs")
    click(viewer, (0, 4, 7))
    widget.pin()
    click(viewer, (0, 5, 5))
    widget.roi.setCurrentText("organs")
    widget.compute_roi()
    widget.plot.draw()
    legend = widget.plot.legend
    texts = [t.get_text() for t in legend.get_texts()]
    assert texts == [*cubes, "clicked pixel", "pinned", "ROI mean ± std"]
    renderer = widget.plot.canvas.get_renderer()
    box = legend.get_window_extent(renderer)
    assert box.y0 >= widget.plot.ax.get_window_extent(renderer).y1 - 1
    assert box.y1 <= widget.plot.figure.bbox.y1 + 1
    assert widget.plot.ax.get_legend() is None
    # the λ slider's wavelength is marked from the start
    assert np.isfinite(widget.plot.lambda_line.get_xdata()[0])
