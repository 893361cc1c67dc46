"""Training data: subject-level splits, lazy capped sampling in bounded memory, balanced batches,
real labels never used, a hash cache, clear errors."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from cinn_train_helpers import write_hsi_folders, write_pat_folders

from napari_cinn.core.spectra import HSI_WAVELENGTHS
from napari_cinn_training.data import (
    CropBatches,
    DataError,
    DomainData,
    EpochPool,
    EpochSampler,
    HashCache,
    Sampling,
    SpectraBatches,
    file_sha256,
    prepare,
    sample_file,
)
from napari_cinn_training.data import sampling as sampling_module
from napari_cinn_training.data.sources import Subject, array_subject


def test_split_is_by_subject_and_real_labels_are_dropped(tmp_path):
    sim, real = write_hsi_folders(tmp_path, n_files=4)
    data = prepare(sim, real, "hsi", val_fraction=0.25, seed=0)
    for d in ("sim", "real"):
        train = {s.subject for s in data.train[d].subjects}
        val = {s.subject for s in data.val[d].subjects}
        assert len(train) == 3 and len(val) == 1 and not train & val
    assert all(s.has_labels for s in data.train["sim"].subjects)
    assert not any(s.has_labels for s in data.train["real"].subjects + data.val["real"].subjects)
    assert {e["split"] for e in data.manifest["real"]} == {"train", "val"}
    batch = SpectraBatches(data.train, batch_size=64, samples_per_epoch=64)[(0, 0)]
    assert "sim_labels" in batch and "real_labels" not in batch


def test_split_seed_keeps_one_split_across_training_seeds(tmp_path):
    """``data.split_seed``: runs with different seeds hold out the same subjects; without it the
    split follows the run's seed."""
    from napari_cinn_training.config import config_from_dict
    from napari_cinn_training.data import prepare_config

    sim, real = write_hsi_folders(tmp_path, n_files=8)

    def held_out(seed: int, split_seed: int = -1) -> tuple:
        data = {"sim": str(sim), "real": str(real), "val_fraction": 0.25, "split_seed": split_seed}
        cfg = config_from_dict({"modality": "hsi", "seed": seed, "data": data})
        val = prepare_config(cfg).val
        return tuple(sorted(s.subject for d in ("sim", "real") for s in val[d].subjects))

    assert len({held_out(seed, split_seed=3) for seed in range(4)}) == 1
    assert len({held_out(seed) for seed in range(4)}) > 1


def test_no_held_out_subject_validates_on_the_training_subjects_and_says_so(tmp_path, caplog):
    sim, real = write_hsi_folders(tmp_path, n_files=3)
    with caplog.at_level("WARNING"):
        data = prepare(sim, real, "hsi", val_fraction=0.0)
    for d in ("sim", "real"):
        assert data.val[d].subjects == data.train[d].subjects and len(data.train[d].subjects) == 3
    assert "no subject held out for validation (val_fraction 0, 3 subject(s))" in caplog.text


def test_files_are_indexed_without_reading_their_pixels(tmp_path):
    sim, real = write_hsi_folders(tmp_path, n_files=2, ext=".npy")
    data = prepare(sim, real, "hsi", val_fraction=0.0)
    s = data.train["sim"].subjects[0]
    assert s.spectra is None and s.images is None and s.shape == (8, 8)
    assert data.manifest["sim"][0]["pixels"] == 64


def _domain(subjects, bands=100):
    return DomainData("sim", HSI_WAVELENGTHS[:bands].copy(), subjects)


def test_batches_are_balanced_over_files_and_reproducible():
    rng = np.random.default_rng(0)
    big = array_subject("sim", np.ones((20_000, 100), np.float32), "hsi")
    small = array_subject("sim", rng.uniform(2, 3, (100, 100)).astype(np.float32), "hsi")
    real = array_subject("real", rng.uniform(0.1, 1, (500, 100)).astype(np.float32), "hsi")
    domains = {"sim": _domain([big, small]), "real": DomainData("real", HSI_WAVELENGTHS, [real])}
    ds = SpectraBatches(domains, batch_size=2000, samples_per_epoch=2000, seed=3)
    batch = ds[(0, 0)]
    share_big = float((batch["sim"][:, 0] == 1.0).float().mean())
    assert 0.45 < share_big < 0.55  # per file, not per pixel
    assert batch["sim"].shape == (2000, 100)
    np.testing.assert_array_equal(ds[(0, 0)]["real"], batch["real"])
    assert not np.array_equal(ds[(1, 0)]["real"], batch["real"])


def _labelled_cube(path: Path, seed=0, size=40):
    """A (100, size, size) .npy cube: class 1 on most pixels, class 2 on a few, 0 elsewhere."""
    from napari_cinn.io import SpectralImage, write_spectral

    rng = np.random.default_rng(seed)
    labels = np.ones((size, size), np.int32)
    labels[:4] = 2
    labels[-3:] = 0
    cube = rng.uniform(0.1, 1.0, (100, size, size)).astype(np.float32)
    cube[:, 10, 10] = 0  # unusable pixel
    write_spectral(path, SpectralImage(cube, HSI_WAVELENGTHS.copy(), labels))
    return cube, labels


def test_sample_file_caps_pixels_per_class_and_per_file(tmp_path, monkeypatch):
    cube, labels = _labelled_cube(tmp_path / "a.npy")
    monkeypatch.setattr(sampling_module, "CHUNK_BYTES", 100 * 4 * 40 * 3)  # 3 rows per read
    s = Subject(tmp_path / "a.npy", "a", "sim", shape=(40, 40), has_labels=True, background=False)
    x, y = sample_file(s, seed=1, per_file=150, per_class=100)
    assert len(x) == 150 and set(np.unique(y)) == {1, 2}
    assert max((y == c).sum() for c in (1, 2)) <= 100  # no class above its cap
    # every sample is a real, usable pixel of the file with its own label
    flat, lab = cube.reshape(100, -1).T, labels.ravel()
    rows = [int(np.flatnonzero((flat == v).all(1))[0]) for v in x]
    np.testing.assert_array_equal(lab[rows], y)
    assert len(set(rows)) == len(rows) and 10 * 40 + 10 not in rows
    # reproducible for one seed, different for another, whatever the chunk size
    monkeypatch.setattr(sampling_module, "CHUNK_BYTES", 8 << 20)
    x2, _ = sample_file(s, seed=1, per_file=150, per_class=100)
    x3, _ = sample_file(s, seed=2, per_file=150, per_class=100)
    np.testing.assert_array_equal(x, x2)
    assert {v.tobytes() for v in x} != {v.tobytes() for v in x3}


def test_pool_memory_is_bounded_by_the_setting_and_rebuilt_identically_on_resume(tmp_path):
    subjects = []
    for i in range(6):
        _labelled_cube(tmp_path / f"c{i}.npy", seed=i)
        subjects.append(Subject(tmp_path / f"c{i}.npy", f"c{i}", "sim", shape=(40, 40)))
    row = 100 * 4 + 8
    sp = Sampling(200, 0, 2 * 3 * 200 * row / 2**20, 1)  # room for 3 files per domain
    pool = EpochPool(subjects, sp, seed=5, bands=100)
    assert pool.size == 3 and pool.refresh == 1
    first = pool.at(0)
    assert len(first) == 3 and pool.nbytes() <= sp.memory_mb * 2**20 / 2
    for epoch in (1, 2, 3):
        pool.at(epoch)
        assert pool.nbytes() <= sp.memory_mb * 2**20 / 2
    assert pool.files_read == 3 + 3  # one new file per epoch after the first fill
    resumed = EpochPool(subjects, sp, seed=5, bands=100).at(3)  # a fresh process at epoch 3
    for (a, _), (b, _) in zip(pool.at(3), resumed, strict=True):
        np.testing.assert_array_equal(a, b)
    # over the epochs every file takes its turn
    seen = {pool.subject(t).subject for e in range(6) for t in pool.reads(e)}
    assert seen == {s.subject for s in subjects}


def test_ranks_sample_disjoint_files(tmp_path):
    subjects = [Subject(Path(f"f{i}.npy"), f"f{i}", "sim", shape=(4, 4)) for i in range(5)]
    a = EpochPool(subjects, Sampling(), 0, 100, rank=0, world=2)
    b = EpochPool(subjects, Sampling(), 0, 100, rank=1, world=2)
    assert {s.subject for s in a.files} & {s.subject for s in b.files} == set()
    assert len(a.files) + len(b.files) == 5


def test_file_digests_are_cached_by_path_size_and_mtime(tmp_path):
    sim, real = write_hsi_folders(tmp_path / "d", n_files=2, ext=".npy")
    cache = HashCache(tmp_path / "h.json")
    data = prepare(sim, real, "hsi", val_fraction=0.0, hashes=cache)
    assert cache.misses == 4 and cache.hits == 0
    again = HashCache(tmp_path / "h.json")
    data2 = prepare(sim, real, "hsi", val_fraction=0.0, hashes=again)
    assert again.hits == 4 and again.misses == 0 and data2.manifest == data.manifest
    f = sorted(sim.glob("*.npy"))[0]
    arr = np.load(f)
    np.save(f, arr * 2)  # new content: a new size or mtime means hashing again
    st = f.stat()
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    third = HashCache(tmp_path / "h.json")
    data3 = prepare(sim, real, "hsi", val_fraction=0.0, hashes=third)
    assert third.misses == 1
    entry = next(e for e in data3.manifest["sim"] if e["file"] == str(f))
    assert entry["sha256"] == file_sha256(f) != data.manifest["sim"][0]["sha256"]


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
