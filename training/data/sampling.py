"""Bounded-memory sampling of HSI training pixels: capped samples per file, a rotating pool.

:func:`sample_file` reads one file chunk by chunk (a few MB at a time, whatever the cube size) and
keeps a uniform sample of its usable pixels: at most ``pixels_per_class`` per label class (the paper
used at most 5,000 per organ per image) and at most ``pixels_per_file`` in all. Each pixel gets a
seeded random key and the pixels with the smallest keys are kept (a bottom-k sample), so the
sample is uniform, reproducible and needs one pass.

:class:`EpochPool` holds the samples of as many files as ``memory_mb`` allows and re-reads
``refresh_files`` of them per epoch, walking through all files in a seeded order. Which reads the
pool of epoch ``e`` holds is a function of ``(seed, e)`` alone, so a resumed run rebuilds exactly
the pool it had; memory and the reading per epoch depend on the settings, not on the dataset size.

Shapes: spectra ``(n, bands)`` float32, labels ``(n,)`` int64.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .files import Subject, read_image

#: bytes of pixel data read per chunk while sampling a file
CHUNK_BYTES = 8 << 20


@dataclass(frozen=True)
class Sampling:
    """How HSI training pixels are sampled (``data.*`` keys of the config)."""

    pixels_per_file: int = 20_000  # at most this many pixels of one file in the pool at a time
    pixels_per_class: int = 5_000  # at most this many of one label class per file (0: no cap)
    memory_mb: float = 2048.0  # pool size of both domains together, per process
    refresh_files: int = 16  # files re-read (fresh samples) per epoch; 0: a fixed pool

    @classmethod
    def from_config(cls, data_cfg) -> Sampling:
        """From a ``DataConfig`` (missing keys keep the defaults)."""
        kw = {k: getattr(data_cfg, k) for k in cls.__dataclass_fields__ if hasattr(data_cfg, k)}
        return cls(**kw)

    def slots(self, bands: int, n_domains: int = 2) -> int:
        """Files whose samples fit into the memory budget of one domain."""
        per_slot = max(1, self.pixels_per_file) * (4 * bands + 8)
        return max(1, int(self.memory_mb * 2**20 / n_domains // per_slot))


def _blocks(spatial: tuple[int, ...], budget: int):
    """Index tuples over ``spatial`` selecting whole rows, about ``budget`` pixels each."""
    rows_per = max(1, budget // max(spatial[-1], 1))
    lead = spatial[:-2]
    for idx in np.ndindex(*lead) if lead else [()]:
        for y0 in range(0, spatial[-2], rows_per):
            yield (*idx, slice(y0, min(y0 + rows_per, spatial[-2])))


def _keep_smallest(keys: np.ndarray, k: int) -> np.ndarray:
    if k <= 0 or len(keys) <= k:
        return np.arange(len(keys))
    return np.argpartition(keys, k - 1)[:k]


def sample_file(
    s: Subject, seed, per_file: int = 20_000, per_class: int = 0
) -> tuple[np.ndarray, np.ndarray | None]:
    """A uniform sample of the usable pixels of one file (see the module docstring).

    ``per_file=0`` keeps every usable pixel. In-memory subjects return their arrays as they are.
    Returns spectra ``(m, bands)`` and labels ``(m,)`` (None without labels), ordered by key.
    """
    if s.spectra is not None:
        return s.spectra, s.labels
    image = read_image(s.path, s.has_labels)
    data = image.data
    bands = int(data.shape[0])
    labels = image.labels if s.has_labels else None
    rng = np.random.default_rng(seed)
    cap = per_class if (labels is not None and per_class > 0) else per_file
    kept: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}  # class -> keys, x, y
    budget = max(1, CHUNK_BYTES // (4 * bands))
    for sel in _blocks(tuple(data.shape[1:]), budget):
        block = np.asarray(data[(slice(None), *sel)], dtype=np.float32).reshape(bands, -1)
        keys = rng.random(block.shape[1])
        ok = np.isfinite(block).all(0) & (block != 0).any(0)  # valid_spectra, bands first
        lab = None if labels is None else np.asarray(labels[sel]).reshape(-1).astype(np.int64)
        if lab is not None and not s.background:
            ok &= lab != 0
        classes = [0] if lab is None else np.unique(lab[ok])
        for c in classes:
            rows = np.flatnonzero(ok if lab is None else ok & (lab == c))
            old = kept.get(int(c))
            if cap > 0 and old is not None and len(old[0]) >= cap:
                rows = rows[keys[rows] < old[0].max()]  # only keys that can still enter
            if not len(rows):
                continue
            k_new, x_new = keys[rows], block[:, rows].T
            y_new = np.full(len(rows), c, np.int64)
            if old is not None:
                k_new = np.concatenate([old[0], k_new])
                x_new = np.concatenate([old[1], x_new])
                y_new = np.concatenate([old[2], y_new])
            pick = _keep_smallest(k_new, cap)
            kept[int(c)] = (k_new[pick], x_new[pick], y_new[pick])
    if not kept:
        return np.empty((0, bands), np.float32), None if labels is None else np.empty(0, np.int64)
    keys = np.concatenate([v[0] for v in kept.values()])
    order = _keep_smallest(keys, per_file)
    order = order[np.argsort(keys[order], kind="stable")]
    x = np.ascontiguousarray(np.concatenate([v[1] for v in kept.values()])[order])
    y = None if labels is None else np.concatenate([v[2] for v in kept.values()])[order]
    return x, y


class EpochPool:
    """Samples of a bounded number of files, refreshed a few files per epoch (module docstring).

    Parameters
    ----------
    subjects : the files of one domain (this rank's share is taken with ``rank``/``world``)
    sampling : the caps and budgets
    seed : pool seed (file order and every file's sample)
    slots : files held at once (default: what ``sampling.memory_mb`` allows)
    """

    def __init__(
        self,
        subjects: list[Subject],
        sampling: Sampling,
        seed: int,
        bands: int,
        rank: int = 0,
        world: int = 1,
        slots: int | None = None,
    ):
        if world > 1 and len(subjects) >= world:
            subjects = subjects[rank::world]  # each rank reads its own files
        self.files = list(subjects)
        self.sampling, self.seed = sampling, int(seed)
        n = len(self.files)
        if all(s.in_memory for s in self.files):
            self.size, self.refresh = n, 0  # nothing to read: every subject, always
        else:
            self.size = min(n, slots if slots is not None else sampling.slots(bands))
            self.refresh = min(max(0, sampling.refresh_files), self.size)
        self.order = np.random.default_rng([self.seed, n, 11]).permutation(n)
        self._reads: dict[int, tuple[np.ndarray, np.ndarray | None]] = {}
        self.files_read = 0

    def reads(self, epoch: int) -> range:
        """Read numbers held at ``epoch``: the last ``size`` of ``size + epoch * refresh``."""
        end = self.size + int(epoch) * self.refresh
        return range(end - self.size, end)

    def subject(self, t: int) -> Subject:
        return self.files[int(self.order[t % len(self.files)])]

    def at(self, epoch: int) -> list[tuple[np.ndarray, np.ndarray | None]]:
        """The samples of epoch ``epoch`` (files without usable pixels are left out)."""
        want = self.reads(epoch)
        self._reads = {t: v for t, v in self._reads.items() if t in want}
        sp = self.sampling
        for t in want:
            if t not in self._reads:
                s = self.subject(t)
                self._reads[t] = sample_file(
                    s, [self.seed, t, 13], sp.pixels_per_file, sp.pixels_per_class
                )
                self.files_read += 0 if s.in_memory else 1
        return [self._reads[t] for t in want if len(self._reads[t][0])]

    def nbytes(self) -> int:
        return sum(x.nbytes + (0 if y is None else y.nbytes) for x, y in self._reads.values())


def pooled(
    subjects: list[Subject], sampling: Sampling, seed: int, bands: int, limit: int
) -> tuple[np.ndarray, np.ndarray | None]:
    """At most ``limit`` spectra (and labels) from the epoch-0 pool of ``subjects``."""
    parts = EpochPool(subjects, sampling, seed, bands).at(0)
    if not parts:
        return np.empty((0, bands), np.float32), None
    x = np.concatenate([p[0] for p in parts])
    y = None if any(p[1] is None for p in parts) else np.concatenate([p[1] for p in parts])
    if len(x) > limit:
        pick = np.sort(np.random.default_rng(seed).choice(len(x), limit, replace=False))
        x, y = x[pick], None if y is None else y[pick]
    return x, y


def validation_slots(n_files: int, n: int) -> tuple[int, int]:
    """(files, pixels per file) for a fixed validation set of ``n`` spectra (at most 32 files)."""
    files = max(1, min(n_files, 32))
    return files, max(1, math.ceil(2 * n / files))
