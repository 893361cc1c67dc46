"""The synthetic benchmark: deterministic, physically sane, written in files the readers open."""

import json

import numpy as np
import pytest

from napari_cinn.core.spectra import HSI_WAVELENGTHS, PAT_WAVELENGTHS
from napari_cinn_training.simulate.chromophores import absorption, reduced_scattering
from napari_cinn_training.simulate.hsi import (
    TISSUES,
    hsi_subject,
    reflectance,
    sample_parameters,
    simulate_spectra,
)
from napari_cinn_training.simulate.pat import pat_subject


def test_absorption_table_has_expected_landmarks():
    hbo2, hb, water, fat, melanin, methb = absorption([560, 630, 760, 800, 930, 970])
    assert hb[2] > hbo2[2]  # deoxy-Hb band near 760 nm
    assert hbo2[4] > hb[4]  # oxy-Hb above the isosbestic point
    assert abs(hbo2[3] - hb[3]) / hb[3] < 0.15  # near-isosbestic around 800 nm
    assert water[5] > water[3] * 5  # water peak at 970 nm
    assert fat[4] > fat[3] * 5  # fat peak at 930 nm
    assert melanin[0] > melanin[5]  # melanin falls with wavelength
    assert methb[1] > 10 * hbo2[1]  # methaemoglobin's 630 nm band
    with pytest.raises(ValueError, match="450–1000 nm"):
        absorption([400.0])
    musp = reduced_scattering([500, 1000], 20.0, 1.0)
    np.testing.assert_allclose(musp, [20.0, 10.0], rtol=1e-6)


def test_reflectance_in_unit_range_and_blood_darkens():
    rng = np.random.default_rng(1)
    params = sample_parameters(np.arange(1, len(TISSUES) + 1).repeat(50), rng)
    r = reflectance(params, HSI_WAVELENGTHS)
    assert r.shape == (500, 100) and r.dtype == np.float32
    assert np.all((r > 0) & (r < 1))
    more_blood = params.copy()
    more_blood[:, 0] *= 2
    assert np.all(reflectance(more_blood)[:, :20] < r[:, :20])  # 500–595 nm: Hb absorbs


def test_oxygenation_changes_spectrum_in_the_right_direction():
    base = np.array([[0.05, 0.0, 0.7, 0.05, 20.0, 1.0]])
    oxy, deoxy = base.copy(), base.copy()
    oxy[0, 1], deoxy[0, 1] = 1.0, 0.0
    r_oxy, r_deoxy = reflectance(oxy)[0], reflectance(deoxy)[0]
    i760, i900 = np.searchsorted(HSI_WAVELENGTHS, [760, 900])
    assert r_oxy[i760] > r_deoxy[i760]  # deoxy-Hb absorbs more at 760 nm
    assert r_oxy[i900] < r_deoxy[i900]  # oxy-Hb absorbs more at 900 nm


def test_hsi_subject_is_deterministic_and_domains_differ():
    a = hsi_subject(3, "real", seed=5, size=32)
    b = hsi_subject(3, "real", seed=5, size=32)
    np.testing.assert_array_equal(a.cube, b.cube)
    np.testing.assert_array_equal(a.labels, b.labels)
    c = hsi_subject(4, "real", seed=5, size=32)
    assert not np.array_equal(a.cube, c.cube)
    s = hsi_subject(3, "sim", seed=5, size=32)
    assert a.cube.shape == s.cube.shape == (100, 32, 32)
    assert s.labels.shape == (32, 32)
    assert set(np.unique(s.labels)) <= set(range(11))
    assert np.all((s.cube > 0) & (s.cube < 1))
    assert np.isfinite(a.cube).all()
    with pytest.raises(ValueError, match="domain"):
        hsi_subject(0, "fake")


def test_sim_tissue_through_the_real_camera_is_the_ideal_transfer():
    """``camera_domain``: the same labelled tissue as the sim subject, recorded as real-like."""
    sim = hsi_subject(2, "sim", seed=1, size=32)
    real = hsi_subject(2, "real", seed=1, size=32)
    ideal = hsi_subject(2, "sim", seed=1, size=32, camera_domain="real")
    np.testing.assert_array_equal(ideal.labels, sim.labels)  # same layout, same labels
    assert ideal.metadata["domain"] == "sim→real"

    def roughness(cube):  # camera noise: second difference along wavelength
        return float(np.median(np.abs(np.diff(cube, 2, axis=0))))

    assert roughness(sim.cube) < 0.1 * roughness(ideal.cube)
    assert 0.5 < roughness(ideal.cube) / roughness(real.cube) < 2
    # the white-balance tilt darkens the red end relative to sim, as in the real domain
    red = HSI_WAVELENGTHS > 900
    ratio = lambda c: c[red].mean() / c[~red].mean()  # noqa: E731
    assert ratio(ideal.cube) < ratio(sim.cube) and ratio(real.cube) < ratio(sim.cube)
    other = hsi_subject(2, "sim", seed=1, size=32, camera_domain="real", camera_seed=1)
    assert not np.array_equal(other.cube, ideal.cube)  # another realisation of the camera
    np.testing.assert_array_equal(other.labels, sim.labels)
    same = hsi_subject(2, "sim", seed=1, size=32, camera_domain="sim")
    np.testing.assert_array_equal(same.cube, sim.cube)  # the default camera is the domain's own


def test_bag_of_spectra_both_domains():
    x, y = simulate_spectra(1000, "real", np.random.default_rng(0))
    assert x.shape == (1000, 100) and y.min() >= 1 and y.max() <= 10
    assert np.isfinite(x).all()


def test_pat_arteries_and_veins_differ_as_expected():
    s = pat_subject(0, "sim", seed=2)
    assert s.cube.shape == (16, 128, 128)
    assert {1, 2} <= set(np.unique(s.labels))
    art = s.cube[:, s.labels == 1].mean(1)
    vein = s.cube[:, s.labels == 2].mean(1)
    ratio = lambda sp: sp[PAT_WAVELENGTHS == 850][0] / sp[PAT_WAVELENGTHS == 750][0]  # noqa: E731
    assert ratio(art) > 1.5 > ratio(vein)  # oxy-Hb rises, deoxy-Hb falls from 750 to 850 nm
    assert np.all(s.cube >= 0)
    r1, r2 = pat_subject(0, "real", seed=2), pat_subject(0, "real", seed=2)
    np.testing.assert_array_equal(r1.cube, r2.cube)


def test_cli_writes_files_the_readers_open(tmp_path):
    from spectral import envi

    from napari_cinn_training.cli import main

    assert (
        main(
            [
                "simulate",
                "hsi",
                "--subjects",
                "2",
                "--domain",
                "real",
                "--size",
                "16",
                "--out",
                str(tmp_path / "h"),
            ]
        )
        == 0
    )
    img = envi.open(str(tmp_path / "h" / "hsi_real_001.hdr"))
    assert img.shape == (16, 16, 100)
    np.testing.assert_allclose(img.bands.centers, HSI_WAVELENGTHS)
    labels = np.load(tmp_path / "h" / "hsi_real_001_labels.npy")
    assert labels.shape == (16, 16)
    names = json.loads((tmp_path / "h" / "hsi_real_001_labels.json").read_text())
    assert names["1"] == "liver"
    manifest = json.loads((tmp_path / "h" / "hsi_real_manifest.json").read_text())
    assert manifest["subjects"] == 2 and len(manifest["files"]) == 2
    # deterministic: a second run into another folder gives identical bytes
    assert (
        main(
            [
                "simulate",
                "hsi",
                "--subjects",
                "2",
                "--domain",
                "real",
                "--size",
                "16",
                "--out",
                str(tmp_path / "h2"),
            ]
        )
        == 0
    )
    assert (tmp_path / "h" / "hsi_real_001.img").read_bytes() == (
        tmp_path / "h2" / "hsi_real_001.img"
    ).read_bytes()
    # refuses to overwrite
    assert (
        main(
            [
                "simulate",
                "hsi",
                "--subjects",
                "1",
                "--domain",
                "real",
                "--size",
                "16",
                "--stem",
                "hsi_real_000",
                "--out",
                str(tmp_path / "h"),
            ]
        )
        == 1
    )

    assert (
        main(
            [
                "simulate",
                "pat",
                "--subjects",
                "1",
                "--domain",
                "sim",
                "--size",
                "64",
                "--out",
                str(tmp_path / "p"),
            ]
        )
        == 0
    )
    with np.load(tmp_path / "p" / "pat_sim.npz") as f:
        assert f["data"].shape == (16, 64, 64)
        assert f["labels"].shape == (64, 64)
        np.testing.assert_allclose(f["wavelengths"], PAT_WAVELENGTHS)
        assert json.loads(str(f["label_names"]))["2"] == "vein"


def test_cli_renders_sim_through_the_real_camera(tmp_path, capsys):
    from napari_cinn.io import read_spectral
    from napari_cinn_training.cli import main

    argv = ["simulate", "hsi", "--subjects", "1", "--size", "16", "--out", str(tmp_path / "o")]
    assert main([*argv, "--camera", "real", "--camera-seed", "3"]) == 0
    assert "hsi sim→real subject" in capsys.readouterr().out
    image = read_spectral(tmp_path / "o" / "hsi_sim_realcam.hdr")
    assert image.metadata["domain"] == "sim→real"  # napari layers tag it as a transfer
    manifest = json.loads((tmp_path / "o" / "hsi_sim_realcam_manifest.json").read_text())
    assert manifest["domain"] == "sim" and manifest["camera"] == "real"
    assert manifest["files"][0]["metadata"]["camera_seed"] == 3
    pat = ["simulate", "pat", "--camera", "real", "--out", str(tmp_path / "p")]
    assert main(pat) == 2
    assert "--camera is implemented for hsi only" in capsys.readouterr().err
    assert not (tmp_path / "p").exists()
    assert main([*argv[:-1], str(tmp_path / "s"), "--camera-seed", "1"]) == 2
    assert "--camera-seed needs --camera" in capsys.readouterr().err
    assert not (tmp_path / "s").exists()
