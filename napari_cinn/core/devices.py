"""Where and with how many threads torch runs: device names, CPU thread counts.

Shared by whole-image transfer (``core.transfer``), latent projections and the docks.
"""

from __future__ import annotations

import os
from contextlib import contextmanager

import torch


@contextmanager
def torch_threads(n: int | None):
    """Run the block with ``n`` torch CPU threads, then restore the previous count (None: no-op).

    torch's thread count is process-wide. GUI workers use :func:`gui_threads` so the viewer keeps
    a core: on a machine whose cores are all busy, OpenMP threads that spin while waiting for each
    other made a 2-thread transfer ~7× slower than a 1-thread one here (157 s vs 23 s, 2 cores).
    """
    if n is None:
        yield
        return
    old = torch.get_num_threads()
    torch.set_num_threads(max(1, int(n)))
    try:
        yield
    finally:
        torch.set_num_threads(old)


def gui_threads() -> int:
    """Torch threads for work started from the viewer: all cores but one (the GUI's), at least 1."""
    return max(1, (os.cpu_count() or 2) - 1)


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` → cuda if available, else mps, else cpu; other names are checked for availability."""
    if isinstance(device, torch.device):
        return device
    name = str(device).lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(
            "device 'cuda' was asked for but no CUDA GPU is available; use 'auto' or 'cpu'"
        )
    if name == "mps" and not (
        getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()
    ):
        raise ValueError("device 'mps' was asked for but is not available; use 'auto' or 'cpu'")
    return torch.device(name)
