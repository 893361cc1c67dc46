"""Config files and overrides: typos are refused with the nearest valid key."""

from __future__ import annotations

from pathlib import Path

import pytest

from napari_cinn_training.config import ConfigError, load_config

CONFIGS = sorted((Path(__file__).parents[2] / "training" / "configs").glob("*.yaml"))


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_shipped_configs_load(path):
    cfg = load_config(path)
    assert cfg.modality in ("hsi", "pat")
    assert cfg.data.sim and cfg.data.real


def test_overrides_are_typed(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("optim:\n  lr: 1.0e-3\ntrainer:\n  max_epochs: 3\n")
    cfg = load_config(
        p, ["optim.lr=3e-4", "trainer.devices=2", "model.n_blocks=4", "loss.adv_weight=0"]
    )
    assert cfg.optim.lr == pytest.approx(3e-4)
    assert cfg.trainer.devices == 2 and cfg.trainer.max_epochs == 3
    assert cfg.model == {"n_blocks": 4}
    assert cfg.loss.adv_weight == 0.0


@pytest.mark.parametrize(
    ("text", "nearest"),
    [
        ("optim:\n  lrr: 1\n", "optim.lr"),
        ("trainr:\n  max_epochs: 1\n", "trainer"),
        ("loss:\n  adv_wieght: 1\n", "loss.adv_weight"),
    ],
)
def test_unknown_key_in_file_names_file_and_nearest(tmp_path, text, nearest):
    p = tmp_path / "bad.yaml"
    p.write_text(text)
    with pytest.raises(ConfigError, match="did you mean") as err:
        load_config(p)
    assert nearest in str(err.value) and "bad.yaml" in str(err.value)


def test_bad_values_are_explained(tmp_path):
    with pytest.raises(ConfigError, match="optim.lr must be a number"):
        load_config(None, ["optim.lr=fast"])
    with pytest.raises(ConfigError, match="method='gan' is not one of"):
        load_config(None, ["method=gan"])
    with pytest.raises(ConfigError, match="key=value"):
        load_config(None, ["optim.lr"])
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.yaml")


def test_unknown_model_key_suggests_build_model_argument():
    from napari_cinn_training.lit import build_cinn

    cfg = load_config(None, ["model.n_blokcs=2"])
    with pytest.raises(ConfigError, match="did you mean 'model.n_blocks'"):
        build_cinn(cfg, range(500, 1000, 5))
