"""The settings column of the theater: the input, filter and settings boxes.

Each widget only sets a model attribute when the user changes it (a choice of
:class:`~gui.theater.sources.TheaterSources` or a setting of the
:class:`~gui.theater.stage.StageModel`) and shows the model's value when the model says it changed,
with its own signals blocked meanwhile (no echo, no loops). The typed input grid and the kernel are
edited through :class:`~gui.theater.grid_editor.GridDraft` models; kernel sizes, strides and pool
windows are ``rows x columns`` pairs (:class:`~gui.theater.grid_editor_view.PairSpin`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QSignalBlocker
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QPushButton,
    QSpinBox,
    QWidget,
)

from engine.theater import INPUT_GRIDS, KERNEL_PRESETS
from gui.i18n import language, tr
from gui.theater import sources as src
from gui.theater.grid_editor import GRID_MAX_SIDE, GridDraft
from gui.theater.grid_editor_view import GridEditor, GridTable, PairSpin
from gui.theater.sources import TheaterSources
from gui.theater.stage import StageModel


def _combo(items) -> QComboBox:
    combo = QComboBox()
    for text, data in items:
        combo.addItem(text, data)
    return combo


def _spin(lo: int, hi: int, value: int = 0) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(lo, hi)
    spin.setValue(value)
    return spin


def _fill(combo: QComboBox, items, current) -> None:
    """Replace ``combo``'s ``(text, data)`` items keeping ``current`` selected (signals blocked)."""
    with QSignalBlocker(combo):
        items = list(items)
        shown = [(combo.itemText(i), combo.itemData(i)) for i in range(combo.count())]
        if shown != [(t, d) for t, d in items]:      # texts too: a new model's layer 0 has another shape
            combo.clear()
            for text, data in items:
                combo.addItem(text, data)
        combo.setCurrentIndex(max(combo.findData(current), 0))


def _show(widget, value) -> None:
    """Show the model's ``value`` in ``widget`` without emitting (the model already has it)."""
    with QSignalBlocker(widget):
        if isinstance(widget, QComboBox):
            widget.setCurrentIndex(max(widget.findData(value), 0))
        elif isinstance(widget, QCheckBox):
            widget.setChecked(bool(value))
        else:
            widget.setValue(value)


def _name(item) -> str:
    return item.name_ko if language() == "ko" else item.name_en


class InputBox(QGroupBox):
    """Where the input comes from: a lecture grid, a dataset sample, the dropped image or a feature map."""

    def __init__(self, sources: TheaterSources, stage: StageModel, parent: QWidget | None = None):
        super().__init__(tr("Input"), parent)
        self.sources, self.stage = sources, stage
        form = QFormLayout(self)
        self.input_source = _combo(((tr("Hand-made grid"), src.INPUT_GRID), (tr("Training sample"), src.INPUT_TRAIN),
                                    (tr("Validation sample"), src.INPUT_VAL),
                                    (tr("Dropped or drawn image"), src.INPUT_DROPPED),
                                    (tr("Feature map of a layer"), src.INPUT_FMAP),
                                    (tr("Typed or pasted grid"), src.INPUT_CUSTOM)))
        form.addRow(tr("Source"), self.input_source)
        self.grid_combo = _combo((_name(g), g.key) for g in INPUT_GRIDS.values())
        form.addRow(tr("Grid"), self.grid_combo)
        self.edit_button = QPushButton(tr("Edit a copy of this input"))
        self.edit_button.setToolTip(tr("Copy the input on stage into the grid editor, to change its numbers or its "
                                       "size (up to {0}x{0}, 1 to 3 channels).").format(GRID_MAX_SIDE))
        form.addRow(self.edit_button)
        self.grid_editor = GridEditor(sources.typed)
        form.addRow(self.grid_editor)
        self.sample_spin = _spin(0, 0)
        form.addRow(tr("Sample #"), self.sample_spin)
        self.fmap_layer_combo = QComboBox()
        self.fmap_layer_combo.setToolTip(tr("The output of this layer for the validation sample: pool it, or "
                                            "slide a filter over it, as the next layer does."))
        form.addRow(tr("Feature map of"), self.fmap_layer_combo)
        self.channel_combo = QComboBox()
        form.addRow(tr("Channels"), self.channel_combo)

        choose = sources.choose
        self.input_source.currentIndexChanged.connect(lambda: choose(input_kind=self.input_source.currentData()))
        self.grid_combo.currentIndexChanged.connect(lambda: choose(grid_key=self.grid_combo.currentData()))
        self.sample_spin.valueChanged.connect(lambda v: choose(sample_index=v))
        self.fmap_layer_combo.currentIndexChanged.connect(
            lambda: choose(fmap_layer=self.fmap_layer_combo.currentData()))
        self.channel_combo.currentIndexChanged.connect(lambda: stage.update(channel=self.channel_combo.currentData()))
        self.edit_button.clicked.connect(self.edit_copy)
        sources.events.changed.connect(self._on_sources_changed)
        stage.events.changed.connect(self._on_stage_changed)
        self._on_sources_changed()
        self._on_stage_changed()

    def _on_sources_changed(self, **_) -> None:
        s = self.sources
        _show(self.input_source, s.input_kind)
        _show(self.grid_combo, s.grid_key)
        with QSignalBlocker(self.sample_spin):
            self.sample_spin.setRange(0, max(s.sample_count() - 1, 0))
            self.sample_spin.setValue(s.sample_index)
        _fill(self.fmap_layer_combo, [(label, i) for i, label in s.feature_map_layers()], s.fmap_layer)
        kind = s.input_kind
        self.grid_combo.setEnabled(kind == src.INPUT_GRID)
        self.sample_spin.setEnabled(kind in (src.INPUT_TRAIN, src.INPUT_VAL, src.INPUT_FMAP))
        self.fmap_layer_combo.setEnabled(kind == src.INPUT_FMAP)
        self.grid_editor.setVisible(kind == src.INPUT_CUSTOM and s.custom is None)
        self._update_edit_button()

    def edit_copy(self) -> bool:
        """The input on stage goes into the grid editor (it becomes the typed grid)."""
        x = self.stage.input
        if not self.sources.typed.fits(x):
            return False
        self.sources.custom_text = ""
        self.sources.typed.set_values(x)        # the editor's change puts the typed grid on stage
        return True

    def _update_edit_button(self) -> None:
        s = self.sources
        editing = s.input_kind == src.INPUT_CUSTOM and s.custom is None
        self.edit_button.setVisible(not editing)
        self.edit_button.setEnabled(s.typed.fits(self.stage.input) and self.stage.theater is not None)

    def _on_stage_changed(self, **_) -> None:
        c = self.stage.input.shape[0]
        choices = [((tr("all {}").format(c) if c > 1 else "1") if ch < 0 else str(ch), ch)
                   for ch in self.stage.channel_choices]
        _fill(self.channel_combo, choices, self.stage.channel)
        self.channel_combo.setEnabled(self.channel_combo.count() > 1)
        self._update_edit_button()


class FilterBox(QGroupBox):
    """The operation (convolution or pooling) and the kernel: a classic preset, a learned filter or typed."""

    def __init__(self, sources: TheaterSources, stage: StageModel, push: Callable[..., None],
                 parent: QWidget | None = None):
        super().__init__(tr("Filter"), parent)
        self.sources, self.stage = sources, stage
        form = QFormLayout(self)
        self.op_combo = _combo(((tr("Convolution"), "conv"), (tr("Max pooling"), "max"),
                                (tr("Average pooling"), "avg")))
        form.addRow(tr("Operation"), self.op_combo)
        self.kernel_source = _combo(((tr("Classic preset"), src.KERNEL_PRESET),
                                     (tr("Learned by the model"), src.KERNEL_LEARNED),
                                     (tr("Edited by hand"), src.KERNEL_EDITED)))
        form.addRow(tr("Kernel"), self.kernel_source)
        self.preset_combo = _combo((_name(p), p.key) for p in KERNEL_PRESETS.values())
        form.addRow(tr("Preset"), self.preset_combo)
        self.layer_combo = QComboBox()
        form.addRow(tr("Layer"), self.layer_combo)
        self.filter_spin = QSpinBox()
        form.addRow(tr("Output channel"), self.filter_spin)
        self.in_channel_combo = QComboBox()
        form.addRow(tr("Input channel"), self.in_channel_combo)
        self.kernel_size_spin = PairSpin(1, 9, 3)
        form.addRow(tr("Kernel size"), self.kernel_size_spin)
        self.pool_size_spin = PairSpin(1, 5, 2)
        form.addRow(tr("Pool size"), self.pool_size_spin)
        self.kernel_draft = GridDraft(sources.edited_kernel, max_channels=1)
        self.kernel_table = GridTable(self.kernel_draft, visible_rows=7)
        self.kernel_table.setToolTip(tr("Type numbers into the cells to make your own filter, or press Ctrl+V on a "
                                        "cell to paste a block of numbers."))
        form.addRow(self.kernel_table)
        self.kernel_note = QLabel()
        self.kernel_note.setWordWrap(True)
        form.addRow(self.kernel_note)

        choose = sources.choose
        # pooling and convolution read different inputs: the operation goes through the sources
        self.op_combo.currentIndexChanged.connect(lambda: push(op=self.op_combo.currentData()))
        self.kernel_source.currentIndexChanged.connect(lambda: choose(kernel_kind=self.kernel_source.currentData()))
        self.preset_combo.currentIndexChanged.connect(lambda: choose(preset_key=self.preset_combo.currentData()))
        self.layer_combo.currentIndexChanged.connect(lambda: choose(layer_index=self.layer_combo.currentData()))
        self.filter_spin.valueChanged.connect(lambda v: choose(filter_index=v))
        self.in_channel_combo.currentIndexChanged.connect(
            lambda: choose(in_channel=self.in_channel_combo.currentData()))
        self.kernel_size_spin.valueChanged.connect(self._on_kernel_size_changed)
        self.pool_size_spin.valueChanged.connect(lambda v: stage.update(pool_size=v))
        self._syncing = False
        self.kernel_draft.events.changed.connect(self._on_kernel_typed)
        sources.events.changed.connect(self._on_sources_changed)
        stage.events.changed.connect(self._on_stage_changed)
        self._on_sources_changed()
        self._on_stage_changed()

    def _on_sources_changed(self, **_) -> None:
        s = self.sources
        _show(self.kernel_source, s.kernel_kind)
        _show(self.preset_combo, s.preset_key)
        layers = []
        for i, layer in s.conv_layers():
            F, C, KH, KW = layer.params["W"].shape
            layers.append((f"{i}: {layer.name} ({F}× {KH}x{KW}x{C})", i))
        _fill(self.layer_combo, layers, s.layer_index)
        layer = s.learned_layer()
        with QSignalBlocker(self.filter_spin):
            self.filter_spin.setRange(0, layer.params["W"].shape[0] - 1 if layer is not None else 0)
            self.filter_spin.setValue(s.filter_index)
        channels = [(tr("all {} (summed)").format(layer.params["W"].shape[1]) if ch < 0 else str(ch), ch)
                    for ch in s.in_channel_choices()] if layer is not None else []
        _fill(self.in_channel_combo, channels, s.in_channel)
        if self.kernel_draft.fits(s.edited_kernel) and not np.array_equal(self.kernel_draft.plane(0), s.edited_kernel):
            self._syncing = True            # showing the sources' kernel is not typing a new one
            try:
                self.kernel_draft.set_values(s.edited_kernel)
            finally:
                self._syncing = False
        _show(self.kernel_size_spin, s.edited_kernel.shape if s.edited_kernel.ndim == 2 else 3)
        if s.kernel_kind == src.KERNEL_PRESET:
            p = KERNEL_PRESETS[s.preset_key]
            self.kernel_note.setText(p.note_ko if language() == "ko" else p.note_en)
        elif s.kernel_kind == src.KERNEL_LEARNED:
            self.kernel_note.setText(tr("Learned by the network: it changes while the model trains."))
        else:
            self.kernel_note.setText(tr("Your own filter: type numbers into the cells."))
        self._update_enabled()

    def _on_stage_changed(self, **_) -> None:
        _show(self.op_combo, self.stage.op)
        _show(self.pool_size_spin, self.stage.pool_size)
        self._update_enabled()

    def _update_enabled(self) -> None:
        conv = self.stage.op == "conv"
        kind = self.sources.kernel_kind
        self.kernel_source.setEnabled(conv)
        self.preset_combo.setEnabled(conv and kind == src.KERNEL_PRESET)
        for w in (self.layer_combo, self.filter_spin, self.in_channel_combo):
            w.setEnabled(conv and kind == src.KERNEL_LEARNED)
        self.kernel_size_spin.setEnabled(conv and kind != src.KERNEL_LEARNED)
        self.kernel_table.setEnabled(conv)
        self.pool_size_spin.setEnabled(not conv)

    def _on_kernel_size_changed(self, size) -> None:
        """A new ``rows x columns`` kernel: the top-left numbers stay, new cells are 0 (a hand-made filter)."""
        kh, kw = (size, size) if isinstance(size, int) else size
        self.kernel_draft.resize(kh, kw)

    def _on_kernel_typed(self, **_) -> None:
        if not self._syncing:
            self.sources.set_edited_kernel(self.kernel_draft.plane(0))


class SettingsBox(QGroupBox):
    """Stride, padding, mode, bias and ReLU of the stage."""

    def __init__(self, stage: StageModel, parent: QWidget | None = None):
        super().__init__(tr("Settings"), parent)
        self.stage = stage
        form = QFormLayout(self)
        self.stride_spin = PairSpin(1, 6, 1)
        form.addRow(tr("Stride"), self.stride_spin)
        self.padding_combo = _combo(((tr("valid (no padding)"), "valid"), (tr("same (keep the size)"), "same"),
                                     (tr("custom p"), "custom")))
        form.addRow(tr("Padding"), self.padding_combo)
        self.pad_spin = _spin(0, 6, 1)
        form.addRow(tr("p (virtual pixels per side)"), self.pad_spin)
        self.mode_combo = _combo(((tr("cross-correlation (what CNNs compute)"), "cross_correlation"),
                                  (tr("convolution (flipped kernel)"), "convolution")))
        form.addRow(tr("Mode"), self.mode_combo)
        self.bias_spin = QDoubleSpinBox()
        self.bias_spin.setRange(-1000.0, 1000.0)
        self.bias_spin.setDecimals(2)
        self.bias_spin.setSingleStep(1.0)
        form.addRow(tr("Bias"), self.bias_spin)
        self.relu_check = QCheckBox(tr("Apply ReLU (negative values become 0)"))
        form.addRow(self.relu_check)

        update = stage.update
        self.stride_spin.valueChanged.connect(lambda v: update(stride=v))
        self.padding_combo.currentIndexChanged.connect(lambda: update(padding=self.padding_combo.currentData()))
        self.pad_spin.valueChanged.connect(lambda v: update(pad=v))
        self.mode_combo.currentIndexChanged.connect(lambda: update(mode=self.mode_combo.currentData()))
        self.bias_spin.valueChanged.connect(lambda v: update(bias=v))
        self.relu_check.toggled.connect(lambda v: update(relu=v))
        stage.events.changed.connect(self._on_stage_changed)
        self._on_stage_changed()

    def _on_stage_changed(self, **_) -> None:
        st = self.stage
        for widget, value in ((self.stride_spin, st.stride), (self.padding_combo, st.padding), (self.pad_spin, st.pad),
                              (self.mode_combo, st.mode), (self.bias_spin, st.bias), (self.relu_check, st.relu)):
            _show(widget, value)
        conv = st.op == "conv"
        for w in (self.mode_combo, self.bias_spin, self.relu_check):
            w.setEnabled(conv)
        self.pad_spin.setEnabled(st.padding == "custom")
