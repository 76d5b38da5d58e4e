"""The rows view of the draft: one row per layer with its settings, output shape, parameters and formulas.

Follows a :class:`~gui.editor.draft.DraftModel` (subscribed to its changes); a layer that cannot work
shows the engine's teaching message on its own row, in red. Rows can be dragged to reorder layers and
Delete removes the selected one: both only call the draft.
"""

from __future__ import annotations

from difflib import SequenceMatcher

from PySide6.QtCore import QEvent, QItemSelectionModel, Qt, QTimer
from PySide6.QtGui import QAction, QBrush, QColor, QFont, QKeySequence, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QStyledItemDelegate,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from engine.shapes import format_shape
from gui.editor.costs import memory_cell, multiply_adds_cell, receptive_field_cell
from gui.editor.draft import DraftModel
from gui.editor.explanations import formula_lines, layer_help, layer_title
from gui.editor.layer_settings import ERROR_BG, LayerSettingsWidget
from gui.i18n import tr

COL_INDEX, COL_LAYER, COL_SETTINGS, COL_SHAPE, COL_PARAMS, COL_MACS, COL_MEMORY, COL_FIELD, COL_FORMULA = range(9)
ERROR_FG = QColor("#b00020")
SELECTED_BG = QColor("#d4e4fa")
SELECTED_ERROR_BG = QColor("#f6c9cf")
ERROR_ROLE = Qt.ItemDataRole.UserRole + 1
_FITTED_COLUMNS = (COL_INDEX, COL_LAYER, COL_SETTINGS, COL_SHAPE, COL_PARAMS, COL_MACS, COL_MEMORY, COL_FIELD)


class _RowDelegate(QStyledItemDelegate):
    """A light selection colour that keeps an error row red (the edited row is usually selected)."""

    def initStyleOption(self, option, index) -> None:
        super().initStyleOption(option, index)
        if index.data(ERROR_ROLE):
            option.palette.setColor(QPalette.ColorRole.Highlight, SELECTED_ERROR_BG)
            option.palette.setColor(QPalette.ColorRole.HighlightedText, ERROR_FG)
        else:
            option.palette.setColor(QPalette.ColorRole.Highlight, SELECTED_BG)
            option.palette.setColor(QPalette.ColorRole.HighlightedText, QColor("#000000"))


class LayerTable(QTableWidget):
    """The layer rows of ``draft``; keeps ``draft.selected`` equal to the selected row."""

    #: the formulas take the width left over, but never less than this (the table scrolls instead)
    FORMULA_MIN_WIDTH = 220

    def __init__(self, draft: DraftModel, parent: QWidget | None = None):
        super().__init__(parent)
        self.draft = draft
        self.setObjectName("layer_table")
        self._row_widgets: list[LayerSettingsWidget | None] = []
        self._row_classes: list[str] = []
        self._syncing = False
        self._pending_move: tuple[int, int] | None = None
        self._setup_drag_and_drop()
        self._setup_columns()
        self.verticalHeader().setVisible(False)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setWordWrap(True)
        self.setItemDelegate(_RowDelegate(self))
        # Delete removes a layer only from the table: in a spin box it must keep deleting digits.
        delete = QAction(self)
        delete.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))
        delete.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        delete.triggered.connect(self._remove_selected)
        self.addAction(delete)
        self.itemSelectionChanged.connect(self._on_selection_changed)
        # Wrapped formulas need new row heights whenever their column changes width.
        self._fit_timer = QTimer(self)
        self._fit_timer.setSingleShot(True)
        self._fit_timer.setInterval(0)
        self._fit_timer.timeout.connect(self.fit_columns)
        self.horizontalHeader().sectionResized.connect(self._on_section_resized)
        self.installEventFilter(self)
        draft.subscribe(self.sync)
        self.sync()

    def _setup_drag_and_drop(self) -> None:
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)
        self.setDragDropOverwriteMode(False)
        self.setDropIndicatorShown(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)

    def _setup_columns(self) -> None:
        self.setColumnCount(9)
        self.setHorizontalHeaderLabels([
            "#", tr("Layer"), tr("Settings"), tr("Output"), tr("Parameters"), tr("Multiply-adds"), tr("Memory"),
            tr("Receptive field"), tr("How it is computed"),
        ])
        self.horizontalHeaderItem(COL_MACS).setToolTip(tr("Multiplications (each followed by an addition) this "
                                                          "layer does for one image"))
        self.horizontalHeaderItem(COL_MEMORY).setToolTip(tr("Memory of the layer's output for one image (float32)"))
        self.horizontalHeaderItem(COL_FIELD).setToolTip(tr("How many input pixels one output value sees"))
        self.horizontalHeaderItem(COL_FORMULA).setToolTip(tr(
            "Output size per side: (n + 2p - f) / s + 1 (n input size, p padding, f kernel or pool size, s stride; "
            "rounded down). Parameters of a convolution: f * f * c_in * c_out + c_out (weights plus one bias per "
            "filter). Dense: inputs * units + units."))
        self.horizontalHeaderItem(COL_SHAPE).setToolTip(tr("Output shape: height x width x channels"))
        header = self.horizontalHeader()
        for col in _FITTED_COLUMNS:
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        # In a narrow window the table scrolls sideways instead of wrapping every formula one word per line.
        header.setSectionResizeMode(COL_FORMULA, QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        self.setMinimumWidth(320)

    # -- selection ------------------------------------------------------------------------------
    def selected_row(self) -> int:
        rows = self.selectionModel().selectedRows() if self.selectionModel() else []
        return rows[0].row() if rows else -1

    def select_row(self, row: int) -> None:
        if 0 <= row < self.rowCount():
            self.selectionModel().select(
                self.model().index(row, 0),
                QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
            self.setCurrentCell(row, COL_LAYER)
        else:
            self.clearSelection()

    def _on_selection_changed(self) -> None:
        if not self._syncing:
            self.draft.selected = self.selected_row()

    def _remove_selected(self) -> None:
        if self.selected_row() >= 0:
            self.draft.remove_layer(self.selected_row())

    def settings_widget(self, index: int) -> LayerSettingsWidget:
        return self._row_widgets[index]

    # -- following the draft --------------------------------------------------------------------
    def sync(self) -> None:
        """Show the draft: a new settings form where a row's layer class changed, then refill every row."""
        self._syncing = True
        # Measured once at the end: a column sized to its contents measures itself at every cell change.
        header = self.horizontalHeader()
        for col in _FITTED_COLUMNS:
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Fixed)
        try:
            classes = self.draft.class_names()
            self._match_rows(classes)
            rows = self.draft.rows
            for i in range(len(classes)):
                self._fill_row(i, self.draft.config(i), rows[i] if i < len(rows) else None)
            self.select_row(self.draft.selected)
        finally:
            for col in _FITTED_COLUMNS:
                header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
            self._syncing = False
        self.fit_columns()

    def _match_rows(self, classes: list[str]) -> None:
        """Insert and remove rows where layers were added or removed, and build a settings form only
        where a row's layer class changed: rebuilding every form made adding a layer take 0.3 s."""
        ops = SequenceMatcher(a=self._row_classes, b=classes, autojunk=False).get_opcodes()
        for tag, i1, i2, j1, j2 in reversed(ops):  # from the end: earlier indices stay valid
            if tag == "equal":
                continue
            for _ in range(i2 - i1):
                self.removeRow(i1)  # Qt deletes the row's form
                del self._row_widgets[i1]
            for k in range(j2 - j1):
                self.insertRow(i1 + k)
                self._row_widgets.insert(i1 + k, None)
        for i, form in enumerate(self._row_widgets):
            if form is None:
                form = LayerSettingsWidget(self.draft, i)
                self.setCellWidget(i, COL_SETTINGS, form)
                self._row_widgets[i] = form
            else:
                form.index = i
                form.set_config(self.draft.config(i)["config"])
        self._row_classes = list(classes)

    def _item(self, row: int, col: int, text: str, tip: str = "", error: bool = False,
              bold: bool = False) -> QTableWidgetItem:
        """Show ``text`` in a cell. Only what differs is set: every change of an item makes the
        table measure its columns again (one edit took 240 ms when every cell was rewritten)."""
        item = self.item(row, col)
        if item is None:
            item = QTableWidgetItem()
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled)
            item.setData(ERROR_ROLE, False)
            self.setItem(row, col, item)
        if item.text() != text:
            item.setText(text)
        if item.toolTip() != tip:
            item.setToolTip(tip)
        if bool(item.data(ERROR_ROLE)) != error:
            item.setData(ERROR_ROLE, error)
            item.setBackground(QBrush(ERROR_BG) if error else QBrush())
            item.setForeground(QBrush(ERROR_FG) if error else QBrush())
        if item.font().bold() != bold:
            font = QFont()
            font.setBold(bold)
            item.setFont(font)
        return item

    def _fill_row(self, i: int, layer: dict, row) -> None:
        cls = layer["class_name"]
        problem = self.draft.row_message(i)
        error = bool(problem)
        known = row is not None and row.output_shape is not None
        self._item(i, COL_INDEX, str(i + 1), error=error)
        self._item(i, COL_LAYER, f"{cls}\n{layer['config'].get('name', '')}", f"{layer_title(cls)}: {layer_help(cls)}",
                   error=error)
        self._item(i, COL_SHAPE, format_shape(tuple(row.output_shape)) if known else "—",
                   tr("Output shape: height x width x channels"), error=error)
        self._item(i, COL_PARAMS, f"{int(row.params or 0):,}" if known else "—",
                   tr("Weights and biases this layer learns"), error=error)
        for col, (text, cell_tip) in ((COL_MACS, multiply_adds_cell(row)), (COL_MEMORY, memory_cell(row)),
                                      (COL_FIELD, receptive_field_cell(row))):
            self._item(i, col, text, cell_tip, error=error)
        lines, tip = formula_lines(layer, row)
        if problem:
            # The teaching message first; what is still known (e.g. the formulas of a layer whose only
            # problem is the class count) below it.
            text = "\n".join(["⚠ " + problem] + (lines if known else []))
            tip = problem + ("\n\n" + tip if tip else "")
        else:
            text = "\n".join(lines)
        self._item(i, COL_FORMULA, text, tip, error=error, bold=error)
        self._row_widgets[i].set_error(problem)

    # -- column widths --------------------------------------------------------------------------
    def eventFilter(self, obj, event) -> bool:
        if obj is self and event.type() == QEvent.Type.Resize:
            self._fit_timer.start()
        return super().eventFilter(obj, event)

    def _on_section_resized(self, index: int, _old: int, _new: int) -> None:
        if index != COL_FORMULA:
            self._fit_timer.start()
        else:
            self.resizeRowsToContents()

    def fit_columns(self) -> None:
        """Give the formula column the width left over (at least FORMULA_MIN_WIDTH), then fit row heights."""
        header = self.horizontalHeader()
        used = sum(header.sectionSize(c) for c in range(self.columnCount()) if c != COL_FORMULA)
        width = max(self.FORMULA_MIN_WIDTH, self.viewport().width() - used)
        if header.sectionSize(COL_FORMULA) != width:
            header.resizeSection(COL_FORMULA, width)  # sectionResized then fits the rows
        else:
            self.resizeRowsToContents()

    # -- dragging rows --------------------------------------------------------------------------
    def dropEvent(self, event) -> None:
        if event.source() not in (self, None) or self.currentRow() < 0:
            event.ignore()
            return
        src = self.currentRow()
        dst = self.drop_destination(src, event.position().toPoint().y())
        # The draft reorders the layers and the table follows it; Qt must not move (and lose) the row widgets.
        event.setDropAction(Qt.DropAction.IgnoreAction)
        event.accept()
        if dst != src:
            self._pending_move = (src, dst)
            QTimer.singleShot(0, self._move_pending)

    def drop_destination(self, src: int, y: int) -> int:
        """Final index of row ``src`` dropped at viewport height ``y`` (upper half of a row: before it)."""
        target = self.rowAt(y)
        if target < 0:
            return self.rowCount() - 1 if y > 0 else 0
        before = y < self.visualRect(self.model().index(target, 0)).center().y()
        insert_at = target if before else target + 1     # position in the list that still holds src
        return insert_at - 1 if insert_at > src else insert_at

    def _move_pending(self) -> None:
        if self._pending_move is not None:
            src, dst = self._pending_move
            self._pending_move = None
            self.draft.move_layer(src, dst)
