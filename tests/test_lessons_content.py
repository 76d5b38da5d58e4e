"""The shipped lessons: valid, Korean first, and every number in them is what the engine computes."""

from pathlib import Path

import numpy as np
import pytest

from gui.lessons import all_lessons, check_answer, lesson_names, load_lesson
from gui.lessons.derive import derive_answer
from gui.lessons.state import build_theater

SEEDS = ("000_c0739995c95c0ebf.txt", "001_5fac901302e4a144.txt", "002_09f67bbf615502a3.txt",
         "003_c1ed443a5d7f1daf.txt", "004_caa71c0b8572c896.txt")


def _fashion_dir():
    # $CONVSCOPE_TEST_DATA or ../shared/data (tests/conftest.py); a worktree nested one level deeper
    # finds the same folder two levels up
    from tests.conftest import ROOT, shared_data_dir

    for base in (shared_data_dir(), ROOT.parent.parent / "shared" / "data"):
        if base is not None and (base / "fashion-mnist").is_dir():
            return base / "fashion-mnist"
    return None


def _needs_data(step):
    inp = step.state.get("theater", {}).get("input")
    return isinstance(inp, dict)


LESSONS = all_lessons()
QUESTIONS = [(lesson.id, step) for lesson in LESSONS for step in lesson.steps
             if step.question is not None and step.question.derive is not None]


def test_at_least_ten_lessons_cover_the_issue_list():
    names = set(lesson_names())
    assert len(names) >= 10
    assert {"vertical-edge", "padding", "stride", "cross-correlation", "colour-volume", "parameters", "network-39",
            "pooling", "hongong-edges", "lenet5", "keras-mnist", "dropout-adam"} <= names


def test_every_lesson_loads_without_warnings_and_cites_a_seed_note():
    for lesson in LESSONS:
        assert lesson.warnings == ()
        assert lesson.source and all(s.note in SEEDS and s.section for s in lesson.source), lesson.id
        assert all(step.text.ko != step.text.en for step in lesson.steps), lesson.id


def test_every_number_question_is_recomputed_by_the_engine():
    numbers = [step for _, step in QUESTIONS if step.question.kind == "number"]
    assert len(numbers) >= 30
    # every number question of the shipped lessons carries a derivation
    all_numbers = [s for lesson in LESSONS for s in lesson.steps if s.question and s.question.kind == "number"]
    assert len(all_numbers) == len(numbers)


@pytest.mark.parametrize("lesson_id,step", QUESTIONS, ids=[f"{lid}:{s.id}" for lid, s in QUESTIONS])
def test_stored_answer_equals_the_engine(lesson_id, step):
    data_dir = None
    if _needs_data(step):
        data_dir = _fashion_dir()
        if data_dir is None:
            pytest.skip("Fashion-MNIST files not available")
    expected = derive_answer(step, data_dir)
    q = step.question
    if q.kind == "number":
        assert abs(float(q.answer) - float(expected)) <= q.tolerance + 1e-9, (lesson_id, step.id, expected)
    elif q.kind == "choice":
        assert q.answer == expected, (lesson_id, step.id, expected)
    else:
        assert check_answer(q, expected), (lesson_id, step.id, expected)


def test_the_one_dimensional_example_gives_the_notes_rows():
    lesson = load_lesson("cross-correlation")
    cross = build_theater(lesson.steps[0].state["theater"]).output()
    conv = build_theater(lesson.steps[2].state["theater"]).output()
    np.testing.assert_allclose(cross, [[1, -1, -2, 0, 3]])
    np.testing.assert_allclose(conv, [[-1, 1, 2, 0, -3]])


def test_the_vertical_edge_lesson_shows_0_30_30_0_and_its_mirror():
    lesson = load_lesson("vertical-edge")
    bright = build_theater(lesson.steps[lesson.step_index("bright-left")].state["theater"]).output()
    mirror = build_theater(lesson.steps[lesson.step_index("mirrored")].state["theater"]).output()
    np.testing.assert_allclose(bright, [[0, 30, 30, 0]] * 4)
    np.testing.assert_allclose(mirror, [[0, -30, -30, 0]] * 4)


def test_steps_that_need_a_missing_feature_say_so():
    needs = {lesson.id: {n for s in lesson.steps for n in s.needs} for lesson in LESSONS}
    assert "free_input_shape" in needs["colour-volume"] and "free_input_shape" in needs["network-39"]
    assert "run_comparison" in needs["dropout-adam"]
    # a step whose editor input is not the 28x28x1 of the datasets declares it
    for lesson in LESSONS:
        for step in lesson.steps:
            editor = step.state.get("editor")
            if editor and editor["input_shape"] != [28, 28, 1] and editor["input_shape"][2] != 1:
                assert "free_input_shape" in step.needs, (lesson.id, step.id)


def test_glossary_has_the_notes_terms_and_every_link_points_at_a_real_step_and_tab():
    import json

    from gui.lessons.vocabulary import tab_keys

    root = Path(__file__).resolve().parent.parent
    entries = json.loads((root / "resources" / "glossary.json").read_text(encoding="utf-8"))
    names = " ".join(e["en"] for e in entries).lower()
    for term in ("translation invariance", "feature hierarchy", "receptive field", "activation map", "bias",
                 "sigmoid", "overfitting", "flattening", "dot product", "canny", "mnist", "fashion-mnist"):
        assert term in names, term
    steps = {(lesson.id, step.id) for lesson in LESSONS for step in lesson.steps}
    linked = 0
    for e in entries:
        assert set(e) <= {"en", "ko", "text_en", "text_ko", "lesson", "panel"}, e["en"]
        assert e["text_ko"].strip() and e["text_en"].strip()
        if "lesson" in e:
            assert (e["lesson"]["id"], e["lesson"]["step"]) in steps, e["en"]
            linked += 1
        if "panel" in e:
            assert e["panel"] in tab_keys(), e["en"]
    assert linked >= len(entries) - 1
