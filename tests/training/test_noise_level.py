"""The noise a domain lacks is measured from the data: smooth clean spectra vs noisy ones."""

import numpy as np
import pytest

from napari_cinn_training.noise_level import band_noise, camera_noise, missing_noise


def _smooth(n, rng):
    wl = np.linspace(0, 1, 100)
    a, b = rng.uniform(0.5, 1.5, (2, n, 1))
    return a * np.exp(-((wl - 0.4) ** 2) / 0.05) + b * wl


def test_band_noise_recovers_white_noise_under_smooth_spectra():
    rng = np.random.default_rng(0)
    clean = _smooth(20000, rng)
    noisy = clean + 0.01 * rng.standard_normal(clean.shape)
    assert np.median(band_noise(noisy)) == pytest.approx(0.01, rel=0.05)
    assert np.median(band_noise(clean)) < 1e-3


def test_missing_noise_tops_up_the_clean_domain_only():
    rng = np.random.default_rng(1)
    clean = _smooth(5000, rng)
    levels = {
        "sim": band_noise(clean),
        "real": band_noise(clean + 0.02 * rng.standard_normal(clean.shape)),
    }
    missing = missing_noise(levels)
    assert np.median(missing["sim"]) == pytest.approx(0.02, rel=0.1)
    assert np.all(missing["real"] == 0)


def test_band_noise_needs_spectra():
    with pytest.raises(ValueError, match="at least 3 bands"):
        band_noise(np.zeros((10, 2)))


def test_camera_noise_recovers_read_and_shot_noise():
    # a sensor's Poisson-Gaussian noise: variance = read² + shot · signal, per band
    rng = np.random.default_rng(2)
    clean = _smooth(40000, rng)
    read_std, shot = 0.004, 0.0005
    noisy = clean + np.sqrt(read_std**2 + shot * clean) * rng.standard_normal(clean.shape)
    read, slope = camera_noise(noisy)
    assert np.median(slope) == pytest.approx(shot, rel=0.15)
    assert np.median(read) == pytest.approx(read_std, rel=0.25)
    # a flat noise of the same size has no shot part; a clean simulation has neither
    _, flat_slope = camera_noise(clean + 0.02 * rng.standard_normal(clean.shape))
    assert np.median(flat_slope) < 0.1 * shot
    clean_read, clean_slope = camera_noise(clean)
    assert np.median(clean_read) < 1e-3 and np.median(clean_slope) < 1e-5
