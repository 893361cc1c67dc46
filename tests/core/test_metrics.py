"""Transfer-quality metrics behave as a reader of the Compare dock or evaluation report expects."""

import numpy as np
import pytest

from napari_cinn.core.metrics import c2st_auc, frechet_distance, mmd2, per_wavelength_difference


@pytest.fixture
def samples():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(400, 8))
    b = rng.normal(size=(400, 8))
    shifted = rng.normal(size=(400, 8)) + 1.5
    return a, b, shifted


def test_mmd_near_zero_for_one_distribution_and_large_for_shifted(samples):
    a, b, shifted = samples
    same = mmd2(a, b)
    far = mmd2(a, shifted)
    assert abs(same) < 0.01
    assert far > 0.2
    assert mmd2(a, shifted, bandwidth=3.0) > 0


def test_c2st_half_for_same_and_one_for_separable(samples):
    a, b, shifted = samples
    assert 0.4 < c2st_auc(a, b, classifier="logreg") < 0.6
    assert 0.4 < c2st_auc(a, b) < 0.62
    assert c2st_auc(a, shifted + 3) > 0.99


def test_frechet_zero_for_identical_and_grows_with_shift(samples):
    a, b, shifted = samples
    assert frechet_distance(a, a) == pytest.approx(0, abs=1e-6)
    assert frechet_distance(a, b) < frechet_distance(a, shifted)
    # mean shift of 1.5 in 8 dims: about 8 * 1.5**2 = 18 in the full space
    assert frechet_distance(shifted, a, n_components=8) == pytest.approx(18, rel=0.2)


def test_per_wavelength_difference_per_class():
    x = np.array([[1.0, 2.0], [1.0, 2.0], [5.0, 5.0]])
    ref = np.array([[0.0, 2.5], [7.0, 5.0]])
    classes, diff = per_wavelength_difference(x, ref, [1, 1, 2], [1, 2])
    assert classes.tolist() == [1, 2]
    np.testing.assert_allclose(diff, [[1.0, 0.5], [2.0, 0.0]])
    classes, diff = per_wavelength_difference(x, x)
    assert classes.tolist() == [0] and np.all(diff == 0)


def test_bad_input_is_explained():
    with pytest.raises(ValueError, match="bands"):
        mmd2(np.zeros((5, 3)), np.zeros((5, 4)))
    with pytest.raises(ValueError, match=r"\(n, bands\)"):
        c2st_auc(np.zeros(5), np.zeros((5, 4)))
    with pytest.raises(ValueError, match="finite"):
        frechet_distance(np.full((4, 3), np.nan), np.zeros((4, 3)))
    with pytest.raises(ValueError, match="share no class"):
        per_wavelength_difference(np.zeros((2, 3)), np.zeros((2, 3)), [1, 1], [2, 2])
