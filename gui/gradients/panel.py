"""Gradients panel: each layer's gradient norm (or update/weight ratio) over the training steps, live.

A thin view over :class:`~gui.gradients.history.GradientHistory`: the controller's snapshots feed the
model as they come, a timer draws the newest state (the sink throttle, like the other panels). One
curve per trainable layer on a log axis, coloured from the input (dark) to the output (light), so a
gradient that fades on its way back shows as dark curves far below the light ones. The previous run
stays on the plot as pale dashed lines: two buttons train the deep sigmoid network and its ReLU twin to compare.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from engine.presets import PRESETS
from gui.gradients.history import GradientHistory
from gui.i18n import tr
from gui.widgets.common import BACKGROUND
from gui.widgets.pacer import shared_pacer

REFRESH_MS = 250          # curves: 4 redraws a second are plenty (snapshots come ~12 a second)
PREVIOUS_FADE = 0.6         # the previous run: each layer's colour, this much towards light grey, dashed
COMPARE_PRESETS = ("deep_sigmoid", "deep_relu")


def layer_colors(n: int) -> list[tuple[int, int, int]]:
    """``n`` colours from the input layer (dark violet) to the output layer (yellow-green), viridis."""
    cmap = pg.colormap.get("viridis")
    if n <= 0:
        return []
    positions = np.linspace(0.0, 0.85, n) if n > 1 else np.array([0.0])
    return [tuple(int(v) for v in cmap.map(float(t), mode="byte")[:3]) for t in positions]


def faded(color: tuple[int, int, int], amount: float = PREVIOUS_FADE) -> tuple[int, int, int]:
    """``color`` moved ``amount`` of the way towards light grey (the previous run's curves)."""
    return tuple(int(round(c + (210 - c) * amount)) for c in color)


def positive(steps: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The points a log axis can show (finite and above zero)."""
    keep = np.isfinite(values) & (values > 0)
    return steps[keep], values[keep]


class GradientPanel(QWidget):
    """Per-layer gradient sizes of the running training, with the previous run faded."""

    def __init__(self, controller, parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        self.history = GradientHistory()
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.previous_curves: dict[str, pg.PlotDataItem] = {}
        self._drawn_version = -1
        self._drawn_layout = None
        self.render_count = 0

        self.quantity_combo = QComboBox()
        self.quantity_combo.addItem(tr("Gradient norm"), "grad_norm")
        self.quantity_combo.addItem(tr("Update / weight ratio"), "update_ratio")
        self.quantity_combo.setToolTip(tr("Gradient norm: how strongly the loss pulls on a layer's weights. "
                                          "Update / weight ratio: how much one step changes them (about "
                                          "0.001 is healthy; far below means the layer hardly learns)."))
        self.sigmoid_button = QPushButton(tr("Train deep sigmoid"))
        self.sigmoid_button.setToolTip(tr("Build eight Dense layers with sigmoid and start training: watch the "
                                          "first layers' gradients fade."))
        self.relu_button = QPushButton(tr("Train deep ReLU"))
        self.relu_button.setToolTip(tr("The same network with ReLU: the gradients reach the first layers. The "
                                       "previous run stays as pale dashed lines for comparison."))
        self.clear_button = QPushButton(tr("Clear"))
        self.clear_button.setToolTip(tr("Forget the curves of this run and the previous one."))
        top = QHBoxLayout()
        top.addWidget(QLabel(tr("Show")))
        top.addWidget(self.quantity_combo)
        top.addSpacing(16)
        top.addWidget(QLabel(tr("Compare:")))
        top.addWidget(self.sigmoid_button)
        top.addWidget(self.relu_button)
        top.addStretch(1)
        top.addWidget(self.clear_button)

        # the legend sits beside the plot, not over the curves it names
        self.plot_widget = pg.GraphicsLayoutWidget()
        self.plot_widget.setBackground(BACKGROUND)
        self.plot_widget.setToolTip(tr("One line per layer, dark = near the input, light = near the output. "
                                       "Dashed pale lines: the previous run. The axis is logarithmic: each grid "
                                       "step is 10 times larger."))
        self.plot = self.plot_widget.addPlot(row=0, col=0)
        self.plot.setLogMode(x=False, y=True)
        self.plot.setMenuEnabled(False)
        self.plot.setLabel("bottom", tr("training step"))
        self.plot.showGrid(x=False, y=True, alpha=0.25)
        self.legend = pg.LegendItem(labelTextSize="9pt", verSpacing=-4)
        self.legend.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        side = self.plot_widget.addLayout(row=0, col=1)
        side.addItem(self.legend, row=0, col=0)
        side.addLabel("", row=1, col=0)          # takes the rest of the height: the legend stays compact
        side.layout.setRowStretchFactor(1, 10)
        side.setMaximumWidth(200)
        self.plot_widget.ci.layout.setColumnStretchFactor(0, 10)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setToolTip(tr("The first layer's gradient compared with the last layer's, over the last "
                                   "snapshots. Far below 1 means the gradient vanishes on its way back."))

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.plot_widget, 1)
        layout.addWidget(self.summary)

        self.quantity_combo.currentIndexChanged.connect(self.on_quantity_changed)
        self.sigmoid_button.clicked.connect(self.on_sigmoid_clicked)
        self.relu_button.clicked.connect(self.on_relu_clicked)
        self.clear_button.clicked.connect(self.on_clear_clicked)
        controller.snapshot_ready.connect(self.on_snapshot)
        controller.history_reset.connect(self.on_history_reset)
        controller.model_changed.connect(self.on_model_changed)
        shared_pacer().add(self.render, REFRESH_MS)
        self.history.set_label(self.run_label())
        self._update_axis_label()

    # -- what is shown -------------------------------------------------------------------------
    @property
    def quantity(self) -> str:
        return str(self.quantity_combo.currentData())

    def run_label(self) -> str:
        c = self.controller
        preset = PRESETS.get(c.preset_name) if getattr(c, "preset_name", None) else None
        if preset is not None:
            return tr(preset.display_name)
        model = getattr(c, "model", None)
        return getattr(model, "name", "") or tr("your network")

    # -- controller events ---------------------------------------------------------------------
    def on_snapshot(self, snapshot) -> None:
        self.history.record_snapshot(snapshot)        # cheap; render() draws on the timer

    def on_history_reset(self) -> None:
        self.history.new_run(self.run_label())

    def on_model_changed(self, _model) -> None:
        self.history.set_label(self.run_label())

    # -- user input ----------------------------------------------------------------------------
    def on_quantity_changed(self, _index: int) -> None:
        self._update_axis_label()
        self._drawn_version = -1
        self.render()

    def on_sigmoid_clicked(self) -> None:
        self.train_preset("deep_sigmoid")

    def on_relu_clicked(self) -> None:
        self.train_preset("deep_relu")

    def on_clear_clicked(self) -> None:
        self.history.clear()
        self.render()

    def train_preset(self, key: str) -> bool:
        """Use preset ``key`` (with its optimizer settings) and start training it."""
        if key not in COMPARE_PRESETS or not self.controller.set_preset(key):
            return False
        return bool(self.controller.start())

    # -- drawing -------------------------------------------------------------------------------
    def _update_axis_label(self) -> None:
        text = tr("gradient norm (log)") if self.quantity == "grad_norm" else tr("update / weight (log)")
        self.plot.setLabel("left", text)

    def _rebuild_items(self, names: list[str], previous: list[str]) -> None:
        """Create the curves once per set of layers (items are fed with setData afterwards)."""
        for item in list(self.curves.values()) + list(self.previous_curves.values()):
            self.plot.removeItem(item)
        self.legend.clear()
        self.curves, self.previous_curves = {}, {}
        for name, color in zip(previous, layer_colors(len(previous)), strict=True):
            pen = pg.mkPen(faded(color), width=1.5, style=pg.QtCore.Qt.PenStyle.DashLine)
            self.previous_curves[name] = self.plot.plot(pen=pen, antialias=False)
        for name, color in zip(names, layer_colors(len(names)), strict=True):
            self.curves[name] = self.plot.plot(pen=pg.mkPen(color, width=2.5), antialias=False)
            self.legend.addItem(self.curves[name], name)
        if previous:
            self.legend.addItem(next(iter(self.previous_curves.values())), tr("dashed: previous run"))

    def render(self) -> bool:
        """Draw the newest gradient history (the frame pacer calls it); True when it drew."""
        h = self.history
        if h.version == self._drawn_version or not self.isVisible():
            return False
        self._drawn_version = h.version
        prev = h.previous
        names = h.layer_names
        prev_names = list(prev.layer_names) if prev is not None else []
        layout = (tuple(names), tuple(prev_names))
        if layout != self._drawn_layout:
            self._drawn_layout = layout
            self._rebuild_items(names, prev_names)
        q = self.quantity
        for name, item in self.curves.items():
            item.setData(*positive(*h.series(name, q)))
        for name, item in self.previous_curves.items():
            item.setData(*positive(*prev.series(name, q)))
        self._update_summary()
        self.render_count += 1
        return True

    def _update_summary(self) -> None:
        h = self.history
        if not h.layer_names:
            self.summary.setText(tr("Start training: each layer's gradient appears here, one line per layer."))
            return
        parts = [self._ratio_text(h.current)]
        if h.previous is not None and len(h.previous.layer_names) > 1:
            parts.append(tr("previous run ({}): {}").format(h.previous.label, self._ratio_text(h.previous,
                                                                                             short=True)))
        self.summary.setText("   ·   ".join(p for p in parts if p))

    def _ratio_text(self, run, short: bool = False) -> str:
        ratio = self.history.first_to_last(run, "grad_norm")
        if not np.isfinite(ratio):
            return ""
        if short:
            return tr("first layer {:.2g} × last").format(ratio)
        text = tr("<b>{}</b>: the first layer's gradient is {:.2g} × the last layer's.").format(run.label, ratio)
        if ratio < 0.05:
            text += " " + tr("It vanishes on the way back: the first layers hardly learn.")
        return text
