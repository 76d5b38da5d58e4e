"""The theater's stage model, driven with no QApplication: settings, positions, numbers, events."""

from __future__ import annotations

import numpy as np
import pytest

from engine.theater import INPUT_GRIDS, KERNEL_PRESETS
from gui.theater.events import Event
from gui.theater.stage import StageModel
from gui.theater.text import (
    equation_html,
    formula_html,
    headline_text,
    position_text,
    sum_texts,
)
from tests.headless import qt_modules_loaded_by

LECTURE = INPUT_GRIDS["lecture_6x6"].array
VERTICAL = KERNEL_PRESETS["vertical_edge"].kernel


@pytest.fixture
def stage():
    return StageModel(LECTURE, VERTICAL)


def test_the_stage_models_import_no_qt():
    assert qt_modules_loaded_by("gui.theater", "gui.theater.stage", "gui.theater.sources", "gui.theater.text", "gui.theater.events") == []


def test_a_new_stage_shows_the_first_window_of_the_lecture_example(stage):
    t = stage.theater
    assert (t.out_h, t.out_w) == (4, 4) and stage.position == 0
    st = stage.step
    assert st.window == (0, 0, 3, 3)
    assert st.products[0].tolist() == [[10, 0, -10]] * 3
    assert st.value == 0
    assert stage.filled.sum() == 1 and stage.digits == 0
    assert sum_texts(stage) == ["Σ = 0"]


def test_stepping_moves_the_window_and_fills_the_output_cell_by_cell(stage):
    assert stage.step_forward()
    assert stage.position == 1 and stage.step.window == (0, 1, 3, 4)
    assert stage.step.products[0].tolist() == [[10, 0, 0]] * 3 and stage.step.value == 30
    assert stage.filled.sum() == 2
    assert stage.step_back() and stage.position == 0
    assert not stage.step_back() and stage.position == 0          # already at the start
    stage.seek(99)                                                  # clamped to the last cell
    assert stage.position == 15 and stage.at_end and not stage.step_forward()
    assert stage.filled.all()


def test_settings_change_the_output_size_and_send_the_window_back_to_the_start(stage):
    stage.seek(5)
    stage.update(stride=2)
    assert (stage.theater.out_h, stage.theater.out_w) == (2, 2) and stage.position == 0
    assert "(6 + 2×0 − 3) / 2" in formula_html(stage)
    stage.update(stride=1, padding="same")
    assert stage.theater.padded.shape == (1, 8, 8) and stage.n_positions == 36
    stage.update(padding="custom", pad=2)
    assert (stage.theater.out_h, stage.theater.out_w) == (8, 8)


def test_bias_relu_and_mode_keep_the_window_where_it_is(stage):
    stage.seek(6)
    stage.update(mode="convolution")
    assert stage.position == 6
    assert stage.theater.output().tolist() == [[0, -30, -30, 0]] * 4
    assert "flips" in formula_html(stage)
    stage.update(relu=True, bias=5)
    assert stage.position == 6 and stage.theater.output().tolist() == [[5, 0, 0, 5]] * 4
    stage.update(bias=0.5)
    assert stage.digits == 2 and "0.5" in equation_html(stage)


def test_pooling_takes_the_pool_size_as_stride_and_gives_up_a_custom_padding(stage):
    stage.update(input=INPUT_GRIDS["pool_4x4"].array, padding="custom", pad=1)
    stage.update(op="max")
    assert stage.stride == 2 and stage.padding == "valid"
    stage.seek(1)
    assert stage.step.winners == ((0, 3),) and sum_texts(stage) == ["max = 9"]
    assert "max(2, 9, 1, 5) = <b>9</b>" in equation_html(stage)
    stage.update(op="avg")
    stage.seek(3)
    assert sum_texts(stage) == ["avg = 2.5"]
    assert "Average pooling 2×2, stride 2" in headline_text(stage)
    stage.update(op="conv")
    assert stage.stride == 1


def test_a_kernel_that_does_not_fit_leaves_an_empty_stage_with_the_reason(stage):
    stage.update(input=INPUT_GRIDS["stamp_4x4"].array, kernel=np.zeros((5, 5)))
    assert stage.theater is None and "does not fit" in stage.error
    assert not stage.step_forward() and stage.step is None and equation_html(stage) == ""
    stage.update(padding="same")
    assert stage.theater is not None and stage.error == ""


def test_a_deep_input_is_shown_one_channel_at_a_time_with_its_kernel_slice():
    rng = np.random.default_rng(0)
    x, k = rng.normal(size=(5, 6, 6)), rng.normal(size=(5, 3, 3))
    stage = StageModel(x, k)
    assert stage.channel_choices == [0, 1, 2, 3, 4] and stage.channel == 0
    stage.update(channel=3)
    np.testing.assert_allclose(stage.theater.x[0], x[3])
    np.testing.assert_allclose(stage.theater.kernel[0], k[3])
    stage.update(input=LECTURE, kernel=VERTICAL)              # one channel again: the choice goes back to all
    assert stage.channel == -1 and stage.theater.channels == 1
    rgb = StageModel(INPUT_GRIDS["rgb_7x7x3"].array, VERTICAL)
    assert rgb.channel_choices == [-1] and rgb.theater.channels == 3
    st = rgb.step
    assert sum_texts(rgb) == [f"Σ = {v:g}" for v in st.channel_sums]


def test_clicking_an_input_pixel_jumps_to_the_first_cell_that_reads_it(stage):
    assert stage.seek_input_pixel(2, 4)
    assert (stage.step.i, stage.step.j) == (0, 2)
    stage.seek_cell(3, 1)
    assert stage.position == 13
    assert position_text(stage) == "Step 14 of 16 · output cell (row 3, column 1)"


def test_hovering_lights_up_a_window_or_the_cells_reading_a_pixel(stage):
    calls = []
    stage.events.hover.connect(lambda: calls.append((stage.hover_output, stage.hover_input)))
    stage.hover(output=(2, 3))
    assert stage.hover_window == (2, 3, 5, 6) and stage.cells_reading_hovered_pixel == []
    stage.hover(input=(0, 2))
    assert stage.hover_window is None
    assert sorted(stage.cells_reading_hovered_pixel) == [(0, 0), (0, 1), (0, 2)]
    stage.hover(input=(0, 2))                    # no change: no event
    stage.hover()
    assert calls == [((2, 3), None), (None, (0, 2)), (None, None)]


def test_changing_the_model_emits_changed_and_moving_emits_position(stage):
    changed, moved = [], []
    stage.events.changed.connect(lambda: changed.append(stage.theater.out_h))
    stage.events.position.connect(lambda index: moved.append(index))
    stage.update(stride=3)
    stage.seek(3)
    stage.step_forward()                          # at the end of a 2x2 map: nothing moves
    assert changed == [2] and moved == [3]
    with stage.events.position.blocker():
        stage.seek(0)
    assert moved == [3] and stage.position == 0


def test_an_unknown_setting_is_refused():
    stage = StageModel(LECTURE, VERTICAL)
    with pytest.raises(TypeError):
        stage.update(strides=2)
    with pytest.raises(ValueError):
        stage.update(padding="full")


@pytest.mark.parametrize("stride,padding,mode", [(1, "valid", "cross_correlation"), (2, "same", "convolution"),
                                                 (3, "valid", "convolution")])
def test_stage_output_equals_the_engine_conv2d_layer(stride, padding, mode):
    from engine import layers

    x = INPUT_GRIDS["rgb_7x7x3"].array
    kernel = KERNEL_PRESETS["sobel_vertical"].kernel
    stage = StageModel(x, np.broadcast_to(kernel, (3, 3, 3)))
    stage.update(stride=stride, padding=padding, mode=mode, bias=-1.5)
    layer = layers.Conv2D(1, 3, strides=stride, padding=padding, mode=mode)
    layer.build(x.shape, np.random.default_rng(0))
    layer.params["W"][0] = np.float32(kernel)[None]
    layer.params["b"][0] = -1.5
    expected = layer.forward(x[None].astype(np.float32))[0, 0]
    np.testing.assert_allclose(stage.theater.output(), expected, atol=1e-4)


def test_an_event_calls_its_callbacks_in_order_once_each():
    event, seen = Event("x"), []
    first = event.connect(lambda value: seen.append(("a", value)))
    event.connect(first)                          # connecting twice calls once
    event.connect(lambda value: seen.append(("b", value)))
    event(value=1)
    event.disconnect(first)
    event.emit(value=2)
    assert seen == [("a", 1), ("b", 1), ("b", 2)]
