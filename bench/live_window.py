"""The real window training with every panel live: the one setup shared by ``responsiveness.py`` and
``soak.py``.

The tab widget shows one tab at a time, so a few panels (``detach``) are taken out into windows of
their own: feature maps, filters, curves, training, architecture and the confusion matrix all draw
at once. A :class:`GapProbe` (a 10 ms ``Qt.PreciseTimer`` in the GUI thread) measures how long the
GUI thread was held between ticks; :class:`EpochMarks` remembers when each epoch's metrics reached
the GUI so the gaps around epoch ends (validation, confusion matrix, run store) can be told apart.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def percentile(values, q: float) -> float:
    """The ``q``-th percentile (nearest rank); NaN for no values."""
    s = sorted(values)
    if not s:
        return float("nan")
    return s[min(len(s) - 1, max(0, int(round(q / 100 * (len(s) - 1)))))]


def rss_bytes() -> int:
    """Resident memory of this process (Linux ``/proc``)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


class LiveWindow:
    """``MainWindow`` on a dataset, ``detach``-ed panels in windows of their own, ready to train."""

    def __init__(self, dataset: str = "shapes", model: str | None = None, data_dir: str | None = None,
                 detach=("filters", "evaluation"), size=(1480, 920), lang: str = "en"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        import pyqtgraph as pg
        from PySide6.QtWidgets import QApplication

        import engine  # noqa: F401  (NUMBA_CACHE_DIR before numba)
        from gui import i18n
        from gui.main_window import MainWindow

        self.app = QApplication.instance() or QApplication([sys.argv[0]])
        # antialiasing only where it shows (items ask for it): it doubles the paint time
        pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)
        i18n.set_language(lang)
        opts = argparse.Namespace(dataset=dataset, model=model, data_dir=data_dir, train=False,
                                  tab="feature_maps", classify=None)
        self.win = MainWindow(options=opts, restore_layout=False)
        self.win.resize(*size)
        self.win.show()
        self.controller = self.win.controller
        self.extra = []
        for key in detach:
            panel = self.win.tabs_by_key[key]
            panel.setParent(None)
            panel.setWindowTitle(key)
            panel.resize(700, 500)
            panel.show()
            self.extra.append(panel)
        self.win.show_tab("feature_maps")

    def run_loop(self, ms: int, until=None) -> None:
        """Run the real event loop for ``ms`` (or until the signal ``until`` fires)."""
        from PySide6.QtCore import QEventLoop, QTimer

        loop = QEventLoop()
        QTimer.singleShot(int(ms), loop.quit)
        if until is not None:
            until.connect(loop.quit)
        loop.exec()
        if until is not None:
            until.disconnect(loop.quit)

    def wait_ready(self) -> None:
        """Until the dataset, the model and the compiled kernels are there (SystemExit otherwise)."""
        c = self.controller
        if c.dataset is None or c.model is None:
            self.run_loop(120_000, c.dataset_ready)
        if not c.kernels_warm:
            self.run_loop(600_000, c.kernels_ready)
        if c.dataset is None:
            raise SystemExit("the dataset did not load: " + c.last_error)
        if not c.kernels_warm:
            raise SystemExit("kernels did not get ready: " + c.last_error)

    def start(self, epochs: int) -> None:
        c = self.controller
        c.set_options(epochs=epochs)
        if not c.start():
            raise SystemExit("training did not start: " + c.last_error)

    def stop_and_close(self) -> dict:
        """Stop training, end the worker thread, close every window; how long each part took."""
        c = self.controller
        out = {}
        t0 = time.perf_counter()
        c.stop()
        out["stop_call_ms"] = 1000 * (time.perf_counter() - t0)          # stop only asks
        t0 = time.perf_counter()
        if c.state not in ("idle", "finished"):
            self.run_loop(30_000, c.state_changed)
        out["stop_to_idle_ms"] = 1000 * (time.perf_counter() - t0)       # the worker's report, one batch later
        ok = c.state in ("idle", "finished") and c.shutdown()
        for panel in self.extra:
            panel.close()
        self.win.close()
        out["stopped_cleanly"] = bool(ok)
        return out


class GapProbe:
    """A 10 ms precise timer in the GUI thread; ``gaps_ms()`` are the intervals between its ticks."""

    def __init__(self, interval_ms: int = 10):
        from PySide6.QtCore import QObject, Qt, QTimer

        class _Tick(QObject):                 # a GUI-thread QObject: its bound method is the slot
            def __init__(self, ticks):
                super().__init__()
                self.ticks = ticks

            def tick(self):
                self.ticks.append(time.perf_counter())

        self.ticks: list[float] = []
        self._tick = _Tick(self.ticks)
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick.tick)

    def start(self) -> None:
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def clear(self) -> None:
        self.ticks.clear()

    def gaps_ms(self) -> list[float]:
        t = self.ticks
        return [1000 * (b - a) for a, b in zip(t, t[1:], strict=False)]

    def gaps_near(self, marks: list[float], before: float = 1.0, after: float = 1.0) -> tuple[list, list]:
        """The gaps (ms) ending within ``[mark - before, mark + after]`` of any mark, and the others."""
        near, far = [], []
        t = self.ticks
        for a, b in zip(t, t[1:], strict=False):
            (near if any(m - before <= b <= m + after for m in marks) else far).append(1000 * (b - a))
        return near, far


class EpochMarks:
    """When each epoch's metrics reached the GUI thread (``perf_counter`` seconds)."""

    def __init__(self, controller):
        from PySide6.QtCore import QObject

        class _Marks(QObject):
            def __init__(self, times):
                super().__init__()
                self.times = times

            def mark(self, *_args):
                self.times.append(time.perf_counter())

        self.times: list[float] = []
        self._marks = _Marks(self.times)
        controller.epoch_metrics_ready.connect(self._marks.mark)
