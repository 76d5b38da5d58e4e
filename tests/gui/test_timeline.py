"""Recording runs and travelling through their timeline: the controller's side."""

from __future__ import annotations

import numpy as np
import pytest

TIMEOUT = 60_000


@pytest.fixture
def runs_dir(tmp_path, monkeypatch):
    path = tmp_path / "runs"
    monkeypatch.setenv("CONVSCOPE_RUNS_DIR", str(path))
    return path


def _train(qtbot, c, epochs=2, batch_size=32, **extra):
    options = dict(optimizer="adam", learning_rate=0.003, batch_size=batch_size, epochs=epochs, seed=0)
    options.update(extra)
    c.set_options(**options)
    with qtbot.waitSignal(c.state_changed, timeout=TIMEOUT, check_params_cb=lambda s: s == "finished"):
        assert c.start()


def test_a_training_run_is_recorded_in_the_store_and_the_timeline(qtbot, controller, runs_dir):
    c = controller
    _train(qtbot, c, epochs=2)
    store = c.run_store
    assert store.root == runs_dir
    (info,) = store.runs()
    assert info.status == "finished" and info.dataset == "bars"
    assert info.settings["optimizer"] == "adam" and info.settings["learning_rate"] == 0.003
    assert [r["epoch"] for r in store.epoch_metrics(info.id)] == [1, 2]
    assert store.checkpoint_epochs(info.id) == [0, 1, 2]
    steps = c.timeline.steps
    per_epoch = int(np.ceil(len(c.dataset.y_train) / 32))
    assert steps[0] == 0 and steps[-1] == 2 * per_epoch
    assert c.timeline.epoch_steps == {1: per_epoch, 2: 2 * per_epoch}
    assert store.moment_steps(info.id) == steps
    assert c.recorder.nbytes > c.recorder.history.nbytes > 0


def test_moving_the_timeline_publishes_the_stored_moment_then_live_returns(qtbot, controller, runs_dir):
    c = controller
    _train(qtbot, c, epochs=2)
    shown, moved = [], []
    c.inspection_ready.connect(shown.append)
    c.timeline_moved.connect(moved.append)
    c.timeline.seek_step(0)
    ins = shown[-1]
    assert not ins.live and ins.step == 0 and moved[-1].step == 0 and not moved[-1].live
    # the untrained weights: the stored checkpoint 0 is the same model
    first = c.run_store.checkpoint(c.current_run_id, 0)
    conv = next(i for i, w in enumerate(first.weights) if np.ndim(w.get("W")) == 4)
    np.testing.assert_array_equal(ins.weights[conv]["W"], first.weights[conv]["W"])
    moment = c.recorder.history.at(0)
    np.testing.assert_array_equal(ins.activations[1], moment.activations[1])
    np.testing.assert_allclose(ins.probabilities, moment.probabilities)
    c.timeline.seek_epoch(1)
    assert shown[-1].step == c.timeline.epoch_steps[1] and moved[-1].finished_epochs == 1
    np.testing.assert_array_equal(c.timeline_confusion(1), c.history.epochs[0].confusion)
    c.timeline.go_live()
    assert moved[-1].live and shown[-1].step == c.latest_snapshot.step
    np.testing.assert_array_equal(shown[-1].weights[conv]["W"], c.model.layers[conv].params["W"])


def test_live_snapshots_do_not_overwrite_a_past_moment_while_training(qtbot, controller, runs_dir):
    c = controller
    c.set_options(optimizer="adam", learning_rate=0.003, batch_size=8, epochs=50, seed=0)
    c.start()
    qtbot.waitUntil(lambda: c.timeline.count >= 4, timeout=TIMEOUT)
    c.timeline.seek(1)
    step = c.timeline.position.step
    assert c.latest_inspection.step == step and not c.latest_inspection.live
    qtbot.waitUntil(lambda: c.latest_snapshot is not None and c.latest_snapshot.step > step + 8, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: c.timeline.live_step > step + 8, timeout=TIMEOUT)
    assert c.latest_inspection.step == step        # live moved on, the view stayed
    assert c.is_training
    c.timeline.go_live()
    assert c.latest_inspection.live and c.latest_inspection.step > step
    with qtbot.waitSignal(c.state_changed, timeout=TIMEOUT, check_params_cb=lambda s: s == "idle"):
        c.stop()
    assert c.run_store.runs()[0].status == "stopped"


def test_branching_keeps_the_parent_weights_exactly_and_remembers_the_parent(qtbot, controller, runs_dir):
    c = controller
    _train(qtbot, c, epochs=2, batch_size=24)       # 11 steps an epoch: epoch 2 ends on step 22, off the schedule
    parent = c.current_run_id
    expected = c.run_store.checkpoint(parent, 2).weights
    assert c.run_store.checkpoint(parent, 2).step == 22
    child = c.branch_run(parent, 2, {"optimizer": "sgd", "learning_rate": 0.01}, epochs=1)
    assert child is not None and child != parent
    assert c.state == "training"
    info = c.run_store.run(child)
    assert info.parent_id == parent and info.parent_epoch == 2
    assert info.settings["optimizer"] == "sgd" and info.settings["learning_rate"] == 0.01
    qtbot.waitUntil(lambda: c.state == "finished", timeout=TIMEOUT)
    # the first stored moment of the branch is the parent's epoch-1 model, to the bit
    first_step = c.run_store.moment_steps(child)[0]
    assert first_step == 22
    start = c.run_store.checkpoint(child, 2).weights
    for got, want in zip(start, expected, strict=True):
        for key in want:
            np.testing.assert_array_equal(got[key], want[key])
    branch_start = c.recorder.inspection_at(first_step)
    for got, want in zip(branch_start.weights, expected, strict=True):
        for key in want:
            np.testing.assert_array_equal(got[key], want[key])
    assert c.run_store.checkpoint_epochs(child) == [2, 3]
    assert c.options["optimizer"] == "sgd" and type(c.trainer or c.recorder.trainer).__name__ == "Trainer"
    assert type(c.recorder.trainer.optimizer).__name__ == "SGD"


def test_reopening_a_run_uses_its_final_weights(qtbot, controller, runs_dir):
    c = controller
    _train(qtbot, c, epochs=1)
    run_id = c.current_run_id
    final = c.run_store.checkpoint(run_id).weights
    c.reset()                                           # other weights in the window
    assert not np.array_equal(c.model.get_weights()[0]["W"], final[0]["W"])
    assert c.reopen_run(run_id)
    for got, want in zip(c.model.get_weights(), final, strict=True):
        for key in want:
            np.testing.assert_array_equal(got[key], want[key])
    assert c.state == "idle"


def test_continuing_a_stopped_run_trains_on_in_the_same_run(qtbot, controller, runs_dir):
    c = controller
    c.set_options(optimizer="adam", learning_rate=0.003, batch_size=32, epochs=3, seed=0)
    c.start()
    qtbot.waitUntil(lambda: len(c.history.epochs) >= 1, timeout=TIMEOUT)
    with qtbot.waitSignal(c.state_changed, timeout=TIMEOUT, check_params_cb=lambda s: s == "idle"):
        c.stop()
    run_id = c.current_run_id
    info = c.run_store.run(run_id)
    assert info.status == "stopped"
    kept = c.run_store.checkpoint(run_id)
    assert c.continue_run(run_id)
    assert c.current_run_id == run_id and c.run_store.run(run_id).status == "running"
    assert c.trainer.step_count >= kept.step and c.trainer.epoch == kept.epoch
    qtbot.waitUntil(lambda: c.state == "finished", timeout=TIMEOUT)
    assert [r["epoch"] for r in c.run_store.epoch_metrics(run_id)] == [1, 2, 3]
    assert c.run_store.run(run_id).status == "finished" and len(c.run_store.runs()) == 1


def _step(qtbot, c):
    with qtbot.waitSignal(c.state_changed, timeout=TIMEOUT, check_params_cb=lambda s: s in ("paused", "finished")):
        assert c.step()


def test_stepping_one_batch_at_a_time_records_like_running_with_the_epoch_end(qtbot, controller, runs_dir):
    c = controller
    c.set_options(optimizer="adam", learning_rate=0.003, batch_size=32, epochs=2, seed=0)
    per_epoch = int(np.ceil(len(c.dataset.y_train) / 32))        # 8
    epochs_seen = []
    c.epoch_metrics_ready.connect(epochs_seen.append)
    for _ in range(3):
        _step(qtbot, c)
    run_id = c.current_run_id
    assert c.timeline.steps == [0, 1, 2, 3]
    qtbot.waitUntil(lambda: c.run_store.moment_steps(run_id) == [0, 1, 2, 3], timeout=TIMEOUT)   # the writer thread
    np.testing.assert_array_equal(c.recorder.inspection_at(3).weights[0]["W"], c.model.layers[0].params["W"])
    for _ in range(per_epoch - 3):
        _step(qtbot, c)
    assert c.state == "paused" and c.trainer.epoch == 1
    # the step that ended the epoch recorded the epoch: metrics, confusion, checkpoint, moment
    assert len(epochs_seen) == 1 and len(c.history.epochs) == 1
    assert c.timeline.epoch_steps == {1: per_epoch} and c.timeline.steps[-1] == per_epoch
    store = c.run_store
    qtbot.waitUntil(lambda: store.checkpoint_epochs(run_id) == [0, 1], timeout=TIMEOUT)   # the writer thread
    assert [r["epoch"] for r in store.epoch_metrics(run_id)] == [1]
    checkpoint = store.checkpoint(run_id, 1)
    assert checkpoint.step == per_epoch
    np.testing.assert_array_equal(checkpoint.confusion, c.history.epochs[0].confusion)
    np.testing.assert_array_equal(c.timeline_confusion(1), c.history.epochs[0].confusion)
    for got, want in zip(checkpoint.weights, c.model.get_weights(), strict=True):
        for key in want:
            np.testing.assert_array_equal(got[key], want[key])
    # running on from the steps: the epoch the step ended is not reported a second time
    with qtbot.waitSignal(c.state_changed, timeout=TIMEOUT, check_params_cb=lambda s: s == "finished"):
        assert c.start()
    assert len(epochs_seen) == 2 and [e.epoch for e in c.history.epochs] == [0, 1]
    assert [r["epoch"] for r in store.epoch_metrics(run_id)] == [1, 2]
    assert store.run(run_id).status == "finished" and len(store.runs()) == 1
    assert store.moment_steps(run_id) == c.timeline.steps and c.timeline.steps[-1] == 2 * per_epoch


def test_a_step_that_ends_the_last_epoch_finishes_the_run(qtbot, controller, runs_dir):
    c = controller
    c.set_options(optimizer="sgd", learning_rate=0.05, batch_size=128, epochs=1, seed=0)   # 2 steps
    _step(qtbot, c)
    assert c.state == "paused"
    _step(qtbot, c)
    assert c.state == "finished"
    run_id = c.current_run_id
    store = c.run_store
    assert store.run(run_id).status == "finished"
    assert store.checkpoint_epochs(run_id) == [0, 1] and c.timeline.epoch_steps == {1: 2}


def test_the_branch_dialog_freezes_chosen_filters_of_every_conv_layer_and_they_stay_exact(qtbot, controller,
                                                                                          runs_dir):
    from gui.runs.dialogs import BranchDialog

    c = controller
    _train(qtbot, c, epochs=2)
    parent = c.current_run_id
    store = c.run_store
    dialog = BranchDialog(store.run(parent), store.checkpoint_epochs(parent), 1)
    qtbot.addWidget(dialog)
    editor = dialog.freeze_editor
    assert list(editor.edits) == ["conv2d", "conv2d_1"]                 # every conv layer, not just the first
    qtbot.keyClicks(editor.edits["conv2d"], "0, 2")
    editor.all_checks["conv2d_1"].setChecked(True)
    qtbot.keyClicks(editor.edits["conv2d"], "-99")                     # "0, 2-99": no such filter
    assert not dialog.ok_button.isEnabled() and editor.errors["conv2d"].isVisibleTo(dialog)
    editor.edits["conv2d"].clear()
    qtbot.keyClicks(editor.edits["conv2d"], "0, 2")
    assert dialog.ok_button.isEnabled()
    dialog.optimizer_combo.setCurrentIndex(dialog.optimizer_combo.findData("sgd"))
    changes = dialog.changes()
    n_second = c.model.layers[2].filters
    assert changes["frozen_filters"] == {"conv2d": [0, 2], "conv2d_1": list(range(n_second))}
    child = c.branch_run(parent, dialog.epoch, changes, epochs=1)
    assert child is not None
    qtbot.waitUntil(lambda: c.state == "finished", timeout=TIMEOUT)
    assert store.run(child).settings["frozen_filters"] == changes["frozen_filters"]
    assert c.model.layers[0].frozen_filters == {0, 2}
    start, end = store.checkpoint(parent, 2).weights, store.checkpoint(child, 3).weights
    for got, want in zip(store.checkpoint(child, 2).weights, start, strict=True):   # the branch begins exactly there
        for key in want:
            np.testing.assert_array_equal(got[key], want[key])
    for layer, frozen in ((0, [0, 2]), (2, list(range(n_second)))):
        for key in ("W", "b"):
            np.testing.assert_array_equal(end[layer][key][frozen], start[layer][key][frozen])
    assert not np.array_equal(end[0]["W"][[1, 3]], start[0]["W"][[1, 3]])        # the others learned
    assert not np.array_equal(end[5]["W"], start[5]["W"])
