"""Qt-free logic of the "Latent space" dock: what to project, what a lasso selects, where a
clicked pixel lies, and the latent-health verdict in words.

Layers in (``{name: layer}``), :class:`~napari_cinn.core.clouds.CloudInput` lists, label arrays,
plot points and sentences out. The projection itself is :func:`napari_cinn.core.clouds.project_clouds`.
"""

from __future__ import annotations

import numpy as np

from napari_cinn.core.clouds import CloudInput, ProjectionResult, features
from napari_cinn.core.latent_health import HEALTHY_STD, LatentHealth
from napari_cinn.core.picking import spectrum_at
from napari_cinn.core.polygons import points_in_polygon
from napari_cinn.layers import is_measured, layer_domain, layer_wavelengths
from napari_cinn.widgets._logic.regions import pixel_index


def default_reference(layers: list) -> str | None:
    """The layer the PCA is fitted on by default: a measured real one, as in the paper."""
    real = [ly.name for ly in layers if is_measured(ly, "real")]
    return real[0] if real else None


def cloud_inputs(
    layers: dict, names: list[str], reference: str, fallback: str | None
) -> list[CloudInput]:
    """The inputs of a projection: the checked layers plus the reference; layers without a domain
    tag are encoded under ``fallback`` (None: they are left out with a note)."""
    names = list(names) + ([reference] if reference not in names else [])
    return [
        CloudInput(
            n, layers[n].data, layer_wavelengths(layers[n]), layer_domain(layers[n]) or fallback
        )
        for n in names
        if n in layers
    ]


def selection_labels(
    result: ProjectionResult, layers: dict, vertices
) -> tuple[np.ndarray, np.ndarray] | None:
    """``(labels, points)``: a ``(y, x)`` uint8 mask (1 = a pixel whose point lies inside the
    polygon ``vertices``, over every projected layer still open) and the enclosed points
    ``(n, 2)``; None when no projected layer is open."""
    verts = np.asarray(vertices, dtype=float).reshape(-1, 2)
    hits = [
        (cloud, points_in_polygon(cloud.points, verts))
        for cloud in result.clouds
        if cloud.name in layers
    ]
    if not hits:
        return None
    shape = tuple(np.max([layers[c.name].data.shape[1:] for c, _ in hits], axis=0))
    labels = np.zeros(shape, dtype=np.uint8)
    for cloud, inside in hits:
        labels[tuple(i[inside] for i in cloud.index)] = 1
    points = np.concatenate([c.points[inside] for c, inside in hits])
    return labels, points


def marks_at(result: ProjectionResult, layers: dict, world_position, model=None) -> list:
    """``[(k, (x, y))]``: where the pixel under ``world_position`` of each projected layer ``k``
    lies in the plot (layers that do not cover it, or whose pixel is unusable, are skipped)."""
    marks = []
    for k, cloud in enumerate(result.clouds):
        layer = layers.get(cloud.name)
        idx = pixel_index(layer, world_position) if layer is not None else None
        spec = spectrum_at(layer.data, idx) if idx is not None else None
        if spec is None or not np.all(np.isfinite(spec)) or not np.any(spec):
            continue
        if cloud.codes is not None:  # an image model: the pixel's codes in the encoded image
            f = cloud.codes[(slice(None), *idx)][None]
            marks.append((k, tuple(result.pca.transform(f)[0])))
            continue
        try:
            f = features(
                spec[None],
                result.space,
                model=model,
                domain=cloud.domain,
                wavelengths=layer_wavelengths(layer),
                with_source_noise=cloud.noisy,  # as the cloud was encoded
                seed=result.seed,
            )
        except ValueError:
            continue
        marks.append((k, tuple(result.pca.transform(f)[0])))
    return marks


def result_message(result: ProjectionResult) -> str:
    n = sum(len(c.points) for c in result.clouds)
    msg = f"{n} pixels from {len(result.clouds)} layer(s); PCA fitted on '{result.reference}'."
    return " ".join([msg, *result.notes])


# ----------------------------------------------------------------------------- latent health
def health_rows(
    result: ProjectionResult | None, with_domain: bool = True
) -> list[tuple[str, LatentHealth]]:
    """``[(row label, health)]`` of the projected layers (latent space only); the label is the
    layer's name, with its domain and whether the model's noise was added (``with_domain``)."""
    if result is None:
        return []
    rows = []
    for c in result.clouds:
        if c.health is not None:
            how = f" ({c.domain}{' + noise' if c.noisy else ''})" if with_domain else ""
            rows.append((c.name + how, c.health))
    return rows


def health_word(h: LatentHealth) -> str:
    lo, hi = HEALTHY_STD
    if h.median_std < lo:
        return "a thin core of N(0, 1): codes fill too little of the latent space"
    if h.median_std > hi:
        return "wider than N(0, 1): codes spill out of the latent space"
    return "fills N(0, 1)"


def health_text(result: ProjectionResult | None) -> str:
    """The verdict in words: one line per layer (median std, W2) and whether the domains share
    the latent space (every domain healthy)."""
    if result is None:
        return "Project layers in latent space to see whether the domains share it."
    if result.space != "latent":
        return "Latent health needs latent space (a model): choose 'latent' and project again."
    rows = health_rows(result)
    if not rows:
        return "No layer had enough usable pixels to measure its latent codes."
    lines = [
        f"{name}: median std {h.median_std:.2f}, W2 to N(0, 1) {h.w2:.2f}: {health_word(h)}"
        for name, h in rows
    ]
    sick = [name for name, h in rows if not h.healthy]
    lo, hi = HEALTHY_STD
    if not sick:
        verdict = f"Shared latent space: every layer's median std lies in {lo}–{hi}."
    else:
        verdict = (
            f"Not a shared latent space: {', '.join(sick)} outside median std {lo}–{hi}, "
            "so a transfer from there decodes into a slice of the other domain."
        )
    return "\n".join([verdict, *lines])
