"""The convolution theater tab: the settings column beside the stage, wired to the controller.

``TheaterPanel(controller)`` composes the widget-free :class:`StageModel` (what is on stage) and
:class:`TheaterSources` (where input and kernel come from) with their views: the settings column
(:class:`InputBox`, :class:`FilterBox`, :class:`SettingsBox`, :class:`ModelBox`), the player bar, the grids and
the sentences. The
controller's signals only feed the sources: a new dataset, a private copy of a new model, the latest
inspection (weights and activations of the selected sample, applied at most twice a second), a
dropped image. The theater itself never runs the model while it trains.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from engine.errors import ConvScopeError
from engine.theater import kernel_for_input
from gui.i18n import tr, tr_error
from gui.theater import sources as src
from gui.theater.backward import BackwardStageModel
from gui.theater.backward_source import backward_source
from gui.theater.backward_view import BackwardView
from gui.theater.controls import FilterBox, InputBox, SettingsBox
from gui.theater.playback import PlaybackBar
from gui.theater.sources import SourceUnavailable, TheaterSources
from gui.theater.stage import StageModel
from gui.theater.stage_view import StageView
from gui.theater.text import equation_html, formula_html, headline_text
from gui.theater.whole_image import ModelBox, WholeImageView

_LEARNED_CHOICE = frozenset({"kernel_kind", "layer_index", "filter_index", "in_channel", "model"})
_NEW_DATA = frozenset({"dataset", "model", "inspection"})


def _label(pixels: int, rich: bool = False) -> QLabel:
    label = QLabel()
    f = QFont(label.font())
    f.setPixelSize(pixels)
    label.setFont(f)
    label.setWordWrap(True)
    if rich:
        label.setTextFormat(Qt.TextFormat.RichText)
    return label


class TheaterPanel(QWidget):
    """The convolution theater tab: ``TheaterPanel(controller)`` (``controller`` may be None)."""

    step_changed = Signal(int)
    kernel_applied = Signal(int, int)     # (layer_index, filter_index) after "Use this kernel"

    def __init__(self, controller=None, parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        self.stage = StageModel()
        self.sources = TheaterSources()
        self.backward = BackwardStageModel()
        self.direction = "forward"
        self.error_text = ""
        self._stale = False                    # the stage missed updates while hidden
        self._pending_inspection = None
        # inspections arrive several times a second while training: keep the latest, apply at most 2x/s
        self.inspection_timer = QTimer(self)
        self.inspection_timer.setInterval(500)
        self.inspection_timer.timeout.connect(self._apply_pending_inspection)

        self.input_box = InputBox(self.sources, self.stage)
        self.filter_box = FilterBox(self.sources, self.stage, self.push)
        self.settings_box = SettingsBox(self.stage)
        self.model_box = ModelBox()
        self.playback = PlaybackBar(self.stage)
        self.stage_view = StageView(self.stage)
        self.whole_image = WholeImageView()
        self.backward_view = BackwardView(self.backward)
        self._layout()
        self._add_shortcuts()

        self.sources.events.changed.connect(self._on_sources_changed)
        self.stage.events.changed.connect(self._on_stage_changed)
        self.stage.events.position.connect(self._on_position)
        self.filter_box.kernel_table.invalid_text.connect(self.show_message)
        self.input_box.grid_editor.invalid_text.connect(self.show_message)
        self.playback.controls_button.toggled.connect(self.set_controls_visible)
        self.backward_view.playback.controls_button.toggled.connect(self.set_controls_visible)
        self.direction_combo.activated.connect(lambda _i: self.set_direction(self.direction_combo.currentData()))
        self.stage_view.cell_chosen.connect(self.playback.pause)
        self.model_box.apply_button.clicked.connect(self.apply_to_whole_image)
        self.model_box.use_button.clicked.connect(self.use_kernel_in_model)
        self._connect_controller()
        self.push(with_settings=True)

    def _layout(self) -> None:
        column = QWidget()
        col = QVBoxLayout(column)
        col.setContentsMargins(0, 0, 0, 0)
        for box in (self.input_box, self.filter_box, self.settings_box, self.model_box):
            col.addWidget(box)
        col.addStretch(1)
        # combos may shrink (long preset names elide) so the stage keeps most of a small tab
        for combo in column.findChildren(QComboBox):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(6)
        self.controls_scroll = QScrollArea()
        self.controls_scroll.setWidget(column)
        self.controls_scroll.setWidgetResizable(True)
        self.controls_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        bar = self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        self.controls_scroll.setMinimumWidth(column.minimumSizeHint().width() + bar + 6)

        self.direction_combo = QComboBox()
        self.direction_combo.addItem(tr("Forward: how a filter makes a feature map"), "forward")
        self.direction_combo.addItem(tr("Backward: how the filter learns (gradients and update)"), "backward")
        self.direction_combo.setToolTip(tr("Forward shows the convolution; backward follows the gradient of the loss "
                                           "back through a layer of the model for a real image."))
        forward_box = QWidget()
        v = QVBoxLayout(forward_box)
        v.setContentsMargins(0, 0, 0, 0)
        self.headline = _label(18)
        v.addWidget(self.headline)
        v.addWidget(self.playback)        # always in view, never scrolled away
        v.addWidget(self.stage_view, 1)
        self.equation = _label(24, rich=True)
        self.equation.setFrameShape(QFrame.Shape.StyledPanel)
        self.equation.setMinimumHeight(48)
        v.addWidget(self.equation)
        self.formula_label = _label(20, rich=True)
        v.addWidget(self.formula_label)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #b03020; font-size: 15px;")
        self.message.hide()
        v.addWidget(self.message)
        v.addWidget(self.whole_image)
        self.direction_stack = QStackedWidget()
        self.direction_stack.addWidget(forward_box)
        self.direction_stack.addWidget(self.backward_view)
        stage_box = QWidget()
        v = QVBoxLayout(stage_box)
        v.setContentsMargins(0, 0, 0, 0)
        v.addWidget(self.direction_combo, 0, Qt.AlignmentFlag.AlignLeft)
        v.addWidget(self.direction_stack, 1)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.controls_scroll)
        self.splitter.addWidget(stage_box)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setCollapsible(1, False)
        self.splitter.setSizes([max(self.controls_scroll.minimumWidth(), 340), 1000])
        root = QHBoxLayout(self)
        root.setContentsMargins(6, 6, 6, 6)
        root.addWidget(self.splitter)

    def _add_shortcuts(self) -> None:
        """Keys a teacher can reach with a presenter clicker: Space, arrows, Page Up/Down, Home/End."""
        def bar():
            return self.active_playback

        keys = (
            (Qt.Key.Key_Space, lambda: bar().toggle_play()),
            (Qt.Key.Key_Right, lambda: bar().step_forward()), (Qt.Key.Key_PageDown, lambda: bar().step_forward()),
            (Qt.Key.Key_Left, lambda: bar().step_back()), (Qt.Key.Key_PageUp, lambda: bar().step_back()),
            (Qt.Key.Key_Home, lambda: bar().stage.seek(0)),
            (Qt.Key.Key_End, lambda: bar().seek_end()),
        )
        self.shortcuts = []
        for key, slot in keys:
            sc = QShortcut(QKeySequence(key), self)
            sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            sc.activated.connect(slot)
            self.shortcuts.append(sc)

    def set_controls_visible(self, visible: bool) -> None:
        self.controls_scroll.setVisible(visible)
        for bar in (self.playback, self.backward_view.playback):
            if bar.controls_button.isChecked() != visible:
                bar.controls_button.setChecked(visible)

    # -- backward mode -------------------------------------------------------------------------------
    @property
    def active_playback(self) -> PlaybackBar:
        return self.backward_view.playback if self.direction == "backward" else self.playback

    def set_direction(self, direction: str) -> None:
        """``"forward"`` (the convolution) or ``"backward"`` (the gradients through a layer of the model)."""
        if direction not in ("forward", "backward"):
            raise ValueError(f"direction must be 'forward' or 'backward', got {direction!r}")
        self.playback.pause()
        self.backward_view.playback.pause()
        self.direction = direction
        self.direction_combo.setCurrentIndex(self.direction_combo.findData(direction))
        self.direction_stack.setCurrentIndex(1 if direction == "backward" else 0)
        if direction == "backward":
            self.refresh_backward(follow_filter=True)

    def refresh_backward(self, follow_filter: bool = False, keep_position: bool = False) -> None:
        """Recompute backward mode on a model copy for the theater's picture (about 3 ms for a small CNN)."""
        c, b = self.controller, self.backward
        if c is not None and not c.kernels_warm:
            b.set_source(None, None, 0)
            b.error = tr("The engine is still preparing its kernels; backward mode appears in a moment.")
            b.events.changed()
            return
        source = backward_source(self.sources, c)
        if source is None:
            b.set_source(None, None, 0)
            return
        if self.backward_view.choices.class_combo.count() == 0 and self.sources.dataset is not None:
            self.backward_view.choices.set_classes(self.sources.dataset.class_names)
        if follow_filter and self.sources.kernel_kind == src.KERNEL_LEARNED and self.sources.layer_index is not None:
            b.layer_index, b.filter_index = self.sources.layer_index, self.sources.filter_index
        b.set_source(source.model, source.x, source.label, source.optimizer, source.optimizer_note,
                     keep_position=keep_position)

    # -- putting the sources on stage ---------------------------------------------------------------
    def push(self, with_settings: bool = False, keep_position: bool | None = None, **stage_changes) -> None:
        """Put the chosen input and kernel on stage with ``stage_changes`` (``op=`` ...); a learned filter
        brings its layer's stride, padding, mode, bias and ReLU when ``with_settings``."""
        c = self.controller
        if c is not None:
            self.sources.training = c.is_training
            self.sources.kernels_warm = c.kernels_warm
        op = stage_changes.get("op", self.stage.op)
        try:
            stage_input, settings = self.sources.resolve(op)
        except SourceUnavailable as exc:
            if stage_changes:
                self.stage.update(**stage_changes)
            self.stage.fail(str(exc))
            return
        changes = {**stage_input.stage_changes(), **(settings if with_settings else {}), **stage_changes}
        self.stage.update(keep_position=keep_position, **changes)

    def _on_sources_changed(self, names=frozenset()) -> None:
        self._follow_selected_sample(names)
        if self.direction == "backward" and self.isVisible():
            if "dataset" in names and self.sources.dataset is not None:
                self.backward_view.choices.set_classes(self.sources.dataset.class_names)
            self.refresh_backward(follow_filter=bool(names & _LEARNED_CHOICE),
                                  keep_position=names <= {"inspection"})
        self.model_box.update_from(self.sources, self.stage)
        if names <= _NEW_DATA:
            if not self._shows_any(names):
                return                  # e.g. new weights while the stage shows a classic filter on a grid
            if not self.isVisible():
                self._stale = True      # another tab is showing: redraw once when shown again
                return
        learned = self.sources.kernel_kind == src.KERNEL_LEARNED
        self.push(with_settings=learned and bool(names & _LEARNED_CHOICE),
                  keep_position=True if names <= {"inspection"} else None)

    def _shows_any(self, names) -> bool:
        """Whether the stage shows any of the new data in ``names`` (dataset, model, inspection)."""
        s = self.sources
        uses_dataset = s.input_kind in (src.INPUT_TRAIN, src.INPUT_VAL, src.INPUT_FMAP)
        return ("dataset" in names and uses_dataset) or (bool(names & {"model", "inspection"}) and s.uses_model())

    def _follow_selected_sample(self, names) -> None:
        """A validation sample chosen here becomes the selected sample (so training inspections show it)."""
        c, s = self.controller, self.sources
        if c is None or c.dataset is None or c.dataset is not s.dataset:
            return
        if not names & {"sample_index", "input_kind"} or s.input_kind not in (src.INPUT_VAL, src.INPUT_FMAP):
            return
        current = c.sample
        if current is None or current.source != "validation" or current.index != s.sample_index:
            c.select_validation_sample(s.sample_index)

    def _on_stage_changed(self, **_) -> None:
        self.show_message(self.stage.error)
        self.headline.setText(headline_text(self.stage))
        self.formula_label.setText(formula_html(self.stage))
        self.model_box.update_from(self.sources, self.stage)
        self._on_position()

    def _on_position(self, **_) -> None:
        self.equation.setText(equation_html(self.stage))
        self.step_changed.emit(self.stage.position)

    def show_message(self, text: str) -> None:
        self.error_text = text
        self.message.setText(text)
        self.message.setVisible(bool(text))

    # -- controller -----------------------------------------------------------------------------------
    def _connect_controller(self) -> None:
        c = self.controller
        if c is None:
            return
        c.dataset_changed.connect(self.on_dataset_changed)
        c.model_changed.connect(self.on_model_changed)
        c.inspection_ready.connect(self.on_inspection)
        c.sample_changed.connect(self.on_sample_changed)
        c.kernels_ready.connect(self.on_kernels_ready)
        c.state_changed.connect(self.on_state_changed)
        if c.dataset is not None:
            self.sources.set_dataset(c.dataset)
        self.sources.set_model(c.current_model_copy())
        if c.latest_inspection is not None:
            self.sources.set_inspection(c.latest_inspection)

    def on_dataset_changed(self, dataset) -> None:
        self.sources.set_dataset(dataset)
        s = self.sources
        first_grid = next(iter(src.INPUT_GRIDS))
        channels = int(np.shape(dataset.x_test)[1]) if len(np.shape(dataset.x_test)) == 4 else 1
        if channels == 3 and s.input_kind == src.INPUT_GRID and s.grid_key == first_grid:
            # colour pictures: open on one of them (a filter slides over its three channels), not on the
            # lecture's gray grid; a grid the student picked stays
            s.choose(input_kind=src.INPUT_VAL)

    def on_model_changed(self, _model) -> None:
        # a copy: the controller's model is trained in place by the worker thread
        self.sources.set_model(self.controller.current_model_copy())

    def on_inspection(self, inspection) -> None:
        self._pending_inspection = inspection
        if not self.inspection_timer.isActive():
            self._apply_pending_inspection()
            self.inspection_timer.start()

    def _apply_pending_inspection(self) -> None:
        inspection, self._pending_inspection = self._pending_inspection, None
        if inspection is None:
            self.inspection_timer.stop()
            return
        self.sources.set_inspection(inspection)

    def on_kernels_ready(self, *_args) -> None:
        if self.sources.uses_model():
            self.push(keep_position=True)

    def on_state_changed(self, _state: str) -> None:
        if self.direction == "backward" and self.isVisible() and _state in ("paused", "idle", "finished"):
            self.refresh_backward(keep_position=True)      # the optimizer's real memory can be shown now
        # a deeper layer waiting for the end of training (or for the kernels) can be shown now
        if self.stage.theater is None and self.sources.uses_model():
            self.push(keep_position=True)

    def on_sample_changed(self, sample) -> None:
        """A dropped or drawn image is kept as the "dropped" input and shown at once when the theater
        is on screen; a validation pick is followed when the theater already shows validation samples."""
        s = self.sources
        if sample.source == "validation":
            if s.input_kind in (src.INPUT_VAL, src.INPUT_FMAP) and sample.index != s.sample_index:
                s.choose(sample_index=sample.index)
            return
        s.dropped = np.asarray(sample.x, dtype=np.float64)      # (C, H, W) in [0, 1]
        if s.input_kind == src.INPUT_DROPPED:
            if self.isVisible():
                self.push()
            else:
                self._stale = True
        elif self.isVisible():
            # dropped while the theater is on screen: the user wants to see it here; from another tab
            # (a drawing pad emits on every stroke) the lecture grid stays until they pick the image
            s.choose(input_kind=src.INPUT_DROPPED)

    # -- whole image and model ------------------------------------------------------------------------
    def apply_to_whole_image(self) -> None:
        """The current filter's full output beside the first conv layer's learned filters on the picture."""
        self.whole_image.show_maps(self.stage, self.sources)

    def use_kernel_in_model(self) -> bool:
        """Copy the current 2-D kernel into a filter of the model's first conv layer (optionally frozen)."""
        c = self.controller
        convs = self.sources.conv_layers()
        if c is None or not convs:
            self.show_message(tr("There is no model with a convolution layer to put the kernel into."))
            return False
        li, layer = convs[0]
        W = layer.params["W"]
        f = self.model_box.target_filter_spin.value()
        k2d = np.array(self.sources.edited_kernel, dtype=np.float64)
        if k2d.shape != W.shape[2:]:
            self.show_message(tr("The first layer's filters are {}x{} but this kernel is {}x{}: pick a kernel "
                                 "of the same size.").format(W.shape[2], W.shape[3], k2d.shape[0], k2d.shape[1]))
            return False
        if c.is_busy:
            # the worker thread reads these weights while it trains: change them between runs only
            self.show_message(tr("Pause training first, then use the kernel."))
            return False
        frozen = self.model_box.freeze_check.isChecked()
        kernel = kernel_for_input(k2d, W.shape[1]).astype(np.float32)
        try:
            # in place, not set_model: the trainer, its optimizer state and the curves so far stay
            c.set_conv_filter(li, f, kernel, frozen, bias=float(self.stage.bias))
        except ConvScopeError as exc:
            self.show_message(tr_error(exc))
            return False
        self.show_message("")
        c.status_message.emit(tr("Filter {} of {} now holds this kernel{}.").format(
            f, layer.name, tr(" (kept fixed during training)") if frozen else ""))
        self.kernel_applied.emit(li, f)
        return True

    # -- visibility -----------------------------------------------------------------------------------
    def pause(self) -> None:
        self.playback.pause()
        self.backward_view.playback.pause()

    def hideEvent(self, event) -> None:
        self.pause()  # an animation nobody sees wastes the GUI thread's time
        super().hideEvent(event)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale:
            self._stale = False
            self.push(keep_position=True)
        if self.direction == "backward":
            self.refresh_backward(keep_position=True)


if __name__ == "__main__":  # preview on the lecture's grids: python -m gui.theater.panel [--ko] [shot.png]
    import sys

    from PySide6.QtWidgets import QApplication

    from gui import i18n

    app = QApplication.instance() or QApplication(sys.argv)
    i18n.set_language("ko" if "--ko" in sys.argv else "en")
    panel = TheaterPanel(None)
    panel.resize(1500, 900)
    panel.show()
    shots = [a for a in sys.argv[1:] if a.endswith(".png")]
    if shots:
        def shoot():
            panel.stage.seek(5)
            panel.grab().save(shots[0])
            app.quit()
        QTimer.singleShot(600, shoot)
    sys.exit(app.exec())
