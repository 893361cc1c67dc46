"""Latent health: does a domain's data really encode to the standard normal the cINN assumes?

A cINN transfers realistically only if *both* domains fill N(0, I) on held-out data: a domain whose
codes sit in a thin core (per-dimension std ≪ 1) can only be decoded into a thin slice of the
other domain. These figures are what ``cinn-train evaluate`` and ``fit`` report and what the
Latent space dock draws as a per-dimension strip. Codes are ``(n, dims)`` arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: a domain is called healthy when its median per-dimension std lies in this range
HEALTHY_STD = (0.9, 1.1)


@dataclass(frozen=True)
class LatentHealth:
    """Per-dimension moments of one domain's latent codes and their distance to N(0, 1).

    ``mean``, ``std``, ``ks`` are ``(dims,)``; ``w2`` is the mean over dimensions of the
    Wasserstein-2 distance between the Gaussian fit of each dimension and N(0, 1),
    sqrt(mean² + (std − 1)²).
    """

    n: int
    mean: np.ndarray
    std: np.ndarray
    ks: np.ndarray
    w2: float

    @property
    def median_std(self) -> float:
        return float(np.median(self.std))

    @property
    def healthy(self) -> bool:
        lo, hi = HEALTHY_STD
        return bool(lo <= self.median_std <= hi)

    def summary(self) -> dict[str, float]:
        """Scalars for reports (JSON-ready)."""
        return {
            "n": int(self.n),
            "std_median": self.median_std,
            "std_min": float(self.std.min()),
            "std_max": float(self.std.max()),
            "mean_abs_median": float(np.median(np.abs(self.mean))),
            "ks_median": float(np.median(self.ks)),
            "w2": float(self.w2),
        }


def _ks_to_normal(z: np.ndarray) -> np.ndarray:
    """Kolmogorov–Smirnov statistic of every column of ``z`` ``(n, dims)`` against N(0, 1)."""
    from scipy.special import ndtr

    s = np.sort(z, axis=0)
    n = s.shape[0]
    cdf = ndtr(s)
    hi = np.arange(1, n + 1)[:, None] / n - cdf
    lo = cdf - np.arange(0, n)[:, None] / n
    return np.maximum(hi.max(0), lo.max(0))


def latent_health(z, max_n: int = 20000, seed: int = 0) -> LatentHealth:
    """Health figures of codes ``z`` ``(n, dims)`` (rows with NaN are dropped; at most ``max_n``)."""
    z = np.asarray(z, dtype=np.float64)
    if z.ndim != 2:
        raise ValueError(f"latent codes must be (n, dims), got shape {z.shape}")
    z = z[np.isfinite(z).all(1)]
    if z.shape[0] < 2:
        raise ValueError("need at least 2 finite latent codes to measure their health")
    if z.shape[0] > max_n:
        z = z[np.random.default_rng(seed).choice(z.shape[0], max_n, replace=False)]
    mean, std = z.mean(0), z.std(0)
    w2 = float(np.sqrt(mean**2 + (std - 1.0) ** 2).mean())
    return LatentHealth(z.shape[0], mean, std, _ks_to_normal(z), w2)


def health_table(health: dict[str, LatentHealth]) -> str:
    """A Markdown table of the per-domain summaries (one row per domain)."""
    rows = [
        "| domain | n | median std | min std | max std | median abs mean | median KS | W2 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, h in health.items():
        s = h.summary()
        rows.append(
            f"| {name} | {s['n']} | {s['std_median']:.3f} | {s['std_min']:.3f} | "
            f"{s['std_max']:.3f} | {s['mean_abs_median']:.3f} | {s['ks_median']:.3f} | "
            f"{s['w2']:.3f} |"
        )
    return "\n".join(rows)
