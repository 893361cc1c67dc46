"""Baselines plug into the evaluation registry as fit(sim_spectra, real_spectra) -> transform."""

from __future__ import annotations

import numpy as np
import pytest
import torch


def _spectra(n: int, shift: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    wl = np.linspace(0, 1, 20)
    centre = rng.uniform(0.2, 0.8, (n, 1))
    x = np.exp(-((wl - centre) ** 2) / 0.05) + 0.3 + shift * wl
    return (x * rng.uniform(0.5, 2.0, (n, 1))).astype(np.float32)


@pytest.mark.parametrize("kind", ["linear", "sinkhorn", "emd"])
def test_ot_moves_sim_towards_real_and_keeps_norms(kind):
    from napari_cinn_training.baselines.ot import fit_map

    sim, real = _spectra(400, 0.0, 0), _spectra(400, 0.8, 1)
    transform = fit_map(sim, real, kind=kind, n_samples=300)
    x = _spectra(100, 0.0, 2)
    y = transform(x)
    assert y.shape == x.shape and y.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(y, axis=1), np.linalg.norm(x, axis=1), rtol=0.2)

    def unit_mean(a):
        return (a / np.linalg.norm(a, axis=1, keepdims=True)).mean(0)

    before = np.abs(unit_mean(x) - unit_mean(real)).mean()
    after = np.abs(unit_mean(y) - unit_mean(real)).mean()
    assert after < 0.5 * before
    bad = x.copy()
    bad[0] = np.nan
    assert np.isnan(transform(bad)[0]).all() and np.isfinite(transform(bad)[1:]).all()


def test_ot_and_unit_are_found_by_the_evaluation_registry():
    evaluate_methods = pytest.importorskip("napari_cinn_training.evaluate.methods")
    for name in ("ot", "unit"):
        method = evaluate_methods.resolve_method(name)
        assert callable(method.fit)


def test_unit_trains_briefly_and_round_trips_file(tmp_path):
    from napari_cinn_training.baselines.unit import (
        fit_unit_on_arrays,
        load_unit,
        save_unit,
        spectra_transform,
    )

    sim, real = _spectra(512, 0.0, 0), _spectra(512, 0.8, 1)
    net = fit_unit_on_arrays(sim, real, seconds=3, overrides=["data.samples_per_epoch=1024"])
    y = spectra_transform(net)(sim[:10])
    assert y.shape == (10, 20) and np.isfinite(y).all()
    path = save_unit(net, tmp_path / "u.safetensors", note="test")
    again = load_unit(path)
    torch.testing.assert_close(
        again.transfer(torch.from_numpy(sim[:5])), net.transfer(torch.from_numpy(sim[:5]))
    )
    with pytest.raises(FileExistsError, match="--force"):
        save_unit(net, path)
    # the file scores in cinn-train evaluate as a per-pixel method: a cube is transferred pixel by pixel
    from napari_cinn_training.evaluate.methods import resolve_method

    method = resolve_method(str(path))
    assert method.per_pixel and method.fit is None
    cube = sim[:12].T.reshape(20, 4, 3)
    np.testing.assert_allclose(
        method.image_transform(cube),
        spectra_transform(net)(sim[:12]).T.reshape(20, 4, 3),
        atol=1e-6,
    )


def _unit_mean_gap(a: np.ndarray, b: np.ndarray) -> float:
    def unit_mean(x):
        return (x / np.linalg.norm(x, axis=1, keepdims=True)).mean(0)

    return float(np.abs(unit_mean(a) - unit_mean(b)).mean())


@pytest.mark.parametrize("name", ["ot-sinkhorn", "ot-emd"])
def test_pot_maps_by_name_with_options_move_sim_towards_real(name):
    from napari_cinn_training.evaluate.methods import resolve_method

    sim, real = _spectra(600, 0.0, 0), _spectra(600, 0.8, 1)
    method = resolve_method(name, options={"n_samples": 400})
    assert method.options == {"n_samples": 400}
    x = _spectra(200, 0.0, 2)
    y = method.fit(sim, real)(x)
    assert y.shape == x.shape and np.isfinite(y).all()
    assert _unit_mean_gap(y, real) < 0.3 * _unit_mean_gap(x, real)


def test_unknown_method_option_is_refused_with_the_options_there_are(tmp_path):
    from napari_cinn_training.evaluate import EvaluationError
    from napari_cinn_training.evaluate.methods import resolve_method

    with pytest.raises(EvaluationError, match="no option 'n_sample'.*did you mean 'n_samples'"):
        resolve_method("ot-emd", options={"n_sample": 10})
    model = tmp_path / "m.safetensors"
    model.write_bytes(b"")
    with pytest.raises(EvaluationError, match="model file takes no options"):
        resolve_method(str(model), options={"seconds": 1})


def test_ot_cfm_flow_moves_a_shifted_toy_pair_closer_than_identity():
    pytest.importorskip("torchcfm")
    from napari_cinn_training.evaluate.methods import resolve_method

    sim, real = _spectra(1000, 0.0, 0), _spectra(1000, 0.8, 1)
    method = resolve_method("ot-cfm", options={"seconds": 0, "iterations": 150, "hidden": 64})
    transform = method.fit(sim, real)
    assert transform.info["iterations"] == 150
    x = _spectra(200, 0.0, 2)
    y = transform(x)
    assert y.shape == x.shape and y.dtype == np.float32 and np.isfinite(y).all()
    np.testing.assert_allclose(np.linalg.norm(y, axis=1), np.linalg.norm(x, axis=1), rtol=0.2)
    assert _unit_mean_gap(y, real) < 0.3 * _unit_mean_gap(x, real)

    # per-band spread moves too, not only the mean
    def unit_std(a):
        return (a / np.linalg.norm(a, axis=1, keepdims=True)).std(0)

    assert np.abs(unit_std(y) - unit_std(real)).mean() < np.abs(unit_std(x) - unit_std(real)).mean()
    bad = x.copy()
    bad[0] = np.nan
    out = transform(bad)
    assert np.isnan(out[0]).all() and np.isfinite(out[1:]).all()
    # reproducible with the same seed
    again = resolve_method("ot-cfm", options={"seconds": 0, "iterations": 150, "hidden": 64})
    np.testing.assert_allclose(again.fit(sim, real)(x), y, rtol=1e-5, atol=1e-6)
