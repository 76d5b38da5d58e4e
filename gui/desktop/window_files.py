"""The main window's part that opens files from outside: File > Open folder, File > Recent, the one
entry point for command-line, dropped and handed-over paths, and classification once kernels are ready.

A mixin of :class:`gui.main_window.MainWindow` (which provides ``controller``, ``message_bar``,
``classify_files`` and ``_classify_pending``); kept apart so the window class stays a screenful of
panels and menus.
"""

from __future__ import annotations

from PySide6.QtWidgets import QFileDialog

from gui.desktop.open_paths import open_paths
from gui.desktop.recent import RecentFiles, RecentMenu
from gui.i18n import tr


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
            self.open_paths([path])

    def open_paths(self, paths: list, cwd: str | None = None) -> None:
        """Open files and folders as if dropped here (command line, a second launch, Recent)."""
        open_paths(self, list(paths), cwd=cwd)

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

