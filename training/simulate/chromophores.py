"""Published chromophore absorption spectra and the power-law reduced scattering of tissue.

The numbers live in ``data/absorption.csv`` (μa in 1/cm of each pure constituent, 450–1000 nm);
``data/PROVENANCE.md`` says where every column comes from. NumPy only.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import numpy as np

#: Columns of the table: oxy-/deoxy-/met-haemoglobin (whole blood, 150 g/L), water, fat, melanin.
CHROMOPHORES = ("hbo2", "hb", "water", "fat", "melanin", "methb")


@lru_cache(maxsize=1)
def _table() -> tuple[np.ndarray, dict[str, np.ndarray]]:
    text = (
        resources.files("napari_cinn_training.simulate").joinpath("data/absorption.csv").read_text()
    )
    lines = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    header = lines[0].split(",")
    values = np.array([[float(v) for v in ln.split(",")] for ln in lines[1:]])
    wl = values[:, 0]
    return wl, {name: values[:, i] for i, name in enumerate(header) if i > 0}


def absorption(wavelengths, names: tuple[str, ...] = CHROMOPHORES) -> np.ndarray:
    """Absorption coefficients ``(len(names), bands)`` in 1/cm at ``wavelengths`` (nm).

    Linear interpolation of the tabulated values; wavelengths outside 450–1000 nm are refused.
    """
    wl_table, cols = _table()
    wl = np.asarray(wavelengths, dtype=np.float64)
    if wl.min() < wl_table[0] or wl.max() > wl_table[-1]:
        raise ValueError(
            f"absorption data cover {wl_table[0]:g}–{wl_table[-1]:g} nm; "
            f"asked for {wl.min():g}–{wl.max():g} nm"
        )
    unknown = [n for n in names if n not in cols]
    if unknown:
        raise KeyError(f"no absorption data for {unknown}; known: {sorted(cols)}")
    return np.stack([np.interp(wl, wl_table, cols[n]) for n in names])


def reduced_scattering(wavelengths, a, b) -> np.ndarray:
    """μs′(λ) = a · (λ / 500 nm)^(−b) in 1/cm (Jacques 2013, Phys. Med. Biol. 58 R37).

    ``a`` (1/cm at 500 nm) and ``b`` (scattering power) broadcast: ``(n,)`` each gives ``(n, bands)``.
    """
    wl = np.asarray(wavelengths, dtype=np.float32)
    a = np.asarray(a, dtype=np.float32)[..., None]
    b = np.asarray(b, dtype=np.float32)[..., None]
    return a * np.exp(-b * np.log(wl / 500.0, dtype=np.float32))
