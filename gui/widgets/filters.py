"""Filters panel: the learned kernels of the selected convolution layer, live while training.

Conv weights are ``(F, C, K, K)``. One row per output channel (filter), one column per input channel,
on a symmetric blue-white-red scale (blue negative, white zero, red positive). For an RGB input the
"Colour (RGB input)" view shows each filter as its red, green and blue kernels and as one colour patch
(:mod:`gui.widgets.filters_rgb`); it is chosen by itself when the first layer reads a colour image.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from gui.i18n import tr
from gui.widgets.common import (
    BACKGROUND,
    SIGNED_CMAP,
    StableLevels,
    TextLabelsItem,
    colormap,
    grid_shape,
    lut,
    mosaic,
    snapped_levels,
)
from gui.widgets.filters_rgb import COLUMNS, slices_and_patch
from gui.widgets.pacer import shared_pacer

REFRESH_MS = 40        # redraws only new weights, at most 25 a second (snapshots ~12 /s)
MAX_INPUT_COLUMNS = 12     # beyond that, the columns are paged with the "first input channel" box
MAX_FILTER_ROWS = 12       # ... and the rows with the "first filter" box: kernels stay big enough to read
GAP = 1


class FilterPanel(QWidget):
    """Kernels of one Conv2D layer as small images."""

    def __init__(self, controller, parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        self.weights = None
        self.layer_index: int | None = None
        self._dirty = False
        self._levels = StableLevels(decay=0.1)
        self._label_key = None
        self.render_count = 0

        self.layer_combo = QComboBox()
        self.layer_combo.setToolTip(tr("The convolution layer whose filters (kernels) you see."))
        self.first_input = QSpinBox()
        self.first_input.setToolTip(tr("Filters of deeper layers have one kernel per input channel; choose which "
                                       "input channels to show."))
        self.first_input.setRange(0, 0)
        self.first_filter = QSpinBox()
        self.first_filter.setToolTip(tr("A deep layer has many filters; choose the first one to show (a page of "
                                        "them fits on the screen)."))
        self.first_filter.setRange(0, 0)
        self.view_combo = QComboBox()
        self.view_combo.addItem(tr("Per input channel"), "channels")
        self.view_combo.addItem(tr("Colour (RGB input)"), "rgb")
        self.view_combo.setToolTip(tr("For colour images each filter has a red, a green and a blue kernel; "
                                      "'Colour' shows the three together as one picture."))
        top = QHBoxLayout()
        top.addWidget(QLabel(tr("Layer")))
        top.addWidget(self.layer_combo)
        top.addSpacing(12)
        top.addWidget(QLabel(tr("First filter")))
        top.addWidget(self.first_filter)
        top.addWidget(QLabel(tr("First input channel")))
        top.addWidget(self.first_input)
        top.addWidget(self.view_combo)
        top.addStretch(1)

        self.glw = pg.GraphicsLayoutWidget()
        self.glw.setBackground(BACKGROUND)
        self.glw.setToolTip(tr("Each small square is one kernel: rows are the filters (output channels), "
                               "columns the input channels. Red = positive weight, blue = negative."))
        self.view = self.glw.addViewBox(lockAspect=True, invertY=True, enableMouse=False)
        self.view.setMenuEnabled(False)
        self.image = pg.ImageItem()
        self.view.addItem(self.image)
        self.rgb_image = pg.ImageItem()          # the colour view: RGB tiles, not on the colour bar's scale
        self.rgb_image.hide()
        self.view.addItem(self.rgb_image)
        self._lut = lut(SIGNED_CMAP)
        # numbers: filters at the left, input channels on top (one graphics item each)
        self.row_labels = TextLabelsItem(anchor=(1, 0.5), point_size=9, color=(60, 60, 60))
        self.col_labels = TextLabelsItem(anchor=(0.5, 1), point_size=9, color=(60, 60, 60))
        self.head = pg.TextItem("", color=(60, 60, 60), anchor=(0, 1))
        for item in (self.row_labels, self.col_labels, self.head):
            self.view.addItem(item)
        self.colorbar = pg.ColorBarItem(values=(-1, 1), colorMap=colormap(SIGNED_CMAP), interactive=False, width=14)
        self.colorbar.setImageItem(self.image)
        self.glw.addItem(self.colorbar)
        self.caption = QLabel()
        self.caption.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.glw, 1)
        layout.addWidget(self.caption)

        self.layer_combo.activated.connect(self.on_layer_chosen)
        self.first_input.valueChanged.connect(self.mark_dirty)
        self.first_filter.valueChanged.connect(self.mark_dirty)
        self.view_combo.currentIndexChanged.connect(self.mark_dirty)
        controller.model_changed.connect(self.on_model_changed)
        controller.layer_selected.connect(self.on_layer_selected)
        controller.inspection_ready.connect(self.on_inspection)
        # the frame pacer draws the feature maps and the filters of one inspection in different
        # turns of the event loop: two short pauses of the GUI thread instead of one long one
        shared_pacer().add(self.render, REFRESH_MS)
        if controller.model is not None:
            self.on_model_changed(controller.model)
        if controller.latest_inspection is not None:
            self.on_inspection(controller.latest_inspection)

    def conv_layers(self) -> list[int]:
        model = self.controller.model
        if model is None:
            return []
        return [i for i, layer in enumerate(model.layers) if type(layer).__name__ == "Conv2D"]

    def on_model_changed(self, model) -> None:
        self.layer_combo.clear()
        for i in self.conv_layers():
            layer = model.layers[i]
            f, c, k, _ = layer.params["W"].shape
            self.layer_combo.addItem(tr("{}: {}  ({} filters of {}x{}x{})").format(i, layer.name, f, k, k, c), i)
        self.weights = None
        self.layer_index = None
        convs = self.conv_layers()
        if convs and model.layers[convs[0]].params["W"].shape[1] == 3:
            # a colour input: the filters' colours are the first thing to see
            self.view_combo.setCurrentIndex(self.view_combo.findData("rgb"))
        sel = self.controller.selected_layer
        self.on_layer_selected(sel if sel is not None else -1)

    def on_layer_selected(self, index: int) -> None:
        convs = self.conv_layers()
        if not convs:
            self.layer_index = None
        elif index in convs:
            self.layer_index = index
        elif self.layer_index not in convs:
            # a pooling or dense layer was clicked: show the last conv layer before it
            before = [i for i in convs if i <= max(index, 0)]
            self.layer_index = before[-1] if before else convs[0]
        i = self.layer_combo.findData(self.layer_index)
        if i >= 0:
            self.layer_combo.setCurrentIndex(i)
        self._levels.reset()
        self.mark_dirty()

    def on_layer_chosen(self, combo_index: int) -> None:
        self.controller.select_layer(int(self.layer_combo.itemData(combo_index)))

    def on_inspection(self, inspection) -> None:
        self.weights = inspection.weights
        self._dirty = True

    def mark_dirty(self, *_args) -> None:
        self._dirty = True

    def kernels(self) -> np.ndarray | None:
        """The ``(F, C, K, K)`` weights of the shown layer (latest copy), or None."""
        if self.layer_index is None:
            return None
        if self.weights is not None and self.layer_index < len(self.weights) and "W" in self.weights[self.layer_index]:
            return np.asarray(self.weights[self.layer_index]["W"], dtype=np.float32)
        model = self.controller.model
        if model is not None and not self.controller.is_training:
            return np.array(model.layers[self.layer_index].params["W"], dtype=np.float32)
        return None

    def render(self) -> bool:
        """Draw the newest weights (the frame pacer calls it); True when something was drawn."""
        if not self._dirty or not self.isVisible():
            return False
        self._dirty = False
        w = self.kernels()
        if w is None:
            self.image.clear()
            self.rgb_image.clear()
            return True
        f, c, k, _ = w.shape
        self.first_input.blockSignals(True)
        self.first_input.setRange(0, max(0, c - 1))
        self.first_input.setEnabled(c > MAX_INPUT_COLUMNS)
        self.first_input.blockSignals(False)
        rgb = self.view_combo.currentData() == "rgb" and c == 3
        paged_rows = c > 1 and f > MAX_FILTER_ROWS
        self.first_filter.blockSignals(True)
        self.first_filter.setRange(0, max(0, f - 1))
        self.first_filter.setEnabled(paged_rows)
        self.first_filter.blockSignals(False)
        self.view_combo.setEnabled(c == 3)
        lo, hi = snapped_levels(*self._levels.update(w, signed=True), True)
        start, stop = 0, c
        f0 = self.first_filter.value() if paged_rows else 0
        f1 = min(f, f0 + MAX_FILTER_ROWS) if paged_rows else f
        if rgb:
            # one row per filter: its R, G and B kernels on the signed scale, then its colour
            tiles = slices_and_patch(w[f0:f1], lo, hi, self._lut)           # (F', 4, K, K, 3)
            img = mosaic(tiles.reshape((-1,) + tiles.shape[2:]), COLUMNS, GAP, fill=1.0)
            self.rgb_image.setImage(img, levels=(0, 1), autoLevels=False)
            self.rgb_image.show()
            self.image.hide()
            self._layout((f1 - f0, COLUMNS), k, per_row=(0, COLUMNS, f0), grid=False,
                         col_names=("R", "G", "B", tr("colour")))
        else:
            self.rgb_image.hide()
            self.image.show()
            start = self.first_input.value() if c > MAX_INPUT_COLUMNS else 0
            stop = min(c, start + MAX_INPUT_COLUMNS)
            sub = w[f0:f1, start:stop]                      # (F', C', K, K)
            cshow = sub.shape[1]
            if cshow == 1:
                # one kernel per filter: a compact grid, numbered like the feature maps
                _, cols = grid_shape(f, self._view_aspect())
                img = mosaic(sub[:, 0], cols, GAP)
                shape = (f, cols)
            else:
                cols = cshow                                # rows: filters, columns: input channels
                img = mosaic(sub.reshape(-1, k, k), cshow, GAP)
                shape = (f1 - f0, cols)
            self.image.setImage(img, levels=(lo, hi), autoLevels=False)
            self.image.setColorMap(colormap(SIGNED_CMAP))
            self._layout(shape, k, per_row=(start, stop, f0), grid=cshow == 1)
        if self.colorbar.levels() != (lo, hi):
            self.colorbar.setLevels((lo, hi))
        layout_text = (tr("Each row is one filter: its red, green and blue kernels (red = positive weight, "
                          "blue = negative), then the three together as one colour, the colour the filter "
                          "answers most strongly (gray = no preference).") if rgb else
                       tr("Each square is one filter, numbered.") if c == 1 else
                       tr("Rows: filter number; columns: input channel."))
        if c > 1 and (f > MAX_FILTER_ROWS or c > MAX_INPUT_COLUMNS):
            layout_text += " " + tr("Showing filters {}-{} of {} and input channels {}-{} of {}.").format(
                f0, f1 - 1, f, start, stop - 1, c)
        self.caption.setText(
            tr("{} filters, each {}x{} with {} input channel(s): {} weights + {} biases.").format(
                f, k, k, c, f * c * k * k, f) + " " + layout_text + " " +
            tr("Watch them change from noise into edge and blob detectors."))
        self.render_count += 1
        return True

    def _view_aspect(self) -> float:
        r = self.view.rect()
        return r.width() / r.height() if r.height() > 0 else 1.0

    def _layout(self, shape: tuple[int, int], k: int, per_row, grid: bool, col_names=None) -> None:
        """Filter numbers (and input-channel numbers or ``col_names``): rebuilt only when the arrangement
        changes."""
        key = (shape, k, per_row, grid, col_names)
        if key == self._label_key:
            return
        self._label_key = key
        f, cols = shape
        step = k + GAP
        if grid:
            self.col_labels.set_labels([((i % cols) * step + k / 2, (i // cols) * step - 0.15, str(i))
                                        for i in range(f)] if f <= 256 else [])
            self.row_labels.set_labels([])
            self.head.setText("")
        else:
            start, stop, f0 = per_row
            self.row_labels.set_labels([(-0.3, r * step + k / 2, str(f0 + r)) for r in range(f)])
            self.col_labels.set_labels([(c * step + k / 2, -0.15, col_names[c] if col_names else str(start + c))
                                        for c in range(stop - start)])
            self.head.setText("" if col_names else tr("input channel →"))
            self.head.setPos(0, -0.15 - step * 0.45)
        self.view.autoRange(padding=0.06)

    def showEvent(self, event) -> None:  # noqa: N802
        self._dirty = True
        super().showEvent(event)
