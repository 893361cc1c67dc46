"""The docks' logic without any GUI: plain napari layers in, layer-data tuples and messages out."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from napari.layers import Image, Labels

from napari_cinn.core.latent_health import latent_health
from napari_cinn.core.spectra import HSI_WAVELENGTHS, PAT_WAVELENGTHS
from napari_cinn.widgets._logic import compare, latent, models, spectra, transfer

WL = np.linspace(500, 995, 6)


def cube_layer(name, domain=None, shape=(6, 4, 5), wl=WL, seed=0):
    data = np.random.default_rng(seed).random(shape).astype(np.float32) + 0.5
    meta = {"wavelengths": wl} if wl is not None else {}
    if domain:
        meta["domain"] = domain
    return Image(data, name=name, metadata=meta)


def test_shipped_models_are_ordered_by_fit_with_the_reason():
    infos = models.read_infos(models.shipped_models())
    names = [p.name for p in infos]
    assert {"hsi_sample.safetensors", "pat_sample.safetensors"} <= set(names)
    pat = cube_layer("pat", "sim", shape=(16, 8, 8), wl=PAT_WAVELENGTHS)
    hsi = cube_layer("hsi", "sim", shape=(100, 8, 8), wl=HSI_WAVELENGTHS)
    for layer, first in ((pat, "pat_sample"), (hsi, "hsi_sample")):
        choices = models.order_for_layer(infos, layer)
        assert choices[0].path.stem == first and choices[0].fits
        other = next(c for c in choices if not c.fits)
        assert other.label().endswith("(does not fit)")
        assert other.reason.startswith("model expects")
    assert all(c.reason is None for c in models.order_for_layer(infos, None))


def test_transfer_result_layers_and_blocking_reasons():
    info = models.ModelInfo.read(models.shipped_models()[0])
    hsi = cube_layer("hsi_sim", "sim", shape=(100, 3, 3), wl=HSI_WAVELENGTHS)
    assert transfer.blocking_reason(None, hsi) == "choose a model file"
    assert transfer.blocking_reason(info, None) == transfer.NO_LAYER
    assert transfer.blocking_reason(info, hsi) is None
    short = cube_layer("short", shape=(6, 3, 3))
    assert "model expects 100 bands" in transfer.blocking_reason(info, short)
    req = transfer.TransferRequest.for_layer(info, hsi, "sim", "real", latent=True, likelihood=True)
    assert req.stages() == ("transfer", "latent code", "log-likelihood")
    out = np.ones((100, 3, 3), np.float32)
    result = transfer.TransferResult(req, out, HSI_WAVELENGTHS, out, np.zeros((3, 3)), 0.1, "cpu")
    (img, img_attrs, _), (lat, lat_attrs, _), (ll, ll_attrs, _) = transfer.result_layers(
        result, hsi
    )
    assert img_attrs["name"] == "hsi_sim [sim→real]"
    assert img_attrs["metadata"]["domain"] == "sim→real"
    assert img_attrs["axis_labels"] == ("λ", "y", "x")
    assert lat_attrs["metadata"]["domain"] == "sim" and "wavelengths" not in lat_attrs["metadata"]
    assert "domain" not in ll_attrs["metadata"] and ll_attrs["metadata"]["under_domain"] == "real"
    assert (
        transfer.domain_note(hsi, "real") is not None and transfer.domain_note(hsi, "sim") is None
    )


def test_class_maps_offered_checked_and_recorded_without_a_viewer():
    """A 10-class model (like the paper's cINN_DY): Labels of the cube's shape are offered, its
    own ``<name> labels`` first; a label ≥ 10 blocks Run with the reason; provenance records it."""
    info = models.ModelInfo(
        Path("dy.safetensors"), "hsi", HSI_WAVELENGTHS, ("sim", "real"), {"n_classes": 10}
    )
    assert info.n_classes == 10 and info.class_names == []
    hsi = cube_layer("hsi_sim", "sim", shape=(100, 4, 5), wl=HSI_WAVELENGTHS)
    own = Labels(np.arange(20).reshape(4, 5) % 10, name="hsi_sim labels")
    other, wrong = Labels(np.zeros((4, 5), int), name="mask"), Labels(np.zeros((5, 4), int))
    found = transfer.class_map_candidates([hsi, other, wrong, own], hsi)
    assert found == [other, own] and transfer.default_class_map(found, hsi) is own
    assert transfer.default_class_map([other], hsi) is None  # none of its own: uniform
    assert transfer.blocking_reason(info, hsi, class_map=own) is None
    own.data[0, 0] = 12
    assert transfer.blocking_reason(info, hsi, class_map=own) == (
        "class map 'hsi_sim labels' has class 12; the model knows 10 classes (0–9)"
    )
    assert "has class -1" in transfer.class_map_problem(10, Labels(-np.ones((4, 5), int)), hsi)
    own.data[0, 0] = 9
    req = transfer.TransferRequest.for_layer(info, hsi, "sim", "real", class_map=own)
    own.data[0, 0] = 0  # painting after Run changes nothing: the request holds a copy
    assert req.class_layer == "hsi_sim labels" and req.classes[0, 0] == 9
    result = transfer.TransferResult(req, hsi.data, HSI_WAVELENGTHS, None, None, 0.1, "cpu")
    prov = transfer.result_layers(result)[0][1]["metadata"]["provenance"]
    assert prov["class_map"] == "hsi_sim labels"
    req = transfer.TransferRequest.for_layer(info, hsi, "sim", "real")
    result = transfer.TransferResult(req, hsi.data, HSI_WAVELENGTHS, None, None, 0.1, "cpu")
    assert transfer.result_layers(result)[0][1]["metadata"]["provenance"]["class_map"] == "uniform"


def test_difference_maps_carry_no_domain_tag():
    a, b = cube_layer("sim→real", "sim→real", seed=1), cube_layer("sim", "sim", seed=2)
    (data, attrs, _), why = compare.difference_layer(a, b)
    assert why is None and "domain" not in attrs["metadata"]
    assert attrs["metadata"]["difference_of"] == ["sim→real", "sim"]
    np.testing.assert_allclose(data, a.data - b.data)
    diff_layer = Image(data, **attrs)
    assert latent.cloud_inputs({"d": diff_layer}, ["d"], "d", None)[0].domain is None
    none, why = compare.difference_layer(a, cube_layer("small", shape=(6, 2, 2)))
    assert none is None and "differ in shape" in why


def test_comparison_inputs_per_class_and_empty_region():
    layers = {n: cube_layer(n, n, seed=k) for k, n in enumerate(("sim", "real"))}
    organs = np.zeros((4, 5), int)
    organs[:2], organs[2:] = 1, 2
    inputs, why = compare.summary_inputs(layers, ["sim", "real"], "real", Labels(organs), 0)
    assert why is None and [i.name for i in inputs.items] == ["sim"]
    np.testing.assert_array_equal(inputs.labels, organs)
    _, why = compare.summary_inputs(layers, ["sim"], "real", Labels(np.zeros((4, 5), int)))
    assert "empty" in why


def test_spectra_under_a_click_without_a_viewer():
    a, b = cube_layer("a", seed=3), cube_layer("b", wl=None, seed=4)
    picked = spectra.curves_at([a, b], (0, 1, 2), spectra.NM)
    assert [c.layer for c in picked.curves] == ["a"] and "band index" in picked.notes
    np.testing.assert_array_equal(picked.curves[0].y, a.data[:, 1, 2])
    assert spectra.curves_at([b], (0, 1, 2), spectra.NM).band_axis_needed
    assert "outside" in spectra.curves_at([a], (0, 40, 2), spectra.NM).notes


def test_latent_health_in_words():
    rng = np.random.default_rng(0)
    healthy, thin = (
        latent_health(rng.normal(size=(500, 6))),
        latent_health(0.2 * rng.normal(size=(500, 6))),
    )

    from napari_cinn.core.clouds import Cloud

    class Res:  # the two fields health_text reads
        space = "latent"
        clouds = [
            Cloud("real", (), np.zeros((0, 2)), None, "real", healthy),
            Cloud("sim", (), np.zeros((0, 2)), None, "sim", thin, noisy=True),
        ]

    text = latent.health_text(Res())
    assert text.startswith("Not a shared latent space: sim (sim + noise)")
    assert re.search(r"real \(real\): median std (0\.9\d|1\.0\d)", text) and "fills N(0, 1)" in text
    assert "thin core" in text
    Res.clouds = Res.clouds[:1]
    assert latent.health_text(Res()).startswith("Shared latent space")
    assert "needs latent space" in latent.health_text(type("R", (), {"space": "data"})())
