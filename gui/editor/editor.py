"""Build your own network: the architecture editor panel (a central tab).

It composes a widget-free :class:`~gui.editor.draft.DraftModel` (layer configs, undo/redo, the
engine's validation) with small views on it: the :class:`~gui.editor.edit_toolbar.EditToolbar`, the
:class:`~gui.editor.layer_table.LayerTable` (shapes, parameters and formulas from the engine, errors on
the offending row) and the summary lines under it. The editor adds what needs the window: the
starting point (empty, the window's model, a preset), the dataset's input, "Apply" (build the draft
into a ``Sequential`` and hand it to the ``TrainingController``), save/open, a Keras-style summary
and ONNX export.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QMessageBox,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from engine.errors import ConvScopeError
from engine.layers import layer_from_config
from engine.network import Sequential
from engine.onnx_export import export_onnx
from engine.persistence import load_model, save_model
from engine.presets import PRESETS
from engine.shapes import format_shape
from gui.editor import file_dialogs
from gui.editor.draft import DraftModel, configs_of
from gui.editor.draft_summary import DraftSummary
from gui.editor.edit_toolbar import EditToolbar
from gui.editor.input_bar import InputShapeBar
from gui.editor.kept_weights import KeptWeights
from gui.editor.layer_table import LayerTable
from gui.i18n import tr, tr_error

_BUSY_STATES = ("training", "compiling")


class ArchitectureEditor(QWidget):
    """The architecture editor panel. See the module docstring.

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
        self.draft = DraftModel()
        self.dataset_name = ""
        self.class_names: list[str] | None = None
        self.model_name = "my_model"
        self.kept_weights = KeptWeights()
        self._applied_model = None
        self._training_state = "idle"
        self._was_valid = False
        self._build_ui()
        self.draft.subscribe(self._on_draft_changed)
        self._on_draft_changed()
        self._connect_controller()

    # ---------------------------------------------------------------------------------- UI
    def _build_ui(self) -> None:
        root = QVBoxLayout(self)
        root.setContentsMargins(8, 8, 8, 8)
        root.setSpacing(6)
        root.addLayout(self._start_row())
        self.input_bar = InputShapeBar(self.draft)
        root.addWidget(self.input_bar)
        self.toolbar = EditToolbar(self.draft, shortcut_owner=self)
        root.addWidget(self.toolbar)
        # The toolbar's buttons are the editor's (tests and the window reach them by name).
        t = self.toolbar
        self.add_button, self.add_actions, self.restore_button = t.add_button, t.add_actions, t.restore_button
        self.remove_button, self.duplicate_button = t.remove_button, t.duplicate_button
        self.up_button, self.down_button = t.up_button, t.down_button
        self.undo_action, self.redo_action = t.undo_action, t.redo_action
        self.table = LayerTable(self.draft)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        root.addWidget(self.table, 1)
        self.empty_hint = QLabel(tr("The model is empty. Use 'Add layer' (for example Conv2D, MaxPooling2D, "
                                    "Flatten, Dense) or start from a preset."))
        self.empty_hint.setObjectName("empty_hint")
        self.empty_hint.setStyleSheet("color: #666; padding: 6px;")
        self.empty_hint.setWordWrap(True)
        root.addWidget(self.empty_hint)
        # totals, parameter sharing at a glance, status
        self.summary = DraftSummary(self.draft)
        self.totals_label = self.summary.totals_label
        self.sharing_label = self.summary.sharing_label
        self.status_label = self.summary.status_label
        root.addWidget(self.summary)
        root.addLayout(self._bottom_row())
        self._update_input_label()

    def _start_row(self) -> QHBoxLayout:
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
        for key, preset in PRESETS.items():
            self.start_combo.addItem(tr("Preset: {name}").format(name=tr(preset.display_name)), ("preset", key))
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
        self.auto_classes.toggled.connect(self._on_auto_classes_toggled)
        top.addWidget(self.auto_classes)
        return top

    def _bottom_row(self) -> QHBoxLayout:
        bottom = QHBoxLayout()
        self.apply_button = QPushButton(tr("Apply"))
        self.apply_button.setObjectName("apply_button")
        self.apply_button.setToolTip(tr("Use this architecture as the window's model. Layers you did not change "
                                        "keep what they learned; new or changed layers start from random weights "
                                        "(Train > Reset weights starts everything afresh)."))
        self.apply_button.clicked.connect(self.apply)
        self.train_button = QPushButton(tr("Apply and train"))
        self.train_button.setObjectName("train_button")
        self.train_button.clicked.connect(self.apply_and_train)
        bottom.addWidget(self.apply_button)
        bottom.addWidget(self.train_button)
        bottom.addStretch(1)
        self.open_button = QPushButton(tr("Open model..."))
        self.open_button.setToolTip(tr("Edit a model saved by ConvScope (.npz): its layers and learned weights."))
        self.open_button.clicked.connect(lambda: file_dialogs.open_model(self))
        self.save_button = QPushButton(tr("Save model..."))
        self.save_button.setToolTip(tr("Save the architecture and its weights (.npz); the window can open it."))
        self.save_button.clicked.connect(lambda: file_dialogs.save_model(self))
        self.export_button = QToolButton()
        self.export_button.setObjectName("export_button")
        self.export_button.setText(tr("Export"))
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.export_button)
        self.summary_action = menu.addAction(tr("Keras-style summary (.txt)..."))
        self.summary_action.triggered.connect(lambda: file_dialogs.export_summary(self))
        self.onnx_action = menu.addAction(tr("ONNX model for Netron / onnxruntime (.onnx)..."))
        self.onnx_action.triggered.connect(
            lambda: file_dialogs.export_onnx(self, self.onnx_softmax_action.isChecked()))
        self.onnx_softmax_action = menu.addAction(tr("ONNX: also output probabilities (softmax)"))
        self.onnx_softmax_action.setCheckable(True)
        self.onnx_softmax_action.setChecked(True)
        self.onnx_softmax_action.setToolTip(tr("Besides the logits, the ONNX model gets a second output with the "
                                               "probability of each class."))
        self.export_button.setMenu(menu)
        for b in (self.open_button, self.save_button, self.export_button):
            bottom.addWidget(b)
        return bottom

    # ------------------------------------------------------------------------- controller wiring
    def _connect_controller(self) -> None:
        c = self.controller
        if c is None:
            return
        c.dataset_changed.connect(self.on_dataset_changed)
        c.model_changed.connect(self.on_model_changed)
        c.state_changed.connect(self.on_state_changed)
        if c.dataset is not None:
            self.on_dataset_changed(c.dataset)
        if c.model is not None and c.model.layers:
            self.load_model_object(c.model, text=tr("Load the window's model"))
            self.draft.clear_history()
            self._mark_applied(c.model)

    def _mark_applied(self, model) -> None:
        self.draft.mark_applied()
        self._applied_model = model
        self.summary.refresh()

    def on_dataset_changed(self, dataset) -> None:
        """The input follows the dataset; the last Dense follows its class count (when enabled)."""
        self.set_input(tuple(int(v) for v in dataset.input_shape), dataset.num_classes,
                       name=str(dataset.name or ""), class_names=list(dataset.class_names or []) or None)

    def on_model_changed(self, model) -> None:
        """A model chosen elsewhere (preset menu, file) becomes the draft unless the draft has unapplied edits."""
        if model is None or model is self._applied_model:
            return
        if self.is_dirty():
            self.show_note(tr("The window's model changed. Your draft has changes that were not applied; "
                              "choose 'Start from: The model in the window' to edit the new one."))
            return
        self.load_model_object(model, text=tr("Load the window's model"))
        self._mark_applied(model)

    def _on_auto_classes_toggled(self, on: bool) -> None:
        self.draft.match_class_count = bool(on)

    def on_state_changed(self, state: str) -> None:
        self._training_state = str(state)
        self._update_buttons()

    # ------------------------------------------------------------------------------- the draft
    @property
    def input_shape(self) -> tuple:
        return self.draft.input_shape

    @property
    def num_classes(self) -> int | None:
        return self.draft.num_classes

    @property
    def rows(self) -> list:
        return self.draft.rows

    @property
    def problems(self) -> dict[int, str]:
        return self.draft.problems

    @property
    def is_valid(self) -> bool:
        return self.draft.valid

    @property
    def total_params(self) -> int:
        return self.draft.total_params

    def layer_configs(self) -> list[dict]:
        return self.draft.layer_configs()

    def is_dirty(self) -> bool:
        return self.draft.is_dirty()

    def row_message(self, index: int) -> str:
        return self.draft.row_message(index)

    def settings_widget(self, index: int):
        return self.table.settings_widget(index)

    def selected_row(self) -> int:
        return self.table.selected_row()

    def select_row(self, row: int) -> None:
        self.table.select_row(row)

    def set_input(self, input_shape: tuple, num_classes: int | None, name: str = "",
                  class_names: list[str] | None = None) -> None:
        """Set the input shape ``(C, H, W)`` and class count (from the dataset) and revalidate."""
        self.dataset_name = name
        self.class_names = class_names
        self.draft.set_input(input_shape, num_classes)
        self._update_input_label()

    # Each of these is one undoable step of the draft.
    def add_layer(self, class_name: str, index: int | None = None, **config) -> int:
        return self.draft.add_layer(class_name, index, **config)

    def remove_layer(self, index: int) -> None:
        self.draft.remove_layer(index)

    def duplicate_layer(self, index: int) -> int:
        return self.draft.duplicate_layer(index)

    def move_layer(self, src: int, dst: int) -> None:
        self.draft.move_layer(src, dst)

    def set_layer_param(self, index: int, key: str, value) -> None:
        self.draft.set_param(index, key, value)

    def undo(self) -> None:
        self.draft.undo()

    def redo(self) -> None:
        self.draft.redo()

    def restore_last_valid(self) -> None:
        self.draft.restore_last_valid()

    def new_empty(self) -> None:
        self.draft.clear()

    def load_preset(self, key: str) -> None:
        """Start from preset ``key`` with the dataset's class count (undoable).

        The layers are taken unbuilt, so a preset that does not fit the current input still loads and
        shows on which layer and why it does not fit.
        """
        preset = PRESETS[key]
        model = Sequential(preset.layers(int(self.num_classes or preset.num_classes)), name=key)
        self.model_name = key
        self.kept_weights.clear()
        self.draft.replace(configs_of(model), tr("Start from preset {name}").format(name=tr(preset.display_name)),
                           select=0)

    def load_model_object(self, model, text: str | None = None, keep_weights: bool = True) -> None:
        """Make ``model``'s layers the draft (undoable) and remember its weights for unchanged layers."""
        configs = configs_of(model)
        self.model_name = str(model.name or self.model_name)
        if keep_weights:
            self.kept_weights.remember(model)
        if self.draft.match_class_count and not self.kept_weights:
            configs = self.draft.with_class_count(configs)
        self.draft.replace(configs, text or tr("Load model"), select=0)

    # ------------------------------------------------------------------------------ models
    def build_model(self) -> Sequential:
        """Build the draft into a ``Sequential`` for the current input (raises ConvScopeError if invalid).

        A shapes-only draft is built for the dataset's input (saving it gives a model the window can open)."""
        if not self.draft.valid:
            first = self.draft.first_problem()
            raise ConvScopeError(self.draft.problems[first] if first is not None
                                 else tr("The model is empty: add layers first."))
        model = Sequential([layer_from_config(c) for c in self.draft.layer_configs()], name=self.model_name)
        self._remember_window_weights()
        if self.draft.shapes_only:
            raise ConvScopeError(self.draft.shapes_only_message())
        try:
            model.build(input_shape=self.input_shape, seed=0)
        except MemoryError:
            raise ConvScopeError(tr("Not enough memory for a model with {n} parameters: make it smaller.").format(
                n=f"{self.total_params:,}")) from None
        self.kept_weights.restore(model)
        return model

    def _window_model_is_this_draft(self) -> bool:
        return (self.controller is not None and self.draft.applied is not None
                and self.controller.model is self._applied_model)

    def _remember_window_weights(self) -> None:
        """What the window's model has learned since it was applied or loaded is kept for unchanged layers."""
        if self._window_model_is_this_draft():
            model = self.controller.current_model_copy()
            if model is not None:
                self.kept_weights.remember(model)

    def current_model(self) -> Sequential:
        """The model to save/export: the controller's trained copy when it is exactly this draft."""
        if self._window_model_is_this_draft() and not self.is_dirty():
            model = self.controller.current_model_copy()
            if model is not None and configs_of(model) == self.draft.layer_configs():
                return model
        return self.build_model()

    def apply(self) -> Sequential | None:
        """Make the draft the controller's model; returns it (``None`` when invalid, shapes only or refused)."""
        if self.draft.valid and self.draft.shapes_only:
            self.show_note(self.draft.shapes_only_message())
            return None
        if not self.draft.valid:
            first = self.draft.first_problem()
            self.show_note(self.draft.problems[first] if first is not None else "")
            return None
        try:
            model = self.build_model()
        except ConvScopeError as exc:
            self.show_note(tr_error(exc))
            return None
        previous = self._applied_model, self.draft.applied
        # Set before handing over: the controller's model_changed echo must be recognised as ours.
        self._applied_model = model
        self.draft.mark_applied()
        if self.controller is not None:
            try:
                accepted = self.controller.set_model(model)
                message = self.controller.last_error if accepted is False else ""
            except ConvScopeError as exc:
                accepted, message = False, tr_error(exc)
            if accepted is False:  # the controller refused it (it reports why through error_occurred)
                self._applied_model = previous[0]
                self.draft.mark_applied(previous[1])
                self.summary.refresh()
                self.show_note(message or tr("The window did not accept this model."))
                return None
        self.model_applied.emit(model)
        self.summary.refresh()
        self._update_buttons()
        self.show_note(tr("Applied: the window now trains this model ({n} parameters).").format(
            n=f"{self.total_params:,}"))
        return model

    def apply_and_train(self) -> None:
        if self.apply() is not None and self.controller is not None:
            self.controller.start()

    def save_model(self, path) -> Path:
        model = self.current_model()
        metadata = {"dataset": self.dataset_name, "class_names": self.class_names or [],
                    "edited_in": "architecture editor"}
        saved = Path(save_model(Path(path), model, metadata))
        self.kept_weights.remember(model)
        return saved

    def open_model(self, path) -> None:
        model, _metadata = load_model(Path(path))
        self.kept_weights.clear()
        self.load_model_object(model, text=tr("Open {file}").format(file=Path(path).name))

    def export_summary(self, path) -> Path:
        path = Path(path)
        if path.suffix.lower() != ".txt":
            path = path.with_name(path.name + ".txt")
        text = self.current_model().summary()
        path.write_text(text + ("" if text.endswith("\n") else "\n"), encoding="utf-8")
        return path

    def export_onnx(self, path, include_softmax: bool = False) -> Path:
        meta = {"class_names": self.class_names or [], "dataset": self.dataset_name}
        return export_onnx(self.current_model(), path, include_softmax=include_softmax, metadata=meta)

    # ------------------------------------------------------------------------------- showing it
    def _on_draft_changed(self) -> None:
        self.empty_hint.setVisible(len(self.draft) == 0)
        self._update_buttons()
        valid = self.draft.can_apply     # a shapes-only draft cannot be trained either
        if valid != self._was_valid:
            self._was_valid = valid
            self.validity_changed.emit(valid)
        self.draft_changed.emit()

    def _update_input_label(self) -> None:
        source = f" ({tr(self.dataset_name)})" if self.dataset_name else ""
        classes = tr("{n} classes").format(n=self.num_classes) if self.num_classes else tr("classes unknown")
        self.input_label.setText(tr("Input: {shape}{source} · {classes}").format(
            shape=format_shape(self.input_shape), source=source, classes=classes))

    def show_note(self, text: str) -> None:
        """Say ``text`` on the status line (until the next change of the draft)."""
        self.summary.show_note(text)

    def _update_buttons(self) -> None:
        busy = self._training_state in _BUSY_STATES
        self.toolbar.update_state()
        valid, usable = self.draft.valid, self.draft.can_apply
        self.apply_button.setEnabled(usable and not busy)
        self.train_button.setEnabled(usable and not busy)
        tip = "" if valid else tr("Fix the layers marked in red first.")
        if valid and not usable:
            tip = self.draft.shapes_only_message()
        self.apply_button.setToolTip(tip or tr("Use this architecture as the window's model. Layers you did not "
                                               "change keep what they learned; new or changed layers start from "
                                               "random weights (Train > Reset weights starts everything afresh)."))
        if busy:
            tip = tr("Pause or stop training before changing the model.")
        self.train_button.setToolTip(tip or tr("Apply the architecture and start training it on the current dataset."))
        for w in (self.save_button, self.export_button):
            w.setEnabled(usable)

    def _start_from_combo(self) -> None:
        kind, key = self.start_combo.currentData()
        try:
            if kind == "empty":
                self.new_empty()
            elif kind == "current":
                model = self.controller.current_model_copy()
                if model is None:
                    self.show_note(tr("The window has no model yet."))
                    return
                self.load_model_object(model, text=tr("Load the window's model"))
                self._mark_applied(self.controller.model)
            else:
                self.load_preset(key)
        except ConvScopeError as exc:
            QMessageBox.warning(self, tr("Cannot load this starting point"), tr_error(exc))


def _preview(argv: list[str]) -> int:  # pragma: no cover - manual preview
    """Standalone preview: ``python -m gui.editor.editor [--invalid] [--lang ko] [--screenshot out.png]``."""
    import argparse
    import sys

    from PySide6.QtWidgets import QApplication

    from gui import i18n

    parser = argparse.ArgumentParser()
    parser.add_argument("--screenshot", default=None)
    parser.add_argument("--invalid", action="store_true", help="show a teaching error (kernel too large)")
    parser.add_argument("--lang", default="en")
    parser.add_argument("--preset", default=None)
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
