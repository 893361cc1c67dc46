"""The numbers behind the Spectra, Latent space and Compare docks, without any GUI: picking, ROI
statistics, PCA, densities, polygons, differences, latent clouds, comparison, CSV export."""

import numpy as np
import pytest

from napari_cinn.core import (
    clouds,
    comparison,
    density,
    differences,
    picking,
    polygons,
    roi,
)
from napari_cinn.core.jobs import JobCancelled
from napari_cinn.core.pca import PCAProjection
from napari_cinn.io import spectra_csv


@pytest.fixture
def cube():
    rng = np.random.default_rng(1)
    c = rng.random((7, 5, 6)).astype(np.float32) + 0.1
    c[:, 0, 0] = 0.0  # an empty pixel
    c[3, 1, 1] = np.nan  # a broken pixel
    return c


def test_spectrum_at_reads_one_pixel_and_refuses_outside(cube):
    np.testing.assert_array_equal(picking.spectrum_at(cube, (2, 3)), cube[:, 2, 3])
    assert picking.spectrum_at(cube, (5, 0)) is None
    assert picking.spectrum_at(cube, (-1, 0)) is None
    assert picking.spectrum_at(cube, (1,)) is None


def test_sample_valid_pixels_skips_empty_and_nan(cube):
    ys, xs = picking.sample_valid_pixels(cube, 1000)
    assert len(ys) == 5 * 6 - 2
    assert (0, 0) not in set(zip(ys, xs, strict=True)) and (1, 1) not in set(
        zip(ys, xs, strict=True)
    )
    ys2, xs2 = picking.sample_valid_pixels(cube, 10, seed=3)
    assert len(ys2) == 10
    again = picking.sample_valid_pixels(cube, 10, seed=3)
    np.testing.assert_array_equal(ys2, again[0])
    spectra = picking.gather_spectra(cube, (ys2, xs2))
    assert spectra.shape == (10, 7)
    np.testing.assert_array_equal(spectra[0], cube[:, ys2[0], xs2[0]])


def test_sample_inside_mask_only(cube):
    mask = np.zeros((5, 6), bool)
    mask[3:, 4:] = True
    ys, xs = picking.sample_valid_pixels(cube, 100, mask=mask)
    assert len(ys) == 4 and np.all(ys >= 3) and np.all(xs >= 4)


def test_roi_stats_equal_numpy(cube):
    mask = np.zeros((5, 6), bool)
    mask[2:4, 1:5] = True
    st = roi.roi_stats(cube, mask)
    sel = cube[:, mask]
    np.testing.assert_allclose(st.mean, sel.mean(axis=1), rtol=1e-6)
    np.testing.assert_allclose(st.std, sel.std(axis=1), rtol=1e-5)
    assert st.n == mask.sum()
    l1 = roi.roi_stats(cube, mask, norm="l1")
    np.testing.assert_allclose(l1.mean, (sel / sel.sum(axis=0)).mean(axis=1), rtol=1e-5)
    empty = roi.roi_stats(cube, np.zeros((5, 6), bool))
    assert empty.n == 0 and np.isnan(empty.mean).all()
    with pytest.raises(ValueError, match="does not match"):
        roi.roi_stats(cube, np.ones((2, 2), bool))


def test_pca_fitted_on_reference_only():
    rng = np.random.default_rng(0)
    ref = rng.normal(size=(500, 5)) * np.array([5.0, 1.0, 0.1, 0.1, 0.1])
    other = rng.normal(size=(300, 5)) * np.array([0.1, 0.1, 0.1, 0.1, 9.0]) + 3
    fitted = PCAProjection.fit(ref)
    assert abs(abs(fitted.components[0, 0]) - 1) < 0.01  # the reference's main axis, not other's
    assert fitted.explained_variance_ratio[0] > 0.9
    np.testing.assert_allclose(fitted.mean, ref.mean(axis=0))
    proj = fitted.transform(other)
    assert proj.shape == (300, 2) and proj.dtype == np.float32
    assert "PC1" in fitted.axis_label(0) and "%" in fitted.axis_label(0)
    with pytest.raises(ValueError, match="features"):
        fitted.transform(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="at least 2"):
        PCAProjection.fit(np.zeros((1, 5)))


def test_kde_grid_and_marginals_integrate_to_one():
    rng = np.random.default_rng(0)
    pts = rng.normal(size=(800, 2))
    g = density.kde_grid(pts, (-5, 5, -5, 5), gridsize=80)
    assert g is not None and g.density.shape == (80, 80)
    dx = g.x[1] - g.x[0]
    dy = g.y[1] - g.y[0]
    assert abs(g.density.sum() * dx * dy - 1) < 0.02
    assert abs(g.marginal_x.sum() * dx - 1) < 0.02
    assert abs(g.marginal_y.sum() * dy - 1) < 0.02
    assert len(g.levels) >= 2 and np.all(np.diff(g.levels) > 0)


def test_binned_kde_matches_scipy_gaussian_kde():
    """The fast binned FFT estimate is the same Gaussian KDE (Scott's rule, full covariance)."""
    from scipy.stats import gaussian_kde

    rng = np.random.default_rng(1)
    a = rng.multivariate_normal([0, 0], [[1.0, 0.6], [0.6, 0.8]], 2000)
    b = rng.normal([3, -2], 0.5, (1000, 2))
    pts = np.vstack([a, b])
    x = np.linspace(-5, 6, 64)
    y = np.linspace(-5, 4, 64)
    fast = density.binned_kde_2d(pts, x, y)
    xx, yy = np.meshgrid(x, y)
    exact = gaussian_kde(pts.T)(np.vstack([xx.ravel(), yy.ravel()])).reshape(64, 64)
    assert fast.shape == exact.shape
    assert np.abs(fast - exact).max() < 0.01 * exact.max()
    # kde_grid uses it; its contour levels enclose the same masses as the exact density's
    g = density.kde_grid(pts, (-5, 6, -5, 4), gridsize=64, max_points=10**6)
    np.testing.assert_allclose(g.density, fast)


def test_narrow_kernel_falls_back_to_exact_kde():
    from scipy.stats import gaussian_kde

    rng = np.random.default_rng(2)
    pts = rng.normal(0, 0.01, (500, 2))  # far narrower than the grid spacing below
    extent = (-10, 10, -10, 10)
    assert density.binned_kde_2d(pts, np.linspace(-10, 10, 64), np.linspace(-10, 10, 64)) is None
    g = density.kde_grid(pts, extent, gridsize=64)
    xx, yy = np.meshgrid(g.x, g.y)
    exact = gaussian_kde(pts.T)(np.vstack([xx.ravel(), yy.ravel()])).reshape(64, 64)
    np.testing.assert_allclose(g.density, exact)


def test_kde_too_few_or_degenerate_points_gives_none():
    assert density.kde_grid(np.zeros((3, 2))) is None
    line = np.stack([np.arange(50.0), 2 * np.arange(50.0)], axis=1)
    assert density.kde_grid(line) is None
    assert density.kde_grid(np.full((50, 2), 1.0)) is None
    assert density.kde_1d(np.ones(30), np.linspace(0, 2, 5)) is None


def test_points_in_polygon():
    pts = np.array([[0.5, 0.5], [2, 2], [0.1, 0.9]])
    square = np.array([[0, 0], [1, 0], [1, 1], [0, 1]])
    np.testing.assert_array_equal(polygons.points_in_polygon(pts, square), [True, False, True])
    assert polygons.points_in_polygon(pts, square[:2]).sum() == 0


def test_difference_map_equals_numpy(cube):
    other = cube * 0.5 + 0.2
    np.testing.assert_allclose(differences.difference_map(other, cube), other - cube)
    np.testing.assert_allclose(
        differences.difference_map(other, cube, mode="abs"), np.abs(other - cube)
    )
    summed = differences.difference_map(other, cube, mode="abs", reduce="sum")
    assert summed.shape == (5, 6)
    np.testing.assert_allclose(summed[2, 2], np.abs(other - cube)[:, 2, 2].sum(), rtol=1e-5)
    assert differences.difference_map(other, cube, reduce="mean").shape == (5, 6)
    with pytest.raises(ValueError, match="differ in shape"):
        differences.difference_map(cube, cube[:, :3])


def test_csv_round_trip(tmp_path):
    wl = np.array([500.0, 505.0, 510.0])
    series = [
        spectra_csv.Series("sim @ (1, 2)", wl, np.array([0.1, 0.2, 0.3], np.float32)),
        spectra_csv.Series(
            "ROI mean real", wl, np.array([1 / 3, 0.5, 0.25]), np.array([0.01, 0.02, 0.03])
        ),
        spectra_csv.Series("nowl", np.arange(3.0), np.array([1.0, 2.0, 3.0]), x_unit="band"),
    ]
    path = spectra_csv.write_spectra_csv(tmp_path / "s.csv", series)
    back = spectra_csv.read_spectra_csv(path)
    assert [s.name for s in back] == [s.name for s in series]
    for a, b in zip(series, back, strict=True):
        np.testing.assert_array_equal(np.asarray(a.y, float), b.y)
        np.testing.assert_array_equal(a.x, b.x)
        assert a.x_unit == b.x_unit
    assert back[0].std is None
    np.testing.assert_array_equal(back[1].std, series[1].std)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    with pytest.raises(FileExistsError):
        spectra_csv.write_spectra_csv(path, series, overwrite=False)
    with pytest.raises(ValueError, match="nothing to export"):
        spectra_csv.write_spectra_csv(tmp_path / "e.csv", [])


def _two_domain_cubes(bands=8):
    rng = np.random.default_rng(5)
    wl = np.linspace(500, 995, bands)
    sim = rng.random((bands, 6, 7)).astype(np.float32) + 0.5
    real = (
        rng.random((bands, 5, 9)).astype(np.float32) * np.linspace(1, 2, bands)[:, None, None] + 0.5
    )
    return wl, sim, real


def test_project_clouds_in_data_space_fits_pca_on_reference():
    wl, sim, real = _two_domain_cubes()
    inputs = [clouds.CloudInput("sim", sim, wl, "sim"), clouds.CloudInput("real", real, wl, "real")]
    steps = []
    res = clouds.project_clouds(
        inputs, "real", n=20, space="data", progress=lambda d, t: steps.append((d, t))
    )
    assert steps[0] == (0, 40) and steps[-1] == (40, 40)
    assert all(c.health is None for c in res.clouds)  # latent health needs latent space
    with pytest.raises(JobCancelled):
        clouds.project_clouds(inputs, "real", n=20, space="data", cancel=lambda: True)
    assert [c.name for c in res.clouds] == ["sim", "real"]
    assert all(c.points.shape == (20, 2) for c in res.clouds)
    ref_feats = picking.gather_spectra(real, res.clouds[1].index)
    ref_feats /= np.linalg.norm(ref_feats, axis=1, keepdims=True)
    np.testing.assert_allclose(res.pca.mean, ref_feats.mean(axis=0), rtol=1e-5)
    # points are the reference PCA of each pixel's L2-normalised spectrum
    ys, xs = res.clouds[0].index
    s = sim[:, ys[3], xs[3]]
    np.testing.assert_allclose(
        res.clouds[0].points[3], res.pca.transform(s / np.linalg.norm(s))[0], rtol=1e-4
    )


def test_project_clouds_leaves_out_what_does_not_fit():
    wl, sim, real = _two_domain_cubes()
    odd = np.ones((5, 4, 4), np.float32)
    inputs = [clouds.CloudInput("real", real, wl, "real"), clouds.CloudInput("odd", odd)]
    res = clouds.project_clouds(inputs, "real", n=1000, space="data")
    assert [c.name for c in res.clouds] == ["real"]
    assert any("'odd' left out" in n and "bands" in n for n in res.notes)
    res = clouds.project_clouds(inputs, "odd", space="data")
    assert [c.name for c in res.clouds] == ["odd"] and "the reference has 5" in res.notes[0]
    empty = [clouds.CloudInput("zero", np.zeros((5, 3, 3), np.float32))]
    with pytest.raises(ValueError, match="reference 'zero' has no usable pixel"):
        clouds.project_clouds(empty, "zero", space="data")
    with pytest.raises(ValueError, match="needs a model"):
        clouds.project_clouds(inputs, "real", space="latent")
    tiny = [clouds.CloudInput("real", real[:, :2, :2], wl, "real")]
    res = clouds.project_clouds(tiny, "real", space="data")
    assert res.clouds[0].kde is None and "scatter" in res.notes[0]


def test_project_clouds_in_latent_space_with_a_tiny_model():
    import torch

    from napari_cinn.core import build_model

    wl, sim, real = _two_domain_cubes()
    model = build_model("hsi", wavelengths=wl, domains=("sim", "real"), n_blocks=2, hidden=16)
    inputs = [
        clouds.CloudInput("sim", sim, wl, "sim"),
        clouds.CloudInput("real", real, wl, "real"),
        clouds.CloudInput("nodomain", real, wl, None),
        clouds.CloudInput("pat", np.ones((16, 3, 3), np.float32), np.linspace(700, 850, 16), "sim"),
    ]
    res = clouds.project_clouds(inputs, "real", n=30, space="latent", model=model, chunk=7)
    assert [c.name for c in res.clouds] == ["sim", "real"]
    assert [len(c.points) for c in res.clouds] == [30, 30]
    assert any("'nodomain'" in n and "no domain" in n for n in res.notes)
    assert any("'pat'" in n and "model expects 8 bands" in n for n in res.notes)
    # the reference's latent codes are what the PCA was fitted on
    ref = res.clouds[1]
    z = clouds.features(
        picking.gather_spectra(real, ref.index),
        "latent",
        model=model,
        domain="real",
        wavelengths=wl,
    )
    np.testing.assert_allclose(res.pca.mean, z.mean(axis=0), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ref.points, res.pca.transform(z), rtol=1e-3, atol=1e-4)
    # each layer's latent health is measured on its full codes, not on the 2-D projection
    from napari_cinn.core.latent_health import latent_health

    assert ref.health.std.shape == (8,) and ref.health.n == 30
    np.testing.assert_allclose(ref.health.std, latent_health(z).std, rtol=1e-4)
    assert not any("lies exactly on" in n for n in res.notes)
    # encoding runs with one torch thread (fast on shared cores); the setting is restored after
    seen = []
    real_features = clouds.features

    def spy(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return real_features(*args, **kwargs)

    before = torch.get_num_threads()
    clouds.features = spy
    try:
        clouds.project_clouds(inputs[:2], "real", n=30, space="latent", model=model, chunk=7)
    finally:
        clouds.features = real_features
    assert seen and set(seen) == {1}
    assert torch.get_num_threads() == before
    # a transferred image encoded under its target domain has its source's codes: said, not hidden
    moved = model.transfer(torch.from_numpy(sim.reshape(sim.shape[0], -1).T.copy()), "sim", "real")
    moved = moved.detach().numpy().T.reshape(sim.shape).astype(np.float32)
    both = [
        clouds.CloudInput("sim", sim, wl, "sim"),
        clouds.CloudInput("sim→real", moved, wl, "real"),
        clouds.CloudInput("real", real, wl, "real"),
    ]
    res = clouds.project_clouds(both, "real", n=30, space="latent", model=model)
    assert [n for n in res.notes if "lies exactly on" in n] == [
        "'sim→real' lies exactly on 'sim' (same codes; a transfer keeps the latent code)."
    ]


def test_compare_to_reference_uses_the_shared_metrics():
    from napari_cinn.core import metrics as M

    rng = np.random.default_rng(0)
    ref = rng.random((6, 10, 10)).astype(np.float32) + 1
    close = ref * 1.0001
    far = ref + np.linspace(0, 1, 6)[:, None, None].astype(np.float32)
    labels = np.zeros((10, 10), int)
    labels[:5] = 1
    labels[5:] = 2
    items = [
        clouds.CloudInput("close", close),
        clouds.CloudInput("far", far),
        clouds.CloudInput("small", ref[:, :4, :4]),
        clouds.CloudInput("pat", np.ones((3, 10, 10), np.float32)),
    ]
    steps = []
    comps, notes = comparison.compare_to_reference(
        items,
        clouds.CloudInput("ref", ref),
        labels=labels,
        norm="none",
        progress=lambda d, t: steps.append((d, t)),
    )
    assert steps[0] == (0, 4) and steps[-1] == (4, 4)
    assert [c.name for c in comps] == ["close", "far"]
    assert any("'small' left out" in n for n in notes) and any(
        "'pat' left out: 3 bands" in n for n in notes
    )
    far_c = comps[1]
    np.testing.assert_array_equal(far_c.classes, [1, 2])
    sel = labels == 1
    expected = np.abs(np.median(far[:, sel], axis=1) - np.median(ref[:, sel], axis=1))
    np.testing.assert_allclose(far_c.diff[0], expected, rtol=1e-5, atol=1e-6)
    spectra_far = picking.gather_spectra(far, picking.sample_valid_pixels(far, 5000))
    spectra_ref = picking.gather_spectra(ref, picking.sample_valid_pixels(ref, 5000))
    assert far_c.mmd2 == pytest.approx(M.mmd2(spectra_far, spectra_ref, seed=0))
    assert comps[0].c2st_auc < 0.8 < far_c.c2st_auc
    assert comps[0].diff.max() < far_c.diff.max()
