"""PAT's pixel discriminators (``disc.pixel_weight``): they judge single bright pixels' spectral
shape, what a downstream pixel classifier reads, and they train beside the patch discriminators."""

from __future__ import annotations

import csv
import math

import pytest
import torch

from napari_cinn_training.checkpoints import read_checkpoint
from napari_cinn_training.cli import main
from napari_cinn_training.config import ConfigError, config_from_dict
from napari_cinn_training.nets import pixel_spectra


def test_pixel_spectra_are_unit_norm_and_mostly_the_bright_pixels():
    x = torch.full((2, 4, 8, 8), 1e-3)
    x[1, :, 3, 5] = torch.tensor([1.0, 2.0, 3.0, 4.0])  # one bright "vessel" pixel
    x.requires_grad_(True)
    u = pixel_spectra(x, 500, torch.Generator().manual_seed(0))
    assert u.shape == (500, 4)
    torch.testing.assert_close(u.norm(dim=1), torch.ones(500))
    bright = torch.tensor([1.0, 2.0, 3.0, 4.0]) / math.sqrt(30.0)
    share = (u - bright).abs().amax(1).lt(1e-5).float().mean()
    assert share > 0.95  # 127 dark pixels hold < 0.5 % of the power
    u.sum().backward()  # the draw is discrete, the spectra stay differentiable
    assert x.grad is not None and x.grad[1, :, 3, 5].abs().sum() > 0


def test_pixel_weight_is_refused_for_spectra_models():
    with pytest.raises(ConfigError, match="disc.pixel_weight.*modality 'pat'"):
        config_from_dict({"modality": "hsi", "disc": {"pixel_weight": 1.0}}).validate()
    with pytest.raises(ConfigError, match="disc.pixel_samples"):
        config_from_dict({"modality": "pat", "disc": {"pixel_samples": 0}}).validate()


def test_pat_fit_trains_pixel_discriminators(tmp_path):
    from cinn_train_helpers import tiny_config, write_config, write_pat_folders

    sim, real = write_pat_folders(tmp_path / "data", n_files=3, size=32)
    cfg = tiny_config(
        sim,
        real,
        tmp_path / "run",
        modality="pat",
        data={"batch_size": 2, "samples_per_epoch": 4, "val_samples": 2, "crop": 16},
        disc={"hidden": 8, "layers": 2, "pixel_weight": 1.0, "pixel_samples": 64},
        loss={"adv_start": 0, "adv_ramp": 1},
    )
    cfg["model"] = {"n_scales": 2, "blocks_per_scale": [1, 1], "hidden": 8, "norm": "none"}
    assert main(["fit", "--config", str(write_config(tmp_path / "pat.yaml", cfg))]) == 0
    with (tmp_path / "run" / "logs" / "metrics.csv").open(newline="") as f:
        rows = [r for r in csv.DictReader(f) if r.get("train/d_pixel_loss")]
    assert rows and all(math.isfinite(float(r["train/d_pixel_loss"])) for r in rows)
    ckpt = read_checkpoint(tmp_path / "run" / "checkpoints" / "last.ckpt")
    state = ckpt["state_dict"]
    pixel = {k for k in state if k.startswith("pixel_discs.")}
    assert {k.split(".")[1] for k in pixel} == {"sim", "real"}
    # they are trained: the discriminators' Adam holds a state for every one of their weights
    n_disc = sum(v.numel() for k, v in state.items() if k.startswith(("discs.", "pixel_discs.")))
    adam = ckpt["optimizer_states"][1]["state"]
    assert sum(s["exp_avg"].numel() for s in adam.values()) == n_disc
