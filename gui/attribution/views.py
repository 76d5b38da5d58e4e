"""The attribution tab's pictures: the image with a heat map over it, and a filter's nine strongest patches.

:class:`HeatmapView` is a pyqtgraph view with two ImageItems created once (the picture, the heat map
with a colour map and an opacity) and fed with ``setImage``. :class:`PatchTile` paints one validation
image with the receptive-field box of a top patch; :class:`TopPatchGrid` arranges nine of them.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QImage, QPainter, QPen
from PySide6.QtWidgets import QGridLayout, QSizePolicy, QWidget

from engine.pixels import to_float32
from gui.theater.grid_view import WINDOW_COLOR

HEAT_COLORMAP = "inferno"


def display_image(x: np.ndarray) -> np.ndarray:
    """``(C, H, W)`` in [0, 1] -> ``(H, W)`` grey or ``(H, W, 3)`` RGB for display (other depths: the mean)."""
    x = np.asarray(x, np.float32)
    if x.shape[0] == 3:
        return np.ascontiguousarray(np.transpose(x, (1, 2, 0)))
    return x[0] if x.shape[0] == 1 else x.mean(axis=0)


def heat_lookup_table() -> np.ndarray:
    """``(256, 4)`` uint8 RGBA: the colour map with an alpha ramp, so where nothing mattered the picture
    shows through instead of being darkened by the map's black end."""
    lut = pg.colormap.get(HEAT_COLORMAP).getLookupTable(nPts=256, alpha=True)
    lut[:, 3] = np.clip(np.linspace(0, 255 * 1.6, 256), 0, 255).astype(np.uint8)
    return lut


class HeatmapView(pg.GraphicsLayoutWidget):
    """The picture with the heat map over it (opacity adjustable)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setBackground("w")
        self.view = self.addViewBox(lockAspect=True, enableMouse=False)
        self.view.invertY(True)
        self.image_item = pg.ImageItem()
        self.heat_item = pg.ImageItem()
        self.heat_item.setLookupTable(heat_lookup_table())
        self.heat_item.setOpacity(0.8)
        self.view.addItem(self.image_item)
        self.view.addItem(self.heat_item)
        self.heat: np.ndarray | None = None
        self.setMinimumSize(180, 180)

    def set_picture(self, x: np.ndarray | None) -> None:
        if x is None:
            self.image_item.clear()
            self.set_heat(None)
            return
        self.image_item.setImage(display_image(x), levels=(0.0, 1.0))
        self.view.autoRange(padding=0.02)

    def set_heat(self, heat: np.ndarray | None) -> None:
        """``(H, W)`` in [0, 1] (NaN: not computed yet, shown cold), or None to hide the overlay."""
        self.heat = heat
        if heat is None:
            self.heat_item.clear()
            return
        self.heat_item.setImage(np.nan_to_num(np.asarray(heat, np.float32), nan=0.0), levels=(0.0, 1.0))

    def set_opacity(self, opacity: float) -> None:
        self.heat_item.setOpacity(float(opacity))


def _qimage(x: np.ndarray) -> tuple[QImage, np.ndarray]:
    img = display_image(x)
    data = np.ascontiguousarray(np.clip(np.rint(img * 255), 0, 255).astype(np.uint8))
    h, w = data.shape[:2]
    if data.ndim == 3:
        return QImage(data.data, w, h, 3 * w, QImage.Format.Format_RGB888), data
    return QImage(data.data, w, h, w, QImage.Format.Format_Grayscale8), data


class PatchTile(QWidget):
    """One image with an amber receptive-field box and a caption (the activation)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.image: QImage | None = None
        self._data = None               # keeps the pixels alive: QImage does not copy them
        self.box: tuple[int, int, int, int] | None = None
        self.caption = ""
        self.setMinimumSize(72, 86)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_patch(self, x: np.ndarray | None, box=None, caption: str = "") -> None:
        self.image, self._data = (None, None) if x is None else _qimage(x)
        self.box, self.caption = box, caption
        self.update()

    def image_rect(self) -> QRectF:
        text_h = self.fontMetrics().height() + 2
        if self.image is None:
            return QRectF()
        w, h = self.image.width(), self.image.height()
        scale = min(self.width() / w, (self.height() - text_h) / h)
        return QRectF((self.width() - w * scale) / 2, 0, w * scale, h * scale)

    def paintEvent(self, event) -> None:  # noqa: N802
        if self.image is None:
            return
        p = QPainter(self)
        rect = self.image_rect()
        p.drawImage(rect, self.image)
        if self.box is not None:
            r0, c0, r1, c1 = self.box
            s = rect.width() / self.image.width()
            p.setPen(QPen(WINDOW_COLOR, 2))
            p.drawRect(QRectF(rect.left() + c0 * s, rect.top() + r0 * s, (c1 - c0) * s, (r1 - r0) * s))
        p.setPen(self.palette().windowText().color())
        p.drawText(QRectF(0, rect.bottom() + 1, self.width(), self.fontMetrics().height() + 2),
                   Qt.AlignmentFlag.AlignCenter, self.caption)
        p.end()


class TopPatchGrid(QWidget):
    """Nine :class:`PatchTile` in a 3 x 3 grid, strongest first (reading order)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        self.tiles = [PatchTile() for _ in range(9)]
        for k, tile in enumerate(self.tiles):
            grid.addWidget(tile, k // 3, k % 3)

    def show_patches(self, top, images, class_names=(), labels=None) -> None:
        """Draw ``top.patches`` over ``images`` (uint8 ``(N, C, H, W)``); empty tiles when fewer than nine."""
        patches = [] if top is None else list(top.patches)
        for k, tile in enumerate(self.tiles):
            if k >= len(patches):
                tile.set_patch(None)
                continue
            p = patches[k]
            x = to_float32(images[p.image_index])
            name = ""
            if labels is not None and p.image_index < len(labels) and int(labels[p.image_index]) < len(class_names):
                name = f" · {class_names[int(labels[p.image_index])]}"
            tile.set_patch(x, p.clipped_box, f"#{p.image_index} {p.value:.2f}{name}")


def filter_mosaic(kernel: np.ndarray) -> np.ndarray:
    """``(C, K, K)`` -> ``(K, C*K + C - 1)``: the channels side by side with a NaN gutter (up to 3 channels;
    deeper kernels show their channel mean)."""
    kernel = np.asarray(kernel, np.float64)
    if kernel.shape[0] > 3:
        return kernel.mean(axis=0)
    k = kernel.shape[-1]
    gap = np.full((k, 1), np.nan)
    parts = []
    for c in range(kernel.shape[0]):
        parts += [kernel[c], gap]
    return np.hstack(parts[:-1])


