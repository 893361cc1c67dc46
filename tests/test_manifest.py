"""The npe2 manifest and the readers agree on one list of file types (``napari_cinn.io``)."""

from __future__ import annotations

from pathlib import Path

import yaml

import napari_cinn
from napari_cinn.io import READ_EXTENSIONS, WRITE_EXTENSIONS

MANIFEST = Path(napari_cinn.__file__).with_name("napari.yaml")


def test_reader_patterns_are_the_readable_extensions():
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))["contributions"]
    (reader,) = manifest["readers"]
    assert reader["filename_patterns"] == [f"*{ext}" for ext in READ_EXTENSIONS]
    for writer in manifest["writers"]:
        assert set(writer["filename_extensions"]) <= set(WRITE_EXTENSIONS)
