"""GradientHistory: the Qt-free model of the Gradients panel."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from gui.gradients.history import GradientHistory
from tests.headless import qt_modules_loaded_by


def rows(*values, names=("dense", "dense_1", "dense_2")):
    return [SimpleNamespace(name=n, grad_norm=g, update_ratio=g / 100) for n, g in zip(names, values, strict=True)]


def test_the_history_model_imports_no_qt():
    assert qt_modules_loaded_by("gui.gradients", "gui.gradients.history") == []


def test_recorded_snapshots_become_one_series_per_layer_in_input_order():
    h = GradientHistory()
    assert h.record(1, rows(0.1, 0.5, 2.0))
    assert h.record(5, rows(0.2, 0.6, 3.0))
    assert h.layer_names == ["dense", "dense_1", "dense_2"]
    steps, norms = h.series("dense_1")
    assert steps.tolist() == [1, 5] and norms.tolist() == [0.5, 0.6]
    _, ratios = h.series("dense_2", "update_ratio")
    assert ratios.tolist() == pytest.approx([0.02, 0.03])
    assert h.current.latest("dense") == (5.0, 0.2, 0.002)


def test_a_repeated_step_is_ignored_and_another_model_starts_a_new_run():
    h = GradientHistory()
    h.record(3, rows(1, 2, 3))
    assert not h.record(3, rows(9, 9, 9))           # the run's final snapshot repeats its last step
    assert h.series("dense")[1].tolist() == [1]
    h.record(1, rows(4, 5, names=("conv2d", "dense")))
    assert h.layer_names == ["conv2d", "dense"] and h.previous.layer_names == ["dense", "dense_1", "dense_2"]


def test_a_new_run_keeps_the_last_one_for_comparison_and_clear_forgets_both():
    h = GradientHistory()
    h.new_run("deep sigmoid")
    h.record(1, rows(0.001, 0.01, 1.0))
    h.new_run("deep relu")
    h.new_run("deep relu")                           # an empty run does not replace the kept one
    h.record(1, rows(0.5, 0.7, 1.0))
    assert h.previous.label == "deep sigmoid" and h.current.label == "deep relu"
    assert h.first_to_last(h.previous) == pytest.approx(0.001)
    assert h.first_to_last() == pytest.approx(0.5)
    h.clear()
    assert h.previous is None and h.layer_names == []


def test_memory_is_bounded_and_a_long_run_keeps_its_start():
    h = GradientHistory(max_points=50)
    for step in range(1, 1001):
        h.record(step, rows(float(step), 1.0, 1.0))
    steps, values = h.series("dense")
    assert len(steps) <= 50
    assert steps[0] == 1 and steps[-1] == 1000
    assert np.all(np.diff(steps) > 0) and values.tolist() == steps.tolist()


def test_records_a_training_snapshot_with_nan_updates_before_the_first_step():
    snap = SimpleNamespace(step=0, grad_stats=tuple(
        SimpleNamespace(name="dense", grad_norm=0.0, update_ratio=float("nan")) for _ in range(1)))
    h = GradientHistory()
    assert h.record_snapshot(snap)
    assert np.isnan(h.series("dense", "update_ratio")[1][0])
    assert not h.record_snapshot(SimpleNamespace(step=4, grad_stats=()))
