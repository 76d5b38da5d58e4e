"""The lesson player in the window: every step of every lesson sets the real panels; answers through
the panel; resume; saving the current setup as a step; broken files become messages; the code view."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from PySide6.QtCore import QSettings

from gui.lessons import all_lessons, load_lesson
from gui.lessons.state import editor_input_shape, editor_layers, theater_input
from tests.conftest import shared_data_dir

TIMEOUT = 60000
LESSONS = all_lessons()


@pytest.fixture
def player(window, tmp_path):
    """The window's Lesson panel with its own progress store."""
    panel = window.lesson_player
    panel._settings = QSettings(str(tmp_path / "progress.ini"), QSettings.Format.IniFormat)
    return panel


def _clean(configs):
    from gui.editor.draft import clean_config

    return [clean_config(c) for c in configs]


def _check_theater(window, state):
    stage, sources = window.theater_panel.stage, window.theater_panel.sources
    assert stage.theater is not None, stage.error
    spec = state.get("input", "lecture_6x6")
    expected = theater_input(spec, shared_data_dir()) if isinstance(spec, dict) else theater_input(spec)
    assert np.allclose(stage.input, expected)
    pooling = state.get("pooling", "none")
    op = "conv" if not isinstance(pooling, dict) or pooling["type"] == "none" else \
        ("max" if pooling["type"] == "max" else "avg")
    assert stage.op == op
    assert stage.stride == state.get("stride", 1)
    padding = state.get("padding", "valid")
    assert (stage.padding, stage.pad if stage.padding == "custom" else None) == \
        ((padding, None) if isinstance(padding, str) else ("custom", padding))
    if op == "conv":
        assert stage.mode == state.get("mode", "cross_correlation")
        assert stage.relu == state.get("relu", False) and stage.bias == state.get("bias", 0.0)
        kernel = state["kernel"]
        if isinstance(kernel, str):
            assert sources.preset_key == kernel
        else:
            typed = np.array(kernel, dtype=float)
            assert np.allclose(sources.edited_kernel, typed.reshape(sources.edited_kernel.shape))
    else:
        assert stage.pool_size == pooling.get("size", 2)
    position = tuple(state.get("position", (0, 0)))
    assert stage.theater.position(stage.position) == position
    assert window.theater_panel.direction == state.get("direction", "forward")


def _dataset_available(name):
    return name == "shapes" or shared_data_dir() is not None


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.id)
def test_every_step_of_the_lesson_sets_the_real_panels(qtbot, window, player, lesson, monkeypatch):
    if shared_data_dir() is not None:
        monkeypatch.setenv("CONVSCOPE_DATA_DIR", str(shared_data_dir()))
    if any(isinstance(s.state.get("theater", {}).get("input"), dict) for s in lesson.steps) \
            and shared_data_dir() is None:
        pytest.skip("the lesson's pictures are MNIST/Fashion-MNIST images (set CONVSCOPE_TEST_DATA)")
    applier = window.lesson_applier
    c = window.controller
    assert player.open_lesson(lesson.id)
    for i, step in enumerate(lesson.steps):
        assert player.player.index == i
        state = step.state
        training = state.get("training", {})
        if training.get("dataset") and c.dataset.name != training["dataset"]:
            if not _dataset_available(training["dataset"]):
                pytest.skip("MNIST/Fashion-MNIST are not on this computer (set CONVSCOPE_TEST_DATA)")
            qtbot.waitUntil(lambda: not applier.waiting_for_dataset, timeout=TIMEOUT)
            assert c.dataset.name == training["dataset"]
        missing = player.player.missing(step, applier.dataset_shape())
        if "tab" in state:
            assert window.current_tab_key() == state["tab"]
        if "theater" in state:
            _check_theater(window, state["theater"])
        draft = window.architecture_editor.draft
        if "editor" in state and "free_input_shape" not in missing:
            assert draft.layer_configs() == _clean(editor_layers(state["editor"]))
            assert draft.input_shape == editor_input_shape(state["editor"])
        if "select_layer" in state and "free_input_shape" not in missing:
            assert draft.selected == state["select_layer"]
        if training:
            if "preset" in training:
                assert c.preset_name == training["preset"]
            for key in ("learning_rate", "batch_size", "epochs", "seed"):
                if key in training:
                    assert c.options[key] == training[key]
            if "optimizer" in training:
                assert c.options["optimizer"] == training["optimizer"].lower()
            if "dropout" in training:
                rates = [layer.rate for layer in c.model.layers if type(layer).__name__ == "Dropout"]
                assert rates and all(r == training["dropout"] for r in rates)
        for name in state.get("hidden", []):
            assert all(w.isHidden() for w in applier.registry[name])
        for name in state.get("locked", []):
            assert not any(w.isEnabled() for w in applier.registry[name])
        shown = player.notes.text()
        assert player.notes.isVisible() == bool(missing)
        if "free_input_shape" in missing:
            assert "free input shape" in shown
        if step.question is not None:
            assert not player.next_button.isEnabled()
            q = step.question
            ok, _ = player.answer(q.answer if q.kind != "text" else q.answer[0])
            assert ok and player.feedback.text() == "Right!"
        assert player.next_button.isEnabled()
        player.next_button.click()
    assert player.player.progress.finished
    assert window.message_bar.isHidden(), window.message_bar.label.text()


def test_a_wrong_answer_shows_the_hint_and_keeps_the_student_on_the_step(window, player):
    player.open_lesson("vertical-edge")
    lesson = player.player.lesson
    player.answer("12345")
    assert player.feedback.text() == "Not quite. Hint: " + lesson.steps[0].question.hint.en
    player.next_button.click()
    assert player.player.index == 0
    player.answer_edit.setText("-5")
    player.check_button.click()
    assert player.feedback.text() == "Right!" and player.next_button.isEnabled()


def test_a_choice_question_is_answered_by_clicking_a_choice(window, player):
    lesson = load_lesson("vertical-edge")
    index = next(i for i, s in enumerate(lesson.steps) if s.question and s.question.kind == "choice")
    player.open_lesson("vertical-edge", lesson.steps[index].id)
    q = lesson.steps[index].question
    wrong = next(i for i, c in enumerate(q.choices) if c.id != q.answer)
    player.choice_buttons[wrong].setChecked(True)
    assert player.check() == (False, q.hint)
    right = [c.id for c in q.choices].index(q.answer)
    player.choice_buttons[right].setChecked(True)
    player.check_button.click()
    assert player.feedback.text() == "Right!"


def test_the_lesson_resumes_where_the_student_left(window, player, tmp_path):
    player.open_lesson("padding")
    lesson = player.player.lesson
    player.answer(lesson.steps[0].question.answer)
    player.next_button.click()
    assert player.player.index == 1
    from gui.lessons.player_panel import LessonPlayerPanel

    again = LessonPlayerPanel(window.lesson_applier, settings=player.settings)
    assert again.open_lesson("padding")
    assert again.player.index == 1 and "continuing at step 2 of" in again.resume_label.text()
    again.restart()
    assert again.player.index == 0 and not again.player.progress.completed
    again.deleteLater()


def test_save_current_setup_as_a_step_round_trips(window, player, tmp_path):
    player.open_lesson("stride")
    stride_step = load_lesson("stride").steps[1]
    player.open_lesson("stride", stride_step.id)
    window.theater_panel.stage.seek(1)
    path = tmp_path / "mine.convscope-lesson.json"
    written = player.save_current_step(path, "내가 만든 단계")
    assert written == path
    saved = load_lesson(path)
    assert saved.id == "mine" and len(saved.steps) == 1 and saved.steps[0].text.ko == "내가 만든 단계"
    state = saved.steps[0].state
    assert state["tab"] == "theater" and state["theater"]["stride"] == 2
    assert state["theater"]["position"] == [0, 1]
    assert player.save_current_step(path, "둘째") == path               # appended to the same file
    assert [s.id for s in load_lesson(path).steps] == ["step-1", "step-2"]
    # playing the saved step puts the same setup back
    window.theater_panel.stage.update(stride=1)
    assert player.open_lesson(str(path), "step-1")
    _check_theater(window, state["theater"])


BROKEN = {
    "unknown panel": ({"state": {"theater_x": {}}}, "unknown key 'theater_x'"),
    "bad value": ({"state": {"theater": {"input": "lecture_6x6", "kernel": "vertical_edge", "stride": 0}}},
                  "field state.theater.stride: must be 1 or more, got 0"),
    "missing Korean": ({"text": {"en": "only English"}}, "field text: the Korean text ('ko') is missing"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_lesson_file_becomes_a_message_naming_step_and_field(window, player, tmp_path, case):
    change, expected = BROKEN[case]
    step = {"id": "first", "text": {"ko": "가", "en": "a"}, **change}
    data = {"id": "broken", "title": "깨진 수업", "summary": "요약", "source": {"note": "n", "section": "s"},
            "steps": [step]}
    path = tmp_path / "broken.convscope-lesson.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert not window.open_lesson(path)
    text = window.message_bar.label.text()
    assert "lesson 'broken', step 1 ('first')" in text and expected in text


def test_a_broken_file_reads_in_korean_too(window, player, tmp_path):
    from gui import i18n

    path = tmp_path / "bad.convscope-lesson.json"
    path.write_text("{not json", encoding="utf-8")
    i18n.set_language("ko")
    try:
        assert not window.open_lesson(path)
    finally:
        i18n.set_language("en")
    text = window.message_bar.label.text()
    assert "bad" in text and "JSON" in text and "줄" in text


def test_a_lesson_file_from_outside_opens_in_the_player(window, player, tmp_path):
    src = load_lesson("pooling").path
    copy = tmp_path / "my-pooling.convscope-lesson.json"
    copy.write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
    window.open_paths([str(copy)])
    assert player.player is not None and player.player.lesson.path == copy
    assert window.current_tab_key() == "theater" and window.theater_panel.stage.op == "max"


def test_the_glossary_shows_me_the_lesson_step(qtbot, window, player):
    from gui.lessons.glossary_dialog import GlossaryDialog

    dialog = GlossaryDialog(window, show_me=window.show_me)
    qtbot.addWidget(dialog)
    row = next(i for i, e in enumerate(dialog.entries) if e.get("lesson"))
    entry = dialog.entries[row]
    dialog.terms.setCurrentRow(row)
    dialog.show_me_button.click()
    assert player.player.lesson.id == entry["lesson"]["id"]
    assert player.player.step.id == entry["lesson"]["step"]


def test_hidden_and_locked_controls_come_back_on_the_next_step(window, player, tmp_path):
    data = {"id": "controls", "title": "컨트롤", "summary": "요약", "source": {"note": "n", "section": ""},
            "steps": [{"id": "a", "text": "가", "state": {"hidden": ["theater.kernel"], "locked": ["theater.stride"]}},
                      {"id": "b", "text": "나"}]}
    path = tmp_path / "controls.convscope-lesson.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert window.open_lesson(path)
    reg = window.lesson_applier.registry
    assert reg["theater.kernel"][0].isHidden() and not reg["theater.stride"][0].isEnabled()
    assert reg["theater.stride"][0].objectName() == "theater.stride"
    player.next_button.click()
    assert not reg["theater.kernel"][0].isHidden() and reg["theater.stride"][0].isEnabled()


def test_the_code_view_shows_keras_and_pytorch_and_exports(qtbot, window, tmp_path):
    dialog = window.show_code()                # deletes itself on close
    assert "keras.Sequential(" in dialog.source("keras")
    assert "nn.Sequential(" in dialog.source("pytorch")
    dialog.tabs.setCurrentIndex(1)
    py = dialog.save(tmp_path / "model")
    assert py.name == "model.py" and "import torch" in py.read_text(encoding="utf-8")
    compile(py.read_text(encoding="utf-8"), str(py), "exec")
    weights = dialog.export(tmp_path / "w.npz")
    with np.load(weights) as z:
        model = window.controller.current_model_copy()
        assert len(z.files) == sum(len(layer.params) for layer in model.layers)
    dialog.copy()
    from PySide6.QtGui import QGuiApplication

    assert QGuiApplication.clipboard().text() == dialog.source("pytorch")
    dialog.close()


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_every_lesson_opens_from_the_command_line_options(qtbot, warm_kernels, tmp_path, lang, monkeypatch):
    """What ``--lesson NAME --screenshot`` does, in this process for every lesson (a subprocess test
    below runs the real command for two)."""
    import argparse

    from gui import i18n
    from gui.main_window import MainWindow

    if shared_data_dir() is not None:
        monkeypatch.setenv("CONVSCOPE_DATA_DIR", str(shared_data_dir()))
    i18n.set_language(lang)
    try:
        for lesson in LESSONS:
            opts = argparse.Namespace(dataset=None, model=None, data_dir=None, train=False, tab=None, classify=None,
                                      paths=[], lesson=lesson.id)
            w = MainWindow(options=opts, restore_layout=False)
            qtbot.addWidget(w)
            w.show()
            qtbot.waitUntil(lambda w=w: w._lesson_panel is not None and w.lesson_player.player is not None,
                            timeout=TIMEOUT)
            player = w.lesson_player
            assert player.title.text() == lesson.title.get(lang)
            assert player.text.toPlainText().strip() == player.player.step.text.get(lang)
            if lesson.steps[0].state.get("tab"):
                assert w.current_tab_key() == lesson.steps[0].state["tab"]
            assert w.save_screenshot(tmp_path / f"{lesson.id}-{lang}.png")
            assert w.stop_training()
            w.close()
    finally:
        i18n.set_language("en")


@pytest.mark.parametrize("name", ["parameters", "lenet5"])
def test_lesson_flag_and_screenshot_in_a_fresh_process(tmp_path, name):
    import subprocess
    import sys

    from tests.conftest import ROOT

    out = tmp_path / f"{name}.png"
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run([sys.executable, str(ROOT / "main.py"), "--lesson", name, "--lang", "ko",
                             "--screenshot", str(out), "--screenshot-delay", "1"],
                            capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert out.is_file() and out.stat().st_size > 10000
    assert "Traceback" not in result.stderr
