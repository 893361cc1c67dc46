"""A researcher opens HeiPorSPECTRAL folders, SIMPA and patato PAT files and the UDT-cINN paper's
own files (fixtures in tests/data, see make_fixtures.py)."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from napari_cinn.io import SpectralFileError, read_spectral

DATA = Path(__file__).resolve().parents[1] / "data"
STAMP = "2021_04_15_09_22_02"
CUBE = DATA / "heiporspectral" / "subjects" / "P001" / STAMP / f"{STAMP}_SpecCube.dat"


def test_heiporspectral_cube_comes_with_annotations_and_subject():
    image = read_spectral(CUBE)
    assert image.shape == (100, 12, 16)
    assert image.metadata["subject"] == "P001"
    assert image.label_names == {1: "liver", 2: "spleen"}
    assert image.metadata["annotator"] == "annotator1"
    assert image.metadata["annotators"] == ["annotator1", "annotator2"]
    assert (image.labels == 2).sum() == 5 * 6 and (image.labels == 1).sum() == 5 * 6
    # the masks line up with the cube: the spleen pixels carry the spleen spectrum (peak ~760 nm)
    spleen = np.asarray(image.data)[:, image.labels == 2].mean(1)
    assert image.wavelengths[np.argmax(spleen)] == pytest.approx(760, abs=25)
    assert "project grid" in image.metadata["wavelength_grid"]


def test_the_user_chooses_the_annotator_and_the_htc_grid():
    image = read_spectral(CUBE, annotator="annotator2", grid="htc")
    assert image.label_names == {1: "spleen"}
    assert (image.labels == 1).sum() == 3 * 4
    assert image.wavelengths[-1] == 1000 and "htc" in image.metadata["wavelength_grid"]
    with pytest.raises(SpectralFileError, match="'annotator7' did not annotate"):
        read_spectral(CUBE, annotator="annotator7")
    assert read_spectral(CUBE, labels=False).labels is None


def test_overlapping_annotations_are_marked(tmp_path):
    import shutil

    from PIL import Image

    folder = tmp_path / "P002" / STAMP
    shutil.copytree(CUBE.parent, folder)
    mask = np.zeros((12, 16), dtype=bool)
    mask[5:8, 5:10] = True  # overlaps the spleen (rows 2-6, cols 2-7) and the liver (6-10, 9-14)
    Image.fromarray(mask).convert("1").save(
        folder / "annotations" / f"{STAMP}#polygon#annotator1#stomach#binary.png"
    )
    image = read_spectral(folder / CUBE.name)
    assert image.label_names[4] == "overlap"
    assert (image.labels == 4).sum() == 2 * 3 + 2 * 1  # spleen: rows 5-6 × cols 5-7; liver: 6-7 × 9
    assert image.metadata["subject"] == "P002"


def test_simpa_field_choice_resampled_segmentation_and_class_names():
    recon = read_spectral(DATA / "simpa_forearm.hdf5")
    assert recon.metadata["field"] == "reconstructed_data" and recon.shape == (2, 5, 10)
    assert recon.labels is not None and recon.labels.shape == (5, 10)  # resampled, not dropped
    assert "resampled" in recon.metadata["notes"][0]
    assert recon.label_names == {0: "air", 1: "muscle", 3: "blood"}
    p0 = read_spectral(DATA / "simpa_forearm.hdf5", field="initial_pressure")
    assert p0.shape == (2, 10, 20) and "notes" not in p0.metadata
    # depth runs down: the air layer (z < 2) is the top rows
    assert (p0.labels[:2] == 0).all() and (p0.labels[2:] != 0).all()
    assert np.asarray(p0.data)[1].max() == 2.0  # 800 nm, blood
    with pytest.raises(SpectralFileError, match="no SIMPA field 'oxygen'.*initial_pressure"):
        read_spectral(DATA / "simpa_forearm.hdf5", field="oxygen")


def test_simpa_3d_segmentation_of_a_2d_image_is_reported(tmp_path):
    path = tmp_path / "sim3d.hdf5"
    with h5py.File(path, "w") as fh:
        fh["simulations/reconstructed_data/700"] = np.ones((8, 4))
        fh["simulations/simulation_properties/seg"] = np.ones((16, 5, 8))  # (x, y, z)
    image = read_spectral(path)
    assert image.labels is not None and image.labels.shape == (4, 8)
    assert "central y plane" in image.metadata["notes"][0]
    with h5py.File(path, "a") as fh:
        del fh["simulations/simulation_properties/seg"]
        fh["simulations/simulation_properties/seg"] = np.ones((16, 20))  # another aspect
    image = read_spectral(path)
    assert image.labels is None and "labels left out" in image.metadata["notes"][0]


def test_patato_frames_as_a_stack_or_one_frame_with_rois():
    stack = read_spectral(DATA / "patato_scan.hdf5")
    assert stack.shape == (3, 2, 12, 16)  # (wavelengths, frame, y, x)
    assert stack.metadata["axis_labels"] == ["λ", "frame", "y", "x"]
    assert stack.wavelengths.tolist() == [700, 750, 800]
    cube = np.asarray(stack.data)
    assert np.allclose(cube[:, 1] - cube[:, 0], 1.0)  # frame f adds f in the fixture
    assert stack.label_names == {1: "artery_left"}
    assert stack.labels[0].sum() > 0 and stack.labels[1].sum() == 0  # ROI at z=0: frame 0 only
    one = read_spectral(DATA / "patato_scan.hdf5", frame=0)
    assert one.shape == (3, 12, 16) and one.metadata["frame"] == 0
    # the ROI square x∈[-5, -1] mm, y∈[-4, 0] mm covers the blob at row 4, column 5
    assert one.labels[4, 5] == 1 and one.labels[10, 12] == 0
    assert np.argmax(np.asarray(one.data)[0]) == 4 * 16 + 5
    assert np.array_equal(np.asarray(one.data), cube[:, 0])
    with pytest.raises(SpectralFileError, match="frame 5 out of range"):
        read_spectral(DATA / "patato_scan.hdf5", frame=5)
    with pytest.raises(SpectralFileError, match="no reconstruction 'Model Based'"):
        read_spectral(DATA / "patato_scan.hdf5", recon="Model Based")
    with pytest.raises(SpectralFileError, match="option field does not apply to a patato"):
        read_spectral(DATA / "patato_scan.hdf5", field="initial_pressure")


def test_patato_file_without_reconstructions_says_so(tmp_path):
    path = tmp_path / "raw_only.hdf5"
    with h5py.File(path, "w") as fh:
        fh["raw_data"] = np.zeros((1, 2, 4, 8), dtype=np.uint16)
        fh["wavelengths"] = [700.0, 800.0]
    with pytest.raises(SpectralFileError, match="no reconstructions .* reconstruct it in patato"):
        read_spectral(path)


def test_udt_paper_pat_npz_and_hsi_spectra_table():
    pat = read_spectral(DATA / "udt_pat_0001.npz")
    assert pat.shape == (16, 8, 12) and pat.wavelengths[0] == 700 and pat.wavelengths[-1] == 850
    assert pat.labels.sum() == 12 and set(pat.extras) == {"oxygenation"}
    assert pat.extras["oxygenation"].max() == pytest.approx(0.95)
    table = read_spectral(DATA / f"P001#{STAMP}.npy")
    raw = np.load(DATA / f"P001#{STAMP}.npy")
    assert table.shape == (100, 1, 30)
    assert np.array_equal(np.asarray(table.data)[:, 0, :], raw.T)
    assert table.metadata["subject"] == "P001"
    assert table.label_names == {3: "bladder", 17: "liver", 29: "spleen"}


def test_options_that_do_not_apply_are_refused():
    with pytest.raises(SpectralFileError, match="option.* annotator do not apply"):
        read_spectral(DATA / "envi_cube.hdr", annotator="annotator1")
