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
def test_samples_are_the_shipped_benchmark_files_with_all_label_names(key):
    image = _sample_data.load_sample(key)
    assert _sample_data.sample_file(key).parent == _sample_data.SAMPLE_DIR
    assert np.isfinite(image.data).all()
    names = image.label_names
    assert set(np.unique(image.labels)) <= set(names)
    assert len(names) == (11 if key.startswith("hsi") else 3)


def test_a_missing_sample_file_says_which_and_how_to_get_it(monkeypatch, tmp_path):
    monkeypatch.setattr(_sample_data, "SAMPLE_DIR", tmp_path)
    with pytest.raises(FileNotFoundError, match="hsi_sim.*missing.*cinn-train simulate"):
        _sample_data.load_sample("hsi_sim")
