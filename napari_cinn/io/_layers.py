"""SpectralImage ↔ napari layer-data tuples, without importing napari (tests and docks share it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

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


def robust_contrast_limits(data, max_samples: int = 200_000) -> tuple[float, float]:
    """(low, high) from the 1st/99.5th percentiles of a strided subsample of finite values.

    Reads only a subsample, so it stays cheap on a memory-mapped cube.
    """
    shape = np.shape(data)
    n = int(np.prod(shape))
    step = max(1, int(np.ceil((n / max_samples) ** (1 / max(len(shape), 1)))))
    sample = np.asarray(data[tuple(slice(None, None, step) for _ in shape)], dtype=np.float64)
    finite = sample[np.isfinite(sample)]
    if finite.size == 0:
        return 0.0, 1.0
    lo, hi = np.percentile(finite, [1.0, 99.5])
    if not hi > lo:
        lo, hi = float(finite.min()), float(finite.max())
    if not hi > lo:
        hi = lo + 1.0
    return float(lo), float(hi)


def axis_labels(ndim: int, metadata: dict | None = None) -> tuple[str, ...]:
    """``("λ", "y", "x")`` / ``("λ", "z", "y", "x")``, or the reader's own (e.g. a frame axis)."""
    own = (metadata or {}).get("axis_labels")
    if own is not None and len(own) == ndim:
        return tuple(str(a) for a in own)
    return ("λ", "y", "x") if ndim == 3 else ("λ", "z", "y", "x")


def image_layer_tuple(image: SpectralImage, name: str) -> tuple[Any, dict, str]:
    """An Image layer ``(bands, y, x)`` with ``metadata["wavelengths"]`` and a ``λ`` axis."""
    meta: dict[str, Any] = {"wavelengths": np.asarray(image.wavelengths, dtype=np.float64)}
    if image.domain:
        meta["domain"] = image.domain
    for key in _COPY_META:
        if key in image.metadata:
            meta[key] = image.metadata[key]
    kwargs = {
        "name": name,
        "metadata": meta,
        "axis_labels": axis_labels(len(image.shape), image.metadata),
        "contrast_limits": robust_contrast_limits(image.data),
        "colormap": "gray",
        "rgb": False,
    }
    return image.data, kwargs, "image"


def labels_layer_tuple(image: SpectralImage, name: str) -> tuple[Any, dict, str] | None:
    """The image's label mask as a Labels layer (names in metadata and features), or None."""
    if image.labels is None:
        return None
    labels = np.asarray(image.labels)
    if not np.issubdtype(labels.dtype, np.integer):
        labels = labels.astype(np.int32)
    meta: dict[str, Any] = {}
    kwargs: dict[str, Any] = {"name": f"{name} labels", "metadata": meta, "opacity": 0.4}
    if image.label_names:
        meta["label_names"] = dict(image.label_names)
        values = sorted(set(image.label_names) | {0})
        kwargs["features"] = {
            "index": values,
            "name": [image.label_names.get(v, "") for v in values],
        }
    kwargs["axis_labels"] = axis_labels(labels.ndim + 1, image.metadata)[1:]
    return labels, kwargs, "labels"


def extra_layer_tuples(image: SpectralImage, name: str) -> list[tuple[Any, dict, str]]:
    """Per-pixel maps that came with the image (e.g. oxygenation) as plain Image layers."""
    out = []
    for key, arr in image.extras.items():
        kwargs = {
            "name": f"{name} {key}",
            "metadata": {"map": key, "source": image.metadata.get("source")},
            "axis_labels": axis_labels(arr.ndim + 1, image.metadata)[1:],
            "contrast_limits": robust_contrast_limits(arr),
            "colormap": "magma",
            "visible": False,
        }
        out.append((arr, kwargs, "image"))
    return out


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
