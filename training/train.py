"""One training run: the Lightning ``Trainer`` of a config, the loop, the final checkpoint and the
summary. Used by ``cinn-train fit`` (data from folders) and by baselines that train inside
``cinn-train evaluate`` (data from arrays); the caller chooses the Lightning module class, so this
module imports no method.

Global step: Lightning counts optimiser steps, i.e. 2 per iteration with discriminators (1
without); configs count *iterations* and :func:`build_trainer` converts.
"""

from __future__ import annotations

import json
import logging
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .checkpoints import git_commit, scalar_metrics
from .config import Config
from .data import SpectralDataModule, TrainingData, training_arrays


class ModuleClass(Protocol):
    """A :class:`~napari_cinn_training.lightning_base.LightningBase` subclass."""

    def __call__(
        self, config: dict, wavelengths: list[float], total_iterations: int, manifest: Any
    ) -> Any: ...


@dataclass
class TrainResult:
    """The trained module (on the CPU or wherever Lightning left it) and the run summary."""

    module: Any
    summary: dict[str, Any]


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


class _NoTips(logging.Filter):
    """Drops Lightning's advertising lines ("💡 Tip: ... try installing litlogger")."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("💡 Tip")


def _quiet_lightning_tips() -> None:
    log = logging.getLogger("lightning.pytorch.utilities.rank_zero")
    if not any(isinstance(f, _NoTips) for f in log.filters):
        log.addFilter(_NoTips())


def weight_ema(decay: float):
    """Lightning's exponential moving average of the weights (and float buffers), except that
    integer buffers, the iteration and skipped-step counters, follow the run: Lightning's
    ``EMAWeightAveraging`` averages them too, so a checkpoint of a 4096-iteration run said 3597 and
    the validation's "adversarial ramp done" test lagged by 1 / (1 − decay) iterations."""
    from lightning.pytorch.callbacks import WeightAveraging
    from torch.optim.swa_utils import get_ema_avg_fn

    ema = get_ema_avg_fn(decay)

    def average(averaged, current, n_averaged):
        return ema(averaged, current, n_averaged) if averaged.is_floating_point() else current

    return WeightAveraging(avg_fn=average)


def build_trainer(cfg: Config, n_batches: int):
    """The Lightning ``Trainer`` of ``cfg`` for epochs of ``n_batches`` batches.

    Iteration counts of the config (``max_steps``, ``checkpoint_every_n_steps``) become optimiser
    steps; the logging interval and an integer ``val_check_interval`` (batches) are capped at
    ``n_batches`` so that short epochs still log and validate.
    """
    import lightning as L
    from lightning.pytorch.callbacks import ModelCheckpoint

    from .rng_state import RNGState

    _quiet_lightning_tips()  # before the Trainer is built: it logs the tip then

    t = cfg.trainer
    out = Path(t.out_dir)
    spi = steps_per_iteration(cfg)
    n_batches = max(1, int(n_batches))
    val_every = t.val_check_interval
    if isinstance(val_every, int) and not isinstance(val_every, bool):
        val_every = min(val_every, n_batches)
    ckpt = ModelCheckpoint(
        dirpath=str(out / "checkpoints"),
        filename="step{step}",
        auto_insert_metric_name=False,
        save_last=True,
        save_top_k=-1 if t.keep_checkpoints else 0,
        every_n_train_steps=max(1, t.checkpoint_every_n_steps) * spi,
        save_on_train_epoch_end=True,
    )
    callbacks = [ckpt, RNGState()]  # every random stream of every rank in each checkpoint
    if t.ema_decay > 0:  # validation, checkpoints and export see the averaged weights
        callbacks.append(weight_ema(t.ema_decay))
    if t.select_by:  # the label-free checkpoint choice: lowest val/select
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
        strategy=_strategy(cfg, spi == 2),
        precision=t.precision,
        logger=_loggers(out),
        callbacks=callbacks,
        log_every_n_steps=max(1, min(t.log_every_n_steps, n_batches)),
        val_check_interval=val_every,
        enable_progress_bar=t.progress_bar,
        enable_model_summary=True,
        deterministic=t.deterministic,
        use_distributed_sampler=False,  # our EpochSampler splits batches across ranks
        default_root_dir=str(out),
        num_sanity_val_steps=0,
    )


def planned_iterations(cfg: Config, n_batches: int) -> int:
    """Iterations the run will make at most (epochs × batches or ``max_steps``; else 10 000)."""
    by_epochs = cfg.trainer.max_epochs * n_batches if cfg.trainer.max_epochs > 0 else None
    by_steps = cfg.trainer.max_steps if cfg.trainer.max_steps > 0 else None
    options = [v for v in (by_epochs, by_steps) if v]
    return min(options) if options else 10_000


def train(
    cfg: Config,
    data: TrainingData,
    module_class: ModuleClass,
    resume: str | None = None,
    prepare: Callable[[Any, dict[str, np.ndarray]], None] | None = None,
) -> TrainResult:
    """Train ``module_class`` on ``data`` as ``cfg`` says; writes into ``cfg.trainer.out_dir``.

    The module's normalisation statistics come from the training split (unless resuming: the
    checkpoint holds them), then ``prepare(module, arrays)`` runs, if given, on the same arrays
    (e.g. the cINN's pseudo-labeller); the final full-state checkpoint is
    ``checkpoints/last.ckpt`` (and ``best.ckpt`` with ``trainer.select_by``), the summary (wall
    time, iterations, final metrics) ``summary.json``.
    """
    import lightning as L
    import torch

    out = Path(cfg.trainer.out_dir)
    L.seed_everything(cfg.seed, workers=True, verbose=False)
    t0 = time.perf_counter()
    d = cfg.data
    dm = SpectralDataModule(
        data, d.batch_size, d.samples_per_epoch, d.crop, d.val_samples, d.num_workers, cfg.seed
    )
    n_batches = max(1, d.samples_per_epoch // d.batch_size)
    wavelengths = [float(w) for w in data.wavelengths]
    module = module_class(
        cfg.to_dict(), wavelengths, planned_iterations(cfg, n_batches), data.manifest
    )
    module.git_commit = git_commit()
    if resume is None:
        arrays = training_arrays(data.train, cfg.modality, seed=cfg.seed)
        module.fit_statistics(arrays)
        if prepare is not None:
            prepare(module, arrays)
    trainer = build_trainer(cfg, n_batches)
    warnings.filterwarnings("ignore", message=".*dataloader is not resumable.*")  # EpochSampler
    warnings.filterwarnings("ignore", message=".*does not have many workers.*")
    # manual optimisation checkpoints after the step, by design (the docs say so); Lightning
    # would print a 13-line code example at every run
    warnings.filterwarnings("ignore", message=".*no pre-optimization state was saved.*")
    # Lightning's own use of a torch API that torch 2.13 deprecates: nothing a user can act on
    warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\)` is deprecated")
    t_fit = time.perf_counter()
    # a resumed checkpoint is unpickled with weights_only=True: no code in it runs
    trainer.fit(module, datamodule=dm, ckpt_path=resume, weights_only=True)
    fit_s = time.perf_counter() - t_fit
    final = out / "checkpoints" / "last.ckpt"
    trainer.save_checkpoint(str(final), weights_only=False)  # full state, so --resume can go on
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
        "metrics": scalar_metrics(trainer.callback_metrics),
    }
    if trainer.is_global_zero:
        (out / "summary.json").write_text(json.dumps(summary, indent=1))
    return TrainResult(module, summary)
