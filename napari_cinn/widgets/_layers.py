"""Helpers shared by the docks: which layers are spectral, their wavelengths, pixel picking, ROIs.

A spectral layer is a napari Image layer (not RGB) with at least 3 dimensions whose leading axis is
the spectral one; ``metadata["wavelengths"]`` gives nm (missing or mismatching: band index).
"""

from __future__ import annotations

import contextlib
import weakref

import numpy as np
from napari.layers import Image, Labels, Layer, Shapes

from napari_cinn.core.spectra import check_wavelengths


def is_spectral(layer: Layer) -> bool:
    """True for multi-band Image layers ``(bands, y, x)`` / ``(bands, z, y, x)``."""
    return isinstance(layer, Image) and not layer.rgb and layer.ndim >= 3 and not layer.multiscale


def spectral_layers(viewer) -> list[Image]:
    return [ly for ly in viewer.layers if is_spectral(ly)]


def roi_layers(viewer) -> list[Layer]:
    return [ly for ly in viewer.layers if isinstance(ly, Shapes | Labels)]


def layer_wavelengths(layer: Layer) -> np.ndarray | None:
    """The layer's wavelengths in nm, or None when missing or not matching its band count."""
    wl = layer.metadata.get("wavelengths") if layer.metadata else None
    if wl is None:
        return None
    try:
        return check_wavelengths(wl, layer.data.shape[0])
    except ValueError:
        return None


def layer_domain(layer: Layer) -> str | None:
    """The domain a layer's data belongs to: ``"sim→real"`` counts as ``"real"`` (its target)."""
    dom = layer.metadata.get("domain") if layer.metadata else None
    if not dom:
        return None
    dom = str(dom)
    for arrow in ("→", "->"):
        if arrow in dom:
            dom = dom.split(arrow)[-1]
    return dom.strip()


def pixel_index(layer: Layer, world_position) -> tuple[int, ...] | None:
    """Spatial pixel index ``(y, x)`` (or ``(z, y, x)``) of ``layer`` under a world position.

    None when the position is outside the layer. Pixel centres lie on integer data coordinates,
    so the index is the rounded data coordinate (scale, translate and dims order respected).
    """
    coords = np.asarray(layer.world_to_data(world_position), dtype=float)
    if not np.all(np.isfinite(coords)):
        return None
    idx = np.round(coords[1:]).astype(int)
    shape = layer.data.shape[1:]
    if np.any(idx < 0) or np.any(idx >= np.asarray(shape)):
        return None
    return tuple(int(i) for i in idx)


def roi_mask(roi: Layer, spatial_shape: tuple[int, ...], label: int | None = None) -> np.ndarray:
    """Boolean mask ``spatial_shape`` of a Shapes layer (union of shapes) or Labels layer.

    For Labels, ``label`` picks one value (None: every non-zero label). The ROI must cover the same
    pixel grid as the image (same y/x size); a mismatch raises ValueError with both shapes.
    """
    spatial_shape = tuple(int(s) for s in spatial_shape)
    if isinstance(roi, Labels):
        data = np.asarray(roi.data)
        if data.shape[-len(spatial_shape) :] != spatial_shape:
            raise ValueError(
                f"labels '{roi.name}' are {data.shape}, the image is {spatial_shape} (y, x): "
                "they must cover the same pixels"
            )
        if data.ndim > len(spatial_shape):  # a labels volume over λ: use the first plane
            data = data.reshape((-1, *spatial_shape))[0]
        return data > 0 if label is None else data == label
    if isinstance(roi, Shapes):
        if len(roi.data) == 0:
            return np.zeros(spatial_shape, dtype=bool)
        masks = roi.to_masks(mask_shape=spatial_shape[-2:])
        mask = np.asarray(masks).any(axis=0)
        if len(spatial_shape) > 2:
            mask = np.broadcast_to(mask, spatial_shape)
        return mask
    raise ValueError(f"layer '{roi.name}' is not a Shapes or Labels layer")


def disconnect_on_destroy(
    widget, viewer, connections, drag_callbacks=(), move_callbacks=()
) -> None:
    """When ``widget`` is destroyed, disconnect ``connections`` (``(emitter, callback)`` pairs) and
    remove the viewer mouse callbacks, so a closed dock leaves nothing behind in the viewer."""

    def cleanup(*_):
        for emitter, callback in connections:
            with contextlib.suppress(RuntimeError, ValueError, TypeError):
                emitter.disconnect(callback)
        for callbacks, lst in (
            (drag_callbacks, viewer.mouse_drag_callbacks),
            (move_callbacks, viewer.mouse_move_callbacks),
        ):
            for cb in callbacks:
                if cb in lst:
                    lst.remove(cb)

    widget.destroyed.connect(cleanup)


def click_callback(widget, method: str):
    """A viewer ``mouse_drag_callbacks`` entry calling ``widget.<method>(world_position)`` on a click.

    A press and release without moving is a click; drags (panning) are left alone. The widget is
    held weakly, so the callback never keeps a closed dock alive.
    """
    ref = weakref.ref(widget)

    def on_drag(viewer, event):
        if getattr(event, "button", 1) != 1:
            return
        press = tuple(event.position)
        moved = False
        yield
        while event.type == "mouse_move":
            moved = True
            yield
        w = ref()
        if w is not None and not moved:
            getattr(w, method)(press)

    return on_drag
