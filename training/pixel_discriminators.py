"""PAT's pixel discriminators (``disc.pixel_weight``): beside the patch discriminators, one pair
judges single bright pixels as unit-norm spectra (optionally with their depth), the view an
artery/vein pixel classifier reads. No label is read: pixels are drawn by brightness."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .lightning_base import DOMAINS
from .nets import SpectrumDiscriminator, lsgan_discriminator, lsgan_generator


def make_pixel_discriminators(bands: int, with_depth: bool) -> nn.ModuleDict:
    """One dense discriminator per domain on ``(n, bands)`` spectra (``+ 1`` for the depth)."""
    return nn.ModuleDict(
        {d: SpectrumDiscriminator(bands + int(with_depth), 256, 2) for d in DOMAINS}
    )


def pixel_spectra(
    x: Tensor,
    n: int,
    generator: torch.Generator | None = None,
    row0: Tensor | int = 0,
    depth_scale: float = 0.0,
) -> Tensor:
    """``n`` pixels of images ``x`` ``(b, bands, H, W)`` as unit-norm spectra ``(n, bands)``,
    drawn with replacement with probability ∝ squared norm: bright pixels (vessels, skin), whose
    spectral shape a pixel classifier reads, instead of the dark background's noise.

    ``depth_scale > 0`` appends each pixel's image row (``row0``: the crops' first rows ``(b,)``,
    or one int for all) over ``depth_scale``: ``(n, bands + 1)``, so a discriminator judges
    spectrum *and* depth."""
    b, bands, h, w = x.shape
    p = x.movedim(1, -1).reshape(-1, bands)
    power = p.detach().pow(2).sum(1)
    if not bool(torch.isfinite(power).all()) or float(power.sum()) <= 0:
        power = torch.ones_like(power)
    idx = torch.multinomial(power, n, replacement=True, generator=generator)
    q = p[idx]
    q = q / q.norm(dim=1, keepdim=True).clamp_min(1e-12)
    if depth_scale <= 0:
        return q
    off = torch.as_tensor(row0, device=idx.device)
    row = (idx // w) % h + (off[idx // (h * w)] if off.ndim else off)
    return torch.cat([q, (row.to(q.dtype) / depth_scale)[:, None]], 1)


def pixel_generator_loss(discs: nn.ModuleDict, fakes: dict[str, Tensor]) -> Tensor:
    """LSGAN generator term of the transferred pixels, averaged over the two domains."""
    return 0.5 * sum(lsgan_generator(discs[d](fakes[d])) for d in DOMAINS)


def pixel_discriminator_loss(
    discs: nn.ModuleDict, reals: dict[str, Tensor], fakes: dict[str, Tensor]
) -> Tensor:
    """LSGAN discriminator term: each domain's own pixels against the pixels transferred into it."""
    return 0.5 * sum(
        lsgan_discriminator(discs[d](reals[d]), discs[d](fakes[d].detach())) for d in DOMAINS
    )
