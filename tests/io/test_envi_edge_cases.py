"""A researcher opens ENVI files that other software wrote (fixtures in tests/data, see
make_fixtures.py): ignore values, headers without byte order, ESRI LAYOUT headers, data files."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from napari_cinn.io import SpectralFileError, read_spectral

DATA = Path(__file__).resolve().parents[1] / "data"


def test_data_ignore_value_becomes_nan_before_the_scale_factor():
    image = read_spectral(DATA / "envi_ignore.hdr")
    cube = np.asarray(image.data)
    assert image.wavelengths.tolist() == [500.0, 600.0, 700.0, 800.0, 900.0]  # µm → nm
    assert np.isnan(cube[:, 0, 0]).all()  # the whole pixel was -9999
    assert np.isnan(cube[2, 3, 5]) and np.isfinite(cube[:, 3, 5]).sum() == 4
    assert np.isnan(cube).sum() == 6
    finite = cube[np.isfinite(cube)]
    assert finite.min() >= 0.1 and finite.max() <= 0.9  # ×10000 undone, no -0.9999 left
    assert image.metadata["data_ignore_value"] == -9999
    assert any("data ignore value" in n for n in image.metadata["notes"])
    # a lazy slice reads the same
    assert np.isnan(image.data[2][3, 5]) and np.isnan(image.data[0, 0, 0])


def test_ignored_pixels_stay_out_of_the_normalisation():
    from napari_cinn.core.models import build_model

    image = read_spectral(DATA / "envi_ignore.hdr")
    spectra = np.asarray(image.data).reshape(5, -1).T
    model = build_model("hsi", wavelengths=image.wavelengths, n_blocks=2, hidden=8)
    model.fit_normalization(spectra, "sim")
    assert np.isfinite(model.norm_mean.numpy()).all() and np.isfinite(model.norm_std.numpy()).all()


def test_header_without_byte_order_is_read_little_endian_with_a_note():
    image = read_spectral(DATA / "plantcv_cube.hdr")
    raw = np.fromfile(DATA / "plantcv_cube.raw", dtype="<f4").reshape(3, 6, 4)  # BIL
    assert np.array_equal(np.asarray(image.data), raw.transpose(1, 0, 2))
    assert "byte order" in image.metadata["notes"][0]
    assert image.metadata["description"] == "PlantCV hyperspectral test image"


def test_esri_layout_bil_header_reads_big_endian_uint16():
    image = read_spectral(DATA / "specim_scan.hdr")
    raw = np.fromfile(DATA / "specim_scan.bil", dtype=">u2").reshape(5, 3, 7)
    assert image.shape == (3, 5, 7)
    assert np.array_equal(np.asarray(image.data), raw.transpose(1, 0, 2).astype(np.float32))
    assert "ESRI" in image.metadata["notes"][0]
    assert "wavelengths_assumed" in image.metadata


@pytest.mark.parametrize("name", ["specim_scan.bil", "envi_ignore.img", "envi_cube.dat"])
def test_a_data_file_opens_through_the_header_beside_it(name):
    image = read_spectral(DATA / name)
    header = read_spectral((DATA / name).with_suffix(".hdr"))
    assert np.array_equal(np.asarray(image.data), np.asarray(header.data), equal_nan=True)
    assert image.metadata["format"] == "envi"


def test_envi_dat_is_not_mistaken_for_a_tivita_cube(tmp_path):
    image = read_spectral(DATA / "envi_cube.dat")
    assert image.wavelengths.tolist() == [510, 520, 530, 540]
    lone = tmp_path / "envi_cube.dat"  # the same bytes without their header
    shutil.copy(DATA / "envi_cube.dat", lone)
    with pytest.raises(SpectralFileError, match="not a Tivita cube"):
        read_spectral(lone)


def test_a_data_file_without_header_and_a_broken_esri_header_are_named(tmp_path):
    raw = tmp_path / "scan.raw"
    raw.write_bytes(b"\0" * 64)
    with pytest.raises(SpectralFileError, match=r"scan\.raw: a raw data file needs its header"):
        read_spectral(raw)
    hdr = tmp_path / "scan.hdr"
    hdr.write_text("BYTEORDER I\nLAYOUT BIL\nNROWS 2\nNCOLS 2\nNBITS 12\n", encoding="utf-8")
    with pytest.raises(SpectralFileError, match=r"scan\.hdr: PIXELTYPE .* NBITS 12"):
        read_spectral(hdr)
    hdr.write_text("BYTEORDER I\nLAYOUT BIL\nNROWS 2\nNCOLS 4\nNBITS 8\nBANDROWBYTES 8\n")
    with pytest.raises(SpectralFileError, match="padded rows"):
        read_spectral(hdr)
