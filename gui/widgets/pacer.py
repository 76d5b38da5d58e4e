"""The frame pacer: every live panel redraws through one timer, one panel per turn of the event loop.

While training runs, new data reaches the feature maps, the filters, the curves, the gradient
curves, the confusion matrix and the progress text many times a second. With a timer per panel the
timers came due together and the panels redrew back to back; Qt then painted them all in the same
turn of the event loop, so the GUI thread was held for the sum (30-50 ms under training load,
measured with ``bench/responsiveness.py``) and a click, a key or a timer waited that long.

The pacer runs one precise timer every ``TICK_MS``. Each tick it offers a redraw to the panels in
turn (round robin, starting after the one served last) and stops at the first that draws: its paint
follows in the same turn and the event loop runs everything else before the next tick. A panel is
offered a redraw at most once per its ``period_ms``. A client is a bound method returning True when
it drew something (False or None: nothing new, or the panel is hidden); the pacer keeps only a weak
reference, so a deleted panel simply drops out.
"""

from __future__ import annotations

import time
import weakref

from PySide6.QtCore import QObject, Qt, QTimer

from gui.singletons import per_application

TICK_MS = 15     # about 66 offers a second; the panels ask for 4-25 redraws a second each


class _Client:
    __slots__ = ("method", "period", "last")

    def __init__(self, method, period_s: float):
        self.method = weakref.WeakMethod(method)
        self.period = period_s
        self.last = -float("inf")


class FramePacer(QObject):
    """One redraw per tick, shared by every panel of the process (see the module docstring)."""

    def __init__(self, parent: QObject | None = None, tick_ms: int = TICK_MS):
        super().__init__(parent)
        self._clients: list[_Client] = []
        self._next = 0
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(tick_ms)
        self.timer.timeout.connect(self.tick)

    def add(self, render, period_ms: int) -> None:
        """Offer ``render`` (a bound method returning True when it drew) a redraw at most every ``period_ms``."""
        self._clients.append(_Client(render, period_ms / 1000))
        if not self.timer.isActive():
            self.timer.start()

    def __len__(self) -> int:
        return len(self._clients)

    def tick(self) -> bool:
        """Offer one redraw; True when a panel drew."""
        clients = self._clients
        n = len(clients)
        now = time.perf_counter()
        drew = False
        gone = []                         # deleted panels, and panels whose C++ object is gone
        for i in range(n):
            k = (self._next + i) % n
            client = clients[k]
            if now - client.last < client.period:
                continue
            render = client.method()
            if render is None:
                gone.append(client)
                continue
            try:
                drew = bool(render())
            except RuntimeError:          # "Internal C++ object already deleted" (a closed window)
                gone.append(client)
                continue
            if drew:
                # keep the asked rate on average: a redraw that came late does not push the next one back
                client.last = now if now - client.last > 2 * client.period else client.last + client.period
                self._next = k + 1
                break
        if gone:
            self._clients = [c for c in clients if c not in gone]
            self._next = self._next % max(1, len(self._clients))
            if not self._clients:
                self.timer.stop()
        return drew


def shared_pacer() -> FramePacer:
    """The process's pacer (made on first use, owned by the application object)."""
    return per_application(FramePacer)
