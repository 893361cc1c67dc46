"""How a method turns the harness's sampled sim spectra into transferred ones.

A fitted baseline is fitted (timed) and applied; a model file transfers per pixel (HSI) or whole
images once, cached (PAT). With ``samples`` K, stochastic methods give K realisations, each
seeded by :func:`realisation_seed` (and the image), which the transfer classifier trains on.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from napari_cinn_training.evaluate.data import EvaluationError, LabelledImage
from napari_cinn_training.evaluate.methods import Method
from napari_cinn_training.evaluate.sampling import Sample


def realisation_seed(k: int) -> int:
    """The seed of realisation ``k`` of a stochastic transfer (model files add the image index)."""
    return 7919 * (k + 1)


def transfer_draws(
    method: Method,
    sim: Sequence[LabelledImage],
    sample: Sample,
    fit_sim: np.ndarray,
    fit_real: np.ndarray,
    cache: dict,
    info: dict,
    samples: int = 0,
) -> list[np.ndarray]:
    """Transferred versions ``(n, bands)`` of the sampled sim spectra: ``samples`` realisations
    of a stochastic method, else the one deterministic transfer. What a fitted method reports
    (fit time, its ``transform.info``) goes into ``info``; ``cache`` keeps whole-image transfers.
    """
    if samples and method.sample_transform is not None:  # K realisations: augmentation
        return _checked(
            method, sample, [_draw(method, sim, sample, cache, k) for k in range(samples)]
        )
    if method.fit is not None:
        transform = _fit(method, fit_sim, fit_real, info)
        if samples and getattr(transform, "stochastic", False):  # a stochastic baseline
            draws = [transform.sample(sample.spectra, realisation_seed(k)) for k in range(samples)]
            return _checked(method, sample, draws)
        out = transform(sample.spectra)
    elif method.per_pixel:
        out = _per_pixel(method, sample, method.image_transform)
    else:
        out = _from_images(sample, cache, None, lambda i: method.image_transform(sim[i].data))
    return _checked(method, sample, [out])


def _checked(method: Method, sample: Sample, draws: list) -> list[np.ndarray]:
    """The draws as float32 arrays, each of the sampled spectra's shape, or a clear error."""
    draws = [np.asarray(d, dtype=np.float32) for d in draws]
    for k, out in enumerate(draws):
        if out.shape != sample.spectra.shape:
            which = f" (realisation {k})" if len(draws) > 1 else ""
            raise EvaluationError(
                f"method {method.name} returned shape {out.shape}{which}, "
                f"expected {sample.spectra.shape}"
            )
    return draws


def _fit(method: Method, fit_sim: np.ndarray, fit_real: np.ndarray, info: dict):
    """``method.fit`` on the unlabelled spectra, its time and its ``transform.info`` in ``info``."""
    t0 = time.perf_counter()
    transform = method.fit(fit_sim, fit_real)
    info["fit_seconds"] = time.perf_counter() - t0
    info.update(getattr(transform, "info", {}))
    return transform


def _class_map(method: Method, sample: Sample) -> dict:
    """``classes=`` for class-conditional models (cINN_DY): sim pixels transfer with their labels."""
    if method.model is None or not getattr(method.model, "n_classes", 0):
        return {}
    return {"classes": np.clip(sample.labels, 0, method.model.n_classes - 1)[:, None]}


def _draw(method: Method, sim, sample: Sample, cache: dict, k: int) -> np.ndarray:
    """Realisation ``k`` of a stochastic model file (seeded by ``k`` and the image)."""
    seed = realisation_seed(k)
    if method.per_pixel and method.per_image_draws:
        return _per_image_pixels(method, sample, seed)
    if method.per_pixel:
        return _per_pixel(method, sample, method.sample_transform, seed)
    return _from_images(
        sample, cache, k, lambda i: method.sample_transform(sim[i].data, seed + int(i))
    )


def _per_pixel(method: Method, sample: Sample, transfer, *seed: int) -> np.ndarray:
    """The sampled spectra ``(n, bands)`` through a per-pixel model as one ``(bands, n, 1)`` cube."""
    cube, cls = sample.spectra.T[:, :, None], _class_map(method, sample)
    return np.asarray(transfer(cube, *seed, **cls), dtype=np.float32)[:, :, 0].T


def _per_image_pixels(method: Method, sample: Sample, seed: int) -> np.ndarray:
    """:func:`_per_pixel` image by image, seeded ``seed + image``: one whole-image draw per image
    and realisation, as when the images are transferred whole."""
    out = np.empty_like(sample.spectra, dtype=np.float32)
    for i in np.unique(sample.image):
        rows = sample.image == i
        part = Sample(
            sample.spectra[rows], sample.labels[rows], sample.image[rows], sample.pixel[rows]
        )
        out[rows] = _per_pixel(method, part, method.sample_transform, seed + int(i))
    return out


def _from_images(sample: Sample, cache: dict, k: int | None, transfer_image) -> np.ndarray:
    """Image-level models: transfer each whole sim image ``i`` once (``cache[i, k]``; ``k`` the
    realisation, None for the deterministic transfer), then pick the sampled pixels."""
    out = np.empty_like(sample.spectra, dtype=np.float32)
    for i in np.unique(sample.image):
        if (i, k) not in cache:
            cache[i, k] = np.asarray(transfer_image(i), dtype=np.float32)
        rows = sample.image == i
        out[rows] = cache[i, k].reshape(cache[i, k].shape[0], -1)[:, sample.pixel[rows]].T
    return out
