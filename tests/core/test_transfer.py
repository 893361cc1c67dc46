"""Whole-image transfer: chunking is invisible, cancel leaves nothing, bad images get a sentence."""

import tracemalloc

import numpy as np
import pytest

from napari_cinn.core import (
    TransferCancelled,
    encode_image,
    likelihood_image,
    resolve_device,
    transfer_image,
)
from napari_cinn.core.spectra import HSI_WAVELENGTHS, PAT_WAVELENGTHS


def test_chunked_transfer_equals_unchunked(hsi_model, cube):
    whole = transfer_image(hsi_model, cube, "sim", "real", chunk=cube[0].size, device="cpu")
    chunked = transfer_image(hsi_model, cube, "sim", "real", chunk=300, device="cpu")
    assert whole.shape == cube.shape and whole.dtype == np.float32
    np.testing.assert_allclose(chunked, whole, atol=1e-5, rtol=0)
    assert np.abs(whole - cube).mean() > 1e-3


def test_image_round_trip_through_both_domains(hsi_model, cube):
    there = transfer_image(hsi_model, cube, "sim", "real", device="cpu")
    back = transfer_image(hsi_model, there, "real", "sim", device="cpu")
    np.testing.assert_allclose(back, cube, atol=1e-3, rtol=0)


def test_progress_reports_every_chunk_up_to_the_total(hsi_model, cube):
    calls = []
    transfer_image(
        hsi_model,
        cube,
        "sim",
        "real",
        chunk=64 * 16,
        device="cpu",
        progress=lambda done, total: calls.append((done, total)),
    )
    assert calls == [(1024 * k, 4096) for k in range(1, 5)]


def test_cancel_stops_within_one_chunk_and_leaves_no_partial_output(hsi_model, cube, tmp_path):
    seen = []
    out = np.lib.format.open_memmap(
        tmp_path / "out.npy", mode="w+", dtype=np.float32, shape=cube.shape
    )
    with pytest.raises(TransferCancelled):
        transfer_image(
            hsi_model,
            cube,
            "sim",
            "real",
            chunk=64 * 8,
            device="cpu",
            out=out,
            progress=lambda d, t: seen.append(d),
            cancel=lambda: len(seen) >= 2,
        )
    assert seen == [512, 1024]  # the third chunk never started
    assert np.isnan(out).all()  # the two finished chunks were wiped


def test_transfer_into_a_memmap_keeps_memory_bounded(tmp_path):
    from napari_cinn.core import build_model

    model = build_model("hsi", n_blocks=2, hidden=16)
    shape = (100, 256, 256)  # 26 MB of float32
    src = np.lib.format.open_memmap(tmp_path / "cube.npy", mode="w+", dtype=np.float32, shape=shape)
    src[:] = 0.5
    src.flush()
    src = np.load(tmp_path / "cube.npy", mmap_mode="r")
    out = np.lib.format.open_memmap(tmp_path / "out.npy", mode="w+", dtype=np.float32, shape=shape)
    tracemalloc.start()
    transfer_image(model, src, "sim", "real", chunk=2048, device="cpu", out=out)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 8e6, f"NumPy peak {peak / 1e6:.1f} MB for a 26 MB cube"
    assert np.isfinite(out[:, ::50, ::50]).all()


def test_invalid_pixels_come_out_nan_and_the_rest_is_unaffected(hsi_model, cube):
    bad = cube.copy()
    bad[:, 0, 0] = 0
    bad[5, 1, 1] = np.nan
    bad[7, 2, 2] = np.inf
    a = transfer_image(hsi_model, bad, "sim", "real", device="cpu")
    b = transfer_image(hsi_model, cube, "sim", "real", device="cpu")
    assert np.isnan(a[:, 0, 0]).all() and np.isnan(a[:, 1, 1]).all() and np.isnan(a[:, 2, 2]).all()
    # float32 precision: a pixel's result may differ in the last bits with its row in the batch
    np.testing.assert_allclose(a[:, 3:, 3:], b[:, 3:, 3:], rtol=1e-5, atol=1e-6)


def test_wrong_band_count_names_both_grids(hsi_model):
    pat_like = np.ones((16, 8, 8), np.float32)
    with pytest.raises(
        ValueError, match="model expects 100 bands 500–995 nm; image has 16 bands 700–850 nm"
    ):
        transfer_image(hsi_model, pat_like, "sim", "real", wavelengths=PAT_WAVELENGTHS)
    with pytest.raises(ValueError, match="image has 16 bands \\(and no wavelengths\\)"):
        transfer_image(hsi_model, pat_like, "sim", "real")


def test_other_grid_needs_opt_in_resampling(hsi_model, cube):
    wl = np.arange(495.0, 1000.1, 2.5)  # a finer grid that contains the model's
    finer = np.stack(
        [np.interp(wl, HSI_WAVELENGTHS, cube[:, y, x]) for y in range(4) for x in range(4)], 1
    )
    finer = finer.reshape(wl.size, 4, 4).astype(np.float32)
    with pytest.raises(ValueError, match="enable resampling"):
        transfer_image(hsi_model, finer, "sim", "real", wavelengths=wl)
    out = transfer_image(
        hsi_model, finer, "sim", "real", wavelengths=wl, resample=True, device="cpu"
    )
    ref = transfer_image(hsi_model, cube[:, :4, :4], "sim", "real", device="cpu")
    assert out.shape == (100, 4, 4)
    np.testing.assert_allclose(out, ref, atol=1e-3)


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (np.ones((100, 8)), "expected a \\(bands, y, x\\).*2-D array"),
        (np.ones(100), "single spectrum\\? pass it as \\(bands, 1, 1\\)"),
        (np.ones((100, 0, 5)), "the image is empty"),
        (np.ones((100, 2, 2), dtype=bool), "real numbers"),
    ],
)
def test_malformed_images_get_a_sentence(hsi_model, image, message):
    with pytest.raises(ValueError, match=message):
        transfer_image(hsi_model, image, "sim", "real")


def test_integer_cubes_and_single_pixels_work(hsi_model, cube):
    ints = (cube * 1000).astype(np.uint16)
    a = transfer_image(hsi_model, ints, "sim", "real", device="cpu")
    b = transfer_image(hsi_model, ints.astype(np.float32), "sim", "real", device="cpu")
    np.testing.assert_array_equal(a, b)
    one = transfer_image(hsi_model, ints[:, :1, :1], "sim", "real", device="cpu")
    assert one.shape == (100, 1, 1)
    np.testing.assert_allclose(one, b[:, :1, :1], rtol=1e-5)


def test_volumes_are_transferred_slice_by_slice(hsi_model, cube):
    vol = np.stack([cube[:, :8, :8], cube[:, 8:16, :8]], axis=1)  # (bands, z, y, x)
    out = transfer_image(hsi_model, vol, "sim", "real", device="cpu")
    np.testing.assert_allclose(
        out[:, 1],
        transfer_image(hsi_model, cube[:, 8:16, :8], "sim", "real", device="cpu"),
        atol=1e-6,
    )


def test_pat_images_of_any_size_are_padded_and_cropped(pat_model):
    img = np.random.default_rng(0).random((16, 30, 21)).astype(np.float32)
    out = transfer_image(pat_model, img, "sim", "real", device="cpu")
    assert out.shape == img.shape and np.isfinite(out).all()
    back = transfer_image(pat_model, out, "real", "sim", device="cpu")
    assert (
        np.abs(back - img).max() < 0.05
    )  # padding borders make the crop only approximately invertible
    stack = np.stack([img, img[:, ::-1]], axis=1)  # (bands, n, y, x)
    both = transfer_image(pat_model, stack, "sim", "real", device="cpu", chunk=1)
    np.testing.assert_allclose(both[:, 0], out, atol=1e-5)
    tiny = transfer_image(pat_model, img[:, :1, :1], "sim", "real", device="cpu")
    assert tiny.shape == (16, 1, 1) and np.isfinite(tiny).all()


def test_latent_and_likelihood_maps(hsi_model, cube):
    z = encode_image(hsi_model, cube, "sim", device="cpu")
    ll_sim = likelihood_image(hsi_model, cube, "sim", device="cpu")
    assert z.shape == cube.shape and ll_sim.shape == cube.shape[1:]
    assert np.isfinite(ll_sim).all()
    assert abs(float(np.std(z)) - 1) < 1.0  # standardised data → roughly unit-scale latents


def test_device_auto_falls_back_to_cpu_and_unavailable_cuda_is_explained():
    import torch

    if not torch.cuda.is_available():
        assert resolve_device("auto").type in ("cpu", "mps")
        with pytest.raises(ValueError, match="no CUDA GPU is available"):
            resolve_device("cuda")


def test_torch_thread_limit_is_scoped_and_leaves_the_gui_a_core(monkeypatch):
    import torch

    from napari_cinn.core import devices

    before = torch.get_num_threads()
    with devices.torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    for cores, expected in [(1, 1), (2, 1), (8, 7)]:
        monkeypatch.setattr(devices.os, "cpu_count", lambda cores=cores: cores)
        assert devices.gui_threads() == expected
