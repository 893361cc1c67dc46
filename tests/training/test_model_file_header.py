"""Regression: a valid model file whose header length starts with byte 0x80 is not a 'pickle'."""

from __future__ import annotations

import json
import struct


def test_header_length_with_pickle_like_first_byte_loads(tmp_path):
    from napari_cinn.core import build_model, load_model, save_model

    model = build_model("hsi", n_blocks=2, hidden=8)
    for pad in range(0, 4096, 8):  # grow the metadata until the header length is 0x..80
        path = tmp_path / f"m{pad}.safetensors"
        save_model(model, path, note="x" * pad)
        (n,) = struct.unpack("<Q", path.read_bytes()[:8])
        if n & 0xFF == 0x80:
            break
        path.unlink()
    else:
        raise AssertionError("could not produce a header length ending in 0x80")
    assert path.read_bytes()[:1] == b"\x80"
    assert json.loads(path.read_bytes()[8 : 8 + n])["__metadata__"]
    assert load_model(path).n_bands == 100
