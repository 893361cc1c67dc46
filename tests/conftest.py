"""Shared test set-up: quiet tqdm monitor threads (a known Qt race) and the ``perturb`` helper."""

import pytest
import tqdm

tqdm.tqdm.monitor_interval = 0


def _perturb(model, scale=0.05, seed=0):
    """Freshly built couplings are identities (zero-initialised last layers); give them weights."""
    import torch  # lazily: some tests check that the plugin starts without torch

    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            if p.requires_grad:
                p.add_(scale * torch.randn(p.shape, generator=g))
    return model


@pytest.fixture
def perturb():
    """``perturb(model)`` gives a fresh model non-trivial weights, so tests exercise real computation."""
    return _perturb
