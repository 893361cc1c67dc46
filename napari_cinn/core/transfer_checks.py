"""Argument checks and NaN reports for :mod:`napari_cinn.core.transfer` (NumPy + torch only).

- :func:`check_arguments` refuses, with a sentence, what would silently give garbage: a chunk
  that is not a positive integer (``chunk=-1`` returned ``np.empty`` memory), an ``out`` array
  that is not floating point (an int16 ``out`` truncated), a model whose normalisation
  statistics or clamp are not finite and positive (every pixel NaN);
- :func:`mask_overflow` (PAT) treats values so large that they would overflow the network as
  invalid pixels, with a warning (one 3e38 pixel made 99 % of a PAT image NaN);
- :func:`warn_nan` says how much of a result is NaN and why.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

#: a PAT value this many times beyond the model's own data scale overflows the convolutions
OVERFLOW_FACTOR = 1e6
_MAX_CHUNK = 2**31 - 1


class NaNWarning(RuntimeWarning):
    """Part of a transfer result is NaN; the message says how much and why."""


def check_arguments(model, chunk, out) -> None:
    """Raise ``ValueError`` for a bad ``chunk``, ``out`` or model (see the module docstring)."""
    if chunk is not None and (
        isinstance(chunk, bool)
        or not isinstance(chunk, (int, np.integer))
        or not 1 <= int(chunk) <= _MAX_CHUNK
    ):
        raise ValueError(
            f"chunk must be a positive whole number of pixels (HSI) or images (PAT), got {chunk!r}"
        )
    if out is not None:
        if not hasattr(out, "dtype") or not hasattr(out, "shape"):
            raise ValueError(f"`out` must be a NumPy array, got {type(out).__name__}")
        if np.dtype(out.dtype).kind != "f":
            raise ValueError(
                f"`out` must be a floating-point array (float32), got {out.dtype}: integers "
                "would truncate the result and cannot hold NaN"
            )
        if isinstance(out, np.ndarray) and not out.flags.writeable:
            raise ValueError("`out` is read-only")
    clamp = model.hyper.get("clamp", 1.0)
    if not (isinstance(clamp, (int, float)) and math.isfinite(clamp) and clamp > 0):
        raise ValueError(f"the model's clamp is {clamp!r}; it must be a finite number > 0")
    for name, positive in (("norm_mean", False), ("norm_std", True), ("ref_norm", True)):
        buf = getattr(model, name, None)
        if buf is None:
            continue
        v = buf.detach().cpu().double().numpy()
        if not np.all(np.isfinite(v)):
            raise ValueError(
                f"the model's normalisation statistics {name} contain NaN or infinity: every "
                "transfer would be NaN"
            )
        if positive and not np.all(v > 0):
            raise ValueError(
                f"the model's {name} has {int(np.sum(v <= 0))} zero or negative value(s): every "
                "transfer would be NaN or infinite"
            )


def overflow_limit(model) -> float:
    """Largest magnitude a PAT input may have: far beyond the model's data scale."""
    mean = model.norm_mean.detach().abs().double()
    std = model.norm_std.detach().abs().double()
    scale = float((mean + std).max()) if mean.numel() else 1.0
    return OVERFLOW_FACTOR * max(scale, 1e-30)


def mask_overflow(model, image):
    """PAT: ``image`` with values beyond :func:`overflow_limit` set to NaN (a copy, warned)."""
    if model.modality != "pat":
        return image
    arr = np.asarray(image)
    if not np.issubdtype(arr.dtype, np.floating) and not np.issubdtype(arr.dtype, np.integer):
        return image
    limit = overflow_limit(model)
    with np.errstate(invalid="ignore"):
        huge = np.abs(arr.astype(np.float64, copy=False)) > limit
    if not huge.any():
        return image
    pixels = int(huge.reshape(arr.shape[0], -1).any(0).sum())
    warnings.warn(
        NaNWarning(
            f"{pixels:,} pixel(s) hold values beyond ±{limit:.3g} (up to "
            f"{float(np.nanmax(np.abs(arr[huge]))):.3g}), which would overflow the network and "
            "spread NaN over the whole image: they are treated as invalid (NaN in the output)"
        ),
        stacklevel=4,
    )
    out = arr.astype(np.float32, copy=True)
    out[huge] = np.nan
    return out


def warn_nan(result: np.ndarray, image, kind: str, per_pixel: bool = True) -> None:
    """Warn with :class:`NaNWarning` when ``result`` holds NaN: how much, and why."""
    res = np.asarray(result)
    nan = np.isnan(res) if res.ndim == np.ndim(image) - 1 else np.isnan(res).any(0)
    n = int(nan.sum())
    if n == 0:
        return
    total = int(nan.size)
    idx = np.nonzero(nan)
    if n > 10_000:  # classify a sample of the NaN pixels
        pick = np.random.default_rng(0).choice(n, 10_000, replace=False)
        idx = tuple(i[np.sort(pick)] for i in idx)
    try:
        spectra = np.asarray(image[(slice(None), *idx)], dtype=np.float64)  # (bands, k)
    except (TypeError, IndexError, ValueError):
        spectra = None
    why = "the model produced NaN or infinity"
    if spectra is not None and spectra.size:
        k = spectra.shape[1]
        nonfinite = ~np.isfinite(spectra).all(0)
        zero = ~nonfinite & (np.abs(np.nan_to_num(spectra)).sum(0) == 0) & per_pixel
        other = k - int(nonfinite.sum()) - int(zero.sum())
        parts = []
        if nonfinite.any():
            parts.append(f"{nonfinite.mean():.0%} had NaN/infinite input values")
        if zero.any():
            parts.append(f"{zero.mean():.0%} were all-zero spectra (masked, as documented)")
        if other:
            peak = float(np.nanmax(np.abs(np.where(np.isfinite(spectra), spectra, 0.0))))
            parts.append(f"{other / k:.0%} overflowed in the model (input values up to {peak:.3g})")
        why = "; ".join(parts) or why
    warnings.warn(
        NaNWarning(f"{kind}: {n / total:.1%} of the pixels ({n:,} of {total:,}) are NaN: {why}"),
        stacklevel=4,
    )


_LABELS = {"transfer": "transfer", "encode": "latent codes", "likelihood": "likelihood map"}


def guarded(fn):
    """Decorate the transfer runner ``fn(model, image, kind, ..., chunk=, out=)``:
    :func:`check_arguments` and :func:`mask_overflow` before it runs, :func:`warn_nan` after."""
    import functools
    import inspect

    sig = inspect.signature(fn)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        bound = sig.bind(*args, **kwargs)
        a = bound.arguments
        check_arguments(a["model"], a.get("chunk"), a.get("out"))
        a["image"] = mask_overflow(a["model"], a["image"])
        result = fn(*bound.args, **bound.kwargs)
        label = _LABELS.get(a["kind"], a["kind"])
        warn_nan(result, a["image"], label, per_pixel=a["model"].modality == "hsi")
        return result

    return wrapper
