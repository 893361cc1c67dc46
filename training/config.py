"""Training configuration: a typed tree of dataclasses read from YAML plus ``key=value`` overrides.

Every key is checked: an unknown key (in the file or in an override) is refused with the nearest
valid name (``difflib``), so a typo never silently falls back to a default. The ``model`` section is
the free set of keyword arguments of :func:`napari_cinn.core.build_model`; it is checked against
that function's signature when the model is built.

Example::

    cfg = load_config("training/configs/hsi_sample.yaml", ["optim.lr=3e-4", "trainer.max_epochs=5"])
    cfg.optim.lr  # 0.0003
"""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints

import yaml


class ConfigError(ValueError):
    """A configuration file or override that cannot be used (message names the key and the fix)."""


@dataclass
class DataConfig:
    """Where the data lies and how it is sampled."""

    sim: str = ""  # folder (or file) of simulated, labelled images
    real: str = ""  # folder (or file) of real images; their labels are never read
    val_fraction: float = 0.2  # share of subjects (files) held out for validation, per domain
    # which subjects are held out: -1 follows the run's seed; a fixed value keeps one split across
    # training seeds, so their spread is the training's own and not the split's
    split_seed: int = -1
    batch_size: int = 1024  # HSI: spectra per domain per batch; PAT: crops per domain per batch
    samples_per_epoch: int = 65536  # HSI: spectra per domain per epoch; PAT: crops per epoch
    crop: int = 64  # PAT crop edge (px); a multiple of 2**n_scales of the model
    val_samples: int = 4096  # fixed validation spectra (HSI) or crops x 16 (PAT) per domain
    num_workers: int = 0  # DataLoader worker processes
    background: bool = True  # HSI: also sample sim pixels whose label is 0
    # HSI files are read lazily into a bounded pool of pixel samples (training/data/sampling.py)
    pixels_per_file: int = 20000  # at most this many pixels of one file in the pool at a time
    pixels_per_class: int = 5000  # at most this many per label class per file (0: no cap)
    memory_mb: float = 2048.0  # pool memory of both domains together, per process (DDP: per rank)
    refresh_files: int = 16  # files re-read with fresh samples per epoch (0: a fixed pool)


@dataclass
class DiscConfig:
    """One discriminator per domain (dense for spectra, PatchGAN-style convolutional for PAT)."""

    hidden: int = 256  # HSI: width of the hidden layers; PAT: channels of the first conv
    layers: int = 2  # HSI: hidden layers; PAT: stride-2 conv layers
    spectral_norm: bool = False  # spectral normalisation of every layer (Miyato et al. 2018)
    instance_noise: float = (
        0.0  # std of Gaussian noise on both inputs of a discriminator (flow units)
    )
    # not in the paper, PAT only: weight of a second discriminator pair that judges single pixels'
    # unit-norm spectra (what a pixel classifier sees) instead of image patches; ``pixel_samples``
    # pixels per domain and iteration, drawn with probability ∝ squared norm, so that vessels and
    # skin count rather than the dark background (no label is read). 0 = off
    pixel_weight: float = 0.0
    pixel_samples: int = 2048
    # > 0: the pixel discriminators also read each pixel's image row over this many pixels, so
    # they match spectrum *and* depth (the real fluence colours spectra with depth; a label-free
    # auxiliary variable that both domains share). 0 = spectra only
    pixel_depth: float = 0.0


@dataclass
class LossConfig:
    """Loss weights and schedules."""

    nll_weight: float = 1.0
    adv_weight: float = (
        1.0  # LSGAN generator loss weight once warmed up (0 disables discriminators)
    )
    adv_start: int = 200  # iterations of pure maximum likelihood before the adversarial term
    adv_ramp: int = 200  # iterations over which the adversarial weight ramps linearly to adv_weight
    noise: float = 0.0  # Gaussian augmentation, in units of each band's std (paper: 0.1)
    # not in the paper: mean squared distance, in the target domain's standardised flow
    # coordinates, between a transfer and its anchor (transport_anchor); among the maps that match
    # the domains it picks the one closest to the anchor, which keeps a spectrum's tissue identity.
    transport_weight: float = 0.0
    # what a transfer is compared with: "moment-matching" (the sample itself, each side in its own
    # domain's standardised coordinates: 0 at per-band moment matching) or "ot-linear" (the closed-form
    # Gaussian optimal-transport map between the domains' unit-norm training spectra, HSI only,
    # fitted once before training: the cINN learns a correction of the linear OT map)
    transport_anchor: str = "moment-matching"
    class_noise: float = 0.5  # max label noise on the organ one-hot when the model has n_classes
    # not in the paper: "matched" dequantises each domain up to the noise level of the noisiest
    # one, per band (noise estimated from the data, see training/noise_level.py): a noise-free
    # simulation then fills the latent like the noisy measurements do, and the model file keeps
    # that noise so a stochastic transfer can draw it. "none": only ``noise`` above.
    # "camera": the same with the Poisson–Gaussian noise of an image sensor (read + shot noise per
    # band, so dark pixels get relatively more noise than bright ones; noise_level.camera_noise)
    dequantize: str = "none"
    dequantize_scale: float = 1.0  # multiplies the matched noise std
    # class condition of the real domain for models with n_classes: "random" (the paper: random
    # organ labels) or "pseudo" (soft labels from a classifier trained on sim only, applied to the
    # linear-OT map of the real spectra; no real label is ever read); "pseudo-noisy": the same
    # classifier trained on the moved sim spectra plus the noise they lack against real (as the
    # ot-noise baseline), so that it meets noisy real spectra as it was trained; "pseudo-teacher":
    # the classifier is trained on a teacher cINN's stochastic sim->real transfers of the labelled
    # sim spectra (``teacher``: its model file), i.e. one round of self-training
    real_classes: str = "random"
    teacher: str = ""  # model file of the pseudo-labeller's teacher (real_classes: pseudo-teacher)
    max_bad_steps: int = 25  # consecutive non-finite steps tolerated before the run stops


@dataclass
class OptimConfig:
    """Optimisers (Adam: one for the flow, one for both discriminators) and schedules."""

    lr: float = 1e-3
    disc_lr: float = 1e-3
    betas: list[float] = field(default_factory=lambda: [0.9, 0.999])
    weight_decay: float = 0.0
    scheduler: str = "cosine"  # "cosine" (per iteration, to min_lr_ratio), "plateau", "none"
    min_lr_ratio: float = 0.05
    plateau_patience: int = 3
    plateau_factor: float = 0.5
    grad_clip: float = 5.0  # max global gradient norm of the flow (0: off)
    disc_grad_clip: float = 5.0


@dataclass
class TrainerConfig:
    """Lightning Trainer settings. Budgets count iterations (one batch of each domain)."""

    max_epochs: int = 10
    max_steps: int = -1  # iterations (not optimiser steps); -1: no limit
    max_time: str | None = None  # "DD:HH:MM:SS", e.g. "00:00:14:00"
    accelerator: str = "auto"
    devices: Any = "auto"
    strategy: str = "auto"
    precision: str = "32-true"
    num_nodes: int = 1
    out_dir: str = "runs/cinn"
    log_every_n_steps: int = 25
    checkpoint_every_n_steps: int = 200  # iterations between "last.ckpt" refreshes
    # also keep each periodic checkpoint as step<N>.ckpt (to pick one later)
    keep_checkpoints: bool = False
    # label-free checkpoint choice: also keep "best.ckpt", the checkpoint with the lowest value of
    # this validation figure among those after the adversarial ramp (e.g. "val/mmd_transfer": MMD²
    # of the transfer against unlabelled real validation data; or "val/c2st_transfer", a two-sample
    # classifier between them, 1-2 s more per validation); "" keeps only the last one
    select_by: str = ""
    # not in the paper: an exponential moving average of all weights (Lightning's weight
    # averaging, train.weight_ema), used for validation, checkpoints and the exported model; 0 = off
    ema_decay: float = 0.0
    val_check_interval: Any = 1.0
    num_threads: int = 0  # torch CPU threads (0: leave torch's default)
    progress_bar: bool = True
    deterministic: bool = False


@dataclass
class UnitConfig:
    """UNIT baseline (shared-latent VAE-GAN, Liu et al. 2017)."""

    latent: int = 16  # HSI latent size; PAT latent channels
    hidden: int = 256  # HSI hidden width; PAT base channels
    kl_weight: float = 0.01
    recon_weight: float = 10.0
    cycle_weight: float = 10.0
    gan_weight: float = 1.0


@dataclass
class OTConfig:
    """Optimal-transport mapping of spectra with POT ``ot.da``."""

    kind: str = "linear"  # "linear" (Gaussian Monge map), "sinkhorn", "emd"
    n_samples: int = 5000  # spectra per domain used to fit (5-20 k is practical)
    reg: float = 0.05  # entropic regularisation (sinkhorn), relative to the median cost
    norm: str = "l2"  # per-spectrum normalisation before the map; the pixel's norm is restored


@dataclass
class Config:
    """The whole run."""

    method: str = "cinn"  # "cinn", "unit" or "ot"
    modality: str = "hsi"  # "hsi" (spectra) or "pat" (images)
    seed: int = 0
    name: str = ""
    data: DataConfig = field(default_factory=DataConfig)
    model: dict[str, Any] = field(default_factory=dict)  # build_model(**model)
    disc: DiscConfig = field(default_factory=DiscConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    unit: UnitConfig = field(default_factory=UnitConfig)
    ot: OTConfig = field(default_factory=OTConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def validate(self) -> Config:
        """Check values that the types alone do not catch; returns self."""
        choices = {
            "method": (self.method, ("cinn", "unit", "ot")),
            "modality": (self.modality, ("hsi", "pat")),
            "optim.scheduler": (self.optim.scheduler, ("cosine", "plateau", "none")),
            "ot.kind": (self.ot.kind, ("linear", "sinkhorn", "emd")),
            "ot.norm": (self.ot.norm, ("l1", "l2", "none")),
            "loss.transport_anchor": (self.loss.transport_anchor, ("moment-matching", "ot-linear")),
            "loss.dequantize": (self.loss.dequantize, ("none", "matched", "camera")),
            "loss.real_classes": (
                self.loss.real_classes,
                ("random", "pseudo", "pseudo-noisy", "pseudo-teacher"),
            ),
        }
        for key, (value, allowed) in choices.items():
            if value not in allowed:
                raise ConfigError(f"{key}={value!r} is not one of {', '.join(allowed)}")
        if not 0 <= self.data.val_fraction < 1:
            raise ConfigError(f"data.val_fraction must be in [0, 1), got {self.data.val_fraction}")
        for key in ("batch_size", "samples_per_epoch", "crop", "val_samples", "pixels_per_file"):
            if getattr(self.data, key) < 1:
                raise ConfigError(f"data.{key} must be >= 1, got {getattr(self.data, key)}")
        if self.optim.lr <= 0 or self.optim.disc_lr <= 0:
            raise ConfigError("optim.lr and optim.disc_lr must be > 0")
        if self.loss.transport_anchor == "ot-linear" and self.modality != "hsi":
            raise ConfigError(
                "loss.transport_anchor 'ot-linear' maps spectra: use it with modality 'hsi'"
            )
        if (self.loss.real_classes == "pseudo-teacher") != bool(self.loss.teacher):
            raise ConfigError(
                "loss.real_classes=pseudo-teacher and loss.teacher (a model file) go together"
            )
        if self.method == "ot" and self.modality != "hsi":
            raise ConfigError("method 'ot' maps spectra: use it with modality 'hsi'")
        if self.disc.pixel_weight > 0 and self.modality != "pat":
            raise ConfigError(
                "disc.pixel_weight adds pixel discriminators to image models: use it with "
                "modality 'pat' (HSI discriminators already judge single spectra)"
            )
        from .config_checks import check_ranges

        check_ranges(self, ConfigError)  # every number in range, trainer strings, model section
        return self


_SECTIONS = {f.name: f for f in dataclasses.fields(Config)}


def valid_keys() -> list[str]:
    """Every dotted key a config may set (``model.*`` keys are checked against build_model)."""
    keys: list[str] = []
    for name, hint in get_type_hints(Config).items():
        if dataclasses.is_dataclass(hint):
            keys += [f"{name}.{g.name}" for g in dataclasses.fields(hint)]
        else:
            keys.append(name)
    return keys


def _unknown(key: str, candidates: list[str], where: str) -> ConfigError:
    close = difflib.get_close_matches(key, candidates, n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return ConfigError(f"unknown config key {key!r} in {where}{hint}")


def _coerce(value: Any, annotation: Any, key: str) -> Any:
    """Light type check/coercion of a scalar config value (YAML already parsed numbers/bools)."""
    if annotation is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if annotation is float and isinstance(value, str):
        try:
            return float(value)  # YAML reads "1e-3" as a string
        except ValueError:
            pass
    simple = {int: "an integer", float: "a number", bool: "true/false", str: "a string"}
    if annotation in simple:
        ok = isinstance(value, annotation) and not (annotation is int and isinstance(value, bool))
        if not ok:
            raise ConfigError(f"{key} must be {simple[annotation]}, got {value!r}")
    return value


def _build(cls: type, values: dict[str, Any], prefix: str, where: str) -> Any:
    hints = get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    kwargs = {}
    for key, value in values.items():
        dotted = f"{prefix}{key}"
        if key not in names:
            raise _unknown(dotted, [f"{prefix}{n}" for n in names] + valid_keys(), where)
        hint = hints[key]
        if dataclasses.is_dataclass(hint):
            if not isinstance(value, dict):
                raise ConfigError(f"{dotted} must be a mapping of keys, got {value!r}")
            kwargs[key] = _build(hint, value, f"{dotted}.", where)
        elif key == "model" and cls is Config:
            if not isinstance(value, dict):
                raise ConfigError(
                    f"model must be a mapping of build_model arguments, got {value!r}"
                )
            kwargs[key] = dict(value)
        else:
            kwargs[key] = _coerce(value, hint, dotted)
    return cls(**kwargs)


def config_from_dict(values: dict[str, Any], where: str = "config") -> Config:
    """Build and validate a :class:`Config` from a nested dict."""
    if not isinstance(values, dict):
        raise ConfigError(f"{where} must be a mapping of sections, got {type(values).__name__}")
    return _build(Config, values, "", where).validate()


def apply_override(values: dict[str, Any], override: str) -> None:
    """Apply one ``dotted.key=value`` override in place (value parsed as YAML)."""
    if "=" not in override:
        raise ConfigError(f"override {override!r} must look like key=value, e.g. optim.lr=3e-4")
    key, raw = override.split("=", 1)
    key = key.strip()
    parts = key.split(".")
    if not all(parts):
        raise ConfigError(f"override key {key!r} is malformed")
    if parts[0] not in _SECTIONS:
        raise _unknown(key, valid_keys(), "the command line")
    if len(parts) > 1 and parts[0] != "model" and f"{parts[0]}.{parts[1]}" not in valid_keys():
        raise _unknown(key, valid_keys(), "the command line")
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError as err:
        raise ConfigError(f"cannot parse the value of override {override!r}: {err}") from None
    node = values
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(f"override {key!r}: {part!r} is not a section")
    node[parts[-1]] = value


def load_config(path: str | Path | None, overrides: list[str] | tuple[str, ...] = ()) -> Config:
    """Read a YAML config and apply ``key=value`` overrides.

    Relative data paths stay relative to the current directory (the usual case: run from the
    project root); see ``docs/training.md``.
    """
    values: dict[str, Any] = {}
    where = "the command line"
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise ConfigError(f"config file {str(p)!r} not found")
        try:
            values = yaml.safe_load(p.read_text()) or {}
        except yaml.YAMLError as err:
            raise ConfigError(f"{p}: not valid YAML: {err}") from None
        if not isinstance(values, dict):
            raise ConfigError(f"{p}: the top level must be a mapping of sections")
        where = str(p)
        # check the file's own keys first so the message names the file
        config_from_dict(values, where)
    for override in overrides:
        apply_override(values, override)
    return config_from_dict(values, where if not overrides else f"{where} + overrides")
