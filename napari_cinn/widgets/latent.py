"""The "Latent space" dock: where do sim, transferred and real pixels lie relative to each other?

For the chosen spectral layers and a model file, latent codes of a random subsample of usable
pixels are computed in a worker thread (progress bar, cancel), a PCA is fitted on the reference
layer (e.g. the real one) and each layer is drawn as KDE contours over a light scatter, with
marginal densities on top and right (the paper's Fig. 5a). "data" space skips the model and
projects L2-normalised spectra instead. The last clicked pixel is marked in the plot; a lasso in the
plot paints the selected pixels into a Labels layer ("latent selection") in the viewer.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.widgets import LassoSelector
from napari.layers import Labels
from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from napari_cinn.core.projection import (
    CloudInput,
    ProjectionResult,
    features,
    points_in_polygon,
    project_clouds,
    spectrum_at,
)
from napari_cinn.widgets._layers import (
    click_callback,
    disconnect_on_destroy,
    layer_domain,
    layer_wavelengths,
    pixel_index,
    spectral_layers,
)
from napari_cinn.widgets._plot import FOREGROUND, PALETTE, PlotCanvas, header_legend, style_axes
from napari_cinn.widgets._worker import WorkerDockMixin

SELECTION_NAME = "latent selection"
LATENT, DATA = "latent (model)", "data (L2-normalised spectra)"
SKIP = "(leave out)"
_LEFT, _TOP = 0.2, 0.95  # axes margins (figure fraction); the legend strip lowers the top


class LatentWidget(WorkerDockMixin, QWidget):
    """Dock widget: PCA/KDE view of latent (or data) space for chosen layers."""

    failure_text = "Projection failed"

    def __init__(self, napari_viewer):
        super().__init__()
        self.viewer = napari_viewer
        self.model = None
        self.result: ProjectionResult | None = None
        self.error: str | None = None
        self._worker = None
        self._marks: list = []

        self.layers = QListWidget()
        self.layers.setMaximumHeight(70)
        self.layers.setToolTip("layers to project (checked)")
        self.reference = QComboBox()
        self.reference.setToolTip("the PCA is fitted on this layer's points (e.g. the real data)")
        self.model_path = QLineEdit()
        self.model_path.setPlaceholderText("model file (.safetensors)")
        self.browse_btn = QPushButton("…")
        self.load_btn = QPushButton("Load")
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
        self.run_btn = QPushButton("Project")
        self.cancel_btn = QPushButton("Cancel")
        self.cancel_btn.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.status = QLabel(
            "Choose layers and a model, then Project. Lasso in the plot selects pixels."
        )
        self.status.setWordWrap(True)

        self.plot = PlotCanvas(self, figsize=(4.0, 4.0))
        self.plot.canvas.setMinimumHeight(340)
        fig = self.plot.figure
        gs = fig.add_gridspec(
            2, 2, width_ratios=(4, 1), height_ratios=(1, 4), wspace=0.05, hspace=0.05
        )
        self.ax = fig.add_subplot(gs[1, 0])
        self.ax_top = fig.add_subplot(gs[0, 0], sharex=self.ax)
        self.ax_right = fig.add_subplot(gs[1, 1], sharey=self.ax)
        fig.subplots_adjust(left=_LEFT, right=0.97, top=_TOP, bottom=0.14)
        self._legend = None
        for a in (self.ax, self.ax_top, self.ax_right):
            style_axes(a)
        self.ax_top.tick_params(labelbottom=False, labelleft=False)
        self.ax_right.tick_params(labelleft=False, labelbottom=False)
        self.lasso = LassoSelector(
            self.ax, self._on_lasso, useblit=True, props={"color": FOREGROUND, "lw": 1}
        )
        # the selection: small white dots (rings merge into a blob in a dense cloud) and the
        # outline of the lasso that made it
        self._selected = self.ax.scatter([], [], s=3, color="white", alpha=0.5, lw=0)
        self.plot.add_animated(self._selected)
        (self._outline,) = self.ax.plot([], [], color="white", lw=1.0, ls="--")
        self.plot.add_animated(self._outline)

        path_row = QHBoxLayout()
        path_row.addWidget(self.model_path, 1)
        path_row.addWidget(self.browse_btn)
        path_row.addWidget(self.load_btn)
        form = QFormLayout()
        form.addRow("layers", self.layers)
        form.addRow("reference", self.reference)
        form.addRow("model", path_row)
        form.addRow("space", self.space)
        form.addRow("no domain →", self.fallback)
        form.addRow("pixels / layer", self.n_pixels)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_btn)
        buttons.addWidget(self.cancel_btn)
        layout = QVBoxLayout(self)
        layout.addWidget(self.plot, 1)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)

        self.browse_btn.clicked.connect(self._browse)
        self.load_btn.clicked.connect(lambda: self.load_model(self.model_path.text()))
        self.run_btn.clicked.connect(self.compute)
        self.cancel_btn.clicked.connect(self.cancel)
        ev = self.viewer.layers.events
        connections = [(e, self._refresh_layers) for e in (ev.inserted, ev.removed, ev.reordered)]
        for emitter, callback in connections:
            emitter.connect(callback)
        on_drag = click_callback(self, "mark_pixel")
        self._callback = on_drag
        self.viewer.mouse_drag_callbacks.append(on_drag)
        disconnect_on_destroy(self, self.viewer, connections, [on_drag])
        self._refresh_layers()

    # ------------------------------------------------------------------ public API
    def set_model(self, model) -> None:
        """Use an already loaded :class:`DomainTransferModel`."""
        self.model = model
        current = self.fallback.currentText()
        self.fallback.clear()
        self.fallback.addItems([SKIP, *model.domains])
        if current in model.domains:
            self.fallback.setCurrentText(current)
        from napari_cinn.core.spectra import describe_grid

        self.status.setText(
            f"Model: {model.modality}, {describe_grid(model.wavelengths)}, domains {list(model.domains)}"
        )

    def load_model(self, path: str) -> bool:
        """Load a model file; on failure the dock says why and keeps the previous model."""
        from napari_cinn.core import ModelFileError, load_model

        if not path:
            self.status.setText("Choose a model file first.")
            return False
        try:
            model = load_model(path, device="cpu")
        except (ModelFileError, ValueError, OSError) as err:
            self.status.setText(f"Could not load {Path(path).name}: {err}")
            return False
        self.model_path.setText(str(path))
        self.set_model(model)
        return True

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

    def compute(self):
        """Start the projection in a worker thread; returns the worker (None if refused)."""
        if self._worker is not None:
            self.status.setText("A projection is already running.")
            return None
        names = self.checked_layers()
        if not names:
            self.status.setText("Check at least one spectral layer.")
            return None
        reference = self.reference.currentText()
        if reference not in names:
            names.append(reference)
        space = "latent" if self.space.currentText() == LATENT else "data"
        if space == "latent" and self.model is None:
            self.status.setText(
                "Latent space needs a model: load a model file (or choose data space)."
            )
            return None
        fallback = None if self.fallback.currentText() == SKIP else self.fallback.currentText()
        inputs = []
        for name in names:
            if name not in self.viewer.layers:
                continue
            layer = self.viewer.layers[name]
            inputs.append(
                CloudInput(
                    name, layer.data, layer_wavelengths(layer), layer_domain(layer) or fallback
                )
            )
        self.error = None
        self.result = None
        return self._start_worker(
            project_clouds,
            inputs,
            reference,
            n=self.n_pixels.value(),
            space=space,
            model=self.model,
            on_result=self._show_result,
            message=f"Projecting {len(inputs)} layer(s) in {space} space…",
        )

    def cancel(self) -> None:
        if self._worker is not None:
            self._worker.quit()
            self.status.setText("Cancelled.")

    def select_polygon(self, vertices) -> int:
        """Paint the pixels whose points lie inside ``vertices`` (plot coordinates) into the
        "latent selection" Labels layer (1 = selected). Returns how many pixels were painted."""
        if self.result is None:
            return 0
        verts = np.asarray(vertices, dtype=float).reshape(-1, 2)
        shapes = []
        hits = []
        for cloud in self.result.clouds:
            if cloud.name not in self.viewer.layers:
                continue
            shape = self.viewer.layers[cloud.name].data.shape[1:]
            shapes.append(shape)
            inside = points_in_polygon(cloud.points, verts)
            hits.append((cloud, inside))
        if not shapes:
            return 0
        canvas_shape = tuple(np.max(np.array(shapes), axis=0))
        labels = np.zeros(canvas_shape, dtype=np.uint8)
        pts = []
        for cloud, inside in hits:
            labels[tuple(i[inside] for i in cloud.index)] = 1
            pts.append(cloud.points[inside])
        chosen = np.concatenate(pts) if pts else np.zeros((0, 2))
        self._selected.set_offsets(chosen)
        closed = np.vstack([verts, verts[:1]])
        self._outline.set_data(closed[:, 0], closed[:, 1])
        self.plot.blit()
        if (
            SELECTION_NAME in self.viewer.layers
            and isinstance(self.viewer.layers[SELECTION_NAME], Labels)
            and self.viewer.layers[SELECTION_NAME].data.shape == canvas_shape
        ):
            self.viewer.layers[SELECTION_NAME].data = labels
        else:
            if SELECTION_NAME in self.viewer.layers:
                self.viewer.layers.remove(SELECTION_NAME)
            active = self.viewer.layers.selection.active
            self.viewer.add_labels(labels, name=SELECTION_NAME, opacity=0.6)
            if active is not None:
                self.viewer.layers.selection.active = active
        n = int(labels.sum())
        self.status.setText(f"Lasso: {len(chosen)} point(s) → {n} pixel(s) in '{SELECTION_NAME}'.")
        return n

    def mark_pixel(self, world_position) -> int:
        """Mark the pixel under ``world_position`` in the plot, for every projected layer covering it."""
        res = self.result
        if res is None:
            return 0
        for m in self._marks:
            self.plot.remove_animated(m)
            m.remove()
        self._marks = []
        for k, cloud in enumerate(res.clouds):
            if cloud.name not in self.viewer.layers:
                continue
            layer = self.viewer.layers[cloud.name]
            idx = pixel_index(layer, world_position)
            spec = spectrum_at(layer.data, idx) if idx is not None else None
            if spec is None or not np.all(np.isfinite(spec)) or not np.any(spec):
                continue
            try:
                f = features(
                    spec[None],
                    res.space,
                    model=self.model,
                    domain=cloud.domain,
                    wavelengths=layer_wavelengths(layer),
                )
            except ValueError:
                continue
            xy = res.pca.transform(f)[0]
            (m,) = self.ax.plot(
                [xy[0]],
                [xy[1]],
                marker="*",
                ms=13,
                color=self._color(k),
                markeredgecolor="white",
                ls="none",
            )
            self.plot.add_animated(m)
            self._marks.append(m)
        self.plot.blit()
        return len(self._marks)

    # ------------------------------------------------------------------ internals
    def _color(self, k: int) -> str:
        return PALETTE[k % len(PALETTE)]

    def _refresh_layers(self, event=None) -> None:
        checked = set(self.checked_layers())
        first = self.layers.count() == 0
        names = [ly.name for ly in spectral_layers(self.viewer)]
        self.layers.clear()
        for name in names:
            item = QListWidgetItem(name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(
                Qt.CheckState.Checked if (first or name in checked) else Qt.CheckState.Unchecked
            )
            self.layers.addItem(item)
        ref = self.reference.currentText()
        self.reference.clear()
        self.reference.addItems(names)
        if ref in names:
            self.reference.setCurrentText(ref)
        else:  # default: a real layer, as in the paper
            real = [
                n
                for n in names
                if layer_domain(self.viewer.layers[n]) == "real"
                and "→" not in str(self.viewer.layers[n].metadata.get("domain", ""))
            ]
            if real:
                self.reference.setCurrentText(real[0])

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Model file", "", "Model (*.safetensors)")
        if path:
            self.load_model(path)

    def _set_running(self, running: bool) -> None:
        self.run_btn.setEnabled(not running)
        self.cancel_btn.setEnabled(running)

    def _show_result(self, res: ProjectionResult) -> None:
        self.result = res
        self._draw_result()
        n = sum(len(c.points) for c in res.clouds)
        msg = f"{n} pixels from {len(res.clouds)} layer(s); PCA fitted on '{res.reference}'."
        if res.notes:
            msg += " " + " ".join(res.notes)
        self.status.setText(msg)

    def _draw_result(self) -> None:
        res = self.result
        for m in self._marks:
            self.plot.remove_animated(m)
        self._marks = []
        keep = {
            id(self._selected),
            id(self._outline),
            *(id(a) for a in getattr(self.lasso, "artists", ())),
        }
        for a in (self.ax, self.ax_top, self.ax_right):
            for artist in [*a.lines, *a.collections]:
                if id(artist) not in keep:
                    artist.remove()
        self._selected.set_offsets(np.zeros((0, 2)))
        self._outline.set_data([], [])
        handles = []
        for k, cloud in enumerate(res.clouds):
            color = self._color(k)
            p = cloud.points
            if cloud.kde is None:
                self.ax.scatter(p[:, 0], p[:, 1], s=10, color=color, alpha=0.8, lw=0)
            else:
                step = max(1, len(p) // 3000)  # light scatter, subsampled for speed
                self.ax.scatter(p[::step, 0], p[::step, 1], s=2, color=color, alpha=0.15, lw=0)
                g = cloud.kde
                self.ax.contour(
                    g.x, g.y, g.density, levels=g.levels, colors=[color], linewidths=1.1
                )
                self.ax_top.plot(g.x, g.marginal_x, color=color, lw=1.2)
                self.ax_top.fill_between(g.x, g.marginal_x, color=color, alpha=0.2, lw=0)
                self.ax_right.plot(g.marginal_y, g.y, color=color, lw=1.2)
                self.ax_right.fill_betweenx(g.y, g.marginal_y, color=color, alpha=0.2, lw=0)
            label = cloud.name + (" (reference)" if cloud.name == res.reference else "")
            handles.append(Line2D([], [], color=color, lw=2, label=label))
        x0, x1, y0, y1 = res.extent
        self.ax.set_xlim(x0, x1)
        self.ax.set_ylim(y0, y1)
        self.ax_top.set_ylim(bottom=0)
        self.ax_right.set_xlim(left=0)
        self.ax.set_xlabel(res.pca.axis_label(0))
        self.ax.set_ylabel(res.pca.axis_label(1))
        if self._legend is not None:
            self._legend.remove()
        # legend in a strip above the marginal plot: it never covers contours or points
        self._legend, height = header_legend(
            self.plot.figure, handles, left=_LEFT, title=f"{res.space} space, PCA of the reference"
        )
        self.plot.set_header(height, top=_TOP)
        self.plot.draw_idle()

    def _on_lasso(self, verts) -> None:
        self.select_polygon(verts)
