"""``cinn-train import-udt``: convert a UDT-cINN (Dreher et al., MICCAI 2023) HSI checkpoint.

The paper's code (IMSY-DKFZ/UDT-cINN) trains a FrEIA 0.2 ``SequenceINN`` of ``AllInOneBlock`` s
(``reverse_permutation=True``, the first ``n_conditional_blocks`` conditioned on the domain
one-hot and, with ``condition: segmentation``, the organ one-hot) on spectra that are L2-normalised
and then standardised with one scalar mean and std per domain (``config.data.mean_a`` ... or the
``data_stats.json`` it computes them into). Its Lightning checkpoint holds the flow under
``state_dict["model.*"]`` and the two discriminators beside it; it has no config inside, so the
architecture is read from the weights (checked against ``--config`` when given) and the statistics
from ``--config``, ``--data-stats`` or the command line.

The model file records what our model needs to reproduce the paper's network: the blocks'
``reverse_permutation``, L2 normalisation without the brightness exponent, global (scalar)
standardisation, the paper's output convention (decode undoes the standardisation only: spectra
keep the unit-norm scale, no rescaling to unit norm), the organ names in condition order and the
domains ``sim`` (the paper's domain a) and ``real`` (b). ``tests/training/test_import_udt.py``
builds the paper's network with FrEIA 0.2 as its code does and checks latent codes and transfers
to 1e-5. Only HSI models convert; the PAT model's architecture differs (``docs/readers.md``).
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
from pathlib import Path
from typing import Any

PREFIX = "model."
DOMAINS = ("sim", "real")  # the paper's domain a (simulated) and b (real)


class UDTImportError(ValueError):
    """The checkpoint cannot be converted (the message says why)."""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Convert a UDT-cINN HSI checkpoint (IMSY-DKFZ/UDT-cINN, e.g. the Zenodo release's "
        "model_checkpoint.ckpt) into a napari-cinn model file."
    )
    parser.add_argument("checkpoint", metavar="CHECKPOINT", help="the paper code's .ckpt file")
    parser.add_argument("--config", metavar="config.yaml", help="the run's config.yaml")
    parser.add_argument(
        "--data-stats", metavar="data_stats.json", help="the code's data_stats.json (mean/std)"
    )
    for dom in DOMAINS:
        for stat in ("mean", "std"):
            parser.add_argument(
                f"--{stat}-{dom}", type=float, help=f"scalar {stat} of the L2-normalised {dom} data"
            )
    parser.add_argument(
        "--grid",
        choices=("project", "htc"),
        default="project",
        help="wavelengths to record: project 500–995 nm (default) or htc linspace(500, 1000, 100)",
    )
    parser.add_argument("--out", required=True, metavar="FILE.safetensors", help="file to write")
    parser.add_argument("--force", action="store_true", help="replace FILE if it exists")


def read_udt_checkpoint(path: Path) -> dict[str, Any]:
    """The flow's tensors (``model.`` prefix removed) of a UDT-cINN checkpoint, loaded safely."""
    import torch

    if not path.is_file():
        raise UDTImportError(f"checkpoint {str(path)!r} not found")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - any failure means an unusable file
        raise UDTImportError(
            f"{path}: cannot be read safely (weights_only=True refuses it: {err}); napari-cinn "
            "never unpickles code"
        ) from None
    state = ckpt.get("state_dict", ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict):
        raise UDTImportError(f"{path}: no state_dict inside")
    flow = {k[len(PREFIX) :]: v for k, v in state.items() if k.startswith(PREFIX)}
    if not flow or not any(k.startswith("module_list.") for k in flow):
        raise UDTImportError(
            f"{path}: no 'model.module_list.*' weights: not a UDT-cINN checkpoint "
            "(a cinn-train checkpoint converts with `cinn-train export`)"
        )
    if any(getattr(v, "ndim", 0) == 4 for v in flow.values()):
        raise UDTImportError(
            f"{path}: this is a UDT-cINN PAT (image) model; only the HSI model converts "
            "(docs/readers.md says why)"
        )
    return flow


def architecture(flow: dict[str, Any], where: Path) -> dict[str, int]:
    """bands, n_blocks, n_cond_blocks, hidden and n_classes, read from the flow's weights."""
    blocks = sorted({int(m.group(1)) for k in flow if (m := re.match(r"module_list\.(\d+)\.", k))})
    if blocks != list(range(len(blocks))):
        raise UDTImportError(f"{where}: the blocks are not numbered 0..n-1 ({blocks[:5]} ...)")
    try:
        bands = int(flow["module_list.0.global_scale"].shape[1])
        first = [flow[f"module_list.{i}.subnet.0.weight"] for i in blocks]
    except KeyError as err:
        raise UDTImportError(f"{where}: missing {err} (not an AllInOneBlock flow)") from None
    passive = bands - bands // 2
    cond = [int(w.shape[1]) - passive for w in first]
    n_cond = sum(c > 0 for c in cond)
    if any(c > 0 for c in cond[n_cond:]) or len(set(cond[:n_cond])) > 1:
        raise UDTImportError(f"{where}: conditional blocks must come first and share one condition")
    width = cond[0] if n_cond else 0
    if n_cond and width < 2:
        raise UDTImportError(f"{where}: a condition of {width} numbers has no domain one-hot")
    return {
        "bands": bands,
        "n_blocks": len(blocks),
        "n_cond_blocks": n_cond,
        "hidden": int(first[0].shape[0]),
        "n_classes": max(width - len(DOMAINS), 0),
    }


def _yaml(path: str | None) -> dict[str, Any]:
    if not path:
        return {}
    import yaml

    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as err:
        raise UDTImportError(f"{path}: not a readable YAML config ({err})") from None
    if not isinstance(raw, dict):
        raise UDTImportError(f"{path}: the config is not a mapping")
    return raw


def check_config(cfg: dict[str, Any], arch: dict[str, int], where: str) -> None:
    """Refuse a config whose architecture contradicts the weights."""
    pairs = (
        ("n_blocks", "n_blocks"),
        ("n_conditional_blocks", "n_cond_blocks"),
        ("n_hidden", "hidden"),
    )
    for key, ours in pairs:
        if key in cfg and int(cfg[key]) != arch[ours]:
            raise UDTImportError(f"{where}: {key} is {cfg[key]} but the weights have {arch[ours]}")


def statistics(args, cfg: dict[str, Any]) -> dict[str, tuple[float, float]]:
    """Scalar (mean, std) per domain: command line, then config.yaml, then data_stats.json."""
    import json

    data = cfg.get("data") or {}
    stats_file: dict[str, Any] = {}
    if args.data_stats:
        try:
            stats_file = json.loads(Path(args.data_stats).read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise UDTImportError(
                f"{args.data_stats}: not a readable data_stats.json ({err})"
            ) from None
    choose = data.get("choose_spectra", "unique")
    keys = {"sim": f"train_synthetic_{choose}", "real": "train"}
    out = {}
    for dom, suffix in zip(DOMAINS, ("a", "b"), strict=True):
        vals = []
        for stat in ("mean", "std"):
            value = getattr(args, f"{stat}_{dom}")
            if value is None:
                value = data.get(f"{stat}_{suffix}")
            if value is None:
                value = (stats_file.get(keys[dom]) or {}).get(stat)
            if value is None:
                raise UDTImportError(
                    f"no {stat} for the {dom} domain: give --{stat}-{dom}, a config.yaml with "
                    f"data.{stat}_{suffix}, or --data-stats with a '{keys[dom]}' entry"
                )
            vals.append(float(value))
        if not vals[1] > 0:
            raise UDTImportError(f"the std of the {dom} domain must be positive, got {vals[1]}")
        out[dom] = (vals[0], vals[1])
    return out


def convert(args) -> Path:
    """Build, fill and save the model; returns the written path."""
    import numpy as np
    import torch

    from napari_cinn.core import save_model
    from napari_cinn.core.models import build_model
    from napari_cinn.core.spectra import HSI_WAVELENGTHS
    from napari_cinn.io._udt import HSI_ORGANS

    ckpt = Path(args.checkpoint)
    flow = read_udt_checkpoint(ckpt)
    arch = architecture(flow, ckpt)
    cfg = _yaml(args.config)
    check_config(cfg, arch, args.config or "config")
    if cfg.get("condition", "segmentation") != "segmentation" and arch["n_classes"]:
        raise UDTImportError(
            f"{args.config}: condition {cfg['condition']!r} but organ inputs found"
        )
    stats = statistics(args, cfg)
    if arch["bands"] != 100:
        raise UDTImportError(f"{ckpt}: {arch['bands']} bands; the UDT-cINN HSI model has 100")
    wl = HSI_WAVELENGTHS if args.grid == "project" else np.linspace(500, 1000, 100)
    names = list(HSI_ORGANS) if arch["n_classes"] == len(HSI_ORGANS) else []
    model = build_model(
        "hsi",
        wavelengths=wl,
        domains=DOMAINS,
        n_blocks=arch["n_blocks"],
        n_cond_blocks=arch["n_cond_blocks"],
        hidden=arch["hidden"],
        clamp=float(cfg.get("clamping", 1.0)),
        global_affine_init=float(cfg.get("actnorm", 0.7)),
        norm="l2",
        intensity_exponent=0.0,
        standardize="global",
        n_classes=arch["n_classes"],
        reverse_permutation=True,
        unit_norm_output=False,
        class_names=names,
    )
    ours = model.flow.state_dict()
    missing = sorted(set(ours) - set(flow))
    extra = sorted(set(flow) - set(ours))
    if missing or extra:
        raise UDTImportError(
            f"{ckpt}: weights do not match the paper's HSI architecture ({len(missing)} missing, "
            f"e.g. {missing[:2]}; {len(extra)} unexpected, e.g. {extra[:2]})"
        )
    wrong = [k for k in ours if tuple(ours[k].shape) != tuple(flow[k].shape)]
    if wrong:
        raise UDTImportError(f"{ckpt}: {wrong[0]!r} has shape {list(flow[wrong[0]].shape)}")
    model.flow.load_state_dict({k: v.to(torch.float32) for k, v in flow.items()}, strict=True)
    for dom, (mean, std) in stats.items():
        model.set_normalization(dom, [mean] * 100, [std] * 100, ref_norm=1.0)
    sha = hashlib.sha256(ckpt.read_bytes()).hexdigest()
    return save_model(
        model,
        args.out,
        overwrite=args.force,
        source="UDT-cINN checkpoint (IMSY-DKFZ/UDT-cINN), converted by cinn-train import-udt",
        checkpoint={"path": str(ckpt), "sha256": sha},
        config=cfg or None,
        normalisation={d: {"mean": m, "std": s} for d, (m, s) in stats.items()},
        conversion_notes=[
            "domains: sim = the paper's domain a, real = domain b",
            "decode undoes the standardisation only (the paper's output convention)",
            "the paper draws condition noise at inference; this file uses clean one-hots "
            "unless soft conditions are passed to encode/decode",
        ],
    )


def run(args) -> int:
    from napari_cinn.core import ModelFileError

    try:
        out = convert(args)
    except (UDTImportError, ModelFileError) as err:
        print(f"cinn-train import-udt: {err}", file=sys.stderr)
        return 2
    print(f"wrote {out}")
    return 0
