"""Model files round-trip exactly and bad files are refused with a message that names the problem."""

import json
import pickle

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from napari_cinn.core import ModelFileError, build_model, load_model, save_model, transfer_image
from napari_cinn.core.bundle import read_metadata


def test_saved_and_reloaded_model_gives_bit_identical_output(tmp_path, hsi_model, cube):
    path = save_model(hsi_model, tmp_path / "m.safetensors", data="bench v1", metrics={"bacc": 0.9})
    loaded = load_model(path)
    a = transfer_image(hsi_model, cube, "sim", "real", device="cpu")
    b = transfer_image(loaded, cube, "sim", "real", device="cpu")
    assert np.array_equal(a, b, equal_nan=True)
    assert loaded.info["provenance"]["data"] == "bench v1"
    assert loaded.info["metrics"]["bacc"] == 0.9
    assert loaded.hyper == hsi_model.hyper and loaded.domains == ("sim", "real")


def test_pat_model_round_trips_through_the_file(tmp_path, pat_model):
    path = save_model(pat_model, tmp_path / "p.safetensors")
    img = np.random.default_rng(0).random((16, 20, 20)).astype(np.float32)
    a = transfer_image(pat_model, img, "sim", "real", device="cpu")
    assert np.array_equal(a, transfer_image(load_model(path), img, "sim", "real", device="cpu"))


def test_existing_file_is_not_overwritten_without_asking(tmp_path, hsi_model):
    path = save_model(hsi_model, tmp_path / "m.safetensors")
    with pytest.raises(ModelFileError, match="exists"):
        save_model(hsi_model, path)
    save_model(hsi_model, path, overwrite=True)
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]  # no temp files left


def _description(path):
    info = read_metadata(path)
    info.pop("_tensors")
    return info


def _rewrite_metadata(src, dst, edit):
    info = _description(src)
    edit(info)
    save_file(load_file(src), dst, metadata={"napari_cinn": json.dumps(info)})


@pytest.fixture
def good_file(tmp_path, hsi_model):
    return save_model(hsi_model, tmp_path / "good.safetensors")


def test_truncated_file_is_refused(tmp_path, good_file):
    bad = tmp_path / "cut.safetensors"
    data = good_file.read_bytes()
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="truncated"):
        load_model(bad)


def test_weights_of_another_shape_are_refused(tmp_path, good_file):
    other = build_model("hsi", n_blocks=4, hidden=64)
    meta = _description(good_file)
    bad = tmp_path / "shape.safetensors"
    save_file(
        {k: v.contiguous() for k, v in other.state_dict().items()},
        bad,
        metadata={"napari_cinn": json.dumps(meta)},
    )
    # the hidden width is compared with the weights present before the network is built
    with pytest.raises(ModelFileError, match=r"says hidden=\d+ but the weights are 64 wide"):
        load_model(bad)


def test_missing_metadata_key_is_named(tmp_path, good_file):
    bad = tmp_path / "nokey.safetensors"
    _rewrite_metadata(good_file, bad, lambda m: m.pop("wavelengths"))
    with pytest.raises(ModelFileError, match="'wavelengths'.*missing"):
        load_model(bad)


def test_unknown_format_version_is_refused(tmp_path, good_file):
    bad = tmp_path / "future.safetensors"
    _rewrite_metadata(good_file, bad, lambda m: m.update(format_version=99))
    with pytest.raises(ModelFileError, match="format version 99 is newer"):
        load_model(bad)


def test_pickle_renamed_to_safetensors_is_never_unpickled(tmp_path):
    class Boom:
        def __reduce__(self):
            return (exec, ("raise SystemExit('unpickled!')",))

    bad = tmp_path / "evil.safetensors"
    bad.write_bytes(pickle.dumps(Boom()))
    with pytest.raises(ModelFileError, match="pickle.*never unpickles"):
        load_model(bad)
    ckpt = tmp_path / "ckpt.safetensors"
    torch.save({"w": torch.zeros(2)}, ckpt)
    with pytest.raises(ModelFileError, match="zip checkpoint"):
        load_model(ckpt)


def test_safetensors_without_our_metadata_is_refused(tmp_path):
    bad = tmp_path / "plain.safetensors"
    save_file({"w": torch.zeros(3)}, bad)
    with pytest.raises(ModelFileError, match="not a napari-cinn model"):
        load_model(bad)
