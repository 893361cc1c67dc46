"""The "Latent space" dock: where do sim, transferred and real pixels lie relative to each other,
and do the domains share the latent space at all?

For the chosen spectral layers and a model file, latent codes of a random subsample of usable
pixels are computed in a worker thread (progress bar, cancel), a PCA is fitted on the reference
layer (e.g. the real one) and each layer is drawn as KDE contours over a light scatter, with
marginal densities on top and right (the paper's Fig. 5a). "data" space skips the model and
projects L2-normalised spectra instead. The last clicked pixel is marked in the plot; a lasso in the
plot paints the selected pixels into a Labels layer ("latent selection") in the viewer.

*Model noise* (on by default) encodes layers of a domain the model dequantises (a noise-free
simulation) plus one seeded draw of that noise, as the stochastic transfer and training do; off,
such a layer's pixels as they are, which sit in a thin core of the latent.

The *Latent health* tab shows, per layer, the std of every latent dimension as a colour strip
and says in words whether each domain fills the N(0, 1) the model assumes
(:mod:`napari_cinn.core.latent_health`): a domain in a thin core cannot be transferred faithfully.

A thin Qt shell over :mod:`napari_cinn.widgets._logic.latent` and
:func:`napari_cinn.core.clouds.project_clouds`.
"""

from __future__ import annotations

from pathlib import Path

from napari.layers import Labels
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from napari_cinn.core.clouds import ProjectionResult, project_clouds
from napari_cinn.layers import layer_named, spectral_layers
from napari_cinn.widgets._hooks import click_callback, connect_viewer
from napari_cinn.widgets._latent_plot import CloudPlot, HealthPlot
from napari_cinn.widgets._logic import latent as L
from napari_cinn.widgets._logic.models import load_cached, model_line
from napari_cinn.widgets._pickers import LayerList, ModelPicker
from napari_cinn.widgets._worker import DockJob

SELECTION_NAME = "latent selection"
LATENT, DATA = "latent (model)", "data (L2-normalised spectra)"
SKIP = "(leave out)"

__all__ = ["DATA", "LATENT", "SELECTION_NAME", "LatentWidget"]


class LatentWidget(QWidget):
    """Dock widget: PCA/KDE view of latent (or data) space for chosen layers, latent health."""

    def __init__(self, napari_viewer):
        super().__init__()
        self.viewer = napari_viewer
        self.model = None
        self._model_path: Path | None = None  # file the loaded model came from (None: in memory)
        self.result: ProjectionResult | None = None
        self._build()
        self.job = DockJob(
            self.progress,
            on_running=self._set_running,
            on_message=lambda text, _final: self.status.setText(text),
            failure_text="Projection failed",
            parent=self,
        )
        connect_viewer(
            self, self.viewer, self._refresh_layers, drag=[click_callback(self, "mark_pixel")]
        )
        self._refresh_layers()

    def _build(self) -> None:
        self.layers = LayerList("layers to project (checked)")
        self.reference = QComboBox()
        self.reference.setToolTip("the PCA is fitted on this layer's points (e.g. the real data)")
        self.picker = ModelPicker(self, preselect_unfitting=False)
        self.space = QComboBox()
        self.space.addItems([LATENT, DATA])
        self.fallback = QComboBox()
        self.fallback.addItem(SKIP)
        self.fallback.setToolTip("domain condition for layers without metadata['domain']")
        self.n_pixels = QSpinBox()
        self.n_pixels.setRange(2, 1_000_000)
        self.n_pixels.setSingleStep(1000)
        self.n_pixels.setValue(5000)
        self.n_pixels.setToolTip("random usable pixels per layer")
        self.noise = QCheckBox("add it, as the transfer does")
        self.noise.setChecked(True)
        self.noise.setToolTip(
            "encode a layer of a domain the model dequantises (a noise-free simulation) plus one\n"
            "seeded draw of the noise the model adds to it in training and transfer; off: the\n"
            "pixels as they are (they then sit in a thin core of the latent)"
        )
        self.run_btn = QPushButton("Project")
        self.cancel_btn = QPushButton("Cancel")
        self.cancel_btn.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.status = QLabel(
            "Choose layers and a model, then Project. Lasso in the plot selects pixels."
        )
        self.status.setWordWrap(True)
        self.plot = CloudPlot(self, self.select_polygon)
        self.health_plot = HealthPlot(self)
        self.health_text = QLabel(L.health_text(None))
        self.health_text.setWordWrap(True)
        health = QWidget()
        box = QVBoxLayout(health)
        box.addWidget(self.health_plot, 1)
        box.addWidget(self.health_text)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.plot, "PCA / KDE")
        self.tabs.addTab(health, "Latent health")
        form = QFormLayout()
        for label, w in (
            ("layers", self.layers),
            ("reference", self.reference),
            ("model", self.picker),
            ("space", self.space),
            ("no domain →", self.fallback),
            ("pixels / layer", self.n_pixels),
            ("model noise", self.noise),
        ):
            form.addRow(label, w)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_btn)
        buttons.addWidget(self.cancel_btn)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        self.picker.chosen.connect(self._on_model_chosen)
        self.reference.currentTextChanged.connect(self._fit_picker)
        self.run_btn.clicked.connect(self.compute)
        self.cancel_btn.clicked.connect(self.cancel)

    # ------------------------------------------------------------------ public API
    def set_model(self, model, path: str | Path | None = None) -> None:
        """Use an already loaded :class:`DomainTransferModel` (``path``: the file it came from)."""
        self.model, self._model_path = model, (Path(path) if path is not None else None)
        self._set_domains(model.domains)
        self.status.setText(model_line(model.modality, model.wavelengths, model.domains))

    def load_model(self, path: str) -> bool:
        """Load a model file; on failure the dock says why and keeps the previous model."""
        from napari_cinn.core import ModelFileError

        if not path:
            self.status.setText("Choose a model file first.")
            return False
        try:
            model = load_cached(path)
        except (ModelFileError, ValueError, OSError) as err:
            self.status.setText(f"Could not load {Path(path).name}: {err}")
            return False
        self.set_model(model, path)
        if self.picker.info is None or self.picker.info.path != Path(path):
            self.picker.set_path(path, notify=False)
        return True

    def checked_layers(self) -> list[str]:
        return self.layers.checked()

    def set_checked(self, names) -> None:
        self.layers.set_checked(names)

    @property
    def running(self) -> bool:
        return self.job.running

    @property
    def error(self) -> str | None:
        """The message of the last failed projection (None after a successful one)."""
        return self.job.error

    def compute(self):
        """Start the projection in a worker thread; returns the worker (None if refused)."""
        if self.job.running:
            self.status.setText("A projection is already running.")
            return None
        names = self.checked_layers()
        if not names:
            self.status.setText("Check at least one spectral layer.")
            return None
        space = "latent" if self.space.currentText() == LATENT else "data"
        if space == "latent" and not self._ensure_model():
            return None
        fallback = None if self.fallback.currentText() == SKIP else self.fallback.currentText()
        layers = {ly.name: ly for ly in self.viewer.layers}
        inputs = L.cloud_inputs(layers, names, self.reference.currentText(), fallback)
        self.result = None
        return self.job.start(
            project_clouds,
            inputs,
            self.reference.currentText(),
            n=self.n_pixels.value(),
            space=space,
            model=self.model,
            source_noise=self.noise.isChecked(),
            on_result=self._show_result,
            message=f"Projecting {len(inputs)} layer(s) in {space} space…",
        )

    def cancel(self) -> None:
        self.job.cancel()

    def select_polygon(self, vertices) -> int:
        """Paint the pixels whose points lie inside ``vertices`` (plot coordinates) into the
        "latent selection" Labels layer (1 = selected). Returns how many pixels were painted."""
        if self.result is None:
            return 0
        picked = L.selection_labels(self.result, self._layers(), vertices)
        if picked is None:
            return 0
        labels, chosen = picked
        self.plot.show_selection(chosen, vertices)
        old = layer_named(self.viewer, SELECTION_NAME)
        if isinstance(old, Labels) and old.data.shape == labels.shape:
            old.data = labels
        else:
            if old is not None:
                self.viewer.layers.remove(old)
            active = self.viewer.layers.selection.active
            self.viewer.add_labels(labels, name=SELECTION_NAME, opacity=0.6)
            if active is not None:
                self.viewer.layers.selection.active = active
        n = int(labels.sum())
        self.status.setText(f"Lasso: {len(chosen)} point(s) → {n} pixel(s) in '{SELECTION_NAME}'.")
        return n

    def mark_pixel(self, world_position) -> int:
        """Mark the pixel under ``world_position`` in the plot, for every projected layer covering it."""
        if self.result is None:
            return 0
        marks = L.marks_at(self.result, self._layers(), world_position, self.model)
        self.plot.set_marks(marks)
        return len(marks)

    # ------------------------------------------------------------------ internals
    def _layers(self) -> dict:
        return {ly.name: ly for ly in self.viewer.layers}

    def _ensure_model(self) -> bool:
        """The model of the picker's file loaded (once); False with a message when there is none."""
        info = self.picker.info
        stale = info is not None and self._model_path is not None and info.path != self._model_path
        if info is not None and (self.model is None or stale):
            return self.load_model(str(info.path))
        if self.model is None:
            self.status.setText(
                "Latent space needs a model: load a model file (or choose data space)."
            )
            return False
        return True

    def _set_domains(self, domains) -> None:
        current = self.fallback.currentText()
        self.fallback.clear()
        self.fallback.addItems([SKIP, *domains])
        if current in domains:
            self.fallback.setCurrentText(current)

    def _on_model_chosen(self, info) -> None:
        if info is not None and self.model is None:
            self._set_domains(info.domains)

    def _fit_picker(self, *_args) -> None:
        name = self.reference.currentText()
        self.picker.fit_to(layer_named(self.viewer, name))

    def _refresh_layers(self, event=None) -> None:
        layers = spectral_layers(self.viewer)
        names = [ly.name for ly in layers]
        self.layers.refresh(names)
        ref = self.reference.currentText()
        self.reference.blockSignals(True)
        self.reference.clear()
        self.reference.addItems(names)
        if ref in names:
            self.reference.setCurrentText(ref)
        elif L.default_reference(layers) is not None:
            self.reference.setCurrentText(L.default_reference(layers))
        self.reference.blockSignals(False)
        self._fit_picker()

    def _set_running(self, running: bool) -> None:
        self.run_btn.setEnabled(not running)
        self.cancel_btn.setEnabled(running)

    def _show_result(self, res: ProjectionResult) -> None:
        self.result = res
        self.plot.show_result(res)
        self.health_plot.show_health(L.health_rows(res, with_domain=False))  # text: domains
        self.health_text.setText(L.health_text(res))
        self.status.setText(L.result_message(res))
