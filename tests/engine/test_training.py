"""Trainer: deterministic, resumable, safe on divergence, with callbacks the GUI can keep."""

import gzip
import time

import numpy as np
import pytest

from engine.errors import ShapeError
from engine.layers import Conv2D, Dense, Dropout, Flatten, MaxPooling2D
from engine.network import Sequential
from engine.optimizers import SGD, Adam, RMSprop
from engine.presets import build_preset
from engine.training import BatchMetrics, EpochMetrics, Trainer, TrainingSnapshot


def toy_data(n=96, seed=0):
    """Bright left half -> class 0, bright right half -> class 1, bright top -> class 2 (learnable)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = rng.integers(0, 60, (n, 1, 10, 10)).astype(np.uint8)
    x[y == 0, :, :, :5] += 150
    x[y == 1, :, :, 5:] += 150
    x[y == 2, :, :5, :] += 150
    return x, y


def toy_model(seed=0):
    return Sequential([
        Conv2D(4, 3, padding="same", activation="relu"), MaxPooling2D(2), Flatten(),
        Dense(16, activation="relu"), Dropout(0.3), Dense(3),
    ]).build((1, 10, 10), seed=seed)


def make_trainer(seed=0, epochs=3, batch_size=16, opt=None, **kw):
    x, y = toy_data()
    return Trainer(toy_model(seed), opt or Adam(0.01), x[:80], y[:80], x[80:], y[80:],
                   batch_size=batch_size, epochs=epochs, seed=seed, **kw)


def test_training_learns_and_reports_metrics_through_callbacks():
    trainer = make_trainer(epochs=8)
    batches, epochs = [], []
    status = trainer.run(on_batch_end=batches.append, on_epoch_end=epochs.append)
    assert status == "finished" and trainer.done
    assert len(batches) == 8 * 5 and all(isinstance(b, BatchMetrics) for b in batches)
    assert [b.batch for b in batches[:5]] == [0, 1, 2, 3, 4] and batches[5].epoch == 1
    assert batches[-1].batches_per_epoch == 5 and batches[-1].epoch_progress == pytest.approx(8.0)
    assert batches[0].images_per_second > 0
    assert [e.epoch for e in epochs] == list(range(8)) and trainer.history == epochs
    last = epochs[-1]
    assert isinstance(last, EpochMetrics)
    assert last.loss < epochs[0].loss
    assert last.val_accuracy >= 0.9
    assert last.confusion.shape == (3, 3) and last.confusion.sum() == 16
    assert last.seconds > 0


def test_every_image_is_seen_once_per_epoch_including_the_last_partial_batch():
    x, y = toy_data(37)
    trainer = Trainer(toy_model(), SGD(0.01), x, y, batch_size=16, epochs=2)
    seen = []
    load = trainer._load_batch
    trainer._load_batch = lambda idx: (seen.append(idx.copy()), load(idx))[1]
    trainer.run()
    assert [len(i) for i in seen] == [16, 16, 5, 16, 16, 5]
    first, second = np.concatenate(seen[:3]), np.concatenate(seen[3:])
    assert sorted(first) == list(range(37)) == sorted(second)
    assert not np.array_equal(first, second)  # reshuffled every epoch


def test_same_seed_gives_identical_weights_and_batches():
    a, b, c = make_trainer(seed=3), make_trainer(seed=3), make_trainer(seed=4)
    seen = {k: [] for k in "abc"}
    for key, t in zip("abc", (a, b, c)):
        t.run(on_batch_end=lambda m, key=key: seen[key].append(m.loss))
    np.testing.assert_array_equal(a.model.flat_params, b.model.flat_params)
    assert seen["a"] == seen["b"]
    assert not np.array_equal(a.model.flat_params, c.model.flat_params)


def test_pause_and_resume_equals_uninterrupted_training():
    whole = make_trainer(seed=1, epochs=3)
    whole.run()
    paused = make_trainer(seed=1, epochs=3)
    stops = iter([False] * 7 + [True])  # stop mid-epoch 2 (7 of 15 batches), then again later
    statuses = [paused.run(should_stop=lambda: next(stops, False))]
    assert statuses[0] == "stopped" and paused.step_count == 7 and not paused.done
    # peeking while paused (what the GUI does) must not change the course of training
    paused.snapshot()
    paused.model.evaluate(*toy_data(20, seed=9))
    statuses.append(paused.run(should_stop=lambda: paused.step_count == 11))
    statuses.append(paused.run())
    assert statuses == ["stopped", "stopped", "finished"]
    np.testing.assert_array_equal(paused.model.flat_params, whole.model.flat_params)
    assert [e.loss for e in paused.history] == [e.loss for e in whole.history]


def test_step_by_step_equals_run():
    a, b = make_trainer(seed=2, epochs=2), make_trainer(seed=2, epochs=2)
    a.run()
    while b.step() is not None:
        pass
    np.testing.assert_array_equal(a.model.flat_params, b.model.flat_params)
    assert len(b.history) == 2


def test_divergence_restores_the_last_good_weights():
    trainer = make_trainer(opt=SGD(1e6), epochs=5)
    initial = trainer.model.flat_params.copy()
    good = []
    status = trainer.run(on_batch_end=lambda m: good.append((m.loss, trainer.model.get_flat_weights())))
    assert status == "diverged" and trainer.diverged and trainer.done
    assert not np.isfinite(good[-1][0])
    weights = trainer.model.flat_params
    assert np.all(np.isfinite(weights))
    # the restored weights are the last ones that gave a finite loss
    finite_steps = [w for loss, w in good if np.isfinite(loss)]
    assert len(finite_steps) >= 1
    logits = trainer.model.logits(trainer.model._prepare(trainer.x_train[:16]))
    assert np.all(np.isfinite(logits))
    assert not np.array_equal(weights, initial) or len(finite_steps) == 1
    assert trainer.run() == "diverged"  # stays diverged until reset


def test_snapshots_are_throttled_frozen_copies():
    trainer = make_trainer(epochs=4)
    snaps = []
    trainer.run(on_snapshot=snaps.append, snapshot_interval=3600)
    # only the first step, each epoch end and the final one pass a one-hour gate
    assert 4 <= len(snaps) <= 6
    snap = snaps[-1]
    assert isinstance(snap, TrainingSnapshot)
    with pytest.raises(AttributeError):
        snap.step = 0
    assert snap.layer_names == tuple(layer.name for layer in trainer.model.layers)
    assert [a.shape for a in snap.activations] == [(1, 10, 10), (4, 10, 10), (4, 5, 5), (100,), (16,), (16,), (3,)]
    assert snap.argmax[1] is not None and snap.argmax[1].shape == (4, 5, 5)
    assert snap.pre_activations[0].shape == (4, 10, 10)
    assert snap.probabilities.sum() == pytest.approx(1, rel=1e-5)
    assert snap.sample_label == int(trainer.y_val[0])
    assert len(snap.history) == 4
    # copies: training on does not change a snapshot already handed out
    w = snap.weights[0]["W"].copy()
    a = snap.activations[1].copy()
    trainer.epochs = 6
    trainer.run()
    np.testing.assert_array_equal(snap.weights[0]["W"], w)
    np.testing.assert_array_equal(snap.activations[1], a)
    assert not np.array_equal(trainer.model.layers[0].params["W"], w)


def test_snapshot_interval_limits_the_rate():
    x, y = toy_data(2400)
    trainer = Trainer(toy_model(), Adam(0.01), x, y, batch_size=4, epochs=1)
    times = []
    trainer.run(on_snapshot=lambda s: times.append(time.perf_counter()), snapshot_interval=0.05)
    gaps = np.diff(times[:-2])  # the last two are the epoch-end and the final snapshots
    assert len(gaps) >= 2 and gaps.min() >= 0.05
    assert len(times) < 600 / 2  # far fewer snapshots than steps


def test_uint8_and_float_inputs_train_identically():
    x, y = toy_data()
    a = Trainer(toy_model(), SGD(0.05), x, y, batch_size=32, epochs=1)
    b = Trainer(toy_model(), SGD(0.05), x.astype(np.float32) / np.float32(255), y, batch_size=32, epochs=1)
    a.run()
    b.run()
    np.testing.assert_allclose(a.model.flat_params, b.model.flat_params, rtol=1e-5, atol=1e-6)


def test_bad_data_gets_teaching_errors():
    x, y = toy_data()
    with pytest.raises(ShapeError, match="rebuild"):
        Trainer(toy_model(), SGD(), np.zeros((4, 3, 10, 10), np.uint8), y[:4])
    with pytest.raises(ShapeError, match="units to 5"):
        Trainer(toy_model(), SGD(), x, np.where(y == 2, 4, y))
    with pytest.raises(ShapeError, match="labels"):
        Trainer(toy_model(), SGD(), x, y[:10])


@pytest.mark.parametrize("opt", [SGD(0.1), SGD(0.05, momentum=0.9), SGD(0.05, momentum=0.9, nesterov=True),
                                 Adam(0.01), RMSprop(0.005)])
def test_every_optimizer_reduces_the_loss(opt):
    trainer = make_trainer(opt=opt, epochs=6)
    trainer.run()
    assert trainer.history[-1].loss < 0.6 * trainer.history[0].loss


def _read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(data[3])]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * data[3]).reshape(dims)


def test_a_few_hundred_mnist_steps_reach_90_percent(shared_data):
    folder = shared_data / "mnist"
    x = _read_idx(folder / "train-images-idx3-ubyte.gz")[:19_200, None]
    y = _read_idx(folder / "train-labels-idx1-ubyte.gz")[:19_200].astype(np.int64)
    xt = _read_idx(folder / "t10k-images-idx3-ubyte.gz")[:2000, None]
    yt = _read_idx(folder / "t10k-labels-idx1-ubyte.gz")[:2000].astype(np.int64)
    model = build_preset("lenet5")
    trainer = Trainer(model, Adam(0.002), np.ascontiguousarray(x), y, batch_size=64, epochs=1)
    trainer.run()
    assert trainer.step_count == 300
    assert model.evaluate(np.ascontiguousarray(xt), yt).accuracy > 0.90


def test_fit_is_one_function_of_the_training_module_used_by_the_model_method():
    from engine.training import fit

    x, y = toy_data()
    a, b = toy_model(), toy_model()
    history_a = fit(a, x, y, SGD(0.05), epochs=2, batch_size=16, seed=1)
    history_b = b.fit(x, y, SGD(0.05), epochs=2, batch_size=16, seed=1)
    assert [h.loss for h in history_a] == [h.loss for h in history_b]
    np.testing.assert_array_equal(a.flat_params, b.flat_params)


def test_snapshots_follow_a_sample_chosen_while_the_run_goes_on():
    trainer = make_trainer(epochs=2)
    chosen = [(trainer.x_val[0], 0)]
    snaps = []

    def on_snapshot(snap):
        snaps.append(snap)
        chosen[0] = (trainer.x_val[3], 7)       # the viewer picks another image after the first picture

    trainer.run(on_snapshot=on_snapshot, snapshot_interval=0, snapshot_sample=lambda: chosen[0])
    np.testing.assert_allclose(snaps[0].inspection.input, trainer.x_val[0] / 255, rtol=1e-6)
    np.testing.assert_allclose(snaps[-1].inspection.input, trainer.x_val[3] / 255, rtol=1e-6)
    assert snaps[0].sample_label == 0 and snaps[-1].sample_label == 7
    # the snapshot's inspection is the model's own inspect() of that sample at that moment
    expected = trainer.model.inspect(trainer.x_val[3])
    np.testing.assert_array_equal(snaps[-1].inspection.probabilities, expected.probabilities)
