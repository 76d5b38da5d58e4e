"""Build your own network: a layer table whose shapes, parameter counts and errors come from the engine.

The editor holds a *draft*: a list of layer configs (``layer.get_config()`` dicts). Every edit is an
undoable command that replaces the whole list; after each one the draft is checked by
:func:`engine.network.validate_architecture`, and the table shows, per layer, the engine's output
shape, parameter count, the size and parameter formulas with numbers and, for convolutions, how many
parameters a Dense layer would need to produce the same outputs from the same input (parameter
sharing made visible). The GUI does no shape or parameter arithmetic of its own.

"Apply" builds the draft into a ``Sequential`` and hands it to the ``TrainingController``; the draft
can also be saved/opened as a model file, exported as a Keras-style summary or as ONNX.
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from pathlib import Path

from PySide6.QtCore import QEvent, QItemSelectionModel, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QBrush, QColor, QFont, QKeySequence, QPalette, QUndoCommand, QUndoStack
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QStyledItemDelegate,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from engine.errors import ConvScopeError
from engine.shapes import format_shape
from gui.i18n import tr, tr_error

# -- layer catalogue ------------------------------------------------------------------------------

LAYER_CLASSES = (
    "Conv2D", "MaxPooling2D", "AveragePooling2D",
    "ReLU", "Sigmoid", "Tanh", "LeakyReLU", "Softmax",
    "Dropout", "Flatten", "Dense",
)

# Hyperparameters a new layer starts with (the engine's constructor names).
DEFAULT_CONFIGS: dict[str, dict] = {
    "Conv2D": {"filters": 8, "kernel_size": 3, "strides": 1, "padding": "valid", "activation": "relu",
               "mode": "cross_correlation"},
    "MaxPooling2D": {"pool_size": 2, "strides": None, "padding": "valid"},
    "AveragePooling2D": {"pool_size": 2, "strides": None, "padding": "valid"},
    "ReLU": {}, "Sigmoid": {}, "Tanh": {}, "LeakyReLU": {"alpha": 0.3}, "Softmax": {},
    "Dropout": {"rate": 0.25},
    "Flatten": {},
    "Dense": {"units": 64, "activation": "relu"},
}

# Keras-style base names: "conv2d", "conv2d_1", ...
_BASE_NAMES = {
    "Conv2D": "conv2d", "MaxPooling2D": "max_pooling2d", "AveragePooling2D": "average_pooling2d",
    "ReLU": "re_lu", "Sigmoid": "sigmoid", "Tanh": "tanh", "LeakyReLU": "leaky_re_lu",
    "Softmax": "softmax", "Dropout": "dropout", "Flatten": "flatten", "Dense": "dense",
}

# Fused activations each layer accepts (Conv2D's output is a stack of maps: softmax belongs after Dense).
ACTIVATION_CHOICES = {
    "Conv2D": (None, "relu", "sigmoid", "tanh", "leaky_relu"),
    "Dense": (None, "relu", "sigmoid", "tanh", "leaky_relu", "softmax"),
}


def layer_title(class_name: str) -> str:
    return {
        "Conv2D": tr("Convolution"),
        "MaxPooling2D": tr("Max pooling"),
        "AveragePooling2D": tr("Average pooling"),
        "ReLU": tr("ReLU activation"),
        "Sigmoid": tr("Sigmoid activation"),
        "Tanh": tr("Tanh activation"),
        "LeakyReLU": tr("Leaky ReLU activation"),
        "Softmax": tr("Softmax activation"),
        "Dropout": tr("Dropout"),
        "Flatten": tr("Flatten"),
        "Dense": tr("Dense (fully connected)"),
    }.get(class_name, class_name)


def layer_help(class_name: str) -> str:
    return {
        "Conv2D": tr("Slides each filter over the input; every filter makes one feature map. "
                     "The same filter weights are used at every position (parameter sharing)."),
        "MaxPooling2D": tr("Keeps the largest value of each window: smaller maps, no parameters to learn."),
        "AveragePooling2D": tr("Keeps the mean of each window: smaller maps, no parameters to learn."),
        "ReLU": tr("max(0, x): keeps positive values, sets negative ones to 0."),
        "Sigmoid": tr("Squashes every value into (0, 1)."),
        "Tanh": tr("Squashes every value into (-1, 1)."),
        "LeakyReLU": tr("Like ReLU, but negative values are multiplied by a small slope alpha."),
        "Softmax": tr("Turns scores into probabilities that add up to 1."),
        "Dropout": tr("While training, randomly switches off this fraction of values; does nothing at test time."),
        "Flatten": tr("Unrolls an H x W x C volume into one long vector so that Dense layers can read it."),
        "Dense": tr("Connects every input value to every unit, each connection with its own weight."),
    }.get(class_name, "")


def _scalar(value):
    """Square hyperparameters may be stored as ``k`` or ``[k, k]``; the editor edits one number."""
    if isinstance(value, (list, tuple)):
        return value[0] if value else None
    return value


def _like(old, new):
    """Write ``new`` in the same form (scalar or pair) as ``old``."""
    if isinstance(old, (list, tuple)) and new is not None and not isinstance(new, str):
        return [new] * len(old)
    return new


def _clean_config(cfg: dict) -> dict:
    """The engine's full, JSON-safe form of a layer config.

    Passing it through ``layer_from_config(...).get_config()`` fills in every default the engine
    keeps (initializers, ``trainable``...) and normalises spellings, so a draft compares equal to the
    same layers after a save/open round trip. Values the engine cannot even construct are kept as
    they are: ``validate_architecture`` then reports them on their row.
    """
    try:
        from engine.layers import layer_from_config

        cfg = layer_from_config(copy.deepcopy(cfg)).get_config()
    except Exception:  # noqa: BLE001 - an unconstructible layer is reported by validation instead
        pass
    return json.loads(json.dumps(cfg))


# -- engine access (lazy: engine modules land independently) ---------------------------------------

def _network():
    from engine import network

    return network


def _flatten_config() -> dict:
    return {"class_name": "Flatten", "config": {"name": "flatten"}}


@lru_cache(maxsize=512)
def dense_equivalent_params(input_shape: tuple, output_shape: tuple) -> int | None:
    """Parameters of a Dense layer that maps ``input_shape`` to as many values as ``output_shape`` holds.

    Asked of the engine: ``Flatten`` gives both sizes, ``validate_architecture`` counts the Dense
    layer. ``None`` when the engine cannot answer (e.g. an empty shape).
    """
    network = _network()
    try:
        out_rows = network.validate_architecture([_flatten_config()], tuple(output_shape))
        if not out_rows or out_rows[0].error or not out_rows[0].output_shape:
            return None
        units = int(out_rows[0].output_shape[0])
        rows = network.validate_architecture(
            [_flatten_config(), {"class_name": "Dense", "config": {"name": "dense", "units": units}}],
            tuple(input_shape),
        )
    except Exception:  # noqa: BLE001 - a teaching extra must never break the editor
        return None
    if len(rows) != 2 or rows[1].error:
        return None
    return int(rows[1].params)


def _preset_names() -> list[str]:
    try:
        from engine import presets
    except ImportError:
        return []
    names = presets.PRESETS
    return list(names.keys()) if isinstance(names, dict) else list(names)


def _preset_label(name: str) -> str:
    try:
        from engine import presets
    except ImportError:
        return name
    entry = presets.PRESETS.get(name) if isinstance(presets.PRESETS, dict) else None
    for attr in ("title", "label", "display_name"):
        value = getattr(entry, attr, None) or (entry.get(attr) if isinstance(entry, dict) else None)
        if value:
            return tr(str(value))
    return name


# -- undo ------------------------------------------------------------------------------------------

class _DraftCommand(QUndoCommand):
    """Replaces the whole draft (layer configs) with another; undo puts the previous one back.

    Consecutive edits of the same field of the same layer (spin box arrows, typing) merge into one
    step, so Ctrl+Z undoes "filters 8 -> 32", not "31 -> 32".
    """

    MERGE_ID = 7007

    def __init__(self, editor: "ArchitectureEditor", before: list, after: list, text: str,
                 select_before: int, select_after: int, merge_key=None):
        super().__init__(text)
        self.editor = editor
        self.before = before
        self.after = after
        self.select_before = select_before
        self.select_after = select_after
        self.merge_key = merge_key

    def id(self) -> int:  # noqa: A003 (Qt override)
        return self.MERGE_ID if self.merge_key is not None else -1

    def mergeWith(self, other) -> bool:  # noqa: N802 (Qt override)
        if not isinstance(other, _DraftCommand) or other.merge_key != self.merge_key or self.merge_key is None:
            return False
        self.after = other.after
        self.select_after = other.select_after
        self.setText(other.text())
        if self.after == self.before:
            self.setObsolete(True)
        return True

    def redo(self) -> None:
        self.editor._show_draft(self.after, self.select_after)

    def undo(self) -> None:
        self.editor._show_draft(self.before, self.select_before)


# -- one layer's hyperparameter editors ------------------------------------------------------------

_UNDO_KEYS = {
    QKeySequence("Ctrl+Z")[0].toCombined(),
    QKeySequence("Ctrl+Shift+Z")[0].toCombined(),
    QKeySequence("Ctrl+Y")[0].toCombined(),
}


class LayerSettingsWidget(QWidget):
    """In-place editors for one layer's hyperparameters; emits ``edited(key, value)``.

    Ranges deliberately allow impossible values (stride 0, kernel 0, 0 filters): the engine explains
    why they cannot work, which is the lesson.
    """

    edited = Signal(str, object)

    def __init__(self, class_name: str, config: dict, parent: QWidget | None = None):
        super().__init__(parent)
        self.class_name = class_name
        self.editors: dict[str, QWidget] = {}
        self._config = dict(config)
        pairs: list[tuple[QLabel, QWidget]] = []

        def add(label: str, widget: QWidget, key: str, tip: str = "", cell: QWidget | None = None) -> None:
            caption = QLabel(label)
            caption.setStyleSheet("color: #555;")
            caption.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            pairs.append((caption, cell or widget))
            widget.setObjectName(f"edit_{key}")
            if tip:
                caption.setToolTip(tip)
                widget.setToolTip(tip)
            self.editors[key] = widget

        c = class_name
        if c == "Conv2D":
            add(tr("filters"), self._int_spin("filters", 0, 1024), "filters",
                tr("Number of filters = number of output channels (feature maps)."))
            add(tr("kernel"), self._int_spin("kernel_size", 0, 64), "kernel_size",
                tr("Filter size f: each filter looks at an f x f window of all input channels."))
            add(tr("stride"), self._int_spin("strides", 0, 32), "strides",
                tr("Stride s: how many pixels the filter moves each step."))
            self._add_padding(add, allow_number=True)
            add(tr("activation"), self._activation_combo(ACTIVATION_CHOICES["Conv2D"]), "activation",
                tr("Activation applied after the bias (none = linear)."))
            mode = QComboBox()
            mode.addItem(tr("correlation"), "cross_correlation")
            mode.addItem(tr("convolution"), "convolution")
            mode.currentIndexChanged.connect(lambda _i, w=mode: self.edited.emit("mode", w.currentData()))
            add(tr("mode"), mode, "mode",
                tr("Deep-learning libraries compute cross-correlation; mathematical convolution flips "
                   "the filter first. Both learn equally well."))
        elif c in ("MaxPooling2D", "AveragePooling2D"):
            add(tr("pool"), self._int_spin("pool_size", 0, 32), "pool_size",
                tr("Pool size: the window whose maximum (or mean) is kept."))
            stride = QSpinBox()
            stride.installEventFilter(self)
            stride.setRange(-1, 32)
            stride.setSpecialValueText(tr("= pool"))
            stride.valueChanged.connect(
                lambda v: self.edited.emit("strides", None if v < 0 else v))
            add(tr("stride"), stride, "strides",
                tr("Stride of the pooling window; '= pool' moves it by its own size (no overlap)."))
            self._add_padding(add, allow_number=False)
        elif c == "Dense":
            add(tr("units"), self._int_spin("units", 0, 100000), "units",
                tr("Number of output values; the last Dense layer needs one per class."))
            add(tr("activation"), self._activation_combo(ACTIVATION_CHOICES["Dense"]), "activation",
                tr("Activation applied after the bias (none = linear: the last layer outputs raw scores)."))
        elif c == "Dropout":
            add(tr("rate"), self._float_spin("rate", 0.0, 1.0, 0.05), "rate",
                tr("Fraction of values switched off while training."))
        elif c == "LeakyReLU":
            add(tr("alpha"), self._float_spin("alpha", 0.0, 1.0, 0.05), "alpha",
                tr("Slope for negative values."))
        # Three label/editor pairs per line keep the column narrow enough for the formulas beside it.
        grid = QGridLayout(self)
        grid.setContentsMargins(4, 2, 4, 2)
        grid.setHorizontalSpacing(4)
        grid.setVerticalSpacing(2)
        per_line = 3
        for i, (caption, widget) in enumerate(pairs):
            grid.addWidget(caption, i // per_line, 2 * (i % per_line))
            grid.addWidget(widget, i // per_line, 2 * (i % per_line) + 1)
        if not pairs:
            note = QLabel(tr("no settings"))
            note.setStyleSheet("color: #888;")
            grid.addWidget(note, 0, 0)
        grid.setColumnStretch(2 * per_line, 1)
        # A tall row (a long message beside it) must not spread the editors over its height.
        grid.setRowStretch((max(len(pairs), 1) - 1) // per_line + 1, 1)
        self.set_config(config)

    def set_error(self, message: str) -> None:
        """Tint the editors of a layer that cannot work (the message itself is in the formula column)."""
        self.setAutoFillBackground(bool(message))
        if message:
            pal = self.palette()
            pal.setColor(QPalette.ColorRole.Window, ERROR_BG)
            self.setPalette(pal)
        self.setToolTip(message)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt override)
        # A spin box's text field would take Ctrl+Z for its own text; let the editor's undo stack have it.
        if event.type() == QEvent.Type.ShortcutOverride and (
                event.matches(QKeySequence.StandardKey.Undo) or event.matches(QKeySequence.StandardKey.Redo)
                or event.keyCombination().toCombined() in _UNDO_KEYS):
            event.ignore()
            return True
        return super().eventFilter(obj, event)

    # editors
    def _int_spin(self, key: str, lo: int, hi: int) -> QSpinBox:
        box = QSpinBox()
        box.installEventFilter(self)
        box.setMinimumWidth(56)
        box.setMaximumWidth(84)
        box.setRange(lo, hi)
        box.setAccelerated(True)
        box.valueChanged.connect(lambda v, k=key: self.edited.emit(k, int(v)))
        return box

    def _float_spin(self, key: str, lo: float, hi: float, step: float) -> QDoubleSpinBox:
        box = QDoubleSpinBox()
        box.installEventFilter(self)
        box.setRange(lo, hi)
        box.setSingleStep(step)
        box.setDecimals(2)
        box.valueChanged.connect(lambda v, k=key: self.edited.emit(k, float(v)))
        return box

    def _activation_combo(self, choices) -> QComboBox:
        combo = QComboBox()
        for value in choices:
            combo.addItem(tr("none") if value is None else value, value)
        combo.currentIndexChanged.connect(lambda _i, w=combo: self.edited.emit("activation", w.currentData()))
        return combo

    def _add_padding(self, add, allow_number: bool) -> None:
        combo = QComboBox()
        combo.addItem("valid", "valid")
        combo.addItem("same", "same")
        if allow_number:
            combo.addItem(tr("pixels"), "number")
        tip = tr("valid: no padding, the output shrinks. same: zeros around the input so that the output "
                 "is ceil(n / s) (Keras). pixels: p zeros on every side.")
        cell = combo
        if allow_number:
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
            pixels.valueChanged.connect(lambda v: self.edited.emit("padding", int(v)))
        add(tr("padding"), combo, "padding", tip, cell=cell)

        def changed(_i) -> None:
            data = combo.currentData()
            if data == "number":
                box = self.editors["padding_pixels"]
                box.setVisible(True)
                self.edited.emit("padding", int(box.value()))
            else:
                if "padding_pixels" in self.editors:
                    self.editors["padding_pixels"].setVisible(False)
                self.edited.emit("padding", data)

        combo.currentIndexChanged.connect(changed)

    # values
    def set_config(self, config: dict) -> None:
        """Show ``config`` without emitting ``edited`` (used after undo/redo and rebuilds)."""
        self._config = dict(config)
        widgets = list(self.editors.values())
        for w in widgets:
            w.blockSignals(True)
        try:
            for key, w in self.editors.items():
                if key == "padding_pixels":
                    continue
                value = _scalar(config.get(key, DEFAULT_CONFIGS.get(self.class_name, {}).get(key)))
                if key == "padding":
                    if isinstance(value, str):
                        idx = w.findData(value.lower())
                        w.setCurrentIndex(max(idx, 0))
                        if "padding_pixels" in self.editors:
                            self.editors["padding_pixels"].setVisible(False)
                    else:
                        w.setCurrentIndex(w.findData("number"))
                        box = self.editors["padding_pixels"]
                        box.setVisible(True)
                        box.setValue(int(value or 0))
                elif isinstance(w, QComboBox):
                    if key == "activation" and isinstance(value, str) and value.lower() in ("linear", ""):
                        value = None
                    idx = w.findData(value)
                    if idx < 0:
                        w.addItem(str(value), value)
                        idx = w.count() - 1
                    w.setCurrentIndex(idx)
                elif isinstance(w, QDoubleSpinBox):
                    w.setValue(float(value or 0.0))
                elif isinstance(w, QSpinBox):
                    if key == "strides" and self.class_name.endswith("Pooling2D") and value is None:
                        w.setValue(-1)
                    else:
                        w.setValue(int(value if value is not None else 0))
        finally:
            for w in widgets:
                w.blockSignals(False)


# -- the table -------------------------------------------------------------------------------------

class _LayerTable(QTableWidget):
    """A table whose rows can be dragged to reorder layers; the editor performs the move."""

    row_moved = Signal(int, int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)
        self.setDragDropOverwriteMode(False)
        self.setDropIndicatorShown(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self._pending: tuple[int, int] | None = None

    def dropEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.source() not in (self, None) or self.currentRow() < 0:
            event.ignore()
            return
        src = self.currentRow()
        dst = self.drop_destination(src, event.position().toPoint().y())
        # The editor rebuilds rows itself; Qt must not move (and lose) the row widgets.
        event.setDropAction(Qt.DropAction.IgnoreAction)
        event.accept()
        if dst != src:
            self._pending = (src, dst)
            QTimer.singleShot(0, self._emit_pending)

    def drop_destination(self, src: int, y: int) -> int:
        """Final index of row ``src`` dropped at viewport height ``y`` (upper half of a row: before it)."""
        target = self.rowAt(y)
        if target < 0:
            return self.rowCount() - 1 if y > 0 else 0
        before = y < self.visualRect(self.model().index(target, 0)).center().y()
        insert_at = target if before else target + 1     # position in the list that still holds src
        return insert_at - 1 if insert_at > src else insert_at

    def _emit_pending(self) -> None:
        if self._pending is not None:
            src, dst = self._pending
            self._pending = None
            self.row_moved.emit(src, dst)


COL_INDEX, COL_LAYER, COL_SETTINGS, COL_SHAPE, COL_PARAMS, COL_FORMULA = range(6)
# Weights, gradients and two Adam moments in float32: 20 M parameters take about 320 MB.
MAX_TRAINABLE_PARAMS = 20_000_000
ERROR_BG = QColor("#fde4e4")
ERROR_FG = QColor("#b00020")
SELECTED_BG = QColor("#d4e4fa")
SELECTED_ERROR_BG = QColor("#f6c9cf")
ERROR_ROLE = Qt.ItemDataRole.UserRole + 1


class _RowDelegate(QStyledItemDelegate):
    """A light selection colour that keeps an error row red (the edited row is usually selected)."""

    def initStyleOption(self, option, index) -> None:  # noqa: N802 (Qt override)
        super().initStyleOption(option, index)
        if index.data(ERROR_ROLE):
            option.palette.setColor(QPalette.ColorRole.Highlight, SELECTED_ERROR_BG)
            option.palette.setColor(QPalette.ColorRole.HighlightedText, ERROR_FG)
        else:
            option.palette.setColor(QPalette.ColorRole.Highlight, SELECTED_BG)
            option.palette.setColor(QPalette.ColorRole.HighlightedText, QColor("#000000"))


class ArchitectureEditor(QWidget):
    """The architecture editor panel (a central tab). See the module docstring.

    Signals
    -------
    validity_changed(bool)
        the draft became valid / invalid (the window disables Train while it is invalid)
    model_applied(object)
        "Apply" handed this ``Sequential`` to the controller
    draft_changed()
        after every change of the draft (edit, undo, redo, load)
    """

    validity_changed = Signal(bool)
    model_applied = Signal(object)
    draft_changed = Signal()

    def __init__(self, controller: QObject | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("architecture_editor")
        self.controller = controller
        self.input_shape: tuple = (1, 28, 28)
        self.num_classes: int | None = 10
        self.class_names: list[str] | None = None
        self.dataset_name = ""
        self.model_name = "my_model"
        self.rows: list = []
        self.valid = False
        self.problems: dict[int, str] = {}
        self._layers: list[dict] = []
        self._last_valid: list[dict] | None = None
        self._applied: list[dict] | None = None
        self._applied_model = None
        self._training_state = "idle"
        # Trained weights of layers loaded from a model (name -> (config, {param: array})): kept for
        # every layer whose config and parameter shapes are unchanged when the draft is built.
        self._weights: dict[str, tuple[dict, dict]] = {}
        self._row_widgets: list[LayerSettingsWidget] = []
        self._row_classes: list[str] = []

        self.undo_stack = QUndoStack(self)
        self._build_ui()
        self._connect_controller()
        self._revalidate()

    # ---------------------------------------------------------------------------------- UI
    def _build_ui(self) -> None:
        root = QVBoxLayout(self)
        root.setContentsMargins(8, 8, 8, 8)
        root.setSpacing(6)

        # start-from row
        top = QHBoxLayout()
        top.addWidget(QLabel(tr("Start from:")))
        self.start_combo = QComboBox()
        self.start_combo.setObjectName("start_combo")
        self.start_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.start_combo.setMinimumContentsLength(18)
        self.start_combo.addItem(tr("Empty model"), ("empty", None))
        if self.controller is not None:
            self.start_combo.addItem(tr("The model in the window"), ("current", None))
            self.start_combo.setCurrentIndex(1)
        for name in _preset_names():
            self.start_combo.addItem(tr("Preset: {name}").format(name=_preset_label(name)), ("preset", name))
        top.addWidget(self.start_combo)
        self.start_button = QPushButton(tr("Load"))
        self.start_button.setToolTip(tr("Replace the draft with the chosen starting point (undoable)."))
        self.start_button.clicked.connect(self._start_from_combo)
        top.addWidget(self.start_button)
        top.addSpacing(16)
        self.input_label = QLabel()
        self.input_label.setObjectName("input_label")
        self.input_label.setToolTip(tr("The input follows the dataset chosen in the window: its image size and "
                                       "number of channels (1 = grayscale, 3 = colour)."))
        self.input_label.setWordWrap(True)
        top.addWidget(self.input_label, 1)
        self.auto_classes = QCheckBox(tr("Last Dense = number of classes"))
        self.auto_classes.setChecked(True)
        self.auto_classes.setToolTip(tr("When the dataset or the starting model changes, set the units of the last "
                                        "Dense layer to the dataset's number of classes."))
        top.addWidget(self.auto_classes)
        root.addLayout(top)

        # edit toolbar
        bar = QHBoxLayout()
        self.add_button = QToolButton()
        self.add_button.setObjectName("add_layer_button")
        self.add_button.setText(tr("Add layer"))
        self.add_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.add_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        menu = QMenu(self.add_button)
        self.add_actions: dict[str, QAction] = {}
        for cls in LAYER_CLASSES:
            act = menu.addAction(f"{layer_title(cls)}  ({cls})")
            act.setToolTip(layer_help(cls))
            act.triggered.connect(lambda _c=False, c=cls: self._add_after_selection(c))
            self.add_actions[cls] = act
            if cls in ("AveragePooling2D", "Softmax"):
                menu.addSeparator()
        self.add_button.setMenu(menu)
        bar.addWidget(self.add_button)

        def button(text: str, tip: str, slot, shortcut=None, name=None) -> QPushButton:
            b = QPushButton(text)
            b.setToolTip(tip + (f"  ({QKeySequence(shortcut).toString(QKeySequence.SequenceFormat.NativeText)})"
                                if shortcut else ""))
            b.clicked.connect(slot)
            if name:
                b.setObjectName(name)
            bar.addWidget(b)
            if shortcut:
                act = QAction(self)
                act.setShortcut(QKeySequence(shortcut))
                act.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
                act.triggered.connect(slot)
                self.addAction(act)
            return b

        self.remove_button = button(tr("Remove"), tr("Remove the selected layer"), self._remove_selected,
                                    None, "remove_button")
        self.duplicate_button = button(tr("Duplicate"), tr("Copy the selected layer below it"),
                                       self._duplicate_selected, "Ctrl+D", "duplicate_button")
        self.up_button = button("▲", tr("Move the selected layer one place up (or drag the row)"),
                                self._move_selected_up, "Ctrl+Shift+Up", "up_button")
        self.down_button = button("▼", tr("Move the selected layer one place down (or drag the row)"),
                                  self._move_selected_down, "Ctrl+Shift+Down", "down_button")
        for b in (self.up_button, self.down_button):
            b.setFixedWidth(b.fontMetrics().horizontalAdvance("▲") + 28)
        bar.addSpacing(12)
        # Fixed labels (the step is in the tooltip): QUndoStack's own actions would put the whole
        # step description on the button and make the toolbar jump in width.
        self.undo_action = QAction(tr("Undo"), self)
        self.undo_action.triggered.connect(self.undo_stack.undo)
        self.undo_stack.canUndoChanged.connect(self.undo_action.setEnabled)
        self.undo_stack.undoTextChanged.connect(
            lambda text: self.undo_action.setToolTip(tr("Undo: {step}").format(step=text) + "  (Ctrl+Z)"))
        self.undo_action.setEnabled(False)
        # One binding per key: the same key twice on an action makes Qt treat it as ambiguous.
        self.undo_action.setShortcuts([QKeySequence("Ctrl+Z")])
        self.undo_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.redo_action = QAction(tr("Redo"), self)
        self.redo_action.triggered.connect(self.undo_stack.redo)
        self.undo_stack.canRedoChanged.connect(self.redo_action.setEnabled)
        self.undo_stack.redoTextChanged.connect(
            lambda text: self.redo_action.setToolTip(tr("Redo: {step}").format(step=text) + "  (Ctrl+Shift+Z)"))
        self.redo_action.setEnabled(False)
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.redo_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.addAction(self.undo_action)
        self.addAction(self.redo_action)
        self.undo_button = QToolButton()
        self.undo_button.setDefaultAction(self.undo_action)
        self.undo_button.setObjectName("undo_button")
        self.redo_button = QToolButton()
        self.redo_button.setDefaultAction(self.redo_action)
        self.redo_button.setObjectName("redo_button")
        bar.addWidget(self.undo_button)
        bar.addWidget(self.redo_button)
        self.restore_button = button(tr("Restore last valid model"),
                                     tr("Go back to the last draft in which every layer fitted"),
                                     self.restore_last_valid, None, "restore_button")
        bar.addStretch(1)
        root.addLayout(bar)

        # the table
        self.table = _LayerTable()
        self.table.setObjectName("layer_table")
        self.table.setColumnCount(6)
        self.table.setHorizontalHeaderLabels([
            "#", tr("Layer"), tr("Settings"), tr("Output"), tr("Parameters"), tr("How it is computed"),
        ])
        self.table.horizontalHeaderItem(COL_FORMULA).setToolTip(tr(
            "Output size per side: (n + 2p - f) / s + 1 (n input size, p padding, f kernel or pool size, s stride; "
            "rounded down). Parameters of a convolution: f * f * c_in * c_out + c_out (weights plus one bias per "
            "filter). Dense: inputs * units + units."))
        self.table.horizontalHeaderItem(COL_SHAPE).setToolTip(tr("Output shape: height x width x channels"))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(COL_INDEX, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COL_LAYER, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COL_SETTINGS, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COL_SHAPE, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COL_PARAMS, QHeaderView.ResizeMode.ResizeToContents)
        # The formulas take the remaining width but never less than a readable minimum: in a narrow
        # window the table scrolls sideways instead of wrapping every formula one word per line.
        header.setSectionResizeMode(COL_FORMULA, QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        self.table.setMinimumWidth(320)
        self.table.installEventFilter(self)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(True)
        self.table.setAlternatingRowColors(False)
        self.table.setItemDelegate(_RowDelegate(self.table))
        # Delete removes a layer only from the table: in a spin box it must keep deleting digits.
        delete = QAction(self.table)
        delete.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))
        delete.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        delete.triggered.connect(self._remove_selected)
        self.table.addAction(delete)
        self.table.row_moved.connect(self.move_layer)
        # Wrapped formulas need new row heights whenever their column changes width.
        self._row_height_timer = QTimer(self)
        self._row_height_timer.setSingleShot(True)
        self._row_height_timer.setInterval(0)
        self._row_height_timer.timeout.connect(self._fit_columns)
        header.sectionResized.connect(self._on_section_resized)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        root.addWidget(self.table, 1)

        self.empty_hint = QLabel(tr("The model is empty. Use 'Add layer' (for example Conv2D, MaxPooling2D, "
                                    "Flatten, Dense) or start from a preset."))
        self.empty_hint.setObjectName("empty_hint")
        self.empty_hint.setStyleSheet("color: #666; padding: 6px;")
        self.empty_hint.setWordWrap(True)
        root.addWidget(self.empty_hint)

        # totals and the parameter-sharing comparison
        self.totals_label = QLabel()
        self.totals_label.setObjectName("totals_label")
        font = self.totals_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.15)
        font.setBold(True)
        self.totals_label.setFont(font)
        root.addWidget(self.totals_label)
        self.sharing_label = QLabel()
        self.sharing_label.setObjectName("sharing_label")
        self.sharing_label.setWordWrap(True)
        self.sharing_label.setTextFormat(Qt.TextFormat.PlainText)
        root.addWidget(self.sharing_label)
        self.status_label = QLabel()
        self.status_label.setObjectName("status_label")
        self.status_label.setWordWrap(True)
        self.status_label.setTextFormat(Qt.TextFormat.PlainText)
        root.addWidget(self.status_label)

        # apply / files
        bottom = QHBoxLayout()
        self.apply_button = QPushButton(tr("Apply"))
        self.apply_button.setObjectName("apply_button")
        self.apply_button.setToolTip(tr("Use this architecture as the window's model. Layers you did not change "
                                        "keep what they learned; new or changed layers start from random weights "
                                        "(Train > Reset weights starts everything afresh)."))
        self.apply_button.clicked.connect(self.apply)
        self.train_button = QPushButton(tr("Apply and train"))
        self.train_button.setObjectName("train_button")
        self.train_button.setToolTip(tr("Apply the architecture and start training it on the current dataset."))
        self.train_button.clicked.connect(self.apply_and_train)
        bottom.addWidget(self.apply_button)
        bottom.addWidget(self.train_button)
        bottom.addStretch(1)
        self.open_button = QPushButton(tr("Open model..."))
        self.open_button.setToolTip(tr("Edit a model saved by ConvScope (.npz): its layers and learned weights."))
        self.open_button.clicked.connect(self._open_dialog)
        self.save_button = QPushButton(tr("Save model..."))
        self.save_button.setToolTip(tr("Save the architecture and its weights (.npz); the window can open it."))
        self.save_button.clicked.connect(self._save_dialog)
        self.export_button = QToolButton()
        self.export_button.setObjectName("export_button")
        self.export_button.setText(tr("Export"))
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        export_menu = QMenu(self.export_button)
        self.summary_action = export_menu.addAction(tr("Keras-style summary (.txt)..."))
        self.summary_action.triggered.connect(self._export_summary_dialog)
        self.onnx_action = export_menu.addAction(tr("ONNX model for Netron / onnxruntime (.onnx)..."))
        self.onnx_action.triggered.connect(self._export_onnx_dialog)
        self.onnx_softmax_action = export_menu.addAction(tr("ONNX: also output probabilities (softmax)"))
        self.onnx_softmax_action.setCheckable(True)
        self.onnx_softmax_action.setChecked(True)
        self.onnx_softmax_action.setToolTip(tr("Besides the logits, the ONNX model gets a second output with the "
                                               "probability of each class."))
        self.export_button.setMenu(export_menu)
        for b in (self.open_button, self.save_button, self.export_button):
            bottom.addWidget(b)
        root.addLayout(bottom)
        self._update_input_label()

    FORMULA_MIN_WIDTH = 220

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt override)
        if obj is self.table and event.type() == QEvent.Type.Resize:
            self._row_height_timer.start()
        return super().eventFilter(obj, event)

    def _on_section_resized(self, index: int, _old: int, _new: int) -> None:
        if index != COL_FORMULA:
            self._row_height_timer.start()
        else:
            self.table.resizeRowsToContents()

    def _fit_columns(self) -> None:
        """Give the formula column the width left over (at least FORMULA_MIN_WIDTH), then fit row heights."""
        header = self.table.horizontalHeader()
        used = sum(header.sectionSize(c) for c in range(self.table.columnCount()) if c != COL_FORMULA)
        width = max(self.FORMULA_MIN_WIDTH, self.table.viewport().width() - used)
        if header.sectionSize(COL_FORMULA) != width:
            header.resizeSection(COL_FORMULA, width)  # sectionResized then fits the rows
        else:
            self.table.resizeRowsToContents()

    # ------------------------------------------------------------------------- controller wiring
    def _connect_controller(self) -> None:
        c = self.controller
        if c is None:
            return
        for signal_name, slot in (("dataset_changed", self.on_dataset_changed),
                                  ("model_changed", self.on_model_changed),
                                  ("state_changed", self.on_state_changed)):
            signal = getattr(c, signal_name, None)
            if signal is not None:
                signal.connect(slot)
        dataset = getattr(c, "dataset", None)
        if dataset is not None:
            self.on_dataset_changed(dataset)
        model = getattr(c, "model", None)
        if model is not None and getattr(model, "layers", None):
            self.load_model_object(model, text=tr("Load the window's model"))
            self.undo_stack.clear()
            self._applied, self._applied_model = self.layer_configs(), model

    def on_dataset_changed(self, dataset) -> None:
        """The input follows the dataset; the last Dense follows its class count (when enabled)."""
        shape = tuple(int(v) for v in getattr(dataset, "input_shape", self.input_shape))
        self.set_input(shape, getattr(dataset, "num_classes", self.num_classes),
                       name=str(getattr(dataset, "name", "") or ""),
                       class_names=list(getattr(dataset, "class_names", []) or []) or None)

    def on_model_changed(self, model) -> None:
        """A model chosen elsewhere (preset menu, file) becomes the draft unless the draft has unapplied edits."""
        if model is None or model is self._applied_model:
            return
        if self.is_dirty():
            self._set_status_note(tr("The window's model changed. Your draft has changes that were not applied; "
                                     "choose 'Start from: The model in the window' to edit the new one."))
            return
        self.load_model_object(model, text=tr("Load the window's model"))
        self._applied, self._applied_model = self.layer_configs(), model

    def on_state_changed(self, state: str) -> None:
        self._training_state = str(state)
        self._update_buttons()

    # ------------------------------------------------------------------------------- public API
    def layer_configs(self) -> list[dict]:
        """A deep copy of the draft: ``[{"class_name": ..., "config": {...}}, ...]``."""
        return copy.deepcopy(self._layers)

    @property
    def total_params(self) -> int:
        # A row whose output is known was counted by the engine (a class-count complaint on the last
        # row keeps its shape and count); rows after a shape error are unknown.
        return sum(int(r.params or 0) for r in self.rows if r.output_shape is not None)

    @property
    def is_valid(self) -> bool:
        return self.valid

    def is_dirty(self) -> bool:
        """The draft holds edits that were not applied to the window's model."""
        return bool(self._layers) and self._layers != self._applied

    def set_input(self, input_shape: tuple, num_classes: int | None, name: str = "",
                  class_names: list[str] | None = None) -> None:
        """Set the input shape ``(C, H, W)`` and class count (from the dataset) and revalidate."""
        self.input_shape = tuple(int(v) for v in input_shape)
        self.num_classes = int(num_classes) if num_classes else None
        self.dataset_name = name
        self.class_names = class_names
        self._update_input_label()
        # A draft that mirrors the window's model is left alone: the window sends the model it keeps or
        # picks for the new dataset through model_changed. Only a draft being edited is adjusted here.
        if self.auto_classes.isChecked() and self._layers and self.is_dirty():
            fixed = self._with_class_count(self._layers)
            if fixed != self._layers:
                self._push(fixed, tr("Match the dataset's {n} classes").format(n=self.num_classes))
                return
        self._revalidate()

    def new_empty(self) -> None:
        self._push([], tr("Start from an empty model"), select=-1)

    def load_preset(self, name: str) -> None:
        """Start from preset ``name`` with the dataset's class count (undoable).

        The layers are taken unbuilt, so a preset that does not fit the current input still loads and
        shows on which layer and why it does not fit.
        """
        from engine import presets

        preset = presets.PRESETS.get(name)
        if preset is None:
            raise ConvScopeError(tr("Unknown preset {name}.").format(name=name))
        model = _network().Sequential(preset.layers(int(self.num_classes or preset.num_classes)), name=name)
        self.model_name = str(name)
        self._weights.clear()
        self._push(self._configs_of(model), tr("Start from preset {name}").format(name=name), select=0)

    def load_model_object(self, model, text: str | None = None, keep_weights: bool = True) -> None:
        """Make ``model``'s layers the draft (undoable) and remember its weights for unchanged layers."""
        configs = self._configs_of(model)
        self.model_name = str(getattr(model, "name", None) or self.model_name)
        if keep_weights:
            self._remember_weights(model)
        if self.auto_classes.isChecked() and not self._weights:
            configs = self._with_class_count(configs)
        self._push(configs, text or tr("Load model"), select=0)

    def add_layer(self, class_name: str, index: int | None = None, **config) -> int:
        """Insert a new layer (default hyperparameters updated by ``config``); returns its index."""
        if class_name not in DEFAULT_CONFIGS:
            raise ValueError(f"unknown layer class {class_name!r}; choose one of {', '.join(LAYER_CLASSES)}")
        layers = self.layer_configs()
        index = len(layers) if index is None else max(0, min(int(index), len(layers)))
        cfg = dict(DEFAULT_CONFIGS[class_name])
        if (class_name == "Dense" and index == len(layers) and "units" not in config
                and self.auto_classes.isChecked() and self.num_classes):
            # A Dense added at the end is the output layer: one raw score (logit) per class.
            cfg.update(units=int(self.num_classes), activation=None)
        cfg.update(config)
        cfg["name"] = self._unique_name(class_name, layers)
        layers.insert(index, {"class_name": class_name, "config": cfg})
        self._push(layers, tr("Add {layer}").format(layer=class_name), select=index)
        return index

    def remove_layer(self, index: int) -> None:
        layers = self.layer_configs()
        if not 0 <= index < len(layers):
            return
        removed = layers.pop(index)
        self._push(layers, tr("Remove {layer}").format(layer=removed["config"].get("name", removed["class_name"])),
                   select=min(index, len(layers) - 1))

    def duplicate_layer(self, index: int) -> int:
        layers = self.layer_configs()
        if not 0 <= index < len(layers):
            return -1
        twin = copy.deepcopy(layers[index])
        twin["config"]["name"] = self._unique_name(twin["class_name"], layers)
        layers.insert(index + 1, twin)
        self._push(layers, tr("Duplicate {layer}").format(layer=layers[index]["config"].get("name", "")),
                   select=index + 1)
        return index + 1

    def move_layer(self, src: int, dst: int) -> None:
        layers = self.layer_configs()
        if not (0 <= src < len(layers)) or src == dst:
            return
        dst = max(0, min(dst, len(layers) - 1))
        item = layers.pop(src)
        layers.insert(dst, item)
        self._push(layers, tr("Move {layer}").format(layer=item["config"].get("name", "")), select=dst)

    def set_layer_param(self, index: int, key: str, value) -> None:
        """Change one hyperparameter of layer ``index`` (an undoable step; repeated edits merge)."""
        layers = self.layer_configs()
        if not 0 <= index < len(layers):
            return
        cfg = layers[index]["config"]
        new_value = _like(cfg.get(key), value)
        if cfg.get(key, object()) == new_value:
            return
        cfg[key] = new_value
        self._push(layers, tr("Set {key} of {layer} to {value}").format(
            key=key, layer=cfg.get("name", ""), value=value), select=index, merge_key=(index, key))

    def undo(self) -> None:
        self.undo_stack.undo()

    def redo(self) -> None:
        self.undo_stack.redo()

    def restore_last_valid(self) -> None:
        if self._last_valid is not None and self._last_valid != self._layers:
            self._push(copy.deepcopy(self._last_valid), tr("Restore last valid model"), select=self.selected_row())

    def selected_row(self) -> int:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        return rows[0].row() if rows else -1

    def select_row(self, row: int) -> None:
        if 0 <= row < self.table.rowCount():
            self.table.selectionModel().select(
                self.table.model().index(row, 0),
                QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
            self.table.setCurrentCell(row, COL_LAYER)
        else:
            self.table.clearSelection()

    def row_message(self, index: int) -> str:
        """The problem shown on row ``index`` ('' when the layer is fine)."""
        return self.problems.get(index, "")

    def settings_widget(self, index: int) -> LayerSettingsWidget:
        return self._row_widgets[index]

    def build_model(self):
        """Build the draft into a ``Sequential`` for the current input (raises ConvScopeError if invalid)."""
        if not self.valid:
            first = min(self.problems) if self.problems else None
            raise ConvScopeError(self.problems.get(first, tr("The model is empty: add layers first.")))
        network = _network()
        from engine.layers import layer_from_config

        model = network.Sequential([layer_from_config(copy.deepcopy(c)) for c in self._layers],
                                   name=self.model_name)
        self._remember_window_weights()
        try:
            model.build(input_shape=self.input_shape, seed=0)
        except MemoryError:
            raise ConvScopeError(tr("Not enough memory for a model with {n} parameters: make it smaller.").format(
                n=f"{self.total_params:,}")) from None
        self._restore_weights(model)
        return model

    def current_model(self):
        """The model to save/export: the controller's trained copy when it is exactly this draft."""
        if (self._applied is not None and self._applied == self._layers and self.controller is not None
                and hasattr(self.controller, "current_model_copy")):
            try:
                model = self.controller.current_model_copy()
            except Exception:  # noqa: BLE001 - fall back to building the draft
                model = None
            if model is not None and self._configs_of(model) == self._layers:
                return model
        return self.build_model()

    def apply(self) -> object | None:
        """Make the draft the controller's model; returns it (``None`` when invalid or refused)."""
        if not self.valid:
            self._set_status_note(self.problems.get(min(self.problems), "") if self.problems else "")
            return None
        try:
            model = self.build_model()
        except ConvScopeError as exc:
            self._set_status_note(tr_error(exc))
            return None
        previous = self._applied_model, self._applied
        # Set before handing over: the controller's model_changed echo must be recognised as ours.
        self._applied_model = model
        self._applied = self.layer_configs()
        if self.controller is not None and hasattr(self.controller, "set_model"):
            try:
                accepted = self.controller.set_model(model)
            except ConvScopeError as exc:
                accepted, message = False, tr_error(exc)
            else:
                message = getattr(self.controller, "last_error", "") or ""
            if accepted is False:  # the controller refused it (it reports why through error_occurred)
                self._applied_model, self._applied = previous
                self._revalidate()
                self._set_status_note(message or tr("The window did not accept this model."))
                return None
        self.model_applied.emit(model)
        self._revalidate()
        self._set_status_note(tr("Applied: the window now trains this model ({n} parameters).").format(
            n=f"{self.total_params:,}"))
        return model

    def apply_and_train(self) -> None:
        model = self.apply()
        if model is not None and self.controller is not None and hasattr(self.controller, "start"):
            self.controller.start()

    def save_model(self, path) -> Path:
        from engine.persistence import save_model

        model = self.current_model()
        metadata = {"dataset": self.dataset_name, "class_names": self.class_names or [],
                    "edited_in": "architecture editor"}
        path = Path(path)
        result = save_model(path, model, metadata)
        self._remember_weights(model)
        return Path(result) if result else path

    def open_model(self, path) -> None:
        from engine.persistence import load_model

        model, _metadata = load_model(Path(path))
        self._weights.clear()
        self.load_model_object(model, text=tr("Open {file}").format(file=Path(path).name))

    def export_summary(self, path) -> Path:
        path = Path(path)
        if path.suffix.lower() != ".txt":
            path = path.with_name(path.name + ".txt")
        text = self.current_model().summary()
        path.write_text(text + ("" if text.endswith("\n") else "\n"), encoding="utf-8")
        return path

    def export_onnx(self, path, include_softmax: bool = False) -> Path:
        from engine.onnx_export import export_onnx

        meta = {"class_names": self.class_names or [], "dataset": self.dataset_name}
        return export_onnx(self.current_model(), path, include_softmax=include_softmax, metadata=meta)

    # --------------------------------------------------------------------------- draft handling
    def _push(self, layers: list[dict], text: str, select: int | None = None, merge_key=None) -> None:
        layers = [_clean_config(c) for c in layers]
        if layers == self._layers and merge_key is None:
            return
        before = self.layer_configs()
        sel_before = self.selected_row()
        sel_after = sel_before if select is None else select
        self.undo_stack.push(_DraftCommand(self, before, layers, text, sel_before, sel_after, merge_key))

    def _show_draft(self, layers: list[dict], select: int) -> None:
        """Called by undo commands: make ``layers`` the draft and refresh everything."""
        self._layers = copy.deepcopy(layers)
        self._revalidate()
        if select is not None and select >= 0:
            self.select_row(min(select, len(self._layers) - 1))
        self.draft_changed.emit()

    def _configs_of(self, model) -> list[dict]:
        return [_clean_config(layer.get_config()) for layer in model.layers]

    def _unique_name(self, class_name: str, layers: list[dict]) -> str:
        base = _BASE_NAMES.get(class_name, class_name.lower())
        taken = {c["config"].get("name") for c in layers}
        if base not in taken:
            return base
        k = 1
        while f"{base}_{k}" in taken:
            k += 1
        return f"{base}_{k}"

    def _with_class_count(self, layers: list[dict]) -> list[dict]:
        """The last Dense layer gets the dataset's class count (when it is the model's output layer)."""
        if not self.num_classes:
            return copy.deepcopy(layers)
        layers = copy.deepcopy(layers)
        idx = self._output_dense_index(layers)
        if idx is not None:
            layers[idx]["config"]["units"] = int(self.num_classes)
        return layers

    @staticmethod
    def _output_dense_index(layers: list[dict]) -> int | None:
        """Index of the Dense layer that produces the scores: the last one, if only activations/dropout follow."""
        for i in range(len(layers) - 1, -1, -1):
            cls = layers[i]["class_name"]
            if cls == "Dense":
                return i
            if cls not in ("ReLU", "Sigmoid", "Tanh", "LeakyReLU", "Softmax", "Dropout"):
                return None
        return None

    def _remember_weights(self, model) -> None:
        try:
            weights = model.get_weights()
        except Exception:  # noqa: BLE001 - an unbuilt model simply has nothing to remember
            return
        for layer, w in zip(model.layers, weights):
            if w:
                self._weights[layer.name] = (_clean_config(layer.get_config()), {k: v.copy() for k, v in w.items()})

    def _remember_window_weights(self) -> None:
        """What the window's model has learned since it was applied or loaded is kept for unchanged layers."""
        if self._applied is None or self.controller is None or not hasattr(self.controller, "current_model_copy"):
            return
        if getattr(self.controller, "model", None) is not self._applied_model:
            return  # the window switched to an unrelated model: its weights are not this draft's
        try:
            model = self.controller.current_model_copy()
        except Exception:  # noqa: BLE001 - no weights to keep is not an error
            return
        if model is not None and getattr(model, "built", True):
            self._remember_weights(model)

    def _restore_weights(self, model) -> None:
        if not self._weights:
            return
        weights = model.get_weights()
        changed = False
        for i, layer in enumerate(model.layers):
            saved = self._weights.get(layer.name)
            if not saved or not weights[i]:
                continue
            cfg, arrays = saved
            if cfg != _clean_config(layer.get_config()):
                continue
            if set(arrays) != set(weights[i]) or any(arrays[k].shape != weights[i][k].shape for k in arrays):
                continue
            weights[i] = {k: v.copy() for k, v in arrays.items()}
            changed = True
        if changed:
            model.set_weights(weights)

    # ------------------------------------------------------------------------------ validation
    def _revalidate(self) -> None:
        network = _network()
        try:
            # num_classes: the engine also checks that the network ends in one score per class.
            self.rows = list(network.validate_architecture(copy.deepcopy(self._layers), self.input_shape,
                                                           num_classes=self.num_classes))
        except Exception as exc:  # noqa: BLE001 - validate_architecture should never raise; stay alive if it does
            self.rows = []
            self.problems = {0: tr_error(exc)}
        else:
            self.problems = {r.index if r.index is not None else i: tr_error(getattr(r, "exception", None) or r.error)
                             for i, r in enumerate(self.rows) if r.error}
            if not self.problems:
                self._check_size()
        valid = bool(self._layers) and not self.problems and len(self.rows) == len(self._layers)
        if valid:
            self._last_valid = copy.deepcopy(self._layers)
        changed = valid != self.valid
        self.valid = valid
        self._sync_table()
        self._update_summary()
        self._update_buttons()
        if changed:
            self.validity_changed.emit(valid)

    def _check_size(self) -> None:
        """Refuse models too big to train here, on the layer that makes them big (a lesson in itself)."""
        total = self.total_params
        if total <= MAX_TRAINABLE_PARAMS or not self.rows:
            return
        biggest = max(range(len(self.rows)), key=lambda i: int(self.rows[i].params or 0))
        self.problems[biggest] = tr(
            "The model would have {total} parameters, more than this computer can train ({limit} at most); "
            "this layer alone has {params}. Use fewer filters or units, or shrink the maps with pooling or "
            "a stride before Flatten."
        ).format(total=f"{total:,}", limit=f"{MAX_TRAINABLE_PARAMS:,}", params=f"{int(self.rows[biggest].params):,}")

    # ---------------------------------------------------------------------------------- table
    def _sync_table(self) -> None:
        classes = [c["class_name"] for c in self._layers]
        table = self.table
        if classes != self._row_classes:
            selected = self.selected_row()
            table.setRowCount(0)
            self._row_widgets = []
            table.setRowCount(len(self._layers))
            for i, layer in enumerate(self._layers):
                editor = LayerSettingsWidget(layer["class_name"], layer["config"])
                editor.edited.connect(self._make_row_slot(editor))
                table.setCellWidget(i, COL_SETTINGS, editor)
                self._row_widgets.append(editor)
            self._row_classes = classes
            if selected >= 0:
                self.select_row(min(selected, len(classes) - 1))
        else:
            for widget, layer in zip(self._row_widgets, self._layers):
                widget.set_config(layer["config"])
        for i, layer in enumerate(self._layers):
            self._fill_row(i, layer, self.rows[i] if i < len(self.rows) else None)
        self._fit_columns()
        self.empty_hint.setVisible(not self._layers)

    def _make_row_slot(self, widget: LayerSettingsWidget):
        # Bound to the widget, not to an index: rows move, widgets are rebuilt when they do.
        def slot(key: str, value) -> None:
            try:
                index = self._row_widgets.index(widget)
            except ValueError:
                return
            self.set_layer_param(index, key, value)
        return slot

    def _item(self, row: int, col: int, text: str, tip: str = "") -> QTableWidgetItem:
        item = self.table.item(row, col)
        if item is None:
            item = QTableWidgetItem()
            self.table.setItem(row, col, item)
        item.setText(text)
        item.setToolTip(tip)
        item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled)
        item.setBackground(QBrush())
        item.setForeground(QBrush())
        item.setData(ERROR_ROLE, False)
        return item

    def _fill_row(self, i: int, layer: dict, row) -> None:
        cls = layer["class_name"]
        name = layer["config"].get("name", "")
        self._item(i, COL_INDEX, str(i + 1))
        self._item(i, COL_LAYER, f"{cls}\n{name}", f"{layer_title(cls)}: {layer_help(cls)}")
        problem = self.problems.get(i, "")
        known = row is not None and row.output_shape is not None
        shape = format_shape(tuple(row.output_shape)) if known else "—"
        params = f"{int(row.params or 0):,}" if known else "—"
        self._item(i, COL_SHAPE, shape, tr("Output shape: height x width x channels"))
        self._item(i, COL_PARAMS, params, tr("Weights and biases this layer learns"))
        lines, tip = self._explain(layer, row)
        if problem:
            # The teaching message first; what is still known (e.g. the formulas of a layer whose only
            # problem is the class count) below it.
            text = "\n".join(["⚠ " + problem] + (lines if known else []))
            tip = problem + ("\n\n" + tip if tip else "")
        else:
            text = "\n".join(lines)
        formula = self._item(i, COL_FORMULA, text, tip)
        if problem:
            for col in (COL_INDEX, COL_LAYER, COL_SHAPE, COL_PARAMS, COL_FORMULA):
                it = self.table.item(i, col)
                it.setBackground(QBrush(ERROR_BG))
                it.setForeground(QBrush(ERROR_FG))
                it.setData(ERROR_ROLE, True)
            formula.setFont(self._bold_font())
        self._row_widgets[i].set_error(problem)
        if not problem:
            formula.setFont(QFont())

    def _bold_font(self) -> QFont:
        f = QFont()
        f.setBold(True)
        return f

    def _explain(self, layer: dict, row) -> tuple[list[str], str]:
        """Formula lines (from the engine's SummaryRow) and the parameter-sharing comparison tooltip."""
        if row is None:
            return [], ""
        if row.output_shape is None:
            return ([] if row.error else [tr("unknown until the layer above is fixed")]), ""
        lines = []
        if getattr(row, "size_formula", ""):
            lines.append(tr("size: {formula}").format(formula=row.size_formula))
        if getattr(row, "formula", ""):
            lines.append(tr("parameters: {formula}").format(formula=row.formula))
        tip = ""
        if layer["class_name"] == "Conv2D" and row.input_shape and row.output_shape:
            dense = dense_equivalent_params(tuple(row.input_shape), tuple(row.output_shape))
            if dense is not None:
                # Short in the table (the tooltip and the line under the table say it in full).
                lines.append(tr("a Dense layer would need {dense}").format(dense=f"{dense:,}"))
                tip = self._sharing_tip(layer, row, dense)
        if not lines:
            lines.append(tr("no parameters, shape unchanged") if tuple(row.input_shape or ()) == tuple(
                row.output_shape or ()) else tr("no parameters"))
        return lines, tip

    def _sharing_tip(self, layer: dict, row, dense: int) -> str:
        k = _scalar(layer["config"].get("kernel_size"))
        cin = tuple(row.input_shape)[0] if len(tuple(row.input_shape)) == 3 else "?"
        return tr(
            "Parameter sharing. A Dense layer connects every one of the {inp} input values to every output "
            "value with its own weight, so producing the same {out} outputs would need {dense} parameters. "
            "The convolution reuses each {k} x {k} x {c} filter at every position of the output, so it needs "
            "only {params} and its count does not depend on the image size."
        ).format(inp=format_shape(tuple(row.input_shape)), out=format_shape(tuple(row.output_shape)),
                 dense=f"{dense:,}", k=k, c=cin, params=f"{int(row.params):,}")

    # ------------------------------------------------------------------------------- summary
    def _update_input_label(self) -> None:
        src = f" ({tr(self.dataset_name)})" if self.dataset_name else ""
        classes = (tr("{n} classes").format(n=self.num_classes)) if self.num_classes else tr("classes unknown")
        self.input_label.setText(tr("Input: {shape}{source} · {classes}").format(
            shape=format_shape(self.input_shape), source=src, classes=classes))

    def _update_summary(self) -> None:
        if not self._layers:
            self.totals_label.setText(tr("Total parameters: 0"))
            self.sharing_label.setText("")
            self.sharing_label.setToolTip("")
        else:
            suffix = "" if self.valid else tr(" (layers that fit so far)")
            self.totals_label.setText(tr("Total parameters: {n}").format(n=f"{self.total_params:,}") + suffix)
            self._update_sharing_line()
        if not self._layers:
            self._set_status(tr("Add layers to build a network."), ok=None)
        elif self.valid:
            note = tr("Valid: every layer fits. Apply to train it.")
            if self._applied is not None and self._applied == self._layers:
                note = tr("Valid and applied: the window trains this model.")
            self._set_status("✔ " + note, ok=True)
        else:
            i = min(self.problems) if self.problems else 0
            name = self._layers[i]["config"].get("name", "") if i < len(self._layers) else ""
            self._set_status("✖ " + tr("Layer {i} ({name}): {message}  Train is disabled until this is fixed.")
                             .format(i=i + 1, name=name, message=self.problems.get(i, "")), ok=False)

    def _update_sharing_line(self) -> None:
        """Parameter sharing at a glance: the first convolution against a Dense layer doing the same job."""
        for layer, row in zip(self._layers, self.rows):
            if layer["class_name"] != "Conv2D" or row.output_shape is None:
                continue
            dense = dense_equivalent_params(tuple(row.input_shape), tuple(row.output_shape))
            if dense is None:
                break
            self.sharing_label.setText(tr(
                "Parameter sharing: {name} needs {params} parameters; a Dense layer making the same "
                "{out} outputs from its {inp} input would need {dense}."
            ).format(name=layer["config"].get("name", ""), params=f"{int(row.params):,}",
                     out=format_shape(tuple(row.output_shape)), inp=format_shape(tuple(row.input_shape)),
                     dense=f"{dense:,}"))
            self.sharing_label.setToolTip(self._sharing_tip(layer, row, dense))
            return
        self.sharing_label.setText(tr("Parameter sharing: add a Conv2D layer to compare it with a Dense layer."))
        self.sharing_label.setToolTip("")

    def _set_status(self, text: str, ok: bool | None) -> None:
        colour = {True: "#1b5e20", False: "#b00020", None: "#555"}[ok]
        self.status_label.setStyleSheet(f"color: {colour};" + (" font-weight: bold;" if ok is False else ""))
        self.status_label.setText(text)

    def _set_status_note(self, text: str) -> None:
        if text:
            self.status_label.setText(text)

    def _update_buttons(self) -> None:
        row = self.selected_row()
        n = len(self._layers)
        has = 0 <= row < n
        self.remove_button.setEnabled(has)
        self.duplicate_button.setEnabled(has)
        self.up_button.setEnabled(has and row > 0)
        self.down_button.setEnabled(has and row < n - 1)
        busy = self._training_state in ("training", "compiling")
        self.apply_button.setEnabled(self.valid and not busy)
        self.train_button.setEnabled(self.valid and not busy)
        tip = "" if self.valid else tr("Fix the layers marked in red first.")
        if busy:
            tip = tr("Pause or stop training before changing the model.")
        self.train_button.setToolTip(tip or tr("Apply the architecture and start training it on the current dataset."))
        self.restore_button.setEnabled(not self.valid and self._last_valid is not None)
        for w in (self.save_button, self.export_button):
            w.setEnabled(self.valid)

    # ---------------------------------------------------------------------------- UI actions
    def _add_after_selection(self, class_name: str) -> None:
        row = self.selected_row()
        self.add_layer(class_name, index=None if row < 0 else row + 1)

    def _remove_selected(self) -> None:
        row = self.selected_row()
        if row >= 0:
            self.remove_layer(row)

    def _duplicate_selected(self) -> None:
        row = self.selected_row()
        if row >= 0:
            self.duplicate_layer(row)

    def _move_selected_up(self) -> None:
        row = self.selected_row()
        if row > 0:
            self.move_layer(row, row - 1)

    def _move_selected_down(self) -> None:
        row = self.selected_row()
        if 0 <= row < len(self._layers) - 1:
            self.move_layer(row, row + 1)

    def _start_from_combo(self) -> None:
        kind, name = self.start_combo.currentData()
        try:
            if kind == "empty":
                self.new_empty()
            elif kind == "current":
                model = self.controller.current_model_copy() if self.controller is not None else None
                if model is None:
                    self._set_status_note(tr("The window has no model yet."))
                    return
                self.load_model_object(model, text=tr("Load the window's model"))
                self._applied, self._applied_model = self.layer_configs(), self.controller.model
            else:
                self.load_preset(name)
        except ConvScopeError as exc:
            self._error_box(tr("Cannot load this starting point"), tr_error(exc))

    def _error_box(self, title: str, message: str) -> None:
        QMessageBox.warning(self, title, message)

    def _dialog_start(self) -> str:
        return str(Path.home())

    def _open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, tr("Open model"), self._dialog_start(),
                                              tr("ConvScope model (*.npz)"))
        if not path:
            return
        try:
            self.open_model(path)
        except ConvScopeError as exc:
            self._error_box(tr("Cannot open this model"), tr_error(exc))
        except OSError as exc:
            self._error_box(tr("Cannot open this model"), f"{path}: {exc.strerror or exc}")

    def _save_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, tr("Save model"), str(Path(self._dialog_start()) /
                                              f"{self.model_name}.npz"), tr("ConvScope model (*.npz)"))
        if not path:
            return
        try:
            saved = self.save_model(path)
        except ConvScopeError as exc:
            self._error_box(tr("Cannot save the model"), tr_error(exc))
        except OSError as exc:
            self._error_box(tr("Cannot save the model"), f"{path}: {exc.strerror or exc}")
        else:
            self._set_status_note(tr("Saved to {path}").format(path=saved))

    def _export_summary_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, tr("Export summary"), str(Path(self._dialog_start()) /
                                              f"{self.model_name}_summary.txt"), tr("Text file (*.txt)"))
        if not path:
            return
        try:
            saved = self.export_summary(path)
        except ConvScopeError as exc:
            self._error_box(tr("Cannot export the summary"), tr_error(exc))
        except OSError as exc:
            self._error_box(tr("Cannot export the summary"), f"{path}: {exc.strerror or exc}")
        else:
            self._set_status_note(tr("Summary written to {path}").format(path=saved))

    def _export_onnx_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, tr("Export ONNX"), str(Path(self._dialog_start()) /
                                              f"{self.model_name}.onnx"), tr("ONNX model (*.onnx)"))
        if not path:
            return
        try:
            saved = self.export_onnx(path, include_softmax=self.onnx_softmax_action.isChecked())
        except ConvScopeError as exc:
            self._error_box(tr("Cannot export ONNX"), tr_error(exc))
        except OSError as exc:
            self._error_box(tr("Cannot export ONNX"), f"{path}: {exc.strerror or exc}")
        else:
            self._set_status_note(tr("ONNX model written to {path} (open it in Netron or onnxruntime)").format(
                path=saved))


def _preview(argv: list[str]) -> int:  # pragma: no cover - manual preview
    """Standalone preview: ``python -m gui.widgets.architecture_editor [--invalid] [--screenshot out.png]``."""
    import argparse
    import sys

    from PySide6.QtWidgets import QApplication

    from gui import i18n

    parser = argparse.ArgumentParser()
    parser.add_argument("--screenshot", default=None)
    parser.add_argument("--invalid", action="store_true", help="show a teaching error (kernel too large)")
    parser.add_argument("--lang", default="en")
    parser.add_argument("--preset", default=None)
    parser.add_argument("--no-selection", action="store_true")
    parser.add_argument("--size", default="1400x760")
    args = parser.parse_args(argv)
    i18n.set_language(args.lang)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    editor = ArchitectureEditor()
    editor.set_input((1, 28, 28), 10, name="MNIST")
    if args.preset:
        editor.load_preset(args.preset)
    else:
        editor.add_layer("Conv2D", filters=6, kernel_size=5, padding="same", activation="relu")
        editor.add_layer("MaxPooling2D")
        editor.add_layer("Conv2D", filters=16, kernel_size=5, activation="relu")
        editor.add_layer("MaxPooling2D")
        editor.add_layer("Flatten")
        editor.add_layer("Dense", units=120)
        editor.add_layer("Dense", units=84)
        editor.add_layer("Dense", units=10, activation=None)
    if args.invalid:
        editor.set_layer_param(2, "kernel_size", 16)
        editor.select_row(2)
    else:
        editor.select_row(0)
    if args.no_selection:
        editor.table.clearSelection()
    w, h = (int(v) for v in args.size.split("x"))
    editor.resize(w, h)
    editor.setWindowTitle("ConvScope · architecture editor")
    editor.show()
    if args.screenshot:
        def shoot() -> None:
            editor.grab().save(args.screenshot, "PNG")
            app.quit()

        QTimer.singleShot(500, editor, shoot)
    return app.exec()


if __name__ == "__main__":  # pragma: no cover
    import sys

    sys.exit(_preview(sys.argv[1:]))
