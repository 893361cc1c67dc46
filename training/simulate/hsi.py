"""Synthetic hyperspectral tissue images: ten organ-like classes, diffuse reflectance, two domains.

Physics (both domains): absorption μa(λ) = B·[S·μa_HbO2 + (1−S)·μa_Hb] + W·μa_water + F·μa_fat from
the published tables in ``data/absorption.csv``; reduced scattering μs′ = a·(λ/500 nm)^(−b); total
diffuse reflectance of a semi-infinite turbid medium from diffusion theory (Farrell, Patterson &
Wilson 1992, Med. Phys. 19: 879, with the refractive-index mismatch term of Groenhuis et al. 1983).

The **simulated** domain stops there: an ideal reflectance on the camera's 100 band centres.
The **real-like** domain adds what such simulations usually miss (see :class:`RealCamera`):
methaemoglobin, a lower scattering power, broad camera filters, a white-balance error, specular
highlights, smooth illumination fall-off and shot + read noise. Arrays: spectra ``(n, bands)``,
cubes ``(bands, y, x)``, label masks ``(y, x)``. NumPy only, vectorised, float32.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from napari_cinn.core.spectra import HSI_WAVELENGTHS
from napari_cinn.layers import format_domain
from napari_cinn_training.simulate.chromophores import absorption

#: Names of the labels; 0 is unlabelled (thin gaps between annotated organs).
LABEL_NAMES: dict[int, str] = {
    0: "unlabelled",
    1: "liver",
    2: "spleen",
    3: "kidney",
    4: "stomach",
    5: "small_bowel",
    6: "colon",
    7: "gallbladder",
    8: "pancreas",
    9: "bladder",
    10: "omentum",
}

# Per class: mean and standard deviation of blood volume fraction B, oxygen saturation S, water
# volume fraction W, fat volume fraction F, reduced scattering a (1/cm at 500 nm) and power b.
# Ranges follow Jacques 2013 (Table 2: soft tissue a' ≈ 10–45 /cm, b ≈ 0.5–2.5) and typical organ
# perfusion; they are organ-*like*, chosen so that the classes overlap but can be told apart.
_TISSUE_TABLE = {
    #              B              S             W             F             a            b
    "liver": ((0.090, 0.020), (0.55, 0.06), (0.72, 0.04), (0.04, 0.02), (20.0, 2.5), (1.00, 0.10)),
    "spleen": ((0.120, 0.025), (0.68, 0.06), (0.78, 0.04), (0.02, 0.01), (16.0, 2.0), (0.80, 0.10)),
    "kidney": ((0.060, 0.012), (0.78, 0.05), (0.80, 0.04), (0.03, 0.02), (24.0, 3.0), (1.30, 0.12)),
    "stomach": (
        (0.025, 0.006),
        (0.66, 0.06),
        (0.70, 0.04),
        (0.10, 0.03),
        (32.0, 3.5),
        (1.60, 0.12),
    ),
    "small_bowel": (
        (0.040, 0.008),
        (0.86, 0.04),
        (0.78, 0.04),
        (0.05, 0.02),
        (26.0, 3.0),
        (1.20, 0.12),
    ),
    "colon": ((0.018, 0.005), (0.55, 0.07), (0.72, 0.04), (0.14, 0.04), (28.0, 3.0), (1.80, 0.12)),
    "gallbladder": (
        (0.008, 0.003),
        (0.72, 0.07),
        (0.92, 0.03),
        (0.02, 0.01),
        (11.0, 1.5),
        (0.70, 0.10),
    ),
    "pancreas": (
        (0.015, 0.004),
        (0.80, 0.05),
        (0.62, 0.05),
        (0.28, 0.05),
        (38.0, 4.0),
        (1.20, 0.12),
    ),
    "bladder": (
        (0.010, 0.003),
        (0.90, 0.04),
        (0.86, 0.04),
        (0.04, 0.02),
        (44.0, 4.5),
        (2.10, 0.15),
    ),
    "omentum": (
        (0.006, 0.002),
        (0.85, 0.05),
        (0.15, 0.05),
        (0.80, 0.06),
        (24.0, 3.0),
        (0.60, 0.08),
    ),
}
TISSUES: tuple[str, ...] = tuple(_TISSUE_TABLE)
#: ``(classes, 6, 2)``: mean/sd of (B, S, W, F, a, b) for class labels 1..10 (row 0 = label 1).
TISSUE_PARAMS = np.array([_TISSUE_TABLE[t] for t in TISSUES], dtype=np.float64)
PARAM_NAMES = ("blood", "so2", "water", "fat", "scatter_a", "scatter_b")
_LOWER = np.array([0.001, 0.0, 0.0, 0.0, 3.0, 0.2])
_UPPER = np.array([0.5, 1.0, 1.0, 1.0, 80.0, 3.5])

_N_REL = 1.4  # tissue refractive index relative to air
_R_ID = -1.440 / _N_REL**2 + 0.710 / _N_REL + 0.668 + 0.0636 * _N_REL
_A_MISMATCH = (1 + _R_ID) / (1 - _R_ID)


@dataclass(frozen=True)
class RealCamera:
    """Effects the real-like domain adds; fixed for the domain, jittered per subject.

    Each is physically motivated:

    - ``methb_range``: methaemoglobin fraction of haemoglobin (oxidised blood after exposure; a
      chromophore the simulation does not model), per subject.
    - ``scatter_power_factor``: real tissue's scattering power b differs from the literature values
      the simulation used (μs′ less steep with wavelength).
    - ``fwhm_nm``: broad camera filter responses (Gaussian, full width at half maximum) instead of
      ideal narrow bands.
    - ``wb_tilt`` / ``wb_curve`` (± ``wb_jitter`` per subject): a white-balance error, the illuminant
      during the measurement differs smoothly from the white reference's, as a factor
      exp(c1·t + c2·t²) with t = (λ − 750 nm)/250 nm.
    - ``specular_peak``: specular highlights, an additive, spectrally flat (illuminant-coloured)
      reflection on a few wet spots per image.
    - ``falloff``: smooth illumination fall-off towards the image corners (the white reference is
      flat), up to this fraction, plus a per-subject overall brightness.
    - ``full_well`` / ``read_noise``: shot noise (electrons collected at reflectance 1) and read
      noise (electrons), both Gaussian.
    """

    methb_range: tuple[float, float] = (0.06, 0.16)
    scatter_power_factor: float = 0.6
    fwhm_nm: float = 30.0
    wb_tilt: float = -0.18
    wb_curve: float = 0.12
    wb_jitter: float = 0.03
    specular_peak: tuple[float, float] = (0.05, 0.25)
    falloff: float = 0.35
    full_well: float = 2000.0
    read_noise: float = 6.0


REAL = RealCamera()


def _check_domain(domain: str) -> None:
    if domain not in ("sim", "real"):
        raise ValueError(f"domain must be 'sim' or 'real', got {domain!r}")


def filter_matrix(wavelengths, fwhm_nm: float) -> np.ndarray:
    """``(bands, bands)`` row-normalised Gaussian filter responses centred on each band."""
    wl = np.asarray(wavelengths, dtype=np.float64)
    sigma = fwhm_nm / (2 * np.sqrt(2 * np.log(2)))
    m = np.exp(-0.5 * ((wl[:, None] - wl[None, :]) / sigma) ** 2)
    return (m / m.sum(axis=1, keepdims=True)).astype(np.float32)


def white_balance(wavelengths, tilt: float, curve: float) -> np.ndarray:
    """Smooth multiplicative white-balance error ``(bands,)``: exp(tilt·t + curve·t²)."""
    t = (np.asarray(wavelengths, dtype=np.float64) - 750.0) / 250.0
    return np.exp(tilt * t + curve * t**2).astype(np.float32)


def sample_parameters(
    labels: np.ndarray, rng: np.random.Generator, z: np.ndarray | None = None
) -> np.ndarray:
    """Draw tissue parameters ``(n, 6)`` (``PARAM_NAMES``) for class labels ``(n,)`` in 1..10.

    ``z`` ``(n, 6)`` are optional standard-normal deviates (spatially correlated ones for images);
    fresh independent ones are drawn when omitted. Values are clipped to physical ranges.
    """
    labels = np.asarray(labels)
    if labels.size and (labels.min() < 1 or labels.max() > len(TISSUES)):
        raise ValueError(f"tissue labels must lie in 1..{len(TISSUES)}")
    if z is None:
        z = rng.standard_normal((labels.size, 6))
    mean = TISSUE_PARAMS[labels - 1, :, 0]
    sd = TISSUE_PARAMS[labels - 1, :, 1]
    return np.clip(mean + sd * z, _LOWER, _UPPER)


def reflectance(
    params: np.ndarray,
    wavelengths=HSI_WAVELENGTHS,
    methb: np.ndarray | float = 0.0,
    scatter_power_factor: float = 1.0,
) -> np.ndarray:
    """Diffuse reflectance ``(n, bands)`` float32 in [0, 1] of tissues with ``params`` ``(n, 6)``.

    ``methb`` (scalar or ``(n,)``) is the methaemoglobin fraction of the haemoglobin,
    ``scatter_power_factor`` scales b. Farrell's semi-infinite diffusion model:
    R = a′/2 · (1 + exp(−4/3·A·√(3(1−a′)))) · exp(−√(3(1−a′))), a′ = μs′/(μa + μs′).
    """
    p = np.asarray(params, dtype=np.float32)
    eps = absorption(wavelengths, ("hbo2", "hb", "water", "fat", "methb")).astype(np.float32)
    blood, so2, water, fat, sa, sb = p.T
    m = np.broadcast_to(np.asarray(methb, dtype=np.float32), blood.shape)
    coef = np.stack([blood * so2 * (1 - m), blood * (1 - so2) * (1 - m), water, fat, blood * m], 1)
    mua = coef @ eps
    log_wl = np.log(np.asarray(wavelengths, dtype=np.float32) / 500.0)
    musp = sa[:, None] * np.exp(-(sb * scatter_power_factor)[:, None] * log_wl[None, :])
    ap = musp / (mua + musp)
    s = np.sqrt(3.0 * (1.0 - ap))
    r = 0.5 * ap * (1.0 + np.exp(np.float32(-4.0 / 3.0 * _A_MISMATCH) * s)) * np.exp(-s)
    return r.astype(np.float32, copy=False)


def camera(
    r: np.ndarray,
    wavelengths,
    rng: np.random.Generator,
    *,
    wb: np.ndarray,
    specular: np.ndarray | float = 0.0,
    illumination: np.ndarray | float = 1.0,
    cam: RealCamera = REAL,
) -> np.ndarray:
    """What the real-like camera records ``(n, bands)`` for tissue reflectance ``r`` ``(n, bands)``.

    ``wb`` ``(bands,)`` is the white-balance error, ``specular`` ``(n,)`` an additive flat
    reflectance, ``illumination`` ``(n,)`` the relative irradiance (fall-off). Noise is drawn from
    ``rng``. The result is a reflectance relative to the white reference (may be slightly negative
    in dark bands because of read noise, as in real cameras).
    """
    spec = np.asarray(specular, dtype=np.float32)
    if spec.ndim:
        spec = spec[:, None]
    illum = np.asarray(illumination, dtype=np.float32)
    if illum.ndim:
        illum = illum[:, None]
    radiance = (r + spec) * wb[None, :]
    measured = radiance @ filter_matrix(wavelengths, cam.fwhm_nm).T
    signal = measured * illum
    electrons_sd = np.sqrt(np.maximum(signal, 0) * cam.full_well + cam.read_noise**2)
    noise = rng.standard_normal(signal.shape, dtype=np.float32) * (electrons_sd / cam.full_well)
    return (signal + noise).astype(np.float32, copy=False)


def simulate_spectra(
    n: int,
    domain: str,
    rng: np.random.Generator,
    wavelengths=HSI_WAVELENGTHS,
    chunk: int = 65536,
    cam: RealCamera = REAL,
) -> tuple[np.ndarray, np.ndarray]:
    """A bag of ``n`` labelled spectra ``((n, bands) float32, (n,) int labels 1..10)``.

    No image structure: every spectrum gets its own subject-like jitter (white balance,
    methaemoglobin, brightness). Used by the throughput benchmark and quick experiments.
    """
    _check_domain(domain)
    wl = np.asarray(wavelengths, dtype=np.float64)
    labels = rng.integers(1, len(TISSUES) + 1, size=n)
    out = np.empty((n, wl.size), dtype=np.float32)
    for start in range(0, n, chunk):
        lab = labels[start : start + chunk]
        params = sample_parameters(lab, rng)
        if domain == "sim":
            out[start : start + lab.size] = reflectance(params, wl)
            continue
        methb = rng.uniform(*cam.methb_range, size=lab.size)
        r = reflectance(params, wl, methb, cam.scatter_power_factor)
        tilt, curve = rng.normal([cam.wb_tilt, cam.wb_curve], cam.wb_jitter)
        spec = np.where(rng.random(lab.size) < 0.03, rng.uniform(*cam.specular_peak, lab.size), 0)
        illum = 1.0 - cam.falloff * rng.random(lab.size)
        out[start : start + lab.size] = camera(
            r,
            wl,
            rng,
            wb=white_balance(wl, tilt, curve),
            specular=spec,
            illumination=illum,
            cam=cam,
        )
    return out, labels


@dataclass
class Subject:
    """One generated image: ``cube`` ``(bands, y, x)`` float32, ``labels`` ``(y, x)`` int32."""

    cube: np.ndarray
    labels: np.ndarray
    wavelengths: np.ndarray
    label_names: dict[int, str]
    metadata: dict


def subject_rng(
    seed: int, domain: str, index: int, modality: str, stream: int | None = None
) -> np.random.Generator:
    """Independent, reproducible random stream for one subject of one domain.

    ``stream`` keys a further independent stream of the same subject (e.g. its camera's draws
    when it is rendered through another domain's camera); None is the subject's own.
    """
    code = {"sim": 0, "real": 1}[domain] + 2 * {"hsi": 0, "pat": 1}[modality]
    key = [int(seed), code, int(index)] + ([] if stream is None else [int(stream)])
    return np.random.default_rng(key)


def hsi_subject(
    index: int,
    domain: str,
    seed: int = 0,
    size: int = 64,
    wavelengths=HSI_WAVELENGTHS,
    cam: RealCamera = REAL,
    camera_domain: str | None = None,
    camera_seed: int = 0,
) -> Subject:
    """Generate subject ``index`` of ``domain`` ("sim" | "real"): a ``(100, size, size)`` cube.

    Per subject: organ layout, overall perfusion, oxygenation and scattering offsets; per organ
    region and per pixel: correlated draws around the class means (:data:`TISSUE_PARAMS`).
    Deterministic in ``(seed, domain, index)``. ``camera_domain`` ("sim" | "real", default
    ``domain``) renders this tissue through the other domain's camera: ``("sim",
    camera_domain="real")`` is the ideal sim→real transfer of a labelled simulated subject, a
    ceiling for any method. Its camera is then drawn from a stream of its own (``camera_seed``).
    """
    from napari_cinn_training.simulate.fields import blobs, organ_layout, smooth_field

    _check_domain(domain)
    camera_domain = domain if camera_domain is None else camera_domain
    _check_domain(camera_domain)
    rng = subject_rng(seed, domain, index, "hsi")
    wl = np.asarray(wavelengths, dtype=np.float64)
    tissue, labels = organ_layout(size, len(TISSUES), rng)
    # correlated deviates: subject (shared), region, smooth field and pixel parts
    n_pix = size * size
    subj = rng.standard_normal(6) * 0.25
    region = rng.standard_normal((len(TISSUES) + 1, 6)) * 0.35
    smooth = smooth_field((size, size), size / 10, rng, 6).reshape(6, -1).T * 0.35
    pixel = rng.standard_normal((n_pix, 6)) * 0.4
    t = tissue.ravel()
    z = subj + region[t] + smooth + pixel
    params = sample_parameters(t, rng, z)
    meta = {
        "modality": "hsi",
        "domain": domain,
        "subject": int(index),
        "seed": int(seed),
        "generator": "napari_cinn_training.simulate.hsi",
    }
    if camera_domain != domain:
        rng = subject_rng(seed, domain, index, "hsi", stream=1_000 + int(camera_seed))
        # tagged as a transfer: the tissue is one domain's, the camera another's
        meta.update(domain=format_domain(domain, camera_domain), camera_seed=int(camera_seed))
    if camera_domain == "sim":
        spectra = reflectance(params, wl)
    else:
        methb = rng.uniform(*cam.methb_range)
        r = reflectance(params, wl, methb, cam.scatter_power_factor)
        tilt, curve = rng.normal([cam.wb_tilt, cam.wb_curve], cam.wb_jitter)
        spec = blobs((size, size), int(rng.integers(2, 6)), (size / 64, size / 22), rng)
        spec *= rng.uniform(*cam.specular_peak)
        yy, xx = (np.mgrid[0:size, 0:size] - (size - 1) / 2) / (size / 2)
        cy, cx = rng.uniform(-0.3, 0.3, 2)
        illum = rng.uniform(0.85, 1.1) * (1 - cam.falloff * ((yy - cy) ** 2 + (xx - cx) ** 2) / 2)
        spectra = camera(
            r,
            wl,
            rng,
            wb=white_balance(wl, tilt, curve),
            specular=spec.ravel(),
            illumination=illum.ravel(),
            cam=cam,
        )
        meta.update(methb_fraction=float(methb), white_balance=[float(tilt), float(curve)])
    cube = np.ascontiguousarray(spectra.T.reshape(wl.size, size, size))
    return Subject(cube, labels.astype(np.int32), wl, dict(LABEL_NAMES), meta)
