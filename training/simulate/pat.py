"""Synthetic photoacoustic (PAT) forearm cross-sections: 16 wavelengths 700–850 nm, two domains.

Geometry (per subject): coupling gel above a curved skin line, skin (epidermis with melanin +
dermis), subcutaneous fat, muscle, and 1–4 arteries (sO₂ 0.90–1.00) and 1–4 veins (sO₂ 0.55–0.80)
as discs in fat or muscle. Pixel size 0.2 mm. Initial pressure p₀ = μa · Φ (Grüneisen parameter 1,
arbitrary units), μa from the published tables in ``data/absorption.csv``.

**Simulated** domain: fluence decays with depth at one wavelength-independent rate (a common
simplification), no reconstruction artefacts. **Real-like** domain adds (see :class:`RealScanner`):
wavelength-dependent fluence ("spectral colouring") from the subject's own tissue optics and the
melanin of its skin, a wider range of skin pigmentation, a wavelength-dependent laser energy /
detector calibration error, limited-view blur and streak artefacts, pulse-energy jitter and noise.
Arrays: cubes ``(bands, y, x)``, labels ``(y, x)`` with 0 background, 1 artery, 2 vein.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from napari_cinn.core.spectra import PAT_WAVELENGTHS
from napari_cinn_training.simulate.chromophores import absorption, reduced_scattering
from napari_cinn_training.simulate.hsi import Subject, subject_rng

LABEL_NAMES: dict[int, str] = {0: "background", 1: "artery", 2: "vein"}
PIXEL_MM = 0.2


@dataclass(frozen=True)
class RealScanner:
    """Effects of the real-like PAT domain (fixed for the domain, jittered per subject).

    - ``melanin_range``: epidermal melanosome volume fraction (light to dark skin); the simulation
      uses ``SIM_MELANIN`` only.
    - ``epidermis_mm``: melanin-bearing layer the light crosses; its transmission colours the
      fluence everywhere below the skin.
    - ``muscle_blood`` / ``muscle_so2``: background optics that set the depth decay of the fluence,
      μ_eff(λ) = √(3 μa (μa + μs′)), different at every wavelength.
    - ``calib_tilt`` (± ``calib_jitter``): uncorrected wavelength dependence of laser pulse energy
      and detector response, a factor exp(tilt · t) with t = (λ − 775 nm)/75 nm.
    - ``energy_jitter``: shot-to-shot pulse-energy fluctuation per wavelength (relative sd).
    - ``blur_px``: limited-view point spread (axial, lateral) Gaussian sigmas in pixels.
    - ``streak``: amplitude of limited-view streaks (X-shaped arcs through strong absorbers).
    - ``noise``: electronic noise, relative to the image's 99th percentile.
    """

    melanin_range: tuple[float, float] = (0.01, 0.25)
    epidermis_mm: float = 0.1
    muscle_blood: tuple[float, float] = (0.02, 0.06)
    muscle_so2: tuple[float, float] = (0.55, 0.75)
    calib_tilt: float = -0.45
    calib_jitter: float = 0.05
    energy_jitter: float = 0.02
    blur_px: tuple[float, float] = (0.7, 1.6)
    streak: float = 0.12
    noise: float = 0.02


REAL = RealScanner()
SIM_MELANIN = 0.02
SIM_MU_EFF_PER_MM = 0.12  # wavelength-independent fluence decay of the simplified simulation


def _mua(
    wl: np.ndarray, blood: float, so2: float, water: float, fat: float, melanin: float = 0.0
) -> np.ndarray:
    """μa ``(bands,)`` in 1/cm of a tissue mixture."""
    e = absorption(wl, ("hbo2", "hb", "water", "fat", "melanin"))
    return blood * (so2 * e[0] + (1 - so2) * e[1]) + water * e[2] + fat * e[3] + melanin * e[4]


def _geometry(size: int, rng: np.random.Generator):
    """Skin line, layer masks and vessel discs for one forearm cross-section."""
    x = np.arange(size)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    top = rng.uniform(8, 18)
    curv = rng.uniform(0.5, 2.5) * 4 / size**2
    skin_line = top + curv * (x - rng.uniform(0.3, 0.7) * size) ** 2
    skin_line += ndimage.gaussian_filter1d(rng.standard_normal(size), size / 12, mode="wrap") * 1.5
    depth_px = yy - skin_line[None, :]
    skin_px = rng.uniform(1.0, 1.6) / PIXEL_MM
    fat_px = rng.uniform(1.0, 4.0) / PIXEL_MM
    layer = np.zeros((size, size), dtype=np.int8)  # 0 gel, 1 skin, 2 fat, 3 muscle
    layer[depth_px >= 0] = 1
    layer[depth_px >= skin_px] = 2
    layer[depth_px >= skin_px + fat_px] = 3
    labels = np.zeros((size, size), dtype=np.int32)
    so2 = np.zeros((size, size))
    n_art, n_vein = rng.integers(1, 5, size=2)
    kinds = [1] * int(n_art) + [2] * int(n_vein)
    placed: list[tuple[float, float, float]] = []
    for kind in rng.permutation(kinds):
        for _ in range(50):
            r = rng.uniform(0.6, 1.6) / PIXEL_MM
            cx = rng.uniform(r + 2, size - r - 2)
            d = rng.uniform(skin_px + r + 2, min(12 / PIXEL_MM, size - r - 2 - top))
            cy = skin_line[int(cx)] + d
            if cy + r > size - 2:
                continue
            if all((cx - px) ** 2 + (cy - py) ** 2 > (r + pr + 2) ** 2 for px, py, pr in placed):
                placed.append((cx, cy, r))
                disc = (xx - cx) ** 2 + (yy - cy) ** 2 <= r**2
                labels[disc] = kind
                so2[disc] = rng.uniform(0.90, 1.00) if kind == 1 else rng.uniform(0.55, 0.80)
                break
    return layer, labels, so2, np.maximum(depth_px, 0) * PIXEL_MM


def _streaks(img: np.ndarray, rng: np.random.Generator, amplitude: float) -> np.ndarray:
    """Limited-view streaks: oscillating line kernels at ±(20–40)° through every absorber."""
    length = 41
    t = np.arange(length) - length // 2
    out = np.zeros_like(img)
    for sign in (-1, 1):
        ang = np.deg2rad(sign * rng.uniform(20, 40))
        k = np.zeros((length, length))
        iy = np.clip(np.round(length // 2 + t * np.sin(ang)).astype(int), 0, length - 1)
        ix = np.clip(np.round(length // 2 + t * np.cos(ang)).astype(int), 0, length - 1)
        k[iy, ix] = np.cos(t * np.pi / 3) * np.exp(-np.abs(t) / 12) * (t != 0)
        out += ndimage.convolve(img, k[None], mode="constant") * amplitude / 4
    return out


def pat_subject(
    index: int,
    domain: str,
    seed: int = 0,
    size: int = 128,
    wavelengths=PAT_WAVELENGTHS,
    scanner: RealScanner = REAL,
) -> Subject:
    """Generate subject ``index`` of ``domain`` ("sim" | "real"): a ``(16, size, size)`` p₀ image.

    Deterministic in ``(seed, domain, index)``.
    """
    if domain not in ("sim", "real"):
        raise ValueError(f"domain must be 'sim' or 'real', got {domain!r}")
    rng = subject_rng(seed, domain, index, "pat")
    wl = np.asarray(wavelengths, dtype=np.float64)
    layer, labels, so2, depth_mm = _geometry(size, rng)
    real = domain == "real"
    melanin = rng.uniform(*scanner.melanin_range) if real else SIM_MELANIN * rng.uniform(0.8, 1.2)
    m_blood = rng.uniform(*scanner.muscle_blood) if real else 0.03
    m_so2 = rng.uniform(*scanner.muscle_so2) if real else 0.7
    tissue_mua = np.stack(
        [
            _mua(wl, 0.0, 0.0, 1.0, 0.0),  # coupling gel (water)
            _mua(wl, 0.02, 0.7, 0.6, 0.0, melanin * 0.15),  # skin: melanin in ~15 % of depth
            _mua(wl, 0.01, 0.7, 0.1, 0.9),  # subcutaneous fat
            _mua(wl, m_blood, m_so2, 0.75, 0.05),  # muscle
        ]
    )  # (4, bands)
    mua = np.moveaxis(tissue_mua[layer], -1, 0)  # (bands, y, x)
    e = absorption(wl, ("hbo2", "hb"))
    vessel = labels > 0
    blood = so2[vessel][:, None] * e[0] + (1 - so2[vessel][:, None]) * e[1]  # (n, bands)
    mua[:, vessel] = blood.T
    if real:
        musp = reduced_scattering(wl, 13.0, 1.3)
        mu_eff = np.sqrt(3 * tissue_mua[3] * (tissue_mua[3] + musp)) / 10  # 1/mm
        skin_t = np.exp(-melanin * absorption(wl, ("melanin",))[0] * scanner.epidermis_mm / 10)
        fluence = skin_t[:, None, None] * np.exp(-mu_eff[:, None, None] * depth_mm[None])
    else:
        fluence = np.exp(-SIM_MU_EFF_PER_MM * depth_mm)[None].repeat(wl.size, 0)
    p0 = (mua * fluence).astype(np.float32)
    meta = {
        "modality": "pat",
        "domain": domain,
        "subject": int(index),
        "seed": int(seed),
        "generator": "napari_cinn_training.simulate.pat",
        "pixel_mm": PIXEL_MM,
        "melanin_fraction": float(melanin),
    }
    if real:
        tilt = rng.normal(scanner.calib_tilt, scanner.calib_jitter)
        gain = np.exp(tilt * (wl - 775.0) / 75.0) * rng.normal(1, scanner.energy_jitter, wl.size)
        p0 = p0 * gain[:, None, None].astype(np.float32)
        p0 = ndimage.gaussian_filter(p0, sigma=(0, *scanner.blur_px))
        p0 = p0 + _streaks(p0, rng, scanner.streak)
        scale = np.percentile(p0, 99, axis=(1, 2), keepdims=True)
        p0 = p0 + rng.standard_normal(p0.shape).astype(np.float32) * scanner.noise * scale
        meta.update(calibration_tilt=float(tilt), muscle_blood=float(m_blood))
    return Subject(np.ascontiguousarray(p0, dtype=np.float32), labels, wl, dict(LABEL_NAMES), meta)
