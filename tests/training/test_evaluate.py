"""cinn-train evaluate: report folder, method registry, and clear errors for bad input."""

import json
import shutil

import numpy as np
import pytest

from napari_cinn_training.cli import main
from napari_cinn_training.evaluate import EvaluationError, evaluate, resolve_method
from napari_cinn_training.evaluate.data import load_folder


@pytest.fixture(scope="module")
def pat_folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("pat")
    for domain in ("sim", "real"):
        assert (
            main(
                [
                    "simulate",
                    "pat",
                    "--subjects",
                    "4",
                    "--domain",
                    domain,
                    "--size",
                    "64",
                    "--out",
                    str(root / domain),
                ]
            )
            == 0
        )
    return root


def _copy(src, dst):
    shutil.copytree(src, dst)
    return dst


def test_evaluate_none_and_moment_matching_write_reports(pat_folders, tmp_path, capsys):
    for method in ("none", "moment-matching"):
        out = tmp_path / method
        assert (
            main(
                [
                    "evaluate",
                    "--sim",
                    str(pat_folders / "sim"),
                    "--real",
                    str(pat_folders / "real"),
                    "--method",
                    method,
                    "--seeds",
                    "0",
                    "1",
                    "--pixels",
                    "40",
                    "--classifiers",
                    "lda",
                    "--c2st-classifier",
                    "logreg",
                    "--out",
                    str(out),
                ]
            )
            == 0
        )
        metrics = json.loads((out / "metrics.json").read_text())
        for key in (
            "bacc_sim",
            "bacc_transfer",
            "bacc_real",
            "gap_closed",
            "c2st_auc",
            "c2st_auc_real_real",
            "mmd",
            "auroc_real",
            "frechet",
        ):
            assert set(metrics[key]) == {"mean", "std", "values"}, key
            assert len(metrics[key]["values"]) == 2
        assert "| balanced accuracy, trained on sim |" in (out / "report.md").read_text()
        for png in ("pca_kde.png", "difference_violins.png", "mean_spectra.png"):
            assert (out / png).read_bytes()[:4] == b"\x89PNG"
        if method == "none":
            assert metrics["bacc_transfer"]["mean"] == metrics["bacc_sim"]["mean"]
            assert metrics["gap_closed"]["mean"] == 0
            # real subjects against other real subjects: the floor, below untransferred sim
            floor = metrics["c2st_auc_real_real"]["mean"]
            assert 0.4 < floor < metrics["c2st_auc"]["mean"]
            assert "the floor for transferred" in (out / "report.md").read_text()
    assert "gap closed" in capsys.readouterr().out
    # a second run refuses to overwrite the report
    assert (
        main(
            [
                "evaluate",
                "--sim",
                str(pat_folders / "sim"),
                "--real",
                str(pat_folders / "real"),
                "--out",
                str(tmp_path / "none"),
            ]
        )
        == 1
    )


def test_evaluate_is_deterministic(pat_folders):
    kw = dict(seeds=(3,), pixels_per_image=30, classifiers=("lda",), c2st_classifier="logreg")
    a, _ = evaluate(pat_folders / "sim", pat_folders / "real", "moment-matching", **kw)
    b, _ = evaluate(pat_folders / "sim", pat_folders / "real", "moment-matching", **kw)
    assert a["bacc_transfer"] == b["bacc_transfer"] and a["c2st_auc"] == b["c2st_auc"]


def test_methods_registry_and_baseline_files(tmp_path):
    assert resolve_method("none").fit is not None
    assert resolve_method("moment_matching").name == "moment_matching"  # module discovery
    assert resolve_method("napari_cinn_training.baselines.moment_matching:fit").fit is not None
    py = tmp_path / "double.py"
    py.write_text("def fit(sim, real):\n    return lambda x: 2 * x\n")
    transform = resolve_method(str(py)).fit(np.ones((3, 2)), np.ones((3, 2)))
    assert transform(np.ones((1, 2))).tolist() == [[2.0, 2.0]]
    with pytest.raises(EvaluationError, match="unknown method 'magic'.*moment-matching"):
        resolve_method("magic")
    with pytest.raises(EvaluationError, match="does not exist"):
        resolve_method(str(tmp_path / "missing.safetensors"))


def test_moment_matching_matches_band_moments():
    from napari_cinn_training.baselines.moment_matching import fit

    rng = np.random.default_rng(0)
    sim = rng.normal(0, 1, (500, 4))
    real = rng.normal(3, 2, (500, 4))
    out = fit(sim, real)(sim)
    np.testing.assert_allclose(out.mean(0), real.mean(0), atol=1e-5)
    np.testing.assert_allclose(out.std(0), real.std(0), rtol=1e-4)


def test_folder_without_readable_files(tmp_path):
    (tmp_path / "notes.txt").write_text("nothing here")
    with pytest.raises(EvaluationError, match=f"{tmp_path}.*no readable spectral images"):
        load_folder(tmp_path, "sim")


def test_label_shape_mismatch_names_the_file(pat_folders, tmp_path):
    folder = _copy(pat_folders / "real", tmp_path / "real")
    bad = folder / "pat_real_001.npz"
    with np.load(bad) as f:
        content = dict(f)
    content["labels"] = content["labels"][:10]
    np.savez(bad, **content)
    with pytest.raises(EvaluationError, match=r"pat_real_001\.npz: .*label.* shape \(10, 64\)"):
        load_folder(folder)


def test_class_missing_in_real(pat_folders, tmp_path):
    folder = _copy(pat_folders / "real", tmp_path / "real")
    for path in folder.glob("*.npz"):
        with np.load(path) as f:
            content = dict(f)
        content["labels"] = np.where(content["labels"] == 2, 0, content["labels"])
        np.savez(path, **content)
    with pytest.raises(EvaluationError, match=r"class\(es\) 2 \(vein\).*absent"):
        evaluate(pat_folders / "sim", folder, seeds=(0,))


def test_wavelength_grid_mismatch(pat_folders, tmp_path):
    folder = _copy(pat_folders / "real", tmp_path / "real")
    for path in folder.glob("*.npz"):
        with np.load(path) as f:
            content = dict(f)
        content["wavelengths"] = content["wavelengths"] + 20
        np.savez(path, **content)
    with pytest.raises(
        EvaluationError, match="wavelength grids differ.*16 bands 700–850 nm.*16 bands 720–870 nm"
    ):
        evaluate(pat_folders / "sim", folder, seeds=(0,))


@pytest.mark.slow
def test_model_file_method(tmp_path):
    """A (tiny, untrained) cINN model file plugs into the harness through transfer_image."""
    from napari_cinn.core import build_model, save_model

    for domain in ("sim", "real"):
        assert (
            main(
                [
                    "simulate",
                    "hsi",
                    "--subjects",
                    "3",
                    "--domain",
                    domain,
                    "--size",
                    "16",
                    "--out",
                    str(tmp_path / domain),
                ]
            )
            == 0
        )
    model = build_model("hsi", n_blocks=2, hidden=16)
    for domain in ("sim", "real"):
        x = np.concatenate([im.data.reshape(100, -1).T for im in load_folder(tmp_path / domain)])
        model.fit_normalization(x, domain)
    path = save_model(model, tmp_path / "tiny.safetensors")
    metrics, arrays = evaluate(
        tmp_path / "sim",
        tmp_path / "real",
        str(path),
        seeds=(0,),
        pixels_per_image=30,
        classifiers=("lda",),
        c2st_classifier="logreg",
        device="cpu",
    )
    assert metrics["method"] == "tiny.safetensors"
    assert np.isfinite(arrays["transfer"][0]).all()
    assert 0 <= metrics["bacc_transfer"]["mean"] <= 1


def test_pat_unit_fit_export_then_evaluate(pat_folders, tmp_path):
    """UNIT for PAT images goes through the same CLI as the cINN and is scored as an image method."""
    from cinn_train_helpers import tiny_config, write_config

    from napari_cinn_training.baselines.unit import load_unit

    cfg = tiny_config(
        pat_folders / "sim",
        pat_folders / "real",
        tmp_path / "run",
        method="unit",
        modality="pat",
        unit={"hidden": 8, "latent": 4},
        data={
            "batch_size": 2,
            "samples_per_epoch": 4,
            "val_samples": 2,
            "crop": 32,
            "val_fraction": 0.25,
        },
    )
    assert main(["fit", "--config", str(write_config(tmp_path / "unit.yaml", cfg))]) == 0
    path = tmp_path / "unit_pat.safetensors"
    assert (
        main(["export", str(tmp_path / "run" / "checkpoints" / "last.ckpt"), "--out", str(path)])
        == 0
    )
    assert load_unit(path).modality == "pat"

    method = resolve_method(str(path))
    assert not method.per_pixel and "UNIT" in method.description
    odd = np.random.default_rng(0).uniform(0.1, 1.0, (16, 33, 31)).astype(np.float32)
    out = method.image_transform(odd)  # odd sizes are padded for the stride-2 nets, then cropped
    assert out.shape == odd.shape and np.isfinite(out).all()

    metrics, arrays = evaluate(
        pat_folders / "sim",
        pat_folders / "real",
        str(path),
        seeds=(0,),
        pixels_per_image=30,
        classifiers=("lda",),
        c2st_classifier="logreg",
    )
    assert metrics["method"] == "unit_pat.safetensors"
    assert np.isfinite(arrays["transfer"][0]).all()
    # a UNIT transfer changes the spectra (it is not the identity)
    assert not np.allclose(arrays["transfer"][0], arrays["sim"][0])


def test_table_pools_reports_of_several_runs(pat_folders, tmp_path, capsys):
    """`cinn-train table` pools training runs: mean ± std over every per-seed value of every report."""
    args = [
        "--sim",
        str(pat_folders / "sim"),
        "--real",
        str(pat_folders / "real"),
        "--pixels",
        "30",
        "--classifiers",
        "lda",
        "--c2st-classifier",
        "logreg",
    ]
    for name, method, seeds in (
        ("mm_s0", "moment-matching", ["0", "1"]),
        ("mm_s1", "moment-matching", ["2", "3"]),
        ("none", "none", ["0"]),
    ):
        assert (
            main(
                [
                    "evaluate",
                    *args,
                    "--method",
                    method,
                    "--seeds",
                    *seeds,
                    "--out",
                    str(tmp_path / name),
                ]
            )
            == 0
        )
    capsys.readouterr()
    out = tmp_path / "table.md"
    assert (
        main(["table", f"none={tmp_path / 'none'}", f"MM={tmp_path / 'mm_s*'}", "--out", str(out)])
        == 0
    )
    rows = {
        line.split(" | ")[0].strip("| "): line.split(" | ")
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("| ")
    }
    gaps = [
        v
        for run in ("mm_s0", "mm_s1")
        for v in json.loads((tmp_path / run / "metrics.json").read_text())["gap_closed"]["values"]
    ]
    assert rows["MM"][1] == "2 × 2"
    floor = json.loads((tmp_path / "none" / "metrics.json").read_text())["c2st_auc_real_real"]
    assert f"other real subjects (the floor): {floor['mean']:.3f} ± 0.000" in out.read_text()
    assert rows["MM"][3].startswith(f"{np.mean(gaps):.3f} ± {np.std(gaps):.3f} (runs ")
    assert rows["none"][3] == "0.000 ± 0.000"
    assert out.read_text().startswith("| method | n |")
    # no silent overwrite of the table, and a pattern that matches nothing is named
    assert main(["table", f"MM={tmp_path / 'mm_s*'}", "--out", str(out)]) == 1
    assert main(["table", f"UNIT={tmp_path / 'unit_*'}"]) == 1
    assert "unit_*" in capsys.readouterr().err


def test_a_model_that_samples_is_scored_on_several_realisations_with_latent_health(tmp_path):
    """--samples 3: the transfer classifier sees 3 realisations; latent health is reported."""
    import torch

    from napari_cinn.core import build_model, save_model

    for domain in ("sim", "real"):
        assert main(["simulate", "hsi", "--subjects", "2", "--domain", domain, "--size", "16",
                     "--out", str(tmp_path / domain)]) == 0  # fmt: skip
    model = build_model("hsi", n_blocks=2, hidden=16)
    for domain in ("sim", "real"):
        x = np.concatenate([im.data.reshape(100, -1).T for im in load_folder(tmp_path / domain)])
        model.fit_normalization(x, domain)
    with torch.no_grad():
        model.source_noise[0] = 0.003
    path = save_model(model, tmp_path / "noisy.safetensors")
    kwargs = dict(seeds=(0,), pixels_per_image=30, classifiers=("lda",), device="cpu",
                  c2st_classifier="logreg")  # fmt: skip
    metrics, arrays = evaluate(tmp_path / "sim", tmp_path / "real", str(path), samples=3, **kwargs)
    det, _ = evaluate(tmp_path / "sim", tmp_path / "real", str(path), **kwargs)
    assert metrics["realisations"] == 3 and det["realisations"] == 1
    assert metrics["mmd"]["mean"] != det["mmd"]["mean"]  # the first realisation is not the mean
    for key in ("latent_std_sim", "latent_std_sim_clean", "latent_std_real", "latent_w2_sim"):
        assert np.isfinite(metrics[key]["mean"]), key
    assert set(arrays["latent_std"]) == {"sim", "real", "sim (clean)"}


def test_a_pat_model_gets_latent_health_from_whole_images(pat_folders, tmp_path):
    """PAT model files: the report shows each domain's latent health too (codes of whole images,
    one dimension per latent channel), and a domain that the model squeezes reads as such."""
    import torch

    from napari_cinn.core import build_model, save_model

    model = build_model("pat", n_scales=2, blocks_per_scale=[1, 1], hidden=8)
    for domain in ("sim", "real"):
        images = np.stack([im.data for im in load_folder(pat_folders / domain)])
        model.fit_normalization(images, domain)
    with torch.no_grad():  # squeeze real: its standardised codes shrink tenfold
        model.norm_std[1] *= 10
    path = save_model(model, tmp_path / "pat.safetensors")
    metrics, arrays = evaluate(
        pat_folders / "sim", pat_folders / "real", str(path), seeds=(0,), pixels_per_image=30,
        classifiers=("lda",), device="cpu", c2st_classifier="logreg",
    )  # fmt: skip
    sim, real = metrics["latent_std_sim"]["mean"], metrics["latent_std_real"]["mean"]
    assert np.isfinite(sim) and np.isfinite(real)
    assert real < 0.2 * sim  # the squeezed domain is visible at a glance
    assert set(arrays["latent_std"]) == {"sim", "real"}
    assert len(arrays["latent_std"]["real"]) == 16  # one per latent channel


def test_a_baseline_file_whose_draws_lose_a_band_is_refused_by_name(pat_folders, tmp_path):
    """A user's stochastic baseline is checked per realisation, like the deterministic one."""
    py = tmp_path / "lossy.py"
    py.write_text(
        "class Lossy:\n"
        "    stochastic = True\n"
        "    def __call__(self, x):\n"
        "        return x\n"
        "    def sample(self, x, seed):\n"
        "        return x if seed == 7919 else x[:, :-1]\n"
        "def fit(sim, real):\n"
        "    return Lossy()\n"
    )
    kw = dict(seeds=(0,), pixels_per_image=20, classifiers=("lda",), c2st_classifier="logreg")
    a, _ = evaluate(pat_folders / "sim", pat_folders / "real", str(py), **kw)  # deterministic
    assert a["bacc_transfer"] == a["bacc_sim"]
    with pytest.raises(
        EvaluationError, match=r"lossy returned shape \(\d+, 15\) \(realisation 1\)"
    ):
        evaluate(pat_folders / "sim", pat_folders / "real", str(py), samples=2, **kw)
