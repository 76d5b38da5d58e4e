"""The window's timeline bar and Runs tab: moving the bar moves every panel; runs are listed,
compared, deleted; a damaged run database is set aside with a message."""

from __future__ import annotations

import numpy as np
import pytest

TIMEOUT = 60_000


@pytest.fixture
def runs_dir(tmp_path, monkeypatch):
    path = tmp_path / "runs"
    monkeypatch.setenv("CONVSCOPE_RUNS_DIR", str(path))
    return path


def _train(qtbot, c, epochs=2, optimizer="adam", lr=0.003):
    c.set_options(optimizer=optimizer, learning_rate=lr, batch_size=32, epochs=epochs, seed=0)
    with qtbot.waitSignal(c.state_changed, timeout=TIMEOUT, check_params_cb=lambda s: s == "finished"):
        assert c.start()


def test_the_timeline_slider_moves_every_panel_to_the_stored_step(qtbot, window, runs_dir):
    w = window
    c = w.controller
    _train(qtbot, c, epochs=2)
    bar = w.timeline_bar
    assert bar.slider.maximum() == c.timeline.count and bar.slider.value() == c.timeline.count   # live
    assert set(bar.slider.epoch_marks.values()) == {1, 2}
    # a classify image, so its probabilities follow the timeline too
    image = (np.asarray(c.recorder.probe_sample.x)[0] * 255).round().astype(np.uint8)
    assert w.classify_panel.classify_image(image, "probe") is not None
    live_probs = w.classify_panel.current.probabilities.copy()

    index = c.timeline.steps.index(3)
    bar.slider.setValue(index)                       # what dragging the slider does
    moment = c.recorder.history.at(3)
    assert c.timeline.position.step == 3
    assert "3" in bar.label.text() and not bar.live_button.isChecked()
    fm = w.feature_map_panel.inspection
    assert fm.step == 3 and not fm.live
    np.testing.assert_array_equal(fm.activations[1], moment.activations[1])
    conv = w.filter_panel.layer_index
    name = c.model.layers[conv].name
    np.testing.assert_array_equal(w.filter_panel.kernels(), moment.filters[name])
    assert w.curves_panel.cursor_x == pytest.approx(moment.epoch)
    assert w.architecture_panel.moment_label.isVisibleTo(w.architecture_panel)
    assert w.evaluation_panel.confusion is None                # step 3 is before the first epoch's end
    untrained = c.classify_at_moment(w.classify_panel.current.x)
    np.testing.assert_allclose(w.classify_panel.current.probabilities, untrained, rtol=1e-6)
    assert not np.allclose(untrained, live_probs, atol=1e-3)     # step 3's weights answer differently
    w.show_tab("theater")
    qtbot.wait(600)
    np.testing.assert_array_equal(w.theater_panel.sources.model.layers[conv].params["W"], moment.filters[name])

    c.timeline.seek_epoch(1)
    np.testing.assert_array_equal(w.evaluation_panel.confusion, c.history.epochs[0].confusion)
    assert w.evaluation_panel.epoch_spin.value() == 1

    bar.live_button.click()
    assert c.timeline.is_live and w.curves_panel.cursor_x is None
    assert not w.architecture_panel.moment_label.isVisibleTo(w.architecture_panel)
    assert w.feature_map_panel.inspection.step == c.latest_snapshot.step
    np.testing.assert_array_equal(w.evaluation_panel.confusion, c.history.epochs[-1].confusion)


def test_play_replays_the_moments_to_live(qtbot, window, runs_dir):
    c = window.controller
    _train(qtbot, c, epochs=1)
    bar = window.timeline_bar
    bar.timer.setInterval(5)
    shown = []
    c.timeline_moved.connect(lambda p: shown.append(p.step))
    bar.play_button.click()
    assert c.timeline.playing and c.timeline.position.step == 0
    qtbot.waitUntil(lambda: c.timeline.is_live, timeout=10_000)
    assert shown[:-1] == c.timeline.steps and shown[-1] == c.timeline.live_step and not bar.timer.isActive()


def test_runs_tab_lists_runs_and_compares_sgd_with_adam(qtbot, window, runs_dir):
    w = window
    c = w.controller
    _train(qtbot, c, epochs=2, optimizer="sgd", lr=0.05)
    _train(qtbot, c, epochs=2, optimizer="adam", lr=0.003)
    panel = w.runs_panel
    panel.refresh()
    assert [r.optimizer for r in panel.model.rows] == ["adam", "sgd"]       # newest first
    assert panel.list.rowCount() == 2 and "2" in panel.disk_label.text()
    ids = [r.id for r in panel.model.rows]
    panel.list.selectAll()
    assert sorted(panel.model.selected) == sorted(ids)
    view = panel.compare
    assert not view.hint.isVisible()
    loss_items = [i for i in view.plots["loss"].listDataItems()]
    assert len(loss_items) == 4                                           # train + val per run
    by_run = {r.id: c.run_store.epoch_metrics(r.id) for r in panel.model.rows}
    val_lines = [item.getData() for item in loss_items if item.opts["symbol"] == "o"]
    expected = sorted(tuple(round(e["val_loss"], 6) for e in rows) for rows in by_run.values())
    assert sorted(tuple(np.round(y, 6)) for _, y in val_lines) == expected
    assert view.table.rowCount() > 5 and view.table.columnCount() == 2
    first_setting = view.table.verticalHeaderItem(8).text()
    assert first_setting in ("optimizer", "learning rate", "옵티마이저", "학습률")
    view.x_combo.setCurrentIndex(1)                                        # vs seconds
    xs = [item.getData()[0] for item in view.plots["loss"].listDataItems()]
    assert all(x[-1] > 0 for x in xs)


def test_deleting_runs_after_confirmation_frees_their_disk_space(qtbot, window, runs_dir, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    c = window.controller
    _train(qtbot, c, epochs=1)
    panel = window.runs_panel
    panel.refresh()
    panel.list.selectAll()
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
    panel.buttons["delete"].click()
    assert len(panel.model.rows) == 1
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    panel.buttons["delete"].click()
    assert panel.model.rows == [] and c.run_store.runs() == []


def test_a_corrupt_run_database_is_set_aside_with_a_message(qtbot, window, runs_dir):
    runs_dir.mkdir(parents=True, exist_ok=True)
    (runs_dir / "runs.db").write_bytes(b"this is not a database" * 100)
    c = window.controller
    messages = []
    c.error_occurred.connect(messages.append)
    store = c.open_run_store()
    assert store is not None and store.problem is not None
    assert list(runs_dir.glob("runs.db.corrupt-*"))
    assert messages and "runs.db.corrupt-" in messages[-1]
    assert window.message_bar.isVisible()
    _train(qtbot, c, epochs=1)                          # the fresh database records runs again
    assert len(c.run_store.runs()) == 1


def test_an_unusable_runs_folder_is_a_message_and_training_still_works(qtbot, window, tmp_path, monkeypatch):
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("CONVSCOPE_RUNS_DIR", str(blocker / "runs"))
    c = window.controller
    messages = []
    c.error_occurred.connect(messages.append)
    assert c.open_run_store() is None and messages
    _train(qtbot, c, epochs=1)
    assert c.timeline.count > 2 and c.current_run_id is None
