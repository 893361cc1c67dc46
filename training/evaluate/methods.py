"""Transfer methods for the evaluation harness: a small registry of ``fit`` functions.

A method is ``fit(sim_spectra (n, bands), real_spectra (m, bands), **options) -> transform``
where ``transform`` maps ``(k, bands)`` sim spectra to real-like ones; ``options`` are the
keyword-only parameters of that ``fit`` (``cinn-train evaluate --option KEY=VALUE``, ``--budget
SECONDS`` for ``seconds``), checked against its signature. ``--method`` accepts:

- a registered name (:data:`METHODS`: ``none``, ``moment-matching``, ``ot`` (linear Gaussian
  map), ``ot-sinkhorn``, ``ot-emd``, ``ot-cfm``, ``unit``; add one with :func:`register`), or any
  module ``training/baselines/<name>.py`` (or package) exposing ``fit``;
- ``package.module:function`` naming such a ``fit``;
- a path to a ``.py`` file defining ``fit``;
- a path to a ``.safetensors`` model file (``napari_cinn.core.load_model`` + ``transfer_image``)
  or a UNIT baseline file (``cinn-train fit`` with ``method: unit``, then ``cinn-train export``);
  HSI models run per pixel, PAT models on whole images.
"""

from __future__ import annotations

import difflib
import functools
import importlib
import importlib.util
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from napari_cinn_training.evaluate.data import EvaluationError

SpectraTransform = Callable[[np.ndarray], np.ndarray]
FitFunction = Callable[[np.ndarray, np.ndarray], SpectraTransform]


def _fit_none(sim_spectra: np.ndarray, real_spectra: np.ndarray) -> SpectraTransform:
    """No transfer: the simulated spectra unchanged (the lower bound)."""
    return lambda x: np.asarray(x, dtype=np.float32)


#: name -> fit function or "module:function" (imported on first use).
METHODS: dict[str, FitFunction | str] = {
    "none": _fit_none,
    "moment-matching": "napari_cinn_training.baselines.moment_matching:fit",
    "ot": "napari_cinn_training.baselines.ot:fit",
    "ot-sinkhorn": "napari_cinn_training.baselines.ot:fit_sinkhorn",
    "ot-emd": "napari_cinn_training.baselines.ot:fit_emd",
    "ot-cfm": "napari_cinn_training.baselines.ot_cfm:fit",
    "unit": "napari_cinn_training.baselines.unit:fit",
}


def register(name: str, fit: FitFunction | str) -> None:
    """Make ``fit`` available as ``--method name``."""
    METHODS[name] = fit


@dataclass
class Method:
    """A resolved method. Exactly one of ``fit`` (spectra) or ``image_transform`` is set."""

    name: str
    fit: FitFunction | None = None
    image_transform: Callable[[np.ndarray], np.ndarray] | None = None
    per_pixel: bool = True
    description: str = ""
    #: stochastic methods: ``sample_transform(cube, seed)`` gives one realisation
    sample_transform: Callable[[np.ndarray, int], np.ndarray] | None = None
    #: a per-pixel model whose realisations draw one whole-image factor (an image spread): its
    #: sampled spectra are transferred image by image
    per_image_draws: bool = False
    #: the loaded cINN for model files (latent-health figures), else None
    model: object | None = None
    options: dict[str, Any] = field(default_factory=dict)


def _describe(fit: FitFunction) -> str:
    return (fit.__doc__ or "").strip().split("\n")[0]


def fit_options(fit: FitFunction) -> dict[str, Any]:
    """The options of a ``fit``: its parameters after the two arrays, with their defaults."""
    params = list(inspect.signature(fit).parameters.values())[2:]
    return {
        p.name: p.default for p in params if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
    }


def bind_options(name: str, fit: FitFunction, options: Mapping[str, Any]) -> FitFunction:
    """``fit`` with ``options`` bound; unknown option names are refused with those that exist."""
    if not options:
        return fit
    known = fit_options(fit)
    for key in options:
        if key not in known:
            close = difflib.get_close_matches(key, list(known), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            have = ", ".join(known) if known else "none"
            raise EvaluationError(
                f"method {name!r} has no option {key!r}{hint} (its options: {have})"
            )
    return functools.partial(fit, **options)


def _import_target(target: str) -> FitFunction:
    module, _, func = target.partition(":")
    return getattr(importlib.import_module(module), func or "fit")


def _from_file(path: Path) -> FitFunction:
    spec = importlib.util.spec_from_file_location(f"_cinn_baseline_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise EvaluationError(f"{path}: cannot import this file as a Python module")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not callable(getattr(module, "fit", None)):
        raise EvaluationError(f"{path}: defines no function fit(sim_spectra, real_spectra)")
    return module.fit


def _from_model(path: Path, device: str) -> Method:
    from napari_cinn.core import load_model, transfer_image

    model = load_model(str(path), device="cpu")
    domains = tuple(model.domains)
    src = "sim" if "sim" in domains else domains[0]
    dst = "real" if "real" in domains else domains[-1]

    def image_transform(cube: np.ndarray, classes=None) -> np.ndarray:
        return transfer_image(model, cube, src, dst, classes=classes, device=device)

    def sample_transform(cube: np.ndarray, seed: int, classes=None) -> np.ndarray:
        return transfer_image(
            model, cube, src, dst, classes=classes, device=device, sample=True, seed=seed
        )

    return Method(
        path.name,
        image_transform=image_transform,
        per_pixel=model.modality == "hsi",
        description=f"cINN model {path} ({model.modality}, {src}→{dst})",
        sample_transform=sample_transform if model.can_sample(src) else None,
        per_image_draws=model.modality == "hsi" and model.has_image_spread(dst),
        model=model,
    )


def _from_unit(path: Path) -> Method:
    import torch

    from napari_cinn_training.baselines.unit import load_unit, spectra_transform

    net = load_unit(path)
    spectra = spectra_transform(net)  # chunked, per pixel

    @torch.no_grad()
    def image_transform(cube: np.ndarray) -> np.ndarray:
        if net.modality == "hsi":  # (bands, y, x) -> (pixels, bands) and back
            return spectra(cube.reshape(cube.shape[0], -1).T).T.reshape(cube.shape)
        x = torch.from_numpy(np.ascontiguousarray(cube, dtype=np.float32))
        h, w = x.shape[
            -2:
        ]  # the conv nets halve once: pad odd sizes by one edge row/column, crop back
        x = torch.nn.functional.pad(x[None], (0, w % 2, 0, h % 2), mode="replicate")
        return net.transfer(x, "sim", "real")[0, :, :h, :w].numpy()

    return Method(
        path.name,
        image_transform=image_transform,
        per_pixel=net.modality == "hsi",
        description=f"UNIT baseline file {path} ({net.modality}, sim→real)",
    )


def _is_unit_file(path: Path) -> bool:
    from safetensors import safe_open

    try:
        with safe_open(str(path), "pt") as fh:
            return "napari_cinn_unit" in (fh.metadata() or {})
    except Exception:  # not readable as safetensors: let load_model explain what is wrong
        return False


def _fitted(spec: str, fit: FitFunction, description: str, options: Mapping[str, Any]) -> Method:
    return Method(
        spec,
        fit=bind_options(spec, fit, options),
        description=description,
        options=dict(options),
    )


def resolve_method(
    spec: str, device: str = "auto", options: Mapping[str, Any] | None = None
) -> Method:
    """Turn a ``--method`` value (and its ``options``) into a :class:`Method`; unknown names list
    what exists."""
    options = dict(options or {})
    path = Path(spec)
    if spec.endswith(".safetensors"):
        if not path.is_file():
            raise EvaluationError(f"model file {path} does not exist")
        if options:
            raise EvaluationError(
                f"{path}: a model file takes no options (got {', '.join(options)})"
            )
        return _from_unit(path) if _is_unit_file(path) else _from_model(path, device)
    if spec.endswith(".py"):
        if not path.is_file():
            raise EvaluationError(f"baseline file {path} does not exist")
        return _fitted(path.stem, _from_file(path), f"baseline file {path}", options)
    if spec in METHODS:
        target = METHODS[spec]
        fit = _import_target(target) if isinstance(target, str) else target
        return _fitted(spec, fit, _describe(fit), options)
    if ":" in spec:
        try:
            fit = _import_target(spec)
        except (ImportError, AttributeError) as err:
            raise EvaluationError(f"cannot import method {spec!r}: {err}") from err
        return _fitted(spec, fit, spec, options)
    module = f"napari_cinn_training.baselines.{spec.replace('-', '_')}"
    if importlib.util.find_spec(module) is not None:
        fit = getattr(importlib.import_module(module), "fit", None)
        if callable(fit):
            return _fitted(spec, fit, _describe(fit), options)
    known = sorted(set(METHODS) | set(available_baselines()))
    raise EvaluationError(
        f"unknown method {spec!r}; use one of {', '.join(known)}, a "
        "module:function, a .py file with fit(), or a .safetensors model file"
    )


def available_baselines() -> list[str]:
    """Names of modules in ``training/baselines`` (hyphenated), whether or not they import."""
    import pkgutil

    import napari_cinn_training.baselines as pkg

    return [
        m.name.replace("_", "-")
        for m in pkgutil.iter_modules(pkg.__path__)
        if not m.name.startswith("_")
    ]
