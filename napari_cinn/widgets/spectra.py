"""The "Spectra" dock: click a pixel, see the spectrum of every spectral layer there.

- Click (press + release without dragging, whichever layer is selected): one line per spectral
  layer covering that pixel, x = wavelength (nm) from ``metadata["wavelengths"]``.
- Shift + mouse move: live update while hovering.
- Pin: keep the current spectra (dashed) for comparison; Clear removes the pins.
- ROI: mean ± std band per spectral layer inside a Shapes layer (union of shapes) or a Labels
  layer (one label or all non-zero), recomputed when the ROI is edited.
- L1-normalised view, band-index x axis for layers without wavelengths, CSV export.
- A point marker in the viewer shows the clicked pixel; a dashed line in the plot shows the
  wavelength the viewer's λ slider is on.

A thin Qt shell: the curves come from :mod:`napari_cinn.widgets._logic.spectra`, the drawing is
:class:`~napari_cinn.widgets._spectra_plot.SpectraPlot`.
"""

from __future__ import annotations

import weakref
from pathlib import Path

import numpy as np
from napari.layers import Labels, Points
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from napari_cinn.io.spectra_csv import Series, write_spectra_csv
from napari_cinn.layers import spectral_layers
from napari_cinn.widgets._hooks import click_callback, connect_viewer
from napari_cinn.widgets._logic import spectra as S
from napari_cinn.widgets._logic.regions import roi_layers
from napari_cinn.widgets._spectra_plot import SpectraPlot

MARKER_NAME = "clicked pixel"
NM, BAND = S.NM, S.BAND

__all__ = ["BAND", "MARKER_NAME", "NM", "SpectraWidget"]


class SpectraWidget(QWidget):
    """Dock widget plotting spectra of all spectral layers at the clicked pixel."""

    def __init__(self, napari_viewer):
        super().__init__()
        self.viewer = napari_viewer
        self.pixel_curves: list[S.Curve] = []
        self.pins: list[S.Curve] = []
        self.roi_curves: list[S.Curve] = []
        self._last_position: tuple[float, ...] | None = None
        self._last_index = None
        self._roi_source = None
        self.plot = SpectraPlot(self)
        self._build()
        ref = weakref.ref(self)

        def on_move(viewer, event):
            w = ref()
            if w is not None and "Shift" in [str(getattr(m, "name", m)) for m in event.modifiers]:
                w.show_at(event.position)

        step = (self.viewer.dims.events.current_step, self._update_lambda_line)
        connect_viewer(
            self,
            self.viewer,
            self._refresh_roi_choices,
            drag=[click_callback(self, "show_at")],
            move=[on_move],
            extra=[step],
        )
        self._refresh_roi_choices()
        self._update_lambda_line()

    def _build(self) -> None:
        self.xaxis = QComboBox()
        self.xaxis.addItems([NM, BAND])
        self.xaxis.setToolTip("x axis; layers without metadata['wavelengths'] need 'band index'")
        self.l1 = QCheckBox("L1-normalised")
        self.l1.setToolTip("divide each spectrum by the sum of its absolute values")
        self.pin_btn = QPushButton("Pin")
        self.pin_btn.setToolTip("keep the current spectra for comparison")
        self.clear_btn = QPushButton("Clear pins")
        self.roi = QComboBox()
        self.roi.setToolTip("a Shapes or Labels layer: mean ± std per spectral layer inside it")
        self.label = QSpinBox()
        self.label.setRange(0, 2**31 - 1)
        self.label.setSpecialValueText("all labels")
        self.label.setToolTip("label value for a Labels ROI (0: every non-zero label)")
        self.roi_btn = QPushButton("ROI mean ± std")
        self.roi_clear_btn = QPushButton("Clear ROI")
        self.export_btn = QPushButton("Export CSV…")
        self.status = QLabel("Click a pixel (Shift + move: live)")
        self.status.setWordWrap(True)
        grid = QGridLayout()
        cells = [
            (QLabel("x axis"), self.xaxis, self.l1),
            (self.pin_btn, self.clear_btn, self.export_btn),
            (QLabel("ROI"), self.roi, self.label),
        ]
        for r, row in enumerate(cells):
            for c, w in enumerate(row):
                grid.addWidget(w, r, c)
        row = QHBoxLayout()
        row.addWidget(self.roi_btn)
        row.addWidget(self.roi_clear_btn)
        layout = QVBoxLayout(self)
        layout.addWidget(self.plot, 1)
        layout.addLayout(grid)
        layout.addLayout(row)
        layout.addWidget(self.status)
        self.xaxis.currentTextChanged.connect(lambda _: self._recompute())
        self.l1.toggled.connect(lambda _: self._recompute())
        self.pin_btn.clicked.connect(self.pin)
        self.clear_btn.clicked.connect(self.clear_pins)
        self.roi_btn.clicked.connect(self.compute_roi)
        self.roi_clear_btn.clicked.connect(self.clear_roi)
        self.export_btn.clicked.connect(self._export_dialog)
        self.roi.currentTextChanged.connect(self._watch_roi)

    # ------------------------------------------------------------------ public API
    def show_at(self, world_position) -> None:
        """Plot the spectra of every spectral layer at a world position (a click)."""
        self._last_position = tuple(float(p) for p in world_position)
        self._pick()
        self._draw()
        self._place_marker()

    def pin(self) -> None:
        """Keep the spectra at the current pixel in the plot (dashed)."""
        self.pins += S.pins(self.pixel_curves, self._last_index, len(self.pins))
        self._draw()

    def clear_pins(self) -> None:
        self.pins = []
        self._draw()

    def compute_roi(self) -> None:
        """Mean ± std per spectral layer inside the chosen Shapes/Labels layer."""
        name = self.roi.currentText()
        if not name or name not in self.viewer.layers:
            self.status.setText("Choose a Shapes or Labels layer as ROI first.")
            return
        self.roi_curves, msg = S.roi_curves(
            spectral_layers(self.viewer),
            self.viewer.layers[name],
            self.label.value() or None,
            self.xaxis.currentText(),
            self.l1.isChecked(),
        )
        self._draw()
        self.status.setText(msg)

    def clear_roi(self) -> None:
        self.roi_curves = []
        self._draw()

    def series(self) -> list[Series]:
        """The plotted curves as they are drawn (L1 view applied), for CSV export and tests."""
        return S.series(self._all_curves(), self.l1.isChecked())

    def export_csv(self, path) -> Path:
        """Write the plotted spectra to ``path`` (long CSV: series, x, x_unit, value, std)."""
        return write_spectra_csv(path, self.series())

    # ------------------------------------------------------------------ internals
    def _pick(self) -> None:
        """The curves at the last position (switching to band index if nothing has wavelengths)."""
        picked = S.curves_at(
            spectral_layers(self.viewer), self._last_position, self.xaxis.currentText()
        )
        if picked.band_axis_needed:
            self.xaxis.blockSignals(True)
            self.xaxis.setCurrentText(BAND)
            self.xaxis.blockSignals(False)
            picked = S.curves_at(spectral_layers(self.viewer), self._last_position, BAND)
        self.pixel_curves, self._last_index = picked.curves, picked.index
        self.status.setText(picked.notes)

    def _recompute(self) -> None:
        if self._last_position is not None:
            self._pick()
        if self.roi_curves:
            self.compute_roi()
        unit = "band" if self.xaxis.currentText() == BAND else "nm"
        self.pins = [p for p in self.pins if p.x_unit == unit]
        self.plot.set_axis_labels(self.xaxis.currentText(), self.l1.isChecked())
        self._draw()

    def _all_curves(self) -> list[S.Curve]:
        return [*self.roi_curves, *self.pins, *self.pixel_curves]

    def _draw(self) -> None:
        self.plot.show(self._all_curves(), self.l1.isChecked())

    def _update_lambda_line(self, event=None) -> None:
        layers = spectral_layers(self.viewer)
        if layers and self.viewer.dims.ndim >= 1:
            x_axis = self.xaxis.currentText()
            self.plot.set_lambda(S.lambda_position(layers[0], self.viewer.dims.point, x_axis))

    def _place_marker(self) -> None:
        if self._last_index is None:
            return
        layer, idx = self._last_index
        world = np.asarray(layer.data_to_world([0, *idx]), dtype=float)[-2:]
        viewer = self.viewer
        if MARKER_NAME in viewer.layers and isinstance(viewer.layers[MARKER_NAME], Points):
            viewer.layers[MARKER_NAME].data = world[None]
            return
        selection = set(viewer.layers.selection)
        active = viewer.layers.selection.active
        viewer.add_points(
            world[None],
            name=MARKER_NAME,
            symbol="cross",
            size=max(3.0, 0.03 * max(layer.data.shape[-2:])),
            face_color="#ff3030",
            border_color="#ffffff",
            border_width=0.05,
            opacity=0.9,
        )
        viewer.layers.selection.clear()
        viewer.layers.selection.update(selection)
        viewer.layers.selection.active = active

    def _refresh_roi_choices(self, event=None) -> None:
        current = self.roi.currentText()
        names = [ly.name for ly in roi_layers(self.viewer)]
        self.roi.blockSignals(True)
        self.roi.clear()
        self.roi.addItems(names)
        if current in names:
            self.roi.setCurrentText(current)
        self.roi.blockSignals(False)
        self._watch_roi(self.roi.currentText())

    def _watch_roi(self, name: str) -> None:
        """Recompute the ROI statistics when the ROI layer is edited (if they are shown)."""
        old = self._roi_source() if self._roi_source is not None else None
        new = self.viewer.layers[name] if name and name in self.viewer.layers else None
        if old is new:
            return
        for layer, connect in ((old, False), (new, True)):
            if layer is None:
                continue
            events = [layer.events.data]
            if isinstance(layer, Labels):
                events.append(layer.events.paint)
            for e in events:
                (e.connect if connect else e.disconnect)(self._on_roi_edit)
        self._roi_source = weakref.ref(new) if new is not None else None

    def _on_roi_edit(self, event=None) -> None:
        if self.roi_curves:
            self.compute_roi()

    def _export_dialog(self) -> None:
        if not self._all_curves():
            self.status.setText("Nothing to export: click a pixel or compute an ROI first.")
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export spectra", "spectra.csv", "CSV (*.csv)")
        if path:
            try:
                self.export_csv(path)
                self.status.setText(f"Exported {len(self.series())} spectra to {path}")
            except OSError as err:
                self.status.setText(f"Could not write {path}: {err}")
