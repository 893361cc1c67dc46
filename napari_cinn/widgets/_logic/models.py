"""Model files as the docks see them: the shipped ones, their header, whether they fit a layer.

Nothing here imports torch at module level: descriptions come from the file header
(:func:`napari_cinn.core.bundle.read_metadata`); weights load only in :func:`load_cached`.
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from napari_cinn._sample_data import SAMPLE_MODEL_DIR
from napari_cinn.core.spectra import describe_grid, grid_problem
from napari_cinn.layers import ARROW, layer_wavelengths


def shipped_models(folder: Path | None = None) -> list[Path]:
    """The shipped ``*.safetensors`` model files (``napari_cinn.sample_data/models``), sorted."""
    folder = SAMPLE_MODEL_DIR if folder is None else Path(folder)
    return sorted(folder.glob("*.safetensors")) if folder.is_dir() else []


@dataclass(frozen=True)
class ModelInfo:
    """What a dock shows about a model file, read from its header (no weights, no torch)."""

    path: Path
    modality: str
    wavelengths: np.ndarray
    domains: tuple[str, ...]
    hyper: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def read(cls, path: str | Path) -> ModelInfo:
        """Raises ``ModelFileError`` (a ValueError) or OSError naming the problem."""
        from napari_cinn.core.bundle import read_metadata

        meta = read_metadata(path)
        return cls(
            Path(path),
            str(meta["modality"]),
            np.asarray(meta["wavelengths"], dtype=np.float64),
            tuple(str(d) for d in meta["domains"]),
            dict(meta.get("hyper") or {}),
            {**(meta.get("provenance") or {}), "created": meta.get("created")},
        )

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def n_classes(self) -> int:
        """Classes of the model's class condition (``hyper["n_classes"]``); 0: none."""
        return int(self.hyper.get("n_classes") or 0)

    @property
    def class_names(self) -> list[str]:
        """The classes' names in index order (``hyper["class_names"]``), or [] when not recorded."""
        names = [str(n) for n in self.hyper.get("class_names") or []]
        return names if len(names) == self.n_classes else []

    def describe(self) -> str:
        """One line: modality, grid, domains, its class condition, its image spread (``cinn-train
        image-spread``) and (when recorded) the date it was saved."""
        text = model_line(self.modality, self.wavelengths, self.domains)
        if self.n_classes:
            text += f"; conditioned on {self.n_classes} classes"
        spread = self.provenance.get("image_spread")
        if isinstance(spread, dict) and spread.get("n_target_images"):
            text += (
                f"; image spread of {spread['n_target_images']} {spread.get('target', '')} images"
            )
        when = self.provenance.get("created")
        return f"{text}; saved {str(when)[:10]}" if when else text

    def directions(self) -> list[tuple[str, str]]:
        """All (source, target) pairs, the first domain's outgoing ones first (sim→real first)."""
        return [(a, b) for a in self.domains for b in self.domains if a != b]

    def fit_reason(self, layer, allow_resample: bool = False) -> str | None:
        """Why ``layer`` cannot go through this model, or None (the core's wavelength rule)."""
        if layer is None:
            return "choose a spectral image layer (an Image with metadata['wavelengths'])"
        wl = layer_wavelengths(layer)
        if wl is None:
            return "the layer has no metadata['wavelengths'] matching its bands"
        problem = grid_problem(
            self.wavelengths, wl.size, wl, allow_resample=allow_resample, noun="layer"
        )
        if problem is None and self.modality == "pat" and np.ndim(layer.data) not in (3, 4):
            return "PAT models need (bands, y, x) images"
        return problem


@dataclass(frozen=True)
class ModelChoice:
    """One entry of a model list: the file, its header (None: unreadable) and why it does not fit
    the current layer (None: it fits, or there is no layer)."""

    path: Path
    info: ModelInfo | None
    reason: str | None

    @property
    def fits(self) -> bool:
        return self.info is not None and self.reason is None

    def label(self) -> str:
        if self.info is None:
            return f"{self.path.name} (unreadable)"
        return self.path.name if self.reason is None else f"{self.path.name} (does not fit)"


def read_infos(paths) -> dict[Path, ModelInfo | None]:
    """Header of each model file, None for those that cannot be read."""
    out: dict[Path, ModelInfo | None] = {}
    for p in paths:
        try:
            out[Path(p)] = ModelInfo.read(p)
        except (ValueError, OSError):
            out[Path(p)] = None
    return out


def order_for_layer(infos: dict[Path, ModelInfo | None], layer) -> list[ModelChoice]:
    """Models that fit ``layer`` first (in their order), then the others with the reason."""
    choices = []
    for path, info in infos.items():
        reason = None
        if info is None:
            reason = "the file cannot be read"
        elif layer is not None:
            reason = info.fit_reason(layer)
        choices.append(ModelChoice(path, info, reason))
    return [c for c in choices if c.fits] + [c for c in choices if not c.fits]


_MODEL_CACHE: dict[tuple[str, float], Any] = {}
_CACHE_LOCK = threading.Lock()


def load_cached(path: str | Path):
    """``load_model`` once per file version (path + mtime); later runs reuse it (one in memory)."""
    from napari_cinn.core import load_model

    key = (str(Path(path).resolve()), Path(path).stat().st_mtime)
    with _CACHE_LOCK:
        if key not in _MODEL_CACHE:
            _MODEL_CACHE.clear()
            _MODEL_CACHE[key] = load_model(path, device="cpu")
        return _MODEL_CACHE[key]


def model_line(modality: str, wavelengths, domains) -> str:
    """The one-line description of a model (file header or loaded model), e.g.
    *HSI model: 100 bands 500–995 nm, domains sim / real*."""
    return (
        f"{str(modality).upper()} model: {describe_grid(wavelengths)}, "
        f"domains {' / '.join(str(d) for d in domains)}"
    )


def direction_text(src: str, tgt: str) -> str:
    return f"{src} {ARROW} {tgt}"


def available_devices() -> list[str]:
    """``auto`` and ``cpu``, plus ``cuda`` / ``mps`` when torch is loaded and sees them."""
    devices = ["auto", "cpu"]
    torch = sys.modules.get("torch")
    if torch is not None:
        if torch.cuda.is_available():
            devices.append("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            devices.append("mps")
    return devices
