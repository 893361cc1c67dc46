"""Latent health of a cINN model file on evaluation data: does each domain fill N(0, I)?

Sim spectra are encoded as training saw them (with the model's dequantisation noise when it has
one: that is the distribution the flow models) and also clean; real spectra as they are. The
figures go into ``metrics.json`` (``latent_std_<domain>`` = median per-dimension std, ``latent_w2_…``)
and the per-dimension std strip into the report figure (:func:`latent_strip`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from napari_cinn.core.clouds import features, image_codes
from napari_cinn.core.latent_health import latent_health


def _encode(model, spectra: np.ndarray, domain: str, noisy: bool) -> np.ndarray:
    """Latent codes ``(n, bands)`` (NaN rows for unusable spectra), with the domain's noise."""
    return features(spectra, "latent", model=model, domain=domain, with_source_noise=noisy)


def _encode_images(model, images, domain: str, noisy: bool) -> np.ndarray:
    """Latent codes of whole images ``(bands, y, x)``, one row per pixel ``(pixels, channels)``
    (the multi-scale PAT latent packed into the image's shape, as ``cinn-train fit`` logs it)."""
    rows = []
    for i, image in enumerate(images):
        z = image_codes(model, image, domain, noise=noisy, seed=i)
        rows.append(z.reshape(z.shape[0], -1).T)
    return np.concatenate(rows)


def latent_health_of(model, sim, real) -> tuple[dict, dict]:
    """Scalars for the report and per-dimension stds ``{name: (dims,)}``.

    ``sim``, ``real``: raw spectra ``(n, bands)`` for HSI models; for PAT image models lists of
    whole images ``(bands, y, x)``, whose codes count one row per pixel and one dimension per
    latent channel.
    """
    encode = _encode if model.modality == "hsi" else _encode_images
    codes = {
        "sim": encode(model, sim, "sim", model.can_sample("sim")),
        "real": encode(model, real, "real", model.can_sample("real")),
    }
    if model.can_sample("sim"):
        codes["sim (clean)"] = encode(model, sim, "sim", False)
    scalars, per_dim = {}, {}
    for name, z in codes.items():
        h = latent_health(z)
        key = name.replace(" (clean)", "_clean")
        scalars[f"latent_std_{key}"] = h.median_std
        scalars[f"latent_w2_{key}"] = h.w2
        per_dim[name] = h.std
    return scalars, per_dim


def latent_strip(per_dim: dict[str, np.ndarray], path: Path, title: str) -> Path:
    """A small figure: per-dimension latent std of each domain, the healthy band shaded."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 2.6), layout="constrained")
    ax.axhspan(0.9, 1.1, color="0.9", label="healthy (0.9–1.1)")
    for name, std in per_dim.items():
        order = np.argsort(std)
        ax.plot(np.asarray(std)[order], lw=1.5, label=f"{name} (median {np.median(std):.2f})")
    ax.set_xlabel("latent dimension (sorted by std)")
    ax.set_ylabel("std on held-out data")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="lower right")
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
