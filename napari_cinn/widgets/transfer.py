"""The "Domain transfer" dock: pick a spectral layer, a model and a direction; run in a worker.

The dock shows what the model expects and keeps Run disabled, with the reason, while the layer
does not fit. A run happens in a ``thread_worker`` (the viewer stays responsive) with a napari
progress bar and a Cancel button; its result is a new layer ``<name> [sim→real]`` carrying the
model's wavelengths and the provenance (model, direction, device). Cancelling adds nothing; errors
show as napari notifications with the core's message. Logic lives in ``_transfer_logic``.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from qtpy.QtCore import QObject, Qt, Signal
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ._transfer_logic import (
    ARROW,
    ModelInfo,
    TransferRequest,
    TransferResult,
    available_devices,
    domain_note,
    fit_reason,
    is_spectral_layer,
    result_name,
    run_transfer,
    shipped_models,
)

if TYPE_CHECKING:
    import napari

BROWSE = "Browse for a model file…"


class _Relay(QObject):
    """Carries progress from the worker thread to the GUI thread (queued signal)."""

    progressed = Signal(str, int, int)


class TransferWidget(QWidget):
    """Dock widget: domain transfer of a spectral Image layer with a cINN model file."""

    def __init__(self, napari_viewer: napari.viewer.Viewer, parent: QWidget | None = None):
        super().__init__(parent)
        self.viewer = napari_viewer
        self.model_info: ModelInfo | None = None
        self.worker = None
        self.last_result: TransferResult | None = None
        self.chunk: int | None = None  # pixels per chunk; None: the core's default
        self._cancel = threading.Event()
        self.outcome = ""  # what the last run did, kept under the status line
        self._pbar = None
        self._relay = _Relay()
        self._relay.progressed.connect(self._on_progress)
        self._build()
        self._connect_viewer()
        self.refresh_layers()
        self.refresh_models()

    # ---- construction -----------------------------------------------------------------------
    def _build(self) -> None:
        self.layer_combo = QComboBox()
        self.layer_combo.setToolTip(
            "Spectral Image layers: (bands, y, x) with metadata['wavelengths']"
        )
        self.model_combo = QComboBox()
        self.model_combo.setToolTip("Shipped sample models, files you opened, or browse for one")
        self.browse_btn = QPushButton("…")
        self.browse_btn.setFixedWidth(28)
        self.browse_btn.setToolTip(BROWSE)
        model_row = QHBoxLayout()
        model_row.addWidget(self.model_combo, 1)
        model_row.addWidget(self.browse_btn)
        self.model_label = QLabel("no model chosen")
        self.model_label.setWordWrap(True)
        self.direction_combo = QComboBox()
        self.device_combo = QComboBox()
        self.device_combo.addItems(available_devices())
        self.resample_check = QCheckBox("resample the layer onto the model's wavelengths")
        self.latent_check = QCheckBox("latent code layer")
        self.likelihood_check = QCheckBox("log-likelihood map (realism under the target domain)")
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 100)
        self.progress_bar.setVisible(False)
        self.run_btn = QPushButton("Run transfer")
        self.cancel_btn = QPushButton("Cancel")
        self.cancel_btn.setEnabled(False)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_btn)
        buttons.addWidget(self.cancel_btn)

        form = QFormLayout()
        form.addRow("Input layer", self.layer_combo)
        form.addRow("Model", model_row)
        form.addRow("", self.model_label)
        form.addRow("Direction", self.direction_combo)
        form.addRow("Device", self.device_combo)
        outer = QVBoxLayout(self)
        outer.addLayout(form)
        outer.addWidget(self.resample_check)
        outer.addWidget(QLabel("Extra outputs:"))
        outer.addWidget(self.latent_check)
        outer.addWidget(self.likelihood_check)
        outer.addWidget(self.status_label)
        outer.addWidget(self.progress_bar)
        outer.addLayout(buttons)
        outer.addStretch(1)

        self.layer_combo.currentIndexChanged.connect(self.update_state)
        self.model_combo.activated.connect(self._on_model_activated)
        self.browse_btn.clicked.connect(self.browse_model)
        self.direction_combo.currentIndexChanged.connect(self.update_state)
        self.resample_check.toggled.connect(self.update_state)
        self.run_btn.clicked.connect(self.run)
        self.cancel_btn.clicked.connect(self.cancel)

    def _connect_viewer(self) -> None:
        ev = self.viewer.layers.events
        ev.inserted.connect(self.refresh_layers)
        ev.removed.connect(self.refresh_layers)
        ev.reordered.connect(self.refresh_layers)
        ev.changed.connect(self.refresh_layers)
        self.destroyed.connect(lambda *_: None)

    # ---- layers -----------------------------------------------------------------------------
    def spectral_layers(self) -> list:
        return [lyr for lyr in self.viewer.layers if is_spectral_layer(lyr)]

    def refresh_layers(self, *_args) -> None:
        current = self.layer_combo.currentText()
        names = [lyr.name for lyr in self.spectral_layers()]
        self.layer_combo.blockSignals(True)
        self.layer_combo.clear()
        self.layer_combo.addItems(names)
        if current in names:
            self.layer_combo.setCurrentText(current)
        elif names:  # prefer a simulated layer, then the selected one
            active = self.viewer.layers.selection.active
            pick = next(
                (n for n in names if self.viewer.layers[n].metadata.get("domain") == "sim"),
                active.name if active is not None and active.name in names else names[0],
            )
            self.layer_combo.setCurrentText(pick)
        self.layer_combo.blockSignals(False)
        self.update_state()

    def current_layer(self):
        return self._layer_named(self.layer_combo.currentText())

    def _layer_named(self, name: str):
        try:
            return self.viewer.layers[name] if name else None
        except KeyError:
            return None

    # ---- models -----------------------------------------------------------------------------
    def refresh_models(self) -> None:
        """List shipped models (sample_data/models) plus any model file chosen before."""
        known = [self.model_combo.itemData(i) for i in range(self.model_combo.count())]
        paths = [p for p in known if p] + [str(p) for p in shipped_models()]
        current = self.model_info.path if self.model_info else None
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        seen: set[str] = set()
        for p in paths:
            if p not in seen:
                seen.add(p)
                self.model_combo.addItem(Path(p).name, p)
        self.model_combo.addItem(BROWSE, None)
        self.model_combo.blockSignals(False)
        if current is not None:
            self.model_combo.setCurrentIndex(self.model_combo.findData(str(current)))
        elif seen:
            self.set_model_path(next(iter(paths)))
        else:
            self.model_combo.setCurrentIndex(-1)
            self.update_state()

    def _on_model_activated(self, index: int) -> None:
        path = self.model_combo.itemData(index)
        if path is None:
            self.browse_model()
        else:
            self.set_model_path(path)

    def browse_model(self) -> None:
        start = str(shipped_models()[0].parent) if shipped_models() else str(Path.home())
        path, _ = QFileDialog.getOpenFileName(
            self, "Open a napari-cinn model", start, "Model files (*.safetensors)"
        )
        if path:
            self.set_model_path(path)
        else:
            self._select_model_item()

    def set_model_path(self, path: str | Path) -> bool:
        """Choose a model file; reads its header only (fast, no torch). False if unusable."""
        path = str(path)
        try:
            info = ModelInfo.read(path)
        except (ValueError, OSError) as exc:
            self.model_info = None
            self._notify_error(str(exc))
            self.model_label.setText(f"cannot use {Path(path).name}: {exc}")
            self._select_model_item()
            self.update_state()
            return False
        self.model_info = info
        if self.model_combo.findData(path) < 0:
            self.model_combo.insertItem(self.model_combo.count() - 1, Path(path).name, path)
        self._select_model_item()
        text = info.describe()
        when = info.provenance.get("created")
        if when:
            text += f"; saved {str(when)[:10]}"
        self.model_label.setText(text)
        self.direction_combo.blockSignals(True)
        self.direction_combo.clear()
        for src, tgt in info.directions():
            self.direction_combo.addItem(f"{src} {ARROW} {tgt}", f"{src}\t{tgt}")
        self.direction_combo.blockSignals(False)
        self.update_state()
        return True

    def _select_model_item(self) -> None:
        idx = self.model_combo.findData(str(self.model_info.path)) if self.model_info else -1
        self.model_combo.setCurrentIndex(idx)

    def direction(self) -> tuple[str, str] | None:
        data = self.direction_combo.currentData()
        return tuple(data.split("\t")) if data else None

    def set_direction(self, src: str, tgt: str) -> None:
        idx = self.direction_combo.findData(f"{src}\t{tgt}")
        if idx < 0:
            raise ValueError(f"the model has no direction {src}{ARROW}{tgt}")
        self.direction_combo.setCurrentIndex(idx)

    # ---- state ------------------------------------------------------------------------------
    def blocking_reason(self) -> str | None:
        """Why Run is disabled now, or None when a transfer can start."""
        if self.worker is not None:
            return "a transfer is running"
        if self.model_info is None:
            return "choose a model file"
        layer = self.current_layer()
        if layer is None:
            return "open a spectral image (File ▸ Open, or File ▸ Open Sample ▸ napari-cinn)"
        return fit_reason(self.model_info, layer, self.resample_check.isChecked())

    def update_state(self, *_args) -> None:
        reason = self.blocking_reason()
        self.run_btn.setEnabled(reason is None)
        if reason is not None:
            self.run_btn.setToolTip(reason)
            running = self.worker is not None
            self._set_status(reason if running else f"Cannot run: {reason}", error=not running)
            return
        self.run_btn.setToolTip("")
        layer = self.current_layer()
        src, tgt = self.direction()
        note = domain_note(layer, src)
        assumed = layer.metadata.get("wavelengths_assumed")
        msg = f"Ready: {layer.name} ({np.shape(layer.data)[0]} bands), {src} {ARROW} {tgt}"
        for extra in (note, assumed, self.outcome):
            if extra:
                msg += f"\n{extra}"
        self._set_status(msg)

    def _set_status(self, text: str, error: bool = False) -> None:
        self.status_label.setText(text)
        self.status_label.setStyleSheet("color: #e06c5a;" if error else "")

    # ---- running ----------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.worker is not None

    def make_request(self) -> TransferRequest:
        layer = self.current_layer()
        src, tgt = self.direction()
        return TransferRequest(
            model_path=self.model_info.path,
            data=layer.data,
            wavelengths=np.asarray(layer.metadata["wavelengths"], dtype=np.float64),
            src=src,
            tgt=tgt,
            device=self.device_combo.currentText(),
            resample=self.resample_check.isChecked(),
            latent=self.latent_check.isChecked(),
            likelihood=self.likelihood_check.isChecked(),
            chunk=self.chunk,
            layer_name=layer.name,
        )

    def run(self) -> None:
        """Start the transfer in a worker thread (no-op with a message when it cannot run)."""
        from napari.qt.threading import create_worker
        from napari.utils import progress

        reason = self.blocking_reason()
        if reason is not None:
            self._set_status(f"Cannot run: {reason}", error=True)
            return
        req = self.make_request()
        self._cancel.clear()
        self.outcome = ""
        stages = 1 + req.latent + req.likelihood
        self._stage_names = ["transfer", "latent code", "log-likelihood"]
        self._pbar = progress(
            total=100 * stages, desc=f"{req.layer_name}: {req.src}{ARROW}{req.tgt}"
        )
        self._stages = stages
        self.progress_bar.setValue(0)
        self.progress_bar.setVisible(True)
        relay = self._relay
        self.worker = create_worker(
            run_transfer,
            req,
            progress=lambda stage, d, t: relay.progressed.emit(stage, d, t),
            cancel=self._cancel.is_set,
            _start_thread=False,
            _ignore_errors=True,  # errors become notifications with the core's message
        )
        self.worker.returned.connect(self._on_returned)
        self.worker.errored.connect(self._on_errored)
        self.worker.finished.connect(self._on_finished)
        self.cancel_btn.setEnabled(True)
        self.update_state()
        self._set_status(f"Running {req.src} {ARROW} {req.tgt} on {req.layer_name}…")
        self.worker.start()

    def cancel(self) -> None:
        """Ask the running transfer to stop at the next chunk; nothing will be added."""
        if self.worker is not None:
            self._cancel.set()
            self.cancel_btn.setEnabled(False)
            self._set_status("Cancelling…")

    def _on_progress(self, stage: str, done: int, total: int) -> None:
        if self.worker is None or total <= 0:
            return
        k = {"transfer": 0, "latent code": 1}.get(stage, self._stages - 1)
        if stage == "latent code" and self._stages == 1:
            k = 0
        value = int(100 * k + 100 * done / total)
        self.progress_bar.setValue(int(value / self._stages))
        pbar = self._pbar  # local: napari's bar may process events (and finish) while updating
        if pbar is not None:
            pbar.set_description(stage)
            pbar.update(max(0, value - pbar.n))

    def _on_returned(self, result: TransferResult) -> None:
        if self._cancel.is_set():  # finished the last chunk just as Cancel was pressed
            self.outcome = "Cancelled: no layer added."
            return
        self.last_result = result
        self.add_result_layers(result)
        req = result.request
        self.outcome = (
            f"Done in {result.seconds:.1f} s on {result.device}: added "
            f"'{result_name(req.layer_name, req.src, req.tgt)}'."
        )

    def _on_errored(self, exc: BaseException) -> None:
        from napari_cinn.core import TransferCancelled

        if isinstance(exc, TransferCancelled):
            self.outcome = "Cancelled: no layer added."
            return
        msg = str(exc) or type(exc).__name__
        self.outcome = f"Transfer failed: {msg}"
        self._notify_error(f"Domain transfer failed: {msg}")

    def _on_finished(self) -> None:
        if self._pbar is not None:
            self._pbar.close()
            self._pbar = None
        self.worker = None
        self.cancel_btn.setEnabled(False)
        self.progress_bar.setVisible(False)
        self.device_combo_refresh()
        self.update_state()

    def device_combo_refresh(self) -> None:
        current = self.device_combo.currentText()
        devices = available_devices()
        if devices != [self.device_combo.itemText(i) for i in range(self.device_combo.count())]:
            self.device_combo.clear()
            self.device_combo.addItems(devices)
            self.device_combo.setCurrentText(current if current in devices else "auto")

    # ---- results ----------------------------------------------------------------------------
    def add_result_layers(self, result: TransferResult) -> list:
        req = result.request
        source = self._layer_named(req.layer_name)
        info = self.model_info
        provenance = {
            "model": Path(req.model_path).name,
            "model_path": str(req.model_path),
            "direction": f"{req.src}{ARROW}{req.tgt}",
            "source_layer": req.layer_name,
            "device": result.device,
            "resampled": bool(req.resample),
            "seconds": round(result.seconds, 3),
        }
        geometry = {}
        if source is not None:
            geometry = {"scale": source.scale, "translate": source.translate}
        name = result_name(req.layer_name, req.src, req.tgt)
        meta = {
            "wavelengths": result.wavelengths,
            "domain": f"{req.src}{ARROW}{req.tgt}",
            "provenance": provenance,
        }
        limits = source.contrast_limits if source is not None else None
        ndim = result.transferred.ndim
        labels = ("λ", "y", "x") if ndim == 3 else ("λ", "z", "y", "x")
        added = [
            self.viewer.add_image(
                result.transferred,
                name=name,
                metadata=meta,
                axis_labels=labels,
                contrast_limits=limits,
                colormap="gray",
                rgb=False,
                **geometry,
            )
        ]
        if result.latent is not None:
            added.append(
                self.viewer.add_image(
                    result.latent,
                    name=f"{req.layer_name} [latent | {req.src}]",
                    metadata={
                        "latent_of": req.layer_name,
                        "domain": req.src,
                        "provenance": provenance,
                        "modality": info.modality if info else None,
                    },
                    axis_labels=labels,
                    colormap="twilight_shifted",
                    rgb=False,
                    contrast_limits=(-3, 3),
                    visible=False,
                    **geometry,
                )
            )
        if result.log_likelihood is not None:
            ll = result.log_likelihood
            finite = ll[np.isfinite(ll)]
            lim = (
                (float(np.percentile(finite, 1)), float(np.percentile(finite, 99)))
                if finite.size
                else (0, 1)
            )
            if not lim[1] > lim[0]:
                lim = (lim[0] - 1, lim[0] + 1)
            added.append(
                self.viewer.add_image(
                    ll,
                    name=f"{name} [log p | {req.tgt}]",
                    metadata={
                        "log_likelihood_of": name,
                        "domain": req.tgt,
                        "units": "nats per dim",
                        "provenance": provenance,
                    },
                    axis_labels=labels[1:],
                    colormap="viridis",
                    contrast_limits=lim,
                    rgb=False,
                    visible=False,
                    **({k: v[1:] for k, v in geometry.items()}),
                )
            )
        return added

    # ---- helpers ----------------------------------------------------------------------------
    @staticmethod
    def _notify_error(msg: str) -> None:
        from napari.utils.notifications import show_error

        show_error(msg)

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt name
        self.cancel()
        super().closeEvent(event)
