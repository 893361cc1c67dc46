"""A researcher points ``cinn-train fit`` at a HeiPorSPECTRAL folder as it comes and trains."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
from cinn_train_helpers import tiny_config, write_config, write_hsi_folders

from napari_cinn_training.cli import main
from napari_cinn_training.data import list_files, load_domain

DATA = Path(__file__).resolve().parents[1] / "data" / "heiporspectral"
STAMP = "2021_04_15_09_22_02"


def _heiporspectral(root: Path, subjects=("P001", "P002", "P003")) -> Path:
    """A real-domain folder in the HeiPorSPECTRAL layout, one image per subject."""
    src = DATA / "subjects" / "P001" / STAMP
    for i, subject in enumerate(subjects):
        shutil.copytree(src, root / "subjects" / subject / STAMP)
        if i:  # a little different per subject
            cube = root / "subjects" / subject / STAMP / f"{STAMP}_SpecCube.dat"
            raw = np.fromfile(cube, dtype=">f4")
            raw[3:] *= 1.0 + 0.05 * i
            raw.tofile(cube)
    return root


def test_the_nested_layout_is_found_and_subjects_come_from_folders(tmp_path):
    real = _heiporspectral(tmp_path / "heipor")
    files = list_files(real, "real")
    assert [f.parts[-3] for f in files] == ["P001", "P002", "P003"]
    data = load_domain(real, "real", "hsi", with_labels=False)
    assert [s.subject for s in data.subjects] == ["P001", "P002", "P003"]
    assert all(s.labels is None for s in data.subjects)  # real annotations never reach training
    assert data.spectra().shape == (3 * 12 * 16, 100)


def test_fit_runs_unchanged_on_a_heiporspectral_real_folder(tmp_path):
    sim, _ = write_hsi_folders(tmp_path / "data")
    real = _heiporspectral(tmp_path / "heipor")
    cfg = tiny_config(sim, real, tmp_path / "run")
    assert main(["fit", "--config", str(write_config(tmp_path / "c.yaml", cfg))]) == 0
    assert any((tmp_path / "run").rglob("*.ckpt"))
