"""A grid of numbers on the theater's stage: input, window, filter, products and output.

Small grids show their numbers in coloured cells; large ones (a 28x28 digit) are drawn as an image
with the same colours. Highlights: the window (amber), the hovered window or the cells reading a
pixel (cyan, dashed), the pooling winner (green). Padding is drawn as hatched virtual pixels.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QImage, QPainter, QPen
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

from engine.theater import fmt

NUMBERS_UP_TO = 12          # grids up to 12x12 (padded) show their numbers; larger ones are images

WINDOW_COLOR = QColor(255, 170, 0)      # the stamp: amber, visible on black, white, red and blue
HOVER_COLOR = QColor(0, 200, 230)       # receptive window / reading cells while hovering
WINNER_COLOR = QColor(40, 200, 90)      # max pooling: the pixel that won
POSITIVE = QColor(214, 60, 40)          # positive weights/products: red
NEGATIVE = QColor(40, 100, 220)         # negative weights/products: blue
VIRTUAL_FILL = QColor(236, 228, 250)    # padding: virtual pixels, pale violet with hatching
VIRTUAL_INK = QColor(140, 110, 190)


def signed_color(v: float, scale: float) -> QColor:
    """White at 0, red for positive, blue for negative, saturating at ``scale``."""
    if not np.isfinite(v) or scale <= 0:
        return QColor(255, 255, 255)
    t = min(abs(v) / scale, 1.0)
    base = POSITIVE if v > 0 else NEGATIVE
    r = round(255 + (base.red() - 255) * t)
    g = round(255 + (base.green() - 255) * t)
    b = round(255 + (base.blue() - 255) * t)
    return QColor(r, g, b)


def _gray_color(v: float, lo: float, hi: float, tint: QColor | None = None) -> QColor:
    """Brightness from black (``lo``) to white (``hi``), or to ``tint`` for a colour channel."""
    if not np.isfinite(v):
        return QColor(255, 255, 255)
    t = 0.0 if hi <= lo else min(max((v - lo) / (hi - lo), 0.0), 1.0)
    if tint is not None:
        return QColor(round(tint.red() * t), round(tint.green() * t), round(tint.blue() * t))
    g = round(255 * t)
    return QColor(g, g, g)


def _ink_for(fill: QColor) -> QColor:
    """Black or white text, whichever reads better on ``fill``."""
    luma = 0.299 * fill.red() + 0.587 * fill.green() + 0.114 * fill.blue()
    return QColor(0, 0, 0) if luma > 140 else QColor(255, 255, 255)


class GridView(QWidget):
    """A grid of numbers (or an image when large) with the window, hover and winner highlights.

    ``style="gray"`` draws values as brightness (an image), ``"signed"`` as red (+) / blue (-).
    Cells are addressed ``(row, col)`` in the grid's own coordinates (for the input: the padded grid).
    """

    cell_hovered = Signal(int, int)
    cell_clicked = Signal(int, int)
    hover_left = Signal()

    def __init__(self, title: str = "", style: str = "signed", parent: QWidget | None = None):
        super().__init__(parent)
        self.title = title
        self.style = style
        self.values = np.zeros((1, 1))
        self.virtual: np.ndarray | None = None
        self.filled: np.ndarray | None = None       # False cells are drawn empty (output filling in)
        self.levels: tuple[float, float] | None = None
        self.window: tuple[int, int, int, int] | None = None     # (r0, c0, r1, c1) end exclusive
        self.hover_window: tuple[int, int, int, int] | None = None
        self.marked: list[tuple[int, int]] = []
        self.winners: list[tuple[int, int]] = []
        self.current: tuple[int, int] | None = None
        self.digits = 2
        self.numbers = True
        self.virtual_text = "0"
        self.tint: QColor | None = None           # RGB inputs: each channel drawn in its own colour
        self._image: QImage | None = None
        self._hover_cell: tuple[int, int] | None = None
        self.setMouseTracking(True)
        self.setMinimumSize(60, 60)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    # -- data ----------------------------------------------------------------------------------
    def set_data(self, values, virtual=None, levels=None, filled=None, digits: int = 2) -> None:
        v = np.asarray(values, dtype=np.float64)
        self.values = v if v.ndim == 2 else v.reshape(1, -1)
        self.virtual = None if virtual is None else np.asarray(virtual, dtype=bool)
        self.filled = None if filled is None else np.asarray(filled, dtype=bool)
        self.levels = levels
        self.digits = digits
        self.numbers = max(self.values.shape) <= NUMBERS_UP_TO
        self._image = None if self.numbers else self._make_image()
        self.update()

    def set_highlights(self, window=None, marked=(), winners=(), current=None, hover_window=None) -> None:
        self.window = window
        self.marked = list(marked)
        self.winners = list(winners)
        self.current = current
        self.hover_window = hover_window
        self.update()

    def _scale(self) -> float:
        if self.levels is not None:
            return max(abs(self.levels[0]), abs(self.levels[1]))
        finite = self.values[np.isfinite(self.values)]
        return float(np.abs(finite).max()) if finite.size else 1.0

    def _gray_levels(self) -> tuple[float, float]:
        if self.levels is not None:
            return self.levels
        finite = self.values[np.isfinite(self.values)]
        if not finite.size:
            return 0.0, 1.0
        lo, hi = float(finite.min()), float(finite.max())
        return (min(lo, 0.0), hi if hi > lo else lo + 1.0)

    def fill_color(self, r: int, c: int) -> QColor:
        if self.virtual is not None and self.virtual[r, c]:
            return VIRTUAL_FILL
        if self.filled is not None and not self.filled[r, c]:
            # not computed yet: in an image (no numbers) a zero is white too, so use a grey there
            return QColor(250, 250, 250) if self.numbers else QColor(200, 200, 200)
        v = float(self.values[r, c])
        if self.style == "gray":
            lo, hi = self._gray_levels()
            return _gray_color(v, lo, hi, self.tint)
        return signed_color(v, self._scale())

    def _make_image(self) -> QImage:
        """The same colours as :meth:`fill_color`, computed for the whole grid at once."""
        h, w = self.values.shape
        v = np.where(np.isfinite(self.values), self.values, 0.0)
        if self.style == "gray":
            lo, hi = self._gray_levels()
            t = np.clip((v - lo) / (hi - lo), 0.0, 1.0) if hi > lo else np.zeros_like(v)
            top = np.array([255.0, 255.0, 255.0]) if self.tint is None else \
                np.array([self.tint.red(), self.tint.green(), self.tint.blue()], float)
            rgb = t[..., None] * top
        else:
            scale = self._scale()
            t = np.clip(np.abs(v) / scale, 0.0, 1.0) if scale > 0 else np.zeros_like(v)
            pos = np.array([POSITIVE.red(), POSITIVE.green(), POSITIVE.blue()], float)
            neg = np.array([NEGATIVE.red(), NEGATIVE.green(), NEGATIVE.blue()], float)
            base = np.where((v > 0)[..., None], pos, neg)
            rgb = 255.0 + (base - 255.0) * t[..., None]
        if self.filled is not None:
            rgb[~self.filled] = 200.0
        if self.virtual is not None:
            rgb[self.virtual] = (VIRTUAL_FILL.red(), VIRTUAL_FILL.green(), VIRTUAL_FILL.blue())
        self._rgb = np.ascontiguousarray(np.rint(rgb).astype(np.uint8))  # keep alive: QImage does not copy
        return QImage(self._rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888)

    # -- geometry ------------------------------------------------------------------------------
    def _title_height(self) -> int:
        return self.fontMetrics().height() + 6 if self.title else 0

    def grid_rect(self) -> QRectF:
        h, w = self.values.shape
        top = self._title_height()
        avail_w = self.width() - 4
        avail_h = self.height() - top - 4
        cell = max(min(avail_w / w, avail_h / h), 1.0)
        gw, gh = cell * w, cell * h
        return QRectF((self.width() - gw) / 2, top + (avail_h - gh) / 2 + 2, gw, gh)

    def cell_size(self) -> float:
        return self.grid_rect().width() / self.values.shape[1]

    def cell_at(self, pos: QPointF) -> tuple[int, int] | None:
        rect = self.grid_rect()
        if not rect.contains(pos):
            return None
        cell = self.cell_size()
        r = int((pos.y() - rect.top()) / cell)
        c = int((pos.x() - rect.left()) / cell)
        h, w = self.values.shape
        if 0 <= r < h and 0 <= c < w:
            return r, c
        return None

    def sizeHint(self) -> QSize:
        h, w = self.values.shape
        cell = 56 if max(h, w) <= 5 else 40 if max(h, w) <= NUMBERS_UP_TO else 12
        return QSize(min(int(cell * w) + 8, 520), min(int(cell * h) + 8 + self._title_height(), 520))

    # -- painting ------------------------------------------------------------------------------
    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        rect = self.grid_rect()
        cell = self.cell_size()
        h, w = self.values.shape
        if self.title:
            f = QFont(self.font())
            f.setBold(True)
            p.setFont(f)
            p.setPen(self.palette().windowText().color())
            title = p.fontMetrics().elidedText(self.title, Qt.TextElideMode.ElideRight, self.width() - 4)
            p.drawText(QRectF(0, 0, self.width(), self._title_height()), Qt.AlignmentFlag.AlignCenter, title)
        if self.numbers:
            self._paint_cells(p, rect, cell, h, w)
        elif self._image is not None:
            p.drawImage(rect, self._image)
            p.setPen(QPen(QColor(120, 120, 120), 1))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(rect)
        self._paint_overlays(p, rect, cell)
        p.end()

    def _paint_cells(self, p: QPainter, rect: QRectF, cell: float, h: int, w: int) -> None:
        font = QFont(self.font())
        text_len = max(len(fmt(v, self.digits)) for v in self.values.ravel()) if self.values.size else 1
        size = max(min(cell * 0.42, cell * 1.6 / max(text_len, 1)), 6.0)
        font.setPixelSize(int(size))
        p.setFont(font)
        grid_pen = QPen(QColor(170, 170, 170), 1)
        hatch = QBrush(VIRTUAL_INK, Qt.BrushStyle.BDiagPattern)
        for r in range(h):
            for c in range(w):
                cr = QRectF(rect.left() + c * cell, rect.top() + r * cell, cell, cell)
                fill = self.fill_color(r, c)
                p.fillRect(cr, fill)
                is_virtual = self.virtual is not None and self.virtual[r, c]
                if is_virtual:
                    p.fillRect(cr, hatch)
                    p.setPen(QPen(VIRTUAL_INK, 1, Qt.PenStyle.DashLine))
                else:
                    p.setPen(grid_pen)
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawRect(cr)
                if self.filled is not None and not self.filled[r, c]:
                    continue
                if cell < 14:
                    continue
                if is_virtual:
                    p.setPen(VIRTUAL_INK)
                    text = self.virtual_text
                else:
                    p.setPen(_ink_for(fill))
                    text = fmt(float(self.values[r, c]), self.digits)
                p.drawText(cr, Qt.AlignmentFlag.AlignCenter, text)

    def _outline(self, p: QPainter, rect: QRectF, cell: float, win, color: QColor, width: float,
                 fill_alpha: int = 0, dashed: bool = False) -> None:
        r0, c0, r1, c1 = win
        h, w = self.values.shape
        r0, c0 = max(r0, 0), max(c0, 0)
        r1, c1 = min(r1, h), min(c1, w)
        if r1 <= r0 or c1 <= c0:
            return
        box = QRectF(rect.left() + c0 * cell, rect.top() + r0 * cell, (c1 - c0) * cell, (r1 - r0) * cell)
        if fill_alpha:
            tint = QColor(color)
            tint.setAlpha(fill_alpha)
            p.fillRect(box, tint)
        pen = QPen(color, width)
        pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
        if dashed:
            pen.setStyle(Qt.PenStyle.DashLine)
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(box.adjusted(width / 2, width / 2, -width / 2, -width / 2))

    def _paint_overlays(self, p: QPainter, rect: QRectF, cell: float) -> None:
        thick = max(3.0, min(cell * 0.12, 6.0))
        if self.window is not None:
            self._outline(p, rect, cell, self.window, WINDOW_COLOR, thick, fill_alpha=0 if self.numbers else 60)
        if self.current is not None:
            r, c = self.current
            self._outline(p, rect, cell, (r, c, r + 1, c + 1), WINDOW_COLOR, thick)
        if self.hover_window is not None:
            self._outline(p, rect, cell, self.hover_window, HOVER_COLOR, max(thick - 1, 2.0), dashed=True)
        for r, c in self.marked:
            self._outline(p, rect, cell, (r, c, r + 1, c + 1), HOVER_COLOR, max(thick - 1, 2.0), fill_alpha=70)
        for r, c in self.winners:
            self._outline(p, rect, cell, (r, c, r + 1, c + 1), WINNER_COLOR, thick + 1, fill_alpha=50)

    # -- mouse ---------------------------------------------------------------------------------
    def mouseMoveEvent(self, event) -> None:
        cell = self.cell_at(event.position())
        if cell != self._hover_cell:
            self._hover_cell = cell
            if cell is None:
                self.hover_left.emit()
            else:
                self.cell_hovered.emit(*cell)
        super().mouseMoveEvent(event)

    def leaveEvent(self, event) -> None:
        if self._hover_cell is not None:
            self._hover_cell = None
            self.hover_left.emit()
        super().leaveEvent(event)

    def mousePressEvent(self, event) -> None:
        cell = self.cell_at(event.position())
        if cell is not None and event.button() == Qt.MouseButton.LeftButton:
            self.cell_clicked.emit(*cell)
        super().mousePressEvent(event)

    def cell_center(self, r: int, c: int) -> QPointF:
        """Widget coordinates of a cell's centre (for tests and tooltips)."""
        rect = self.grid_rect()
        cell = self.cell_size()
        return QPointF(rect.left() + (c + 0.5) * cell, rect.top() + (r + 0.5) * cell)


class SymbolLabel(QLabel):
    """A big operator between the grids (×, =, Σ)."""

    def __init__(self, text: str, parent: QWidget | None = None):
        super().__init__(text, parent)
        f = QFont(self.font())
        f.setPixelSize(30)
        f.setBold(True)
        self.setFont(f)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)


if __name__ == "__main__":  # preview: python -m gui.theater.grid_view
    import sys

    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv)
    view = GridView("signed 6x6", style="signed")
    view.set_data(np.arange(36).reshape(6, 6) - 18.0)
    view.set_highlights(window=(1, 1, 4, 4), winners=[(0, 5)])
    view.resize(400, 420)
    view.show()
    sys.exit(app.exec())
