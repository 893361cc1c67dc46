"""User story: a run killed mid-epoch continues from its last checkpoint with --resume."""

from __future__ import annotations

import json

import pytest
from cinn_train_helpers import tiny_config, write_config

import napari_cinn_training.lit as lit
from napari_cinn_training.cli import main


def test_resume_mid_epoch_matches_uninterrupted_run(tiny_run, tmp_path, monkeypatch):
    cfg = tiny_config(tiny_run["sim"], tiny_run["real"], tmp_path / "run")
    path = write_config(tmp_path / "c.yaml", cfg)
    original = lit.CINNModule.training_step

    def killed_at_iteration_3(self, batch, batch_idx):
        if int(self.iteration) == 3:
            raise RuntimeError("killed")
        return original(self, batch, batch_idx)

    monkeypatch.setattr(lit.CINNModule, "training_step", killed_at_iteration_3)
    with pytest.raises(RuntimeError, match="killed"):
        main(["fit", "--config", str(path)])
    # the periodic checkpoint (every 2 iterations) is mid-way through epoch 0 of 4 batches
    monkeypatch.setattr(lit.CINNModule, "training_step", original)
    assert main(["fit", "--config", str(path), "--resume", "last"]) == 0

    resumed = json.loads((tmp_path / "run" / "summary.json").read_text())
    full = json.loads((tiny_run["out"] / "summary.json").read_text())
    assert resumed["iterations"] == full["iterations"] == 8
    assert resumed["global_step"] == full["global_step"] == 16
    assert abs(resumed["metrics"]["val/nll_bpd"] - full["metrics"]["val/nll_bpd"]) < 0.02


def test_resume_without_config_takes_the_checkpoints_config(tiny_run, tmp_path):
    import shutil

    run = tmp_path / "copy"
    shutil.copytree(tiny_run["out"], run)
    ckpt = run / "checkpoints" / "last.ckpt"
    # one more epoch, config from the checkpoint, output into the copy
    assert (
        main(["fit", "--resume", str(ckpt), "trainer.max_epochs=3", f"trainer.out_dir={run}"]) == 0
    )
    summary = json.loads((run / "summary.json").read_text())
    assert summary["iterations"] == 12
