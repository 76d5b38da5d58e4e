"""Model > Show as code: the current architecture as the Keras code the books use and as PyTorch code.

The source comes from :mod:`engine.codegen` (shapes and parameter counts as comments, the training
settings of the window, a loader for the exported weights). Copy, Save as .py, and Export weights
(.npz in the layout of the framework of the tab in front).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from engine.codegen import export_weights, keras_code, pytorch_code
from engine.errors import ConvScopeError
from gui.controller.options import make_optimizer
from gui.i18n import tr, tr_error

FRAMEWORKS = (("keras", "Keras"), ("pytorch", "PyTorch"))


def model_sources(controller) -> dict[str, str]:
    """``{"keras": source, "pytorch": source}`` of the controller's model and training settings."""
    model = controller.current_model_copy()
    if model is None:
        raise ConvScopeError(tr("There is no model yet: choose a preset or build one in the editor."))
    o = controller.options
    ds = controller.dataset
    training = {"dataset": getattr(ds, "name", "mnist") or "mnist", "batch_size": int(o["batch_size"]),
                "epochs": int(o["epochs"]), "seed": int(o["seed"])}
    optimizer = make_optimizer(o)
    return {"keras": keras_code(model, optimizer=optimizer, training=training),
            "pytorch": pytorch_code(model, optimizer=optimizer, training=training)}


class CodeDialog(QDialog):
    """``CodeDialog(controller)``: a Keras and a PyTorch tab of the model as code."""

    def __init__(self, controller, parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        self.setObjectName("code_dialog")
        self.setWindowTitle(tr("The model as code"))
        self.resize(900, 700)
        self.tabs = QTabWidget()
        self.editors: dict[str, QPlainTextEdit] = {}
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        for key, title in FRAMEWORKS:
            edit = QPlainTextEdit()
            edit.setReadOnly(True)
            edit.setFont(mono)
            edit.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
            self.editors[key] = edit
            self.tabs.addTab(edit, title)
        self.note = QLabel(tr("Runnable code: the layers with their output shapes and parameter counts, "
                              "compile and fit with the window's training settings, and a function that "
                              "loads the weights exported here."))
        self.note.setWordWrap(True)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.copy_button = QPushButton(tr("Copy"))
        self.copy_button.clicked.connect(self.copy)
        self.save_button = QPushButton(tr("Save as .py..."))
        self.save_button.clicked.connect(self.save_dialog)
        self.weights_button = QPushButton(tr("Export weights (.npz)..."))
        self.weights_button.setToolTip(tr("The learned weights in the layout of the framework in front "
                                          "(Keras HWIO, PyTorch OIHW)."))
        self.weights_button.clicked.connect(self.export_weights_dialog)
        close = QPushButton(tr("Close"))
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        for b in (self.copy_button, self.save_button, self.weights_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.note)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        self.refresh()

    @property
    def framework(self) -> str:
        return FRAMEWORKS[self.tabs.currentIndex()][0]

    def refresh(self) -> bool:
        try:
            sources = model_sources(self.controller)
        except ConvScopeError as exc:
            self.show_message(tr_error(exc))
            for edit in self.editors.values():
                edit.setPlainText("")
            return False
        for key, text in sources.items():
            self.editors[key].setPlainText(text)
        self.show_message("")
        return True

    def source(self, framework: str | None = None) -> str:
        return self.editors[framework or self.framework].toPlainText()

    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.source())
        self.show_message(tr("Copied to the clipboard."))

    def save_dialog(self) -> None:
        name = f"{self.controller.preset_name or 'model'}_{self.framework}.py"
        path, _ = QFileDialog.getSaveFileName(self, tr("Save the code"), name, tr("Python files (*.py)"))
        if path:
            self.save(path)

    def save(self, path) -> Path | None:
        path = Path(path)
        if path.suffix != ".py":
            path = path.with_name(path.name + ".py")
        try:
            path.write_text(self.source(), encoding="utf-8")
        except OSError as exc:
            self.show_message(tr("Could not save the code: {}").format(exc.strerror or exc))
            return None
        self.show_message(tr("Saved to {}.").format(path))
        return path

    def export_weights_dialog(self) -> None:
        name = f"{self.controller.preset_name or 'model'}_{self.framework}_weights.npz"
        path, _ = QFileDialog.getSaveFileName(self, tr("Export the weights"), name, tr("NumPy archives (*.npz)"))
        if path:
            self.export(path)

    def export(self, path) -> Path | None:
        model = self.controller.current_model_copy()
        if model is None:
            self.show_message(tr("There is no model yet: choose a preset or build one in the editor."))
            return None
        try:
            written = export_weights(model, path, framework=self.framework)
        except (ConvScopeError, OSError) as exc:
            self.show_message(tr_error(exc) if isinstance(exc, ConvScopeError) else str(exc))
            return None
        self.show_message(tr("Weights for {} saved to {}.").format(dict(FRAMEWORKS)[self.framework], written))
        return written
