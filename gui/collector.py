"""Garbage collection in the GUI thread only.

Python's cyclic collector runs in whichever thread happens to allocate when a generation fills up:
often the training worker. A cycle holding Qt wrappers (a closed window's panels, a replaced plot)
was then destroyed in the worker thread while the GUI thread deleted other Qt objects: each waited
for a lock the other held and the window froze for good (seen in the test suite, a `QObject`
destructor in the worker waiting for the GIL, the GUI thread inside `~QMenu` waiting for Qt's lock).
PySide, like pyqtgraph's ``GarbageCollector``, expects Qt objects to die in the GUI thread.

So automatic collection is turned off once a window exists, and a timer in the GUI thread collects
each generation when it is due (the same thresholds Python would use). Together with
:func:`engine._env.freeze_long_lived_objects` (the start-up objects are never walked again) a
collection costs about a millisecond, so the timer cannot stall the window either.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

from gui.singletons import per_application

INTERVAL_MS = 1000


class GuiThreadCollector(QObject):
    """Collects garbage on a GUI-thread timer instead of wherever Python would (see the module docstring)."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = INTERVAL_MS):
        super().__init__(parent)
        self.threshold = gc.get_threshold()
        self.collections = [0, 0, 0]
        gc.disable()
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.check)
        self.timer.start()

    def check(self) -> int:
        """Collect the generations that are due; returns the oldest generation collected (-1: none)."""
        l0, l1, l2 = gc.get_count()
        t0, t1, t2 = self.threshold
        gen = -1
        if l0 > t0:
            gen = 0
            if l1 > t1:
                gen = 1
                if l2 > t2:
                    gen = 2
        if gen >= 0:
            gc.collect(gen)
            self.collections[gen] += 1
        return gen


def install_gui_collector() -> GuiThreadCollector:
    """Turn automatic collection off and collect on a GUI-thread timer (once per application)."""
    return per_application(GuiThreadCollector)
