"""The main window's lesson part: File > Open lesson..., the "Lesson" dock, Model > Show as code...,
and the glossary's "show me". A mixin of :class:`gui.main_window.MainWindow` (which provides
``controller``, ``message_bar``, ``add_dock``, ``show_tab``); kept apart so the window class stays a
screenful of panels and menus.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from gui.i18n import tr
from gui.lessons.schema import LESSON_SUFFIX


class LessonsMixin:
    _lesson_panel = None

    def _create_lesson_actions(self) -> None:
        self.open_lesson_action = self._action(
            self.file_menu, tr("Open &lesson..."), self.open_lesson_dialog, "Ctrl+L",
            tr("Open a lesson file (.convscope-lesson.json): a guided walk through one idea, step by step."))
        self.show_lessons_action = self._action(
            self.help_menu, tr("&Lessons"), self.show_lesson_player, None,
            tr("Guided lessons that set the panels for you, step by step."))
        self.show_code_action = self._action(
            self.model_menu, tr("Show as &code..."), self.show_code, "Ctrl+Shift+C",
            tr("The current architecture as the Keras and PyTorch code the books use, with its weights."))

    @property
    def lesson_player(self):
        """The Lesson dock's panel (made on first use: a window without lessons looks as before)."""
        if self._lesson_panel is None:
            from gui.lessons.apply import WindowApplier
            from gui.lessons.player_panel import LessonPlayerPanel

            self.lesson_applier = WindowApplier(self)
            panel = LessonPlayerPanel(self.lesson_applier)
            panel.failed.connect(self.message_bar.show_message)
            self._lesson_panel = panel
            dock = self.add_dock("lesson", tr("Lesson"), panel, Qt.DockWidgetArea.RightDockWidgetArea)
            dock.setMinimumWidth(340)
            arch = self.docks.get("architecture")
            if arch is not None:
                self.tabifyDockWidget(arch, dock)
            self.resizeDocks([dock], [380], Qt.Orientation.Horizontal)
        return self._lesson_panel

    def show_lesson_player(self) -> None:
        if self.lesson_player is not None:          # made on first use
            dock = self.docks["lesson"]
            dock.show()
            dock.raise_()

    def open_lesson(self, name_or_path, step_id: str | None = None) -> bool:
        """Open a lesson (name or file) in the Lesson dock; a broken file becomes a message."""
        self.show_lesson_player()
        return self.lesson_player.open_lesson(str(name_or_path), step_id)

    def open_lesson_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, tr("Open a lesson"), "",
                                              tr("ConvScope lessons (*{})").format(LESSON_SUFFIX))
        if path:
            self.open_lesson(path)

    def show_me(self, lesson_id: str | None, step_id: str | None, panel: str | None) -> None:
        """The glossary's "show me": the lesson step that shows a term, else its tab."""
        if lesson_id:
            self.open_lesson(lesson_id, step_id)
        elif panel:
            self.show_tab(panel)

    def show_code(self):
        from gui.widgets.code_view import CodeDialog

        dialog = CodeDialog(self.controller, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        self.code_dialog = dialog
        return dialog
