"""Latent (or data) clouds of several spectral images in one PCA plane, with densities and health.

The Latent space dock's computation: a random subsample of each image's usable pixels is encoded
by the model (``space="latent"``; torch imported lazily) or L2-normalised (``space="data"``), a PCA
is fitted on the reference image alone and every image is projected into it (the paper's Fig. 5a).
An image model (PAT), whose latent is not per pixel, encodes the whole image and the subsample is
taken from its packed codes: one point per pixel, one dimension per latent channel, as
``cinn-train evaluate`` counts them.
In latent space each image also gets its :class:`~napari_cinn.core.latent_health.LatentHealth`:
whether its codes fill the N(0, 1) the model assumes in every dimension. For a domain the model
dequantises (e.g. a noise-free simulation), the pixels get one seeded draw of that noise first
(``source_noise=True``, the default): the distribution the flow was trained on and what a
stochastic transfer encodes. ``source_noise=False`` shows the pixels as they are; a noise-free
simulation then sits in a thin core of the latent, and plot and health both say so.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass, field

import numpy as np

from napari_cinn.core.density import KdeGrid, kde_grid, padded_extent
from napari_cinn.core.jobs import CancelFn, ProgressFn, step
from napari_cinn.core.latent_health import LatentHealth, latent_health
from napari_cinn.core.pca import PCAProjection
from napari_cinn.core.picking import gather_spectra, sample_valid_pixels
from napari_cinn.core.spectra import normalize_spectra


@dataclass
class CloudInput:
    """One spectral image to project: ``cube`` ``(bands, y, x)``, its wavelengths and domain name."""

    name: str
    cube: object
    wavelengths: np.ndarray | None = None
    domain: str | None = None


@dataclass
class Cloud:
    """Projected pixels of one image: ``index`` (``ys``, ``xs``), ``points`` ``(n, 2)``, ``kde``;
    ``health`` of its full ``(n, dims)`` codes in latent space (None in data space)."""

    name: str
    index: tuple[np.ndarray, ...]
    points: np.ndarray
    kde: KdeGrid | None
    domain: str | None = None
    health: LatentHealth | None = None
    noisy: bool = False  # the model's noise for this domain was added before encoding
    codes: np.ndarray | None = None  # image models: the whole image's codes (channels, y, x)


@dataclass
class ProjectionResult:
    """All clouds in one PCA plane fitted on ``reference``; ``notes`` say what was left out and why."""

    clouds: list[Cloud]
    pca: PCAProjection
    space: str
    reference: str
    extent: tuple[float, float, float, float]
    notes: list[str] = field(default_factory=list)
    seed: int = 0  # of the pixel subsample and of the model's noise draw

    @property
    def source_noise(self) -> bool:
        """Whether any layer was encoded plus the model's noise for its domain."""
        return any(c.noisy for c in self.clouds)


def with_model_noise(model, x: np.ndarray, domain: str | None, seed: int = 0) -> np.ndarray:
    """``x`` (spectra ``(n, bands)`` or images ``(n, bands, y, x)``) plus one draw (seeded) of the
    noise the model adds to ``domain`` in training and in a stochastic transfer; unchanged when it
    adds none (torch imported lazily)."""
    if model is None or domain not in tuple(model.domains) or not model.can_sample(domain):
        return x
    import torch

    with torch.inference_mode():
        t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
        return model.add_source_noise(t, domain, torch.Generator().manual_seed(seed)).numpy()


def features(
    spectra: np.ndarray,
    space: str,
    *,
    model=None,
    domain: str | None = None,
    wavelengths=None,
    device: str = "cpu",
    with_source_noise: bool = False,
    seed: int = 0,
) -> np.ndarray:
    """Features ``(n, d)`` of ``(n, bands)`` spectra: L2-normalised spectra (``space="data"``)
    or the model's latent codes under ``domain`` (``space="latent"``; torch imported lazily).

    ``with_source_noise``: encode the spectra plus a draw (``seed``) of the noise the model adds
    to ``domain`` in training (dequantisation), i.e. the distribution the flow models."""
    if space == "data":
        return normalize_spectra(spectra, "l2")[0]
    if space != "latent":
        raise ValueError(f"unknown space {space!r}; use 'data' or 'latent'")
    from napari_cinn.core.transfer import encode_image

    if with_source_noise:
        spectra = with_model_noise(model, spectra, domain, seed)
    image = np.ascontiguousarray(spectra.T[:, :, None])  # (bands, n, 1)
    return encode_image(model, image, domain, wavelengths=wavelengths, device=device)[:, :, 0].T


def image_codes(
    model, cube, domain: str, *, wavelengths=None, noise: bool = False, seed: int = 0, device="cpu"
) -> np.ndarray:
    """Latent codes ``(channels, y, x)`` of a whole ``(bands, y, x)`` image: what an image model
    (PAT) encodes, its multi-scale latent packed into the image's shape. ``noise``: plus one
    draw (``seed``) of the noise the model adds to ``domain``, as in training and transfer."""
    from napari_cinn.core.transfer import encode_image

    cube = np.ascontiguousarray(cube, dtype=np.float32)
    if noise:
        cube = with_model_noise(model, cube[None], domain, seed)[0]
    return encode_image(model, cube, domain, wavelengths=wavelengths, device=device)


def latent_problem(model, item: CloudInput) -> str | None:
    """Why ``item`` cannot be encoded with ``model`` (bands, wavelengths, domain), or None."""
    from napari_cinn.core.transfer import fit_problem

    problem = fit_problem(model, np.shape(item.cube)[0], item.wavelengths)
    if problem:
        return problem
    if item.domain not in tuple(model.domains):
        got = "no domain" if item.domain is None else f"domain {item.domain!r}"
        return f"model knows domains {list(model.domains)}; the layer has {got}"
    return None


def _usable(inputs: list[CloudInput], reference: str, space: str, model) -> tuple[list, list]:
    """The inputs that can be projected, and notes for those left out (ValueError: reference)."""
    ref_bands = np.shape(next(i for i in inputs if i.name == reference).cube)[0]
    notes: list[str] = []
    usable: list[CloudInput] = []
    for item in inputs:
        problem = latent_problem(model, item) if space == "latent" else None
        if problem is None and np.ndim(item.cube) != 3:
            problem = f"expected a (bands, y, x) image, got shape {np.shape(item.cube)}"
        if problem is None and space == "data" and np.shape(item.cube)[0] != ref_bands:
            problem = f"{np.shape(item.cube)[0]} bands, the reference has {ref_bands}"
        if problem:
            if item.name == reference:
                raise ValueError(f"reference '{item.name}' cannot be projected: {problem}")
            notes.append(f"'{item.name}' left out: {problem}")
        else:
            usable.append(item)
    return usable, notes


def project_clouds(
    inputs: list[CloudInput],
    reference: str,
    *,
    n: int = 5000,
    space: str = "latent",
    model=None,
    seed: int = 0,
    chunk: int = 8192,
    device: str = "cpu",
    gridsize: int = 64,
    threads: int | None = 1,
    source_noise: bool = True,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> ProjectionResult:
    """Project a random subsample of usable pixels of each input into one 2-D PCA plane.

    ``progress(done, total)`` is called with pixel counts after each encoded chunk, ``cancel()``
    polled before each (True raises :class:`~napari_cinn.core.jobs.JobCancelled`). ``threads``:
    torch CPU threads while encoding (restored afterwards; None leaves torch's setting): one by
    default, because the cINN's layers are small and a second thread mostly adds contention.
    ``source_noise``: in latent space, add one draw (``seed``) of the noise the model adds to a
    layer's domain before encoding it (see the module docstring); plot and health use the same codes.

    The PCA is fitted on the ``reference`` input only. Inputs that cannot be projected (model does
    not fit, unknown domain, other band count) are left out with a note; if the reference fails,
    ValueError.
    """
    if space == "latent" and model is None:
        raise ValueError("latent space needs a model: load a model file first")
    names = [i.name for i in inputs]
    if reference not in names:
        raise ValueError(f"reference {reference!r} is not among the chosen layers {names}")
    usable, notes = _usable(inputs, reference, space, model)
    picks = []
    for item in usable:
        idx = sample_valid_pixels(item.cube, n, seed=seed)
        if len(idx[0]) == 0:
            if item.name == reference:
                raise ValueError(f"reference '{item.name}' has no usable pixel (all NaN or zero)")
            notes.append(f"'{item.name}' left out: no usable pixel")
            continue
        picks.append((item, idx))
    total = sum(len(idx[0]) for _, idx in picks)
    done = 0
    feats: dict[str, np.ndarray] = {}
    noisy: set[str] = set()  # layers encoded plus the model's noise for their domain
    whole: dict[str, np.ndarray] = {}  # image models: each image's codes (channels, y, x)
    if space == "latent":
        from napari_cinn.core.devices import torch_threads

        limit = torch_threads(threads)
    else:
        limit = nullcontext()
    with limit:
        for item, idx in picks:
            add_noise = space == "latent" and source_noise and model.can_sample(item.domain)
            if add_noise:
                noisy.add(item.name)
            if space == "latent" and model.modality != "hsi":  # not per pixel: the whole image
                step(progress, cancel, done, total, "projection")
                whole[item.name] = image_codes(
                    model, item.cube, item.domain, wavelengths=item.wavelengths,
                    noise=add_noise, seed=seed, device=device,
                )  # fmt: skip
                feats[item.name] = gather_spectra(whole[item.name], idx)
                done += len(idx[0])
                continue
            spectra = gather_spectra(item.cube, idx)
            if add_noise:
                spectra = with_model_noise(model, spectra, item.domain, seed)
            parts = []
            for start in range(0, spectra.shape[0], chunk):
                step(progress, cancel, done, total, "projection")
                part = spectra[start : start + chunk]
                parts.append(
                    features(
                        part,
                        space,
                        model=model,
                        domain=item.domain,
                        wavelengths=item.wavelengths,
                        device=device,
                    )
                )
                done += part.shape[0]
            feats[item.name] = np.concatenate(parts)
    step(progress, cancel, done, total, "projection")
    pca = PCAProjection.fit(feats[reference])
    projected = {name: pca.transform(f) for name, f in feats.items()}
    extent = padded_extent(list(projected.values()))
    clouds = []
    for item, idx in picks:
        pts = projected[item.name]
        kde = kde_grid(pts, extent, gridsize, seed=seed)
        if kde is None:
            notes.append(
                f"'{item.name}': too few or degenerate points for a density, shown as scatter"
            )
        health = None
        if space == "latent" and len(pts) >= 2:
            health = latent_health(feats[item.name], seed=seed)
        codes = whole.get(item.name)
        clouds.append(
            Cloud(item.name, idx, pts, kde, item.domain, health, item.name in noisy, codes)
        )
    notes.extend(coinciding_clouds(clouds))
    if noisy:
        names = ", ".join(f"'{c.name}'" for c in clouds if c.noisy)
        notes.append(
            f"{names} encoded plus the model's noise for their domain, as a transfer does."
        )
    return ProjectionResult(clouds, pca, space, reference, extent, notes, seed)


def coinciding_clouds(clouds: list[Cloud], rtol: float = 1e-4) -> list[str]:
    """Notes for clouds drawn exactly on top of an earlier one (same pixels, same points).

    In latent space a transferred layer encoded under its target domain has the codes of its
    source under the source domain (the transfer keeps ``z``), so one cloud hides the other.
    """
    notes = []
    for k, b in enumerate(clouds):
        for a in clouds[:k]:
            same_pixels = len(a.index) == len(b.index) and all(
                np.array_equal(i, j) for i, j in zip(a.index, b.index, strict=True)
            )
            if (
                same_pixels
                and a.points.shape == b.points.shape
                and np.allclose(
                    a.points,
                    b.points,
                    rtol=rtol,
                    atol=rtol * (float(np.abs(a.points).max()) + 1e-12),
                )
            ):
                notes.append(
                    f"'{b.name}' lies exactly on '{a.name}' (same codes; a transfer keeps "
                    "the latent code)."
                )
                break
    return notes
