"""Writers leave either the complete new file or the old state, with ordinary permissions."""

import os
import stat

import pytest

from napari_cinn.core.files import atomic_targets


def test_written_files_are_readable_by_others_like_a_plain_open(tmp_path):
    target = tmp_path / "model.safetensors"
    with atomic_targets(target) as (tmp,):
        tmp.write_bytes(b"data")
    plain = tmp_path / "plain"
    plain.write_bytes(b"x")
    assert target.read_bytes() == b"data"
    assert stat.S_IMODE(target.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode)


def test_a_failing_write_leaves_nothing_and_keeps_the_old_file(tmp_path):
    target = tmp_path / "cube.npy"
    target.write_bytes(b"old")
    with (
        pytest.raises(RuntimeError, match="disk full"),
        atomic_targets(target, overwrite=True) as (tmp,),
    ):
        tmp.write_bytes(b"half")
        raise RuntimeError("disk full")
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["cube.npy"]


def test_existing_targets_are_refused_unless_overwrite(tmp_path):
    target = tmp_path / "a.csv"
    target.write_text("keep")
    with (
        pytest.raises(FileExistsError, match="already exists; refusing to overwrite"),
        atomic_targets(target),
    ):
        pass
    with (
        pytest.raises(ValueError, match="folder .* does not exist"),
        atomic_targets(tmp_path / "missing" / "b.csv", error=ValueError),
    ):
        pass
    assert target.read_text() == "keep"
