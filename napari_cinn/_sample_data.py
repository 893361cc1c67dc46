"""Sample data (File ▸ Open Sample ▸ napari-cinn): HSI and PAT, simulated and real-like.

Reads the files written by ``cinn-train simulate`` into ``sample_data/`` (see its README). When
they are absent (e.g. a fresh checkout before the simulation ran), small stand-ins are generated
in memory: a few tissue-like regions with smooth spectra, and for the "real-like" domain a
spectral tilt, specular spots and noise. They are illustrations, not the benchmark.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from napari_cinn.core.spectra import HSI_WAVELENGTHS, PAT_WAVELENGTHS
from napari_cinn.io import SpectralImage, read_spectral
from napari_cinn.io._layers import layer_tuples

#: the repository's sample_data/ folder (present in a source checkout / editable install)
SAMPLE_DIR = Path(__file__).resolve().parent.parent / "sample_data"

FILES = {
    "hsi_sim": ("hsi_sim.hdr", "hsi_sim.npz"),
    "hsi_real": ("hsi_real.hdr", "hsi_real.npz"),
    "pat_sim": ("pat_sim.npz", "pat_sim.hdr"),
    "pat_real": ("pat_real.npz", "pat_real.hdr"),
}

HSI_NAMES = {0: "background", 1: "liver", 2: "stomach", 3: "fat"}
PAT_NAMES = {0: "background", 1: "artery", 2: "vein", 3: "skin"}


def sample_file(key: str) -> Path | None:
    """The shipped file for ``key`` if it exists, else None."""
    for name in FILES[key]:
        path = SAMPLE_DIR / name
        if path.is_file():
            return path
    return None


def load_sample(key: str) -> SpectralImage:
    """The sample image for ``key`` ("hsi_sim", "hsi_real", "pat_sim", "pat_real")."""
    if key not in FILES:
        raise KeyError(f"unknown sample {key!r}; choose one of {sorted(FILES)}")
    path = sample_file(key)
    if path is not None:
        image = read_spectral(path)
        image.metadata.setdefault("domain", key.split("_")[1])
        return image
    modality, domain = key.split("_")
    return (_generate_hsi if modality == "hsi" else _generate_pat)(domain)


def _layers(key: str) -> list[tuple[Any, dict, str]]:
    return layer_tuples(load_sample(key), key)


def hsi_sim() -> list[tuple[Any, dict, str]]:
    """HSI cube (100 bands 500–995 nm), simulated domain, with tissue labels."""
    return _layers("hsi_sim")


def hsi_real() -> list[tuple[Any, dict, str]]:
    """HSI cube, synthetic "real-like" domain, with tissue labels."""
    return _layers("hsi_real")


def pat_sim() -> list[tuple[Any, dict, str]]:
    """PAT forearm image (16 wavelengths 700–850 nm), simulated, with vessel labels."""
    return _layers("pat_sim")


def pat_real() -> list[tuple[Any, dict, str]]:
    """PAT forearm image, synthetic "real-like", with vessel labels."""
    return _layers("pat_real")


# ---- in-memory stand-ins ---------------------------------------------------------------------


def _gauss(wl: np.ndarray, mu: float, sigma: float) -> np.ndarray:
    return np.exp(-0.5 * ((wl - mu) / sigma) ** 2)


def _blobs(shape: tuple[int, int], centres, radii) -> np.ndarray:
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    labels = np.zeros(shape, np.int32)
    for value, ((cy, cx), r) in enumerate(zip(centres, radii, strict=True), start=1):
        labels[(yy - cy) ** 2 + (xx - cx) ** 2 <= r**2] = value
    return labels


def _generate_hsi(domain: str, size: int = 64) -> SpectralImage:
    rng = np.random.default_rng(1 if domain == "sim" else 2)
    wl = HSI_WAVELENGTHS
    labels = _blobs((size, size), [(20, 22), (42, 40), (18, 48)], [14, 16, 9])
    # reflectance-like spectra: haemoglobin dip near 560 nm, water dip near 970 nm, fat at 930 nm
    base = {
        0: 0.25 + 0.05 * (wl - 500) / 500,
        1: 0.15 + 0.35 / (1 + np.exp(-(wl - 600) / 15)) - 0.08 * _gauss(wl, 760, 15),
        2: 0.20 + 0.30 / (1 + np.exp(-(wl - 590) / 12)) - 0.05 * _gauss(wl, 970, 25),
        3: 0.45 + 0.10 * (wl - 500) / 500 - 0.10 * _gauss(wl, 930, 15),
    }
    spectra = np.stack([base[k] - 0.06 * _gauss(wl, 560, 20) * (k > 0) for k in range(4)])
    cube = spectra[labels].astype(np.float32)  # (y, x, bands)
    cube *= rng.normal(1.0, 0.05, (size, size, 1)).astype(np.float32)  # illumination
    if domain == "real":
        cube *= (1.0 + 0.3 * (wl - 750) / 500).astype(np.float32)  # camera response tilt
        spec = rng.random((size, size)) > 0.985
        cube[spec] += 0.3  # specular highlights
        cube += rng.normal(0, 0.01, cube.shape).astype(np.float32)  # sensor noise
    cube = np.clip(cube, 1e-4, None)
    return SpectralImage(
        np.ascontiguousarray(np.moveaxis(cube, -1, 0)), wl.copy(), labels, dict(HSI_NAMES),
        {"domain": domain, "source": f"generated stand-in for hsi_{domain}"},
    )


def _generate_pat(domain: str, size: int = 128) -> SpectralImage:
    rng = np.random.default_rng(3 if domain == "sim" else 4)
    wl = PAT_WAVELENGTHS
    yy = np.mgrid[:size, :size][0]
    labels = _blobs((size, size), [(60, 40), (70, 85)], [7, 9])
    labels[yy < 8] = 3  # skin at the top (the probe side)
    # oxy-haemoglobin absorbs more towards 850 nm, deoxy more towards 760 nm
    mua = {
        0: np.full(wl.shape, 0.05),
        1: 0.6 + 0.4 * (wl - 700) / 150,
        2: 0.9 - 0.3 * (wl - 700) / 150 + 0.3 * _gauss(wl, 760, 10),
        3: 0.3 + 0.2 * (850 - wl) / 150,
    }
    table = np.stack([mua[k] for k in range(4)])
    depth = np.exp(-yy / (60.0 if domain == "sim" else 40.0))[..., None]  # fluence decay
    img = table[labels] * depth
    if domain == "real":
        from scipy.ndimage import gaussian_filter

        img = gaussian_filter(img, sigma=(2.0, 0.5, 0))  # limited-view blur along depth
        img += rng.normal(0, 0.02, img.shape)
    return SpectralImage(
        np.ascontiguousarray(np.moveaxis(img, -1, 0)).astype(np.float32), wl.copy(), labels,
        dict(PAT_NAMES), {"domain": domain, "source": f"generated stand-in for pat_{domain}"},
    )
