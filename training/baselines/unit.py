"""UNIT baseline (Liu, Breuel & Kautz, NeurIPS 2017): a shared-latent VAE-GAN for sim→real transfer.

Two encoders and two generators share their innermost layer, so both domains map to one latent
space; a sample is transferred by ``G_tgt(E_src(x))``. Losses (weights in ``UnitConfig``): VAE
reconstruction (L1) + KL, LSGAN per domain, and cycle reconstruction. Dense nets for spectra
``(n, bands)``, convolutional ones for images ``(n, bands, H, W)`` (H, W even).

Data are scaled like the cINN's: HSI spectra to unit L2 norm (each keeps its own norm on output),
then standardised per domain and band (statistics stored in the file).

Entry points: ``cinn-train fit`` with ``method: unit`` (Lightning module ``napari_cinn_training.lit.UNITModule``),
``cinn-train export`` (writes :func:`save_unit` files), :func:`load_unit`, and :func:`fit` for
``cinn-train evaluate --method unit`` (trains for ``CINN_UNIT_SECONDS`` seconds, default 300, on
the spectra the harness gives it).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

DOMAINS = ("sim", "real")
FORMAT = "napari-cinn-unit/1"


def _dense(sizes: list[int], last_act: bool = True) -> nn.Sequential:
    mods: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        mods.append(nn.Linear(a, b))
        if last_act or i < len(sizes) - 2:
            mods.append(nn.LeakyReLU(0.2))
    return nn.Sequential(*mods)


class UNITNet(nn.Module):
    """Encoders, generators and per-domain standardisation of a UNIT model."""

    def __init__(
        self, modality: str, bands: int, latent: int = 16, hidden: int = 256, norm: str = "l2"
    ):
        super().__init__()
        self.modality, self.bands, self.latent, self.hidden = modality, bands, latent, hidden
        self.norm = norm if modality == "hsi" else "none"
        h, z = hidden, latent
        if modality == "hsi":
            self.enc = nn.ModuleDict({d: _dense([bands, h, h]) for d in DOMAINS})
            self.enc_shared = nn.Linear(h, z)
            self.gen_shared = _dense([z, h])
            self.gen = nn.ModuleDict({d: _dense([h, h, bands], last_act=False) for d in DOMAINS})
        else:

            def enc() -> nn.Sequential:
                return nn.Sequential(
                    nn.Conv2d(bands, h, 3, padding=1),
                    nn.LeakyReLU(0.2),
                    nn.Conv2d(h, 2 * h, 4, stride=2, padding=1),
                    nn.LeakyReLU(0.2),
                )

            def gen() -> nn.Sequential:
                return nn.Sequential(
                    nn.ConvTranspose2d(2 * h, h, 4, stride=2, padding=1),
                    nn.LeakyReLU(0.2),
                    nn.Conv2d(h, bands, 3, padding=1),
                )

            self.enc = nn.ModuleDict({d: enc() for d in DOMAINS})
            self.enc_shared = nn.Conv2d(2 * h, z, 3, padding=1)
            self.gen_shared = nn.Sequential(nn.Conv2d(z, 2 * h, 3, padding=1), nn.LeakyReLU(0.2))
            self.gen = nn.ModuleDict({d: gen() for d in DOMAINS})
        self.register_buffer("mean", torch.zeros(len(DOMAINS), bands))
        self.register_buffer("std", torch.ones(len(DOMAINS), bands))

    def config(self) -> dict[str, Any]:
        return {
            "modality": self.modality,
            "bands": self.bands,
            "latent": self.latent,
            "hidden": self.hidden,
            "norm": self.norm,
        }

    # -------------------------------------------------------------- scaling
    def _stats(self, d: str, x: Tensor) -> tuple[Tensor, Tensor]:
        i = DOMAINS.index(d)
        m, s = self.mean[i], self.std[i]
        return (m[:, None, None], s[:, None, None]) if x.ndim == 4 else (m, s)

    def _unit(self, x: Tensor) -> tuple[Tensor, Tensor]:
        if self.norm == "none":
            return x, torch.ones_like(x[:, :1])
        r = x.abs().sum(1, keepdim=True) if self.norm == "l1" else x.norm(dim=1, keepdim=True)
        return x / r.clamp_min(1e-12), r

    def scale(self, x: Tensor, d: str) -> Tensor:
        """Raw data → standardised network space of domain ``d``."""
        u, _ = self._unit(x)
        m, s = self._stats(d, x)
        return (u - m) / s

    def unscale(self, v: Tensor, d: str, norms: Tensor | None = None) -> Tensor:
        m, s = self._stats(d, v)
        u = v * s + m
        return u if norms is None else u * norms

    @torch.no_grad()
    def fit_statistics(self, x: np.ndarray, d: str) -> None:
        t = torch.as_tensor(np.asarray(x, np.float32))
        u, _ = self._unit(t)
        flat = u.movedim(1, -1).reshape(-1, self.bands) if u.ndim == 4 else u
        i = DOMAINS.index(d)
        self.mean[i] = flat.mean(0)
        self.std[i] = flat.std(0).clamp_min(1e-6)

    # -------------------------------------------------------------- the model
    def encode(self, v: Tensor, d: str) -> Tensor:
        return self.enc_shared(self.enc[d](v))

    def generate(self, z: Tensor, d: str) -> Tensor:
        return self.gen[d](self.gen_shared(z))

    @torch.no_grad()
    def transfer(self, x: Tensor, src: str = "sim", tgt: str = "real") -> Tensor:
        """Raw ``x`` of ``src`` → raw data in ``tgt`` (HSI: each spectrum keeps its own norm)."""
        _, r = self._unit(x)
        out = self.generate(self.encode(self.scale(x, src), src), tgt)
        return self.unscale(out, tgt, None if self.norm == "none" else r)


def unit_losses(
    net: UNITNet, xs: Tensor, xr: Tensor, w: dict[str, float], discs: nn.ModuleDict
) -> tuple[Tensor, dict[str, Tensor], dict[str, Tensor]]:
    """Generator-side UNIT loss for standardised batches; returns (loss, parts, fakes by domain)."""
    from napari_cinn_training.nets import lsgan_generator

    x = {"sim": xs, "real": xr}
    other = {"sim": "real", "real": "sim"}
    mu = {d: net.encode(x[d], d) for d in DOMAINS}
    z = {d: mu[d] + torch.randn_like(mu[d]) for d in DOMAINS}
    recon = sum((net.generate(z[d], d) - x[d]).abs().mean() for d in DOMAINS)
    kl = sum((mu[d] ** 2).mean() for d in DOMAINS)
    fakes = {other[d]: net.generate(z[d], other[d]) for d in DOMAINS}  # fakes[tgt]
    gan = sum(lsgan_generator(discs[t](fakes[t])) for t in DOMAINS)
    cyc, kl_cyc = 0.0, 0.0
    for d in DOMAINS:
        t = other[d]
        mu_c = net.encode(fakes[t], t)
        cyc = cyc + (net.generate(mu_c + torch.randn_like(mu_c), d) - x[d]).abs().mean()
        kl_cyc = kl_cyc + (mu_c**2).mean()
    loss = w["recon"] * recon + w["kl"] * (kl + kl_cyc) + w["gan"] * gan + w["cycle"] * cyc
    return loss, {"recon": recon, "kl": kl, "gan": gan, "cycle": cyc}, fakes


# ------------------------------------------------------------------ files
def save_unit(
    net: UNITNet, path: str | Path, *, overwrite: bool = False, **provenance: Any
) -> Path:
    """Write a UNIT file (safetensors, JSON metadata); atomic, never overwrites without ``overwrite``."""
    from safetensors.torch import save_file

    from napari_cinn.core.files import atomic_targets

    path = Path(path)
    meta = {"format": FORMAT, "method": "unit", **net.config(), "provenance": provenance}
    tensors = {k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}
    with atomic_targets(path, overwrite=overwrite) as (tmp,):
        save_file(tensors, str(tmp), metadata={"napari_cinn_unit": json.dumps(meta, default=str)})
    return path


def load_unit(path: str | Path) -> UNITNet:
    """Read a UNIT file written by :func:`save_unit`."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    path = Path(path)
    with safe_open(str(path), "pt") as fh:
        raw = (fh.metadata() or {}).get("napari_cinn_unit")
    if raw is None:
        raise ValueError(f"{path}: not a UNIT baseline file")
    meta = json.loads(raw)
    net = UNITNet(meta["modality"], meta["bands"], meta["latent"], meta["hidden"], meta["norm"])
    net.load_state_dict(load_file(str(path)))
    return net.eval()


def unit_from_checkpoint(ckpt: dict[str, Any]) -> UNITNet:
    from napari_cinn_training.config import config_from_dict

    hp = ckpt["hyper_parameters"]
    cfg = config_from_dict(hp["config"])
    net = UNITNet(cfg.modality, len(hp["wavelengths"]), cfg.unit.latent, cfg.unit.hidden)
    state = {k[len("net.") :]: v for k, v in ckpt["state_dict"].items() if k.startswith("net.")}
    net.load_state_dict(state)
    return net.eval()


def spectra_transform(
    net: UNITNet, src: str = "sim", tgt: str = "real"
) -> Callable[[np.ndarray], np.ndarray]:
    def transform(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, np.float32)
        out = np.empty_like(x)
        for i in range(0, len(x), 8192):
            out[i : i + 8192] = net.transfer(torch.from_numpy(x[i : i + 8192]), src, tgt).numpy()
        return out

    return transform


def fit(sim_spectra: np.ndarray, real_spectra: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """UNIT (shared-latent VAE-GAN) trained on these spectra for ``CINN_UNIT_SECONDS`` s (default
    300); ``CINN_UNIT_FILE`` instead loads a trained UNIT file."""
    if os.environ.get("CINN_UNIT_FILE"):
        return spectra_transform(load_unit(os.environ["CINN_UNIT_FILE"]))
    seconds = float(os.environ.get("CINN_UNIT_SECONDS", "300"))
    return spectra_transform(fit_unit_on_arrays(sim_spectra, real_spectra, seconds=seconds))


def fit_unit_on_arrays(
    sim: np.ndarray, real: np.ndarray, seconds: float = 300, seed: int = 0, **overrides: Any
) -> UNITNet:
    """Train a spectra UNIT on in-memory ``(n, bands)`` arrays for about ``seconds`` (Lightning)."""
    import tempfile

    import lightning as L

    from napari_cinn_training.config import Config
    from napari_cinn_training.data import SpectralDataModule, from_arrays
    from napari_cinn_training.fit import build_trainer, planned_iterations
    from napari_cinn_training.lit import UNITModule

    cfg = Config(method="unit", modality="hsi", seed=seed)
    cfg.data.batch_size, cfg.data.samples_per_epoch, cfg.data.val_samples = 256, 16384, 2048
    cfg.trainer.max_epochs, cfg.trainer.progress_bar = 1000, False
    cfg.trainer.max_time = {"seconds": float(seconds)}
    cfg.trainer.accelerator, cfg.trainer.devices = "cpu", 1
    cfg.trainer.log_every_n_steps, cfg.trainer.checkpoint_every_n_steps = 100, 10**9
    cfg.optim.scheduler = "none"
    for key, value in overrides.items():
        section, _, name = key.partition("__")
        setattr(getattr(cfg, section), name, value)
    data = from_arrays(sim, real, "hsi")
    L.seed_everything(seed, verbose=False)
    with tempfile.TemporaryDirectory() as tmp:
        cfg.trainer.out_dir = tmp
        n_batches = cfg.data.samples_per_epoch // cfg.data.batch_size
        module = UNITModule(
            cfg.to_dict(), [float(w) for w in data.wavelengths], planned_iterations(cfg, n_batches)
        )
        module.fit_statistics({d: data.train[d].spectra() for d in DOMAINS})
        dm = SpectralDataModule(
            data,
            cfg.data.batch_size,
            cfg.data.samples_per_epoch,
            val_samples=cfg.data.val_samples,
            seed=seed,
        )
        trainer = build_trainer(cfg, n_batches, adversarial=True)
        trainer.fit(module, datamodule=dm)
    return module.net.eval()
