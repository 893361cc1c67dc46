"""Image spread: the whole-image variability a transfer lacks, measured without labels and drawn
once per realisation of an image."""

import numpy as np
import pytest
import torch

from napari_cinn.core import load_model, save_model, transfer_image
from napari_cinn.core.image_spread import between_image_cov, mean_log_spectrum, missing_spread


def _images(n: int, gains: np.ndarray | None, seed: int) -> list[np.ndarray]:
    """``n`` spectra sets ``(500, 100)``: one tissue mixture, each image times its own gain."""
    rng = np.random.default_rng(seed)
    base = np.linspace(0.2, 0.8, 100)
    out = []
    for i in range(n):
        x = base * rng.uniform(0.5, 1.5, (500, 1)) + 0.02 * rng.random((500, 100))
        out.append(x * (1.0 if gains is None else gains[i]))
    return out


def test_the_missing_spread_is_the_between_image_variance_the_transfers_lack():
    """Real images differ by a smooth spectral tilt per image; the root recovers its variance and
    gives nothing where the transfers already vary."""
    rng = np.random.default_rng(0)
    t = np.linspace(-1, 1, 100)
    tilt = rng.normal(0, 0.2, 400)
    real = between_image_cov(_images(400, np.exp(np.outer(tilt, t)), 1))
    transferred = between_image_cov(_images(400, None, 2))
    root = missing_spread(real, transferred)
    added = root.astype(np.float64) @ root.T
    along = float(t @ added @ t / (t @ t) ** 2)  # variance of the tilt coefficient
    assert along == pytest.approx(0.2**2, rel=0.2)
    # the other way round (transfers vary more): nothing to add
    assert np.abs(missing_spread(transferred, real)).max() < 0.02


def test_brightness_alone_is_no_spread():
    same = _images(8, np.linspace(0.5, 2.0, 8), 3)
    assert np.abs(between_image_cov(same)).max() < 1e-4  # ~ sampling noise of the tissue mixture
    with pytest.raises(ValueError, match="at least 2 images"):
        between_image_cov(same[:1])
    with pytest.raises(ValueError, match="no valid spectra"):
        mean_log_spectrum(np.full((4, 100), np.nan))


@pytest.fixture
def spread_model(hsi_model):
    with torch.no_grad():
        hsi_model.source_noise[0] = 0.01
    t = np.linspace(-1, 1, 100)
    hsi_model.set_image_spread("real", np.outer(t, np.eye(100)[0]) * 0.3)  # one tilt direction
    return hsi_model


def test_a_realisation_is_the_noisy_transfer_times_one_factor_per_image(spread_model, cube):
    with torch.no_grad():
        plain = spread_model.image_spread.clone()
        spread_model.image_spread.zero_()
        without = transfer_image(
            spread_model, cube, "sim", "real", device="cpu", sample=True, seed=5
        )
        spread_model.image_spread.copy_(plain)
    a = transfer_image(spread_model, cube, "sim", "real", device="cpu", sample=True, seed=5)
    b = transfer_image(spread_model, cube, "sim", "real", device="cpu", sample=True, seed=5)
    c = transfer_image(spread_model, cube, "sim", "real", device="cpu", sample=True, seed=6)
    np.testing.assert_array_equal(a, b)
    factor = a / without  # the same camera noise, times one spectral factor for the whole image
    np.testing.assert_allclose(factor, factor[:, :1, :1] * np.ones_like(factor), rtol=1e-4)
    tilt = np.log(factor[:, 0, 0])
    t = np.linspace(-1, 1, 100)
    np.testing.assert_allclose(tilt, t * (tilt @ t) / (t @ t), atol=1e-5)  # along the tilt
    assert abs(tilt[-1] - tilt[0]) > 1e-3
    assert not np.allclose(a / c, (a / c)[:, :1, :1], rtol=1e-3)  # another seed, another draw
    # the deterministic transfer does not draw it, and it still round-trips
    det = transfer_image(spread_model, cube, "sim", "real", device="cpu")
    back = transfer_image(spread_model, det, "real", "sim", device="cpu")
    np.testing.assert_allclose(back, cube, atol=1e-3, rtol=0)
    assert not spread_model.has_image_spread("sim")


def test_the_spread_travels_in_the_model_file_and_older_files_have_none(spread_model, tmp_path):
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    from napari_cinn.core.model_hash import HASH_KEY, hash_state

    path = save_model(spread_model, tmp_path / "spread.safetensors")
    loaded = load_model(path)
    assert loaded.has_image_spread("real")
    torch.testing.assert_close(loaded.image_spread, spread_model.image_spread)
    # a file written before image spreads existed lacks the tensor: it loads, without a spread
    with safe_open(str(path), "pt") as fh:
        meta = fh.metadata()
    tensors = {k: v for k, v in load_file(str(path)).items() if k != "image_spread"}
    meta[HASH_KEY] = hash_state(meta["napari_cinn"], tensors)
    save_file(tensors, str(tmp_path / "old.safetensors"), metadata=meta)
    old = load_model(tmp_path / "old.safetensors")
    assert old.info["integrity"] == "content hash verified" and not old.has_image_spread("real")
