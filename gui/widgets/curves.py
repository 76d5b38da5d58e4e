"""Curves panel: training loss/accuracy per batch (raw and smoothed) and validation per epoch.

The plot items are created once and fed with ``setData`` by a timer (the sink renders the newest data
only). The x axis counts epochs (fractions for batches), so per-batch and per-epoch values line up.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from gui.i18n import tr
from gui.widgets.common import BACKGROUND, TRAIN_COLOR, VAL_COLOR, nice_ceil
from gui.widgets.curves_model import CurvesModel
from gui.widgets.pacer import shared_pacer

# 4 redraws a second are plenty for curves. Painting them was the GUI thread's largest cost while
# training (a frame held the GUI thread 30-50 ms under load): the frame pacer draws the loss plot and
# the accuracy plot in different turns of the event loop, each at most 4 times a second, and only
# while the panel is on screen.
REFRESH_MS = 250
MAX_DOTS = 60        # validation dots up to this many epochs; beyond, they would merge into a thick line


def _opaque(color, alpha: int, background=(255, 255, 255)) -> tuple[int, int, int]:
    """``color`` at ``alpha`` over the white background, as an opaque colour (blending per pixel
    while painting thousands of segments costs more than an opaque pen)."""
    return tuple(round(c * alpha / 255 + b * (1 - alpha / 255)) for c, b in zip(color, background, strict=True))


class CurvesPanel(QWidget):
    """Loss and accuracy plots, side by side."""

    def __init__(self, controller, parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        self.model = CurvesModel()
        self._shown_epochs = {"loss": -1, "acc": -1}
        self._dirty = False
        self._pending: dict = {}            # the newest series, waiting for the plots still to draw them
        self._pending_plots: set[str] = set()
        self.render_count = 0

        self.glw = pg.GraphicsLayoutWidget()
        self.glw.setBackground(BACKGROUND)
        self.loss_plot = self.glw.addPlot(row=0, col=0)
        self.acc_plot = self.glw.addPlot(row=0, col=1)
        for plot, title, ylabel in ((self.loss_plot, tr("Loss (lower is better)"), tr("loss")),
                                    (self.acc_plot, tr("Accuracy (higher is better)"), tr("accuracy"))):
            plot.setTitle(title, size="11pt")
            plot.setLabel("bottom", tr("epoch"))
            plot.setLabel("left", ylabel)
            plot.setMenuEnabled(False)
        # Opaque cosmetic pens of at most 2 px (thicker or translucent pens cost several times more to
        # paint), no antialiasing and no grid: measured at 1270x200 with 3,000 batches, a repaint took
        # 51 ms with them and 7 ms without. Created once; the timer feeds them with setData.
        raw_pen = pg.mkPen(_opaque(TRAIN_COLOR, 70), width=1)
        smooth_pen = pg.mkPen(TRAIN_COLOR, width=2)
        val_pen = pg.mkPen(VAL_COLOR, width=2)
        self.loss_raw = self.loss_plot.plot(pen=raw_pen, antialias=False)
        self.loss_smooth = self.loss_plot.plot(pen=smooth_pen, antialias=False)
        self.loss_val = self.loss_plot.plot(pen=val_pen, symbol="o", symbolSize=9, symbolBrush=VAL_COLOR,
                                            antialias=False)
        self.acc_raw = self.acc_plot.plot(pen=raw_pen, antialias=False)
        self.acc_smooth = self.acc_plot.plot(pen=smooth_pen, antialias=False)
        self.acc_val = self.acc_plot.plot(pen=val_pen, symbol="o", symbolSize=9, symbolBrush=VAL_COLOR,
                                          antialias=False)
        # Ranges are set by hand in whole epochs and nice loss values: an axis whose range moves every
        # frame regenerates its ticks every frame (most of the painting time while training).
        for plot in (self.loss_plot, self.acc_plot):
            plot.disableAutoRange()
        self.loss_plot.setRange(xRange=(0, 1), yRange=(0, 1), padding=0.02)
        self._ranges: dict[str, tuple] = {}
        # the timeline's moment: a vertical line at its step (x in epochs), hidden while live
        cursor_pen = pg.mkPen((90, 90, 90), width=2, style=pg.QtCore.Qt.PenStyle.DashLine)
        self.cursors = [pg.InfiniteLine(angle=90, movable=False, pen=cursor_pen) for _ in range(2)]
        for plot, cursor in zip((self.loss_plot, self.acc_plot), self.cursors, strict=True):
            cursor.setVisible(False)
            plot.addItem(cursor, ignoreBounds=True)
        # no pyqtgraph downsampling or clipping: the model already hands over at most MAX_POINTS per
        # curve, and the x range always shows the whole run

        self.log_check = QCheckBox(tr("Log scale loss"))
        self.log_check.setToolTip(tr("A logarithmic axis shows small late improvements of the loss better."))
        self.raw_check = QCheckBox(tr("Show every batch"))
        self.raw_check.setChecked(True)
        self.raw_check.setToolTip(tr("Each batch's own loss is noisy (faint line); the thick line is its moving "
                                     "average."))
        self.summary = QLabel()
        self.summary.setToolTip(tr("Validation images are never trained on: they show how well the network "
                                   "generalizes. A growing gap to the training curve means overfitting."))
        # the legend lives above the plots: inside, it would cover the curves of a low dock
        self.legend = QLabel(
            "<span style='color:rgb{};font-weight:bold'>━━ {}</span> &nbsp; "
            "<span style='color:rgb{};font-weight:bold'>● {}</span>".format(
                TRAIN_COLOR, tr("training (smoothed)"), VAL_COLOR, tr("validation")))
        self.legend.setToolTip(tr("Left: loss; right: accuracy. Thin blue: each batch; thick blue: smoothed; red "
                                  "dots: validation after each epoch."))
        top = QHBoxLayout()
        top.addWidget(self.legend)
        top.addSpacing(16)
        top.addWidget(self.log_check)
        top.addWidget(self.raw_check)
        top.addStretch(1)
        top.addWidget(self.summary)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.glw, 1)
        self.glw.setToolTip(tr("Left: loss; right: accuracy. Thin blue: each batch; thick blue: smoothed; red "
                               "dots: validation after each epoch."))

        self.log_check.toggled.connect(self.on_log_toggled)
        self.raw_check.toggled.connect(self.on_raw_toggled)
        controller.batch_metrics_ready.connect(self.mark_dirty)
        controller.epoch_metrics_ready.connect(self.mark_dirty)
        controller.history_reset.connect(self.on_history_reset)
        if hasattr(controller, "timeline_moved"):
            controller.timeline_moved.connect(self.on_timeline_moved)
        pacer = shared_pacer()
        pacer.add(self._draw_loss, REFRESH_MS)
        pacer.add(self._draw_acc, REFRESH_MS)

    def mark_dirty(self, *_args) -> None:
        self._dirty = True

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self.render()                    # what arrived while hidden, at once

    def on_timeline_moved(self, position) -> None:
        """A past moment of the timeline: a cursor at its epoch position on both plots."""
        for cursor in self.cursors:
            cursor.setPos(float(position.epoch))
            cursor.setVisible(not position.live)

    @property
    def cursor_x(self) -> float | None:
        """Where the timeline cursor stands (in epochs), None while live."""
        return float(self.cursors[0].value()) if self.cursors[0].isVisible() else None

    def on_history_reset(self) -> None:
        self.model.reset()
        self._shown_epochs = {"loss": -1, "acc": -1}
        self._pending, self._pending_plots = {}, set()
        self._ranges = {}
        for item in (self.loss_raw, self.loss_smooth, self.loss_val, self.acc_raw, self.acc_smooth, self.acc_val):
            item.setData([], [])
        self.summary.setText("")
        self._dirty = True

    def on_log_toggled(self, on: bool) -> None:
        self.loss_plot.setLogMode(y=on)
        self._ranges.pop("loss", None)
        self._dirty = True

    def on_raw_toggled(self, on: bool) -> None:
        self.loss_raw.setVisible(on)
        self.acc_raw.setVisible(on)

    def curve_data(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Arrays the plots show (x in epochs): raw/smoothed per batch, validation per epoch."""
        h = self.controller.history
        self.model.grow(h.batches)
        return self.model.series(h.epochs)

    def _update_range(self, plot: str) -> None:
        xmax = self.model.x_max()
        if plot == "loss":
            log = self.log_check.isChecked()
            lo, hi = self.model.loss_extent(self.controller.history.epochs, log)
            loss_range = (lo, hi) if log else (0.0, nice_ceil(hi))
            if self._ranges.get("loss") != (xmax, loss_range):
                self._ranges["loss"] = (xmax, loss_range)
                self.loss_plot.setRange(xRange=(0, xmax), yRange=loss_range, padding=0.02)
        elif self._ranges.get("acc") != xmax:
            self._ranges["acc"] = xmax
            self.acc_plot.setRange(xRange=(0, xmax), yRange=(0, 1), padding=0.02)

    def render(self) -> None:
        """Draw the newest curves on both plots (when something changed and the panel is on screen)."""
        self.render_plot("loss")
        self.render_plot("acc")

    def _draw_loss(self) -> bool:
        return self.render_plot("loss")

    def _draw_acc(self) -> bool:
        return self.render_plot("acc")

    def render_plot(self, plot: str) -> bool:
        """Draw the newest curves of one plot (``"loss"`` or ``"acc"``); True when it drew.

        The series are computed once for both plots; each plot takes them when its turn comes.
        """
        if not self.isVisible():
            return False
        if self._dirty:
            self._dirty = False
            self._pending = self.curve_data()
            self._pending_plots = {"loss", "acc"}
        if plot not in self._pending_plots:
            return False
        self._pending_plots.discard(plot)
        d = self._pending
        raw, smooth, val = ((self.loss_raw, self.loss_smooth, self.loss_val) if plot == "loss" else
                            (self.acc_raw, self.acc_smooth, self.acc_val))
        items = {f"{plot}_raw": raw, f"{plot}_smooth": smooth}
        epochs = len(self.controller.history.epochs)
        if epochs != self._shown_epochs[plot]:
            # a scatter's setData costs per point (15 ms for 600): only when an epoch was added
            self._shown_epochs[plot] = epochs
            items[f"{plot}_val"] = val
            symbol = "o" if epochs <= MAX_DOTS else None
            if val.opts["symbol"] != symbol:
                val.setSymbol(symbol)
        for key, item in items.items():
            x, y = d[key]
            item.setData(x, y, skipFiniteCheck=True)       # the model hands over finite values only
        self._update_range(plot)
        if plot == "loss":
            h = self.controller.history
            if h.epochs:
                e = h.epochs[-1]
                self.summary.setText(tr("epoch {}: validation loss {:.3f}, accuracy {:.1%}").format(
                    e.epoch + 1, e.val_loss, e.val_accuracy))
        if plot == "acc":                   # the second half of a frame (counted once per frame)
            self.render_count += 1
        if not self._pending_plots:
            self._pending = {}
        return True
