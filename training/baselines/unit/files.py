"""UNIT baseline files: safetensors weights with JSON metadata (``napari_cinn_unit``), read back
without pickle; a UNIT training checkpoint becomes such a file with ``cinn-train export``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ...config import config_from_dict
from .net import UNITNet

FORMAT = "napari-cinn-unit/1"


def save_unit(
    net: UNITNet, path: str | Path, *, overwrite: bool = False, **provenance: Any
) -> Path:
    """Write a UNIT file (safetensors, JSON metadata); atomic, never overwrites without ``overwrite``."""
    from safetensors.torch import save_file

    from napari_cinn.core.files import atomic_targets

    path = Path(path)
    meta = {"format": FORMAT, "method": "unit", **net.config(), "provenance": provenance}
    tensors = {k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}
    with atomic_targets(path, overwrite=overwrite) as (tmp,):
        save_file(tensors, str(tmp), metadata={"napari_cinn_unit": json.dumps(meta, default=str)})
    return path


def load_unit(path: str | Path) -> UNITNet:
    """Read a UNIT file written by :func:`save_unit`."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    path = Path(path)
    try:
        with safe_open(str(path), "pt") as fh:
            raw = (fh.metadata() or {}).get("napari_cinn_unit")
    except Exception as err:  # noqa: BLE001 - missing, truncated or not safetensors
        raise ValueError(f"{path}: not a readable safetensors file ({err})") from None
    if raw is None:
        raise ValueError(f"{path}: not a UNIT baseline file")
    meta = json.loads(raw)
    net = UNITNet(meta["modality"], meta["bands"], meta["latent"], meta["hidden"], meta["norm"])
    net.load_state_dict(load_file(str(path)))
    return net.eval()


def unit_from_checkpoint(ckpt: dict[str, Any]) -> UNITNet:
    """The trained network of a UNIT Lightning checkpoint (``read_checkpoint``'s dict)."""
    hp = ckpt["hyper_parameters"]
    cfg = config_from_dict(hp["config"])
    net = UNITNet(cfg.modality, len(hp["wavelengths"]), cfg.unit.latent, cfg.unit.hidden)
    state = {k[len("net.") :]: v for k, v in ckpt["state_dict"].items() if k.startswith("net.")}
    net.load_state_dict(state)
    return net.eval()


def spectra_transform(
    net: UNITNet, src: str = "sim", tgt: str = "real"
) -> Callable[[np.ndarray], np.ndarray]:
    """``transform((n, bands)) -> (n, bands)`` float32 of a spectra UNIT, in chunks of 8192."""

    def transform(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, np.float32)
        out = np.empty_like(x)
        for i in range(0, len(x), 8192):
            out[i : i + 8192] = net.transfer(torch.from_numpy(x[i : i + 8192]), src, tgt).numpy()
        return out

    return transform
