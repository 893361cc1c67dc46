"""FrEIA builders for the conditional invertible networks and the model that owns preprocessing.

Two architectures, one interface (:class:`DomainTransferModel`):

- ``"hsi"``: a dense cINN on single spectra ``(n, bands)``: a FrEIA ``SequenceINN`` of
  ``AllInOneBlock`` couplings with MLP subnets, conditioned on the domain one-hot (and optionally a
  tissue-class one-hot), as in Dreher et al.'s HSI model.
- ``"pat"``: a multi-scale convolutional cINN on images ``(n, bands, H, W)``: per scale a stack of
  ``AllInOneBlock`` couplings with conv subnets, Haar downsampling between scales, half of the
  channels leaving as latent after each scale, and the domain broadcast as constant condition maps
  at every scale (optionally a segmentation map at the first scale).

The model transfers a sample between domains by ``x' = f⁻¹(f(x | src) | tgt)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import FrEIA
import FrEIA.framework as Ff
import FrEIA.modules as Fm
import numpy as np
import torch
from torch import Tensor, nn

from .spectra import HSI_WAVELENGTHS, PAT_WAVELENGTHS, check_wavelengths, describe_grid

MODALITIES = ("hsi", "pat")

#: Default hyper-parameters per modality. HSI defaults are a CPU-friendly version of the paper's
#: (40 blocks, 512 hidden); ``PAPER_HSI`` gives the paper's own.
DEFAULT_HYPER: dict[str, dict[str, Any]] = {
    "hsi": {
        "n_blocks": 20,
        "n_cond_blocks": 15,
        "hidden": 256,
        "clamp": 1.0,
        "global_affine_init": 0.7,
        "norm": "l2",
        "intensity_exponent": 0.1,
        "n_classes": 0,
        "standardize": "band",
    },
    "pat": {
        "n_scales": 3,
        "blocks_per_scale": [2, 2, 2],
        "hidden": 32,
        "clamp": 1.0,
        "global_affine_init": 0.7,
        "norm": "none",
        "intensity_exponent": 0.1,
        "n_classes": 0,
        "standardize": "band",
    },
}

PAPER_HSI: dict[str, Any] = {"n_blocks": 40, "n_cond_blocks": 30, "hidden": 512}
PAPER_PAT: dict[str, Any] = {"n_scales": 5, "blocks_per_scale": [4, 2, 1, 1, 2], "hidden": 64}


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
        return (self.input_rank == 0 and not self.GIN and not self.householder
                and not self.reverse_pre_permute and isinstance(sub, nn.Sequential) and len(sub) == 3
                and isinstance(sub[0], nn.Linear) and isinstance(sub[1], nn.ReLU)
                and isinstance(sub[2], nn.Linear))

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
            h = torch.addmm(torch.nn.functional.linear(torch.cat(list(c), 1), w1[:, k:], lin1.bias),
                            x1, w1[:, :k].t())
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


def _mlp_subnet(hidden: int):
    def make(c_in: int, c_out: int) -> nn.Module:
        net = nn.Sequential(nn.Linear(c_in, hidden), nn.ReLU(), nn.Linear(hidden, c_out))
        nn.init.zeros_(net[-1].weight)
        nn.init.zeros_(net[-1].bias)
        return net

    return make


def _conv_subnet(hidden: int):
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

    def __init__(self, channels: int, n_cond: int, blocks_per_scale: Sequence[int], hidden: int,
                 clamp: float, global_affine_init: float, n_seg: int = 0):
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
                stage.append(AllInOneBlock, cond=0, cond_shape=(cond_ch, 8, 8),
                             subnet_constructor=_conv_subnet(hidden),
                             affine_clamping=clamp, global_affine_init=global_affine_init)
            self.stages.append(stage)
            last = s == len(blocks_per_scale) - 1
            keep = c if last or s == 0 else c // 2
            self.keep.append(keep)
            self.split.append(keep < c)
            c = keep

    def forward(self, x: Tensor, conds: Sequence[Tensor], rev: bool = False) -> tuple[Tensor, Tensor]:
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
                zs.append(x[:, self.keep[s]:])
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
            parts.append(flat[:, i:i + size].reshape(n, *shape))
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


class DomainTransferModel(nn.Module):
    """A cINN with its preprocessing: encode, decode and transfer between named domains.

    Inputs are raw data in physical units: HSI spectra ``(n, bands)``, PAT images
    ``(n, bands, H, W)``. Preprocessing (owned here, stored in the model file):

    1. optional per-pixel intensity normalisation ``v = x / r * (r / r0_d) ** e`` with ``r`` the L1/L2
       norm of the spectrum, ``r0_d`` the median norm of domain ``d`` and ``e`` the small
       ``intensity_exponent``. ``e = 0`` is the paper's plain normalisation; a small ``e > 0`` keeps
       the map invertible, so a round trip sim→real→sim returns the input exactly and a transfer
       carries brightness from one domain's scale to the other's.
    2. per-domain standardisation with stored mean and std (per band, or one scalar per domain).

    ``decode`` returns data in physical units again; invalid spectra (all zero or non-finite) give NaN.
    """

    def __init__(self, modality: str, wavelengths, domains: Sequence[str], hyper: dict[str, Any]):
        super().__init__()
        if modality not in MODALITIES:
            raise ValueError(f"unknown modality {modality!r}; choose one of {MODALITIES}")
        self.modality = modality
        self.wavelengths = check_wavelengths(wavelengths)
        self.domains = tuple(str(d) for d in domains)
        if len(self.domains) < 2 or len(set(self.domains)) != len(self.domains):
            raise ValueError(f"need at least two distinct domain names, got {self.domains}")
        self.hyper = dict(hyper)
        h = self.hyper
        if h["norm"] not in ("l1", "l2", "none"):
            raise ValueError(f"unknown normalisation {h['norm']!r}; use 'l1', 'l2' or 'none'")
        if h["standardize"] not in ("band", "global"):
            raise ValueError(f"standardize must be 'band' or 'global', got {h['standardize']!r}")
        n_dom, bands = len(self.domains), self.n_bands
        self.register_buffer("norm_mean", torch.zeros(n_dom, bands))
        self.register_buffer("norm_std", torch.ones(n_dom, bands))
        self.register_buffer("ref_norm", torch.ones(n_dom))
        self.n_classes = int(h.get("n_classes", 0))
        n_cond = n_dom + (self.n_classes if modality == "hsi" else 0)
        if modality == "hsi":
            n_blocks = int(h["n_blocks"])
            n_cond_blocks = min(int(h.get("n_cond_blocks", n_blocks)), n_blocks)
            self.flow = Ff.SequenceINN(bands)
            for i in range(n_blocks):
                cond = {"cond": 0, "cond_shape": (n_cond,)} if i < n_cond_blocks else {}
                self.flow.append(AllInOneBlock, subnet_constructor=_mlp_subnet(int(h["hidden"])),
                                 affine_clamping=float(h["clamp"]),
                                 global_affine_init=float(h["global_affine_init"]), **cond)
            self._has_cond = n_cond_blocks > 0
        else:
            blocks = [int(b) for b in h["blocks_per_scale"]]
            if len(blocks) != int(h["n_scales"]):
                raise ValueError(f"blocks_per_scale {blocks} must list n_scales={h['n_scales']} numbers")
            self.flow = MultiScaleFlow(bands, n_cond, blocks, int(h["hidden"]), float(h["clamp"]),
                                       float(h["global_affine_init"]), n_seg=self.n_classes)

    # ----------------------------------------------------------------- description
    @property
    def n_bands(self) -> int:
        return int(self.wavelengths.size)

    @property
    def spatial_multiple(self) -> int:
        """PAT images must have H and W divisible by this (1 for HSI)."""
        return 2 ** (int(self.hyper["n_scales"]) - 1) if self.modality == "pat" else 1

    def config(self) -> dict[str, Any]:
        """JSON-able description used by the model file (build arguments plus versions)."""
        return {
            "modality": self.modality,
            "wavelengths": [float(w) for w in self.wavelengths],
            "domains": list(self.domains),
            "hyper": self.hyper,
            "freia_version": getattr(FrEIA, "__version__", "0.2"),
        }

    def describe(self) -> str:
        """One line for users: modality, grid and domains."""
        return f"{self.modality.upper()} model, {describe_grid(self.wavelengths)}, domains {'/'.join(self.domains)}"

    def extra_repr(self) -> str:
        return self.describe()

    # ----------------------------------------------------------------- conditions
    def domain_index(self, domain) -> int:
        """Index of a domain given by name or index, with a clear error for unknown names."""
        if isinstance(domain, str):
            if domain not in self.domains:
                raise ValueError(f"unknown domain {domain!r}; this model knows {list(self.domains)}")
            return self.domains.index(domain)
        idx = int(domain)
        if not 0 <= idx < len(self.domains):
            raise ValueError(f"domain index {idx} out of range for domains {list(self.domains)}")
        return idx

    def _domain_onehot(self, domain, n: int, ref: Tensor) -> tuple[Tensor, Tensor]:
        """Return (one-hot or soft condition (n, D), hard indices (n,))."""
        n_dom = len(self.domains)
        if torch.is_tensor(domain) and domain.ndim == 2:
            soft = domain.to(ref)
            return soft, soft.argmax(1)
        if torch.is_tensor(domain) and domain.ndim == 1:
            idx = domain.to(device=ref.device, dtype=torch.long)
        else:
            idx = torch.full((n,), self.domain_index(domain), dtype=torch.long, device=ref.device)
        return nn.functional.one_hot(idx, n_dom).to(ref), idx

    def _class_cond(self, classes, n: int, ref: Tensor) -> Tensor | None:
        if self.n_classes == 0:
            return None
        if classes is None:  # unknown class: uniform (what a user without labels gets)
            if self.modality == "hsi":
                return ref.new_full((n, self.n_classes), 1.0 / self.n_classes)
            return ref.new_full((n, self.n_classes, *ref.shape[2:]), 1.0 / self.n_classes)
        classes = torch.as_tensor(classes, device=ref.device)
        if classes.dtype in (torch.long, torch.int32, torch.int64, torch.int16, torch.uint8):
            oh = nn.functional.one_hot(classes.long(), self.n_classes).to(ref)
            return oh if self.modality == "hsi" else oh.movedim(-1, 1)
        return classes.to(ref)

    def _conditions(self, domain, classes, x: Tensor) -> tuple[list[Tensor], Tensor]:
        n = x.shape[0]
        dom, idx = self._domain_onehot(domain, n, x)
        cls = self._class_cond(classes, n, x)
        if self.modality == "hsi":
            c = dom if cls is None else torch.cat([dom, cls], 1)
            return [c], idx
        conds = []
        h, w = x.shape[2:]
        for s in range(int(self.hyper["n_scales"])):
            hs, ws = h // 2**s, w // 2**s
            maps = dom[:, :, None, None].expand(n, dom.shape[1], hs, ws)
            if s == 0 and cls is not None:
                maps = torch.cat([maps, cls], 1)
            conds.append(maps)
        return conds, idx

    # ----------------------------------------------------------------- preprocessing
    def _stats(self, idx: Tensor, x: Tensor) -> tuple[Tensor, Tensor]:
        mean, std = self.norm_mean[idx], self.norm_std[idx]
        if x.ndim == 4:
            mean, std = mean[:, :, None, None], std[:, :, None, None]
        return mean, std

    def _norms(self, x: Tensor) -> Tensor:
        norm = self.hyper["norm"]
        return x.abs().sum(1, keepdim=True) if norm == "l1" else x.norm(dim=1, keepdim=True)

    def _intensity(self, x: Tensor, idx: Tensor, rev: bool) -> Tensor:
        """Invertible per-pixel intensity normalisation (identity for norm='none')."""
        if self.hyper["norm"] == "none":
            return x
        e = float(self.hyper["intensity_exponent"])
        r0 = self.ref_norm[idx].reshape(-1, *([1] * (x.ndim - 1)))
        r = self._norms(x)
        if not rev:  # v = x / r * (r / r0) ** e
            return x * (r.clamp_min(1e-30) ** (e - 1)) / r0**e
        if e == 0:  # plain normalisation cannot restore brightness: keep unit norm
            return x / r
        # |v| = (r / r0) ** e  =>  r = r0 * |v| ** (1 / e)
        r_out = r0 * r.clamp_min(1e-30) ** (1.0 / e)
        return x / r * r_out

    def preprocess(self, x: Tensor, idx: Tensor) -> Tensor:
        mean, std = self._stats(idx, x)
        return (self._intensity(x, idx, rev=False) - mean) / std

    def postprocess(self, v: Tensor, idx: Tensor) -> Tensor:
        mean, std = self._stats(idx, v)
        return self._intensity(v * std + mean, idx, rev=True)

    @torch.no_grad()
    def fit_normalization(self, x, domain) -> None:
        """Set the stored statistics of ``domain`` from raw training data of that domain.

        ``x``: HSI ``(n, bands)``; PAT ``(n, bands, H, W)``. Invalid spectra are ignored.
        """
        idx = self.domain_index(domain)
        t = torch.as_tensor(np.asarray(x, dtype=np.float32)).to(self.norm_mean.device)
        spectra = t.movedim(1, -1).reshape(-1, self.n_bands) if t.ndim == 4 else t
        valid = torch.isfinite(spectra).all(1) & (spectra.abs().sum(1) > 0)
        spectra = spectra[valid]
        if spectra.shape[0] < 2:
            raise ValueError(f"need at least 2 valid spectra to fit the normalisation of {self.domains[idx]!r}")
        if self.hyper["norm"] != "none":
            self.ref_norm[idx] = self._norms(spectra).median()
            spectra = self._intensity(spectra, torch.full((len(spectra),), idx, device=t.device), rev=False)
        if self.hyper["standardize"] == "band":
            mean, std = spectra.mean(0), spectra.std(0)
        else:
            mean, std = spectra.mean().expand(self.n_bands), spectra.std().expand(self.n_bands)
        self.norm_mean[idx] = mean
        self.norm_std[idx] = std.clamp_min(1e-6 * float(std.max().clamp_min(1e-12)))

    def set_normalization(self, domain, mean, std, ref_norm: float = 1.0) -> None:
        """Set a domain's standardisation statistics explicitly (``(bands,)`` each)."""
        idx = self.domain_index(domain)
        with torch.no_grad():
            self.norm_mean[idx] = torch.as_tensor(mean, dtype=torch.float32)
            self.norm_std[idx] = torch.as_tensor(std, dtype=torch.float32)
            self.ref_norm[idx] = float(ref_norm)

    # ----------------------------------------------------------------- the method
    def _check_input(self, x: Tensor) -> Tensor:
        want = 2 if self.modality == "hsi" else 4
        if x.ndim != want or x.shape[1] != self.n_bands:
            shape = "(n, bands)" if want == 2 else "(n, bands, H, W)"
            raise ValueError(f"{self.modality.upper()} model expects {shape} with {self.n_bands} bands, "
                             f"got shape {tuple(x.shape)}")
        if want == 4 and (x.shape[2] % self.spatial_multiple or x.shape[3] % self.spatial_multiple):
            raise ValueError(f"PAT image height and width must be multiples of {self.spatial_multiple}, "
                             f"got {tuple(x.shape[2:])} (transfer_image pads for you)")
        return x

    def _flow(self, x: Tensor, conds: list[Tensor], rev: bool) -> tuple[Tensor, Tensor]:
        if self.modality == "pat":
            return self.flow(x, conds, rev=rev)
        return self.flow(x, c=conds if self._has_cond else None, rev=rev)

    def encode(self, x: Tensor, domain, classes=None) -> tuple[Tensor, Tensor]:
        """Latent code ``z`` (same shape as ``x``) and log|det J| ``(n,)`` of ``x`` under ``domain``."""
        x = self._check_input(torch.as_tensor(x))
        conds, idx = self._conditions(domain, classes, x)
        return self._flow(self.preprocess(x, idx), conds, rev=False)

    def decode(self, z: Tensor, domain, classes=None) -> Tensor:
        """Data in ``domain`` (physical units) for latent codes ``z``."""
        z = self._check_input(torch.as_tensor(z))
        conds, idx = self._conditions(domain, classes, z)
        v, _ = self._flow(z, conds, rev=True)
        return self.postprocess(v, idx)

    def transfer(self, x: Tensor, src, tgt, classes=None) -> Tensor:
        """``f⁻¹(f(x | src) | tgt)``: map samples of domain ``src`` into domain ``tgt``."""
        z, _ = self.encode(x, src, classes)
        return self.decode(z, tgt, classes)

    def log_likelihood(self, x: Tensor, domain, classes=None) -> Tensor:
        """log p(x | domain) per dimension (nats) in the standardised space.

        HSI: ``(n,)`` per spectrum. PAT: ``(n,)`` per image. Higher means more typical of ``domain``.
        """
        z, log_det = self.encode(x, domain, classes)
        dims = z[0].numel()
        log_pz = -0.5 * (z.reshape(len(z), -1) ** 2).sum(1) - 0.5 * dims * math.log(2 * math.pi)
        return (log_pz + log_det) / dims

    def nll(self, x: Tensor, domain, classes=None) -> Tensor:
        """Training loss: mean over the batch of (0.5‖z‖² − log|det J|) / dims."""
        z, log_det = self.encode(x, domain, classes)
        dims = z[0].numel()
        return ((0.5 * (z.reshape(len(z), -1) ** 2).sum(1) - log_det) / dims).mean()


def build_model(modality: str = "hsi", wavelengths=None, domains: Sequence[str] = ("sim", "real"),
                seed: int | None = 0, **hyper) -> DomainTransferModel:
    """Build a fresh :class:`DomainTransferModel`.

    Parameters
    ----------
    modality : "hsi" (dense cINN on spectra) or "pat" (multi-scale conv cINN on images)
    wavelengths : (bands,) nm; defaults to 100 bands 500–995 nm (HSI) or 16 bands 700–850 nm (PAT)
    domains : domain names, the condition's one-hot order
    seed : seeds the random channel permutations so a build is reproducible (None: random)
    **hyper : overrides of :data:`DEFAULT_HYPER` (unknown names are refused)
    """
    if modality not in MODALITIES:
        raise ValueError(f"unknown modality {modality!r}; choose one of {MODALITIES}")
    defaults = DEFAULT_HYPER[modality]
    unknown = sorted(set(hyper) - set(defaults))
    if unknown:
        raise ValueError(f"unknown {modality} hyper-parameter(s) {unknown}; known: {sorted(defaults)}")
    merged = {**defaults, **hyper}
    if modality == "pat" and "n_scales" in hyper and "blocks_per_scale" not in hyper:
        merged["blocks_per_scale"] = [2] * int(hyper["n_scales"])
    if "blocks_per_scale" in merged:
        merged["blocks_per_scale"] = [int(b) for b in merged["blocks_per_scale"]]
    if modality == "hsi" and "n_blocks" in hyper and "n_cond_blocks" not in hyper:
        merged["n_cond_blocks"] = max(1, round(0.75 * int(hyper["n_blocks"])))
    if wavelengths is None:
        wavelengths = HSI_WAVELENGTHS if modality == "hsi" else PAT_WAVELENGTHS
    if seed is None:
        model = DomainTransferModel(modality, wavelengths, domains, merged)
    else:  # FrEIA 0.2 draws AllInOneBlock permutations from NumPy's global RNG: seed both, then restore
        state = np.random.get_state()  # noqa: NPY002
        np.random.seed(seed)  # noqa: NPY002
        try:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                model = DomainTransferModel(modality, wavelengths, domains, merged)
        finally:
            np.random.set_state(state)  # noqa: NPY002
    return model.eval()
