"""Apply a model to whole spectral images in bounded memory: transfer, latent codes, likelihood maps.

Images are ``(bands, y, x)`` or ``(bands, z, y, x)`` NumPy arrays (memmaps work). HSI models work
pixel by pixel on chunks of rows; PAT models on whole ``(y, x)`` images, a few at a time, padded to
the network's size multiple. Work runs under ``torch.inference_mode`` on the chosen device, reports
progress per chunk and can be cancelled between chunks without leaving partial results.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
import torch

from ._chunks import (
    DEFAULT_CHUNK_IMAGES,
    DEFAULT_CHUNK_PIXELS,
    TransferCancelled,
    hsi_chunks,
    pat_chunks,
)
from .devices import gui_threads, resolve_device, torch_threads
from .models import DomainTransferModel
from .spectra import grid_problem, same_grid
from .spectra import resample as resample_bands
from .transfer_checks import guarded

__all__ = [
    "DEFAULT_CHUNK_IMAGES",
    "DEFAULT_CHUNK_PIXELS",
    "TransferCancelled",
    "encode_image",
    "fit_problem",
    "gui_threads",
    "likelihood_image",
    "resolve_device",
    "torch_threads",
    "transfer_image",
]

ProgressFn = Callable[[int, int], Any]
CancelFn = Callable[[], bool]


def fit_problem(
    model: DomainTransferModel, n_bands: int, wavelengths=None, allow_resample: bool = False
) -> str | None:
    """Why an image with ``n_bands`` (and ``wavelengths``) cannot go through ``model``, or None
    (the one rule, :func:`~napari_cinn.core.spectra.grid_problem`, against the model's grid)."""
    return grid_problem(
        model.wavelengths, n_bands, wavelengths, allow_resample=allow_resample, noun="image"
    )


def _as_image(model: DomainTransferModel, image, wavelengths, resample: bool) -> np.ndarray:
    """Validate ``image`` and bring it onto the model's wavelength grid (without copying if possible)."""
    if not hasattr(image, "shape") or not hasattr(image, "dtype"):
        image = np.asarray(image)
    if image.dtype == bool or not (np.issubdtype(image.dtype, np.number)) or np.iscomplexobj(image):
        raise ValueError(f"spectral images must hold real numbers, got dtype {image.dtype}")
    if image.ndim not in (3, 4):
        hint = " (a single spectrum? pass it as (bands, 1, 1))" if image.ndim == 1 else ""
        raise ValueError(
            f"expected a (bands, y, x) or (bands, z, y, x) image, got a {image.ndim}-D "
            f"array of shape {tuple(image.shape)}{hint}"
        )
    if 0 in image.shape:
        raise ValueError(f"the image is empty (shape {tuple(image.shape)})")
    problem = fit_problem(model, image.shape[0], wavelengths, allow_resample=resample)
    if problem:
        raise ValueError(problem)
    if wavelengths is not None and not same_grid(wavelengths, model.wavelengths):
        image = resample_bands(np.asarray(image), wavelengths, model.wavelengths, axis=0)
    return image


@guarded  # checks chunk/out/model first, warns about NaN in the result
def _run(
    model,
    image,
    kind: str,
    out_shape_fn,
    *,
    src,
    tgt,
    classes,
    wavelengths,
    resample,
    chunk,
    device,
    progress,
    cancel,
    out,
    seed=None,
    row0: int = 0,
) -> np.ndarray:
    img = _as_image(model, image, wavelengths, resample)
    row0 = _check_row0(model, row0)
    dev = resolve_device(device)
    model = model.to(dev).eval()
    gen = None
    if seed is not None:  # stochastic transfer: one seeded stream for the whole image
        gen = torch.Generator(device=dev)
        gen.manual_seed(int(seed))
    out_shape = out_shape_fn(img.shape)
    if out is None:
        result = np.empty(out_shape, dtype=np.float32)
    else:
        if tuple(out.shape) != tuple(out_shape):
            raise ValueError(f"`out` has shape {tuple(out.shape)}, expected {tuple(out_shape)}")
        result = out
    extra = {}
    if model.modality == "hsi":
        runner = hsi_chunks
        if kind == "transfer" and seed is not None:  # one whole-image draw per realisation
            extra["factor"] = model.image_factor(tgt, seed)
    else:
        runner = partial(pat_chunks, row0=row0)
    try:
        with torch.inference_mode():
            runner(
                model,
                img,
                result,
                kind,
                src=src,
                tgt=tgt,
                classes=classes,
                chunk=chunk,
                dev=dev,
                progress=progress,
                cancel=cancel,
                gen=gen,
                **extra,
            )
    except BaseException:
        if out is not None:
            out[...] = np.nan  # nothing half-done is left behind
        raise
    return result


def _check_row0(model: DomainTransferModel, row0) -> int:
    """``row0`` as an int; only PAT images have a depth, so HSI models accept 0 alone."""
    if isinstance(row0, bool) or not isinstance(row0, int | np.integer) or row0 < 0:
        raise ValueError(f"row0 must be a non-negative integer (pixels), got {row0!r}")
    if row0 and model.modality != "pat":
        raise ValueError(f"row0 is the depth of a PAT image's first row; {model.modality} has none")
    return int(row0)


def _sample_seed(model: DomainTransferModel, src, sample: bool, seed: int | None) -> int | None:
    """The seed of a stochastic transfer, or None for the deterministic one."""
    if not sample:
        return None
    if not model.can_sample(src):
        raise ValueError(
            f"this model cannot sample: it was trained without the noise that domain {src!r} "
            "lacks (train with loss.dequantize=matched or camera), use the deterministic transfer"
        )
    return int(np.random.SeedSequence(seed).generate_state(1)[0]) if seed is None else int(seed)


def transfer_image(
    model: DomainTransferModel,
    image,
    src,
    tgt,
    *,
    classes=None,
    wavelengths=None,
    resample: bool = False,
    chunk: int | None = None,
    device="auto",
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    out: np.ndarray | None = None,
    row0: int = 0,
    sample: bool = False,
    seed: int | None = None,
) -> np.ndarray:
    """Transfer a spectral image from domain ``src`` to ``tgt``.

    Parameters
    ----------
    image : (bands, y, x) or (bands, z, y, x) array, any real dtype (a memmap is read chunk by chunk)
    src, tgt : domain names (or indices) of ``model``
    classes : optional (y, x) / (z, y, x) integer class map for models with a class condition
    wavelengths : (bands,) nm of ``image``; checked against the model's grid
    resample : interpolate the image onto the model's grid when the grids differ (opt-in)
    chunk : pixels (HSI) or images (PAT) per batch; bounds memory
    device : "auto" (cuda > mps > cpu), "cpu", "cuda", ...
    progress : called as ``progress(done, total)`` after each chunk
    cancel : polled before each chunk; returning True raises :class:`TransferCancelled`
    out : optional preallocated (bands, y, x) float32 array or memmap to write into; on error or
        cancel it is filled with NaN so no partial result survives
    sample : draw one realisation: the source's missing noise is added before encoding
        (:meth:`DomainTransferModel.transfer`) and, for HSI models with an image spread
        (:mod:`napari_cinn.core.image_spread`), the result is multiplied by one whole-image
        factor, so it carries the target domain's variability within and between images; False
        (default) is the deterministic transfer
    seed : seed of that draw (None with ``sample``: a random one); the same seed and chunk size
        give the same realisation
    row0 : PAT only: how many pixel rows below the probe surface the image's first row lies, for
        models conditioned on depth (``depth_condition``); 0 (default) = the image starts there

    Returns
    -------
    (bands, y, x) float32 on the model's grid; invalid pixels (HSI: all-zero or non-finite spectra,
    PAT: non-finite) are NaN.
    """
    return _run(
        model,
        image,
        "transfer",
        lambda s: (model.n_bands, *s[1:]),
        src=src,
        tgt=tgt,
        classes=classes,
        wavelengths=wavelengths,
        resample=resample,
        chunk=chunk,
        device=device,
        progress=progress,
        cancel=cancel,
        out=out,
        row0=row0,
        seed=_sample_seed(model, src, sample, seed),
    )


def encode_image(
    model: DomainTransferModel,
    image,
    domain,
    *,
    classes=None,
    wavelengths=None,
    resample: bool = False,
    chunk: int | None = None,
    device="auto",
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    out: np.ndarray | None = None,
    row0: int = 0,
) -> np.ndarray:
    """Latent codes ``(latent_dims, y, x)`` of an image under ``domain`` (latent_dims = bands).

    For PAT models the multi-scale latent is packed into the image's shape; only HSI latents are
    per-pixel codes. ``row0``: as in :func:`transfer_image`.
    """
    return _run(
        model,
        image,
        "encode",
        lambda s: (model.n_bands, *s[1:]),
        src=domain,
        tgt=None,
        classes=classes,
        wavelengths=wavelengths,
        resample=resample,
        chunk=chunk,
        device=device,
        progress=progress,
        cancel=cancel,
        out=out,
        row0=row0,
    )


def likelihood_image(
    model: DomainTransferModel,
    image,
    domain,
    *,
    classes=None,
    wavelengths=None,
    resample: bool = False,
    chunk: int | None = None,
    device="auto",
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    out: np.ndarray | None = None,
    row0: int = 0,
) -> np.ndarray:
    """Map ``(y, x)`` of log p(x | domain) per dimension (nats): how typical each pixel is of ``domain``.

    HSI: per pixel. PAT: one value per image, broadcast over its pixels. Flow likelihoods are poor
    out-of-distribution scores (Nalisnick et al. 2019): compare maps against held-out data of the
    domain before reading them as "realism". ``row0``: as in :func:`transfer_image`.
    """
    return _run(
        model,
        image,
        "likelihood",
        lambda s: tuple(s[1:]),
        src=domain,
        tgt=None,
        classes=classes,
        wavelengths=wavelengths,
        resample=resample,
        chunk=chunk,
        device=device,
        progress=progress,
        cancel=cancel,
        out=out,
        row0=row0,
    )
