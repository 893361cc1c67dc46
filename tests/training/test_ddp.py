"""Distributed training, run for real: ``cinn-train fit --accelerator cpu --devices 2 --strategy
ddp`` (gloo) on tiny data trains on both ranks, writes one checkpoint, and resumes.

Lightning's DDP launcher starts the second rank by running the same command line again, so the
fit runs in a subprocess (``python -m napari_cinn_training.cli``), as a user's would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from cinn_train_helpers import tiny_config, write_config, write_hsi_folders

DDP = ["--accelerator", "cpu", "--devices", "2", "--strategy", "ddp", "--no-progress"]


def _fit(args: list[str], cwd) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    env.pop("MASTER_PORT", None)  # Lightning picks a free port
    cmd = [sys.executable, "-m", "napari_cinn_training.cli", "fit", *args]
    res = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return res


def test_ddp_on_two_cpu_ranks_trains_both_writes_one_checkpoint_and_resumes(tmp_path):
    sim, real = write_hsi_folders(tmp_path / "data", n_files=5)
    out = tmp_path / "run"
    cfg = tiny_config(sim, real, out, data={"val_fraction": 0.2, "samples_per_epoch": 256})
    path = write_config(tmp_path / "tiny.yaml", cfg)

    res = _fit(["--config", str(path), *DDP], tmp_path)
    log = res.stdout + res.stderr
    # both ranks joined one gloo process group and trained
    assert "GLOBAL_RANK: 0, MEMBER: 1/2" in log and "GLOBAL_RANK: 1, MEMBER: 2/2" in log
    assert "distributed_backend=gloo" in log
    summary = json.loads((out / "summary.json").read_text())
    batches = 256 // 32  # per epoch, split between the ranks: each rank runs half of them
    assert summary["iterations"] == 2 * batches // 2 and summary["epochs"] == 2
    # rank 0 alone writes: one final checkpoint, no "-v1" copies from a second writer
    names = sorted(p.name for p in (out / "checkpoints").iterdir())
    assert "last.ckpt" in names and not [n for n in names if "-v" in n]
    assert log.count("[cinn-train] done") == 1

    res = _fit(["--config", str(path), "--resume", "last", "trainer.max_epochs=3", *DDP], tmp_path)
    resumed = json.loads((out / "summary.json").read_text())
    assert resumed["resumed_from"] and resumed["epochs"] == 3
    assert resumed["iterations"] == 3 * batches // 2  # the run went on, not from zero

    # --force under DDP: one clean set of checkpoints, cleared once, by the launching process
    res = _fit(["--config", str(path), "--force", *DDP], tmp_path)
    names = sorted(p.name for p in (out / "checkpoints").iterdir())
    assert "last.ckpt" in names and not [n for n in names if "-v" in n]
    assert json.loads((out / "summary.json").read_text())["epochs"] == 2
    assert (res.stdout + res.stderr).count("--force: removed") == 1
