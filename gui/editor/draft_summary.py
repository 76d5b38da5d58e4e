"""The lines under the layer table: total parameters, parameter sharing at a glance, and the status
(valid / applied / the first problem, or a note such as "Saved to ...")."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from gui.editor.draft import DraftModel
from gui.editor.explanations import sharing_summary
from gui.i18n import tr


def _text_label(name: str) -> QLabel:
    label = QLabel()
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


class DraftSummary(QWidget):
    """Follows ``draft`` (subscribed); ``show_note`` replaces the status line until the next change."""

    def __init__(self, draft: DraftModel, parent: QWidget | None = None):
        super().__init__(parent)
        self.draft = draft
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(6)
        self.totals_label = QLabel()
        self.totals_label.setObjectName("totals_label")
        font = self.totals_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.15)
        font.setBold(True)
        self.totals_label.setFont(font)
        self.sharing_label = _text_label("sharing_label")
        self.status_label = _text_label("status_label")
        for label in (self.totals_label, self.sharing_label, self.status_label):
            box.addWidget(label)
        draft.subscribe(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        d = self.draft
        if not len(d):
            self.totals_label.setText(tr("Total parameters: 0"))
            self.sharing_label.setText("")
            self.sharing_label.setToolTip("")
            self._set_status(tr("Add layers to build a network."), ok=None)
            return
        suffix = "" if d.valid else tr(" (layers that fit so far)")
        self.totals_label.setText(tr("Total parameters: {n}").format(n=f"{d.total_params:,}") + suffix)
        text, tip = sharing_summary(d.layer_configs(), d.rows)
        self.sharing_label.setText(text)
        self.sharing_label.setToolTip(tip)
        if d.valid and d.shapes_only:
            self._set_status("ⓘ " + d.shapes_only_message(), ok=None)
        elif d.valid:
            note = tr("Valid and applied: the window trains this model.") if not d.is_dirty() else tr(
                "Valid: every layer fits. Apply to train it.")
            self._set_status("✔ " + note, ok=True)
        else:
            i = d.first_problem() or 0
            self._set_status("✖ " + tr("Layer {i} ({name}): {message}  Train is disabled until this is fixed.")
                             .format(i=i + 1, name=d.layer_name(i), message=d.row_message(i)), ok=False)

    def _set_status(self, text: str, ok: bool | None) -> None:
        colour = {True: "#1b5e20", False: "#b00020", None: "#555"}[ok]
        self.status_label.setStyleSheet(f"color: {colour};" + (" font-weight: bold;" if ok is False else ""))
        self.status_label.setText(text)

    def show_note(self, text: str) -> None:
        if text:
            self.status_label.setText(text)
