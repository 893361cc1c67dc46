"""What a :class:`~napari_cinn.core.models.DomainTransferModel` does around its flow.

Per-pixel intensity normalisation and per-domain standardisation (``preprocess`` /
``postprocess``, statistics fitted from training data), and the per-domain noise a domain lacks
(``source_noise``): what training adds to dequantise a noise-free simulation and what a
stochastic transfer draws. A mixin so that ``models.py`` keeps only the network and its
conditions; it uses the model's ``hyper``, buffers and ``domain_index``.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from .image_spread import draw_factor


class PreprocessingMixin:
    """Normalisation, standardisation and source noise of a domain-transfer model."""

    @staticmethod
    def _one_row(idx: Tensor) -> Tensor:
        """``idx[:1]`` when every sample has the same domain (a stride-0 view), else ``idx``."""
        if idx.ndim == 1 and idx.numel() > 1 and idx.stride(0) == 0:
            return idx[:1]
        return idx

    def _stats(self, idx: Tensor, x: Tensor) -> tuple[Tensor, Tensor]:
        idx = self._one_row(idx)
        mean, std = self.norm_mean[idx], self.norm_std[idx]
        if x.ndim == 4:
            mean, std = mean[:, :, None, None], std[:, :, None, None]
        return mean, std

    def _norms(self, x: Tensor) -> Tensor:
        norm = self.hyper["norm"]
        return x.abs().sum(1, keepdim=True) if norm == "l1" else x.norm(dim=1, keepdim=True)

    def _intensity(self, x: Tensor, idx: Tensor, rev: bool) -> Tensor:
        """Invertible per-pixel intensity normalisation (identity for norm='none').

        Computed as ``x`` times one factor per pixel ``(n, 1)``, so it costs one pass over ``x``.
        """
        if self.hyper["norm"] == "none":
            return x
        e = float(self.hyper["intensity_exponent"])
        r0 = self.ref_norm[self._one_row(idx)].reshape(-1, *([1] * (x.ndim - 1)))
        r = self._norms(x)
        if not rev:  # v = x / r * (r / r0) ** e
            if e == 0:  # the paper's plain normalisation, computed as its code does
                return x / r.clamp_min(1e-30)
            return x * (r.clamp_min(1e-30) ** (e - 1) / r0**e)
        if e == 0:  # plain normalisation cannot restore brightness: unit norm, or as decoded
            return x / r if self.hyper.get("unit_norm_output", True) else x
        # |v| = (r / r0) ** e  =>  r = r0 * |v| ** (1 / e)
        return x * (r0 * r.clamp_min(1e-30) ** (1.0 / e) / r)

    def preprocess(self, x: Tensor, idx: Tensor) -> Tensor:
        mean, std = self._stats(idx, x)
        v = self._intensity(x, idx, rev=False)
        if v is x or torch.is_grad_enabled():
            return (v - mean) / std
        return v.sub_(mean).div_(std)  # inference: in place on the fresh tensor

    def postprocess(self, v: Tensor, idx: Tensor) -> Tensor:
        mean, std = self._stats(idx, v)
        return self._intensity(torch.addcmul(mean, v, std), idx, rev=True)

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
            raise ValueError(
                f"need at least 2 valid spectra to fit the normalisation of {self.domains[idx]!r}"
            )
        if self.hyper["norm"] != "none":
            self.ref_norm[idx] = self._norms(spectra).median()
            spectra = self._intensity(
                spectra, torch.full((len(spectra),), idx, device=t.device), rev=False
            )
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

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # model files written before stochastic transfer (or the camera noise model) existed lack
        # these buffers: zeros, i.e. no noise
        for name in self.OPTIONAL_STATE:
            state_dict.setdefault(prefix + name, torch.zeros_like(getattr(self, name)))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    # ----------------------------------------------------------------- stochastic transfer
    def can_sample(self, domain) -> bool:
        """True when the model knows noise that ``domain`` lacks (stochastic transfer draws it)."""
        i = self.domain_index(domain)
        return bool(
            (
                self.source_noise[i].abs().sum()
                + self.source_read[i].sum()
                + self.source_shot[i].sum()
            )
            > 0
        )

    def has_image_spread(self, domain) -> bool:
        """True when stochastic transfers into ``domain`` draw a whole-image factor."""
        return bool(self.image_spread[self.domain_index(domain)].abs().sum() > 0)

    def set_image_spread(self, domain, root) -> None:
        """Store the root ``(bands, bands)`` of what transfers into ``domain`` lack between images."""
        root = torch.as_tensor(np.asarray(root, dtype=np.float32))
        if tuple(root.shape) != (self.n_bands, self.n_bands) or not torch.isfinite(root).all():
            raise ValueError(
                f"image spread must be a finite ({self.n_bands}, {self.n_bands}) matrix, "
                f"got shape {tuple(root.shape)}"
            )
        with torch.no_grad():
            self.image_spread[self.domain_index(domain)] = root.to(self.image_spread)

    def image_factor(self, domain, seed: int) -> np.ndarray | None:
        """One seeded whole-image factor ``(bands,)`` for a realisation in ``domain``, or None.

        See :func:`napari_cinn.core.image_spread.draw_factor`; None when the model has no spread.
        """
        if not self.has_image_spread(domain):
            return None
        return draw_factor(self.image_spread[self.domain_index(domain)].cpu().numpy(), seed)

    def add_source_noise(
        self, x: Tensor, domain, generator: torch.Generator | None = None
    ) -> Tensor:
        """``x`` plus a draw of the noise ``domain`` lacks.

        HSI ``(n, bands)``; PAT ``(n, bands, H, W)``. This is the dequantisation noise the model was
        trained with: encoding ``x + ε`` and decoding into another domain draws what the source
        leaves unspecified (e.g. the camera noise a simulation does not model). Per band its
        variance is ``(source_noise · ‖x‖)² + r0² (source_read² + source_shot · x⁺ / r0)``: a part
        relative to each pixel's norm, plus the read and shot noise of a camera in units of the
        domain's median pixel norm ``r0`` (``ref_norm``).
        """
        i = self.domain_index(domain)
        shape = (-1, 1, 1) if x.ndim == 4 else (-1,)
        sigma, read, shot = (
            b[i].to(x).reshape(shape)
            for b in (self.source_noise, self.source_read, self.source_shot)
        )
        r = self._norms(x) if self.hyper["norm"] != "none" else 1.0
        std = sigma * r
        if bool(read.sum() + shot.sum() > 0):
            r0 = self.ref_norm[i].to(x)
            std = (std.square() + read.square() * r0.square() + shot * r0 * x.clamp_min(0)).sqrt()
        eps = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        return x + std * eps
