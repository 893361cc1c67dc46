"""A NaN batch is skipped and reported, never trained on; too many in a row stop the run."""

from __future__ import annotations

import lightning as L
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from napari_cinn.core.spectra import HSI_WAVELENGTHS
from napari_cinn_training.config import load_config
from napari_cinn_training.lightning_base import NonFiniteLossError
from napari_cinn_training.lit import CINNModule


def _module(**loss) -> CINNModule:
    overrides = ["model.n_blocks=2", "model.hidden=16", "disc.hidden=16", "loss.adv_start=0"]
    overrides += [f"loss.{k}={v}" for k, v in loss.items()]
    cfg = load_config(None, overrides)
    module = CINNModule(cfg.to_dict(), [float(w) for w in HSI_WAVELENGTHS], total_iterations=10)
    rng = np.random.default_rng(0)
    x = rng.uniform(0.5, 1.0, (256, 100)).astype(np.float32)
    module.fit_statistics({"sim": x, "real": x * 1.1})
    return module


def _batches(nan_at: set[int], n: int = 3) -> list[dict[str, torch.Tensor]]:
    out = []
    for i in range(n):
        x = torch.rand(32, 100) + 0.5
        if i in nan_at:
            x[3, 7] = float("nan")
        out.append({"sim": x, "real": x * 1.1})
    return out


def _trainer() -> L.Trainer:
    return L.Trainer(
        max_epochs=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        accelerator="cpu",
        devices=1,
        num_sanity_val_steps=0,
    )


def test_nan_batch_is_skipped_and_reported(capsys):
    module = _module()
    before = {k: v.clone() for k, v in module.model.state_dict().items()}
    _trainer().fit(module, train_dataloaders=DataLoader(_batches({1}), batch_size=None))
    assert int(module.skipped) == 1 and int(module.iteration) == 2
    assert "non-finite flow loss; step skipped" in capsys.readouterr().out
    after = module.model.state_dict()
    assert all(torch.isfinite(v).all() for v in after.values() if v.is_floating_point())
    assert any(not torch.equal(before[k], after[k]) for k in before)


def test_repeated_nan_steps_stop_the_run_with_advice():
    module = _module(max_bad_steps=2)
    with pytest.raises(NonFiniteLossError, match="Lower optim.lr"):
        _trainer().fit(module, train_dataloaders=DataLoader(_batches({0, 1, 2}), batch_size=None))
