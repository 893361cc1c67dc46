"""Lightning modules: the cINN of Dreher et al. (maximum likelihood + adversarial) and UNIT.

:class:`CINNModule` trains one ``napari_cinn.core`` :class:`DomainTransferModel` on both domains:

- NLL of a standard-normal latent with the log-det Jacobian, for samples of both domains
  conditioned on their domain (``model.encode``), logged in bits/dim;
- LSGAN losses with one discriminator per domain judging real samples of that domain against
  samples transferred into it (``decode(encode(x | src) | tgt)``), in the target domain's
  standardised coordinates (``model.preprocess``). The adversarial weight is 0 for ``adv_start``
  iterations, then ramps linearly to ``adv_weight`` over ``adv_ramp`` iterations; the
  discriminators train from the first iteration so they are ready when it starts.
- Manual optimisation (Lightning 2): one Adam for the flow (only the flow's parameters, unlike the
  paper's code), one for both discriminators; gradient-norm clipping; a NaN guard that skips a
  step with a non-finite loss or gradient (logged, same decision on every DDP rank) and stops the
  run with a clear message after ``max_bad_steps`` in a row.

Global step: Lightning counts optimiser steps, i.e. 2 per iteration with discriminators (1 without);
configs count *iterations* and ``napari_cinn_training.fit`` converts.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import lightning as L
import numpy as np
import torch
from torch import Tensor, nn

from .config import Config, config_from_dict
from .nets import grad_norm, lsgan_discriminator, lsgan_generator, make_discriminator

DOMAINS = ("sim", "real")
LN2 = math.log(2.0)


class NonFiniteLossError(RuntimeError):
    """Training produced non-finite losses/gradients too many times in a row."""


def build_cinn(cfg: Config, wavelengths) -> nn.Module:
    """The core model for a config; unknown ``model.*`` keys get a did-you-mean message."""
    import difflib

    from napari_cinn.core import build_model

    from .config import ConfigError

    try:
        from napari_cinn.core.models import DEFAULT_HYPER

        known = DEFAULT_HYPER.get(cfg.modality, {})
    except ImportError:  # pragma: no cover - older core
        known = {}
    for key in cfg.model:
        if known and key not in known:
            close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.5)
            hint = f"; did you mean 'model.{close[0]}'?" if close else f"; known: {sorted(known)}"
            raise ConfigError(f"unknown config key 'model.{key}' for a {cfg.modality} cINN{hint}")
    try:
        return build_model(
            cfg.modality,
            wavelengths=np.asarray(wavelengths, float),
            domains=DOMAINS,
            seed=cfg.seed,
            **cfg.model,
        )
    except (TypeError, ValueError) as err:
        raise ConfigError(
            f"cannot build the {cfg.modality} model from the 'model' section: {err}"
        ) from None


def _lr_lambda(cfg: Config, total: int):
    ratio = float(cfg.optim.min_lr_ratio)
    warm_its = max(1, min(50, total // 20))

    def fn(it: int) -> float:
        warm = min(1.0, (it + 1) / warm_its)  # short linear warm-up: INNs dislike a cold large lr
        t = min(1.0, it / max(1, total))
        return warm * (ratio + (1 - ratio) * 0.5 * (1 + math.cos(math.pi * t)))

    return fn


class _Base(L.LightningModule):
    """Shared plumbing: config, optimiser/scheduler set-up, NaN guard, iteration counter."""

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
        metrics = {}
        for k, v in self.trainer.callback_metrics.items():
            try:
                metrics[k] = float(v)
            except (TypeError, ValueError):
                continue
        checkpoint["napari_cinn"] = {
            "metrics": metrics,
            "iteration": int(self.iteration),
            "skipped_steps": int(self.skipped),
            "git_commit": getattr(self, "git_commit", None),
        }


def unit_spectra(x: np.ndarray) -> np.ndarray:
    """Valid spectra ``(n, bands)`` (HSI) scaled to unit L2 norm, float64."""
    x = np.asarray(x, np.float64)
    r = np.linalg.norm(x, axis=1)
    ok = np.isfinite(x).all(1) & (r > 0)
    return x[ok] / r[ok, None]


def gaussian_ot_map(
    src: np.ndarray, dst: np.ndarray, reg: float = 1e-6
) -> tuple[np.ndarray, np.ndarray]:
    """Closed-form optimal-transport (Monge) map between Gaussian fits of ``src`` and ``dst``
    ``(n, bands)``: ``y = x @ A.T + b`` with ``A = Cs^-1/2 (Cs^1/2 Cd Cs^1/2)^1/2 Cs^-1/2`` (as
    ``ot.da.LinearTransport``); returns float32 ``A (bands, bands)``, ``b (bands,)``."""

    def sqrtm(c: np.ndarray, power: float) -> np.ndarray:
        w, v = np.linalg.eigh(0.5 * (c + c.T))
        return (v * np.clip(w, 1e-12, None) ** power) @ v.T

    eye = reg * np.eye(src.shape[1])
    ms, md = src.mean(0), dst.mean(0)
    cs, cd = np.cov(src, rowvar=False) + eye, np.cov(dst, rowvar=False) + eye
    cs_h, cs_ih = sqrtm(cs, 0.5), sqrtm(cs, -0.5)
    A = cs_ih @ sqrtm(cs_h @ cd @ cs_h, 0.5) @ cs_ih
    return A.astype(np.float32), (md - ms @ A.T).astype(np.float32)


class CINNModule(_Base):
    """The cINN trainer (see the module docstring).

    Parameters
    ----------
    config : a :class:`~napari_cinn_training.config.Config` as dict (stored in the checkpoint)
    wavelengths : (bands,) nm
    total_iterations : planned iterations (cosine schedule length)
    manifest : data manifest stored in the checkpoint for the model file's provenance
    """

    def __init__(
        self,
        config: dict[str, Any],
        wavelengths: list[float],
        total_iterations: int = 1000,
        manifest: dict | None = None,
    ):
        super().__init__(config, total_iterations)
        self.save_hyperparameters()
        cfg = self.cfg
        self.model = build_cinn(cfg, wavelengths).train()  # build_model returns eval mode
        bands = len(wavelengths)
        self.discs = nn.ModuleDict()
        if cfg.loss.adv_weight > 0:
            for d in DOMAINS:
                self.discs[d] = make_discriminator(
                    cfg.modality, bands, cfg.disc.hidden, cfg.disc.layers, cfg.disc.spectral_norm
                )
        # per-domain per-band noise scale for augmentation, in units relative to each pixel's norm
        self.register_buffer("noise_scale", torch.zeros(len(DOMAINS), bands))
        # linear OT maps of unit-norm spectra *into* each domain (u -> u @ ot_A[d].T + ot_b[d]),
        # the anchor of the transport term when loss.transport_anchor == "ot-linear"
        self.register_buffer("ot_A", torch.eye(bands).repeat(len(DOMAINS), 1, 1))
        self.register_buffer("ot_b", torch.zeros(len(DOMAINS), bands))
        self.n_classes = int(getattr(self.model, "n_classes", 0))
        self.labeller = None
        if cfg.loss.real_classes == "pseudo" and self.n_classes > 0:
            from .pseudo_labels import PseudoLabeller

            self.labeller = PseudoLabeller(bands, self.n_classes).requires_grad_(False)

    # ---------------------------------------------------------------- set-up from data
    def fit_statistics(self, arrays: dict[str, np.ndarray]) -> None:
        """Fit the model's normalisation and the augmentation scale from raw training data."""
        for i, d in enumerate(DOMAINS):
            x = np.asarray(arrays[d], np.float32)
            self.model.fit_normalization(x, d)
            spectra = np.moveaxis(x, 1, -1).reshape(-1, x.shape[1]) if x.ndim == 4 else x
            if self.model.hyper.get("norm", "none") != "none":
                spectra = spectra / np.linalg.norm(spectra, axis=1, keepdims=True).clip(1e-12)
            self.noise_scale[i] = torch.as_tensor(spectra.std(0))
        if self.cfg.loss.transport_anchor == "ot-linear":
            units = {d: unit_spectra(arrays[d]) for d in DOMAINS}
            for i, d in enumerate(DOMAINS):
                src = DOMAINS[1 - i]
                A, b = gaussian_ot_map(units[src], units[d])
                self.ot_A[i], self.ot_b[i] = torch.as_tensor(A), torch.as_tensor(b)
        if self.cfg.loss.dequantize == "matched":
            self._fit_source_noise(arrays)

    def fit_pseudo_labels(self, sim: np.ndarray, labels: np.ndarray, real: np.ndarray) -> None:
        """Train the real domain's pseudo-labeller (``loss.real_classes=pseudo``) from sim labels."""
        if self.labeller is None:
            return
        from .pseudo_labels import fit_pseudo_labeller

        fitted = fit_pseudo_labeller(sim, labels, real, self.n_classes, seed=self.cfg.seed)
        self.labeller.load_state_dict(fitted.state_dict())

    def _fit_source_noise(self, arrays: dict[str, np.ndarray]) -> None:
        """Each domain's missing noise per band (relative to the pixel norm), into the model."""
        from .noise_level import as_spectra, band_noise, missing_noise

        levels = {}
        for d in DOMAINS:
            x = as_spectra(arrays[d]).astype(np.float64)
            if self.model.hyper.get("norm", "none") != "none":
                x = unit_spectra(x)
            levels[d] = band_noise(x)
        missing = missing_noise(levels)
        for i, d in enumerate(DOMAINS):
            scale = float(self.cfg.loss.dequantize_scale)
            self.model.source_noise[i] = torch.as_tensor(missing[d] * scale)

    def generator_parameters(self):
        return self.model.parameters()

    def discriminator_parameters(self):
        return self.discs.parameters()

    # ---------------------------------------------------------------- pieces
    def _idx(self, d: str, x: Tensor) -> Tensor:
        return torch.full((x.shape[0],), DOMAINS.index(d), dtype=torch.long, device=x.device)

    def _augment(self, x: Tensor, d: str) -> Tensor:
        sigma = self.cfg.loss.noise
        if sigma <= 0:
            return x
        scale = self.noise_scale[DOMAINS.index(d)]
        if x.ndim == 4:
            scale = scale[:, None, None]
        if self.model.hyper.get("norm", "none") != "none":
            scale = scale * x.norm(dim=1, keepdim=True)
        return x + sigma * scale * torch.randn_like(x)

    def _dequantize(self, x: Tensor, d: str) -> Tensor:
        """The domain's missing noise (``loss.dequantize``), then the paper-style augmentation."""
        if self.cfg.loss.dequantize != "none":
            x = self.model.add_source_noise(x, d)
        return self._augment(x, d)

    def _classes(self, batch: dict[str, Tensor], d: str, n: int, ref: Tensor) -> Tensor | None:
        """Class condition: sim labels (with label noise), real: random classes (as the paper)."""
        if self.n_classes == 0:
            return None
        if d == "sim" and "sim_labels" in batch:
            idx = batch["sim_labels"].clamp(0, self.n_classes - 1)
        elif d == "real" and self.labeller is not None:  # soft pseudo-labels (sim-trained)
            with torch.no_grad():
                probs = self.labeller(batch["real"])
            noise = torch.rand_like(probs) * self.cfg.loss.class_noise * probs.amax(1, keepdim=True)
            return (probs + noise) / (probs + noise).sum(1, keepdim=True)
        else:
            idx = torch.randint(self.n_classes, (n,), device=ref.device)
        onehot = nn.functional.one_hot(idx, self.n_classes).to(ref)
        noise = torch.rand_like(onehot) * self.cfg.loss.class_noise
        onehot = onehot + noise
        return onehot / onehot.sum(1, keepdim=True)

    def _anchor(self, x: Tensor, src: str, tgt: str) -> Tensor:
        """Where the transport term wants ``x`` of ``src`` to land, in ``tgt``'s flow coordinates."""
        if self.cfg.loss.transport_anchor == "moment-matching":
            return self._disc_in(x, src)
        i = DOMAINS.index(tgt)
        r = x.norm(dim=1, keepdim=True).clamp_min(1e-12)
        moved = (x / r) @ self.ot_A[i].T + self.ot_b[i]
        return self._disc_in(moved * r, tgt)

    def _judge(self, d: str, v: Tensor) -> Tensor | list[Tensor]:
        """Discriminator ``d`` on flow-coordinate samples, with instance noise if configured."""
        sigma = self.cfg.disc.instance_noise
        return self.discs[d](v + sigma * torch.randn_like(v) if sigma > 0 else v)

    def _disc_in(self, x: Tensor, d: str) -> Tensor:
        return self.model.preprocess(x, self._idx(d, x))

    @staticmethod
    def _nll(z: Tensor, log_det: Tensor) -> Tensor:
        dims = z[0].numel()
        return ((0.5 * (z.reshape(len(z), -1) ** 2).sum(1) - log_det) / dims).mean()

    # ---------------------------------------------------------------- training
    def training_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        opts = self._optimizers()
        opt_g = opts[0]
        x = {d: batch[d] for d in DOMAINS}
        cls = {d: self._classes(batch, d, len(x[d]), x[d]) for d in DOMAINS}
        w_adv = self.adv_weight_now()
        adversarial = len(self.discs) > 0

        if adversarial:
            self.toggle_optimizer(opt_g)
        z, nll = {}, {}
        x = {d: self._dequantize(x[d], d) for d in DOMAINS}  # what the flow models, and moves
        for d in DOMAINS:
            z[d], log_det = self.model.encode(x[d], d, cls[d])
            nll[d] = self._nll(z[d], log_det)
        loss_nll = 0.5 * (nll["sim"] + nll["real"])
        loss = self.cfg.loss.nll_weight * loss_nll
        fakes: dict[str, Tensor] = {}
        w_tr = self.cfg.loss.transport_weight
        if adversarial or w_tr > 0:
            other = {"sim": "real", "real": "sim"}
            with torch.set_grad_enabled(w_adv > 0 or w_tr > 0):
                for src in DOMAINS:
                    tgt = other[src]  # transfer src -> tgt, judged by the discriminator of tgt
                    fakes[tgt] = self._disc_in(self.model.decode(z[src], tgt, cls[src]), tgt)
            if w_tr > 0:
                move = 0.5 * sum(
                    ((fakes[other[d]] - self._anchor(x[d], d, other[d])) ** 2).mean()
                    for d in DOMAINS
                )
                loss = loss + w_tr * move
                self.log("train/transport", move, on_step=True)
            if adversarial and w_adv > 0:
                g = 0.5 * sum(lsgan_generator(self._judge(d, fakes[d])) for d in DOMAINS)
                loss = loss + w_adv * g
                self.log("train/g_loss", g, on_step=True)
        ok = self._step(
            opt_g, loss, list(self.model.parameters()), self.cfg.optim.grad_clip, "flow"
        )
        if adversarial:
            self.untoggle_optimizer(opt_g)
        if ok and adversarial:
            opt_d = opts[1]
            self.toggle_optimizer(opt_d)
            d_loss = 0.5 * sum(
                lsgan_discriminator(
                    self._judge(d, self._disc_in(x[d], d)), self._judge(d, fakes[d].detach())
                )
                for d in DOMAINS
            )
            ok = self._step(
                opt_d, d_loss, list(self.discs.parameters()), self.cfg.optim.disc_grad_clip, "disc"
            )
            self.untoggle_optimizer(opt_d)
            self.log("train/d_loss", d_loss, on_step=True)
        if not ok:
            return
        self._bad_in_row = 0
        self.iteration += 1
        self._schedule_step()
        self.log_dict(
            {
                "train/nll_bpd": loss_nll / LN2,
                "train/nll_sim_bpd": nll["sim"] / LN2,
                "train/nll_real_bpd": nll["real"] / LN2,
                "train/adv_weight": w_adv,
                "train/lr": opt_g.param_groups[0]["lr"],
            },
            on_step=True,
        )
        self.log("train/loss", loss, on_step=True, prog_bar=True)
        self._report(lambda: f"nll {loss_nll.item() / LN2:.3f} bpd, adv w {w_adv:.2f}")

    # ---------------------------------------------------------------- validation
    @staticmethod
    def _moments(v: Tensor) -> tuple[Tensor, Tensor]:
        flat = v.movedim(1, -1).reshape(-1, v.shape[1]) if v.ndim == 4 else v
        flat = flat[torch.isfinite(flat).all(1)]
        return flat.mean(0), flat.std(0)

    def _label_free_scores(self, batch: dict[str, Tensor]) -> dict[str, Tensor]:
        """Figures that need no label: latent health per domain and MMD² of the (stochastic when
        the model can sample) sim→real transfer against unlabelled real validation data, in the
        real domain's standardised coordinates. ``val/mmd_transfer`` can pick checkpoints."""
        from .label_free import mmd2_unbiased

        out = {}
        for d in DOMAINS:  # with the noise training adds: the distribution the flow models
            x_d = batch[d]
            if self.model.can_sample(d):
                x_d = self.model.add_source_noise(x_d, d)
            z_d, _ = self.model.encode(x_d, d)
            z_d = z_d.movedim(1, -1).reshape(-1, z_d.shape[1]) if z_d.ndim == 4 else z_d
            out[f"val/latent_std_{d}"] = z_d.std(0).median()
        fake = self.model.transfer(batch["sim"], "sim", "real", sample=self.model.can_sample("sim"))
        out["val/mmd_transfer"] = mmd2_unbiased(
            self._disc_in(fake, "real"), self._disc_in(batch["real"], "real")
        )
        return out

    def validation_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        xs, xr = batch["sim"], batch["real"]
        nll = {d: self.model.nll(batch[d], d) for d in DOMAINS}
        fake_r = self.model.transfer(xs, "sim", "real")
        back = self.model.transfer(fake_r, "real", "sim")
        ref_m, ref_s = self._moments(self._disc_in(xr, "real"))
        gaps = {}
        for name, v in (
            ("transfer", self._disc_in(fake_r, "real")),
            ("sim", self._disc_in(xs, "real")),
        ):
            m, s = self._moments(v)
            gaps[name] = (m - ref_m).abs().mean() + (s - ref_s).abs().mean()
        rt = (back - xs).abs().amax() / xs.abs().amax().clamp_min(1e-12)
        loss = 0.5 * (nll["sim"] + nll["real"]) / LN2
        scores = self._label_free_scores(batch)
        self.log_dict(scores, sync_dist=True)
        key = self.cfg.trainer.select_by
        if key:  # checkpoint choice: only once the adversarial term is fully on
            ramped = int(self.iteration) >= self.cfg.loss.adv_start + self.cfg.loss.adv_ramp
            if key not in scores:
                raise ValueError(f"trainer.select_by={key!r}: choose one of {sorted(scores)}")
            inf = torch.tensor(float("inf"), device=loss.device)
            self.log("val/select", scores[key] if ramped else inf, sync_dist=True)
        self.log_dict(
            {
                "val/loss": loss,
                "val/nll_sim_bpd": nll["sim"] / LN2,
                "val/nll_real_bpd": nll["real"] / LN2,
                "val/moment_gap_transfer": gaps["transfer"],
                "val/moment_gap_sim": gaps["sim"],
                "val/roundtrip_rel_err": rt,
            },
            sync_dist=True,
            prog_bar=False,
        )
        self.log("val/nll_bpd", loss, sync_dist=True, prog_bar=True)


class UNITModule(_Base):
    """UNIT baseline trainer (see ``napari_cinn_training.baselines.unit``); same data, logging and guards."""

    def __init__(
        self,
        config: dict[str, Any],
        wavelengths: list[float],
        total_iterations: int = 1000,
        manifest: dict | None = None,
    ):
        super().__init__(config, total_iterations)
        self.save_hyperparameters()
        from .baselines.unit import UNITNet

        cfg = self.cfg
        bands = len(wavelengths)
        self.net = UNITNet(cfg.modality, bands, cfg.unit.latent, cfg.unit.hidden)
        self.discs = nn.ModuleDict(
            {
                d: make_discriminator(
                    cfg.modality, bands, cfg.disc.hidden, cfg.disc.layers, cfg.disc.spectral_norm
                )
                for d in DOMAINS
            }
        )

    def fit_statistics(self, arrays: dict[str, np.ndarray]) -> None:
        for d in DOMAINS:
            self.net.fit_statistics(arrays[d], d)

    def generator_parameters(self):
        return self.net.parameters()

    def discriminator_parameters(self):
        return self.discs.parameters()

    def training_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        from .baselines.unit import unit_losses

        opt_g, opt_d = self._optimizers()
        u = self.cfg.unit
        x = {d: self.net.scale(batch[d], d) for d in DOMAINS}
        self.toggle_optimizer(opt_g)
        weights = {
            "recon": u.recon_weight,
            "kl": u.kl_weight,
            "gan": u.gan_weight,
            "cycle": u.cycle_weight,
        }
        loss, parts, fakes = unit_losses(self.net, x["sim"], x["real"], weights, self.discs)
        ok = self._step(opt_g, loss, list(self.net.parameters()), self.cfg.optim.grad_clip, "gen")
        self.untoggle_optimizer(opt_g)
        if ok:
            self.toggle_optimizer(opt_d)
            d_loss = sum(
                lsgan_discriminator(self.discs[d](x[d]), self.discs[d](fakes[d].detach()))
                for d in DOMAINS
            )
            ok = self._step(
                opt_d, d_loss, list(self.discs.parameters()), self.cfg.optim.disc_grad_clip, "disc"
            )
            self.untoggle_optimizer(opt_d)
        if not ok:
            return
        self._bad_in_row = 0
        self.iteration += 1
        self._schedule_step()
        self.log_dict({f"train/{k}": v for k, v in parts.items()}, on_step=True)
        self.log("train/loss", loss, on_step=True, prog_bar=True)
        self._report(
            lambda: (
                f"loss {loss.item():.3f} recon {parts['recon'].item():.3f} "
                f"gan {parts['gan'].item():.3f}"
            )
        )

    def validation_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        fake = self.net.transfer(batch["sim"], "sim", "real")
        ref_m, ref_s = CINNModule._moments(self.net.scale(batch["real"], "real"))
        gaps = {}
        for name, v in (
            ("transfer", self.net.scale(fake, "real")),
            ("sim", self.net.scale(batch["sim"], "real")),
        ):
            m, s = CINNModule._moments(v)
            gaps[name] = (m - ref_m).abs().mean() + (s - ref_s).abs().mean()
        self.log_dict(
            {"val/moment_gap_transfer": gaps["transfer"], "val/moment_gap_sim": gaps["sim"]},
            sync_dist=True,
        )
        self.log("val/loss", gaps["transfer"], sync_dist=True, prog_bar=True)
