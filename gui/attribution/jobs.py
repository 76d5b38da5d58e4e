"""One background computation at a time on a QThread, with progress, Cancel and the result as a signal.

:class:`JobRunner` lives in the GUI thread. ``start(kind, job)`` runs ``job(on_progress, should_stop)``
on a fresh QThread; the worker's signals are connected to the runner's own methods (a QObject of the
GUI thread), so every slot runs on the GUI thread (STACK.md, rule 3). Starting a new job cancels the
running one; the stale result is dropped. ``shutdown()`` cancels and waits (close / test end).
"""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import QObject, QThread, Signal, Slot


class _Worker(QObject):
    progressed = Signal(int, int)
    finished = Signal(object)
    failed = Signal(object)

    def __init__(self, job):
        super().__init__()
        self.job = job
        self.stop_event = threading.Event()
        self._last = 0.0

    def _progress(self, done: int, total: int) -> None:
        now = time.perf_counter()
        if done >= total or now - self._last > 0.05:    # at most 20 updates a second reach the GUI
            self._last = now
            self.progressed.emit(int(done), int(total))

    @Slot()
    def run(self) -> None:
        try:
            result = self.job(self._progress, self.stop_event.is_set)
        except Exception as exc:  # noqa: BLE001 - shown to the user through tr_error
            self.failed.emit(exc)
            return
        self.finished.emit(result)


class JobRunner(QObject):
    """Runs one job at a time; signals: ``progressed(done, total)``, ``finished(kind, result, cancelled)``,
    ``failed(kind, exception)``."""

    progressed = Signal(int, int)
    finished = Signal(str, object, bool)
    failed = Signal(str, object)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._thread: QThread | None = None
        self._worker: _Worker | None = None
        self.kind = ""

    @property
    def busy(self) -> bool:
        return self._worker is not None

    def start(self, kind: str, job) -> None:
        self.shutdown()
        self.kind = kind
        self._thread = QThread()
        self._worker = _Worker(job)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._worker.progressed.connect(self._on_progressed)
        self._worker.finished.connect(self._on_finished)
        self._worker.failed.connect(self._on_failed)
        self._thread.start()

    def cancel(self) -> None:
        """Ask the job to stop after its current batch; it then finishes with a partial result."""
        if self._worker is not None:
            self._worker.stop_event.set()

    def shutdown(self, timeout_ms: int = 10000) -> bool:
        """Cancel, end the thread and wait for it; a late result is dropped. True when no thread is left."""
        worker, thread = self._worker, self._thread
        self._worker = self._thread = None
        if worker is not None:
            worker.stop_event.set()
            worker.progressed.disconnect(self._on_progressed)
            worker.finished.disconnect(self._on_finished)
            worker.failed.disconnect(self._on_failed)
        if thread is not None:
            thread.quit()
            if not thread.wait(timeout_ms):
                return False
        return True

    def _end(self) -> tuple[str, bool]:
        cancelled = self._worker.stop_event.is_set()
        thread = self._thread
        self._worker = self._thread = None
        thread.quit()
        thread.wait()
        return self.kind, cancelled

    def _current(self) -> bool:
        # a queued signal of a job that was replaced or shut down may still arrive: drop it
        return self._worker is not None and self.sender() is self._worker

    @Slot(int, int)
    def _on_progressed(self, done: int, total: int) -> None:
        if self._current():
            self.progressed.emit(done, total)

    @Slot(object)
    def _on_finished(self, result) -> None:
        if not self._current():
            return
        kind, cancelled = self._end()
        self.finished.emit(kind, result, cancelled)

    @Slot(object)
    def _on_failed(self, exc) -> None:
        if not self._current():
            return
        kind, _ = self._end()
        self.failed.emit(kind, exc)
