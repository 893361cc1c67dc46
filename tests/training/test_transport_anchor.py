"""The OT-anchored transport term and the stabilised discriminator of the HSI sample config."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from cinn_train_helpers import tiny_config, write_config, write_hsi_folders

from napari_cinn_training.cli import main


def test_gaussian_ot_map_matches_pot():
    import ot

    from napari_cinn_training.linear_ot import gaussian_ot_map

    rng = np.random.default_rng(0)
    a = rng.normal(size=(2000, 5)) @ rng.normal(size=(5, 5))
    b = rng.normal(size=(2000, 5)) @ rng.normal(size=(5, 5)) + 2.0
    A, shift = gaussian_ot_map(a, b)
    ref = ot.da.LinearTransport(reg=1e-6).fit(Xs=a, Xt=b).transform(Xs=a)
    np.testing.assert_allclose(a @ A.T + shift, ref, atol=1e-3)


def test_ot_anchor_is_for_spectra_only():
    from napari_cinn_training.config import ConfigError, config_from_dict

    with pytest.raises(ConfigError, match="transport_anchor"):
        config_from_dict({"modality": "pat", "loss": {"transport_anchor": "ot-linear"}})
    with pytest.raises(ConfigError, match="transport_anchor"):
        config_from_dict({"loss": {"transport_anchor": "sinkhorn"}})


def test_spectral_norm_discriminator_is_bounded():
    from napari_cinn_training.nets import make_discriminator

    disc = make_discriminator("hsi", 10, 16, 2, spectral_norm=True)
    x = torch.randn(64, 10)
    for _ in range(3):  # power iterations settle in training mode
        disc(x)
    disc.eval()
    y, y2 = disc(x), disc(x + 0.01 * torch.randn_like(x))
    assert float((y - y2).norm() / (0.01 * 64**0.5 * 10**0.5)) < 5.0


def test_tiny_fit_with_ot_anchor_round_trips(tmp_path):
    from napari_cinn.core import load_model, transfer_image
    from napari_cinn.io import read_spectral

    sim, real = write_hsi_folders(tmp_path / "data")
    cfg = tiny_config(
        sim,
        real,
        tmp_path / "run",
        loss={"transport_weight": 5.0, "transport_anchor": "ot-linear"},
        disc={"spectral_norm": True, "instance_noise": 0.1},
    )
    path = write_config(tmp_path / "tiny.yaml", cfg)
    assert main(["fit", "--config", str(path)]) == 0
    from napari_cinn_training.checkpoints import read_checkpoint

    ckpt = read_checkpoint(tmp_path / "run" / "checkpoints" / "last.ckpt")
    A = ckpt["state_dict"]["ot_A"]
    assert A.shape == (2, 100, 100) and not torch.allclose(A[1], torch.eye(100))
    model_path = tmp_path / "m.safetensors"
    assert (
        main(
            [
                "export",
                str(tmp_path / "run" / "checkpoints" / "last.ckpt"),
                "--out",
                str(model_path),
            ]
        )
        == 0
    )
    model = load_model(model_path)
    cube = np.asarray(read_spectral(next(sim.glob("*.npz"))).data)
    back = transfer_image(
        model, transfer_image(model, cube, "sim", "real", device="cpu"), "real", "sim", device="cpu"
    )
    np.testing.assert_allclose(back, cube, atol=1e-3 * np.abs(cube).max())
