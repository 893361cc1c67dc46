"""ENVI header text, read safely and parsed in linear time.

``spectral``'s own header parser is quadratic in the number of lines (``list.pop(0)`` per line: a
3.4 MB header took 28 s). :func:`parse_header` parses in one pass with the same rules as
``spectral.io.envi.read_envi_header`` (``key = value``, ``{ ... }`` lists over several lines,
``;`` comments, keys lower-cased); :func:`read_header_text` reads only regular files up to
:data:`MAX_HEADER_BYTES`; :func:`check_unsupported` refuses complex data types, frame offsets and
spectral libraries. ``_envi_layouts.read_header`` uses all three.
"""

from __future__ import annotations

from pathlib import Path

from ._image import SpectralFileError
from ._safety import read_small_bytes

#: headers longer than this are refused (real ones are a few hundred KB at most)
MAX_HEADER_BYTES = 8 * 1024**2
#: ENVI data types napari-cinn reads (complex types 6 and 9 are not spectra)
REAL_TYPES = {"1", "2", "3", "4", "5", "12", "13", "14", "15"}


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


def read_header_text(hdr: Path) -> str:
    """The text of a header file: a regular file of at most :data:`MAX_HEADER_BYTES`."""
    raw = read_small_bytes(hdr, "the ENVI header", MAX_HEADER_BYTES)
    if b"\x00" in raw[:4096]:
        raise SpectralFileError(f"{hdr}: not an ENVI header (binary content)")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")  # vendor headers with µ in Latin-1


def check_unsupported(header: dict, hdr: Path) -> None:
    """Refuse what would be read as something else: complex data, frame offsets, libraries."""
    dtype = str(header.get("data type", "")).strip()
    if dtype and dtype not in REAL_TYPES:
        raise SpectralFileError(
            f"{hdr}: ENVI data type {dtype!r} is not supported "
            f"(need one of {', '.join(sorted(REAL_TYPES, key=int))}; complex data is no spectrum)"
        )
    for key in ("major frame offsets", "minor frame offsets"):
        vals = header.get(key, [])
        vals = vals if isinstance(vals, list) else [vals]
        if any(str(v).strip() not in ("0", "") for v in vals):
            raise SpectralFileError(f"{hdr}: ENVI frame offsets are not supported")
    if str(header.get("file type", "")).strip().lower() == "envi spectral library":
        raise SpectralFileError(f"{hdr}: ENVI spectral libraries are not images")
