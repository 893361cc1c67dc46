"""Training data: read the sim folder (labelled) and the real folder (unlabelled), split by subject,
and sample batches of spectra (HSI) or image crops (PAT).

Every file a reader of the plugin opens (``napari_cinn.io.read_spectral``: ENVI, npz, npy, tif, h5,
Tivita) is one *subject*, unless its metadata names a ``subject`` (then files of one subject stay
together). Splits are by subject, never by pixel. Labels of the real domain are never used: they
are dropped as the file is read and never reach a dataset.

Batches are drawn by index-seeded random generators, so a batch depends only on (seed, epoch,
index): reproducible, safe with several DataLoader workers and with DDP (each rank gets different
indices from Lightning's distributed sampler).

Shapes: spectra ``(n, bands)``; images ``(n, bands, crop, crop)``.
"""

from __future__ import annotations

import hashlib
import inspect
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from napari_cinn.core.spectra import describe_grid, same_grid, valid_spectra

log = logging.getLogger(__name__)

DOMAINS = ("sim", "real")
#: file types read as cubes; label / wavelength sidecars are skipped
EXTENSIONS = (".hdr", ".dat", ".npy", ".npz", ".tif", ".tiff", ".h5", ".hdf5")
_SIDECARS = ("_labels.npy", "_wavelengths.json", "_seg.npy", "_ind.npy")


class DataError(ValueError):
    """Training data that cannot be used; the message names the folder/file and the problem."""


@dataclass
class Subject:
    """One file of one domain, in memory.

    ``spectra``: HSI ``(n_valid, bands)`` float32 of the usable pixels, ``labels`` ``(n_valid,)``
    or None. ``images``: PAT ``(n_images, bands, y, x)`` float32 (volumes give one image per z).
    """

    path: Path
    subject: str
    domain: str
    spectra: np.ndarray | None = None
    labels: np.ndarray | None = None
    images: np.ndarray | None = None
    sha256: str = ""


@dataclass
class DomainData:
    """The subjects of one domain with their common wavelength grid."""

    domain: str
    wavelengths: np.ndarray
    subjects: list[Subject] = field(default_factory=list)

    def spectra(self) -> np.ndarray:
        """All usable spectra ``(n, bands)`` (HSI) or all image pixels (PAT)."""
        if not self.subjects:
            return np.empty((0, self.wavelengths.size), np.float32)
        if self.subjects[0].images is not None:
            return np.concatenate(
                [
                    s.images.transpose(0, 2, 3, 1).reshape(-1, s.images.shape[1])
                    for s in self.subjects
                ]
            )
        return np.concatenate([s.spectra for s in self.subjects])


def list_files(path: str | Path, domain: str) -> list[Path]:
    """Spectral files in a folder (sorted; sidecars skipped) or the single file given."""
    p = Path(path)
    if not str(path):
        raise DataError(f"data.{domain} is not set: give the folder of {domain} images")
    if p.is_file():
        return [p]
    if not p.is_dir():
        raise DataError(f"{domain} data folder {str(p)!r} does not exist")
    files = _cube_files(p.iterdir())
    if not files:  # a nested layout, e.g. HeiPorSPECTRAL subjects/<subject>/<timestamp>/
        files = _cube_files(
            f for f in p.rglob("*") if not f.relative_to(p).parts[0].startswith(".")
        )
    if not files:
        raise DataError(
            f"{domain} data folder {str(p)!r} holds no readable spectral files "
            f"(looked for {', '.join(EXTENSIONS)})"
        )
    return files


def _cube_files(candidates) -> list[Path]:
    """Spectral files among ``candidates``, sorted; sidecars and ENVI data files skipped."""
    return sorted(
        f
        for f in candidates
        if f.is_file()
        and f.suffix.lower() in EXTENSIONS
        and not any(f.name.endswith(s) for s in _SIDECARS)
        and not f.name.startswith(".")
        and not (f.suffix.lower() == ".dat" and f.with_suffix(".hdr").exists())
    )


def file_sha256(path: Path) -> str:
    """SHA-256 of a data file (ENVI: header and .img together)."""
    h = hashlib.sha256()
    parts = [path]
    if path.suffix.lower() == ".hdr":
        exts = (".img", ".raw", ".dat", ".bil", ".bip", ".bsq")
        parts += [q for q in (path.with_suffix(e) for e in exts) if q.exists()]
    for part in parts:
        with open(part, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 22), b""):
                h.update(chunk)
    return h.hexdigest()


def _read(path: Path, with_labels: bool):
    from napari_cinn.io import read_spectral

    try:
        if not with_labels and "labels" in inspect.signature(read_spectral).parameters:
            image = read_spectral(path, labels=False)
        else:
            image = read_spectral(path)
    except ValueError as err:  # SpectralFileError names the file already
        raise DataError(str(err)) from None
    if not with_labels:
        image.labels = None  # real labels are never used by training
        image.label_names = None
    return image


def load_domain(
    path: str | Path,
    domain: str,
    modality: str,
    *,
    with_labels: bool,
    wavelengths: np.ndarray | None = None,
    background: bool = True,
) -> DomainData:
    """Read every file of one domain.

    Parameters
    ----------
    path : folder (or single file) of this domain
    modality : "hsi" keeps the usable spectra of each file; "pat" keeps whole images
    with_labels : read the label masks (sim only)
    wavelengths : expected grid; every file must match it (and each other)
    background : HSI sim: also keep pixels labelled 0
    """
    files = list_files(path, domain)
    data = DomainData(domain, np.empty(0))
    for f in files:
        image = _read(f, with_labels)
        wl = np.asarray(image.wavelengths, dtype=float)
        if wavelengths is None:
            wavelengths = wl
        elif not same_grid(wl, wavelengths):
            raise DataError(
                f"{f}: wavelengths ({describe_grid(wl)}) differ from the rest of the "
                f"training data ({describe_grid(wavelengths)}); resample the files to one "
                "grid first"
            )
        cube = np.asarray(image.data, dtype=np.float32)
        if cube.ndim == 3:
            cube = cube[:, None]  # (bands, 1, y, x)
        labels = None if image.labels is None else np.asarray(image.labels)
        if labels is not None and labels.ndim == 2:
            labels = labels[None]
        if labels is not None and labels.shape != cube.shape[1:]:
            raise DataError(
                f"{f}: label mask shape {labels.shape} does not match the image {cube.shape[1:]}"
            )
        subject = str(image.metadata.get("subject", f.stem)) if image.metadata else f.stem
        s = Subject(path=f, subject=subject, domain=domain, sha256=file_sha256(f))
        if modality == "hsi":
            flat = cube.reshape(cube.shape[0], -1).T  # (pixels, bands)
            keep = valid_spectra(flat)
            if labels is not None and not background:
                keep &= labels.ravel() != 0
            s.spectra = np.ascontiguousarray(flat[keep])
            s.labels = None if labels is None else labels.ravel()[keep].astype(np.int64)
            if len(s.spectra) == 0:
                log.warning("%s: no usable spectra (all zero or non-finite); skipped", f)
                continue
        else:
            images = np.ascontiguousarray(cube.transpose(1, 0, 2, 3))  # (z, bands, y, x)
            if not np.isfinite(images).all():
                raise DataError(f"{f}: the image contains NaN or infinite values")
            s.images = images
        data.subjects.append(s)
    if not data.subjects:
        raise DataError(f"{domain} data in {str(path)!r}: no usable samples in any file")
    data.wavelengths = np.asarray(wavelengths, dtype=float)
    return data


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
    train = DomainData(
        data.domain, data.wavelengths, [s for s in data.subjects if s.subject not in val_names]
    )
    val = DomainData(
        data.domain, data.wavelengths, [s for s in data.subjects if s.subject in val_names]
    )
    if not val.subjects:
        log.warning(
            "%s: only %d subject(s): validation reuses the training subjects",
            data.domain,
            len(names),
        )
        val = train
    return train, val


def manifest(
    datas: dict[str, DomainData], splits: dict[str, tuple[DomainData, DomainData]]
) -> dict:
    """JSON-able record of the data: per domain the files, subjects, split and SHA-256."""
    out: dict = {}
    for domain, d in datas.items():
        train, val = splits[domain]
        val_paths = {s.path for s in val.subjects} if val is not train else set()
        out[domain] = [
            {
                "file": str(s.path),
                "subject": s.subject,
                "sha256": s.sha256,
                "split": "val" if s.path in val_paths else "train",
                "samples": int(len(s.spectra) if s.spectra is not None else len(s.images)),
            }
            for s in d.subjects
        ]
    return out


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

    Each spectrum is drawn by first picking a file uniformly (balanced over files/subjects), then a
    usable pixel of that file uniformly. ``len`` = batches per epoch. Sim batches also carry
    ``"sim_labels"`` ``(B,)`` when the sim files have labels.
    """

    def __init__(
        self, domains: dict[str, DomainData], batch_size: int, samples_per_epoch: int, seed: int = 0
    ):
        self.spectra = {d: [s.spectra for s in dd.subjects] for d, dd in domains.items()}
        self.labels = {d: [s.labels for s in dd.subjects] for d, dd in domains.items()}
        self.batch_size = int(batch_size)
        self.n_batches = max(1, int(samples_per_epoch) // self.batch_size)
        self.seed = int(seed)
        self.epoch = 0

    def __getitem__(self, index) -> dict[str, torch.Tensor]:
        rng = self._rng(index)
        out: dict[str, torch.Tensor] = {}
        for domain, files in self.spectra.items():
            pick = rng.integers(len(files), size=self.batch_size)
            batch = np.empty((self.batch_size, files[0].shape[1]), np.float32)
            labels = np.zeros(self.batch_size, np.int64)
            has_labels = domain == "sim" and all(lab is not None for lab in self.labels[domain])
            for f in np.unique(pick):
                rows = np.flatnonzero(pick == f)
                px = rng.integers(len(files[f]), size=rows.size)
                batch[rows] = files[f][px]
                if has_labels:
                    labels[rows] = self.labels[domain][f][px]
            out[domain] = torch.from_numpy(batch)
            if has_labels:
                out[f"{domain}_labels"] = torch.from_numpy(labels)
        return out


class CropBatches(_EpochBatches):
    """PAT training batches: item ``i`` is ``{"sim": (B, bands, c, c), "real": (B, bands, c, c)}``.

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

    def __getitem__(self, index) -> dict[str, torch.Tensor]:
        rng = self._rng(index)
        out = {}
        c = self.crop
        for domain, files in self.images.items():
            crops = []
            for _ in range(self.batch_size):
                im = files[rng.integers(len(files))]
                z = rng.integers(im.shape[0])
                y0 = rng.integers(im.shape[2] - c + 1)
                x0 = rng.integers(im.shape[3] - c + 1)
                patch = im[z, :, y0 : y0 + c, x0 : x0 + c]
                if self.flip and rng.random() < 0.5:
                    patch = patch[:, :, ::-1]
                crops.append(patch)
            out[domain] = torch.from_numpy(np.ascontiguousarray(np.stack(crops)))
        return out


def fixed_validation(
    domains: dict[str, DomainData], modality: str, n: int, crop: int, seed: int
) -> dict[str, torch.Tensor]:
    """A fixed validation set per domain: ``n`` spectra ``(n, bands)`` (HSI) or ``ceil(n/16)``
    crops ``(m, bands, crop, crop)`` (PAT), balanced over files."""
    if modality == "hsi":
        ds = SpectraBatches(domains, batch_size=n, samples_per_epoch=n, seed=seed + 10_007)
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

    HSI ``(n, bands)`` spectra; PAT ``(n_images, bands, y, x)`` images (whole images).
    """
    rng = np.random.default_rng(seed)
    out = {}
    for d, dd in domains.items():
        if modality == "hsi":
            x = dd.spectra()
            if len(x) > limit:
                x = x[rng.choice(len(x), limit, replace=False)]
        else:
            x = np.concatenate([s.images for s in dd.subjects])
            per = x.shape[1] * x.shape[2] * x.shape[3]
            if len(x) * per > 50 * limit * x.shape[1]:
                x = x[rng.choice(len(x), max(1, 50 * limit * x.shape[1] // per), replace=False)]
        out[d] = x
    return out


@dataclass
class TrainingData:
    """Everything the trainers need, built from a :class:`~napari_cinn_training.config.DataConfig`."""

    modality: str
    wavelengths: np.ndarray
    train: dict[str, DomainData]
    val: dict[str, DomainData]
    manifest: dict
    label_names: dict[int, str] | None = None

    def describe(self) -> str:
        parts = []
        for d in DOMAINS:
            n_tr = sum(
                len(s.spectra) if s.spectra is not None else len(s.images)
                for s in self.train[d].subjects
            )
            unit = "spectra" if self.modality == "hsi" else "images"
            parts.append(
                f"{d}: {len(self.train[d].subjects)} train / {len(self.val[d].subjects)} val "
                f"subjects ({n_tr} {unit} for training)"
            )
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
) -> TrainingData:
    """Read both domains, check that they share one wavelength grid, and split each by subject."""
    sim_data = load_domain(
        sim,
        "sim",
        modality,
        with_labels=True,
        background=background,
        wavelengths=None if expect_bands is None else np.asarray(expect_bands),
    )
    try:
        real_data = load_domain(
            real, "real", modality, with_labels=False, wavelengths=sim_data.wavelengths
        )
    except DataError as err:
        if "differ from the rest" in str(err):
            raise DataError(f"{err} (the sim data in {str(sim)!r} is the reference)") from None
        raise
    splits = {d.domain: split_subjects(d, val_fraction, seed) for d in (sim_data, real_data)}
    names = None
    return TrainingData(
        modality=modality,
        wavelengths=sim_data.wavelengths,
        train={d: splits[d][0] for d in DOMAINS},
        val={d: splits[d][1] for d in DOMAINS},
        manifest=manifest({"sim": sim_data, "real": real_data}, splits),
        label_names=names,
    )


class EpochSampler(torch.utils.data.Sampler):
    """Yields ``(epoch, index)`` pairs for the batch datasets above, split across DDP ranks.

    Lightning calls :meth:`set_epoch` at the start of every epoch (also after a resume), so the
    batches of epoch ``e`` are the same whether or not the run was interrupted. ``skip`` (set on a
    mid-epoch resume) drops the first batches of the next pass, which were already trained on.
    """

    def __init__(self, n_batches: int, rank: int = 0, world_size: int = 1):
        self.n_batches, self.rank, self.world_size = int(n_batches), int(rank), int(world_size)
        self.epoch = 0
        self.skip = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return max(1, self.n_batches // self.world_size)  # equal on every rank (no DDP hang)

    def __iter__(self):
        skip, self.skip = self.skip, 0
        for k in range(skip, len(self)):
            yield (self.epoch, self.rank + k * self.world_size)


class _Fixed(Dataset):
    """A dataset of one ready-made batch (the fixed validation set)."""

    def __init__(self, batch: dict[str, torch.Tensor]):
        self.batch = batch

    def __len__(self) -> int:
        return 1

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return self.batch


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

    def train_dataset(self) -> Dataset:
        if self.data.modality == "hsi":
            return SpectraBatches(
                self.data.train, self.batch_size, self.samples_per_epoch, self.seed
            )
        return CropBatches(
            self.data.train, self.batch_size, self.samples_per_epoch, self.crop, self.seed
        )

    def train_dataloader(self) -> DataLoader:
        ds = self.train_dataset()
        trainer = self.trainer
        rank, world = (trainer.global_rank, trainer.world_size) if trainer is not None else (0, 1)
        self.sampler = EpochSampler(len(ds), rank, world)
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
        return DataLoader(_Fixed(batch), batch_size=None)


def from_arrays(
    sim: np.ndarray, real: np.ndarray, modality: str = "hsi", wavelengths: np.ndarray | None = None
) -> TrainingData:
    """Training data from in-memory samples (HSI ``(n, bands)``; PAT ``(n, bands, y, x)``), one
    subject per domain, validation on the same data (for baselines fitted inside ``evaluate``)."""
    bands = sim.shape[1]
    wl = np.arange(bands, dtype=float) if wavelengths is None else np.asarray(wavelengths, float)
    domains = {}
    for d, x in (("sim", sim), ("real", real)):
        x = np.asarray(x, np.float32)
        s = Subject(path=Path(f"<{d} array>"), subject=d, domain=d)
        if modality == "hsi":
            s.spectra = x[valid_spectra(x)]
        else:
            s.images = x
        domains[d] = DomainData(d, wl, [s])
    return TrainingData(modality, wl, domains, domains, manifest={"sim": "array", "real": "array"})
