"""The cINN is invertible, conditioned on the domain and refuses what it cannot build."""

import numpy as np
import pytest
import torch

from napari_cinn.core import build_model


def _unit_spectra(n=256, seed=0):
    x = torch.rand(n, 100, generator=torch.Generator().manual_seed(seed)) + 0.05
    return x / x.norm(dim=1, keepdim=True)


def test_hsi_decode_inverts_encode_for_each_domain(hsi_model):
    x = _unit_spectra()
    with torch.no_grad():
        for d in ("sim", "real"):
            z, log_det = hsi_model.encode(x, d)
            assert z.shape == x.shape and log_det.shape == (len(x),)
            assert (hsi_model.decode(z, d) - x).abs().max() < 1e-4


def test_hsi_transfer_there_and_back_returns_the_input(hsi_model):
    x = _unit_spectra() * torch.linspace(0.5, 3, 256)[:, None]  # varied brightness
    with torch.no_grad():
        y = hsi_model.transfer(x, "sim", "real")
        back = hsi_model.transfer(y, "real", "sim")
    assert (y - x).abs().mean() > 1e-2, "the domain condition must change the output"
    assert (back - x).abs().max() < 1e-3


def test_pat_round_trips_on_images(pat_model):
    img = torch.rand(3, 16, 32, 48, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        z, _ = pat_model.encode(img, "sim")
        assert z.shape == img.shape
        assert (pat_model.decode(z, "sim") - img).abs().max() < 1e-4
        y = pat_model.transfer(img, "sim", "real")
        assert (y - img).abs().mean() > 1e-2
        assert (pat_model.transfer(y, "real", "sim") - img).abs().max() < 1e-3


def test_nll_is_finite_and_differentiable(hsi_model):
    x = _unit_spectra(64)
    loss = hsi_model.nll(x, torch.randint(0, 2, (64,)))
    loss.backward()
    assert torch.isfinite(loss)
    grads = [p.grad for p in hsi_model.parameters() if p.requires_grad]
    assert any(g is not None and g.abs().sum() > 0 for g in grads)


def test_class_condition_is_optional_and_changes_the_code():
    m = build_model("hsi", n_blocks=2, hidden=16, n_classes=3)
    with torch.no_grad():
        for p in m.parameters():
            if p.requires_grad:
                p.add_(0.1 * torch.randn_like(p))
        x = _unit_spectra(8)
        z0, _ = m.encode(x, "sim", classes=torch.zeros(8, dtype=torch.long))
        z1, _ = m.encode(x, "sim", classes=torch.ones(8, dtype=torch.long))
        zu, _ = m.encode(x, "sim")  # no labels: uniform class condition
    assert not torch.allclose(z0, z1) and zu.shape == x.shape


def test_same_seed_builds_the_same_network():
    a, b = build_model("hsi", seed=7), build_model("hsi", seed=7)
    for (k, va), vb in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(va, vb), k


def test_bad_requests_get_clear_errors(hsi_model):
    with pytest.raises(ValueError, match="unknown hsi hyper-parameter"):
        build_model("hsi", n_blokcs=3)
    with pytest.raises(ValueError, match="unknown modality"):
        build_model("ct")
    with pytest.raises(ValueError, match="unknown domain 'phantom'"):
        hsi_model.encode(_unit_spectra(2), "phantom")
    with pytest.raises(ValueError, match="expects \\(n, bands\\) with 100 bands"):
        hsi_model.encode(torch.rand(2, 16), "sim")
    with pytest.raises(ValueError, match="at least 2 valid spectra"):
        hsi_model.fit_normalization(np.zeros((10, 100)), "sim")


@pytest.mark.parametrize("conditional", [True, False])
def test_fast_coupling_block_matches_freia_exactly(conditional):
    """Our AllInOneBlock is an optimisation of FrEIA's: same weights, same outputs, same log-det."""
    import FrEIA.modules as Fm

    from napari_cinn.core.blocks import AllInOneBlock, mlp_subnet

    cond = [(5,)] if conditional else []
    np.random.seed(0)  # noqa: NPY002 (FrEIA draws its permutation from the global RNG)
    ref = Fm.AllInOneBlock(
        [(100,)],
        cond,
        subnet_constructor=mlp_subnet(32),
        affine_clamping=1.0,
        global_affine_init=0.7,
    )
    fast = AllInOneBlock(
        [(100,)],
        cond,
        subnet_constructor=mlp_subnet(32),
        affine_clamping=1.0,
        global_affine_init=0.7,
    )
    fast.load_state_dict(ref.state_dict())
    with torch.no_grad():
        for p in ref.parameters():
            if p.requires_grad:
                p.add_(0.1 * torch.randn_like(p))
        fast.load_state_dict(ref.state_dict())
        x = torch.randn(64, 100)
        c = [torch.randn(64, 5)] if conditional else []
        (y_ref,), j_ref = ref([x], c)
        (y_fast,), j_fast = fast([x], c)
        torch.testing.assert_close(y_fast, y_ref, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(j_fast, j_ref, atol=1e-4, rtol=1e-5)
        (x_ref,), jr_ref = ref([y_ref.clone()], c, rev=True)
        (x_fast,), jr_fast = fast([y_ref.clone()], c, rev=True)
        torch.testing.assert_close(x_fast, x_ref, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(jr_fast, jr_ref, atol=1e-4, rtol=1e-5)


def test_fast_coupling_block_trains_like_freia():
    """Gradients through our block equal FrEIA's, so training is unchanged by the optimisation."""
    import FrEIA.modules as Fm

    from napari_cinn.core.blocks import AllInOneBlock, mlp_subnet

    np.random.seed(1)  # noqa: NPY002
    ref = Fm.AllInOneBlock([(100,)], [(5,)], subnet_constructor=mlp_subnet(32))
    fast = AllInOneBlock([(100,)], [(5,)], subnet_constructor=mlp_subnet(32))
    with torch.no_grad():
        for p in ref.parameters():
            if p.requires_grad:
                p.add_(0.1 * torch.randn_like(p))
    fast.load_state_dict(ref.state_dict())
    x, c = torch.randn(32, 100), [torch.randn(32, 5)]
    for block in (ref, fast):
        (y,), log_det = block([x], c)
        ((y**2).sum() - log_det.sum()).backward()
    for (name, a), b in zip(ref.named_parameters(), fast.parameters(), strict=True):
        if a.grad is not None:
            torch.testing.assert_close(b.grad, a.grad, atol=1e-4, rtol=1e-4, msg=name)


def test_dense_models_take_the_fast_coupling_path():
    m = build_model("hsi", n_blocks=2, hidden=8)
    assert all(block._fast() for block in m.flow.module_list)


def test_pat_depth_condition_reads_the_crop_row_and_survives_the_model_file(tmp_path, perturb):
    """``depth_condition``: PAT crops are encoded with their first image row (``row0``), whole
    images from row 0; the map stays invertible and the setting travels in the model file."""
    from napari_cinn.core import load_model, save_model, transfer_image

    m = perturb(
        build_model("pat", n_scales=2, blocks_per_scale=[1, 1], hidden=8, depth_condition=32.0)
    )
    crops = torch.rand(2, 16, 16, 16, generator=torch.Generator().manual_seed(4))
    rows = torch.tensor([0, 40])
    with torch.no_grad():
        z, _ = m.encode(crops, "sim", row0=rows)
        assert (m.decode(z, "sim", row0=rows) - crops).abs().max() < 1e-4
        z_top, _ = m.encode(crops, "sim")  # both crops read as the image's top rows
        assert torch.allclose(z[0], z_top[0], atol=1e-6)
        assert (z[1] - z_top[1]).abs().mean() > 1e-4, "a deeper crop must be coded differently"
        whole = m.transfer(crops[:1], "sim", "real")
        deep = m.transfer(crops[1:], "sim", "real", row0=40)
    loaded = load_model(save_model(m, tmp_path / "depth.safetensors"))
    assert loaded.hyper["depth_condition"] == 32.0
    out = transfer_image(loaded, crops[0].numpy(), "sim", "real", device="cpu")
    np.testing.assert_allclose(out, whole[0].numpy(), atol=1e-5)
    # an image cut 40 rows below the probe: transfer_image(row0=40) codes it at that depth
    cut = transfer_image(loaded, crops[1].numpy(), "sim", "real", device="cpu", row0=40)
    np.testing.assert_allclose(cut, deep[0].numpy(), atol=1e-5)
    top = transfer_image(loaded, crops[1].numpy(), "sim", "real", device="cpu")
    assert np.abs(cut - top).mean() > 1e-5
