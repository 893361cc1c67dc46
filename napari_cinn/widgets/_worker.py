"""One background job per dock: start a napari ``thread_worker`` and wire its progress, error and end.

The Compare and Latent-space docks share this; each names its failure text and what its buttons do
while a job runs (:meth:`WorkerDockMixin._set_running`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class WorkerDockMixin:
    """Mix into a dock ``QWidget`` that has ``progress`` (QProgressBar) and ``status`` (QLabel)."""

    #: start of the status line when the job raises, e.g. "Comparison failed"
    failure_text = "Failed"

    def _set_running(self, running: bool) -> None:
        """Enable or disable the dock's buttons while a job runs (override)."""

    def _start_worker(self, worker: Any, on_result: Callable[[Any], None], message: str) -> None:
        """Connect ``worker`` (yields ``(done, total)``), show the progress bar and start it."""
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
