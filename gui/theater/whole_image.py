"""Beyond one cell: the filter over the whole image beside the model's learned filters, and putting
the stage's kernel into the model.

:class:`ModelBox` is the settings-column box (apply to whole image, which filter, keep it fixed,
use in model); :class:`WholeImageView` is the strip under the stage with the full output maps.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from gui.i18n import tr
from gui.theater.grid_view import GridView
from gui.theater.sources import TheaterSources
from gui.theater.stage import MAX_CHANNEL_ROWS, StageModel
from gui.theater.stage_view import clear_layout


class ModelBox(QGroupBox):
    """"Apply to whole image" and "Use this kernel in the model" with its filter number and freeze choice."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(tr("Whole image and model"), parent)
        v = QVBoxLayout(self)
        self.apply_button = QPushButton(tr("Apply to whole image"))
        self.apply_button.setToolTip(tr("Show this filter's full output beside the outputs of the model's "
                                        "learned filters for the same image."))
        v.addWidget(self.apply_button)
        row = QHBoxLayout()
        row.addWidget(QLabel(tr("Filter #")))
        self.target_filter_spin = QSpinBox()
        row.addWidget(self.target_filter_spin)
        v.addLayout(row)
        self.freeze_check = QCheckBox(tr("Keep it fixed during training"))
        self.freeze_check.setChecked(True)
        v.addWidget(self.freeze_check)
        self.use_button = QPushButton(tr("Use this kernel in the model"))
        self.use_button.setToolTip(tr("Copy this kernel into the chosen filter of the model's first "
                                      "convolution layer, to compare with what the network learns."))
        v.addWidget(self.use_button)

    def update_from(self, sources: TheaterSources, stage: StageModel) -> None:
        convs = sources.conv_layers()
        filters = convs[0][1].params["W"].shape[0] if convs else 1
        self.target_filter_spin.setRange(0, filters - 1)
        self.use_button.setEnabled(stage.op == "conv" and bool(convs))
        self.target_filter_spin.setEnabled(bool(convs))
        self.freeze_check.setEnabled(bool(convs))


class WholeImageView(QGroupBox):
    """The input, the stage's full output, and the first conv layer's learned filters on the same picture."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(tr("The whole image"), parent)
        self.row = QHBoxLayout(self)
        self.setMaximumHeight(210)
        self.views: list[GridView] = []
        self.hide()

    def show_maps(self, stage: StageModel, sources: TheaterSources) -> None:
        clear_layout(self.row)
        self.views = []
        t = stage.theater
        if t is None:
            return
        digits = stage.digits
        self._add(t.x.mean(axis=0), tr("Input"), "gray", digits)
        if t.op == "conv":
            self._add(t.output(), stage.kernel_text, "signed", digits)
        else:
            title = tr("Max pooling") if t.op == "max" else tr("Average pooling")
            out = t.output()
            for ch in range(min(t.channels, MAX_CHANNEL_ROWS)):
                self._add(out[ch], title + (f" · {ch}" if t.channels > 1 else ""), "gray", digits)
        maps, note = sources.learned_outputs()
        for values, title in maps:
            self._add(values, title, "signed", digits)
        if note:
            label = QLabel(note)
            label.setWordWrap(True)
            self.row.addWidget(label)
        self.show()

    def _add(self, values, title: str, style: str, digits: int) -> None:
        view = GridView(title, style=style)
        view.set_data(values, digits=digits)
        view.setMinimumSize(60, 150)
        view.setMaximumHeight(180)
        self.row.addWidget(view)
        self.views.append(view)
