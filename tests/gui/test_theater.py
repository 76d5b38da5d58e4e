"""The convolution theater panel: playback, scrubbing, controls, hover, pooling, learned kernels."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from engine.theater import INPUT_GRIDS, KERNEL_PRESETS, apply_kernel
from gui.theater.sources import (
    INPUT_DROPPED,
    INPUT_FMAP,
    INPUT_GRID,
    INPUT_TRAIN,
    INPUT_VAL,
    KERNEL_EDITED,
    KERNEL_LEARNED,
    KERNEL_PRESET,
)


def _choose(combo, data) -> None:
    index = combo.findData(data)
    assert index >= 0, f"{data!r} not in combo"
    combo.setCurrentIndex(index)


def _hover(view, r: int, c: int) -> None:
    pos = view.cell_center(r, c)
    ev = QMouseEvent(QEvent.Type.MouseMove, pos, view.mapToGlobal(pos), Qt.MouseButton.NoButton,
                     Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(view, ev)


def _filled(view) -> int:
    return int(view.filled.sum())


@pytest.fixture
def panel(theater_panel):
    return theater_panel


def test_opens_on_the_lecture_edge_example_with_the_first_window(panel):
    t = panel.stage.theater
    assert (t.height, t.width, t.out_h, t.out_w) == (6, 6, 4, 4)
    assert panel.stage.position == 0
    assert panel.stage_view.input_views[0].window == (0, 0, 3, 3)
    out = panel.stage_view.output_views[0]
    assert _filled(out) == 1 and out.current == (0, 0)
    assert panel.stage_view.sum_labels[0].text() == "Σ = 0"
    assert "(6 + 2×0 − 3) / 1 + 1 = 3 + 1 = 4" in panel.formula_label.text()


def test_step_fills_the_output_cell_by_cell_and_step_back_undoes_it(panel):
    panel.playback.step_button.click()
    assert panel.stage.position == 1
    assert panel.stage_view.input_views[0].window == (0, 1, 3, 4)
    assert panel.stage_view.product_views[0].values.tolist() == [[10, 0, 0]] * 3
    assert panel.stage_view.sum_labels[0].text() == "Σ = 30"
    assert ">30<" in panel.equation.text()
    assert "10×1 + 10×0 + 0×(-1) + 10×1 + 10×0 + 0×(-1) + 10×1 + 10×0 + 0×(-1) = 30" in panel.equation.text()
    assert _filled(panel.stage_view.output_views[0]) == 2
    panel.playback.back_button.click()
    assert panel.stage.position == 0 and _filled(panel.stage_view.output_views[0]) == 1
    panel.playback.back_button.click()          # already at the start: stays
    assert panel.stage.position == 0


def test_play_animates_to_the_last_cell_then_stops(panel, qtbot):
    assert panel.playback.timer.interval() == 500 and panel.playback.speed_label.text() == "2 steps/s"   # the default pace
    panel.playback.speed_slider.setValue(panel.playback.speed_slider.maximum())
    assert panel.playback.timer.interval() == 17 and panel.playback.speed_label.text() == "60 steps/s"
    panel.playback.play_button.click()
    assert panel.playback.playing
    qtbot.waitUntil(lambda: not panel.playback.playing, timeout=5000)
    assert panel.stage.position == panel.stage.theater.n_positions - 1
    assert _filled(panel.stage_view.output_views[0]) == 16
    assert panel.stage_view.output_views[0].values.tolist() == [[0, 30, 30, 0]] * 4
    panel.playback.play_button.click()          # play again restarts from the first cell
    assert panel.stage.position == 0 and panel.playback.playing
    panel.playback.play_button.click()
    assert not panel.playback.playing


def test_scrubbing_the_slider_and_clicking_an_output_cell_move_the_window(panel, qtbot):
    panel.playback.position_slider.setValue(10)
    assert panel.stage.position == 10 and panel.stage_view.output_views[0].current == (2, 2)
    assert panel.stage_view.input_views[0].window == (2, 2, 5, 5)
    out = panel.stage_view.output_views[0]
    qtbot.mouseClick(out, Qt.MouseButton.LeftButton, pos=out.cell_center(3, 1).toPoint())
    assert panel.stage.position == 13 and panel.playback.position_slider.value() == 13
    assert panel.playback.position_label.text() == "Step 14 of 16 · output cell (row 3, column 1)"


def test_stride_padding_and_mode_change_size_and_values(panel):
    panel.settings_box.stride_spin.setValue(2)
    assert (panel.stage.theater.out_h, panel.stage.theater.out_w) == (2, 2)
    assert "(6 + 2×0 − 3) / 2" in panel.formula_label.text()
    assert panel.stage_view.output_views[0].values.tolist() == [[0, 30], [0, 30]]
    panel.settings_box.stride_spin.setValue(1)
    _choose(panel.settings_box.padding_combo, "same")
    t = panel.stage.theater
    assert (t.out_h, t.out_w) == (6, 6) and t.padded.shape == (1, 8, 8)
    assert panel.stage_view.input_views[0].virtual.sum() == 64 - 36       # the virtual pixels are drawn as such
    _choose(panel.settings_box.padding_combo, "custom")
    panel.settings_box.pad_spin.setValue(2)
    assert (panel.stage.theater.out_h, panel.stage.theater.out_w) == (8, 8)
    _choose(panel.settings_box.padding_combo, "valid")
    _choose(panel.settings_box.mode_combo, "convolution")
    assert panel.stage_view.kernel_views[0].values.tolist() == [[-1, 0, 1]] * 3     # the flipped kernel is shown
    assert panel.stage.theater.output().tolist() == [[0, -30, -30, 0]] * 4
    assert "flips" in panel.formula_label.text()
    panel.settings_box.relu_check.setChecked(True)
    assert panel.stage.theater.output().tolist() == [[0, 0, 0, 0]] * 4
    panel.settings_box.bias_spin.setValue(5)
    assert panel.stage.theater.output().tolist() == [[5, 0, 0, 5]] * 4
    panel.settings_box.bias_spin.setValue(0.5)
    assert "0.5" in panel.equation.text()                    # a fractional bias is not rounded away


@pytest.mark.parametrize("stride,padding,mode", [(1, "valid", "cross_correlation"), (2, "same", "convolution"),
                                                 (3, "valid", "convolution"), (1, "same", "cross_correlation")])
def test_panel_output_equals_the_engine_conv2d_layer(panel, stride, padding, mode):
    from engine import layers
    _choose(panel.input_box.grid_combo, "rgb_7x7x3")
    _choose(panel.filter_box.preset_combo, "sobel_vertical")
    panel.settings_box.stride_spin.setValue(stride)
    _choose(panel.settings_box.padding_combo, padding)
    _choose(panel.settings_box.mode_combo, mode)
    panel.settings_box.bias_spin.setValue(-1.5)
    x = INPUT_GRIDS["rgb_7x7x3"].array
    layer = layers.Conv2D(1, 3, strides=stride, padding=padding, mode=mode)
    layer.build(x.shape, np.random.default_rng(0))
    layer.params["W"][0] = np.float32(KERNEL_PRESETS["sobel_vertical"].kernel)[None]
    layer.params["b"][0] = -1.5
    expected = layer.forward(x[None].astype(np.float32))[0, 0]
    np.testing.assert_allclose(panel.stage_view.output_views[0].values, expected, atol=1e-4)


def test_rgb_input_shows_three_channels_and_adds_their_sums(panel):
    _choose(panel.input_box.grid_combo, "rgb_7x7x3")
    assert len(panel.stage_view.input_views) == 3 and len(panel.stage_view.product_views) == 3
    assert len(panel.stage_view.output_views) == 1
    assert (panel.stage.theater.out_h, panel.stage.theater.out_w) == (5, 5)
    panel.stage.seek(7)
    st = panel.stage.theater.step(7)
    from engine.theater import fmt

    assert [label.text() for label in panel.stage_view.sum_labels] == [f"Σ = {fmt(v)}" for v in st.channel_sums]
    assert len(set(st.channel_sums)) > 1                   # each channel tells its own story
    assert panel.equation.text().count("+") >= 3          # (r + g + b) + bias


def test_max_pooling_highlights_the_winning_pixel(panel):
    _choose(panel.input_box.grid_combo, "pool_4x4")
    _choose(panel.filter_box.op_combo, "max")
    t = panel.stage.theater
    assert panel.settings_box.stride_spin.value() == 2 and (t.out_h, t.out_w) == (2, 2)
    panel.stage.seek(1)
    assert panel.stage_view.input_views[0].winners == [(0, 3)]         # 9 wins the top-right window
    assert panel.stage_view.patch_views[0].winners == [(0, 1)]
    assert panel.stage_view.sum_labels[0].text() == "max = 9"
    assert "max(2, 9, 1, 5) = <b>9</b>" in panel.equation.text()
    _choose(panel.filter_box.op_combo, "avg")
    panel.stage.seek(3)
    assert panel.stage_view.sum_labels[0].text() == "avg = 2.5"
    assert "(2 + 3 + 1 + 4) / 4 = <b>2.5</b>" in panel.equation.text()
    panel.model_box.apply_button.click()                              # no model: input and the pooled map
    assert [v.values.tolist() for v in panel.whole_image.views[1:]] == [[[3.75, 4.25], [4.75, 2.5]]]
    assert panel.stage_view.output_views[0].values.tolist() == [[3.75, 4.25], [4.75, 2.5]]


def test_hovering_an_output_cell_shows_its_window_and_an_input_pixel_its_output_cells(panel):
    out = panel.stage_view.output_views[0]
    _hover(out, 2, 3)
    assert panel.stage_view.input_views[0].hover_window == (2, 3, 5, 6)
    inp = panel.stage_view.input_views[0]
    _hover(inp, 0, 2)
    assert sorted(panel.stage_view.output_views[0].marked) == [(0, 0), (0, 1), (0, 2)]
    assert panel.stage_view.input_views[0].hover_window is None
    panel.stage.hover()
    assert panel.stage_view.output_views[0].marked == []


def test_typing_into_the_kernel_table_makes_a_hand_made_filter(panel):
    item = panel.filter_box.kernel_table.item(1, 1)
    item.setText("2")
    assert panel.filter_box.kernel_source.currentData() == KERNEL_EDITED
    assert panel.stage.theater.kernel[0, 1, 1] == 2
    expected = apply_kernel(INPUT_GRIDS["lecture_6x6"].array, panel.sources.edited_kernel)
    np.testing.assert_allclose(panel.stage.theater.output(), expected)
    panel.filter_box.kernel_table.item(0, 0).setText("abc")
    assert "not a number" in panel.error_text
    assert panel.stage.theater.kernel[0, 0, 0] == 1                # the bad text changed nothing
    panel.filter_box.kernel_size_spin.setValue(2)
    assert panel.stage.theater.size == 2 and (panel.stage.theater.out_h, panel.stage.theater.out_w) == (5, 5)


def test_a_kernel_that_does_not_fit_gives_a_message_not_a_crash(panel):
    _choose(panel.input_box.grid_combo, "stamp_4x4")
    _choose(panel.filter_box.kernel_source, KERNEL_EDITED)
    panel.filter_box.kernel_size_spin.setValue(5)
    assert panel.stage.theater is None
    assert "does not fit" in panel.error_text
    panel.playback.step_button.click()
    panel.playback.play_button.click()
    assert not panel.playback.playing
    _choose(panel.settings_box.padding_combo, "same")
    assert panel.stage.theater is not None and panel.error_text == ""


# ---------------------------------------------------------------------------------------------
# with the real controller and a real model
# ---------------------------------------------------------------------------------------------
@pytest.fixture
def bare_controller(qtbot):
    """A controller without a dataset (the tests give it a tiny model); its thread ends at teardown."""
    from gui.controller import TrainingController

    c = TrainingController()
    yield c
    assert c.shutdown(timeout=10), "the worker thread did not end"


def _tiny_model(channels=1, size=6, filters=4):
    from engine.layers import Conv2D, Dense, Flatten, MaxPooling2D
    from engine.network import Sequential

    model = Sequential([Conv2D(filters, 3, activation="relu"), MaxPooling2D(2), Conv2D(5, 3, padding="same"),
                        Flatten(), Dense(3)])
    model.build(input_shape=(channels, size, size), seed=0)
    return model


def _inspection(weights, activations=()):
    """The part of the controller's inspection value the theater reads."""
    from types import SimpleNamespace

    return SimpleNamespace(weights=weights, activations=list(activations), sample=None)


def test_learned_kernel_comes_from_a_copy_of_the_model_with_its_layer_settings(qtbot, bare_controller):
    controller = bare_controller
    from gui.theater.panel import TheaterPanel

    model = _tiny_model()
    controller.set_model(model)
    p = TheaterPanel(controller)
    qtbot.addWidget(p)
    _choose(p.filter_box.kernel_source, KERNEL_LEARNED)
    p.filter_box.filter_spin.setValue(2)
    W = controller.model.layers[0].params["W"]
    np.testing.assert_allclose(p.stage.theater.kernel[0], W[2, 0], rtol=1e-6)
    assert p.settings_box.relu_check.isChecked()                          # the layer's fused ReLU
    assert p.sources.model is not controller.model                   # never the trained object itself
    expected = controller.model.layers[0].forward(INPUT_GRIDS["lecture_6x6"].array[None].astype(np.float32))[0, 2]
    np.testing.assert_allclose(p.stage.theater.output(), expected, atol=1e-5)
    # the second conv layer reads the pooled feature maps (4 channels): one channel at a time
    _choose(p.filter_box.layer_combo, 2)
    if not controller.kernels_warm:
        # no numba compile on the GUI thread: the deeper layer waits for the worker's warm-up
        assert p.stage.theater is None and "preparing its kernels" in p.error_text
        with qtbot.waitSignal(controller.kernels_ready, timeout=180000):
            controller.warm_up()
    _choose(p.filter_box.in_channel_combo, 3)
    assert p.stage.theater.channels == 1 and p.stage.theater.padding == "same"
    acts = controller.model.forward(INPUT_GRIDS["lecture_6x6"].array[None].astype(np.float32), return_all=True)
    np.testing.assert_allclose(p.stage.theater.x[0], acts[2][0, 3], atol=1e-6)   # pooled maps entering layer 2
    np.testing.assert_allclose(p.stage.theater.kernel[0], controller.model.layers[2].params["W"][2, 3], rtol=1e-6)


def test_inspection_weights_refresh_the_learned_kernel(qtbot, bare_controller):
    controller = bare_controller
    from gui.theater.panel import TheaterPanel

    controller.set_model(_tiny_model())
    p = TheaterPanel(controller)
    qtbot.addWidget(p)
    p.show()
    _choose(p.filter_box.kernel_source, KERNEL_LEARNED)
    weights = controller.model.get_weights()
    weights[0]["W"][0, 0] = np.arange(9, dtype=np.float32).reshape(3, 3)
    controller.inspection_ready.emit(_inspection(weights))      # what a training snapshot brings
    qtbot.waitUntil(lambda: p.stage.theater.kernel[0, 0, 2] == 2, timeout=3000)


def test_use_this_kernel_copies_it_into_the_first_conv_layer_frozen(qtbot, bare_controller):
    controller = bare_controller
    from gui.theater.panel import TheaterPanel

    controller.set_model(_tiny_model())
    p = TheaterPanel(controller)
    qtbot.addWidget(p)
    _choose(p.filter_box.preset_combo, "sobel_horizontal")
    p.model_box.target_filter_spin.setValue(1)
    p.model_box.freeze_check.setChecked(True)
    p.settings_box.bias_spin.setValue(-2.5)
    model_before = controller.model
    with qtbot.waitSignal(p.kernel_applied, timeout=3000):
        assert p.use_kernel_in_model()
    layer = controller.model.layers[0]
    assert controller.model is model_before              # edited in place: training history is kept
    np.testing.assert_allclose(layer.params["W"][1, 0], KERNEL_PRESETS["sobel_horizontal"].kernel)
    assert 1 in layer.frozen_filters
    assert layer.params["b"][1] == pytest.approx(-2.5)   # the bias goes with the kernel
    # the panel's own copy shows it too: the learned filter 1 is now the Sobel kernel
    _choose(p.filter_box.kernel_source, KERNEL_LEARNED)
    p.filter_box.filter_spin.setValue(1)
    np.testing.assert_allclose(p.stage.theater.kernel[0], KERNEL_PRESETS["sobel_horizontal"].kernel)
    p.model_box.freeze_check.setChecked(False)
    _choose(p.filter_box.kernel_source, KERNEL_PRESET)
    assert p.use_kernel_in_model() and 1 not in controller.model.layers[0].frozen_filters
    # a kernel of another size is refused with a message
    _choose(p.filter_box.kernel_source, KERNEL_EDITED)
    p.filter_box.kernel_size_spin.setValue(5)
    assert not p.use_kernel_in_model()
    assert "5x5" in p.error_text


def test_use_this_kernel_during_training_keeps_the_filter_fixed_after_resuming(window, qtbot):
    p = window.theater_panel
    c = window.controller
    _choose(p.filter_box.preset_combo, "upper_horizontal_edge")
    p.model_box.target_filter_spin.setValue(0)
    p.model_box.freeze_check.setChecked(True)
    c.set_options(epochs=200)          # long enough that it cannot finish before we try to change it
    assert c.start()
    qtbot.waitUntil(lambda: c.is_training, timeout=30000)
    assert not p.use_kernel_in_model()                      # refused while the worker runs
    assert "Pause training" in p.error_text
    c.pause()
    qtbot.waitUntil(lambda: not c.is_busy, timeout=30000)
    assert p.use_kernel_in_model()
    batches = len(c.history.batches)
    other = c.model.layers[0].params["W"][1].copy()
    assert c.resume()
    qtbot.waitUntil(lambda: len(c.history.batches) >= batches + 3, timeout=60000)   # three more batches
    assert window.stop_training()
    W = c.model.layers[0].params["W"]
    np.testing.assert_allclose(W[0, 0], KERNEL_PRESETS["upper_horizontal_edge"].kernel, atol=1e-6)
    assert not np.allclose(W[1], other)                     # the other filters did keep learning


def test_apply_to_whole_image_shows_the_classic_filter_beside_the_learned_ones(qtbot, bare_controller):
    controller = bare_controller
    from gui.theater.panel import TheaterPanel

    controller.set_model(_tiny_model(filters=4))
    p = TheaterPanel(controller)
    qtbot.addWidget(p)
    _choose(p.filter_box.preset_combo, "left_vertical_edge")
    p.model_box.apply_button.click()
    views = p.whole_image.views
    assert len(views) == 2 + 4                              # input, classic, 4 learned filters
    np.testing.assert_allclose(views[1].values, apply_kernel(INPUT_GRIDS["lecture_6x6"].array,
                                                             KERNEL_PRESETS["left_vertical_edge"].kernel))
    learned = controller.model.layers[0].forward(INPUT_GRIDS["lecture_6x6"].array[None].astype(np.float32))[0]
    np.testing.assert_allclose(views[3].values, learned[1], atol=1e-5)


def test_a_dropped_image_becomes_the_input(qtbot, bare_controller):
    controller = bare_controller
    from gui.theater.panel import TheaterPanel

    controller.set_model(_tiny_model())
    p = TheaterPanel(controller)
    qtbot.addWidget(p)
    img = np.zeros((1, 6, 6), np.float32)
    img[0, :, 3:] = 1.0
    controller.set_sample(img, source="drawing")             # drawn in another tab: kept, not shown
    assert p.input_box.input_source.currentData() == INPUT_GRID and p.sources.dropped is not None
    p.show()
    qtbot.waitExposed(p)
    img[0, :, :3] = 0.5
    controller.set_sample(img, source="file", name="edge.png")
    assert p.input_box.input_source.currentData() == INPUT_DROPPED
    assert p.stage.theater.output().tolist() == [[0, -1.5, -1.5, 0]] * 4


def test_korean_labels(qtbot):
    from gui import i18n
    from gui.theater.panel import TheaterPanel

    i18n.set_language("ko")
    try:
        p = TheaterPanel(None)
        qtbot.addWidget(p)
        assert p.playback.play_button.text() == "재생"
        assert p.input_box.grid_combo.currentText().startswith("6x6: 왼쪽 밝음")
        assert "적용" in p.headline.text()
        assert p.filter_box.preset_combo.findText("위쪽 수평 경계 (필터 1)") >= 0
    finally:
        i18n.set_language("en")


def test_training_and_validation_samples_come_from_the_dataset(panel):
    from types import SimpleNamespace

    rng = np.random.default_rng(0)
    ds = SimpleNamespace(name="toy", x_train=rng.integers(0, 256, (5, 1, 8, 8), dtype=np.uint8),
                         y_train=np.array([0, 1, 2, 1, 0]), x_test=rng.integers(0, 256, (3, 1, 8, 8), dtype=np.uint8),
                         y_test=np.array([2, 2, 1]), class_names=["circle", "square", "triangle"],
                         input_shape=(1, 8, 8), num_classes=3)
    panel.on_dataset_changed(ds)
    _choose(panel.input_box.input_source, INPUT_TRAIN)
    panel.input_box.sample_spin.setValue(3)
    np.testing.assert_allclose(panel.stage.theater.x, ds.x_train[3] / 255.0)
    assert "#3 (square)" in panel.headline.text()
    assert panel.stage_view.input_views[0].numbers and panel.stage_view.input_views[0].digits == 2   # 8x8: numbers like 0.73
    _choose(panel.input_box.input_source, INPUT_VAL)
    assert panel.input_box.sample_spin.maximum() == 2
    panel.input_box.sample_spin.setValue(2)
    np.testing.assert_allclose(panel.stage.theater.x, ds.x_test[2] / 255.0)


def test_large_grids_are_drawn_as_an_image_with_the_same_colours_as_the_cells(qtbot):
    from gui.theater.grid_view import GridView

    view = GridView("t", style="signed")
    qtbot.addWidget(view)
    values = np.linspace(-3, 5, 20 * 20).reshape(20, 20)
    virtual = np.zeros((20, 20), bool)
    virtual[0] = True
    filled = np.ones((20, 20), bool)
    filled[-1, 10:] = False
    view.set_data(values, virtual=virtual, filled=filled)
    assert not view.numbers
    for r, c in [(0, 0), (5, 5), (10, 19), (19, 12), (3, 1)]:
        col = view.fill_color(r, c)
        assert tuple(view._rgb[r, c]) == pytest.approx((col.red(), col.green(), col.blue()), abs=1)
    gray = GridView("g", style="gray")
    qtbot.addWidget(gray)
    gray.set_data(values, levels=(-3, 5))
    col = gray.fill_color(7, 7)
    assert tuple(gray._rgb[7, 7]) == pytest.approx((col.red(),) * 3, abs=1)


def test_presenter_keys_step_play_and_jump(panel, qtbot):
    panel.stage_view.setFocus()
    qtbot.keyClick(panel.stage_view, Qt.Key.Key_Right)
    qtbot.keyClick(panel.stage_view, Qt.Key.Key_PageDown)
    assert panel.stage.position == 2
    qtbot.keyClick(panel.stage_view, Qt.Key.Key_Left)
    assert panel.stage.position == 1
    qtbot.keyClick(panel.stage_view, Qt.Key.Key_End)
    assert panel.stage.position == 15
    qtbot.keyClick(panel.stage_view, Qt.Key.Key_Home)
    assert panel.stage.position == 0
    qtbot.keyClick(panel.stage_view, Qt.Key.Key_Space)
    assert panel.playback.playing
    qtbot.keyClick(panel.stage_view, Qt.Key.Key_Space)
    assert not panel.playback.playing


def test_theater_tab_of_the_main_window_follows_the_learned_kernel_while_training(window, qtbot):
    p = window.theater_panel
    window.show_tab("theater")
    _choose(p.input_box.input_source, INPUT_VAL)
    p.input_box.sample_spin.setValue(5)
    np.testing.assert_allclose(p.stage.theater.x, window.controller.dataset.x_test[5] / 255.0)
    _choose(p.filter_box.kernel_source, KERNEL_LEARNED)
    assert p.stage.theater is not None, p.error_text
    before = p.stage.theater.kernel.copy()
    layer0 = window.controller.model.layers[0]
    np.testing.assert_allclose(before[0], layer0.params["W"][0, 0], rtol=1e-6)
    assert window.controller.start()
    qtbot.waitUntil(lambda: p.stage.theater is not None and not np.allclose(p.stage.theater.kernel, before), timeout=60000)
    assert window.stop_training()


def test_a_hidden_theater_catches_up_with_training_when_shown_again(qtbot, bare_controller):
    controller = bare_controller
    from gui.theater.panel import TheaterPanel

    controller.set_model(_tiny_model())
    p = TheaterPanel(controller)
    qtbot.addWidget(p)
    p.show()
    _choose(p.filter_box.kernel_source, KERNEL_LEARNED)
    p.hide()
    weights = controller.model.get_weights()
    weights[0]["W"][0, 0] = 7.0
    controller.inspection_ready.emit(_inspection(weights))
    qtbot.waitUntil(lambda: p._stale, timeout=3000)
    assert p.stage.theater.kernel[0, 0, 0] != 7.0                  # no work while nobody looks
    p.show()
    assert (p.stage.theater.kernel == 7.0).all()


def test_pooling_a_real_feature_map_gives_the_model_pooling_layer_output(qtbot, bare_controller):
    controller = bare_controller
    from types import SimpleNamespace

    from gui.theater.panel import TheaterPanel

    controller.set_model(_tiny_model(filters=4))
    rng = np.random.default_rng(1)
    ds = SimpleNamespace(name="toy6", x_train=rng.integers(0, 256, (4, 1, 6, 6), dtype=np.uint8),
                         y_train=np.zeros(4, np.int64), x_test=rng.integers(0, 256, (3, 1, 6, 6), dtype=np.uint8),
                         y_test=np.zeros(3, np.int64), class_names=["a"], input_shape=(1, 6, 6), num_classes=3)
    controller.kernels_warm = True          # only our own forward pass on a 6x6 image (cached kernels)
    p = TheaterPanel(controller)
    qtbot.addWidget(p)
    p.on_dataset_changed(ds)
    _choose(p.filter_box.op_combo, "max")
    _choose(p.input_box.input_source, INPUT_FMAP)
    p.input_box.sample_spin.setValue(2)
    _choose(p.input_box.fmap_layer_combo, 0)                          # the conv layer's 4x4x4 output ...
    _choose(p.input_box.channel_combo, 3)                              # ... one channel of it
    acts = controller.model.forward(ds.x_test[2:3].astype(np.float32) / 255.0, return_all=True)
    np.testing.assert_allclose(p.stage.theater.x[0], acts[1][0, 3], atol=1e-6)
    # pooled by the theater = what the model's own MaxPooling2D layer produced
    np.testing.assert_allclose(p.stage.theater.output()[0], acts[2][0, 3], atol=1e-6)
    assert "conv2d" in p.headline.text() and "#2" in p.headline.text()


def test_apply_to_whole_image_on_one_channel_of_a_feature_map_pools_that_channel(qtbot, bare_controller):
    controller = bare_controller
    from types import SimpleNamespace

    from gui.theater.panel import TheaterPanel

    controller.set_model(_tiny_model(filters=4))
    controller.kernels_warm = True
    rng = np.random.default_rng(2)
    x_test = rng.integers(0, 256, (2, 1, 6, 6), dtype=np.uint8)
    ds = SimpleNamespace(name="toy6", x_train=x_test, y_train=np.zeros(2, np.int64), x_test=x_test,
                         y_test=np.zeros(2, np.int64), class_names=["a"], input_shape=(1, 6, 6), num_classes=3)
    p = TheaterPanel(controller)
    qtbot.addWidget(p)
    p.on_dataset_changed(ds)
    _choose(p.filter_box.op_combo, "avg")
    _choose(p.input_box.input_source, INPUT_FMAP)
    _choose(p.input_box.channel_combo, 1)
    p.model_box.apply_button.click()
    fmap = controller.model.forward(x_test[:1].astype(np.float32) / 255.0, return_all=True)[1][0, 1]
    np.testing.assert_allclose(p.whole_image.views[0].values, fmap, atol=1e-6)
    np.testing.assert_allclose(p.whole_image.views[1].values, fmap.reshape(2, 2, 2, 2).mean(axis=(1, 3)), atol=1e-6)
    assert len(p.whole_image.views) == 2                          # no first-layer comparison on a feature map


def test_while_training_a_feature_map_comes_from_the_inspection_not_from_a_forward_pass(window, qtbot, monkeypatch):
    p = window.theater_panel
    c = window.controller
    window.show_tab("theater")
    _choose(p.filter_box.op_combo, "max")
    _choose(p.input_box.input_source, INPUT_FMAP)
    p.input_box.sample_spin.setValue(3)
    assert c.sample.source == "validation" and c.sample.index == 3    # the theater's pick is the selected sample
    c.set_options(epochs=200)
    assert c.start()
    qtbot.waitUntil(lambda: c.is_training, timeout=30000)
    copy = p.sources.model

    def no_forward(*_args, **_kwargs):
        raise AssertionError("the theater ran the model on the GUI thread while it trains")

    monkeypatch.setattr(copy, "forward", no_forward)
    qtbot.waitUntil(lambda: p.sources.inspection is not None and p.sources.inspection.live, timeout=60000)
    qtbot.waitUntil(lambda: p.stage.theater is not None, timeout=5000)
    fmap = p.sources.inspection.activations[1]                       # the first layer's output
    np.testing.assert_allclose(p.stage.theater.x[0], fmap[max(p.stage.channel, 0)], atol=1e-6)
    assert window.stop_training()
    assert p.sources.model is copy


def test_a_new_dataset_does_not_move_the_window_over_a_lecture_grid(panel):
    from types import SimpleNamespace

    panel.stage.seek(5)
    ds = SimpleNamespace(x_train=np.zeros((2, 1, 8, 8), np.uint8), y_train=np.zeros(2, np.int64),
                         x_test=np.zeros((2, 1, 8, 8), np.uint8), y_test=np.zeros(2, np.int64), class_names=["a"])
    panel.on_dataset_changed(ds)
    assert panel.stage.position == 5 and panel.stage.theater.height == 6
    assert panel.input_box.sample_spin.maximum() == 1                   # the sample range did follow it


def test_changing_the_models_updates_the_controls_without_echo(panel):
    changes = []
    panel.stage.events.changed.connect(lambda: changes.append(panel.stage.stride))
    panel.stage.update(stride=3, padding="same")
    assert panel.settings_box.stride_spin.value() == 3
    assert panel.settings_box.padding_combo.currentData() == "same"
    assert changes == [3]                                    # the spin box showing 3 did not set it again
    panel.sources.choose(preset_key="laplacian")
    assert panel.filter_box.preset_combo.currentData() == "laplacian"
    assert panel.filter_box.kernel_table.item(1, 1).text() == "-4"
    assert panel.stage.theater.kernel[0, 1, 1] == -4
