"""The shipped sample models: small, valid, and exactly invertible on the benchmark data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).parents[2] / "sample_data"
MODELS = ROOT / "models"


def _first(pattern: str) -> Path | None:
    found = sorted(ROOT.glob(pattern))
    return found[0] if found else None


@pytest.mark.parametrize("name", ["hsi_sample", "pat_sample"])
def test_sample_model_is_small_and_loads(name):
    from napari_cinn.core import load_model

    path = MODELS / f"{name}.safetensors"
    if not path.exists():
        pytest.skip(f"{path} not trained yet")
    assert path.stat().st_size <= 10 * 1024**2
    model = load_model(path)
    assert model.modality == name[:3]
    assert model.domains == ("sim", "real")


def test_hsi_sample_model_round_trip_on_benchmark_data():
    from napari_cinn.core import load_model, transfer_image
    from napari_cinn.io import read_spectral

    path = MODELS / "hsi_sample.safetensors"
    cube_path = _first("hsi_sim*.hdr")
    if not path.exists() or cube_path is None:
        pytest.skip("sample model or sample HSI cube not present")
    model = load_model(path)
    cube = np.asarray(read_spectral(cube_path).data, dtype=np.float32)[:, :32, :32]
    fake = transfer_image(model, cube, "sim", "real", device="cpu")
    back = transfer_image(model, fake, "real", "sim", device="cpu")
    assert np.isfinite(fake).all()
    assert not np.allclose(fake, cube, atol=1e-3)  # it does transfer something
    np.testing.assert_allclose(back, cube, atol=1e-3)
