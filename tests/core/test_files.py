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


def test_model_files_get_ordinary_permissions_too(tmp_path, hsi_model):
    # safetensors recreates the file it writes (owner-only 0600); the model file must not keep that
    from napari_cinn.core import save_model

    path = save_model(hsi_model, tmp_path / "m.safetensors")
    plain = tmp_path / "plain"
    plain.write_bytes(b"x")
    assert stat.S_IMODE(path.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode)


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


def test_part_files_of_a_killed_write_are_cleaned_by_the_next_write(tmp_path):
    """A write killed mid-way leaves a hidden .part file; the next write of that file removes it
    (the writer's process is gone), but never the part file of a writer that still runs."""
    import os
    import subprocess
    import sys
    import time

    from napari_cinn.core.files import _HOST, atomic_targets

    target = tmp_path / "cube.npy"
    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead = int(proc.stdout)
    stale = tmp_path / f".cube.npy.{dead}.{_HOST}.abc123.part"
    live = tmp_path / f".cube.npy.{os.getppid()}.{_HOST}.def456.part"
    legacy_old = tmp_path / ".cube.npy.k3j4h5.part"  # an older name without the writer's id
    legacy_new = tmp_path / ".cube.npy.q1w2e3.part"
    for p in (stale, live, legacy_old, legacy_new):
        p.write_bytes(b"half")
    day_ago = time.time() - 2 * 24 * 3600
    os.utime(legacy_old, (day_ago, day_ago))
    with atomic_targets(target) as (tmp,):
        tmp.write_bytes(b"whole")
    assert target.read_bytes() == b"whole"
    assert not stale.exists() and not legacy_old.exists()
    assert live.exists() and legacy_new.exists()
    assert {p.name for p in tmp_path.glob(".*.part")} == {live.name, legacy_new.name}
