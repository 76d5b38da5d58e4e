"""The architecture editor: building networks, teaching errors, undo, apply, files and ONNX."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QObject, Qt, Signal

from engine.errors import ConvScopeError
from gui.editor.editor import ArchitectureEditor
from gui.editor.layer_table import COL_FORMULA, COL_PARAMS, COL_SHAPE

LENET5_PARAMS = [156, 0, 2416, 0, 0, 48120, 10164, 850]


class FakeDataset:
    def __init__(self, name="MNIST", input_shape=(1, 28, 28), num_classes=10):
        self.name = name
        self.input_shape = input_shape
        self.num_classes = num_classes
        self.class_names = [str(i) for i in range(num_classes)]


class FakeController(QObject):
    """The TrainingController's documented surface the editor uses."""

    dataset_changed = Signal(object)
    model_changed = Signal(object)
    state_changed = Signal(str)

    def __init__(self, dataset=None, model=None):
        super().__init__()
        self.dataset = dataset
        self.model = model
        self.started = 0
        self.last_error = ""

    def set_model(self, model):
        self.model = model
        self.model_changed.emit(model)

    def start(self):
        self.started += 1

    def current_model_copy(self):
        return self.model.clone() if self.model is not None else None


@pytest.fixture
def editor(qtbot):
    ed = ArchitectureEditor()
    qtbot.addWidget(ed)
    ed.set_input((1, 32, 32), 10, name="32x32 digits")
    ed.resize(1400, 800)
    return ed


def build_lenet5(ed: ArchitectureEditor) -> None:
    """LeNet-5 on a 32x32x1 input (LeCun 1998), layer by layer from an empty model."""
    ed.new_empty()
    ed.add_layer("Conv2D")
    ed.set_layer_param(0, "filters", 6)
    ed.set_layer_param(0, "kernel_size", 5)
    ed.add_layer("MaxPooling2D")
    ed.add_layer("Conv2D", filters=16, kernel_size=5)
    ed.add_layer("MaxPooling2D")
    ed.add_layer("Flatten")
    ed.add_layer("Dense", units=120)
    ed.add_layer("Dense", units=84)
    ed.add_layer("Dense", units=10, activation=None)


def shown_text(ed, row, col):
    return ed.table.item(row, col).text()


def test_lenet5_built_from_an_empty_model_has_61706_parameters(editor):
    assert editor.layer_configs() == [] and not editor.is_valid
    build_lenet5(editor)
    assert editor.is_valid
    assert [r.params for r in editor.rows] == LENET5_PARAMS
    assert editor.total_params == 61_706
    assert "61,706" in editor.totals_label.text()
    # Shapes as Keras shows them, formulas with the numbers filled in.
    assert [shown_text(editor, i, COL_SHAPE) for i in range(8)] == [
        "28 x 28 x 6", "14 x 14 x 6", "10 x 10 x 16", "5 x 5 x 16", "400", "120", "84", "10"]
    assert shown_text(editor, 0, COL_PARAMS) == "156"
    assert "5*5*1*6 + 6 = 156" in shown_text(editor, 0, COL_FORMULA)
    assert "(32 + 2*0 - 5)/1 + 1 = 28" in shown_text(editor, 0, COL_FORMULA)
    assert "400*120 + 120 = 48120" in shown_text(editor, 5, COL_FORMULA)
    assert editor.train_button.isEnabled() and editor.apply_button.isEnabled()
    model = editor.build_model()
    assert model.total_params == 61_706


def test_lenet5_through_the_widgets_menu_and_spin_boxes(editor, qtbot):
    """The same network made the way a student does: Add layer menu, then typing in the row's editors."""
    editor.new_empty()
    for cls in ("Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Flatten", "Dense", "Dense", "Dense"):
        editor.select_row(editor.table.rowCount() - 1)
        editor.add_actions[cls].trigger()
    assert [c["class_name"] for c in editor.layer_configs()] == [
        "Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Flatten", "Dense", "Dense", "Dense"]
    assert editor.is_valid  # each Dense added at the end came as the output layer: 10 units, no activation
    editor.settings_widget(0).editors["filters"].setValue(6)
    editor.settings_widget(0).editors["kernel_size"].setValue(5)
    editor.settings_widget(2).editors["filters"].setValue(16)
    editor.settings_widget(2).editors["kernel_size"].setValue(5)
    editor.settings_widget(5).editors["units"].setValue(120)
    editor.settings_widget(6).editors["units"].setValue(84)
    last = editor.settings_widget(7)
    last.editors["units"].setValue(10)
    last.editors["activation"].setCurrentIndex(last.editors["activation"].findData(None))
    assert editor.is_valid
    assert editor.total_params == 61_706


def test_same_padding_lenet5_on_28x28_mnist_also_has_61706(editor):
    editor.set_input((1, 28, 28), 10, name="MNIST")
    build_lenet5(editor)
    # valid padding on 28x28: the second pooling gives 4x4x16, so the first Dense reads 256 values
    assert editor.is_valid and editor.rows[5].params == 256 * 120 + 120
    editor.set_layer_param(0, "padding", "same")
    assert editor.is_valid and editor.total_params == 61_706
    assert editor.settings_widget(0).editors["padding"].currentData() == "same"


@pytest.mark.parametrize("edit, row, words", [
    (("set", 2, "kernel_size", 16), 2, ["kernel 16", "14x14"]),          # kernel larger than its input
    (("set", 0, "strides", 0), 0, ["stride"]),                          # stride 0
    (("move", 4, 7), 4, ["Dense", "flat", "Flatten"]),                  # Dense before Flatten
    (("set", 1, "pool_size", 40), 1, ["pool"]),                         # window bigger than the map
])
def test_invalid_edit_shows_the_engine_message_on_that_row_and_disables_train(editor, qtbot, edit, row, words):
    build_lenet5(editor)
    with qtbot.waitSignal(editor.validity_changed, timeout=1000) as blocker:
        if edit[0] == "set":
            editor.set_layer_param(*edit[1:])
        else:
            editor.move_layer(*edit[1:])
    assert blocker.args == [False]
    message = editor.row_message(row)
    assert message, editor.problems
    for w in words:
        assert w.lower() in message.lower(), message
    assert set(editor.problems) == {row}  # only the offending layer is marked
    shown = shown_text(editor, row, COL_FORMULA)
    assert shown.startswith("⚠ " + message)
    assert editor.table.item(row, COL_FORMULA).foreground().color().name() == "#b00020"
    assert not editor.train_button.isEnabled() and not editor.apply_button.isEnabled()
    assert editor.restore_button.isEnabled()
    assert "disabled" in editor.status_label.text()
    with pytest.raises(ConvScopeError):
        editor.build_model()


def test_output_shrinking_to_nothing_is_flagged_where_it_happens(editor):
    editor.set_input((1, 8, 8), 10)
    editor.new_empty()
    for _ in range(4):
        editor.add_layer("MaxPooling2D")  # 8 -> 4 -> 2 -> 1 -> 0
    editor.add_layer("Flatten")
    editor.add_layer("Dense", units=10, activation=None)
    assert set(editor.problems) == {3}
    assert "pool" in editor.row_message(3).lower()
    assert shown_text(editor, 4, COL_SHAPE) == "—"


def test_undo_restores_the_valid_model_and_redo_breaks_it_again(editor, qtbot):
    build_lenet5(editor)
    editor.show()
    editor.activateWindow()
    qtbot.waitUntil(editor.isActiveWindow)  # shortcuts only reach the active window
    good = editor.layer_configs()
    editor.settings_widget(2).editors["kernel_size"].setValue(15)
    editor.settings_widget(2).editors["kernel_size"].setValue(16)  # merges with the previous step
    assert not editor.is_valid
    editor.table.setFocus()
    qtbot.keyClick(editor.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert editor.layer_configs() == good
    assert editor.is_valid and editor.total_params == 61_706 and editor.train_button.isEnabled()
    assert editor.settings_widget(2).editors["kernel_size"].value() == 5  # the widget follows the undo
    qtbot.keyClick(editor.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert not editor.is_valid and editor.settings_widget(2).editors["kernel_size"].value() == 16
    # Ctrl+Z typed while the cursor is still in the spin box undoes the model edit as well.
    box = editor.settings_widget(2).editors["kernel_size"]
    box.setFocus()
    qtbot.keyClick(box, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert editor.is_valid and editor.settings_widget(2).editors["kernel_size"].value() == 5


def test_restore_last_valid_model_after_several_bad_edits(editor):
    build_lenet5(editor)
    good = editor.layer_configs()
    editor.set_layer_param(0, "strides", 0)
    editor.remove_layer(4)  # remove Flatten as well
    editor.add_layer("Dense", index=0, units=3)
    assert not editor.is_valid
    editor.restore_last_valid()
    assert editor.layer_configs() == good and editor.is_valid
    editor.undo()  # restoring is itself undoable: nothing is ever lost
    assert not editor.is_valid


def test_reorder_duplicate_and_remove_keep_names_unique(editor, qtbot):
    build_lenet5(editor)
    editor.select_row(2)
    qtbot.mouseClick(editor.duplicate_button, Qt.MouseButton.LeftButton)
    names = [c["config"]["name"] for c in editor.layer_configs()]
    assert len(names) == len(set(names)) == 9
    assert editor.selected_row() == 3 and editor.layer_configs()[3]["config"]["filters"] == 16
    # the twin convolution shrinks 10x10 to 6x6: the first Dense now reads 3x3x16 = 144 values
    assert editor.is_valid and editor.rows[3].params == 5 * 5 * 16 * 16 + 16 and editor.rows[6].params == 144 * 120 + 120
    qtbot.mouseClick(editor.up_button, Qt.MouseButton.LeftButton)
    assert editor.selected_row() == 2
    qtbot.mouseClick(editor.remove_button, Qt.MouseButton.LeftButton)
    assert editor.is_valid and editor.total_params == 61_706


def _drop(table, row, upper_half: bool):
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QDropEvent

    rect = table.visualRect(table.model().index(row, 1))
    y = rect.top() + 2 if upper_half else rect.bottom() - 2
    mime = table.model().mimeData([table.model().index(table.currentRow(), 1)])
    event = QDropEvent(QPointF(rect.center().x(), y), Qt.DropAction.MoveAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    table.dropEvent(event)


def test_dragging_a_row_reorders_layers_through_the_undo_stack(editor, qtbot):
    build_lenet5(editor)
    editor.show()
    qtbot.waitExposed(editor)
    order = lambda: [c["config"]["name"] for c in editor.layer_configs()]
    start = order()
    editor.select_row(4)  # Flatten ...
    _drop(editor.table, 1, upper_half=True)  # ... dropped on the top half of row 2: it goes before it
    qtbot.waitUntil(lambda: order() != start)
    assert order()[:3] == ["conv2d", "flatten", "max_pooling2d"]
    assert "Dense needs a flat input" not in editor.row_message(1)
    assert not editor.is_valid  # a Flatten early makes the second Conv2D receive a vector
    editor.select_row(1)
    _drop(editor.table, 4, upper_half=False)  # back below row 5 (the second pooling)
    qtbot.waitUntil(lambda: order() == start)
    assert editor.is_valid and editor.total_params == 61_706
    editor.undo()
    editor.undo()
    assert order() == start  # the two moves undone


def test_keyboard_delete_only_in_the_table_and_move_with_ctrl_shift_arrows(editor, qtbot):
    build_lenet5(editor)
    editor.show()
    editor.activateWindow()
    qtbot.waitUntil(editor.isActiveWindow)
    box = editor.settings_widget(0).editors["filters"]
    box.setFocus()
    qtbot.keyClick(box, Qt.Key.Key_Delete)
    assert len(editor.layer_configs()) == 8
    editor.select_row(7)
    editor.table.setFocus()
    qtbot.keyClick(editor.table, Qt.Key.Key_Delete)
    assert len(editor.layer_configs()) == 7
    editor.select_row(2)
    qtbot.keyClick(editor.table, Qt.Key.Key_Up, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert [c["class_name"] for c in editor.layer_configs()][1:3] == ["Conv2D", "MaxPooling2D"]
    assert editor.selected_row() == 1


def test_trained_weights_survive_edits_of_other_layers(qtbot):
    from engine.presets import build_preset

    trained = build_preset("lenet5", (1, 28, 28), 10, seed=5)
    ed = ArchitectureEditor()
    qtbot.addWidget(ed)
    ed.set_input((1, 28, 28), 10)
    ed.load_model_object(trained)
    ed.add_layer("Dropout", index=6, rate=0.2)
    ed.set_layer_param(8, "units", 10)
    model = ed.build_model()
    np.testing.assert_array_equal(model.layers[0].params["W"], trained.layers[0].params["W"])
    np.testing.assert_array_equal(model.layers[5].params["W"], trained.layers[5].params["W"])
    ed.set_layer_param(0, "filters", 8)  # the edited layer and the conv reading it get new weights ...
    model = ed.build_model()
    assert model.layers[0].params["W"].shape == (8, 1, 5, 5)
    assert model.layers[2].params["W"].shape == (16, 8, 5, 5)
    # ... the Dense layer behind them still reads 400 values: it keeps what it learned
    np.testing.assert_array_equal(model.layers[5].params["W"], trained.layers[5].params["W"])


def test_parameter_sharing_comparison_matches_the_seed_notes(qtbot):
    """Seed notes: 10 filters of 3x3x3 (+bias) = 280 parameters, whatever the image size."""
    ed = ArchitectureEditor()
    qtbot.addWidget(ed)
    ed.set_input((3, 64, 64), 2)
    ed.add_layer("Conv2D", filters=10, kernel_size=3)
    assert ed.rows[0].params == 280
    dense = (64 * 64 * 3) * (62 * 62 * 10) + 62 * 62 * 10  # every output value wired to every input value
    assert f"{dense:,}" in ed.sharing_label.text() and "280" in ed.sharing_label.text()
    assert f"{dense:,}" in shown_text(ed, 0, COL_FORMULA)
    assert "shared" in ed.table.item(0, COL_FORMULA).toolTip() or "reuses" in ed.table.item(0, COL_FORMULA).toolTip()
    ed.set_input((3, 128, 128), 2)
    assert ed.rows[0].params == 280  # the conv's count does not depend on the image size


def test_input_and_class_count_follow_the_controllers_dataset(qtbot):
    ctrl = FakeController(dataset=FakeDataset())
    ed = ArchitectureEditor(ctrl)
    qtbot.addWidget(ed)
    ed.add_layer("Conv2D", filters=4, kernel_size=3)
    ed.add_layer("Flatten")
    ed.add_layer("Dense", units=10, activation=None)
    assert "28 x 28 x 1" in ed.input_label.text() and ed.is_valid
    assert ed.rows[0].params == 3 * 3 * 1 * 4 + 4
    ctrl.dataset_changed.emit(FakeDataset("colour", (3, 32, 32), 4))
    assert "32 x 32 x 3" in ed.input_label.text()
    assert ed.rows[0].params == 3 * 3 * 3 * 4 + 4
    assert ed.layer_configs()[-1]["config"]["units"] == 4 and ed.is_valid
    ed.undo()  # the automatic class count is an undoable step; without it the last layer is flagged
    assert ed.layer_configs()[-1]["config"]["units"] == 10
    assert not ed.is_valid and set(ed.problems) == {2} and "4" in ed.row_message(2)


def test_apply_hands_the_model_to_the_controller_and_trains_it(qtbot):
    ctrl = FakeController(dataset=FakeDataset(input_shape=(1, 32, 32)))
    ed = ArchitectureEditor(ctrl)
    qtbot.addWidget(ed)
    build_lenet5(ed)
    with qtbot.waitSignal(ed.model_applied, timeout=1000):
        qtbot.mouseClick(ed.train_button, Qt.MouseButton.LeftButton)
    assert ctrl.started == 1
    assert ctrl.model.total_params == 61_706 and ctrl.model.input_shape == (1, 32, 32)
    assert not ed.is_dirty() and "applied" in ed.status_label.text().lower()
    ctrl.state_changed.emit("training")
    assert not ed.apply_button.isEnabled()  # no model swap under a running trainer
    ctrl.state_changed.emit("paused")
    assert ed.apply_button.isEnabled()


def test_save_and_export_take_the_weights_trained_in_the_window(qtbot, tmp_path):
    from engine.persistence import load_model

    ctrl = FakeController(dataset=FakeDataset(input_shape=(1, 32, 32)))
    ed = ArchitectureEditor(ctrl)
    qtbot.addWidget(ed)
    build_lenet5(ed)
    assert ed.apply() is ctrl.model
    trained = ctrl.model.get_weights()
    trained[0]["W"] = trained[0]["W"] + 0.5  # what training did meanwhile
    ctrl.model.set_weights(trained)
    ed.add_layer("Dropout", index=5)  # edits after training (without saving) keep what was learned
    np.testing.assert_array_equal(ed.build_model().get_weights()[0]["W"], trained[0]["W"])
    ed.undo()
    model, _meta = load_model(ed.save_model(tmp_path / "trained.npz"))
    np.testing.assert_array_equal(model.get_weights()[0]["W"], trained[0]["W"])
    ed.set_layer_param(6, "units", 80)  # an edited draft is no longer the trained model ...
    model = ed.build_model()
    assert model.layers[6].params["W"].shape == (120, 80)
    np.testing.assert_array_equal(model.get_weights()[0]["W"], trained[0]["W"])  # ... but keeps its first conv


def test_a_model_chosen_in_the_window_becomes_the_draft_unless_edits_are_pending(qtbot):
    from engine.presets import build_preset

    ctrl = FakeController(dataset=FakeDataset())
    ed = ArchitectureEditor(ctrl)
    qtbot.addWidget(ed)
    ctrl.set_model(build_preset("lenet5", (1, 28, 28), 10))
    assert ed.total_params == 61_706 and not ed.is_dirty()
    ed.set_layer_param(0, "filters", 8)
    ctrl.set_model(build_preset("keras_mnist", (1, 28, 28), 10))
    assert ed.layer_configs()[0]["config"]["filters"] == 8  # pending edits are not thrown away


def test_saved_edited_model_reopens_identical(editor, qtbot, tmp_path):
    build_lenet5(editor)
    editor.set_layer_param(0, "mode", "convolution")
    editor.add_layer("Dropout", index=5, rate=0.3)
    editor.set_layer_param(1, "padding", "same")
    path = editor.save_model(tmp_path / "edited.npz")
    saved_weights = editor.current_model().get_weights()

    other = ArchitectureEditor()
    qtbot.addWidget(other)
    other.set_input((1, 32, 32), 10)
    other.open_model(path)
    assert other.layer_configs() == editor.layer_configs()
    assert other.total_params == editor.total_params == 61_706
    reopened = other.build_model().get_weights()
    assert len(reopened) == len(saved_weights)
    for a, b in zip(reopened, saved_weights):
        assert a.keys() == b.keys()
        for k in a:
            np.testing.assert_array_equal(a[k], b[k])


def test_summary_export_is_the_engines_keras_style_table(editor, tmp_path):
    build_lenet5(editor)
    path = editor.export_summary(tmp_path / "lenet")
    text = path.read_text(encoding="utf-8")
    assert path.suffix == ".txt"
    assert text.strip() == editor.build_model().summary().strip()
    assert "Total params: 61,706" in text and "(None, 28, 28, 6)" in text


def test_editor_onnx_export_runs_in_onnxruntime_like_our_engine(editor, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    build_lenet5(editor)
    editor.set_layer_param(0, "mode", "convolution")
    editor.set_layer_param(0, "strides", 2)
    editor.set_layer_param(0, "padding", "same")   # 32 -> 16
    editor.set_layer_param(1, "pool_size", 1)      # keep 16
    editor.set_layer_param(2, "padding", "same")   # 16 -> 16
    editor.set_layer_param(3, "pool_size", 4)      # 16 -> 4
    editor.add_layer("AveragePooling2D", index=4, pool_size=3, strides=1, padding="same")
    editor.set_layer_param(6, "units", 120)
    assert editor.is_valid, editor.problems
    path = editor.export_onnx(tmp_path / "edited.onnx")
    model = editor.current_model()
    x = np.random.default_rng(0).random((4, 1, 32, 32), dtype=np.float32)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(sess.run(None, {"input": x})[0], model.forward(x), rtol=1e-4, atol=1e-5)


def test_nothing_to_export_while_invalid(editor):
    build_lenet5(editor)
    editor.set_layer_param(0, "kernel_size", 40)
    assert not editor.save_button.isEnabled() and not editor.export_button.isEnabled()
    assert editor.apply() is None


# ---------------------------------------------------------------------------------------------
# with the real TrainingController
# ---------------------------------------------------------------------------------------------
@pytest.fixture
def controller(qtbot):
    from gui.controller import TrainingController

    c = TrainingController()
    yield c
    assert c.shutdown()


@pytest.mark.timeout(300)
def test_edited_model_trains_in_the_real_controller_like_a_preset(qtbot, controller):
    assert controller.set_dataset("shapes")
    ed = ArchitectureEditor(controller)
    qtbot.addWidget(ed)
    ds = controller.dataset
    assert ed.input_shape == tuple(ds.input_shape) and ed.num_classes == ds.num_classes
    # The dataset's default preset arrived through model_changed and became the draft.
    assert ed.layer_configs() == [layer.get_config() for layer in controller.model.layers]
    ed.new_empty()
    ed.add_layer("Conv2D", filters=4, kernel_size=3, strides=2, padding="same")
    ed.add_layer("AveragePooling2D")
    ed.add_layer("Flatten")
    ed.add_layer("Dropout", rate=0.2)
    ed.add_layer("Dense", units=7, activation=None)
    assert ed.layer_configs()[-1]["config"]["units"] == 7 and not ed.is_valid  # flagged: the data has 4 classes
    ed.set_layer_param(4, "units", ds.num_classes)
    assert ed.is_valid
    model = ed.apply()
    assert model is not None and controller.model is model
    assert controller.model.total_params == ed.total_params
    with qtbot.waitSignal(controller.batch_metrics_ready, timeout=240_000):
        assert controller.step()
    qtbot.waitUntil(lambda: controller.state not in ("training", "compiling"), timeout=60_000)
    assert ed.is_valid and not ed.is_dirty()  # the controller's own echo did not disturb the draft


def test_a_dense_layer_on_the_raw_image_too_big_to_train_is_flagged_not_allocated(qtbot):
    """Seed notes: a Dense layer of 1000 units on a 64x64x3 image already needs 12 M parameters."""
    ed = ArchitectureEditor()
    qtbot.addWidget(ed)
    ed.set_input((3, 64, 64), 10)
    ed.add_layer("Flatten")
    ed.add_layer("Dense", units=1000)
    ed.add_layer("Dense", units=10, activation=None)
    assert ed.is_valid and ed.rows[1].params == 64 * 64 * 3 * 1000 + 1000  # 12,289,000
    ed.set_layer_param(1, "units", 5000)  # 61 M: refused on the layer responsible, before any allocation
    assert not ed.is_valid and set(ed.problems) == {1}
    assert "61,445,000" in ed.row_message(1) and not ed.train_button.isEnabled()


def test_file_buttons_write_read_and_report_errors_without_crashing(editor, qtbot, tmp_path, monkeypatch):
    pytest.importorskip("onnx")
    from PySide6.QtWidgets import QFileDialog, QMessageBox

    build_lenet5(editor)
    answers = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(answers.pop(0)), ""))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(answers.pop(0)), ""))
    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _parent, title, text, *a: warnings.append((title, text)))

    answers.append(tmp_path / "net.onnx")
    editor.onnx_action.trigger()
    import onnx

    outputs = [o.name for o in onnx.load(str(tmp_path / "net.onnx")).graph.output]
    assert outputs == ["logits", "probabilities"]
    answers.append(tmp_path / "summary.txt")
    editor.summary_action.trigger()
    assert "61,706" in (tmp_path / "summary.txt").read_text(encoding="utf-8")
    answers.append(tmp_path / "net.npz")
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    assert (tmp_path / "net.npz").exists() and not warnings

    (tmp_path / "broken.npz").write_bytes(b"not a model")
    answers.append(tmp_path / "broken.npz")
    before = editor.layer_configs()
    qtbot.mouseClick(editor.open_button, Qt.MouseButton.LeftButton)
    assert len(warnings) == 1 and editor.layer_configs() == before  # a message, nothing lost
    answers.append(tmp_path / "no" / "such" / "dir" / "x.onnx")
    (tmp_path / "no").write_text("a file where a folder should be")
    editor.onnx_action.trigger()
    assert len(warnings) == 2 and "x.onnx" in warnings[1][1]


class TinyDataset(FakeDataset):
    """A dataset object with the documented fields, random pixels: enough to train one batch."""

    def __init__(self):
        super().__init__("tiny", (1, 16, 16), 3)
        rng = np.random.default_rng(0)
        self.x_train = rng.integers(0, 256, (96, 1, 16, 16), dtype=np.uint8)
        self.y_train = rng.integers(0, 3, 96).astype(np.int64)
        self.x_test, self.y_test = self.x_train[:32], self.y_train[:32]
        self.source = "generated in the test"


@pytest.mark.timeout(300)
def test_applied_model_trains_one_batch_in_the_real_controller(qtbot, controller):
    ds = TinyDataset()
    controller.dataset = ds
    controller.dataset_changed.emit(ds)
    ed = ArchitectureEditor(controller)
    qtbot.addWidget(ed)
    assert ed.input_shape == (1, 16, 16) and ed.num_classes == 3
    ed.add_layer("Conv2D", filters=4, kernel_size=3, strides=2, padding="same", mode="convolution")
    ed.add_layer("AveragePooling2D", padding="same")
    ed.add_layer("Flatten")
    ed.add_layer("Dense")
    assert ed.is_valid and ed.layer_configs()[-1]["config"]["units"] == 3
    model = ed.apply()
    assert model is not None and controller.model is model
    with qtbot.waitSignal(controller.batch_metrics_ready, timeout=240_000):
        assert controller.step()
    qtbot.waitUntil(lambda: controller.state not in ("training", "compiling"), timeout=60_000)
    assert ed.is_valid and not ed.is_dirty()
    ed.set_layer_param(0, "filters", 6)
    assert ed.apply() is controller.model and controller.model.layers[0].params["W"].shape == (6, 1, 3, 3)


def test_a_korean_student_reads_the_teaching_error_in_korean(qtbot):
    from gui import i18n

    i18n.set_language("ko")
    try:
        ed = ArchitectureEditor()
        qtbot.addWidget(ed)
        ed.set_input((1, 32, 32), 10, name="32x32 digits")
        build_lenet5(ed)
        ed.set_layer_param(2, "kernel_size", 16)  # kernel larger than its 14x14 input
        message = ed.row_message(2)
        assert "커널 크기 16" in message and "14x14 입력에 들어가지 않습니다" in message, message
        assert "does not fit" not in message
    finally:
        i18n.set_language("en")


# ---------------------------------------------------------------------------------------------
# the views follow the draft; the catalogue comes from the engine
# ---------------------------------------------------------------------------------------------
def test_add_layer_menu_offers_the_engines_catalogue_in_order(editor):
    from engine.catalog import EDITABLE_LAYERS

    assert list(editor.add_actions) == list(EDITABLE_LAYERS)
    entries = editor.add_button.menu().actions()
    kinds = ["-" if a.isSeparator() else a.text().split("(")[-1].rstrip(")") for a in entries]
    assert kinds == ["Conv2D", "-", "MaxPooling2D", "AveragePooling2D", "-", "ReLU", "Sigmoid", "Tanh",
                     "LeakyReLU", "Softmax", "-", "Dropout", "Flatten", "Dense"]


def test_every_catalogue_hyperparameter_has_an_editor_that_sets_the_draft(editor):
    from engine.catalog import CATALOG

    editor.new_empty()
    for name, kind in CATALOG.items():
        index = editor.add_layer(name)
        form = editor.settings_widget(index)
        assert {hp.name for hp in kind.hyperparameters} <= set(form.editors)
        for hp in kind.hyperparameters:
            widget = form.editors[hp.name]
            assert widget.objectName() == f"edit_{hp.name}"
            if hp.kind == "choice":
                for value in hp.choices:  # every allowed value can be picked, and lands in the draft
                    widget.setCurrentIndex(widget.findData(value))
                    assert editor.draft.config(index)["config"][hp.name] == value
            elif hp.kind == "int":
                widget.setValue(widget.value() + 1)
                assert editor.draft.config(index)["config"][hp.name] in (widget.value(), [widget.value()] * 2)


def test_pool_stride_equal_to_the_pool_and_padding_in_pixels(editor):
    build_lenet5(editor)
    pool = editor.settings_widget(1).editors["strides"]
    assert pool.value() == -1 and pool.text() == "= pool"  # strides None: moves by the pool size
    pool.setValue(1)
    assert editor.draft.config(1)["config"]["strides"] in (1, [1, 1])
    assert shown_text(editor, 1, COL_SHAPE) == "27 x 27 x 6"
    pool.setValue(-1)
    assert editor.draft.config(1)["config"]["strides"] is None
    conv = editor.settings_widget(0)
    conv.editors["padding"].setCurrentIndex(conv.editors["padding"].findData("number"))
    conv.editors["padding_pixels"].setValue(2)
    assert editor.draft.config(0)["config"]["padding"] == 2
    assert "(32 + 2*2 - 5)/1 + 1 = 32" in shown_text(editor, 0, COL_FORMULA)
    editor.undo()  # "valid" -> 0 -> 2 pixels was one edit of one field: one step back
    form = editor.settings_widget(0)
    assert editor.draft.config(0)["config"]["padding"] == "valid"
    assert form.editors["padding"].currentData() == "valid" and not form.editors["padding_pixels"].isVisibleTo(form)


def test_changing_the_draft_updates_the_table_and_the_totals(editor):
    build_lenet5(editor)
    editor.draft.set_param(5, "units", 100)  # straight on the model, as another view would
    assert editor.settings_widget(5).editors["units"].value() == 100
    assert shown_text(editor, 5, COL_PARAMS) == f"{400 * 100 + 100:,}"
    assert f"{editor.draft.total_params:,}" in editor.totals_label.text()
    editor.draft.remove_layer(4)
    assert editor.table.rowCount() == 7 and "⚠" in shown_text(editor, 4, COL_FORMULA)


def test_rows_keep_their_forms_when_layers_are_added_above_and_edit_the_right_layer(editor):
    build_lenet5(editor)
    form = editor.settings_widget(5)  # dense, 120 units
    editor.add_layer("Dropout", index=0)
    assert editor.settings_widget(6) is form  # moved down with its layer, not rebuilt
    form.editors["units"].setValue(99)
    assert editor.draft.config(6)["config"]["units"] == 99 and editor.draft.config(6)["config"]["name"] == "dense"
    editor.remove_layer(0)
    assert editor.settings_widget(5) is form
    form.editors["units"].setValue(98)
    assert editor.draft.config(5)["config"]["units"] == 98
    assert [editor.settings_widget(i).class_name for i in range(8)] == [
        c["class_name"] for c in editor.layer_configs()]
    editor.move_layer(4, 0)  # Flatten first: the rows follow the draft's order
    assert [editor.settings_widget(i).class_name for i in range(8)] == [
        c["class_name"] for c in editor.layer_configs()]
    assert [editor.table.item(i, 1).text().split("\n")[1] for i in range(8)] == [
        c["config"]["name"] for c in editor.layer_configs()]


def test_a_fixed_layer_loses_its_red_tint(editor):
    from PySide6.QtGui import QPalette

    build_lenet5(editor)
    form, plain = editor.settings_widget(2), editor.palette().color(QPalette.ColorRole.Window)
    editor.set_layer_param(2, "kernel_size", 16)
    assert form.autoFillBackground() and form.palette().color(QPalette.ColorRole.Window).name() == "#fde4e4"
    editor.set_layer_param(2, "kernel_size", 5)
    assert editor.settings_widget(2) is form and not form.autoFillBackground()
    assert form.palette().color(QPalette.ColorRole.Window) == plain and form.toolTip() == ""


def test_start_from_a_preset_named_by_its_display_name(editor, qtbot):
    from engine.presets import PRESETS, build_preset

    labels = [editor.start_combo.itemText(i) for i in range(editor.start_combo.count())]
    assert [f"Preset: {p.display_name}" for p in PRESETS.values()] == labels[1:]  # after "Empty model"
    editor.start_combo.setCurrentIndex(labels.index(f"Preset: {PRESETS['lenet5'].display_name}"))
    qtbot.mouseClick(editor.start_button, Qt.MouseButton.LeftButton)
    expected = build_preset("lenet5", (1, 32, 32), 10)
    assert editor.layer_configs() == [layer.get_config() for layer in expected.layers]
    assert editor.is_valid and editor.total_params == expected.total_params
    assert editor.model_name == "lenet5" and editor.selected_row() == 0
    editor.undo()  # loading a starting point is one undoable step
    assert editor.layer_configs() == []
