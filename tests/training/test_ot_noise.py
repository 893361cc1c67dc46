"""The 'OT + measured noise' baseline: the OT map, plus the noise the moved sim spectra lack."""

import numpy as np

from napari_cinn_training.baselines.ot_noise import fit


def _spectra(n, rng, noise):
    wl = np.linspace(0, 1, 40)
    a = rng.uniform(0.5, 1.5, (n, 1))
    return a * (1 + np.exp(-((wl - 0.5) ** 2) / 0.02)) + noise * rng.standard_normal((n, 40))


def test_realisations_carry_the_real_noise_level_and_are_seeded():
    rng = np.random.default_rng(0)
    sim, real = _spectra(4000, rng, 0.0), _spectra(4000, rng, 0.03)
    transform = fit(sim, real)
    det = transform(sim[:500])
    a, b = transform.sample(sim[:500], seed=1), transform.sample(sim[:500], seed=1)
    c = transform.sample(sim[:500], seed=2)
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).mean() > 0
    # the added noise, relative to each spectrum's norm, matches the real domain's per-band noise
    r = np.linalg.norm(det, axis=1, keepdims=True)
    rel_real = 0.03 / np.linalg.norm(real, axis=1).mean()
    assert abs(np.median(((a - det) / r).std(0)) / rel_real - 1) < 0.25
