"""napari-free I/O: a user saves a cube, reads it back, and bad files fail with clear messages."""

from __future__ import annotations

import json
import os
import time

import numpy as np
import pytest

from napari_cinn.core.spectra import HSI_WAVELENGTHS
from napari_cinn.io import LazyCube, SpectralFileError, SpectralImage, read_spectral, write_spectral


def make_image(bands=12, y=5, x=7, labels=True, seed=0) -> SpectralImage:
    rng = np.random.default_rng(seed)
    data = rng.random((bands, y, x), dtype=np.float32) + 0.1
    wl = np.linspace(500, 900, bands)
    lab = rng.integers(0, 3, (y, x)).astype(np.int32) if labels else None
    names = {0: "background", 1: "liver", 2: "spleen"} if labels else None
    return SpectralImage(data, wl, lab, names, {"domain": "sim", "subject": "s01"})


@pytest.mark.parametrize("ext", [".hdr", ".npy", ".npz", ".dat", ".tif"])
def test_round_trip_keeps_data_wavelengths_labels(tmp_path, ext):
    img = make_image(bands=100 if ext == ".dat" else 12)
    if ext == ".dat":  # Tivita cubes carry no wavelengths: the fixed camera grid
        img.wavelengths = HSI_WAVELENGTHS.copy()
    path = tmp_path / f"cube{ext}"
    written = write_spectral(path, img)
    assert path in written and all(p.exists() for p in written)
    back = read_spectral(path)
    np.testing.assert_array_equal(np.asarray(back.data), img.data)
    np.testing.assert_allclose(back.wavelengths, img.wavelengths)
    np.testing.assert_array_equal(back.labels, img.labels)
    assert back.label_names == img.label_names
    if ext != ".dat":
        assert back.metadata["domain"] == "sim"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "temp files left"


@pytest.mark.parametrize("ext", [".hdr", ".npy", ".npz"])
def test_one_pixel_and_one_band_images_round_trip(tmp_path, ext):
    img = SpectralImage(np.full((3, 1, 1), 0.5, np.float32), [500.0, 600.0, 700.0])
    write_spectral(tmp_path / f"px{ext}", img)
    assert read_spectral(tmp_path / f"px{ext}").shape == (3, 1, 1)
    one = SpectralImage(np.ones((1, 4, 4), np.float32), [650.0])
    write_spectral(tmp_path / f"band{ext}", one)
    np.testing.assert_allclose(read_spectral(tmp_path / f"band{ext}").wavelengths, [650.0])


def test_envi_is_memory_mapped_with_bands_first(tmp_path):
    img = make_image(bands=8, y=6, x=9, labels=False)
    write_spectral(tmp_path / "c.hdr", img)
    back = read_spectral(tmp_path / "c.hdr")
    assert isinstance(back.data, np.memmap)
    assert back.data.shape == (8, 6, 9)
    np.testing.assert_array_equal(back.data[3], img.data[3])


def test_refuses_to_overwrite_unless_asked(tmp_path):
    img = make_image()
    write_spectral(tmp_path / "c.hdr", img)
    before = (tmp_path / "c.img").read_bytes()
    with pytest.raises(SpectralFileError, match="refusing to overwrite"):
        write_spectral(tmp_path / "c.hdr", make_image(seed=1))
    assert (tmp_path / "c.img").read_bytes() == before
    write_spectral(tmp_path / "c.hdr", make_image(seed=1), overwrite=True)
    assert (tmp_path / "c.img").read_bytes() != before


def test_failed_write_leaves_nothing_behind(tmp_path, monkeypatch):
    import napari_cinn.io._numpy as mod

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(mod.np, "savez", boom)
    with pytest.raises(OSError, match="disk full"):
        write_spectral(tmp_path / "c.npz", make_image())
    assert list(tmp_path.iterdir()) == []


def test_truncated_envi_is_named(tmp_path):
    write_spectral(tmp_path / "c.hdr", make_image())
    data = tmp_path / "c.img"
    data.write_bytes(data.read_bytes()[:-100])
    with pytest.raises(SpectralFileError, match=r"c\.img is truncated"):
        read_spectral(tmp_path / "c.hdr")


def test_truncated_npy_and_tivita_are_named(tmp_path):
    write_spectral(tmp_path / "c.npy", make_image(labels=False))
    p = tmp_path / "c.npy"
    p.write_bytes(p.read_bytes()[:-40])
    with pytest.raises(SpectralFileError, match=r"c\.npy"):
        read_spectral(p)
    img = make_image(bands=100, labels=False)
    img.wavelengths = HSI_WAVELENGTHS.copy()
    write_spectral(tmp_path / "t.dat", img)
    t = tmp_path / "t.dat"
    t.write_bytes(t.read_bytes()[:-4])
    with pytest.raises(SpectralFileError, match="truncated"):
        read_spectral(t)


def test_wrong_band_count_vs_wavelengths(tmp_path):
    write_spectral(tmp_path / "c.hdr", make_image(bands=4))
    hdr = tmp_path / "c.hdr"
    text = hdr.read_text()
    start = text.index("wavelength = {")
    end = text.index("}", start)
    hdr.write_text(text[:start] + "wavelength = { 500, 600, 700 }" + text[end + 1 :])
    with pytest.raises(SpectralFileError, match="3 wavelengths for 4 bands"):
        read_spectral(hdr)
    np.savez(tmp_path / "z.npz", data=np.ones((4, 2, 2)), wavelengths=np.arange(5.0))
    with pytest.raises(SpectralFileError, match="5 wavelengths for 4 bands"):
        read_spectral(tmp_path / "z.npz")
    with pytest.raises(ValueError, match="3 wavelengths given for an image with 4 bands"):
        SpectralImage(np.ones((4, 2, 2), np.float32), [1.0, 2.0, 3.0])


def test_nan_wavelengths_refused_nan_pixels_kept(tmp_path):
    np.savez(tmp_path / "z.npz", data=np.ones((2, 2, 2)), wavelengths=[500.0, np.nan])
    with pytest.raises(SpectralFileError, match="NaN"):
        read_spectral(tmp_path / "z.npz")
    data = np.ones((2, 2, 2), np.float32)
    data[:, 0, 0] = np.nan  # invalid pixels are NaN by convention: kept as they are
    write_spectral(tmp_path / "n.npz", SpectralImage(data, [500.0, 600.0]))
    assert np.isnan(read_spectral(tmp_path / "n.npz").data[:, 0, 0]).all()


def test_unsorted_envi_wavelengths_are_sorted_lazily_with_the_data(tmp_path):
    img = make_image(bands=4, labels=False)
    write_spectral(tmp_path / "c.hdr", img)
    hdr = tmp_path / "c.hdr"
    text = hdr.read_text()
    start = text.index("wavelength = {")
    end = text.index("}", start)
    # file band i is at wavelength [700, 500, 800, 600][i]
    hdr.write_text(text[:start] + "wavelength = { 700, 500, 800, 600 }" + text[end + 1 :])
    back = read_spectral(hdr)
    np.testing.assert_array_equal(back.wavelengths, [500, 600, 700, 800])
    assert isinstance(back.data, LazyCube)
    order = [1, 3, 0, 2]
    np.testing.assert_array_equal(np.asarray(back.data), img.data[order])
    np.testing.assert_array_equal(back.data[2], img.data[0])
    np.testing.assert_array_equal(back.data[1:3, 2:4, ::2], img.data[[3, 0]][:, 2:4, ::2])
    np.testing.assert_array_equal(back.data[..., 1], img.data[order][..., 1])
    # the same wavelength twice cannot be sorted: refused
    hdr.write_text(text[:start] + "wavelength = { 700, 500, 700, 600 }" + text[end + 1 :])
    with pytest.raises(SpectralFileError, match="same wavelength twice"):
        read_spectral(hdr)


def test_micrometre_wavelengths_become_nm(tmp_path):
    img = make_image(bands=3, labels=False)
    write_spectral(tmp_path / "c.hdr", img)
    hdr = tmp_path / "c.hdr"
    text = hdr.read_text().replace("Nanometers", "Micrometers")
    start = text.index("wavelength = {")
    end = text.index("}", start)
    hdr.write_text(text[:start] + "wavelength = { 0.5, 0.6, 0.7 }" + text[end + 1 :])
    np.testing.assert_allclose(read_spectral(hdr).wavelengths, [500, 600, 700])


def test_missing_wavelengths_are_assumed_and_said(tmp_path):
    np.save(tmp_path / "c.npy", np.ones((100, 2, 3), np.float32))
    img = read_spectral(tmp_path / "c.npy")
    np.testing.assert_array_equal(img.wavelengths, HSI_WAVELENGTHS)
    assert "assumed" in img.metadata["wavelengths_assumed"]
    np.save(tmp_path / "d.npy", np.ones((5, 2, 3), np.float32))
    assert "band indices" in read_spectral(tmp_path / "d.npy").metadata["wavelengths_assumed"]


def test_bad_inputs_give_clear_errors(tmp_path):
    with pytest.raises(SpectralFileError, match="no such file"):
        read_spectral(tmp_path / "missing.npz")
    with pytest.raises(SpectralFileError, match="unsupported file type .png"):
        read_spectral(tmp_path / "x.png")
    np.save(tmp_path / "flat.npy", np.ones((4, 4)))
    with pytest.raises(SpectralFileError, match=r"expected a \(bands, y, x\)"):
        read_spectral(tmp_path / "flat.npy")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(SpectralFileError, match="junk.npz: not a readable .npz"):
        read_spectral(tmp_path / "junk.npz")
    np.savez(tmp_path / "nodata.npz", cube=np.ones((2, 2, 2)))
    with pytest.raises(SpectralFileError, match="no 'data' array"):
        read_spectral(tmp_path / "nodata.npz")
    (tmp_path / "orphan.hdr").write_text(
        "ENVI\nsamples = 2\nlines = 2\nbands = 2\n"
        "header offset = 0\ndata type = 4\ninterleave = bsq\n"
        "byte order = 0\n"
    )
    with pytest.raises(SpectralFileError, match="no data file"):
        read_spectral(tmp_path / "orphan.hdr")
    with pytest.raises(SpectralFileError, match="folder .* does not exist"):
        write_spectral(tmp_path / "nope" / "c.npz", make_image())
    with pytest.raises(SpectralFileError, match="cannot write .png"):
        write_spectral(tmp_path / "c.png", make_image())


def test_label_sidecars_and_npz_label_names(tmp_path):
    img = make_image()
    write_spectral(tmp_path / "c.hdr", img)
    names = json.loads((tmp_path / "c_labels.json").read_text())
    assert names == {"0": "background", "1": "liver", "2": "spleen"}
    np.testing.assert_array_equal(np.load(tmp_path / "c_labels.npy"), img.labels)
    with pytest.raises(ValueError, match="labels have shape"):
        SpectralImage(img.data, img.wavelengths, np.zeros((2, 2), int))


def test_domain_guessed_from_file_name(tmp_path):
    img = make_image(labels=False)
    img.metadata = {}
    write_spectral(tmp_path / "hsi_real.npz", img)
    assert read_spectral(tmp_path / "hsi_real.npz").domain == "real"
    write_spectral(tmp_path / "cube.npz", img)
    assert read_spectral(tmp_path / "cube.npz").domain is None


def test_large_envi_opens_lazily(tmp_path):
    """A 640×480×100 cube (123 MB) opens without reading its data."""
    img = SpectralImage(np.zeros((100, 480, 640), np.float32), HSI_WAVELENGTHS)
    write_spectral(tmp_path / "big.hdr", img)
    os.sync()
    t0 = time.perf_counter()
    back = read_spectral(tmp_path / "big.hdr")
    assert time.perf_counter() - t0 < 2.0
    assert back.shape == (100, 480, 640)


def test_simpa_style_hdf5(tmp_path):
    import h5py

    rng = np.random.default_rng(0)
    planes = {wl: rng.random((6, 4)).astype(np.float32) for wl in (800, 700, 750)}  # (x, z)
    seg = rng.integers(0, 3, (6, 4))
    with h5py.File(tmp_path / "pat_sim.hdf5", "w") as f:
        grp = f.create_group("simulations/optical_forward_model_output/initial_pressure")
        for wl, arr in planes.items():
            grp[str(wl)] = arr
        f["simulations/simulation_properties/seg"] = seg
        f["settings/wavelengths"] = [700, 750, 800]
    img = read_spectral(tmp_path / "pat_sim.hdf5")
    assert img.shape == (3, 4, 6)  # (bands, z, x): depth runs down
    np.testing.assert_array_equal(img.wavelengths, [700, 750, 800])
    np.testing.assert_array_equal(img.data[0], planes[700].T)
    np.testing.assert_array_equal(img.labels, seg.T)
    assert img.domain == "sim" and img.metadata["field"] == "initial_pressure"
    with h5py.File(tmp_path / "empty.h5", "w") as f:
        f["other"] = [1, 2]
    with pytest.raises(SpectralFileError, match="no spectral data found"):
        read_spectral(tmp_path / "empty.h5")
    with h5py.File(tmp_path / "plain.h5", "w") as f:
        f["data"] = np.ones((2, 3, 3))
        f["wavelengths"] = [700.0, 710.0]
    assert read_spectral(tmp_path / "plain.h5").shape == (2, 3, 3)
