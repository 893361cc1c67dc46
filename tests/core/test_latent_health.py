"""Latent health tells a domain that fills N(0, I) from one squeezed into a thin core."""

from __future__ import annotations

import numpy as np
import pytest

from napari_cinn.core.latent_health import health_table, latent_health


def test_standard_normal_codes_are_healthy_and_a_thin_core_is_not():
    rng = np.random.default_rng(0)
    good = latent_health(rng.standard_normal((5000, 20)))
    thin = latent_health(0.2 * rng.standard_normal((5000, 20)))
    assert good.healthy and abs(good.median_std - 1) < 0.05 and good.ks.max() < 0.05
    assert not thin.healthy and thin.median_std == pytest.approx(0.2, abs=0.02)
    assert thin.w2 == pytest.approx(0.8, abs=0.03) and thin.ks.min() > 0.2


def test_a_shifted_domain_shows_in_the_mean_and_w2():
    rng = np.random.default_rng(1)
    h = latent_health(rng.standard_normal((4000, 8)) + 0.5)
    assert h.summary()["mean_abs_median"] == pytest.approx(0.5, abs=0.05)
    assert h.w2 == pytest.approx(0.5, abs=0.05)


def test_nan_rows_are_dropped_and_bad_shapes_refused():
    z = np.random.default_rng(2).standard_normal((100, 3))
    z[:10] = np.nan
    assert latent_health(z).n == 90
    with pytest.raises(ValueError, match="n, dims"):
        latent_health(np.zeros(5))


def test_table_has_one_row_per_domain():
    rng = np.random.default_rng(3)
    text = health_table(
        {
            "sim": latent_health(rng.standard_normal((50, 4))),
            "real": latent_health(rng.standard_normal((50, 4))),
        }
    )
    assert text.count("\n| sim |") == 1 and text.count("\n| real |") == 1
