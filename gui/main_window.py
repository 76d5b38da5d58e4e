"""The main window: menus, status bar, central workspace tabs, dockable panels, remembered layout.

The window owns one :class:`~gui.controller.TrainingController`; every panel is created in
:meth:`MainWindow._create_panels` (one line each) and talks only to the controller. Files dropped
anywhere on the window are classified by the Classify panel.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from engine.imaging import IMAGE_EXTENSIONS
from gui.controller import TrainingController
from gui.desktop.about import AboutDialog, app_icon
from gui.desktop.open_paths import open_paths, sort_paths
from gui.desktop.window_files import OpenFilesMixin
from gui.i18n import tr
from gui.lessons.glossary_dialog import GlossaryDialog  # noqa: F401  (Help > Glossary; tests import it here)
from gui.lessons.window_lessons import LessonsMixin
from gui.window_menus import MenusMixin

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
SETTINGS_VERSION = 2


def image_file_filter() -> str:
    """The open-image dialog's filter, ``Images (*.png *.jpg ...)``, from the engine's one list."""
    return tr("Images ({})").format(" ".join("*" + ext for ext in IMAGE_EXTENSIONS))


class PanelScrollArea(QScrollArea):
    """Fills its viewport with the panel and scrolls only when the panel's *minimum* size does not fit.

    (``widgetResizable`` would size a panel with word-wrapped labels by its preferred height and show
    a needless vertical scroll bar on a 1280x800 screen.)
    """

    def __init__(self, panel: QWidget):
        super().__init__()
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self.setWidgetResizable(False)
        self.setWidget(panel)

    def fit_panel(self) -> None:
        panel = self.widget()
        if panel is None:
            return
        need = panel.minimumSizeHint().expandedTo(panel.minimumSize())
        vp = self.maximumViewportSize()
        w = max(vp.width(), need.width())
        h = max(vp.height(), need.height())
        # a scroll bar along one axis takes room from the other
        if w > vp.width():
            h = max(need.height(), vp.height() - self.horizontalScrollBar().sizeHint().height())
        if h > vp.height():
            w = max(need.width(), vp.width() - self.verticalScrollBar().sizeHint().width())
        panel.resize(w, h)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self.fit_panel()

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        self.fit_panel()


class MessageBar(QWidget):
    """A non-blocking message strip under the menus (errors stay until closed or replaced)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QPushButton("✕")
        close.setFixedWidth(28)
        close.setFlat(True)
        close.setToolTip(tr("Hide this message."))
        close.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 4, 4, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(close)
        self.setAutoFillBackground(True)
        self.setStyleSheet("MessageBar { background: #fde7e1; border-bottom: 1px solid #e0a090; }"
                           "QLabel { color: #7a1500; font-size: 11pt; }")
        self.hide()

    def show_message(self, text: str) -> None:
        self.label.setText(text)
        self.setVisible(bool(text))


class MainWindow(MenusMixin, LessonsMixin, OpenFilesMixin, QMainWindow):
    """ConvScope's main window.

    Panels are added with :meth:`add_tab` (the central workspace: large views) or :meth:`add_dock`
    (side and bottom panels). Every panel has a stable ``key`` so the remembered layout survives
    launches.
    """

    files_dropped = Signal(list)

    def __init__(self, options=None, restore_layout: bool = True, controller: TrainingController | None = None):
        super().__init__()
        self.options = options
        self.startup_seconds = 0.0
        self.shown_time: float | None = None
        self.docks: dict[str, QDockWidget] = {}
        self.tabs_by_key: dict[str, QWidget] = {}
        self._tab_containers: dict[str, QWidget] = {}
        self.setObjectName("ConvScopeMainWindow")
        self.setWindowTitle("ConvScope")
        self.setWindowIcon(app_icon())
        self.resize(1480, 920)
        self.setDockNestingEnabled(True)
        self.setAcceptDrops(True)
        self.controller = controller or TrainingController(self)

        self.workspace = QTabWidget()
        self.workspace.setDocumentMode(True)
        self.workspace.setObjectName("workspace")
        self.message_bar = MessageBar()
        central = QWidget()
        cl = QVBoxLayout(central)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.setSpacing(0)
        cl.addWidget(self.message_bar)
        cl.addWidget(self.workspace, 1)
        self.setCentralWidget(central)

        self._create_menus()
        self.state_label = QLabel()
        self.state_label.setToolTip(tr("What the trainer is doing now."))
        self.statusBar().addPermanentWidget(self.state_label)
        self.statusBar().showMessage(tr("Ready"))
        self._restore_layout_requested = restore_layout
        self._started = False
        self._closed = False

        self._create_panels()
        self._create_actions()
        self.finish_menus()
        self._default_dock_sizes()
        c = self.controller
        c.status_message.connect(self.show_status)
        c.error_occurred.connect(self.message_bar.show_message)
        c.state_changed.connect(self.on_state_changed)
        c.model_changed.connect(self.on_model_changed)
        c.dataset_changed.connect(self.on_dataset_changed)
        c.dataset_ready.connect(self._remember_dataset_folder)
        self.on_state_changed(c.state)

    # -- panels --------------------------------------------------------------------------------
    def _create_panels(self) -> None:
        """Docks around the workspace (setup, architecture, curves) and the large views as tabs."""
        from gui.attribution.panel import AttributionPanel
        from gui.editor.editor import ArchitectureEditor
        from gui.gradients.panel import GradientPanel
        from gui.runs.window_runs import install_runs
        from gui.theater.panel import TheaterPanel
        from gui.widgets.architecture import ArchitecturePanel
        from gui.widgets.classify import ClassifyPanel
        from gui.widgets.curves import CurvesPanel
        from gui.widgets.evaluation import EvaluationPanel
        from gui.widgets.feature_maps import FeatureMapPanel
        from gui.widgets.filters import FilterPanel
        from gui.widgets.training_panel import TrainingPanel

        c = self.controller
        area = Qt.DockWidgetArea
        self.training_panel = TrainingPanel(c)
        self.add_dock("training", tr("Training"), self.training_panel, area.LeftDockWidgetArea)
        self.architecture_panel = ArchitecturePanel(c)
        self.add_dock("architecture", tr("Architecture"), self.architecture_panel, area.RightDockWidgetArea)
        self.curves_panel = CurvesPanel(c)
        self.add_dock("curves", tr("Curves"), self.curves_panel, area.BottomDockWidgetArea)

        self.feature_map_panel = FeatureMapPanel(c)
        self.add_tab("feature_maps", tr("Feature maps"), self.feature_map_panel)
        self.filter_panel = FilterPanel(c)
        self.add_tab("filters", tr("Filters"), self.filter_panel)
        self.gradient_panel = GradientPanel(c)
        self.add_tab("gradients", tr("Gradients"), self.gradient_panel)
        self.theater_panel = TheaterPanel(c)
        self.add_tab("theater", tr("Convolution theater"), self.theater_panel)
        self.attribution_panel = AttributionPanel(c)
        self.add_tab("attribution", tr("Which pixels mattered"), self.attribution_panel)
        self.evaluation_panel = EvaluationPanel(c)
        self.add_tab("evaluation", tr("Evaluation"), self.evaluation_panel)
        self.evaluation_panel.explain_requested.connect(self.show_attribution)
        self.classify_panel = ClassifyPanel(c)
        self.add_tab("classify", tr("Classify"), self.classify_panel)
        self.architecture_editor = ArchitectureEditor(c)
        self.add_tab("editor", tr("Edit architecture"), self.architecture_editor)
        install_runs(self)
        self._action(self.model_menu, tr("Edit architecture..."), self.show_editor, "Ctrl+E",
                     tr("Build your own network: add, remove and change layers and see every shape and "
                        "parameter count."))

    def show_attribution(self, *_index) -> None:
        self.show_tab("attribution")

    def show_editor(self) -> None:
        self.show_tab("editor")

    def _default_dock_sizes(self) -> None:
        """Side panels as narrow as readable, the curves low: the central views get the room."""
        side = [d for d in (self.docks.get("training"), self.docks.get("architecture")) if d is not None]
        self.resizeDocks(side, [270] * len(side), Qt.Orientation.Horizontal)
        if "curves" in self.docks:
            self.resizeDocks([self.docks["curves"]], [205], Qt.Orientation.Vertical)

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
        # A scroll area keeps a wide panel from forcing the whole window wider than a 1280x800 screen:
        # below the panel's minimum size it scrolls instead.
        container = PanelScrollArea(widget)
        container.setObjectName(f"tabscroll_{key}")
        self._tab_containers[key] = container
        return self.workspace.addTab(container, title)

    def show_tab(self, key: str) -> None:
        container = self._tab_containers.get(key)
        if container is not None:
            self.workspace.setCurrentWidget(container)

    def current_tab_key(self) -> str | None:
        current = self.workspace.currentWidget()
        return next((k for k, c in self._tab_containers.items() if c is current), None)

    # -- controller events ---------------------------------------------------------------------
    STATE_TEXT = {"idle": "Ready", "compiling": "Compiling kernels...", "training": "Training",
                  "paused": "Paused", "finished": "Finished", "diverged": "Stopped: the loss exploded"}

    def show_status(self, text: str) -> None:
        self.statusBar().showMessage(text, 15000)

    def on_state_changed(self, state: str) -> None:
        self.state_label.setText("  " + tr(self.STATE_TEXT.get(state, state)) + "  ")
        training = state == "training"
        self.start_action.setEnabled(state in ("idle", "finished", "diverged", "compiling"))
        self.pause_action.setEnabled(state in ("training", "paused"))
        self.step_action.setEnabled(state in ("idle", "paused", "finished", "diverged"))
        self.stop_action.setEnabled(training or state in ("paused", "diverged"))
        if state == "training":
            self.message_bar.hide()

    def on_model_changed(self, _model) -> None:
        path = self.controller.model_path
        if path and Path(path).is_file():
            self.recent.add("model", path)
        name = self.controller.preset_name
        for key, a in self.preset_actions.items():
            a.setChecked(key == name)
        self._update_title()

    def on_dataset_changed(self, _ds) -> None:
        self._update_title()

    def _update_title(self) -> None:
        c = self.controller
        parts = ["ConvScope"]
        if c.dataset is not None:
            parts.append(tr(getattr(c.dataset, "display_name", "") or c.dataset.name))
        if c.preset_name:
            from engine.presets import PRESETS

            preset = PRESETS.get(c.preset_name)
            parts.append(tr(preset.display_name) if preset is not None else c.preset_name)
        elif c.model_path:
            parts.append(Path(c.model_path).name)
        self.setWindowTitle(" — ".join(parts))

    # triggered(bool) must not reach the controller's optional arguments: small slots in between
    def start_training(self) -> None:
        self.controller.start()

    def step_training(self) -> None:
        self.controller.step()

    def stop_run(self) -> None:
        self.controller.stop()

    def reset_weights(self) -> None:
        self.controller.reset()

    def toggle_pause(self) -> None:
        if self.controller.state == "paused":
            self.controller.resume()
        else:
            self.controller.pause()

    def on_preset_action(self) -> None:
        a = self.sender()
        if isinstance(a, QAction) and a.data():
            if not self.controller.set_preset(str(a.data())):
                self.on_model_changed(self.controller.model)

    # -- start-up ------------------------------------------------------------------------------
    def _paint_then_start_up(self) -> None:
        # A cold numba compile holds the GIL for long stretches: paint the whole window first, so the
        # student sees it at once instead of after the first kernels compiled.
        self.repaint()
        QTimer.singleShot(30, self.start_up)

    def start_up(self) -> None:
        """After the window is shown: kernel warm-up and dataset loading in the background, then the
        model, --classify and --train once the dataset is there."""
        opts = self.options
        c = self.controller
        c.open_run_store()                           # $CONVSCOPE_RUNS_DIR (--runs-dir) or the data folder
        c.warm_up()                                  # compiles on the worker while the data loads
        tab = getattr(opts, "tab", None)
        if tab:
            self.show_tab(tab)
        c.dataset_ready.connect(self._after_first_dataset)
        c.dataset_failed.connect(self._first_dataset_failed)
        dataset = getattr(opts, "dataset", None)
        folders = sort_paths(getattr(opts, "paths", None) or []).folders
        if folders and not dataset:
            dataset = folders[-1]                    # `convscope FOLDER`: that folder is the first dataset
        folder_options = None
        if dataset and Path(dataset).is_dir():
            self.expect_dataset_folder(dataset)
            chosen = self.folder_options_for(dataset, getattr(opts, "color", None), getattr(opts, "image_size", None))
            folder_options = None if chosen is None else chosen.load_kwargs()
        c.load_dataset_async(dataset or "shapes", data_dir=getattr(opts, "data_dir", None),
                             folder_options=folder_options)
        if getattr(opts, "lesson", None):
            self.open_lesson(opts.lesson)            # its dataset, if any, follows the first one

    def _first_dataset_failed(self, name: str) -> None:
        if name != "shapes":                         # the message is shown; fall back to the built-in data
            self.controller.load_dataset_async("shapes")
        else:
            self._end_start_up()

    def _end_start_up(self) -> None:
        c = self.controller
        c.dataset_ready.disconnect(self._after_first_dataset)
        c.dataset_failed.disconnect(self._first_dataset_failed)

    def _after_first_dataset(self, _ds) -> None:
        self._end_start_up()
        opts = self.options
        c = self.controller
        model = getattr(opts, "model", None)
        if model:
            if str(model).lower().endswith(".npz") or Path(str(model)).is_file():
                c.open_model(model)
            else:
                c.set_preset(str(model))
        files = getattr(opts, "classify", None)
        if files:
            self.classify_when_ready(files)
        paths = getattr(opts, "paths", None)
        if paths:
            open_paths(self, paths, load_folder=False)
        if getattr(opts, "train", False):
            c.start()

    def _classify_pending(self, *_args) -> None:
        if getattr(self, "_waiting_for_kernels", False):
            self._waiting_for_kernels = False
            self.controller.kernels_ready.disconnect(self._classify_pending)
        files, self._pending_classify = getattr(self, "_pending_classify", None), None
        if files:
            self.classify_files(files)
            if getattr(self.options, "tab", None):
                self.show_tab(self.options.tab)

    # -- files: images, models, pictures -------------------------------------------------------
    def classify_files(self, paths: list[str]) -> None:
        self.show_tab("classify")
        self.classify_panel.classify_files(paths)

    def open_image_dialog(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, tr("Open images to classify"), "", image_file_filter())
        if paths:
            self.classify_files(paths)

    def paste_image(self) -> None:
        self.show_tab("classify")
        self.classify_panel.paste()

    def open_model_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, tr("Open a model"), "", tr("ConvScope models (*.npz)"))
        if path:
            self.controller.open_model(path)

    def save_model_dialog(self) -> None:
        c = self.controller
        # the .convscope.npz ending lets file managers recognise the file by name (gui/desktop/filetypes.py)
        suggestion = f"{c.preset_name or 'model'}-{getattr(c.dataset, 'name', 'data')}.convscope.npz"
        path, _ = QFileDialog.getSaveFileName(self, tr("Save the model"), suggestion, tr("ConvScope models (*.npz)"))
        if path:
            c.save_model(path)

    # -- drag and drop -------------------------------------------------------------------------
    @staticmethod
    def _local_paths(mime) -> list[str]:
        if mime is None or not mime.hasUrls():
            return []
        return [u.toLocalFile() for u in mime.urls() if u.isLocalFile()]

    def dragEnterEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if self._local_paths(event.mimeData()) or event.mimeData().hasImage():
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802
        self.dragEnterEvent(event)

    def dropEvent(self, event) -> None:  # noqa: N802
        paths = self._local_paths(event.mimeData())
        if paths:
            event.acceptProposedAction()
            self.files_dropped.emit(paths)
            self.open_paths(paths)
        elif event.mimeData().hasImage():
            from gui.widgets.common import qimage_to_array

            event.acceptProposedAction()
            self.show_tab("classify")
            self.classify_panel.classify_image(qimage_to_array(event.mimeData().imageData()), tr("dropped image"))
        else:
            event.ignore()

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
        if not self._started:
            self._started = True
            self.shown_time = time.perf_counter()
            if self.options is not None:
                # after the first paint: the window appears at once, the work follows
                QTimer.singleShot(0, self._paint_then_start_up)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if not self._closed:
            self._closed = True
            self.save_layout()
            if self.controller.state == "compiling":
                self.hide()              # a compilation cannot be interrupted: leave at once, finish quietly
            self.stop_training()
        super().closeEvent(event)

    def stop_training(self) -> bool:
        """Stop training and end the worker thread; True when it ended (tests assert it)."""
        return self.attribution_panel.shutdown() & self.controller.shutdown()

    # -- dialogs -------------------------------------------------------------------------------
    def show_glossary(self) -> None:
        GlossaryDialog(self, show_me=self.show_me).exec()

    def show_about(self) -> None:
        AboutDialog(self).exec()

    # -- screenshots ---------------------------------------------------------------------------
    def save_screenshot(self, path: str | Path) -> bool:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        return bool(self.grab().save(str(path), "PNG"))
