"""The main window's part that opens files from outside: File > Open folder, File > Recent, the one
entry point for command-line, dropped and handed-over paths, and classification once kernels are ready.

A mixin of :class:`gui.main_window.MainWindow` (which provides ``controller``, ``message_bar``,
``classify_files`` and ``_classify_pending``); kept apart so the window class stays a screenful of
panels and menus.
"""

from __future__ import annotations

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QDialog, QFileDialog

from engine.datasets import scan_image_folder
from engine.errors import ConvScopeError
from gui.desktop.folder_dialog import FolderOptionsDialog
from gui.desktop.folder_options import (
    FolderChoice,
    FolderOptions,
    remember_options,
    remembered_options,
    suggested_options,
)
from gui.desktop.open_paths import open_paths
from gui.desktop.recent import RecentFiles, RecentMenu
from gui.i18n import tr, tr_error


class OpenFilesMixin:
    def _create_recent_menu(self, file_menu) -> None:
        self.recent = RecentFiles()
        self.recent_menu = RecentMenu(self.recent, self.open_recent, self.message_bar.show_message, self)
        file_menu.addMenu(self.recent_menu)

    def classify_when_ready(self, files) -> None:
        """Classify ``files`` now, or once the kernels are compiled (predictions need them too)."""
        c = self.controller
        self._pending_classify = list(getattr(self, "_pending_classify", None) or []) + list(files)
        if c.kernels_warm:
            self._classify_pending()
        elif not getattr(self, "_waiting_for_kernels", False):
            self._waiting_for_kernels = True
            c.kernels_ready.connect(self._classify_pending)

    def open_folder_dialog(self) -> None:
        path = QFileDialog.getExistingDirectory(self, tr("Open a folder of images as the dataset"))
        if path:
            self.open_folder_asking(path)

    def open_folder_asking(self, path: str) -> bool:
        """Ask colour and size for the folder ``path`` (its classes and the memory shown), then load it.
        False when the folder is no dataset (the reason in the message bar) or the user cancelled."""
        try:
            choice = FolderChoice(path, remembered_options(QSettings()))
        except ConvScopeError as exc:
            self.message_bar.show_message(tr("Could not load the dataset {}: {}").format(path, tr_error(exc)))
            return False
        dialog = FolderOptionsDialog(choice, self)
        self.folder_dialog = dialog               # tests answer it
        try:
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return False
        finally:
            self.folder_dialog = None
        remember_options(QSettings(), dialog.options())
        self.open_paths([path], folder_options=dialog.options())
        return True

    def folder_options_for(self, path: str, color: str | None = None,
                           image_size: int | None = None) -> FolderOptions | None:
        """How a folder opened without the dialog is read (a drop, Recent, the command line, whose
        ``color`` / ``image_size`` win); None when it is no dataset folder (the loader says why)."""
        try:
            scan = scan_image_folder(path)
        except ConvScopeError:
            return None
        return suggested_options(scan, remembered_options(QSettings()), color=color, image_size=image_size)

    def open_paths(self, paths: list, cwd: str | None = None, folder_options: FolderOptions | None = None) -> None:
        """Open files and folders as if dropped here (command line, a second launch, Recent)."""
        open_paths(self, list(paths), cwd=cwd, folder_options=folder_options)

    def open_recent(self, path: str) -> None:
        self.open_paths([path])

    def expect_dataset_folder(self, path: str) -> None:
        """A folder is loading as the dataset: put it in File > Recent once it loaded."""
        self._expected_folder = str(path)

    def _remember_dataset_folder(self, ds) -> None:
        # only folders the user opened (MNIST's source is a folder too, but not one to reopen as images)
        expected, self._expected_folder = getattr(self, "_expected_folder", None), None
        if expected and str(getattr(ds, "source", "")) == expected:
            self.recent.add("folder", expected)

