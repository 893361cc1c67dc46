"""``cinn-train track``: does a run's label-free criterion follow the downstream score?

A checkpoint is chosen without real labels (``trainer.select_by``, logged on unlabelled real
validation data); this command checks that choice afterwards. For every kept checkpoint of a run
(``trainer.keep_checkpoints``: ``step<N>.ckpt``, plus ``last.ckpt`` and ``best.ckpt``) it reads
the criterion the run logged at that iteration (``logs/metrics.csv``), computes a second
label-free figure, the C2ST AUC between the transfer of the run's sim validation subjects and its
*unlabelled* real validation subjects (:func:`validation_c2st`), and scores the checkpoint
with the evaluation harness on labelled evaluation subjects, which no training decision saw. It
writes ``track.md`` (table + rank correlation), ``track.json`` and ``track.png`` (both curves along
the run). Example::

    cinn-train track runs/hsi_sample --sim data/hsi/sim --real data/hsi/real_eval --out reports/track
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from napari_cinn_training.evaluate.data import (
    EvaluationError,
    folder_list,
    load_folder,
    load_folders,
)

#: logged label-free figures shown beside the downstream score, when the run has them
LABEL_FREE = (
    "val/select",
    "val/mmd_transfer",
    "val/c2st_transfer",
    "val/latent_std_sim",
    "val/latent_std_real",
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", type=Path, help="run folder of cinn-train fit (trainer.out_dir)")
    parser.add_argument("--sim", type=Path, required=True, help="labelled simulated subjects")
    parser.add_argument(
        "--real",
        type=Path,
        nargs="+",
        required=True,
        help="labelled real evaluation subjects (never seen); several folders are pooled",
    )
    parser.add_argument("--out", type=Path, required=True, help="report folder")
    parser.add_argument("--classifiers", nargs="+", default=["rf"], help="classifier families")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument(
        "--samples", type=int, default=3, help="realisations per sim pixel (stochastic models)"
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an existing report")


def run_config(run: Path):
    """The ``Config`` the run was trained with (its ``config.yaml``)."""
    from napari_cinn_training.config import ConfigError, load_config

    try:
        return load_config(run / "config.yaml")
    except (ConfigError, OSError) as err:
        raise EvaluationError(f"{run}: cannot read the run's config.yaml ({err})") from None


def criterion_key(cfg) -> str:
    """The run's label-free criterion: its ``trainer.select_by`` (default ``val/mmd_transfer``).

    Taken as logged at every checkpoint, also before the adversarial ramp has ended (where
    ``val/select``, the gated copy that ``best.ckpt`` follows, is still infinite).
    """
    return cfg.trainer.select_by or "val/mmd_transfer"


def checkpoints(run: Path) -> list[tuple[str, Path]]:
    """``(name, path)`` of a run's kept checkpoints, in training order (best.ckpt last)."""
    folder = run / "checkpoints"
    steps = sorted(folder.glob("step*.ckpt"), key=lambda p: int(re.sub(r"\D", "", p.stem) or 0))
    named = [(p.stem, p) for p in steps]
    named += [
        (n, folder / f"{n}.ckpt") for n in ("last", "best") if (folder / f"{n}.ckpt").is_file()
    ]
    if not named:
        raise EvaluationError(f"{folder}: no checkpoints (train with trainer.keep_checkpoints)")
    return named


def iteration_of(ckpt: dict[str, Any]) -> int:
    """Training iterations (batches) done when ``ckpt`` was written."""
    progress = ckpt["loops"]["fit_loop"]["epoch_loop.batch_progress"]["total"]
    return int(progress["processed"])


def logged(run: Path) -> dict[int, dict[str, float]]:
    """Validation figures of a run by the iteration whose weights they measured."""
    path = run / "logs" / "metrics.csv"
    if not path.is_file():
        raise EvaluationError(f"{path}: not found (the run's CSV log)")
    out: dict[int, dict[str, float]] = {}
    with path.open(newline="") as f:
        for row in csv.DictReader(f):
            vals = {k: float(row[k]) for k in LABEL_FREE if row.get(k) not in (None, "")}
            if vals:  # validation after the batch with index `step`: weights of step + 1 batches
                out.setdefault(int(row["step"]) + 1, {}).update(vals)
    return out


def validation_batch(run: Path, cfg) -> dict[str, np.ndarray] | None:
    """The run's own validation subjects (split as in training), unlabelled, as its validation
    saw them: ``{"sim", "real"}`` spectra ``(n, bands)`` (HSI) or crops ``(m, bands, y, x)`` with
    ``"sim_rows"`` ``(m,)``, their first rows;
    None for runs that are not cINNs (UNIT)."""
    from napari_cinn_training.data import DataError, prepare_config
    from napari_cinn_training.data.datasets import fixed_validation

    if cfg.method != "cinn":
        return None
    try:
        data = prepare_config(cfg)
    except (DataError, OSError) as err:
        raise EvaluationError(f"{run}: cannot read the run's validation data ({err})") from None
    d = cfg.data
    batch = fixed_validation(data.val, cfg.modality, d.val_samples, d.crop, cfg.seed)
    return {k: v.numpy() for k, v in batch.items() if k in ("sim", "real", "sim_rows")}


def validation_c2st(model_path: Path, val: dict[str, np.ndarray]) -> float:
    """Label-free realism of a checkpoint: C2ST AUC between the (stochastic, seeded) transfer of
    the sim validation data and the unlabelled real validation data (0.5 = indistinguishable);
    the figure ``trainer.select_by: val/c2st_transfer`` logs during training."""
    import torch

    from napari_cinn.core import load_model
    from napari_cinn_training.data import crop_row0
    from napari_cinn_training.label_free import c2st_transfer

    model = load_model(str(model_path), device="cpu")
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        fake = model.transfer(
            torch.as_tensor(val["sim"]),
            "sim",
            "real",
            sample=model.can_sample("sim"),
            generator=gen,
            row0=torch.as_tensor(crop_row0(val, "sim")),  # PAT crops' depth offsets
        )
    return c2st_transfer(fake, val["real"], model.hyper.get("norm", "l2"))


def _score(ckpt_path: Path, sim, real, val, args, tmp: Path) -> dict[str, Any]:
    from napari_cinn_training.evaluate.harness import evaluate_images
    from napari_cinn_training.export import export

    model = export(ckpt_path, tmp / f"{ckpt_path.stem}.safetensors", force=True)
    c2st_val = float("nan") if val is None else validation_c2st(model, val)
    metrics, _ = evaluate_images(
        sim,
        real,
        str(model),
        seeds=args.seeds,
        classifiers=args.classifiers,
        samples=args.samples,
        sources=(str(args.sim), ", ".join(map(str, folder_list(args.real)))),
    )
    nan = float("nan")  # None: undefined, e.g. sim and real score alike on tiny data
    pick = {"gap_closed": ("gap_closed", "mean"), "gap_closed_std": ("gap_closed", "std")}
    pick |= {"bacc_transfer": ("bacc_transfer", "mean"), "c2st_auc": ("c2st_auc", "mean")}
    out = {k: nan if (v := metrics[a][b]) is None else v for k, (a, b) in pick.items()}
    return out | {"c2st_validation": c2st_val}  # recomputed here, whatever the run logged


def track(args: argparse.Namespace, log=print) -> tuple[list[dict[str, Any]], str]:
    """One row per checkpoint (iteration, logged label-free figures, downstream score), and the
    name of the run's criterion."""
    from napari_cinn_training.checkpoints import read_checkpoint

    sim, real = load_folder(args.sim, "sim"), load_folders(args.real, "real")
    figures = logged(args.run)
    cfg = run_config(args.run)
    key = criterion_key(cfg)
    val = validation_batch(args.run, cfg)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, path in checkpoints(args.run):
            it = iteration_of(read_checkpoint(path))
            row: dict[str, Any] = {"checkpoint": name, "iteration": it, **figures.get(it, {})}
            row["criterion"] = row.get(key, float("nan"))
            row.update(_score(path, sim, real, val, args, Path(tmp)))
            log(
                f"  {name}: iteration {it}, {key} {row['criterion']:.4g}, "
                f"gap closed {row['gap_closed']:.3f} ± {row['gap_closed_std']:.3f}"
            )
            rows.append(row)
    return rows, key


def rank_agreement(rows: list[dict[str, Any]], key: str = "criterion") -> float | None:
    """Spearman ρ between −``key`` (lower is better) and the downstream score along the run.

    The score is the transferred data's balanced accuracy: the sim- and real-trained classifiers
    are the same for every checkpoint (same seeds, same data), so its ranks are the gap closed's.
    """
    from scipy.stats import spearmanr

    by_iteration = {}  # best.ckpt, and last.ckpt where it is the final step, repeat a step
    for r in rows:
        if r["checkpoint"] != "best" and np.isfinite(r.get(key, np.nan)):
            by_iteration.setdefault(r.get("iteration", r["checkpoint"]), r)
    pts = [(r[key], r["bacc_transfer"]) for r in by_iteration.values()]
    if len(pts) < 3:
        return None
    crit, score = np.asarray(pts).T
    if np.ptp(crit) == 0 or np.ptp(score) == 0:
        return None  # a flat curve ranks nothing
    return float(spearmanr(-crit, score).statistic)


def table(rows: list[dict[str, Any]], rho: float | None, key: str = "val/mmd_transfer") -> str:
    """Markdown: one row per checkpoint, then the rank agreement of both label-free figures."""
    lines = [
        f"| checkpoint | iteration | {key} (logged) | val C2ST (unlabelled) "
        "| latent std sim / real | gap closed | C2ST (evaluation) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        std = f"{r.get('val/latent_std_sim', np.nan):.3f} / {r.get('val/latent_std_real', np.nan):.3f}"
        lines.append(
            f"| {r['checkpoint']} | {r['iteration']} | {r.get('criterion', np.nan):.4g} | "
            f"{r.get('c2st_validation', np.nan):.4f} | {std} | "
            f"{r['gap_closed']:.3f} ± {r['gap_closed_std']:.3f} | {r['c2st_auc']:.3f} |"
        )

    def said(v: float | None) -> str:
        return (
            "n/a (under 3 checkpoints with the figure, or a flat curve)"
            if v is None
            else f"{v:+.2f}"
        )

    lines += [
        "",
        f"Spearman ρ(−{key}, downstream score) over the run's checkpoints: {said(rho)}; "
        f"ρ(−val C2ST, downstream score): {said(rank_agreement(rows, 'c2st_validation'))}",
    ]
    return "\n".join(lines) + "\n"


def figure(rows: list[dict[str, Any]], path: Path, key: str = "val/mmd_transfer") -> Path:
    """Gap closed (left axis) and the label-free criterion (right axis, inverted) along the run."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = list({r["iteration"]: r for r in rows if r["checkpoint"] != "best"}.values())
    it = [r["iteration"] for r in steps]
    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=120)
    ax.errorbar(
        it,
        [r["gap_closed"] for r in steps],
        yerr=[r["gap_closed_std"] for r in steps],
        color="#d62728",
        marker="o",
        capsize=3,
        label="gap closed (evaluation subjects)",
    )
    ax.set_xlabel("training iteration")
    ax.set_ylabel("gap closed", color="#d62728")
    right = ax.twinx()
    right.plot(
        it, [r.get("criterion", np.nan) for r in steps], color="#1f77b4", marker="s", ls="--"
    )
    right.set_ylabel(f"{key}\n(label-free; axis inverted: up = better)", color="#1f77b4")
    right.invert_yaxis()  # both curves rise when the checkpoint gets better
    best = next((r for r in rows if r["checkpoint"] == "best"), None)
    if best is not None:
        ax.axvline(best["iteration"], color="grey", lw=1, ls=":")
        ax.annotate("best.ckpt", (best["iteration"], ax.get_ylim()[1]), ha="center", va="bottom")
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)
    return path


def run(args: argparse.Namespace) -> int:
    import sys

    from napari_cinn.core.files import atomic_targets

    out: Path = args.out
    names = ("track.json", "track.md", "track.png")
    try:
        if any((out / n).exists() for n in names) and not args.overwrite:
            raise EvaluationError(f"{out} already holds a track report; pass --overwrite")
        where = ", ".join(map(str, folder_list(args.real)))
        print(f"tracking {args.run} on {where} ({len(args.seeds)} seeds)")
        rows, key = track(args)
        rho = rank_agreement(rows)
        out.mkdir(parents=True, exist_ok=True)
        with atomic_targets(*(out / n for n in names), overwrite=True) as (js, md, png):
            report = {"criterion": key, "rows": rows, "spearman": rho}
            report["spearman_val_c2st"] = rank_agreement(rows, "c2st_validation")
            js.write_text(json.dumps(report, indent=1))
            md.write_text(table(rows, rho, key))
            figure(rows, png, key)
    except (EvaluationError, FileExistsError, KeyError) as err:
        print(f"cinn-train track: {err}", file=sys.stderr)
        return 1
    print(table(rows, rho, key), end="")
    print(f"report written to {out}")
    return 0
