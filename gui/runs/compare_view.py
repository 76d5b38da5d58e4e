"""``CompareView``: the selected runs' curves overlaid (loss and accuracy, train and validation, x in
epochs or seconds) and a table of their final figures and settings, differing settings first."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractButton,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui.i18n import tr
from gui.widgets.common import BACKGROUND

RUN_COLORS = [(31, 119, 180), (214, 39, 40), (44, 160, 44), (148, 103, 189), (255, 127, 14), (23, 190, 207),
              (140, 86, 75), (227, 119, 194)]

ROW_TITLES = {
    "best_val_accuracy": "best validation accuracy", "val_accuracy": "final validation accuracy",
    "val_loss": "final validation loss", "accuracy": "final training accuracy", "loss": "final training loss",
    "epochs": "epochs", "seconds": "seconds", "parent": "branched from", "optimizer": "optimizer",
    "learning_rate": "learning rate", "batch_size": "batch size", "dropout": "Dropout rate",
    "frozen_filters": "frozen filters", "preset": "preset", "seed": "seed", "momentum": "momentum",
}


def format_value(key: str, value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        if "accuracy" in key:
            return f"{value:.2%}"
        if key == "seconds":
            return f"{value:.0f} s"
        return f"{value:.4g}"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {len(v)}" for k, v in value.items()) or "–"
    return str(value)


class CompareView(QWidget):
    """Overlaid curves of 2+ runs and their table; :meth:`show_runs` feeds it from a ``RunsModel``."""

    def __init__(self, model, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = model
        self.comparisons = []
        self.x_combo = QComboBox()
        self.x_combo.addItem(tr("vs epoch"), "epoch")
        self.x_combo.addItem(tr("vs seconds"), "elapsed")
        self.x_combo.setToolTip(tr("Compare per epoch, or by the time each run took (a faster optimizer "
                                   "can win per second even when it loses per epoch)."))
        self.hint = QLabel(tr("Select two or more runs in the list to compare them."))
        top = QHBoxLayout()
        top.addWidget(QLabel(tr("Compare")))
        top.addWidget(self.x_combo)
        top.addWidget(self.hint, 1)
        self.glw = pg.GraphicsLayoutWidget()
        self.glw.setBackground(BACKGROUND)
        self.plots = {}
        for col, (metric, title) in enumerate((("loss", tr("Loss (lower is better)")),
                                               ("accuracy", tr("Accuracy (higher is better)")))):
            plot = self.glw.addPlot(row=0, col=col)
            plot.setTitle(title, size="10pt")
            plot.setMenuEnabled(False)
            self.plots[metric] = plot
        # one legend under both plots: inside a plot it covered the curves it names
        self.legend = pg.LegendItem(labelTextSize="8pt", colCount=4, frame=False)
        self.glw.addItem(self.legend, row=1, col=0, colspan=2)
        self.glw.ci.layout.setRowStretchFactor(0, 1)
        self.glw.ci.layout.setRowMaximumHeight(1, 26)
        self.table = QTableWidget()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setDefaultSectionSize(22)
        corner = self.table.findChild(QAbstractButton)
        if corner is not None:                  # the table's top-left "select all" button
            corner.setToolTip(tr("Select the whole table"))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.glw, 3)
        layout.addWidget(self.table, 2)
        self.x_combo.currentIndexChanged.connect(self.redraw)

    def show_runs(self) -> None:
        self.comparisons = self.model.comparisons()
        self.hint.setVisible(len(self.comparisons) < 2)
        self.redraw()
        self.fill_table()

    def redraw(self, *_args) -> None:
        x = self.x_combo.currentData()
        colors = {c.run_id: RUN_COLORS[i % len(RUN_COLORS)] for i, c in enumerate(self.comparisons)}
        self.legend.clear()
        for metric, plot in self.plots.items():
            plot.clear()
            plot.setLabel("bottom", tr("epoch") if x == "epoch" else tr("seconds"))
            for s in self.model.curve_series(metric, x, self.comparisons):
                color = colors[s.run_id]
                dashed = s.split == "train"
                pen = pg.mkPen(color, width=2, style=Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine)
                # short: the table's column headers (in the run's colour) give the names
                label = "#{} {}".format(s.run_id, tr("training") if dashed else tr("validation"))
                item = plot.plot(list(s.x), list(s.y), pen=pen, symbol=None if dashed else "o", symbolSize=6,
                                 symbolBrush=color)
                if metric == "loss":                # the accuracy plot's curves are the same runs
                    self.legend.addItem(item, label)

    def fill_table(self) -> None:
        rows = self.model.table(self.comparisons)
        self.table.clear()
        self.table.setColumnCount(len(self.comparisons))
        self.table.setRowCount(len(rows))
        for i, c in enumerate(self.comparisons):
            header = QTableWidgetItem(f"#{c.run_id} {c.name}")
            header.setForeground(QBrush(QColor(*RUN_COLORS[i % len(RUN_COLORS)])))
            self.table.setHorizontalHeaderItem(i, header)
        self.table.setVerticalHeaderLabels([tr(ROW_TITLES.get(key, key)) for key, _, _ in rows])
        highlight = QBrush(QColor(255, 243, 205))
        for r, (key, values, differs) in enumerate(rows):
            for c, value in enumerate(values):
                item = QTableWidgetItem(format_value(key, value))
                if differs:
                    item.setBackground(highlight)
                self.table.setItem(r, c, item)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
