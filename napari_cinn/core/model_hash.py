"""Content hash of a model file: SHA-256 over the description JSON and every tensor's bytes.

The hash is stored in the safetensors header metadata under :data:`HASH_KEY`, beside the
description, and :func:`napari_cinn.core.load_model` recomputes it from the file. It detects
any change after writing — swapped tensors, a reinterpreted dtype, edited wavelengths, flipped
bytes — but it is an integrity check, not a signature: whoever can write the file can also
write a matching hash, which is why the loader validates the contents on top of it.

Canonical form (version 1): ``b"napari-cinn-model-hash-1\\0"``, the description's UTF-8 bytes,
``b"\\0"``, then per tensor in name order: name, dtype (safetensors spelling), shape (``a,b,c``),
each followed by ``b"\\0"``, the byte count as 8-byte little-endian, and the raw bytes.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable
from pathlib import Path

HASH_KEY = "napari_cinn_sha256"
_PREFIX = b"napari-cinn-model-hash-1\0"

#: torch dtype name -> safetensors dtype name
TORCH_TO_ST = {
    "float64": "F64",
    "float32": "F32",
    "float16": "F16",
    "bfloat16": "BF16",
    "int64": "I64",
    "int32": "I32",
    "int16": "I16",
    "int8": "I8",
    "uint8": "U8",
    "bool": "BOOL",
}


def _digest(meta_text: str, items: Iterable[tuple[str, str, list[int], bytes]]) -> str:
    h = hashlib.sha256(_PREFIX)
    h.update(meta_text.encode("utf-8") + b"\0")
    for name, dtype, shape, data in sorted(items, key=lambda t: t[0]):
        h.update(name.encode("utf-8") + b"\0" + dtype.encode() + b"\0")
        h.update(",".join(str(int(s)) for s in shape).encode() + b"\0")
        h.update(struct.pack("<Q", len(data)))
        h.update(data)
    return h.hexdigest()


def hash_state(meta_text: str, tensors: dict) -> str:
    """The hash of ``tensors`` (name → contiguous CPU torch tensor) as they will be written."""
    import torch

    items = []
    for name, t in tensors.items():
        dtype = TORCH_TO_ST[str(t.dtype).removeprefix("torch.")]
        flat = t.detach().to("cpu").contiguous().reshape(-1)
        raw = flat.view(torch.uint8).numpy().tobytes() if flat.numel() else b""
        items.append((name, dtype, list(t.shape), raw))
    return _digest(meta_text, items)


def hash_file(path: Path, header: dict, header_len: int, meta_text: str) -> str:
    """The hash of a written file from its (validated) header and data section."""
    items = []
    base = 8 + header_len
    with open(path, "rb") as fh:
        for name, entry in header.items():
            if name == "__metadata__":
                continue
            begin, end = entry["data_offsets"]
            fh.seek(base + begin)
            items.append((name, entry["dtype"], entry["shape"], fh.read(end - begin)))
    return _digest(meta_text, items)
