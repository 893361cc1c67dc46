"""The one way a dock runs background work: :class:`DockJob` (progress, cancel, errors).

A job is a plain function that takes ``progress(done, total[, stage])`` and ``cancel()`` keyword
arguments and returns its result (the contract of :mod:`napari_cinn.core.jobs`). It runs in a
napari ``thread_worker`` thread; progress comes back through a queued Qt signal to the dock's
progress bar and to a napari activity bar; Cancel sets an event the function polls between
chunks. A cancelled job delivers nothing (also when it finished its last chunk just as Cancel was
pressed); a failed one delivers its message (and, if asked, a napari notification), never a
traceback in the Qt event loop.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from qtpy.QtCore import QObject, Signal
from qtpy.QtWidgets import QProgressBar


class DockJob(QObject):
    """Runs one job at a time for a dock.

    Parameters
    ----------
    bar : the dock's progress bar (shown while a job runs)
    on_running : called with True when a job starts and False when it ended (enable buttons)
    on_message : called as ``on_message(text, final)``: ``final`` is False for "Running…" and
        "Cancelling…", True for what a job that delivered nothing ended with (failure, cancel)
    failure_text : start of the message when the job raises, e.g. "Projection failed"
    cancelled_text : the message when a job was cancelled
    notify_errors : also show failures as napari notifications
    """

    #: ``(stage, done, total)``, emitted from the worker thread, delivered in the GUI thread
    progressed = Signal(str, int, int)

    def __init__(
        self,
        bar: QProgressBar,
        *,
        on_running: Callable[[bool], Any],
        on_message: Callable[[str, bool], Any],
        failure_text: str = "Failed",
        cancelled_text: str = "Cancelled.",
        notify_errors: bool = False,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.bar = bar
        self.on_running = on_running
        self.on_message = on_message
        self.failure_text = failure_text
        self.cancelled_text = cancelled_text
        self.notify_errors = notify_errors
        self.worker = None
        self.error: str | None = None
        self._cancel = threading.Event()
        self._stages: tuple[str, ...] = ("",)
        self._activity = None
        self.progressed.connect(self._on_progress)

    @property
    def running(self) -> bool:
        return self.worker is not None

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def start(
        self,
        fn: Callable[..., Any],
        *args: Any,
        on_result: Callable[[Any], Any],
        message: str,
        stages: Sequence[str] = ("",),
        title: str | None = None,
        **kwargs: Any,
    ):
        """Run ``fn(*args, progress=..., cancel=..., **kwargs)`` in a worker thread; returns the
        started worker. ``stages``: names of the successive progress stages (one bar over all);
        ``title``: the napari activity bar's text (default: ``message``)."""
        from napari.qt.threading import create_worker
        from napari.utils import progress as activity

        if self.worker is not None:
            raise RuntimeError("a job is already running")
        self._cancel.clear()
        self.error = None
        self._stages = tuple(stages) or ("",)
        relay = self.progressed

        def report(done: int, total: int, stage: str = "") -> None:
            relay.emit(stage, int(done), int(total))

        worker = create_worker(
            fn,
            *args,
            progress=report,
            cancel=self._cancel.is_set,
            _start_thread=False,
            _ignore_errors=True,  # errors become the dock's message, not a traceback
            **kwargs,
        )
        worker.returned.connect(lambda result: self._on_returned(result, on_result))
        worker.errored.connect(self._on_errored)
        worker.finished.connect(self._on_finished)
        self.worker = worker
        self._activity = activity(total=100 * len(self._stages), desc=title or message)
        self.bar.setRange(0, 100)
        self.bar.setValue(0)
        self.bar.setVisible(True)
        self.on_running(True)
        self.on_message(message, False)
        worker.start()
        return worker

    def cancel(self) -> bool:
        """Ask the running job to stop at its next check; False when none runs."""
        if self.worker is None:
            return False
        self._cancel.set()
        self.on_message("Cancelling…", False)
        return True

    # ---- callbacks (GUI thread)
    def _on_progress(self, stage: str, done: int, total: int) -> None:
        if self.worker is None or total <= 0:
            return
        k = self._stages.index(stage) if stage in self._stages else len(self._stages) - 1
        value = int(100 * k + 100 * min(done, total) / total)
        self.bar.setValue(int(value / len(self._stages)))
        bar = self._activity  # local: napari's bar may process events (and finish) meanwhile
        if bar is not None:
            if stage:
                bar.set_description(stage)
            bar.update(max(0, value - bar.n))

    def _on_returned(self, result: Any, on_result: Callable[[Any], Any]) -> None:
        if self._cancel.is_set():
            self.on_message(self.cancelled_text, True)
            return
        on_result(result)

    def _on_errored(self, exc: BaseException) -> None:
        if self._cancel.is_set():  # the job stopped because it was asked to
            self.on_message(self.cancelled_text, True)
            return
        self.error = str(exc) or type(exc).__name__
        text = f"{self.failure_text}: {self.error}"
        self.on_message(text, True)
        if self.notify_errors:
            from napari.utils.notifications import show_error

            show_error(text)

    def _on_finished(self) -> None:
        if self._activity is not None:
            self._activity.close()
            self._activity = None
        self.worker = None
        self.bar.setVisible(False)
        self.on_running(False)
