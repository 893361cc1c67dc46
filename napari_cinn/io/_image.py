"""The in-memory face of a spectral file: :class:`SpectralImage`, its errors and a lazy cube view.

NumPy only (no napari, Qt or torch), so training code can import it cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from napari_cinn.core.spectra import check_wavelengths, describe_grid


class SpectralFileError(ValueError):
    """A spectral file cannot be read or written; the message names the file and the problem."""


class LazyCube:
    """A read-only, lazily converted view of a (memory-mapped) cube.

    Wraps an array-like ``base`` of shape ``(bands, ...)`` and applies, only to the part that is
    read, a band permutation (``band_order``, e.g. to sort unsorted ENVI wavelengths) and a
    conversion to native float32 (divided by ``scale``, e.g. an ENVI reflectance scale
    factor). Raw values equal to ``nodata`` (an ENVI ``data ignore value``) become NaN, so they
    drop out of every statistic and of training. Slicing returns NumPy arrays; ``np.asarray``
    reads everything.
    napari accepts it as layer data (it has ``shape``, ``dtype``, ``ndim`` and ``__getitem__``).
    """

    def __init__(
        self,
        base,
        band_order: np.ndarray | None = None,
        dtype=np.float32,
        scale: float = 1.0,
        nodata: float | None = None,
    ):
        self.base = base
        self.scale = float(scale)
        self.nodata = None if nodata is None or np.isnan(nodata) else float(nodata)
        self.band_order = None if band_order is None else np.asarray(band_order, dtype=np.intp)
        self.dtype = np.dtype(dtype)
        self.shape = tuple(int(s) for s in base.shape)
        self.ndim = len(self.shape)
        self.size = int(np.prod(self.shape))

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize

    def __len__(self) -> int:
        return self.shape[0]

    def __repr__(self) -> str:
        return f"LazyCube(shape={self.shape}, dtype={self.dtype}, base={type(self.base).__name__})"

    def _convert(self, arr) -> np.ndarray:
        raw = np.asarray(arr)
        out = raw.astype(self.dtype, copy=True)
        if self.scale != 1.0:
            out /= self.scale
        if self.nodata is not None:
            flag = raw.dtype.type(self.nodata) if raw.dtype.kind == "f" else self.nodata
            out[raw == flag] = np.nan
        return out

    def __getitem__(self, key) -> np.ndarray:
        if not isinstance(key, tuple):
            key = (key,)
        if any(k is Ellipsis for k in key):
            n_explicit = sum(k is not None and k is not Ellipsis for k in key)
            i = next(i for i, k in enumerate(key) if k is Ellipsis)
            key = key[:i] + (slice(None),) * (self.ndim - n_explicit) + key[i + 1 :]
        if self.band_order is None:
            return self._convert(self.base[key])
        simple = all(isinstance(k, (int, np.integer, slice)) for k in key[1:])
        if not key or not simple or any(k is None for k in key):
            return np.asarray(self)[key]
        band = self.band_order[key[0]]
        rest = key[1:]
        if np.ndim(band) == 0:
            return self._convert(self.base[(int(band),) + rest])
        # read the needed bands one by one: each read touches only its (lazy) slab
        parts = [self.base[(int(b),) + rest] for b in band]
        if not parts:
            return self._convert(self.base[(slice(0, 0),) + rest])
        return self._convert(np.stack(parts))

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        base = np.asarray(self.base)
        if self.band_order is not None:
            base = base[self.band_order]
        out = self._convert(base)
        return out if dtype is None else out.astype(dtype, copy=False)


@dataclass
class SpectralImage:
    """A spectral image with its wavelengths, optional labels and metadata.

    Attributes
    ----------
    data : (bands, y, x) or (bands, z, y, x) array, float32 values; may be a ``np.memmap`` or a
        :class:`LazyCube` (read with ``np.asarray(image.data)`` to load it)
    wavelengths : (bands,) float64, nm, strictly increasing
    labels : (y, x) or (z, y, x) int array, or None (0 = background / unlabelled)
    label_names : {label value: name}, or None
    metadata : free-form dict; known keys: "domain" ("sim", "real", ...), "subject", "source",
        "notes" (list of sentences the reader wants the user to see, e.g. an assumed byte order)
    extras : {name: (y, x) or (z, y, x) array} of per-pixel maps that come with the image (e.g.
        the oxygenation map of a PAT simulation); shown as extra layers, never used as data
    """

    data: Any
    wavelengths: np.ndarray
    labels: np.ndarray | None = None
    label_names: dict[int, str] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    extras: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        shape = tuple(np.shape(self.data))
        if len(shape) not in (3, 4):
            raise ValueError(
                f"a spectral image must be (bands, y, x) or (bands, z, y, x), got shape {shape}"
            )
        if min(shape) < 1:
            raise ValueError(f"a spectral image cannot have an empty axis, got shape {shape}")
        if isinstance(self.data, np.ndarray) and not isinstance(self.data, np.memmap):
            if self.data.dtype != np.float32:
                self.data = self.data.astype(np.float32)
        elif isinstance(self.data, np.memmap) and self.data.dtype != np.dtype(np.float32):
            self.data = LazyCube(self.data)
        self.wavelengths = check_wavelengths(self.wavelengths, shape[0])
        if self.labels is not None:
            labels = np.asarray(self.labels)
            if labels.shape != shape[1:]:
                raise ValueError(
                    f"labels have shape {labels.shape} but the image is {shape[1:]} (y, x)"
                )
            if not np.issubdtype(labels.dtype, np.integer):
                if not np.all(np.isfinite(labels)) or np.any(labels != np.round(labels)):
                    raise ValueError("labels must be integers")
                labels = labels.astype(np.int32)
            self.labels = labels
        if self.label_names is not None:
            self.label_names = {int(k): str(v) for k, v in self.label_names.items()}
        self.metadata = dict(self.metadata or {})
        extras = {}
        for name, arr in (self.extras or {}).items():
            arr = np.asarray(arr)
            if arr.shape != shape[1:]:
                raise ValueError(f"map {name!r} has shape {arr.shape} but the image is {shape[1:]}")
            extras[str(name)] = arr
        self.extras = extras

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(np.shape(self.data))

    @property
    def n_bands(self) -> int:
        return self.shape[0]

    @property
    def domain(self) -> str | None:
        return self.metadata.get("domain")

    def describe(self) -> str:
        """Short description, e.g. ``"(100, 64, 64) cube, 100 bands 500–995 nm"``."""
        return f"{self.shape} cube, {describe_grid(self.wavelengths)}"

    def load(self) -> SpectralImage:
        """A copy with ``data`` read fully into memory as a float32 ndarray."""
        return SpectralImage(
            np.array(self.data, dtype=np.float32),
            self.wavelengths.copy(),
            None if self.labels is None else np.array(self.labels),
            None if self.label_names is None else dict(self.label_names),
            dict(self.metadata),
            dict(self.extras),
        )
