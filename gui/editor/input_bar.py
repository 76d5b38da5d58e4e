"""The editor's input-shape field: type H x W x C (or pick one of the notes' shapes) to build a network
for any input without a dataset ("shapes only").

A thin view over the draft: on user input it only calls ``draft.set_input_shape`` (undoable); it shows
the draft's input back when the draft changes (typing, undo, a new dataset).
"""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget

from engine.shapes import format_shape
from gui.editor.draft import DraftModel
from gui.editor.input_shape import PRESET_SHAPES, InputShapeError, parse_input_shape
from gui.i18n import tr

DATASET_CHOICE = "dataset"


class InputShapeBar(QWidget):
    """"Input shape: [39x39x3 ▾]" + the reason when a typed shape cannot be used."""

    def __init__(self, draft: DraftModel, parent: QWidget | None = None):
        super().__init__(parent)
        self.draft = draft
        self.setObjectName("input_shape_bar")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        title = QLabel(tr("Input shape (H x W x C):"))
        row.addWidget(title)
        self.combo = QComboBox()
        self.combo.setObjectName("input_shape_combo")
        self.combo.setEditable(True)
        self.combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.combo.setMinimumContentsLength(12)
        self.combo.setToolTip(tr(
            "Type any input, for example 39x39x3 or 1000x1000x3, to see shapes, parameter counts and formulas "
            "without a dataset (\"shapes only\"). To train, the input must be the dataset's shape."))
        row.addWidget(self.combo)
        self.problem_label = QLabel()
        self.problem_label.setObjectName("input_shape_problem")
        self.problem_label.setStyleSheet("color: #b00020;")
        self.problem_label.setWordWrap(True)
        row.addWidget(self.problem_label, 1)
        self._showing = False
        self._fill_choices()
        self.combo.activated.connect(self._on_activated)
        self.combo.lineEdit().editingFinished.connect(self._on_typed)
        draft.subscribe(self.sync)
        self.sync()

    def _fill_choices(self) -> None:
        self._showing = True
        self.combo.clear()
        self.combo.addItem(tr("The dataset's shape ({shape})").format(shape=format_shape(self.draft.dataset_shape)),
                           DATASET_CHOICE)
        for shape in PRESET_SHAPES:
            self.combo.addItem(format_shape(shape), shape)
        self._showing = False

    def sync(self) -> None:
        """Show the draft's input (the dataset's item names the dataset's current shape)."""
        self._fill_choices()
        self._showing = True
        try:
            if self.draft.free_input is None:
                self.combo.setCurrentIndex(0)
            else:
                self.combo.setCurrentIndex(-1)
                self.combo.setEditText(format_shape(self.draft.free_input))
        finally:
            self._showing = False

    def _on_activated(self, index: int) -> None:
        data = self.combo.itemData(index)
        if data is None:
            return
        self.problem_label.setText("")
        self.draft.set_input_shape(None if data == DATASET_CHOICE else tuple(data))

    def _on_typed(self) -> None:
        if self._showing:
            return
        text = self.combo.currentText().strip()
        if self.combo.currentIndex() == 0 and text == self.combo.itemText(0):
            return
        self.type_shape(text)

    def type_shape(self, text: str) -> bool:
        """Use a typed shape ("39x39x3"); on a mistake say why and keep the draft's input."""
        try:
            shape = parse_input_shape(text)
        except InputShapeError as exc:
            self.problem_label.setText(str(exc))
            return False
        self.problem_label.setText("")
        self.draft.set_input_shape(shape)
        return True
