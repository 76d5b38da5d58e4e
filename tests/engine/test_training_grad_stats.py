"""Snapshots carry per-layer gradient sizes: equal to layer_gradient_stats on the same step, cheap."""

import math

import numpy as np

from engine.layers import Conv2D, Dense, Flatten, MaxPooling2D
from engine.network import Sequential
from engine.optimizers import SGD, Adam
from engine.presets import build_preset
from engine.training import Trainer
from engine.updates import layer_gradient_stats


def toy_data(n=96, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = rng.integers(0, 60, (n, 1, 10, 10)).astype(np.uint8)
    x[y == 0, :, :, :5] += 150
    x[y == 1, :, :, 5:] += 150
    x[y == 2, :, :5, :] += 150
    return x, y


def toy_trainer(opt=None, model=None):
    x, y = toy_data()
    model = model or Sequential([Conv2D(4, 3, padding="same", activation="relu"), MaxPooling2D(2), Flatten(),
                                 Dense(16, activation="relu"), Dense(3)]).build((1, 10, 10), seed=0)
    return Trainer(model, opt or Adam(0.01), x[:80], y[:80], x[80:], y[80:], batch_size=16, epochs=2, seed=0)


def test_snapshot_grad_stats_equal_layer_gradient_stats_of_the_same_step():
    t = toy_trainer()
    for _ in range(3):
        t.step()
    before = t.model.flat_params.copy()
    t.step()
    by_hand = layer_gradient_stats(t.model, before)
    snap = t.snapshot()
    assert [s.name for s in snap.grad_stats] == ["conv2d", "dense", "dense_1"]
    assert len(snap.grad_stats) == len(by_hand)
    for got, want in zip(snap.grad_stats, by_hand, strict=True):
        assert (got.index, got.name) == (want.index, want.name)
        assert got.grad_norm == want.grad_norm and got.weight_norm == want.weight_norm
        assert got.update_norm == want.update_norm and got.update_ratio == want.update_ratio
        assert got.grad_norm > 0 and 0 < got.update_ratio < 1


def test_sgd_update_norm_is_learning_rate_times_gradient_norm():
    t = toy_trainer(opt=SGD(0.05))
    t.step()
    for row in t.snapshot().grad_stats:
        assert math.isclose(row.update_norm, 0.05 * row.grad_norm, rel_tol=1e-3)


def test_before_the_first_step_the_update_is_unknown_and_frozen_layers_are_left_out():
    t = toy_trainer()
    rows = t.snapshot().grad_stats
    assert rows and all(math.isnan(r.update_norm) and math.isnan(r.update_ratio) for r in rows)
    t.model.layers[0].trainable = False
    t.step()
    names = [r.name for r in t.snapshot().grad_stats]
    assert names == ["dense", "dense_1"]


def test_run_snapshots_carry_the_stats_of_their_step():
    t = toy_trainer()
    snaps = []
    t.run(on_snapshot=snaps.append, snapshot_interval=0.0)
    assert len(snaps) >= t.batches_per_epoch * 2
    assert all(len(s.grad_stats) == 3 and all(np.isfinite(r.update_ratio) for r in s.grad_stats) for s in snaps)
    # the trainer's weights at the end: the last snapshot's weight norms are theirs
    last = layer_gradient_stats(t.model)
    assert [r.weight_norm for r in snaps[-1].grad_stats] == [r.weight_norm for r in last]


def test_deep_sigmoid_gradients_shrink_towards_the_input_and_deep_relu_do_not():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 255, (128, 1, 28, 28)).astype(np.uint8)
    y = rng.integers(0, 10, 128)
    first_over_last = {}
    for key in ("deep_sigmoid", "deep_relu"):
        t = Trainer(build_preset(key, seed=0), SGD(0.1), x, y, batch_size=64, epochs=1, seed=0)
        t.step()
        rows = t.snapshot().grad_stats
        assert len(rows) == 8
        first_over_last[key] = rows[0].grad_norm / rows[-1].grad_norm
    assert first_over_last["deep_sigmoid"] < 0.05 * first_over_last["deep_relu"]
