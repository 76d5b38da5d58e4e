"""The lesson player: a side panel that walks through a lesson step by step.

A thin view over :class:`~gui.lessons.player_model.PlayerModel`: the step's text (Korean or English
by the interface language), step n/N, Back/Next, the question with Check and a hint on a wrong
answer, notes for features the window does not have yet, the lesson picker and Open lesson file...,
and for teachers "Save current setup as a lesson step...". Progress is kept in QSettings per lesson
id, so a lesson opens again where the student left it.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from gui.i18n import language, tr, tr_error
from gui.lessons.errors import LessonError
from gui.lessons.player_model import PlayerModel, lesson_order
from gui.lessons.schema import LESSON_SUFFIX, LESSONS_DIR, Lesson, Source, Text, load_lesson, new_step, save_lesson

PROGRESS_KEY = "lessons/progress/{}"
LAST_LESSON_KEY = "lessons/last"


def source_text(lesson: Lesson) -> str:
    """``note §section`` of each seed source, for the picker and the title."""
    return "; ".join(f"{s.title or s.note} — {s.section}" if s.section else (s.title or s.note)
                     for s in lesson.source)


class LessonPlayerPanel(QWidget):
    """``LessonPlayerPanel(applier, settings=None)``; :meth:`open_lesson` starts or resumes a lesson."""

    lesson_opened = Signal(str)
    step_shown = Signal(int)
    failed = Signal(str)                 # a translated message (the window's message bar shows it)

    def __init__(self, applier, settings: QSettings | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("lesson_player")
        self.applier = applier
        self._settings = settings
        self.player: PlayerModel | None = None
        self.lessons: dict[str, Lesson] = {}
        self._build()
        self._fill_picker()
        self._show_nothing()

    @property
    def settings(self) -> QSettings:
        return self._settings if self._settings is not None else QSettings()

    # -- widgets --------------------------------------------------------------------------------------
    def _build(self) -> None:
        root = QVBoxLayout(self)
        root.setContentsMargins(8, 6, 8, 6)
        pick = QHBoxLayout()
        self.picker = QComboBox()
        self.picker.setObjectName("lesson_picker")
        self.picker.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.picker.setMinimumContentsLength(14)
        self.picker.activated.connect(self._on_picked)
        self.open_button = QPushButton(tr("Open file..."))
        self.open_button.setToolTip(tr("Open a lesson file (.convscope-lesson.json), e.g. one a teacher shared."))
        self.open_button.clicked.connect(self.open_file_dialog)
        pick.addWidget(self.picker, 1)
        pick.addWidget(self.open_button)
        root.addLayout(pick)

        self.title = QLabel()
        self.title.setWordWrap(True)
        self.title.setStyleSheet("font-size: 15pt; font-weight: bold;")
        self.source = QLabel()
        self.source.setWordWrap(True)
        self.source.setStyleSheet("color: #666;")
        self.progress_bar = QProgressBar()
        self.progress_bar.setTextVisible(True)
        self.resume_label = QLabel()
        self.resume_label.setStyleSheet("color: #2a6f2a;")
        self.resume_label.setWordWrap(True)
        self.text = QTextBrowser()
        self.text.setOpenExternalLinks(True)
        self.text.setMinimumHeight(140)
        self.notes = QLabel()
        self.notes.setObjectName("lesson_notes")
        self.notes.setWordWrap(True)
        self.notes.setStyleSheet("background: #fff4d6; color: #6b4a00; padding: 6px; border-radius: 4px;")
        for w in (self.title, self.source, self.progress_bar, self.resume_label):
            root.addWidget(w)
        root.addWidget(self.text, 1)
        root.addWidget(self.notes)

        self.question_box = QGroupBox(tr("Question"))
        q = QVBoxLayout(self.question_box)
        self.prompt = QLabel()
        self.prompt.setWordWrap(True)
        self.prompt.setStyleSheet("font-size: 12pt;")
        q.addWidget(self.prompt)
        self.answer_edit = QLineEdit()
        self.answer_edit.setObjectName("lesson_answer")
        self.answer_edit.returnPressed.connect(self.check)
        q.addWidget(self.answer_edit)
        self.choice_box = QWidget()
        self.choice_layout = QVBoxLayout(self.choice_box)
        self.choice_layout.setContentsMargins(0, 0, 0, 0)
        self.choice_group = QButtonGroup(self)
        self.choice_buttons: list[QRadioButton] = []
        q.addWidget(self.choice_box)
        row = QHBoxLayout()
        self.check_button = QPushButton(tr("Check"))
        self.check_button.setObjectName("lesson_check")
        self.check_button.clicked.connect(self.check)
        row.addWidget(self.check_button)
        row.addStretch(1)
        q.addLayout(row)
        self.feedback = QLabel()
        self.feedback.setWordWrap(True)
        q.addWidget(self.feedback)
        root.addWidget(self.question_box)

        nav = QHBoxLayout()
        self.back_button = QPushButton(tr("◀ Back"))
        self.back_button.clicked.connect(self.go_back)
        self.next_button = QPushButton(tr("Next ▶"))
        self.next_button.setObjectName("lesson_next")
        self.next_button.clicked.connect(self.go_next)
        self.restart_button = QPushButton(tr("Start over"))
        self.restart_button.setToolTip(tr("Forget the answers of this lesson and begin at its first step."))
        self.restart_button.clicked.connect(self.restart)
        nav.addWidget(self.back_button)
        nav.addWidget(self.next_button, 1)
        nav.addWidget(self.restart_button)
        root.addLayout(nav)
        self.save_step_button = QPushButton(tr("Save current setup as a lesson step..."))
        self.save_step_button.setToolTip(tr("For teachers: write how the panels are set now as a new step at the "
                                            "end of a lesson file (a new file makes a new lesson)."))
        self.save_step_button.clicked.connect(self.save_step_dialog)
        root.addWidget(self.save_step_button)

    def _fill_picker(self) -> None:
        self.picker.clear()
        self.picker.addItem(tr("Choose a lesson..."), None)
        for name in lesson_order():
            try:
                lesson = load_lesson(name)
            except LessonError as exc:          # a broken shipped file: named, the others still listed
                self.failed.emit(tr_error(exc))
                continue
            self.lessons[name] = lesson
            self.picker.addItem(lesson.title.get(language()), name)
            self.picker.setItemData(self.picker.count() - 1,
                                    f"{lesson.summary.get(language())}\n{tr('Source:')} {source_text(lesson)}",
                                    Qt.ItemDataRole.ToolTipRole)

    # -- opening -------------------------------------------------------------------------------------------
    def _on_picked(self, index: int) -> None:
        name = self.picker.itemData(index)
        if name:
            self.open_lesson(name)

    def open_file_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, tr("Open a lesson"), "",
                                              tr("ConvScope lessons (*{})").format(LESSON_SUFFIX))
        if path:
            self.open_lesson(path)

    def open_lesson(self, name_or_path, step_id: str | None = None) -> bool:
        """Open a lesson by name or file, resume the saved progress (or go to ``step_id``) and apply the
        step; a broken file becomes a message (``failed``), never an exception."""
        try:
            lesson = load_lesson(name_or_path)
        except LessonError as exc:
            self.failed.emit(tr_error(exc))
            return False
        self.player = PlayerModel(lesson, self.applier.capabilities)
        resumed = False
        saved = self._saved_progress(lesson.id)
        if saved is not None:
            resumed = self.player.resume(saved) and self.player.index > 0
        if step_id is not None:
            try:
                self.player.go_to(step_id)
            except KeyError:
                self.failed.emit(tr("The lesson {} has no step {}.").format(lesson.id, step_id))
            resumed = False
        self.resume_label.setText(tr("Welcome back: continuing at step {} of {}.").format(
            self.player.index + 1, self.player.total) if resumed else "")
        self.resume_label.setVisible(resumed)
        shipped = lesson.path is not None and lesson.path.parent == LESSONS_DIR
        self.picker.setCurrentIndex(max(self.picker.findData(lesson.id), 0) if shipped else 0)
        self.settings.setValue(LAST_LESSON_KEY, str(name_or_path))
        self.lesson_opened.emit(lesson.id)
        self.play()
        return True

    def _saved_progress(self, lesson_id: str) -> dict | None:
        raw = self.settings.value(PROGRESS_KEY.format(lesson_id))
        if not raw:
            return None
        try:
            data = json.loads(str(raw))
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def _save_progress(self) -> None:
        if self.player is not None:
            self.settings.setValue(PROGRESS_KEY.format(self.player.lesson.id), json.dumps(self.player.to_dict()))

    # -- moving ---------------------------------------------------------------------------------------
    def play(self) -> None:
        """Apply the current step to the panels and show it."""
        if self.player is None:
            return
        self.player.play(self.applier)
        for problem in self.player.problems:
            self.failed.emit(problem)
        self._save_progress()
        self.refresh()
        self.step_shown.emit(self.player.index)

    def go_next(self) -> None:
        p = self.player
        if p is None:
            return
        if p.index == p.total - 1:
            if p.finish():
                self._save_progress()
                self.refresh()
                self.resume_label.setText(tr("Lesson finished. Well done!"))
                self.resume_label.show()
            return
        if p.next():
            self.resume_label.hide()
            self.play()

    def go_back(self) -> None:
        if self.player is not None and self.player.back():
            self.resume_label.hide()
            self.play()

    def restart(self) -> None:
        if self.player is None:
            return
        self.settings.remove(PROGRESS_KEY.format(self.player.lesson.id))
        self.player.resume({})
        self.resume_label.hide()
        self.play()

    def check(self) -> tuple[bool, Text | None] | None:
        """Check the typed or chosen answer; a wrong one shows the hint."""
        p = self.player
        if p is None or p.step.question is None:
            return None
        q = p.step.question
        if q.kind == "choice":
            chosen = self.choice_group.checkedId()
            if chosen < 0:
                self.feedback.setText(tr("Choose one of the answers first."))
                return None
            value = q.choices[chosen].id
        else:
            value = self.answer_edit.text().strip()
            if not value:
                self.feedback.setText(tr("Type your answer first."))
                return None
        result = p.answer(value)
        self._save_progress()
        self.refresh()
        return result

    def answer(self, value) -> tuple[bool, Text | None] | None:
        """Type ``value`` (or pick the choice with that id) and press Check, as a student does."""
        p = self.player
        if p is None or p.step.question is None:
            return None
        q = p.step.question
        if q.kind == "choice":
            ids = [c.id for c in q.choices]
            index = ids.index(value) if value in ids else int(value)
            self.choice_buttons[index].setChecked(True)
        else:
            self.answer_edit.setText(str(value))
        return self.check()

    # -- showing --------------------------------------------------------------------------------------
    def _show_nothing(self) -> None:
        self.title.setText(tr("Lessons"))
        self.source.setText("")
        self.text.setHtml("<p>" + html.escape(tr("Choose a lesson above: each one walks through one idea of the "
                                                 "course notes, step by step, and sets the panels for you."))
                          + "</p>")
        self.progress_bar.hide()
        self.resume_label.hide()
        self.notes.hide()
        self.question_box.hide()
        for b in (self.back_button, self.next_button, self.restart_button):
            b.setEnabled(False)

    def refresh(self) -> None:
        p = self.player
        if p is None:
            self._show_nothing()
            return
        lang = language()
        lesson, step = p.lesson, p.step
        self.title.setText(lesson.title.get(lang))
        self.source.setText(tr("Source:") + " " + source_text(lesson))
        self.progress_bar.show()
        self.progress_bar.setRange(0, p.total)
        self.progress_bar.setValue(p.index + 1)
        self.progress_bar.setFormat(tr("Step {} of {}").format(p.index + 1, p.total))
        body = html.escape(step.text.get(lang)).replace("\n", "<br>")
        self.text.setHtml(f"<p style='font-size:13pt; line-height:140%'>{body}</p>")
        notes = [tr(template).format(**values) for template, values in p.notes]
        self.notes.setText("\n".join(notes))
        self.notes.setVisible(bool(notes))
        self._show_question(step)
        self.back_button.setEnabled(p.index > 0)
        last = p.index == p.total - 1
        self.next_button.setText(tr("Finish") if last else tr("Next ▶"))
        self.next_button.setEnabled(p.answered)
        self.restart_button.setEnabled(True)

    def _show_question(self, step) -> None:
        q = step.question
        self.question_box.setVisible(q is not None)
        if q is None:
            return
        lang = language()
        p = self.player
        if self.question_box.property("step") != (p.lesson.id, step.id):
            self.question_box.setProperty("step", (p.lesson.id, step.id))
            self.prompt.setText(q.prompt.get(lang))
            self.answer_edit.clear()
            for b in self.choice_buttons:
                self.choice_group.removeButton(b)
                b.deleteLater()
            self.choice_buttons = []
            for i, c in enumerate(q.choices):
                b = QRadioButton(c.text.get(lang))
                self.choice_group.addButton(b, i)
                self.choice_layout.addWidget(b)
                self.choice_buttons.append(b)
            self.feedback.setText("")
        self.answer_edit.setVisible(q.kind != "choice")
        self.answer_edit.setPlaceholderText(tr("a number") if q.kind == "number" else tr("your answer"))
        self.choice_box.setVisible(q.kind == "choice")
        done = step.id in p.progress.completed
        if p.last_answer is not None:
            ok, hint = p.last_answer
            if ok:
                self._feedback(tr("Right!"), "#1d6b1d")
            else:
                self._feedback(tr("Not quite. Hint: {}").format(hint.get(lang) if hint else ""), "#a33b00")
        elif done:
            self._feedback(tr("Answered."), "#1d6b1d")

    def _feedback(self, text: str, colour: str) -> None:
        self.feedback.setText(text)
        self.feedback.setStyleSheet(f"color: {colour}; font-weight: bold;")

    # -- teachers: saving the current setup --------------------------------------------------------------
    def save_step_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, tr("Add the current setup to a lesson file"), "my-lesson" +
                                              LESSON_SUFFIX, tr("ConvScope lessons (*{})").format(LESSON_SUFFIX),
                                              options=QFileDialog.Option.DontConfirmOverwrite)
        if not path:
            return
        text, ok = QInputDialog.getMultiLineText(self, tr("The step's text"),
                                                 tr("What the student reads at this step (Korean first):"))
        if ok and text.strip():
            self.save_current_step(path, text.strip())

    def save_current_step(self, path, text: str, step_id: str | None = None) -> Path | None:
        """Append the panels' current state as a step to the lesson file ``path`` (a new file makes a new
        lesson named after it); validated before writing. Returns the file written, or None (message shown)."""
        path = Path(path)
        if not path.name.endswith(LESSON_SUFFIX):
            path = path.with_name(path.name.removesuffix(".json") + LESSON_SUFFIX)
        try:
            if path.is_file():
                lesson = load_lesson(path)
            else:
                lesson_id = _id_from(path.name[: -len(LESSON_SUFFIX)])
                title = Text(text.splitlines()[0][:60], text.splitlines()[0][:60])
                lesson = Lesson(lesson_id, title, title, (Source("ConvScope", ""),), (), path)
            taken = {s.id for s in lesson.steps}
            n = len(lesson.steps) + 1
            step_id = step_id or next(f"step-{i}" for i in range(n, n + len(taken) + 2) if f"step-{i}" not in taken)
            step = new_step(step_id, {"ko": text, "en": text}, self.applier.current_state(), lesson_id=lesson.id)
            lesson = Lesson(lesson.id, lesson.title, lesson.summary, lesson.source, lesson.steps + (step,), path)
            written = save_lesson(lesson, path)
        except LessonError as exc:
            self.failed.emit(tr_error(exc))
            return None
        except OSError as exc:
            self.failed.emit(tr("Could not write the lesson file: {}").format(exc.strerror or exc))
            return None
        self.resume_label.setText(tr("Step {} saved to {}.").format(step.id, written.name))
        self.resume_label.show()
        return written


def _id_from(name: str) -> str:
    out = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in name.lower()).strip("-_")
    return out or "my-lesson"
