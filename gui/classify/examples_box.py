""""This is a k": choose the class of the current image, keep it among your examples, fine-tune, and
compare the network's probabilities for that image before and after.

A thin view over :class:`~gui.classify.my_examples.MyExamplesModel`; the fine-tune itself runs on the
training thread through ``controller.fine_tuner`` (never on the GUI thread).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from gui.classify.my_examples import MyExamplesModel
from gui.controller.finetune import FINE_TUNE_STEPS
from gui.i18n import tr, tr_class
from gui.widgets.common import BACKGROUND, TRAIN_COLOR, array_to_qimage

BEFORE_COLOR = (160, 160, 160)
AFTER_COLOR = TRAIN_COLOR


class MyExamplesBox(QGroupBox):
    """"This is a [class] · Add to my examples", the examples (thumbnails), Fine-tune, before/after bars."""

    def __init__(self, controller, model: MyExamplesModel | None = None, parent: QWidget | None = None):
        super().__init__(tr("Your own examples"), parent)
        self.setObjectName("my_examples_box")
        self.controller = controller
        self.model = model or MyExamplesModel()
        self._shown_ids: list[int] = []

        self.class_combo = QComboBox()
        self.class_combo.setObjectName("this_is_a_combo")
        self.class_combo.setToolTip(tr("What the current image really is."))
        self.add_button = QPushButton(tr("Add to my examples"))
        self.add_button.setObjectName("add_example_button")
        self.add_button.setToolTip(tr("Keep the image as the network sees it (after preprocessing) as an example of "
                                      "this class. Your examples are kept on this computer and survive restarts."))
        self.list = QListWidget()
        self.list.setObjectName("examples_list")
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setIconSize(QSize(36, 36))
        self.list.setGridSize(QSize(64, 58))
        self.list.setMovement(QListView.Movement.Static)
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setMaximumHeight(130)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.remove_button = QPushButton(tr("Remove"))
        self.remove_button.setToolTip(tr("Delete the selected example."))
        self.clear_button = QPushButton(tr("Clear all"))
        self.clear_button.setToolTip(tr("Delete every example of this dataset."))
        self.steps = QSpinBox()
        self.steps.setRange(5, 200)
        self.steps.setValue(FINE_TUNE_STEPS)
        self.steps.setSuffix(tr(" steps"))
        self.steps.setToolTip(tr("Each step trains on one batch: all your examples plus random dataset images, so "
                                 "the network learns them without forgetting the dataset."))
        self.fine_tune_button = QPushButton(tr("Fine-tune"))
        self.fine_tune_button.setObjectName("fine_tune_button")
        self.fine_tune_button.setToolTip(tr("Train the window's model for a few steps on your examples mixed with "
                                            "the dataset, then compare its answer for the image before and after."))
        self.compare = pg.PlotWidget()
        self.compare.setBackground(BACKGROUND)
        self.compare.setMinimumHeight(150)
        plot = self.compare.getPlotItem()
        plot.setMenuEnabled(False)
        plot.setMouseEnabled(False, False)
        plot.hideButtons()
        plot.invertY(True)
        plot.setXRange(0, 1, padding=0.02)
        plot.setTitle(tr("Before (grey) · after (blue)"), size="9pt")
        self.before_bars = pg.BarGraphItem(x0=[], y=[], height=0.38, width=[], brush=pg.mkBrush(*BEFORE_COLOR))
        self.after_bars = pg.BarGraphItem(x0=[], y=[], height=0.38, width=[], brush=pg.mkBrush(AFTER_COLOR))
        plot.addItem(self.before_bars)
        plot.addItem(self.after_bars)
        self.message = QLabel()
        self.message.setObjectName("examples_message")
        self.message.setWordWrap(True)

        top = QHBoxLayout()
        top.addWidget(QLabel(tr("This is a")))
        top.addWidget(self.class_combo, 1)
        top.addWidget(self.add_button)
        manage = QHBoxLayout()
        manage.addWidget(self.remove_button)
        manage.addWidget(self.clear_button)
        manage.addStretch(1)
        manage.addWidget(self.steps)
        manage.addWidget(self.fine_tune_button)
        box = QVBoxLayout(self)
        box.addLayout(top)
        box.addWidget(self.summary)
        box.addWidget(self.list)
        box.addLayout(manage)
        box.addWidget(self.compare, 1)
        box.addWidget(self.message)

        self.class_combo.currentIndexChanged.connect(self.model.choose_label)
        self.add_button.clicked.connect(self.model.add_current)
        self.remove_button.clicked.connect(self._remove_selected)
        self.clear_button.clicked.connect(self.model.clear)
        self.fine_tune_button.clicked.connect(self.fine_tune)
        controller.dataset_changed.connect(self.on_dataset_changed)
        controller.fine_tuner.finished.connect(self.on_fine_tuned)
        self.model.subscribe(self.sync)
        if controller.dataset is not None:
            self.on_dataset_changed(controller.dataset)
        self.sync()

    # -- controller ------------------------------------------------------------------------------
    def on_dataset_changed(self, ds) -> None:
        names = [tr_class(n) for n in getattr(ds, "class_names", []) or []]
        if len(names) != int(ds.num_classes):
            names = [str(i) for i in range(int(ds.num_classes))]
        self.model.set_dataset(str(ds.name or "dataset"), tuple(ds.input_shape), names)

    def fine_tune(self) -> bool:
        data = self.model.fine_tune_data()
        if data is None:
            return False
        x, y, probe, label = data
        if not self.controller.fine_tuner.request(probe, x, y, label, steps=self.steps.value()):
            self.model.refused(self.controller.last_error)
            return False
        self.model.started(probe, label)
        return True

    def on_fine_tuned(self, result) -> None:
        self.model.finished(result.before, result.after, result.error)

    # -- showing the model -----------------------------------------------------------------------
    def sync(self) -> None:
        m = self.model
        names = m.class_names
        if [self.class_combo.itemText(i) for i in range(self.class_combo.count())] != names:
            self.class_combo.blockSignals(True)
            self.class_combo.clear()
            self.class_combo.addItems(names)
            self.class_combo.blockSignals(False)
        if self.class_combo.currentIndex() != m.label:
            self.class_combo.blockSignals(True)
            self.class_combo.setCurrentIndex(m.label)
            self.class_combo.blockSignals(False)
        self._sync_list()
        self.summary.setText(m.summary())
        has = bool(m.examples())
        self.add_button.setEnabled(m.can_add())
        self.remove_button.setEnabled(has)
        self.clear_button.setEnabled(has)
        self.fine_tune_button.setEnabled(has and not m.busy)
        self.message.setText(m.message)
        self._sync_bars()

    def _sync_list(self) -> None:
        examples = self.model.examples()
        ids = [e.id for e in examples]
        if ids == self._shown_ids:
            return
        self.list.clear()
        for e in examples:
            a = self.model.thumbnail(e)
            icon = QIcon()
            if a is not None:
                picture = a[0] if a.shape[0] == 1 else np.transpose(a, (1, 2, 0))
                icon = QIcon(QPixmap.fromImage(array_to_qimage(np.ascontiguousarray(picture))).scaled(
                    36, 36, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation))
            item = QListWidgetItem(icon, self.model.class_name(e.label))
            item.setData(Qt.ItemDataRole.UserRole, e.id)
            item.setToolTip(str(e.path))
            self.list.addItem(item)
        self._shown_ids = ids

    def _sync_bars(self) -> None:
        rows = self.model.comparison_rows()
        plot = self.compare.getPlotItem()
        if not rows:
            self.before_bars.setOpts(x0=[], y=[], width=[])
            self.after_bars.setOpts(x0=[], y=[], width=[])
            return
        k = len(rows)
        ys = np.arange(k, dtype=np.float64)
        self.before_bars.setOpts(x0=np.zeros(k), y=ys - 0.2, width=[r[1] for r in rows], height=0.38)
        self.after_bars.setOpts(x0=np.zeros(k), y=ys + 0.2, width=[r[2] for r in rows], height=0.38)
        plot.getAxis("left").setTicks([[(i, f"{name}  {b:.0%} → {a:.0%}") for i, (name, b, a) in enumerate(rows)]])
        plot.setYRange(-0.6, k - 0.4, padding=0)
        plot.setXRange(0, 1, padding=0.02)

    def _remove_selected(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self.model.remove(int(item.data(Qt.ItemDataRole.UserRole)))
