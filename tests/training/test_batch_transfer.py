"""``cinn-train transfer``: a folder in, spectral files with wavelengths and provenance out; a
corrupt file is reported without losing the others; done files are skipped; realisations."""

from __future__ import annotations

import json

import numpy as np
import torch

from napari_cinn.core import build_model, load_model, save_model
from napari_cinn.core.spectra import HSI_WAVELENGTHS
from napari_cinn.io import SpectralImage, read_spectral, write_spectral
from napari_cinn_training.cli import main


def _study(folder, n=3):
    folder.mkdir()
    rng = np.random.default_rng(1)
    for i in range(n):
        cube = rng.uniform(0.2, 1.0, (100, 6, 5)).astype(np.float32)
        labels = rng.integers(0, 3, (6, 5)).astype(np.int32)
        ext = ".npy" if i == 0 else ".npz"
        write_spectral(folder / f"cube{i}{ext}", SpectralImage(cube, HSI_WAVELENGTHS, labels))
    (folder / "broken.dat").write_bytes(b"\x00\x00\x00\x05not a cube")
    return folder


def test_folder_with_a_corrupt_file_transfers_the_rest_and_says_which_failed(
    tmp_path, model_file, capsys
):
    study = _study(tmp_path / "study")
    out = tmp_path / "out"
    argv = ["transfer", "--model", str(model_file), "--direction", "sim→real", str(study)]
    argv += ["--out", str(out), "--device", "cpu", "--no-progress"]
    assert main(argv) == 1  # some failed
    err = capsys.readouterr().err
    assert "broken.dat" in err and "cube0" not in err
    for i in range(3):
        image = read_spectral(out / f"cube{i}.npz")
        source = read_spectral(study / f"cube{i}{'.npy' if i == 0 else '.npz'}")
        np.testing.assert_allclose(image.wavelengths, HSI_WAVELENGTHS)
        np.testing.assert_array_equal(image.labels, source.labels)
        assert image.shape == (100, 6, 5) and np.isfinite(image.data).all()
        assert not np.allclose(image.data, source.data)
        prov = json.loads((out / f"cube{i}.provenance.json").read_text())
        assert prov["direction"] == "sim→real" and prov["model"] == "tiny.safetensors"
        assert prov["device"] == "cpu" and len(prov["model_sha256"]) == 64
        assert image.metadata["domain"] == "sim→real"
    assert not (out / "broken.npz").exists()
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary leftovers

    # a second run skips what is done and redoes only the failure
    mtime = (out / "cube1.npz").stat().st_mtime_ns
    assert main(argv) == 1
    assert "0 transferred, 3 already done, 1 failed" in capsys.readouterr().out
    assert (out / "cube1.npz").stat().st_mtime_ns == mtime


def test_globs_formats_and_stochastic_realisations(tmp_path, model_file, capsys):
    study = _study(tmp_path / "study")
    out = tmp_path / "out"
    argv = ["transfer", "--model", str(model_file), "--direction", "sim->real"]
    argv += [str(study / "*.npz"), "--out", str(out), "--format", "hdr", "--no-progress"]
    argv += ["--samples", "2", "--seed", "7"]
    assert main(argv) == 0
    a, b = (read_spectral(out / f"cube1_s{k}.hdr") for k in (0, 1))
    assert not np.allclose(np.asarray(a.data), np.asarray(b.data))  # two realisations
    assert json.loads((out / "cube1_s1.provenance.json").read_text())["seed"] == 8
    again = np.asarray(a.data).copy()
    assert main([*argv, "--overwrite"]) == 0
    np.testing.assert_array_equal(np.asarray(read_spectral(out / "cube1_s0.hdr").data), again)


def test_usage_errors_exit_2_with_one_sentence(tmp_path, model_file, capsys):
    study = _study(tmp_path / "study")
    base = ["transfer", "--model", str(model_file), str(study), "--out", str(tmp_path / "o")]
    assert main([*base, "--direction", "sim→moon"]) == 2
    assert "the model knows domains ['sim', 'real']" in capsys.readouterr().err
    assert (
        main(
            ["transfer", "--model", str(tmp_path / "none.safetensors"), str(study)]
            + ["--out", str(tmp_path / "o"), "--direction", "sim→real"]
        )
        == 2
    )
    assert (
        main([*base[:3], str(tmp_path / "nothing*"), "--out", "o", "--direction", "sim→real"]) == 2
    )
    assert "no such file" in capsys.readouterr().err
    with torch.no_grad():  # a model that cannot sample refuses --samples before any work
        model = load_model(model_file)
        model.source_noise.zero_()
    deterministic = save_model(model, tmp_path / "det.safetensors")
    argv = ["transfer", "--model", str(deterministic), str(study), "--out", str(tmp_path / "o")]
    assert main([*argv, "--direction", "sim→real", "--samples", "2"]) == 2
    assert "transfers deterministically only" in capsys.readouterr().err
    assert main([*base, "--direction", "sim→real", "--row0", "20"]) == 2
    assert "is a hsi model; only PAT images have a depth" in capsys.readouterr().err


def test_pat_images_cut_below_the_probe_transfer_at_their_depth(tmp_path, perturb):
    """``--row0``: a PAT image that starts 40 rows below the probe is transferred as
    ``transfer_image(..., row0=40)`` does, and the provenance says so."""
    from napari_cinn.core import transfer_image
    from napari_cinn.core.spectra import PAT_WAVELENGTHS

    m = perturb(
        build_model("pat", n_scales=2, blocks_per_scale=[1, 1], hidden=8, depth_condition=32.0)
    )
    model = save_model(m, tmp_path / "depth.safetensors")
    cube = np.random.default_rng(2).uniform(0.1, 1.0, (16, 16, 16)).astype(np.float32)
    study = tmp_path / "study"
    study.mkdir()
    write_spectral(study / "cut.npz", SpectralImage(cube, PAT_WAVELENGTHS))
    argv = ["transfer", "--model", str(model), "--direction", "sim->real", str(study)]
    assert main([*argv, "--out", str(tmp_path / "o"), "--row0", "40", "--no-progress"]) == 0
    got = np.asarray(read_spectral(tmp_path / "o" / "cut.npz").data)
    want = transfer_image(load_model(model), cube, "sim", "real", device="cpu", row0=40)
    np.testing.assert_allclose(got, want, atol=1e-5)
    assert not np.allclose(got, transfer_image(load_model(model), cube, "sim", "real"), atol=1e-4)
    provenance = json.loads((tmp_path / "o" / "cut.provenance.json").read_text())
    assert provenance["row0"] == 40
