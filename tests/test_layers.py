"""The layer conventions every reader and dock shares (napari_cinn.layers)."""

from __future__ import annotations

import numpy as np
from napari.layers import Image, Labels

from napari_cinn import layers as C


def test_domain_tags_parse_and_format_one_way():
    assert C.parse_domain("sim") == C.DomainTag("sim")
    for tag in ("sim→real", "sim->real", " sim → real "):
        parsed = C.parse_domain(tag)
        assert (parsed.source, parsed.target, parsed.data_domain) == ("sim", "real", "real")
        assert str(parsed) == "sim→real" == C.format_domain("sim", "real")
    assert C.parse_domain("") is None and C.parse_domain(None) is None
    assert C.parse_domain("sim→") is None  # half a transfer is no domain


def test_layer_domain_and_measured_layers():
    real = Image(np.zeros((3, 4, 4)), metadata={"domain": "real"})
    moved = Image(np.zeros((3, 4, 4)), metadata={"domain": "sim→real"})
    plain = Image(np.zeros((3, 4, 4)))
    assert C.layer_domain(real) == C.layer_domain(moved) == "real"
    assert C.layer_domain(plain) is None
    assert C.is_measured(real, "real") and not C.is_measured(moved, "real")


def test_spectral_layers_and_their_wavelengths():
    cube = Image(np.zeros((3, 4, 4)), name="cube", metadata={"wavelengths": [500, 510, 520]})
    bad = Image(np.zeros((3, 4, 4)), name="bad", metadata={"wavelengths": [500, 510]})
    flat = Image(np.zeros((4, 4)), name="flat")
    rgb = Image(np.zeros((4, 4, 3)), name="rgb", rgb=True)
    labels = Labels(np.zeros((4, 4), int), name="labels")
    everything = [cube, bad, flat, rgb, labels]
    assert [ly.name for ly in C.spectral_layers(everything)] == ["cube", "bad"]
    assert [ly.name for ly in C.spectral_layers(everything, with_wavelengths=True)] == ["cube"]
    np.testing.assert_array_equal(C.layer_wavelengths(cube), [500, 510, 520])
    assert C.layer_wavelengths(bad) is None
    assert C.layer_named(everything, "rgb") is rgb and C.layer_named(everything, "x") is None


def test_layer_data_tuples_carry_the_conventions():
    cube = np.random.default_rng(0).random((4, 5, 6)).astype(np.float32)
    data, attrs, kind = C.spectral_layer_data(cube, "c", [1, 2, 3, 4], domain="sim")
    assert kind == "image" and attrs["axis_labels"] == ("λ", "y", "x")
    assert attrs["metadata"]["domain"] == "sim" and attrs["metadata"]["wavelengths"].size == 4
    lo, hi = attrs["contrast_limits"]
    assert cube.min() <= lo < hi <= cube.max()
    layer = Image(data, **attrs)
    assert C.is_spectral(layer) and C.layer_domain(layer) == "sim"
    _, map_attrs, _ = C.map_layer_data(cube[0] - 0.5, "m", colormap="PiYG")
    assert "domain" not in map_attrs["metadata"] and map_attrs["axis_labels"] == ("y", "x")
    assert C.robust_contrast_limits(cube - 0.5, symmetric=True)[0] < 0
    lab, lab_attrs, kind = C.labels_layer_data(np.ones((5, 6)), "l", {1: "liver"})
    assert kind == "labels" and lab.dtype.kind == "i"
    assert lab_attrs["features"]["name"] == ["", "liver"]
