"""User stories: a model file that was changed after writing, or whose header lies, is refused
with a ModelFileError that says why — before anything large is built; older files still load."""

from __future__ import annotations

import json
import struct
import time

import numpy as np
import pytest
import torch

from napari_cinn.core import build_model, load_model, save_model
from napari_cinn.core.bundle import ModelFileError, read_metadata
from napari_cinn.core.model_hash import HASH_KEY, hash_state

WL = [500.0 + 10 * i for i in range(8)]


@pytest.fixture
def saved(tmp_path):
    model = build_model("hsi", wavelengths=WL, n_blocks=2, hidden=8)
    model.set_normalization("sim", np.zeros(8), np.ones(8))
    return save_model(model, tmp_path / "m.safetensors")


def _split(path):
    raw = path.read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    return json.loads(raw[8 : 8 + n]), bytearray(raw[8 + n :])


def _join(path, header, data):
    blob = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(blob)) + blob + bytes(data))


def _rehash(header, data):
    """What a writer that updates the hash would do (the hash is integrity, not a signature)."""
    tensors = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        lo, hi = v["data_offsets"]
        arr = np.frombuffer(bytes(data[lo:hi]), np.float32).reshape(v["shape"])
        tensors[k] = torch.from_numpy(arr.copy())
    header["__metadata__"][HASH_KEY] = hash_state(header["__metadata__"]["napari_cinn"], tensors)


def test_a_saved_model_verifies_and_says_so(saved):
    assert load_model(saved).info["integrity"] == "content hash verified"


@pytest.mark.parametrize("change", ["wavelengths", "swap", "dtype", "byte"])
def test_any_change_after_writing_is_refused_as_tampered(saved, change):
    header, data = _split(saved)
    if change == "wavelengths":
        meta = json.loads(header["__metadata__"]["napari_cinn"])
        meta["wavelengths"] = [w + 1 for w in meta["wavelengths"]]
        header["__metadata__"]["napari_cinn"] = json.dumps(meta)
    elif change == "swap":
        a, b = "flow.module_list.0.global_scale", "flow.module_list.0.global_offset"
        header[a]["data_offsets"], header[b]["data_offsets"] = (
            header[b]["data_offsets"],
            header[a]["data_offsets"],
        )
    elif change == "dtype":
        header["norm_mean"]["dtype"] = "I32"
    else:
        lo, _ = header["flow.module_list.1.subnet.2.weight"]["data_offsets"]
        data[lo] ^= 0x01
    _join(saved, header, data)
    with pytest.raises(ModelFileError, match="content hash does not match.*tampered"):
        load_model(saved)


def test_a_file_without_a_hash_loads_and_gets_one_when_saved_again(saved, tmp_path):
    header, data = _split(saved)
    del header["__metadata__"][HASH_KEY]
    _join(saved, header, data)
    old = load_model(saved)
    assert old.info["integrity"].startswith("unverified")
    again = save_model(old, tmp_path / "again.safetensors")
    assert read_metadata(again)["_hash"] and load_model(again).info["integrity"] == (
        "content hash verified"
    )


@pytest.mark.parametrize(
    ("key", "value", "msg"),
    [
        ("n_blocks", 100000, "n_blocks=100000 is outside"),
        ("n_blocks", 3, "says n_blocks=3 but the file holds weights for 2"),
        ("hidden", 10**9, "hidden=1000000000 is outside"),
        ("hidden", 16, "says hidden=16 but the weights are 8 wide"),
        ("clamp", float("nan"), "clamp must be a finite number"),
        ("n_blocks", "x", "n_blocks must be a whole number"),
    ],
)
def test_hyper_parameters_are_checked_before_anything_is_built(saved, key, value, msg):
    header, data = _split(saved)
    meta = json.loads(header["__metadata__"]["napari_cinn"])
    meta["hyper"][key] = value
    header["__metadata__"]["napari_cinn"] = json.dumps(meta)
    _join(saved, header, data)
    t0 = time.perf_counter()
    with pytest.raises(ModelFileError, match=msg):
        load_model(saved)
    assert time.perf_counter() - t0 < 2


def test_pat_blocks_per_scale_against_the_weights(tmp_path):
    model = build_model("pat", wavelengths=WL[:4], n_scales=2, blocks_per_scale=[1, 1], hidden=4)
    path = save_model(model, tmp_path / "p.safetensors")
    header, data = _split(path)
    meta = json.loads(header["__metadata__"]["napari_cinn"])
    meta["hyper"]["blocks_per_scale"] = [200, 1]
    header["__metadata__"]["napari_cinn"] = json.dumps(meta)
    _join(path, header, data)
    with pytest.raises(ModelFileError, match=r"blocks_per_scale=\[200, 1\] but the file holds"):
        load_model(path)


@pytest.mark.parametrize(
    ("buffer", "fill", "msg"),
    [
        ("flow.module_list.0.w_perm", 1.0, "is not a permutation matrix"),
        ("norm_std", 0.0, "norm_std are zero or negative"),
        ("ref_norm", 0.0, "ref_norm are zero or negative"),
        ("flow.module_list.0.subnet.0.weight", 3e38, "far beyond any trained weight"),
    ],
)
def test_buffers_are_validated_even_when_the_hash_was_rewritten(saved, buffer, fill, msg):
    header, data = _split(saved)
    lo, hi = header[buffer]["data_offsets"]
    data[lo:hi] = np.full((hi - lo) // 4, fill, np.float32).tobytes()
    _rehash(header, data)
    _join(saved, header, data)
    with pytest.raises(ModelFileError, match=msg):
        load_model(saved)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda h: h["norm_mean"].pop("shape"),
        lambda h: h["norm_mean"].__setitem__("data_offsets", []),
        lambda h: h["norm_mean"].__setitem__("data_offsets", ["a", "b"]),
        lambda h: h.__setitem__("__metadata__", ["a"]),
        lambda h: h["norm_mean"].__setitem__("dtype", ["F32"]),
    ],
)
def test_malformed_header_entries_are_model_file_errors(saved, mutate):
    header, data = _split(saved)
    mutate(header)
    _join(saved, header, data)
    with pytest.raises(ModelFileError) as info:
        load_model(saved)
    assert not getattr(info.value, "unexpected", False)


def test_deeply_nested_json_is_refused(tmp_path):
    path = tmp_path / "deep.safetensors"
    blob = ("[" * 50_000 + "]" * 50_000).encode()
    path.write_bytes(struct.pack("<Q", len(blob)) + blob)
    with pytest.raises(ModelFileError, match="unreadable header"):
        load_model(path)
