"""One background job per dock: start a napari ``thread_worker`` and wire its progress, error and end.

The Compare and Latent-space docks share this; each names its failure text and what its buttons do
while a job runs (:meth:`WorkerDockMixin._set_running`).
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any


class WorkerDockMixin:
    """Mix into a dock ``QWidget`` that has ``progress`` (QProgressBar) and ``status`` (QLabel)."""

    #: start of the status line when the job raises, e.g. "Comparison failed"
    failure_text = "Failed"

    def _set_running(self, running: bool) -> None:
        """Enable or disable the dock's buttons while a job runs (override)."""

    def _start_worker(
        self,
        job: Callable[..., Generator],
        *args: Any,
        on_result: Callable[[Any], None],
        message: str,
        **kwargs: Any,
    ) -> Any:
        """Run the generator function ``job(*args, **kwargs)`` (yields ``(done, total)``, returns the
        result) in a worker thread; returns the started worker.

        Errors go to the status line only (``_ignore_errors``), not also to napari's error handler.
        """
        from napari.qt.threading import create_worker

        worker = create_worker(job, *args, _start_thread=False, _ignore_errors=True, **kwargs)
        worker.yielded.connect(self._on_progress)
        worker.returned.connect(on_result)
        worker.errored.connect(self._on_error)
        worker.finished.connect(self._on_finished)
        self._worker = worker
        self._set_running(True)
        self.progress.setVisible(True)
        self.progress.setValue(0)
        self.status.setText(message)
        worker.start()
        return worker

    def _on_progress(self, value: tuple[int, int]) -> None:
        done, total = value
        self.progress.setMaximum(max(total, 1))
        self.progress.setValue(done)

    def _on_error(self, err: BaseException) -> None:
        self.error = str(err)
        self.status.setText(f"{self.failure_text}: {err}")

    def _on_finished(self) -> None:
        self._worker = None
        self._set_running(False)
        self.progress.setVisible(False)
