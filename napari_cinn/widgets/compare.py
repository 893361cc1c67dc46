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

A thin Qt shell over :mod:`napari_cinn.widgets._logic.compare` and
:func:`napari_cinn.core.comparison.compare_to_reference`.
"""

from __future__ import annotations

import numpy as np
from napari.layers import Image
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from napari_cinn.core.comparison import compare_to_reference
from napari_cinn.layers import add_layer_data, is_measured, layer_named, spectral_layers
from napari_cinn.widgets._hooks import connect_viewer
from napari_cinn.widgets._logic import compare as C
from napari_cinn.widgets._logic.regions import roi_layers
from napari_cinn.widgets._pickers import LayerList
from napari_cinn.widgets._plot import PALETTE, PlotCanvas, style_axes
from napari_cinn.widgets._worker import DockJob

SIGNED, ABSOLUTE = "A − B", "|A − B|"
PER_BAND, SUMMED = "per band", "summed over bands"
WHOLE = "(whole image)"

__all__ = ["ABSOLUTE", "PER_BAND", "SIGNED", "SUMMED", "WHOLE", "CompareWidget"]


class CompareWidget(QWidget):
    """Dock widget: side-by-side grid, difference maps, per-wavelength difference to a reference."""

    def __init__(self, napari_viewer):
        super().__init__()
        self.viewer = napari_viewer
        self._saved_view: dict | None = None
        self._linked: list = []
        self.comparisons = None
        self._build()
        self.job = DockJob(
            self.progress,
            on_running=lambda running: self.summary_btn.setEnabled(not running),
            on_message=lambda text, _final: self.status.setText(text),
            failure_text="Comparison failed",
            parent=self,
        )
        connect_viewer(self, self.viewer, self._refresh)
        self._refresh()

    def _build(self) -> None:
        self.layers = LayerList("layers to compare (checked)")
        self.side_btn = QPushButton("Side by side")
        self.side_btn.setCheckable(True)
        self.link = QCheckBox("link contrast")
        self.link.setChecked(True)
        self.a, self.b, self.reference, self.roi = (
            QComboBox(),
            QComboBox(),
            QComboBox(),
            QComboBox(),
        )
        self.mode = QComboBox()
        self.mode.addItems([SIGNED, ABSOLUTE])
        self.reduce = QComboBox()
        self.reduce.addItems([PER_BAND, SUMMED])
        self.diff_btn = QPushButton("Difference map")
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
        form = QFormLayout()
        form.addRow("layers", self.layers)
        form.addRow(_row(self.side_btn, self.link))
        form.addRow("A", self.a)
        form.addRow("B", self.b)
        form.addRow(_row(self.mode, self.reduce))
        form.addRow(self.diff_btn)
        form.addRow("reference", self.reference)
        form.addRow("region", _row(self.roi, self.label))
        form.addRow(_row(self.l1, self.metrics))
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

    # ------------------------------------------------------------------ public API
    def checked_layers(self) -> list[str]:
        return self.layers.checked()

    def set_checked(self, names) -> None:
        self.layers.set_checked(names)

    @property
    def error(self) -> str | None:
        """The message of the last failed comparison (None after a successful one)."""
        return self.job.error

    def set_side_by_side(self, on: bool) -> None:
        """Grid mode with only the checked layers visible (on), or the previous view back (off)."""
        if on and self._saved_view is None:
            names = self.checked_layers()
            if len(names) < 2:
                self.status.setText("Check at least two layers for side by side.")
                self._set_button(False)
                return
            self._saved_view, self._linked = C.show_side_by_side(
                self.viewer, names, self.link.isChecked()
            )
            self.status.setText(f"Side by side: {', '.join(names)} (shared camera and sliders).")
        elif not on and self._saved_view is not None:
            C.restore_view(self.viewer, self._saved_view, self._linked)
            self._saved_view, self._linked = None, []
            self.status.setText("Back to the single view.")
        self._set_button(self._saved_view is not None)

    def add_difference(self) -> Image | None:
        """Add the difference map of layer A and layer B as a new Image layer."""
        na, nb = self.a.currentText(), self.b.currentText()
        if na not in self.viewer.layers or nb not in self.viewer.layers:
            self.status.setText("Choose two spectral layers A and B.")
            return None
        data, why = C.difference_layer(
            self.viewer.layers[na],
            self.viewer.layers[nb],
            mode="signed" if self.mode.currentText() == SIGNED else "abs",
            reduce="band" if self.reduce.currentText() == PER_BAND else "sum",
        )
        if data is None:
            self.status.setText(why)
            return None
        layer = add_layer_data(self.viewer, data)
        self.status.setText(f"Added '{layer.name}'.")
        return layer

    def compute_summary(self):
        """Start the per-wavelength difference and metrics against the reference (worker thread)."""
        if self.job.running:
            self.status.setText("A comparison is already running.")
            return None
        roi_name = self.roi.currentText()
        roi = layer_named(self.viewer, roi_name)
        inputs, why = C.summary_inputs(
            {ly.name: ly for ly in self.viewer.layers},
            self.checked_layers(),
            self.reference.currentText(),
            None if roi_name == WHOLE else roi,
            self.label.value(),
        )
        if inputs is None:
            self.status.setText(why)
            return None
        self.comparisons = None
        return self.job.start(
            compare_to_reference,
            inputs.items,
            inputs.reference,
            mask=inputs.mask,
            labels=inputs.labels,
            norm="l1" if self.l1.isChecked() else "none",
            metrics=self.metrics.isChecked(),
            on_result=self._show_summary,
            message=f"Comparing {len(inputs.items)} layer(s) with '{inputs.reference.name}'…",
        )

    # ------------------------------------------------------------------ internals
    def _set_button(self, on: bool) -> None:
        self.side_btn.blockSignals(True)
        self.side_btn.setChecked(on)
        self.side_btn.setText("Back to single view" if on else "Side by side")
        self.side_btn.blockSignals(False)

    def _refresh(self, event=None) -> None:
        spectral = [ly.name for ly in spectral_layers(self.viewer)]
        images = [ly.name for ly in self.viewer.layers if isinstance(ly, Image)]
        self.layers.refresh(images, default_checked=spectral)
        previous_ref = self.reference.currentText()
        for combo, default in ((self.a, -1), (self.b, 0), (self.reference, None)):
            current = combo.currentText()
            combo.clear()
            combo.addItems(spectral)
            if current in spectral:
                combo.setCurrentText(current)
            elif default is not None and spectral:
                combo.setCurrentIndex(default % len(spectral))
        real = [n for n in spectral if is_measured(self.viewer.layers[n], "real")]
        if previous_ref not in spectral and real:  # default reference: the real data
            self.reference.setCurrentText(real[0])
        roi = self.roi.currentText()
        self.roi.clear()
        self.roi.addItems([WHOLE, *(ly.name for ly in roi_layers(self.viewer))])
        if roi:
            self.roi.setCurrentText(roi)

    def _show_summary(self, value) -> None:
        comps, notes = value
        self.comparisons = comps
        ref = self.reference.currentText()
        self._draw_violins(comps, ref)
        self.table.setRowCount(len(comps))
        for r, c in enumerate(comps):
            cells = [c.name, f"{np.nanmean(c.diff):.4g}", f"{c.mmd2:.4g}", f"{c.c2st_auc:.3f}"]
            for col, text in enumerate(cells):
                self.table.setItem(r, col, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        msg = f"{len(comps)} layer(s) against '{ref}' (C2ST AUC 0.5: indistinguishable)."
        self.status.setText(" ".join([msg, *notes]))

    def _draw_violins(self, comps, ref: str) -> None:
        ax = self.ax
        ax.clear()
        style_axes(ax)
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
        per_class = comps and len(comps[0].classes) > 1
        ax.set_title("per wavelength" + (" and class" if per_class else ""), fontsize=8)
        self.plot.draw_idle()


def _row(*widgets) -> QHBoxLayout:
    row = QHBoxLayout()
    for w in widgets:
        row.addWidget(w)
    return row
