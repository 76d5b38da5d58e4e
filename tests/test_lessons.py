"""Lesson files: loading, teaching errors that name the step and field, and the student's progress."""

import copy
import json
import sys

import pytest

from gui.lessons import LESSON_SUFFIX, LessonError, LessonProgress, load_lesson, normalise_text, parse_lesson
from gui.lessons.vocabulary import tab_keys


def _lesson(**step_state):
    return {
        "id": "padding",
        "title": {"ko": "패딩", "en": "Padding"},
        "summary": {"ko": "요약", "en": "Summary"},
        "source": {"note": "004_caa71c0b8572c896.txt", "section": "3. 패딩"},
        "steps": [
            {"id": "intro", "text": {"ko": "시작", "en": "Start"}},
            {"id": "valid", "text": {"ko": "유효", "en": "Valid"},
             "state": {"tab": "theater", "theater": {"input": "lecture_6x6", "kernel": "vertical_edge"}}},
            {"id": "same-output", "text": {"ko": "같은 크기", "en": "Same size"},
             "state": {"theater": {"input": "lecture_6x6", "kernel": "vertical_edge", "padding": "same",
                                   **step_state}},
             "question": {"kind": "number", "prompt": {"ko": "크기?", "en": "Size?"}, "answer": 6,
                          "hint": {"ko": "n + 2p - f + 1", "en": "n + 2p - f + 1"}}},
        ],
    }


def _error(data) -> LessonError:
    with pytest.raises(LessonError) as info:
        parse_lesson(data, "padding")
    return info.value


def test_a_bad_stride_names_the_lesson_step_and_field():
    err = _error(_lesson(stride=0))
    assert str(err) == "lesson 'padding', step 3 ('same-output'), field state.theater.stride: must be 1 or more, got 0"
    assert err.code == "lesson.too_small"
    assert err.values["step"] == 3 and err.values["step_id"] == "same-output"
    assert err.values["field"] == "state.theater.stride" and err.values["got"] == 0


def test_the_error_reads_in_korean_by_code_and_through_tr_error():
    from gui import i18n

    err = _error(_lesson(stride=0))
    ko = err.message("ko")
    assert ko == "레슨 'padding', 3단계 ('same-output'), 항목 state.theater.stride: 1 이상이어야 합니다. 받은 값: 0"
    i18n.catalog.cache_clear()
    i18n.set_language("ko")
    try:
        assert i18n.tr_error(err) == ko
    finally:
        i18n.set_language("en")


def test_a_typo_in_a_key_is_an_error_not_ignored():
    err = _error(_lesson(strid=2))
    assert err.code == "lesson.unknown_key" and err.values["key"] == "strid"
    assert "allowed keys: input, kernel" in str(err)


def test_unknown_names_are_refused_with_the_engines_catalogue():
    err = _error(_lesson(mode="flipped"))
    assert err.code == "lesson.bad_choice" and "cross_correlation, convolution" in str(err)
    data = _lesson()
    data["steps"][1]["state"]["tab"] = "kitchen"
    err = _error(data)
    assert "theater" in err.values["allowed"] and err.values["field"] == "state.tab"
    data = _lesson()
    data["steps"][1]["state"]["theater"]["kernel"] = "sobel_diagonal"
    assert "sobel_vertical" in _error(data).values["allowed"]


def test_a_kernel_that_does_not_fit_gets_the_engines_teaching_message():
    data = _lesson()
    data["steps"][1]["state"]["theater"]["kernel"] = [[1] * 7] * 7
    err = _error(data)
    assert err.code == "lesson.engine_refused" and "does not fit" in str(err)
    assert "step 2 ('valid')" in str(err)


def test_a_position_outside_the_output_is_refused():
    err = _error(_lesson(position=[6, 0]))   # same padding: 6x6 output, rows 0..5
    assert err.code == "lesson.too_large" and err.values["field"] == "state.theater.position[0]"


def test_grids_rows_of_one_and_three_channels_are_accepted_sixteen_is_the_limit():
    data = _lesson()
    data["steps"][1]["state"]["theater"] = {"input": [[1, 3, 2, 2, 0, 2, 3]], "kernel": [[1]]}
    parse_lesson(data, "padding")
    data["steps"][1]["state"]["theater"] = {"input": [[[1] * 4] * 4] * 3, "kernel": "vertical_edge"}
    parse_lesson(data, "padding")
    data["steps"][1]["state"]["theater"] = {"input": [[0] * 17] * 3, "kernel": "vertical_edge"}
    err = _error(data)
    assert str(err).endswith("a grid has at most 16 columns, got 17") and err.code == "lesson.grid_too_large"
    assert err.message("ko").endswith("격자의 열 수는 최대 16개입니다. 받은 개수: 17")
    data["steps"][1]["state"]["theater"] = {"input": [[1, 2], [3]], "kernel": [[1]]}
    assert "same length" in str(_error(data))


def test_an_editor_state_is_built_by_the_engine():
    data = _lesson()
    data["steps"][1]["state"] = {"editor": {"input_shape": [6, 6, 3], "layers": [
        {"class_name": "Conv2D", "config": {"filters": 2, "kernel_size": 7}}]}}
    err = _error(data)
    assert err.code == "lesson.engine_refused" and err.values["field"] == "state.editor.layers[0]"
    data["steps"][1]["state"]["editor"]["layers"] = [{"class_name": "Conv3D", "config": {}}]
    assert "unknown layer type" in str(_error(data))
    data["steps"][1]["state"]["editor"]["layers"] = "lenet5"
    data["steps"][1]["state"]["editor"]["input_shape"] = [28, 28, 1]
    data["steps"][1]["state"]["select_layer"] = 8
    assert _error(data).values["field"] == "state.select_layer"


def test_training_settings_come_from_the_engine_catalogues():
    data = _lesson()
    data["steps"][1]["state"] = {"training": {"dataset": "cifar10"}}
    assert "fashion_mnist" in _error(data).values["allowed"]
    data["steps"][1]["state"] = {"training": {"optimizer": "Adagrad"}}
    assert "RMSprop" in _error(data).values["allowed"]
    data["steps"][1]["state"] = {"training": {"dropout": 1.0}}
    assert _error(data).values["field"] == "state.training.dropout"


def test_missing_korean_is_an_error_missing_english_a_warning():
    data = _lesson()
    data["steps"][0]["text"] = {"en": "Start"}
    err = _error(data)
    assert err.code == "lesson.missing_korean" and err.values["field"] == "text"
    data["steps"][0]["text"] = {"ko": "시작"}
    lesson = parse_lesson(data, "padding")
    assert lesson.steps[0].text.en == "시작"
    assert lesson.warnings == ("lesson 'padding', step 1 ('intro'), field text: no English text; "
                               "the Korean text is shown instead",)


def test_duplicate_step_ids_and_unknown_needs_are_refused():
    data = _lesson()
    data["steps"][1]["id"] = "intro"
    assert _error(data).code == "lesson.duplicate_step"
    data = _lesson()
    data["steps"][1]["needs"] = ["time_travel"]
    assert "free_input_shape" in _error(data).values["allowed"]


def test_loading_by_name_and_by_path(tmp_path):
    lesson = load_lesson("padding")
    assert lesson.id == "padding" and lesson.path.name == "padding" + LESSON_SUFFIX
    copy_path = tmp_path / ("my-padding" + LESSON_SUFFIX)
    data = json.loads(lesson.path.read_text(encoding="utf-8"))
    data["steps"][0]["state"]["editor"]["layers"][0]["config"]["kernel_size"] = 5
    copy_path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert load_lesson(copy_path).steps[0].state["editor"]["layers"][0]["config"]["kernel_size"] == 5
    with pytest.raises(LessonError) as info:
        load_lesson("no-such-lesson")
    assert info.value.code == "lesson.file_missing" and "padding" in info.value.values["known"]
    bad = tmp_path / ("broken" + LESSON_SUFFIX)
    bad.write_text('{"id": "x",,}', encoding="utf-8")
    with pytest.raises(LessonError) as info:
        load_lesson(bad)
    assert info.value.code == "lesson.bad_json" and info.value.values["line"] == 1
    other = tmp_path / "lesson.json"
    other.write_text("{}", encoding="utf-8")
    with pytest.raises(LessonError) as info:
        load_lesson(other)
    assert info.value.code == "lesson.bad_suffix"


def test_tab_keys_are_the_main_windows_tabs():
    assert {"theater", "editor", "evaluation", "feature_maps", "filters", "classify"} <= set(tab_keys())


def test_lesson_modules_import_no_qt():
    import subprocess

    code = ("import sys, gui.lessons, gui.lessons.derive; "
            "bad = [m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph', 'shiboken'))]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# -- progress ------------------------------------------------------------------------------------
def _progress():
    return LessonProgress(parse_lesson(_lesson(), "padding"))


def test_next_does_not_pass_an_unanswered_question():
    p = _progress()
    assert p.next() and p.next() and p.step.id == "same-output"
    assert not p.can_go_next and not p.finish()
    ok, hint = p.answer("5")
    assert not ok and hint.en == "n + 2p - f + 1" and hint.ko == "n + 2p - f + 1"
    assert p.answer(6) == (True, None)
    assert p.finish() and p.finished and p.fraction == 1.0
    assert p.attempts() == 2


def test_back_and_resume_where_the_student_left():
    p = _progress()
    p.next()
    p.next()
    p.answer(6)
    p.back()
    saved = json.loads(json.dumps(p.to_dict()))
    assert saved == {"lesson": "padding", "step": "valid", "answers": {"same-output": [6]},
                     "completed": ["intro", "valid", "same-output"]}
    again = LessonProgress.from_dict(p.lesson, saved)
    assert again.step.id == "valid" and again.completed == {"intro", "valid", "same-output"}
    assert again.next() and again.step.id == "same-output" and again.can_go_back


def test_resume_never_skips_an_unanswered_question_and_strict_refuses_unknown_steps():
    lesson = parse_lesson(_lesson(), "padding")
    fresh = copy.deepcopy(_lesson())
    fresh["steps"].append({"id": "after", "text": {"ko": "다음"}})
    longer = parse_lesson(fresh, "padding")
    p = LessonProgress.from_dict(longer, {"lesson": "padding", "step": "after", "completed": ["intro", "valid"]})
    assert p.step.id == "same-output"
    with pytest.raises(LessonError) as info:
        LessonProgress.from_dict(lesson, {"lesson": "padding", "step": "gone"}, strict=True)
    assert info.value.code == "lesson.bad_progress"
    assert LessonProgress.from_dict(lesson, {"lesson": "stride"}).index == 0


@pytest.mark.parametrize("given,expected", [
    ("4 × 4 × 2", "4x4x2"), ("(4, 4, 2)", "4x4x2"), ("4*4*2", "4x4x2"), ("  Cross-Correlation ", "cross-correlation"),
    ("교차상관.", "교차상관"), ("ＲｅＬＵ", "relu"),
])
def test_text_answers_are_normalised(given, expected):
    assert normalise_text(given) == expected


def test_number_choice_and_text_answers():
    lesson = load_lesson("pooling")
    p = LessonProgress(lesson)
    assert p.answer("8")[0] is False and p.answer("9")[0] is True
    p.next()
    assert p.answer(2) == (True, None)
    p.next()
    assert p.answer(3.7)[0] is False and p.answer("3.7505")[0] is True   # tolerance 0.001
    p.next()
    assert p.answer("average")[0] is False and p.answer(0)[0] is True     # a choice by index
    colour = LessonProgress(load_lesson("colour-volume"))
    assert colour.answer(5)[0] and colour.next() and colour.answer("30")[0] and colour.next()
    assert colour.answer("4 x 4 x 2") == (True, None)


def test_every_lesson_survives_writing_and_reading_back(tmp_path):
    from dataclasses import replace

    from gui.lessons import all_lessons, save_lesson

    for lesson in all_lessons():
        path = save_lesson(lesson, tmp_path / lesson.id)
        assert path.name == lesson.id + LESSON_SUFFIX
        assert replace(load_lesson(path), path=None) == replace(lesson, path=None)
    # a teacher reads grids row by row: a row of numbers stays on one line
    text = (tmp_path / ("cross-correlation" + LESSON_SUFFIX)).read_text(encoding="utf-8")
    assert "\n            [1, 3, 2, 2, 0, 2, 3],\n" in text


def test_the_current_setup_becomes_a_step_that_loads_again(tmp_path):
    from dataclasses import replace

    from gui.lessons import new_step, save_lesson

    state = {"tab": "theater", "theater": {"input": "pool_4x4", "pooling": {"type": "max", "size": 2}, "stride": 2}}
    step = new_step("my-pooling", {"ko": "최대 풀링", "en": "Max pooling"}, state)
    lesson = load_lesson("pooling")
    extended = replace(lesson, steps=lesson.steps + (step,))
    again = load_lesson(save_lesson(extended, tmp_path / "pooling-copy.json"))
    assert again.steps[-1].state == state and again.steps[-1].text.en == "Max pooling"
    with pytest.raises(LessonError) as info:
        new_step("bad", "잘못", {"theater": {"input": "pool_4x4", "kernel": "vertical_edge", "stride": 0}})
    assert info.value.values["field"] == "state.theater.stride"


def test_the_format_page_names_every_value_the_engine_allows():
    from pathlib import Path

    from gui.lessons import derive, state, vocabulary

    page = (Path(__file__).resolve().parent.parent / "resources" / "lessons" / "README.md").read_text(encoding="utf-8")
    names = (list(vocabulary.kernel_names()) + list(vocabulary.input_names()) + list(vocabulary.preset_names())
             + list(vocabulary.layer_class_names()) + list(vocabulary.dataset_names())
             + list(vocabulary.optimizer_names()) + list(vocabulary.tab_keys()) + list(vocabulary.NEEDS)
             + list(derive.DERIVATIONS) + list(state.STATE_KEYS) + list(state.THEATER_KEYS)
             + list(state.EDITOR_KEYS) + list(state.TRAINING_KEYS) + list(vocabulary.CONTROL_PANELS))
    missing = [n for n in names if f"`{n}`" not in page and f'"{n}"' not in page]
    assert missing == []


def test_every_lesson_error_code_and_place_has_korean():
    from gui.lessons.errors import MESSAGES, WHERE, _plain, korean_templates

    ko = korean_templates()
    missing = [t for t in list(MESSAGES.values()) + list(WHERE.values())
               if _plain(t) not in ko and _plain(t) not in ("{reason}",)]
    assert missing == []
    for code, template in MESSAGES.items():
        if _plain(template) in ko:
            assert any("\uac00" <= ch <= "\ud7a3" for ch in ko[_plain(template)]), code
