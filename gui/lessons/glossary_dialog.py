"""Help > Glossary: the seed notes' terms in Korean and English side by side, each with a "Show me"
that opens the lesson step (or the tab) that shows it."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QListWidget,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from gui.i18n import language, tr

GLOSSARY = Path(__file__).resolve().parents[2] / "resources" / "glossary.json"


class GlossaryDialog(QDialog):
    """``show_me(lesson_id, step_id, panel)`` is called by "Show me" (the window's :meth:`show_me`)."""

    def __init__(self, parent: QWidget | None = None, show_me=None):
        super().__init__(parent)
        self.setWindowTitle(tr("Glossary"))
        self.resize(820, 520)
        self._show_me = show_me
        with GLOSSARY.open(encoding="utf-8") as fh:
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
        buttons.button(QDialogButtonBox.StandardButton.Close).setText(tr("Close"))
        buttons.rejected.connect(self.reject)
        self.show_me_button = QPushButton(tr("Show me"))
        self.show_me_button.setToolTip(tr("Open the lesson step (or the panel) that shows this idea."))
        self.show_me_button.clicked.connect(self.show_me)
        self.show_me_button.setVisible(show_me is not None)
        buttons.addButton(self.show_me_button, QDialogButtonBox.ButtonRole.ActionRole)
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
        self.show_me_button.setEnabled(bool(e.get("lesson") or e.get("panel")))

    def show_me(self) -> None:
        row = self.terms.currentRow()
        if self._show_me is None or not 0 <= row < len(self.entries):
            return
        e = self.entries[row]
        lesson = e.get("lesson") or {}
        self._show_me(lesson.get("id"), lesson.get("step"), e.get("panel"))
        self.accept()
