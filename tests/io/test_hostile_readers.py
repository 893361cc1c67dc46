"""User stories: a broken or hostile file gives one SpectralFileError naming the file — fast, in
bounded memory, never a hang — and the napari reader claims only what is a spectral cube."""

from __future__ import annotations

import os
import time
import zipfile

import numpy as np
import pytest

from napari_cinn.io import SpectralFileError, SpectralImage, _napari, read_spectral, write_spectral

WL = np.linspace(500, 570, 8)


@pytest.fixture
def cube():
    rng = np.random.default_rng(0)
    return SpectralImage(rng.uniform(0.1, 1, (8, 6, 5)).astype(np.float32), WL.copy())


# ---------------------------------------------------------------- what the napari reader claims
def test_rgb_images_and_grey_z_stacks_are_left_to_other_readers(tmp_path, cube):
    import tifffile

    np.save(tmp_path / "photo.npy", np.zeros((480, 640, 3), np.uint8))
    np.save(tmp_path / "planar.npy", np.zeros((3, 48, 64), np.uint8))
    tifffile.imwrite(tmp_path / "stack.tif", np.zeros((5, 32, 32), np.uint16))
    (tmp_path / "analyze.hdr").write_bytes(b"\x5c\x01\x00\x00" + bytes(344))
    for name in ("photo.npy", "planar.npy", "stack.tif", "analyze.hdr"):
        assert _napari.get_reader(str(tmp_path / name)) is None, name
    # the same shapes with wavelengths beside them are cubes
    write_spectral(tmp_path / "cube.tif", cube)
    write_spectral(tmp_path / "cube.npy", cube)
    assert _napari.get_reader(str(tmp_path / "cube.tif")) is not None
    assert _napari.get_reader(str(tmp_path / "cube.npy")) is not None


def test_a_broken_spectral_file_is_one_notification(tmp_path, cube, monkeypatch):
    seen = []
    monkeypatch.setattr(_napari, "_notify_error", seen.append)
    path = write_spectral(tmp_path / "cube.hdr", cube)[0]
    path.write_text(path.read_text().replace("samples = 5", "samples = -1"))
    reader = _napari.get_reader(str(path))
    assert reader is not None  # an ENVI header: ours to answer
    assert reader(str(path)) == [(None,)]
    assert len(seen) == 1 and "cube.hdr" in seen[0] and "samples=-1" in seen[0]


# ---------------------------------------------------------------- sidecars
@pytest.mark.parametrize("sidecar", ["_labels.npy", "_labels.json", "_wavelengths.json"])
def test_fifo_and_dev_zero_sidecars_are_refused_not_read(tmp_path, cube, sidecar):
    path = write_spectral(tmp_path / "cube.dat", cube)[0]
    side = tmp_path / f"cube{sidecar}"
    os.mkfifo(side)
    t0 = time.perf_counter()
    with pytest.raises(SpectralFileError, match="FIFO, not a regular file"):
        read_spectral(path)
    side.unlink()
    side.symlink_to("/dev/zero")
    with pytest.raises(SpectralFileError, match="device or socket"):
        read_spectral(path)
    assert time.perf_counter() - t0 < 5


@pytest.mark.parametrize(
    "labels", [np.full((6, 5), "a"), np.full((6, 5), b"x"), np.zeros((6, 5), "datetime64[s]")]
)
def test_label_masks_of_the_wrong_dtype_are_refused(tmp_path, cube, labels):
    path = write_spectral(tmp_path / "cube.npy", cube)[0]
    np.save(tmp_path / "cube_labels.npy", labels)
    with pytest.raises(
        SpectralFileError, match="cube_labels.npy: the label mask must hold integers"
    ):
        read_spectral(path)


def test_non_utf8_label_names_are_refused(tmp_path, cube):
    path = write_spectral(tmp_path / "cube.npy", cube)[0]
    np.save(tmp_path / "cube_labels.npy", np.zeros((6, 5), np.int32))
    (tmp_path / "cube_labels.json").write_bytes(b'{"1": "\xff\xfe"}')
    with pytest.raises(SpectralFileError, match="cube_labels.json: the label names is not UTF-8"):
        read_spectral(path)


# ---------------------------------------------------------------- wrong types
def test_wavelengths_of_the_wrong_type_name_the_file(tmp_path, cube):
    import h5py
    import tifffile

    tifffile.imwrite(tmp_path / "a.tif", cube.data, metadata={"wavelengths": "abc"})
    np.savez(tmp_path / "b.npz", data=cube.data, wavelengths=np.array(["x"] * 8))
    with h5py.File(tmp_path / "c.h5", "w") as fh:
        fh["data"] = cube.data
        fh["wavelengths"] = np.array([b"x"] * 8)
    for name in ("a.tif", "b.npz", "c.h5"):
        with pytest.raises(SpectralFileError, match=rf"{name}: .*wavelengths") as info:
            read_spectral(tmp_path / name)
        assert not getattr(info.value, "unexpected", False)


def test_a_failure_no_check_foresaw_is_still_a_spectral_file_error(tmp_path, cube, monkeypatch):
    from napari_cinn.io import _numpy

    path = write_spectral(tmp_path / "cube.npz", cube)[0]
    monkeypatch.setattr(_numpy, "finish_image", lambda *a: {}["boom"])
    with pytest.raises(SpectralFileError, match="cube.npz: cannot read this file") as info:
        read_spectral(path)
    assert info.value.unexpected


# ---------------------------------------------------------------- ENVI
def test_envi_lying_sizes_and_nan_scale_are_refused(tmp_path, cube):
    path = write_spectral(tmp_path / "cube.hdr", cube)[0]
    text = path.read_text()
    for old, new, msg in [
        ("samples = 5", "samples = -1", "samples=-1"),
        ("bands = 8", "bands = 99999", "truncated"),
        ("data type = 4", "data type = 6", "data type '6' is not supported"),
    ]:
        path.write_text(text.replace(old, new))
        with pytest.raises(SpectralFileError, match=msg):
            read_spectral(path)
    path.write_text(text + "reflectance scale factor = nan\n")
    with pytest.raises(SpectralFileError, match="scale factor' nan cannot divide"):
        read_spectral(path)


def test_envi_header_parsing_is_linear(tmp_path, cube):
    path = write_spectral(tmp_path / "cube.hdr", cube)[0]
    lines = "\n".join(f"line {i}" for i in range(300_000))  # ~3.4 MB, 28 s in spectral's parser
    path.write_text(path.read_text() + "description = {" + lines + "}\n")
    t0 = time.perf_counter()
    image = read_spectral(path)
    assert time.perf_counter() - t0 < 3 and image.shape == (8, 6, 5)
    path.write_text(path.read_text() + "x" * (9 * 1024**2))
    with pytest.raises(SpectralFileError, match="larger than"):
        read_spectral(path)


# ---------------------------------------------------------------- HDF5
def test_hdf5_external_links_and_storage_are_refused(tmp_path, cube):
    import h5py

    with h5py.File(tmp_path / "link.h5", "w") as fh:
        fh["data"] = h5py.ExternalLink("/etc/hosts", "/x")
    with h5py.File(tmp_path / "raw.h5", "w") as fh:
        fh.create_dataset("data", shape=(8, 1, 1), dtype="u1", external=[("/etc/passwd", 0, 8)])
    with h5py.File(tmp_path / "loop.h5", "w") as fh:
        fh["a"], fh["b"] = h5py.SoftLink("/b"), h5py.SoftLink("/a")
    with pytest.raises(SpectralFileError, match="external link"):
        read_spectral(tmp_path / "link.h5")
    with pytest.raises(SpectralFileError, match="external file"):
        read_spectral(tmp_path / "raw.h5")
    with pytest.raises(SpectralFileError, match="loops"):
        read_spectral(tmp_path / "loop.h5")


def test_small_files_that_declare_gigabytes_are_refused_before_allocating(tmp_path):
    import h5py
    import tifffile

    with h5py.File(tmp_path / "empty.h5", "w") as fh:  # a few KB, declares 512 MB
        fh.create_dataset("data", shape=(8, 4000, 4000), dtype="f4", chunks=(1, 100, 100))
    tifffile.imwrite(
        tmp_path / "bomb.tif",
        np.zeros((2, 4096, 4096), np.float32),
        compression="zlib",
        tile=(512, 512),
    )
    with (
        zipfile.ZipFile(tmp_path / "bomb.npz", "w", zipfile.ZIP_DEFLATED) as zf,
        zf.open("data.npy", "w") as fh,
    ):
        np.save(fh, np.zeros((3, 4000, 4000), np.float32))
    import tracemalloc

    tracemalloc.start()  # NumPy allocations (what h5py, tifffile and np.load fill) are traced
    for name, msg in [
        ("empty.h5", "never-written"),
        ("bomb.tif", "stores only"),
        ("bomb.npz", "stores only"),
    ]:
        assert (tmp_path / name).stat().st_size < 2e6
        with pytest.raises(SpectralFileError, match=msg):
            read_spectral(tmp_path / name)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 50 * 1024**2


def test_pickles_are_refused_without_numpys_allow_pickle_advice(tmp_path):
    import pickle

    (tmp_path / "a.npz").write_bytes(pickle.dumps([1, 2]))
    (tmp_path / "b.npy").write_bytes(pickle.dumps([1, 2]))
    np.save(tmp_path / "c.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    for name, msg in [
        ("a.npz", "no zip signature"),
        ("b.npy", "no NumPy header"),
        ("c.npy", "pickle"),
    ]:
        with pytest.raises(SpectralFileError, match=msg) as info:
            read_spectral(tmp_path / name)
        assert "allow_pickle" not in str(info.value)
