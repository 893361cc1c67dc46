"""``cinn-train export``: turn a training checkpoint into the model file the plugin opens.

The file (``napari_cinn.core.save_model``) carries, besides weights and normalisation, the
provenance: the resolved config, the data manifest (files, subjects, split, SHA-256), the git
commit of the code, the date and the final metrics. An existing file is never replaced without
``--force``. UNIT checkpoints export to a UNIT baseline file (``napari_cinn_training.baselines.unit``) that
``cinn-train evaluate`` reads the same way.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import sys
from pathlib import Path
from typing import Any

from .checkpoints import CheckpointError, git_commit, read_checkpoint


class ExportError(ValueError):
    """The checkpoint cannot be exported (message says why)."""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Write the model file (.safetensors) of a training checkpoint, with its "
        "provenance (config, data hashes, git commit, date, final metrics)."
    )
    parser.add_argument(
        "checkpoint",
        metavar="CKPT",
        help="a checkpoint of cinn-train fit, e.g. runs/hsi_sample/checkpoints/last.ckpt",
    )
    parser.add_argument(
        "--out", required=True, metavar="FILE.safetensors", help="model file to write"
    )
    parser.add_argument("--force", action="store_true", help="replace FILE if it exists")


def provenance(ckpt: dict[str, Any], ckpt_path: str | Path) -> dict[str, Any]:
    hp = ckpt["hyper_parameters"]
    extra = ckpt.get("napari_cinn", {})
    return {
        "training": {
            "method": hp["config"].get("method", "cinn"),
            "config": hp["config"],
            "data_manifest": hp.get("manifest"),
            # the code that trained (recorded by fit); older checkpoints: the code that exports
            "git_commit": extra.get("git_commit") or git_commit(),
            "git_commit_of": "fit" if extra.get("git_commit") else "export",
            "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "checkpoint": str(ckpt_path),
            "iteration": extra.get("iteration"),
            "epoch": ckpt.get("epoch"),
            "global_step": ckpt.get("global_step"),
            "skipped_steps": extra.get("skipped_steps"),
            "lightning_version": ckpt.get("pytorch-lightning_version"),
        },
        "metrics": extra.get("metrics", {}),
    }


def model_from_checkpoint(ckpt: dict[str, Any]):
    """Rebuild the core model of a cINN checkpoint with its trained weights and statistics."""
    from .config import config_from_dict
    from .lit import build_cinn

    hp = ckpt["hyper_parameters"]
    cfg = config_from_dict(hp["config"])
    model = build_cinn(cfg, hp["wavelengths"])
    state = {k[len("model.") :]: v for k, v in ckpt["state_dict"].items() if k.startswith("model.")}
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ExportError(
            f"checkpoint does not match the model of its config: missing {missing[:3]}, "
            f"unexpected {unexpected[:3]}"
        )
    return model.eval()


def export(ckpt_path: str | Path, out: str | Path, force: bool = False) -> Path:
    """Write the model file of ``ckpt_path`` to ``out``; returns ``out``."""
    out = Path(out)
    if out.exists() and not force:
        raise ExportError(f"{out} already exists; pass --force to replace it")
    if out.suffix != ".safetensors":
        raise ExportError(f"{out}: model files end in .safetensors")
    ckpt = read_checkpoint(ckpt_path)
    method = ckpt["hyper_parameters"]["config"].get("method", "cinn")
    prov = provenance(ckpt, ckpt_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    if method == "unit":
        from .baselines.unit.files import save_unit, unit_from_checkpoint

        save_unit(unit_from_checkpoint(ckpt), out, overwrite=force, **prov)
        return out
    from napari_cinn.core import save_model

    save_model(model_from_checkpoint(ckpt), out, overwrite=force, **prov)
    return out


def run(args: argparse.Namespace) -> int:
    try:
        path = export(args.checkpoint, args.out, force=args.force)
    except (ExportError, CheckpointError, ValueError, FileExistsError) as err:
        print(f"cinn-train export: {err}", file=sys.stderr)
        return 2
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0
