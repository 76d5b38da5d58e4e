"""The player bar above the stage: step back / play / step, speed, and a slider over the positions.

A QTimer moves the StageModel's position one cell per tick; the slider and the label follow the
model's ``position`` event, so a click on a grid or a key press moves them too.
"""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Qt, QTimer
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from engine.theater import fmt
from gui.i18n import tr
from gui.theater.stage import StageModel
from gui.theater.text import position_text

# Steps per second of the speed slider: slow enough to talk over, fast enough to fill a 26x26 map
# (676 steps) in about 11 s.
SPEEDS = (0.5, 1, 1.5, 2, 3, 4, 6, 8, 12, 16, 24, 32, 45, 60)


class PlaybackBar(QWidget):
    """Step, play and scrub over ``stage``'s output positions.

    ``stage`` is a :class:`StageModel` or any model with the same playback interface (backward mode's
    :class:`~gui.theater.backward.BackwardStageModel`); ``describe(stage)`` writes the position line.
    """

    def __init__(self, stage: StageModel, parent: QWidget | None = None, describe=position_text):
        super().__init__(parent)
        self.stage = stage
        self.describe = describe
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._tick)
        bar = QVBoxLayout(self)
        bar.setContentsMargins(0, 0, 0, 0)
        bar.setSpacing(2)
        row = QHBoxLayout()
        bar.addLayout(row)
        st = self.style()
        # step buttons show only their icon (the tooltip names them) so the bar fits a small tab
        self.back_button = QPushButton(st.standardIcon(QStyle.StandardPixmap.SP_MediaSeekBackward), "")
        self.back_button.setToolTip(tr("Step back") + " (←)")
        self.play_button = QPushButton(st.standardIcon(QStyle.StandardPixmap.SP_MediaPlay), tr("Play"))
        self.play_button.setToolTip(tr("Play") + " / " + tr("Pause") + " (Space)")
        # wide enough for either word, so the bar does not jump when Play turns into Pause
        words = max(self.fontMetrics().horizontalAdvance(tr(w)) for w in ("Play", "Pause"))
        self.play_button.setMinimumWidth(words + 48)
        self.step_button = QPushButton(st.standardIcon(QStyle.StandardPixmap.SP_MediaSeekForward), "")
        self.step_button.setToolTip(tr("Step") + " (→)")
        self.controls_button = QPushButton(tr("Settings"))
        self.controls_button.setCheckable(True)
        self.controls_button.setChecked(True)
        self.controls_button.setToolTip(tr("Show or hide the settings column (hide it to give the stage the "
                                           "whole screen on a projector)."))
        for b in (self.back_button, self.play_button, self.step_button):
            row.addWidget(b)
        row.addSpacing(12)
        row.addWidget(QLabel(tr("Speed")))
        self.speed_slider = QSlider(Qt.Orientation.Horizontal)
        self.speed_slider.setRange(0, len(SPEEDS) - 1)
        self.speed_slider.setValue(SPEEDS.index(2))
        self.speed_slider.setMinimumWidth(48)
        self.speed_slider.setMaximumWidth(140)
        row.addWidget(self.speed_slider)
        self.speed_label = QLabel()
        self.speed_label.setMinimumWidth(self.fontMetrics().horizontalAdvance(tr("{} steps/s").format("15.5")) + 8)
        row.addWidget(self.speed_label)
        row.addStretch(1)
        row = QHBoxLayout()
        bar.addLayout(row)
        # on the second row: the first one stays narrow enough for a 1280x800 window
        row.addWidget(self.controls_button)
        self.position_slider = QSlider(Qt.Orientation.Horizontal)
        self.position_slider.setToolTip(tr("Drag to move the window to any output position."))
        row.addWidget(self.position_slider, 1)
        self.position_label = QLabel()      # its own line: the slider keeps room to scrub on a small tab
        bar.addWidget(self.position_label)

        self.back_button.clicked.connect(self.step_back)
        self.step_button.clicked.connect(self.step_forward)
        self.play_button.clicked.connect(self.toggle_play)
        self.speed_slider.valueChanged.connect(self._on_speed_changed)
        self.position_slider.valueChanged.connect(stage.seek)
        stage.events.changed.connect(self._on_stage_changed)
        stage.events.position.connect(self._on_position)
        self._on_speed_changed(self.speed_slider.value())
        self._on_stage_changed()

    # -- model events ---------------------------------------------------------------------------------
    def _on_stage_changed(self, **_) -> None:
        if self.stage.theater is None:
            self.pause()
        with QSignalBlocker(self.position_slider):
            self.position_slider.setRange(0, max(self.stage.n_positions - 1, 0))
        self._on_position()

    def _on_position(self, **_) -> None:
        with QSignalBlocker(self.position_slider):
            self.position_slider.setValue(self.stage.position)
        self.position_label.setText(self.describe(self.stage))

    # -- actions --------------------------------------------------------------------------------------
    def step_forward(self) -> None:
        self.stage.step_forward()

    def step_back(self) -> None:
        self.stage.step_back()

    def seek_end(self) -> None:
        self.stage.seek(self.stage.n_positions - 1)

    @property
    def playing(self) -> bool:
        return self.timer.isActive()

    def play(self) -> None:
        if self.stage.theater is None:
            return
        if self.stage.at_end:
            self.stage.seek(0)
        self.timer.start()
        self._show_playing(True)

    def pause(self) -> None:
        self.timer.stop()
        self._show_playing(False)

    def toggle_play(self) -> None:
        self.pause() if self.playing else self.play()

    def _show_playing(self, playing: bool) -> None:
        icon = QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        self.play_button.setIcon(self.style().standardIcon(icon))
        self.play_button.setText(tr("Pause") if playing else tr("Play"))

    def _tick(self) -> None:
        if not self.stage.step_forward():
            self.pause()

    def _on_speed_changed(self, value: int) -> None:
        per_second = SPEEDS[int(value)]
        self.timer.setInterval(max(round(1000 / per_second), 1))
        self.speed_label.setText(tr("{} steps/s").format(fmt(per_second, 1)))
