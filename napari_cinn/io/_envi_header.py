"""Open an ENVI header safely: linear-time parsing, sizes checked before ``spectral`` sees them.

``spectral``'s own header parser is quadratic in the number of lines (``list.pop(0)`` per line: a
3.4 MB header took 28 s) and trusts every number. :func:`open_envi` parses the header itself in
one pass (same rules as ``spectral.io.envi.read_envi_header``: ``key = value``, ``{ ... }`` lists
over several lines, ``;`` comments, keys lower-cased), checks the sizes, data type, byte order,
interleave, offset and scale factor, finds the data file (a regular file only) and then builds
``spectral``'s ``BsqFile`` / ``BilFile`` / ``BipFile`` from the checked header.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ._image import SpectralFileError
from ._safety import MAX_AXIS, check_scale, read_small_bytes

#: headers longer than this are refused (real ones are a few hundred KB at most)
MAX_HEADER_BYTES = 8 * 1024**2
#: ENVI data types napari-cinn reads (complex types 6 and 9 are not spectra)
REAL_TYPES = {"1", "2", "3", "4", "5", "12", "13", "14", "15"}
INTERLEAVES = ("bsq", "bil", "bip")


def parse_header(text: str, path: Path) -> dict[str, str | list[str]]:
    """ENVI header text → ``{key: str or [str, ...]}`` in one pass (keys lower-cased)."""
    lines = text.splitlines()
    if not lines or not lines[0].strip().startswith("ENVI"):
        raise SpectralFileError(
            f"{path}: not an ENVI header (the first line must start with 'ENVI')"
        )
    out: dict[str, str | list[str]] = {}
    i, n = 1, len(lines)
    while i < n:
        line = lines[i]
        i += 1
        if "=" not in line or line.startswith(";"):
            continue
        key, _, val = line.partition("=")
        key, val = key.strip().lower(), val.strip()
        if not val.startswith("{"):
            out[key] = val
            continue
        parts = [val]
        while not parts[-1].endswith("}"):
            if i >= n:
                raise SpectralFileError(f"{path}: the value of {key!r} opens '{{' but never closes")
            nxt = lines[i]
            i += 1
            if nxt.startswith(";"):
                continue
            parts.append(nxt.strip())
        joined = "\n".join(parts)
        if key == "description":
            out[key] = joined.strip("{}").strip()
        else:
            out[key] = [v.strip() for v in joined[1:-1].split(",")]
    return out


def _int(h: dict, key: str, path: Path, lo: int, hi: int, default: int | None = None) -> int:
    raw = h.get(key, default)
    if raw is None:
        raise SpectralFileError(f"{path}: the ENVI header has no {key!r}")
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        raise SpectralFileError(
            f"{path}: ENVI {key!r} must be a whole number, got {raw!r:.40}"
        ) from None
    if not lo <= value <= hi:
        raise SpectralFileError(f"{path}: ENVI {key!r} is {value}; it must be {lo} to {hi:,}")
    return value


def check_header(h: dict, path: Path) -> None:
    """Validate the fields ``spectral`` relies on; normalises them to plain strings in place."""
    for key in ("samples", "lines", "bands"):
        h[key] = str(_int(h, key, path, 1, MAX_AXIS))
    h["header offset"] = str(_int(h, "header offset", path, 0, 2**62, default=0))
    h["byte order"] = str(_int(h, "byte order", path, 0, 1, default=0))
    dtype = str(h.get("data type", "")).strip()
    if dtype not in REAL_TYPES:
        raise SpectralFileError(
            f"{path}: ENVI data type {dtype or '(missing)'!r} is not supported "
            f"(need one of {', '.join(sorted(REAL_TYPES, key=int))})"
        )
    h["data type"] = dtype
    inter = str(h.get("interleave", "bsq")).strip().lower()
    if inter not in INTERLEAVES:
        raise SpectralFileError(f"{path}: ENVI interleave {inter!r} is not bsq, bil or bip")
    h["interleave"] = inter
    if "reflectance scale factor" in h:
        check_scale(path, h["reflectance scale factor"])
    for key in ("major frame offsets", "minor frame offsets"):
        if key in h:
            vals = h[key] if isinstance(h[key], list) else [h[key]]
            if any(str(v).strip() not in ("0", "") for v in vals):
                raise SpectralFileError(f"{path}: ENVI frame offsets are not supported")
            del h[key]
    if str(h.get("file type", "")).strip().lower() == "envi spectral library":
        raise SpectralFileError(f"{path}: ENVI spectral libraries are not images")


def data_file(path: Path, interleave: str) -> Path:
    """The data file beside the header, as ``spectral`` looks for it, but regular files only."""
    from spectral.io.envi import KNOWN_EXTS

    exts = [e.lower() for e in KNOWN_EXTS] + [interleave]
    exts = [""] + exts + [e.upper() for e in exts]
    title = path.with_suffix("")
    for ext in exts:
        cand = Path(f"{title}.{ext}") if ext else title
        try:
            st = os.stat(cand)
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode):
            return cand
        if not stat.S_ISDIR(st.st_mode):
            raise SpectralFileError(f"{cand}: the ENVI data file is not a regular file; refused")
    raise SpectralFileError(
        f"{path}: no data file found beside the header (looked for {path.stem}.img, .dat, .raw ...)"
    )


def open_envi(path: Path):
    """A ``spectral`` ENVI image object for ``path`` built from a checked header."""
    from spectral.io import envi

    path = Path(path)
    raw = read_small_bytes(path, "the ENVI header", MAX_HEADER_BYTES)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")  # vendor headers with µ in Latin-1
    if "\x00" in text[:4096]:
        raise SpectralFileError(f"{path}: not an ENVI header (binary content)")
    h = parse_header(text, path)
    check_header(h, path)
    params = envi.gen_params(h)
    params.filename = str(data_file(path, h["interleave"]))
    cls = {"bil": envi.BilFile, "bip": envi.BipFile}.get(h["interleave"], envi.BsqFile)
    img = cls(params, h)
    img.scale_factor = float(h.get("reflectance scale factor", 1.0))
    if isinstance(h.get("wavelength"), list):
        try:
            img.bands.centers = [float(b) for b in h["wavelength"]]
        except (TypeError, ValueError):
            img.bands.centers = None
    if isinstance(h.get("fwhm"), list):
        try:
            img.bands.bandwidths = [float(f) for f in h["fwhm"]]
        except (TypeError, ValueError):
            img.bands.bandwidths = None
    img.bands.band_unit = h.get("wavelength units", None)
    return img
