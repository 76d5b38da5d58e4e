"""The settings form of one layer (a cell of the layer table): one editor per catalogue hyperparameter.

The form only sets draft attributes (``draft.set_param``); it follows the draft through
:meth:`LayerSettingsWidget.set_config`, which the table calls after every change. Ranges deliberately
allow impossible values (stride 0, kernel 0, 0 filters): the engine explains why they cannot work,
which is the lesson.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QColor, QKeySequence, QPalette
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QWidget,
)

from engine.catalog import Hyperparameter, layer_kind
from gui.editor.draft import DraftModel
from gui.i18n import tr

ERROR_BG = QColor("#fde4e4")
# Three label/editor pairs per line keep the column narrow enough for the formulas beside it.
PAIRS_PER_LINE = 3

_UNDO_KEYS = {
    QKeySequence("Ctrl+Z")[0].toCombined(),
    QKeySequence("Ctrl+Shift+Z")[0].toCombined(),
    QKeySequence("Ctrl+Y")[0].toCombined(),
}

# Spin box ranges (what the widget can hold, not what works: the engine says what works).
_RANGES = {"filters": (0, 1024), "kernel_size": (0, 64), "strides": (0, 32), "pool_size": (0, 32),
           "units": (0, 100000), "rate": (0.0, 1.0), "alpha": (0.0, 1.0)}


def _caption(class_name: str, key: str) -> tuple[str, str]:
    """The label and tooltip of hyperparameter ``key`` of a ``class_name`` layer."""
    pooling = class_name.endswith("Pooling2D")
    if key == "filters":
        return tr("filters"), tr("Number of filters = number of output channels (feature maps).")
    if key == "kernel_size":
        return tr("kernel"), tr("Filter size f: each filter looks at an f x f window of all input channels.")
    if key == "strides" and pooling:
        return tr("stride"), tr("Stride of the pooling window; '= pool' moves it by its own size (no overlap).")
    if key == "strides":
        return tr("stride"), tr("Stride s: how many pixels the filter moves each step.")
    if key == "pool_size":
        return tr("pool"), tr("Pool size: the window whose maximum (or mean) is kept.")
    if key == "padding":
        return tr("padding"), tr("valid: no padding, the output shrinks. same: zeros around the input so that the "
                                 "output is ceil(n / s) (Keras). pixels: p zeros on every side.")
    if key == "activation" and class_name == "Dense":
        return tr("activation"), tr("Activation applied after the bias (none = linear: the last layer outputs raw "
                                    "scores).")
    if key == "activation":
        return tr("activation"), tr("Activation applied after the bias (none = linear).")
    if key == "mode":
        return tr("mode"), tr("Deep-learning libraries compute cross-correlation; mathematical convolution flips "
                              "the filter first. Both learn equally well.")
    if key == "units":
        return tr("units"), tr("Number of output values; the last Dense layer needs one per class.")
    if key == "rate":
        return tr("rate"), tr("Fraction of values switched off while training.")
    if key == "alpha":
        return tr("alpha"), tr("Slope for negative values.")
    return key, ""


def _choice_label(key: str, value) -> str:
    if value is None:
        return tr("none")
    if key == "mode":
        return {"cross_correlation": tr("correlation"), "convolution": tr("convolution")}.get(value, str(value))
    return str(value)


def _scalar(value):
    """Square hyperparameters may be stored as ``k`` or ``[k, k]``; the form edits one number."""
    if isinstance(value, (list, tuple)):
        return value[0] if value else None
    return value


class LayerSettingsWidget(QWidget):
    """In-place editors for the hyperparameters of layer ``index`` of ``draft``."""

    def __init__(self, draft: DraftModel, index: int, parent: QWidget | None = None):
        super().__init__(parent)
        self.draft = draft
        self.index = index
        layer = draft.config(index)
        self.class_name = layer["class_name"]
        self.kind = layer_kind(self.class_name)
        self.editors: dict[str, QWidget] = {}
        self._plain_palette = QPalette(self.palette())
        grid = QGridLayout(self)
        grid.setContentsMargins(4, 2, 4, 2)
        grid.setHorizontalSpacing(4)
        grid.setVerticalSpacing(2)
        for i, hp in enumerate(self.kind.hyperparameters):
            label, tip = _caption(self.class_name, hp.name)
            caption = QLabel(label)
            caption.setStyleSheet("color: #555;")
            caption.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            widget, cell = self._editor_for(hp)
            widget.setObjectName(f"edit_{hp.name}")
            caption.setToolTip(tip)
            widget.setToolTip(tip)
            self.editors[hp.name] = widget
            grid.addWidget(caption, i // PAIRS_PER_LINE, 2 * (i % PAIRS_PER_LINE))
            grid.addWidget(cell, i // PAIRS_PER_LINE, 2 * (i % PAIRS_PER_LINE) + 1)
        count = len(self.kind.hyperparameters)
        if not count:
            note = QLabel(tr("no settings"))
            note.setStyleSheet("color: #888;")
            grid.addWidget(note, 0, 0)
        grid.setColumnStretch(2 * PAIRS_PER_LINE, 1)
        # A tall row (a long message beside it) must not spread the editors over its height.
        grid.setRowStretch((max(count, 1) - 1) // PAIRS_PER_LINE + 1, 1)
        self.set_config(layer["config"])

    # -- editors --------------------------------------------------------------------------------
    def _edit(self, key: str, value) -> None:
        self.draft.set_param(self.index, key, value)

    def _editor_for(self, hp: Hyperparameter) -> tuple[QWidget, QWidget]:
        """The editor of ``hp`` and the widget that goes in the grid (the editor or a row holding it)."""
        if hp.kind == "int":
            box = self._spin(QSpinBox(), hp.name)
            box.setMinimumWidth(56)
            box.setMaximumWidth(84)
            box.setAccelerated(True)
            box.valueChanged.connect(lambda v, k=hp.name: self._edit(k, int(v)))
            return box, box
        if hp.kind == "float":
            box = self._spin(QDoubleSpinBox(), hp.name)
            box.setSingleStep(0.05)
            box.setDecimals(2)
            box.valueChanged.connect(lambda v, k=hp.name: self._edit(k, float(v)))
            return box, box
        if hp.kind == "optional_int":
            box = self._spin(QSpinBox(), hp.name)
            box.setMinimum(-1)
            box.setSpecialValueText(tr("= pool"))
            box.valueChanged.connect(lambda v, k=hp.name: self._edit(k, None if v < 0 else v))
            return box, box
        if hp.kind == "padding":
            return self._padding_editor(hp)
        combo = QComboBox()
        for value in hp.choices:
            combo.addItem(_choice_label(hp.name, value), value)
        combo.currentIndexChanged.connect(lambda _i, w=combo, k=hp.name: self._edit(k, w.currentData()))
        return combo, combo

    def _spin(self, box, key: str):
        box.installEventFilter(self)
        low, high = _RANGES.get(key, (0, 32))
        box.setRange(low, high)
        return box

    def _padding_editor(self, hp: Hyperparameter) -> tuple[QWidget, QWidget]:
        combo = QComboBox()
        for value in hp.choices:
            combo.addItem(value, value)
        if not hp.accepts_pixels:
            combo.currentIndexChanged.connect(lambda _i: self._edit("padding", combo.currentData()))
            return combo, combo
        combo.addItem(tr("pixels"), "number")
        cell = QWidget()
        row = QHBoxLayout(cell)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(2)
        row.addWidget(combo)
        pixels = QSpinBox()
        pixels.installEventFilter(self)
        pixels.setRange(0, 32)
        pixels.setObjectName("edit_padding_pixels")
        pixels.setToolTip(tr("Zero padding p added on each side."))
        row.addWidget(pixels)
        self.editors["padding_pixels"] = pixels
        pixels.valueChanged.connect(lambda v: self._edit("padding", int(v)))

        def changed(_i) -> None:
            data = combo.currentData()
            pixels.setVisible(data == "number")
            self._edit("padding", int(pixels.value()) if data == "number" else data)

        combo.currentIndexChanged.connect(changed)
        return combo, cell

    # -- following the draft --------------------------------------------------------------------
    def set_config(self, config: dict) -> None:
        """Show ``config`` without editing the draft (after undo/redo and rebuilds)."""
        widgets = list(self.editors.values())
        for w in widgets:
            w.blockSignals(True)
        try:
            for hp in self.kind.hyperparameters:
                self._show_value(hp, _scalar(config.get(hp.name, hp.default)))
        finally:
            for w in widgets:
                w.blockSignals(False)

    def _show_value(self, hp: Hyperparameter, value) -> None:
        w = self.editors[hp.name]
        if hp.kind == "padding":
            pixels = self.editors.get("padding_pixels")
            if isinstance(value, str) or pixels is None:
                w.setCurrentIndex(max(w.findData(str(value).lower()), 0))
                if pixels is not None:
                    pixels.setVisible(False)
            else:
                w.setCurrentIndex(w.findData("number"))
                pixels.setVisible(True)
                pixels.setValue(int(value or 0))
        elif hp.kind == "choice":
            index = w.findData(value)
            if index < 0:  # a value the catalogue does not offer (from a file): shown, and flagged by the engine
                w.addItem(str(value), value)
                index = w.count() - 1
            w.setCurrentIndex(index)
        elif hp.kind == "float":
            w.setValue(float(value or 0.0))
        elif hp.kind == "optional_int":
            w.setValue(-1 if value is None else int(value))
        else:
            w.setValue(int(value if value is not None else 0))

    def set_error(self, message: str) -> None:
        """Tint the editors of a layer that cannot work (the message itself is in the formula column)."""
        if message == self.toolTip():
            return
        self.setAutoFillBackground(bool(message))
        # The form outlives an error now (it is kept while its layer stays): the tint must go again.
        palette = QPalette(self._plain_palette)
        if message:
            palette.setColor(QPalette.ColorRole.Window, ERROR_BG)
        self.setPalette(palette)
        self.setToolTip(message)

    def eventFilter(self, obj, event) -> bool:
        # A spin box's text field would take Ctrl+Z for its own text; let the editor's undo have it.
        if event.type() == QEvent.Type.ShortcutOverride and (
                event.matches(QKeySequence.StandardKey.Undo) or event.matches(QKeySequence.StandardKey.Redo)
                or event.keyCombination().toCombined() in _UNDO_KEYS):
            event.ignore()
            return True
        return super().eventFilter(obj, event)
