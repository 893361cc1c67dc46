"""Invertible building blocks for the cINNs: a fast ``AllInOneBlock``, subnets, a multi-scale flow.

Each module is one invertible operation with FrEIA's ``forward(x, c, rev, jac)`` contract.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import FrEIA.framework as Ff
import FrEIA.modules as Fm
import torch
from torch import Tensor, nn


class AllInOneBlock(Fm.AllInOneBlock):
    """FrEIA's ``AllInOneBlock`` with the same weights and results, computed with fewer passes.

    FrEIA 0.2 permutes channels by multiplying with a permutation matrix (a ``bands × bands``
    matmul per block) and spends most of a dense block's time in element-wise passes over memory
    (concatenating the condition, scaling by 0.1, clamping, ...). Here the permutation is an index
    gather, the condition enters the first subnet layer as a second matmul instead of a
    concatenation, and the affine update is fused (``addcmul``). The state dict is FrEIA's, so
    model files stay compatible; ``tests/core/test_models.py`` checks equality with FrEIA's block.
    """

    def _fast(self) -> bool:
        sub = self.subnet
        return (
            self.input_rank == 0
            and not self.GIN
            and not self.householder
            and not self.reverse_pre_permute
            and isinstance(sub, nn.Sequential)
            and len(sub) == 3
            and isinstance(sub[0], nn.Linear)
            and isinstance(sub[1], nn.ReLU)
            and isinstance(sub[2], nn.Linear)
        )

    def _perm(self) -> Tensor:
        return self.w_perm.reshape(self.in_channels, self.in_channels).argmax(1)

    def _permute(self, x, rev=False):
        if self.GIN or self.householder:
            return super()._permute(x, rev)
        scale = self.global_scale_activation(self.global_scale)
        log_jac = torch.sum(torch.log(scale))
        perm = self._perm()
        if rev:
            inverse = torch.empty_like(perm)
            inverse[perm] = torch.arange(perm.numel(), device=perm.device)
            return (x[:, inverse] - self.global_offset) / scale, log_jac
        return (x * scale + self.global_offset)[:, perm], log_jac

    def forward(self, x, c=[], rev=False, jac=True):  # noqa: B006 (FrEIA's signature)
        if not self._fast():
            return super().forward(x, c=c, rev=rev, jac=jac)
        x = x[0]
        k = self.splits[0]
        lin1, lin2 = self.subnet[0], self.subnet[2]
        scale = self.global_scale_activation(self.global_scale).reshape(-1)
        offset = self.global_offset.reshape(-1)
        perm = self._perm()
        n_pixels_jac = torch.sum(torch.log(scale))
        if rev:
            inverse = torch.empty_like(perm)
            inverse[perm] = torch.arange(perm.numel(), device=perm.device)
            x = (x[:, inverse] - offset) / scale
        x1, x2 = x[:, :k], x[:, k:]
        w1 = lin1.weight
        if self.conditional:
            h = torch.addmm(
                torch.nn.functional.linear(torch.cat(list(c), 1), w1[:, k:], lin1.bias),
                x1,
                w1[:, :k].t(),
            )
        else:
            h = torch.nn.functional.linear(x1, w1, lin1.bias)
        a = torch.nn.functional.linear(h.relu_(), 0.1 * lin2.weight, 0.1 * lin2.bias)
        ch = x2.shape[1]
        s = self.clamp * torch.tanh(a[:, :ch])
        log_det = s.sum(1)
        if not rev:
            y2 = torch.addcmul(a[:, ch:], x2, torch.exp(s))
            out = torch.addcmul(offset, torch.cat((x1, y2), 1), scale)[:, perm]
            return (out,), log_det + n_pixels_jac
        y2 = (x2 - a[:, ch:]) * torch.exp(-s)
        return (torch.cat((x1, y2), 1),), -log_det - n_pixels_jac


def mlp_subnet(hidden: int):
    """Subnet constructor for dense couplings: Linear → ReLU → Linear, last layer zero (identity start)."""

    def make(c_in: int, c_out: int) -> nn.Module:
        net = nn.Sequential(nn.Linear(c_in, hidden), nn.ReLU(), nn.Linear(hidden, c_out))
        nn.init.zeros_(net[-1].weight)
        nn.init.zeros_(net[-1].bias)
        return net

    return make


def conv_subnet(hidden: int):
    """Subnet constructor for image couplings: conv3×3 → ReLU → conv1×1 → ReLU → conv3×3, last zero."""

    def make(c_in: int, c_out: int) -> nn.Module:
        net = nn.Sequential(
            nn.Conv2d(c_in, hidden, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(hidden, hidden, 1),
            nn.ReLU(),
            nn.Conv2d(hidden, c_out, 3, padding=1),
        )
        nn.init.zeros_(net[-1].weight)
        nn.init.zeros_(net[-1].bias)
        return net

    return make


class MultiScaleFlow(nn.Module):
    """Multi-scale invertible network on ``(n, C, H, W)`` images; any H, W divisible by 2**(scales-1).

    Scale ``s`` runs ``blocks_per_scale[s]`` conditional conv couplings at resolution ``H/2**s``;
    between scales a Haar transform trades resolution for channels; from the second scale on, half
    of the channels leave as latent. The latent is returned packed into the input's shape.
    """

    def __init__(
        self,
        channels: int,
        n_cond: int,
        blocks_per_scale: Sequence[int],
        hidden: int,
        clamp: float,
        global_affine_init: float,
        n_seg: int = 0,
    ):
        super().__init__()
        self.channels = channels
        self.n_scales = len(blocks_per_scale)
        self.stages = nn.ModuleList()
        self.haars = nn.ModuleList()
        c = channels
        self.keep: list[int] = []
        self.split: list[bool] = []
        for s, n_blocks in enumerate(blocks_per_scale):
            if s > 0:
                self.haars.append(Fm.HaarDownsampling([(c, 8, 8)]))
                c *= 4
            cond_ch = n_cond + (n_seg if s == 0 else 0)
            stage = Ff.SequenceINN(c, 8, 8)
            for _ in range(n_blocks):
                stage.append(
                    AllInOneBlock,
                    cond=0,
                    cond_shape=(cond_ch, 8, 8),
                    subnet_constructor=conv_subnet(hidden),
                    affine_clamping=clamp,
                    global_affine_init=global_affine_init,
                )
            self.stages.append(stage)
            last = s == len(blocks_per_scale) - 1
            keep = c if last or s == 0 else c // 2
            self.keep.append(keep)
            self.split.append(keep < c)
            c = keep

    def forward(
        self, x: Tensor, conds: Sequence[Tensor], rev: bool = False
    ) -> tuple[Tensor, Tensor]:
        if rev:
            return self._reverse(x, conds)
        n, _, h, w = x.shape
        log_det = x.new_zeros(n)
        zs = []
        for s, stage in enumerate(self.stages):
            if s > 0:
                (x,), j = self.haars[s - 1]([x])
                log_det = log_det + j
            x, j = stage(x, c=[conds[s]])
            log_det = log_det + j
            if self.split[s]:
                zs.append(x[:, self.keep[s] :])
                x = x[:, : self.keep[s]]
        zs.append(x)
        z = torch.cat([t.reshape(n, -1) for t in zs], 1).reshape(n, self.channels, h, w)
        return z, log_det

    def _latent_shapes(self, h: int, w: int) -> list[tuple[int, int, int]]:
        shapes, c = [], self.channels
        for s in range(self.n_scales):
            if s > 0:
                c, h, w = c * 4, h // 2, w // 2
            if self.split[s]:
                shapes.append((c - self.keep[s], h, w))
                c = self.keep[s]
        shapes.append((c, h, w))
        return shapes

    def _reverse(self, z: Tensor, conds: Sequence[Tensor]) -> tuple[Tensor, Tensor]:
        n, _, h, w = z.shape
        flat = z.reshape(n, -1)
        parts, i = [], 0
        for shape in self._latent_shapes(h, w):
            size = math.prod(shape)
            parts.append(flat[:, i : i + size].reshape(n, *shape))
            i += size
        x = parts.pop()
        log_det = z.new_zeros(n)
        for s in reversed(range(self.n_scales)):
            if self.split[s]:
                x = torch.cat([x, parts.pop()], 1)
            x, j = self.stages[s](x, c=[conds[s]], rev=True)
            log_det = log_det + j
            if s > 0:
                (x,), j = self.haars[s - 1]([x.clone()], rev=True)  # FrEIA 0.2 scales in place
                log_det = log_det + j
        return x, log_det
