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
import numpy as np
import torch
from torch import Tensor, nn

from .blocks import AllInOneBlock, MultiScaleFlow, mlp_subnet
from .dense_plan import plan_for, plan_supported
from .model_checks import check_hyper
from .preprocessing import PreprocessingMixin
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
        # for UDT-cINN imports (docs/readers.md): FrEIA's reverse_permutation; e = 0 decodes to
        # unit norm (True) or only undoes the standardisation (False); condition class names
        "reverse_permutation": False,
        "unit_norm_output": True,
        "class_names": [],
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
        # > 0: one more condition map, the image row over this many pixels (depth below the
        # probe, known in every domain without labels; the real fluence colours with depth)
        "depth_condition": 0.0,
    },
}

PAPER_HSI: dict[str, Any] = {"n_blocks": 40, "n_cond_blocks": 30, "hidden": 512}
PAPER_PAT: dict[str, Any] = {"n_scales": 5, "blocks_per_scale": [4, 2, 1, 1, 2], "hidden": 64}


class DomainTransferModel(PreprocessingMixin, nn.Module):
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

    #: state entries a model file may lack (written before they existed); they default to zero
    OPTIONAL_STATE = ("source_noise", "source_read", "source_shot", "image_spread")

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
        # per-domain, per-band std of the noise a domain lacks compared with the others (relative
        # to each pixel's norm; zero = none): training adds it (dequantisation of a noise-free
        # simulation) and a stochastic transfer draws it, see :meth:`add_source_noise`
        self.register_buffer("source_noise", torch.zeros(n_dom, bands))
        # the same as a camera's read noise (std) and shot noise (variance per unit of signal), in
        # units of the domain's median pixel norm (``dequantize: camera``)
        self.register_buffer("source_read", torch.zeros(n_dom, bands))
        self.register_buffer("source_shot", torch.zeros(n_dom, bands))
        # per target domain, the root of the whole-image variability that transfers into it lack
        # (``napari_cinn.core.image_spread``; zero = none): a stochastic HSI transfer multiplies
        # each realisation by one draw, see :meth:`image_factor`
        self.register_buffer("image_spread", torch.zeros(n_dom, bands, bands))
        self.n_classes = int(h.get("n_classes", 0))
        self.depth_scale = float(h.get("depth_condition", 0.0)) if modality == "pat" else 0.0
        n_cond = n_dom + (self.n_classes if modality == "hsi" else int(self.depth_scale > 0))
        if modality == "hsi":
            n_blocks = int(h["n_blocks"])
            n_cond_blocks = min(int(h.get("n_cond_blocks", n_blocks)), n_blocks)
            self.flow = Ff.SequenceINN(bands)
            for i in range(n_blocks):
                cond = {"cond": 0, "cond_shape": (n_cond,)} if i < n_cond_blocks else {}
                self.flow.append(
                    AllInOneBlock,
                    subnet_constructor=mlp_subnet(int(h["hidden"])),
                    affine_clamping=float(h["clamp"]),
                    global_affine_init=float(h["global_affine_init"]),
                    reverse_permutation=bool(h.get("reverse_permutation", False)),
                    **cond,
                )
            self._has_cond = n_cond_blocks > 0
            names = list(h.get("class_names") or [])
            if names and len(names) != self.n_classes:
                raise ValueError(f"{len(names)} class_names for n_classes={self.n_classes}")
        else:
            blocks = [int(b) for b in h["blocks_per_scale"]]
            if len(blocks) != int(h["n_scales"]):
                raise ValueError(
                    f"blocks_per_scale {blocks} must list n_scales={h['n_scales']} numbers"
                )
            self.flow = MultiScaleFlow(
                bands,
                n_cond,
                blocks,
                int(h["hidden"]),
                float(h["clamp"]),
                float(h["global_affine_init"]),
                n_seg=self.n_classes,
            )

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
                raise ValueError(
                    f"unknown domain {domain!r}; this model knows {list(self.domains)}"
                )
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
            return nn.functional.one_hot(idx, n_dom).to(ref), idx
        # one domain for all: a stride-0 view, which the dense plan folds into a bias
        idx = torch.full((1,), self.domain_index(domain), dtype=torch.long, device=ref.device)
        return nn.functional.one_hot(idx, n_dom).to(ref).expand(n, n_dom), idx.expand(n)

    def _class_cond(self, classes, n: int, ref: Tensor) -> Tensor | None:
        if self.n_classes == 0:
            return None
        if classes is None:  # unknown class: uniform (what a user without labels gets)
            if self.modality == "hsi":
                return ref.new_full((1, self.n_classes), 1.0 / self.n_classes).expand(n, -1)
            return ref.new_full((n, self.n_classes, *ref.shape[2:]), 1.0 / self.n_classes)
        classes = torch.as_tensor(classes, device=ref.device)
        if classes.dtype in (torch.long, torch.int32, torch.int64, torch.int16, torch.uint8):
            oh = nn.functional.one_hot(classes.long(), self.n_classes).to(ref)
            return oh if self.modality == "hsi" else oh.movedim(-1, 1)
        return classes.to(ref)

    def _depth_map(self, row0, n: int, hs: int, ws: int, s: int, ref: Tensor) -> Tensor:
        """``(n, 1, hs, ws)``: the full-resolution row of each scale-``s`` cell's centre, plus the
        image's first row ``row0`` (int or ``(n,)``, for crops), over ``depth_condition``."""
        rows = (torch.arange(hs, device=ref.device, dtype=ref.dtype) + 0.5) * 2**s - 0.5
        off = torch.as_tensor(row0, device=ref.device, dtype=ref.dtype).reshape(-1, 1)
        depth = (off + rows[None]) / self.depth_scale  # (1 or n, hs)
        return depth[:, None, :, None].expand(n, 1, hs, ws)

    def _conditions(self, domain, classes, x: Tensor, row0=0) -> tuple[list[Tensor], Tensor]:
        n = x.shape[0]
        dom, idx = self._domain_onehot(domain, n, x)
        cls = self._class_cond(classes, n, x)
        if self.modality == "hsi":
            if cls is None:
                return [dom], idx
            if dom.stride(0) == 0 and cls.stride(0) == 0:  # constant rows stay one row
                return [torch.cat([dom[:1], cls[:1]], 1).expand(n, -1)], idx
            return [torch.cat([dom, cls], 1)], idx
        conds = []
        h, w = x.shape[2:]
        for s in range(int(self.hyper["n_scales"])):
            hs, ws = h // 2**s, w // 2**s
            maps = dom[:, :, None, None].expand(n, dom.shape[1], hs, ws)
            if self.depth_scale > 0:
                maps = torch.cat([maps, self._depth_map(row0, n, hs, ws, s, x)], 1)
            if s == 0 and cls is not None:
                maps = torch.cat([maps, cls], 1)
            conds.append(maps)
        return conds, idx

    # ----------------------------------------------------------------- the method
    def _check_input(self, x: Tensor) -> Tensor:
        want = 2 if self.modality == "hsi" else 4
        if x.ndim != want or x.shape[1] != self.n_bands:
            shape = "(n, bands)" if want == 2 else "(n, bands, H, W)"
            raise ValueError(
                f"{self.modality.upper()} model expects {shape} with {self.n_bands} bands, "
                f"got shape {tuple(x.shape)}"
            )
        if want == 4 and (x.shape[2] % self.spatial_multiple or x.shape[3] % self.spatial_multiple):
            raise ValueError(
                f"PAT image height and width must be multiples of {self.spatial_multiple}, "
                f"got {tuple(x.shape[2:])} (transfer_image pads for you)"
            )
        return x

    def _flow(
        self, x: Tensor, conds: list[Tensor], rev: bool, jac: bool = True
    ) -> tuple[Tensor, Tensor | None]:
        if self.modality == "pat":
            return self.flow(x, conds, rev=rev)
        if not torch.is_grad_enabled() and plan_supported(self.flow.module_list):
            # inference: the same flow through pre-arranged weights (see core/dense_plan.py)
            plan = plan_for(self.flow)
            cond = conds[0] if self._has_cond else None
            return plan.reverse(x, cond, jac) if rev else plan.forward(x, cond, jac)
        return self.flow(x, c=conds if self._has_cond else None, rev=rev, jac=jac)

    def encode(
        self, x: Tensor, domain, classes=None, *, jac: bool = True, row0=0
    ) -> tuple[Tensor, Tensor]:
        """Latent code ``z`` (same shape as ``x``) and log|det J| ``(n,)`` of ``x`` under ``domain``.

        ``jac=False`` skips the log-determinant (returned as None where the fast path runs).
        ``row0``: the first image row of PAT crops (int or ``(n,)``), for ``depth_condition``.
        """
        x = self._check_input(torch.as_tensor(x))
        conds, idx = self._conditions(domain, classes, x, row0)
        return self._flow(self.preprocess(x, idx), conds, rev=False, jac=jac)

    def decode(self, z: Tensor, domain, classes=None, *, row0=0) -> Tensor:
        """Data in ``domain`` (physical units) for latent codes ``z``."""
        z = self._check_input(torch.as_tensor(z))
        conds, idx = self._conditions(domain, classes, z, row0)
        v, _ = self._flow(z, conds, rev=True, jac=False)
        return self.postprocess(v, idx)

    def transfer(
        self,
        x: Tensor,
        src,
        tgt,
        classes=None,
        sample: bool = False,
        generator: torch.Generator | None = None,
        *,
        row0=0,
    ) -> Tensor:
        """``f⁻¹(f(x | src) | tgt)``: map samples of domain ``src`` into domain ``tgt``.

        ``sample=True`` encodes ``x`` plus a draw of the source's missing noise
        (:meth:`add_source_noise`): one realisation of the target domain's variability instead
        of the deterministic, mean-like transfer. Reproducible with a seeded ``generator``.
        """
        if sample:
            x = self.add_source_noise(torch.as_tensor(x), src, generator)
        fast = self.modality == "hsi" and not torch.is_grad_enabled()
        if fast and plan_supported(self.flow.module_list):  # same map, see DensePlan.transfer
            x = self._check_input(torch.as_tensor(x))
            (c_src,), i_src = self._conditions(src, classes, x)
            (c_tgt,), i_tgt = self._conditions(tgt, classes, x)
            u = plan_for(self.flow).transfer(self.preprocess(x, i_src), c_src, c_tgt)
            return self.postprocess(u, i_tgt)
        z, _ = self.encode(x, src, classes, jac=False, row0=row0)
        return self.decode(z, tgt, classes, row0=row0)

    def log_likelihood(self, x: Tensor, domain, classes=None, *, row0=0) -> Tensor:
        """log p(x | domain) per dimension (nats) in the standardised space.

        HSI: ``(n,)`` per spectrum. PAT: ``(n,)`` per image. Higher means more typical of ``domain``.
        """
        z, log_det = self.encode(x, domain, classes, row0=row0)
        dims = z[0].numel()
        log_pz = -0.5 * (z.reshape(len(z), -1) ** 2).sum(1) - 0.5 * dims * math.log(2 * math.pi)
        return (log_pz + log_det) / dims

    def nll(self, x: Tensor, domain, classes=None, *, row0=0) -> Tensor:
        """Training loss: mean over the batch of (0.5‖z‖² − log|det J|) / dims."""
        z, log_det = self.encode(x, domain, classes, row0=row0)
        dims = z[0].numel()
        return ((0.5 * (z.reshape(len(z), -1) ** 2).sum(1) - log_det) / dims).mean()


def build_model(
    modality: str = "hsi",
    wavelengths=None,
    domains: Sequence[str] = ("sim", "real"),
    seed: int | None = 0,
    **hyper,
) -> DomainTransferModel:
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
        raise ValueError(
            f"unknown {modality} hyper-parameter(s) {unknown}; known: {sorted(defaults)}"
        )
    check_hyper(modality, hyper)  # types and sane ceilings of what was given, before deriving
    merged = {**defaults, **hyper}
    if modality == "pat" and "n_scales" in hyper and "blocks_per_scale" not in hyper:
        merged["blocks_per_scale"] = [2] * int(hyper["n_scales"])
    if "blocks_per_scale" in merged:
        merged["blocks_per_scale"] = [int(b) for b in merged["blocks_per_scale"]]
    if modality == "hsi" and "n_blocks" in hyper and "n_cond_blocks" not in hyper:
        merged["n_cond_blocks"] = max(1, round(0.75 * int(hyper["n_blocks"])))
    check_hyper(modality, merged)
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
