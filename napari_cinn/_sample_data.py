"""Sample data (File ▸ Open Sample ▸ napari-cinn): HSI and PAT, simulated and real-like.

Reads the files written by ``cinn-train simulate`` into the repository's ``sample_data/`` folder,
which installs inside the plugin as ``napari_cinn.sample_data`` (see its README): an installed
wheel has the same samples and model files as a checkout.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path
from typing import Any

from napari_cinn.io import SpectralImage, read_spectral
from napari_cinn.io._layers import layer_tuples

#: the shipped sample files (``sample_data/`` of the repository, ``napari_cinn/sample_data`` installed)
SAMPLE_DIR = Path(str(importlib.resources.files("napari_cinn.sample_data")))
#: the shipped pretrained model files
SAMPLE_MODEL_DIR = SAMPLE_DIR / "models"

FILES = {
    "hsi_sim": "hsi_sim.hdr",
    "hsi_real": "hsi_real.hdr",
    "pat_sim": "pat_sim.npz",
    "pat_real": "pat_real.npz",
}


def sample_file(key: str) -> Path:
    """The shipped file for ``key``; a clear error when the installation lacks it."""
    if key not in FILES:
        raise KeyError(f"unknown sample {key!r}; choose one of {sorted(FILES)}")
    path = SAMPLE_DIR / FILES[key]
    if not path.is_file():
        raise FileNotFoundError(
            f"sample {key!r}: {path} is missing from this installation of "
            "napari-cinn; reinstall it, or regenerate the file with "
            "`cinn-train simulate` (sample_data/README.md)"
        )
    return path


def load_sample(key: str) -> SpectralImage:
    """The sample image for ``key`` ("hsi_sim", "hsi_real", "pat_sim", "pat_real")."""
    image = read_spectral(sample_file(key))
    image.metadata.setdefault("domain", key.split("_")[1])
    return image


def _layers(key: str) -> list[tuple[Any, dict, str]]:
    return layer_tuples(load_sample(key), key)


def hsi_sim() -> list[tuple[Any, dict, str]]:
    """HSI cube (100 bands 500–995 nm), simulated domain, with tissue labels."""
    return _layers("hsi_sim")


def hsi_real() -> list[tuple[Any, dict, str]]:
    """HSI cube, synthetic "real-like" domain, with tissue labels."""
    return _layers("hsi_real")


def pat_sim() -> list[tuple[Any, dict, str]]:
    """PAT forearm image (16 wavelengths 700–850 nm), simulated, with vessel labels."""
    return _layers("pat_sim")


def pat_real() -> list[tuple[Any, dict, str]]:
    """PAT forearm image, synthetic "real-like", with vessel labels."""
    return _layers("pat_real")
