"""Principal components fitted on one reference point set, applied to others (Fig. 5a axes)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class PCAProjection:
    """Principal components fitted on reference points ``(n, d)``; projects to ``(n, k)``.

    Attributes: ``mean`` ``(d,)``, ``components`` ``(k, d)``, ``explained_variance_ratio`` ``(k,)``
    (share of the *reference's* total variance, as in the paper's Fig. 5a axes).
    """

    mean: np.ndarray
    components: np.ndarray
    explained_variance_ratio: np.ndarray

    @classmethod
    def fit(cls, reference: np.ndarray, n_components: int = 2) -> PCAProjection:
        x = np.asarray(reference, dtype=np.float64)
        if x.ndim != 2:
            raise ValueError(f"PCA needs (n, features) points, got shape {x.shape}")
        x = x[np.isfinite(x).all(axis=1)]
        if x.shape[0] < 2:
            raise ValueError(f"PCA needs at least 2 usable reference points, got {x.shape[0]}")
        k = min(n_components, x.shape[1])
        mean = x.mean(axis=0)
        # eigen-decomposition of the (features, features) covariance: one matrix product over the
        # points instead of an SVD of the (n, features) matrix (same axes, far fewer BLAS calls)
        xc = x - mean
        var, vecs = np.linalg.eigh(xc.T @ xc)
        order = np.argsort(var)[::-1]
        var = np.clip(var[order], 0.0, None)
        total = var.sum()
        ratio = var[:k] / total if total > 0 else np.zeros(k)
        comps = vecs[:, order[:k]].T
        # deterministic sign: the largest loading of each component is positive
        signs = np.sign(comps[np.arange(k), np.abs(comps).argmax(axis=1)])
        comps = comps * np.where(signs == 0, 1, signs)[:, None]
        if k < n_components:  # pad (1-D data) so callers always get n_components columns
            comps = np.vstack([comps, np.zeros((n_components - k, x.shape[1]))])
            ratio = np.concatenate([ratio, np.zeros(n_components - k)])
        return cls(mean, comps, ratio)

    def transform(self, points: np.ndarray) -> np.ndarray:
        """Project ``(n, d)`` points to ``(n, k)`` float32."""
        x = np.asarray(points, dtype=np.float64)
        if x.ndim == 1:
            x = x[None]
        if x.shape[1] != self.mean.shape[0]:
            raise ValueError(
                f"points have {x.shape[1]} features, the projection was fitted on {self.mean.shape[0]}"
            )
        return ((x - self.mean) @ self.components.T).astype(np.float32)

    def axis_label(self, i: int) -> str:
        return f"PC{i + 1} ({100 * self.explained_variance_ratio[i]:.1f} % var.)"
