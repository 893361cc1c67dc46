"""PAT's pixel discriminators (``disc.pixel_weight``): they judge single bright pixels' spectral
shape, what a downstream pixel classifier reads, and they train beside the patch discriminators."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest
import torch

from napari_cinn_training.checkpoints import read_checkpoint
from napari_cinn_training.cli import main
from napari_cinn_training.config import ConfigError, config_from_dict
from napari_cinn_training.pixel_discriminators import pixel_spectra


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


def _tiny_pat_config(tmp_path, depth: float = 0.0) -> dict:
    """A seconds-long PAT fit with pixel discriminators (and the depth options when ``depth``)."""
    from cinn_train_helpers import tiny_config, write_pat_folders

    sim, real = write_pat_folders(tmp_path / "data", n_files=3, size=32)
    disc = {"hidden": 8, "layers": 2, "pixel_weight": 1.0, "pixel_samples": 64}
    model = {"n_scales": 2, "blocks_per_scale": [1, 1], "hidden": 8, "norm": "none"}
    if depth:
        disc["pixel_depth"] = model["depth_condition"] = depth
    cfg = tiny_config(
        sim,
        real,
        tmp_path / "run",
        modality="pat",
        data={"batch_size": 2, "samples_per_epoch": 4, "val_samples": 2, "crop": 16},
        disc=disc,
        loss={"adv_start": 0, "adv_ramp": 1},
    )
    cfg["model"] = model
    return cfg


def test_pat_fit_trains_pixel_discriminators(tmp_path):
    from cinn_train_helpers import write_config

    cfg = _tiny_pat_config(tmp_path)
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


def test_pixel_spectra_carry_each_pixels_image_row_with_disc_pixel_depth():
    x = torch.full((2, 3, 8, 8), 1e-4)
    x[0, :, 2, 1] = 1.0  # bright pixel in row 2 of a crop that starts at image row 10
    x[1, :, 5, 6] = 1.0  # row 5 of a crop that starts at row 30
    u = pixel_spectra(x, 400, torch.Generator().manual_seed(1), torch.tensor([10, 30]), 20.0)
    assert u.shape == (400, 4)
    bright = u[:, :3].sub(1 / math.sqrt(3)).abs().amax(1).lt(1e-5)
    depths = set(torch.round(u[bright, 3] * 20).long().tolist())
    assert depths == {12, 35}  # the image rows, over disc.pixel_depth


def test_pat_fit_with_depth_condition_and_depth_aware_pixel_discriminators(tmp_path):
    from cinn_train_helpers import write_config

    from napari_cinn.core import load_model
    from napari_cinn_training.data import prepare_config
    from napari_cinn_training.data.datasets import CropBatches

    cfg = _tiny_pat_config(tmp_path, depth=32.0)
    # the crops come with their first image row: the slice there is the crop
    data = prepare_config(config_from_dict(cfg))
    batch = CropBatches(data.train, 2, 4, 16, seed=3, flip=False)[0]
    for d in ("sim", "real"):
        images = [s.images for s in data.train[d].subjects]
        for crop, y0 in zip(batch[d], batch[f"{d}_rows"].tolist(), strict=True):
            found = any(
                np.array_equal(im[z, :, y0 : y0 + 16, x0 : x0 + 16], crop.numpy())
                for im in images
                for z in range(im.shape[0])
                for x0 in range(im.shape[3] - 15)
            )
            assert found, f"{d} crop is not at its reported row {y0}"
    yaml = write_config(tmp_path / "pat.yaml", cfg)
    assert main(["fit", "--config", str(yaml)]) == 0
    ckpt = tmp_path / "run" / "checkpoints" / "last.ckpt"
    state = read_checkpoint(ckpt)["state_dict"]
    first = [v for k, v in state.items() if k.startswith("pixel_discs.sim.") and v.ndim == 2][0]
    assert first.shape[1] == 16 + 1  # 16 bands + the pixel's depth
    out = tmp_path / "m.safetensors"
    assert main(["export", str(ckpt), "--out", str(out)]) == 0
    assert load_model(out).hyper["depth_condition"] == 32.0
