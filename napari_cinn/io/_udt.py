"""Files of the UDT-cINN paper's code (IMSY-DKFZ/UDT-cINN, MIT): facts needed to open them.

- PAT ``.npz``: ``reconstruction`` ``(16, y, x)`` (700–850 nm in 10 nm steps, the code's
  ``settings.pai_wavelengths``), optional ``segmentation`` ``(y, x)`` and ``oxygenation`` ``(y, x)``.
- HSI spectra tables: ``<subject>#<image>.npy`` ``(n, 100)`` with per-spectrum labels in
  ``<stem>_seg.npy`` ``(n,)`` (ids of the code's ``data/mapping.json``); simulated tables may carry
  ``_KNN_<k>`` in their name. We open a table as a ``(bands, 1, n)`` image: one row of ``n``
  pixels, so the plugin's docks and ``cinn-train fit`` treat each spectrum as a pixel.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

PAT_KEYS = ("reconstruction", "segmentation", "oxygenation")
#: the paper code's settings.pai_wavelengths = np.arange(700, 855, 10)
PAT_WAVELENGTHS = np.arange(700.0, 855.0, 10.0)

#: UDT-cINN src/data/mapping.json: label id -> name (HeiPorSPECTRAL semantic labels)
MAPPING = dict(
    enumerate(
        [
            "abdominal_linen",
            "anorganic_artifact",
            "background",
            "bladder",
            "blue_cloth",
            "bone",
            "cartilage",
            "colon",
            "colon_peritoneum",
            "fat",
            "foil",
            "gallbladder",
            "glove",
            "heart",
            "kidney",
            "kidney_with_Gerotas_fascia",
            "ligasure",
            "liver",
            "lung",
            "major_vein",
            "metal",
            "monopolar",
            "muscle",
            "omentum",
            "organic_artifact",
            "pancreas",
            "peritoneum",
            "skin",
            "small_bowel",
            "spleen",
            "stapler",
            "stomach",
            "subcutaneous_fat",
            "syringe",
            "tube",
            "unclear_organic",
            "unsure",
            "white_compress",
        ]
    )
)
MAPPING.update({254: "overlap", 255: "unlabeled"})
#: the organ classes of the HSI model's condition, in condition order (organ_labels without
#: "gallbladder", as the code's SemanticDataModule ignores it)
HSI_ORGANS = (
    "bladder",
    "colon",
    "fat",
    "liver",
    "peritoneum",
    "skin",
    "small_bowel",
    "spleen",
    "stomach",
    "omentum",
)
TABLE_SIDECARS = ("_seg.npy", "_ind.npy")


def subject_of_table(path: Path) -> str | None:
    """``P086`` for ``P086#2021_04_15_09_22_02.npy`` (the code splits names at ``#``)."""
    return path.stem.split("#")[0] if "#" in path.stem else None


def table_labels(path: Path, n: int):
    """Labels ``(1, n)`` and names from ``<stem>_seg.npy`` beside a table (``_KNN_k`` dropped)."""
    from ._image import SpectralFileError

    stem = re.sub(r"_KNN_\d+", "", path.stem)
    seg_path = path.with_name(stem + "_seg.npy")
    if not seg_path.exists():
        return None, None
    try:
        seg = np.load(seg_path, allow_pickle=False)
    except Exception as exc:  # noqa: BLE001
        raise SpectralFileError(f"{seg_path}: cannot read the labels ({exc})") from exc
    if seg.shape != (n,):
        raise SpectralFileError(f"{seg_path}: {seg.shape} labels for {n} spectra (need ({n},))")
    seg = np.round(seg).astype(np.int32)
    names = {int(v): MAPPING.get(int(v), f"class {v}") for v in np.unique(seg)}
    return seg[None, :], names
