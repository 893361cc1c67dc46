"""A user's spectra survive normalisation, resampling and rendering with their meaning intact."""

import numpy as np
import pytest

from napari_cinn.core import spectra


def test_l2_normalisation_masks_zero_and_nan_spectra_and_restores_norms():
    x = np.array([[3.0, 4.0], [0.0, 0.0], [np.nan, 1.0], [1.0, np.inf]], dtype=np.float32)
    out, norms, valid = spectra.normalize_spectra(x, "l2")
    assert valid.tolist() == [True, False, False, False]
    np.testing.assert_allclose(out[0], [0.6, 0.8], rtol=1e-6)
    assert np.isnan(out[1:]).all() and np.isnan(norms[1:]).all()
    np.testing.assert_allclose(out[0] * norms[0], x[0], rtol=1e-6)


def test_l1_normalisation_sums_to_one():
    x = np.random.default_rng(0).uniform(0.1, 1, (50, 100))
    out, norms, valid = spectra.normalize_spectra(x, "l1")
    assert valid.all()
    np.testing.assert_allclose(np.abs(out).sum(1), 1, rtol=1e-5)


def test_resample_is_exact_on_linear_spectra_and_refuses_extrapolation():
    src = np.arange(500.0, 1000.0, 5.0)
    cube = np.broadcast_to((2 * src + 1)[:, None, None], (100, 2, 3)).astype(np.float32)
    dst = np.arange(700.0, 851.0, 10.0)
    out = spectra.resample(cube, src, dst)
    assert out.shape == (16, 2, 3)
    np.testing.assert_allclose(out[:, 0, 0], 2 * dst + 1, rtol=1e-5)
    with pytest.raises(ValueError, match="outside the measured range"):
        spectra.resample(cube, src, np.array([400.0, 600.0]))


def test_wavelength_checks_name_the_problem():
    with pytest.raises(ValueError, match="strictly increasing"):
        spectra.check_wavelengths([600, 500])
    with pytest.raises(ValueError, match="3 wavelengths given for an image with 4 bands"):
        spectra.check_wavelengths([1, 2, 3], 4)
    assert spectra.describe_grid(spectra.HSI_WAVELENGTHS) == "100 bands 500–995 nm"
    assert spectra.describe_grid(spectra.PAT_WAVELENGTHS) == "16 bands 700–850 nm"


def test_rgb_rendering_of_a_red_surface_is_red():
    wl = spectra.HSI_WAVELENGTHS
    red = (wl > 600).astype(np.float32)  # reflects only long wavelengths
    cube = np.broadcast_to(red[:, None, None], (100, 4, 4))
    rgb = spectra.render_rgb(cube, wl)
    assert rgb.shape == (4, 4, 3)
    r, g, b = rgb[0, 0]
    assert r > 0.5 and r > 2 * g and r > 2 * b
