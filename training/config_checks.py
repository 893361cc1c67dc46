"""Range checks of every numeric config value (called by ``Config.validate``).

Each rule is one line in :data:`RANGES`: the dotted key, the lowest and highest allowed value and
whether the bounds are open. A value outside, or NaN/infinite, is refused with one sentence that
names the key, the value and the allowed range. The trainer's strings (accelerator, devices,
precision, max_time) and the model section's hyper-parameters are checked here too, so that
``cinn-train fit`` exits with a sentence instead of a Lightning or FrEIA traceback.
"""

from __future__ import annotations

import math
import re
from typing import Any

INF = math.inf

#: key -> (low, high, low_open, high_open)
RANGES: dict[str, tuple[float, float, bool, bool]] = {
    "seed": (0, 2**32 - 1, False, False),
    "data.val_fraction": (0, 1, False, True),
    "data.split_seed": (-1, 2**32 - 1, False, False),
    "data.batch_size": (1, 2**24, False, False),
    "data.samples_per_epoch": (1, 2**40, False, False),
    "data.crop": (1, 2**16, False, False),
    "data.val_samples": (1, 2**30, False, False),
    "data.num_workers": (0, 256, False, False),
    "data.pixels_per_file": (1, 2**40, False, False),
    "data.pixels_per_class": (0, 2**40, False, False),
    "data.memory_mb": (0, 2**30, True, False),
    "data.refresh_files": (0, 2**31, False, False),
    "disc.hidden": (1, 65536, False, False),
    "disc.layers": (1, 64, False, False),
    "disc.instance_noise": (0, 100, False, False),
    "disc.pixel_weight": (0, 1e6, False, False),
    "disc.pixel_samples": (1, 2**24, False, False),
    "disc.pixel_depth": (0, 1e6, False, False),
    "loss.nll_weight": (0, 1e6, False, False),
    "loss.adv_weight": (0, 1e6, False, False),
    "loss.adv_start": (0, 2**40, False, False),
    "loss.adv_ramp": (0, 2**40, False, False),
    "loss.noise": (0, 100, False, False),
    "loss.transport_weight": (0, 1e6, False, False),
    "loss.class_noise": (0, 100, False, False),
    "loss.max_bad_steps": (1, 2**31, False, False),
    "loss.dequantize_scale": (0, 100, False, False),
    "optim.lr": (0, 10, True, False),
    "optim.disc_lr": (0, 10, True, False),
    "optim.weight_decay": (0, 10, False, False),
    "optim.min_lr_ratio": (0, 1, False, False),
    "optim.plateau_patience": (0, 2**31, False, False),
    "optim.plateau_factor": (0, 1, True, True),
    "optim.grad_clip": (0, 1e12, False, False),
    "optim.disc_grad_clip": (0, 1e12, False, False),
    "trainer.max_epochs": (-1, 2**31, False, False),
    "trainer.max_steps": (-1, 2**40, False, False),
    "trainer.num_nodes": (1, 4096, False, False),
    "trainer.log_every_n_steps": (1, 2**31, False, False),
    "trainer.checkpoint_every_n_steps": (1, 2**40, False, False),
    "trainer.num_threads": (0, 4096, False, False),
    "trainer.ema_decay": (0, 1, False, True),
    "unit.latent": (1, 65536, False, False),
    "unit.hidden": (1, 65536, False, False),
    "unit.kl_weight": (0, 1e6, False, False),
    "unit.recon_weight": (0, 1e6, False, False),
    "unit.cycle_weight": (0, 1e6, False, False),
    "unit.gan_weight": (0, 1e6, False, False),
    "ot.n_samples": (2, 10**8, False, False),
    "ot.reg": (0, 1e6, True, False),
}

ACCELERATORS = ("auto", "cpu", "gpu", "cuda", "mps", "tpu")
PRECISIONS = (
    "32-true",
    "32",
    "64-true",
    "64",
    "16-mixed",
    "bf16-mixed",
    "16-true",
    "bf16-true",
    "16",
    "bf16",
    "transformer-engine",
)


def _get(cfg, key: str) -> Any:
    node = cfg
    for part in key.split("."):
        node = getattr(node, part)
    return node


def _range_text(lo: float, hi: float, lo_open: bool, hi_open: bool) -> str:
    return f"{'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"


def check_ranges(cfg, error: type[Exception]) -> None:
    """Every key of :data:`RANGES`, then the trainer strings and the model section."""
    for key, (lo, hi, lo_open, hi_open) in RANGES.items():
        value = _get(cfg, key)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise error(f"{key} must be a number, got {value!r}")
        if not math.isfinite(value):
            raise error(f"{key} must be a finite number, got {value}")
        if value < lo or value > hi or (lo_open and value == lo) or (hi_open and value == hi):
            raise error(
                f"{key}={value:g} is out of range; allowed: {_range_text(lo, hi, lo_open, hi_open)}"
            )
    if cfg.trainer.max_epochs == 0 or cfg.trainer.max_steps == 0:
        raise error("trainer.max_epochs and trainer.max_steps must be -1 (no limit) or >= 1")
    if cfg.loss.nll_weight == 0 and cfg.loss.adv_weight == 0 and cfg.loss.transport_weight == 0:
        raise error("loss.nll_weight, adv_weight and transport_weight are all 0: nothing to train")
    betas = cfg.optim.betas
    if (
        not isinstance(betas, (list, tuple))
        or len(betas) != 2
        or not all(
            isinstance(b, (int, float)) and not isinstance(b, bool) and 0 <= b < 1 for b in betas
        )
    ):
        raise error(f"optim.betas must be two numbers in [0, 1), e.g. [0.9, 0.999]; got {betas!r}")
    check_trainer(cfg.trainer, error)
    check_model_section(cfg, error)


def check_trainer(t, error: type[Exception]) -> None:
    """Accelerator (and its availability), devices, precision, max_time, val_check_interval."""
    acc = str(t.accelerator).lower()
    if acc not in ACCELERATORS:
        raise error(
            f"trainer.accelerator={t.accelerator!r} is not one of {', '.join(ACCELERATORS)}"
        )
    if acc in ("gpu", "cuda"):
        import torch

        if not torch.cuda.is_available():
            raise error(
                f"trainer.accelerator={t.accelerator!r} but no CUDA GPU is available here; "
                "use 'auto' or 'cpu'"
            )
    if acc == "mps":
        import torch

        if not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
            raise error("trainer.accelerator='mps' but MPS is not available here; use 'auto'")
    d = t.devices
    ok = (
        d == "auto"
        or (isinstance(d, int) and not isinstance(d, bool) and (d == -1 or 1 <= d <= 4096))
        or (isinstance(d, str) and re.fullmatch(r"-1|\d{1,4}|(\d{1,4}\s*,\s*)+\d{0,4}", d.strip()))
        or (
            isinstance(d, list)
            and d
            and all(isinstance(i, int) and not isinstance(i, bool) and 0 <= i < 4096 for i in d)
        )
    )
    if not ok or d in (0, "0"):
        raise error(
            f"trainer.devices={d!r} is not valid; use 'auto', a count >= 1 (-1: all) or a list "
            "like 0,1"
        )
    if str(t.precision) not in PRECISIONS:
        raise error(f"trainer.precision={t.precision!r} is not one of {', '.join(PRECISIONS)}")
    mt = t.max_time
    as_dict = (
        isinstance(mt, dict)
        and mt
        and all(
            k in ("days", "hours", "minutes", "seconds", "milliseconds", "weeks")
            and isinstance(v, (int, float))
            and not isinstance(v, bool)
            and math.isfinite(v)
            and v >= 0
            for k, v in mt.items()
        )
    )
    as_text = isinstance(mt, str) and re.fullmatch(r"\d{1,4}:\d{1,2}:\d{1,2}:\d{1,2}", mt.strip())
    if mt is not None and not (as_dict or as_text):
        raise error(
            f"trainer.max_time={mt!r} must look like DD:HH:MM:SS, e.g. 00:00:14:00 "
            "(or a mapping like {seconds: 30})"
        )
    v = t.val_check_interval
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise error(f"trainer.val_check_interval must be a number, got {v!r}")
    if (isinstance(v, float) and not 0 < v <= 1) or (isinstance(v, int) and v < 1):
        raise error(
            f"trainer.val_check_interval={v!r}: a fraction of an epoch in (0, 1] or a whole "
            "number of batches >= 1"
        )


def check_model_section(cfg, error: type[Exception]) -> None:
    """The ``model`` section's hyper-parameters (types and ceilings), before anything is built."""
    if cfg.method != "cinn":
        return
    from napari_cinn.core.model_checks import check_hyper

    try:
        check_hyper(cfg.modality, dict(cfg.model))
    except ValueError as err:
        raise error(f"model section: {err}") from None
