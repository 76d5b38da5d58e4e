"""Dialogs of the Runs tab: "Continue from here" (branch) settings and "Export timeline"."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from engine.runs.export import export_timeline
from gui.i18n import tr, tr_error
from gui.runs.freeze import FreezeChoice

OPTIMIZERS = (("adam", "Adam"), ("sgd", "SGD"), ("rmsprop", "RMSprop"))


def branch_changes(optimizer: str, learning_rate: float, dropout: float | None, freeze: dict | None) -> dict:
    """The settings a branch changes (only what the dialog offers)."""
    changes = {"optimizer": optimizer, "learning_rate": float(learning_rate)}
    if dropout is not None:
        changes["dropout"] = float(dropout)
    if freeze is not None:
        changes["frozen_filters"] = freeze
    return changes


class FreezeEditor(QWidget):
    """One row per convolution layer: which of its filters stay fixed ("0-3, 7") or all of them.
    A view on :class:`~gui.runs.freeze.FreezeChoice`; ``changed`` is called after each edit."""

    def __init__(self, choice: FreezeChoice, changed=None, parent: QWidget | None = None):
        super().__init__(parent)
        self.choice = choice
        self._changed = changed
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        self.edits: dict[str, QLineEdit] = {}
        self.all_checks: dict[str, QCheckBox] = {}
        self.errors: dict[str, QLabel] = {}
        row = 0
        for layer in choice.layers:
            grid.addWidget(QLabel(tr("{} ({} filters)").format(layer.name, layer.filters)), row, 0)
            edit = QLineEdit(choice.text(layer.name))
            edit.setPlaceholderText(tr("e.g. 0-3, 7 (none: all learn)"))
            edit.setToolTip(tr("Filter numbers as in the Filters panel (from 0): these keep the parent's values "
                               "while the rest of the network learns."))
            edit.textEdited.connect(lambda text, n=layer.name: self.on_text(n, text))
            grid.addWidget(edit, row, 1)
            check = QCheckBox(tr("all"))
            check.setChecked(choice.is_all(layer.name))
            check.toggled.connect(lambda on, n=layer.name: self.on_all(n, on))
            grid.addWidget(check, row, 2)
            error = QLabel()
            error.setStyleSheet("color: #b00020;")
            error.setWordWrap(True)
            error.hide()
            grid.addWidget(error, row + 1, 0, 1, 3)
            self.edits[layer.name], self.all_checks[layer.name], self.errors[layer.name] = edit, check, error
            row += 2
        self.summary = QLabel(choice.summary())
        grid.addWidget(self.summary, row, 0, 1, 3)
        if not choice.layers:
            self.summary.setText(tr("This architecture has no convolution layer."))

    def on_text(self, name: str, text: str) -> None:
        ok = self.choice.set_text(name, text)
        check = self.all_checks[name]
        check.blockSignals(True)
        check.setChecked(ok and self.choice.is_all(name))
        check.blockSignals(False)
        self._show(name)

    def on_all(self, name: str, on: bool) -> None:
        self.choice.set_all(name, on)
        self.edits[name].setText(self.choice.text(name))
        self._show(name)

    def _show(self, name: str) -> None:
        error = self.choice.error(name)
        self.errors[name].setText(error or "")
        self.errors[name].setVisible(error is not None)
        self.summary.setText(self.choice.summary())
        if self._changed is not None:
            self._changed()


class BranchDialog(QDialog):
    """Pick the epoch to start from and the settings that change; :meth:`changes` reads them."""

    def __init__(self, info, epochs: list[int], default_epochs: int, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(tr("Continue from here"))
        self.info = info
        s = info.settings
        layers = info.architecture.get("layers", [])
        self.dropout_rate = next((float(c["config"].get("rate", 0.5)) for c in layers
                                  if c["class_name"] == "Dropout"), None)
        self.freeze = FreezeChoice(info.architecture)
        form = QFormLayout(self)
        form.addRow(QLabel(tr("A new run starts from run \"{}\"'s weights; it remembers where it came "
                              "from.").format(info.name)))
        self.epoch_combo = QComboBox()
        for e in epochs:
            self.epoch_combo.addItem(tr("end of epoch {}").format(e) if e else tr("start (untrained)"), e)
        self.epoch_combo.setCurrentIndex(len(epochs) - 1)
        form.addRow(tr("Start from"), self.epoch_combo)
        self.optimizer_combo = QComboBox()
        for key, text in OPTIMIZERS:
            self.optimizer_combo.addItem(text, key)
        keys = [k for k, _ in OPTIMIZERS]
        self.optimizer_combo.setCurrentIndex(keys.index(s["optimizer"]) if s.get("optimizer") in keys else 0)
        form.addRow(tr("Optimizer"), self.optimizer_combo)
        self.lr_spin = QDoubleSpinBox()
        self.lr_spin.setDecimals(5)
        self.lr_spin.setRange(1e-5, 10.0)
        self.lr_spin.setSingleStep(0.0005)
        self.lr_spin.setValue(float(s.get("learning_rate", 0.001)))
        form.addRow(tr("Learning rate"), self.lr_spin)
        self.dropout_check = QCheckBox(tr("Dropout on (rate {})").format(self.dropout_rate or 0.5))
        self.dropout_check.setChecked(bool(self.dropout_rate))
        self.dropout_check.setEnabled(self.dropout_rate is not None)
        if self.dropout_rate is None:
            self.dropout_check.setToolTip(tr("This architecture has no Dropout layer."))
        form.addRow(tr("Dropout"), self.dropout_check)
        self.freeze_editor = FreezeEditor(self.freeze, self.update_ok)
        form.addRow(tr("Frozen filters"), self.freeze_editor)
        self.epochs_spin = QSpinBox()
        self.epochs_spin.setRange(1, 1000)
        self.epochs_spin.setValue(int(default_epochs))
        form.addRow(tr("More epochs"), self.epochs_spin)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(tr("Train the new run"))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def update_ok(self) -> None:
        """A filter list that cannot be read keeps the new run from starting."""
        self.ok_button.setEnabled(self.freeze.valid)

    @property
    def epoch(self) -> int:
        return int(self.epoch_combo.currentData())

    @property
    def epochs(self) -> int:
        return int(self.epochs_spin.value())

    def changes(self) -> dict:
        dropout = None
        if self.dropout_rate is not None:
            dropout = (self.dropout_rate or 0.5) if self.dropout_check.isChecked() else 0.0
        freeze = self.freeze.changes() if self.freeze.layers else None
        return branch_changes(self.optimizer_combo.currentData(), self.lr_spin.value(), dropout, freeze)


class ExportDialog(QDialog):
    """What to export from a timeline: filters of a conv layer or feature maps of a layer, GIF or PNGs."""

    def __init__(self, moments, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(tr("Export timeline"))
        self.moments = list(moments)
        last = self.moments[-1]
        form = QFormLayout(self)
        form.addRow(QLabel(tr("{} moments, one frame each.").format(len(self.moments))))
        self.kind_combo = QComboBox()
        self.kind_combo.addItem(tr("Filters"), "filters")
        self.kind_combo.addItem(tr("Feature maps"), "feature_maps")
        form.addRow(tr("Show"), self.kind_combo)
        self.layer_combo = QComboBox()
        form.addRow(tr("Layer"), self.layer_combo)
        self.format_combo = QComboBox()
        self.format_combo.addItem(tr("Animated GIF"), "gif")
        self.format_combo.addItem(tr("PNG sequence (a folder)"), "png")
        form.addRow(tr("Format"), self.format_combo)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self._filters = list(last.filters)
        self._maps = [n for i, n in enumerate(last.layer_names) if getattr(last.activations[i + 1], "ndim", 0) == 3]
        self.kind_combo.currentIndexChanged.connect(self.fill_layers)
        self.fill_layers()

    def fill_layers(self, *_args) -> None:
        self.layer_combo.clear()
        for name in self._filters if self.kind == "filters" else self._maps:
            self.layer_combo.addItem(name, name)

    @property
    def kind(self) -> str:
        return self.kind_combo.currentData()

    def export(self, path) -> object:
        return export_timeline(self.moments, path, kind=self.kind, layer=self.layer_combo.currentData())


def export_timeline_dialog(parent: QWidget, moments, on_error) -> Path | None:
    """Ask what and where, write it; ``on_error(message)`` reports a failure. Returns the path written."""
    moments = list(moments)
    if not moments:
        on_error(tr("The timeline is empty: train for at least one step before exporting it."))
        return None
    dialog = ExportDialog(moments, parent)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    if dialog.format_combo.currentData() == "gif":
        path, _ = QFileDialog.getSaveFileName(parent, tr("Export timeline"), "timeline.gif", "GIF (*.gif)")
        if path and not path.lower().endswith(".gif"):
            path += ".gif"
    else:
        path = QFileDialog.getExistingDirectory(parent, tr("Folder for the PNG frames"))
    if not path:
        return None
    try:
        dialog.export(path)
    except Exception as exc:  # noqa: BLE001
        on_error(tr("Could not export the timeline: {}").format(tr_error(exc)))
        return None
    return Path(path)
