"""A free input shape in the editor: any of the notes' networks without a dataset ("shapes only")."""

from __future__ import annotations

import pytest

from engine.shapes import format_shape
from gui.editor.draft import DraftModel
from gui.editor.input_shape import InputShapeError, parse_input_shape
from tests.headless import qt_modules_loaded_by


def notes_network(draft: DraftModel) -> DraftModel:
    """The notes' 39x39x3 network: three convolutions, then Flatten."""
    draft.add_layer("Conv2D", filters=10, kernel_size=3, activation="relu")
    draft.add_layer("Conv2D", filters=20, kernel_size=5, strides=2, activation="relu")
    draft.add_layer("Conv2D", filters=40, kernel_size=5, strides=2, activation="relu")
    draft.add_layer("Flatten")
    return draft


def shown_shapes(draft: DraftModel) -> list[str]:
    return [format_shape(r.output_shape) for r in draft.rows]


def test_the_input_shape_module_imports_no_qt():
    assert qt_modules_loaded_by("gui.editor.input_shape", "gui.editor.draft") == []


@pytest.mark.parametrize("text, shape", [
    ("39x39x3", (3, 39, 39)), (" 64 x 64 x 3 ", (3, 64, 64)), ("28×28×1", (1, 28, 28)), ("28x28", (1, 28, 28)),
    ("1000,1000,3", (3, 1000, 1000)), ("32 32 3", (3, 32, 32)),
])
def test_typed_shapes_are_height_width_channels(text, shape):
    assert parse_input_shape(text) == shape


@pytest.mark.parametrize("text", ["", "39x39x", "abc", "0x28x1", "28x28x0", "1x2x3x4", "-5x5x1", "200000x2x1",
                                  "10000x10000x3"])
def test_a_typed_shape_that_cannot_be_used_says_how_to_write_it(text):
    with pytest.raises(InputShapeError) as info:
        parse_input_shape(text)
    assert str(info.value)


def test_the_notes_39x39x3_network_shows_the_notes_shapes():
    draft = notes_network(DraftModel((1, 28, 28), 10))
    draft.set_input_shape((3, 39, 39))
    assert shown_shapes(draft) == ["37 x 37 x 10", "17 x 17 x 20", "7 x 7 x 40", "1960"]
    assert draft.rows[3].output_shape == (1960,)
    assert [r.params for r in draft.rows] == [280, 5020, 20040, 0]
    assert draft.valid and draft.shapes_only and not draft.can_apply
    message = draft.shapes_only_message()
    assert "39 x 39 x 3" in message and "28 x 28 x 1" in message


def test_ten_3x3x3_filters_have_280_parameters_on_any_image_size():
    draft = DraftModel((1, 28, 28), 10)
    draft.add_layer("Conv2D", filters=10, kernel_size=3)
    for shape in ((3, 64, 64), (3, 1000, 1000)):
        draft.set_input_shape(shape)
        assert draft.valid and draft.rows[0].params == 280 and draft.total_params == 280
    assert draft.rows[0].output_shape == (10, 998, 998)


def test_dense_1000_on_64x64x3_has_12_288_000_weights_and_1000_biases():
    draft = DraftModel((1, 28, 28), 10)
    draft.add_layer("Flatten")
    draft.add_layer("Dense", units=1000)
    draft.set_input_shape((3, 64, 64))
    dense = draft.rows[1]
    assert dense.params == 12_288_000 + 1_000
    assert dense.formula.replace(" ", "") == "12288*1000+1000=12289000"


def test_the_input_change_is_undoable_and_the_dataset_shape_ends_shapes_only():
    draft = notes_network(DraftModel((1, 28, 28), 10))
    steps = draft.undo_steps
    draft.set_input_shape((3, 39, 39))
    assert draft.undo_steps == steps + 1 and draft.input_shape == (3, 39, 39)
    draft.undo()
    assert draft.input_shape == (1, 28, 28) and not draft.shapes_only
    assert shown_shapes(draft)[0] == "26 x 26 x 10"
    draft.redo()
    assert draft.input_shape == (3, 39, 39) and draft.shapes_only
    # a colour dataset of the same shape arrives: the draft can be trained again
    draft.set_input((3, 39, 39), 10)
    assert draft.free_input is None and not draft.shapes_only
    # choosing "the dataset's shape" again is the same as no free input
    draft.set_input_shape((3, 64, 64))
    draft.set_input_shape(None)
    assert draft.input_shape == (3, 39, 39) and not draft.shapes_only


def test_a_new_dataset_keeps_the_typed_input():
    draft = notes_network(DraftModel((1, 28, 28), 10))
    draft.set_input_shape((3, 39, 39))
    draft.set_input((3, 32, 32), 10)
    assert draft.input_shape == (3, 39, 39) and draft.dataset_shape == (3, 32, 32) and draft.shapes_only
    assert "32 x 32 x 3" in draft.shapes_only_message()


def test_a_shapes_only_draft_need_not_end_in_the_class_count_but_a_trainable_one_must():
    draft = notes_network(DraftModel((3, 39, 39), 10))
    assert not draft.valid and draft.problems  # ends in 1960 values, the data has 10 classes
    draft.set_input_shape((3, 64, 64))
    assert draft.valid and not draft.problems


# -- the editor's view ---------------------------------------------------------------------------
@pytest.fixture
def editor(qtbot):
    from gui.editor.editor import ArchitectureEditor

    ed = ArchitectureEditor()
    qtbot.addWidget(ed)
    ed.set_input((1, 28, 28), 10, name="MNIST")
    ed.resize(1400, 800)
    return ed


def type_input(qtbot, editor, text: str) -> None:
    from PySide6.QtCore import Qt

    line = editor.input_bar.combo.lineEdit()
    line.selectAll()
    qtbot.keyClicks(line, text)
    qtbot.keyClick(line, Qt.Key.Key_Return)


def table_column(editor, column: int) -> list[str]:
    return [editor.table.item(i, column).text() for i in range(editor.table.rowCount())]


def test_typing_39x39x3_builds_the_notes_network_in_shapes_only_mode(qtbot, editor):
    from gui.editor.layer_table import COL_PARAMS, COL_SHAPE

    type_input(qtbot, editor, "39x39x3")
    assert editor.input_shape == (3, 39, 39)
    notes_network(editor.draft)
    assert table_column(editor, COL_SHAPE) == ["37 x 37 x 10", "17 x 17 x 20", "7 x 7 x 40", "1960"]
    assert table_column(editor, COL_PARAMS) == ["280", "5,020", "20,040", "0"]
    assert "25,340" in editor.totals_label.text()
    # shapes only: Apply and Train are off, and the status line names both shapes
    assert not editor.apply_button.isEnabled() and not editor.train_button.isEnabled()
    status = editor.status_label.text()
    assert "39 x 39 x 3" in status and "28 x 28 x 1" in status
    assert "39 x 39 x 3" in editor.train_button.toolTip()
    assert editor.apply() is None
    # the Dense comparison follows the typed input: 37*37*10 outputs from 39*39*3 inputs, each with its
    # weight, plus a bias each: 4563 * 13690 + 13690
    assert f"{4563 * 13690 + 13690:,}" in editor.sharing_label.text()


def test_the_dataset_choice_and_undo_bring_training_back(qtbot, editor):
    type_input(qtbot, editor, "64x64x3")
    editor.add_layer("Conv2D", filters=10, kernel_size=3)
    assert editor.draft.rows[0].params == 280
    type_input(qtbot, editor, "1000x1000x3")
    assert editor.draft.rows[0].params == 280 and editor.draft.rows[0].output_shape == (10, 998, 998)
    combo = editor.input_bar.combo
    assert combo.currentText() == "1000 x 1000 x 3"
    combo.setCurrentIndex(0)
    combo.activated.emit(0)            # "the dataset's shape (28 x 28 x 1)"
    assert editor.input_shape == (1, 28, 28) and not editor.draft.shapes_only
    editor.undo()
    assert editor.input_shape == (3, 1000, 1000) and combo.currentText() == "1000 x 1000 x 3"


def test_a_mistyped_shape_is_explained_and_changes_nothing(qtbot, editor):
    type_input(qtbot, editor, "39x39xx")
    assert editor.input_shape == (1, 28, 28)
    assert "39x39x3" in editor.input_bar.problem_label.text()


def test_dense_1000_on_64x64x3_is_shown_with_its_formula(qtbot, editor):
    from gui.editor.layer_table import COL_FORMULA, COL_PARAMS

    type_input(qtbot, editor, "64x64x3")
    editor.add_layer("Flatten")
    editor.add_layer("Dense", units=1000)
    assert table_column(editor, COL_PARAMS)[1] == "12,289,000"
    assert "12288*1000 + 1000" in table_column(editor, COL_FORMULA)[1]


def test_each_row_shows_multiply_adds_memory_and_receptive_field_with_formulas(qtbot, editor):
    from gui.editor.layer_table import COL_FIELD, COL_FORMULA, COL_MACS, COL_MEMORY

    type_input(qtbot, editor, "39x39x3")
    notes_network(editor.draft)
    assert table_column(editor, COL_MACS) == ["369,630\n37*37*10*(3*3*3)", "1,445,000\n17*17*20*(5*5*10)",
                                              "980,000\n7*7*40*(5*5*20)", "0"]
    assert table_column(editor, COL_MEMORY) == ["53.5 KB\n37*37*10 * 4 B", "22.6 KB\n17*17*20 * 4 B",
                                                "7.7 KB\n7*7*40 * 4 B", "7.7 KB\n1960 * 4 B"]
    assert table_column(editor, COL_FIELD)[:3] == ["3 x 3\n1 + (3 - 1)*1", "7 x 7\n3 + (5 - 1)*1",
                                                   "15 x 15\n7 + (5 - 1)*2"]
    assert "15" not in table_column(editor, COL_FIELD)[3]          # Flatten: the whole image
    assert "37*37*10*(3*3*3) = 369630" in editor.table.item(0, COL_MACS).toolTip()
    assert "7*7*40 = 1960 values * 4 bytes = 7840 bytes" in editor.table.item(2, COL_MEMORY).toolTip()
    assert "r = 7 + (5 - 1)*2 = 15" in editor.table.item(2, COL_FIELD).toolTip()
    assert "r = 3 + (5 - 1)*1 = 7, jump = 1*2 = 2" in editor.table.item(1, COL_FIELD).toolTip()
    assert "(37 + 2*0 - 5)/2 + 1 = 17" in table_column(editor, COL_FORMULA)[1]


def test_the_cost_texts_need_no_widgets():
    from engine.layers import Conv2D, Flatten
    from engine.network import validate_architecture
    from gui.editor.costs import memory_cell, multiply_adds_cell, receptive_field_cell

    conv, flat = validate_architecture([Conv2D(10, 3), Flatten()], (3, 64, 64))
    assert multiply_adds_cell(conv)[0] == f"{62 * 62 * 10 * 27:,}\n62*62*10*(3*3*3)"
    assert memory_cell(conv)[0] == f"{62 * 62 * 10 * 4 / 1024:,.1f} KB\n62*62*10 * 4 B"
    assert receptive_field_cell(conv)[0] == "3 x 3\n1 + (3 - 1)*1"
    assert multiply_adds_cell(flat)[0] == "0" and "3 x 3" not in receptive_field_cell(flat)[0]
