"""Helpers shared by the format modules: atomic writes, sidecar files, metadata guesses."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ..core.files import atomic_targets as _atomic_targets
from ._image import SpectralFileError

DOMAIN_WORDS = ("sim", "real")


def refuse_existing(targets, overwrite: bool) -> None:
    """Raise ``SpectralFileError`` if any target exists and ``overwrite`` is false."""
    if overwrite:
        return
    existing = [str(t) for t in targets if Path(t).exists()]
    if existing:
        word = "exists" if len(existing) == 1 else "exist"
        raise SpectralFileError(
            f"{', '.join(existing)} already {word}; refusing to overwrite "
            "(pass overwrite=True to replace)"
        )


@contextlib.contextmanager
def atomic_targets(*targets: Path, overwrite: bool = False) -> Iterator[list[Path]]:
    """:func:`napari_cinn.core.files.atomic_targets` raising :class:`SpectralFileError`."""
    with _atomic_targets(*targets, overwrite=overwrite, error=SpectralFileError) as temps:
        yield temps


def sidecar(path: Path, suffix: str) -> Path:
    """``<stem><suffix>`` beside ``path``, e.g. ``cube.hdr`` → ``cube_labels.npy``."""
    return path.with_name(path.stem + suffix)


def read_label_sidecars(path: Path) -> tuple[np.ndarray | None, dict[int, str] | None]:
    """Labels from ``<stem>_labels.npy`` (and names from ``<stem>_labels.json``) if present."""
    lab_path = sidecar(path, "_labels.npy")
    names_path = sidecar(path, "_labels.json")
    labels = names = None
    if lab_path.exists():
        try:
            labels = np.load(lab_path, allow_pickle=False)
        except Exception as exc:  # noqa: BLE001 - any failure means a broken sidecar
            raise SpectralFileError(f"{lab_path}: cannot read label mask ({exc})") from exc
    if names_path.exists():
        names = parse_label_names(names_path.read_text(encoding="utf-8"), names_path)
    return labels, names


def parse_label_names(text: str | bytes, where: Path | str) -> dict[int, str]:
    """Parse a ``{"0": "background", "1": "liver"}`` JSON table."""
    try:
        raw = json.loads(text)
        return {int(k): str(v) for k, v in raw.items()}
    except Exception as exc:  # noqa: BLE001
        raise SpectralFileError(
            f'{where}: label names must be a JSON object like {{"1": "liver"}} ({exc})'
        ) from exc


def write_label_sidecars(path: Path, labels, names, overwrite: bool) -> list[Path]:
    """Write ``<stem>_labels.npy`` (+ ``.json``) atomically; returns the written paths."""
    if labels is None:
        return []
    lab_path = sidecar(path, "_labels.npy")
    written = [lab_path]
    with atomic_targets(lab_path, overwrite=overwrite) as (tmp,), open(tmp, "wb") as fh:
        np.save(fh, np.asarray(labels), allow_pickle=False)
    if names:
        names_path = sidecar(path, "_labels.json")
        with atomic_targets(names_path, overwrite=overwrite) as (tmp,):
            tmp.write_text(json.dumps(names_to_json(names), indent=1), encoding="utf-8")
        written.append(names_path)
    return written


def names_to_json(names: dict[int, str] | None) -> dict[str, str]:
    return {str(int(k)): str(v) for k, v in (names or {}).items()}


def guess_domain(path: Path) -> str | None:
    """``"sim"`` / ``"real"`` when the file name says so as a word (``hsi_sim.hdr``), else None."""
    words = set(re.split(r"[^a-z]+", path.stem.lower()))
    found = [w for w in DOMAIN_WORDS if w in words]
    return found[0] if len(found) == 1 else None


def json_safe(meta: dict[str, Any]) -> dict[str, Any]:
    """Keep only the JSON-serialisable entries of ``meta`` (arrays become lists)."""
    out: dict[str, Any] = {}
    for k, v in meta.items():
        if isinstance(v, np.ndarray):
            v = v.tolist()
        elif isinstance(v, np.generic):
            v = v.item()
        try:
            json.dumps(v)
        except TypeError:
            continue
        out[str(k)] = v
    return out


def expected_size_check(path: Path, expected: int, what: str = "data") -> None:
    """Raise a clear error when ``path`` is shorter than ``expected`` bytes (a truncated file)."""
    actual = path.stat().st_size
    if actual < expected:
        raise SpectralFileError(
            f"{path} is truncated: the header describes {expected} bytes of {what}, "
            f"the file has {actual}"
        )


def assumed_wavelengths(n_bands: int) -> tuple[np.ndarray, str]:
    """Wavelengths for a file that has none: a known camera grid by band count, else band indices.

    Returns the grid and a note for ``metadata["wavelengths_assumed"]`` so the user is told.
    """
    from napari_cinn.core.spectra import HSI_WAVELENGTHS, PAT_WAVELENGTHS

    if n_bands == HSI_WAVELENGTHS.size:
        return HSI_WAVELENGTHS.copy(), "no wavelengths in the file: assumed the HSI grid 500–995 nm"
    if n_bands == PAT_WAVELENGTHS.size:
        return PAT_WAVELENGTHS.copy(), "no wavelengths in the file: assumed the PAT grid 700–850 nm"
    return (
        np.arange(n_bands, dtype=np.float64),
        "no wavelengths in the file: band indices 0, 1, 2 ... stand in for nm",
    )


def read_wavelength_sidecar(path: Path) -> tuple[np.ndarray | None, dict[str, Any]]:
    """Wavelengths (nm) and metadata from ``<stem>_wavelengths.json`` or ``<stem>_wavelengths.txt``.

    The JSON is either a list of numbers or ``{"wavelengths": [...], "metadata": {...}}``; the
    text file holds numbers separated by commas, spaces or new lines.
    """
    js, txt = sidecar(path, "_wavelengths.json"), sidecar(path, "_wavelengths.txt")
    try:
        if js.exists():
            raw = json.loads(js.read_text(encoding="utf-8"))
            if isinstance(raw, dict):
                meta = raw.get("metadata") or {}
                return np.asarray(raw["wavelengths"], dtype=np.float64), dict(meta)
            return np.asarray(raw, dtype=np.float64), {}
        if txt.exists():
            values = re.split(r"[,\s;]+", txt.read_text(encoding="utf-8").strip())
            return np.asarray([float(v) for v in values if v], dtype=np.float64), {}
    except Exception as exc:  # noqa: BLE001
        bad = js if js.exists() else txt
        raise SpectralFileError(f"{bad}: cannot read the wavelengths ({exc})") from exc
    return None, {}


def write_wavelength_sidecar(path: Path, image, overwrite: bool) -> Path:
    """Write ``<stem>_wavelengths.json`` with wavelengths and JSON-safe metadata."""
    target = sidecar(path, "_wavelengths.json")
    payload = {
        "wavelengths": [float(w) for w in image.wavelengths],
        "metadata": json_safe({k: v for k, v in image.metadata.items() if k != "source"}),
    }
    with atomic_targets(target, overwrite=overwrite) as (tmp,):
        tmp.write_text(json.dumps(payload, indent=1), encoding="utf-8")
    return target


def finish_image(path: Path, data, wavelengths, labels, names, meta: dict[str, Any], extras=None):
    """Build the SpectralImage for ``path``: fill in assumed wavelengths and the domain guess,
    and turn validation errors into ``SpectralFileError`` naming the file."""
    from ._image import SpectralImage

    meta = dict(meta)
    meta.setdefault("source", str(path))
    if wavelengths is None:
        wavelengths, note = assumed_wavelengths(int(np.shape(data)[0]))
        meta["wavelengths_assumed"] = note
    else:
        wavelengths = np.asarray(wavelengths, dtype=np.float64).ravel()
        n_bands = int(np.shape(data)[0])
        if wavelengths.size != n_bands:
            raise SpectralFileError(
                f"{path}: {wavelengths.size} wavelengths for {n_bands} bands "
                "(the data must be (bands, y, x), bands first)"
            )
        if not np.all(np.isfinite(wavelengths)):
            raise SpectralFileError(f"{path}: the wavelengths contain NaN or infinite values")
    if meta.get("domain") is None:
        meta.pop("domain", None)
        guess = guess_domain(path)
        if guess:
            meta["domain"] = guess
    try:
        return SpectralImage(data, wavelengths, labels, names, meta, extras or {})
    except ValueError as exc:
        raise SpectralFileError(f"{path}: {exc}") from exc
