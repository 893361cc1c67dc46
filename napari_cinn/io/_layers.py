"""SpectralImage ↔ napari layer-data tuples, without importing napari.

The conventions (metadata keys, axis labels, contrast limits) live in :mod:`napari_cinn.layers`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..layers import (
    axis_labels,
    labels_layer_data,
    labels_name,
    map_layer_data,
    spectral_layer_data,
)
from ._image import SpectralImage

#: metadata keys copied from a file into the layer's metadata (besides wavelengths/domain)
_COPY_META = (
    "subject",
    "source",
    "format",
    "wavelengths_assumed",
    "wavelength_grid",
    "field",
    "fields_available",
    "frame",
    "frames",
    "description",
    "notes",
    "annotator",
    "annotators",
    "layout",
    "data_ignore_value",
    "data_file",
)


def image_layer_tuple(image: SpectralImage, name: str) -> tuple[Any, dict, str]:
    """An Image layer ``(bands, y, x)`` with ``metadata["wavelengths"]`` and a ``λ`` axis."""
    meta = {key: image.metadata[key] for key in _COPY_META if key in image.metadata}
    return spectral_layer_data(
        image.data,
        name,
        image.wavelengths,
        domain=image.domain,
        metadata=meta,
        axis_labels=_axis_labels(len(image.shape), image.metadata),
    )


def _axis_labels(ndim: int, metadata: dict) -> tuple[str, ...]:
    """The reader's own axis labels (e.g. a patato frame axis) when it gives them, else λ, y, x."""
    own = metadata.get("axis_labels")
    if own is not None and len(own) == ndim:
        return tuple(str(a) for a in own)
    return axis_labels(ndim)


def labels_layer_tuple(image: SpectralImage, name: str) -> tuple[Any, dict, str] | None:
    """The image's label mask as a Labels layer (names in metadata and features), or None."""
    if image.labels is None:
        return None
    labels = np.asarray(image.labels)
    own = _axis_labels(labels.ndim + 1, image.metadata)[1:]
    return labels_layer_data(labels, labels_name(name), image.label_names, axis_labels=own)


def extra_layer_tuples(image: SpectralImage, name: str) -> list[tuple[Any, dict, str]]:
    """Per-pixel maps that came with the image (e.g. oxygenation) as plain Image layers."""
    return [
        map_layer_data(
            arr,
            f"{name} {key}",
            metadata={"map": key, "source": image.metadata.get("source")},
            colormap="magma",
            visible=False,
            axis_labels=_axis_labels(arr.ndim + 1, image.metadata)[1:],
        )
        for key, arr in image.extras.items()
    ]


def layer_tuples(image: SpectralImage, name: str) -> list[tuple[Any, dict, str]]:
    """Image layer, then labels layer if the file has labels, then extra maps (hidden)."""
    out = [image_layer_tuple(image, name)]
    lab = labels_layer_tuple(image, name)
    if lab is not None:
        out.append(lab)
    return out + extra_layer_tuples(image, name)


def image_from_layer(data, attributes: dict, path: str | Path | None = None) -> SpectralImage:
    """Rebuild a SpectralImage from an Image layer's data and attributes (as napari writers get).

    Raises ``SpectralFileError`` when the layer is not a ``(bands, y, x)`` spectral image or its
    wavelengths are missing or do not match.
    """
    from ._image import SpectralFileError

    where = f"{path}: " if path is not None else ""
    name = attributes.get("name", "layer")
    shape = np.shape(data)
    if len(shape) not in (3, 4):
        raise SpectralFileError(
            f"{where}layer {name!r} is not a spectral image: shape {shape} is not (bands, y, x)"
        )
    if attributes.get("rgb"):
        raise SpectralFileError(f"{where}layer {name!r} is an RGB image, not a spectral cube")
    meta = dict(attributes.get("metadata") or {})
    wl = meta.pop("wavelengths", None)
    if wl is None:
        raise SpectralFileError(
            f"{where}layer {name!r} has no metadata['wavelengths']; set it before saving "
            "(a list of nm, one per band)"
        )
    keep = {k: v for k, v in meta.items() if isinstance(v, (str, int, float, bool))}
    try:
        return SpectralImage(data, wl, None, None, keep)
    except ValueError as exc:
        raise SpectralFileError(f"{where}layer {name!r}: {exc}") from exc
