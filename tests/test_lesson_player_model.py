"""The lesson player's widget-free model: actions of every step, missing features, answers, resume."""

from __future__ import annotations

import numpy as np
import pytest

from gui.lessons import LessonProgress, all_lessons, load_lesson, parse_lesson
from gui.lessons.capabilities import FEATURES, Capabilities
from gui.lessons.player_model import PlayerModel, lesson_order, theater_values
from gui.lessons.state import editor_input_shape, editor_layers, theater_input
from tests.headless import qt_modules_loaded_by


class RecordingApplier:
    """Records what the player asks of the panels (the Qt applier sets the real ones)."""

    def __init__(self, capabilities=None, shape=(1, 28, 28), unknown_controls=()):
        self.capabilities = capabilities if capabilities is not None else Capabilities()
        self.shape = shape
        self.unknown = set(unknown_controls)
        self.calls: list[tuple] = []

    def dataset_shape(self):
        return self.shape

    def show_tab(self, key):
        self.calls.append(("tab", key))

    def set_theater(self, values):
        self.calls.append(("theater", values))

    def set_editor(self, layers, input_shape, select):
        self.calls.append(("editor", layers, input_shape, select))

    def set_training(self, values):
        self.calls.append(("training", values))

    def select_layer(self, index):
        self.calls.append(("select_layer", index))

    def set_controls(self, hidden, locked):
        self.calls.append(("controls", hidden, locked))
        return [n for n in hidden + locked if n in self.unknown]

    def of(self, kind):
        return [c for c in self.calls if c[0] == kind]


def test_the_player_model_imports_no_qt():
    assert qt_modules_loaded_by("gui.lessons.player_model", "gui.lessons.capabilities") == []


@pytest.mark.parametrize("lesson", all_lessons(), ids=lambda lesson: lesson.id)
def test_every_step_asks_the_panels_for_exactly_its_state(lesson):
    full = Capabilities(FEATURES)                   # a window that has every feature
    player = PlayerModel(lesson, full)
    for i, step in enumerate(lesson.steps):
        assert player.index == i
        applier = RecordingApplier(full)
        notes = player.play(applier)
        assert notes == []
        state = step.state
        if "tab" in state:
            assert applier.of("tab") == [("tab", state["tab"])]
            assert applier.calls[-1] == ("tab", state["tab"])        # the tab comes last: it shows the result
        if "theater" in state:
            (_, v), = applier.of("theater")
            spec = state["theater"].get("input", "lecture_6x6")
            if isinstance(spec, dict):
                assert v["input_dataset"] == {"split": "train", "index": 0, **spec}
            else:
                assert np.array_equal(INPUTS(v), theater_input(spec))
            assert v["stride"] == state["theater"].get("stride", 1)
            assert v["mode"] == state["theater"].get("mode", "cross_correlation")
            assert v["position"] == (tuple(state["theater"]["position"]) if "position" in state["theater"] else None)
        if "editor" in state:
            (_, layers, shape, select), = applier.of("editor")
            assert layers == editor_layers(state["editor"])
            assert shape == editor_input_shape(state["editor"])
            assert select == state.get("select_layer")
        if "select_layer" in state:
            assert applier.of("select_layer") == [("select_layer", state["select_layer"])]
        if "training" in state:
            assert applier.of("training") == [("training", state["training"])]
        (_, hidden, locked), = applier.of("controls")
        assert hidden == state.get("hidden", []) and locked == state.get("locked", [])
        if step.question is not None:
            q = step.question
            assert player.answer(q.answer if q.kind != "text" else q.answer[0]) == (True, None)
        if i < len(lesson.steps) - 1:
            assert player.next()
    assert player.finish() and player.progress.finished
    assert player.applied_steps == len(lesson.steps)


def INPUTS(v):  # noqa: N802 - the input the stage gets, as (C, H, W)
    from engine.theater import INPUT_GRIDS

    if "input_key" in v:
        return INPUT_GRIDS[v["input_key"]].array
    return v["input_grid"]


def test_theater_values_translate_padding_pooling_and_grids():
    v = theater_values({"input": [[1, 2, 3], [4, 5, 6], [7, 8, 9]], "kernel": [[1, 0], [0, 1]], "padding": 1,
                        "stride": 2, "position": [1, 0]})
    assert v["input_grid"].shape == (1, 3, 3) and v["kernel_grid"].shape == (2, 2)
    assert (v["padding"], v["pad"], v["stride"], v["position"]) == ("custom", 1, 2, (1, 0))
    v = theater_values({"input": "pool_4x4", "pooling": {"type": "average", "size": 2}, "stride": 2})
    assert (v["op"], v["pool_size"], v["input_key"], v["padding"], v["pad"]) == ("avg", 2, "pool_4x4", "valid", None)


def test_a_step_needing_a_missing_feature_gets_a_note_and_leaves_that_part_out():
    lesson = load_lesson("network-39")
    player = PlayerModel(lesson, Capabilities())
    step = lesson.steps[1]                       # 39x39x3 in the editor: needs the free input shape
    assert "free_input_shape" in step.needs
    player.progress.index = 1
    applier = RecordingApplier()
    notes = player.play(applier)
    assert notes == [("This step needs a free input shape in the architecture editor, which comes in a later "
                      "version of ConvScope.", {})]
    assert applier.of("editor") == [] and applier.of("select_layer") == []
    assert applier.of("tab") == [("tab", "editor")]
    # with the feature registered the same step is applied whole, without a note
    applier = RecordingApplier(Capabilities(["free_input_shape"]))
    player.capabilities = applier.capabilities
    assert player.play(applier) == [] and len(applier.of("editor")) == 1


def test_an_editor_input_that_is_not_the_datasets_implies_the_free_input_shape():
    lesson = load_lesson("pooling")
    index = next(i for i, s in enumerate(lesson.steps) if "editor" in s.state)
    step = lesson.steps[index]
    assert "free_input_shape" not in step.needs            # not declared: 4x4x1 differs from 28x28x1
    player = PlayerModel(lesson)
    assert player.needs(step, (1, 28, 28)) == ["free_input_shape"]
    assert player.needs(step, editor_input_shape(step.state["editor"])) == []


def test_a_backward_theater_needs_the_backward_mode():
    lesson = load_lesson("cross-correlation")
    step = next(s for s in lesson.steps if s.state.get("theater", {}).get("direction") == "backward")
    player = PlayerModel(lesson)
    assert player.missing(step) == ["backward_mode"]
    assert PlayerModel(lesson, Capabilities(["backward_mode"])).missing(step) == []


def test_unknown_controls_become_notes_not_errors():
    lesson = parse_lesson({"id": "t", "title": "t", "summary": "s", "source": {"note": "n", "section": ""},
                           "steps": [{"id": "a", "text": "가", "state": {"hidden": ["theater.nothing_here"]}}]})
    applier = RecordingApplier(unknown_controls=["theater.nothing_here"])
    notes = PlayerModel(lesson).play(applier)
    assert notes == [("This lesson names a control this version does not have: {name}.",
                      {"name": "theater.nothing_here"})]


def test_capabilities_know_only_the_lesson_features():
    caps = Capabilities()
    with pytest.raises(ValueError, match="unknown feature"):
        caps.register("time_travel")
    caps.register("backward_mode")
    assert caps.missing(["backward_mode", "run_comparison", "run_comparison"]) == ["run_comparison"]


def test_wrong_answer_gives_the_hint_and_next_waits_for_the_right_one():
    lesson = load_lesson("vertical-edge")
    player = PlayerModel(lesson)
    ok, hint = player.answer("7")
    assert not ok and hint == lesson.steps[0].question.hint
    assert not player.next() and player.index == 0
    assert player.answer(str(lesson.steps[0].question.answer)) == (True, None)
    assert player.next() and player.index == 1 and player.last_answer is None
    assert player.back() and player.index == 0 and player.answered


def test_resume_continues_at_the_saved_step_and_go_to_jumps():
    lesson = load_lesson("vertical-edge")
    player = PlayerModel(lesson)
    player.answer(lesson.steps[0].question.answer)
    player.next()
    saved = player.to_dict()
    again = PlayerModel(lesson)
    assert again.resume(saved) and again.index == 1
    assert not again.resume({"lesson": "padding", "step": "same"}) and again.index == 0
    assert again.go_to(lesson.steps[3].id) and again.index == 3
    assert isinstance(again.progress, LessonProgress)


def test_lessons_are_played_in_the_order_they_define():
    order = lesson_order()
    assert order[0] == "vertical-edge"
    assert sorted(order) == sorted(lesson.id for lesson in all_lessons())
