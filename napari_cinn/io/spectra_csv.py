"""CSV export of plotted spectra (the Spectra dock's *Export CSV*) and reading it back.

One long table ``series,x,x_unit,value,std`` with one row per plotted point; ``x`` is nm or a band
index (``x_unit``), ``std`` is empty for curves without one. Written atomically.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from napari_cinn.core.files import atomic_targets


@dataclass
class Series:
    """One plotted curve: ``name``, ``x`` ``(bands,)`` (nm or band index), ``y``, optional ``std``."""

    name: str
    x: np.ndarray
    y: np.ndarray
    std: np.ndarray | None = None
    x_unit: str = "nm"


def write_spectra_csv(
    path: str | os.PathLike, series: list[Series], *, overwrite: bool = True
) -> Path:
    """Write plotted spectra as a long table ``series,x,x_unit,value,std`` (one row per point).

    Written to a temporary file in the same folder, then renamed: never a half-written file.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; choose another name")
    if not series:
        raise ValueError("nothing to export: no spectra are plotted")
    with (
        atomic_targets(path, overwrite=overwrite) as (tmp,),
        open(tmp, "w", newline="", encoding="utf-8") as fh,
    ):
        w = csv.writer(fh)
        w.writerow(["series", "x", "x_unit", "value", "std"])
        for s in series:
            std = s.std if s.std is not None else [None] * len(s.x)
            for xv, yv, sv in zip(s.x, s.y, std, strict=True):
                w.writerow(
                    [
                        s.name,
                        repr(float(xv)),
                        s.x_unit,
                        repr(float(yv)),
                        "" if sv is None else repr(float(sv)),
                    ]
                )
    return path


def read_spectra_csv(path: str | os.PathLike) -> list[Series]:
    """Read a file written by :func:`write_spectra_csv` back into :class:`Series` (order kept)."""
    rows: dict[str, list[tuple[float, float, float | None, str]]] = {}
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        for r in reader:
            std = float(r["std"]) if r["std"] else None
            rows.setdefault(r["series"], []).append(
                (float(r["x"]), float(r["value"]), std, r["x_unit"])
            )
    out = []
    for name, pts in rows.items():
        x = np.array([p[0] for p in pts])
        y = np.array([p[1] for p in pts])
        std = None if pts[0][2] is None else np.array([p[2] for p in pts])
        out.append(Series(name, x, y, std, pts[0][3]))
    return out
