"""A user opens spectral files of every format in napari, saves layers, and gets told about broken files."""

from __future__ import annotations

import numpy as np
import pytest

from napari_cinn.core.spectra import HSI_WAVELENGTHS
from napari_cinn.io import SpectralImage, read_spectral, write_spectral
from napari_cinn.io._napari import get_reader

pytestmark = pytest.mark.gui


def _image(bands=6, y=8, x=10, seed=0, domain="sim"):
    rng = np.random.default_rng(seed)
    return SpectralImage(
        rng.random((bands, y, x), dtype=np.float32),
        np.linspace(600, 850, bands),
        rng.integers(0, 3, (y, x)).astype(np.int32),
        {0: "background", 1: "artery", 2: "vein"},
        {"domain": domain},
    )


def _write_simpa(path, image):
    import h5py

    with h5py.File(path, "w") as f:
        grp = f.create_group("simulations/reconstructed_data")
        for wl, plane in zip(image.wavelengths, image.data, strict=True):
            grp[f"{wl:g}"] = plane.T  # SIMPA stores (x, z)
        f["simulations/simulation_properties/seg"] = image.labels.T


@pytest.mark.parametrize("ext", [".hdr", ".dat", ".npy", ".npz", ".tif", ".hdf5"])
def test_open_each_format_in_the_viewer(make_napari_viewer, tmp_path, ext):
    viewer = make_napari_viewer()
    img = _image(bands=100 if ext == ".dat" else 6)
    if ext == ".dat":
        img.wavelengths = HSI_WAVELENGTHS.copy()
    path = tmp_path / f"cube_sim{ext}"
    if ext == ".hdf5":
        _write_simpa(path, img)
    else:
        write_spectral(path, img)
    layers = viewer.open(path, plugin="napari-cinn")
    assert [lyr._type_string for lyr in layers] == ["image", "labels"]
    cube, labels = layers
    assert cube.name == "cube_sim"
    assert cube.data.shape == img.shape
    np.testing.assert_allclose(np.asarray(cube.data), img.data)
    np.testing.assert_allclose(cube.metadata["wavelengths"], img.wavelengths)
    assert cube.metadata["domain"] == "sim"
    assert tuple(cube.axis_labels) == ("λ", "y", "x")
    assert tuple(viewer.dims.axis_labels) == ("λ", "y", "x")
    lo, hi = cube.contrast_limits
    assert 0 <= lo < hi <= 1
    np.testing.assert_array_equal(labels.data, img.labels)
    if ext != ".hdf5":  # SIMPA segmentations carry no names
        assert labels.metadata["label_names"][1] == "artery"


def test_unsorted_envi_opens_lazily_with_sorted_wavelengths(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    img = _image(bands=3)
    write_spectral(tmp_path / "c.hdr", img)
    hdr = tmp_path / "c.hdr"
    text = hdr.read_text()
    start, end = text.index("wavelength = {"), text.index("}", text.index("wavelength = {"))
    hdr.write_text(text[:start] + "wavelength = { 800, 600, 700 }" + text[end + 1 :])
    (layer, _) = viewer.open(hdr, plugin="napari-cinn")
    np.testing.assert_array_equal(layer.metadata["wavelengths"], [600, 700, 800])
    viewer.dims.set_point(0, 0)
    np.testing.assert_array_equal(np.asarray(layer.data[0]), img.data[1])


def test_non_spectral_files_are_left_to_other_readers(tmp_path):
    np.save(tmp_path / "flat.npy", np.ones((4, 4)))
    np.savez(tmp_path / "other.npz", a=np.ones(3))
    (tmp_path / "x.png").write_bytes(b"")
    assert get_reader(str(tmp_path / "flat.npy")) is None
    assert get_reader(str(tmp_path / "other.npz")) is None
    assert get_reader(str(tmp_path / "x.png")) is None
    assert get_reader([str(tmp_path / "a.hdr"), str(tmp_path / "b.hdr")]) is None


@pytest.fixture
def notifications():
    from napari.utils.notifications import notification_manager

    seen = []
    notification_manager.notification_ready.connect(seen.append)
    yield seen
    notification_manager.notification_ready.disconnect(seen.append)


def test_broken_file_gives_a_notification_not_a_crash(make_napari_viewer, tmp_path, notifications):
    viewer = make_napari_viewer()
    write_spectral(tmp_path / "broken.hdr", _image())
    data = tmp_path / "broken.img"
    data.write_bytes(data.read_bytes()[:100])
    added = viewer.open(tmp_path / "broken.hdr", plugin="napari-cinn")
    assert added == [] and len(viewer.layers) == 0
    messages = [str(n.message) for n in notifications]
    assert any("broken.img is truncated" in m for m in messages), messages


def test_save_layer_as_envi_npy_tiff_round_trips(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    img = _image()
    layer = viewer.add_image(
        img.data, name="cube", metadata={"wavelengths": img.wavelengths, "domain": "sim→real"}
    )
    for ext in (".hdr", ".npy", ".tif"):
        out = tmp_path / f"saved{ext}"
        written = viewer.layers.save(str(out), selected=False, plugin="napari-cinn")
        assert str(out) in written
        back = read_spectral(out)
        np.testing.assert_array_equal(np.asarray(back.data), img.data)
        np.testing.assert_allclose(back.wavelengths, img.wavelengths)
        assert back.domain == "sim→real"
    # a second save to the same name refuses instead of overwriting silently
    from napari_cinn.io._napari import write_envi

    with pytest.raises(ValueError, match="refusing to overwrite"):
        write_envi(str(tmp_path / "saved.hdr"), layer.data, {"metadata": layer.metadata})
    with pytest.raises(ValueError, match="no metadata\\['wavelengths'\\]"):
        write_envi(str(tmp_path / "nowl.hdr"), layer.data, {"name": "x", "metadata": {}})
    assert not (tmp_path / "nowl.hdr").exists()
