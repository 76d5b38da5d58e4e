"""The Gradients panel, driven through the controller and its own buttons."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

TIMEOUT = 60_000


@pytest.fixture
def panel(qtbot, controller):
    from gui.gradients.panel import GradientPanel

    p = GradientPanel(controller)
    qtbot.addWidget(p)
    p.resize(900, 500)
    p.show()
    qtbot.waitExposed(p)
    yield p
    assert controller.shutdown(timeout=10)


def _train_steps(qtbot, c, n):
    for _ in range(n):
        with qtbot.waitSignal(c.state_changed, timeout=TIMEOUT, check_params_cb=lambda s: s == "paused"):
            assert c.step()


def _trainable_layers_with_params(model):
    return [layer.name for layer in model.layers if layer.params and layer.trainable]


def test_after_a_few_steps_the_panel_has_one_curve_per_trainable_layer_with_the_snapshot_values(qtbot, controller,
                                                                                               panel):
    c = controller
    _train_steps(qtbot, c, 3)
    qtbot.waitUntil(lambda: c.latest_snapshot is not None and c.latest_snapshot.step == 3, timeout=TIMEOUT)
    panel.render()
    names = _trainable_layers_with_params(c.model)
    assert list(panel.curves) == names and len(names) >= 2
    stats = {row.name: row for row in c.latest_snapshot.grad_stats}
    for name, item in panel.curves.items():
        assert item.xData[-1] == 3
        assert item.yData[-1] == pytest.approx(stats[name].grad_norm, rel=1e-12)
    # the toggle shows the update/weight ratio of the same step
    panel.quantity_combo.setCurrentIndex(panel.quantity_combo.findData("update_ratio"))
    for name, item in panel.curves.items():
        assert item.yData[-1] == pytest.approx(stats[name].update_ratio, rel=1e-12)
    assert "log" in panel.plot.getAxis("left").labelText
    assert panel.plot.getAxis("left").logMode
    # legend: the layer names, coloured from input to output
    legend_names = [label.text for _, label in panel.legend.items]
    assert legend_names == names


def test_deep_sigmoid_gradients_vanish_compared_with_deep_relu_and_the_first_run_stays_grey(qtbot, controller,
                                                                                           panel):
    from engine.datasets import load_dataset

    c = controller
    assert c.use_dataset(load_dataset("shapes", train_size=6000, test_size=100, seed=0))
    with qtbot.waitSignal(c.state_changed, timeout=TIMEOUT, check_params_cb=lambda s: s == "training"):
        qtbot.mouseClick(panel.sigmoid_button, Qt.MouseButton.LeftButton)
    assert c.preset_name == "deep_sigmoid"
    # a fast machine may finish the preset's 5 epochs before 15 snapshots: enough either way
    qtbot.waitUntil(lambda: panel.history.current.points >= 15 or c.state == "finished", timeout=TIMEOUT)
    assert panel.history.current.points >= 5
    # switching (usually while it trains): the sigmoid run ends, the ReLU twin starts, the sigmoid curves stay
    qtbot.mouseClick(panel.relu_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: c.preset_name == "deep_relu" and panel.history.previous is not None, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: panel.history.current.points >= 15 or c.state == "finished", timeout=TIMEOUT)
    assert panel.history.current.points >= 5
    c.stop()
    qtbot.waitUntil(lambda: c.state in ("idle", "finished"), timeout=TIMEOUT)

    h = panel.history
    sigmoid, relu = h.previous, h.current
    assert len(sigmoid.layer_names) == len(relu.layer_names) == 8
    first = relu.layer_names[0]
    sig_first, relu_first = sigmoid.median(first), relu.median(first)
    assert np.isfinite(sig_first) and np.isfinite(relu_first)
    assert sig_first < 0.1 * relu_first                     # loose: measured about 100x apart
    assert h.first_to_last(sigmoid) < 0.2 * h.first_to_last(relu)
    panel.render()
    assert len(panel.previous_curves) == 8 and len(panel.curves) == 8
    assert panel.previous_curves[first].yData[-1] == pytest.approx(sigmoid.latest(first)[1])
    assert "Deep sigmoid" in panel.summary.text() and "Deep ReLU" in panel.summary.text()
