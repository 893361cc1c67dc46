"""UNIT baseline (Liu, Breuel & Kautz, NeurIPS 2017): a shared-latent VAE-GAN for sim→real transfer.

Losses (weights in ``UnitConfig``): VAE reconstruction (L1) + KL, LSGAN per domain, and cycle
reconstruction. Modules: :mod:`.net` (networks, losses), :mod:`.lit` (the Lightning module of
``cinn-train fit`` with ``method: unit``), :mod:`.files` (UNIT files written by
``cinn-train export``).

``cinn-train evaluate --method unit`` trains a spectra UNIT inside the evaluation with :func:`fit`
(``--budget SECONDS``, default 300, or ``--option iterations=N``); a trained UNIT file is scored
with ``--method FILE.safetensors``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .files import FORMAT, load_unit, save_unit, spectra_transform, unit_from_checkpoint
from .net import DOMAINS, UNITNet, unit_losses

__all__ = [
    "DOMAINS",
    "FORMAT",
    "UNITNet",
    "fit",
    "fit_unit_on_arrays",
    "load_unit",
    "save_unit",
    "spectra_transform",
    "unit_from_checkpoint",
    "unit_losses",
]


def _duration(seconds: float) -> str:
    """``DD:HH:MM:SS`` of ``seconds`` (rounded up to whole seconds), Lightning's ``max_time``."""
    s = max(1, int(np.ceil(seconds)))
    return f"{s // 86400:02d}:{s // 3600 % 24:02d}:{s // 60 % 60:02d}:{s % 60:02d}"


def fit(
    sim_spectra: np.ndarray,
    real_spectra: np.ndarray,
    *,
    seconds: float = 300.0,
    iterations: int = -1,
    seed: int = 0,
) -> Callable[[np.ndarray], np.ndarray]:
    """UNIT (shared-latent VAE-GAN) trained on these spectra for ``seconds`` (or ``iterations``)."""
    net = fit_unit_on_arrays(
        sim_spectra, real_spectra, seconds=seconds, iterations=iterations, seed=seed
    )
    return spectra_transform(net)


def fit_unit_on_arrays(
    sim: np.ndarray,
    real: np.ndarray,
    *,
    seconds: float = 300.0,
    iterations: int = -1,
    seed: int = 0,
    overrides: Sequence[str] = (),
) -> UNITNet:
    """Train a spectra UNIT on in-memory ``(n, bands)`` arrays; returns the network (eval mode).

    Runs :func:`napari_cinn_training.train.train` (the loop of ``cinn-train fit``) on the CPU,
    in a temporary run folder, for about ``seconds`` of wall-clock time or ``iterations``
    iterations, whichever comes first (``<= 0``: no limit of that kind). ``overrides`` are config
    overrides like ``"unit.hidden=128"`` applied to the defaults of this in-evaluation fit
    (batch 256, 16 384 samples an epoch, no learning-rate schedule).
    """
    import tempfile

    from ...config import apply_override, config_from_dict
    from ...data import from_arrays
    from ...train import train
    from .lit import UNITModule

    values = {
        "method": "unit",
        "modality": "hsi",
        "seed": int(seed),
        "data": {"batch_size": 256, "samples_per_epoch": 16384, "val_samples": 2048},
        "optim": {"scheduler": "none"},
        "trainer": {
            "max_epochs": 1000,
            "max_steps": int(iterations) if iterations > 0 else -1,
            "max_time": _duration(seconds) if seconds > 0 else None,
            "progress_bar": False,
            "accelerator": "cpu",
            "devices": 1,
            "log_every_n_steps": 100,
            "checkpoint_every_n_steps": 10**9,
        },
    }
    for override in overrides:
        apply_override(values, override)
    with tempfile.TemporaryDirectory() as tmp:
        values["trainer"]["out_dir"] = tmp
        cfg = config_from_dict(values, "the UNIT baseline's settings")
        result = train(cfg, from_arrays(sim, real, "hsi"), UNITModule)
    return result.module.net.eval()
