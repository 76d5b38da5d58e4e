"""A run reopened from the store, in a new window after the first one closed, scrubs like a live run:
every panel shows what was recorded at that step."""

from __future__ import annotations

import numpy as np
import pytest

TIMEOUT = 60_000


@pytest.fixture
def runs_dir(tmp_path, monkeypatch):
    path = tmp_path / "runs"
    monkeypatch.setenv("CONVSCOPE_RUNS_DIR", str(path))
    return path


def _record_a_run(qtbot, bars):
    """Train 2 epochs in a controller of its own, keep what its timeline recorded, shut it down."""
    from gui.controller import TrainingController

    c = TrainingController()
    try:
        c.use_dataset(bars)
        c.kernels_warm = True
        c.set_options(optimizer="adam", learning_rate=0.003, batch_size=32, epochs=2, seed=0)
        with qtbot.waitSignal(c.state_changed, timeout=TIMEOUT, check_params_cb=lambda s: s == "finished"):
            assert c.start()
        run_id = c.current_run_id
        steps = c.timeline.steps
        recorded = {}
        for step in steps:
            ins = c.recorder.inspection_at(step)
            recorded[step] = {"activations": [np.array(a) for a in ins.activations],
                              "probabilities": np.array(ins.probabilities),
                              "weights": [{k: np.array(v) for k, v in w.items()} for w in ins.weights],
                              "epoch": c.recorder.history.at(step).epoch}
        confusions = [np.array(e.confusion) for e in c.history.epochs]
        config = c.model.get_config()
        probe_index = c.recorder.probe_sample.index
    finally:
        assert c.shutdown(timeout=10)
    return run_id, steps, recorded, confusions, config, probe_index


@pytest.fixture
def new_window(qtbot, warm_kernels, bars):
    """Makes the main window on demand (after the recording controller has gone)."""
    from tests.gui.conftest import bars_window

    made = []

    def make():
        made.append(bars_window(qtbot, bars))
        return made[-1]

    yield make
    for w in made:
        assert w.stop_training(), "the worker thread did not end"
        w.close()


def test_a_reopened_run_scrubs_its_stored_timeline_in_every_panel(qtbot, bars, runs_dir, new_window):
    from engine.network import Sequential

    run_id, steps, recorded, confusions, config, probe_index = _record_a_run(qtbot, bars)
    w = new_window()
    c = w.controller
    panel = w.runs_panel
    w.show_tab("runs")
    c.open_run_store()                                  # what the window's start-up does
    panel.refresh()
    panel.select_runs([run_id])
    assert panel.buttons["reopen"].isEnabled()
    panel.buttons["reopen"].click()
    assert c.reopened_run_id == run_id and c.timeline.steps == steps
    assert c.timeline.epoch_steps == {1: 8, 2: 16}
    assert [e.epoch for e in c.history.epochs] == [0, 1] and len(c.history.batches) == 16
    assert c.history.batches[-1].images_per_second > 0
    assert c.options["optimizer"] == "adam" and c.options["epochs"] == 2       # the run's settings come back
    probe_sample = c.recorder.probe_sample                                     # the validation image it was
    assert probe_sample.source == "validation" and probe_sample.index == probe_index
    assert probe_sample.label == int(bars.y_test[probe_index])
    image = (np.asarray(recorded[0]["activations"][0])[0] * 255).round().astype(np.uint8)
    assert w.classify_panel.classify_image(image, "probe") is not None
    probe = w.classify_panel.current.x
    model = Sequential.from_config(config)
    bar = w.timeline_bar
    conv = w.filter_panel.layer_index
    name = c.model.layers[conv].name
    early, late = 3, steps[-2]
    assert late > 8                                     # in the second epoch
    for step in (early, late, early):                   # forth and back: the cache answers the same
        want = recorded[step]
        bar.slider.setValue(steps.index(step))          # what dragging the slider does
        assert c.timeline.position.step == step and not c.timeline.is_live
        fm = w.feature_map_panel.inspection
        assert fm.step == step and not fm.live
        for got, expected in zip(fm.activations, want["activations"], strict=True):
            np.testing.assert_array_equal(got, expected)
        np.testing.assert_array_equal(fm.probabilities, want["probabilities"])
        np.testing.assert_array_equal(w.filter_panel.kernels(), want["weights"][conv]["W"])
        np.testing.assert_array_equal(w.filter_panel.kernels(), c.run_store.load_moment(run_id, step).filters[name])
        for got, expected in zip(fm.weights, want["weights"], strict=True):
            for key in expected:
                np.testing.assert_array_equal(got[key], expected[key])
        assert w.curves_panel.cursor_x == pytest.approx(want["epoch"])
        assert w.architecture_panel.moment_label.isVisibleTo(w.architecture_panel)
        model.set_weights(want["weights"])
        np.testing.assert_allclose(w.classify_panel.current.probabilities, model.predict_proba(probe[None])[0],
                                   rtol=1e-6)
        if step < 8:
            assert w.evaluation_panel.confusion is None     # before the first epoch ended
        else:
            np.testing.assert_array_equal(w.evaluation_panel.confusion, confusions[0])
    c.timeline.seek_epoch(2)
    np.testing.assert_array_equal(w.evaluation_panel.confusion, confusions[1])
    bar.live_button.click()
    assert c.timeline.is_live and w.curves_panel.cursor_x is None
    final = recorded[steps[-1]]["weights"]
    np.testing.assert_array_equal(w.filter_panel.kernels(), final[conv]["W"])   # the reopened model is the last one


def test_moments_keep_the_full_weights_on_disk_and_old_moments_still_replay(tmp_path, bars):
    """The store keeps each moment's full weights; a moment written without them (an older run) is
    rebuilt from its filters and the epoch checkpoint before it."""
    from engine.network import Sequential
    from engine.optimizers import Adam
    from engine.runs import RunHistory, RunRecorder, RunStore
    from engine.runs.replay import RunReplay
    from engine.training import Trainer

    model = _tiny_model()
    trainer = Trainer(model, Adam(0.003), bars.x_train, bars.y_train, bars.x_test, bars.y_test, batch_size=32,
                      epochs=1, seed=0)
    with RunStore(tmp_path / "runs") as store:
        writer = store.start_run("r", "bars", model.get_config(), {})
        history = RunHistory()
        recorder = RunRecorder(trainer, history=history, writer=writer)
        recorder.start()
        kept = {}

        def on_batch_end(m):
            recorder.on_batch_end(m)
            if history.steps and history.steps[-1] == m.step + 1:
                kept[m.step + 1] = model.get_weights()

        trainer.run(on_batch_end=on_batch_end, on_epoch_end=recorder.on_epoch_end)
        assert recorder.finish("finished")
        for step, weights in kept.items():
            stored = store.load_moment_weights(writer.run_id, step)
            for got, want in zip(stored, weights, strict=True):
                for key in want:
                    np.testing.assert_array_equal(got[key], want[key])
        replay = RunReplay(store, writer.run_id)
        assert replay.history.steps == history.steps and replay.history.epochs() == [1]
        ins = replay.inspection_at(5)
        np.testing.assert_array_equal(ins.outputs[0], history.at(5).activations[1])
        check = Sequential.from_config(model.get_config())
        check.set_weights(kept[5])
        np.testing.assert_allclose(ins.logits, check.inspect(history.at(5).activations[0]).logits, rtol=1e-6)
        # an older run: the moment file without weights
        from engine.runs.files import write_moment
        path = store.run(writer.run_id).folder / f"moment-{5:09d}.npz"
        write_moment(path, history.at(5))
        assert store.load_moment_weights(writer.run_id, 5) is None
        old = RunReplay(store, writer.run_id).inspection_at(5)
        np.testing.assert_array_equal(old.outputs[0], history.at(5).activations[1])
        conv = next(i for i, w in enumerate(kept[5]) if np.ndim(w.get("W")) == 4)
        np.testing.assert_array_equal(old.weights[conv]["W"], kept[5][conv]["W"])
        assert replay.inspection_at(4) is not None and replay.inspection_at(9999) is None


def _tiny_model():
    from engine.layers import Conv2D, Dense, Flatten, MaxPooling2D
    from engine.network import Sequential

    model = Sequential([Conv2D(4, 3, activation="relu"), MaxPooling2D(2), Flatten(), Dense(4)])
    model.build((1, 28, 28), seed=0)
    return model
