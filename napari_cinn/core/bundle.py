"""The model file: one ``.safetensors`` file with the weights and a JSON description in its header.

Nothing is ever unpickled. The header's ``napari_cinn`` entry holds the format version, modality,
architecture hyper-parameters, wavelengths, domain names, versions, training provenance and
evaluation figures; :func:`load_model` validates all of it and names the problem when it refuses.
"""

from __future__ import annotations

import json
import struct
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from .files import atomic_targets
from .spectra import describe_grid

FORMAT_VERSION = 1
META_KEY = "napari_cinn"
REQUIRED_KEYS = ("format_version", "modality", "wavelengths", "domains", "hyper")
_MAX_HEADER = 100 * 1024 * 1024


class ModelFileError(ValueError):
    """A model file that cannot be used; the message says why and what to do."""


def save_model(
    model, path, *, overwrite: bool = False, metrics: dict | None = None, **provenance: Any
) -> Path:
    """Write ``model`` to ``path`` (``.safetensors``) atomically; refuse to overwrite unless asked.

    ``metrics`` (evaluation figures) and any other keyword (data, config, git commit, ...) are stored
    as JSON in the header. Values must be JSON-serialisable (NumPy scalars/arrays are converted).
    """
    from safetensors.torch import save_file

    path = Path(path)
    if path.suffix != ".safetensors":
        raise ModelFileError(f"model files end in .safetensors, got {path.name!r}")
    if path.exists() and not overwrite:
        raise ModelFileError(f"{path} exists; pass overwrite=True (or --force) to replace it")
    from napari_cinn import __version__

    info = dict(getattr(model, "info", {}) or {})
    meta = {
        "format_version": FORMAT_VERSION,
        **model.config(),
        "napari_cinn_version": __version__,
        "torch_version": _torch_version(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "provenance": {**info.get("provenance", {}), **provenance},
        "metrics": {**info.get("metrics", {}), **(metrics or {})},
    }
    text = json.dumps(meta, default=_jsonable)
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_targets(path, overwrite=overwrite, error=ModelFileError) as (tmp,):
        save_file(tensors, str(tmp), metadata={META_KEY: text})
    return path


def read_metadata(path) -> dict[str, Any]:
    """The validated JSON description of a model file, without loading any weights."""
    path = Path(path)
    header = _read_header(path)
    meta_text = (header.get("__metadata__") or {}).get(META_KEY)
    if meta_text is None:
        raise ModelFileError(
            f"{path.name} is a safetensors file but not a napari-cinn model "
            f"(its header has no {META_KEY!r} metadata)"
        )
    try:
        meta = json.loads(meta_text)
    except json.JSONDecodeError as err:
        raise ModelFileError(
            f"{path.name}: the model description is not valid JSON ({err})"
        ) from None
    if not isinstance(meta, dict):
        raise ModelFileError(f"{path.name}: the model description must be a JSON object")
    missing = [k for k in REQUIRED_KEYS if k not in meta]
    if missing:
        raise ModelFileError(
            f"{path.name}: metadata key(s) {missing} missing; the file is incomplete "
            "or was not written by napari-cinn"
        )
    version = meta["format_version"]
    if not isinstance(version, int) or version < 1:
        raise ModelFileError(f"{path.name}: invalid format version {version!r}")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path.name}: format version {version} is newer than this napari-cinn "
            f"supports ({FORMAT_VERSION}); update napari-cinn"
        )
    meta["_tensors"] = {k: v for k, v in header.items() if k != "__metadata__"}
    return meta


def load_model(path, device: str = "cpu"):
    """Load and validate a model file; returns a :class:`~napari_cinn.core.models.DomainTransferModel`.

    Raises :class:`ModelFileError` naming the problem: not a safetensors file (e.g. a pickle),
    truncated file, missing metadata key, unknown format version, weights of the wrong shape.
    """
    import torch
    from safetensors.torch import load_file

    from .models import build_model

    path = Path(path)
    meta = read_metadata(path)
    tensors_info = meta.pop("_tensors")
    try:
        model = build_model(
            meta["modality"],
            wavelengths=meta["wavelengths"],
            domains=meta["domains"],
            seed=None,
            **meta["hyper"],
        )
    except (TypeError, ValueError) as err:
        raise ModelFileError(f"{path.name}: cannot rebuild the model it describes: {err}") from None
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    found = {k: tuple(v["shape"]) for k, v in tensors_info.items()}
    # buffers newer than the file's format (e.g. source_noise) default in the model when absent
    missing = sorted(set(expected) - set(found) - set(model.OPTIONAL_STATE))
    extra = sorted(set(found) - set(expected))
    if missing or extra:
        raise ModelFileError(
            f"{path.name}: weights do not match the architecture in its metadata "
            f"({len(missing)} missing, e.g. {missing[:3]}; {len(extra)} unexpected, e.g. {extra[:3]})"
        )
    wrong = [(k, found[k], expected[k]) for k in found if found[k] != expected[k]]
    if wrong:
        k, got, want = wrong[0]
        raise ModelFileError(
            f"{path.name}: weight {k!r} has shape {list(got)}, the architecture needs "
            f"{list(want)} ({len(wrong)} tensor(s) differ)"
        )
    try:
        state = load_file(str(path), device="cpu")
    except Exception as err:  # safetensors raises its own error types
        raise ModelFileError(f"{path.name}: cannot read the weights ({err})") from None
    bad = [k for k, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:
        raise ModelFileError(
            f"{path.name}: weights contain NaN or infinity (e.g. {bad[0]!r}); the training diverged"
        )
    model.load_state_dict(state, strict=True)
    model.info = {
        k: meta.get(k)
        for k in (
            "provenance",
            "metrics",
            "created",
            "napari_cinn_version",
            "torch_version",
            "freia_version",
            "format_version",
        )
    }
    model.info["path"] = str(path)
    return model.to(device).eval()


def describe_model_file(path) -> str:
    """One line about a model file for the GUI, e.g. ``HSI model, 100 bands 500–995 nm, sim/real``."""
    meta = read_metadata(path)
    return (
        f"{str(meta['modality']).upper()} model, {describe_grid(meta['wavelengths'])}, "
        f"domains {'/'.join(meta['domains'])}"
    )


def _read_header(path: Path) -> dict[str, Any]:
    """Parse a safetensors header with checks that give readable errors for wrong files."""
    if not path.exists():
        raise ModelFileError(f"model file {path} does not exist")
    if path.is_dir():
        raise ModelFileError(f"{path} is a folder, not a model file")
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(8)
        # a valid safetensors header length may itself start with b"\x80" or b"PK" (e.g. 15232 =
        # 0x3B80): only call a file a pickle/zip when its first 8 bytes are no plausible length
        n = struct.unpack("<Q", head)[0] if len(head) == 8 else None
        plausible = n is not None and n <= min(_MAX_HEADER, size - 8)
        if not plausible and (head[:2] == b"PK" or head[:1] == b"\x80"):
            kind = "a PyTorch/zip checkpoint" if head[:2] == b"PK" else "a Python pickle"
            raise ModelFileError(
                f"{path.name} is {kind}, not a safetensors model file; napari-cinn never "
                "unpickles files. Convert a training checkpoint with `cinn-train export` "
                "(a UDT-cINN paper checkpoint with `cinn-train import-udt`)."
            )
        if len(head) < 8:
            raise ModelFileError(
                f"{path.name} is truncated or empty ({size} bytes): not a model file"
            )
        if not plausible:
            raise ModelFileError(
                f"{path.name} is not a safetensors file or is truncated "
                f"(header says {n} bytes, the file has {size})"
            )
        raw = fh.read(n)
    try:
        header = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ModelFileError(f"{path.name} is not a safetensors file (unreadable header)") from None
    if not isinstance(header, dict):
        raise ModelFileError(f"{path.name} is not a safetensors file (header is not a JSON object)")
    ends = [
        v["data_offsets"][1]
        for k, v in header.items()
        if k != "__metadata__" and isinstance(v, dict) and "data_offsets" in v
    ]
    need = 8 + n + (max(ends) if ends else 0)
    if size < need:
        raise ModelFileError(
            f"{path.name} is truncated: it should have {need} bytes but has {size}; "
            "copy or download it again"
        )
    return header


def _torch_version() -> str:
    import torch

    return torch.__version__


def _jsonable(obj):
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON-serialisable")
