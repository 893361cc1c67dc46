"""``cinn-train track``: the label-free criterion of each kept checkpoint beside its downstream score."""

from __future__ import annotations

import json

from cinn_train_helpers import tiny_config, write_config

from napari_cinn_training.cli import main
from napari_cinn_training.evaluate.tracking import rank_agreement


def test_track_scores_every_kept_checkpoint_beside_its_logged_criterion(tiny_run, tmp_path, capsys):
    cfg = tiny_config(
        tiny_run["sim"],
        tiny_run["real"],
        tmp_path / "run",
        trainer={
            "max_epochs": 3,
            "keep_checkpoints": True,
            "checkpoint_every_n_steps": 4,  # one per epoch of 4 iterations
            "select_by": "val/mmd_transfer",
        },
        loss={"adv_start": 2, "adv_ramp": 2, "dequantize": "camera"},
    )
    assert main(["fit", "--config", str(write_config(tmp_path / "c.yaml", cfg))]) == 0
    from napari_cinn.core import load_model
    from napari_cinn_training.export import export

    model = load_model(export(tmp_path / "run/checkpoints/last.ckpt", tmp_path / "m.safetensors"))
    assert model.can_sample("sim")  # the camera noise the sim domain lacks, fitted and stored
    assert float(model.source_shot[0].max()) > 0 and float(model.source_noise.abs().max()) == 0
    out = tmp_path / "track"
    args = ["track", str(tmp_path / "run"), "--sim", str(tiny_run["sim"]), "--real"]
    args += [str(tiny_run["real"]), "--out", str(out), "--seeds", "0", "--samples", "2"]
    assert main(args) == 0
    report = json.loads((out / "track.json").read_text())
    rows = {r["checkpoint"]: r for r in report["rows"]}
    assert list(rows) == ["step8", "step16", "step24", "last", "best"]
    assert [rows[n]["iteration"] for n in ("step8", "step16", "step24")] == [4, 8, 12]
    # each checkpoint carries the criterion the run logged for exactly those weights
    log = (tmp_path / "run" / "logs" / "metrics.csv").read_text().splitlines()
    header = log[0].split(",")
    logged = {}
    for line in log[1:]:
        row = dict(zip(header, line.split(","), strict=False))
        if row.get("val/mmd_transfer"):
            logged[int(row["step"]) + 1] = float(row["val/mmd_transfer"])
    for name in ("step8", "step16", "step24"):
        assert rows[name]["criterion"] == logged[rows[name]["iteration"]]
        assert 0 <= rows[name]["bacc_transfer"] <= 1  # the downstream score of those weights
        assert 0 <= rows[name]["c2st_validation"] <= 1  # realism on unlabelled validation data
    # best.ckpt is the step with the lowest criterion (after the adversarial ramp)
    assert rows["best"]["criterion"] == min(rows[n]["criterion"] for n in ("step16", "step24"))
    assert report["criterion"] == "val/mmd_transfer"
    assert "val/mmd_transfer (logged) | val C2ST (unlabelled)" in (out / "track.md").read_text()
    assert "Spearman" in (out / "track.md").read_text()
    assert (out / "track.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # a second run does not overwrite the report silently
    before = (out / "track.json").read_bytes()
    assert main(args) == 1
    assert "--overwrite" in capsys.readouterr().err
    assert (out / "track.json").read_bytes() == before


def _rows(criterion, score):
    return [
        {"checkpoint": f"step{i}", "criterion": c, "bacc_transfer": s}
        for i, (c, s) in enumerate(zip(criterion, score, strict=True))
    ]


def test_rank_agreement_rewards_a_criterion_that_falls_as_the_score_rises():
    assert rank_agreement(_rows([0.05, 0.03, 0.02, 0.01], [0.6, 0.7, 0.8, 0.9])) == 1.0
    assert rank_agreement(_rows([0.01, 0.02, 0.03, 0.05], [0.6, 0.7, 0.8, 0.9])) == -1.0
    assert rank_agreement(_rows([0.02, 0.02, 0.02], [0.6, 0.7, 0.8])) is None  # flat criterion
    assert rank_agreement(_rows([0.05, 0.03], [0.6, 0.7])) is None  # too few checkpoints
    # best.ckpt, and last.ckpt at the final step, repeat a step and do not count twice
    rows = _rows([0.05, 0.03, 0.02], [0.6, 0.9, 0.7])
    for i, r in enumerate(rows):
        r["iteration"] = 10 * (i + 1)
    rows += [
        {"checkpoint": "last", "iteration": 30, "criterion": 0.02, "bacc_transfer": 0.7},
        {"checkpoint": "best", "iteration": 30, "criterion": 0.02, "bacc_transfer": 0.7},
    ]
    assert rank_agreement(rows) == 0.5


def test_a_run_can_choose_its_checkpoint_by_the_validation_c2st(tiny_run, tmp_path):
    """trainer.select_by=val/c2st_transfer: logged at every validation, best.ckpt follows it."""
    import csv

    cfg = tiny_config(
        tiny_run["sim"],
        tiny_run["real"],
        tmp_path / "run",
        trainer={"max_epochs": 3, "select_by": "val/c2st_transfer"},
        loss={"adv_start": 2, "adv_ramp": 2, "dequantize": "camera"},
    )
    assert main(["fit", "--config", str(write_config(tmp_path / "c.yaml", cfg))]) == 0
    with (tmp_path / "run/logs/metrics.csv").open() as f:
        logged = [
            float(r["val/c2st_transfer"]) for r in csv.DictReader(f) if r["val/c2st_transfer"]
        ]
    assert len(logged) == 3 and all(0 <= v <= 1 for v in logged)
    assert (tmp_path / "run/checkpoints/best.ckpt").is_file()
    # track ranks by what the run chose with, as logged
    args = ["track", str(tmp_path / "run"), "--sim", str(tiny_run["sim"]), "--real"]
    args += [str(tiny_run["real"]), "--out", str(tmp_path / "t"), "--seeds", "0"]
    assert main(args) == 0
    report = json.loads((tmp_path / "t" / "track.json").read_text())
    assert report["criterion"] == "val/c2st_transfer"
    last = next(r for r in report["rows"] if r["checkpoint"] == "last")
    assert last["criterion"] == logged[-1]


def test_a_run_whose_data_moved_is_named_not_a_traceback(tiny_run, tmp_path, capsys):
    import shutil

    import yaml

    run = tmp_path / "run"
    shutil.copytree(tiny_run["out"], run)
    cfg = yaml.safe_load((run / "config.yaml").read_text())
    cfg["data"]["sim"] = str(tmp_path / "gone")
    (run / "config.yaml").write_text(yaml.safe_dump(cfg))
    args = ["track", str(run), "--sim", str(tiny_run["sim"]), "--real", str(tiny_run["real"])]
    assert main([*args, "--out", str(tmp_path / "report"), "--seeds", "0"]) == 1
    err = capsys.readouterr().err
    assert "cannot read the run's validation data" in err and "gone" in err
    assert not (tmp_path / "report").exists()
