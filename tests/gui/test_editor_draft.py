"""The editor's draft model on its own: no widgets, no QApplication."""

from __future__ import annotations

import numpy as np
import pytest

from engine.limits import MAX_PARAMS
from engine.presets import build_preset
from gui.editor.draft import DraftModel
from gui.editor.kept_weights import KeptWeights
from tests.headless import qt_modules_loaded_by

LENET5_PARAMS = [156, 0, 2416, 0, 0, 48120, 10164, 850]


def lenet5(draft: DraftModel) -> DraftModel:
    """LeNet-5 on 32x32x1, added layer by layer."""
    draft.add_layer("Conv2D", filters=6, kernel_size=5)
    draft.add_layer("MaxPooling2D")
    draft.add_layer("Conv2D", filters=16, kernel_size=5)
    draft.add_layer("MaxPooling2D")
    draft.add_layer("Flatten")
    draft.add_layer("Dense", units=120)
    draft.add_layer("Dense", units=84)
    draft.add_layer("Dense", units=10, activation=None)
    return draft


@pytest.fixture
def draft():
    return DraftModel((1, 32, 32), 10)


def names(draft):
    return [c["config"]["name"] for c in draft.layer_configs()]


def test_the_draft_module_imports_no_qt():
    assert qt_modules_loaded_by("gui.editor.draft", "gui.editor.kept_weights", "gui.editor.explanations") == []


def test_adding_layers_validates_with_the_engine(draft):
    assert not draft.valid and draft.total_params == 0
    lenet5(draft)
    assert draft.valid and not draft.problems
    assert [r.params for r in draft.rows] == LENET5_PARAMS and draft.total_params == 61_706
    assert names(draft) == ["conv2d", "max_pooling2d", "conv2d_1", "max_pooling2d_1", "flatten",
                            "dense", "dense_1", "dense_2"]
    assert draft.selected == 7  # the new layer is selected


def test_a_new_layer_starts_from_the_catalogue(draft):
    draft.add_layer("Conv2D")
    config = draft.config(0)["config"]
    assert (config["filters"], config["kernel_size"], config["activation"]) == (8, 3, "relu")
    draft.add_layer("Flatten")
    draft.add_layer("Dense")  # at the end: the output layer, one raw score per class
    assert draft.config(2)["config"]["units"] == 10 and draft.config(2)["config"]["activation"] is None
    draft.add_layer("Dense", index=2)  # a hidden layer keeps the catalogue's start
    assert draft.config(2)["config"]["units"] == 64 and draft.config(2)["config"]["activation"] == "relu"
    with pytest.raises(Exception, match="Conv3D"):
        draft.add_layer("Conv3D")


def test_an_impossible_edit_names_the_layer_and_only_that_layer(draft):
    lenet5(draft)
    draft.set_param(2, "kernel_size", 16)  # larger than its 14x14 input
    assert not draft.valid and set(draft.problems) == {2}
    message = draft.row_message(2)
    assert "conv2d_1" in message and "16" in message and "14x14" in message
    assert draft.first_problem() == 2 and draft.layer_name(2) == "conv2d_1"
    assert draft.rows[3].output_shape is None  # after the error the shapes are unknown
    assert draft.total_params == 156  # the layers that fit so far


def test_undo_and_redo_walk_the_steps_and_keep_their_names(draft):
    lenet5(draft)
    good = draft.layer_configs()
    draft.remove_layer(4)
    assert "flatten" not in names(draft) and not draft.valid
    assert draft.undo_text == "Remove flatten" and draft.can_undo and not draft.can_redo
    draft.undo()
    assert draft.layer_configs() == good and draft.valid and draft.selected == 7
    assert draft.redo_text == "Remove flatten"
    draft.redo()
    assert "flatten" not in names(draft) and draft.selected == 4
    for _ in range(9):
        draft.undo()
    assert len(draft) == 0 and not draft.can_undo
    draft.undo()  # nothing left: no change
    assert len(draft) == 0


def test_repeated_edits_of_one_field_are_one_step(draft):
    lenet5(draft)
    steps = lambda: draft.undo_steps
    before = steps()
    for k in (6, 7, 8, 9):
        draft.set_param(0, "filters", k)
    assert steps() == before + 1 and draft.config(0)["config"]["filters"] == 9
    draft.set_param(0, "kernel_size", 3)  # another field: another step
    assert steps() == before + 2
    draft.undo()
    draft.undo()
    assert draft.config(0)["config"]["filters"] == 6
    draft.set_param(0, "filters", 7)
    draft.set_param(0, "filters", 6)  # back where it started: the step cancels out
    assert steps() == before and not draft.can_redo


def test_move_duplicate_and_remove_keep_names_unique(draft):
    lenet5(draft)
    assert draft.duplicate_layer(2) == 3
    assert names(draft)[3] == "conv2d_2" and draft.config(3)["config"]["filters"] == 16
    draft.move_layer(3, 0)
    assert names(draft)[0] == "conv2d_2" and draft.selected == 0
    draft.move_layer(0, 99)  # clamped to the end
    assert names(draft)[-1] == "conv2d_2"
    draft.remove_layer(8)
    assert draft.valid and draft.total_params == 61_706
    draft.remove_layer(42)  # out of range: nothing happens
    assert len(draft) == 8


def test_restore_last_valid_is_itself_undoable(draft):
    lenet5(draft)
    good = draft.layer_configs()
    draft.set_param(0, "strides", 0)
    draft.add_layer("Dense", index=0, units=3)
    assert not draft.valid and draft.last_valid == good
    draft.restore_last_valid()
    assert draft.layer_configs() == good and draft.valid
    draft.undo()
    assert not draft.valid


def test_subscribers_hear_every_change(draft):
    heard = []
    draft.subscribe(lambda: heard.append(len(draft)))
    draft.add_layer("Flatten")
    draft.set_input((3, 8, 8), 4)
    draft.undo()
    assert heard == [1, 1, 0]


def test_a_new_dataset_fixes_the_class_count_of_a_draft_being_edited(draft):
    lenet5(draft)
    draft.set_input((1, 32, 32), 4)
    assert draft.config(7)["config"]["units"] == 4 and draft.valid
    assert draft.undo_text == "Match the dataset's 4 classes"
    draft.undo()
    assert not draft.valid and set(draft.problems) == {7} and "4" in draft.row_message(7)
    draft.mark_applied()
    draft.set_input((1, 32, 32), 3)  # an applied draft mirrors the window's model: left alone
    assert draft.config(7)["config"]["units"] == 10 and not draft.is_dirty()


def test_a_model_too_big_to_train_is_refused_on_the_layer_responsible():
    draft = DraftModel((3, 64, 64), 10)
    draft.add_layer("Flatten")
    draft.add_layer("Dense", units=5000)
    draft.add_layer("Dense", units=10, activation=None)
    assert draft.total_params > MAX_PARAMS
    assert not draft.valid and set(draft.problems) == {1} and "61,445,000" in draft.row_message(1)


def test_kept_weights_return_to_unchanged_layers_only():
    from engine.layers import layer_from_config
    from engine.network import Sequential

    trained = build_preset("lenet5", (1, 28, 28), 10, seed=5)
    kept = KeptWeights()
    kept.remember(trained)
    draft = DraftModel((1, 28, 28), 10)
    draft.replace([layer.get_config() for layer in trained.layers], "load")
    draft.set_param(0, "filters", 8)
    model = Sequential([layer_from_config(c) for c in draft.layer_configs()]).build((1, 28, 28), seed=0)
    assert kept.restore(model) == 3  # the three Dense layers; both convolutions changed shape
    np.testing.assert_array_equal(model.layers[5].params["W"], trained.layers[5].params["W"])
    assert not np.array_equal(model.layers[2].params["W"][:, :6], trained.layers[2].params["W"])
