"""Label-free figures of a transfer, for choosing checkpoints without real labels.

Adversarial training oscillates and the end of a run is not reliably its best; real labels may
not be used to choose. These figures compare a transfer with *unlabelled* real validation data:
the MMD² logged at every validation, and the C2ST (a two-sample classifier, what the evaluation's
realism figure measures), computed when a run selects by it or by ``cinn-train track``.
"""

from __future__ import annotations

import torch
from torch import Tensor


def _flat(v: Tensor, max_n: int) -> Tensor:
    v = v.movedim(1, -1).reshape(-1, v.shape[1]) if v.ndim == 4 else v
    v = v[torch.isfinite(v).all(1)]
    if len(v) > max_n:  # evenly spaced rows: deterministic, no RNG drawn
        v = v[torch.linspace(0, len(v) - 1, max_n, device=v.device).long()]
    return v.double()


def mmd2_unbiased(a: Tensor, b: Tensor, max_n: int = 2048) -> Tensor:
    """Unbiased MMD² of two samples ``(n, d)`` (images ``(n, d, y, x)`` as pixels), Gaussian
    kernel with the median-heuristic bandwidth of the pooled sample."""
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
