"""Qt views over :class:`gui.theater.grid_editor.GridDraft`: the editable table, the editor around it
(rows, columns, channels, a text box for pasted blocks) and :class:`PairSpin`, a ``rows x columns``
pair of spin boxes for kernel sizes, strides and pool windows.

The views only set the model (``draft.set_cell``, ``draft.paste_at`` ...) and redraw on its events;
a refused change comes back as the engine's coded error and is reported through ``invalid_text``
(translated by :func:`gui.i18n.tr_error`); an accepted one changes the stage, which says whether it fits.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.errors import ConvScopeError
from engine.theater import fmt
from gui.i18n import tr, tr_error
from gui.theater.grid_editor import GRID_MAX_SIDE, GridDraft
from gui.theater.grid_view import signed_color


class GridTable(QTableWidget):
    """The edited channel's numbers, coloured by sign; typing a number or pasting a block (Ctrl+V at the
    current cell) changes the draft. ``invalid_text`` carries the message of a refused change."""

    invalid_text = Signal(str)

    ROW_PIXELS = 26

    def __init__(self, draft: GridDraft, visible_rows: int = 8, parent: QWidget | None = None):
        super().__init__(draft.rows, draft.columns, parent)
        self.draft = draft
        self.visible_rows = visible_rows        # the table grows with the grid up to this many rows, then scrolls
        self.horizontalHeader().setVisible(False)
        self.verticalHeader().setVisible(False)
        # columns share the width (never narrower than a short number); rows keep one height
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.horizontalHeader().setMinimumSectionSize(30)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.verticalHeader().setMinimumSectionSize(16)
        self.verticalHeader().setDefaultSectionSize(self.ROW_PIXELS)
        self.setEditTriggers(QAbstractItemView.EditTrigger.AllEditTriggers)
        self.itemChanged.connect(self._on_cell_edited)
        draft.events.changed.connect(self.refresh)
        draft.events.channel.connect(self.refresh)
        self.refresh()

    def refresh(self, **_) -> None:
        values = self.draft.plane()
        scale = float(np.abs(values).max()) or 1.0
        with QSignalBlocker(self):
            self.setRowCount(values.shape[0])
            self.setColumnCount(values.shape[1])
            for r in range(values.shape[0]):
                for c in range(values.shape[1]):
                    item = QTableWidgetItem(fmt(float(values[r, c]), 3))
                    item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                    item.setBackground(signed_color(float(values[r, c]), scale))
                    self.setItem(r, c, item)
        self._fit_height()

    def _fit_height(self) -> None:
        rows = min(self.draft.rows, self.visible_rows)
        bar = self.horizontalScrollBar().sizeHint().height() if self.draft.columns * 30 > self.viewport().width() else 0
        self.setFixedHeight(rows * self.ROW_PIXELS + 2 * self.frameWidth() + bar + 2)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_height()

    def _report(self, exc: ConvScopeError) -> None:
        self.invalid_text.emit(tr_error(exc))

    def _on_cell_edited(self, item: QTableWidgetItem) -> None:
        try:
            self.draft.set_cell(item.row(), item.column(), item.text())
        except ConvScopeError as exc:
            self._report(exc)
            self.refresh()          # the bad text goes away: the cell shows the number it still holds

    def paste_text(self, text: str) -> bool:
        """Paste ``text`` with its top-left corner on the current cell (the first cell if none)."""
        r, c = max(self.currentRow(), 0), max(self.currentColumn(), 0)
        try:
            self.draft.paste_at(r, c, text)
        except ConvScopeError as exc:
            self._report(exc)
            return False
        return True

    def keyPressEvent(self, event) -> None:
        if event.matches(QKeySequence.StandardKey.Paste) and self.state() != QAbstractItemView.State.EditingState:
            self.paste_text(QGuiApplication.clipboard().text())
            return
        super().keyPressEvent(event)


def _spin(lo: int, hi: int, value: int) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(lo, hi)
    spin.setValue(value)
    return spin


class GridEditor(QWidget):
    """Rows, columns and channels of a :class:`GridDraft`, its table, and a box for a pasted block of text.

    ``GridEditor(draft, channels=True)``; the kernel's editor has no channel controls (one 2-D kernel
    is used on every input channel).
    """

    invalid_text = Signal(str)

    def __init__(self, draft: GridDraft, channels: bool = True, parent: QWidget | None = None):
        super().__init__(parent)
        self.draft = draft
        v = QVBoxLayout(self)
        v.setContentsMargins(0, 0, 0, 0)
        sizes = QGridLayout()
        self.rows_spin = _spin(1, GRID_MAX_SIDE, draft.rows)
        self.columns_spin = _spin(1, GRID_MAX_SIDE, draft.columns)
        self.rows_spin.setToolTip(tr("Rows of the grid (1 to {}); new cells start at 0.").format(GRID_MAX_SIDE))
        self.columns_spin.setToolTip(tr("Columns of the grid (1 to {}); new cells start at 0.").format(GRID_MAX_SIDE))
        sizes.addWidget(QLabel(tr("Rows")), 0, 0)
        sizes.addWidget(self.rows_spin, 0, 1)
        sizes.addWidget(QLabel(tr("Columns")), 0, 2)
        sizes.addWidget(self.columns_spin, 0, 3)
        self.channels_spin = _spin(1, draft.max_channels, draft.channels)
        self.channel_combo = QComboBox()
        self.channel_combo.setToolTip(tr("The channel the table shows and a pasted block fills."))
        if channels:
            sizes.addWidget(QLabel(tr("Channels")), 1, 0)
            sizes.addWidget(self.channels_spin, 1, 1)
            sizes.addWidget(QLabel(tr("Edit")), 1, 2)
            sizes.addWidget(self.channel_combo, 1, 3)
        else:
            self.channels_spin.hide()
            self.channel_combo.hide()
        v.addLayout(sizes)
        self.table = GridTable(draft)
        self.table.setToolTip(tr("Type a number into a cell, or copy a block of numbers (from a spreadsheet or "
                                 "the notes) and press Ctrl+V on a cell."))
        v.addWidget(self.table)
        self.text_box = QPlainTextEdit()
        self.text_box.setPlaceholderText(tr("Paste numbers here: one row per line, separated by spaces, tabs or "
                                            "commas; an empty line starts the next channel."))
        self.text_box.setFixedHeight(58)
        v.addWidget(self.text_box)
        buttons = QHBoxLayout()
        self.read_button = QPushButton(tr("Use this text"))
        self.read_button.setToolTip(tr("The grid becomes the numbers in the text box (its size too)."))
        self.copy_button = QPushButton(tr("Grid as text"))
        self.copy_button.setToolTip(tr("Write the grid into the text box (to copy it or change it there)."))
        buttons.addWidget(self.read_button)
        buttons.addWidget(self.copy_button)
        v.addLayout(buttons)

        self.rows_spin.valueChanged.connect(lambda n: self._apply(lambda: draft.resize(rows=n)))
        self.columns_spin.valueChanged.connect(lambda n: self._apply(lambda: draft.resize(columns=n)))
        self.channels_spin.valueChanged.connect(lambda n: self._apply(lambda: draft.set_channels(n)))
        self.channel_combo.currentIndexChanged.connect(self._on_channel_chosen)
        self.read_button.clicked.connect(self.read_text)
        self.copy_button.clicked.connect(lambda: self.text_box.setPlainText(draft.text()))
        self.table.invalid_text.connect(self.invalid_text)
        draft.events.changed.connect(self._on_draft_changed)
        draft.events.channel.connect(self._on_draft_changed)
        self._on_draft_changed()

    def _apply(self, change) -> bool:
        try:
            change()
        except ConvScopeError as exc:
            self.invalid_text.emit(tr_error(exc))
            self._on_draft_changed()
            return False
        return True

    def read_text(self) -> bool:
        """The text box's numbers become the grid; False (and a message) when they cannot."""
        return self._apply(lambda: self.draft.paste_text(self.text_box.toPlainText()))

    def _on_channel_chosen(self, index: int) -> None:
        if index >= 0:
            self.draft.choose_channel(index)

    def _on_draft_changed(self, **_) -> None:
        d = self.draft
        for spin, value in ((self.rows_spin, d.rows), (self.columns_spin, d.columns), (self.channels_spin, d.channels)):
            with QSignalBlocker(spin):
                spin.setValue(value)
        names = [tr("red"), tr("green"), tr("blue")] if d.channels == 3 else [str(ch) for ch in range(d.channels)]
        with QSignalBlocker(self.channel_combo):
            if self.channel_combo.count() != d.channels or self.channel_combo.itemText(0) != names[0]:
                self.channel_combo.clear()
                self.channel_combo.addItems(names)
            self.channel_combo.setCurrentIndex(d.channel)
        self.channel_combo.setEnabled(d.channels > 1)


class PairSpin(QWidget):
    """``rows x columns`` spin boxes with a link: linked, both take the same value (a square window);
    unlinked, each axis has its own (``(1, 3)``). ``value()`` is an int when square, else ``(h, w)``."""

    valueChanged = Signal(object)       # noqa: N815 (Qt's name, so it reads like a QSpinBox)

    def __init__(self, lo: int, hi: int, value: int = 1, parent: QWidget | None = None):
        super().__init__(parent)
        h = QHBoxLayout(self)
        h.setContentsMargins(0, 0, 0, 0)
        h.setSpacing(1)
        self.rows_spin = _spin(lo, hi, value)
        self.columns_spin = _spin(lo, hi, value)
        self.rows_spin.setToolTip(tr("rows (height)"))
        self.columns_spin.setToolTip(tr("columns (width)"))
        self.link_button = QPushButton("=")
        self.link_button.setCheckable(True)
        self.link_button.setChecked(True)
        self.link_button.setFixedWidth(22)
        self.link_button.setToolTip(tr("Pressed: rows and columns take the same value (a square). Release it to "
                                       "give each axis its own value, e.g. 1 x 3."))
        h.addWidget(self.rows_spin, 1)
        h.addWidget(QLabel("×"))
        h.addWidget(self.columns_spin, 1)
        h.addWidget(self.link_button)
        self.rows_spin.valueChanged.connect(lambda v: self._on_spin(v, self.columns_spin))
        self.columns_spin.valueChanged.connect(lambda v: self._on_spin(v, self.rows_spin))

    @property
    def linked(self) -> bool:
        return self.link_button.isChecked()

    def _on_spin(self, value: int, other: QSpinBox) -> None:
        if self.linked and other.value() != value:
            with QSignalBlocker(other):
                other.setValue(value)
        self.valueChanged.emit(self.value())

    def value(self):
        h, w = self.rows_spin.value(), self.columns_spin.value()
        return h if h == w else (h, w)

    def setValue(self, value) -> None:  # noqa: N802 (reads like QSpinBox.setValue)
        """An int sets both axes; an ``(h, w)`` pair with different numbers releases the link."""
        h, w = (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))
        if h != w:
            self.link_button.setChecked(False)
        with QSignalBlocker(self.rows_spin), QSignalBlocker(self.columns_spin):
            self.rows_spin.setValue(h)
            self.columns_spin.setValue(w)
        if not self.signalsBlocked():
            self.valueChanged.emit(self.value())
