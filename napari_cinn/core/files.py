"""Atomic file writes: never a half-written output, never a silent overwrite.

Every writer in the project (model files, spectral images, CSV exports, baseline files) goes
through :func:`atomic_targets`.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


def _default_mode() -> int:
    """Permissions a plain ``open(..., "w")`` would give (0o666 minus the umask)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


@contextlib.contextmanager
def atomic_targets(
    *targets: str | os.PathLike, overwrite: bool = False, error: type[Exception] = FileExistsError
) -> Iterator[list[Path]]:
    """Yield temporary paths beside ``targets``; rename them onto the targets only on success.

    Raises ``error`` if a target exists and ``overwrite`` is false, or if its folder is missing.
    When the body raises, the temporary files are removed and the targets stay untouched. The
    files get ordinary permissions (not ``mkstemp``'s owner-only 0600).
    """
    paths = tuple(Path(t) for t in targets)
    existing = [str(t) for t in paths if t.exists()]
    if existing and not overwrite:
        word = "exists" if len(existing) == 1 else "exist"
        raise error(
            f"{', '.join(existing)} already {word}; refusing to overwrite "
            "(pass overwrite=True, or --force on the command line, to replace)"
        )
    for t in paths:
        if not t.parent.is_dir():
            raise error(f"cannot write {t}: folder {t.parent} does not exist")
    temps: list[Path] = []
    mode = _default_mode()
    try:
        for t in paths:
            fd, name = tempfile.mkstemp(prefix=f".{t.name}.", suffix=".part", dir=t.parent)
            os.close(fd)
            os.chmod(name, mode)
            temps.append(Path(name))
        yield temps
        for tmp, t in zip(temps, paths, strict=True):
            os.replace(tmp, t)
    finally:
        for tmp in temps:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
