"""User story: every bad number or setting given to cinn-train ends in exit code 2 and one
sentence that names the key; nothing starts training and no traceback is printed."""

from __future__ import annotations

import json

import pytest
import torch
from cinn_train_helpers import tiny_config, write_config

from napari_cinn_training.cli import main

BAD_OVERRIDES = [
    ("seed=-1", "seed"),
    (f"seed={2**40}", "seed"),
    ("optim.betas=[2, 0.5]", "optim.betas"),
    ("optim.betas=0.9", "optim.betas"),
    ("optim.weight_decay=-1", "optim.weight_decay"),
    ("optim.lr=.nan", "optim.lr"),
    ("optim.grad_clip=-1", "optim.grad_clip"),
    ("loss.nll_weight=-1", "loss.nll_weight"),
    ("loss.noise=-0.1", "loss.noise"),
    ("loss.max_bad_steps=0", "loss.max_bad_steps"),
    ("model.n_blocks=0", "n_blocks"),
    ("model.n_blocks=100000", "n_blocks"),
    ("model.hidden=-1", "hidden"),
    ("model.clamp=.nan", "clamp"),
    ("trainer.devices=0", "trainer.devices"),
    ("trainer.devices=abc", "trainer.devices"),
    ("trainer.precision=7", "trainer.precision"),
    ("trainer.max_time=soon", "trainer.max_time"),
    ("trainer.max_epochs=0", "trainer.max_epochs"),
    ("trainer.val_check_interval=0", "val_check_interval"),
    ("data.num_workers=-2", "data.num_workers"),
    ("disc.instance_noise=-1", "disc.instance_noise"),
]


@pytest.fixture
def config_path(hsi_folders, tmp_path):
    sim, real = hsi_folders
    return write_config(tmp_path / "c.yaml", tiny_config(sim, real, tmp_path / "run"))


@pytest.mark.parametrize(("override", "key"), BAD_OVERRIDES)
def test_bad_value_exits_2_with_one_sentence(config_path, tmp_path, capsys, override, key):
    assert main(["fit", "--config", str(config_path), override]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("cinn-train fit: ") and key in err
    assert "\n" not in err and "Traceback" not in err
    assert not (tmp_path / "run" / "checkpoints").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="the machine has a GPU")
def test_gpu_without_a_gpu_is_one_sentence(config_path, capsys):
    assert main(["fit", "--config", str(config_path), "--accelerator", "gpu"]) == 2
    assert "no CUDA GPU is available" in capsys.readouterr().err


def test_resume_from_a_file_that_is_no_checkpoint(config_path, tmp_path, capsys):
    fake = tmp_path / "fake.ckpt"
    fake.write_bytes(b"\x80\x04not a checkpoint")
    assert main(["fit", "--config", str(config_path), "--resume", str(fake)]) == 2
    err = capsys.readouterr().err
    assert "cannot resume" in err and "fake.ckpt" in err


def test_sim_folder_given_as_real_is_refused(hsi_folders, tmp_path, capsys):
    sim, _ = hsi_folders
    path = write_config(tmp_path / "c.yaml", tiny_config(sim, sim, tmp_path / "run"))
    assert main(["fit", "--config", str(path)]) == 2
    assert "same path" in capsys.readouterr().err


def test_the_same_files_in_both_domains_are_refused(hsi_folders, tmp_path, capsys):
    import shutil

    sim, _ = hsi_folders
    copy = tmp_path / "copy"
    shutil.copytree(sim, copy)
    path = write_config(tmp_path / "c.yaml", tiny_config(sim, copy, tmp_path / "run"))
    assert main(["fit", "--config", str(path)]) == 2
    assert "in both domains" in capsys.readouterr().err


def test_class_condition_without_sim_labels_is_refused(tmp_path, capsys):
    from cinn_train_helpers import write_hsi_folders

    sim, real = write_hsi_folders(tmp_path / "data")
    for f in sim.glob("*.npz"):  # drop the labels: rewrite without them
        import numpy as np

        with np.load(f) as z:
            keep = {k: z[k] for k in z.files if k not in ("labels", "label_names")}
        np.savez(f, **keep)
    cfg = tiny_config(sim, real, tmp_path / "run", model={"n_blocks": 2, "n_classes": 4})
    assert main(["fit", "--config", str(write_config(tmp_path / "c.yaml", cfg))]) == 2
    assert "needs labelled simulated data" in capsys.readouterr().err


def test_export_provenance_holds_no_absolute_paths(tmp_path):
    """The model file names data files relative to their domain folder (privacy)."""
    from napari_cinn.core import build_model, save_model
    from napari_cinn.core.bundle import read_metadata
    from napari_cinn_training.export import relative_to_data_root

    sim, real = tmp_path / "data" / "sim", tmp_path / "data" / "real"
    config = {"data": {"sim": str(sim), "real": str(real)}, "trainer": {"out_dir": "/x/run"}}
    manifest = {
        "sim": [{"file": str(sim / "a" / "s0.npz")}],
        "real": [{"file": str(real / "r.npz")}],
    }
    cfg, man = relative_to_data_root(config, manifest)
    assert cfg["data"] == {"sim": "sim", "real": "real"} and cfg["trainer"]["out_dir"] == "run"
    assert man["sim"][0]["file"] == "a/s0.npz" and man["real"][0]["file"] == "r.npz"
    # and whatever else is absolute is cut to its name by save_model
    out = save_model(
        build_model("hsi", n_blocks=1, hidden=8),
        tmp_path / "m.safetensors",
        training={"config": cfg, "data_manifest": man, "where": str(tmp_path)},
    )
    text = json.dumps(read_metadata(out)["provenance"])
    assert str(tmp_path) not in text


def test_every_numeric_config_value_has_a_range():
    """A new int/float config key without a range rule would be accepted unchecked."""
    import dataclasses
    import typing

    from napari_cinn_training.config import Config
    from napari_cinn_training.config_checks import RANGES

    numeric = []
    for name, hint in typing.get_type_hints(Config).items():
        if dataclasses.is_dataclass(hint):
            sub = typing.get_type_hints(hint)
            numeric += [
                f"{name}.{f.name}" for f in dataclasses.fields(hint) if sub[f.name] in (int, float)
            ]
        elif hint in (int, float):
            numeric.append(name)
    assert sorted(set(numeric) - set(RANGES)) == []


@pytest.mark.parametrize(
    "argv",
    [
        ["simulate", "hsi", "--out", "x", "--subjects", "0"],
        ["simulate", "hsi", "--out", "x", "--seed", "-1"],
        ["simulate", "hsi", "--out", "x", "--size", "100000"],
        ["evaluate", "--pixels", "0"],
    ],
)
def test_numeric_options_of_other_commands_are_range_checked(argv, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse: a required option of that command is missing
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err
    assert "out of range" in err or (argv[0] == "evaluate" and "required" in err)
    assert not (tmp_path / "x").exists()
