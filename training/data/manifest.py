"""The data manifest: per domain the files, subjects, split, SHA-256 and pixel counts."""

from __future__ import annotations

from .hashing import HashCache, file_sha256  # noqa: F401 - re-exported


def manifest(datas: dict, splits: dict) -> dict:
    """JSON-able record of the data: per domain the files, subjects, split, SHA-256 and pixels."""
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
                "pixels": s.n_pixels,
            }
            for s in d.subjects
        ]
    return out
