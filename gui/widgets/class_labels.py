"""Class names along the rows and columns of a k x k matrix drawn in a pyqtgraph ``ViewBox``.

pyqtgraph's ``AxisItem`` drops a tick label that would overlap its neighbour and never turns text, so
Fashion-MNIST's long names lost labels under a confusion matrix. A :class:`ClassLabelStrip` keeps one
text item per class (full name in its tooltip, elided when very long) at the centre of its row or
column, wherever the view puts the cells. The column strip turns its labels by 45 or 90 degrees when
they do not fit side by side; :func:`choose_layout` picks the angle and font size from the space the
matrix and its column strip share, so the choice never depends on its own outcome.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF
from PySide6.QtWidgets import QGraphicsSimpleTextItem

ANGLES = (0, 45, 90)
POINT_SIZES = (9, 8, 7, 6)
MAX_LABEL_PX = 130       # longer names are elided; the tooltip keeps the full name
GAP = 4.0                # pixels between the matrix and the labels


@dataclass(frozen=True)
class LabelLayout:
    angle: int          # of the column labels: 0 (side by side), 45 or 90 (reading upwards)
    point_size: int
    stride: int = 1     # every stride-th label is shown when even the smallest font does not fit


def _font(point_size: int) -> QFont:
    font = QFont()
    font.setPointSize(point_size)
    return font


def label_metrics(names, point_size: int) -> tuple[float, float]:
    """Widest (elided) name and the line height, in pixels, at ``point_size``."""
    fm = QFontMetricsF(_font(point_size))
    widest = max((fm.horizontalAdvance(_elide(fm, n)) for n in names), default=0.0)
    return widest, fm.height()


def _elide(fm: QFontMetricsF, name: str) -> str:
    return fm.elidedText(name, Qt.TextElideMode.ElideRight, MAX_LABEL_PX)


def column_extent(angle: int, widest: float, height: float) -> float:
    """Height in pixels that column labels at ``angle`` need below the matrix."""
    if angle == 0:
        return GAP + height
    if angle == 45:  # the far corner of a text turned about the middle of its end
        return GAP + height / 2 + (widest + height / 2) * math.sqrt(0.5)
    return GAP + widest + height / 2


def column_labels_fit(angle: int, cell: float, widest: float, height: float) -> bool:
    """Side by side the widest name must fit a cell; turned labels are parallel strips whose
    distance (the cell width times the cosine of the angle) must exceed a line of text."""
    if angle == 0:
        return widest + 4 <= cell
    if angle == 45:
        return cell * math.sqrt(0.5) >= height + 1
    return cell >= height + 1


def row_extent(widest: float) -> float:
    """Width in pixels that row labels need beside the matrix."""
    return widest + 2 * GAP


def choose_layout(names, available_width: float, available_height: float) -> LabelLayout:
    """The most readable layout of ``len(names)`` row and column labels for a square matrix that
    shares ``available_width`` with its row labels and ``available_height`` with its column labels:
    horizontal text, then turned by 45 and 90 degrees, then smaller fonts, then every n-th label."""
    k = max(1, len(names))

    def cell(angle, widest, height):
        return min(available_width - row_extent(widest),
                   available_height - column_extent(angle, widest, height)) / k

    for size in POINT_SIZES:
        widest, height = label_metrics(names, size)
        for angle in ANGLES:
            c = cell(angle, widest, height)
            if c >= height and column_labels_fit(angle, c, widest, height):
                return LabelLayout(angle, size)
    size = POINT_SIZES[-1]
    widest, height = label_metrics(names, size)
    return LabelLayout(90, size, stride=math.ceil((height + 1) / max(1.0, cell(90, widest, height))))


class ClassLabelStrip(pg.GraphicsWidget):
    """One text item per class beside a k x k matrix shown in ``view`` over the rect (0, 0, k, k).

    ``side="bottom"``: the column (predicted-class) labels, centred under their columns;
    ``side="left"``: the row (true-class) labels, right-aligned beside their rows.
    """

    def __init__(self, view: pg.ViewBox, side: str, color=(40, 40, 40)):
        super().__init__()
        if side not in ("bottom", "left"):
            raise ValueError(f"side must be 'bottom' or 'left', got {side!r}")
        self.view = view
        self.side = side
        self.color = QColor(*color)
        self.names: list[str] = []
        self.items: list[QGraphicsSimpleTextItem] = []
        self.layout_choice = LabelLayout(0, POINT_SIZES[0])
        self._extent = 0.0
        view.sigResized.connect(self.place_labels)
        view.sigRangeChanged.connect(self.place_labels)
        self.geometryChanged.connect(self.place_labels)

    def set_names(self, names) -> None:
        """Create the text items (one per class; the full name is the tooltip)."""
        for item in self.items:
            item.setParentItem(None)
            if item.scene() is not None:
                item.scene().removeItem(item)
        self.names = [str(n) for n in names]
        self.items = []
        for name in self.names:
            item = QGraphicsSimpleTextItem(self)
            item.setBrush(self.color)
            item.setToolTip(name)
            self.items.append(item)
        self._apply_layout(self.layout_choice, force=True)

    def set_layout(self, choice: LabelLayout) -> None:
        self._apply_layout(choice)

    def _apply_layout(self, choice: LabelLayout, force: bool = False) -> None:
        if choice == self.layout_choice and not force:
            return
        self.layout_choice = choice
        font = _font(choice.point_size)
        fm = QFontMetricsF(font)
        for i, (item, name) in enumerate(zip(self.items, self.names)):
            item.setFont(font)
            item.setText(_elide(fm, name))
            item.setVisible(i % choice.stride == 0)
            rect = item.boundingRect()
            # turn around the end of the text that touches the matrix
            item.setTransformOriginPoint(QPointF(rect.width(), rect.height() / 2))
            item.setRotation(-choice.angle if self.side == "bottom" else 0)
        widest, height = label_metrics(self.names, choice.point_size)
        if self.side == "bottom":
            extent = column_extent(choice.angle, widest, height) + 2
            if abs(extent - self._extent) > 0.5:
                self._extent = extent
                self.setMinimumHeight(extent)
                self.setMaximumHeight(extent)
        else:
            extent = row_extent(widest)
            if abs(extent - self._extent) > 0.5:
                self._extent = extent
                self.setMinimumWidth(extent)
                self.setMaximumWidth(extent)
        self.place_labels()

    def place_labels(self, *_args) -> None:
        """Put each label at the centre of its row or column as the view currently shows them."""
        if not self.items or self.scene() is None:
            return
        k = len(self.items)
        for i, item in enumerate(self.items):
            rect = item.boundingRect()
            w, h = rect.width(), rect.height()
            # the strip reserves the room; the labels follow the matrix's edge, which the view
            # centres in its box when the matrix is narrower or lower than the box
            if self.side == "bottom":
                p = self.mapFromScene(self.view.mapViewToScene(QPointF(i + 0.5, k)))
                if self.layout_choice.angle == 0:
                    item.setPos(p.x() - w / 2, p.y() + GAP)
                else:  # the turned text ends at the column's centre, just under the matrix
                    item.setPos(p.x() - w, p.y() + GAP)
            else:
                p = self.mapFromScene(self.view.mapViewToScene(QPointF(0, i + 0.5)))
                item.setPos(p.x() - GAP - w, p.y() - h / 2)

    def texts(self) -> list[str]:
        return [item.text() for item in self.items]

    def tooltips(self) -> list[str]:
        return [item.toolTip() for item in self.items]
