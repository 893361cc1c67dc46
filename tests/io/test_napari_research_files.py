"""A researcher opens other projects' files in napari: HeiPorSPECTRAL with its annotations, patato
frame stacks, the UDT-cINN paper's PAT npz, ENVI data files; and picks reader options in a dock."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.gui

DATA = Path(__file__).resolve().parents[1] / "data"
STAMP = "2021_04_15_09_22_02"
CUBE = DATA / "heiporspectral" / "subjects" / "P001" / STAMP / f"{STAMP}_SpecCube.dat"


def test_heiporspectral_cube_opens_with_named_annotation_labels(make_napari_viewer):
    viewer = make_napari_viewer()
    cube, labels = viewer.open(CUBE, plugin="napari-cinn")
    assert cube.data.shape == (100, 12, 16) and cube.metadata["subject"] == "P001"
    assert cube.metadata["annotator"] == "annotator1"
    assert labels._type_string == "labels"
    assert dict(zip(labels.features["index"], labels.features["name"], strict=True)) == {
        0: "",
        1: "liver",
        2: "spleen",
    }


def test_patato_stack_has_a_frame_axis_and_roi_labels(make_napari_viewer):
    viewer = make_napari_viewer()
    cube, labels = viewer.open(DATA / "patato_scan.hdf5", plugin="napari-cinn")
    assert cube.data.shape == (3, 2, 12, 16)
    assert tuple(viewer.dims.axis_labels) == ("λ", "frame", "y", "x")
    assert labels.data.shape == (2, 12, 16) and labels.metadata["label_names"] == {1: "artery_left"}
    viewer.dims.set_point(1, 0)
    assert np.asarray(cube.data[0, 0]).argmax() == 4 * 16 + 5


def test_udt_npz_brings_its_oxygenation_map_and_envi_data_files_open(make_napari_viewer):
    viewer = make_napari_viewer()
    layers = viewer.open(DATA / "udt_pat_0001.npz", plugin="napari-cinn")
    assert [lyr.name for lyr in layers] == [
        "udt_pat_0001",
        "udt_pat_0001 labels",
        "udt_pat_0001 oxygenation",
    ]
    assert layers[2].visible is False and layers[2].data.shape == (8, 12)
    (bil,) = viewer.open(DATA / "specim_scan.bil", plugin="napari-cinn")
    assert bil.data.shape == (3, 5, 7) and "ESRI" in bil.metadata["notes"][0]


def test_open_with_options_dock_chooses_the_simpa_field_and_annotator(make_napari_viewer):
    from napari_cinn.io._open_widget import OpenWithOptions

    viewer = make_napari_viewer()
    dock = OpenWithOptions(viewer)
    viewer.window.add_dock_widget(dock)
    dock.file.value = DATA / "simpa_forearm.hdf5"
    assert "initial_pressure" in dock.field.choices
    dock.field.value = "initial_pressure"
    dock.open_button.clicked.emit()
    assert viewer.layers[0].data.shape == (2, 10, 20)
    assert viewer.layers[0].metadata["field"] == "initial_pressure"
    dock.file.value = CUBE
    assert "annotator2" in dock.annotator.choices
    dock.annotator.value = "annotator2"
    dock.grid.value = "htc"
    dock.open_button.clicked.emit()
    assert viewer.layers[-1].metadata["label_names"] == {1: "spleen"}
    assert viewer.layers[-2].metadata["wavelengths"][-1] == 1000
    dock.file.value = DATA / "patato_scan.hdf5"
    dock.frame.value = 9
    dock.open_button.clicked.emit()
    assert "frame 9 out of range" in dock.status.value
