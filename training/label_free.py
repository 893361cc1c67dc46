"""Label-free figures of a transfer, for choosing checkpoints without real labels.

Adversarial training oscillates and the end of a run is not reliably its best; real labels may
not be used to choose. These figures compare a transfer with *unlabelled* real validation data.
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
