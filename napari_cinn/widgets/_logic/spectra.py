"""Qt-free logic of the "Spectra" dock: the curves to plot for a click, a pin or a region.

Layers in (napari layers, any viewer or none), :class:`Curve` lists and status text out.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from napari_cinn.core.picking import spectrum_at
from napari_cinn.core.roi import roi_stats
from napari_cinn.io.spectra_csv import Series
from napari_cinn.layers import layer_wavelengths
from napari_cinn.widgets._logic.regions import pixel_index, roi_mask

NM, BAND = "wavelength (nm)", "band index"
NO_LAYER = "No spectral layer: add an Image layer with bands first (e.g. File ▸ Open Sample)."


@dataclass
class Curve:
    """One plotted curve. ``y`` as measured (the L1 view is applied when drawn, except for ROI
    statistics, which are computed on normalised pixels already); ``std`` for ROI curves."""

    key: str  # unique artist key
    label: str  # legend / CSV name
    layer: str
    x: np.ndarray
    y: np.ndarray
    std: np.ndarray | None = None
    x_unit: str = "nm"
    kind: str = "pixel"  # pixel | pin | roi


@dataclass
class PixelSpectra:
    """The curves under a click: ``index`` is ``(layer, (y, x))`` of the first layer covering it;
    ``band_axis_needed``: nothing had wavelengths, so the band-index axis would show them."""

    curves: list[Curve]
    index: tuple | None
    notes: str
    band_axis_needed: bool = False


def l1(y: np.ndarray) -> np.ndarray:
    """``y`` divided by the sum of its absolute values (NaN when that is zero)."""
    s = np.nansum(np.abs(y))
    return y / s if s > 0 else np.full_like(y, np.nan)


def x_for(layer, x_axis: str) -> tuple[np.ndarray | None, str]:
    """The x values of a layer's spectra: wavelengths (None if it has none) or band indices."""
    if x_axis == BAND:
        return np.arange(layer.data.shape[0], dtype=float), "band"
    return layer_wavelengths(layer), "nm"


def view(curve: Curve, l1_view: bool) -> np.ndarray:
    """The y values as drawn."""
    return l1(curve.y) if l1_view and curve.kind != "roi" else curve.y


def curves_at(layers: list, position, x_axis: str) -> PixelSpectra:
    """The spectrum of every spectral layer at a world position, and what was left out."""
    if not layers:
        return PixelSpectra([], None, NO_LAYER)
    curves, outside, no_wl = [], [], []
    first = None
    for layer in layers:
        idx = pixel_index(layer, position)
        y = spectrum_at(layer.data, idx) if idx is not None else None
        if y is None:
            outside.append(layer.name)
            continue
        x, unit = x_for(layer, x_axis)
        if x is None:
            no_wl.append(layer.name)
            continue
        first = first or (layer, idx)
        curves.append(Curve(f"px:{layer.name}", layer.name, layer.name, x, y, None, unit))
    if not curves and no_wl and not outside and x_axis == NM:
        return PixelSpectra([], None, "", band_axis_needed=True)
    notes = [
        f"pixel {first[1]}: {len(curves)} layer(s)" if first else "outside every spectral layer"
    ]
    if outside and curves:
        notes.append("not covering this pixel: " + ", ".join(outside))
    if no_wl:
        notes.append("no wavelengths (choose x axis 'band index'): " + ", ".join(no_wl))
    return PixelSpectra(curves, first, "; ".join(notes))


def pins(curves: list[Curve], index: tuple | None, n_pinned: int) -> list[Curve]:
    """Pinned (dashed) copies of the pixel curves, labelled with the pixel they came from."""
    where = index[1] if index else ""
    return [
        replace(
            c, key=f"pin{n_pinned + k}:{c.key}", label=f"{c.label} {where} (pinned)", kind="pin"
        )
        for k, c in enumerate(curves)
    ]


def roi_curves(
    layers: list, roi, label: int | None, x_axis: str, l1_view: bool
) -> tuple[list[Curve], str]:
    """Mean ± std per spectral layer inside a Shapes/Labels layer ``roi``, and the status text."""
    norm = "l1" if l1_view else "none"
    curves, skipped = [], []
    for layer in layers:
        x, unit = x_for(layer, x_axis)
        if x is None:
            skipped.append(f"{layer.name} (no wavelengths)")
            continue
        try:
            mask = roi_mask(roi, layer.data.shape[1:], label)
        except ValueError as err:
            skipped.append(f"{layer.name} ({err})")
            continue
        st = roi_stats(layer.data, mask, norm=norm)
        if st.n == 0:
            skipped.append(f"{layer.name} (no usable pixel in ROI)")
            continue
        label_text = f"{layer.name} ROI mean (n={st.n})"
        curves.append(
            Curve(f"roi:{layer.name}", label_text, layer.name, x, st.mean, st.std, unit, "roi")
        )
    msg = f"ROI '{roi.name}': {len(curves)} layer(s)."
    if skipped:
        msg += " Not plotted: " + "; ".join(skipped)
    return curves, msg


def series(curves: list[Curve], l1_view: bool) -> list[Series]:
    """The curves as drawn, for CSV export (:mod:`napari_cinn.io.spectra_csv`)."""
    return [Series(c.label, c.x, view(c, l1_view), c.std, c.x_unit) for c in curves]


def lambda_position(layer, world_point, x_axis: str) -> float | None:
    """The x value (nm or band) of the band the viewer's λ slider is on, or None."""
    band = int(np.round(layer.world_to_data(world_point)[0]))
    x, _ = x_for(layer, x_axis)
    return float(x[band]) if x is not None and 0 <= band < len(x) else None
