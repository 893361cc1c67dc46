"""`cinn-train fit` through train.train: the label-free best checkpoint and the real pseudo-labels."""

from __future__ import annotations

from pathlib import Path

import pytest
from cinn_train_helpers import tiny_config, write_config, write_hsi_folders

import napari_cinn_training.lit as lit
from napari_cinn_training.cli import main

SHIPPED_HSI = Path(__file__).parents[2] / "sample_data" / "models" / "hsi_sample.safetensors"


@pytest.mark.parametrize("real_classes", ["pseudo", "pseudo-noisy", "pseudo-teacher"])
def test_select_by_writes_best_ckpt_and_pseudo_labels_are_fitted(
    tmp_path, monkeypatch, real_classes
):
    calls = []
    original = lit.CINNModule.fit_pseudo_labels

    def recorded(self, sim, labels, real):
        calls.append((sim.shape, real.shape))
        return original(self, sim, labels, real)

    monkeypatch.setattr(lit.CINNModule, "fit_pseudo_labels", recorded)
    sim, real = write_hsi_folders(tmp_path / "data")
    cfg = tiny_config(sim, real, tmp_path / "run")
    cfg["model"]["n_classes"] = 4
    cfg["loss"]["real_classes"] = real_classes
    if real_classes == "pseudo-teacher":  # the labeller learns from the shipped cINN's transfers
        cfg["loss"]["teacher"] = str(SHIPPED_HSI)
    cfg["loss"]["adv_start"], cfg["loss"]["adv_ramp"] = 0, 1
    cfg["trainer"]["select_by"] = "val/mmd_transfer"
    assert main(["fit", "--config", str(write_config(tmp_path / "c.yaml", cfg))]) == 0
    ckpts = tmp_path / "run" / "checkpoints"
    assert (ckpts / "best.ckpt").is_file() and (ckpts / "last.ckpt").is_file()
    # fitted once, on labelled sim spectra and the real training spectra (100 bands)
    assert len(calls) == 1 and calls[0][0][1] == calls[0][1][1] == 100


def test_fit_with_method_ot_points_to_evaluate(tmp_path, capsys):
    sim, real = write_hsi_folders(tmp_path / "data")
    cfg = tiny_config(sim, real, tmp_path / "run")
    cfg["method"] = "ot"
    assert main(["fit", "--config", str(write_config(tmp_path / "c.yaml", cfg))]) == 2
    assert "cinn-train evaluate --method ot" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_a_missing_teacher_file_stops_fit_before_anything_is_written(tmp_path, capsys):
    sim, real = write_hsi_folders(tmp_path / "data")
    cfg = tiny_config(sim, real, tmp_path / "run")
    cfg["model"]["n_classes"] = 4
    cfg["loss"]["real_classes"] = "pseudo-teacher"
    cfg["loss"]["teacher"] = str(tmp_path / "nowhere.safetensors")
    assert main(["fit", "--config", str(write_config(tmp_path / "c.yaml", cfg))]) == 2
    err = capsys.readouterr().err
    assert "loss.teacher" in err and "nowhere.safetensors" in err
    assert not (tmp_path / "run").exists()
