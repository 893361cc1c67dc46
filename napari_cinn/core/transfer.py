"""Apply a model to whole spectral images in bounded memory: transfer, latent codes, likelihood maps.

Images are ``(bands, y, x)`` or ``(bands, z, y, x)`` NumPy arrays (memmaps work). HSI models work
pixel by pixel on chunks of rows; PAT models on whole ``(y, x)`` images, a few at a time, padded to
the network's size multiple. Work runs under ``torch.inference_mode`` on the chosen device, reports
progress per chunk and can be cancelled between chunks without leaving partial results.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch

from .models import DomainTransferModel
from .spectra import describe_grid, same_grid
from .spectra import resample as resample_bands

ProgressFn = Callable[[int, int], Any]
CancelFn = Callable[[], bool]

#: default pixels per chunk for HSI models: a chunk's working set (~3 MB for the default model)
#: stays near one core's L2 cache, which measured fastest on this CPU (see bench_transfer.py)
DEFAULT_CHUNK_PIXELS = 2048
#: default images per chunk for PAT models
DEFAULT_CHUNK_IMAGES = 2


@contextmanager
def torch_threads(n: int | None):
    """Run the block with ``n`` torch CPU threads, then restore the previous count (None: no-op).

    torch's thread count is process-wide. GUI workers use :func:`gui_threads` so the viewer keeps
    a core: on a machine whose cores are all busy, OpenMP threads that spin while waiting for each
    other made a 2-thread transfer ~7× slower than a 1-thread one here (157 s vs 23 s, 2 cores).
    """
    if n is None:
        yield
        return
    old = torch.get_num_threads()
    torch.set_num_threads(max(1, int(n)))
    try:
        yield
    finally:
        torch.set_num_threads(old)


def gui_threads() -> int:
    """Torch threads for work started from the viewer: all cores but one (the GUI's), at least 1."""
    return max(1, (os.cpu_count() or 2) - 1)


class TransferCancelled(Exception):
    """Raised when the cancel hook asked to stop; no partial result is returned."""


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` → cuda if available, else mps, else cpu; other names are checked for availability."""
    if isinstance(device, torch.device):
        return device
    name = str(device).lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(
            "device 'cuda' was asked for but no CUDA GPU is available; use 'auto' or 'cpu'"
        )
    if name == "mps" and not (
        getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()
    ):
        raise ValueError("device 'mps' was asked for but is not available; use 'auto' or 'cpu'")
    return torch.device(name)


def fit_problem(
    model: DomainTransferModel, n_bands: int, wavelengths=None, allow_resample: bool = False
) -> str | None:
    """Why an image with ``n_bands`` (and ``wavelengths``) cannot go through ``model``, or None."""
    expects = f"model expects {describe_grid(model.wavelengths)}"
    if wavelengths is None:
        if n_bands != model.n_bands:
            return f"{expects}; image has {n_bands} bands (and no wavelengths)"
        return None
    wl = np.asarray(wavelengths, dtype=float).ravel()
    if wl.size != n_bands:
        return f"image has {n_bands} bands but {wl.size} wavelengths"
    if same_grid(wl, model.wavelengths):
        return None
    if allow_resample:
        if (
            wl.size > 1
            and wl[0] <= model.wavelengths[0] + 1e-6
            and wl[-1] >= model.wavelengths[-1] - 1e-6
        ):
            return None
        return f"{expects}; image has {describe_grid(wl)}, which does not cover that range"
    return f"{expects}; image has {describe_grid(wl)} (enable resampling to interpolate)"


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


def _spatial_blocks(shape: tuple[int, ...], budget: int) -> Iterator[tuple]:
    """Index tuples over ``shape[1:]`` (spatial) selecting whole rows, about ``budget`` pixels each."""
    spatial = shape[1:]
    row = spatial[-1]
    rows_per = max(1, budget // max(row, 1))
    lead = spatial[:-2]
    for idx in np.ndindex(*lead) if lead else [()]:
        for y0 in range(0, spatial[-2], rows_per):
            yield (*idx, slice(y0, min(y0 + rows_per, spatial[-2])))


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
) -> np.ndarray:
    img = _as_image(model, image, wavelengths, resample)
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
    runner = _hsi_chunks if model.modality == "hsi" else _pat_chunks
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
            )
    except BaseException:
        if out is not None:
            out[...] = np.nan  # nothing half-done is left behind
        raise
    return result


def _sample_seed(model: DomainTransferModel, src, sample: bool, seed: int | None) -> int | None:
    """The seed of a stochastic transfer, or None for the deterministic one."""
    if not sample:
        return None
    if not model.can_sample(src):
        raise ValueError(
            f"this model cannot sample: it was trained without the noise that domain {src!r} "
            "lacks (train with loss.dequantize=matched), use the deterministic transfer"
        )
    return int(np.random.SeedSequence(seed).generate_state(1)[0]) if seed is None else int(seed)


def _apply(model, x: torch.Tensor, kind: str, src, tgt, cls, gen=None) -> torch.Tensor:
    if kind == "transfer":
        return model.transfer(x, src, tgt, classes=cls, sample=gen is not None, generator=gen)
    if kind == "encode":
        return model.encode(x, src, classes=cls)[0]
    return model.log_likelihood(x, src, classes=cls)


def _chunk_workers(dev: torch.device) -> int:
    """Chunks run at once: on CPU one per torch thread (each single-threaded), else one."""
    return max(1, torch.get_num_threads()) if dev.type == "cpu" else 1


def _hsi_chunks(
    model, img, result, kind, *, src, tgt, classes, chunk, dev, progress, cancel, gen=None
):
    """Run the HSI model over chunks of whole rows; on CPU several chunks at once.

    On CPU each chunk runs single-threaded in its own thread, as many at once as torch has
    threads: the per-operation thread barriers of torch's intra-op parallelism cost more than the
    small element-wise operations of a coupling block gain from them, and on a busy machine
    (other processes on the cores) spinning OpenMP threads made a 2-thread run 5x slower than a
    1-thread run here. Results are written, and progress reported, in chunk order. A stochastic
    transfer (``gen``) runs its chunks one after the other, so that a seed gives one realisation.
    """
    bands = img.shape[0]
    total = int(np.prod(img.shape[1:]))
    n_out = bands if kind != "likelihood" else 1
    grad_mode = torch.is_inference_mode_enabled()

    def work(sel):
        block = np.asarray(img[(slice(None), *sel)], dtype=np.float32)
        spectra = block.reshape(bands, -1).T
        valid = np.isfinite(spectra).all(1) & (np.abs(spectra).sum(1) > 0)
        cls = None
        if classes is not None:
            cls = torch.as_tensor(np.asarray(classes)[sel].reshape(-1)[valid], device=dev).long()
        values = np.full((spectra.shape[0], n_out), np.nan, dtype=np.float32)
        if valid.any():
            with torch.inference_mode(grad_mode):
                x = torch.from_numpy(np.ascontiguousarray(spectra[valid])).to(dev)
                y = _apply(model, x, kind, src, tgt, cls, gen)
                values[valid] = y.reshape(len(x), n_out).float().cpu().numpy()
        return sel, block.shape[1:], values

    done = 0

    def finish(sel, spatial, values) -> None:
        nonlocal done
        if kind == "likelihood":
            result[sel] = values[:, 0].reshape(spatial)
        else:
            result[(slice(None), *sel)] = values.T.reshape(bands, *spatial)
        done += values.shape[0]
        if progress is not None:
            progress(done, total)

    blocks = _spatial_blocks(img.shape, int(chunk or DEFAULT_CHUNK_PIXELS))
    workers = _chunk_workers(dev) if gen is None else 1
    if workers == 1:
        for sel in blocks:
            if cancel is not None and cancel():
                raise TransferCancelled("transfer cancelled")
            finish(*work(sel))
        return
    with torch_threads(1), ThreadPoolExecutor(workers) as pool:
        pending: deque = deque()
        for sel in blocks:
            if cancel is not None and cancel():
                raise TransferCancelled("transfer cancelled")
            pending.append(pool.submit(work, sel))
            if len(pending) >= workers:
                finish(*pending.popleft().result())
        while pending:
            finish(*pending.popleft().result())


def _pat_chunks(
    model, img, result, kind, *, src, tgt, classes, chunk, dev, progress, cancel, gen=None
):
    bands = img.shape[0]
    h, w = img.shape[-2:]
    stack = img.reshape(bands, -1, h, w) if img.ndim == 4 else img[:, None]
    n = stack.shape[1]
    m = model.spatial_multiple
    ph, pw = (-h) % m, (-w) % m
    step = int(chunk or DEFAULT_CHUNK_IMAGES)
    if not result.flags.c_contiguous:
        raise ValueError("`out` must be a C-contiguous array for PAT models")
    res = (
        result.reshape(-1, h, w)
        if kind == "likelihood"
        else result.reshape(result.shape[0], -1, h, w)
    )
    for i0 in range(0, n, step):
        if cancel is not None and cancel():
            raise TransferCancelled("transfer cancelled")
        block = np.moveaxis(
            np.asarray(stack[:, i0 : i0 + step], dtype=np.float32), 1, 0
        )  # (k, bands, h, w)
        bad = ~np.isfinite(block).all(1)  # (k, h, w)
        block = np.where(np.isfinite(block), block, 0.0).astype(np.float32)
        if ph or pw:
            block = np.pad(block, ((0, 0), (0, 0), (0, ph), (0, pw)), mode="edge")
        x = torch.from_numpy(block).to(dev)
        cls = None
        if classes is not None:
            c = np.asarray(classes).reshape(-1, h, w)[i0 : i0 + step]
            cls = torch.as_tensor(
                np.pad(c, ((0, 0), (0, ph), (0, pw)), mode="edge"), device=dev
            ).long()
        y = _apply(model, x, kind, src, tgt, cls, gen).float().cpu().numpy()
        if kind == "likelihood":  # one value per image: a constant map
            vals = np.broadcast_to(y[:, None, None], (len(y), h, w)).copy()
            vals[bad] = np.nan
            res[i0 : i0 + step] = vals
        else:
            y = y[:, :, :h, :w]
            y[np.broadcast_to(bad[:, None], y.shape)] = np.nan
            res[:, i0 : i0 + step] = np.moveaxis(y, 0, 1)
        if progress is not None:
            progress(min(i0 + step, n), n)


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
        (:meth:`DomainTransferModel.transfer`), so the result carries the target domain's
        variability; False (default) is the deterministic transfer
    seed : seed of that draw (None with ``sample``: a random one); the same seed and chunk size
        give the same realisation

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
) -> np.ndarray:
    """Latent codes ``(latent_dims, y, x)`` of an image under ``domain`` (latent_dims = bands).

    For PAT models the multi-scale latent is packed into the image's shape; only HSI latents are
    per-pixel codes.
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
) -> np.ndarray:
    """Map ``(y, x)`` of log p(x | domain) per dimension (nats): how typical each pixel is of ``domain``.

    HSI: per pixel. PAT: one value per image, broadcast over its pixels. Flow likelihoods are poor
    out-of-distribution scores (Nalisnick et al. 2019): compare maps against held-out data of the
    domain before reading them as "realism".
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
    )
