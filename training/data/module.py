"""From two folders to a Lightning data module: index, split by subject, sample, validate.

:func:`prepare` indexes the sim (labelled) and real (unlabelled) folders, checks that they share
one wavelength grid and splits each domain by subject (files of one subject stay together; never
by pixel). :class:`SpectralDataModule` serves the seeded batches of :mod:`.datasets` to Lightning.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import lightning as L
import numpy as np
from torch.utils.data import DataLoader

from napari_cinn.core.spectra import describe_grid

from .datasets import CropBatches, EpochSampler, Fixed, SpectraBatches, fixed_validation
from .manifest import HashCache, manifest
from .sampling import Sampling
from .sources import DOMAINS, DataError, DomainData, array_subject, load_domain

log = logging.getLogger(__name__)


def split_subjects(
    data: DomainData, val_fraction: float, seed: int
) -> tuple[DomainData, DomainData]:
    """Subject-level train/validation split (files of one subject stay together).

    With a single subject, validation uses that subject too (a warning says so).
    """
    names = sorted({s.subject for s in data.subjects})
    rng = np.random.default_rng(
        [seed, len(names), DOMAINS.index(data.domain) if data.domain in DOMAINS else 7]
    )
    order = rng.permutation(len(names))
    n_val = int(round(val_fraction * len(names)))
    n_val = min(max(n_val, 1 if val_fraction > 0 else 0), len(names) - 1)
    val_names = {names[i] for i in order[:n_val]}
    part = [
        DomainData(
            data.domain,
            data.wavelengths,
            [s for s in data.subjects if (s.subject in val_names) == is_val],
            sampling=data.sampling,
        )
        for is_val in (False, True)
    ]
    train, val = part
    if not val.subjects:
        log.warning(
            "%s: no subject held out for validation (val_fraction %g, %d subject(s)): "
            "validation reuses the training subjects",
            data.domain,
            val_fraction,
            len(names),
        )
        val = train
    return train, val


@dataclass
class TrainingData:
    """Everything the trainers need, built from a :class:`~napari_cinn_training.config.DataConfig`."""

    modality: str
    wavelengths: np.ndarray
    train: dict[str, DomainData]
    val: dict[str, DomainData]
    manifest: dict
    label_names: dict[int, str] | None = None
    sampling: Sampling | None = None

    def describe(self) -> str:
        parts = []
        sp = self.sampling or Sampling()
        for d in DOMAINS:
            tr = self.train[d].subjects
            part = f"{d}: {len(tr)} train / {len(self.val[d].subjects)} val subjects"
            if self.modality == "hsi" and not all(s.in_memory for s in tr):
                slots = min(len(tr), sp.slots(self.wavelengths.size))
                part += (
                    f" (pool: {slots} files x <= {sp.pixels_per_file} px, "
                    f"{min(sp.refresh_files, slots)} re-read per epoch)"
                )
            elif self.modality != "hsi":
                part += f" ({sum(len(s.images) for s in tr)} images for training)"
            parts.append(part)
        return f"{describe_grid(self.wavelengths)}; " + "; ".join(parts)


def prepare(
    sim: str | Path,
    real: str | Path,
    modality: str,
    *,
    val_fraction: float = 0.2,
    seed: int = 0,
    background: bool = True,
    expect_bands: Sequence[float] | None = None,
    sampling: Sampling | None = None,
    hashes: HashCache | None = None,
) -> TrainingData:
    """Index both domains, check that they share one wavelength grid, split each by subject.

    ``sampling``: the HSI pixel caps and memory budget (default :class:`~.sampling.Sampling`);
    ``hashes``: where file digests are cached (default: the user's cache).
    """
    hashes = HashCache() if hashes is None else hashes
    sim_data = load_domain(
        sim,
        "sim",
        modality,
        with_labels=True,
        background=background,
        wavelengths=None if expect_bands is None else np.asarray(expect_bands),
        hashes=hashes,
    )
    try:
        real_data = load_domain(
            real,
            "real",
            modality,
            with_labels=False,
            wavelengths=sim_data.wavelengths,
            hashes=hashes,
        )
    except DataError as err:
        if "differ from the rest" in str(err):
            raise DataError(f"{err} (the sim data in {str(sim)!r} is the reference)") from None
        raise
    for d in (sim_data, real_data):
        d.sampling = sampling
    splits = {d.domain: split_subjects(d, val_fraction, seed) for d in (sim_data, real_data)}
    return TrainingData(
        modality=modality,
        wavelengths=sim_data.wavelengths,
        train={d: splits[d][0] for d in DOMAINS},
        val={d: splits[d][1] for d in DOMAINS},
        manifest=manifest({"sim": sim_data, "real": real_data}, splits),
        sampling=sampling,
    )


def prepare_config(cfg) -> TrainingData:
    """:func:`prepare` with the data section, modality and seed of a run's ``Config``: the same
    split for ``cinn-train fit`` and for what later reads the run's validation subjects
    (``data.split_seed`` when set, else the run's seed)."""
    d = cfg.data
    return prepare(
        d.sim,
        d.real,
        cfg.modality,
        val_fraction=d.val_fraction,
        seed=cfg.seed if d.split_seed < 0 else d.split_seed,
        background=d.background,
        sampling=Sampling.from_config(d),
    )


class SpectralDataModule(L.LightningDataModule):
    """Lightning data module over :class:`TrainingData` (batches are built by the datasets)."""

    def __init__(
        self,
        data: TrainingData,
        batch_size: int,
        samples_per_epoch: int,
        crop: int = 64,
        val_samples: int = 4096,
        num_workers: int = 0,
        seed: int = 0,
    ):
        super().__init__()
        self.data = data
        self.batch_size, self.samples_per_epoch, self.crop = batch_size, samples_per_epoch, crop
        self.val_samples, self.num_workers, self.seed = val_samples, num_workers, seed
        self.sampler: EpochSampler | None = None

    def _rank(self) -> tuple[int, int]:
        trainer = self.trainer
        return (trainer.global_rank, trainer.world_size) if trainer is not None else (0, 1)

    def train_dataset(self) -> SpectraBatches | CropBatches:
        if self.data.modality == "hsi":
            rank, world = self._rank()
            return SpectraBatches(
                self.data.train,
                self.batch_size,
                self.samples_per_epoch,
                self.seed,
                rank=rank,
                world=world,
            )
        return CropBatches(
            self.data.train, self.batch_size, self.samples_per_epoch, self.crop, self.seed
        )

    def train_dataloader(self) -> DataLoader:
        ds = self.train_dataset()
        rank, world = self._rank()
        self.sampler = EpochSampler(len(ds), rank, world, on_epoch=ds.prepare_epoch)
        return DataLoader(
            ds,
            batch_size=None,
            sampler=self.sampler,
            num_workers=self.num_workers,
            persistent_workers=False,
        )

    def val_dataloader(self) -> DataLoader:
        batch = fixed_validation(
            self.data.val, self.data.modality, self.val_samples, self.crop, self.seed
        )
        return DataLoader(Fixed(batch), batch_size=None)


def from_arrays(
    sim: np.ndarray, real: np.ndarray, modality: str = "hsi", wavelengths: np.ndarray | None = None
) -> TrainingData:
    """Training data from in-memory samples (HSI ``(n, bands)``; PAT ``(n, bands, y, x)``), one
    subject per domain, validation on the same data (for baselines fitted inside ``evaluate``)."""
    bands = sim.shape[1]
    wl = np.arange(bands, dtype=float) if wavelengths is None else np.asarray(wavelengths, float)
    domains = {
        d: DomainData(d, wl, [array_subject(d, x, modality)])
        for d, x in (("sim", sim), ("real", real))
    }
    return TrainingData(modality, wl, domains, domains, manifest={"sim": "array", "real": "array"})
