"""The pickers of the docks: :class:`ModelPicker` (model files), :class:`LayerList` (checkable
layer names) and :class:`ClassMapPicker` (the Transfer dock's class map)."""

from __future__ import annotations

from pathlib import Path

from qtpy.QtCore import Qt, Signal
from qtpy.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from napari_cinn.widgets._logic import models as M
from napari_cinn.widgets._logic import transfer as T

BROWSE = "Browse for a model file…"


class ModelPicker(QWidget):
    """A list of model files (the shipped ones, files chosen before, *Browse…*), the chosen one's
    description under it (wrapped, never cut off).

    :meth:`fit_to` reorders the list for a layer: models that fit it first, then the others marked
    "(does not fit)" with the reason as tooltip; when the layer changed, a fitting model replaces
    a chosen one that does not fit. ``chosen`` is emitted with the new :class:`ModelInfo` (or None).
    """

    chosen = Signal(object)

    def __init__(self, parent: QWidget | None = None, *, preselect_unfitting: bool = True):
        super().__init__(parent)
        self.preselect_unfitting = preselect_unfitting
        self.info: M.ModelInfo | None = None
        self._infos: dict[Path, M.ModelInfo | None] = {}
        self._layer = None
        self.combo = QComboBox()
        self.combo.setToolTip("Shipped sample models, files you opened, or browse for one")
        self.combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.combo.setMinimumContentsLength(12)
        self.browse_btn = QPushButton("…")
        self.browse_btn.setFixedWidth(28)
        self.browse_btn.setToolTip(BROWSE)
        self.description = QLabel("no model chosen")
        self.description.setWordWrap(True)
        self.description.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.combo, 1)
        row.addWidget(self.browse_btn)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addLayout(row)
        box.addWidget(self.description)
        self.combo.activated.connect(self._on_activated)
        self.browse_btn.clicked.connect(self.browse)
        self._infos = M.read_infos(M.shipped_models())
        self._rebuild()
        if self.preselect_unfitting:
            first = next((p for p, i in self._infos.items() if i is not None), None)
            if first is not None:
                self.set_path(first, notify=False)

    # ---- public API
    def items(self) -> list[str]:
        return [self.combo.itemText(i) for i in range(self.combo.count())]

    def set_path(self, path: str | Path, *, notify: bool = True) -> bool:
        """Choose a model file (reads its header only). False, with the reason shown, if unusable."""
        path = Path(path)
        try:
            info = M.ModelInfo.read(path)
        except (ValueError, OSError) as exc:
            self.info = None
            self.description.setText(f"cannot use {path.name}: {exc}")
            if notify:
                from napari.utils.notifications import show_error

                show_error(f"cannot use {path}: {exc}")
            self._select_current()
            self.chosen.emit(None)
            return False
        self._infos[path] = info
        self.info = info
        self._rebuild()
        self.description.setText(info.describe())
        self.chosen.emit(info)
        return True

    def fit_to(self, layer, *, auto_pick: bool = True) -> None:
        """Order the list for ``layer``; when the layer is another one than before, pick a fitting
        model if the chosen one does not fit (a model the user chose for this layer stays)."""
        changed = layer is not self._layer
        self._layer = layer
        choices = self._rebuild()
        if not auto_pick or layer is None or not changed:
            return
        current_fits = self.info is not None and self.info.fit_reason(layer) is None
        best = next((c for c in choices if c.fits), None)
        if not current_fits and best is not None:
            self.set_path(best.path, notify=False)
        elif self.info is None and best is None and self.preselect_unfitting and choices:
            usable = next((c for c in choices if c.info is not None), None)
            if usable is not None:
                self.set_path(usable.path, notify=False)

    def browse(self) -> None:
        shipped = M.shipped_models()
        start = str(shipped[0].parent) if shipped else str(Path.home())
        path, _ = QFileDialog.getOpenFileName(
            self, "Open a napari-cinn model", start, "Model files (*.safetensors)"
        )
        if path:
            self.set_path(path)
        else:
            self._select_current()

    # ---- internals
    def _rebuild(self) -> list[M.ModelChoice]:
        choices = M.order_for_layer(self._infos, self._layer)
        self.combo.blockSignals(True)
        self.combo.clear()
        for k, c in enumerate(choices):
            if k and not c.fits and choices[k - 1].fits:
                self.combo.insertSeparator(self.combo.count())  # fitting | not fitting
            self.combo.addItem(c.label(), str(c.path))
            if c.reason:
                tip = c.reason if c.info is None else f"{c.info.describe()}\n{c.reason}"
                self.combo.setItemData(self.combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        self.combo.addItem(BROWSE, None)
        self.combo.blockSignals(False)
        self._select_current()
        return choices

    def _select_current(self) -> None:
        idx = self.combo.findData(str(self.info.path)) if self.info is not None else -1
        self.combo.setCurrentIndex(idx)

    def _on_activated(self, index: int) -> None:
        path = self.combo.itemData(index)
        if path is None:
            self.browse()
        else:
            self.set_path(path)


class LayerList(QListWidget):
    """Checkable layer names; the check marks survive refreshes of the list."""

    def __init__(self, tooltip: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setMaximumHeight(70)
        self.setToolTip(tooltip)

    def names(self) -> list[str]:
        return [self.item(i).text() for i in range(self.count())]

    def checked(self) -> list[str]:
        return [
            self.item(i).text()
            for i in range(self.count())
            if self.item(i).checkState() == Qt.CheckState.Checked
        ]

    def set_checked(self, names) -> None:
        names = set(names)
        for i in range(self.count()):
            item = self.item(i)
            on = item.text() in names
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)

    def refresh(self, names: list[str], default_checked=None) -> None:
        """Show ``names``; keep earlier check marks; on the first fill check ``default_checked``
        (None: all)."""
        first = self.count() == 0
        checked = set(self.checked())
        defaults = set(names if default_checked is None else default_checked)
        self.clear()
        for name in names:
            item = QListWidgetItem(name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            on = name in checked or (first and name in defaults)
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
            self.addItem(item)


class ClassMapPicker(QComboBox):
    """The "Class map" row: for a model with a class condition, *none (uniform over classes)* or a
    Labels layer of the input's shape whose value at a pixel is its class index (0…n−1).

    Hidden (with its ``label``) for models without classes. :meth:`refresh` keeps a map the user
    chose for this input layer; otherwise it pre-selects the input's own labels (``<name> labels``).
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.label = QLabel("Class map")
        self.n_classes = 0
        self._candidates: list = []
        self._layer = None
        self._chosen: str | None = None  # what the user picked for ``_layer`` (None: not yet)
        self.currentIndexChanged.connect(self._on_chosen)
        self._show(False)

    def refresh(self, info: M.ModelInfo | None, layers, layer) -> None:
        """Offer the class maps of ``layer`` among ``layers`` for the model ``info``."""
        self.n_classes = info.n_classes if info is not None else 0
        if layer is not self._layer:
            self._layer, self._chosen = layer, None
        self._candidates = T.class_map_candidates(layers, layer) if self.n_classes else []
        names = [T.UNIFORM] + [ly.name for ly in self._candidates]
        default = T.default_class_map(self._candidates, layer)
        pick = self._chosen if self._chosen in names else (default.name if default else T.UNIFORM)
        self.blockSignals(True)
        self.clear()
        self.addItems(names)
        self.setCurrentText(pick)
        self.blockSignals(False)
        self.setToolTip(self._tooltip(info))
        self._show(self.n_classes > 0)

    def items(self) -> list[str]:
        return [self.itemText(i) for i in range(self.count())]

    def class_map(self):
        """The chosen Labels layer, or None (uniform condition, or a model without classes)."""
        i = self.currentIndex() - 1
        return self._candidates[i] if self.n_classes and 0 <= i < len(self._candidates) else None

    def describe(self) -> str | None:
        """The condition for the status line; None for models without classes."""
        chosen = self.class_map()
        return T.class_map_text(self.n_classes, chosen.name if chosen is not None else None)

    def _on_chosen(self, _index: int) -> None:
        self._chosen = self.currentText()

    def _show(self, on: bool) -> None:
        self.setVisible(on)
        self.label.setVisible(on)

    def _tooltip(self, info: M.ModelInfo | None) -> str:
        n = self.n_classes
        if not n:
            return ""
        text = (
            f"The model is conditioned on {n} classes. A Labels layer of the input's size: the "
            f"value at a pixel is its class (0–{n - 1}; 0 too is a class). Other values block "
            f"Run. {T.UNIFORM}: every pixel gets 1/{n} per class."
        )
        names = info.class_names if info is not None else []
        if names:
            text += "\nClasses: " + ", ".join(f"{k} {c}" for k, c in enumerate(names))
        return text
