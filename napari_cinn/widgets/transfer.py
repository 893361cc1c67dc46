"""The "Domain transfer" dock: pick a spectral layer, a model and a direction; run in a worker.

A thin Qt shell over :mod:`napari_cinn.widgets._logic.transfer`. The model list puts the models
that fit the chosen layer first (and picks one of them); Run stays disabled, with the reason,
while the layer does not fit. For a model with a class condition a "Class map" row
(:class:`ClassMapPicker`) offers the Labels layers of the input's shape (its own ``<name> labels``
pre-selected) or none (uniform); labels outside the model's classes block Run. A run happens in a
worker thread (:class:`DockJob`: progress bar, Cancel); its result is a new layer
``<name> [sim→real]`` with the model's wavelengths and the provenance (model, direction, device,
class map). Cancelling adds nothing; errors show as napari notifications with the core's message.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from napari_cinn.layers import add_layer_data, layer_named, spectral_layers
from napari_cinn.widgets._hooks import connect_viewer
from napari_cinn.widgets._logic import transfer as T
from napari_cinn.widgets._logic.models import ModelInfo, available_devices, direction_text
from napari_cinn.widgets._pickers import BROWSE, ClassMapPicker, ModelPicker
from napari_cinn.widgets._worker import DockJob

if TYPE_CHECKING:
    import napari

__all__ = ["BROWSE", "TransferWidget"]


class TransferWidget(QWidget):
    """Dock widget: domain transfer of a spectral Image layer with a cINN model file."""

    def __init__(self, napari_viewer: napari.viewer.Viewer, parent: QWidget | None = None):
        super().__init__(parent)
        self.viewer = napari_viewer
        self.last_result: T.TransferResult | None = None
        self.chunk: int | None = None  # pixels per chunk; None: the core's default
        self.outcome = ""  # what the last run did, kept under the status line
        self._build()
        self.job = DockJob(
            self.progress_bar,
            on_running=self._on_running,
            on_message=self._on_job_message,
            failure_text="Transfer failed",
            cancelled_text=T.CANCELLED,
            notify_errors=True,
            parent=self,
        )
        renamed = ((self.viewer.layers.events.renamed, self.refresh_layers),)
        connect_viewer(self, self.viewer, self.refresh_layers, changed=True, extra=renamed)
        self.refresh_layers()

    def _build(self) -> None:
        self.layer_combo = QComboBox()
        self.layer_combo.setToolTip(
            "Spectral Image layers: (bands, y, x) with metadata['wavelengths']"
        )
        self.picker = ModelPicker(self)
        self.model_combo, self.model_label = self.picker.combo, self.picker.description
        self.direction_combo = QComboBox()
        self.class_picker = ClassMapPicker(self)
        self.device_combo = QComboBox()
        self.device_combo.addItems(available_devices())
        self.resample_check = QCheckBox("resample the layer onto the model's wavelengths")
        self.latent_check = QCheckBox("latent code layer")
        self.likelihood_check = QCheckBox("log-likelihood map (realism under the target domain)")
        self.sample_check = QCheckBox("stochastic realisation, seed")
        self.sample_check.setToolTip(
            "Draw the variability the source domain leaves unspecified (e.g. the camera noise a "
            "simulation lacks and, for HSI models with an image spread, one whole-image factor: "
            "white balance, illumination) instead of the deterministic, mean-like transfer. The "
            "same seed gives the same realisation; models trained with loss.dequantize=matched "
            "or camera can sample; `cinn-train image-spread` adds the spread to a model file."
        )
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2**31 - 1)
        self.seed_spin.setEnabled(False)
        self.sample_check.toggled.connect(self.seed_spin.setEnabled)
        sampling = QHBoxLayout()
        sampling.addWidget(self.sample_check)
        sampling.addWidget(self.seed_spin)
        sampling.addStretch(1)
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.progress_bar = QProgressBar()
        self.progress_bar.setVisible(False)
        self.run_btn = QPushButton("Run transfer")
        self.cancel_btn = QPushButton("Cancel")
        self.cancel_btn.setEnabled(False)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_btn)
        buttons.addWidget(self.cancel_btn)
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        form.addRow("Input layer", self.layer_combo)
        form.addRow("Model", self.picker)
        form.addRow("Direction", self.direction_combo)
        form.addRow(self.class_picker.label, self.class_picker)
        form.addRow("Device", self.device_combo)
        outer = QVBoxLayout(self)
        outer.addLayout(form)
        outer.addWidget(self.resample_check)
        outer.addLayout(sampling)
        for w in (QLabel("Extra outputs:"), self.latent_check):
            outer.addWidget(w)
        for w in (self.likelihood_check, self.status_label, self.progress_bar):
            outer.addWidget(w)
        outer.addLayout(buttons)
        outer.addStretch(1)
        self.layer_combo.currentIndexChanged.connect(self._on_layer_changed)
        self.picker.chosen.connect(self._on_model_chosen)
        self.direction_combo.currentIndexChanged.connect(self.update_state)
        self.class_picker.currentIndexChanged.connect(self.update_state)
        self.resample_check.toggled.connect(self.update_state)
        self.run_btn.clicked.connect(self.run)
        self.cancel_btn.clicked.connect(self.cancel)
        if self.picker.info is not None:
            self._on_model_chosen(self.picker.info)

    # ---- layers
    def spectral_layers(self) -> list:
        return spectral_layers(self.viewer, with_wavelengths=True)

    def refresh_layers(self, *_args) -> None:
        current = self.layer_combo.currentText()
        layers = self.spectral_layers()
        names = [ly.name for ly in layers]
        self.layer_combo.blockSignals(True)
        self.layer_combo.clear()
        self.layer_combo.addItems(names)
        if current in names:
            self.layer_combo.setCurrentText(current)
        elif names:
            pick = T.default_layer(layers, self.viewer.layers.selection.active)
            self.layer_combo.setCurrentText(pick.name)
        self.layer_combo.blockSignals(False)
        self._on_layer_changed()

    def current_layer(self):
        name = self.layer_combo.currentText()
        return layer_named(self.viewer, name)

    def _on_layer_changed(self, *_args) -> None:
        self.picker.fit_to(self.current_layer())
        self._refresh_class_maps()

    # ---- models
    @property
    def model_info(self) -> ModelInfo | None:
        return self.picker.info

    def set_model_path(self, path: str | Path) -> bool:
        """Choose a model file; reads its header only (fast, no torch). False if unusable."""
        ok = self.picker.set_path(path)
        self.update_state()
        return ok

    def _on_model_chosen(self, info: ModelInfo | None) -> None:
        self.direction_combo.blockSignals(True)
        self.direction_combo.clear()
        for src, tgt in info.directions() if info is not None else []:
            self.direction_combo.addItem(direction_text(src, tgt), f"{src}\t{tgt}")
        self.direction_combo.blockSignals(False)
        self._refresh_class_maps()

    def _refresh_class_maps(self) -> None:
        self.class_picker.refresh(self.model_info, self.viewer.layers, self.current_layer())
        self.update_state()

    def direction(self) -> tuple[str, str] | None:
        data = self.direction_combo.currentData()
        return tuple(data.split("\t")) if data else None

    def set_direction(self, src: str, tgt: str) -> None:
        idx = self.direction_combo.findData(f"{src}\t{tgt}")
        if idx < 0:
            raise ValueError(f"the model has no direction {src}→{tgt}")
        self.direction_combo.setCurrentIndex(idx)

    # ---- state
    def blocking_reason(self) -> str | None:
        """Why Run is disabled now, or None when a transfer can start."""
        if self.job.running:
            return "a transfer is running"
        layer = self.current_layer()
        resample, class_map = self.resample_check.isChecked(), self.class_picker.class_map()
        return T.blocking_reason(self.model_info, layer, resample, class_map)

    def update_state(self, *_args) -> None:
        if not hasattr(self, "job"):
            return
        reason = self.blocking_reason()
        self.run_btn.setEnabled(reason is None)
        self.run_btn.setToolTip(reason or "")
        if reason is not None:
            running = self.job.running
            self._set_status(reason if running else f"Cannot run: {reason}", error=not running)
            return
        classes = self.class_picker.describe()
        self._set_status(
            T.ready_message(self.current_layer(), *self.direction(), self.outcome, classes)
        )

    def _set_status(self, text: str, error: bool = False) -> None:
        self.status_label.setText(text)
        self.status_label.setStyleSheet("color: #e06c5a;" if error else "")

    # ---- running
    @property
    def running(self) -> bool:
        return self.job.running

    @property
    def worker(self):
        return self.job.worker

    def make_request(self) -> T.TransferRequest:
        return T.TransferRequest.for_layer(
            self.model_info,
            self.current_layer(),
            *self.direction(),
            class_map=self.class_picker.class_map(),
            device=self.device_combo.currentText(),
            resample=self.resample_check.isChecked(),
            latent=self.latent_check.isChecked(),
            likelihood=self.likelihood_check.isChecked(),
            sample=self.sample_check.isChecked(),
            seed=self.seed_spin.value(),
            chunk=self.chunk,
        )

    def run(self) -> None:
        """Start the transfer in a worker thread (no-op with a message when it cannot run)."""
        reason = self.blocking_reason()
        if reason is not None:
            self._set_status(f"Cannot run: {reason}", error=True)
            return
        req = self.make_request()
        self.outcome = ""
        self.job.start(
            T.run_transfer,
            req,
            on_result=self._on_result,
            message=f"Running {req.src} → {req.tgt} on {req.layer_name}…",
            stages=req.stages(),
            title=f"{req.layer_name}: {req.src}→{req.tgt}",
        )

    def cancel(self) -> None:
        """Ask the running transfer to stop at the next chunk; nothing will be added."""
        if self.job.cancel():
            self.cancel_btn.setEnabled(False)

    def _on_running(self, running: bool) -> None:
        self.cancel_btn.setEnabled(running)
        if not running:
            self._refresh_devices()
        self.update_state()

    def _on_job_message(self, text: str, final: bool) -> None:
        if not final:  # "Running …", "Cancelling…"
            self._set_status(text)
            return
        self.outcome = text
        self.update_state()

    def _on_result(self, result: T.TransferResult) -> None:
        self.last_result = result
        self.add_result_layers(result)
        req = result.request
        self.outcome = (
            f"Done in {result.seconds:.1f} s on {result.device}: added "
            f"'{T.result_name(req.layer_name, req.src, req.tgt)}'."
        )

    def add_result_layers(self, result: T.TransferResult) -> list:
        name = result.request.layer_name
        source = layer_named(self.viewer, name)
        modality = self.model_info.modality if self.model_info else None
        return [add_layer_data(self.viewer, ld) for ld in T.result_layers(result, source, modality)]

    def _refresh_devices(self) -> None:
        current = self.device_combo.currentText()
        devices = available_devices()
        if devices != [self.device_combo.itemText(i) for i in range(self.device_combo.count())]:
            self.device_combo.clear()
            self.device_combo.addItems(devices)
            self.device_combo.setCurrentText(current if current in devices else "auto")

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt name
        self.cancel()
        super().closeEvent(event)
