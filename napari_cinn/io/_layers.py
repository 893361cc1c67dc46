"""SpectralImage ↔ napari layer-data tuples, without importing napari.

The conventions (metadata keys, axis labels, contrast limits) live in :mod:`napari_cinn.layers`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..layers import labels_layer_data, spectral_layer_data
from ._image import SpectralImage

#: metadata keys copied from a file into the layer's metadata (besides wavelengths/domain)
_COPY_META = ("subject", "source", "format", "wavelengths_assumed", "field", "description")


def image_layer_tuple(image: SpectralImage, name: str) -> tuple[Any, dict, str]:
    """An Image layer ``(bands, y, x)`` with ``metadata["wavelengths"]`` and a ``λ`` axis."""
    meta = {key: image.metadata[key] for key in _COPY_META if key in image.metadata}
    return spectral_layer_data(
        image.data, name, image.wavelengths, domain=image.domain, metadata=meta
    )


def labels_layer_tuple(image: SpectralImage, name: str) -> tuple[Any, dict, str] | None:
    """The image's label mask as a Labels layer (names in metadata and features), or None."""
    if image.labels is None:
        return None
    return labels_layer_data(image.labels, f"{name} labels", image.label_names)


def layer_tuples(image: SpectralImage, name: str) -> list[tuple[Any, dict, str]]:
    """Image layer, then labels layer if the file has labels."""
    out = [image_layer_tuple(image, name)]
    lab = labels_layer_tuple(image, name)
    if lab is not None:
        out.append(lab)
    return out


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
