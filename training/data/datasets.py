"""Batches for the trainers: seeded per (epoch, index), so they are reproducible and resumable.

A batch depends only on ``(seed, epoch, index)``: safe with several DataLoader workers and with
DDP (each rank gets different indices from :class:`EpochSampler`, and HSI ranks sample their own
share of the files). HSI batches are drawn from the domain's :class:`~.sampling.EpochPool`; PAT
crops from the images in memory.

Shapes: spectra ``(B, bands)``; crops ``(B, bands, crop, crop)``.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from .sampling import EpochPool, Sampling, pooled, validation_slots
from .sources import DataError, DomainData


class _EpochBatches(Dataset):
    """Whole batches drawn afresh each epoch from a seeded RNG: item ``i`` of epoch ``e`` is
    reproducible from ``(seed, e, i)``, which makes a resumed run draw the same batches."""

    n_batches: int
    seed: int
    epoch: int = 0

    def __len__(self) -> int:
        return self.n_batches

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def _rng(self, index) -> np.random.Generator:
        epoch, index = index if isinstance(index, tuple) else (self.epoch, index)
        return np.random.default_rng([self.seed, int(epoch), int(index)])


class SpectraBatches(_EpochBatches):
    """HSI training batches: item ``i`` is a dict ``{"sim": (B, bands), "real": (B, bands)}``.

    Each spectrum is drawn by first picking a file of the epoch's pool uniformly (balanced over
    files/subjects), then a pixel of that file's sample uniformly. ``len`` = batches per epoch.
    Sim batches also carry ``"sim_labels"`` ``(B,)`` when the sim files have labels.
    """

    def __init__(
        self,
        domains: dict[str, DomainData],
        batch_size: int,
        samples_per_epoch: int,
        seed: int = 0,
        rank: int = 0,
        world: int = 1,
        pools: dict[str, EpochPool] | None = None,
    ):
        self.pools = pools or {d: dd.pool(seed, rank, world) for d, dd in domains.items()}
        self.bands = {d: int(dd.wavelengths.size) for d, dd in domains.items()}
        self.batch_size = int(batch_size)
        self.n_batches = max(1, int(samples_per_epoch) // self.batch_size)
        self.seed = int(seed)
        self.epoch = 0

    def prepare_epoch(self, epoch: int) -> None:
        """Bring every pool to ``epoch`` (reads the files that enter it)."""
        for pool in self.pools.values():
            pool.at(epoch)

    def __getitem__(self, index) -> dict[str, torch.Tensor]:
        epoch = index[0] if isinstance(index, tuple) else self.epoch
        rng = self._rng(index)
        out: dict[str, torch.Tensor] = {}
        for domain, pool in self.pools.items():
            parts = pool.at(epoch)
            if not parts:
                raise DataError(f"{domain} data: no usable spectra (all zero or non-finite)")
            pick = rng.integers(len(parts), size=self.batch_size)
            batch = np.empty((self.batch_size, self.bands[domain]), np.float32)
            labels = np.zeros(self.batch_size, np.int64)
            has_labels = domain == "sim" and all(p[1] is not None for p in parts)
            for f in np.unique(pick):
                rows = np.flatnonzero(pick == f)
                px = rng.integers(len(parts[f][0]), size=rows.size)
                batch[rows] = parts[f][0][px]
                if has_labels:
                    labels[rows] = parts[f][1][px]
            out[domain] = torch.from_numpy(batch)
            if has_labels:
                out[f"{domain}_labels"] = torch.from_numpy(labels)
        return out


def crop_row0(batch: dict[str, torch.Tensor], domain: str) -> torch.Tensor | int:
    """The first image row of each of ``domain``'s crops ``(B,)`` in a :class:`CropBatches`
    batch, or 0 (spectra, whole images): the depth offset the PAT model is conditioned on."""
    return batch.get(f"{domain}_rows", 0)


class CropBatches(_EpochBatches):
    """PAT training batches: item ``i`` is ``{"sim": (B, bands, c, c), "real": (B, bands, c, c)}``
    plus ``"sim_rows"``, ``"real_rows"`` ``(B,)``: each crop's first image row (its depth offset).

    Each crop comes from a file picked uniformly, an image (z-slice) of it and a random position;
    random horizontal flips augment. ``crop`` must not exceed the image size.
    """

    def __init__(
        self,
        domains: dict[str, DomainData],
        batch_size: int,
        samples_per_epoch: int,
        crop: int,
        seed: int = 0,
        flip: bool = True,
    ):
        self.images = {d: [s.images for s in dd.subjects] for d, dd in domains.items()}
        for d, imgs in self.images.items():
            for s, im in zip(domains[d].subjects, imgs, strict=True):
                if min(im.shape[2:]) < crop:
                    raise DataError(
                        f"{s.path}: image {im.shape[2:]} is smaller than data.crop={crop}"
                    )
        self.batch_size, self.crop, self.flip = int(batch_size), int(crop), flip
        self.n_batches = max(1, int(samples_per_epoch) // self.batch_size)
        self.seed, self.epoch = int(seed), 0

    def prepare_epoch(self, epoch: int) -> None:
        """Nothing to read: PAT images are in memory."""

    def __getitem__(self, index) -> dict[str, torch.Tensor]:
        rng = self._rng(index)
        out = {}
        c = self.crop
        for domain, files in self.images.items():
            crops, rows = [], []
            for _ in range(self.batch_size):
                im = files[rng.integers(len(files))]
                z = rng.integers(im.shape[0])
                y0 = rng.integers(im.shape[2] - c + 1)
                x0 = rng.integers(im.shape[3] - c + 1)
                patch = im[z, :, y0 : y0 + c, x0 : x0 + c]
                if self.flip and rng.random() < 0.5:
                    patch = patch[:, :, ::-1]
                crops.append(patch)
                rows.append(y0)
            out[domain] = torch.from_numpy(np.ascontiguousarray(np.stack(crops)))
            out[f"{domain}_rows"] = torch.as_tensor(rows, dtype=torch.long)
        return out


def fixed_validation(
    domains: dict[str, DomainData], modality: str, n: int, crop: int, seed: int
) -> dict[str, torch.Tensor]:
    """A fixed validation set per domain: ``n`` spectra ``(n, bands)`` (HSI) or ``ceil(n/16)``
    crops ``(m, bands, crop, crop)`` (PAT), balanced over files.

    HSI reads at most 32 validation files (:func:`~.sampling.validation_slots`), a small sample
    of each, whatever the number of validation subjects.
    """
    if modality == "hsi":
        pools = {}
        for d, dd in domains.items():
            files, per = validation_slots(len(dd.subjects), n)
            base = dd.sampling or Sampling()
            sp = Sampling(per, min(per, base.pixels_per_class or per), base.memory_mb, 0)
            bands = int(dd.wavelengths.size)
            pools[d] = EpochPool(dd.subjects, sp, seed + 10_007, bands, slots=files)
        ds = SpectraBatches(domains, n, n, seed=seed + 10_007, pools=pools)
    else:
        m = max(1, -(-n // 16))
        ds = CropBatches(
            domains, batch_size=m, samples_per_epoch=m, crop=crop, seed=seed + 10_007, flip=False
        )
    return ds[0]


def training_arrays(
    domains: dict[str, DomainData], modality: str, limit: int = 200_000, seed: int = 0
) -> dict[str, np.ndarray]:
    """A subsample of each domain's training data to fit normalisation statistics.

    HSI ``(n, bands)`` spectra from the first epoch's pool (the one training starts with, read
    once); PAT ``(n_images, bands, y, x)`` images (whole images).
    """
    rng = np.random.default_rng(seed)
    out = {}
    for d, dd in domains.items():
        if modality == "hsi":
            parts = dd.pool(seed).at(0)
            x = (
                np.concatenate([p[0] for p in parts])
                if parts
                else np.empty((0, dd.wavelengths.size), np.float32)
            )
            if len(x) > limit:
                x = x[np.sort(rng.choice(len(x), limit, replace=False))]
        else:
            x = np.concatenate([s.images for s in dd.subjects])
            per = x.shape[1] * x.shape[2] * x.shape[3]
            if len(x) * per > 50 * limit * x.shape[1]:
                x = x[rng.choice(len(x), max(1, 50 * limit * x.shape[1] // per), replace=False)]
        out[d] = x
    return out


def labelled_spectra(
    data: DomainData, limit: int = 100_000, seed: int = 0
) -> tuple[np.ndarray, np.ndarray | None]:
    """Up to ``limit`` spectra ``(n, bands)`` with labels ``(n,)`` (None without label masks)."""
    return pooled(
        data.subjects, data.sampling or Sampling(), seed, int(data.wavelengths.size), limit
    )


class EpochSampler(torch.utils.data.Sampler):
    """Yields ``(epoch, index)`` pairs for the batch datasets above, split across DDP ranks.

    Lightning calls :meth:`set_epoch` at the start of every epoch (also after a resume), so the
    batches of epoch ``e`` are the same whether or not the run was interrupted. ``skip`` (set on a
    mid-epoch resume) drops the first batches of the next pass, which were already trained on.
    ``on_epoch(epoch)``, if given, runs in the main process then (the HSI pool reads its new files
    there, before DataLoader workers start).
    """

    def __init__(self, n_batches: int, rank: int = 0, world_size: int = 1, on_epoch=None):
        self.n_batches, self.rank, self.world_size = int(n_batches), int(rank), int(world_size)
        self.epoch = 0
        self.skip = 0
        self.on_epoch = on_epoch

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)
        if self.on_epoch is not None:
            self.on_epoch(self.epoch)

    def __len__(self) -> int:
        return max(1, self.n_batches // self.world_size)  # equal on every rank (no DDP hang)

    def __iter__(self):
        skip, self.skip = self.skip, 0
        for k in range(skip, len(self)):
            yield (self.epoch, self.rank + k * self.world_size)


class Fixed(Dataset):
    """A dataset of one ready-made batch (the fixed validation set)."""

    def __init__(self, batch: dict[str, torch.Tensor]):
        self.batch = batch

    def __len__(self) -> int:
        return 1

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return self.batch
