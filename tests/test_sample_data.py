"""Every File ▸ Open Sample ▸ napari-cinn entry loads as a spectral layer with its labels."""

from __future__ import annotations

import numpy as np
import pytest

from napari_cinn import _sample_data
from napari_cinn.core.spectra import HSI_WAVELENGTHS, PAT_WAVELENGTHS


@pytest.mark.gui
@pytest.mark.parametrize("key", ["hsi_sim", "hsi_real", "pat_sim", "pat_real"])
def test_every_sample_opens_in_the_viewer(make_napari_viewer, key):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-cinn", key)
    cube = viewer.layers[key]
    expected = HSI_WAVELENGTHS if key.startswith("hsi") else PAT_WAVELENGTHS
    np.testing.assert_allclose(cube.metadata["wavelengths"], expected)
    assert cube.metadata["domain"] == key.split("_")[1]
    assert cube.data.shape[0] == expected.size
    assert tuple(cube.axis_labels) == ("λ", "y", "x")
    assert viewer.layers[f"{key} labels"].data.shape == cube.data.shape[1:]


@pytest.mark.parametrize("key", ["hsi_sim", "hsi_real", "pat_sim", "pat_real"])
def test_generated_stand_ins_when_files_are_absent(monkeypatch, tmp_path, key):
    monkeypatch.setattr(_sample_data, "SAMPLE_DIR", tmp_path)
    image = _sample_data.load_sample(key)
    assert image.metadata["source"].startswith("generated")
    assert np.isfinite(image.data).all() and image.labels.max() >= 2
    if key.startswith("pat"):
        assert image.shape[1] % 16 == 0 and image.shape[2] % 16 == 0  # PAT nets need multiples


def test_shipped_files_are_preferred(monkeypatch, tmp_path):
    from napari_cinn.io import SpectralImage, write_spectral

    img = SpectralImage(np.ones((100, 4, 4), np.float32), HSI_WAVELENGTHS)
    write_spectral(tmp_path / "hsi_sim.hdr", img)
    monkeypatch.setattr(_sample_data, "SAMPLE_DIR", tmp_path)
    loaded = _sample_data.load_sample("hsi_sim")
    assert loaded.shape == (100, 4, 4) and loaded.domain == "sim"
