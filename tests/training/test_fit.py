"""User story: train a tiny cINN from the command line, export it, open it and transfer a cube."""

from __future__ import annotations

import json

import numpy as np
import pytest

from napari_cinn_training.cli import main


def test_fit_export_load_transfer(tiny_run, tmp_path):
    from napari_cinn.core import load_model, transfer_image
    from napari_cinn.io import read_spectral

    out = tiny_run["out"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["iterations"] == 8  # 2 epochs x 128/32 batches
    assert summary["global_step"] == 16  # flow + discriminator step per iteration
    assert np.isfinite(summary["metrics"]["val/nll_bpd"])
    assert (out / "logs" / "metrics.csv").is_file()

    model_path = tmp_path / "tiny.safetensors"
    assert main(["export", str(out / "checkpoints" / "last.ckpt"), "--out", str(model_path)]) == 0
    model = load_model(model_path)
    assert model.modality == "hsi" and model.n_bands == 100

    cube = np.asarray(read_spectral(next(tiny_run["sim"].glob("*.npz"))).data)
    fake = transfer_image(model, cube, "sim", "real", device="cpu")
    assert fake.shape == cube.shape and fake.dtype == np.float32
    assert np.isfinite(fake).all()
    back = transfer_image(model, fake, "real", "sim", device="cpu")
    np.testing.assert_allclose(back, cube, atol=1e-3 * np.abs(cube).max())


def test_pat_fit_export_load_transfer(tmp_path):
    """The image-level (multi-scale, PatchGAN) path: fit, export, open, transfer an odd-sized image."""
    from cinn_train_helpers import tiny_config, write_config, write_pat_folders

    from napari_cinn.core import load_model, transfer_image

    sim, real = write_pat_folders(tmp_path / "data", n_files=3, size=32)
    cfg = tiny_config(
        sim,
        real,
        tmp_path / "run",
        modality="pat",
        data={"batch_size": 2, "samples_per_epoch": 4, "val_samples": 2, "crop": 16},
        disc={"hidden": 8, "layers": 2},
    )
    cfg["model"] = {"n_scales": 2, "blocks_per_scale": [1, 1], "hidden": 8, "norm": "none"}
    assert main(["fit", "--config", str(write_config(tmp_path / "pat.yaml", cfg))]) == 0
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["iterations"] == 4 and summary["skipped_steps"] == 0
    path = tmp_path / "pat.safetensors"
    assert (
        main(["export", str(tmp_path / "run" / "checkpoints" / "last.ckpt"), "--out", str(path)])
        == 0
    )
    model = load_model(path)
    assert model.modality == "pat" and model.n_bands == 16
    image = np.random.default_rng(0).uniform(0.5, 1.0, (16, 30, 27)).astype(np.float32)
    fake = transfer_image(model, image, "sim", "real", device="cpu")
    assert fake.shape == image.shape and np.isfinite(fake).all()
    assert not np.allclose(fake, image)
    np.testing.assert_allclose(
        transfer_image(model, fake, "real", "sim", device="cpu"), image, atol=1e-3
    )


def test_export_provenance_and_no_silent_overwrite(tiny_run, tmp_path, capsys):
    from napari_cinn.core.bundle import read_metadata

    ckpt = tiny_run["out"] / "checkpoints" / "last.ckpt"
    target = tmp_path / "m.safetensors"
    assert main(["export", str(ckpt), "--out", str(target)]) == 0
    meta = read_metadata(target)
    training = meta["provenance"]["training"]
    assert training["config"]["model"] == {"n_blocks": 2, "hidden": 16}
    files = training["data_manifest"]["sim"]
    assert {f["split"] for f in files} == {"train", "val"}
    assert all(len(f["sha256"]) == 64 for f in files)
    assert training["date"] and "git_commit" in training
    assert "val/nll_bpd" in meta["metrics"]

    before = target.read_bytes()
    assert main(["export", str(ckpt), "--out", str(target)]) == 2
    assert "--force" in capsys.readouterr().err
    assert target.read_bytes() == before
    assert main(["export", str(ckpt), "--out", str(target), "--force"]) == 0


def test_refuses_to_start_over_an_existing_run(tiny_run, capsys):
    assert main(["fit", "--config", str(tiny_run["config_path"])]) == 2
    assert "--resume last" in capsys.readouterr().err


def test_unknown_config_key_names_the_nearest(tiny_run, capsys):
    assert main(["fit", "--config", str(tiny_run["config_path"]), "optim.lrr=1e-3"]) == 2
    assert "did you mean 'optim.lr'" in capsys.readouterr().err
    assert (
        main(
            [
                "fit",
                "--config",
                str(tiny_run["config_path"]),
                "model.n_blocs=3",
                "--force",
                "--out-dir",
                str(tiny_run["root"] / "other"),
            ]
        )
        == 2
    )
    assert "model.n_blocks" in capsys.readouterr().err


@pytest.mark.parametrize("flag", ["--help"])
def test_help_explains_options(flag, capsys):
    with pytest.raises(SystemExit):
        main(["fit", flag])
    text = capsys.readouterr().out
    for option in ("--resume", "--devices", "--strategy", "--precision", "--max-time", "KEY=VALUE"):
        assert option in text


def test_keep_checkpoints_keeps_each_periodic_one_for_export(tiny_run, tmp_path):
    """trainer.keep_checkpoints: every periodic checkpoint stays (to pick one later) and exports."""
    from cinn_train_helpers import tiny_config, write_config

    from napari_cinn.core import load_model

    cfg = tiny_config(
        tiny_run["sim"],
        tiny_run["real"],
        tmp_path / "run",
        trainer={"keep_checkpoints": True, "checkpoint_every_n_steps": 4},
    )
    assert main(["fit", "--config", str(write_config(tmp_path / "c.yaml", cfg))]) == 0
    kept = sorted((tmp_path / "run" / "checkpoints").glob("step*.ckpt"))
    assert [p.name for p in kept] == [
        "step16.ckpt",
        "step8.ckpt",
    ]  # 8 iterations (16 optimiser steps)
    out = tmp_path / "early.safetensors"
    assert main(["export", str(kept[1]), "--out", str(out)]) == 0  # the earlier one
    assert load_model(out).modality == "hsi"
    # without the option only last.ckpt is kept
    assert not list((tiny_run["out"] / "checkpoints").glob("step*.ckpt"))
    # --force starts afresh: none of the first run's checkpoints stays beside the new ones
    # (Lightning would write last-v1.ckpt and leave last.ckpt the old run's)
    config = str(tmp_path / "c.yaml")
    again = ["fit", "--config", config, "trainer.checkpoint_every_n_steps=8", "--force"]
    assert main(again) == 0
    names = sorted(p.name for p in (tmp_path / "run" / "checkpoints").glob("*.ckpt"))
    assert names == ["last.ckpt", "step16.ckpt"]


def test_ema_weights_are_what_checkpoints_and_model_files_carry(tiny_run, tmp_path):
    """trainer.ema_decay: the averaged weights go into the checkpoints and the exported model; a
    checkpoint written mid-run keeps the raw ones beside them, so that a resumed run continues."""
    import torch
    from cinn_train_helpers import tiny_config, write_config

    from napari_cinn.core import load_model

    trainer = {"ema_decay": 0.9, "keep_checkpoints": True, "checkpoint_every_n_steps": 4}
    cfg = tiny_config(tiny_run["sim"], tiny_run["real"], tmp_path / "run", trainer=trainer)
    assert main(["fit", "--config", str(write_config(tmp_path / "c.yaml", cfg))]) == 0
    mid = tmp_path / "run/checkpoints/step8.ckpt"  # after 4 of 8 iterations
    ckpt = torch.load(mid, weights_only=True, map_location="cpu")
    key = next(k for k in ckpt["state_dict"] if k.startswith("model.flow") and "weight" in k)
    averaged, raw = ckpt["state_dict"][key], ckpt["current_model_state"][key]
    assert not torch.equal(averaged, raw)  # the average lags the raw weights
    assert int(ckpt["state_dict"]["iteration"]) == 4  # counters are not averaged
    assert json.loads((tmp_path / "run/summary.json").read_text())["iterations"] == 8
    out = tmp_path / "ema.safetensors"
    assert main(["export", str(mid), "--out", str(out)]) == 0
    exported = load_model(out).state_dict()[key[len("model.") :]]
    torch.testing.assert_close(exported, averaged)
    # the run resumes from the mid-run checkpoint: raw weights go on training, the average too
    more = ["fit", "--resume", str(mid), "--force"]
    assert main(more) == 0
