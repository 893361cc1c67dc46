"""Checkpoint helpers shared by ``cinn-train fit`` (resume) and ``cinn-train export``.

A Lightning checkpoint of ``cinn-train fit`` holds ``state_dict``, ``hyper_parameters`` (the
resolved config, the wavelengths, the data manifest) and ``napari_cinn`` (metrics, iteration,
skipped steps and the git commit that trained, written by
:meth:`~napari_cinn_training.lightning_base.LightningBase.on_save_checkpoint`).
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any


class CheckpointError(ValueError):
    """A checkpoint cannot be used (the message names the file and the problem)."""


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load a Lightning checkpoint safely (``weights_only=True``: no pickle code runs)."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {str(path)!r} not found")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - any failure means an unusable file
        raise CheckpointError(f"{path}: not a readable training checkpoint ({err})") from None
    if (
        not isinstance(ckpt, dict)
        or "state_dict" not in ckpt
        or "config" not in ckpt.get("hyper_parameters", {})
    ):
        state = ckpt.get("state_dict", {}) if isinstance(ckpt, dict) else {}
        if any(str(k).startswith("model.module_list.") for k in state):
            raise CheckpointError(
                f"{path}: a UDT-cINN (paper code) checkpoint, not a cinn-train one (it has no "
                "config inside); convert it with `cinn-train import-udt`"
            )
        raise CheckpointError(f"{path}: not a cinn-train checkpoint (no state_dict/config inside)")
    return ckpt


def scalar_metrics(metrics: Mapping[str, Any]) -> dict[str, float]:
    """The entries of a Lightning ``callback_metrics`` mapping that convert to ``float``."""
    out = {}
    for k, v in metrics.items():
        try:
            out[k] = float(v)
        except (TypeError, ValueError):
            continue
    return out


def git_commit() -> str | None:
    """The commit of the code that runs (with ``-dirty`` if the tree has changes), if in git."""
    root = Path(__file__).resolve().parent.parent
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        return sha + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None
