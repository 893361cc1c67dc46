"""Checks of a model file's structure and contents, each raising ``ModelFileError`` (or, for
hyper-parameters given in code, ``ValueError``) with a sentence that names the problem.

- :func:`check_header_entries`: every tensor entry of the safetensors header has a known dtype,
  a shape of non-negative ints and ``data_offsets`` that fit the file and do not overlap;
- :func:`check_hyper`: hyper-parameters have the right types and lie within sane ceilings
  (so that ``n_blocks: 100000`` is refused before anything is built);
- :func:`check_structure`: the hyper-parameters agree with the weights actually present
  (blocks per scale, hidden width), again before building;
- :func:`check_buffers`: permutation buffers are permutations and the normalisation
  statistics are finite with positive spreads (else transfers are NaN or use garbage).
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

ST_ITEMSIZE = {
    "F64": 8,
    "F32": 4,
    "F16": 2,
    "BF16": 2,
    "I64": 8,
    "I32": 4,
    "I16": 2,
    "I8": 1,
    "U8": 1,
    "BOOL": 1,
    "U16": 2,
    "U32": 4,
    "U64": 8,
}
MAX_TENSORS = 100_000
#: ceilings of the hyper-parameters (far above anything trained here or in the paper)
CEILINGS = {
    "n_blocks": 1024,
    "n_cond_blocks": 1024,
    "hidden": 65_536,
    "n_scales": 12,
    "n_classes": 10_000,
    "blocks_per_scale": 256,
}
MAX_BANDS = 100_000
#: no trained weight or normalisation statistic comes near this magnitude
MAX_WEIGHT = 1e12
MAX_DOMAINS = 64


def check_header_entries(
    header: dict, data_len: int | None, name: str, error: type[Exception]
) -> None:
    """Validate the tensor entries of a parsed safetensors header (see the module docstring).

    ``data_len`` bounds the offsets (None: only their form is checked).
    """
    limit = 2**62 if data_len is None else data_len
    meta = header.get("__metadata__", {})
    if not isinstance(meta, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in meta.items()
    ):
        raise error(f"{name}: the header's __metadata__ must map names to strings")
    spans = []
    entries = [(k, v) for k, v in header.items() if k != "__metadata__"]
    if len(entries) > MAX_TENSORS:
        raise error(f"{name}: {len(entries):,} tensors in the header; refused")
    for key, entry in entries:
        where = f"{name}: tensor {key[:80]!r}"
        if not isinstance(entry, dict):
            raise error(f"{where} has no description in the header")
        dtype, shape, offs = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
        if not isinstance(dtype, str) or dtype not in ST_ITEMSIZE:
            raise error(f"{where} has an unknown dtype {dtype!r:.20}")
        if not isinstance(shape, list) or not all(
            isinstance(s, int) and not isinstance(s, bool) and 0 <= s < 2**40 for s in shape
        ):
            raise error(f"{where} has no valid shape ({shape!r:.40})")
        if (
            not isinstance(offs, list)
            or len(offs) != 2
            or not all(isinstance(o, int) and not isinstance(o, bool) for o in offs)
            or not 0 <= offs[0] <= offs[1] <= limit
        ):
            raise error(f"{where} has invalid data_offsets {offs!r:.40}")
        need = math.prod(shape) * ST_ITEMSIZE[dtype]
        if offs[1] - offs[0] != need:
            raise error(
                f"{where}: shape {shape} of {dtype} needs {need} bytes, the offsets give "
                f"{offs[1] - offs[0]}"
            )
        spans.append((offs[0], offs[1], key))
    spans.sort()
    for (_, end, a), (begin, _, b) in zip(spans, spans[1:], strict=False):
        if begin < end:
            raise error(f"{name}: tensors {a!r} and {b!r} overlap in the file")


def _int(hyper: dict, key: str, lo: int, hi: int) -> int:
    v = hyper[key]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v != int(v):
        raise ValueError(f"hyper-parameter {key} must be a whole number, got {v!r:.30}")
    if not lo <= int(v) <= hi:
        raise ValueError(f"hyper-parameter {key}={int(v)} is outside {lo}..{hi}")
    return int(v)


def _float(hyper: dict, key: str, lo: float, hi: float, open_lo: bool = False) -> None:
    v = hyper[key]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise ValueError(f"hyper-parameter {key} must be a finite number, got {v!r:.30}")
    if v < lo or v > hi or (open_lo and v == lo):
        side = f"> {lo}" if open_lo else f">= {lo}"
        raise ValueError(f"hyper-parameter {key}={v} must be {side} and <= {hi}")


def check_hyper(modality: str, hyper: dict[str, Any]) -> None:
    """Types and ranges of merged hyper-parameters; raises ``ValueError`` with a sentence."""
    if "hidden" in hyper:
        _int(hyper, "hidden", 1, CEILINGS["hidden"])
    if "n_classes" in hyper:
        _int(hyper, "n_classes", 0, CEILINGS["n_classes"])
    if "clamp" in hyper:
        _float(hyper, "clamp", 0.0, 1e3, open_lo=True)
    if "global_affine_init" in hyper:
        _float(hyper, "global_affine_init", 0.0, 1e3, open_lo=True)
    if "intensity_exponent" in hyper:
        _float(hyper, "intensity_exponent", 0.0, 10.0)
    if "depth_condition" in hyper:
        _float(hyper, "depth_condition", 0.0, 1e6)
    if modality == "hsi":
        if "n_blocks" in hyper:
            n = _int(hyper, "n_blocks", 1, CEILINGS["n_blocks"])
            if "n_cond_blocks" in hyper:
                _int(hyper, "n_cond_blocks", 0, n)
    elif modality == "pat" and "n_scales" in hyper:
        n = _int(hyper, "n_scales", 1, CEILINGS["n_scales"])
        blocks = hyper.get("blocks_per_scale")
        if blocks is not None:
            if not isinstance(blocks, (list, tuple)) or len(blocks) != n:
                raise ValueError(
                    f"hyper-parameter blocks_per_scale must list n_scales={n} numbers, "
                    f"got {blocks!r:.40}"
                )
            for i in range(n):
                _int({f"blocks_per_scale[{i}]": blocks[i]}, f"blocks_per_scale[{i}]", 1, 256)


_HSI_BLOCK = re.compile(r"^flow\.module_list\.(\d+)\.")
_PAT_BLOCK = re.compile(r"^flow\.stages\.(\d+)\.module_list\.(\d+)\.")


def check_structure(meta: dict, tensors: dict, name: str, error: type[Exception]) -> None:
    """Hyper-parameters against the weights present, before the network is built."""
    modality, hyper, wl, domains = (
        meta.get(k) for k in ("modality", "hyper", "wavelengths", "domains")
    )
    if modality not in ("hsi", "pat"):
        raise error(f"{name}: unknown modality {modality!r:.20}")
    if not isinstance(hyper, dict):
        raise error(f"{name}: 'hyper' must be a JSON object")
    if not isinstance(wl, list) or not 1 <= len(wl) <= MAX_BANDS:
        raise error(f"{name}: 'wavelengths' must be a list of 1 to {MAX_BANDS:,} numbers")
    if not isinstance(domains, list) or not 2 <= len(domains) <= MAX_DOMAINS:
        raise error(f"{name}: 'domains' must list 2 to {MAX_DOMAINS} names")
    try:
        check_hyper(modality, hyper)
    except ValueError as err:
        raise error(f"{name}: {err}") from None
    keys = list(tensors)
    if modality == "hsi":
        found = {int(m.group(1)) for k in keys if (m := _HSI_BLOCK.match(k))}
        n = hyper.get("n_blocks")
        if n is not None and found != set(range(int(n))):
            raise error(
                f"{name}: the header says n_blocks={n} but the file holds weights for "
                f"{len(found)} block(s)"
            )
        first = tensors.get("flow.module_list.0.subnet.0.weight", {}).get("shape")
    else:
        per: dict[int, set[int]] = {}
        for k in keys:
            if m := _PAT_BLOCK.match(k):
                per.setdefault(int(m.group(1)), set()).add(int(m.group(2)))
        blocks = hyper.get("blocks_per_scale")
        if blocks is not None:
            have = [len(per.get(s, ())) for s in range(max(len(blocks), len(per)))]
            if have != [int(b) for b in blocks]:
                raise error(
                    f"{name}: the header says blocks_per_scale={blocks} but the file holds "
                    f"weights for {have}"
                )
        first = tensors.get("flow.stages.0.module_list.0.subnet.0.weight", {}).get("shape")
    hidden = hyper.get("hidden")
    if hidden is not None and first and first[0] != int(hidden):
        raise error(f"{name}: the header says hidden={hidden} but the weights are {first[0]} wide")


def _is_permutation(w: np.ndarray) -> bool:
    if w.ndim < 2 or w.shape[0] != w.shape[1]:
        return False
    m = w.reshape(w.shape[0], w.shape[1])
    if not np.all((m == 0) | (m == 1)):
        return False
    return bool(np.all(m.sum(0) == 1) and np.all(m.sum(1) == 1))


def check_buffers(state: dict, reference: dict, name: str, error: type[Exception]) -> None:
    """Permutations, normalisation statistics and fixed buffers of a loaded state dict.

    ``reference`` is the freshly built model's state dict (for buffers that are not learned).
    """
    for key, t in state.items():
        if key.endswith("w_perm") or key.endswith("w_perm_inv"):
            w = t.detach().cpu().numpy()
            if not _is_permutation(w):
                raise error(f"{name}: {key} is not a permutation matrix; the file is damaged")
            if key.endswith("w_perm_inv"):
                fwd = state.get(key[: -len("_inv")])
                if fwd is not None and not np.array_equal(
                    w.squeeze(), fwd.cpu().numpy().squeeze().T
                ):
                    raise error(f"{name}: {key} is not the inverse of its permutation")
        elif (
            key.endswith("haar_weights")
            and key in reference
            and not np.array_equal(t.cpu().numpy(), reference[key].cpu().numpy())
        ):
            raise error(f"{name}: {key} differs from the fixed Haar transform")
    for key, t in state.items():
        if t.is_floating_point() and t.numel():
            peak = float(t.detach().abs().max())
            if peak > MAX_WEIGHT:
                raise error(
                    f"{name}: {key} holds a value of {peak:.3g}, far beyond any trained weight "
                    "or statistic; the file is damaged"
                )
    for key, positive in (("norm_mean", False), ("norm_std", True), ("ref_norm", True)):
        if key not in state:
            continue
        v = state[key].detach().cpu().numpy().astype(np.float64)
        if not np.all(np.isfinite(v)):
            raise error(f"{name}: the normalisation statistics {key} contain NaN or infinity")
        if positive and not np.all(v > 0):
            bad = int(np.sum(v <= 0))
            raise error(
                f"{name}: {bad} value(s) of {key} are zero or negative; every transfer would be "
                "NaN or infinite"
            )
