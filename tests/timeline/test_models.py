"""The widget-free models of the timeline bar and the Runs tab: tested without a QApplication."""

from __future__ import annotations

import numpy as np
import pytest

from engine.runs import RunStore
from gui.runs.model import RunsModel, format_bytes
from gui.timeline.model import TimelineModel
from tests.headless import qt_modules_loaded_by


def test_the_models_import_no_qt():
    assert qt_modules_loaded_by("gui.timeline.model", "gui.runs.model", "gui.runs.freeze") == []


@pytest.fixture
def timeline():
    t = TimelineModel()
    t.set_moments([0, 1, 2, 4, 8, 16], [0, 0.125, 0.25, 0.5, 1.0, 2.0], {1: 8, 2: 16})
    t.events = []
    t.subscribe(t.events.append)
    return t


def test_a_new_timeline_is_live_at_the_newest_step(timeline):
    pos = timeline.position
    assert timeline.is_live and pos.live and pos.step == 16 and pos.epoch == 2.0


def test_seeking_shows_a_kept_moment_and_tells_the_subscribers(timeline):
    timeline.seek_step(5)                      # nearest kept at or before
    assert timeline.position.step == 4 and not timeline.position.live
    assert timeline.events == [frozenset({"position"})]
    timeline.seek_epoch(1)
    assert timeline.position.step == 8 and timeline.position.finished_epochs == 1
    timeline.seek_epoch(0)
    assert timeline.position.step == 0 and timeline.position.finished_epochs == 0


def test_new_moments_keep_a_shown_past_moment_in_place(timeline):
    timeline.seek_step(4)
    timeline.events.clear()
    timeline.set_moments([0, 1, 2, 4, 8, 16, 23, 32], [0, 0.1, 0.2, 0.5, 1, 2, 2.9, 4], {1: 8, 2: 16, 4: 32})
    assert timeline.position.step == 4 and timeline.live_step == 32
    assert timeline.events == [frozenset({"moments"})]


def test_a_dropped_shown_moment_moves_to_the_one_before(timeline):
    timeline.seek_step(2)
    timeline.events.clear()
    timeline.set_moments([0, 1, 4, 8, 16], [0, 0.1, 0.5, 1, 2])
    assert timeline.position.step == 1
    assert timeline.events == [frozenset({"moments", "position"})]


def test_play_steps_through_the_moments_and_ends_live(timeline):
    timeline.play()                            # from live: replay from the start
    assert timeline.playing and timeline.position.step == 0
    steps = []
    for _ in range(10):
        timeline.tick()
        steps.append(None if timeline.is_live else timeline.position.step)
    assert steps[:6] == [1, 2, 4, 8, 16, None]
    assert not timeline.playing and timeline.is_live


def test_pause_stops_the_replay_and_back_from_live_is_the_newest_moment(timeline):
    timeline.play()
    timeline.tick()
    timeline.pause()
    timeline.tick()
    assert timeline.position.step == 1 and not timeline.playing
    timeline.go_live()
    timeline.step_back()
    assert timeline.position.step == 16
    timeline.step_back()
    assert timeline.position.step == 8


def test_reset_empties_the_timeline_and_goes_live(timeline):
    timeline.seek(2)
    timeline.reset()
    assert timeline.count == 0 and timeline.is_live and timeline.position.step == 0


# -- runs --------------------------------------------------------------------------------------------

def _fake_run(store, name, optimizer, val_acc, seconds=1.0):
    writer = store.start_run(name, "mnist", {"layers": []}, {"optimizer": optimizer, "learning_rate": 0.01,
                                                               "batch_size": 32})
    for epoch, acc in enumerate(val_acc, start=1):
        writer.epoch_end(epoch, epoch * 10, 1.0 / epoch, acc - 0.05, 1.2 / epoch, acc, seconds,
                         weights=[{"W": np.full((2, 2), epoch, np.float32)}])
    assert writer.close("finished")
    return writer.run_id


@pytest.fixture
def store(tmp_path):
    with RunStore(tmp_path / "runs") as s:
        yield s


def test_rows_list_the_runs_with_their_figures(store):
    a = _fake_run(store, "sgd run", "sgd", [0.5, 0.7, 0.8])
    b = _fake_run(store, "adam run", "adam", [0.8, 0.9])
    model = RunsModel(store)
    assert {r.id for r in model.rows} == {a, b}
    row = model.row(a)
    assert row.epochs == 3 and row.best_val_accuracy == pytest.approx(0.8) and row.optimizer == "sgd"
    assert row.status == "finished" and row.checkpoint_epochs == (1, 2, 3) and row.disk_bytes > 0
    assert model.total_disk >= row.disk_bytes + model.row(b).disk_bytes
    assert format_bytes(1_500_000) == "1.5 MB"


def test_compare_overlays_each_selected_run_train_and_validation_curves(store):
    a = _fake_run(store, "sgd run", "sgd", [0.5, 0.7, 0.8], seconds=2.0)
    b = _fake_run(store, "adam run", "adam", [0.8, 0.9], seconds=3.0)
    model = RunsModel(store)
    model.select([a, b])
    series = model.curve_series("accuracy", "epoch")
    assert [(s.run_id, s.split) for s in series] == [(a, "train"), (a, "val"), (b, "train"), (b, "val")]
    assert series[1].x == (1, 2, 3) and series[1].y == pytest.approx((0.5, 0.7, 0.8))
    assert series[2].y == pytest.approx((0.75, 0.85))
    loss = model.curve_series("loss", "elapsed")
    assert loss[3].y == pytest.approx((1.2, 0.6)) and loss[3].x[0] < loss[3].x[1]
    table = model.table()
    keys = [k for k, _, _ in table]
    assert keys[0] == "best_val_accuracy" and table[0][1] == pytest.approx((0.8, 0.9))
    settings = keys[keys.index("parent") + 1:]
    assert settings[0] == "optimizer"            # the differing setting comes before the equal ones
    assert dict((k, d) for k, _, d in table)["batch_size"] is False


def test_deleting_a_run_removes_it_and_its_files(store):
    a = _fake_run(store, "one", "sgd", [0.5])
    b = _fake_run(store, "two", "sgd", [0.6])
    folder = store.run(a).folder
    assert folder.is_dir()
    model = RunsModel(store)
    model.select([a, b])
    events = []
    model.subscribe(events.append)
    freed = model.delete([a])
    assert freed > 0 and [r.id for r in model.rows] == [b] and model.selected == [b]
    assert frozenset({"rows", "selection"}) in events
    assert not folder.exists()


def _two_conv_architecture(frozen=()):
    from engine.layers import Conv2D, Dense, Flatten, MaxPooling2D
    from engine.network import Sequential

    model = Sequential([Conv2D(8, 3, frozen_filters=frozen), MaxPooling2D(2), Conv2D(12, 3), Flatten(), Dense(3)])
    model.build((1, 12, 12), seed=0)
    return model.get_config()


def test_the_freeze_choice_offers_every_conv_layer_and_reads_typed_filter_lists():
    from gui.runs.freeze import FreezeChoice, format_indices, parse_indices

    choice = FreezeChoice(_two_conv_architecture(frozen=[1, 2]))
    assert [(c.name, c.filters, c.index) for c in choice.layers] == [("conv2d", 8, 0), ("conv2d_1", 12, 2)]
    assert choice.frozen("conv2d") == [1, 2] and choice.text("conv2d") == "1-2"   # what the run already froze
    assert choice.set_text("conv2d_1", "0-3, 7 11")
    choice.set_all("conv2d", True)
    assert choice.is_all("conv2d") and not choice.is_all("conv2d_1")
    assert choice.changes() == {"conv2d": list(range(8)), "conv2d_1": [0, 1, 2, 3, 7, 11]}
    assert not choice.set_text("conv2d_1", "3, 12") and not choice.valid
    assert "12" in choice.error("conv2d_1") and "11" in choice.error("conv2d_1")
    assert choice.changes()["conv2d_1"] == [0, 1, 2, 3, 7, 11]            # the last readable choice stays
    assert not choice.set_text("conv2d_1", "a-b") and "a-b" in choice.error("conv2d_1")
    assert choice.set_text("conv2d_1", "") and choice.valid and choice.changes()["conv2d_1"] == []
    assert parse_indices("5-3", 6) == [3, 4, 5] and format_indices([0, 1, 2, 5, 7, 8]) == "0-2, 5, 7-8"
    assert parse_indices(format_indices([0, 2, 3, 4, 9]), 10) == [0, 2, 3, 4, 9]
    with pytest.raises(ValueError):
        parse_indices("-1", 4)
