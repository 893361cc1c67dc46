"""The "Compare" dock: sim, transferred and real side by side, difference maps, difference to real.

- Side by side: napari grid mode showing only the checked layers (one camera and one set of dims
  serve every grid cell, so views stay linked); contrast limits of the checked layers can be
  linked too. Pressing the button again restores the previous visibility and grid state.
- Difference map: a new layer ``A − B`` (e.g. transferred − source) or ``|A − B|`` (e.g. against a
  real reference), per band or summed over bands.
- Difference to a reference (e.g. the real layer) inside the whole image, a Shapes ROI or a Labels
  layer (per class): violins of |median − median_ref| per wavelength, one per compared layer (the
  paper's Fig. 5b; dashed line: mean, dots: wavelengths), and a table of MMD² and C2ST AUC from
  :mod:`napari_cinn.core.metrics` (computed in a worker thread).
"""

from __future__ import annotations

import numpy as np
from napari.experimental import link_layers, unlink_layers
from napari.layers import Image, Labels
from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from napari_cinn.core.projection import CloudInput, compare_to_reference, difference_map
from napari_cinn.widgets._layers import (
    disconnect_on_destroy,
    layer_domain,
    layer_wavelengths,
    roi_layers,
    roi_mask,
    spectral_layers,
)
from napari_cinn.widgets._plot import PALETTE, PlotCanvas, style_axes
from napari_cinn.widgets._worker import WorkerDockMixin

SIGNED, ABSOLUTE = "A − B", "|A − B|"
PER_BAND, SUMMED = "per band", "summed over bands"
WHOLE = "(whole image)"
LINKED = ("contrast_limits", "gamma")


class CompareWidget(WorkerDockMixin, QWidget):
    """Dock widget: side-by-side grid, difference maps, per-wavelength difference to a reference."""

    failure_text = "Comparison failed"

    def __init__(self, napari_viewer):
        super().__init__()
        self.viewer = napari_viewer
        self._saved_view: dict | None = None
        self._linked: list = []
        self._worker = None
        self.comparisons = None
        self.error: str | None = None

        self.layers = QListWidget()
        self.layers.setMaximumHeight(70)
        self.layers.setToolTip("layers to compare (checked)")
        self.side_btn = QPushButton("Side by side")
        self.side_btn.setCheckable(True)
        self.link = QCheckBox("link contrast")
        self.link.setChecked(True)

        self.a = QComboBox()
        self.b = QComboBox()
        self.mode = QComboBox()
        self.mode.addItems([SIGNED, ABSOLUTE])
        self.reduce = QComboBox()
        self.reduce.addItems([PER_BAND, SUMMED])
        self.diff_btn = QPushButton("Difference map")

        self.reference = QComboBox()
        self.roi = QComboBox()
        self.label = QSpinBox()
        self.label.setRange(0, 2**31 - 1)
        self.label.setSpecialValueText("per class")
        self.label.setToolTip("Labels ROI: one label, or 0 = every class separately")
        self.l1 = QCheckBox("L1-normalise spectra")
        self.l1.setChecked(True)
        self.metrics = QCheckBox("MMD² and C2ST")
        self.metrics.setChecked(True)
        self.summary_btn = QPushButton("Difference to reference")
        self.progress = QProgressBar()
        self.progress.setVisible(False)

        self.plot = PlotCanvas(self, figsize=(4.0, 2.8))
        self.ax = self.plot.figure.add_subplot(111)
        self.plot.figure.subplots_adjust(left=0.2, right=0.97, top=0.92, bottom=0.16)
        self.plot.set_header(22)  # room for the title whatever the dock's height
        style_axes(self.ax)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["layer", "mean |Δ|", "MMD²", "C2ST AUC"])
        self.table.setMaximumHeight(130)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.status = QLabel("Check layers to compare.")
        self.status.setWordWrap(True)

        side = QHBoxLayout()
        side.addWidget(self.side_btn)
        side.addWidget(self.link)
        diff_row = QHBoxLayout()
        diff_row.addWidget(self.mode)
        diff_row.addWidget(self.reduce)
        roi_row = QHBoxLayout()
        roi_row.addWidget(self.roi, 1)
        roi_row.addWidget(self.label)
        opts = QHBoxLayout()
        opts.addWidget(self.l1)
        opts.addWidget(self.metrics)
        form = QFormLayout()
        form.addRow("layers", self.layers)
        form.addRow(side)
        form.addRow("A", self.a)
        form.addRow("B", self.b)
        form.addRow(diff_row)
        form.addRow(self.diff_btn)
        form.addRow("reference", self.reference)
        form.addRow("region", roi_row)
        form.addRow(opts)
        form.addRow(self.summary_btn)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.table)
        layout.addWidget(self.status)

        self.side_btn.toggled.connect(self.set_side_by_side)
        self.diff_btn.clicked.connect(self.add_difference)
        self.summary_btn.clicked.connect(self.compute_summary)
        ev = self.viewer.layers.events
        connections = [(e, self._refresh) for e in (ev.inserted, ev.removed, ev.reordered)]
        for emitter, callback in connections:
            emitter.connect(callback)
        disconnect_on_destroy(self, self.viewer, connections)
        self._refresh()

    # ------------------------------------------------------------------ public API
    def checked_layers(self) -> list[str]:
        return [
            self.layers.item(i).text()
            for i in range(self.layers.count())
            if self.layers.item(i).checkState() == Qt.CheckState.Checked
        ]

    def set_checked(self, names) -> None:
        names = set(names)
        for i in range(self.layers.count()):
            item = self.layers.item(i)
            item.setCheckState(
                Qt.CheckState.Checked if item.text() in names else Qt.CheckState.Unchecked
            )

    def set_side_by_side(self, on: bool) -> None:
        """Grid mode with only the checked layers visible (on), or the previous view back (off)."""
        grid = self.viewer.canvas.grid
        if on and self._saved_view is None:
            names = self.checked_layers()
            if len(names) < 2:
                self.status.setText("Check at least two layers for side by side.")
                self._set_button(False)
                return
            self._saved_view = {
                "visible": {ly.name: ly.visible for ly in self.viewer.layers},
                "grid": grid.enabled,
                "shape": tuple(grid.shape),
                "names_shown": {ly.name: ly.name_overlay.visible for ly in self.viewer.layers},
            }
            for ly in self.viewer.layers:
                ly.visible = ly.name in names
                ly.name_overlay.visible = ly.visible  # which cell is which
            chosen = [self.viewer.layers[n] for n in names]
            if self.link.isChecked() and all(isinstance(ly, Image) for ly in chosen):
                lo = min(ly.contrast_limits[0] for ly in chosen)
                hi = max(ly.contrast_limits[1] for ly in chosen)
                for ly in chosen:
                    ly.contrast_limits = (lo, hi)
                link_layers(chosen, LINKED)
                self._linked = chosen
            # up to three layers in one row (napari's automatic square grid leaves a cell empty)
            grid.shape = (1, len(names)) if len(names) <= 3 else (-1, -1)
            grid.enabled = True
            self.viewer.reset_view()
            self.status.setText(f"Side by side: {', '.join(names)} (shared camera and sliders).")
        elif not on and self._saved_view is not None:
            if self._linked:
                unlink_layers([ly for ly in self._linked if ly in self.viewer.layers], LINKED)
                self._linked = []
            for ly in self.viewer.layers:
                ly.visible = self._saved_view["visible"].get(ly.name, ly.visible)
                ly.name_overlay.visible = self._saved_view["names_shown"].get(
                    ly.name, ly.name_overlay.visible
                )
            grid.shape = self._saved_view["shape"]
            grid.enabled = self._saved_view["grid"]
            self._saved_view = None
            self.viewer.reset_view()
            self.status.setText("Back to the single view.")
        self._set_button(self._saved_view is not None)

    def add_difference(self) -> Image | None:
        """Add the difference map of layer A and layer B as a new Image layer."""
        na, nb = self.a.currentText(), self.b.currentText()
        if na not in self.viewer.layers or nb not in self.viewer.layers:
            self.status.setText("Choose two spectral layers A and B.")
            return None
        la, lb = self.viewer.layers[na], self.viewer.layers[nb]
        wa, wb = layer_wavelengths(la), layer_wavelengths(lb)
        if (
            wa is not None
            and wb is not None
            and (wa.shape != wb.shape or not np.allclose(wa, wb, atol=0.5))
        ):
            self.status.setText(f"'{na}' and '{nb}' have different wavelengths: no difference map.")
            return None
        mode = "signed" if self.mode.currentText() == SIGNED else "abs"
        reduce = "band" if self.reduce.currentText() == PER_BAND else "sum"
        try:
            diff = difference_map(la.data, lb.data, mode=mode, reduce=reduce)
        except ValueError as err:
            self.status.setText(f"No difference map: {err}.")
            return None
        name = f"{na} − {nb}" if mode == "signed" else f"|{na} − {nb}|"
        if reduce == "sum":
            name += " (Σλ)"
        finite = diff[np.isfinite(diff)]
        if mode == "signed":
            m = float(np.percentile(np.abs(finite), 99.5)) if finite.size else 1.0
            limits, cmap = (-(m or 1.0), m or 1.0), "PiYG"
        else:
            m = float(np.percentile(finite, 99.5)) if finite.size else 1.0
            limits, cmap = (0.0, m or 1.0), "magma"
        meta = {"domain": f"difference ({layer_domain(la)} − {layer_domain(lb)})"}
        kwargs = {}
        if reduce == "band":
            if wa is not None:
                meta["wavelengths"] = wa
            kwargs["axis_labels"] = la.axis_labels
        else:
            kwargs["axis_labels"] = la.axis_labels[1:]
        layer = self.viewer.add_image(
            diff,
            name=name,
            colormap=cmap,
            contrast_limits=limits,
            metadata=meta,
            scale=la.scale if reduce == "band" else la.scale[1:],
            translate=la.translate if reduce == "band" else la.translate[1:],
            **kwargs,
        )
        self.status.setText(f"Added '{layer.name}'.")
        return layer

    def compute_summary(self):
        """Start the per-wavelength difference and metrics against the reference (worker thread)."""
        if self._worker is not None:
            self.status.setText("A comparison is already running.")
            return None
        ref_name = self.reference.currentText()
        if ref_name not in self.viewer.layers:
            self.status.setText("Choose a reference layer (e.g. the real data).")
            return None
        names = [n for n in self.checked_layers() if n != ref_name and n in self.viewer.layers]
        if not names:
            self.status.setText("Check at least one layer besides the reference.")
            return None
        ref_layer = self.viewer.layers[ref_name]
        mask = labels = None
        roi_name = self.roi.currentText()
        if roi_name != WHOLE and roi_name in self.viewer.layers:
            roi = self.viewer.layers[roi_name]
            try:
                if isinstance(roi, Labels) and self.label.value() == 0:  # every class separately
                    mask = roi_mask(roi, ref_layer.data.shape[1:], None)  # checks the size
                    labels = np.asarray(roi.data).reshape((-1, *mask.shape))[0].astype(int)
                else:
                    mask = roi_mask(roi, ref_layer.data.shape[1:], self.label.value() or None)
            except ValueError as err:
                self.status.setText(f"Region: {err}.")
                return None
            if not mask.any():
                self.status.setText(f"The region '{roi_name}' is empty.")
                return None
        items = [
            CloudInput(n, self.viewer.layers[n].data, layer_wavelengths(self.viewer.layers[n]))
            for n in names
        ]
        ref = CloudInput(ref_name, ref_layer.data, layer_wavelengths(ref_layer))
        self.error = None
        self.comparisons = None
        return self._start_worker(
            compare_to_reference,
            items,
            ref,
            mask=mask,
            labels=labels,
            norm="l1" if self.l1.isChecked() else "none",
            metrics=self.metrics.isChecked(),
            on_result=self._show_summary,
            message=f"Comparing {len(items)} layer(s) with '{ref_name}'…",
        )

    # ------------------------------------------------------------------ internals
    def _set_button(self, on: bool) -> None:
        self.side_btn.blockSignals(True)
        self.side_btn.setChecked(on)
        self.side_btn.setText("Back to single view" if on else "Side by side")
        self.side_btn.blockSignals(False)

    def _refresh(self, event=None) -> None:
        checked = set(self.checked_layers())
        first = self.layers.count() == 0
        images = [ly.name for ly in self.viewer.layers if isinstance(ly, Image)]
        self.layers.clear()
        for name in images:
            item = QListWidgetItem(name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            on = name in checked or (
                first and name in [s.name for s in spectral_layers(self.viewer)]
            )
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
            self.layers.addItem(item)
        spectral = [ly.name for ly in spectral_layers(self.viewer)]
        previous_ref = self.reference.currentText()
        for combo, default in ((self.a, -1), (self.b, 0), (self.reference, None)):
            current = combo.currentText()
            combo.clear()
            combo.addItems(spectral)
            if current in spectral:
                combo.setCurrentText(current)
            elif default is not None and spectral:
                combo.setCurrentIndex(default % len(spectral))
        real = [
            n for n in spectral if str(self.viewer.layers[n].metadata.get("domain", "")) == "real"
        ]
        if previous_ref not in spectral and real:  # default reference: the real data
            self.reference.setCurrentText(real[0])
        roi = self.roi.currentText()
        self.roi.clear()
        self.roi.addItems([WHOLE, *(ly.name for ly in roi_layers(self.viewer))])
        if roi:
            self.roi.setCurrentText(roi)

    def _set_running(self, running: bool) -> None:
        self.summary_btn.setEnabled(not running)

    def _show_summary(self, value) -> None:
        comps, notes = value
        self.comparisons = comps
        ax = self.ax
        ax.clear()
        style_axes(ax)
        ref = self.reference.currentText()
        if comps:
            data = [c.diff.ravel()[np.isfinite(c.diff.ravel())] for c in comps]
            pos = np.arange(1, len(comps) + 1)
            parts = ax.violinplot(data, positions=pos, showextrema=False, widths=0.8)
            rng = np.random.default_rng(0)
            for k, (body, d) in enumerate(zip(parts["bodies"], data, strict=True)):
                color = PALETTE[k % len(PALETTE)]
                body.set_facecolor(color)
                body.set_edgecolor(color)
                body.set_alpha(0.35)
                ax.scatter(pos[k] + rng.uniform(-0.12, 0.12, d.size), d, s=5, color=color, lw=0)
                ax.hlines(
                    d.mean(), pos[k] - 0.35, pos[k] + 0.35, colors=color, linestyles="--", lw=1.2
                )
            ax.set_xticks(pos, [c.name for c in comps], fontsize=7)
        unit = " (L1-norm.)" if self.l1.isChecked() else ""
        ax.set_ylabel(f"|Δ median| to {ref}{unit}", fontsize=8)
        ax.set_title(
            "per wavelength" + (" and class" if comps and len(comps[0].classes) > 1 else ""),
            fontsize=8,
        )
        self.plot.draw_idle()
        self.table.setRowCount(len(comps))
        for r, c in enumerate(comps):
            cells = [c.name, f"{np.nanmean(c.diff):.4g}", f"{c.mmd2:.4g}", f"{c.c2st_auc:.3f}"]
            for col, text in enumerate(cells):
                self.table.setItem(r, col, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        msg = f"{len(comps)} layer(s) against '{ref}' (C2ST AUC 0.5: indistinguishable)."
        if notes:
            msg += " " + " ".join(notes)
        self.status.setText(msg)
