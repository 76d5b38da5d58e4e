"""The in-memory timeline: which steps it keeps, what it keeps, and how much memory that takes."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from engine.errors import ConvScopeError
from engine.layers import Conv2D, Dense, Flatten, MaxPooling2D
from engine.network import Sequential
from engine.optimizers import Adam
from engine.presets import PRESETS, build_preset
from engine.runs.history import (
    RunHistory,
    is_kept_step,
    kept_steps,
    values_from_model,
    values_from_snapshot,
)
from engine.training import Trainer


def _values(step: int) -> dict:
    """Small distinguishable arrays: every value equals the step."""
    return {
        "filters": {"conv2d": np.full((2, 1, 3, 3), step, np.float32)},
        "activations": (np.full((1, 4, 4), step, np.float32), np.full((2, 2, 2), step, np.float32)),
        "probabilities": np.full(3, step, np.float32),
        "layer_names": ("conv2d",),
    }


def test_the_schedule_is_the_documented_geometric_rule():
    assert kept_steps(45, per_octave=2) == [0, 1, 2, 3, 4, 6, 8, 11, 16, 23, 32, 45]
    assert kept_steps(20, per_octave=4) == [0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 13, 16, 19]
    for per_octave in (1, 2, 4, 8):
        kept = set(kept_steps(5000, per_octave))
        assert {s for s in range(5001) if is_kept_step(s, per_octave)} == kept


@pytest.mark.parametrize("per_octave", [2, 4])
def test_moments_are_dense_at_the_start_and_log_spaced_later(per_octave):
    steps = kept_steps(100_000, per_octave)
    assert steps[:5] == [0, 1, 2, 3, 4]
    ratio = 2 ** (1 / per_octave)
    late = [b / a for a, b in itertools.pairwise(steps) if a >= 64]
    assert late and all(abs(r - ratio) < 0.05 for r in late)
    # the count grows with the logarithm of the run's length
    assert len(steps) <= per_octave * math.log2(100_000) + 2


def test_record_step_keeps_only_scheduled_steps_unless_forced():
    history = RunHistory(per_octave=2)
    kept = [s for s in range(40) if history.record_step(s, s / 10, **_values(s)) is not None]
    assert kept == [0, 1, 2, 3, 4, 6, 8, 11, 16, 23, 32]
    assert history.wants(45) and not history.wants(44)
    assert history.record_step(44, 4.4, force=True, **_values(44)).step == 44
    # a step at or before the last kept one is ignored, forced or not
    assert history.record_step(40, 4.0, force=True, **_values(40)) is None
    assert history.steps == kept + [44]


def test_at_returns_the_nearest_kept_moment_at_or_before_a_step():
    history = RunHistory(per_octave=2)
    for s in range(30):
        history.record_step(s, 0.0, **_values(s))
    assert history.at(10).step == 8
    assert history.at(11).step == 11
    assert history.at(1000).step == 23
    assert float(history.at(7).filters["conv2d"][0, 0, 0, 0]) == 6
    assert RunHistory().at(5) is None


def test_kept_arrays_are_read_only_copies():
    history = RunHistory()
    values = _values(1)
    moment = history.record_step(1, 0.1, **values)
    values["filters"]["conv2d"][...] = 99  # the training thread keeps writing its own buffers
    assert float(moment.filters["conv2d"].max()) == 1
    with pytest.raises(ValueError):
        moment.activations[0][0, 0, 0] = 5


def test_the_number_of_moments_is_bounded_and_the_ends_are_kept():
    history = RunHistory(per_octave=8, max_moments=20)
    for s in range(50_000):
        if history.wants(s):
            history.record_step(s, 0.0, **_values(s))
    steps = history.steps
    assert len(steps) == 20
    assert steps[0] == 0 and steps[-1] == kept_steps(49_999, 8)[-1]
    logs = np.diff(np.log2(np.array(steps[1:]) + 1))
    assert logs.max() < 4 * logs.mean()  # still spread over the log axis, not bunched at one end
    assert history.nbytes == sum(m.nbytes for m in history.moments())


def test_epoch_weights_and_confusion_are_kept_per_epoch():
    history = RunHistory()
    w1 = ({"W": np.ones((2, 1, 3, 3), np.float32), "b": np.zeros(2, np.float32)}, {})
    history.record_epoch(1, 100, w1, confusion=np.eye(3, dtype=np.int64))
    assert history.epochs() == [1]
    np.testing.assert_array_equal(history.epoch_weights(1)[0]["W"], w1[0]["W"])
    np.testing.assert_array_equal(history.epoch_confusion(1), np.eye(3))
    with pytest.raises(ConvScopeError, match="epoch 2.*epochs kept: 1"):
        history.epoch_weights(2)


def _bytes(shape, itemsize=4) -> int:
    return int(np.prod(shape)) * itemsize


def test_a_ten_epoch_hongong_run_on_fashion_mnist_stays_under_200_mb():
    preset = PRESETS["hongong"]
    model = build_preset("hongong")
    steps_per_epoch = math.ceil(60_000 / preset.batch_size)
    epochs = preset.epochs
    total = steps_per_epoch * epochs
    # the bound, from the preset's shapes alone
    rows = model.summary_rows()
    conv_bytes = sum(_bytes((r.output_shape[0], r.input_shape[0], 3, 3)) for r in rows if r.class_name == "Conv2D")
    act_bytes = _bytes(model.input_shape) + sum(_bytes(r.output_shape) for r in rows)
    probe_bytes = _bytes((preset.num_classes,))
    moment_bytes = conv_bytes + act_bytes + probe_bytes
    scheduled = set(kept_steps(total))
    epoch_ends = {e * steps_per_epoch for e in range(1, epochs + 1)}
    n_moments = len(scheduled | epoch_ends)
    epoch_bytes = _bytes((model.total_params,)) + _bytes((preset.num_classes,) * 2, 8)
    bound = n_moments * moment_bytes + epochs * epoch_bytes
    assert bound < 200e6
    assert n_moments < RunHistory().max_moments

    # the history's own accounting of the same run (values of the real model on one probe image)
    history = RunHistory()
    values = values_from_model(model, np.zeros(model.input_shape, np.float32))
    weights = model.get_weights()
    confusion = np.zeros((preset.num_classes,) * 2, np.int64)
    for step in range(total + 1):
        end = step in epoch_ends
        if end or history.wants(step):
            history.record_step(step, step / steps_per_epoch, force=end, **values)
        if end:
            history.record_epoch(step // steps_per_epoch, step, weights, confusion)
    assert len(history) == n_moments
    assert history.nbytes == bound


def _tiny_trainer():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (32, 1, 8, 8), dtype=np.uint8)
    y = rng.integers(0, 3, 32)
    model = Sequential([Conv2D(2, 3, activation="relu"), MaxPooling2D(2), Flatten(), Dense(3)])
    model.build((1, 8, 8), seed=0)
    return Trainer(model, Adam(0.01), x[:24], y[:24], x[24:], y[24:], batch_size=8, epochs=1)


def test_the_snapshot_adapter_and_the_model_adapter_give_the_same_values():
    trainer = _tiny_trainer()
    trainer.step()
    snap = trainer.snapshot()
    from_snapshot = values_from_snapshot(snap)
    from_model = values_from_model(trainer.model, snap.activations[0])
    assert from_snapshot["layer_names"] == from_model["layer_names"]
    assert list(from_snapshot["filters"]) == ["conv2d"] == list(from_model["filters"])
    np.testing.assert_array_equal(from_snapshot["filters"]["conv2d"], from_model["filters"]["conv2d"])
    assert len(from_snapshot["activations"]) == len(trainer.model.layers) + 1
    for a, b in zip(from_snapshot["activations"], from_model["activations"]):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    np.testing.assert_allclose(from_snapshot["probabilities"], from_model["probabilities"], rtol=1e-5)
    assert from_snapshot["loss"] == snap.metrics.loss
    moment = RunHistory().record_step(0, 0.0, **from_snapshot)
    assert moment.nbytes > 0


def test_the_snapshot_adapter_reads_an_inspection_value_when_the_snapshot_carries_one():
    from types import SimpleNamespace

    inspection = SimpleNamespace(
        input=np.zeros((1, 8, 8), np.float32), outputs=(np.ones((2, 6, 6), np.float32), np.ones(3, np.float32)),
        layer_names=("conv2d", "dense"), probabilities=np.full(3, 1 / 3, np.float32),
        weights=({"W": np.ones((2, 1, 3, 3), np.float32), "b": np.zeros(2, np.float32)},
                 {"W": np.ones((72, 3), np.float32), "b": np.zeros(3, np.float32)}),
    )
    values = values_from_snapshot(SimpleNamespace(inspection=inspection, metrics=None))
    assert list(values["filters"]) == ["conv2d"]
    assert [a.shape for a in values["activations"]] == [(1, 8, 8), (2, 6, 6), (3,)]
    assert values["loss"] is None
