"""Background jobs of the controller that are not training: kernel warm-up, dataset loading,
evaluation and class predictions.

Each runs in a plain daemon Python thread (numba kernels release the GIL, so the GUI stays smooth)
and reports through a signal of a QObject living in the GUI thread, so its slots run there. Daemon
threads matter at exit: a numba compilation cannot be interrupted, and the window must still close
at once (the process does not wait for a daemon thread).
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
import time
import traceback
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from engine import datasets, kernels
from gui.i18n import tr_error


def _emit(signal, *values) -> None:
    """Report from a helper thread; after the window closed the receiver may be gone: say nothing."""
    try:
        signal.emit(*values)
    except RuntimeError:
        pass


def load_dataset(name: str, seed: int, data_dir: str | None = None, progress=None, should_stop=None,
                 folder_options: dict | None = None):
    """Load a dataset by name or image-folder path (any thread; no Qt). ``folder_options``: keyword
    arguments of ``load_image_folder`` for a folder (``color``, ``image_size``; default 28x28 grayscale)."""
    path = Path(name).expanduser()
    if name not in datasets.DATASETS and path.is_dir():
        return datasets.load_image_folder(str(path), seed=seed, **(folder_options or {}))
    data_dir = data_dir or os.environ.get("CONVSCOPE_DATA_DIR")
    options = {}
    if should_stop is not None and datasets.DATASETS.get(name) is not None and not datasets.DATASETS[name].offline:
        options["should_stop"] = should_stop          # a download can be abandoned when the window closes
    return datasets.load_dataset(name, data_dir=data_dir, seed=seed, progress=progress, **options)


_ABANDONED_COMPILATIONS: list[threading.Thread] = []


@atexit.register
def _leave_without_waiting_for_a_compilation() -> None:
    """A compilation left behind by a closed window would hold the interpreter's exit for a second
    or more (numba's LLVM work is not interruptible and finalization waits for it). Nothing is left
    to save at this point (the window saved its settings, every controller has shut down; an
    unfinished compilation writes no cache file), so the process leaves at once."""
    if any(thread.is_alive() for thread in _ABANDONED_COMPILATIONS):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


class KernelWarmup(QObject):
    """Compiles (or loads from numba's cache) every kernel on a daemon thread; ``finished(seconds,
    error message in the interface language or "")`` follows. The first launch compiles for tens of seconds."""

    finished = Signal(float, str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def abandon(self) -> None:
        """The window is closing: the process may exit without waiting for this compilation."""
        if self.running:
            _ABANDONED_COMPILATIONS.append(self._thread)

    def start(self, model=None, x=None) -> None:
        """Compile; with ``model`` (a copy the thread may use alone) and one image ``x``, also run it once."""
        done = self.finished

        def work() -> None:
            t0 = time.perf_counter()
            error = ""
            try:
                kernels.warmup()
                if model is not None and x is not None:
                    model.forward(x[None], training=False)
            except Exception as exc:  # noqa: BLE001 - reported to the user as a message
                traceback.print_exc()
                error = tr_error(exc) or type(exc).__name__     # in the interface language, never empty
            _emit(done, time.perf_counter() - t0, error)

        self._thread = threading.Thread(target=work, name="convscope-warmup", daemon=True)
        self._thread.start()


class DatasetLoader(QObject):
    """Loads one dataset at a time on a daemon thread: ``loaded(name, Dataset or Exception)``,
    ``progress(name, bytes done, bytes total)`` while downloading."""

    loaded = Signal(str, object)
    progress = Signal(str, float, float)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._thread: threading.Thread | None = None
        self._cancel = threading.Event()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, name: str, seed: int, data_dir: str | None = None, folder_options: dict | None = None) -> bool:
        if self.running:
            return False
        loaded, progress_signal, cancel = self.loaded, self.progress, self._cancel
        last = [0.0]

        def progress(done_bytes, total_bytes) -> None:
            now = time.perf_counter()
            if now - last[0] > 0.25:
                last[0] = now
                _emit(progress_signal, name, float(done_bytes), float(total_bytes or 0))

        def work() -> None:
            try:
                result = load_dataset(name, seed, data_dir, progress, cancel.is_set, folder_options)
            except Exception as exc:  # noqa: BLE001 - any failure keeps the current dataset
                traceback.print_exc()
                result = exc
            _emit(loaded, name, result)

        self._thread = threading.Thread(target=work, name="convscope-dataset", daemon=True)
        self._thread.start()
        return True

    def cancel(self, timeout: float) -> None:
        """Ask a download to stop and wait up to ``timeout`` seconds for the thread."""
        self._cancel.set()
        if self._thread is not None:
            self._thread.join(timeout)


class ModelJobs(QObject):
    """Runs ``job(model_copy)`` on a daemon thread, one at a time; a request made meanwhile waits
    (the newest replaces an older waiting one). ``done(key, result or Exception)`` follows."""

    done = Signal(object, object)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._thread: threading.Thread | None = None
        self._waiting = None
        self.closed = False

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def submit(self, key, job, model) -> None:
        """``model`` must be a copy that no other thread uses (layers keep per-call caches)."""
        if self.running:
            self._waiting = (key, job, model)
            return
        done = self.done

        def run() -> None:
            try:
                result = job(model)
            except Exception as exc:  # noqa: BLE001
                traceback.print_exc()
                result = exc
            _emit(done, key, result)

        self._thread = threading.Thread(target=run, name="convscope-evaluate", daemon=True)
        self._thread.start()

    def next_waiting(self):
        """The request that waited for the finished one (call from the ``done`` slot), or None."""
        waiting, self._waiting = self._waiting, None
        self._thread = None
        return None if self.closed else waiting

    def close(self, timeout: float) -> None:
        self.closed = True
        self._waiting = None
        if self._thread is not None:
            self._thread.join(timeout)
