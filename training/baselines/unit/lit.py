"""The UNIT Lightning module for ``cinn-train fit`` with ``method: unit``."""

from __future__ import annotations

from typing import Any

import numpy as np
from torch import Tensor, nn

from ...lightning_base import DOMAINS, LightningBase, spectral_moments
from ...nets import lsgan_discriminator, make_discriminator
from .net import UNITNet, unit_losses


class UNITModule(LightningBase):
    """UNIT trainer for ``cinn-train fit`` with ``method: unit``; the cINN's data, logging and guards."""

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
        if self._step_logged():
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
        ref_m, ref_s = spectral_moments(self.net.scale(batch["real"], "real"))
        gaps = {}
        for name, v in (
            ("transfer", self.net.scale(fake, "real")),
            ("sim", self.net.scale(batch["sim"], "real")),
        ):
            m, s = spectral_moments(v)
            gaps[name] = (m - ref_m).abs().mean() + (s - ref_s).abs().mean()
        self.log_dict(
            {"val/moment_gap_transfer": gaps["transfer"], "val/moment_gap_sim": gaps["sim"]},
            sync_dist=True,
        )
        self.log("val/loss", gaps["transfer"], sync_dist=True, prog_bar=True)
