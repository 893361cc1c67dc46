"""Qt-free logic of the "Domain transfer" dock: which layers and models fit, what to call results,
and the job that runs in the worker thread. Tests call these without a GUI.

Nothing here imports torch at module level: model descriptions come from the file header
(:func:`napari_cinn.core.bundle.read_metadata`), weights load only when a transfer runs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from napari_cinn._sample_data import SAMPLE_MODEL_DIR
from napari_cinn.core.spectra import describe_grid, same_grid

ARROW = "→"


def shipped_models(folder: Path | None = None) -> list[Path]:
    """The shipped ``*.safetensors`` model files (``napari_cinn.sample_data/models``), sorted."""
    folder = SAMPLE_MODEL_DIR if folder is None else Path(folder)
    return sorted(folder.glob("*.safetensors")) if folder.is_dir() else []


@dataclass(frozen=True)
class ModelInfo:
    """What the dock shows about a model file, read from its header (no weights, no torch)."""

    path: Path
    modality: str
    wavelengths: np.ndarray
    domains: tuple[str, ...]
    hyper: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def read(cls, path: str | Path) -> ModelInfo:
        """Raises ``ModelFileError`` (a ValueError) naming the problem."""
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

    def describe(self) -> str:
        return (
            f"{self.modality.upper()} model: {describe_grid(self.wavelengths)}, "
            f"domains {' / '.join(self.domains)}"
        )

    def directions(self) -> list[tuple[str, str]]:
        """All (source, target) pairs, the first domain's outgoing ones first (sim→real first)."""
        return [(a, b) for a in self.domains for b in self.domains if a != b]


def is_spectral_layer(layer) -> bool:
    """An Image layer ``(bands, y, x)`` / ``(bands, z, y, x)`` with one wavelength per band."""
    from napari.layers import Image

    if not isinstance(layer, Image) or layer.rgb:
        return False
    if getattr(layer, "multiscale", False):
        return False
    wl = (getattr(layer, "metadata", None) or {}).get("wavelengths")
    shape = np.shape(layer.data)
    return wl is not None and len(shape) in (3, 4) and np.size(wl) == shape[0]


def fit_reason(info: ModelInfo, layer, allow_resample: bool = False) -> str | None:
    """Why ``layer`` cannot go through the model (shown next to a disabled Run), or None."""
    if layer is None:
        return "choose a spectral image layer (an Image with metadata['wavelengths'])"
    wl = np.asarray(layer.metadata["wavelengths"], dtype=np.float64)
    expects = f"model expects {describe_grid(info.wavelengths)}"
    if same_grid(wl, info.wavelengths):
        pass
    elif not allow_resample:
        return f"{expects}; layer has {describe_grid(wl)}"
    elif not (
        wl.size > 1
        and wl[0] <= info.wavelengths[0] + 1e-6
        and wl[-1] >= info.wavelengths[-1] - 1e-6
    ):
        return f"{expects}; layer has {describe_grid(wl)}, which does not cover that range"
    if info.modality == "pat" and np.ndim(layer.data) not in (3, 4):
        return "PAT models need (bands, y, x) images"
    return None


def domain_note(layer, src: str) -> str | None:
    """A warning (not a block) when the layer says it comes from another domain than ``src``."""
    dom = (layer.metadata or {}).get("domain") if layer is not None else None
    if dom and dom != src:
        return f"note: layer is marked {dom!r}, the direction starts from {src!r}"
    return None


def result_name(layer_name: str, src: str, tgt: str) -> str:
    return f"{layer_name} [{src}{ARROW}{tgt}]"


@dataclass
class TransferRequest:
    """Everything the worker needs; built on the main thread from the dock's state."""

    model_path: Path
    data: Any  # (bands, y, x) array-like (memmap / lazy allowed)
    wavelengths: np.ndarray
    src: str
    tgt: str
    device: str = "auto"
    resample: bool = False
    latent: bool = False
    likelihood: bool = False
    chunk: int | None = None
    layer_name: str = "image"


@dataclass
class TransferResult:
    request: TransferRequest
    transferred: np.ndarray
    wavelengths: np.ndarray
    latent: np.ndarray | None
    log_likelihood: np.ndarray | None
    seconds: float
    device: str


_MODEL_CACHE: dict[tuple[str, float], Any] = {}
_CACHE_LOCK = threading.Lock()


def load_cached(path: Path):
    """``load_model`` once per file version (path + mtime); later runs reuse it."""
    from napari_cinn.core import load_model

    key = (str(Path(path).resolve()), Path(path).stat().st_mtime)
    with _CACHE_LOCK:
        if key not in _MODEL_CACHE:
            _MODEL_CACHE.clear()  # keep one model in memory
            _MODEL_CACHE[key] = load_model(path, device="cpu")
        return _MODEL_CACHE[key]


def run_transfer(
    req: TransferRequest,
    progress: Callable[[str, int, int], Any] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> TransferResult:
    """Load the model and run transfer (+ latent, + likelihood) — the worker thread's job.

    ``progress(stage, done, total)`` is called per chunk; ``cancel()`` is polled per chunk and
    makes the core raise ``TransferCancelled``; nothing partial is returned.
    """
    import time

    from napari_cinn.core import encode_image, likelihood_image, resolve_device, transfer_image
    from napari_cinn.core.transfer import gui_threads, torch_threads

    t0 = time.perf_counter()
    model = load_cached(req.model_path)
    device = resolve_device(req.device)
    data = req.data
    if model.modality == "pat" and not isinstance(data, np.ndarray):
        data = np.asarray(data, dtype=np.float32)  # PAT images are small; the core reshapes them

    def stage(name: str):
        return None if progress is None else (lambda done, total: progress(name, done, total))

    common = dict(
        wavelengths=req.wavelengths,
        resample=req.resample,
        chunk=req.chunk,
        device=device,
        cancel=cancel,
    )
    with torch_threads(gui_threads() if device.type == "cpu" else None):  # leave the GUI a core
        out = transfer_image(model, data, req.src, req.tgt, progress=stage("transfer"), **common)
        lat = ll = None
        if req.latent:
            lat = encode_image(model, data, req.src, progress=stage("latent code"), **common)
        if req.likelihood:
            # realism: how typical the transferred pixels are of the target domain (nats per dim)
            common["wavelengths"] = np.asarray(model.wavelengths)
            common["resample"] = False
            ll = likelihood_image(model, out, req.tgt, progress=stage("log-likelihood"), **common)
    return TransferResult(
        req,
        out,
        np.asarray(model.wavelengths, dtype=np.float64),
        lat,
        ll,
        time.perf_counter() - t0,
        str(device),
    )


def available_devices() -> list[str]:
    """``auto`` and ``cpu``, plus ``cuda`` / ``mps`` when torch is loaded and sees them."""
    import sys

    devices = ["auto", "cpu"]
    torch = sys.modules.get("torch")
    if torch is not None:
        if torch.cuda.is_available():
            devices.append("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            devices.append("mps")
    return devices
