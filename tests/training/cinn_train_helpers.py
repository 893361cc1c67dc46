"""Tiny generated sim/real folders and configs for fast training tests (helpers, no fixtures)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml

from napari_cinn.core.spectra import HSI_WAVELENGTHS, PAT_WAVELENGTHS


def _hsi_cube(rng: np.random.Generator, real: bool, size: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """(bands, size, size) smooth positive spectra of 3 classes; 'real' adds a tilt, offset, noise."""
    wl = (HSI_WAVELENGTHS - 500.0) / 500.0
    labels = rng.integers(1, 4, size=(size, size))
    centres = np.array([0.0, 0.2, 0.5, 0.8])[labels]  # (y, x)
    cube = np.exp(-((wl[:, None, None] - centres[None]) ** 2) / 0.05) + 0.3
    cube *= rng.uniform(0.8, 1.2, size=(1, size, size))
    if real:
        cube = cube * (1.0 + 0.4 * wl[:, None, None]) + 0.1
        cube += rng.normal(0, 0.02, cube.shape)
    return cube.astype(np.float32), labels.astype(np.int32)


def write_hsi_folders(
    root: Path, n_files: int = 3, seed: int = 0, ext: str = ".npz"
) -> tuple[Path, Path]:
    from napari_cinn.io import SpectralImage, write_spectral

    rng = np.random.default_rng(seed)
    folders = []
    for domain in ("sim", "real"):
        folder = root / domain
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(n_files):
            cube, labels = _hsi_cube(rng, real=domain == "real")
            image = SpectralImage(
                cube,
                HSI_WAVELENGTHS.copy(),
                labels,
                {0: "bg", 1: "a", 2: "b", 3: "c"},
                {"domain": domain, "subject": f"{domain}{i}"},
            )
            write_spectral(folder / f"{domain}_{i:02d}{ext}", image)
        folders.append(folder)
    return folders[0], folders[1]


def write_pat_folders(
    root: Path, n_files: int = 2, size: int = 16, seed: int = 0
) -> tuple[Path, Path]:
    from napari_cinn.io import SpectralImage, write_spectral

    rng = np.random.default_rng(seed)
    folders = []
    for domain in ("sim", "real"):
        folder = root / domain
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(n_files):
            img = rng.uniform(0.5, 1.0, (PAT_WAVELENGTHS.size, size, size)).astype(np.float32)
            if domain == "real":
                img = img * 1.3 + 0.2
            labels = (rng.random((size, size)) > 0.8).astype(np.int32)
            write_spectral(
                folder / f"{domain}_{i}.npz",
                SpectralImage(img, PAT_WAVELENGTHS.copy(), labels, None, {"domain": domain}),
            )
        folders.append(folder)
    return folders[0], folders[1]


def tiny_config(sim: Path, real: Path, out: Path, **sections) -> dict:
    cfg = {
        "method": "cinn",
        "modality": "hsi",
        "seed": 0,
        "data": {
            "sim": str(sim),
            "real": str(real),
            "batch_size": 32,
            "samples_per_epoch": 128,
            "val_samples": 64,
            "val_fraction": 0.34,
        },
        "model": {"n_blocks": 2, "hidden": 16},
        "disc": {"hidden": 16, "layers": 1},
        "loss": {"adv_start": 2, "adv_ramp": 2},
        "optim": {"lr": 1e-3, "scheduler": "cosine"},
        "trainer": {
            "max_epochs": 2,
            "out_dir": str(out),
            "progress_bar": False,
            "checkpoint_every_n_steps": 2,
            "log_every_n_steps": 1,
            "accelerator": "cpu",
            "devices": 1,
        },
    }
    for key, value in sections.items():
        cfg.setdefault(key, {})
        if isinstance(value, dict):
            cfg[key].update(value)
        else:
            cfg[key] = value
    return cfg


def write_config(path: Path, cfg: dict) -> Path:
    path.write_text(yaml.safe_dump(cfg))
    return path
