"""Pixels and regions of layers: the pixel under a world position, ROI masks from Shapes/Labels."""

from __future__ import annotations

import numpy as np


def roi_layers(layers) -> list:
    """The Shapes and Labels layers of a layer list (or viewer): what can serve as a region."""
    from napari.layers import Labels, Shapes

    return [ly for ly in getattr(layers, "layers", layers) if isinstance(ly, Shapes | Labels)]


def pixel_index(layer, world_position) -> tuple[int, ...] | None:
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


def roi_mask(roi, spatial_shape: tuple[int, ...], label: int | None = None) -> np.ndarray:
    """Boolean mask ``spatial_shape`` of a Shapes layer (union of shapes) or Labels layer.

    For Labels, ``label`` picks one value (None: every non-zero label). The ROI must cover the same
    pixel grid as the image (same y/x size); a mismatch raises ValueError with both shapes.
    """
    from napari.layers import Labels, Shapes

    spatial_shape = tuple(int(s) for s in spatial_shape)
    if isinstance(roi, Labels):
        data = labels_plane(roi, spatial_shape)
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


def labels_plane(labels, spatial_shape: tuple[int, ...]) -> np.ndarray:
    """The label values ``spatial_shape`` of a Labels layer over an image of that size (a labels
    volume over λ gives its first plane); ValueError naming both sizes when they differ."""
    data = np.asarray(labels.data)
    if data.shape[-len(spatial_shape) :] != tuple(spatial_shape):
        raise ValueError(
            f"labels '{labels.name}' are {data.shape}, the image is {tuple(spatial_shape)} (y, x): "
            "they must cover the same pixels"
        )
    if data.ndim > len(spatial_shape):
        data = data.reshape((-1, *spatial_shape))[0]
    return data
