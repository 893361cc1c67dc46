"""Lightning plumbing shared by the trainers (:class:`~napari_cinn_training.lit.CINNModule` and
the UNIT baseline's :class:`~napari_cinn_training.baselines.unit.lit.UNITModule`).

- one Adam for the generator side, one for the discriminators (if any), an optional cosine
  (with a short warm-up) or plateau schedule;
- a NaN guard: a step with a non-finite loss or gradient is skipped (same decision on every DDP
  rank) and the run stops with :class:`NonFiniteLossError` after ``loss.max_bad_steps`` in a row;
- plain progress lines when there is no progress bar; mid-epoch resume;
- checkpoint metadata (``checkpoint["napari_cinn"]``: metrics, iteration, skipped steps, the git
  commit that trained) that ``cinn-train export`` copies into the model file.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import lightning as L
import torch
from torch import Tensor, nn

from .config import Config, config_from_dict
from .nets import grad_norm

DOMAINS = ("sim", "real")
LN2 = math.log(2.0)


class NonFiniteLossError(RuntimeError):
    """Training produced non-finite losses/gradients too many times in a row."""


def _lr_lambda(cfg: Config, total: int):
    ratio = float(cfg.optim.min_lr_ratio)
    warm_its = max(1, min(50, total // 20))

    def fn(it: int) -> float:
        warm = min(1.0, (it + 1) / warm_its)  # short linear warm-up: INNs dislike a cold large lr
        t = min(1.0, it / max(1, total))
        return warm * (ratio + (1 - ratio) * 0.5 * (1 + math.cos(math.pi * t)))

    return fn


class LightningBase(L.LightningModule):
    """Shared plumbing: config, optimiser/scheduler set-up, NaN guard, iteration counter.

    Subclasses define ``generator_parameters()`` and ``discriminator_parameters()`` (may be
    empty), ``fit_statistics(arrays)`` and the training/validation steps; they call
    :meth:`_step` for each optimiser, :meth:`_schedule_step` and :meth:`_report` once an
    iteration succeeded.
    """

    def __init__(self, config: dict[str, Any], total_iterations: int):
        super().__init__()
        self.cfg = config_from_dict(config)
        self.total_iterations = int(total_iterations)
        self.automatic_optimization = False
        self.register_buffer("iteration", torch.zeros((), dtype=torch.long))
        self.register_buffer("skipped", torch.zeros((), dtype=torch.long))
        self._bad_in_row = 0

    # subclasses: generator_parameters(), discriminator_parameters()
    def configure_optimizers(self):
        o = self.cfg.optim
        opt_g = torch.optim.Adam(
            list(self.generator_parameters()),
            lr=o.lr,
            betas=tuple(o.betas),
            weight_decay=o.weight_decay,
        )
        opts = [opt_g]
        d_params = list(self.discriminator_parameters())
        if d_params:
            opts.append(torch.optim.Adam(d_params, lr=o.disc_lr, betas=(0.5, 0.999)))
        if o.scheduler == "cosine":
            sched = torch.optim.lr_scheduler.LambdaLR(
                opt_g, _lr_lambda(self.cfg, self.total_iterations)
            )
        elif o.scheduler == "plateau":
            sched = torch.optim.lr_scheduler.ReduceLROnPlateau(
                opt_g, factor=o.plateau_factor, patience=o.plateau_patience
            )
        else:
            return opts
        return opts, [sched]

    def _optimizers(self):
        opts = self.optimizers()
        return opts if isinstance(opts, list) else [opts]

    def adv_weight_now(self) -> float:
        loss = self.cfg.loss
        it = int(self.iteration)
        if loss.adv_weight <= 0 or it < loss.adv_start:
            return 0.0
        return float(loss.adv_weight) * min(1.0, (it - loss.adv_start + 1) / max(1, loss.adv_ramp))

    def _step_logged(self) -> bool:
        """Whether Lightning writes this training step's figures: every ``log_every_n_steps``, or
        every step under a progress bar. ``self.log`` costs about half a millisecond a call on a
        CPU; skipping it on the other steps made a small HSI fit 8 % faster (800 iterations 46.5 s
        → 42.5 s), and the written figures are the same."""
        trainer = self._trainer
        if trainer is None or trainer.progress_bar_callback is not None:
            return True
        connector = getattr(trainer, "_logger_connector", None)  # Lightning 2.x
        return connector is None or bool(connector.should_update_logs)

    def _all_ranks_ok(self, ok: bool) -> bool:
        return bool(self.trainer.strategy.reduce_boolean_decision(bool(ok), all=True))

    def _skip(self, what: str) -> None:
        """Count a skipped step; stop the run after too many in a row."""
        self.skipped += 1
        self._bad_in_row += 1
        self.log("train/skipped_steps", self.skipped.float(), on_step=True, prog_bar=True)
        if self.global_rank == 0:
            print(
                f"[cinn-train] iteration {int(self.iteration)}: non-finite {what}; step skipped "
                f"({self._bad_in_row} in a row, {int(self.skipped)} in all)",
                flush=True,
            )
        if self._bad_in_row >= self.cfg.loss.max_bad_steps:
            raise NonFiniteLossError(
                f"{self._bad_in_row} training steps in a row gave non-finite {what}: stopping. "
                "Lower optim.lr, lower model.clamp, raise optim.grad_clip strictness, or check the data "
                "for NaN/huge values; resume from the last checkpoint with --resume."
            )

    def _step(self, opt, loss: Tensor, params: list[nn.Parameter], clip: float, what: str) -> bool:
        """Backward + clip + step, unless the loss or the gradient is non-finite (then skip)."""
        if not self._all_ranks_ok(bool(torch.isfinite(loss))):
            self._skip(f"{what} loss")
            return False
        opt.zero_grad(set_to_none=True)
        self.manual_backward(loss)
        norm = grad_norm(params)
        if not self._all_ranks_ok(bool(torch.isfinite(norm))):
            opt.zero_grad(set_to_none=True)
            self._skip(f"{what} gradient")
            return False
        if clip > 0:
            self.clip_gradients(opt, gradient_clip_val=clip, gradient_clip_algorithm="norm")
        opt.step()
        if self._step_logged():
            self.log(f"train/{what}_grad_norm", norm, on_step=True)
        return True

    def _report(self, text: Callable[[], str]) -> None:
        """A plain progress line every ``log_every_n_steps`` iterations when there is no progress bar.

        ``text`` is called only then, so reading losses off the device costs nothing on other steps.
        """
        t = self.cfg.trainer
        if (
            t.progress_bar
            or self.global_rank != 0
            or int(self.iteration) % max(1, t.log_every_n_steps)
        ):
            return
        print(
            f"[cinn-train] it {int(self.iteration)} ep {self.current_epoch} "
            f"{time.perf_counter() - self._t0:.0f}s {text()}",
            flush=True,
        )

    def _schedule_step(self) -> None:
        sched = self.lr_schedulers()
        if sched is not None and self.cfg.optim.scheduler == "cosine":
            sched.step()

    def on_validation_epoch_end(self) -> None:
        sched = self.lr_schedulers()
        metric = self.trainer.callback_metrics.get("val/loss")
        if sched is not None and self.cfg.optim.scheduler == "plateau" and metric is not None:
            sched.step(float(metric))

    def on_train_start(self) -> None:
        self._t0 = time.perf_counter()
        # mid-epoch resume: skip the batches of this epoch that were already trained on
        loop = self.trainer.fit_loop
        sampler = (
            getattr(self.trainer.datamodule, "sampler", None) if self.trainer.datamodule else None
        )
        done = loop.epoch_loop.batch_progress.current.ready
        if sampler is not None and loop.restarting and 0 < done < len(sampler):
            sampler.skip = done

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        from .checkpoints import scalar_metrics

        checkpoint["napari_cinn"] = {
            "metrics": scalar_metrics(self.trainer.callback_metrics),
            "iteration": int(self.iteration),
            "skipped_steps": int(self.skipped),
            "git_commit": getattr(self, "git_commit", None),
        }


def spectral_moments(v: Tensor) -> tuple[Tensor, Tensor]:
    """Per-band mean and std ``(bands,)`` of finite spectra ``(n, bands)`` or ``(n, bands, y, x)``."""
    flat = v.movedim(1, -1).reshape(-1, v.shape[1]) if v.ndim == 4 else v
    flat = flat[torch.isfinite(flat).all(1)]
    return flat.mean(0), flat.std(0)
