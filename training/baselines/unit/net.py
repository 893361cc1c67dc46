"""The UNIT networks and losses (Liu, Breuel & Kautz, NeurIPS 2017).

Two encoders and two generators share their innermost layer, so both domains map to one latent
space; a sample is transferred by ``G_tgt(E_src(x))``. Dense nets for spectra ``(n, bands)``,
convolutional ones for images ``(n, bands, H, W)`` (H, W even). Data are scaled like the cINN's:
HSI spectra to unit L2 norm (each keeps its own norm on output), then standardised per domain and
band (statistics are buffers, so they travel with the file).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from ...nets import lsgan_generator

DOMAINS = ("sim", "real")


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
