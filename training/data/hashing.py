"""SHA-256 of data files, and a cache that hashes each file once.

Hashing is what makes a model file's provenance checkable, but reading 25 GB of cubes at every
start is not acceptable: :class:`HashCache` keeps each file's digest under its resolved path
together with the size and modification time (nanoseconds) of every part it covers (ENVI: header
and data file), and hashes again only when one of those changes. The cache is one JSON file,
``$CINN_HASH_CACHE`` or ``~/.cache/napari-cinn/sha256.json``, written atomically.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path


def _parts(path: Path) -> list[Path]:
    parts = [path]
    if path.suffix.lower() == ".hdr":
        exts = (".img", ".raw", ".dat", ".bil", ".bip", ".bsq")
        parts += [q for q in (path.with_suffix(e) for e in exts) if q.exists()]
    return parts


def file_sha256(path: Path) -> str:
    """SHA-256 of a data file (ENVI: header and .img together)."""
    h = hashlib.sha256()
    for part in _parts(Path(path)):
        with open(part, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 22), b""):
                h.update(chunk)
    return h.hexdigest()


def default_cache_path() -> Path:
    env = os.environ.get("CINN_HASH_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "napari-cinn" / "sha256.json"


class HashCache:
    """SHA-256 of data files, computed once per (path, size, mtime) of each file part.

    ``path=None``: the default location (see the module docstring); ``enabled=False`` hashes every
    time (what the cache saves is measured in ``benchmarks/bench_data.py``).
    """

    def __init__(self, path: Path | None = None, enabled: bool = True):
        self.path = default_cache_path() if path is None else Path(path)
        self.enabled = enabled
        self.hits = self.misses = 0
        self._dirty = False
        self._entries: dict[str, dict] = {}
        if enabled and self.path.is_file():
            try:
                self._entries = dict(json.loads(self.path.read_text()))
            except (OSError, ValueError):
                self._entries = {}  # a broken cache is rebuilt, never trusted

    @staticmethod
    def _stamp(path: Path) -> list[list]:
        out = []
        for part in _parts(path):
            st = part.stat()
            out.append([str(part.resolve()), st.st_size, st.st_mtime_ns])
        return out

    def sha256(self, path: Path) -> str:
        path = Path(path)
        if not self.enabled:
            self.misses += 1
            return file_sha256(path)
        key = str(path.resolve())
        stamp = self._stamp(path)
        entry = self._entries.get(key)
        if entry is not None and entry.get("parts") == stamp:
            self.hits += 1
            return str(entry["sha256"])
        self.misses += 1
        digest = file_sha256(path)
        self._entries[key] = {"parts": stamp, "sha256": digest}
        self._dirty = True
        return digest

    def save(self) -> None:
        """Write the cache if it changed (atomically; a read-only location is skipped)."""
        if not (self.enabled and self._dirty):
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps(self._entries))
            os.replace(tmp, self.path)
            self._dirty = False
        except OSError:
            pass
