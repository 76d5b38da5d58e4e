"""Curves panel: training loss/accuracy per batch (raw and smoothed) and validation per epoch.

The plot items are created once and fed with ``setData`` by a timer (the sink renders the newest data
only). The x axis counts epochs (fractions for batches), so per-batch and per-epoch values line up.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from gui.i18n import tr
from gui.widgets.common import BACKGROUND, TRAIN_COLOR, VAL_COLOR

REFRESH_MS = 250     # 5 redraws a second are plenty for curves; painting axes is the GUI's main cost


def ema(values: np.ndarray, alpha: float) -> np.ndarray:
    """Exponential moving average with bias correction (like TensorBoard's smoothing)."""
    out = np.empty(len(values), dtype=np.float64)
    acc = 0.0
    weight = 0.0
    for i, v in enumerate(values):
        if np.isfinite(v):
            acc = alpha * acc + (1 - alpha) * v
            weight = alpha * weight + (1 - alpha)
        out[i] = acc / weight if weight > 0 else np.nan
    return out


class CurvesPanel(QWidget):
    """Loss and accuracy plots, side by side."""

    def __init__(self, controller, parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        self._dirty = False
        self._shown_batches = 0
        self._shown_epochs = 0
        self._smoothed_loss = np.zeros(0)
        self._smoothed_acc = np.zeros(0)
        self._x = self._loss = self._acc = np.zeros(0)
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
        raw_pen = pg.mkPen((*TRAIN_COLOR, 70), width=1)
        smooth_pen = pg.mkPen(TRAIN_COLOR, width=3)
        val_pen = pg.mkPen(VAL_COLOR, width=3)
        # Created once; the timer feeds them with setData. No antialiasing and no grid: measured at
        # 1270x200 with 3,000 batches, a repaint took 51 ms with them and 7 ms without (the GUI
        # thread's largest cost while training).
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
        for item in (self.loss_raw, self.loss_smooth, self.acc_raw, self.acc_smooth):
            item.setClipToView(True)
            item.setDownsampling(auto=True, method="mean")

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
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.render)
        self.timer.start()

    def mark_dirty(self, *_args) -> None:
        self._dirty = True

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
        self._shown_batches = 0
        self._shown_epochs = 0
        self._smoothed_loss = np.zeros(0)
        self._smoothed_acc = np.zeros(0)
        self._x = self._loss = self._acc = np.zeros(0)
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

    def _grow(self) -> None:
        """Append the batches that arrived since the last redraw to the cached arrays (O(new))."""
        batches = self.controller.history.batches
        n0, n = len(self._x), len(batches)
        if n < n0:                                   # a new run: start over
            self._x = self._loss = self._acc = np.zeros(0)
            self._smoothed_loss = self._smoothed_acc = np.zeros(0)
            n0 = 0
        if n == n0:
            return
        new = batches[n0:n]
        self._x = np.concatenate([self._x, [b.epoch_progress for b in new]])
        self._loss = np.concatenate([self._loss, [b.loss for b in new]])
        self._acc = np.concatenate([self._acc, [b.accuracy for b in new]])
        per_epoch = max(1, new[-1].batches_per_epoch)
        # about 1/50 of an epoch: smooth enough to read, short enough not to lag the raw batches
        alpha = float(np.clip(1 - 1 / max(5.0, per_epoch / 50), 0.6, 0.95))
        # smooth only the new batches (the average continues from the last shown value)
        self._smoothed_loss = _extend_ema(self._smoothed_loss, self._loss, alpha)
        self._smoothed_acc = _extend_ema(self._smoothed_acc, self._acc, alpha)

    def curve_data(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Arrays the plots show (x in epochs): raw/smoothed per batch, validation per epoch."""
        self._grow()
        ep = self.controller.history.epochs
        ex = np.array([e.epoch + 1 for e in ep], float)
        nan = float("nan")
        return {
            "loss_raw": (self._x, self._loss), "acc_raw": (self._x, self._acc),
            "loss_smooth": (self._x, self._smoothed_loss), "acc_smooth": (self._x, self._smoothed_acc),
            "loss_val": (ex, np.array([nan if e.val_loss is None else e.val_loss for e in ep], float)),
            "acc_val": (ex, np.array([nan if e.val_accuracy is None else e.val_accuracy for e in ep], float)),
        }

    def _update_ranges(self, d) -> None:
        x = d["loss_raw"][0]
        xmax = max(1.0, float(np.ceil(x.max() - 1e-9))) if len(x) else 1.0
        _, raw = d["loss_raw"]
        vals = np.concatenate([raw[np.isfinite(raw)], d["loss_val"][1][np.isfinite(d["loss_val"][1])]])
        if self.log_check.isChecked():
            pos = vals[vals > 0]
            lo = float(np.floor(np.log10(pos.min()))) if len(pos) else -3.0
            hi = float(np.ceil(np.log10(pos.max()))) if len(pos) else 1.0
            loss_range = (lo, max(hi, lo + 1))
        else:
            # a single wild batch must not squash the curve: the top follows the 99th percentile
            top = float(np.percentile(vals, 99)) if len(vals) else 1.0
            smooth = d["loss_smooth"][1]
            smooth = smooth[np.isfinite(smooth)]
            if len(smooth):
                top = max(top, float(smooth.max()))      # the smoothed start stays on screen
            loss_range = (0.0, _nice_ceil(top))
        if self._ranges.get("loss") != (xmax, loss_range):
            self._ranges["loss"] = (xmax, loss_range)
            self.loss_plot.setRange(xRange=(0, xmax), yRange=loss_range, padding=0.02)
        if self._ranges.get("acc") != xmax:
            self._ranges["acc"] = xmax
            self.acc_plot.setRange(xRange=(0, xmax), yRange=(0, 1), padding=0.02)

    def render(self) -> None:
        if not self._dirty:
            return
        self._dirty = False
        d = self.curve_data()
        for key, item in (("loss_raw", self.loss_raw), ("loss_smooth", self.loss_smooth),
                          ("loss_val", self.loss_val), ("acc_raw", self.acc_raw),
                          ("acc_smooth", self.acc_smooth), ("acc_val", self.acc_val)):
            x, y = d[key]
            finite = np.isfinite(y)
            item.setData(x[finite], y[finite])
        self._update_ranges(d)
        h = self.controller.history
        if h.epochs:
            e = h.epochs[-1]
            self.summary.setText(tr("epoch {}: validation loss {:.3f}, accuracy {:.1%}").format(
                e.epoch + 1, e.val_loss, e.val_accuracy))
        self.render_count += 1


def _nice_ceil(v: float) -> float:
    from gui.widgets.common import nice_ceil

    return nice_ceil(v)


def _extend_ema(done: np.ndarray, values: np.ndarray, alpha: float) -> np.ndarray:
    n0 = len(done)
    if n0 == len(values):
        return done
    if n0 == 0:
        return ema(values, alpha)
    # continue the running average: recover its un-normalised state from the last point
    weight = 1 - alpha ** n0
    acc = done[-1] * weight
    out = np.empty(len(values), np.float64)
    out[:n0] = done
    for i in range(n0, len(values)):
        if np.isfinite(values[i]):               # a diverged batch (NaN) must not poison the average
            acc = alpha * acc + (1 - alpha) * values[i]
            weight = alpha * weight + (1 - alpha)
        out[i] = acc / weight if weight > 0 else np.nan
    return out
