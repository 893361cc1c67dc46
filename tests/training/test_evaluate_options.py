"""`cinn-train evaluate` passes options to a method's fit, gives it --fit-pixels spectra, and the
table shows every classifier family and the fit time."""

from __future__ import annotations

import json

import numpy as np
from cinn_train_helpers import write_hsi_folders

from napari_cinn.core.spectra import HSI_WAVELENGTHS
from napari_cinn_training.cli import main


def _evaluate(sim, real, out, *extra):
    args = ["evaluate", "--sim", str(sim), "--real", str(real), "--pixels", "40"]
    args += ["--classifiers", "lda", "logreg", "--c2st-classifier", "logreg", "--seeds", "0", "1"]
    return main([*args, "--out", str(out), *extra])


def test_options_and_fit_pixels_reach_the_fit_and_the_report(tmp_path, capsys):
    sim, real = write_hsi_folders(tmp_path / "data", n_files=4)
    out = tmp_path / "emd"
    code = _evaluate(
        sim, real, out, "--method", "ot-emd", "--option", "n_samples=150", "--fit-pixels", "60"
    )
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["method"] == "ot-emd" and metrics["method_options"] == {"n_samples": 150}
    assert metrics["fit_pixels_per_image"] == 60
    assert len(metrics["fit_seconds"]["values"]) == 2
    # 4 sim images and 2 real-train subjects, 60 pixels each
    assert "n_fit_sim 240, n_fit_real 120" in capsys.readouterr().err
    assert set(metrics["by_classifier"]) == {"lda", "logreg"}

    assert main(["table", f"EMD={out}"]) == 0
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("| ")]
    assert lines[0].endswith("| gap closed (logreg) | fit s / seed |")
    assert len(lines[1].split(" | ")) == len(lines[0].split(" | "))


def test_a_wrong_option_is_an_error_naming_the_options_there_are(tmp_path, capsys):
    sim, real = write_hsi_folders(tmp_path / "data")
    assert _evaluate(sim, real, tmp_path / "r", "--method", "ot", "--budget", "10") == 1
    err = capsys.readouterr().err
    assert "method 'ot' has no option 'seconds'" in err and "n_samples" in err
    assert _evaluate(sim, real, tmp_path / "r", "--method", "ot", "--option", "kind") == 1
    assert "must look like KEY=VALUE" in capsys.readouterr().err


def test_an_envi_pair_is_one_subject(tmp_path):
    from napari_cinn_training.evaluate.data import load_folder

    sim, _ = write_hsi_folders(tmp_path / "data", n_files=3, ext=".hdr")
    assert sorted(p.suffix for p in sim.iterdir() if p.stem == "sim_00") == [".hdr", ".img"]
    images = load_folder(sim, "sim")
    assert [img.path.name for img in images] == ["sim_00.hdr", "sim_01.hdr", "sim_02.hdr"]


def _unlabelled_folder(folder, value: float, wavelengths):
    """Cubes without masks, every value ``value``: what a fit saw is plain to read back."""
    from napari_cinn.io import SpectralImage, write_spectral

    folder.mkdir(parents=True)
    for i in range(3):
        cube = np.full((wavelengths.size, 8, 8), value, np.float32)
        write_spectral(folder / f"u_{i}.npz", SpectralImage(cube, wavelengths.copy()))
    return folder


def test_fit_real_gives_a_baseline_the_same_real_data_as_the_model(tmp_path, capsys):
    """--fit-real: a baseline fits on the named (unlabelled) folder, not on the evaluation
    subjects' real-train half, and the report says which it was."""
    sim, real = write_hsi_folders(tmp_path / "data", n_files=4)
    seen = tmp_path / "seen.npy"
    py = tmp_path / "spy.py"
    py.write_text(
        "import numpy as np\n"
        "def fit(sim, real, out=''):\n"
        "    np.save(out, real)\n"
        "    return lambda x: x\n"
    )
    own = _unlabelled_folder(tmp_path / "own_real", 5.0, HSI_WAVELENGTHS)
    args = ("--method", str(py), "--option", f"out={seen}")
    assert _evaluate(sim, real, tmp_path / "r", *args, "--fit-real", str(own)) == 0
    fitted = np.load(seen)
    assert fitted.shape == (3 * 40, HSI_WAVELENGTHS.size) and np.all(fitted == 5.0)
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert metrics["fit_real"] == str(own)
    assert f"unlabelled real spectra of: {own}" in (tmp_path / "r" / "report.md").read_text()

    assert _evaluate(sim, real, tmp_path / "d", *args) == 0  # default: the split's real half
    assert not np.any(np.load(seen) == 5.0)
    default = json.loads((tmp_path / "d" / "metrics.json").read_text())
    assert default["fit_real"] == "real-train half of each split"

    other = _unlabelled_folder(tmp_path / "other", 1.0, HSI_WAVELENGTHS[:-1] + 1)
    capsys.readouterr()
    assert _evaluate(sim, real, tmp_path / "g", *args, "--fit-real", str(other)) == 1
    err = capsys.readouterr().err
    assert f"fit-real {other / 'u_0.npz'}" in err and "sim" in err
    assert not (tmp_path / "g").exists()  # nothing half-written


def test_several_real_folders_are_pooled_into_one_evaluation(tmp_path):
    """--real A B: the subjects of both folders, in that order, as if they lay in one folder."""
    import shutil

    sim, real_a = write_hsi_folders(tmp_path / "a", n_files=3, seed=0)
    _, real_b = write_hsi_folders(tmp_path / "b", n_files=3, seed=1)
    both = tmp_path / "both"
    both.mkdir()
    for i, f in enumerate([*sorted(real_a.iterdir()), *sorted(real_b.iterdir())]):
        shutil.copy(f, both / f"real_{i:02d}.npz")
    main_args = ["evaluate", "--sim", str(sim), "--pixels", "40", "--classifiers", "lda"]
    main_args += ["--c2st-classifier", "logreg", "--seeds", "0", "1", "--method", "ot"]
    assert main([*main_args, "--real", str(real_a), str(real_b), "--out", str(tmp_path / "p")]) == 0
    assert main([*main_args, "--real", str(both), "--out", str(tmp_path / "o")]) == 0
    pooled = json.loads((tmp_path / "p" / "metrics.json").read_text())
    one = json.loads((tmp_path / "o" / "metrics.json").read_text())
    assert pooled["n_real_subjects"] == one["n_real_subjects"] == 6
    assert pooled["real"] == f"{real_a}, {real_b}"
    for key in ("bacc_transfer", "bacc_real", "c2st_auc"):
        assert pooled[key]["values"] == one[key]["values"]
