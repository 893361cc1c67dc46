"""Label-free pieces of cINN training: the checkpoint figure and the real domain's pseudo-labels."""

import numpy as np
import pytest
import torch

from napari_cinn_training.label_free import mmd2_unbiased
from napari_cinn_training.pseudo_labels import fit_pseudo_labeller


def test_mmd_is_near_zero_for_one_distribution_and_grows_with_a_shift():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(1000, 5, generator=g), torch.randn(1000, 5, generator=g)
    same = float(mmd2_unbiased(a, b))
    assert abs(same) < 0.01
    assert float(mmd2_unbiased(a, b + 0.5)) > 0.05 > same
    assert float(mmd2_unbiased(a, b + 2.0)) > float(mmd2_unbiased(a, b + 0.5))


def test_pseudo_labels_follow_sim_classes_through_a_domain_shift():
    """Two sim classes; 'real' = the same classes with a per-band gain: labels come from sim only."""
    rng = np.random.default_rng(0)
    wl = np.linspace(0, 1, 20)
    shapes = np.stack([1 + wl, 2 - wl])
    y = rng.integers(0, 2, 4000)
    sim = shapes[y] + 0.05 * rng.standard_normal((4000, 20))
    y_real = rng.integers(0, 2, 4000)
    real = (shapes[y_real] + 0.05 * rng.standard_normal((4000, 20))) * (1 + 0.3 * wl)
    labeller = fit_pseudo_labeller(sim, y, real, n_classes=2, steps=300)
    probs = labeller(torch.as_tensor(real, dtype=torch.float32)).numpy()
    assert probs.shape == (4000, 2)
    np.testing.assert_allclose(probs.sum(1), 1, atol=1e-5)
    assert (probs.argmax(1) == y_real).mean() > 0.95  # scored here with labels the fit never saw


def test_pseudo_labels_need_labelled_sim():
    from napari_cinn_training.pseudo_labels import labelled_sim_spectra

    class S:
        spectra, labels = np.zeros((3, 4)), None

    with pytest.raises(ValueError, match="labelled sim"):
        labelled_sim_spectra([S()])
