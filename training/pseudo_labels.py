"""Pseudo-labels for the real domain from sim labels alone (the class condition of cINN_DY).

The paper conditions real spectra on *random* organ labels: then sim class k must fill the whole
latent and decodes into all of real, so class identity is lost (harmless there only because the
paper's simulations were matched to real pixels class by class). Here real spectra are conditioned
on soft labels of a classifier trained on sim only: the sim spectra are moved by the linear
Gaussian OT map towards the real training spectra (unlabelled), a small MLP learns their sim labels,
and its class probabilities on a real spectrum are that spectrum's condition. No real label is read.
With a *teacher* (``loss.real_classes: pseudo-teacher``) the labeller learns from a trained cINN's
stochastic sim→real transfers instead of the linear map: one round of self-training.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn


class PseudoLabeller(nn.Module):
    """Class probabilities ``(n, n_classes)`` for raw spectra ``(n, bands)`` (unit-norm inside)."""

    def __init__(self, bands: int, n_classes: int, hidden: int = 128):
        super().__init__()
        self.register_buffer("mean", torch.zeros(bands))
        self.register_buffer("std", torch.ones(bands))
        self.net = nn.Sequential(
            nn.Linear(bands, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, n_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        u = x / x.norm(dim=1, keepdim=True).clamp_min(1e-12)
        return torch.softmax(self.net((u - self.mean) / self.std), dim=1)


def labelled_sim_spectra(subjects, limit: int = 100_000, seed: int = 0):
    """Labelled sim spectra ``(n, bands)`` and labels ``(n,)`` of HSI training subjects.

    ``subjects``: the sim ``DomainData`` (files are sampled through its bounded pool) or a list of
    in-memory subjects.
    """
    if hasattr(subjects, "subjects"):  # a DomainData: sample its files, never read them whole
        from .data import labelled_spectra

        x, y = labelled_spectra(subjects, limit, seed)
        if y is None or not len(x):
            raise ValueError("loss.real_classes=pseudo needs labelled sim files (label masks)")
        return x, y
    xs = [s.spectra for s in subjects if s.labels is not None]
    ys = [s.labels for s in subjects if s.labels is not None]
    if not xs:
        raise ValueError("loss.real_classes=pseudo needs labelled sim files (label masks)")
    x, y = np.concatenate(xs), np.concatenate(ys)
    if len(x) > limit:
        pick = np.random.default_rng(seed).choice(len(x), limit, replace=False)
        x, y = x[pick], y[pick]
    return x, y


def teacher_transfers(
    path: str, sim: np.ndarray, labels: np.ndarray, seed: int = 0, realisations: int = 3
) -> tuple[np.ndarray, np.ndarray]:
    """A teacher model file's stochastic sim→real transfers of spectra ``(n, bands)``, unit-norm.

    ``realisations`` draws of every spectrum, each in 16 parts with a whole-image factor of their
    own (for files with an image spread), so the labeller sees several camera states; returns the
    transfers ``(m, bands)`` and their ``labels`` ``(m,)`` (non-finite transfers dropped).
    """
    from napari_cinn.core import load_model, transfer_image

    from .linear_ot import unit_spectra

    model = load_model(path)
    if model.modality != "hsi":
        raise ValueError(f"loss.teacher {path}: a {model.modality.upper()} model, not HSI")
    xs, ys = [], []
    for r in range(realisations):
        for g, rows in enumerate(np.array_split(np.arange(len(sim)), 16)):
            cube = sim[rows].T[:, :, None]  # (bands, n, 1)
            out = transfer_image(model, cube, 0, 1, sample=True, seed=seed * 1000 + r * 16 + g)
            xs.append(out[:, :, 0].T)
            ys.append(labels[rows])
    x, y = np.concatenate(xs), np.concatenate(ys)
    ok = np.isfinite(x).all(1)
    return unit_spectra(x[ok]).astype(np.float32), y[ok]


def fit_pseudo_labeller(
    sim: np.ndarray,
    labels: np.ndarray,
    real: np.ndarray,
    n_classes: int,
    seed: int = 0,
    steps: int = 600,
    noisy: bool = False,
    teacher: str = "",
) -> PseudoLabeller:
    """Train the labeller on moved sim spectra ``(n, bands)`` with their ``labels`` ``(n,)``.

    The sim spectra are moved by the linear OT map or, given a ``teacher`` model file, by its
    stochastic transfer (:func:`teacher_transfers`). ``noisy`` (linear map only): each batch gets
    a fresh draw of the per-band noise the moved spectra lack against the real ones
    (``noise_level.missing_noise``), so the labeller is trained on data as noisy as the real
    spectra it labels.
    """
    from .linear_ot import gaussian_ot_map, unit_spectra
    from .noise_level import band_noise, missing_noise

    ok = np.isfinite(sim).all(1) & (np.linalg.norm(sim, axis=1) > 0)
    y = np.clip(labels[ok], 0, n_classes - 1)
    ur = unit_spectra(real)
    if teacher:
        moved, y = teacher_transfers(teacher, sim[ok], y, seed)
        noisy = False  # the teacher's transfers carry the real domain's noise already
    else:
        us = unit_spectra(sim[ok])
        A, b = gaussian_ot_map(us, ur)
        moved = (us @ A.T + b).astype(np.float32)
    sigma = torch.zeros(sim.shape[1])
    if noisy:
        lack = missing_noise({"moved": band_noise(moved), "real": band_noise(ur)})["moved"]
        sigma = torch.as_tensor(lack, dtype=torch.float32)
    gen = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = PseudoLabeller(sim.shape[1], n_classes)
    model.mean.copy_(torch.as_tensor(ur.mean(0), dtype=torch.float32))
    model.std.copy_(torch.as_tensor(ur.std(0).clip(1e-8), dtype=torch.float32))
    xt, yt = torch.from_numpy(moved), torch.as_tensor(y, dtype=torch.long)
    opt = torch.optim.Adam(model.net.parameters(), lr=2e-3)
    for _ in range(steps):
        idx = torch.randint(len(xt), (1024,), generator=gen)
        x = xt[idx]  # moved spectra are unit-norm already
        if noisy:
            x = x + sigma * torch.randn(x.shape, generator=gen)
        u = (x - model.mean) / model.std
        loss = nn.functional.cross_entropy(model.net(u), yt[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval().requires_grad_(False)
