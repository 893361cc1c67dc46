"""Difference maps of two spectral images of equal shape ``(bands, y, x)``."""

from __future__ import annotations

from typing import Literal

import numpy as np


def difference_map(
    a,
    b,
    *,
    mode: Literal["signed", "abs"] = "signed",
    reduce: Literal["band", "sum", "mean"] = "band",
) -> np.ndarray:
    """Difference of two spectral images of equal shape ``(bands, y, x)``.

    ``mode="signed"``: ``a - b`` (e.g. transferred − source); ``"abs"``: ``|a - b|`` (e.g. against
    a reference). ``reduce="band"`` keeps ``(bands, y, x)``; ``"sum"``/``"mean"`` collapse the bands
    to ``(y, x)`` (NaN bands are skipped; all-NaN pixels stay NaN). Returns float32.
    """
    sa, sb = np.shape(a), np.shape(b)
    if sa != sb:
        raise ValueError(f"images differ in shape: {sa} vs {sb}; a difference needs equal shapes")
    d = np.asarray(a, dtype=np.float32) - np.asarray(b, dtype=np.float32)
    if mode == "abs":
        d = np.abs(d)
    elif mode != "signed":
        raise ValueError(f"unknown difference mode {mode!r}; use 'signed' or 'abs'")
    if reduce == "band":
        return d
    if reduce not in ("sum", "mean"):
        raise ValueError(f"unknown reduction {reduce!r}; use 'band', 'sum' or 'mean'")
    allnan = np.isnan(d).all(axis=0)
    out = np.nansum(d, axis=0) if reduce == "sum" else np.nanmean(np.where(allnan, 0, d), axis=0)
    out = out.astype(np.float32)
    out[allnan] = np.nan
    return out
