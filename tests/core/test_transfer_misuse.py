"""User stories: a transfer called wrongly says so in a sentence, and NaN in a result is never
silent: a warning says how much and why."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from napari_cinn.core import build_model
from napari_cinn.core.transfer import likelihood_image, transfer_image
from napari_cinn.core.transfer_checks import NaNWarning

WL = [700.0 + 10 * i for i in range(4)]


@pytest.fixture
def hsi():
    return build_model("hsi", wavelengths=WL, n_blocks=2, hidden=8)


@pytest.fixture
def pat():
    return build_model("pat", wavelengths=WL, n_scales=2, blocks_per_scale=[1, 1], hidden=4)


def _image(rng=0, shape=(4, 8, 8)):
    return np.random.default_rng(rng).uniform(0.5, 1.0, shape).astype(np.float32)


@pytest.mark.parametrize("chunk", [-1, 0, 1.5, True, "8"])
def test_a_chunk_that_is_no_positive_count_is_refused(hsi, pat, chunk):
    for model in (hsi, pat):
        with pytest.raises(ValueError, match="chunk must be a positive whole number"):
            transfer_image(model, _image(), "sim", "real", chunk=chunk, device="cpu")


@pytest.mark.parametrize("row0", [-1, 2.5, True])
def test_a_row0_that_is_no_row_is_refused(pat, row0):
    with pytest.raises(ValueError, match="row0 must be a non-negative integer"):
        transfer_image(pat, _image(), "sim", "real", device="cpu", row0=row0)


def test_row0_on_a_hsi_model_is_refused_as_meaningless(hsi):
    with pytest.raises(ValueError, match="depth of a PAT image's first row; hsi has none"):
        transfer_image(hsi, _image(), "sim", "real", device="cpu", row0=8)


def test_an_integer_out_is_refused_before_it_truncates(hsi):
    out = np.zeros((4, 8, 8), np.int16)
    with pytest.raises(ValueError, match="floating-point.*int16"):
        transfer_image(hsi, _image(), "sim", "real", out=out, device="cpu")


@pytest.mark.parametrize("broken", ["std0", "clampnan", "meannan"])
def test_a_model_that_would_give_only_nan_is_refused(hsi, broken):
    with torch.no_grad():
        if broken == "std0":
            hsi.norm_std.zero_()
        elif broken == "meannan":
            hsi.norm_mean[0, 0] = float("nan")
    if broken == "clampnan":
        hsi.hyper["clamp"] = float("nan")
    with pytest.raises(ValueError, match="norm_std|clamp|norm_mean"):
        transfer_image(hsi, _image(), "sim", "real", device="cpu")


def test_one_huge_pat_pixel_stays_one_invalid_pixel(pat):
    image = _image()
    image[:, 3, 4] = 3e38
    with pytest.warns(NaNWarning, match="1 pixel\\(s\\) hold values beyond"):
        out = transfer_image(pat, image, "sim", "real", device="cpu")
    nan = np.isnan(out).any(0)
    assert nan[3, 4] and nan.sum() == 1


def test_nan_in_a_result_is_reported_with_its_cause(hsi):
    image = _image()
    image[:, 0, :] = 0.0  # a masked row: all-zero spectra
    image[:, 1, 0] = np.nan
    with pytest.warns(
        NaNWarning, match=r"transfer: 14.1% of the pixels \(9 of 64\) are NaN"
    ) as rec:
        transfer_image(hsi, image, "sim", "real", device="cpu")
    text = str(rec[0].message)
    assert "all-zero spectra" in text and "NaN/infinite input" in text
    with pytest.warns(NaNWarning, match="likelihood map"):
        likelihood_image(hsi, image, "sim", device="cpu")


def test_a_clean_result_gives_no_warning(hsi, recwarn):
    transfer_image(hsi, _image(), "sim", "real", device="cpu")
    assert not [w for w in recwarn if issubclass(w.category, NaNWarning)]
