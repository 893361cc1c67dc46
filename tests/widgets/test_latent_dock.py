"""Latent space dock: project layers, PCA on the reference, lasso paints pixels back."""

import numpy as np
import pytest

from napari_cinn.widgets.latent import DATA, SELECTION_NAME, LatentWidget

pytestmark = pytest.mark.gui

WL = np.linspace(500, 995, 8)


def two_tissue_cube(seed):
    """12×12 image: left half one tissue, right half another (well apart in spectral shape)."""
    rng = np.random.default_rng(seed)
    a = np.linspace(1, 2, 8)
    b = np.linspace(2, 1, 8)
    cube = np.empty((8, 12, 12), np.float32)
    cube[:, :, :6] = a[:, None, None]
    cube[:, :, 6:] = b[:, None, None]
    return cube * (1 + 0.02 * rng.standard_normal(cube.shape)).astype(np.float32)


@pytest.fixture
def dock(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.add_image(two_tissue_cube(0), name="sim", metadata={"wavelengths": WL, "domain": "sim"})
    viewer.add_image(
        two_tissue_cube(1) * 1.1, name="real", metadata={"wavelengths": WL, "domain": "real"}
    )
    widget = LatentWidget(viewer)
    viewer.window.add_dock_widget(widget)
    return viewer, widget


def run(qtbot, widget):
    worker = widget.compute()
    assert worker is not None, widget.status.text()
    qtbot.waitUntil(lambda: widget.job.worker is None, timeout=60000)
    assert widget.error is None, widget.error
    return widget.result


def test_defaults_reference_to_the_real_layer(dock):
    _, widget = dock
    assert widget.reference.currentText() == "real"
    assert widget.checked_layers() == ["sim", "real"]


def test_data_space_projection_and_lasso_paints_exactly_the_region(dock, qtbot):
    viewer, widget = dock
    widget.space.setCurrentText(DATA)
    widget.n_pixels.setValue(1000)
    res = run(qtbot, widget)
    assert [len(c.points) for c in res.clouds] == [144, 144]
    assert res.reference == "real"
    # the legend sits above the marginal plot, never over the contours
    widget.plot.draw()
    renderer = widget.plot.canvas.get_renderer()
    legend = widget.plot.legend.get_window_extent(renderer)
    assert legend.y0 >= widget.plot.ax_top.get_window_extent(renderer).y1 - 1
    assert widget.plot.ax.get_legend() is None
    # a polygon around the left-half pixels of both layers
    left = np.concatenate([c.points[c.index[1] < 6] for c in res.clouds])
    right = np.concatenate([c.points[c.index[1] >= 6] for c in res.clouds])
    lo, hi = left.min(axis=0), left.max(axis=0)
    pad = 0.05 * (hi - lo) + 1e-6
    box = [
        (lo[0] - pad[0], lo[1] - pad[1]),
        (hi[0] + pad[0], lo[1] - pad[1]),
        (hi[0] + pad[0], hi[1] + pad[1]),
        (lo[0] - pad[0], hi[1] + pad[1]),
    ]
    from napari_cinn.core.polygons import points_in_polygon

    assert not points_in_polygon(right, box).any()  # the two tissues are apart
    n = widget.select_polygon(box)
    labels = viewer.layers[SELECTION_NAME].data
    expected = np.zeros((12, 12), np.uint8)
    expected[:, :6] = 1
    np.testing.assert_array_equal(labels, expected)
    assert n == 72
    assert len(widget.plot.selected.get_offsets()) == 144
    np.testing.assert_allclose(
        np.asarray(widget.plot.outline.get_xydata())[[0, -1]], [box[0], box[0]]
    )
    # a second lasso replaces the selection; the active layer stays where it was
    assert viewer.layers.selection.active is not viewer.layers[SELECTION_NAME]
    widget.select_polygon([(1e6, 1e6), (1e6 + 1, 1e6), (1e6, 1e6 + 1)])
    assert viewer.layers[SELECTION_NAME].data.sum() == 0


def test_latent_space_with_tiny_model_marks_clicked_pixel(dock, qtbot):
    from napari_cinn.core import build_model
    from napari_cinn.core.clouds import features
    from napari_cinn.core.picking import gather_spectra

    viewer, widget = dock
    model = build_model("hsi", wavelengths=WL, domains=("sim", "real"), n_blocks=2, hidden=16)
    widget.set_model(model)
    widget.n_pixels.setValue(50)
    res = run(qtbot, widget)
    assert res.space == "latent"
    assert [len(c.points) for c in res.clouds] == [50, 50]
    ref = res.clouds[1]
    z = features(
        gather_spectra(viewer.layers["real"].data, ref.index),
        "latent",
        model=model,
        domain="real",
        wavelengths=WL,
    )
    np.testing.assert_allclose(res.pca.mean, z.mean(axis=0), rtol=1e-4, atol=1e-5)
    assert "PC1" in widget.plot.ax.get_xlabel() and "%" in widget.plot.ax.get_xlabel()
    assert widget.mark_pixel((0, 3, 4)) == 2
    assert widget.mark_pixel((0, 300, 4)) == 0  # outside: nothing marked, no error


def test_model_that_does_not_fit_is_explained(dock, qtbot, tmp_path):
    from napari_cinn.core import build_model, save_model

    viewer, widget = dock
    viewer.add_image(
        np.ones((16, 5, 5), np.float32),
        name="pat",
        metadata={"wavelengths": np.linspace(700, 850, 16), "domain": "sim"},
    )
    viewer.add_image(two_tissue_cube(3), name="nodomain", metadata={"wavelengths": WL})
    widget.set_checked(["sim", "real", "pat", "nodomain"])
    path = tmp_path / "m.safetensors"
    save_model(build_model("hsi", wavelengths=WL, n_blocks=2, hidden=16), path)
    assert widget.load_model(str(path))
    widget.n_pixels.setValue(20)
    res = run(qtbot, widget)
    assert [c.name for c in res.clouds] == ["sim", "real"]
    text = widget.status.text()
    assert "'pat' left out: model expects 8 bands" in text
    assert "'nodomain' left out" in text and "no domain" in text
    # the fallback condition brings the layer without a domain in
    widget.fallback.setCurrentText("real")
    res = run(qtbot, widget)
    assert [c.name for c in res.clouds] == ["sim", "real", "nodomain"]


def test_bad_model_file_and_missing_model(dock, tmp_path):
    _, widget = dock
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a model")
    assert not widget.load_model(str(bad))
    assert "Could not load bad.safetensors" in widget.status.text()
    assert widget.compute() is None
    assert "needs a model" in widget.status.text()


def test_too_few_points_fall_back_to_scatter(dock, qtbot):
    _, widget = dock
    widget.space.setCurrentText(DATA)
    widget.n_pixels.setValue(5)
    res = run(qtbot, widget)
    assert all(c.kde is None for c in res.clouds)
    assert "scatter" in widget.status.text()


def test_a_failing_projection_is_reported_and_the_dock_is_usable_again(dock, qtbot, monkeypatch):
    import napari_cinn.widgets.latent as latent

    def broken(*args, progress=None, **kwargs):
        progress(0, 2)
        raise ValueError("reference has no valid pixels")

    monkeypatch.setattr(latent, "project_clouds", broken)
    _, widget = dock
    widget.space.setCurrentText(DATA)
    assert widget.compute() is not None
    assert not widget.run_btn.isEnabled() and widget.cancel_btn.isEnabled()
    qtbot.waitUntil(lambda: widget.job.worker is None, timeout=60000)
    assert widget.status.text() == "Projection failed: reference has no valid pixels"
    assert widget.error == "reference has no valid pixels" and widget.result is None
    assert widget.run_btn.isEnabled() and not widget.cancel_btn.isEnabled()
    assert not widget.progress.isVisible()


def test_latent_health_tab_shows_each_domain_std_strip_and_verdict(dock, qtbot, tmp_path, perturb):
    """A user opens the Latent health tab after projecting: one std strip row per layer, one cell
    per latent dimension, and a sentence saying whether the domains share the latent space."""
    from napari_cinn.core import build_model
    from napari_cinn.core.clouds import features
    from napari_cinn.core.latent_health import latent_health
    from napari_cinn.core.picking import gather_spectra

    viewer, widget = dock
    model = build_model("hsi", wavelengths=WL, domains=("sim", "real"), n_blocks=2, hidden=16)
    model.fit_normalization(viewer.layers["sim"].data.reshape(8, -1).T, "sim")
    model.fit_normalization(viewer.layers["real"].data.reshape(8, -1).T, "real")
    widget.set_model(perturb(model))
    assert "Project layers in latent space" in widget.health_text.text()
    res = run(qtbot, widget)
    widget.tabs.setCurrentIndex(1)
    assert widget.tabs.tabText(1) == "Latent health"
    strip = widget.health_plot.image.get_array()
    assert strip.shape == (2, 8)  # two layers, eight latent dimensions
    ref = res.clouds[1]
    codes = features(
        gather_spectra(viewer.layers["real"].data, ref.index),
        "latent",
        model=widget.model,
        domain="real",
        wavelengths=WL,
    )
    np.testing.assert_allclose(ref.health.std, latent_health(codes).std, rtol=1e-4)
    np.testing.assert_allclose(strip[1], np.log2(ref.health.std), rtol=1e-5)
    labels = [t.get_text() for t in widget.health_plot.ax.get_yticklabels()]
    assert labels == ["sim", "real"]  # one row per layer; the domains are in the text
    text = widget.health_text.text()
    assert "sim (sim): median std" in text and "real (real): median std" in text
    assert "W2 to N(0, 1)" in text
    assert text.startswith(("Shared latent space", "Not a shared latent space"))
    healthy = all(c.health.healthy for c in res.clouds)
    assert text.startswith("Shared") == healthy
    widget.health_plot.draw()
    shot = tmp_path / "latent_health.png"
    assert widget.grab().save(str(shot)) and shot.stat().st_size > 5000
    # data space has no latent codes: the tab says what it needs
    widget.space.setCurrentText(DATA)
    run(qtbot, widget)
    assert "needs latent space" in widget.health_text.text()
    assert widget.health_plot.image is None


def sample_dock(make_napari_viewer, kind: str, n: int):
    """A viewer with the shipped ``kind`` ("hsi", "pat") sample images and model in the dock."""
    from pathlib import Path

    model_file = Path(__file__).parents[2] / "sample_data" / "models" / f"{kind}_sample.safetensors"
    viewer = make_napari_viewer()
    viewer.open_sample("napari-cinn", f"{kind}_sim")
    viewer.open_sample("napari-cinn", f"{kind}_real")
    widget = LatentWidget(viewer)
    viewer.window.add_dock_widget(widget)
    assert widget.load_model(str(model_file)), widget.status.text()
    widget.set_checked([f"{kind}_sim", f"{kind}_real"])
    widget.reference.setCurrentText(f"{kind}_real")
    widget.n_pixels.setValue(n)
    return viewer, widget


def test_model_noise_lets_the_shipped_simulation_fill_the_latent_and_off_shows_its_core(
    make_napari_viewer, qtbot
):
    """The shipped HSI model dequantises its noise-free simulation. With *model noise* on (the
    default) the sample sim cube is encoded as the transfer encodes it and fills N(0, 1) like the
    real one: plot and health agree. Off, its clean pixels sit in a thin core, and both say so."""
    from napari_cinn.core.clouds import features
    from napari_cinn.core.picking import gather_spectra

    viewer, widget = sample_dock(make_napari_viewer, "hsi", 2000)
    assert widget.noise.isChecked()
    res = run(qtbot, widget)
    sim, real = res.clouds
    assert sim.noisy and real.noisy  # (real gets the small augmentation noise of training)
    assert 0.9 <= sim.health.median_std <= 1.1 and 0.9 <= real.health.median_std <= 1.1
    assert widget.health_text.text().startswith("Shared latent space")
    legend = [t.get_text() for t in widget.plot.legend.get_texts()]
    assert legend == ["hsi_sim", "hsi_real (reference)"]
    assert "+ model noise" in widget.plot.legend.get_title().get_text()
    assert "hsi_sim (sim + noise)" in widget.health_text.text()
    assert "model's noise" in widget.status.text()
    # the plotted points are the codes of those pixels plus the seeded draw, and so is the star
    spectra = gather_spectra(viewer.layers["hsi_sim"].data, sim.index)
    wl = viewer.layers["hsi_sim"].metadata["wavelengths"]
    z = features(spectra, "latent", model=widget.model, domain="sim", wavelengths=wl,
                 with_source_noise=True)  # fmt: skip
    np.testing.assert_allclose(sim.points, res.pca.transform(z), rtol=1e-3, atol=1e-3)
    y, x = sim.index[0][0], sim.index[1][0]
    assert widget.mark_pixel((0, y, x)) == 2
    noisy_spread = sim.points.std(axis=0)
    # off: the clean simulation in a thin core of the latent, plot and health alike
    widget.noise.setChecked(False)
    res = run(qtbot, widget)
    sim, real = res.clouds
    assert not sim.noisy and sim.health.median_std < 0.6
    assert 0.9 <= real.health.median_std <= 1.1  # measured data carries its own noise
    assert widget.health_text.text().startswith("Not a shared latent space")
    assert (sim.points.std(axis=0) < 0.7 * noisy_spread).all()
    legend = [t.get_text() for t in widget.plot.legend.get_texts()]
    assert legend == ["hsi_sim", "hsi_real (reference)"]
    assert "noise" not in widget.plot.legend.get_title().get_text()


def test_an_image_model_encodes_whole_images_and_samples_their_codes(make_napari_viewer, qtbot):
    """The PAT model's latent is not per pixel: the dock encodes each whole image (as transfer
    and ``cinn-train evaluate`` do) and plots the sampled pixels' packed codes, so its health
    agrees with the evaluation's: the shipped model's sim (with its noise) and real fill N(0, 1)."""
    from napari_cinn.core.clouds import image_codes
    from napari_cinn.core.latent_health import latent_health
    from napari_cinn.core.picking import gather_spectra

    viewer, widget = sample_dock(make_napari_viewer, "pat", 3000)
    res = run(qtbot, widget)
    sim, real = res.clouds
    real_codes = image_codes(widget.model, viewer.layers["pat_real"].data, "real")
    z = gather_spectra(real_codes, real.index)
    np.testing.assert_allclose(real.health.std, latent_health(z).std, rtol=1e-4)
    np.testing.assert_allclose(real.points, res.pca.transform(z), rtol=1e-3, atol=1e-3)
    assert sim.noisy and 0.9 <= sim.health.median_std <= 1.1
    assert 0.9 <= real.health.median_std <= 1.1
    assert widget.health_text.text().startswith("Shared latent space")
    # the clicked pixel's star sits at that pixel's codes in the encoded image
    y, x = 40, 70
    assert widget.mark_pixel((0, y, x)) == 2
    want = res.pca.transform(real_codes[:, y, x][None])[0]
    from napari_cinn.widgets._logic import latent as L

    marks = dict(L.marks_at(res, {ly.name: ly for ly in viewer.layers}, (0, y, x), widget.model))
    np.testing.assert_allclose(marks[1], want, rtol=1e-5)
    # clean, the simulation shows its thin core here too
    widget.noise.setChecked(False)
    res = run(qtbot, widget)
    assert res.clouds[0].health.median_std < 0.6
