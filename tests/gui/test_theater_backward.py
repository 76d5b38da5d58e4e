"""The theater's backward mode in the panel: switch, step, play, scrub, layers without a filter, frozen filters."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from engine.losses import softmax_cross_entropy
from gui.theater.backward_text import scale_of


@pytest.fixture
def panel(qtbot, controller):
    from gui.theater.panel import TheaterPanel

    p = TheaterPanel(controller)
    qtbot.addWidget(p)
    p.resize(1400, 900)
    p.show()
    qtbot.waitExposed(p)
    p.set_direction("backward")
    yield p
    p.pause()


def _engine_weight_gradient(controller, x, label, layer_index):
    model = controller.current_model_copy()
    logits = model.logits(x[None])
    _, d = softmax_cross_entropy(logits, np.array([label]))
    model.backward_from_logits(d)
    return np.array(model.layers[layer_index].grads["W"])


def test_backward_mode_shows_the_selected_samples_gradients_through_the_first_conv(panel, controller):
    b = panel.backward
    assert panel.direction_stack.currentWidget() is panel.backward_view
    assert b.error == "" and b.phase == "upstream" and b.n_positions > 0
    sample = controller.sample
    assert np.array_equal(b.x, sample.x) and b.label == sample.label
    b.choose(phase="weights")
    panel.backward_view.playback.seek_end()
    expected = _engine_weight_gradient(controller, sample.x, sample.label, b.layer_index)[b.filter_index]
    np.testing.assert_allclose(b.weight_step().partial_sum, expected, rtol=1e-4, atol=1e-6)
    d = panel.backward_view.grids.views[3]
    k = scale_of(expected)          # tiny gradients are shown as multiples of 10^-k, the title says so
    np.testing.assert_allclose(d.values, expected[b.channel] * 10.0**k, rtol=1e-4, atol=1e-6)
    assert k == 0 or "×10⁻" in d.title


def test_step_play_and_scrub_move_through_the_weight_walk(panel, qtbot):
    bar = panel.backward_view.playback
    panel.backward.choose(phase="weights")
    bar.step_forward()
    bar.step_forward()
    assert panel.backward.position == 2
    assert "3" in bar.position_label.text()
    bar.step_back()
    assert panel.backward.position == 1
    bar.position_slider.setValue(40)            # scrub
    assert panel.backward.position == 40
    st = panel.backward.weight_step()
    window = panel.backward_view.grids.views[0].window
    top, _, left, _ = panel.backward.weight_walk.pads
    assert window == (st.window[0] + top, st.window[1] + left, st.window[2] + top, st.window[3] + left)
    bar.speed_slider.setValue(bar.speed_slider.maximum())
    bar.play()
    qtbot.waitUntil(lambda: panel.backward.position >= 45, timeout=5000)
    bar.pause()
    assert not bar.playing


def test_the_keyboard_drives_the_backward_player_in_backward_mode(panel, qtbot):
    panel.backward.choose(phase="input")
    panel.setFocus()
    qtbot.keyClick(panel, Qt.Key.Key_Right)
    qtbot.keyClick(panel, Qt.Key.Key_Right)
    assert panel.backward.position == 2 and panel.stage.position == 0
    qtbot.keyClick(panel, Qt.Key.Key_End)
    assert panel.backward.at_end


def test_the_choices_row_changes_phase_filter_and_class(panel):
    ch = panel.backward_view.choices
    phases = [ch.phase_combo.itemData(i) for i in range(ch.phase_combo.count())]
    assert phases == ["upstream", "weights", "input", "update"]
    ch.phase_combo.setCurrentIndex(3)
    ch.phase_combo.activated.emit(3)
    assert panel.backward.phase == "update"
    assert "w (new)" in panel.backward_view.details.text()
    ch.filter_spin.setValue(2)
    assert panel.backward.filter_index == 2
    ch.class_combo.setCurrentIndex(3)
    ch.class_combo.activated.emit(3)
    assert panel.backward.label == 3 and "class 3" in panel.backward_view.headline.text()


def test_a_pooling_layer_shows_the_routing_and_a_dense_layer_explains_itself(panel, controller):
    layers = controller.model.layers
    pool = next(i for i, layer in enumerate(layers) if "pool" in type(layer).__name__.lower())
    dense = next(i for i, layer in enumerate(layers) if type(layer).__name__ == "Dense")
    panel.backward.choose(layer_index=pool)
    assert panel.backward.phase == "pool" and panel.backward.n_positions > 0
    assert "pixel" in panel.backward_view.equation.text()
    assert "no weights" in panel.backward_view.details.text()
    panel.backward.choose(layer_index=dense)
    assert panel.backward.n_positions == 0
    assert "no filter to slide" in panel.backward_view.details.text()
    assert not panel.backward_view.grids.views[0].isVisible()


def test_a_frozen_filter_shows_a_zero_update_and_says_why(panel, controller):
    li = panel.backward.layer_index
    kernel = np.array(controller.model.layers[li].params["W"][0])
    controller.set_conv_filter(li, 0, kernel, frozen=True)      # as the theater's "use in model" does
    panel.refresh_backward()
    panel.backward.choose(phase="update", filter_index=0)
    assert panel.backward.update.frozen and not np.any(panel.backward.update.delta)
    assert "frozen" in panel.backward_view.details.text()


def test_after_a_training_step_the_update_uses_the_optimizers_real_state(panel, controller, qtbot):
    with qtbot.waitSignal(controller.state_changed, timeout=30000, check_params_cb=lambda s: s != "training"):
        controller.step()
    qtbot.waitUntil(lambda: controller.trainer is not None and controller.trainer.optimizer.iterations >= 1,
                    timeout=30000)
    qtbot.waitUntil(lambda: not controller.is_busy, timeout=30000)
    panel.refresh_backward()
    panel.backward.choose(phase="update")
    assert not panel.backward.first_step and panel.backward.update.step == controller.trainer.optimizer.iterations + 1


def test_switching_back_to_forward_shows_the_convolution_again(panel):
    panel.direction_combo.setCurrentIndex(0)
    panel.direction_combo.activated.emit(0)
    assert panel.direction == "forward" and panel.direction_stack.currentIndex() == 0
    assert panel.active_playback is panel.playback


def test_while_training_the_walk_follows_new_weights_and_keeps_its_position(panel, controller, qtbot):
    controller.set_options(epochs=3)
    panel.backward.choose(phase="weights")
    panel.backward.seek(100)
    before = panel.backward.weight_walk.total.copy()
    controller.start()
    try:
        qtbot.waitUntil(lambda: controller.is_training and len(controller.history.batches) >= 5, timeout=30000)
        qtbot.waitUntil(lambda: not np.array_equal(panel.backward.weight_walk.total, before), timeout=30000)
        assert panel.backward.position == 100 and panel.backward.error == ""
        panel.backward.choose(phase="update")
        assert panel.backward.first_step and "pause" in panel.backward_view.details.text()
    finally:
        assert controller.stop()
