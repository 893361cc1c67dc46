"""The inference plan computes FrEIA's flow: same outputs and log-dets as FrEIA 0.2's own blocks,
an exact round trip, a rebuild when the weights change, and model files that load and agree."""

from __future__ import annotations

import copy

import FrEIA.modules as Fm
import numpy as np
import pytest
import torch

from napari_cinn.core import build_model, load_model, save_model
from napari_cinn.core.dense_plan import plan_for


def _freia(model):
    ref = copy.deepcopy(model)
    for block in ref.flow.module_list:
        block.__class__ = Fm.AllInOneBlock
    return ref


@pytest.mark.parametrize("n_classes", [0, 3])
def test_plan_matches_freia_blocks_in_both_directions(perturb, n_classes):
    model = perturb(build_model("hsi", n_blocks=5, n_cond_blocks=3, hidden=24, n_classes=n_classes))
    ref = _freia(model)
    x = torch.rand(300, 100) + 0.05
    classes = torch.randint(0, 3, (300,)) if n_classes else None  # per-pixel conditions too
    with torch.inference_mode():
        for domain in ("sim", "real"):
            z, log_det = model.encode(x, domain, classes)
            z_ref, log_det_ref = ref.encode(x, domain, classes)
            torch.testing.assert_close(z, z_ref, atol=2e-5, rtol=1e-5)
            torch.testing.assert_close(log_det, log_det_ref, atol=1e-4, rtol=1e-5)
            back = model.decode(z, domain, classes)
            torch.testing.assert_close(back, ref.decode(z, domain, classes), atol=2e-5, rtol=1e-5)
            assert float((back - x).abs().max()) < 1e-5  # the round trip is exact to float32
        # the transfer skips blocks 3 and 4 (unconditional: their encode and decode cancel)
        assert plan_for(model.flow).conditioned_prefix == 3
        y = model.transfer(x, "sim", "real", classes)
        torch.testing.assert_close(y, ref.transfer(x, "sim", "real", classes), atol=1e-4, rtol=1e-4)


def test_plan_is_rebuilt_when_weights_change(perturb):
    model = perturb(build_model("hsi", n_blocks=2, hidden=8))
    x = torch.rand(50, 100) + 0.05
    with torch.inference_mode():
        before = model.transfer(x, "sim", "real")
    first = plan_for(model.flow)
    with torch.no_grad():  # e.g. a training step (the permutations are fixed, not trained)
        for p in model.parameters():
            if p.requires_grad:
                p.add_(0.01 * torch.randn_like(p))
    assert plan_for(model.flow) is not first
    with torch.inference_mode():
        after = model.transfer(x, "sim", "real")
        expected = _freia(model).transfer(x, "sim", "real")
    assert not torch.allclose(before, after)
    torch.testing.assert_close(after, expected, atol=1e-4, rtol=1e-4)


def test_training_still_takes_the_differentiable_path(perturb):
    model = perturb(build_model("hsi", n_blocks=2, hidden=8)).train()
    x = torch.rand(16, 100) + 0.05
    model.nll(x, "sim").backward()
    assert all(p.grad is not None for p in model.flow.parameters() if p.requires_grad)


def test_model_files_load_and_transfer_like_freia(tmp_path, perturb):
    from napari_cinn._sample_data import SAMPLE_MODEL_DIR

    shipped = load_model(SAMPLE_MODEL_DIR / "hsi_sample.safetensors")
    fresh = perturb(build_model("hsi", n_blocks=3, hidden=16))
    path = save_model(fresh, tmp_path / "m.safetensors")
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.uniform(0.1, 1.0, (200, 100)).astype(np.float32))
    for model in (shipped, load_model(path)):
        with torch.inference_mode():
            y = model.transfer(x, "sim", "real")
            torch.testing.assert_close(
                y, _freia(model).transfer(x, "sim", "real"), atol=1e-4, rtol=1e-4
            )
            assert float((model.transfer(y, "real", "sim") - x).abs().max()) < 1e-4
