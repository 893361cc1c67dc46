"""Training-only networks: discriminators (dense for spectra, multi-scale PatchGAN for images) and
the least-squares GAN losses (Mao et al. 2017) used by the cINN and the UNIT baseline.

Shapes: spectra ``(n, bands)``; images ``(n, bands, H, W)``.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F


class SpectrumDiscriminator(nn.Module):
    """MLP ``bands → hidden (× layers) → bands``: one logit per band, as in the paper's code."""

    def __init__(self, bands: int, hidden: int = 256, layers: int = 2):
        super().__init__()
        mods: list[nn.Module] = []
        width = bands
        for _ in range(max(1, layers)):
            mods += [nn.Linear(width, hidden), nn.LeakyReLU(0.2)]
            width = hidden
        mods.append(nn.Linear(width, bands))
        self.net = nn.Sequential(*mods)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class PatchDiscriminator(nn.Module):
    """PatchGAN at two scales (full and half resolution): a list of logit maps."""

    def __init__(self, bands: int, hidden: int = 32, layers: int = 3, scales: int = 2):
        super().__init__()
        self.nets = nn.ModuleList(self._one(bands, hidden, layers) for _ in range(scales))

    @staticmethod
    def _one(bands: int, hidden: int, layers: int) -> nn.Sequential:
        mods: list[nn.Module] = []
        c_in, c = bands, hidden
        for _ in range(max(1, layers)):
            mods += [nn.Conv2d(c_in, c, 4, stride=2, padding=1), nn.LeakyReLU(0.2)]
            c_in, c = c, min(c * 2, 8 * hidden)
        mods.append(nn.Conv2d(c_in, 1, 3, padding=1))
        return nn.Sequential(*mods)

    def forward(self, x: Tensor) -> list[Tensor]:
        outs = []
        for i, net in enumerate(self.nets):
            outs.append(net(x if i == 0 else F.avg_pool2d(x, 2**i)))
        return outs


def make_discriminator(
    modality: str, bands: int, hidden: int, layers: int, spectral_norm: bool = False
) -> nn.Module:
    """Dense (HSI) or PatchGAN (PAT) discriminator; ``spectral_norm`` wraps every layer."""
    net = (
        SpectrumDiscriminator(bands, hidden, layers)
        if modality == "hsi"
        else PatchDiscriminator(bands, hidden, layers)
    )
    if spectral_norm:
        from torch.nn.utils.parametrizations import spectral_norm as sn

        for parent in list(net.modules()):
            for name, child in list(parent.named_children()):
                if isinstance(child, nn.Linear | nn.Conv2d):
                    setattr(parent, name, sn(child))
    return net


def _as_list(logits: Tensor | list[Tensor]) -> list[Tensor]:
    return logits if isinstance(logits, list) else [logits]


def lsgan_generator(fake_logits: Tensor | list[Tensor]) -> Tensor:
    """Generator loss: mean (D(fake) − 1)²."""
    parts = _as_list(fake_logits)
    return sum(((f - 1) ** 2).mean() for f in parts) / len(parts)


def lsgan_discriminator(
    real_logits: Tensor | list[Tensor], fake_logits: Tensor | list[Tensor]
) -> Tensor:
    """Discriminator loss: ½ mean (D(real) − 1)² + ½ mean D(fake)²."""
    reals, fakes = _as_list(real_logits), _as_list(fake_logits)
    total = sum(
        0.5 * ((r - 1) ** 2).mean() + 0.5 * (f**2).mean() for r, f in zip(reals, fakes, strict=True)
    )
    return total / len(reals)


def grad_norm(params) -> Tensor:
    """Global L2 norm of the gradients of ``params`` (0 if none)."""
    norms = [p.grad.detach().norm() for p in params if p.grad is not None]
    return torch.stack(norms).norm() if norms else torch.zeros(())
