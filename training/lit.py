"""Lightning module of the cINN of Dreher et al. (maximum likelihood + adversarial).

:class:`CINNModule` trains one ``napari_cinn.core`` :class:`DomainTransferModel` on both domains:

- NLL of a standard-normal latent with the log-det Jacobian, for samples of both domains
  conditioned on their domain (``model.encode``), logged in bits/dim;
- LSGAN losses with one discriminator per domain judging real samples of that domain against
  samples transferred into it (``decode(encode(x | src) | tgt)``), in the target domain's
  standardised coordinates (``model.preprocess``); for images optionally a second pair that judges
  single pixels' unit-norm spectra (``disc.pixel_weight``). The adversarial weight is 0 for ``adv_start``
  iterations, then ramps linearly to ``adv_weight`` over ``adv_ramp`` iterations; the
  discriminators train from the first iteration so they are ready when it starts.
- Manual optimisation (Lightning 2): one Adam for the flow (only the flow's parameters, unlike the
  paper's code), one for both discriminators; gradient-norm clipping and the NaN guard of
  :class:`~napari_cinn_training.lightning_base.LightningBase`.

Global step: Lightning counts optimiser steps, i.e. 2 per iteration with discriminators (1 without);
configs count *iterations* and ``napari_cinn_training.train.build_trainer`` converts.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from .config import Config
from .data import crop_row0
from .label_free import label_free_scores
from .lightning_base import DOMAINS, LN2, LightningBase, spectral_moments
from .linear_ot import gaussian_ot_map, unit_spectra
from .nets import (
    lsgan_discriminator,
    lsgan_generator,
    make_discriminator,
)
from .pixel_discriminators import (
    make_pixel_discriminators,
    pixel_discriminator_loss,
    pixel_generator_loss,
    pixel_spectra,
)
from .rng_state import noise_generator, rand_like, randint, randn_like


def build_cinn(cfg: Config, wavelengths) -> nn.Module:
    """The core model for a config; unknown ``model.*`` keys get a did-you-mean message."""
    import difflib

    from napari_cinn.core import build_model
    from napari_cinn.core.models import DEFAULT_HYPER

    from .config import ConfigError

    known = DEFAULT_HYPER.get(cfg.modality, {})
    for key in cfg.model:
        if key not in known:
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


class CINNModule(LightningBase):
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
        # PAT: discriminators of single pixels' spectral shape (disc.pixel_weight)
        self.pixel_discs = nn.ModuleDict()
        if cfg.loss.adv_weight > 0 and cfg.disc.pixel_weight > 0:
            self.pixel_discs = make_pixel_discriminators(bands, cfg.disc.pixel_depth > 0)
        # per-domain per-band noise scale for augmentation, in units relative to each pixel's norm
        self.register_buffer("noise_scale", torch.zeros(len(DOMAINS), bands))
        # linear OT maps of unit-norm spectra *into* each domain (u -> u @ ot_A[d].T + ot_b[d]),
        # the anchor of the transport term when loss.transport_anchor == "ot-linear"
        self.register_buffer("ot_A", torch.eye(bands).repeat(len(DOMAINS), 1, 1))
        self.register_buffer("ot_b", torch.zeros(len(DOMAINS), bands))
        self.n_classes = int(getattr(self.model, "n_classes", 0))
        self.labeller = None
        if cfg.loss.real_classes.startswith("pseudo") and self.n_classes > 0:
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
        elif self.cfg.loss.dequantize == "camera":
            self._fit_camera_noise(arrays)

    def fit_pseudo_labels(self, sim: np.ndarray, labels: np.ndarray, real: np.ndarray) -> None:
        """Train the real domain's pseudo-labeller (``loss.real_classes=pseudo*``) from sim labels."""
        if self.labeller is None:
            return
        from .pseudo_labels import fit_pseudo_labeller

        loss, data = self.cfg.loss, (sim, labels, real, self.n_classes)
        noisy = loss.real_classes == "pseudo-noisy"
        fitted = fit_pseudo_labeller(*data, seed=self.cfg.seed, noisy=noisy, teacher=loss.teacher)
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

    def _fit_camera_noise(self, arrays: dict[str, np.ndarray]) -> None:
        """Each domain's missing read and shot noise per band (Poisson–Gaussian), into the model.

        Fitted on each domain's spectra in units of its median pixel norm (``ref_norm``, set by
        :meth:`fit_statistics` just before), so that domains of different overall scale compare.
        """
        from .noise_level import as_spectra, camera_noise, missing_noise

        read, shot = {}, {}
        for i, d in enumerate(DOMAINS):
            x = as_spectra(arrays[d]).astype(np.float64) / float(self.model.ref_norm[i])
            read[d], slope = camera_noise(x, seed=self.cfg.seed)
            shot[d] = np.sqrt(slope)  # missing_noise combines stds: the root of the variance slope
        scale = float(self.cfg.loss.dequantize_scale)
        miss_read, miss_shot = missing_noise(read), missing_noise(shot)
        for i, d in enumerate(DOMAINS):
            self.model.source_read[i] = torch.as_tensor(miss_read[d] * scale)
            self.model.source_shot[i] = torch.as_tensor(miss_shot[d] ** 2 * scale**2)

    def generator_parameters(self):
        return self.model.parameters()

    def discriminator_parameters(self):
        return [*self.discs.parameters(), *self.pixel_discs.parameters()]

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
        return x + sigma * scale * randn_like(self, x)  # the module's own, resumable stream

    def _dequantize(self, x: Tensor, d: str) -> Tensor:
        """The domain's missing noise (``loss.dequantize``), then the paper-style augmentation."""
        if self.cfg.loss.dequantize != "none":
            x = self.model.add_source_noise(x, d, noise_generator(self, x.device))
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
            noise = rand_like(self, probs) * self.cfg.loss.class_noise * probs.amax(1, keepdim=True)
            return (probs + noise) / (probs + noise).sum(1, keepdim=True)
        else:
            idx = randint(self, self.n_classes, (n,), ref.device)
        onehot = nn.functional.one_hot(idx, self.n_classes).to(ref)
        noise = rand_like(self, onehot) * self.cfg.loss.class_noise
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
        return self.discs[d](v + sigma * randn_like(self, v) if sigma > 0 else v)

    def _pixels(self, x: Tensor, row0: Tensor | int) -> Tensor:
        """``disc.pixel_samples`` unit-norm pixel spectra of images ``x`` (raw units), drawn ∝
        squared norm from the module's own stream (with their depth if ``disc.pixel_depth``):
        what the pixel discriminators judge."""
        disc = self.cfg.disc
        gen = noise_generator(self, x.device)
        return pixel_spectra(x, disc.pixel_samples, gen, row0, disc.pixel_depth)

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
        row0 = {d: crop_row0(batch, d) for d in DOMAINS}  # PAT crops' depth offsets
        w_adv = self.adv_weight_now()
        adversarial = len(self.discs) > 0
        logged = self._step_logged()

        if adversarial:
            self.toggle_optimizer(opt_g)
        z, nll = {}, {}
        x = {d: self._dequantize(x[d], d) for d in DOMAINS}  # what the flow models, and moves
        for d in DOMAINS:
            z[d], log_det = self.model.encode(x[d], d, cls[d], row0=row0[d])
            nll[d] = self._nll(z[d], log_det)
        loss_nll = 0.5 * (nll["sim"] + nll["real"])
        loss = self.cfg.loss.nll_weight * loss_nll
        fakes: dict[str, Tensor] = {}
        pixels: dict[str, Tensor] = {}  # fake pixel spectra, for disc.pixel_weight
        w_tr = self.cfg.loss.transport_weight
        if adversarial or w_tr > 0:
            other = {"sim": "real", "real": "sim"}
            with torch.set_grad_enabled(w_adv > 0 or w_tr > 0):
                for src in DOMAINS:
                    tgt = other[src]  # transfer src -> tgt, judged by the discriminator of tgt
                    raw = self.model.decode(z[src], tgt, cls[src], row0=row0[src])
                    fakes[tgt] = self._disc_in(raw, tgt)
                    if tgt in self.pixel_discs:
                        pixels[tgt] = self._pixels(raw, row0[src])
            if w_tr > 0:
                move = 0.5 * sum(
                    ((fakes[other[d]] - self._anchor(x[d], d, other[d])) ** 2).mean()
                    for d in DOMAINS
                )
                loss = loss + w_tr * move
                if logged:
                    self.log("train/transport", move, on_step=True)
            if adversarial and w_adv > 0:
                g = 0.5 * sum(lsgan_generator(self._judge(d, fakes[d])) for d in DOMAINS)
                if pixels:
                    g_px = pixel_generator_loss(self.pixel_discs, pixels)
                    g = g + self.cfg.disc.pixel_weight * g_px
                    if logged:
                        self.log("train/g_pixel_loss", g_px, on_step=True)
                loss = loss + w_adv * g
                if logged:
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
            if pixels:
                own = {d: self._pixels(x[d], row0[d]) for d in DOMAINS}
                d_px = pixel_discriminator_loss(self.pixel_discs, own, pixels)
                d_loss = d_loss + self.cfg.disc.pixel_weight * d_px
                if logged:
                    self.log("train/d_pixel_loss", d_px, on_step=True)
            ok = self._step(
                opt_d, d_loss, list(self.discs.parameters()), self.cfg.optim.disc_grad_clip, "disc"
            )
            self.untoggle_optimizer(opt_d)
            if logged:
                self.log("train/d_loss", d_loss, on_step=True)
        if not ok:
            return
        self._bad_in_row = 0
        self.iteration += 1
        self._schedule_step()
        if logged:
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

    def validation_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        xs, xr = batch["sim"], batch["real"]
        nll = {d: self.model.nll(batch[d], d, row0=crop_row0(batch, d)) for d in DOMAINS}
        fake_r = self.model.transfer(xs, "sim", "real", row0=crop_row0(batch, "sim"))
        back = self.model.transfer(fake_r, "real", "sim", row0=crop_row0(batch, "sim"))
        ref_m, ref_s = spectral_moments(self._disc_in(xr, "real"))
        gaps = {}
        for name, v in (
            ("transfer", self._disc_in(fake_r, "real")),
            ("sim", self._disc_in(xs, "real")),
        ):
            m, s = spectral_moments(v)
            gaps[name] = (m - ref_m).abs().mean() + (s - ref_s).abs().mean()
        rt = (back - xs).abs().amax() / xs.abs().amax().clamp_min(1e-12)
        loss = 0.5 * (nll["sim"] + nll["real"]) / LN2
        with_c2st = self.cfg.trainer.select_by == "val/c2st_transfer"  # seconds each time
        scores = label_free_scores(self.model, batch, self._disc_in, with_c2st=with_c2st)
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
