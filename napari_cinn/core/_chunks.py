"""The chunk loops of whole-image transfer: HSI pixel blocks, PAT image stacks.

``hsi_chunks`` / ``pat_chunks`` fill ``result`` from ``img`` chunk by chunk with one of the model's
operations (transfer, encode, likelihood), reporting progress and polling cancel between chunks.
The public entry points and their checks are in :mod:`napari_cinn.core.transfer`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

from .devices import torch_threads

#: default pixels per chunk for HSI models: a chunk's working set (~3 MB for the default model)
#: stays near one core's L2 cache, which measured fastest on this CPU (see bench_transfer.py)
DEFAULT_CHUNK_PIXELS = 2048
#: default images per chunk for PAT models
DEFAULT_CHUNK_IMAGES = 2


class TransferCancelled(Exception):
    """Raised when the cancel hook asked to stop; no partial result is returned."""


def _spatial_blocks(shape: tuple[int, ...], budget: int) -> Iterator[tuple]:
    """Index tuples over ``shape[1:]`` (spatial) selecting whole rows, about ``budget`` pixels each."""
    spatial = shape[1:]
    row = spatial[-1]
    rows_per = max(1, budget // max(row, 1))
    lead = spatial[:-2]
    for idx in np.ndindex(*lead) if lead else [()]:
        for y0 in range(0, spatial[-2], rows_per):
            yield (*idx, slice(y0, min(y0 + rows_per, spatial[-2])))


def _apply(model, x: torch.Tensor, kind: str, src, tgt, cls, gen=None, row0=0) -> torch.Tensor:
    if kind == "transfer":
        sample = gen is not None
        return model.transfer(x, src, tgt, classes=cls, sample=sample, generator=gen, row0=row0)
    if kind == "encode":
        return model.encode(x, src, classes=cls, row0=row0)[0]
    return model.log_likelihood(x, src, classes=cls, row0=row0)


def _chunk_workers(dev: torch.device) -> int:
    """Chunks run at once: on CPU one per torch thread (each single-threaded), else one."""
    return max(1, torch.get_num_threads()) if dev.type == "cpu" else 1


def hsi_chunks(
    model,
    img,
    result,
    kind,
    *,
    src,
    tgt,
    classes,
    chunk,
    dev,
    progress,
    cancel,
    gen=None,
    factor: np.ndarray | None = None,
):
    """Run the HSI model over chunks of whole rows; on CPU several chunks at once.

    On CPU each chunk runs single-threaded in its own thread, as many at once as torch has
    threads: the per-operation thread barriers of torch's intra-op parallelism cost more than the
    small element-wise operations of a coupling block gain from them, and on a busy machine
    (other processes on the cores) spinning OpenMP threads made a 2-thread run 5x slower than a
    1-thread run here. Results are written, and progress reported, in chunk order. A stochastic
    transfer (``gen``) runs its chunks one after the other, so that a seed gives one realisation;
    ``factor`` ``(bands,)``, its whole-image draw, multiplies every transferred spectrum.
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
        if factor is not None:
            values *= factor
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


def pat_chunks(
    model, img, result, kind, *, src, tgt, classes, chunk, dev, progress, cancel, gen=None, row0=0
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
        y = _apply(model, x, kind, src, tgt, cls, gen, row0).float().cpu().numpy()
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
