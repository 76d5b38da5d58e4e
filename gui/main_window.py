"""The main window: menus, status bar, central workspace tabs, dockable panels, remembered layout."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDockWidget,
    QHBoxLayout,
    QListWidget,
    QMainWindow,
    QMessageBox,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

import engine
from gui.i18n import language, tr

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
SETTINGS_VERSION = 1


class GlossaryDialog(QDialog):
    """Help > Glossary: the seed notes' terms explained in Korean and English side by side."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(tr("Glossary"))
        self.resize(820, 520)
        with (RESOURCES / "glossary.json").open(encoding="utf-8") as fh:
            self.entries = json.load(fh)
        self.terms = QListWidget()
        korean_first = language() == "ko"
        for e in self.entries:
            self.terms.addItem(f"{e['ko']}  ·  {e['en']}" if korean_first else f"{e['en']}  ·  {e['ko']}")
        self.text = QTextBrowser()
        self.text.setOpenExternalLinks(False)
        self.terms.currentRowChanged.connect(self.show_entry)
        body = QHBoxLayout()
        body.addWidget(self.terms, 2)
        body.addWidget(self.text, 3)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(body)
        layout.addWidget(buttons)
        self.terms.setCurrentRow(0)

    def show_entry(self, row: int) -> None:
        if not 0 <= row < len(self.entries):
            return
        e = self.entries[row]
        parts = [(e["ko"], e["text_ko"]), (e["en"], e["text_en"])]
        if language() != "ko":
            parts.reverse()
        html = "".join(f"<h3>{title}</h3><p style='font-size:12pt'>{text}</p>" for title, text in parts)
        self.text.setHtml(html)


class MainWindow(QMainWindow):
    """ConvScope's main window.

    Panels are added with :meth:`add_tab` (the central workspace: large views) or :meth:`add_dock`
    (side and bottom panels). Every panel has a stable ``key`` so the remembered layout survives
    launches.
    """

    def __init__(self, options=None, restore_layout: bool = True):
        super().__init__()
        self.options = options
        self.startup_seconds = 0.0
        self.docks: dict[str, QDockWidget] = {}
        self.tabs_by_key: dict[str, QWidget] = {}
        self.setObjectName("ConvScopeMainWindow")
        self.setWindowTitle("ConvScope")
        self.resize(1480, 920)
        self.setDockNestingEnabled(True)
        self.setAcceptDrops(True)

        self.workspace = QTabWidget()
        self.workspace.setDocumentMode(True)
        self.workspace.setObjectName("workspace")
        self.setCentralWidget(self.workspace)

        self._create_menus()
        self.statusBar().showMessage(tr("Ready"))
        self._restore_layout_requested = restore_layout

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

    def finish_menus(self) -> None:
        """Called once panels have added their actions: Quit goes last in File."""
        self.file_menu.addSeparator()
        self.file_menu.addAction(self.quit_action)

    # -- panels --------------------------------------------------------------------------------
    def add_dock(self, key: str, title: str, widget: QWidget,
                 area: Qt.DockWidgetArea = Qt.DockWidgetArea.LeftDockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{key}")
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
        )
        self.addDockWidget(area, dock)
        self.panels_menu.addAction(dock.toggleViewAction())
        self.docks[key] = dock
        return dock

    def add_tab(self, key: str, title: str, widget: QWidget) -> int:
        widget.setObjectName(widget.objectName() or f"tab_{key}")
        self.tabs_by_key[key] = widget
        return self.workspace.addTab(widget, title)

    def show_tab(self, key: str) -> None:
        widget = self.tabs_by_key.get(key)
        if widget is not None:
            self.workspace.setCurrentWidget(widget)

    # -- layout persistence --------------------------------------------------------------------
    def settings(self) -> QSettings:
        return QSettings()

    def restore_layout(self) -> None:
        s = self.settings()
        if int(s.value("layout/version", 0)) != SETTINGS_VERSION:
            return
        geometry = s.value("layout/geometry")
        state = s.value("layout/state")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        if isinstance(state, QByteArray):
            self.restoreState(state, SETTINGS_VERSION)
        tab = s.value("layout/tab")
        if tab is not None:
            self.workspace.setCurrentIndex(int(tab))

    def save_layout(self) -> None:
        s = self.settings()
        s.setValue("layout/version", SETTINGS_VERSION)
        s.setValue("layout/geometry", self.saveGeometry())
        s.setValue("layout/state", self.saveState(SETTINGS_VERSION))
        s.setValue("layout/tab", self.workspace.currentIndex())

    def reset_layout(self) -> None:
        s = self.settings()
        s.remove("layout")
        for dock in self.docks.values():
            dock.setFloating(False)
            dock.show()
        self.statusBar().showMessage(tr("Layout reset; it will be used from the next launch as well."), 5000)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if self._restore_layout_requested:
            self._restore_layout_requested = False
            self.restore_layout()
        super().showEvent(event)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self.save_layout()
        super().closeEvent(event)

    # -- dialogs -------------------------------------------------------------------------------
    def show_glossary(self) -> None:
        GlossaryDialog(self).exec()

    def show_about(self) -> None:
        QMessageBox.about(
            self,
            tr("About ConvScope"),
            "<h2>ConvScope {}</h2><p>{}</p><p>{}</p>".format(
                engine.__version__,
                tr("Watch a convolutional neural network learn: filters, feature maps, padding, stride, "
                   "pooling and the training curves, live, on your own computer."),
                tr("Engine: numpy + numba. Interface: Qt (PySide6) + pyqtgraph."),
            ),
        )

    # -- screenshots ---------------------------------------------------------------------------
    def save_screenshot(self, path: str | Path) -> bool:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        return bool(self.grab().save(str(path), "PNG"))
