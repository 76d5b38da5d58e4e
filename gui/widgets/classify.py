"""Classify panel: what does the network think of *your* image?

Images come from files dropped anywhere on the window, File > Open image, the clipboard, or the draw
pad. The panel shows the original, the preprocessed input the network actually sees, and the class
probabilities as a bar chart; the feature-map panel switches to the image. Predictions run on a copy
of the weights (``controller.classify``), so this works while training runs, and the bars follow the
training live (the inspection of the selected image carries its probabilities).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QIcon, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from engine.imaging import is_image_path
from engine.shapes import format_shape
from gui.classify.examples_box import MyExamplesBox
from gui.i18n import tr, tr_class, tr_error
from gui.widgets.common import BACKGROUND, TRAIN_COLOR, array_to_qimage, chw_to_display, qimage_to_array


@dataclass
class ClassifiedImage:
    name: str
    original: np.ndarray          # (H, W) or (H, W, 3) uint8 as decoded
    x: np.ndarray                 # (C, H, W) float32 what the network sees
    probabilities: np.ndarray     # (K,)
    source: str = "file"


class DrawPad(QWidget):
    """A black square to draw a white digit on with the mouse (like an MNIST image, 10x larger)."""

    drawn = Signal()
    SIZE = 196

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setFixedSize(self.SIZE, self.SIZE)
        self.canvas = QImage(self.SIZE, self.SIZE, QImage.Format.Format_Grayscale8)
        self.canvas.fill(0)
        self._last: QPointF | None = None
        self.pen_width = 16
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setToolTip(tr("Draw a digit with the mouse (left button). The network sees it shrunk to the size "
                           "of its training images."))

    def clear(self) -> None:
        self.canvas.fill(0)
        self.update()
        self.drawn.emit()

    def is_empty(self) -> bool:
        return not self.array().any()

    def array(self) -> np.ndarray:
        """The drawing as ``(H, W)`` uint8, white strokes on black."""
        return qimage_to_array(self.canvas)

    def draw_line(self, a: QPointF, b: QPointF) -> None:
        p = QPainter(self.canvas)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(QPen(Qt.GlobalColor.white, self.pen_width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                      Qt.PenJoinStyle.RoundJoin))
        p.drawLine(a, b)
        p.end()
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802
        p = QPainter(self)
        p.drawImage(0, 0, self.canvas)
        p.setPen(QPen(Qt.GlobalColor.gray, 1))
        p.drawRect(0, 0, self.width() - 1, self.height() - 1)
        p.end()

    def mousePressEvent(self, e) -> None:  # noqa: N802
        if e.button() == Qt.MouseButton.LeftButton:
            self._last = e.position()
            self.draw_line(self._last, self._last)

    def mouseMoveEvent(self, e) -> None:  # noqa: N802
        if self._last is not None:
            pos = e.position()
            self.draw_line(self._last, pos)
            self._last = pos
            self.drawn.emit()

    def mouseReleaseEvent(self, e) -> None:  # noqa: N802
        if self._last is not None:
            self._last = None
            self.drawn.emit()


class ClassifyPanel(QWidget):
    """Original, network input and probabilities of dropped/opened/pasted/drawn images."""

    def __init__(self, controller, parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        self.results: list[ClassifiedImage] = []
        self.current: ClassifiedImage | None = None
        self.last_message = ""
        self._bars_dirty = False
        self._sample = None           # the controller's Sample made from self.current

        # -- images ------------------------------------------------------------------------------
        self.views = pg.GraphicsLayoutWidget()
        self.views.setBackground(BACKGROUND)
        self.views.setToolTip(tr("Left: your image as it was. Right: what the network actually sees after "
                                 "resizing and scaling (the same size and style as its training images)."))
        # stacked: the two pictures share one narrow column, the bars get the width they need
        self.original_title = self.views.addLabel(tr("Your image"), row=0, col=0)
        self.original_view = self.views.addViewBox(row=1, col=0, lockAspect=True, invertY=True, enableMouse=False)
        self.input_title = self.views.addLabel(tr("What the network sees"), row=2, col=0)
        self.input_view = self.views.addViewBox(row=3, col=0, lockAspect=True, invertY=True, enableMouse=False)
        self.original_image = pg.ImageItem()
        self.input_image = pg.ImageItem()
        self.input_image.setBorder(pg.mkPen((150, 150, 150)))
        self.original_view.addItem(self.original_image)
        self.input_view.addItem(self.input_image)

        # -- probabilities -----------------------------------------------------------------------
        self.prob_widget = pg.PlotWidget()
        self.prob_widget.setBackground(BACKGROUND)
        self.prob_plot = self.prob_widget.getPlotItem()
        self.prob_plot.setMenuEnabled(False)
        self.prob_plot.setMouseEnabled(False, False)
        self.prob_plot.hideButtons()
        self.prob_plot.invertY(True)
        self.prob_plot.setXRange(0, 1, padding=0.02)
        self.prob_plot.setLabel("bottom", tr("probability"))
        self.prob_plot.showGrid(x=True, alpha=0.2)
        self.bars = pg.BarGraphItem(x0=[], y=[], height=0.7, width=[], brush=pg.mkBrush(TRAIN_COLOR))
        self.top_bar = pg.BarGraphItem(x0=[], y=[], height=0.7, width=[], brush=pg.mkBrush(230, 97, 1))
        self.prob_plot.addItem(self.bars)
        self.prob_plot.addItem(self.top_bar)
        self.prob_widget.setToolTip(tr("The network's probability for each class (softmax of its scores). They "
                                       "add up to 100%."))
        self.answer = QLabel()
        f = self.answer.font()
        f.setPointSize(f.pointSize() + 5)
        f.setBold(True)
        self.answer.setFont(f)
        self.answer.setToolTip(tr("The class with the highest probability."))
        self.answer.setWordWrap(True)        # a long hint must not widen the panel past the screen
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #a40000;")

        # -- controls ----------------------------------------------------------------------------
        self.open_button = QPushButton(tr("Open image..."))
        self.open_button.setToolTip(tr("Choose image files to classify (you can also drop them anywhere on the "
                                       "window)."))
        self.paste_button = QPushButton(tr("Paste"))
        self.paste_button.setToolTip(tr("Classify the image on the clipboard (Ctrl+V)."))
        self.style_combo = QComboBox()
        self.style_combo.addItem(tr("Like MNIST (centre the digit)"), "mnist")
        self.style_combo.addItem(tr("Fit the whole image"), "fit")
        self.style_combo.setToolTip(tr("How your image is turned into the network's input: MNIST style crops the "
                                       "digit, makes it white on black and centres it; 'fit' just resizes."))
        self.history = QListWidget()
        self.history.setViewMode(QListView.ViewMode.IconMode)
        self.history.setIconSize(QSize(48, 48))
        self.history.setGridSize(QSize(96, 84))
        self.history.setMovement(QListView.Movement.Static)
        self.history.setResizeMode(QListView.ResizeMode.Adjust)
        self.history.setWordWrap(True)
        self.history.setMaximumHeight(92)
        self.history.setToolTip(tr("The images you classified; click one to show it again."))
        self.history.currentRowChanged.connect(self.on_history_row)

        self.pad = DrawPad()
        self.clear_pad = QPushButton(tr("Clear"))
        self.clear_pad.setToolTip(tr("Wipe the draw pad."))
        self.pad_title = QLabel(tr("Draw a digit"))
        self.pad_timer = QTimer(self)
        self.pad_timer.setSingleShot(True)
        self.pad_timer.setInterval(120)
        self.pad_timer.timeout.connect(self.classify_drawing)
        self.pad.drawn.connect(self.pad_timer.start)
        self.clear_pad.clicked.connect(self.pad.clear)

        buttons = QHBoxLayout()
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.paste_button)
        buttons.addWidget(QLabel(tr("Preprocessing")))
        buttons.addWidget(self.style_combo)
        buttons.addStretch(1)
        pad_box = QVBoxLayout()
        pad_box.addWidget(self.pad_title)
        pad_box.addWidget(self.pad)
        pad_box.addWidget(self.clear_pad)
        pad_box.addStretch(1)
        self.pad_widget = QWidget()
        self.pad_widget.setLayout(pad_box)

        grid = QGridLayout()
        grid.addWidget(self.views, 0, 0)
        grid.addWidget(self.prob_widget, 0, 1)
        grid.addWidget(self.pad_widget, 0, 2, 2, 1)
        # "This is a k": the image shown here, as the network sees it, can join your own examples
        self.examples = MyExamplesBox(controller)
        # a low row under the picture: the picture and the probabilities keep the width they need
        self.examples.setMaximumHeight(230)
        grid.addWidget(self.answer, 1, 0, 1, 2)
        grid.addWidget(self.examples, 2, 0, 1, 3)
        grid.setRowStretch(0, 1)
        grid.setColumnStretch(0, 3)
        grid.setColumnStretch(1, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        layout.addLayout(grid, 1)
        layout.addWidget(self.history)
        self.views.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

        self.paste_button.clicked.connect(self.paste)
        controller.dataset_changed.connect(self.on_dataset_changed)
        controller.model_changed.connect(self.on_model_changed)
        controller.inspection_ready.connect(self.on_inspection)
        if hasattr(controller, "timeline_moved"):
            controller.timeline_moved.connect(self.on_timeline_moved)
        controller.fine_tuner.finished.connect(self.on_fine_tuned)
        self.timer = QTimer(self)
        self.timer.setInterval(200)
        self.timer.timeout.connect(self.render_bars)
        self.timer.start()
        if controller.dataset is not None:
            self.on_dataset_changed(controller.dataset)

    # -- controller events -----------------------------------------------------------------------
    def on_dataset_changed(self, ds) -> None:
        mnist_like = tuple(ds.input_shape) == (1, 28, 28)
        self.style_combo.setCurrentIndex(self.style_combo.findData("mnist" if mnist_like else "fit"))
        self.pad_widget.setVisible(int(ds.input_shape[0]) == 1)
        self._bars_dirty = True

    def on_model_changed(self, _model) -> None:
        if self.current is not None:
            self.reclassify()

    def on_fine_tuned(self, result) -> None:
        """The model learned the user's examples: the shown image's bars follow the new weights."""
        if result.weights is not None and not result.error:
            self.reclassify()

    def on_inspection(self, inspection) -> None:
        """Live bars: the inspection of our image carries its probabilities under the newest weights."""
        cur = self.current
        if cur is None or inspection.sample is not self._sample:
            return
        cur.probabilities = np.asarray(inspection.probabilities, dtype=np.float32)
        self._bars_dirty = True

    def on_timeline_moved(self, position) -> None:
        """The timeline's moment: our image classified with the weights of that moment."""
        cur = self.current
        if cur is None or getattr(cur, "x", None) is None:
            return
        if position.live:
            self.reclassify()
            return
        probabilities = self.controller.classify_at_moment(cur.x)
        if probabilities is not None:
            cur.probabilities = np.asarray(probabilities, dtype=np.float32)
            self._bars_dirty = True

    def class_names(self, k: int) -> list[str]:
        ds = self.controller.dataset
        names = [tr_class(n) for n in getattr(ds, "class_names", []) or []] if ds is not None else []
        return names if len(names) == k else [str(i) for i in range(k)]

    # -- inputs ----------------------------------------------------------------------------------
    def show_message(self, text: str) -> None:
        self.last_message = text
        self.message.setText(text)
        if text:
            self.controller.status_message.emit(text)

    def _prepare(self, image: np.ndarray) -> np.ndarray:
        from engine.imaging import preprocess

        model = self.controller.model
        shape = tuple(model.input_shape)
        return np.ascontiguousarray(preprocess(image, input_shape=shape, style=self.style_combo.currentData()),
                                    dtype=np.float32)

    def _classify_array(self, image: np.ndarray, name: str, source: str) -> ClassifiedImage:
        x = self._prepare(image)
        probs = self.controller.classify(x)
        return ClassifiedImage(name=name, original=np.asarray(image), x=x, probabilities=probs, source=source)

    def classify_files(self, paths) -> list[ClassifiedImage]:
        """Classify image files; the others get one clear message each (never a traceback)."""
        from engine.imaging import load_image

        if self.controller.model is None:
            self.show_message(tr("Choose a dataset and a model first."))
            return []
        done: list[ClassifiedImage] = []
        problems: list[str] = []
        for p in paths:
            p = str(p)
            name = Path(p).name
            try:
                image = load_image(p)
                done.append(self._classify_array(image, name, "file"))
            except Exception as exc:  # noqa: BLE001 - every failure becomes a message
                if not is_image_path(p) and not isinstance(exc, MemoryError):
                    problems.append(tr("{}: this is not an image file (PNG, JPEG, BMP, GIF, WebP or TIFF "
                                       "expected).").format(name))
                else:
                    problems.append(tr("{}: could not read the image ({}).").format(name, _short(exc)))
        self.show_message("  ".join(problems))
        for item in done:
            self._add_result(item)
        if done:
            self.show_result(done[0])
        return done

    def classify_image(self, image: np.ndarray, name: str, source: str = "clipboard") -> ClassifiedImage | None:
        if self.controller.model is None:
            self.show_message(tr("Choose a dataset and a model first."))
            return None
        try:
            item = self._classify_array(image, name, source)
        except Exception as exc:  # noqa: BLE001
            self.show_message(tr("{}: could not use the image ({}).").format(name, _short(exc)))
            return None
        self.show_message("")
        self._add_result(item)
        self.show_result(item)
        return item

    def paste(self) -> bool:
        """Classify the clipboard's image (or the image files copied in a file manager)."""
        mime = QApplication.clipboard().mimeData()
        if mime is not None and mime.hasImage():
            qimg = QApplication.clipboard().image()
            if not qimg.isNull():
                return self.classify_image(qimage_to_array(qimg), tr("pasted image")) is not None
        if mime is not None and mime.hasUrls():
            paths = [u.toLocalFile() for u in mime.urls() if u.isLocalFile()]
            if paths:
                return bool(self.classify_files(paths))
        self.show_message(tr("The clipboard holds no image. Copy an image (or an image file) first."))
        return False

    def classify_drawing(self) -> None:
        if self.controller.model is None:
            return
        if self.pad.is_empty():
            return
        image = self.pad.array()
        try:
            x = self._prepare(image)
            probs = self.controller.classify(x)
        except Exception as exc:  # noqa: BLE001
            self.show_message(tr("Could not classify the drawing: {}").format(_short(exc)))
            return
        item = ClassifiedImage(tr("your drawing"), image, x, probs, source="drawing")
        self.show_message("")
        self.show_result(item)

    def reclassify(self) -> None:
        cur = self.current
        if cur is None or self.controller.model is None:
            return
        try:
            x = self._prepare(cur.original)
            cur.x = x
            cur.probabilities = self.controller.classify(x)
        except Exception as exc:  # noqa: BLE001
            self.show_message(tr("Could not classify the image with this model: {}").format(_short(exc)))
            return
        self.show_result(cur, select=True)

    # -- display ---------------------------------------------------------------------------------
    def _add_result(self, item: ClassifiedImage) -> None:
        self.results.append(item)
        label = self._history_label(item)
        orig = item.original if item.original.dtype == np.uint8 else np.clip(item.original, 0, 255).astype(np.uint8)
        icon = QIcon(QPixmap.fromImage(array_to_qimage(orig)).scaled(
            48, 48, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation))
        li = QListWidgetItem(icon, label)
        li.setToolTip(item.name)
        self.history.blockSignals(True)
        self.history.addItem(li)
        self.history.setCurrentRow(self.history.count() - 1)
        self.history.blockSignals(False)

    def _history_label(self, item: ClassifiedImage) -> str:
        k = int(np.argmax(item.probabilities))
        return f"{item.name[:14]}\n{self.class_names(len(item.probabilities))[k]}"

    def _refresh_history_label(self, item: ClassifiedImage) -> None:
        # The thumbnail names the network's current answer: it changes while training goes on.
        for row, result in enumerate(self.results):
            if result is item:
                li = self.history.item(row)
                if li is not None:
                    li.setText(self._history_label(item))
                return

    def on_history_row(self, row: int) -> None:
        if 0 <= row < len(self.results):
            self.show_result(self.results[row])

    def show_result(self, item: ClassifiedImage, select: bool = True) -> None:
        self.current = item
        orig = item.original
        self.original_image.setImage(orig if orig.ndim == 2 else orig, levels=(0, 255), autoLevels=False)
        self.input_image.setImage(chw_to_display(item.x), levels=(0.0, 1.0), autoLevels=False)
        self.input_title.setText(tr("Network input {}").format(format_shape(item.x.shape)))
        self.examples.model.set_image(item.x, item.name)
        self.views.setMinimumWidth(170)
        if item.source == "drawing":
            self.original_title.setText(tr("Your drawing"))
        else:
            self.original_title.setText(tr("Your image {} x {}").format(orig.shape[1], orig.shape[0]))
        self.original_view.autoRange(padding=0.02)
        self.input_view.autoRange(padding=0.02)
        self._bars_dirty = True
        self.render_bars()
        if select:
            # The feature maps switch to this image (the inspection keeps the bars live while training).
            self.controller.set_sample(item.x, source=item.source, name=item.name, original=item.original)
            self._sample = self.controller.sample

    def render_bars(self) -> None:
        if not self._bars_dirty:
            return
        self._bars_dirty = False
        cur = self.current
        if cur is None:
            self.bars.setOpts(x0=[], y=[], width=[])
            self.top_bar.setOpts(x0=[], y=[], width=[])
            self.answer.setText(tr("Drop an image anywhere on the window, open or paste one, or draw a digit."))
            return
        p = np.asarray(cur.probabilities, dtype=np.float64)
        k = len(p)
        ys = np.arange(k)
        best = int(np.argmax(p))
        others = p.copy()
        others[best] = 0
        self.bars.setOpts(x0=np.zeros(k), y=ys, width=others, height=0.7)
        self.top_bar.setOpts(x0=[0], y=[best], width=[p[best]], height=0.7)
        names = self.class_names(k)
        self.prob_plot.getAxis("left").setTicks([[(i, f"{names[i]}  {p[i]:.0%}") for i in range(k)]])
        self.prob_plot.setYRange(-0.6, k - 0.4, padding=0)
        self.answer.setText(tr("The network says: {} ({:.1%})").format(names[best], p[best]))
        self._refresh_history_label(cur)


def _short(exc: BaseException) -> str:
    text = tr_error(exc) or type(exc).__name__
    return text if len(text) < 300 else text[:297] + "..."
