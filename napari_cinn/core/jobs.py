"""The contract of long-running core functions: a progress callback and a cancel hook.

A long function takes ``progress(done, total)`` (called after each step) and ``cancel()`` (polled
before each step; when it returns True the function raises :class:`JobCancelled` and returns no
partial result). It *returns* its result like any function; a GUI runs it in a worker thread and
relays the callbacks (``napari_cinn.widgets._worker``). ``core.transfer`` follows the same contract
with its own :class:`~napari_cinn.core.transfer.TransferCancelled`.
"""

from __future__ import annotations

from collections.abc import Callable

#: ``progress(done, total)``
ProgressFn = Callable[[int, int], object]
#: ``cancel() -> bool``
CancelFn = Callable[[], bool]


class JobCancelled(Exception):
    """Raised when the cancel hook asked to stop; nothing partial is returned."""


def step(
    progress: ProgressFn | None, cancel: CancelFn | None, done: int, total: int, what: str = "job"
) -> None:
    """Report ``done`` of ``total`` and stop here (raise :class:`JobCancelled`) if asked to."""
    if cancel is not None and cancel():
        raise JobCancelled(f"{what} cancelled")
    if progress is not None:
        progress(done, total)
