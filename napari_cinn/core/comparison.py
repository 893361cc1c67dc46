"""Images against a reference (e.g. the real data): per-wavelength |Δ median| per class, MMD², C2ST.

The Compare dock's computation (the paper's Fig. 5b); the metrics are the one shared
implementation in :mod:`napari_cinn.core.metrics`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from napari_cinn.core.clouds import CloudInput
from napari_cinn.core.jobs import CancelFn, ProgressFn, step
from napari_cinn.core.roi import region_spectra


@dataclass
class Comparison:
    """One layer against the reference: ``classes`` ``(k,)``, ``diff`` ``(k, bands)`` of
    |median − median_ref| per class and wavelength, ``mmd2``, ``c2st_auc`` (NaN when not computed),
    ``n`` spectra used."""

    name: str
    classes: np.ndarray
    diff: np.ndarray
    mmd2: float
    c2st_auc: float
    n: int


def _region_problem(item: CloudInput, mask, labels) -> str | None:
    spatial = np.shape(item.cube)[1:]
    for name, arr in (("region", mask), ("labels", labels)):
        if arr is not None and np.shape(arr) != spatial:
            return f"its size {spatial} differs from the {name} {np.shape(arr)}"
    return None


def _compare_one(
    item, ref_spectra, ref_labels, ref_bands, mask, labels, norm, max_n, metrics, seed
):
    """``(Comparison or None, notes)`` for one item."""
    from napari_cinn.core import metrics as M

    why = _region_problem(item, mask, labels)
    if why is not None:
        return None, [f"'{item.name}' left out: {why}"]
    bands = np.shape(item.cube)[0]
    if bands != ref_bands:
        return None, [f"'{item.name}' left out: {bands} bands, the reference has {ref_bands}"]
    x, lab = region_spectra(item.cube, mask, labels, norm=norm, max_n=max_n, seed=seed + 1)
    if x.shape[0] < 2:
        return None, [f"'{item.name}' left out: fewer than 2 usable pixels in the region"]
    try:
        classes, diff = M.per_wavelength_difference(x, ref_spectra, lab, ref_labels)
    except ValueError as err:
        return None, [f"'{item.name}' left out: {err}"]
    notes = []
    mmd = c2st = float("nan")
    if metrics:
        try:
            mmd = M.mmd2(x, ref_spectra, seed=seed)
            c2st = M.c2st_auc(x, ref_spectra, seed=seed)
        except ValueError as err:
            notes.append(f"'{item.name}': no MMD/C2ST ({err})")
    return Comparison(item.name, classes, diff, mmd, c2st, x.shape[0]), notes


def compare_to_reference(
    items: list[CloudInput],
    reference: CloudInput,
    *,
    mask: np.ndarray | None = None,
    labels: np.ndarray | None = None,
    norm: Literal["none", "l1", "l2"] = "l1",
    max_n: int = 5000,
    metrics: bool = True,
    seed: int = 0,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> tuple[list[Comparison], list[str]]:
    """Per-wavelength difference of each item to the reference inside a region, plus MMD² and
    C2ST AUC; returns ``(comparisons, notes)``.

    ``progress(done, total)`` counts items; ``cancel()`` is polled before each (True raises
    :class:`~napari_cinn.core.jobs.JobCancelled`). ``mask`` and ``labels`` (``(y, x)``) apply to
    every image of that size; an item of another size is left out with a note. With ``labels`` the
    differences are per class present in both (the paper's per-organ Fig. 5b); otherwise one class.
    """
    why = _region_problem(reference, mask, labels)
    if why is not None:
        raise ValueError(f"reference '{reference.name}': {why}")
    ref_spectra, ref_labels = region_spectra(
        reference.cube, mask, labels, norm=norm, max_n=max_n, seed=seed
    )
    if ref_spectra.shape[0] < 2:
        raise ValueError(
            f"reference '{reference.name}' has fewer than 2 usable pixels in the region"
        )
    ref_bands = np.shape(reference.cube)[0]
    notes: list[str] = []
    out: list[Comparison] = []
    total = len(items)
    for k, item in enumerate(items):
        step(progress, cancel, k, total, "comparison")
        comp, item_notes = _compare_one(
            item, ref_spectra, ref_labels, ref_bands, mask, labels, norm, max_n, metrics, seed
        )
        notes.extend(item_notes)
        if comp is not None:
            out.append(comp)
    step(progress, cancel, total, total, "comparison")
    return out, notes
