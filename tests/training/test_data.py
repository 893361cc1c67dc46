"""Training data: subject-level splits, balanced sampling, real labels never used, clear errors."""

from __future__ import annotations

import numpy as np
import pytest
from cinn_train_helpers import write_hsi_folders, write_pat_folders

from napari_cinn_training.data import CropBatches, DataError, EpochSampler, SpectraBatches, prepare


def test_split_is_by_subject_and_real_labels_are_dropped(tmp_path):
    sim, real = write_hsi_folders(tmp_path, n_files=4)
    data = prepare(sim, real, "hsi", val_fraction=0.25, seed=0)
    for d in ("sim", "real"):
        train = {s.subject for s in data.train[d].subjects}
        val = {s.subject for s in data.val[d].subjects}
        assert len(train) == 3 and len(val) == 1 and not train & val
    assert all(s.labels is not None for s in data.train["sim"].subjects)
    assert all(s.labels is None for s in data.train["real"].subjects + data.val["real"].subjects)
    assert {e["split"] for e in data.manifest["real"]} == {"train", "val"}


def test_batches_are_balanced_over_files_and_reproducible(tmp_path):
    sim, real = write_hsi_folders(tmp_path, n_files=2)
    data = prepare(sim, real, "hsi", val_fraction=0.0)
    # make file 0 much bigger than file 1: sampling must still be ~50/50 per file
    big = data.train["sim"].subjects[0]
    big.spectra = np.repeat(big.spectra, 20, axis=0) * 0 + 1.0
    big.labels = np.repeat(big.labels, 20)
    ds = SpectraBatches(data.train, batch_size=2000, samples_per_epoch=2000, seed=3)
    batch = ds[(0, 0)]
    share_big = float((batch["sim"][:, 0] == 1.0).float().mean())
    assert 0.45 < share_big < 0.55
    assert batch["sim"].shape == (2000, 100) and batch["sim_labels"].shape == (2000,)
    assert "real_labels" not in batch
    np.testing.assert_array_equal(ds[(0, 0)]["real"], batch["real"])
    assert not np.array_equal(ds[(1, 0)]["real"], batch["real"])


def test_sampler_splits_ranks_and_skips_on_resume():
    a, b = EpochSampler(10, 0, 2), EpochSampler(10, 1, 2)
    assert len(a) == len(b) == 5
    assert not {i for _, i in a} & {i for _, i in b}
    a.set_epoch(3)
    a.skip = 2
    assert list(a) == [(3, 4), (3, 6), (3, 8)]
    assert len(list(a)) == 5  # skip applies once


def test_mismatched_wavelengths_are_named(tmp_path):
    from napari_cinn.io import SpectralImage, write_spectral

    sim, real = write_hsi_folders(tmp_path, n_files=2)
    odd = SpectralImage(np.ones((16, 4, 4), np.float32), np.arange(700.0, 860.0, 10.0))
    write_spectral(real / "odd.npz", odd)
    with pytest.raises(DataError, match=r"odd\.npz: wavelengths \(16 bands 700–850 nm\) differ"):
        prepare(sim, real, "hsi")


def test_empty_or_missing_real_folder(tmp_path):
    sim, _ = write_hsi_folders(tmp_path, n_files=1)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="holds no readable spectral files"):
        prepare(sim, tmp_path / "empty", "hsi")
    with pytest.raises(DataError, match="does not exist"):
        prepare(sim, tmp_path / "nowhere", "hsi")


def test_pat_crops(tmp_path):
    sim, real = write_pat_folders(tmp_path, size=16)
    data = prepare(sim, real, "pat", val_fraction=0.0)
    batch = CropBatches(data.train, batch_size=3, samples_per_epoch=6, crop=8)[(0, 1)]
    assert batch["sim"].shape == (3, 16, 8, 8) and batch["real"].shape == (3, 16, 8, 8)
    with pytest.raises(DataError, match="smaller than data.crop=32"):
        CropBatches(data.train, batch_size=3, samples_per_epoch=6, crop=32)
