"""The editing buttons above the layer table: add (menu from the engine's catalogue), remove,
duplicate, move, undo/redo, restore the last valid model. Each one only calls the draft."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QHBoxLayout, QMenu, QPushButton, QToolButton, QWidget

from engine.catalog import CATALOG
from gui.editor.draft import DraftModel
from gui.editor.explanations import layer_help, layer_title
from gui.i18n import tr


def _with_key(tip: str, shortcut: str | None) -> str:
    if not shortcut:
        return tip
    return f"{tip}  ({QKeySequence(shortcut).toString(QKeySequence.SequenceFormat.NativeText)})"


class EditToolbar(QWidget):
    """Buttons over ``draft``; keyboard shortcuts live on ``shortcut_owner`` (the whole editor)."""

    def __init__(self, draft: DraftModel, shortcut_owner: QWidget, parent: QWidget | None = None):
        super().__init__(parent)
        self.draft = draft
        self._owner = shortcut_owner
        bar = QHBoxLayout(self)
        bar.setContentsMargins(0, 0, 0, 0)
        self.add_button = QToolButton()
        self.add_button.setObjectName("add_layer_button")
        self.add_button.setText(tr("Add layer"))
        self.add_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.add_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        menu = QMenu(self.add_button)
        self.add_actions: dict[str, QAction] = {}
        group = None
        for name, kind in CATALOG.items():
            if group is not None and kind.group != group:
                menu.addSeparator()
            group = kind.group
            action = menu.addAction(f"{layer_title(name)}  ({name})")
            action.setToolTip(layer_help(name))
            action.triggered.connect(lambda _checked=False, c=name: self._add_after_selection(c))
            self.add_actions[name] = action
        self.add_button.setMenu(menu)
        bar.addWidget(self.add_button)

        self.remove_button = self._button(bar, tr("Remove"), tr("Remove the selected layer"), self._remove,
                                          None, "remove_button")
        self.duplicate_button = self._button(bar, tr("Duplicate"), tr("Copy the selected layer below it"),
                                             self._duplicate, "Ctrl+D", "duplicate_button")
        self.up_button = self._button(bar, "▲", tr("Move the selected layer one place up (or drag the row)"),
                                      self._move_up, "Ctrl+Shift+Up", "up_button")
        self.down_button = self._button(bar, "▼", tr("Move the selected layer one place down (or drag the row)"),
                                        self._move_down, "Ctrl+Shift+Down", "down_button")
        for b in (self.up_button, self.down_button):
            b.setFixedWidth(b.fontMetrics().horizontalAdvance("▲") + 28)
        bar.addSpacing(12)
        # Fixed labels (the step is in the tooltip): the step's description on the button would make
        # the toolbar jump in width. One binding per key: the same key twice makes Qt call it ambiguous.
        self.undo_action = self._shortcut_action(tr("Undo"), draft.undo, ["Ctrl+Z"])
        self.redo_action = self._shortcut_action(tr("Redo"), draft.redo, ["Ctrl+Shift+Z", "Ctrl+Y"])
        self.undo_button = QToolButton()
        self.undo_button.setDefaultAction(self.undo_action)
        self.undo_button.setObjectName("undo_button")
        self.redo_button = QToolButton()
        self.redo_button.setDefaultAction(self.redo_action)
        self.redo_button.setObjectName("redo_button")
        bar.addWidget(self.undo_button)
        bar.addWidget(self.redo_button)
        self.restore_button = self._button(bar, tr("Restore last valid model"),
                                           tr("Go back to the last draft in which every layer fitted"),
                                           draft.restore_last_valid, None, "restore_button")
        bar.addStretch(1)

    def _button(self, bar, text: str, tip: str, slot, shortcut: str | None, name: str) -> QPushButton:
        b = QPushButton(text)
        b.setObjectName(name)
        b.setToolTip(_with_key(tip, shortcut))
        b.clicked.connect(slot)
        bar.addWidget(b)
        if shortcut:
            self._shortcut_action("", slot, [shortcut])
        return b

    def _shortcut_action(self, text: str, slot, keys: list[str]) -> QAction:
        action = QAction(text, self._owner)
        action.setShortcuts([QKeySequence(k) for k in keys])
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.triggered.connect(slot)
        self._owner.addAction(action)
        return action

    def update_state(self, busy: bool = False) -> None:
        """Enable what makes sense for the selection and the undo history."""
        d = self.draft
        row, n = d.selected, len(d)
        has = 0 <= row < n
        self.remove_button.setEnabled(has)
        self.duplicate_button.setEnabled(has)
        self.up_button.setEnabled(has and row > 0)
        self.down_button.setEnabled(has and row < n - 1)
        self.undo_action.setEnabled(d.can_undo)
        self.redo_action.setEnabled(d.can_redo)
        self.undo_action.setToolTip(tr("Undo: {step}").format(step=d.undo_text) + "  (Ctrl+Z)")
        self.redo_action.setToolTip(tr("Redo: {step}").format(step=d.redo_text) + "  (Ctrl+Shift+Z)")
        self.restore_button.setEnabled(not d.valid and d.last_valid is not None)

    # -- slots (only the draft changes) ---------------------------------------------------------
    def _add_after_selection(self, class_name: str) -> None:
        row = self.draft.selected
        self.draft.add_layer(class_name, index=None if row < 0 else row + 1)

    def _remove(self) -> None:
        if self.draft.selected >= 0:
            self.draft.remove_layer(self.draft.selected)

    def _duplicate(self) -> None:
        if self.draft.selected >= 0:
            self.draft.duplicate_layer(self.draft.selected)

    def _move_up(self) -> None:
        row = self.draft.selected
        if row > 0:
            self.draft.move_layer(row, row - 1)

    def _move_down(self) -> None:
        row = self.draft.selected
        if 0 <= row < len(self.draft) - 1:
            self.draft.move_layer(row, row + 1)
