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

Plot speed: matplotlib with the lines kept and only their data replaced (see
``benchmarks/bench_spectra_click.py``).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.lines import Line2D
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

from napari_cinn.core.projection import Series, roi_stats, spectrum_at, write_spectra_csv
from napari_cinn.widgets._layers import (
    click_callback,
    disconnect_on_destroy,
    layer_wavelengths,
    pixel_index,
    roi_layers,
    roi_mask,
    spectral_layers,
)
from napari_cinn.widgets._plot import FOREGROUND, PALETTE, PlotCanvas, header_legend, style_axes

MARKER_NAME = "clicked pixel"
NM, BAND = "wavelength (nm)", "band index"
#: line style and legend text per kind of curve
_KINDS = {"pixel": ("-", "clicked pixel"), "pin": ("--", "pinned"), "roi": (":", "ROI mean ± std")}
_TOP = 0.96  # axes top (figure fraction) while no legend is shown


@dataclass
class _Curve:
    key: str  # unique artist key
    label: str  # legend / CSV name
    layer: str
    x: np.ndarray
    y: np.ndarray  # as measured (the L1 view is applied when drawing, except for ROI stats)
    std: np.ndarray | None = None
    x_unit: str = "nm"
    kind: str = "pixel"  # pixel | pin | roi


def _l1(y: np.ndarray) -> np.ndarray:
    s = np.nansum(np.abs(y))
    return y / s if s > 0 else np.full_like(y, np.nan)


class SpectraWidget(QWidget):
    """Dock widget plotting spectra of all spectral layers at the clicked pixel."""

    def __init__(self, napari_viewer):
        super().__init__()
        self.viewer = napari_viewer
        self._colors: dict[str, str] = {}
        self._pixel_curves: list[_Curve] = []
        self._pins: list[_Curve] = []
        self._roi_curves: list[_Curve] = []
        self._lines: dict[str, object] = {}
        self._fills: dict[str, object] = {}
        self._legend_labels: tuple[str, ...] = ()
        self._last_position: tuple[float, ...] | None = None
        self._last_index: tuple[int, ...] | None = None
        self._roi_source = None

        self.plot = PlotCanvas(self)
        self.ax = self.plot.figure.add_subplot(111)
        self._axes_left = 0.16
        self._legend = None
        self.plot.figure.subplots_adjust(left=self._axes_left, right=0.97, top=_TOP, bottom=0.16)
        style_axes(self.ax)
        self.ax.set_xlabel(NM)
        self.ax.set_ylabel("value")
        self._lambda_line = self.ax.axvline(np.nan, color="#888888", ls="--", lw=0.8)

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
        grid.addWidget(QLabel("x axis"), 0, 0)
        grid.addWidget(self.xaxis, 0, 1)
        grid.addWidget(self.l1, 0, 2)
        grid.addWidget(self.pin_btn, 1, 0)
        grid.addWidget(self.clear_btn, 1, 1)
        grid.addWidget(self.export_btn, 1, 2)
        grid.addWidget(QLabel("ROI"), 2, 0)
        grid.addWidget(self.roi, 2, 1)
        grid.addWidget(self.label, 2, 2)
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

        # viewer hooks (removed again when this widget is destroyed)
        ref = weakref.ref(self)

        on_drag = click_callback(self, "show_at")

        def on_move(viewer, event):
            w = ref()
            if w is not None and "Shift" in [str(getattr(m, "name", m)) for m in event.modifiers]:
                w.show_at(event.position)

        self._callbacks = (on_drag, on_move)
        self.viewer.mouse_drag_callbacks.append(on_drag)
        self.viewer.mouse_move_callbacks.append(on_move)
        ev = self.viewer.layers.events
        connections = [
            (e, self._refresh_roi_choices) for e in (ev.inserted, ev.removed, ev.reordered)
        ]
        connections.append((self.viewer.dims.events.current_step, self._update_lambda_line))
        for emitter, callback in connections:
            emitter.connect(callback)
        disconnect_on_destroy(self, self.viewer, connections, [on_drag], [on_move])
        self._refresh_roi_choices()
        self._update_lambda_line()

    # ------------------------------------------------------------------ public API (tests, other docks)
    def show_at(self, world_position) -> None:
        """Plot the spectra of every spectral layer at a world position (a click)."""
        self._last_position = tuple(float(p) for p in world_position)
        self._pixel_curves, notes = self._curves_at(self._last_position)
        self._draw()
        self._place_marker()
        self.status.setText(notes)

    def pin(self) -> None:
        """Keep the spectra at the current pixel in the plot (dashed)."""
        for c in self._pixel_curves:
            n = len(self._pins)
            where = self._last_index[1] if self._last_index else ""
            self._pins.append(
                _Curve(
                    f"pin{n}:{c.key}",
                    f"{c.label} {where} (pinned)",
                    c.layer,
                    c.x,
                    c.y,
                    None,
                    c.x_unit,
                    "pin",
                )
            )
        self._draw()

    def clear_pins(self) -> None:
        self._pins = []
        self._draw()

    def compute_roi(self) -> None:
        """Mean ± std per spectral layer inside the chosen Shapes/Labels layer."""
        name = self.roi.currentText()
        if not name or name not in self.viewer.layers:
            self.status.setText("Choose a Shapes or Labels layer as ROI first.")
            return
        roi = self.viewer.layers[name]
        label = self.label.value() or None
        norm = "l1" if self.l1.isChecked() else "none"
        curves, skipped = [], []
        for layer in spectral_layers(self.viewer):
            x, unit = self._x_for(layer)
            if x is None:
                skipped.append(f"{layer.name} (no wavelengths)")
                continue
            try:
                mask = roi_mask(roi, layer.data.shape[1:], label)
            except ValueError as err:
                skipped.append(f"{layer.name} ({err})")
                continue
            st = roi_stats(layer.data, mask, norm=norm)
            if st.n == 0:
                skipped.append(f"{layer.name} (no usable pixel in ROI)")
                continue
            curves.append(
                _Curve(
                    f"roi:{layer.name}",
                    f"{layer.name} ROI mean (n={st.n})",
                    layer.name,
                    x,
                    st.mean,
                    st.std,
                    unit,
                    "roi",
                )
            )
        self._roi_curves = curves
        self._draw()
        msg = f"ROI '{name}': {len(curves)} layer(s)."
        if skipped:
            msg += " Not plotted: " + "; ".join(skipped)
        self.status.setText(msg)

    def clear_roi(self) -> None:
        self._roi_curves = []
        self._draw()

    def series(self) -> list[Series]:
        """The plotted curves as they are drawn (L1 view applied), for CSV export and tests."""
        out = []
        for c in self._all_curves():
            out.append(Series(c.label, c.x, self._view(c), c.std, c.x_unit))
        return out

    def export_csv(self, path) -> Path:
        """Write the plotted spectra to ``path`` (long CSV: series, x, x_unit, value, std)."""
        return write_spectra_csv(path, self.series())

    # ------------------------------------------------------------------ internals
    def _x_for(self, layer) -> tuple[np.ndarray | None, str]:
        if self.xaxis.currentText() == BAND:
            return np.arange(layer.data.shape[0], dtype=float), "band"
        wl = layer_wavelengths(layer)
        return (wl, "nm") if wl is not None else (None, "nm")

    def _curves_at(self, position) -> tuple[list[_Curve], str]:
        layers = spectral_layers(self.viewer)
        if not layers:
            return (
                [],
                "No spectral layer: add an Image layer with bands first (e.g. File ▸ Open Sample).",
            )
        curves, outside, no_wl = [], [], []
        first_index = None
        for layer in layers:
            idx = pixel_index(layer, position)
            if idx is None:
                outside.append(layer.name)
                continue
            x, unit = self._x_for(layer)
            if x is None:
                no_wl.append(layer.name)
                continue
            y = spectrum_at(layer.data, idx)
            if y is None:
                outside.append(layer.name)
                continue
            first_index = first_index or (layer, idx)
            curves.append(_Curve(f"px:{layer.name}", layer.name, layer.name, x, y, None, unit))
        if not curves and no_wl and not outside and self.xaxis.currentText() == NM:
            # nothing has wavelengths: offer band index by switching to it
            self.xaxis.blockSignals(True)
            self.xaxis.setCurrentText(BAND)
            self.xaxis.blockSignals(False)
            return self._curves_at(position)
        self._last_index = first_index
        notes = []
        if first_index is not None:
            notes.append(f"pixel {first_index[1]}: {len(curves)} layer(s)")
        else:
            notes.append("outside every spectral layer")
        if outside and curves:
            notes.append("not covering this pixel: " + ", ".join(outside))
        if no_wl:
            notes.append("no wavelengths (choose x axis 'band index'): " + ", ".join(no_wl))
        return curves, "; ".join(notes)

    def _recompute(self) -> None:
        if self._last_position is not None:
            self._pixel_curves, notes = self._curves_at(self._last_position)
            self.status.setText(notes)
        if self._roi_curves:
            self.compute_roi()
        self._pins = [
            p
            for p in self._pins
            if p.x_unit == ("band" if self.xaxis.currentText() == BAND else "nm")
        ]
        self.ax.set_xlabel(self.xaxis.currentText())
        self.ax.set_ylabel("value (L1-normalised)" if self.l1.isChecked() else "value")
        self._draw()

    def _all_curves(self) -> list[_Curve]:
        return [*self._roi_curves, *self._pins, *self._pixel_curves]

    def _view(self, c: _Curve) -> np.ndarray:
        if c.kind == "roi" or not self.l1.isChecked():
            return c.y  # ROI stats are computed on normalised pixels already
        return _l1(c.y)

    def _color(self, layer: str) -> str:
        if layer not in self._colors:
            self._colors[layer] = PALETTE[len(self._colors) % len(PALETTE)]
        return self._colors[layer]

    def _draw(self, *, full: bool = False) -> None:
        """Update the artists in place (new lines only for new curves), then show them.

        Pixel lines are animated: when only they changed and still fit the current axes limits,
        they are blitted over the cached background; otherwise the figure is redrawn when idle.
        """
        curves = self._all_curves()
        keys = {c.key for c in curves}
        for key in [k for k in self._lines if k not in keys]:
            line = self._lines.pop(key)
            self.plot.remove_animated(line)
            line.remove()
            full = True
        for key in [k for k in self._fills if k not in keys]:
            self._fills.pop(key).remove()
            full = True
        for c in curves:
            y = self._view(c)
            line = self._lines.get(c.key)
            if line is None:
                style = _KINDS[c.kind][0]
                (line,) = self.ax.plot(
                    c.x, y, style, color=self._color(c.layer), lw=1.4, label=c.label
                )
                self._lines[c.key] = line
                if c.kind == "pixel":
                    self.plot.add_animated(line)
                full = True
            else:
                line.set_data(c.x, y)
                if line.get_label() != c.label:
                    line.set_label(c.label)
            if c.kind == "roi" and (full or c.key not in self._fills):
                old = self._fills.pop(c.key, None)
                if old is not None:
                    old.remove()
                self._fills[c.key] = self.ax.fill_between(
                    c.x, y - c.std, y + c.std, color=self._color(c.layer), alpha=0.25, lw=0
                )
                full = True
        entries = self._legend_entries(curves)
        if entries != self._legend_labels:
            self._legend_labels = entries
            self._draw_legend(entries)
            full = True
        full = self._fit_limits(curves) or full
        if full:
            self.plot.draw_idle()
        else:
            self.plot.blit()

    def _legend_entries(self, curves: list[_Curve]) -> tuple[str, ...]:
        """Legend: one entry per layer (its colour), then one per kind of curve shown (line style)."""
        layers = tuple(dict.fromkeys(c.layer for c in curves))
        kinds = tuple(k for k in _KINDS if any(c.kind == k for c in curves))
        return (*layers, *(f"kind:{k}" for k in kinds))

    def _draw_legend(self, entries: tuple[str, ...]) -> None:
        """A legend strip above the axes, so it never hides spectra however many are plotted."""
        if self._legend is not None:
            self._legend.remove()
        handles = []
        for entry in entries:
            if entry.startswith("kind:"):
                style, text = _KINDS[entry[5:]]
                handles.append(Line2D([], [], ls=style, color=FOREGROUND, lw=1.4, label=text))
            else:
                handles.append(Line2D([], [], color=self._color(entry), lw=2.5, label=entry))
        self._legend, height = header_legend(self.plot.figure, handles, left=self._axes_left)
        self.plot.set_header(height, top=_TOP)

    def _fit_limits(self, curves: list[_Curve]) -> bool:
        """Set new axes limits when the data leave the view or fill too little of it; True if changed."""
        xs = [c.x for c in curves]
        ys = [self._view(c) for c in curves] + [
            self._view(c) + s * c.std for c in curves if c.std is not None for s in (-1, 1)
        ]
        ys = [y[np.isfinite(y)] for y in ys]
        ys = [y for y in ys if y.size]
        if not xs or not ys:
            return False
        x0, x1 = min(float(np.min(x)) for x in xs), max(float(np.max(x)) for x in xs)
        y0, y1 = min(float(y.min()) for y in ys), max(float(y.max()) for y in ys)
        (vx0, vx1), (vy0, vy1) = self.ax.get_xlim(), self.ax.get_ylim()
        span = max(y1 - y0, 1e-12 * max(abs(y0), abs(y1), 1.0))
        fits = (
            vx0 <= x0
            and x1 <= vx1
            and (x1 - x0) >= 0.8 * (vx1 - vx0)
            and vy0 <= y0
            and y1 <= vy1
            and span >= 0.4 * (vy1 - vy0)
        )
        if fits:
            return False
        xpad = 0.02 * (x1 - x0 or 1.0)
        self.ax.set_xlim(x0 - xpad, x1 + xpad)
        self.ax.set_ylim(y0 - 0.08 * span, y1 + 0.08 * span)
        return True

    def _update_lambda_line(self, event=None) -> None:
        layers = spectral_layers(self.viewer)
        if not layers or self.viewer.dims.ndim < 1:
            return
        layer = layers[0]
        band = int(np.round(layer.world_to_data(self.viewer.dims.point)[0]))
        x, _ = self._x_for(layer)
        if x is not None and 0 <= band < len(x):
            self._lambda_line.set_xdata([x[band], x[band]])
            self.plot.draw_idle()

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
        if self._roi_curves:
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


__all__ = ["MARKER_NAME", "SpectraWidget"]
