"""Small pieces the panels share: image mosaics, stable colour levels, colour maps, images <-> numpy."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor, QFont, QImage

# One look for the whole app: readable on a projector (high contrast, colour-blind safe maps).
ACTIVATION_CMAP = "viridis"        # non-negative maps (after ReLU, pooling, the input)
SIGNED_CMAP = "CET-D1"             # signed values (weights, maps before the activation): blue-white-red
BACKGROUND = "w"
ACCENT = QColor(230, 97, 1)        # selection / highlight (orange)
TRAIN_COLOR = (31, 119, 180)       # blue
VAL_COLOR = (214, 39, 40)          # red


def colormap(name: str):
    return pg.colormap.get(name)


def lut(name: str) -> np.ndarray:
    return colormap(name).getLookupTable(0.0, 1.0, 256)


def readable_font(point_size: int = 11, bold: bool = False) -> QFont:
    f = QFont()
    f.setPointSize(point_size)
    f.setBold(bold)
    return f


def grid_shape(n: int, aspect: float = 1.0) -> tuple[int, int]:
    """Rows and columns for ``n`` tiles, about square on screen (``aspect`` = area width/height)."""
    if n <= 0:
        return 0, 0
    cols = max(1, int(math.ceil(math.sqrt(n * aspect))))
    rows = int(math.ceil(n / cols))
    # Shrink the columns while the rows still fit (avoids an almost-empty last row).
    while cols > 1 and int(math.ceil(n / (cols - 1))) == rows:
        cols -= 1
    return rows, cols


def mosaic(tiles: np.ndarray, cols: int, gap: int = 1, fill: float = np.nan) -> np.ndarray:
    """Tile ``(N, H, W)`` (or ``(N, H, W, 3)``) into one image with ``gap`` pixels of ``fill`` between.

    Returns ``(rows*(H+gap)-gap, cols*(W+gap)-gap[, 3])`` float32. NaN gutters render transparent in
    ``ImageItem``.
    """
    tiles = np.asarray(tiles, dtype=np.float32)
    n, h, w = tiles.shape[:3]
    extra = tiles.shape[3:]
    cols = max(1, min(cols, n))
    rows = int(math.ceil(n / cols))
    out = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap) + extra, fill, dtype=np.float32)
    for i in range(n):
        r, c = divmod(i, cols)
        out[r * (h + gap): r * (h + gap) + h, c * (w + gap): c * (w + gap) + w] = tiles[i]
    return out


def tile_at(x: float, y: float, h: int, w: int, cols: int, n: int, gap: int = 1) -> int | None:
    """Index of the tile under image coordinates ``(x, y)`` in a :func:`mosaic`, or None (gutter/outside)."""
    if x < 0 or y < 0:
        return None
    c, cx = divmod(int(x), w + gap)
    r, ry = divmod(int(y), h + gap)
    if cx >= w or ry >= h or c >= cols:
        return None
    i = r * cols + c
    return i if i < n else None


class StableLevels:
    """Colour levels that follow the data without flickering.

    The range grows at once when values exceed it and shrinks slowly (``decay`` per update), so a
    map does not flash when one frame has a smaller maximum. ``signed`` keeps it symmetric around 0.
    """

    def __init__(self, decay: float = 0.15):
        self.decay = decay
        self.low: float | None = None
        self.high: float | None = None

    def reset(self) -> None:
        self.low = self.high = None

    def update(self, values: np.ndarray, signed: bool) -> tuple[float, float]:
        finite = np.asarray(values)[np.isfinite(values)]
        if finite.size == 0:
            lo, hi = 0.0, 1.0
        elif signed:
            m = float(np.percentile(np.abs(finite), 99.5)) or float(np.abs(finite).max())
            lo, hi = -m, m
        else:
            lo = min(0.0, float(finite.min()))
            hi = float(np.percentile(finite, 99.5)) or float(finite.max())
        if hi - lo < 1e-6:
            hi = lo + 1e-6
        if self.low is None:
            self.low, self.high = lo, hi
        else:
            self.low = lo if lo < self.low else self.low + (lo - self.low) * self.decay
            self.high = hi if hi > self.high else self.high + (hi - self.high) * self.decay
        return self.low, self.high


def nice_ceil(value: float) -> float:
    """The smallest of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 (times a power of ten) that is >= ``value``.

    Colour bars and axes snap to these: their ticks are then redrawn only when the range really
    changes, which saves most of the painting time while training.
    """
    if not np.isfinite(value) or value <= 0:
        return 1.0
    exp = math.floor(math.log10(value))
    base = 10.0 ** exp
    for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if m * base >= value * (1 - 1e-9):
            return m * base
    return 10 * base


def snapped_levels(lo: float, hi: float, signed: bool) -> tuple[float, float]:
    """Levels rounded outwards to :func:`nice_ceil` steps (symmetric when ``signed``)."""
    if signed:
        m = nice_ceil(max(abs(lo), abs(hi)))
        return -m, m
    top = nice_ceil(hi)
    bottom = 0.0 if lo >= 0 else -nice_ceil(-lo)
    return bottom, top


def is_signed(values: np.ndarray) -> bool:
    """True when a noticeable part of the values is negative (pick a diverging colour map)."""
    v = np.asarray(values)
    finite = v[np.isfinite(v)]
    if finite.size == 0:
        return False
    return float(finite.min()) < -1e-3 * max(1e-12, float(np.abs(finite).max()))


def chw_to_display(x: np.ndarray) -> np.ndarray:
    """``(C, H, W)`` -> ``(H, W)`` for one channel or ``(H, W, 3)`` for RGB, float32."""
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 2:
        return x
    if x.shape[0] == 1:
        return x[0]
    if x.shape[0] == 3:
        return np.transpose(x, (1, 2, 0))
    return x.mean(axis=0)


def qimage_to_array(image: QImage) -> np.ndarray:
    """A QImage -> ``(H, W, 3)`` uint8 RGB (or ``(H, W)`` for greyscale images)."""
    if image.isGrayscale():
        img = image.convertToFormat(QImage.Format.Format_Grayscale8)
        w, h = img.width(), img.height()
        ptr = img.constBits()
        arr = np.frombuffer(ptr, dtype=np.uint8, count=img.bytesPerLine() * h).reshape(h, img.bytesPerLine())
        return np.array(arr[:, :w], copy=True)
    img = image.convertToFormat(QImage.Format.Format_RGB888)
    w, h = img.width(), img.height()
    ptr = img.constBits()
    arr = np.frombuffer(ptr, dtype=np.uint8, count=img.bytesPerLine() * h).reshape(h, img.bytesPerLine())
    return np.array(arr[:, : w * 3].reshape(h, w, 3), copy=True)


def array_to_qimage(arr: np.ndarray) -> QImage:
    """``(H, W)`` or ``(H, W, 3)`` uint8 -> QImage (owns a copy)."""
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    h, w = arr.shape[:2]
    if arr.ndim == 2:
        return QImage(arr.data, w, h, arr.strides[0], QImage.Format.Format_Grayscale8).copy()
    return QImage(arr.data, w, h, arr.strides[0], QImage.Format.Format_RGB888).copy()


def make_image_view(border: bool = False) -> tuple[pg.GraphicsLayoutWidget, pg.ViewBox, pg.ImageItem]:
    """A bare ``ImageItem`` in a locked-aspect, y-down ``ViewBox`` (cheap to update; STACK.md)."""
    glw = pg.GraphicsLayoutWidget()
    glw.setBackground(BACKGROUND)
    vb = glw.addViewBox(lockAspect=True, invertY=True, enableMouse=False)
    vb.setMenuEnabled(False)
    img = pg.ImageItem()
    if border:
        img.setBorder(pg.mkPen((120, 120, 120)))
    vb.addItem(img)
    return glw, vb, img


class TextLabelsItem(pg.GraphicsObject):
    """Many small text labels in one graphics item, drawn in screen pixels at data positions.

    One item instead of one ``TextItem`` per label: creating 64 ``TextItem`` objects took ~60 ms and
    each repaint re-entered Python once per label (the GUI thread then waits for the GIL the
    training thread holds). ``labels`` are ``(x, y, text)``; ``anchor`` ``(ax, ay)`` in [0, 1] places
    the text box relative to the point (``(0, 0)``: the point is the box's top-left corner).
    """

    def __init__(self, anchor=(0.5, 0.5), point_size: int = 9, color=(20, 20, 20), box=None, bold=False,
                 margin: float = 3.0):
        super().__init__()
        self.margin = margin          # data units around the points that the text may cover
        self._labels: list[tuple[float, float, str]] = []
        self._colors: list | None = None
        self.anchor = anchor
        self.color = QColor(*color)
        self.box = None if box is None else QColor(*box)
        self.font = QFont()
        self.font.setPointSize(point_size)
        self.font.setBold(bold)
        self._rect = None

    def set_labels(self, labels, colors=None) -> None:
        """``labels``: list of ``(x, y, text)``; ``colors``: optional list of RGB tuples per label."""
        self.prepareGeometryChange()
        self._labels = list(labels)
        self._colors = None if colors is None else [QColor(*c) for c in colors]
        if self._labels:
            xs = [lab[0] for lab in self._labels]
            ys = [lab[1] for lab in self._labels]
            from PySide6.QtCore import QRectF

            m = self.margin
            self._rect = QRectF(min(xs) - m, min(ys) - m, max(xs) - min(xs) + 2 * m, max(ys) - min(ys) + 2 * m)
        else:
            self._rect = None
        self.update()

    def texts(self) -> list[str]:
        return [lab[2] for lab in self._labels]

    def boundingRect(self):  # noqa: N802 (Qt override)
        from PySide6.QtCore import QRectF

        return self._rect if self._rect is not None else QRectF()

    def paint(self, p, *args) -> None:
        if not self._labels:
            return
        from PySide6.QtCore import QPointF, QRectF

        transform = p.transform()
        p.save()
        p.resetTransform()
        p.setFont(self.font)
        fm = p.fontMetrics()
        h = fm.height()
        ax, ay = self.anchor
        for n, (x, y, text) in enumerate(self._labels):
            pt = transform.map(QPointF(x, y))
            w = fm.horizontalAdvance(text) + 4
            r = QRectF(pt.x() - ax * w, pt.y() - ay * h, w, h)
            if self.box is not None:
                p.fillRect(r, self.box)
            p.setPen(self._colors[n] if self._colors is not None else self.color)
            p.drawText(r, 0x0084, text)          # Qt.AlignCenter
        p.restore()
