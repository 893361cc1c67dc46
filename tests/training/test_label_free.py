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


def test_noisy_pseudo_labels_are_as_sure_as_they_are_right_on_noisy_real_spectra():
    """`real_classes: pseudo-noisy`: trained on noise-free sim only, the labeller is sure of labels
    that are often wrong on noisy real spectra; with the noise sim lacks it is calibrated."""
    rng = np.random.default_rng(0)
    wl = np.linspace(0, 1, 20)
    base = 1 + 0.5 * np.sin(3 * wl)
    shapes = np.stack([base, base * (1 + 0.06 * wl)])  # two close tissue classes
    y = rng.integers(0, 2, 4000)
    sim = shapes[y] * rng.uniform(0.8, 1.2, (4000, 1))
    y_real = rng.integers(0, 2, 4000)
    real = shapes[y_real] * (1 + 0.3 * wl) * rng.uniform(0.8, 1.2, (4000, 1))
    real += 0.05 * real.mean() * rng.standard_normal(real.shape)  # the camera noise sim lacks
    gaps, accs = [], []
    for noisy in (False, True):
        labeller = fit_pseudo_labeller(sim, y, real, n_classes=2, steps=300, noisy=noisy)
        probs = labeller(torch.as_tensor(real, dtype=torch.float32)).numpy()
        accs.append((probs.argmax(1) == y_real).mean())
        gaps.append(probs.max(1).mean() - accs[-1])  # overconfidence
    assert gaps[0] > 0.15 and abs(gaps[1]) < 0.5 * gaps[0]
    assert accs[1] >= accs[0] - 0.01


def test_teacher_pseudo_labels_learn_from_a_model_files_transfers(model_file):
    """`real_classes: pseudo-teacher`: the labeller's training spectra are the teacher's stochastic
    sim→real transfers (three realisations, unit-norm) with the sim labels they came from."""
    from napari_cinn_training.pseudo_labels import teacher_transfers

    rng = np.random.default_rng(0)
    sim = rng.uniform(0.2, 1.0, (64, 100))
    y = np.arange(64) % 4
    moved, labels = teacher_transfers(str(model_file), sim, y, seed=1)
    assert moved.shape == (192, 100) and np.array_equal(labels, np.tile(y, 3))
    np.testing.assert_allclose(np.linalg.norm(moved, axis=1), 1, rtol=1e-5)
    again, _ = teacher_transfers(str(model_file), sim, y, seed=1)
    np.testing.assert_array_equal(moved, again)  # seeded
    assert not np.allclose(moved[:64], moved[64:128])  # realisations differ


def test_pseudo_teacher_needs_a_teacher_file():
    from napari_cinn_training.config import Config, ConfigError

    cfg = Config()
    cfg.loss.real_classes = "pseudo-teacher"
    with pytest.raises(ConfigError, match="loss.teacher"):
        cfg.validate()
