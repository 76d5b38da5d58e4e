"""``TimelineBar``: the slim bar across the window that moves every panel to a kept moment.

A thin view over :class:`gui.timeline.model.TimelineModel`: the slider's positions are the kept
moments (log-spaced steps; the right end is "live"), with a tick under each epoch end; play/pause
replays the moments on a timer; "Live" returns to now. User input only calls the model; the widgets
are set back from the model's events.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QStyle, QStyleOptionSlider, QToolButton, QWidget

from gui.i18n import tr

PLAY_INTERVAL_MS = 300


class EpochTickSlider(QSlider):
    """A horizontal slider that marks the positions of epoch ends (``epoch_marks``: {position: epoch})."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.epoch_marks: dict[int, int] = {}
        self.setMinimumHeight(30)

    def set_marks(self, marks: dict[int, int]) -> None:
        if marks != self.epoch_marks:
            self.epoch_marks = dict(marks)
            self.update()

    def mark_x(self, position: int) -> int:
        opt = QStyleOptionSlider()
        self.initStyleOption(opt)
        handle = self.style().subControlRect(QStyle.ComplexControl.CC_Slider, opt,
                                             QStyle.SubControl.SC_SliderHandle, self)
        span = self.width() - handle.width()
        x = QStyle.sliderPositionFromValue(self.minimum(), self.maximum(), position, span)
        return x + handle.width() // 2

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().paintEvent(event)
        if not self.epoch_marks:
            return
        p = QPainter(self)
        p.setPen(QPen(QColor(200, 80, 60), 2))
        font = p.font()
        font.setPointSizeF(max(6.0, font.pointSizeF() * 0.75))
        p.setFont(font)
        h = self.height()
        last_label = -100
        for position, epoch in sorted(self.epoch_marks.items()):
            x = self.mark_x(position)
            p.drawLine(x, h - 9, x, h - 1)
            if x - last_label > 18:        # crowded epochs: every label that fits
                p.drawText(QRect(x - 12, 0, 24, 10), Qt.AlignmentFlag.AlignCenter, str(epoch))
                last_label = x
        p.end()


class TimelineBar(QWidget):
    """Play/pause, step back/forward, the slider over kept moments, the moment's label and "Live"."""

    def __init__(self, model, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = model
        self.setObjectName("timelineBar")
        self.title = QLabel(tr("Timeline"))
        self.title.setStyleSheet("font-weight: bold")
        self.play_button = QToolButton()
        self.play_button.setToolTip(tr("Replay the training from the shown moment: every panel follows."))
        self.back_button = QToolButton()
        self.back_button.setArrowType(Qt.ArrowType.LeftArrow)
        self.back_button.setToolTip(tr("One kept moment earlier"))
        self.forward_button = QToolButton()
        self.forward_button.setArrowType(Qt.ArrowType.RightArrow)
        self.forward_button.setToolTip(tr("One kept moment later"))
        self.slider = EpochTickSlider()
        self.slider.setToolTip(tr("Kept moments of this run: many at the start, where the filters change fast, "
                                  "fewer later, and every epoch end (red ticks). Drag to look at the past."))
        self.label = QLabel()
        self.label.setMinimumWidth(260)
        self.live_button = QToolButton()
        self.live_button.setText(tr("Live"))
        self.live_button.setCheckable(True)
        self.live_button.setToolTip(tr("Back to the model as it is now"))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        for w in (self.title, self.play_button, self.back_button, self.forward_button):
            layout.addWidget(w)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.label)
        layout.addWidget(self.live_button)

        self.timer = QTimer(self)
        self.timer.setInterval(PLAY_INTERVAL_MS)
        self.timer.timeout.connect(self.model.tick)
        self.play_button.clicked.connect(self.on_play_clicked)
        self.back_button.clicked.connect(self.model.step_back)
        self.forward_button.clicked.connect(self.model.step_forward)
        self.live_button.clicked.connect(self.on_live_clicked)
        self.slider.valueChanged.connect(self.on_slider_moved)
        self.model.subscribe(self.on_model_changed)
        self.on_model_changed(frozenset({"moments", "position", "playing"}))

    # -- user input: only the model is told -----------------------------------------------------
    def on_play_clicked(self) -> None:
        if self.model.playing:
            self.model.pause()
        else:
            self.model.play()

    def on_live_clicked(self) -> None:
        self.model.go_live()
        self.live_button.setChecked(True)

    def on_slider_moved(self, value: int) -> None:
        if value >= self.model.count:
            self.model.go_live()
        else:
            self.model.seek(value)

    # -- model events ---------------------------------------------------------------------------------
    def on_model_changed(self, names) -> None:
        m = self.model
        if "moments" in names:
            steps = m.steps
            index_of = {s: i for i, s in enumerate(steps)}
            self.slider.set_marks({index_of[s]: e for e, s in m.epoch_steps.items() if s in index_of})
        if "playing" in names:
            self.play_button.setText("❚❚" if m.playing else "▶")
            self.play_button.setToolTip(tr("Pause the replay") if m.playing else
                                        tr("Replay the training from the shown moment: every panel follows."))
            self.timer.start() if m.playing else self.timer.stop()
        self.slider.blockSignals(True)
        self.slider.setRange(0, m.count)                 # the last position is "live"
        self.slider.setValue(m.count if m.is_live else m.index)
        self.slider.blockSignals(False)
        enabled = m.count > 0
        for w in (self.slider, self.play_button, self.back_button, self.forward_button):
            w.setEnabled(enabled)
        self.live_button.setChecked(m.is_live)
        self.label.setText(self.describe())

    def describe(self) -> str:
        m = self.model
        if m.count == 0:
            return tr("Moments are kept while training runs")
        pos = m.position
        if pos.live:
            return tr("Live (kept: {} moments up to step {})").format(m.count, m.live_step)
        return tr("Step {} · epoch {:.2f} (live: step {})").format(pos.step, pos.epoch, m.live_step)
