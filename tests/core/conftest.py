"""Small models with non-trivial weights, so round trips and transfers test real computation."""

import numpy as np
import pytest

from napari_cinn.core import build_model


@pytest.fixture
def hsi_model(perturb):
    m = build_model("hsi", n_blocks=4, hidden=32)
    rng = np.random.default_rng(1)
    m.fit_normalization(rng.uniform(0.2, 1.0, (500, 100)), "sim")
    m.fit_normalization(rng.uniform(0.1, 0.7, (500, 100)) + 0.05, "real")
    return perturb(m)


@pytest.fixture
def pat_model(perturb):
    m = build_model("pat", n_scales=3, blocks_per_scale=[1, 1, 1], hidden=8)
    rng = np.random.default_rng(2)
    m.fit_normalization(rng.uniform(0, 1, (4, 16, 16, 16)), "sim")
    m.fit_normalization(rng.uniform(0, 2, (4, 16, 16, 16)), "real")
    return perturb(m)


@pytest.fixture
def cube():
    """(bands, y, x) = (100, 64, 64) positive reflectance-like cube."""
    rng = np.random.default_rng(3)
    base = np.linspace(0.2, 0.8, 100)[:, None, None]
    return (base * rng.uniform(0.5, 1.5, (1, 64, 64)) + 0.05 * rng.random((100, 64, 64))).astype(
        np.float32
    )
