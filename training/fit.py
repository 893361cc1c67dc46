"""``cinn-train fit``: train a cINN (or the UNIT / OT baseline) from a YAML config.

Lightning does the loop, checkpoints, resume, logging (CSV, TensorBoard when installed), progress
bars, mixed precision and multi-GPU DDP. A run writes into ``trainer.out_dir``::

    checkpoints/last.ckpt   refreshed every trainer.checkpoint_every_n_steps iterations and at the end
    logs/                   CSV (and TensorBoard) metrics
    config.yaml             the resolved config
    summary.json            wall time, iterations, final metrics

Then ``cinn-train export OUT_DIR/checkpoints/last.ckpt --out model.safetensors``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import yaml

from .config import Config, ConfigError, load_config

log = logging.getLogger(__name__)

_FLAG_KEYS = {  # command-line flag -> config key
    "devices": "trainer.devices",
    "accelerator": "trainer.accelerator",
    "strategy": "trainer.strategy",
    "precision": "trainer.precision",
    "num_nodes": "trainer.num_nodes",
    "max_time": "trainer.max_time",
    "max_epochs": "trainer.max_epochs",
    "max_steps": "trainer.max_steps",
    "out_dir": "trainer.out_dir",
    "seed": "seed",
    "num_threads": "trainer.num_threads",
}


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Train a domain-transfer model from a YAML config (see training/configs/). Any config key "
        "can be overridden as key=value, e.g. optim.lr=3e-4 trainer.max_epochs=5 model.n_blocks=12. "
        "Unknown keys are refused with the nearest valid name."
    )
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = (
        "examples:\n"
        "  cinn-train fit --config training/configs/hsi_sample.yaml\n"
        "  cinn-train fit --config training/configs/hsi_paper.yaml --devices 4 --strategy ddp\n"
        "  cinn-train fit --resume runs/hsi_sample/checkpoints/last.ckpt trainer.max_epochs=40"
    )
    parser.add_argument(
        "--config",
        metavar="YAML",
        help="config file (optional with --resume: the checkpoint holds its config)",
    )
    parser.add_argument(
        "overrides",
        nargs="*",
        metavar="KEY=VALUE",
        help="config overrides, e.g. optim.lr=3e-4 data.batch_size=512",
    )
    parser.add_argument(
        "--resume",
        metavar="CKPT",
        help="continue a run from a checkpoint; 'last' means "
        "OUT_DIR/checkpoints/last.ckpt of the configured run",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="start afresh even if OUT_DIR already holds "
        "checkpoints of another run (they are overwritten)",
    )
    parser.add_argument("--devices", help="number of devices or a list like 0,1 (trainer.devices)")
    parser.add_argument("--accelerator", help="cpu, gpu, mps or auto (trainer.accelerator)")
    parser.add_argument(
        "--strategy",
        help="auto, ddp, ddp_spawn, fsdp ... (trainer.strategy); ddp is "
        "made to tolerate the discriminators' unused parameters automatically",
    )
    parser.add_argument(
        "--num-nodes", dest="num_nodes", type=int, help="machines for multi-node DDP"
    )
    parser.add_argument(
        "--precision", help="32-true (default), 16-mixed, bf16-mixed (trainer.precision)"
    )
    parser.add_argument(
        "--max-time",
        dest="max_time",
        help="wall-clock budget DD:HH:MM:SS, e.g. 00:00:14:00; "
        "the run stops cleanly and saves a checkpoint",
    )
    parser.add_argument("--max-epochs", dest="max_epochs", type=int, help="trainer.max_epochs")
    parser.add_argument(
        "--max-steps", dest="max_steps", type=int, help="trainer.max_steps (iterations)"
    )
    parser.add_argument("--out-dir", dest="out_dir", help="run folder (trainer.out_dir)")
    parser.add_argument("--seed", type=int, help="random seed (data split, init, sampling)")
    parser.add_argument("--num-threads", dest="num_threads", type=int, help="torch CPU threads")
    parser.add_argument(
        "--no-progress",
        dest="no_progress",
        action="store_true",
        help="no progress bar (for logs written to a file)",
    )


def _resolve(args: argparse.Namespace) -> tuple[Config, str | None]:
    overrides = list(args.overrides or [])
    for flag, key in _FLAG_KEYS.items():
        value = getattr(args, flag, None)
        if value is not None:
            overrides.append(f"{key}={value}")
    if args.no_progress:
        overrides.append("trainer.progress_bar=false")
    ckpt = args.resume
    if args.config is None and ckpt is None:
        raise ConfigError("give --config X.yaml (or --resume CKPT to continue a run)")
    if args.config is None:
        ckpt_path = Path(ckpt)
        if not ckpt_path.is_file():
            raise ConfigError(f"checkpoint {ckpt!r} not found")
        from .export import read_checkpoint

        stored = read_checkpoint(ckpt_path)["hyper_parameters"]["config"]
        cfg = _from_dict_with_overrides(stored, overrides)
    else:
        cfg = load_config(args.config, overrides)
    if ckpt == "last":
        ckpt = str(Path(cfg.trainer.out_dir) / "checkpoints" / "last.ckpt")
    if ckpt is not None and not Path(ckpt).is_file():
        raise ConfigError(f"cannot resume: checkpoint {ckpt!r} not found")
    return cfg, ckpt


def _from_dict_with_overrides(values: dict, overrides: list[str]) -> Config:
    from .config import apply_override, config_from_dict

    values = json.loads(json.dumps(values))
    for o in overrides:
        apply_override(values, o)
    return config_from_dict(values, "the checkpoint's config")


def _strategy(cfg: Config, adversarial: bool) -> Any:
    s = str(cfg.trainer.strategy)
    if adversarial and s in ("ddp", "ddp_spawn", "ddp_fork", "ddp_notebook"):
        return f"{s}_find_unused_parameters_true"
    return s


def _devices(value: Any) -> Any:
    if isinstance(value, str) and "," in value:
        return [int(v) for v in value.split(",") if v.strip()]
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return value


def _loggers(out_dir: Path) -> list:
    from lightning.pytorch.loggers import CSVLogger

    loggers = [CSVLogger(str(out_dir), name="logs", version="")]
    try:
        import tensorboard  # noqa: F401
        from lightning.pytorch.loggers import TensorBoardLogger

        loggers.append(TensorBoardLogger(str(out_dir), name="logs", version="tb"))
    except ImportError:
        pass
    return loggers


def steps_per_iteration(cfg: Config) -> int:
    """Optimiser steps Lightning counts per iteration (flow + discriminators)."""
    if cfg.method == "unit":
        return 2
    return 2 if cfg.loss.adv_weight > 0 else 1


def build_trainer(cfg: Config, n_batches: int, adversarial: bool):
    import lightning as L
    from lightning.pytorch.callbacks import ModelCheckpoint

    t = cfg.trainer
    out = Path(t.out_dir)
    spi = 2 if adversarial else 1
    ckpt = ModelCheckpoint(
        dirpath=str(out / "checkpoints"),
        filename="step{step}",
        auto_insert_metric_name=False,
        save_last=True,
        save_top_k=-1 if t.keep_checkpoints else 0,
        every_n_train_steps=max(1, t.checkpoint_every_n_steps) * spi,
        save_on_train_epoch_end=True,
    )
    callbacks = [ckpt]
    if t.select_by:
        callbacks.append(
            ModelCheckpoint(
                dirpath=str(out / "checkpoints"),
                filename="best",
                monitor="val/select",
                mode="min",
                save_top_k=1,
                auto_insert_metric_name=False,
            )
        )
    return L.Trainer(
        max_epochs=t.max_epochs,
        max_steps=t.max_steps * spi if t.max_steps > 0 else -1,
        max_time=t.max_time,
        accelerator=t.accelerator,
        devices=_devices(t.devices),
        num_nodes=t.num_nodes,
        strategy=_strategy(cfg, adversarial),
        precision=t.precision,
        logger=_loggers(out),
        callbacks=callbacks,
        log_every_n_steps=t.log_every_n_steps,
        val_check_interval=t.val_check_interval,
        enable_progress_bar=t.progress_bar,
        enable_model_summary=True,
        deterministic=t.deterministic,
        use_distributed_sampler=False,  # our EpochSampler splits batches across ranks
        default_root_dir=str(out),
        num_sanity_val_steps=0,
    )


def planned_iterations(cfg: Config, n_batches: int) -> int:
    by_epochs = cfg.trainer.max_epochs * n_batches if cfg.trainer.max_epochs > 0 else None
    by_steps = cfg.trainer.max_steps if cfg.trainer.max_steps > 0 else None
    options = [v for v in (by_epochs, by_steps) if v]
    return min(options) if options else 10_000


def _check_out_dir(cfg: Config, resume: str | None, force: bool) -> Path:
    out = Path(cfg.trainer.out_dir)
    ckpts = out / "checkpoints"
    if resume is None and not force and ckpts.is_dir() and any(ckpts.glob("*.ckpt")):
        raise ConfigError(
            f"{ckpts} already holds checkpoints of a run: continue it with --resume last, "
            "or start afresh with --force, or choose another trainer.out_dir / --out-dir"
        )
    out.mkdir(parents=True, exist_ok=True)
    return out


def fit(cfg: Config, resume: str | None = None, force: bool = False) -> dict[str, Any]:
    """Train according to ``cfg``; returns the summary (also written to OUT_DIR/summary.json)."""
    import torch

    if cfg.trainer.num_threads > 0:
        torch.set_num_threads(cfg.trainer.num_threads)
    out = _check_out_dir(cfg, resume, force)
    (out / "config.yaml").write_text(yaml.safe_dump(cfg.to_dict(), sort_keys=False))
    if cfg.method == "ot":
        from .baselines.ot import fit_ot

        return fit_ot(cfg)

    import lightning as L

    from .data import Sampling, SpectralDataModule, prepare, training_arrays

    L.seed_everything(cfg.seed, workers=True, verbose=False)
    t0 = time.perf_counter()
    d = cfg.data
    data = prepare(
        d.sim,
        d.real,
        cfg.modality,
        val_fraction=d.val_fraction,
        seed=cfg.seed,
        background=d.background,
        sampling=Sampling.from_config(d),
    )
    print(f"[cinn-train] data: {data.describe()}", flush=True)
    dm = SpectralDataModule(
        data, d.batch_size, d.samples_per_epoch, d.crop, d.val_samples, d.num_workers, cfg.seed
    )
    n_batches = max(1, d.samples_per_epoch // d.batch_size)
    total = planned_iterations(cfg, n_batches)
    wl = [float(w) for w in data.wavelengths]
    if cfg.method == "unit":
        from .lit import UNITModule

        module = UNITModule(cfg.to_dict(), wl, total, data.manifest)
        adversarial = True
    else:
        from .lit import CINNModule

        module = CINNModule(cfg.to_dict(), wl, total, data.manifest)
        adversarial = cfg.loss.adv_weight > 0
    from .export import git_commit

    module.git_commit = git_commit()
    if resume is None:
        arrays = training_arrays(data.train, cfg.modality, seed=cfg.seed)
        module.fit_statistics(arrays)
        if cfg.method == "cinn" and cfg.loss.real_classes == "pseudo":
            from .pseudo_labels import labelled_sim_spectra

            sim_x, sim_y = labelled_sim_spectra(data.train["sim"], seed=cfg.seed)
            module.fit_pseudo_labels(sim_x, sim_y, arrays["real"])
    trainer = build_trainer(cfg, n_batches, adversarial)
    warnings.filterwarnings(
        "ignore", message=".*dataloader is not resumable.*"
    )  # EpochSampler skips
    warnings.filterwarnings("ignore", message=".*does not have many workers.*")
    t_fit = time.perf_counter()
    # a resumed checkpoint is unpickled with weights_only=True: no code in it runs
    trainer.fit(module, datamodule=dm, ckpt_path=resume, weights_only=True)
    fit_s = time.perf_counter() - t_fit
    final = out / "checkpoints" / "last.ckpt"
    trainer.save_checkpoint(str(final), weights_only=False)  # full state, so --resume can go on
    metrics = {}
    for k, v in trainer.callback_metrics.items():
        try:
            metrics[k] = float(v)
        except (TypeError, ValueError):
            continue
    summary = {
        "method": cfg.method,
        "modality": cfg.modality,
        "seed": cfg.seed,
        "fit_seconds": round(fit_s, 1),
        "total_seconds": round(time.perf_counter() - t0, 1),
        "iterations": int(module.iteration),
        "global_step": int(trainer.global_step),
        "epochs": int(trainer.current_epoch),
        "skipped_steps": int(module.skipped),
        "torch_threads": torch.get_num_threads(),
        "checkpoint": str(final),
        "resumed_from": resume,
        "metrics": metrics,
    }
    if trainer.is_global_zero:
        (out / "summary.json").write_text(json.dumps(summary, indent=1))
        print(
            f"[cinn-train] done: {summary['iterations']} iterations in {fit_s:.0f} s; "
            f"checkpoint {final}\n[cinn-train] export with: cinn-train export {final} --out model.safetensors",
            flush=True,
        )
    return summary


def run(args: argparse.Namespace) -> int:
    # idle OpenMP threads sleep instead of spinning: on a busy shared CPU, spinning threads made
    # training 3-5x slower here (must be set before torch starts its thread pool)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from .data import DataError
    from .lit import NonFiniteLossError

    try:
        cfg, resume = _resolve(args)
        fit(cfg, resume=resume, force=args.force)
    except (ConfigError, DataError) as err:
        print(f"cinn-train fit: {err}", file=sys.stderr)
        return 2
    except NonFiniteLossError as err:
        print(f"cinn-train fit: {err}", file=sys.stderr)
        return 3
    return 0
