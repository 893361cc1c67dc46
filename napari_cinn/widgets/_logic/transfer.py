"""Qt-free logic of the "Domain transfer" dock: which layer (and class map) to offer first, why
Run is blocked, the job that runs in the worker thread and the layers its result adds.

Class maps: a model with a class condition (``hyper["n_classes"] > 0``, e.g. the paper's cINN_DY
with 10 organs) takes a Labels layer of the input's spatial shape whose value at each pixel *is*
that pixel's class index. The rule: every value must lie in [0, n_classes − 1] (0 is class 0, not
"unlabelled"), else Run is blocked with the reason; nothing is clipped or remapped (the training
harness clips, which silently merges classes). Without a map the model gets the uniform condition.

Nothing here imports torch at module level; weights load only when a transfer runs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from napari_cinn.layers import (
    axis_labels,
    format_domain,
    labels_name,
    layer_domain_tag,
    layer_named,
    layer_wavelengths,
    map_layer_data,
    robust_contrast_limits,
    spectral_layer_data,
)
from napari_cinn.widgets._logic.models import ModelInfo, load_cached

NO_LAYER = "open a spectral image (File ▸ Open, or File ▸ Open Sample ▸ napari-cinn)"
CANCELLED = "Cancelled: no layer added."
UNIFORM = "none (uniform over classes)"  # the class-map choice "no map"
UNIFORM_TAG = "uniform"  # ... as the provenance records it


def default_layer(layers, active=None):
    """The layer offered first: a simulated one, else the active one, else the first."""
    layers = list(layers)
    if not layers:
        return None
    sim = next((ly for ly in layers if str(ly.metadata.get("domain", "")) == "sim"), None)
    if sim is not None:
        return sim
    return active if active in layers else layers[0]


def class_map_candidates(layers, layer) -> list:
    """The Labels layers among ``layers`` (a list or viewer) that can be ``layer``'s class map:
    one label per pixel, i.e. their shape is the input's spatial shape ``layer.data.shape[1:]``."""
    from napari.layers import Labels

    if layer is None:
        return []
    shape = tuple(np.shape(layer.data)[1:])
    return [
        ly
        for ly in getattr(layers, "layers", layers)
        if isinstance(ly, Labels) and not ly.multiscale and tuple(ly.data.shape) == shape
    ]


def default_class_map(candidates, layer):
    """The class map offered first: the input's own labels (``"<name> labels"``, as the readers
    and samples add them), else None (uniform)."""
    return None if layer is None else layer_named(list(candidates), labels_name(layer.name))


def class_map_problem(n_classes: int, class_map, layer=None) -> str | None:
    """Why the Labels layer ``class_map`` cannot condition a model with ``n_classes`` classes
    (a value outside [0, n_classes − 1], or another shape than ``layer``'s pixels), or None."""
    if class_map is None:
        return None
    name = class_map.name
    if n_classes <= 0:
        return f"the model has no class condition; choose {UNIFORM!r} instead of {name!r}"
    shape = tuple(np.shape(class_map.data))
    if layer is not None and shape != tuple(np.shape(layer.data)[1:]):
        return f"class map {name!r} is {shape}, the layer's pixels {np.shape(layer.data)[1:]}"
    data = np.asarray(class_map.data)
    lo, hi = (int(data.min()), int(data.max())) if data.size else (0, 0)
    bad = hi if hi >= n_classes else lo if lo < 0 else None
    if bad is None:
        return None
    known = "0" if n_classes == 1 else f"0–{n_classes - 1}"
    noun = "class" if n_classes == 1 else "classes"
    return f"class map {name!r} has class {bad}; the model knows {n_classes} {noun} ({known})"


def blocking_reason(
    info: ModelInfo | None, layer, allow_resample: bool = False, class_map=None
) -> str | None:
    """Why a transfer cannot start with this model, layer and class map (a Labels layer, or
    None: uniform), or None."""
    if info is None:
        return "choose a model file"
    if layer is None:
        return NO_LAYER
    reason = info.fit_reason(layer, allow_resample)
    return reason or class_map_problem(info.n_classes, class_map, layer)


def class_map_text(n_classes: int, class_layer: str | None) -> str | None:
    """How a class-conditioned run conditions (for the status), None for models without classes."""
    if n_classes <= 0:
        return None
    return "uniform class condition" if class_layer is None else f"classes from {class_layer!r}"


def domain_note(layer, src: str) -> str | None:
    """A warning (not a block) when the layer says it comes from another domain than ``src``."""
    tag = layer_domain_tag(layer) if layer is not None else None
    if tag is not None and str(tag) != src:
        return f"note: layer is marked {str(tag)!r}, the direction starts from {src!r}"
    return None


def ready_message(layer, src: str, tgt: str, outcome: str = "", classes: str | None = None) -> str:
    """The status when Run is enabled: what will run (``classes``: :func:`class_map_text`), notes,
    and what the last run did."""
    msg = f"Ready: {layer.name} ({np.shape(layer.data)[0]} bands), {src} → {tgt}"
    if classes:
        msg += f", {classes}"
    for extra in (domain_note(layer, src), layer.metadata.get("wavelengths_assumed"), outcome):
        if extra:
            msg += f"\n{extra}"
    return msg


def result_name(layer_name: str, src: str, tgt: str) -> str:
    return f"{layer_name} [{format_domain(src, tgt)}]"


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
    sample: bool = False  # one stochastic realisation (the noise the source lacks) instead
    seed: int = 0  # of the deterministic transfer; the same seed gives the same realisation
    chunk: int | None = None
    layer_name: str = "image"
    classes: np.ndarray | None = None  # (y, x) class index per pixel; None: uniform condition
    class_layer: str | None = None  # the Labels layer ``classes`` came from
    n_classes: int = 0  # the model's classes (0: no class condition)

    @classmethod
    def for_layer(
        cls, info: ModelInfo, layer, src: str, tgt: str, class_map=None, **options
    ) -> TransferRequest:
        """The request for ``layer``; ``class_map``: a Labels layer (copied: painting on it during
        the run changes nothing) or None."""
        options.setdefault("layer_name", layer.name)
        if class_map is not None:
            options["classes"] = np.array(class_map.data, dtype=np.int64)
            options["class_layer"] = class_map.name
        wl = layer_wavelengths(layer)
        return cls(info.path, layer.data, wl, src, tgt, n_classes=info.n_classes, **options)

    def stages(self) -> tuple[str, ...]:
        """The progress stages of this run, in order."""
        return (
            ("transfer",) + ("latent code",) * self.latent + ("log-likelihood",) * self.likelihood
        )


@dataclass
class TransferResult:
    request: TransferRequest
    transferred: np.ndarray
    wavelengths: np.ndarray
    latent: np.ndarray | None
    log_likelihood: np.ndarray | None
    seconds: float
    device: str


def run_transfer(req: TransferRequest, progress=None, cancel=None) -> TransferResult:
    """Load the model and run transfer (+ latent, + likelihood) — the worker thread's job.

    ``progress(done, total, stage)`` is called per chunk; ``cancel()`` is polled per chunk and
    makes the core raise ``TransferCancelled``; nothing partial is returned.
    """
    from napari_cinn.core import encode_image, likelihood_image, resolve_device, transfer_image
    from napari_cinn.core.devices import gui_threads, torch_threads

    t0 = time.perf_counter()
    model = load_cached(req.model_path)
    device = resolve_device(req.device)
    data = req.data
    if model.modality == "pat" and not isinstance(data, np.ndarray):
        data = np.asarray(data, dtype=np.float32)  # PAT images are small; the core reshapes them

    def stage(name: str):
        return None if progress is None else (lambda done, total: progress(done, total, name))

    common = dict(
        wavelengths=req.wavelengths,
        resample=req.resample,
        chunk=req.chunk,
        device=device,
        classes=req.classes,
    )
    common["cancel"] = cancel
    with torch_threads(gui_threads() if device.type == "cpu" else None):  # leave the GUI a core
        out = transfer_image(
            model,
            data,
            req.src,
            req.tgt,
            progress=stage("transfer"),
            sample=req.sample,
            seed=req.seed if req.sample else None,
            **common,
        )
        lat = ll = None
        if req.latent:
            lat = encode_image(model, data, req.src, progress=stage("latent code"), **common)
        if req.likelihood:
            # realism: how typical the transferred pixels are of the target domain (nats per dim)
            common["wavelengths"] = np.asarray(model.wavelengths)
            common["resample"] = False
            ll = likelihood_image(model, out, req.tgt, progress=stage("log-likelihood"), **common)
    wavelengths = np.asarray(model.wavelengths, dtype=np.float64)
    seconds = time.perf_counter() - t0
    return TransferResult(req, out, wavelengths, lat, ll, seconds, str(device))


def result_layers(result: TransferResult, source=None, modality: str | None = None) -> list:
    """Layer-data tuples of a transfer: the transferred image, then the latent code and the
    log-likelihood map when asked for. ``source``: the input layer (geometry, contrast)."""
    req = result.request
    provenance = {
        "model": Path(req.model_path).name,
        "model_path": str(req.model_path),
        "direction": format_domain(req.src, req.tgt),
        "source_layer": req.layer_name,
        "device": result.device,
        "resampled": bool(req.resample),
        "realisation": f"stochastic, seed {req.seed}" if req.sample else "deterministic",
        "seconds": round(result.seconds, 3),
    }
    if req.n_classes:
        provenance["class_map"] = req.class_layer or UNIFORM_TAG
    geometry = {} if source is None else {"scale": source.scale, "translate": source.translate}
    name = result_name(req.layer_name, req.src, req.tgt)
    out = [
        spectral_layer_data(
            result.transferred,
            name,
            result.wavelengths,
            domain=format_domain(req.src, req.tgt),
            metadata={"provenance": provenance},
            contrast_limits=tuple(source.contrast_limits) if source is not None else None,
            **geometry,
        )
    ]
    if result.latent is not None:
        out.append(
            map_layer_data(
                result.latent,
                f"{req.layer_name} [latent | {req.src}]",
                metadata={
                    "latent_of": req.layer_name,
                    "domain": req.src,
                    "provenance": provenance,
                    "modality": modality,
                },
                colormap="twilight_shifted",
                contrast_limits=(-3, 3),
                axis_labels=axis_labels(result.latent.ndim),
                visible=False,
                **geometry,
            )
        )
    if result.log_likelihood is not None:
        out.append(
            map_layer_data(
                result.log_likelihood,
                f"{name} [log p | {req.tgt}]",
                metadata={
                    "log_likelihood_of": name,
                    "under_domain": req.tgt,
                    "units": "nats per dim",
                    "provenance": provenance,
                },
                contrast_limits=robust_contrast_limits(result.log_likelihood, (1.0, 99.0)),
                visible=False,
                **{k: v[1:] for k, v in geometry.items()},
            )
        )
    return out
