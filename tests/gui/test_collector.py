"""Garbage is collected in the GUI thread only: a cycle of Qt wrappers dying in the training worker
deadlocked the window (see gui/collector.py)."""

from __future__ import annotations

import gc
import threading

from gui.collector import GuiThreadCollector, install_gui_collector


class Cycle:
    def __init__(self):
        self.me = self


def test_a_controller_turns_automatic_collection_off(window):
    assert not gc.isenabled()
    assert install_gui_collector() is install_gui_collector()           # one per application


def test_the_timer_collects_each_generation_when_it_is_due(qapp):
    was = gc.isenabled()
    c = GuiThreadCollector(interval_ms=60_000)
    try:
        gc.collect()
        assert c.check() == -1                       # nothing allocated since: nothing due
        for _ in range(c.threshold[0] + 50):
            Cycle()
        assert c.check() == 0 and c.collections[0] == 1
        assert gc.get_count()[0] < c.threshold[0]
    finally:
        c.timer.stop()
        c.deleteLater()
        if was:
            gc.enable()


def test_a_worker_thread_making_garbage_never_collects_it(window):
    """Allocating many cycles in another thread runs no collection there."""
    collected_in: list[str] = []

    def note(phase, _info):
        if phase == "start":
            collected_in.append(threading.current_thread().name)

    gc.callbacks.append(note)
    try:
        t = threading.Thread(target=lambda: [Cycle() for _ in range(50_000)], name="fake-worker")
        t.start()
        t.join()
    finally:
        gc.callbacks.remove(note)
    assert "fake-worker" not in collected_in
