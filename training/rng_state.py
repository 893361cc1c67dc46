"""Every random stream of a run, saved in each checkpoint and restored on resume, per rank.

Training draws its noise (augmentation noise, label noise, random classes, instance noise) from a
``torch.Generator`` owned by the module (:func:`noise_generator`), seeded from ``(seed, rank)``,
not from the global torch RNG: Lightning and the data loaders draw from the global RNG at points
that differ between an uninterrupted and a resumed run (each ``iter(dataloader)`` takes a base
seed), so a stream they share cannot be replayed exactly.

:class:`RNGState` (a Lightning callback) stores, for every rank, the owned generators and the
global torch (CPU and CUDA), NumPy and Python states in the checkpoint, and restores them just
before the first training batch after a resume, i.e. exactly where they were captured. A run
that is killed and resumed then equals the uninterrupted run bit for bit (``tests/training/
test_resume_bitwise.py``). If the number of ranks changed, the streams cannot be matched and are
left freshly seeded (a line says so).
"""

from __future__ import annotations

import random
from typing import Any

import lightning as L
import numpy as np
import torch

VERSION = 1


def stream_seed(seed: int, rank: int) -> int:
    """A 63-bit seed for the owned noise stream of ``rank`` (independent across ranks)."""
    state = np.random.SeedSequence([int(seed) % 2**32, int(rank), 0x6E6F6973]).generate_state(2)
    return int(state[0]) << 31 ^ int(state[1])


def _rank(module) -> int:
    try:
        return int(module.global_rank)
    except (AttributeError, RuntimeError):
        return 0


def noise_generator(module, device: torch.device) -> torch.Generator:
    """The module's own generator on ``device`` (created and seeded on first use)."""
    gens = module.__dict__.setdefault("_noise_generators", {})
    key = str(torch.device(device))
    gen = gens.get(key)
    if gen is None:
        gen = torch.Generator(device=device)
        gen.manual_seed(stream_seed(getattr(module.cfg, "seed", 0), _rank(module)))
        gens[key] = gen
    return gen


def randn_like(module, x: torch.Tensor) -> torch.Tensor:
    """``torch.randn_like(x)`` drawn from the module's own stream."""
    return torch.randn(
        x.shape, generator=noise_generator(module, x.device), device=x.device, dtype=x.dtype
    )


def rand_like(module, x: torch.Tensor) -> torch.Tensor:
    """``torch.rand_like(x)`` drawn from the module's own stream."""
    return torch.rand(
        x.shape, generator=noise_generator(module, x.device), device=x.device, dtype=x.dtype
    )


def randint(module, high: int, size: tuple[int, ...], device) -> torch.Tensor:
    """``torch.randint(high, size)`` drawn from the module's own stream."""
    gen = noise_generator(module, torch.device(device))
    return torch.randint(high, size, generator=gen, device=device)


def capture(module) -> dict[str, Any]:
    """This process's random states as tensors and plain values (loadable with weights_only)."""
    _, keys, pos, has_gauss, cached = np.random.get_state()  # noqa: NPY002 - the global stream
    version, internal, gauss = random.getstate()
    cuda = []
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        cuda = list(torch.cuda.get_rng_state_all())
    gens = module.__dict__.get("_noise_generators", {})
    return {
        "torch": torch.get_rng_state(),
        "cuda": cuda,
        "numpy": {
            "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached": float(cached),
        },
        "python": {
            "version": int(version),
            "state": torch.tensor(internal, dtype=torch.int64),
            "gauss": gauss,
        },
        "noise": {k: g.get_state() for k, g in gens.items()},
        "bad_in_row": int(getattr(module, "_bad_in_row", 0)),
    }


def restore(module, state: dict[str, Any]) -> None:
    """Put back what :func:`capture` took (global streams and the module's own generators)."""
    torch.set_rng_state(state["torch"].cpu())
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"][: torch.cuda.device_count()])
    n = state["numpy"]
    keys = n["keys"].numpy().astype(np.uint32)
    np.random.set_state(("MT19937", keys, n["pos"], n["has_gauss"], n["cached"]))  # noqa: NPY002
    p = state["python"]
    random.setstate((p["version"], tuple(int(v) for v in p["state"].tolist()), p["gauss"]))
    for key, gen_state in state["noise"].items():
        device = torch.device(key)
        if device.type == "cuda" and not torch.cuda.is_available():
            continue
        noise_generator(module, device).set_state(gen_state.cpu())
    module._bad_in_row = int(state.get("bad_in_row", 0))


def _gather(local: dict[str, Any]) -> list[dict[str, Any]]:
    dist = torch.distributed
    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        out: list[Any] = [None] * dist.get_world_size()
        dist.all_gather_object(out, local)
        return out
    return [local]


class RNGState(L.Callback):
    """Save every random stream of every rank in checkpoints; restore them on resume."""

    def __init__(self) -> None:
        self._module = None
        self._pending: dict[str, Any] | None = None

    def setup(self, trainer, pl_module, stage: str) -> None:
        self._module = pl_module

    def state_dict(self) -> dict[str, Any]:
        if self._module is None:
            return {}
        ranks = _gather(capture(self._module))  # a collective: every rank saves
        return {"version": VERSION, "world_size": len(ranks), "ranks": ranks}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._pending = state_dict or None

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx: int) -> None:
        if self._pending is None:
            return
        pending, self._pending = self._pending, None
        ranks = pending.get("ranks") or []
        if len(ranks) != trainer.world_size:
            if trainer.is_global_zero:
                print(
                    f"[cinn-train] resume: the checkpoint has random states of {len(ranks)} "
                    f"rank(s), this run has {trainer.world_size}: streams are freshly seeded, "
                    "so the run will not repeat the original exactly",
                    flush=True,
                )
            return
        restore(pl_module, ranks[trainer.global_rank])
