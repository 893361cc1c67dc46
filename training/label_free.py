"""Label-free figures of a transfer, for choosing checkpoints without real labels.

Adversarial training oscillates and the end of a run is not reliably its best; real labels may
not be used to choose. These figures compare a transfer with *unlabelled* real validation data:
the MMD² logged at every validation, and the C2ST (a two-sample classifier, what the evaluation's
realism figure measures), computed when a run selects by it or by ``cinn-train track``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn


def _flat(v: Tensor, max_n: int) -> Tensor:
    v = v.movedim(1, -1).reshape(-1, v.shape[1]) if v.ndim == 4 else v
    v = v[torch.isfinite(v).all(1)]
    if len(v) > max_n:  # evenly spaced rows: deterministic, no RNG drawn
        v = v[torch.linspace(0, len(v) - 1, max_n, device=v.device).long()]
    return v.double()


def mmd2_unbiased(a: Tensor, b: Tensor, max_n: int = 2048) -> Tensor:
    """Unbiased MMD² of two samples ``(n, d)`` (images ``(n, d, y, x)`` as pixels), Gaussian
    kernel exp(−d²/h) with h the median squared distance of the pooled sample.

    In torch, deterministic (evenly spaced rows), for every validation step. Its kernel is
    narrower than :func:`napari_cinn.core.metrics.mmd2`'s (σ² = h/2 here, h there), so the two
    figures are not comparable; kept so that ``val/mmd_transfer`` of earlier runs still is.
    """
    x, y = _flat(a, max_n), _flat(b, max_n)
    if len(x) < 2 or len(y) < 2:
        return torch.tensor(float("nan"))
    z = torch.cat([x, y])
    d2 = torch.cdist(z, z).pow(2)
    h = d2[d2 > 0].median().clamp_min(1e-12)
    k = torch.exp(-d2 / h)
    n, m = len(x), len(y)
    kxx, kyy, kxy = k[:n, :n], k[n:, n:], k[:n, n:]
    sxx = (kxx.sum() - kxx.diagonal().sum()) / (n * (n - 1))
    syy = (kyy.sum() - kyy.diagonal().sum()) / (m * (m - 1))
    return (sxx + syy - 2 * kxy.mean()).float()


def c2st_transfer(fake, real, norm: str = "l2", max_n: int = 1000) -> float:
    """C2ST AUC (random forest) between transferred and unlabelled real data, per-pixel
    normalised (``norm``; "none" → L2) as the evaluation does; 0.5 = indistinguishable.

    ``fake``, ``real``: spectra ``(n, bands)`` or images ``(n, bands, y, x)`` (as pixels); NumPy
    arrays or tensors. About 1-2 s for 1,000 spectra per side on one core.
    """
    import numpy as np

    from napari_cinn.core.metrics import c2st_auc
    from napari_cinn.core.spectra import normalize_spectra

    from .noise_level import as_spectra

    def prepared(v) -> np.ndarray:
        v = v.detach().cpu().numpy() if isinstance(v, Tensor) else np.asarray(v)
        x, _, valid = normalize_spectra(
            as_spectra(v).astype(np.float32), norm if norm != "none" else "l2"
        )
        return x[valid]

    return c2st_auc(prepared(fake), prepared(real), max_n=max_n, seed=0)


def label_free_scores(
    model: nn.Module,
    batch: dict[str, Tensor],
    standardise: Callable[[Tensor, str], Tensor],
    *,
    with_c2st: bool,
) -> dict[str, Tensor]:
    """The validation figures that need no label, for a validation ``batch`` of both domains.

    Latent health per domain (median per-dimension std, with the noise training adds) and the
    MMD² of the (stochastic where the model can sample) sim→real transfer against unlabelled real
    data in the real domain's standardised coordinates (``standardise(x, domain)``); with
    ``with_c2st`` also the C2ST AUC (seconds). Either can pick checkpoints (``trainer.select_by``).
    """
    from .data import DOMAINS, crop_row0

    out = {}
    # a fixed stream: the same noise at every validation, so the figures compare checkpoints
    # (and validation takes nothing from the training streams)
    gen = torch.Generator(device=batch["sim"].device).manual_seed(12345)
    for d in DOMAINS:  # with the noise training adds: the distribution the flow models
        x_d = batch[d]
        if model.can_sample(d):
            x_d = model.add_source_noise(x_d, d, gen)
        z_d, _ = model.encode(x_d, d, row0=crop_row0(batch, d))
        z_d = z_d.movedim(1, -1).reshape(-1, z_d.shape[1]) if z_d.ndim == 4 else z_d
        out[f"val/latent_std_{d}"] = z_d.std(0).median()
    sample = model.can_sample("sim")
    row0 = crop_row0(batch, "sim")
    fake = model.transfer(batch["sim"], "sim", "real", sample=sample, generator=gen, row0=row0)
    out["val/mmd_transfer"] = mmd2_unbiased(
        standardise(fake, "real"), standardise(batch["real"], "real")
    )
    if with_c2st:
        c2st = c2st_transfer(fake, batch["real"], model.hyper.get("norm", "l2"))
        out["val/c2st_transfer"] = torch.tensor(c2st, device=fake.device)
    return out
