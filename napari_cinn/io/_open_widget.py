"""Dock "Open with options": File ▸ Open with the reader options napari's dialog cannot ask for.

Pick a file; the dock lists what it holds (SIMPA data fields, patato reconstructions and frames,
HeiPorSPECTRAL annotators) and opens it with :func:`napari_cinn.io.read_spectral` and the chosen
options, adding the same layers as File ▸ Open.
"""

from __future__ import annotations

from pathlib import Path

from magicgui.widgets import CheckBox, ComboBox, Container, FileEdit, Label, PushButton, SpinBox

ALL = "(default)"


def file_choices(path: Path) -> dict[str, list[str]]:
    """Option values a file offers: ``{"field": [...], "recon": [...], "annotator": [...]}``."""
    out: dict[str, list[str]] = {"field": [], "recon": [], "annotator": [], "frames": []}
    ext = path.suffix.lower()
    try:
        if ext in (".h5", ".hdf5"):
            import h5py

            from ._patato import is_patato
            from ._simpa import available_fields, is_simpa

            with h5py.File(path, "r") as fh:
                if is_simpa(fh):
                    out["field"] = [f.rsplit("/", 1)[-1] for f in available_fields(fh)]
                elif is_patato(fh) and "recons" in fh:
                    for alg in sorted(fh["recons"]):
                        for n in sorted(fh["recons"][alg]):
                            out["recon"].append(f"{alg}/{n}")
                            out["frames"].append(str(fh["recons"][alg][n].shape[0]))
        elif ext == ".dat":
            from ._heiporspectral import annotation_files

            out["annotator"] = sorted(annotation_files(path))
    except Exception:  # noqa: BLE001 - unreadable here: reading will say why
        pass
    return out


class OpenWithOptions(Container):
    """The dock: a file, its options, an Open button and a status line."""

    def __init__(self, viewer=None):
        self._viewer = viewer
        self.file = FileEdit(label="file", mode="r")
        self.field = ComboBox(label="SIMPA field", choices=[ALL])
        self.recon = ComboBox(label="patato recon", choices=[ALL])
        self.frame = SpinBox(label="frame (-1: all)", min=-1, max=100_000, value=-1)
        self.annotator = ComboBox(label="annotator", choices=[ALL])
        self.grid = ComboBox(label="Tivita grid", choices=["project", "htc"], value="project")
        self.with_labels = CheckBox(label="labels", value=True)
        self.open_button = PushButton(text="Open")
        self.status = Label(value="")
        super().__init__(
            widgets=[
                self.file,
                self.field,
                self.recon,
                self.frame,
                self.annotator,
                self.grid,
                self.with_labels,
                self.open_button,
                self.status,
            ]
        )
        self.file.changed.connect(self._refresh)
        self.open_button.clicked.connect(self.open)

    def _refresh(self, *_) -> None:
        found = file_choices(Path(self.file.value))
        for box, key in (
            (self.field, "field"),
            (self.recon, "recon"),
            (self.annotator, "annotator"),
        ):
            box.choices = [ALL, *found[key]]
            box.value = ALL
        self.status.value = ", ".join(f"{len(v)} {k}" for k, v in found.items() if v)

    def options(self) -> dict:
        """The chosen reader options (only those that apply to the file's type)."""
        path = Path(self.file.value)
        ext = path.suffix.lower()
        opts: dict = {"labels": bool(self.with_labels.value)}
        if ext in (".h5", ".hdf5"):
            if self.field.value != ALL:
                opts["field"] = self.field.value
            if self.recon.value != ALL:
                opts["recon"] = self.recon.value
            if self.frame.value >= 0:
                opts["frame"] = int(self.frame.value)
        if ext == ".dat":
            from ._envi_layouts import header_beside

            if header_beside(path) is None:
                opts["grid"] = self.grid.value
                if self.annotator.value != ALL:
                    opts["annotator"] = self.annotator.value
        return opts

    def open(self, *_) -> list:
        """Read the file with the options and add its layers; errors go to the status line."""
        from . import SpectralFileError, read_spectral
        from ._layers import layer_tuples

        path = Path(self.file.value)
        try:
            image = read_spectral(path, **self.options())
        except (SpectralFileError, OSError) as exc:
            self.status.value = str(exc)
            return []
        added = []
        for data, kwargs, kind in layer_tuples(image, path.stem):
            added.append(getattr(self._viewer, f"add_{kind}")(data, **kwargs))
        notes = image.metadata.get("notes", [])
        self.status.value = "; ".join(notes) if notes else f"opened {image.describe()}"
        return added
