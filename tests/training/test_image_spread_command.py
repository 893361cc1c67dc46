"""``cinn-train image-spread``: measure on unlabelled folders, write a model file that draws one
whole-image factor per realisation; the harness then draws it image by image."""

from __future__ import annotations

import re

import numpy as np
import pytest

from napari_cinn.core import build_model, load_model, save_model, transfer_image
from napari_cinn.core.spectra import HSI_WAVELENGTHS
from napari_cinn.io import SpectralImage, write_spectral
from napari_cinn_training.cli import main
from napari_cinn_training.evaluate.methods import resolve_method
from napari_cinn_training.evaluate.sampling import Sample
from napari_cinn_training.evaluate.transfers import realisation_seed, transfer_draws
from napari_cinn_training.image_spread import fit_image_spread


def _folders(root, n=6):
    """sim: one tissue pattern; real: the same times a random spectral tilt per image."""
    rng = np.random.default_rng(1)
    t = np.linspace(-1, 1, 100)[:, None, None]
    for domain in ("sim", "real"):
        (root / domain).mkdir(parents=True)
        for i in range(n):
            cube = np.linspace(0.3, 0.9, 100)[:, None, None] * rng.uniform(0.5, 1.5, (1, 8, 8))
            if domain == "real":
                cube = cube * np.exp(rng.normal(0, 0.3) * t)
            image = SpectralImage(cube.astype(np.float32), HSI_WAVELENGTHS.copy())
            write_spectral(root / domain / f"{domain}_{i}.npz", image)
    return root / "sim", root / "real"


def test_fit_image_spread_measures_on_unlabelled_images(model_file):
    model = load_model(model_file)
    rng = np.random.default_rng(4)
    cube = np.linspace(0.3, 0.9, 100)[:, None, None] * rng.uniform(0.5, 1.5, (1, 16, 16))
    t = np.linspace(-1, 1, 100)[:, None, None]
    real = [cube * np.exp(rng.normal(0, 0.2) * t) for _ in range(12)]
    sim = [cube * rng.uniform(0.8, 1.2) for _ in range(12)]
    figures = fit_image_spread(model, sim, real)
    assert model.has_image_spread("real") and not model.has_image_spread("sim")
    assert figures["n_source_images"] == figures["n_target_images"] == 12
    assert figures["target_variance"] > 10 * figures["transferred_variance"]
    assert figures["added_variance"] == pytest.approx(
        figures["target_variance"] - figures["transferred_variance"], rel=0.1
    )
    with pytest.raises(ValueError, match="finite \\(100, 100\\)"):
        model.set_image_spread("real", np.ones((3, 3)))


def test_writes_a_model_that_draws_the_spread_and_keeps_everything_else(
    tmp_path, model_file, capsys
):
    sim, real = _folders(tmp_path / "data")
    out = tmp_path / "spread.safetensors"
    args = ["image-spread", str(model_file), "--sim", str(sim), "--real", str(real)]
    assert main([*args, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "real" in printed and "(6 images)" in printed and f"wrote {out}" in printed
    before, after = load_model(model_file), load_model(out)
    assert after.has_image_spread("real") and not before.has_image_spread("real")
    kept = {k: v for k, v in after.info["provenance"].items() if k != "image_spread"}
    assert kept == before.info["provenance"]  # the provenance it had, plus the spread's figures
    figures = after.info["provenance"]["image_spread"]
    assert figures["target_folder"] == "real" and figures["n_target_images"] == 6
    assert figures["added_variance"] > 0.5 * figures["target_variance"]
    for k, v in before.state_dict().items():  # the weights are the same
        if k != "image_spread":
            assert np.array_equal(v.numpy(), after.state_dict()[k].numpy()), k
    # an existing file is not replaced without --force
    assert main([*args, "--out", str(out)]) == 2
    assert "already exists; pass --force" in capsys.readouterr().err
    assert main([*args, "--out", str(out), "--force"]) == 0


def test_bad_input_is_one_sentence_and_writes_nothing(tmp_path, model_file, perturb, capsys):
    sim, real = _folders(tmp_path / "data", n=2)
    out = tmp_path / "out.safetensors"
    (tmp_path / "one").mkdir()
    write_spectral(
        tmp_path / "one" / "a.npz", SpectralImage(np.ones((100, 4, 4), "f4"), HSI_WAVELENGTHS)
    )
    pat = save_model(
        perturb(build_model("pat", n_scales=2, blocks_per_scale=[1, 1], hidden=8)),
        tmp_path / "pat.safetensors",
    )
    cases = [
        (
            [str(pat), "--sim", str(sim), "--real", str(real)],
            "PAT model; an image spread is measured for HSI",
        ),
        (
            [str(model_file), "--sim", str(tmp_path / "nope"), "--real", str(real)],
            "--sim folder .* does not exist",
        ),
        (
            [str(model_file), "--sim", str(sim), "--real", str(tmp_path / "one")],
            "holds one image; need two",
        ),
        (
            [str(model_file), "--sim", str(sim), "--real", str(real), "--tgt", "ct"],
            "domains \\['sim', 'real'\\], not 'ct'",
        ),
    ]
    for argv, message in cases:
        assert main(["image-spread", *argv, "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and re.search(message, err), err
        assert not out.exists()


def test_the_harness_draws_one_factor_per_image_and_realisation(tmp_path, model_file):
    sim, real = _folders(tmp_path / "data")
    out = tmp_path / "spread.safetensors"
    main(
        ["image-spread", str(model_file), "--sim", str(sim), "--real", str(real), "--out", str(out)]
    )
    rng = np.random.default_rng(2)
    sample = Sample(
        spectra=rng.uniform(0.2, 0.9, (40, 100)).astype(np.float32),
        labels=np.ones(40, int),
        image=np.repeat([0, 1, 2, 3], 10),
        pixel=np.tile(np.arange(10), 4),
    )

    method = resolve_method(str(out), "cpu")
    assert method.per_image_draws and not resolve_method(str(model_file), "cpu").per_image_draws
    draws = transfer_draws(method, [], sample, None, None, {}, {}, samples=2)
    plain = load_model(model_file)
    for k, draw in enumerate(draws):
        factors = []
        for i in range(4):  # image i of realisation k: the plain model's draw of the same seed
            rows = sample.image == i
            seed = realisation_seed(k) + i
            cube = sample.spectra[rows].T[:, :, None]
            ref = transfer_image(plain, cube, "sim", "real", sample=True, seed=seed, device="cpu")
            f = draw[rows] / ref[:, :, 0].T  # the same noise, times one factor for the image
            np.testing.assert_allclose(f, np.broadcast_to(f[:1], f.shape), rtol=1e-4)
            factors.append(f[0])
        assert not np.allclose(factors[0], factors[1], rtol=1e-3)  # another factor per image
