"""Qt-free logic of the "Compare" dock: side-by-side view state, difference-map layers, and the
inputs of the per-wavelength comparison to a reference.

Layers (or a ``napari.components.ViewerModel``) in; layer-data tuples, inputs and messages out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from napari_cinn.core.clouds import CloudInput
from napari_cinn.core.differences import difference_map
from napari_cinn.layers import layer_wavelengths, map_layer_data, robust_contrast_limits
from napari_cinn.widgets._logic.regions import labels_plane, roi_mask

#: attributes kept equal among layers shown side by side with linked contrast
LINKED = ("contrast_limits", "gamma")


# ----------------------------------------------------------------------------- side by side
def show_side_by_side(viewer, names: list[str], link: bool) -> tuple[dict, list]:
    """Grid mode with only ``names`` visible (their names shown, contrast linked if ``link``).

    Returns ``(saved, linked)``: what :func:`restore_view` needs to undo it, and the layers linked.
    """
    from napari.experimental import link_layers
    from napari.layers import Image

    grid = viewer.canvas.grid
    saved = {
        "visible": {ly.name: ly.visible for ly in viewer.layers},
        "grid": grid.enabled,
        "shape": tuple(grid.shape),
        "names_shown": {ly.name: ly.name_overlay.visible for ly in viewer.layers},
    }
    for ly in viewer.layers:
        ly.visible = ly.name in names
        ly.name_overlay.visible = ly.visible  # which cell is which
    chosen = [viewer.layers[n] for n in names]
    linked = []
    if link and all(isinstance(ly, Image) for ly in chosen):
        lo = min(ly.contrast_limits[0] for ly in chosen)
        hi = max(ly.contrast_limits[1] for ly in chosen)
        for ly in chosen:
            ly.contrast_limits = (lo, hi)
        link_layers(chosen, LINKED)
        linked = chosen
    # up to three layers in one row (napari's automatic square grid leaves a cell empty)
    grid.shape = (1, len(names)) if len(names) <= 3 else (-1, -1)
    grid.enabled = True
    viewer.reset_view()
    return saved, linked


def restore_view(viewer, saved: dict, linked: list) -> None:
    """Undo :func:`show_side_by_side`: visibility, name overlays, grid, links."""
    from napari.experimental import unlink_layers

    if linked:
        unlink_layers([ly for ly in linked if ly in viewer.layers], LINKED)
    for ly in viewer.layers:
        ly.visible = saved["visible"].get(ly.name, ly.visible)
        ly.name_overlay.visible = saved["names_shown"].get(ly.name, ly.name_overlay.visible)
    viewer.canvas.grid.shape = saved["shape"]
    viewer.canvas.grid.enabled = saved["grid"]
    viewer.reset_view()


# ----------------------------------------------------------------------------- difference maps
def difference_layer(la, lb, *, mode: str = "signed", reduce: str = "band"):
    """``(layer-data tuple, None)`` of ``A − B`` (``mode="abs"``: ``|A − B|``) per band or summed
    (``reduce="sum"``), or ``(None, why not)``. The map carries no domain tag (it is no domain's
    data): ``metadata["difference_of"]`` names the two layers."""
    wa, wb = layer_wavelengths(la), layer_wavelengths(lb)
    if (
        wa is not None
        and wb is not None
        and (wa.shape != wb.shape or not np.allclose(wa, wb, atol=0.5))
    ):
        return None, f"'{la.name}' and '{lb.name}' have different wavelengths: no difference map."
    try:
        diff = difference_map(la.data, lb.data, mode=mode, reduce=reduce)
    except ValueError as err:
        return None, f"No difference map: {err}."
    name = f"{la.name} − {lb.name}" if mode == "signed" else f"|{la.name} − {lb.name}|"
    meta: dict = {"difference_of": [la.name, lb.name], "difference_mode": mode}
    if mode == "signed":
        limits, cmap = robust_contrast_limits(diff, symmetric=True), "PiYG"
    else:
        limits, cmap = robust_contrast_limits(diff, (0.0, 99.5)), "magma"
    if reduce == "band":
        if wa is not None:
            meta["wavelengths"] = wa
        geometry = {"axis_labels": la.axis_labels, "scale": la.scale, "translate": la.translate}
    else:
        name += " (Σλ)"
        geometry = {
            "axis_labels": la.axis_labels[1:],
            "scale": la.scale[1:],
            "translate": la.translate[1:],
        }
    data = map_layer_data(
        diff, name, metadata=meta, colormap=cmap, contrast_limits=limits, **geometry
    )
    return data, None


# ----------------------------------------------------------------------------- difference to a reference
@dataclass
class SummaryInputs:
    """The arguments of :func:`napari_cinn.core.comparison.compare_to_reference`."""

    items: list[CloudInput]
    reference: CloudInput
    mask: np.ndarray | None = None
    labels: np.ndarray | None = None


def summary_inputs(layers: dict, names: list[str], ref_name: str, roi=None, label: int = 0):
    """``(SummaryInputs, None)`` for comparing the checked layers to ``ref_name`` inside ``roi``
    (a Shapes/Labels layer or None: whole image; a Labels ROI with ``label`` 0: per class), or
    ``(None, why not)``."""
    from napari.layers import Labels

    if ref_name not in layers:
        return None, "Choose a reference layer (e.g. the real data)."
    names = [n for n in names if n != ref_name and n in layers]
    if not names:
        return None, "Check at least one layer besides the reference."
    ref_layer = layers[ref_name]
    spatial = ref_layer.data.shape[1:]
    mask = labels = None
    if roi is not None:
        try:
            if isinstance(roi, Labels) and label == 0:  # every class separately
                labels = labels_plane(roi, spatial).astype(int)
                mask = labels > 0
            else:
                mask = roi_mask(roi, spatial, label or None)
        except ValueError as err:
            return None, f"Region: {err}."
        if not mask.any():
            return None, f"The region '{roi.name}' is empty."
    items = [CloudInput(n, layers[n].data, layer_wavelengths(layers[n])) for n in names]
    ref = CloudInput(ref_name, ref_layer.data, layer_wavelengths(ref_layer))
    return SummaryInputs(items, ref, mask, labels), None
