"""Stochastic transfer draws the noise the source lacks: reproducible, varied, opt-in."""

import numpy as np
import pytest
import torch

from napari_cinn.core import load_model, save_model, transfer_image


@pytest.fixture
def noisy_model(hsi_model):
    with torch.no_grad():
        hsi_model.source_noise[0] = 0.01  # the sim domain lacks 1 % noise per band
    return hsi_model


def test_same_seed_same_realisation_other_seed_another(noisy_model, cube):
    a = transfer_image(noisy_model, cube, "sim", "real", device="cpu", sample=True, seed=3)
    b = transfer_image(noisy_model, cube, "sim", "real", device="cpu", sample=True, seed=3)
    c = transfer_image(noisy_model, cube, "sim", "real", device="cpu", sample=True, seed=4)
    det = transfer_image(noisy_model, cube, "sim", "real", device="cpu")
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).mean() > 1e-4
    # realisations scatter around the deterministic transfer, not somewhere else
    spread = np.abs(a - c).mean()
    assert np.abs(0.5 * (a + c) - det).mean() < spread


def test_deterministic_transfer_stays_the_default_and_round_trips(noisy_model, cube):
    there = transfer_image(noisy_model, cube, "sim", "real", device="cpu")
    back = transfer_image(noisy_model, there, "real", "sim", device="cpu")
    np.testing.assert_allclose(back, cube, atol=1e-3, rtol=0)


def test_a_model_without_noise_refuses_to_sample_with_a_sentence(hsi_model, cube):
    assert not hsi_model.can_sample("sim")
    with pytest.raises(ValueError, match="cannot sample.*deterministic"):
        transfer_image(hsi_model, cube, "sim", "real", device="cpu", sample=True)


def test_the_noise_travels_in_the_model_file(noisy_model, tmp_path):
    path = save_model(noisy_model, tmp_path / "m.safetensors")
    loaded = load_model(path)
    assert loaded.can_sample("sim") and not loaded.can_sample("real")
    torch.testing.assert_close(loaded.source_noise, noisy_model.source_noise)


def test_sample_noise_is_relative_to_each_pixels_norm(noisy_model):
    x = torch.ones(20000, 100)
    gen = torch.Generator().manual_seed(0)
    for scale in (1.0, 10.0):
        d = noisy_model.add_source_noise(scale * x, "sim", gen) - scale * x
        assert float(d.std()) == pytest.approx(0.01 * 10 * scale, rel=0.02)  # ‖1‖₂ = 10


def test_camera_noise_grows_with_the_signal_and_travels_in_the_file(hsi_model, tmp_path):
    with torch.no_grad():  # read std 0.01 and shot variance 0.001 per unit, in ref-norm units
        hsi_model.source_read[0], hsi_model.source_shot[0] = 0.01, 0.001
        hsi_model.ref_norm[0] = 2.0
    assert hsi_model.can_sample("sim") and not hsi_model.can_sample("real")
    loaded = load_model(save_model(hsi_model, tmp_path / "m.safetensors"))
    gen = torch.Generator().manual_seed(0)
    for level in (0.0, 1.0, 4.0):  # raw signal; r0 = 2: var = 0.01² · 2² + 0.001 · 2 · level
        x = torch.full((20000, 100), level)
        d = loaded.add_source_noise(x, "sim", gen) - x
        expected = (0.01**2 * 4 + 0.001 * 2 * level) ** 0.5
        assert float(d.std()) == pytest.approx(expected, rel=0.02)
