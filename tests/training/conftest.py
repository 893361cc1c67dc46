"""Fixtures for the training tests: tiny generated data and one shared tiny run."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from cinn_train_helpers import tiny_config, write_config, write_hsi_folders


@pytest.fixture
def hsi_folders(tmp_path):
    return write_hsi_folders(tmp_path / "data")


@pytest.fixture
def model_file(tmp_path, perturb):
    """A tiny HSI model file whose sim domain lacks some noise (stochastic transfer possible)."""
    import numpy as np

    from napari_cinn.core import build_model, save_model

    m = perturb(build_model("hsi", n_blocks=2, hidden=16))
    rng = np.random.default_rng(0)
    m.fit_normalization(rng.uniform(0.2, 1.0, (300, 100)), "sim")
    m.fit_normalization(rng.uniform(0.1, 0.8, (300, 100)), "real")
    m.source_noise[0] = 0.01
    return save_model(m, tmp_path / "tiny.safetensors")


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """One uninterrupted tiny HSI fit through the CLI (shared by the end-to-end and resume tests)."""
    from napari_cinn_training.cli import main

    root = tmp_path_factory.mktemp("tiny_run")
    sim, real = write_hsi_folders(root / "data")
    cfg = tiny_config(sim, real, root / "run")
    path = write_config(root / "tiny.yaml", cfg)
    assert main(["fit", "--config", str(path)]) == 0
    return {
        "root": root,
        "sim": sim,
        "real": real,
        "config": cfg,
        "config_path": path,
        "out": root / "run",
    }


# file digests are cached per user; tests keep theirs in a throw-away place (inherited by the
# subprocesses some tests start)
os.environ["CINN_HASH_CACHE"] = str(Path(tempfile.mkdtemp(prefix="cinn-hash-")) / "sha256.json")
