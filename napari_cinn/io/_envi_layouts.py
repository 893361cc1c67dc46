"""Find and parse the header of a raw cube: ENVI ``.hdr`` (via ``spectral``) or ESRI ``LAYOUT``.

Researchers arrive with headers that other software wrote:

- ENVI headers without ``byte order`` (PlantCV, some camera SDKs): ENVI's own default is 0
  (little-endian); we assume it and say so in ``notes``.
- ESRI/ArcGIS ``.hdr`` files (``LAYOUT BIL``, ``NROWS`` ...), which Specim and GDAL also write for
  ``.bil``/``.bip``/``.bsq`` rasters: translated into the equivalent ENVI header.
- A data file (``.img``, ``.raw``, ``.bil``, ``.dat`` ...) opened directly: its header is
  ``<stem>.hdr`` or ``<name>.hdr`` beside it.
"""

from __future__ import annotations

import re
from pathlib import Path

from ._image import SpectralFileError

#: data-file extensions spectral looks for beside a header (plus the interleave name)
DATA_EXTENSIONS = (".img", ".dat", ".raw", ".bin", ".bil", ".bip", ".bsq", ".hyspex", ".sli")
_ESRI_TYPES = {  # (PIXELTYPE, NBITS) -> ENVI data type
    ("UNSIGNEDINT", 8): "1",
    ("SIGNEDINT", 8): "1",
    ("SIGNEDINT", 16): "2",
    ("SIGNEDINT", 32): "3",
    ("FLOAT", 32): "4",
    ("FLOAT", 64): "5",
    ("UNSIGNEDINT", 16): "12",
    ("UNSIGNEDINT", 32): "13",
}


def header_beside(data_path: Path) -> Path | None:
    """The header of a data file: ``cube.hdr`` or ``cube.img.hdr`` (any case), or None."""
    for cand in (
        data_path.with_suffix(".hdr"),
        data_path.with_suffix(".HDR"),
        data_path.with_name(data_path.name + ".hdr"),
        data_path.with_name(data_path.name + ".HDR"),
    ):
        if cand.is_file() and cand != data_path:
            return cand
    return None


def data_beside(hdr: Path, header: dict) -> Path | None:
    """The data file of a header, looked for the way ENVI does (same stem, known extensions)."""
    stem = hdr.with_suffix("")
    inter = str(header.get("interleave", "")).lower()
    exts = ["", *DATA_EXTENSIONS, f".{inter}" if inter else ""]
    for ext in dict.fromkeys(exts):
        for cand in (Path(str(stem) + ext), Path(str(stem) + ext.upper())):
            if cand.is_file() and cand != hdr:
                return cand
    return None


def read_header(hdr: Path) -> tuple[dict, list[str]]:
    """ENVI-style header dict (lower-case keys, string values) and notes for the user."""
    try:
        with open(hdr, encoding="utf-8", errors="replace") as fh:
            first = fh.readline().strip()
    except OSError as exc:
        raise SpectralFileError(f"{hdr}: cannot read the header ({exc})") from exc
    if not first.startswith("ENVI"):
        if re.match(r"^(BYTEORDER|LAYOUT|NROWS|NCOLS|NBANDS|NBITS)\b", first, re.IGNORECASE):
            return _esri_header(hdr)
        raise SpectralFileError(
            f"{hdr}: not an ENVI header (the first line must be 'ENVI') and not an ESRI "
            "'LAYOUT BIL' header either"
        )
    import warnings

    from spectral.io import envi

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # spectral warns about upper-case keys
            header = envi.read_envi_header(str(hdr))
    except Exception as exc:  # noqa: BLE001 - spectral raises several types
        raise SpectralFileError(f"{hdr}: not a readable ENVI header ({exc})") from exc
    notes: list[str] = []
    missing = [k for k in ("lines", "samples", "bands", "data type") if k not in header]
    if missing:
        raise SpectralFileError(f"{hdr}: the ENVI header lacks {', '.join(missing)}")
    if "byte order" not in header:
        header["byte order"] = "0"
        notes.append("the header has no 'byte order': assumed 0 (little-endian), ENVI's default")
    if "interleave" not in header:
        header["interleave"] = "bsq"
        notes.append("the header has no 'interleave': assumed bsq, ENVI's default")
    return header, notes


def _esri_header(hdr: Path) -> tuple[dict, list[str]]:
    """Translate an ESRI/ArcGIS ``.hdr`` (``LAYOUT BIL``, ``NROWS`` ...) to ENVI keys."""
    raw: dict[str, str] = {}
    for line in hdr.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.strip().split(None, 1)
        if len(parts) == 2:
            raw[parts[0].upper()] = parts[1].strip()

    def number(key: str, default: int | None = None) -> int:
        if key not in raw:
            if default is None:
                raise SpectralFileError(f"{hdr}: the ESRI header lacks {key}")
            return default
        try:
            return int(float(raw[key]))
        except ValueError:
            raise SpectralFileError(f"{hdr}: {key} {raw[key]!r} is not a number") from None

    rows, cols, bands = number("NROWS"), number("NCOLS"), number("NBANDS", 1)
    bits = number("NBITS", 8)
    ptype = raw.get("PIXELTYPE", "SIGNEDINT" if bits == 16 else "UNSIGNEDINT").upper()
    ptype = {"SIGNED": "SIGNEDINT", "UNSIGNED": "UNSIGNEDINT"}.get(ptype, ptype)
    if (ptype, bits) not in _ESRI_TYPES:
        raise SpectralFileError(f"{hdr}: PIXELTYPE {ptype} with NBITS {bits} is not supported")
    layout = raw.get("LAYOUT", raw.get("INTERLEAVING", "BIL")).lower()
    if layout not in ("bil", "bip", "bsq"):
        raise SpectralFileError(f"{hdr}: LAYOUT {layout.upper()} is not BIL, BIP or BSQ")
    order = raw.get("BYTEORDER", "I").upper()
    if order not in ("I", "M", "LSBFIRST", "MSBFIRST"):
        raise SpectralFileError(f"{hdr}: BYTEORDER {order!r} is not I (Intel) or M (Motorola)")
    item = bits // 8
    row_bytes = {"bil": bands * cols * item, "bip": cols * bands * item, "bsq": cols * item}
    for key, want in (("BANDROWBYTES", cols * item), ("TOTALROWBYTES", row_bytes[layout])):
        if key in raw and number(key) != want and not (key == "BANDROWBYTES" and layout != "bil"):
            raise SpectralFileError(
                f"{hdr}: {key} {number(key)} means padded rows (expected {want}); padded "
                "layouts are not supported"
            )
    header = {
        "lines": str(rows),
        "samples": str(cols),
        "bands": str(bands),
        "data type": _ESRI_TYPES[(ptype, bits)],
        "interleave": layout,
        "byte order": "1" if order in ("M", "MSBFIRST") else "0",
        "header offset": str(number("SKIPBYTES", 0)),
    }
    if "NODATA" in raw:
        header["data ignore value"] = raw["NODATA"]
    notes = [f"ESRI header (LAYOUT {layout.upper()}) read as the equivalent ENVI header"]
    return header, notes
