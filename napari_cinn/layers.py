"""The layer conventions of napari-cinn, in one place: readers, sample data and every dock use them.

- A **spectral layer** is an Image layer (not RGB, not multiscale) ``(bands, y, x)`` or
  ``(bands, z, y, x)`` whose leading axis is the spectral one, labelled ``λ``.
- ``metadata["wavelengths"]``: one wavelength per band, nm, strictly increasing. Missing or not
  matching the band count: the layer still is spectral (plotted against band index) but no model
  can take it.
- ``metadata["domain"]``: the domain tag, ``"sim"``, ``"real"``, or a transfer ``"sim→real"``
  (``->`` is read too). The data of a transfer belong to its target domain. Layers that are not
  data of a domain (difference maps, masks) carry no domain tag.

Nothing here imports napari or Qt at module level (the readers build layer-data tuples without
napari); :func:`is_spectral` imports ``napari.layers`` only when it is given a layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from napari_cinn.core.spectra import check_wavelengths

#: the arrow of a transfer's domain tag and of result names, ``"sim→real"``
ARROW = "→"
_ARROWS = (ARROW, "->")
#: metadata keys
WAVELENGTHS, DOMAIN = "wavelengths", "domain"

LayerData = tuple[Any, dict, str]


# ----------------------------------------------------------------------------- spectral layers
def is_spectral(layer) -> bool:
    """True for multi-band Image layers ``(bands, y, x)`` / ``(bands, z, y, x)``."""
    from napari.layers import Image

    return (
        isinstance(layer, Image)
        and not layer.rgb
        and not getattr(layer, "multiscale", False)
        and layer.ndim in (3, 4)
    )


def layer_wavelengths(layer) -> np.ndarray | None:
    """The layer's wavelengths in nm, or None when missing or not matching its band count."""
    wl = (getattr(layer, "metadata", None) or {}).get(WAVELENGTHS)
    if wl is None:
        return None
    try:
        return check_wavelengths(wl, np.shape(layer.data)[0])
    except ValueError:
        return None


def spectral_layers(layers, *, with_wavelengths: bool = False) -> list:
    """The spectral layers of a layer list (or viewer), in order; optionally only those with
    usable wavelengths (what a model can take)."""
    layers = getattr(layers, "layers", layers)
    return [
        ly
        for ly in layers
        if is_spectral(ly) and (not with_wavelengths or layer_wavelengths(ly) is not None)
    ]


def layer_named(layers, name: str | None):
    """The layer called ``name`` in a layer list (or viewer), or None."""
    layers = getattr(layers, "layers", layers)
    return next((ly for ly in layers if ly.name == name), None) if name else None


# ----------------------------------------------------------------------------- domain tags
@dataclass(frozen=True)
class DomainTag:
    """A parsed ``metadata["domain"]``: ``source`` and, for a transfer, ``target``."""

    source: str
    target: str | None = None

    @property
    def data_domain(self) -> str:
        """The domain the data belong to: a transfer's target, else the domain itself."""
        return self.target or self.source

    @property
    def is_transfer(self) -> bool:
        return self.target is not None

    def __str__(self) -> str:
        return format_domain(self.source, self.target)


def format_domain(source: str, target: str | None = None) -> str:
    """``"sim"``, or ``"sim→real"`` for data transferred from ``source`` to ``target``."""
    return str(source) if target is None else f"{source}{ARROW}{target}"


def parse_domain(tag) -> DomainTag | None:
    """Parse a domain tag (``"sim"``, ``"sim→real"``, ``"sim->real"``); None when empty."""
    if tag is None:
        return None
    text = str(tag).strip()
    if not text:
        return None
    for arrow in _ARROWS:
        if arrow in text:
            src, _, tgt = text.partition(arrow)
            src, tgt = src.strip(), tgt.strip()
            if not src or not tgt:
                return None
            return DomainTag(src, tgt)
    return DomainTag(text)


def layer_domain_tag(layer) -> DomainTag | None:
    """The parsed ``metadata["domain"]`` of a layer, or None."""
    return parse_domain((getattr(layer, "metadata", None) or {}).get(DOMAIN))


def layer_domain(layer) -> str | None:
    """The domain a layer's data belong to: ``"sim→real"`` counts as ``"real"`` (its target)."""
    tag = layer_domain_tag(layer)
    return tag.data_domain if tag is not None else None


def is_measured(layer, domain: str) -> bool:
    """True for a layer tagged plainly ``domain`` (not a transfer into it), e.g. the real data."""
    tag = layer_domain_tag(layer)
    return tag is not None and not tag.is_transfer and tag.source == domain


# ----------------------------------------------------------------------------- display
def axis_labels(ndim: int) -> tuple[str, ...]:
    """Axis labels of a spectral image with ``ndim`` axes: ``λ, y, x`` or ``λ, z, y, x``."""
    return ("λ", "y", "x") if ndim == 3 else ("λ", "z", "y", "x")


def spatial_axis_labels(ndim: int) -> tuple[str, ...]:
    """Axis labels of a map over the pixels (``ndim`` axes): ``y, x`` or ``z, y, x``."""
    return ("y", "x") if ndim == 2 else ("z", "y", "x")


def robust_contrast_limits(
    data,
    percentiles: tuple[float, float] = (1.0, 99.5),
    *,
    symmetric: bool = False,
    max_samples: int = 200_000,
) -> tuple[float, float]:
    """``(low, high)`` from percentiles of a strided subsample of the finite values.

    Reads only a subsample, so it stays cheap on a memory-mapped cube. ``symmetric`` gives
    ``(-m, m)`` with ``m`` the upper percentile of ``|data|`` (signed differences).
    """
    shape = np.shape(data)
    n = int(np.prod(shape))
    stride = max(1, int(np.ceil((n / max_samples) ** (1 / max(len(shape), 1)))))
    sample = np.asarray(data[tuple(slice(None, None, stride) for _ in shape)], dtype=np.float64)
    finite = sample[np.isfinite(sample)]
    if finite.size == 0:
        return (-1.0, 1.0) if symmetric else (0.0, 1.0)
    if symmetric:
        m = float(np.percentile(np.abs(finite), percentiles[1])) or 1.0
        return -m, m
    lo, hi = np.percentile(finite, percentiles)
    if not hi > lo:
        lo, hi = float(finite.min()), float(finite.max())
    if not hi > lo:
        hi = lo + 1.0
    return float(lo), float(hi)


# ----------------------------------------------------------------------------- layer-data tuples
def spectral_layer_data(
    data,
    name: str,
    wavelengths,
    *,
    domain: str | None = None,
    metadata: dict | None = None,
    contrast_limits: tuple[float, float] | None = None,
    **kwargs: Any,
) -> LayerData:
    """An Image layer-data tuple for a spectral image ``(bands, y, x)``: wavelengths and domain in
    its metadata, a ``λ`` axis, grey colormap, robust contrast limits unless given."""
    meta: dict[str, Any] = {WAVELENGTHS: np.asarray(wavelengths, dtype=np.float64)}
    if domain:
        meta[DOMAIN] = str(domain)
    meta.update(metadata or {})
    attrs = {
        "name": name,
        "metadata": meta,
        "axis_labels": axis_labels(len(np.shape(data))),
        "contrast_limits": contrast_limits or robust_contrast_limits(data),
        "colormap": "gray",
        "rgb": False,
        **kwargs,
    }
    return data, attrs, "image"


def map_layer_data(
    data, name: str, *, metadata: dict | None = None, colormap: str = "viridis", **kwargs: Any
) -> LayerData:
    """An Image layer-data tuple for a map over the pixels ``(y, x)`` (a log-likelihood, a summed
    difference) or any non-spectral image; no domain tag unless ``metadata`` brings one."""
    attrs = {
        "name": name,
        "metadata": dict(metadata or {}),
        "colormap": colormap,
        "rgb": False,
        **kwargs,
    }
    attrs.setdefault("contrast_limits", robust_contrast_limits(data))
    attrs.setdefault("axis_labels", spatial_axis_labels(np.ndim(data)))
    return data, attrs, "image"


def labels_name(image_name: str) -> str:
    """The name of the Labels layer that belongs to the image layer ``image_name`` (the readers
    and samples add a cube's labels as ``"<name> labels"``)."""
    return f"{image_name} labels"


def labels_layer_data(
    labels, name: str, label_names: dict[int, str] | None = None, **kwargs: Any
) -> LayerData:
    """A Labels layer-data tuple ``(y, x)``: names in ``metadata["label_names"]`` and features."""
    labels = np.asarray(labels)
    if not np.issubdtype(labels.dtype, np.integer):
        labels = labels.astype(np.int32)
    meta: dict[str, Any] = {}
    attrs: dict[str, Any] = {"name": name, "metadata": meta, "opacity": 0.4}
    if label_names:
        meta["label_names"] = dict(label_names)
        values = sorted(set(label_names) | {0})
        attrs["features"] = {"index": values, "name": [label_names.get(v, "") for v in values]}
    attrs["axis_labels"] = spatial_axis_labels(labels.ndim)
    attrs.update(kwargs)
    return labels, attrs, "labels"


def add_layer_data(viewer, layer_data: LayerData):
    """Add a layer-data tuple to a viewer (what napari does with a reader's tuples)."""
    data, attrs, kind = layer_data
    return getattr(viewer, f"add_{kind}")(data, **attrs)
