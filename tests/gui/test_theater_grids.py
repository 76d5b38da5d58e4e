"""The theater's grid editor and rectangular windows, driven through the panel's widgets: typing and
pasting grids, the seed's 1-D example, rectangular kernels, strides and pools against the engine's
layers, and the backward views of a rectangular model."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from engine import layers
from engine.backward import InputGradientWalk, WeightGradientWalk, upstream_gradient
from engine.theater import INPUT_GRIDS
from gui.theater.sources import INPUT_CUSTOM, INPUT_GRID, KERNEL_EDITED


def _choose(combo, data) -> None:
    index = combo.findData(data)
    assert index >= 0, f"{data!r} not in combo"
    combo.setCurrentIndex(index)


@pytest.fixture
def panel(theater_panel):
    return theater_panel


def _type_grid(table, rows) -> None:
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            table.item(r, c).setText(str(value))


def test_the_seed_1d_example_typed_into_the_editors_gives_the_notes_outputs(panel):
    _choose(panel.input_box.input_source, INPUT_CUSTOM)
    editor = panel.input_box.grid_editor
    assert editor.isVisible() and not panel.input_box.edit_button.isVisible()
    editor.rows_spin.setValue(1)
    editor.columns_spin.setValue(7)
    _type_grid(editor.table, [[1, 3, 2, 2, 0, 2, 3]])
    fb = panel.filter_box
    fb.kernel_size_spin.link_button.setChecked(False)
    fb.kernel_size_spin.rows_spin.setValue(1)
    assert fb.kernel_table.rowCount() == 1 and fb.kernel_table.columnCount() == 3
    _type_grid(fb.kernel_table, [[-1, 0, 1]])
    assert fb.kernel_source.currentData() == KERNEL_EDITED
    t = panel.stage.theater
    assert t.x.shape == (1, 1, 7) and t.kernel_hw == (1, 3) and (t.out_h, t.out_w) == (1, 5)
    assert panel.stage_view.output_views[0].values.tolist() == [[1, -1, -2, 0, 3]]
    assert panel.stage_view.kernel_views[0].values.tolist() == [[-1, 0, 1]]
    assert "1×3×1" in panel.headline.text()
    panel.stage.seek(4)
    assert "0×(-1) + 2×0 + 3×1 = 3" in panel.equation.text()          # the notes' sum written out
    _choose(panel.settings_box.mode_combo, "convolution")
    assert panel.stage_view.kernel_views[0].values.tolist() == [[1, 0, -1]]     # flipped
    assert panel.stage_view.output_views[0].values.tolist() == [[-1, 1, 2, 0, -3]]


def test_the_1d_presets_show_the_example_with_a_1x3_kernel(panel):
    _choose(panel.input_box.grid_combo, "seed_1d")
    _choose(panel.filter_box.preset_combo, "difference_1d")
    assert panel.filter_box.kernel_size_spin.value() == (1, 3)
    assert not panel.filter_box.kernel_size_spin.linked
    assert panel.stage.theater.output().tolist() == [[1, -1, -2, 0, 3]]
    assert panel.stage_view.kernel_views[0].values.shape == (1, 3)


def test_a_block_pasted_into_the_text_box_becomes_the_input_and_a_bad_one_is_explained(panel):
    _choose(panel.filter_box.preset_combo, "difference_1d")
    _choose(panel.input_box.input_source, INPUT_CUSTOM)
    editor = panel.input_box.grid_editor
    editor.text_box.setPlainText("[1,3,2,2,0,2,3]")
    editor.read_button.click()
    assert panel.stage.theater.output().tolist() == [[1, -1, -2, 0, 3]]
    assert (editor.rows_spin.value(), editor.columns_spin.value()) == (1, 7)
    editor.text_box.setPlainText("1 2 3\n4 five 6")
    assert not editor.read_button.click() and "row 2, column 2" in panel.error_text and "'five'" in panel.error_text
    assert panel.stage.input.shape == (1, 1, 7)                       # nothing changed
    editor.text_box.setPlainText("1 2 3\n4 5")
    editor.read_button.click()
    assert "row 2 has 2 number(s)" in panel.error_text
    editor.text_box.setPlainText(" ".join(["1"] * 20))
    editor.read_button.click()
    assert "20 column(s)" in panel.error_text and "1 to 16" in panel.error_text


def test_three_channels_are_typed_one_at_a_time_and_summed_by_the_filter(panel):
    _choose(panel.input_box.input_source, INPUT_CUSTOM)
    editor = panel.input_box.grid_editor
    editor.text_box.setPlainText("1 2 3\n4 5 6\n7 8 9")
    editor.read_button.click()
    editor.channels_spin.setValue(3)
    assert editor.channel_combo.count() == 3 and editor.channel_combo.isEnabled()
    editor.channel_combo.setCurrentIndex(2)
    editor.table.item(1, 1).setText("10")
    x = panel.stage.input
    assert x.shape == (3, 3, 3) and x[2, 1, 1] == 10 and x[1].sum() == 0 and x[0, 2, 2] == 9
    assert len(panel.stage_view.input_views) == 3


def test_ctrl_v_on_a_cell_pastes_a_spreadsheet_block_there(panel, qtbot):
    _choose(panel.input_box.input_source, INPUT_CUSTOM)
    table = panel.input_box.grid_editor.table
    panel.input_box.grid_editor.text_box.setPlainText("0 0\n0 0")
    panel.input_box.grid_editor.read_button.click()
    QGuiApplication.clipboard().setText("1\t2\t3\n4\t5\t6\n")
    table.setCurrentCell(1, 0)
    table.setFocus()
    qtbot.keyClick(table, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert panel.stage.input[0].tolist() == [[0, 0, 0], [1, 2, 3], [4, 5, 6]]


def test_edit_a_copy_of_a_lecture_grid_then_change_one_number(panel):
    _choose(panel.input_box.grid_combo, "stamp_4x4")
    assert panel.input_box.edit_button.isEnabled()
    panel.input_box.edit_button.click()
    assert panel.sources.input_kind == INPUT_CUSTOM and panel.input_box.grid_editor.isVisible()
    np.testing.assert_array_equal(panel.stage.input, INPUT_GRIDS["stamp_4x4"].array)
    panel.input_box.grid_editor.table.item(0, 0).setText("5")
    assert panel.stage.input[0, 0, 0] == 5
    _choose(panel.input_box.input_source, INPUT_GRID)
    _choose(panel.input_box.grid_combo, "ring_39x39")          # too large for the editor
    assert not panel.input_box.edit_button.isEnabled()


@pytest.mark.parametrize("kernel,stride,padding,mode", [
    ((1, 3), (2, 1), "valid", "cross_correlation"),
    ((3, 2), 1, "valid", "convolution"),
    ((3, 2), (1, 2), "same", "cross_correlation"),
    ((2, 3), (2, 3), "same", "convolution"),
])
def test_rectangular_kernels_and_strides_set_in_the_panel_equal_the_engine_conv2d(panel, kernel, stride, padding,
                                                                                  mode):
    _choose(panel.input_box.grid_combo, "rgb_7x7x3")
    fb, sb = panel.filter_box, panel.settings_box
    fb.kernel_size_spin.setValue(kernel)
    rng = np.random.default_rng(0)
    k = rng.integers(-3, 4, size=kernel).astype(np.float64)
    _type_grid(fb.kernel_table, k.astype(int).tolist())
    sb.stride_spin.setValue(stride)
    _choose(sb.padding_combo, padding)
    _choose(sb.mode_combo, mode)
    x = INPUT_GRIDS["rgb_7x7x3"].array
    layer = layers.Conv2D(1, kernel, strides=stride, padding=padding, mode=mode)
    layer.build(x.shape, np.random.default_rng(0))
    layer.params["W"][0] = np.float32(k)[None]
    layer.params["b"][0] = 0
    expected = layer.forward(x[None].astype(np.float32))[0, 0]
    np.testing.assert_allclose(panel.stage_view.output_views[0].values, expected, atol=1e-4)
    t = panel.stage.theater
    kh, kw = kernel
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    for index in (0, t.n_positions - 1):
        st = t.step(index)
        r0, c0, r1, c1 = st.window
        assert (r1 - r0, c1 - c0) == (kh, kw) and (r0 + t.pad_rows.before, c0 + t.pad_cols.before) == (st.i * sh,
                                                                                                        st.j * sw)
        assert panel.stage.theater.padded_window(st.i, st.j)[2:] == (r1 + t.pad_rows.before, c1 + t.pad_cols.before)


@pytest.mark.parametrize("op,cls", [("max", layers.MaxPooling2D), ("avg", layers.AveragePooling2D)])
def test_a_2x1_pool_window_set_in_the_panel_equals_the_engine_pooling(panel, op, cls):
    _choose(panel.input_box.grid_combo, "pool_4x4")
    _choose(panel.filter_box.op_combo, op)
    panel.filter_box.pool_size_spin.setValue((2, 1))
    panel.settings_box.stride_spin.setValue((2, 1))
    assert panel.stage.pool_size == (2, 1) and panel.stage.stride == (2, 1)
    x = INPUT_GRIDS["pool_4x4"].array
    layer = cls((2, 1))
    layer.build(x.shape)
    expected = layer.forward(x[None].astype(np.float32))[0]
    np.testing.assert_allclose(panel.stage.theater.output(), expected, atol=1e-6)
    assert "2×1" in panel.headline.text() and "(2, 1)" in panel.headline.text()
    if op == "max":
        panel.stage.seek(1)
        assert panel.stage_view.input_views[0].winners == [(1, 1)]          # 4 beats 3 in column 1


def test_an_impossible_rectangular_kernel_names_the_axis_with_its_numbers(panel):
    from gui import i18n

    _choose(panel.input_box.grid_combo, "seed_1d")
    _choose(panel.filter_box.preset_combo, "vertical_edge")        # 3x3 on a 1x7 input
    assert panel.stage.theater is None
    assert "height" in panel.error_text and "3" in panel.error_text and "1" in panel.error_text
    from engine.errors import ShapeError
    from engine.theater import ConvTheater

    with pytest.raises(ShapeError) as info:
        ConvTheater(INPUT_GRIDS["seed_1d"].array, np.ones((3, 3)))
    exc = info.value
    assert panel.error_text == i18n.tr_error(exc)
    layer = layers.Conv2D(1, 3)
    with pytest.raises(ShapeError) as layer_info:
        layer.output_shape((1, 1, 7))
    inner = layer_info.value.values["error"]                       # the editor's error wraps the layer's own
    assert (inner.code, inner.values) == (exc.code, exc.values)     # the same teaching error, the same numbers
    i18n.set_language("ko")
    try:
        korean = i18n.tr_error(exc)
    finally:
        i18n.set_language("en")
    assert "높이" in korean and "3" in korean


def test_a_rectangular_learned_layer_is_shown_forward_and_backward(qtbot, controller):
    from engine.network import Sequential
    from gui.theater.panel import TheaterPanel
    from gui.theater.sources import KERNEL_LEARNED

    model = Sequential([layers.Conv2D(3, (1, 3), strides=(2, 1), activation="relu"), layers.MaxPooling2D((2, 1)),
                        layers.Conv2D(2, (3, 2), padding="same", activation="relu"), layers.Flatten(),
                        layers.Dense(controller.dataset.num_classes)])
    model.build(tuple(controller.dataset.input_shape), seed=1)
    p = TheaterPanel(controller)            # made before the new model: its layer list must follow
    qtbot.addWidget(p)
    p.resize(1400, 900)
    p.show()
    qtbot.waitExposed(p)
    try:
        _choose(p.input_box.input_source, "validation")
        _choose(p.filter_box.kernel_source, KERNEL_LEARNED)
        assert controller.set_model(model)
        controller.refresh_inspection()
        t = p.stage.theater
        assert p.error_text == "" and t.kernel_hw == (1, 3) and p.stage.stride == (2, 1)
        assert "(1, 3)" not in p.filter_box.layer_combo.currentText() and "1x3" in p.filter_box.layer_combo.currentText()
        p.set_direction("backward")
        b = p.backward
        assert b.error == "", b.error
        b.choose(layer_index=0, phase="weights")
        p.backward_view.playback.seek_end()
        copy = controller.current_model_copy()
        g = upstream_gradient(copy, b.x, b.label, 0)
        np.testing.assert_allclose(b.weight_step().partial_sum, g.d_weights[b.filter_index], rtol=1e-4, atol=1e-6)
        assert b.weight_step().patch.shape[1:] == (1, 3)
        assert isinstance(b.weight_walk, WeightGradientWalk) and b.weight_walk.stride_hw == (2, 1)
        b.choose(phase="input")
        # the walk shows the chosen filter's share of dL/dX; the three shares add up to the engine's dL/dX
        shares = [InputGradientWalk.for_layer(copy.layers[0], g, f).d_input for f in range(3)]
        np.testing.assert_allclose(b.input_walk.d_input, shares[b.filter_index], rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(sum(shares), g.d_input, rtol=1e-4, atol=1e-6)
        assert b.input_step().window.shape[1:] == (1, 3)
        b.choose(layer_index=1)
        assert b.phase == "pool" and b.pool_walk.kernel_hw == (2, 1) and b.n_positions > 0
        b.choose(layer_index=2, phase="weights")
        assert b.error == "" and b.weight_walk.kernel_hw == (3, 2)
    finally:
        p.pause()


def test_a_typed_grid_with_a_rectangular_kernel_and_stride_is_saved_and_restored_with_the_setup(window, tmp_path):
    from PySide6.QtCore import QSettings

    from gui.lessons.schema import load_lesson

    player = window.lesson_player
    player._settings = QSettings(str(tmp_path / "progress.ini"), QSettings.Format.IniFormat)
    panel = window.theater_panel
    window.show_tab("theater")
    _choose(panel.input_box.input_source, INPUT_CUSTOM)
    panel.input_box.grid_editor.text_box.setPlainText("1 3 2 2 0 2 3")
    panel.input_box.grid_editor.read_button.click()
    panel.filter_box.kernel_size_spin.setValue((1, 3))
    _type_grid(panel.filter_box.kernel_table, [[-1, 0, 1]])
    panel.settings_box.stride_spin.setValue((1, 2))
    assert panel.stage.theater.output().tolist() == [[1, -2, 3]]
    path = tmp_path / "grid.convscope-lesson.json"
    assert player.save_current_step(path, "1차원 예") == path
    state = load_lesson(path).steps[0].state["theater"]
    assert state["input"] == [[1, 3, 2, 2, 0, 2, 3]] and state["kernel"] == [[-1, 0, 1]] and state["stride"] == [1, 2]
    # the pooling setup: a 2x1 window is written as [rows, columns] too
    _choose(panel.filter_box.op_combo, "max")
    panel.input_box.grid_editor.text_box.setPlainText("1 3\n4 2\n0 5\n6 1")
    panel.input_box.grid_editor.read_button.click()
    panel.filter_box.pool_size_spin.setValue((2, 1))
    panel.settings_box.stride_spin.setValue((2, 1))
    assert player.save_current_step(path, "2x1 풀링") == path
    pooled = load_lesson(path).steps[1].state["theater"]
    assert pooled["pooling"] == {"type": "max", "size": [2, 1]} and pooled["stride"] == [2, 1]
    # something else on stage, then the saved steps put the setups back (into the editor, editable)
    _choose(panel.filter_box.op_combo, "conv")
    _choose(panel.input_box.input_source, INPUT_GRID)
    assert player.open_lesson(str(path), "step-1")
    st = panel.stage
    assert st.op == "conv" and st.stride == (1, 2) and st.theater.kernel_hw == (1, 3)
    assert st.theater.output().tolist() == [[1, -2, 3]]
    assert panel.sources.typed.array().tolist() == [[[1, 3, 2, 2, 0, 2, 3]]]
    assert player.open_lesson(str(path), "step-2")
    assert st.op == "max" and st.pool_size == (2, 1) and st.stride == (2, 1)
    assert st.theater.output().tolist() == [[[4, 3], [6, 5]]]
