"""The editor's file buttons: ask for a path, call the editor, turn a failure into a message box.

Every exception a user sees goes through :func:`gui.i18n.tr_error`.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox

from engine.errors import ConvScopeError
from gui.i18n import tr, tr_error


def _start_dir() -> Path:
    return Path.home()


def _report(editor, title: str, path: str, exc: Exception) -> None:
    message = tr_error(exc)
    if isinstance(exc, OSError) and not isinstance(exc, ConvScopeError) and path not in message:
        message = f"{path}: {message}"
    QMessageBox.warning(editor, title, message)


def open_model(editor) -> None:
    path, _ = QFileDialog.getOpenFileName(editor, tr("Open model"), str(_start_dir()), tr("ConvScope model (*.npz)"))
    if not path:
        return
    try:
        editor.open_model(path)
    except (ConvScopeError, OSError) as exc:
        _report(editor, tr("Cannot open this model"), path, exc)


def save_model(editor) -> None:
    path, _ = QFileDialog.getSaveFileName(editor, tr("Save model"), str(_start_dir() / f"{editor.model_name}.npz"),
                                          tr("ConvScope model (*.npz)"))
    if not path:
        return
    try:
        saved = editor.save_model(path)
    except (ConvScopeError, OSError) as exc:
        _report(editor, tr("Cannot save the model"), path, exc)
    else:
        editor.show_note(tr("Saved to {path}").format(path=saved))


def export_summary(editor) -> None:
    path, _ = QFileDialog.getSaveFileName(editor, tr("Export summary"),
                                          str(_start_dir() / f"{editor.model_name}_summary.txt"),
                                          tr("Text file (*.txt)"))
    if not path:
        return
    try:
        saved = editor.export_summary(path)
    except (ConvScopeError, OSError) as exc:
        _report(editor, tr("Cannot export the summary"), path, exc)
    else:
        editor.show_note(tr("Summary written to {path}").format(path=saved))


def export_onnx(editor, include_softmax: bool) -> None:
    path, _ = QFileDialog.getSaveFileName(editor, tr("Export ONNX"), str(_start_dir() / f"{editor.model_name}.onnx"),
                                          tr("ONNX model (*.onnx)"))
    if not path:
        return
    try:
        saved = editor.export_onnx(path, include_softmax=include_softmax)
    except (ConvScopeError, OSError) as exc:
        _report(editor, tr("Cannot export ONNX"), path, exc)
    else:
        editor.show_note(tr("ONNX model written to {path} (open it in Netron or onnxruntime)").format(path=saved))
