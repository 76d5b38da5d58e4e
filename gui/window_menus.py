"""The main window's menus and picture export, kept beside :mod:`gui.main_window` so the window class
stays readable: File (images, models, folders, recent files, lessons, PNG export), Model (presets),
Train (start, pause, step, stop, reset), View (panels, layout) and Help (glossary, about).

A mixin of :class:`~gui.main_window.MainWindow`: it uses the window's controller, message bar,
status line and tabs, and the slots the window defines (``open_image_dialog``, ``start_training``...).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QFileDialog, QWidget

from engine.presets import PRESETS
from gui.i18n import tr


class MenusMixin:
    """Menus, actions and PNG export of the main window."""

    # -- menus ---------------------------------------------------------------------------------
    def _create_menus(self) -> None:
        bar = self.menuBar()
        self.file_menu = bar.addMenu(tr("&File"))
        self.model_menu = bar.addMenu(tr("&Model"))
        self.train_menu = bar.addMenu(tr("&Train"))
        self.view_menu = bar.addMenu(tr("&View"))
        self.help_menu = bar.addMenu(tr("&Help"))

        self.quit_action = QAction(tr("&Quit"), self)
        self.quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        self.quit_action.triggered.connect(self.close)

        self.panels_menu = self.view_menu.addMenu(tr("Panels"))
        reset = self.view_menu.addAction(tr("Reset layout"))
        reset.triggered.connect(self.reset_layout)

        glossary = self.help_menu.addAction(tr("&Glossary"))
        glossary.setShortcut(QKeySequence.StandardKey.HelpContents)
        glossary.triggered.connect(self.show_glossary)
        about = self.help_menu.addAction(tr("&About ConvScope"))
        about.triggered.connect(self.show_about)

    def _action(self, menu, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        a = QAction(text, self)
        if shortcut is not None:
            a.setShortcut(QKeySequence(shortcut))
        if tip:
            a.setToolTip(tip)
            a.setStatusTip(tip)
        a.triggered.connect(slot)
        menu.addAction(a)
        return a

    def _create_actions(self) -> None:
        f = self.file_menu
        self.open_image_action = self._action(f, tr("Open &image..."), self.open_image_dialog,
                                              QKeySequence.StandardKey.Open,
                                              tr("Classify image files (you can also drop them on the window)."))
        self.paste_action = self._action(f, tr("&Paste image"), self.paste_image, QKeySequence.StandardKey.Paste,
                                         tr("Classify the image on the clipboard."))
        f.addSeparator()
        self.open_model_action = self._action(f, tr("Open &model..."), self.open_model_dialog, "Ctrl+Shift+O",
                                              tr("Load a model saved by ConvScope (.npz): architecture and weights."))
        self.save_model_action = self._action(f, tr("&Save model..."), self.save_model_dialog,
                                              QKeySequence.StandardKey.Save,
                                              tr("Save the architecture, the learned weights and the training "
                                                 "history."))
        self.open_folder_action = self._action(f, tr("Open image &folder as dataset..."), self.open_folder_dialog, None,
                                               tr("Train on your own images: one sub-folder per class."))
        self._create_recent_menu(f)
        f.addSeparator()
        self.export_panel_action = self._action(f, tr("Export current panel as PNG..."), self.export_panel_dialog, None,
                                                tr("Save a picture of the panel in front (for slides or reports)."))
        self.export_window_action = self._action(f, tr("Export whole window as PNG..."), self.export_window_dialog,
                                                 None,
                                                 tr("Save a picture of the whole window."))
        self._create_lesson_actions()

        m = self.model_menu
        self.preset_group = QActionGroup(self)
        self.preset_actions: dict[str, QAction] = {}
        for key, preset in PRESETS.items():
            a = QAction(tr(preset.display_name), self, checkable=True)
            a.setData(key)
            a.setToolTip(tr(preset.description) if preset.description else key)
            a.triggered.connect(self.on_preset_action)
            self.preset_group.addAction(a)
            m.addAction(a)
            self.preset_actions[key] = a
        m.addSeparator()

        t = self.train_menu
        self.start_action = self._action(t, tr("&Start"), self.start_training, "F5", tr("Start training."))
        self.pause_action = self._action(t, tr("&Pause / Resume"), self.toggle_pause, "F6",
                                         tr("Pause after the current batch, or resume."))
        self.step_action = self._action(t, tr("S&tep one batch"), self.step_training, "F10",
                                        tr("Train on exactly one batch."))
        self.stop_action = self._action(t, tr("St&op"), self.stop_run, "Shift+F5",
                                        tr("End this training run; the weights are kept."))
        t.addSeparator()
        self.reset_action = self._action(t, tr("&Reset weights"), self.reset_weights, "Ctrl+R",
                                         tr("New initial weights from the seed."))

    def finish_menus(self) -> None:
        """Called once panels have added their actions: Quit goes last in File."""
        self.file_menu.addSeparator()
        self.file_menu.addAction(self.quit_action)


    def current_panel(self) -> QWidget:
        key = self.current_tab_key()
        return self.tabs_by_key.get(key, self) if key else self

    def export_png(self, widget: QWidget, path: str | Path) -> bool:
        path = Path(path)
        if path.suffix.lower() != ".png":
            path = path.with_name(path.name + ".png")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self.message_bar.show_message(tr("Could not save the picture: {}").format(exc))
            return False
        ok = bool(widget.grab().save(str(path), "PNG"))
        if ok:
            self.show_status(tr("Picture saved to {}.").format(path))
        else:
            self.message_bar.show_message(
                tr("Could not save the picture to {} (is the folder writable?).").format(path))
        return ok

    def export_panel_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, tr("Export the panel as PNG"), "panel.png", "PNG (*.png)")
        if path:
            self.export_png(self.current_panel(), path)

    def export_window_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, tr("Export the window as PNG"), "convscope.png", "PNG (*.png)")
        if path:
            self.export_png(self, path)
