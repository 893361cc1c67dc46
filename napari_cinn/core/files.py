"""Atomic file writes: never a half-written output, never a silent overwrite.

Every writer in the project (model files, spectral images, CSV exports, baseline files) goes
through :func:`atomic_targets`.
"""

from __future__ import annotations

import contextlib
import glob
import os
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

#: a host tag in temporary names, so only this machine's dead writers are cleaned up
_HOST = "".join(c for c in socket.gethostname() if c.isalnum())[:16] or "host"
#: temporary files whose writer cannot be identified are stale after this long
STALE_AFTER_S = 24 * 3600


def clean_stale_parts(target: str | os.PathLike) -> list[Path]:
    """Remove the ``.<name>.*.part`` files a killed write of ``target`` left behind.

    A part file is stale when its writer (the process id in its name, on this host) no longer
    runs, or, for part files without a recognisable writer, when it is older than
    :data:`STALE_AFTER_S`. Returns the removed paths. Parts of live writers are never touched.
    """
    target = Path(target)
    removed: list[Path] = []
    try:
        candidates = list(target.parent.glob(f".{glob.escape(target.name)}.*.part"))
    except OSError:
        return removed
    now = time.time()
    for part in candidates:
        middle = part.name[len(target.name) + 2 : -len(".part")].split(".")
        pid = int(middle[0]) if len(middle) >= 3 and middle[0].isdigit() else None
        if pid is not None and middle[1] == _HOST:
            stale = not _alive(pid)
        else:
            try:
                stale = now - part.lstat().st_mtime > STALE_AFTER_S
            except OSError:
                continue
        if stale and part.is_file() and not part.is_symlink():
            with contextlib.suppress(OSError):
                part.unlink()
                removed.append(part)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


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
    files get ordinary permissions (not ``mkstemp``'s owner-only 0600). Part files that a killed
    earlier write of the same target left behind are removed first (:func:`clean_stale_parts`).
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
    for t in paths:
        clean_stale_parts(t)
    temps: list[Path] = []
    mode = _default_mode()
    try:
        for t in paths:
            fd, name = tempfile.mkstemp(
                prefix=f".{t.name}.{os.getpid()}.{_HOST}.", suffix=".part", dir=t.parent
            )
            os.close(fd)
            os.chmod(name, mode)
            temps.append(Path(name))
        yield temps
        for tmp, t in zip(temps, paths, strict=True):
            os.chmod(tmp, mode)  # again: writers that recreate the file (safetensors) make it 0600
            os.replace(tmp, t)
    finally:
        for tmp in temps:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
