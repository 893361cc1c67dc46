"""The closed-form linear (Gaussian) OT map of unit-norm spectra: the cINN's transport anchor
(``loss.transport_anchor: ot-linear``) and the pseudo-labeller's sim→real alignment."""

from __future__ import annotations

import numpy as np


def unit_spectra(x: np.ndarray) -> np.ndarray:
    """Valid spectra ``(n, bands)`` (HSI) scaled to unit L2 norm, float64."""
    x = np.asarray(x, np.float64)
    r = np.linalg.norm(x, axis=1)
    ok = np.isfinite(x).all(1) & (r > 0)
    return x[ok] / r[ok, None]


def gaussian_ot_map(
    src: np.ndarray, dst: np.ndarray, reg: float = 1e-6
) -> tuple[np.ndarray, np.ndarray]:
    """Closed-form optimal-transport (Monge) map between Gaussian fits of ``src`` and ``dst``
    ``(n, bands)``: ``y = x @ A.T + b`` with ``A = Cs^-1/2 (Cs^1/2 Cd Cs^1/2)^1/2 Cs^-1/2`` (as
    ``ot.da.LinearTransport``); returns float32 ``A (bands, bands)``, ``b (bands,)``."""

    def sqrtm(c: np.ndarray, power: float) -> np.ndarray:
        w, v = np.linalg.eigh(0.5 * (c + c.T))
        return (v * np.clip(w, 1e-12, None) ** power) @ v.T

    eye = reg * np.eye(src.shape[1])
    ms, md = src.mean(0), dst.mean(0)
    cs, cd = np.cov(src, rowvar=False) + eye, np.cov(dst, rowvar=False) + eye
    cs_h, cs_ih = sqrtm(cs, 0.5), sqrtm(cs, -0.5)
    A = cs_ih @ sqrtm(cs_h @ cd @ cs_h, 0.5) @ cs_ih
    return A.astype(np.float32), (md - ms @ A.T).astype(np.float32)
