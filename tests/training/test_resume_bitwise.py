"""User story: a run killed mid-epoch and resumed ends with exactly the weights of the run that
was never interrupted (every random stream is in the checkpoint), and cinn-train says so."""

from __future__ import annotations

import pytest
import torch
from cinn_train_helpers import tiny_config, write_config, write_hsi_folders

import napari_cinn_training.lit as lit
from napari_cinn_training.cli import main


def _config(sim, real, out):
    return tiny_config(
        sim,
        real,
        out,
        model={"n_blocks": 2, "hidden": 16, "n_classes": 4},
        loss={
            "adv_start": 2,
            "adv_ramp": 2,
            "noise": 0.1,
            "class_noise": 0.5,
            "dequantize": "matched",
        },
        disc={"hidden": 16, "layers": 1, "instance_noise": 0.05},
        trainer={"max_epochs": 6, "checkpoint_every_n_steps": 5, "val_check_interval": 1.0},
    )


def _weights(path):
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    return ckpt["state_dict"], ckpt["optimizer_states"]


@pytest.mark.slow
def test_killed_and_resumed_run_equals_the_uninterrupted_one_bit_for_bit(tmp_path, monkeypatch):
    sim, real = write_hsi_folders(tmp_path / "data")
    full_cfg = write_config(tmp_path / "full.yaml", _config(sim, real, tmp_path / "full"))
    assert main(["fit", "--config", str(full_cfg)]) == 0  # 24 iterations, no interruption

    cfg = write_config(tmp_path / "killed.yaml", _config(sim, real, tmp_path / "killed"))
    original = lit.CINNModule.training_step

    def killed_at_iteration_13(self, batch, batch_idx):
        if int(self.iteration) == 13:
            raise RuntimeError("killed")
        return original(self, batch, batch_idx)

    monkeypatch.setattr(lit.CINNModule, "training_step", killed_at_iteration_13)
    with pytest.raises(RuntimeError, match="killed"):
        main(["fit", "--config", str(cfg)])
    monkeypatch.setattr(lit.CINNModule, "training_step", original)
    # the last checkpoint is at iteration 10: mid-way through epoch 2 (4 batches per epoch)
    assert main(["fit", "--config", str(cfg), "--resume", "last"]) == 0

    full_w, full_opt = _weights(tmp_path / "full" / "checkpoints" / "last.ckpt")
    res_w, res_opt = _weights(tmp_path / "killed" / "checkpoints" / "last.ckpt")
    assert full_w.keys() == res_w.keys()
    differ = [k for k in full_w if not torch.equal(full_w[k], res_w[k])]
    assert differ == [], f"{len(differ)} tensors differ, e.g. {differ[:3]}"
    for a, b in zip(full_opt, res_opt, strict=True):
        for pa, pb in zip(a["state"].values(), b["state"].values(), strict=True):
            assert all(torch.equal(pa[k], pb[k]) for k in pa)


def test_every_stream_is_captured_and_restored_and_ranks_draw_differently():
    import random
    from types import SimpleNamespace

    import numpy as np

    from napari_cinn_training import rng_state

    module = SimpleNamespace(cfg=SimpleNamespace(seed=3), global_rank=0)
    x = torch.zeros(4)
    rng_state.randn_like(module, x)  # create the owned stream
    saved = rng_state.capture(module)
    draws = (
        torch.rand(3),
        np.random.rand(3),  # noqa: NPY002 - the global streams are what is tested
        random.random(),
        rng_state.randn_like(module, x),
    )
    rng_state.restore(module, saved)
    again = (torch.rand(3), np.random.rand(3), random.random(), rng_state.randn_like(module, x))  # noqa: NPY002
    assert torch.equal(draws[0], again[0]) and np.array_equal(draws[1], again[1])
    assert draws[2] == again[2] and torch.equal(draws[3], again[3])
    # the saved state survives torch.save/torch.load(weights_only=True), as in a checkpoint
    import io

    buf = io.BytesIO()
    torch.save(saved, buf)
    buf.seek(0)
    rng_state.restore(module, torch.load(buf, weights_only=True))
    assert torch.equal(rng_state.randn_like(module, x), draws[3])
    other = SimpleNamespace(cfg=SimpleNamespace(seed=3), global_rank=1)
    first = SimpleNamespace(cfg=SimpleNamespace(seed=3), global_rank=0)
    assert not torch.equal(rng_state.randn_like(first, x), rng_state.randn_like(other, x))
