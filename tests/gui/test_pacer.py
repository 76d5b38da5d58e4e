"""The frame pacer: one panel redraws per tick, each at most at its own rate, deleted panels drop out."""

from __future__ import annotations

import gc
import time

import pytest

from gui.widgets.pacer import FramePacer, shared_pacer


class Panel:
    """A stand-in panel: ``dirty`` says whether it has something new to draw."""

    def __init__(self, name: str, log: list, dirty: bool = True):
        self.name, self.log, self.dirty = name, log, dirty

    def render(self) -> bool:
        if not self.dirty:
            return False
        self.dirty = False
        self.log.append(self.name)
        return True


@pytest.fixture
def pacer(qapp):
    p = FramePacer(tick_ms=1000)
    yield p
    p.timer.stop()
    p.deleteLater()


def test_one_panel_draws_per_tick_in_turn(pacer):
    log: list[str] = []
    panels = [Panel(n, log) for n in "abc"]
    for panel in panels:
        pacer.add(panel.render, 0)
    assert pacer.tick() and log == ["a"]
    assert pacer.tick() and log == ["a", "b"]
    for panel in panels:
        panel.dirty = True
    assert pacer.tick() and log == ["a", "b", "c"]      # round robin: c before a is served again
    assert pacer.tick() and log[-1] == "a"


def test_a_panel_with_nothing_new_does_not_use_up_the_tick(pacer):
    log: list[str] = []
    idle, busy = Panel("idle", log, dirty=False), Panel("busy", log)
    pacer.add(idle.render, 0)
    pacer.add(busy.render, 0)
    assert pacer.tick() and log == ["busy"]
    assert not pacer.tick()                              # nobody has anything: nothing drawn


def test_a_panel_is_offered_a_redraw_at_most_once_per_its_period(pacer):
    log: list[str] = []
    slow = Panel("slow", log)
    pacer.add(slow.render, 200)
    assert pacer.tick() and log == ["slow"]
    slow.dirty = True
    assert not pacer.tick() and log == ["slow"]          # new data, but 200 ms have not passed
    time.sleep(0.21)
    assert pacer.tick() and log == ["slow", "slow"]


def test_the_rate_is_kept_on_average_when_a_redraw_comes_late(pacer):
    """A redraw 50 ms late does not push the next one 50 ms back (curves stay at 4 a second)."""
    log: list[str] = []
    p = Panel("p", log)
    pacer.add(p.render, 100)
    assert pacer.tick()
    client = pacer._clients[0]
    first = client.last
    time.sleep(0.15)
    p.dirty = True
    assert pacer.tick()
    assert client.last == pytest.approx(first + 0.1)


def test_a_deleted_panel_drops_out(pacer):
    log: list[str] = []
    keep, gone = Panel("keep", log), Panel("gone", log)
    pacer.add(gone.render, 0)
    pacer.add(keep.render, 0)
    del gone
    gc.collect()
    assert pacer.tick() and log == ["keep"] and len(pacer) == 1


def test_a_panel_whose_widget_was_destroyed_drops_out(pacer):
    class Destroyed:
        def render(self):
            raise RuntimeError("Internal C++ object (CurvesPanel) already deleted.")

    d = Destroyed()
    log: list[str] = []
    ok = Panel("ok", log)
    pacer.add(d.render, 0)
    pacer.add(ok.render, 0)
    assert pacer.tick() and log == ["ok"] and len(pacer) == 1


def test_the_curves_draw_their_two_plots_in_different_ticks(window):
    """Loss and accuracy are painted in different turns of the event loop: two short pauses."""
    panel = window.curves_panel
    assert panel.isVisible()
    from engine.training import BatchMetrics
    window.controller.history.batches.extend(
        [BatchMetrics(0, i, 50, 1.0 / (i + 1), 0.5, 6400.0) for i in range(20)])
    panel.mark_dirty()
    before = panel.render_count
    assert panel.render_plot("loss")
    assert panel.render_count == before                  # half a frame: the accuracy plot waits
    assert len(panel.loss_raw.getData()[0]) == 20 and panel.acc_raw.getData()[0] is None
    assert not panel.render_plot("loss")                 # nothing new for the loss plot
    assert panel.render_plot("acc") and panel.render_count == before + 1
    assert len(panel.acc_raw.getData()[0]) == 20


def test_every_live_panel_shares_one_pacer(window):
    owners = {c.method().__self__ for c in shared_pacer()._clients if c.method() is not None}
    for panel in (window.feature_map_panel, window.filter_panel, window.curves_panel,
                  window.evaluation_panel, window.training_panel):
        assert panel in owners
