"""``cinn-train fit``: train a cINN (or the UNIT baseline) from a YAML config.

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
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from .config import Config, ConfigError, load_config

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
        from .checkpoints import CheckpointError, read_checkpoint

        try:
            stored = read_checkpoint(ckpt_path)["hyper_parameters"]["config"]
        except CheckpointError as err:
            raise ConfigError(f"cannot resume: {err}") from None
        cfg = _from_dict_with_overrides(stored, overrides)
    else:
        cfg = load_config(args.config, overrides)
    if ckpt == "last":
        ckpt = str(Path(cfg.trainer.out_dir) / "checkpoints" / "last.ckpt")
    if ckpt is not None and not Path(ckpt).is_file():
        raise ConfigError(f"cannot resume: checkpoint {ckpt!r} not found")
    if ckpt is not None:
        from .checkpoints import CheckpointError, read_checkpoint

        try:
            read_checkpoint(
                ckpt
            )  # weights_only: a non-checkpoint is refused here, not by Lightning
        except CheckpointError as err:
            raise ConfigError(f"cannot resume: {err}") from None
    return cfg, ckpt


def _from_dict_with_overrides(values: dict, overrides: list[str]) -> Config:
    from .config import apply_override, config_from_dict

    values = json.loads(json.dumps(values))
    for o in overrides:
        apply_override(values, o)
    return config_from_dict(values, "the checkpoint's config")


def _check_out_dir(cfg: Config, resume: str | None, force: bool) -> Path:
    out = Path(cfg.trainer.out_dir)
    ckpts = out / "checkpoints"
    if resume is None and not force and ckpts.is_dir() and any(ckpts.glob("*.ckpt")):
        raise ConfigError(
            f"{ckpts} already holds checkpoints of a run: continue it with --resume last, "
            "or start afresh with --force, or choose another trainer.out_dir / --out-dir"
        )
    # only the launching process: DDP ranks started by Lightning re-run this command
    launcher = os.environ.get("LOCAL_RANK", "0") == "0" and os.environ.get("NODE_RANK", "0") == "0"
    if resume is None and force and launcher:
        _clear_previous_run(out)
    out.mkdir(parents=True, exist_ok=True)
    return out


def _clear_previous_run(out: Path) -> None:
    """``--force``: remove the previous run's checkpoints and logs, which Lightning would keep
    beside the new ones (as ``best-v1.ckpt``), so that ``best.ckpt`` and ``last.ckpt`` could be
    the old run's."""
    import shutil

    old = sorted((out / "checkpoints").glob("*.ckpt"))  # none when the folder is new
    for path in old:
        path.unlink(missing_ok=True)
    shutil.rmtree(out / "logs", ignore_errors=True)
    if old:
        print(
            f"[cinn-train] --force: removed {len(old)} checkpoint(s) of the previous run in {out}"
        )


def _check_teacher(cfg: Config) -> None:
    """``loss.teacher`` must be a readable HSI model file: checked before anything is written."""
    if not cfg.loss.teacher:
        return
    from napari_cinn.core.bundle import read_metadata

    try:
        modality = read_metadata(cfg.loss.teacher)["modality"]
    except (OSError, ValueError) as err:
        raise ConfigError(f"loss.teacher: {err}") from None
    if modality != "hsi":
        raise ConfigError(f"loss.teacher {cfg.loss.teacher}: a {modality.upper()} model, not HSI")


def _pseudo_labels(cfg: Config, data) -> Callable[[Any, dict], None] | None:
    """For ``loss.real_classes: pseudo*``: fit the cINN's real pseudo-labeller on sim labels."""
    if cfg.method != "cinn" or not cfg.loss.real_classes.startswith("pseudo"):
        return None

    def prepare(module, arrays: dict) -> None:
        from .pseudo_labels import labelled_sim_spectra

        sim_x, sim_y = labelled_sim_spectra(data.train["sim"], seed=cfg.seed)
        module.fit_pseudo_labels(sim_x, sim_y, arrays["real"])

    return prepare


def fit(cfg: Config, resume: str | None = None, force: bool = False) -> dict[str, Any]:
    """Train according to ``cfg``; returns the summary (also written to OUT_DIR/summary.json)."""
    import torch

    if cfg.method == "ot":
        raise ConfigError(
            "method 'ot' is fitted inside the evaluation, not trained: use "
            "cinn-train evaluate --method ot (or ot-sinkhorn, ot-emd)"
        )
    if cfg.trainer.num_threads > 0:
        torch.set_num_threads(cfg.trainer.num_threads)
    _check_teacher(cfg)
    out = _check_out_dir(cfg, resume, force)
    (out / "config.yaml").write_text(yaml.safe_dump(cfg.to_dict(), sort_keys=False))

    from .data import prepare_config
    from .train import train

    data = prepare_config(cfg)
    from .domain_checks import check_domains

    check_domains(cfg, data)  # two different data sets; labelled sim data where needed
    print(f"[cinn-train] data: {data.describe()}", flush=True)
    if cfg.method == "unit":
        from .baselines.unit.lit import UNITModule as module_class
    else:
        from .lit import CINNModule as module_class
    result = train(cfg, data, module_class, resume=resume, prepare=_pseudo_labels(cfg, data))
    summary = result.summary
    if result.module.global_rank == 0:
        final = summary["checkpoint"]
        print(
            f"[cinn-train] done: {summary['iterations']} iterations in "
            f"{summary['fit_seconds']:.0f} s; checkpoint {final}\n"
            f"[cinn-train] export with: cinn-train export {final} --out model.safetensors",
            flush=True,
        )
    return summary


def run(args: argparse.Namespace) -> int:
    # idle OpenMP threads sleep instead of spinning, which is much faster on a busy shared CPU
    # (must be set before torch starts its thread pool)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from .checkpoints import CheckpointError
    from .data import DataError
    from .lightning_base import NonFiniteLossError

    try:
        cfg, resume = _resolve(args)
        fit(cfg, resume=resume, force=args.force)
    except (ConfigError, DataError, CheckpointError) as err:
        print(f"cinn-train fit: {' '.join(str(err).split())}", file=sys.stderr)
        return 2
    except NonFiniteLossError as err:
        print(f"cinn-train fit: {err}", file=sys.stderr)
        return 3
    return 0
