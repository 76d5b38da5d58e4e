"""The convolution theater: the filter sliding over the image, one output cell at a time.

The stage shows, for the current output position, the (zero-padded) input with the window over it,
the filter (flipped in convolution mode), the element-wise products, the sum + bias = value (then
ReLU), and the output map filling in cell by cell, with the size formula in numbers. Every number
comes from :class:`engine.theater.ConvTheater`; this module only draws and animates (a QTimer that
moves the step index).

Inputs: the lecture's hand-made grids, a training/validation sample of the controller's dataset, or
the last dropped image. Kernels: classic presets, any learned kernel of the current model (a copy of
its weights, refreshed from training snapshots), or cells edited by hand.
"""

from __future__ import annotations

import math
import traceback

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QImage, QKeySequence, QPainter, QPen, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSlider,
    QSplitter,
    QSpinBox,
    QStyle,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.errors import ConvScopeError
from engine.theater import INPUT_GRIDS, KERNEL_PRESETS, ConvTheater, apply_kernel, fmt, kernel_for_input
from gui.i18n import language, tr, tr_class, tr_error

NUMBERS_UP_TO = 12          # grids up to 12x12 (padded) show their numbers; larger ones are images
MAX_CHANNEL_ROWS = 3        # RGB: one row per channel; deeper inputs pick one channel
COMPARE_FILTERS = 8         # learned filters shown beside the classic one in "apply to whole image"
# Steps per second of the speed slider: slow enough to talk over, fast enough to fill a 26x26 map
# (676 steps) in about 11 s.
SPEEDS = (0.5, 1, 1.5, 2, 3, 4, 6, 8, 12, 16, 24, 32, 45, 60)

WINDOW_COLOR = QColor(255, 170, 0)      # the stamp: amber, visible on black, white, red and blue
HOVER_COLOR = QColor(0, 200, 230)       # receptive window / reading cells while hovering
WINNER_COLOR = QColor(40, 200, 90)      # max pooling: the pixel that won
POSITIVE = QColor(214, 60, 40)          # positive weights/products: red
NEGATIVE = QColor(40, 100, 220)         # negative weights/products: blue
VIRTUAL_FILL = QColor(236, 228, 250)    # padding: virtual pixels, pale violet with hatching
VIRTUAL_INK = QColor(140, 110, 190)


def _signed_color(v: float, scale: float) -> QColor:
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
        return _signed_color(v, self._scale())

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

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        h, w = self.values.shape
        cell = 56 if max(h, w) <= 5 else 40 if max(h, w) <= NUMBERS_UP_TO else 12
        return QSize(min(int(cell * w) + 8, 520), min(int(cell * h) + 8 + self._title_height(), 520))

    # -- painting ------------------------------------------------------------------------------
    def paintEvent(self, event) -> None:  # noqa: N802 (Qt override)
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
    def mouseMoveEvent(self, event) -> None:  # noqa: N802 (Qt override)
        cell = self.cell_at(event.position())
        if cell != self._hover_cell:
            self._hover_cell = cell
            if cell is None:
                self.hover_left.emit()
            else:
                self.cell_hovered.emit(*cell)
        super().mouseMoveEvent(event)

    def leaveEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if self._hover_cell is not None:
            self._hover_cell = None
            self.hover_left.emit()
        super().leaveEvent(event)

    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt override)
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


def _to_chw(array) -> np.ndarray | None:
    """Accept (H, W), (C, H, W), (H, W, 3) or (1, C, H, W) images; anything else is None."""
    a = np.asarray(array)
    if a.ndim == 4 and a.shape[0] == 1:
        a = a[0]
    if a.ndim == 2:
        a = a[None]
    elif a.ndim == 3 and a.shape[-1] in (1, 3, 4) and a.shape[0] not in (1, 3):
        a = np.moveaxis(a[..., :3], -1, 0)
    if a.ndim != 3 or min(a.shape) < 1:
        return None
    a = a.astype(np.float64)
    if np.asarray(array).dtype == np.uint8:
        a = a / 255.0
    return a


class TheaterPanel(QWidget):
    """The convolution theater tab: ``TheaterPanel(controller)`` (``controller`` may be None)."""

    INPUT_GRID, INPUT_TRAIN, INPUT_VAL, INPUT_DROPPED, INPUT_FMAP = range(5)
    KERNEL_PRESET, KERNEL_LEARNED, KERNEL_EDITED = range(3)

    step_changed = Signal(int)
    kernel_applied = Signal(int, int)     # (layer_index, filter_index) after "Use this kernel"

    def __init__(self, controller=None, parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        self.theater: ConvTheater | None = None
        self.index = 0
        self.dataset = None
        self.model = None                      # our own copy: never the training thread's model
        self.dropped: np.ndarray | None = None
        self.edited_kernel = np.array(KERNEL_PRESETS["vertical_edge"].kernel)
        self._pending_weights = None
        self._stale = False
        self._updating = False
        self._hover_output: tuple[int, int] | None = None
        self._hover_input: tuple[int, int] | None = None
        self.error_text = ""

        self.timer = QTimer(self)
        self.timer.timeout.connect(self._tick)
        # Training snapshots arrive many times a second: keep only the latest, apply at most 2x/s.
        self.weights_timer = QTimer(self)
        self.weights_timer.setInterval(500)
        self.weights_timer.timeout.connect(self._apply_pending_weights)

        self._build_controls()
        self._build_stage()
        root = QHBoxLayout(self)
        root.setContentsMargins(6, 6, 6, 6)
        # combos may shrink (long preset names elide) so the stage keeps most of a small tab
        for combo in self.controls.findChildren(QComboBox):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(6)
        self.controls_scroll = QScrollArea()
        self.controls_scroll.setWidget(self.controls)
        self.controls_scroll.setWidgetResizable(True)
        self.controls_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        bar = self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        self.controls_scroll.setMinimumWidth(self.controls.minimumSizeHint().width() + bar + 6)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.controls_scroll)
        self.splitter.addWidget(self.stage_box)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setCollapsible(1, False)
        self.splitter.setSizes([max(self.controls_scroll.minimumWidth(), 340), 1000])
        root.addWidget(self.splitter)

        self._connect_controller()
        self._fill_preset_table()
        self.rebuild()
        self._add_shortcuts()

    def _add_shortcuts(self) -> None:
        """Keys a teacher can reach with a presenter clicker: Space, arrows, Page Up/Down, Home/End."""
        keys = (
            (Qt.Key.Key_Space, self.toggle_play),
            (Qt.Key.Key_Right, self.step_forward), (Qt.Key.Key_PageDown, self.step_forward),
            (Qt.Key.Key_Left, self.step_back), (Qt.Key.Key_PageUp, self.step_back),
            (Qt.Key.Key_Home, lambda: self.seek(0)),
            (Qt.Key.Key_End, lambda: self.seek(self.theater.n_positions - 1) if self.theater else None),
        )
        self.shortcuts = []
        for key, slot in keys:
            sc = QShortcut(QKeySequence(key), self)
            sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            sc.activated.connect(slot)
            self.shortcuts.append(sc)

    # =========================================================================================
    # controls
    # =========================================================================================
    def _build_controls(self) -> None:
        self.controls = QWidget()
        col = QVBoxLayout(self.controls)
        col.setContentsMargins(0, 0, 0, 0)
        ko = language() == "ko"

        # -- input --
        box = QGroupBox(tr("Input"))
        form = QFormLayout(box)
        self.input_source = QComboBox()
        self.input_source.addItem(tr("Hand-made grid"), self.INPUT_GRID)
        self.input_source.addItem(tr("Training sample"), self.INPUT_TRAIN)
        self.input_source.addItem(tr("Validation sample"), self.INPUT_VAL)
        self.input_source.addItem(tr("Dropped or drawn image"), self.INPUT_DROPPED)
        self.input_source.addItem(tr("Feature map of a layer"), self.INPUT_FMAP)
        form.addRow(tr("Source"), self.input_source)
        self.grid_combo = QComboBox()
        for g in INPUT_GRIDS.values():
            self.grid_combo.addItem(g.name_ko if ko else g.name_en, g.key)
        form.addRow(tr("Grid"), self.grid_combo)
        self.sample_spin = QSpinBox()
        self.sample_spin.setRange(0, 0)
        form.addRow(tr("Sample #"), self.sample_spin)
        self.fmap_layer_combo = QComboBox()
        self.fmap_layer_combo.setToolTip(tr("The output of this layer for the validation sample: pool it, or "
                                            "slide a filter over it, as the next layer does."))
        form.addRow(tr("Feature map of"), self.fmap_layer_combo)
        self.channel_combo = QComboBox()
        form.addRow(tr("Channels"), self.channel_combo)
        col.addWidget(box)

        # -- operation and kernel --
        box = QGroupBox(tr("Filter"))
        form = QFormLayout(box)
        self.op_combo = QComboBox()
        self.op_combo.addItem(tr("Convolution"), "conv")
        self.op_combo.addItem(tr("Max pooling"), "max")
        self.op_combo.addItem(tr("Average pooling"), "avg")
        form.addRow(tr("Operation"), self.op_combo)
        self.kernel_source = QComboBox()
        self.kernel_source.addItem(tr("Classic preset"), self.KERNEL_PRESET)
        self.kernel_source.addItem(tr("Learned by the model"), self.KERNEL_LEARNED)
        self.kernel_source.addItem(tr("Edited by hand"), self.KERNEL_EDITED)
        form.addRow(tr("Kernel"), self.kernel_source)
        self.preset_combo = QComboBox()
        for p in KERNEL_PRESETS.values():
            self.preset_combo.addItem(p.name_ko if ko else p.name_en, p.key)
        form.addRow(tr("Preset"), self.preset_combo)
        self.layer_combo = QComboBox()
        form.addRow(tr("Layer"), self.layer_combo)
        self.filter_spin = QSpinBox()
        form.addRow(tr("Output channel"), self.filter_spin)
        self.in_channel_combo = QComboBox()
        form.addRow(tr("Input channel"), self.in_channel_combo)
        self.kernel_size_spin = QSpinBox()
        self.kernel_size_spin.setRange(1, 7)
        self.kernel_size_spin.setValue(3)
        form.addRow(tr("Kernel size"), self.kernel_size_spin)
        self.pool_size_spin = QSpinBox()
        self.pool_size_spin.setRange(1, 5)
        self.pool_size_spin.setValue(2)
        form.addRow(tr("Pool size"), self.pool_size_spin)
        self.kernel_table = QTableWidget(3, 3)
        self.kernel_table.horizontalHeader().setVisible(False)
        self.kernel_table.verticalHeader().setVisible(False)
        self.kernel_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.kernel_table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.kernel_table.setEditTriggers(QAbstractItemView.EditTrigger.AllEditTriggers)
        self.kernel_table.setToolTip(tr("Type numbers into the cells to make your own filter."))
        self.kernel_table.setFixedHeight(120)
        form.addRow(self.kernel_table)
        self.kernel_note = QLabel()
        self.kernel_note.setWordWrap(True)
        form.addRow(self.kernel_note)
        col.addWidget(box)

        # -- settings --
        box = QGroupBox(tr("Settings"))
        form = QFormLayout(box)
        self.stride_spin = QSpinBox()
        self.stride_spin.setRange(1, 6)
        form.addRow(tr("Stride"), self.stride_spin)
        self.padding_combo = QComboBox()
        self.padding_combo.addItem(tr("valid (no padding)"), "valid")
        self.padding_combo.addItem(tr("same (keep the size)"), "same")
        self.padding_combo.addItem(tr("custom p"), "custom")
        form.addRow(tr("Padding"), self.padding_combo)
        self.pad_spin = QSpinBox()
        self.pad_spin.setRange(0, 6)
        self.pad_spin.setValue(1)
        form.addRow(tr("p (virtual pixels per side)"), self.pad_spin)
        self.mode_combo = QComboBox()
        self.mode_combo.addItem(tr("cross-correlation (what CNNs compute)"), "cross_correlation")
        self.mode_combo.addItem(tr("convolution (flipped kernel)"), "convolution")
        form.addRow(tr("Mode"), self.mode_combo)
        self.bias_spin = QDoubleSpinBox()
        self.bias_spin.setRange(-1000.0, 1000.0)
        self.bias_spin.setDecimals(2)
        self.bias_spin.setSingleStep(1.0)
        form.addRow(tr("Bias"), self.bias_spin)
        self.relu_check = QCheckBox(tr("Apply ReLU (negative values become 0)"))
        form.addRow(self.relu_check)
        col.addWidget(box)

        # -- playback: a player bar above the stage, always in view (never scrolled away) --
        self.playback_bar = QWidget()
        bar = QVBoxLayout(self.playback_bar)
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
        self.step_button = QPushButton(st.standardIcon(QStyle.StandardPixmap.SP_MediaSeekForward), "")
        self.step_button.setToolTip(tr("Step") + " (→)")
        self.play_button.setMinimumWidth(100)
        self.controls_button = QPushButton(tr("Settings"))
        self.controls_button.setCheckable(True)
        self.controls_button.setChecked(True)
        self.controls_button.setToolTip(tr("Show or hide the settings column (hide it to give the stage the "
                                           "whole screen on a projector)."))
        self.controls_button.toggled.connect(self.set_controls_visible)
        row.addWidget(self.controls_button)
        for b in (self.back_button, self.play_button, self.step_button):
            row.addWidget(b)
        row.addSpacing(12)
        row.addWidget(QLabel(tr("Speed")))
        self.speed_slider = QSlider(Qt.Orientation.Horizontal)
        self.speed_slider.setRange(0, len(SPEEDS) - 1)
        self.speed_slider.setValue(SPEEDS.index(2))
        self.speed_slider.setMinimumWidth(60)
        self.speed_slider.setMaximumWidth(140)
        row.addWidget(self.speed_slider)
        self.speed_label = QLabel()
        self.speed_label.setMinimumWidth(self.fontMetrics().horizontalAdvance(tr("{} steps/s").format("15.5")) + 8)
        row.addWidget(self.speed_label)
        row.addStretch(1)
        row = QHBoxLayout()
        bar.addLayout(row)
        self.position_slider = QSlider(Qt.Orientation.Horizontal)
        self.position_slider.setToolTip(tr("Drag to move the window to any output position."))
        row.addWidget(self.position_slider, 1)
        self.position_label = QLabel()
        row.addWidget(self.position_label)

        # -- whole image and model --
        box = QGroupBox(tr("Whole image and model"))
        v = QVBoxLayout(box)
        self.apply_button = QPushButton(tr("Apply to whole image"))
        self.apply_button.setToolTip(tr("Show this filter's full output beside the outputs of the model's "
                                        "learned filters for the same image."))
        v.addWidget(self.apply_button)
        row = QHBoxLayout()
        row.addWidget(QLabel(tr("Filter #")))
        self.target_filter_spin = QSpinBox()
        row.addWidget(self.target_filter_spin)
        self.freeze_check = QCheckBox(tr("Keep it fixed during training"))
        self.freeze_check.setChecked(True)
        v.addLayout(row)
        v.addWidget(self.freeze_check)
        self.use_button = QPushButton(tr("Use this kernel in the model"))
        self.use_button.setToolTip(tr("Copy this kernel into the chosen filter of the model's first "
                                      "convolution layer, to compare with what the network learns."))
        v.addWidget(self.use_button)
        col.addWidget(box)
        col.addStretch(1)

        # -- signals --
        for w in (self.input_source, self.grid_combo, self.fmap_layer_combo, self.channel_combo, self.op_combo,
                  self.kernel_source,
                  self.preset_combo, self.layer_combo, self.in_channel_combo, self.padding_combo, self.mode_combo):
            w.currentIndexChanged.connect(self._on_control_changed)
        for w in (self.sample_spin, self.filter_spin, self.pool_size_spin, self.stride_spin, self.pad_spin):
            w.valueChanged.connect(self._on_control_changed)
        self.bias_spin.valueChanged.connect(self._on_control_changed)
        self.relu_check.toggled.connect(self._on_control_changed)
        self.kernel_source.currentIndexChanged.connect(self._on_kernel_source_changed)
        self.preset_combo.currentIndexChanged.connect(self._fill_preset_table)
        self.layer_combo.currentIndexChanged.connect(self._on_learned_choice_changed)
        self.filter_spin.valueChanged.connect(self._on_learned_choice_changed)
        self.op_combo.currentIndexChanged.connect(self._on_op_changed)
        self.kernel_size_spin.valueChanged.connect(self._on_kernel_size_changed)
        self.kernel_table.itemChanged.connect(self._on_kernel_cell_edited)
        self.back_button.clicked.connect(self.step_back)
        self.step_button.clicked.connect(self.step_forward)
        self.play_button.clicked.connect(self.toggle_play)
        self.speed_slider.valueChanged.connect(self._on_speed_changed)
        self.position_slider.valueChanged.connect(self.seek)
        self.apply_button.clicked.connect(self.apply_to_whole_image)
        self.use_button.clicked.connect(self.use_kernel_in_model)
        self._on_speed_changed(self.speed_slider.value())

    def _build_stage(self) -> None:
        self.stage_box = QWidget()
        v = QVBoxLayout(self.stage_box)
        v.setContentsMargins(0, 0, 0, 0)
        self.headline = QLabel()
        f = QFont(self.font())
        f.setPixelSize(18)
        self.headline.setFont(f)
        self.headline.setWordWrap(True)
        v.addWidget(self.headline)
        v.addWidget(self.playback_bar)
        self.stage = QWidget()
        self.stage_layout = QGridLayout(self.stage)
        self.stage_layout.setContentsMargins(0, 0, 0, 0)
        self.stage_layout.setHorizontalSpacing(6)
        v.addWidget(self.stage, 1)
        self.equation = QLabel()
        f = QFont(self.font())
        f.setPixelSize(24)
        self.equation.setFont(f)
        self.equation.setWordWrap(True)
        self.equation.setTextFormat(Qt.TextFormat.RichText)
        self.equation.setFrameShape(QFrame.Shape.StyledPanel)
        self.equation.setMinimumHeight(48)
        v.addWidget(self.equation)
        self.formula_label = QLabel()
        f = QFont(self.font())
        f.setPixelSize(20)
        self.formula_label.setFont(f)
        self.formula_label.setTextFormat(Qt.TextFormat.RichText)
        self.formula_label.setWordWrap(True)
        v.addWidget(self.formula_label)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #b03020; font-size: 15px;")
        self.message.hide()
        v.addWidget(self.message)
        self.compare_box = QGroupBox(tr("The whole image"))
        self.compare_layout = QHBoxLayout(self.compare_box)
        self.compare_box.setMaximumHeight(210)
        self.compare_box.hide()
        v.addWidget(self.compare_box)
        self.input_views: list[GridView] = []
        self.patch_views: list[GridView] = []
        self.kernel_views: list[GridView] = []
        self.product_views: list[GridView] = []
        self.sum_labels: list[QLabel] = []
        self.output_views: list[GridView] = []
        self._stage_key = None
        self._top_row = None

    def set_controls_visible(self, visible: bool) -> None:
        self.controls_scroll.setVisible(visible)
        if self.controls_button.isChecked() != visible:
            self.controls_button.setChecked(visible)

    # =========================================================================================
    # controller
    # =========================================================================================
    def _connect_controller(self) -> None:
        c = self.controller
        if c is None:
            return
        for name, slot in (("dataset_changed", self.on_dataset_changed), ("model_changed", self.on_model_changed),
                           ("snapshot_ready", self.on_snapshot), ("sample_changed", self.on_sample_changed),
                           ("kernels_ready", self.on_kernels_ready)):
            sig = getattr(c, name, None)
            if sig is not None:
                sig.connect(slot)
        ds = getattr(c, "dataset", None)
        if ds is not None:
            self.on_dataset_changed(ds)
        self._refresh_model_from_controller()

    def _refresh_model_from_controller(self) -> None:
        c = self.controller
        copy = getattr(c, "current_model_copy", None) if c is not None else None
        model = None
        if copy is not None:
            try:
                model = copy()
            except Exception as exc:  # a controller in an odd state must not break the panel
                self._show_message(tr("Could not read the model: {}").format(exc))
        self.set_model(model)

    def on_dataset_changed(self, dataset) -> None:
        self.dataset = dataset
        self._update_sample_range()
        if self.input_source.currentData() in (self.INPUT_TRAIN, self.INPUT_VAL, self.INPUT_FMAP):
            self.rebuild()

    def on_model_changed(self, model) -> None:
        # copy: the controller's model is trained in place by the worker thread
        self._refresh_model_from_controller() if self.controller is not None else self.set_model(model)

    def set_model(self, model) -> None:
        """Use ``model`` (already a private copy) for learned kernels and activations."""
        self.model = model
        self._fill_layer_combo()
        if self._uses_model() or model is None:
            self.rebuild()

    def _uses_model(self) -> bool:
        """True when the stage shows the model's weights or activations (they change while training)."""
        learned = self.op_combo.currentData() == "conv" and self.kernel_source.currentData() == self.KERNEL_LEARNED
        return learned or self.input_source.currentData() == self.INPUT_FMAP

    def on_kernels_ready(self, *_args) -> None:
        if self._uses_model():
            self.rebuild(keep_index=True)

    def on_snapshot(self, snapshot) -> None:
        weights = getattr(snapshot, "weights", None)
        if weights is None:
            return
        self._pending_weights = weights
        if not self.weights_timer.isActive():
            self.weights_timer.start()

    def _apply_pending_weights(self) -> None:
        weights, self._pending_weights = self._pending_weights, None
        if weights is None:
            self.weights_timer.stop()
            return
        if self.model is None:
            return
        try:
            self.model.set_weights(weights)
        except Exception:
            return  # another architecture's snapshot (model just changed): the next one will fit
        if self._uses_model():
            if self.isVisible():
                self.rebuild(keep_index=True)
            else:
                self._stale = True     # another tab is showing: redraw once when we are shown again

    def on_sample_changed(self, sample) -> None:
        """A dropped or drawn image is kept as the "dropped" input and shown at once when the theater
        is on screen; a validation pick is followed when the theater already shows validation samples."""
        array = sample
        if isinstance(sample, dict):
            array = next((sample[k] for k in ("x", "array", "image") if k in sample), None)
        elif isinstance(sample, (tuple, list)) and sample:
            array = sample[0]
        else:
            for attr in ("x", "array", "image"):
                if hasattr(sample, attr):
                    array = getattr(sample, attr)
                    break
        source = getattr(sample, "source", "file")
        index = getattr(sample, "index", None)
        if source == "validation" and index is not None:
            if self.input_source.currentData() in (self.INPUT_VAL, self.INPUT_FMAP):
                self.sample_spin.setValue(int(index))
            return
        chw = _to_chw(array) if array is not None else None
        if chw is None:
            return
        self.dropped = chw
        if self.input_source.currentData() == self.INPUT_DROPPED:
            if self.isVisible():
                self.rebuild()
            else:
                self._stale = True
        elif self.isVisible():
            # dropped while the theater is on screen: the user wants to see it here; from another tab
            # (a drawing pad emits on every stroke) the lecture grid stays until they pick the image
            self.input_source.setCurrentIndex(self.input_source.findData(self.INPUT_DROPPED))

    # =========================================================================================
    # choices -> arrays
    # =========================================================================================
    def _update_sample_range(self) -> None:
        ds = self.dataset
        src = self.input_source.currentData()
        n = 0
        if ds is not None:
            n = len(ds.x_train if src == self.INPUT_TRAIN else ds.x_test)
        self.sample_spin.setRange(0, max(n - 1, 0))

    def _conv_layers(self) -> list[tuple[int, object]]:
        if self.model is None:
            return []
        return [(i, layer) for i, layer in enumerate(getattr(self.model, "layers", []))
                if "W" in getattr(layer, "params", {}) and np.ndim(layer.params["W"]) == 4]

    def _fill_layer_combo(self) -> None:
        self._updating = True
        current = self.layer_combo.currentData()
        self.layer_combo.clear()
        for i, layer in self._conv_layers():
            W = layer.params["W"]
            self.layer_combo.addItem(f"{i}: {layer.name} ({W.shape[0]}× {W.shape[2]}x{W.shape[3]}x{W.shape[1]})", i)
        k = self.layer_combo.findData(current)
        self.layer_combo.setCurrentIndex(max(k, 0))
        current = self.fmap_layer_combo.currentData()
        self.fmap_layer_combo.clear()
        if self.model is not None:
            try:
                rows = self.model.summary_rows()
            except Exception:
                rows = []
            for row in rows:
                shape = tuple(row.output_shape or ())
                if len(shape) == 3:
                    c, h, w = shape
                    self.fmap_layer_combo.addItem(f"{row.index}: {row.name} ({h}x{w}x{c})", row.index)
        k = self.fmap_layer_combo.findData(current)
        self.fmap_layer_combo.setCurrentIndex(max(k, 0))
        convs = self._conv_layers()
        first_filters = convs[0][1].params["W"].shape[0] if convs else 1
        self.target_filter_spin.setRange(0, max(first_filters - 1, 0))
        self._updating = False
        self._update_learned_ranges()

    def _learned_layer(self):
        idx = self.layer_combo.currentData()
        for i, layer in self._conv_layers():
            if i == idx:
                return i, layer
        return None, None

    def _update_learned_ranges(self) -> None:
        i, layer = self._learned_layer()
        self._updating = True
        if layer is not None:
            W = layer.params["W"]
            self.filter_spin.setRange(0, W.shape[0] - 1)
            cur = self.in_channel_combo.currentData()
            self.in_channel_combo.clear()
            if W.shape[1] <= MAX_CHANNEL_ROWS:
                self.in_channel_combo.addItem(tr("all {} (summed)").format(W.shape[1]), -1)
            for ch in range(W.shape[1]):
                self.in_channel_combo.addItem(str(ch), ch)
            k = self.in_channel_combo.findData(cur)
            self.in_channel_combo.setCurrentIndex(max(k, 0))
        self._updating = False

    def _base_input(self) -> tuple[np.ndarray, str]:
        """The chosen picture as (C, H, W) float64 and a short description."""
        src = self.input_source.currentData()
        ds = self.dataset
        if src in (self.INPUT_TRAIN, self.INPUT_VAL):
            if ds is None:
                raise ConvScopeError(tr("No dataset is open yet: open one, or pick a hand-made grid."))
            xs = ds.x_test if src == self.INPUT_VAL else ds.x_train
            ys = ds.y_test if src == self.INPUT_VAL else ds.y_train
            if len(xs) == 0:
                raise ConvScopeError(tr("This part of the dataset is empty."))
            k = min(self.sample_spin.value(), len(xs) - 1)
            label = int(ys[k])
            names = getattr(ds, "class_names", None) or []
            name = tr_class(names[label]) if label < len(names) else str(label)
            what = tr("training sample") if src == self.INPUT_TRAIN else tr("validation sample")
            return np.asarray(xs[k], dtype=np.float64) / 255.0, f"{what} #{k} ({name})"
        if src == self.INPUT_FMAP:
            if ds is None or self.model is None:
                raise ConvScopeError(tr("Feature maps need a dataset and a model: open a dataset first."))
            layer_index = self.fmap_layer_combo.currentData()
            if layer_index is None:
                raise ConvScopeError(tr("The model has no layer with a feature map yet."))
            k = min(self.sample_spin.value(), len(ds.x_test) - 1)
            image = np.asarray(ds.x_test[k], dtype=np.float64) / 255.0
            fmap = self._activations(image)[layer_index + 1]
            name = self.model.layers[layer_index].name
            return fmap, f"{name} · {tr('validation sample')} #{k}"
        if src == self.INPUT_DROPPED:
            if self.dropped is None:
                raise ConvScopeError(tr("No image has been dropped yet: drop a picture on the window."))
            return self.dropped, tr("dropped image")
        grid = INPUT_GRIDS[self.grid_combo.currentData() or "lecture_6x6"]
        return grid.array, (grid.name_ko if language() == "ko" else grid.name_en)

    def _activations(self, image: np.ndarray) -> list[np.ndarray]:
        """``[input, layer0 output, layer1 output, ...]`` of our model copy for one image (float64)."""
        if self.controller is not None and getattr(self.controller, "kernels_warm", True) is False:
            # a forward pass here would compile numba kernels on the GUI thread and freeze the window
            raise ConvScopeError(tr("The engine is still preparing its kernels; the deeper layers appear "
                                    "in a moment (layer 0 works now)."))
        shape = tuple(getattr(self.model, "input_shape", ()) or ())
        if shape and tuple(image.shape) != shape:
            raise ConvScopeError(tr("The model expects {} images but this input is {}: pick a dataset sample.")
                                 .format("x".join(map(str, shape)), "x".join(map(str, image.shape))))
        acts = self.model.forward(image[None].astype(np.float32), training=False, return_all=True)
        return [np.asarray(a[0], dtype=np.float64) for a in acts]

    def _model_input(self, image: np.ndarray, layer_index: int) -> np.ndarray:
        """The activations entering layer ``layer_index`` for ``image`` (the image itself for layer 0)."""
        if layer_index == 0 or self.model is None:
            return image
        return self._activations(image)[layer_index]

    def _kernel_and_input(self) -> tuple[np.ndarray, np.ndarray, str, str]:
        image, what = self._base_input()
        src = self.kernel_source.currentData()
        if src == self.KERNEL_LEARNED:
            i, layer = self._learned_layer()
            if layer is None:
                raise ConvScopeError(tr("The model has no convolution layer yet: build or load a model first."))
            W = np.asarray(layer.params["W"], dtype=np.float64)
            f = min(self.filter_spin.value(), W.shape[0] - 1)
            x = self._model_input(image, i)
            if x.shape[0] != W.shape[1]:
                raise ConvScopeError(
                    tr("Layer {} expects {} input channel(s) but this input has {}: pick a sample of the "
                       "dataset the model was built for.").format(layer.name, W.shape[1], x.shape[0]))
            ch = self.in_channel_combo.currentData()
            if ch is None or ch < 0:
                return x, W[f], what, f"{layer.name} · {tr('filter')} {f}"
            return x[ch:ch + 1], W[f, ch:ch + 1], what + f" · {tr('channel')} {ch}", \
                f"{layer.name} · {tr('filter')} {f} · {tr('channel')} {ch}"
        kernel = kernel_for_input(self.edited_kernel, image.shape[0])
        if src == self.KERNEL_PRESET:
            p = KERNEL_PRESETS[self.preset_combo.currentData()]
            name = p.name_ko if language() == "ko" else p.name_en
        else:
            name = tr("hand-made filter")
        return image, kernel, what, name

    def _select_channels(self, x: np.ndarray, kernel: np.ndarray | None):
        """Deep inputs: keep one channel (the combo) unless all fit on the stage."""
        c = x.shape[0]
        self._updating = True
        wanted = self.channel_combo.currentData()
        self.channel_combo.clear()
        if c <= MAX_CHANNEL_ROWS:
            self.channel_combo.addItem(tr("all {}").format(c) if c > 1 else "1", -1)
        for ch in range(c if c > MAX_CHANNEL_ROWS else 0):
            self.channel_combo.addItem(str(ch), ch)
        k = self.channel_combo.findData(wanted)
        self.channel_combo.setCurrentIndex(max(k, 0))
        self.channel_combo.setEnabled(self.channel_combo.count() > 1)
        self._updating = False
        ch = self.channel_combo.currentData()
        if ch is None or ch < 0:
            return x, kernel
        return x[ch:ch + 1], None if kernel is None else kernel[ch:ch + 1]

    def _padding_value(self):
        mode = self.padding_combo.currentData()
        return self.pad_spin.value() if mode == "custom" else mode

    # =========================================================================================
    # rebuild the theater
    # =========================================================================================
    def rebuild(self, keep_index: bool = False) -> None:
        """Recompute the theater from the controls and redraw (keeps the step when asked)."""
        if self._updating:
            return
        op = self.op_combo.currentData()
        self._update_visibility()
        try:
            if op == "conv":
                x, kernel, what, kname = self._kernel_and_input()
                x, kernel = self._select_channels(x, kernel)
            else:
                image, what = self._base_input()
                x, _ = self._select_channels(image, None)
                kernel, kname = None, ""
            theater = ConvTheater(
                x, kernel, stride=self.stride_spin.value(), padding=self._padding_value(),
                mode=self.mode_combo.currentData(), bias=self.bias_spin.value(), relu=self.relu_check.isChecked(),
                op=op, pool_size=self.pool_size_spin.value())
        except Exception as exc:  # noqa: BLE001 - a message in the panel, never a traceback dialog
            if not isinstance(exc, ConvScopeError):
                traceback.print_exc()
            self.timer.stop()
            self._set_play_icon(False)
            self.theater = None
            message = (tr_error(exc) if isinstance(exc, ConvScopeError)
                       else tr("Could not compute this step: {}").format(exc))
            self._show_message(message)
            self._render()
            return
        self._show_message("")
        self.what_text = what
        self.kernel_text = kname
        old = self.index
        self.theater = theater
        self.index = min(old, theater.n_positions - 1) if keep_index else 0
        self._updating = True
        self.position_slider.setRange(0, theater.n_positions - 1)
        self.position_slider.setValue(self.index)
        self._updating = False
        self._ensure_stage()
        self._render()

    def _update_visibility(self) -> None:
        op = self.op_combo.currentData()
        conv = op == "conv"
        src = self.kernel_source.currentData()
        learned = conv and src == self.KERNEL_LEARNED
        for w in (self.kernel_source, self.mode_combo, self.bias_spin, self.relu_check):
            w.setEnabled(conv)
        self.preset_combo.setEnabled(conv and src == self.KERNEL_PRESET)
        for w in (self.layer_combo, self.filter_spin, self.in_channel_combo):
            w.setEnabled(learned)
        self.kernel_size_spin.setEnabled(conv and src == self.KERNEL_EDITED)
        self.kernel_table.setEnabled(conv)
        self.pool_size_spin.setEnabled(not conv)
        self.pad_spin.setEnabled(self.padding_combo.currentData() == "custom")
        src_in = self.input_source.currentData()
        self.grid_combo.setEnabled(src_in == self.INPUT_GRID)
        self.sample_spin.setEnabled(src_in in (self.INPUT_TRAIN, self.INPUT_VAL, self.INPUT_FMAP))
        self.fmap_layer_combo.setEnabled(src_in == self.INPUT_FMAP)
        has_conv = bool(self._conv_layers())
        self.use_button.setEnabled(conv and has_conv)
        self.target_filter_spin.setEnabled(has_conv)
        self.freeze_check.setEnabled(has_conv)

    # =========================================================================================
    # the stage
    # =========================================================================================
    def _ensure_stage(self) -> None:
        """(Re)create the grids when the operation or the number of channels changes."""
        t = self.theater
        key = (t.op, t.channels)
        if key != self._stage_key:
            self._stage_key = key
            self._clear_layout(self.stage_layout)
            for k in range(8):   # stretches of the previous arrangement would squeeze the new one
                self.stage_layout.setColumnStretch(k, 0)
                self.stage_layout.setRowStretch(k, 0)
            self.input_views, self.patch_views, self.kernel_views = [], [], []
            self.product_views, self.sum_labels, self.output_views = [], [], []
            if t.channels == 1:
                self._build_single_channel_stage(t.op == "conv")
            else:
                self._build_channel_rows_stage(t)
        self._balance_columns()

    @staticmethod
    def _clear_layout(layout) -> None:
        # hide and detach at once: deleteLater alone leaves the old grids painted until the event loop
        # gets round to deleting them
        while layout.count():
            item = layout.takeAt(0)
            w = item.widget()
            if w is not None:
                w.hide()
                w.setParent(None)
                w.deleteLater()
            elif item.layout() is not None:
                TheaterPanel._clear_layout(item.layout())
                item.layout().setParent(None)
                item.layout().deleteLater()

    def _new_input_view(self, title: str) -> GridView:
        view = GridView(title, style="gray")
        view.cell_hovered.connect(self._on_input_hovered)
        view.hover_left.connect(self._on_input_left)
        view.cell_clicked.connect(self._on_input_clicked)
        self.input_views.append(view)
        return view

    def _new_output_view(self, title: str, style: str) -> GridView:
        view = GridView(title, style=style)
        view.cell_hovered.connect(self._on_output_hovered)
        view.hover_left.connect(self._on_output_left)
        view.cell_clicked.connect(self._on_output_clicked)
        self.output_views.append(view)
        return view

    def _new_sum_label(self) -> QLabel:
        label = QLabel()
        f = QFont(self.font())
        f.setPixelSize(26)
        f.setBold(True)
        label.setFont(f)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        label.setMinimumWidth(100)
        self.sum_labels.append(label)
        return label

    def _build_single_channel_stage(self, conv: bool) -> None:
        """Top: the (padded) input and the output side by side, same cell size so the eye can follow
        the window to its cell. Bottom: window values × filter = products → sum (pooling: the winner)."""
        lay = self.stage_layout
        top = QHBoxLayout()
        top.addWidget(self._new_input_view(tr("Input (padding shown as virtual pixels)")))
        top.addWidget(SymbolLabel("→"))
        top.addWidget(self._new_output_view(tr("Output (feature map)"), "signed" if conv else "gray"))
        self._top_row = top
        bottom = QHBoxLayout()
        patch = GridView(tr("Window"), style="gray")
        self.patch_views.append(patch)
        bottom.addWidget(patch, 1)
        if conv:
            bottom.addWidget(SymbolLabel("×"))
            kv = GridView(tr("Filter"), style="signed")
            self.kernel_views.append(kv)
            bottom.addWidget(kv, 1)
            bottom.addWidget(SymbolLabel("="))
            pv = GridView(tr("Products"), style="signed")
            self.product_views.append(pv)
            bottom.addWidget(pv, 1)
        bottom.addWidget(SymbolLabel("→"))
        bottom.addWidget(self._new_sum_label())
        lay.addLayout(top, 0, 0)
        lay.addLayout(bottom, 1, 0)
        lay.setRowStretch(0, 3)
        lay.setRowStretch(1, 2)

    def _build_channel_rows_stage(self, t: ConvTheater) -> None:
        """One row per channel: input × filter = products, Σ per channel; the conv output spans the rows
        (the channel sums are added into one map); pooling keeps one output per channel."""
        lay = self.stage_layout
        conv = t.op == "conv"
        rgb = (tr("red"), tr("green"), tr("blue"))
        for ch in range(t.channels):
            name = rgb[ch] if t.channels == 3 else f"{tr('channel')} {ch}"
            view = self._new_input_view(f"{tr('Input')} · {name}")
            if t.channels == 3:
                view.tint = (QColor(255, 70, 60), QColor(60, 220, 80), QColor(80, 130, 255))[ch]
            lay.addWidget(view, ch, 0)
            lay.addWidget(SymbolLabel("×" if conv else "→"), ch, 1)
            if conv:
                kv = GridView(f"{tr('Filter')} · {name}", style="signed")
                self.kernel_views.append(kv)
                lay.addWidget(kv, ch, 2)
                lay.addWidget(SymbolLabel("="), ch, 3)
                pv = GridView(tr("Products"), style="signed")
                self.product_views.append(pv)
            else:
                pv = GridView(tr("Window"), style="gray")
                pv.tint = view.tint
                self.patch_views.append(pv)
            lay.addWidget(pv, ch, 4)
            lay.addWidget(self._new_sum_label(), ch, 5)
            if not conv:
                out_view = self._new_output_view(f"{tr('Output')} · {name}", "gray")
                out_view.tint = view.tint
                lay.addWidget(out_view, ch, 6)
            lay.setRowStretch(ch, 1)
        if conv:
            lay.addWidget(self._new_output_view(tr("Output: the channel sums added"), "signed"), 0, 6, t.channels, 1)
        self._top_row = None

    def _balance_columns(self) -> None:
        """Give the grids widths proportional to their columns so their cells come out the same size."""
        t = self.theater
        wp = t.padded.shape[2]
        if self._top_row is not None:
            self._top_row.setStretch(0, wp)
            self._top_row.setStretch(2, t.out_w)
            return
        lay = self.stage_layout
        for colno, cols in ((0, wp), (2, t.size), (4, t.size), (6, t.out_w)):
            lay.setColumnStretch(colno, max(cols, 1))
        for colno in (1, 3, 5):
            lay.setColumnStretch(colno, 0)

    def _render(self) -> None:
        t = self.theater
        if t is None:
            self.equation.setText("")
            self.formula_label.setText("")
            self.headline.setText("")
            self.position_label.setText("")
            views = self.input_views + self.patch_views + self.kernel_views + self.product_views + self.output_views
            for v in views:
                v.set_data(np.zeros((1, 1)), filled=np.zeros((1, 1), bool))
                v.set_highlights()
            for label in self.sum_labels:
                label.setText("")
            return
        st = t.step(self.index)
        conv = t.op == "conv"
        digits = self._digits()
        # fixed levels over the whole input so the picture does not flicker while the window moves
        lo, hi = float(min(t.x.min(), 0.0)), float(t.x.max())
        if hi <= lo:
            hi = lo + 1.0
        pr0, pc0, pr1, pc1 = t.padded_window(st.i, st.j)
        hover_win = t.padded_window(*self._hover_output) if self._hover_output is not None else None
        virtual_text = "0" if conv else "·"
        winners_local = []
        for ch, view in enumerate(self.input_views):
            view.virtual_text = virtual_text
            view.set_data(t.padded[ch], virtual=t.virtual_mask, levels=(lo, hi), digits=digits)
            winners = []
            if not conv and st.winners[ch] is not None:
                r, c = st.winners[ch]
                winners = [(r + t.pad_rows.before, c + t.pad_cols.before)]
                winners_local.append((r - st.window[0], c - st.window[1]))
            else:
                winners_local.append(None)
            view.set_highlights(window=(pr0, pc0, pr1, pc1), winners=winners, hover_window=hover_win,
                                marked=[self._hover_input] if self._hover_input else [])
        for ch, view in enumerate(self.patch_views):
            view.virtual_text = virtual_text
            view.set_data(st.patch[ch], virtual=st.virtual, levels=(lo, hi), digits=digits)
            view.set_highlights(winners=[winners_local[ch]] if winners_local[ch] is not None else [])
        out = t.output()
        filled = (np.arange(t.n_positions) <= self.index).reshape(t.out_h, t.out_w)
        if conv:
            kern = t.effective_kernel
            scale_k = float(np.abs(kern).max()) or 1.0
            flipped = t.mode == "convolution"
            for ch, view in enumerate(self.kernel_views):
                base = view.property("base_title") or view.title
                view.setProperty("base_title", base)
                view.title = base + (" " + tr("(flipped)") if flipped else "")
                view.set_data(kern[ch], levels=(-scale_k, scale_k), digits=self._kernel_digits(kern))
            scale_p = float(np.abs(st.products).max()) or 1.0
            pdigits = max(digits, self._kernel_digits(kern))
            for ch, view in enumerate(self.product_views):
                view.virtual_text = "0"
                view.set_data(st.products[ch], virtual=st.virtual, levels=(-scale_p, scale_p), digits=pdigits)
            for ch, label in enumerate(self.sum_labels):
                label.setText(f"Σ = {fmt(st.channel_sums[ch], pdigits)}")
            scale_o = float(np.abs(out).max()) or 1.0
            outputs = [out]
            out_levels = (-scale_o, scale_o)
        else:
            for ch, label in enumerate(self.sum_labels):
                label.setText(f"{'max' if t.op == 'max' else 'avg'} = {fmt(st.channel_sums[ch], 2)}")
            outputs = list(out)
            out_levels = (lo, hi)
        for view, values in zip(self.output_views, outputs):
            view.set_data(values, levels=out_levels, filled=filled, digits=max(digits, 0 if conv else 2))
            marks = self._output_marks() + ([self._hover_output] if self._hover_output is not None else [])
            view.set_highlights(current=(st.i, st.j), marked=marks)
        self.equation.setText(self._equation_html(st))
        self.formula_label.setText(self._formula_html())
        self.headline.setText(self._headline_text())
        self.position_label.setText(tr("Step {} of {} · output cell (row {}, column {})")
                                    .format(self.index + 1, t.n_positions, st.i, st.j))
        self.step_changed.emit(self.index)

    def _output_marks(self) -> list[tuple[int, int]]:
        t = self.theater
        if self._hover_input is None or t is None:
            return []
        return t.cells_reading_padded(*self._hover_input)

    def _digits(self) -> int:
        """0 decimals when every number on the stage is whole (the lecture grids), else 2."""
        t = self.theater
        vals = t.padded.ravel() if t.kernel is None else np.concatenate([t.padded.ravel(), t.kernel.ravel()])
        vals = np.append(vals, t.bias)
        whole = np.all(np.abs(vals - np.round(vals)) < 1e-9)
        return 0 if whole else 2

    @staticmethod
    def _kernel_digits(kern: np.ndarray) -> int:
        return 0 if np.all(np.abs(kern - np.round(kern)) < 1e-9) else 2

    def _equation_html(self, st) -> str:
        t = self.theater
        d = self._digits()
        if t.op != "conv":
            names = (tr("red"), tr("green"), tr("blue")) if t.channels == 3 else \
                [f"{tr('channel')} {ch}" for ch in range(t.channels)]
            parts = []
            for ch in range(t.channels):
                values = [fmt(v, d) for v in st.patch[ch][~st.virtual]]   # virtual pixels take no part
                result = f"<b>{fmt(st.channel_sums[ch], 2)}</b>"
                if t.op == "max":
                    text = f"max({', '.join(values)}) = {result}"
                else:
                    text = f"({' + '.join(values)}) / {len(values)} = {result}"
                parts.append(text if t.channels == 1 else f"{names[ch]}: {text}")
            return " &nbsp;·&nbsp; ".join(parts)

        def signed(v):
            color = "#c03020" if v > 0 else "#2050c0" if v < 0 else "#444"
            return f"<span style='color:{color}'>{fmt(v, d)}</span>"

        if t.channels > 1:
            total = " + ".join(signed(v) for v in st.channel_sums)
            total = f"({total}) = {signed(st.total)}"
        else:
            total = signed(st.total)
        text = f"Σ {total} + {tr('bias')} {signed(st.bias)} = <b>{signed(st.pre_activation)}</b>"
        if t.relu:
            text += f" &nbsp;→ ReLU → <b>{signed(st.value)}</b>"
        if t.channels == 1 and t.size <= 3:
            # the seed's x1*w1 + x2*w2 + ... written out, pixel by pixel (small enough to read)
            kd = self._kernel_digits(t.effective_kernel)
            terms = []
            for x, w in zip(st.patch[0].ravel(), t.effective_kernel[0].ravel()):
                ws = fmt(w, kd)
                terms.append(f"{fmt(x, d)}×{'(' + ws + ')' if w < 0 else ws}")
            expansion = " + ".join(terms) + f" = {fmt(st.total, max(d, kd))}"
            text = f"<span style='font-size:15px; color:#555'>{expansion}</span><br>{text}"
        return text

    def _formula_html(self) -> str:
        t = self.theater
        lines = t.formula_lines()
        head = tr("Output size") + f" (n + 2p − f) / s + 1: "
        if len(lines) == 1:
            body = lines[0] + f" → {t.out_h}×{t.out_w}"
        else:
            body = f"{tr('rows')} {lines[0]}; {tr('columns')} {lines[1]}"
        pad = self._padding_value()
        pr, pc = t.pad_rows, t.pad_cols
        if pr.before != pr.after or pc.before != pc.after:
            # Keras "same" with an even total: the extra virtual pixel goes to the bottom/right
            body += " &nbsp;<i>(" + tr("padding: top {}, bottom {}, left {}, right {}").format(
                pr.before, pr.after, pc.before, pc.after) + ")</i>"
        elif pad == "same":
            body += f" &nbsp;<i>(same: p = {pr.before})</i>"
        flip = ""
        if t.op == "conv" and t.mode == "convolution":
            flip = "<br><i>" + tr("Convolution flips the filter upside down and left to right before sliding it.") + "</i>"
        return f"{head}{body}{flip}"

    def _headline_text(self) -> str:
        t = self.theater
        shape_in = f"{t.height}×{t.width}×{t.channels}"
        if t.op == "conv":
            return tr("{input} ({shape}) with {kernel} ({k}×{k}×{c}), stride {s}").format(
                input=self.what_text, shape=shape_in, kernel=self.kernel_text, k=t.size, c=t.channels, s=t.stride)
        name = tr("Max pooling") if t.op == "max" else tr("Average pooling")
        return f"{name} {t.size}×{t.size}, {tr('stride')} {t.stride} · {self.what_text} ({shape_in})"

    def _show_message(self, text: str) -> None:
        self.error_text = text
        self.message.setText(text)
        self.message.setVisible(bool(text))

    # =========================================================================================
    # control reactions
    # =========================================================================================
    def _on_control_changed(self, *_args) -> None:
        if self._updating:
            return
        if self.sender() is self.input_source:
            self._update_sample_range()
        keep = self.sender() in (self.bias_spin, self.relu_check, self.mode_combo)
        self.rebuild(keep_index=keep)

    def _on_kernel_source_changed(self, *_args) -> None:
        if self._updating:
            return
        if self.kernel_source.currentData() == self.KERNEL_PRESET:
            self._fill_preset_table()
        elif self.kernel_source.currentData() == self.KERNEL_LEARNED:
            self._on_learned_choice_changed()

    def _on_op_changed(self, *_args) -> None:
        if self._updating:
            return
        # Keras pooling defaults to stride = pool size
        self._updating = True
        if self.op_combo.currentData() != "conv":
            self.stride_spin.setValue(self.pool_size_spin.value())
            if self.padding_combo.currentData() == "custom":
                self.padding_combo.setCurrentIndex(self.padding_combo.findData("valid"))
        else:
            self.stride_spin.setValue(1)
        self._updating = False
        self.rebuild()

    def _fill_preset_table(self, *_args) -> None:
        key = self.preset_combo.currentData()
        if key is None:
            return
        p = KERNEL_PRESETS[key]
        self.edited_kernel = p.kernel
        ko = language() == "ko"
        self.kernel_note.setText(p.note_ko if ko else p.note_en)
        self._show_kernel_in_table(self.edited_kernel)
        if self.kernel_source.currentData() != self.KERNEL_PRESET:
            self._updating = True
            self.kernel_source.setCurrentIndex(self.kernel_source.findData(self.KERNEL_PRESET))
            self._updating = False
        self.rebuild()

    def _on_learned_choice_changed(self, *_args) -> None:
        if self._updating:
            return
        if self.sender() is self.layer_combo:
            self._update_learned_ranges()
        i, layer = self._learned_layer()
        if layer is not None and self.kernel_source.currentData() == self.KERNEL_LEARNED:
            W = layer.params["W"]
            f = min(self.filter_spin.value(), W.shape[0] - 1)
            ch = max(self.in_channel_combo.currentData() or 0, 0)
            self.edited_kernel = np.asarray(W[f, ch], dtype=np.float64)
            self._show_kernel_in_table(self.edited_kernel)
            self.kernel_note.setText(tr("Learned by the network: it changes while the model trains."))
            self._match_layer_settings(layer)
        self.rebuild()

    def _match_layer_settings(self, layer) -> None:
        """A learned kernel is shown with the stride, padding, mode, bias and activation of its layer."""
        self._updating = True
        strides = getattr(layer, "strides", 1)
        if isinstance(strides, (tuple, list)):
            strides = strides[0]
        self.stride_spin.setValue(int(strides or 1))
        padding = getattr(layer, "padding", "valid")
        if isinstance(padding, str):
            self.padding_combo.setCurrentIndex(max(self.padding_combo.findData(padding.lower()), 0))
        else:
            self.padding_combo.setCurrentIndex(self.padding_combo.findData("custom"))
            self.pad_spin.setValue(int(np.max(padding)))
        self.mode_combo.setCurrentIndex(max(self.mode_combo.findData(getattr(layer, "mode", "cross_correlation")), 0))
        self.relu_check.setChecked(getattr(layer, "activation", None) == "relu")
        b = layer.params.get("b")
        if b is not None and self.in_channel_combo.currentData() in (None, -1):
            self.bias_spin.setValue(float(b[min(self.filter_spin.value(), len(b) - 1)]))
        else:
            self.bias_spin.setValue(0.0)  # one input channel alone: the bias belongs to the full sum
        self._updating = False

    def _show_kernel_in_table(self, k2d: np.ndarray) -> None:
        self._updating = True
        k = k2d.shape[0]
        self.kernel_size_spin.setValue(k)
        self.kernel_table.setRowCount(k)
        self.kernel_table.setColumnCount(k)
        scale = float(np.abs(k2d).max()) or 1.0
        for r in range(k):
            for c in range(k):
                item = QTableWidgetItem(fmt(float(k2d[r, c]), 3))
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                item.setBackground(_signed_color(float(k2d[r, c]), scale))
                self.kernel_table.setItem(r, c, item)
        self._updating = False

    def _on_kernel_cell_edited(self, item: QTableWidgetItem) -> None:
        if self._updating:
            return
        text = item.text().strip().replace("−", "-").replace(",", ".")
        try:
            value = float(text) if text else 0.0
            if not math.isfinite(value):
                raise ValueError
        except ValueError:
            self._show_message(tr("'{}' is not a number: type a value such as -1, 0.5 or 2.").format(item.text()))
            self._show_kernel_in_table(self.edited_kernel)
            return
        k = np.array(self.edited_kernel, dtype=np.float64)
        if k.shape != (self.kernel_table.rowCount(), self.kernel_table.columnCount()):
            k = np.zeros((self.kernel_table.rowCount(), self.kernel_table.columnCount()))
        k[item.row(), item.column()] = value
        self.set_edited_kernel(k)

    def set_edited_kernel(self, kernel) -> None:
        """Use ``kernel`` (K, K) as a hand-made filter (what typing into the table does)."""
        self.edited_kernel = np.array(kernel, dtype=np.float64)
        self._show_kernel_in_table(self.edited_kernel)
        self.kernel_note.setText(tr("Your own filter: type numbers into the cells."))
        self._updating = True
        self.kernel_source.setCurrentIndex(self.kernel_source.findData(self.KERNEL_EDITED))
        self._updating = False
        self.rebuild()

    def _on_kernel_size_changed(self, k: int) -> None:
        if self._updating:
            return
        old = self.edited_kernel
        new = np.zeros((k, k))
        m = min(k, old.shape[0])
        new[:m, :m] = old[:m, :m]
        self.set_edited_kernel(new)

    # =========================================================================================
    # playback
    # =========================================================================================
    def seek(self, index: int) -> None:
        """Move the window to output position ``index`` (reading order)."""
        if self._updating or self.theater is None:
            return
        index = int(min(max(index, 0), self.theater.n_positions - 1))
        self.index = index
        self._updating = True
        self.position_slider.setValue(index)
        self._updating = False
        self._render()

    def step_forward(self) -> None:
        if self.theater is not None and self.index < self.theater.n_positions - 1:
            self.seek(self.index + 1)

    def step_back(self) -> None:
        if self.theater is not None and self.index > 0:
            self.seek(self.index - 1)

    @property
    def playing(self) -> bool:
        return self.timer.isActive()

    def play(self) -> None:
        if self.theater is None:
            return
        if self.index >= self.theater.n_positions - 1:
            self.seek(0)
        self.timer.start()
        self._set_play_icon(True)

    def pause(self) -> None:
        self.timer.stop()
        self._set_play_icon(False)

    def toggle_play(self) -> None:
        self.pause() if self.playing else self.play()

    def _set_play_icon(self, playing: bool) -> None:
        icon = QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        self.play_button.setIcon(self.style().standardIcon(icon))
        self.play_button.setText(tr("Pause") if playing else tr("Play"))

    def _tick(self) -> None:
        if self.theater is None or self.index >= self.theater.n_positions - 1:
            self.pause()
            return
        self.seek(self.index + 1)

    def _on_speed_changed(self, value: int) -> None:
        per_second = SPEEDS[int(value)]
        self.timer.setInterval(max(int(round(1000 / per_second)), 1))
        self.speed_label.setText(tr("{} steps/s").format(fmt(per_second, 1)))

    # =========================================================================================
    # hover
    # =========================================================================================
    def _on_output_hovered(self, i: int, j: int) -> None:
        self._hover_output = (i, j)
        self._hover_input = None
        self._render()

    def _on_output_left(self) -> None:
        self._hover_output = None
        self._render()

    def _on_output_clicked(self, i: int, j: int) -> None:
        if self.theater is not None:
            self.pause()
            self.seek(self.theater.index_of(i, j))

    def _on_input_hovered(self, r: int, c: int) -> None:
        self._hover_input = (r, c)
        self._hover_output = None
        self._render()

    def _on_input_left(self) -> None:
        self._hover_input = None
        self._render()

    def _on_input_clicked(self, r: int, c: int) -> None:
        """Clicking an input pixel jumps to the first output cell that reads it."""
        if self.theater is None:
            return
        cells = self.theater.cells_reading_padded(r, c)
        if cells:
            self.pause()
            self.seek(self.theater.index_of(*cells[0]))

    # =========================================================================================
    # whole image and model
    # =========================================================================================
    def apply_to_whole_image(self) -> None:
        """The current filter's full output beside the outputs of the first conv layer's learned filters
        for the same picture."""
        t = self.theater
        self._clear_layout(self.compare_layout)
        self.compare_views: list[GridView] = []
        if t is None:
            return
        self._add_compare_view(t.x.mean(axis=0), tr("Input"), "gray")
        if t.op == "conv":
            self._add_compare_view(t.output(), self.kernel_text, "signed")
        else:
            title = tr("Max pooling") if t.op == "max" else tr("Average pooling")
            out = t.output()
            for ch in range(min(t.channels, MAX_CHANNEL_ROWS)):
                self._add_compare_view(out[ch], title + (f" · {ch}" if t.channels > 1 else ""), "gray")
        note = ""
        convs = self._conv_layers()
        if self.input_source.currentData() == self.INPUT_FMAP:
            note = tr("The first layer's filters read pictures, not feature maps: pick a picture as the input "
                      "to compare with them.")
        elif not convs:
            note = tr("Build or load a model to see its learned filters here.")
        else:
            image, _what = self._base_input()
            li, layer = convs[0]
            W = np.asarray(layer.params["W"], dtype=np.float64)
            b = np.asarray(layer.params.get("b", np.zeros(W.shape[0])), dtype=np.float64)
            if W.shape[1] != image.shape[0]:
                note = tr("The model's first layer expects {} channel(s); this input has {}.").format(
                    W.shape[1], image.shape[0])
            else:
                # each learned filter with its own layer's stride, padding, mode and activation
                stride = getattr(layer, "strides", 1)
                stride = stride[0] if isinstance(stride, (tuple, list)) else stride
                padding = getattr(layer, "padding", "valid")
                mode = getattr(layer, "mode", "cross_correlation")
                relu = getattr(layer, "activation", None) == "relu"
                for f in range(min(W.shape[0], COMPARE_FILTERS)):
                    try:
                        y = apply_kernel(image, W[f], stride=int(stride), padding=padding, mode=mode,
                                         bias=float(b[f]), relu=relu)
                    except ConvScopeError as exc:
                        note = str(exc)
                        break
                    self._add_compare_view(y, f"{layer.name} #{f}", "signed")
        if note:
            lab = QLabel(note)
            lab.setWordWrap(True)
            self.compare_layout.addWidget(lab)
        self.compare_box.show()

    def _add_compare_view(self, values, title: str, style: str) -> None:
        v = GridView(title, style=style)
        v.set_data(values, digits=self._digits() if self.theater is not None else 2)
        v.setMinimumSize(60, 150)
        v.setMaximumHeight(180)
        self.compare_layout.addWidget(v)
        self.compare_views.append(v)

    def use_kernel_in_model(self) -> bool:
        """Copy the current 2-D kernel into a filter of the model's first conv layer (optionally frozen)."""
        c = self.controller
        convs = self._conv_layers()
        if c is None or not convs:
            self._show_message(tr("There is no model with a convolution layer to put the kernel into."))
            return False
        li, layer = convs[0]
        W = layer.params["W"]
        f = self.target_filter_spin.value()
        k2d = np.array(self.edited_kernel, dtype=np.float64)
        if k2d.shape != W.shape[2:]:
            self._show_message(tr("The first layer's filters are {}x{} but this kernel is {}x{}: pick a kernel "
                                  "of the same size.").format(W.shape[2], W.shape[3], k2d.shape[0], k2d.shape[1]))
            return False
        kernel = kernel_for_input(k2d, W.shape[1]).astype(np.float32)
        frozen = self.freeze_check.isChecked()
        setter = getattr(c, "set_conv_filter", None)
        if setter is None:
            self._show_message(tr("This version of the program cannot change the model's filters."))
            return False
        busy = getattr(c, "is_busy", None)
        if busy if busy is not None else getattr(c, "state", None) == "training":
            # the worker thread reads these weights while it trains: change them between runs only
            self._show_message(tr("Pause training first, then use the kernel."))
            return False
        try:
            # in place, not set_model: the trainer, its optimizer state and the curves so far stay
            setter(li, f, kernel, frozen, bias=float(self.bias_spin.value()))
        except Exception as exc:
            self._show_message(tr("Could not change the model: {}").format(exc))
            return False
        self._refresh_model_from_controller()
        self._show_message("")
        status = getattr(c, "status_message", None)
        text = tr("Filter {} of {} now holds this kernel{}.").format(
            f, layer.name, tr(" (kept fixed during training)") if frozen else "")
        if status is not None and hasattr(status, "emit"):
            status.emit(text)
        self.kernel_applied.emit(li, f)
        return True

    # =========================================================================================
    def hideEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self.pause()  # an animation nobody sees wastes the GUI thread's time
        super().hideEvent(event)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        if self._stale:
            self._stale = False
            self.rebuild(keep_index=True)


if __name__ == "__main__":  # preview on the lecture's grids: python -m gui.widgets.theater [--ko] [shot.png]
    import sys

    import pyqtgraph as pg
    from PySide6.QtWidgets import QApplication

    from gui import i18n

    app = QApplication.instance() or QApplication(sys.argv)
    pg.setConfigOptions(imageAxisOrder="row-major")
    i18n.set_language("ko" if "--ko" in sys.argv else "en")
    panel = TheaterPanel(None)
    panel.resize(1500, 900)
    panel.show()
    shots = [a for a in sys.argv[1:] if a.endswith(".png")]
    if shots:
        def shoot():
            panel.seek(5)
            panel.grab().save(shots[0])
            app.quit()
        QTimer.singleShot(600, shoot)
    sys.exit(app.exec())
