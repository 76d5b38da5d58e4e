"""Evaluation panel: the confusion matrix of the validation set after each epoch, with drill-down.

Rows are the true classes, columns the predicted ones; a cell counts the images of its row that the
network put into its column, coloured by the share of the row (so rare classes read as well as
frequent ones). Clicking a cell lists its images with the probabilities the network gave them.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QFontMetricsF, QIcon, QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from gui.i18n import tr, tr_class
from gui.widgets.class_labels import ClassLabelStrip, LabelLayout, choose_layout
from gui.widgets.common import BACKGROUND, TextLabelsItem, array_to_qimage
from gui.widgets.pacer import shared_pacer

MAX_IMAGES = 120
THUMB = 64


def confusion_colormap() -> pg.ColorMap:
    return pg.ColorMap([0.0, 1.0], [(255, 255, 255), (8, 69, 148)])


def row_normalized(confusion: np.ndarray) -> np.ndarray:
    c = np.asarray(confusion, dtype=np.float64)
    sums = c.sum(axis=1, keepdims=True)
    return np.divide(c, sums, out=np.zeros_like(c), where=sums > 0)


def thumbnail(x_chw_uint8: np.ndarray) -> QPixmap:
    x = np.asarray(x_chw_uint8)
    if x.dtype != np.uint8:
        x = (np.clip(x, 0, 1) * 255).astype(np.uint8)
    img = x[0] if x.shape[0] == 1 else np.transpose(x, (1, 2, 0))
    return QPixmap.fromImage(array_to_qimage(img)).scaled(THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio,
                                                           Qt.TransformationMode.FastTransformation)


def count_point_size(cell_px: float, widest_count: str) -> int:
    """The largest font (9 down to 6 points) whose bold ``widest_count`` fits a cell; 0: none does
    (the counts are then left out: the colours and the click still tell the story)."""
    font = QFont()
    font.setBold(True)
    for size in (9, 8, 7, 6):
        font.setPointSize(size)
        fm = QFontMetricsF(font)
        if fm.horizontalAdvance(widest_count) + 2 <= cell_px and fm.height() <= cell_px:
            return size
    return 0


class EvaluationPanel(QWidget):
    """Confusion matrix per epoch; click a cell to see its images."""

    explain_requested = Signal(int)     # "Why?": validation image index to open in "Which pixels mattered"

    def __init__(self, controller, parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        self.confusion: np.ndarray | None = None
        self.selected_cell: tuple[int, int] | None = None
        self._dirty = False
        self._waiting_for = None
        self.shown_epoch: int | None = None

        self.epoch_spin = QSpinBox()
        self.epoch_spin.setToolTip(tr("Which epoch's confusion matrix to show."))
        self.epoch_spin.setRange(0, 0)
        self.epoch_spin.setEnabled(False)
        self.evaluate_button = QPushButton(tr("Evaluate now"))
        self.evaluate_button.setToolTip(tr("Classify every validation image with the current weights and count "
                                           "the answers."))
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(QLabel(tr("Epoch")))
        top.addWidget(self.epoch_spin)
        top.addWidget(self.evaluate_button)
        top.addSpacing(12)
        top.addWidget(self.summary, 1)

        self.glw = pg.GraphicsLayoutWidget()
        self.glw.setBackground(BACKGROUND)
        self.glw.setToolTip(tr("Rows: the true class. Columns: the class the network chose. The diagonal holds "
                               "the correct answers; every other cell is a kind of mistake. Click a cell."))
        # class names in strips of their own beside the matrix (pyqtgraph's axes drop long labels)
        self.row_title = self.glw.addLabel(tr("true class"), row=0, col=0, angle=-90)
        self.plot = self.glw.addPlot(row=0, col=2)
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(False, False)
        self.plot.hideButtons()
        self.plot.invertY(True)
        self.plot.setAspectLocked(True)
        for side in ("left", "bottom"):
            self.plot.hideAxis(side)
        self.row_labels = ClassLabelStrip(self.plot.vb, "left")
        self.column_labels = ClassLabelStrip(self.plot.vb, "bottom")
        self.glw.addItem(self.row_labels, row=0, col=1)
        self.glw.addItem(self.column_labels, row=1, col=2)
        self.column_title = self.glw.addLabel(tr("predicted class"), row=2, col=2)
        # after the layout has settled: the room is read from the sizes it gave the matrix and labels
        self._fit_timer = QTimer(self)
        self._fit_timer.setSingleShot(True)
        self._fit_timer.setInterval(0)
        self._fit_timer.timeout.connect(self.fit_labels)
        self.plot.vb.sigResized.connect(self._fit_timer.start)
        self.image = pg.ImageItem()
        self.image.setColorMap(confusion_colormap())
        self.plot.addItem(self.image)
        # the counts: one graphics item for the diagonal (bold) and one for the mistakes
        self.counts = TextLabelsItem(anchor=(0.5, 0.5), point_size=9, margin=1)
        self.diagonal_counts = TextLabelsItem(anchor=(0.5, 0.5), point_size=9, bold=True, margin=1)
        for item in (self.counts, self.diagonal_counts):
            item.setZValue(5)
            self.plot.addItem(item)
        self._label_classes = 0
        self.cell_box = pg.QtWidgets.QGraphicsRectItem(0, 0, 1, 1)
        self.cell_box.setPen(pg.mkPen((230, 97, 1), width=3, cosmetic=True))
        self.cell_box.setZValue(10)
        self.cell_box.hide()
        self.plot.addItem(self.cell_box)
        self.glw.scene().sigMouseClicked.connect(self.on_scene_clicked)

        self.cell_title = QLabel(tr("Click a cell of the matrix to see its images."))
        self.cell_title.setWordWrap(True)
        self.images = QListWidget()
        self.images.setViewMode(QListView.ViewMode.IconMode)
        self.images.setIconSize(QSize(THUMB, THUMB))
        self.images.setResizeMode(QListView.ResizeMode.Adjust)
        self.images.setMovement(QListView.Movement.Static)
        self.images.setSpacing(4)
        self.images.setWordWrap(True)
        self.images.setGridSize(QSize(THUMB + 44, THUMB + 44))
        self.images.setToolTip(tr("The images of the chosen cell, most confident first, with the probability "
                                  "the network gave to its answer. Double-click one to look inside."))
        self.images.itemDoubleClicked.connect(self.on_image_double_clicked)
        right = QWidget()
        rv = QVBoxLayout(right)
        rv.setContentsMargins(0, 0, 0, 0)
        rv.addWidget(self.cell_title)
        rv.addWidget(self.images, 1)
        self.why_button = QPushButton(tr("Why?"))
        self.why_button.setToolTip(tr("Open the selected image in \"Which pixels mattered\": which pixels made the "
                                      "network read it this way."))
        self.why_button.clicked.connect(self.explain_selected)
        rv.addWidget(self.why_button, 0, Qt.AlignmentFlag.AlignRight)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.glw)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 3)              # the matrix gets most of the room
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([600, 360])

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)

        self.epoch_spin.valueChanged.connect(self.show_epoch)
        self.evaluate_button.clicked.connect(self.on_evaluate_clicked)
        controller.epoch_metrics_ready.connect(self.on_epoch_metrics)
        controller.history_reset.connect(self.on_history_reset)
        if hasattr(controller, "timeline_moved"):
            controller.timeline_moved.connect(self.on_timeline_moved)
        controller.evaluation_ready.connect(self.on_evaluation_ready)
        controller.predictions_ready.connect(self.on_predictions_ready)
        controller.dataset_changed.connect(self.on_history_reset)
        shared_pacer().add(self.render, 300)

    # -- data ------------------------------------------------------------------------------------
    def class_names(self) -> list[str]:
        ds = self.controller.dataset
        k = 0 if self.confusion is None else self.confusion.shape[0]
        names = [tr_class(n) for n in getattr(ds, "class_names", []) or []] if ds is not None else []
        return names if len(names) == k else [str(i) for i in range(k)]

    def on_history_reset(self, *_args) -> None:
        self.confusion = None
        self.selected_cell = None
        self._label_classes = 0                       # class names may change with the dataset
        self.images.clear()
        self.cell_box.hide()
        self.epoch_spin.setEnabled(False)
        self.summary.setText(tr("The matrix appears after the first epoch (or press Evaluate now)."))
        self._dirty = True

    def on_timeline_moved(self, position) -> None:
        """The timeline shows a past moment: the matrix of the last epoch finished by then."""
        if position.live:
            self.show_epoch(len(self.controller.history.epochs))
            return
        n = position.finished_epochs
        confusion = self.controller.timeline_confusion(n) if n >= 1 else None
        if confusion is None:
            self.confusion = None
            self.shown_epoch = None
            self.summary.setText(tr("Timeline: step {} is before the end of the first epoch; no matrix yet.").format(
                position.step))
            self._dirty = True
            return
        self.epoch_spin.blockSignals(True)
        self.epoch_spin.setValue(n)
        self.epoch_spin.blockSignals(False)
        self.shown_epoch = n - 1
        self.set_confusion(confusion, tr("Timeline: end of epoch {} (step {}).").format(n, position.step))

    def on_epoch_metrics(self, metrics) -> None:
        n = len(self.controller.history.epochs)
        timeline = getattr(self.controller, "timeline", None)
        if timeline is not None and not timeline.is_live:
            self.epoch_spin.blockSignals(True)
            self.epoch_spin.setRange(1, n)        # the past stays on screen; the newest epoch is one click away
            self.epoch_spin.blockSignals(False)
            self.epoch_spin.setEnabled(n > 1)
            return
        self.epoch_spin.blockSignals(True)
        self.epoch_spin.setRange(1, n)
        self.epoch_spin.setValue(n)
        self.epoch_spin.setEnabled(n > 1)
        self.epoch_spin.blockSignals(False)
        self.show_epoch(n)

    def show_epoch(self, number: int) -> None:
        epochs = self.controller.history.epochs
        if not 1 <= number <= len(epochs) or epochs[number - 1].confusion is None:
            return
        e = epochs[number - 1]
        self.shown_epoch = int(e.epoch)
        self.set_confusion(np.asarray(e.confusion), tr("Epoch {}: validation accuracy {:.1%} (loss {:.3f}).").format(
            e.epoch + 1, float(e.val_accuracy or 0), float(e.val_loss or 0)))

    def set_confusion(self, confusion: np.ndarray, summary: str) -> None:
        self.confusion = np.asarray(confusion, dtype=np.int64)
        self.summary.setText(summary)
        self._dirty = True
        if self.selected_cell is not None and self.isVisible():
            self.select_cell(*self.selected_cell)

    def on_evaluate_clicked(self) -> None:
        self._waiting_for = "matrix"
        if not self.controller.request_evaluation():
            self.summary.setText(tr("Busy: the evaluation will be ready in a moment."))

    def on_evaluation_ready(self, result) -> None:
        if self._waiting_for == "matrix":
            self._waiting_for = None
            self.shown_epoch = None                    # the matrix of the current weights
            self.set_confusion(result.confusion, tr("Now: validation accuracy {:.1%} (loss {:.3f}).").format(
                float(result.accuracy), float(result.loss)))

    def on_predictions_ready(self, predictions) -> None:
        if self.selected_cell is not None and predictions.true_class == self.selected_cell[0]:
            self._fill_images(predictions)

    # -- drawing ---------------------------------------------------------------------------------
    def render(self) -> bool:
        """Draw the newest confusion matrix (the frame pacer calls it); True when something was drawn."""
        if not self._dirty or not self.isVisible():
            return False
        self._dirty = False
        # Without a matrix the view's contents are hidden, not the view: empty axes would only puzzle a
        # student, and showing the widget again at the first epoch's end resized it and laid out the
        # whole matrix at once (the GUI thread's longest pause of a run, 56-64 ms).
        if self.confusion is None:
            self.image.clear()
            self.glw.ci.setVisible(False)
            return True
        self.glw.ci.setVisible(True)
        c = self.confusion
        k = c.shape[0]
        frac = row_normalized(c)
        self.image.setImage(frac, levels=(0.0, 1.0), autoLevels=False)
        self.image.setRect(0, 0, k, k)
        if self._label_classes != k:
            self._label_classes = k
            names = self.class_names()
            self.row_labels.set_names(names)
            self.column_labels.set_names(names)
            self.plot.setRange(xRange=(0, k), yRange=(0, k), padding=0)
            self.fit_labels()
        size = count_point_size(self.image.sceneBoundingRect().width() / k, str(int(c.max())))
        if size:
            self.counts.font.setPointSize(size)
            self.diagonal_counts.font.setPointSize(size)
        if size and k <= 20:
            white, dark = (255, 255, 255), (30, 30, 30)
            off = [(j + 0.5, i + 0.5, str(int(c[i, j]))) for i in range(k) for j in range(k) if i != j]
            off_colors = [white if frac[i, j] > 0.5 else dark for i in range(k) for j in range(k) if i != j]
            self.counts.set_labels(off, off_colors)
            self.diagonal_counts.set_labels([(i + 0.5, i + 0.5, str(int(c[i, i]))) for i in range(k)],
                                            [white if frac[i, i] > 0.5 else dark for i in range(k)])
        else:
            self.counts.set_labels([])
            self.diagonal_counts.set_labels([])
        return True

    def fit_labels(self, *_args) -> None:
        """Choose the labels' angle and size from the room the matrix shares with its column labels
        (the same whatever the current choice, so a choice never undoes itself)."""
        names = self.column_labels.names
        if not names:
            return
        width = self.plot.vb.width() + self.row_labels.width()
        height = self.plot.vb.height() + self.column_labels.height()
        if width <= 1 or height <= 1:
            return
        choice = choose_layout(names, width, height)
        self.row_labels.set_layout(LabelLayout(0, choice.point_size, choice.stride))
        self.column_labels.set_layout(choice)
        self._dirty = True                             # the counts' font follows the cell size

    # -- drill-down ------------------------------------------------------------------------------
    def on_scene_clicked(self, event) -> None:
        if self.confusion is None:
            return
        pos = self.image.mapFromScene(event.scenePos())
        k = self.confusion.shape[0]
        # the image has k x k pixels mapped onto the rect (0, 0, k, k)
        col, row = int(np.floor(pos.x())), int(np.floor(pos.y()))
        if 0 <= row < k and 0 <= col < k:
            self.select_cell(row, col)

    def cell_center(self, true_class: int, predicted: int):
        """Scene position of a cell's centre (tests click there)."""
        return self.image.mapToScene(pg.Point(predicted + 0.5, true_class + 0.5))

    def select_cell(self, true_class: int, predicted: int) -> None:
        """Show the validation images of class ``true_class`` that the network called ``predicted``."""
        self.selected_cell = (int(true_class), int(predicted))
        self.cell_box.setRect(predicted, true_class, 1, 1)
        self.cell_box.show()
        names = self.class_names()
        what = tr("correct") if true_class == predicted else tr("mistaken")
        self.cell_title.setText(tr("True {} predicted as {} ({}): looking them up...").format(
            names[true_class], names[predicted], what))
        self.images.clear()
        started = self.controller.request_class_predictions(true_class, self.shown_epoch)
        if not started:
            self.cell_title.setText(tr("Busy: the evaluation will be ready in a moment."))

    def _fill_images(self, found) -> None:
        """List the images of the selected cell from the predictions of its row (``ClassPredictions``)."""
        t, p = self.selected_cell
        ds = self.controller.dataset
        probs = np.asarray(found.probabilities)
        hit = np.flatnonzero(np.asarray(found.predictions) == p)
        conf = probs[hit, p] if len(hit) else np.zeros(0)
        order = np.argsort(-conf) if t != p else np.argsort(conf)   # correct ones: least sure first
        hit = hit[order]
        total = len(hit)
        names = self.class_names()
        self.images.clear()
        for j in hit[:MAX_IMAGES]:
            i = int(found.indices[j])
            item = QListWidgetItem(QIcon(thumbnail(ds.x_test[i])), f"#{i}\n{names[p]} {probs[j, p]:.0%}")
            item.setData(Qt.ItemDataRole.UserRole, i)
            item.setToolTip(tr("Validation image {}: true class {}, the network gave {:.1%} to {} and {:.1%} to "
                               "the true class.").format(i, names[t], float(probs[j, p]), names[p],
                                                         float(probs[j, t])))
            self.images.addItem(item)
        what = tr("correct") if t == p else tr("mistaken")
        self.cell_title.setText(tr("True {} predicted as {} ({}): {} images{}.").format(
            names[t], names[p], what, total,
            tr(", showing the first {}").format(MAX_IMAGES) if total > MAX_IMAGES else ""))

    def explain_selected(self) -> None:
        item = self.images.currentItem()
        if item is not None:
            index = int(item.data(Qt.ItemDataRole.UserRole))
            self.controller.select_validation_sample(index)
            self.explain_requested.emit(index)

    def on_image_double_clicked(self, item: QListWidgetItem) -> None:
        self.controller.select_validation_sample(int(item.data(Qt.ItemDataRole.UserRole)))

    def showEvent(self, event) -> None:  # noqa: N802
        self._dirty = True
        super().showEvent(event)
