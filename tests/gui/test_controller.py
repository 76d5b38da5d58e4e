"""TrainingController: the GUI-thread adapter over the engine's Trainer and the worker thread."""

from __future__ import annotations

import time

import numpy as np

TIMEOUT = 60_000


def _train_options(c, **extra):
    options = dict(optimizer="adam", learning_rate=0.003, batch_size=32, epochs=1, seed=0)
    options.update(extra)
    c.set_options(**options)


def test_start_trains_an_epoch_and_reports_batches_epochs_and_snapshots(qtbot, controller):
    c = controller
    _train_options(c, epochs=2)
    states = []
    c.state_changed.connect(states.append)
    inspections = []
    c.inspection_ready.connect(inspections.append)
    with qtbot.waitSignal(c.state_changed, timeout=TIMEOUT, check_params_cb=lambda s: s == "finished"):
        assert c.start()
    per_epoch = int(np.ceil(len(c.dataset.y_train) / 32))
    assert states[0] == "training" and states[-1] == "finished"
    # every batch reaches the GUI exactly once, in order, even though they travel in throttled lists
    assert [(b.epoch, b.batch) for b in c.history.batches] == [(e, b) for e in range(2) for b in range(per_epoch)]
    assert len(c.history.epochs) == 2
    first = np.mean([b.loss for b in c.history.batches[:3]])
    last = np.mean([b.loss for b in c.history.batches[-3:]])
    assert last < first
    assert c.history.epochs[-1].confusion.shape == (4, 4)
    assert any(i.live for i in inspections)
    assert c.latest_snapshot is not None and c.latest_inspection.step == c.latest_snapshot.step


def test_pause_then_resume_continues_exactly_where_it_stopped(qtbot, controller):
    c = controller
    _train_options(c, epochs=2)
    c.start()
    qtbot.waitUntil(lambda: len(c.history.batches) >= 3, timeout=TIMEOUT)
    with qtbot.waitSignal(c.state_changed, timeout=TIMEOUT, check_params_cb=lambda s: s == "paused"):
        c.pause()
    done = c.trainer.step_count
    assert len(c.history.batches) == done
    qtbot.wait(200)
    assert c.trainer.step_count == done          # nothing runs while paused
    with qtbot.waitSignal(c.state_changed, timeout=TIMEOUT, check_params_cb=lambda s: s == "finished"):
        assert c.resume()
    per_epoch = int(np.ceil(len(c.dataset.y_train) / 32))
    assert len(c.history.batches) == 2 * per_epoch
    steps = [b.step for b in c.history.batches]
    assert steps == list(range(len(steps)))      # no batch lost or repeated across the pause


def test_step_trains_exactly_one_batch_then_pauses(qtbot, controller):
    c = controller
    _train_options(c)
    before = c.model.get_flat_weights().copy()
    with qtbot.waitSignal(c.state_changed, timeout=TIMEOUT, check_params_cb=lambda s: s == "paused"):
        assert c.step()
    assert len(c.history.batches) == 1
    assert c.trainer.step_count == 1
    assert not np.array_equal(before, c.model.get_flat_weights())
    with qtbot.waitSignal(c.state_changed, timeout=TIMEOUT, check_params_cb=lambda s: s == "paused"):
        c.step()
    assert [b.step for b in c.history.batches] == [0, 1]


def test_stop_asks_without_blocking_and_the_state_follows_the_workers_report(qtbot, controller):
    from PySide6.QtCore import QTimer

    c = controller
    _train_options(c, epochs=50)
    c.start()
    qtbot.waitUntil(lambda: len(c.history.batches) >= 5, timeout=TIMEOUT)
    # a 10 ms timer in the GUI thread: no gap between its ticks may exceed 100 ms around the stop
    ticks = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    qtbot.wait(100)
    states = []
    c.state_changed.connect(states.append)
    t0 = time.perf_counter()
    assert c.stop()
    assert time.perf_counter() - t0 < 0.1
    assert states == []                              # stop only asked: the worker has not reported yet
    qtbot.waitUntil(lambda: c.state == "idle", timeout=TIMEOUT)
    qtbot.wait(100)
    timer.stop()
    assert states == ["idle"] and not c.is_busy and c.trainer is None
    assert max(np.diff(ticks)) < 0.1, f"the GUI thread stalled {1000 * max(np.diff(ticks)):.0f} ms"
    weights = c.model.get_flat_weights().copy()
    qtbot.wait(150)                                  # late signals of the stopped run change nothing
    assert np.array_equal(weights, c.model.get_flat_weights())
    assert c.state == "idle"
    # the inspection shows the kept weights, and Start begins a new run from them
    assert np.array_equal(c.latest_inspection.weights[0]["W"], c.model.layers[0].params["W"])
    with qtbot.waitSignal(c.state_changed, timeout=TIMEOUT, check_params_cb=lambda s: s == "training"):
        assert c.start()
    assert c.trainer.step_count == 0
    c.stop()
    qtbot.waitUntil(lambda: c.state == "idle", timeout=TIMEOUT)


def test_reset_with_the_same_seed_gives_the_same_initial_weights(qtbot, controller):
    c = controller
    _train_options(c, seed=7)
    c.reset()
    initial = c.model.get_flat_weights().copy()
    with qtbot.waitSignal(c.state_changed, timeout=TIMEOUT, check_params_cb=lambda s: s == "paused"):
        c.step()
    assert not np.array_equal(initial, c.model.get_flat_weights())
    c.reset()
    assert np.array_equal(initial, c.model.get_flat_weights())
    assert c.history.batches == [] and c.state == "idle"
    c.set_options(seed=8)
    c.reset()
    assert not np.array_equal(initial, c.model.get_flat_weights())


def test_exploding_loss_pauses_keeps_finite_weights_and_suggests_a_lower_learning_rate(qtbot, controller):
    c = controller
    _train_options(c, optimizer="sgd", learning_rate=1e30, epochs=20)   # overflows float32 at once
    errors = []
    c.error_occurred.connect(errors.append)
    with qtbot.waitSignal(c.state_changed, timeout=TIMEOUT, check_params_cb=lambda s: s == "diverged"):
        c.start()
    assert np.all(np.isfinite(c.model.get_flat_weights()))
    assert errors and "learning rate" in errors[-1] and "1e+29" in errors[-1]
    # the student lowers the learning rate and starts again from the kept weights
    c.set_options(learning_rate=0.01)
    with qtbot.waitSignal(c.state_changed, timeout=TIMEOUT, check_params_cb=lambda s: s == "paused"):
        c.step()
    assert np.isfinite(c.history.batches[-1].loss)


def test_classify_during_training_runs_on_a_copy_of_the_weights(qtbot, controller):
    c = controller
    _train_options(c, epochs=50)
    c.start()
    qtbot.waitUntil(lambda: c.latest_snapshot is not None, timeout=TIMEOUT)
    copy = c.current_model_copy()
    assert copy is not c.model
    assert not np.shares_memory(copy.get_flat_weights(), c.model.get_flat_weights())
    assert not any(np.shares_memory(a["W"], b.params["W"]) for a, b in
                   zip(copy.get_weights(), c.model.layers) if "W" in a)
    probs = c.classify(c.dataset.x_test[0])
    assert probs.shape == (4,) and abs(float(probs.sum()) - 1) < 1e-4
    # the copy holds the snapshot's weights exactly (a consistent state between two batches)
    snap_w = np.concatenate([w[k].ravel() for w in c.latest_snapshot.weights for k in sorted(w)])
    copy_w = np.concatenate([w[k].ravel() for w in copy.get_weights() for k in sorted(w)])
    assert np.array_equal(np.sort(snap_w), np.sort(copy_w))
    assert c.stop()


def test_switching_the_model_during_training_stops_it_cleanly(qtbot, controller):
    c = controller
    _train_options(c, epochs=50)
    c.start()
    qtbot.waitUntil(lambda: len(c.history.batches) >= 3, timeout=TIMEOUT)
    t0 = time.perf_counter()
    assert c.set_preset("lenet5")
    assert time.perf_counter() - t0 < 1.0
    assert not c.is_busy and c.state == "idle"
    assert c.preset_name == "lenet5" and c.history.batches == []


def test_a_model_for_other_images_is_refused_and_the_current_model_kept(qtbot, controller):
    from engine.presets import build_preset

    c = controller
    current = c.model
    errors = []
    c.error_occurred.connect(errors.append)
    assert not c.set_model(build_preset("tinyvgg", (3, 64, 64), 10))
    assert c.model is current
    assert errors and "64 x 64 x 3" in errors[-1] and "28 x 28 x 1" in errors[-1]


def test_choosing_another_image_during_training_reaches_the_live_snapshots(qtbot, controller):
    c = controller
    _train_options(c, epochs=50)
    c.start()
    qtbot.waitUntil(lambda: c.latest_snapshot is not None, timeout=TIMEOUT)
    c.select_validation_sample(5)
    new = c.sample
    qtbot.waitUntil(lambda: c.latest_inspection is not None and c.latest_inspection.live
                    and c.latest_inspection.sample is new
                    and np.array_equal(c.latest_snapshot.activations[0], new.x), timeout=TIMEOUT)
    assert c.stop()


def test_inspection_has_the_input_and_every_layer_output(controller):
    c = controller
    ins = c.latest_inspection
    assert len(ins.activations) == len(c.model.layers) + 1
    assert np.array_equal(ins.activations[0], c.sample.x)
    for act, row in zip(ins.activations[1:], c.model.summary_rows()):
        assert act.shape == tuple(row.output_shape)
    assert abs(float(ins.probabilities.sum()) - 1) < 1e-4


def test_save_and_open_a_model_round_trip(qtbot, controller, tmp_path):
    c = controller
    _train_options(c)
    with qtbot.waitSignal(c.state_changed, timeout=TIMEOUT, check_params_cb=lambda s: s == "paused"):
        c.step()
    expected = c.classify(c.dataset.x_test[3])
    path = c.save_model(tmp_path / "bars")
    assert path is not None and path.endswith(".npz")
    c.reset()
    assert not np.allclose(c.classify(c.dataset.x_test[3]), expected)
    assert c.open_model(path)
    assert np.allclose(c.classify(c.dataset.x_test[3]), expected, atol=1e-6)
    assert c.loaded_metadata["class_names"] == ["square", "vertical", "horizontal", "diagonal"]


def test_a_corrupt_model_file_is_refused_with_a_message(qtbot, controller, tmp_path):
    c = controller
    bad = tmp_path / "broken.npz"
    bad.write_bytes(b"PK\x03\x04 this is not a real archive")
    current = c.model
    errors = []
    c.error_occurred.connect(errors.append)
    assert not c.open_model(bad)
    assert c.model is current
    assert errors and "broken.npz" in errors[-1] and "kept" in errors[-1]


def test_warm_up_runs_on_the_worker_and_reports_compiling(qtbot, warm_kernels, bars):
    from gui.controller import TrainingController

    c = TrainingController()
    try:
        c.use_dataset(bars)
        states = []
        c.state_changed.connect(states.append)
        with qtbot.waitSignal(c.kernels_ready, timeout=TIMEOUT):
            c.warm_up()
            assert c.state == "compiling"
        assert states == ["compiling", "idle"]
        assert c.kernels_warm and c.latest_inspection is not None
    finally:
        assert c.shutdown()


def test_start_before_warm_up_compiles_first_then_trains(qtbot, warm_kernels, bars):
    from gui.controller import TrainingController

    c = TrainingController()
    try:
        c.use_dataset(bars)
        _train_options(c)
        states = []
        c.state_changed.connect(states.append)
        with qtbot.waitSignal(c.state_changed, timeout=TIMEOUT, check_params_cb=lambda s: s == "finished"):
            c.start()
        assert states[0] == "compiling" and "training" in states
    finally:
        assert c.shutdown()


def test_loading_a_dataset_in_the_background_keeps_the_window_responsive(qtbot, controller):
    c = controller
    ready = []
    c.dataset_ready.connect(ready.append)
    with qtbot.waitSignal(c.dataset_ready, timeout=TIMEOUT):
        assert c.load_dataset_async("shapes")
        assert c.loading_dataset == "shapes"       # returned at once; the thread does the work
    ds = ready[0]
    assert c.dataset is ds and ds.name == "shapes" and ds.num_classes == 8
    assert c.model.num_classes == 8 and c.preset_name == "shapes_small"
    assert c.sample is not None and c.sample.x.shape == (1, 28, 28)


def test_a_dataset_that_cannot_be_loaded_keeps_the_current_one(qtbot, controller, tmp_path):
    c = controller
    current = c.dataset
    errors = []
    c.error_occurred.connect(errors.append)
    with qtbot.waitSignal(c.dataset_failed, timeout=TIMEOUT):
        c.load_dataset_async("no_such_dataset")
    assert c.dataset is current
    assert errors and "no_such_dataset" in errors[-1]
    assert not c.set_dataset("no_such_dataset")
    assert c.dataset is current


def test_mnist_from_the_shared_folder_gets_the_keras_book_model(qtbot, controller, shared_data):
    c = controller
    assert c.set_dataset("mnist", data_dir=str(shared_data / "mnist"))
    assert c.dataset.x_train.shape == (60000, 1, 28, 28)
    assert c.preset_name == "keras_mnist" and c.model.total_params == 93_322
    assert c.options["optimizer"] == "rmsprop"


def test_an_image_folder_becomes_a_dataset_with_a_fitting_model(qtbot, controller, tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    for cls, value in (("dark", 30), ("bright", 220)):
        (tmp_path / cls).mkdir()
        for i in range(10):
            img = np.clip(rng.normal(value, 10, (40, 40)), 0, 255).astype(np.uint8)
            Image.fromarray(img).save(tmp_path / cls / f"{i}.png")
    c = controller
    with qtbot.waitSignal(c.dataset_ready, timeout=TIMEOUT):
        assert c.load_dataset_async(str(tmp_path))
    assert sorted(c.dataset.class_names) == ["bright", "dark"]
    assert c.dataset.input_shape == (1, 28, 28) and c.model.num_classes == 2
    _train_options(c)
    with qtbot.waitSignal(c.state_changed, timeout=TIMEOUT, check_params_cb=lambda s: s == "finished"):
        c.start()
    assert c.history.epochs[-1].confusion.shape == (2, 2)


def test_files_an_image_folder_cannot_use_are_named_with_the_reason(qtbot, controller, tmp_path):
    from PIL import Image

    rng = np.random.default_rng(1)
    for cls in ("a", "b"):
        (tmp_path / cls).mkdir()
        for i in range(6):
            Image.fromarray(rng.integers(0, 255, (32, 32), dtype=np.uint8)).save(tmp_path / cls / f"{i}.png")
    (tmp_path / "a" / "notes.txt").write_text("not a picture")
    (tmp_path / "b" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 10)
    c = controller
    messages = []
    c.error_occurred.connect(messages.append)
    with qtbot.waitSignal(c.dataset_ready, timeout=TIMEOUT):
        assert c.load_dataset_async(str(tmp_path))
    assert len(c.dataset.y_train) + len(c.dataset.y_test) == 12
    left_out = [m for m in messages if "left out" in m]
    assert len(left_out) == 1 and "broken.png" in left_out[0]
    assert str(len(c.dataset.skipped)) in left_out[0]


def test_while_training_the_gui_thread_runs_no_forward_pass_and_a_new_image_comes_with_the_snapshots(
        qtbot, controller, monkeypatch):
    import threading

    from engine.network import Sequential

    c = controller
    on_gui_thread = []
    original = Sequential.forward

    def spy(self, *args, **kwargs):
        if threading.current_thread() is threading.main_thread() and c.is_training:
            on_gui_thread.append(True)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Sequential, "forward", spy)
    _train_options(c, epochs=50)
    c.start()
    qtbot.waitUntil(lambda: c.latest_snapshot is not None, timeout=TIMEOUT)
    for index in (3, 9, 4):
        c.select_validation_sample(index)
        c.refresh_inspection()
        chosen = c.sample
        qtbot.waitUntil(lambda chosen=chosen: c.latest_inspection.sample is chosen and c.latest_inspection.live,
                        timeout=TIMEOUT)
        assert np.array_equal(c.latest_inspection.activations[0], chosen.x)
    # at least ten fresh pictures a second reach the panels while training (the snapshots' rate)
    count = []
    c.inspection_ready.connect(count.append)
    qtbot.wait(1000)
    c.stop()
    qtbot.waitUntil(lambda: c.state == "idle", timeout=TIMEOUT)
    assert on_gui_thread == []
    assert len(count) >= 8, f"only {len(count)} inspections in a second"
