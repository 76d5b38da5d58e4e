"""Feature maps panel: every channel of the selected layer for the selected image, live while training.

The channels are tiled into one mosaic drawn by a single ``ImageItem`` (cheap to refresh; see
``shared/STACK.md``), numbered, on a colour scale that follows the data without flickering
(:class:`~gui.widgets.common.StableLevels`). Clicking a channel enlarges it beside the input image.
For a max-pooling layer the panel can show which pixel of each window won. For a layer with an
activation (fused, a separate ``ReLU()`` layer, or a conv/dense layer followed by one) a switch shows the
maps before or after it: "before" on a diverging scale with zero in the middle, so the negative values
that ReLU sets to zero stand out. A colour input is shown in colour and, below it, as the three channels
the first layer reads (:mod:`gui.widgets.feature_maps_input`).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from engine.attribution import activation_before_after
from engine.errors import ShapeError
from engine.layers import Conv2D, Dense, LeakyReLU, ReLU, Sigmoid, Tanh
from engine.shapes import format_shape
from gui.i18n import tr, tr_class
from gui.widgets.common import (
    ACTIVATION_CMAP,
    BACKGROUND,
    SIGNED_CMAP,
    StableLevels,
    TextLabelsItem,
    chw_to_display,
    colormap,
    grid_shape,
    is_signed,
    mosaic,
    snapped_levels,
    tile_at,
)
from gui.widgets.feature_maps_input import channel_label_positions, channel_strip
from gui.widgets.pacer import shared_pacer

REFRESH_MS = 40        # the sink: redraws only a new inspection, at most 25 a second (snapshots ~12 /s)
GAP = 2
_ACTIVATION_CLASSES = (ReLU, LeakyReLU, Sigmoid, Tanh)      # the layers activation_before_after reads
_FUSED_NAMES = {"relu": "ReLU", "leaky_relu": "LeakyReLU", "sigmoid": "sigmoid", "tanh": "tanh",
                "softmax": "softmax"}


def activation_of(layers, index: int) -> tuple[int, str, str] | None:
    """The activation that layer ``index``'s maps can be seen before/after, or None.

    Returns ``(activation_index, name, own_side)``: the layer whose activation it is (the layer itself
    when fused or an activation layer, else the next layer when that is a separate activation after a
    Conv2D/Dense), the activation's name ("ReLU"), and which side the layer's own output is on
    (``"after"``, or ``"before"`` for a layer followed by a separate activation).
    """
    if index is None or not 0 <= index < len(layers):
        return None
    layer = layers[index]
    if isinstance(layer, (Conv2D, Dense)) and layer.activation is not None:
        return index, _FUSED_NAMES.get(str(layer.activation), str(layer.activation)), "after"
    if isinstance(layer, _ACTIVATION_CLASSES):
        return index, type(layer).__name__, "after"
    if isinstance(layer, (Conv2D, Dense)) and index + 1 < len(layers) and isinstance(layers[index + 1],
                                                                                      _ACTIVATION_CLASSES):
        return index + 1, type(layers[index + 1]).__name__, "before"
    return None


class FeatureMapPanel(QWidget):
    """All channels of one layer's output for one image."""

    def __init__(self, controller, parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        self.inspection = None
        self.layer_index: int | None = None
        self.channel: int | None = None
        self._dirty = False
        self._levels = StableLevels()
        self._signed: bool | None = None
        self._layout_key = None
        self._detail_sample = None
        self._detail_cmap = None
        self._tile_hw = (0, 0)
        self._cols = 1
        self._n = 0
        self.render_count = 0

        # -- top bar -----------------------------------------------------------------------------
        self.layer_combo = QComboBox()
        self.layer_combo.setToolTip(tr("The layer whose output you see. Early layers find edges; deeper layers "
                                       "combine them into bigger patterns."))
        self.layer_combo.setMinimumContentsLength(22)
        self.sample_spin = QSpinBox()
        self.sample_spin.setToolTip(tr("Which validation image to look at (its number in the validation set)."))
        self.sample_spin.setRange(0, 0)
        self.prev_button = QPushButton("◀")
        self.prev_button.setToolTip(tr("Previous validation image."))
        self.next_button = QPushButton("▶")
        self.next_button.setToolTip(tr("Next validation image."))
        for b in (self.prev_button, self.next_button):
            b.setFixedWidth(34)
        self.winners_check = QCheckBox(tr("Show pooling winners"))
        self.winners_check.setToolTip(tr("For a max-pooling layer: show its input and mark the pixel that won "
                                         "each window (only that value is passed on)."))
        self.activation_combo = QComboBox()
        self.activation_combo.setToolTip(tr("See this layer's maps before or after its activation. Before: "
                                            "blue = negative, red = positive, white = 0. ReLU turns every "
                                            "blue value into 0."))
        self.activation_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self._activation = None            # activation_of(...) of the shown layer
        self.sample_label = QLabel()
        self.sample_label.setToolTip(tr("The image shown, its true class and what the network predicts now."))
        top = QHBoxLayout()
        top.addWidget(QLabel(tr("Layer")))
        top.addWidget(self.layer_combo)
        top.addSpacing(12)
        top.addWidget(QLabel(tr("Image")))
        top.addWidget(self.prev_button)
        top.addWidget(self.sample_spin)
        top.addWidget(self.next_button)
        top.addSpacing(12)
        top.addWidget(self.winners_check)
        top.addWidget(self.activation_combo)
        top.addStretch(1)

        # -- mosaic ------------------------------------------------------------------------------
        self.glw = pg.GraphicsLayoutWidget()
        self.glw.setBackground(BACKGROUND)
        self.glw.setToolTip(tr("Each square is one channel (one filter's answer to the image). Bright = strong "
                               "response. Click a channel to enlarge it."))
        self.view = self.glw.addViewBox(lockAspect=True, invertY=True, enableMouse=False)
        self.view.setMenuEnabled(False)
        self.image = pg.ImageItem()
        self.overlay = pg.ImageItem()
        self.overlay.setZValue(5)
        self.highlight = pg.QtWidgets.QGraphicsRectItem()
        self.highlight.setPen(pg.mkPen((230, 97, 1), width=3, cosmetic=True))
        self.highlight.setZValue(10)
        self.highlight.hide()
        self.view.addItem(self.image)
        self.view.addItem(self.overlay)
        self.view.addItem(self.highlight)
        self.labels = TextLabelsItem(anchor=(0, 0), point_size=8, box=(255, 255, 255, 200), margin=2)
        self.labels.setZValue(20)
        self.view.addItem(self.labels)
        self.glw.scene().sigMouseClicked.connect(self.on_scene_clicked)
        self.colorbar = pg.ColorBarItem(values=(0, 1), colorMap=colormap(ACTIVATION_CMAP), interactive=False,
                                        width=14)
        self.colorbar.setImageItem(self.image)
        self.glw.addItem(self.colorbar)
        self.caption = QLabel()
        self.caption.setWordWrap(True)

        # -- detail: input and the enlarged channel ----------------------------------------------
        self.detail = pg.GraphicsLayoutWidget()
        self.detail.setBackground(BACKGROUND)
        self.detail.setToolTip(tr("Left: the input image. Right: the chosen channel, enlarged. Compare where the "
                                  "channel lights up with the shapes in the image."))
        self.input_title = self.detail.addLabel(tr("Input"), row=0, col=0)
        self.input_view = self.detail.addViewBox(row=1, col=0, lockAspect=True, invertY=True, enableMouse=False)
        # a colour input: its red, green and blue channels, what the first layer's filters read
        self.rgb_title = self.detail.addLabel(tr("The input's channels"), row=2, col=0)
        self.rgb_view = self.detail.addViewBox(row=3, col=0, lockAspect=True, invertY=True, enableMouse=False)
        self.channel_title = self.detail.addLabel(tr("Channel"), row=4, col=0)
        self.channel_view = self.detail.addViewBox(row=5, col=0, lockAspect=True, invertY=True, enableMouse=False)
        for v in (self.input_view, self.rgb_view, self.channel_view):
            v.setMenuEnabled(False)
        self.input_image = pg.ImageItem()
        self.rgb_image = pg.ImageItem()
        self.rgb_labels = TextLabelsItem(anchor=(0.5, 1), point_size=8, color=(60, 60, 60))
        self.channel_image = pg.ImageItem()
        self.input_view.addItem(self.input_image)
        self.rgb_view.addItem(self.rgb_image)
        self.rgb_view.addItem(self.rgb_labels)
        self.channel_view.addItem(self.channel_image)
        self.input_image.setColorMap(colormap("CET-L1"))
        self._show_input_channels(None)

        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addWidget(self.glw, 1)
        lv.addWidget(self.caption)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(self.detail)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([700, 260])

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.sample_label)
        layout.addWidget(splitter, 1)

        # -- wiring ------------------------------------------------------------------------------
        self.layer_combo.activated.connect(self.on_layer_chosen)
        self.sample_spin.valueChanged.connect(self.on_sample_spin)
        self.prev_button.clicked.connect(lambda: self.sample_spin.setValue(self.sample_spin.value() - 1))
        self.next_button.clicked.connect(lambda: self.sample_spin.setValue(self.sample_spin.value() + 1))
        self.winners_check.toggled.connect(self.on_winners_toggled)
        self.activation_combo.activated.connect(self.on_activation_side_chosen)
        controller.model_changed.connect(self.on_model_changed)
        controller.dataset_changed.connect(self.on_dataset_changed)
        controller.layer_selected.connect(self.on_layer_selected)
        controller.inspection_ready.connect(self.on_inspection)
        controller.sample_changed.connect(self.on_sample_changed)
        shared_pacer().add(self.render, REFRESH_MS)
        if controller.dataset is not None:
            self.on_dataset_changed(controller.dataset)
        if controller.model is not None:
            self.on_model_changed(controller.model)
        if controller.latest_inspection is not None:
            self.on_inspection(controller.latest_inspection)
        if controller.sample is not None:
            self.on_sample_changed(controller.sample)

    # -- controller events -----------------------------------------------------------------------
    def on_dataset_changed(self, ds) -> None:
        self.sample_spin.blockSignals(True)
        self.sample_spin.setRange(0, max(0, len(ds.y_test) - 1))
        self.sample_spin.blockSignals(False)

    def on_model_changed(self, model) -> None:
        self.layer_combo.clear()
        for row in model.summary_rows():
            self.layer_combo.addItem(f"{row.index}: {row.name}  ({format_shape(row.output_shape)})", row.index)
        self.inspection = None
        self.channel = None
        self.on_layer_selected(self.controller.selected_layer if self.controller.selected_layer is not None else -1)

    def on_layer_selected(self, index: int) -> None:
        if index is None or index < 0:
            index = 0 if self.layer_combo.count() else None
        if index != self.layer_index:
            self.layer_index = index
            self.channel = None
            self._levels.reset()
            self._signed = None
        i = self.layer_combo.findData(index)
        if i >= 0:
            self.layer_combo.setCurrentIndex(i)
        self.winners_check.setEnabled(self._layer_class() == "MaxPooling2D")
        self._update_activation_combo()
        self._dirty = True

    def _update_activation_combo(self) -> None:
        """Offer "before / after <activation>" for the shown layer, set to the side its output is on."""
        model = self.controller.model
        found = activation_of(model.layers, self.layer_index) if model is not None else None
        if found == self._activation and self.activation_combo.count():
            return
        self._activation = found
        self.activation_combo.clear()
        name = found[1] if found is not None else tr("the activation")
        self.activation_combo.addItem(tr("After {}").format(name), "after")
        self.activation_combo.addItem(tr("Before {}").format(name), "before")
        self.activation_combo.setCurrentIndex(self.activation_combo.findData(found[2] if found else "after"))
        self.activation_combo.setEnabled(found is not None)

    @property
    def activation_side(self) -> str | None:
        """``"before"`` / ``"after"`` the activation, or None when the layer has none."""
        return None if self._activation is None else str(self.activation_combo.currentData())

    def set_activation_side(self, side: str) -> None:
        """Show the maps ``"before"`` or ``"after"`` the activation (what the switch does)."""
        i = self.activation_combo.findData(side)
        if i >= 0:
            self.activation_combo.setCurrentIndex(i)
            self.on_activation_side_chosen(i)

    def on_activation_side_chosen(self, _index: int) -> None:
        self._levels.reset()
        self._signed = None
        self._dirty = True
        self.render()

    def on_layer_chosen(self, combo_index: int) -> None:
        self.controller.select_layer(int(self.layer_combo.itemData(combo_index)))

    def on_sample_spin(self, value: int) -> None:
        self.controller.select_validation_sample(value)

    def on_sample_changed(self, sample) -> None:
        if sample.source == "validation" and sample.index is not None and sample.index != self.sample_spin.value():
            self.sample_spin.blockSignals(True)
            self.sample_spin.setValue(sample.index)
            self.sample_spin.blockSignals(False)
        self._levels.reset()
        # the input can be shown at once, even while the kernels for the maps still compile
        self._detail_sample = sample
        self.input_image.setImage(chw_to_display(sample.x), levels=(0.0, 1.0), autoLevels=False)
        self.input_view.autoRange(padding=0.02)
        self._show_input_channels(sample.x)

    def _show_input_channels(self, x) -> None:
        """The R, G and B channels of a colour input side by side; hidden for a one-channel input."""
        strip = None if x is None else channel_strip(x)
        visible = strip is not None
        self.rgb_title.setVisible(visible)
        self.rgb_view.setVisible(visible)
        self.rgb_title.setMaximumHeight(10_000 if visible else 0)
        self.rgb_view.setMaximumHeight(10_000 if visible else 0)
        if not visible:
            self.rgb_image.clear()
            return
        self.rgb_image.setImage(strip, levels=(0.0, 1.0), autoLevels=False)
        self.rgb_labels.set_labels(channel_label_positions(int(np.asarray(x).shape[2])))
        self.rgb_view.autoRange(padding=0.04)

    def on_inspection(self, inspection) -> None:
        self.inspection = inspection       # keep only the newest; render() draws it on the timer
        self._dirty = True

    def on_winners_toggled(self, _on: bool) -> None:
        self._levels.reset()
        self._signed = None
        self._dirty = True

    def _layer_class(self) -> str:
        model = self.controller.model
        if model is None or self.layer_index is None or self.layer_index >= len(model.layers):
            return ""
        return type(model.layers[self.layer_index]).__name__

    # -- drawing ---------------------------------------------------------------------------------
    def maps(self) -> tuple[np.ndarray | None, np.ndarray | None]:
        """The ``(C, H, W)`` maps to draw and the pooling-winner mask (or None)."""
        ins = self.inspection
        if ins is None or self.layer_index is None or self.layer_index + 1 >= len(ins.activations):
            return None, None
        act = np.asarray(ins.activations[self.layer_index + 1], dtype=np.float32)
        winners = None
        side = self.activation_side
        if side is not None:
            try:
                pair = activation_before_after(self.controller.model.layers, self._activation[0], ins.result)
            except (IndexError, ShapeError):   # an inspection of the model before a change: its own maps
                pair = None
            if pair is not None:
                act = np.asarray(pair[0] if side == "before" else pair[1], dtype=np.float32)
        elif self.winners_check.isChecked() and self._layer_class() == "MaxPooling2D":
            # the engine's own switches of this forward pass: the pixels the pooling really passed on
            winners = ins.winner_mask(self.layer_index)
            act = np.asarray(ins.activations[self.layer_index], dtype=np.float32)
        if act.ndim == 1:                  # a flat layer: show its units as a grid of squares
            d = act.shape[0]
            cols = int(np.ceil(np.sqrt(d)))
            flat = np.full(cols * int(np.ceil(d / cols)), np.nan, np.float32)
            flat[:d] = act
            act = flat.reshape(1, -1, cols)
        return act, winners

    def render(self) -> bool:
        """Draw the newest inspection (the frame pacer calls it); True when something was drawn."""
        if not self._dirty or not self.isVisible():
            return False
        self._dirty = False
        act, winners = self.maps()
        if act is None:
            self.image.clear()
            self.overlay.clear()
            return True
        n, h, w = act.shape
        rect = self.view.rect() if hasattr(self.view, "rect") else None
        aspect = 1.0
        if rect is not None and rect.height() > 0:
            aspect = (rect.width() / rect.height()) * (h / max(w, 1))
        _, cols = grid_shape(n, aspect)
        tiles = mosaic(act, cols, GAP)
        if self._signed is None:
            # before the activation: always zero in the middle, so the negatives ReLU drops show
            self._signed = self.activation_side == "before" or is_signed(act)
            self.colorbar.setColorMap(colormap(SIGNED_CMAP if self._signed else ACTIVATION_CMAP))
        lo, hi = snapped_levels(*self._levels.update(act, self._signed), self._signed)
        self.image.setImage(tiles, levels=(lo, hi), autoLevels=False)
        if self.colorbar.levels() != (lo, hi):
            self.colorbar.setLevels((lo, hi))     # the bar's axis repaints only when the range snaps
        if winners is not None:
            # The winners keep their colour; every other pixel fades. A window of zeros passes a zero
            # on: its "winner" fades too, so only the values that really travel on stay bright.
            passed = winners & (act > 1e-3 * max(hi, 1e-6))
            m = mosaic(passed.astype(np.float32), cols, GAP, fill=1.0)
            rgba = np.zeros(m.shape + (4,), np.uint8)
            rgba[m <= 0.5] = (255, 255, 255, 190)
            self.overlay.setImage(rgba, levels=(0, 255), autoLevels=False)
            self.overlay.show()
        else:
            self.overlay.hide()
        self._update_labels(n, h, w, cols)
        self._update_detail(act, lo, hi)
        self._update_caption(act, winners is not None)
        self.render_count += 1
        return True

    def _update_labels(self, n: int, h: int, w: int, cols: int) -> None:
        key = (n, h, w, cols)
        self._tile_hw, self._cols, self._n = (h, w), cols, n
        if key == self._layout_key:
            return
        self._layout_key = key
        if 1 < n <= 256:
            self.labels.set_labels([((i % cols) * (w + GAP), (i // cols) * (h + GAP), str(i))
                                    for i in range(n)])
        else:
            self.labels.set_labels([])
        self.view.autoRange(padding=0.01)
        self._place_highlight()

    def _place_highlight(self) -> None:
        if self.channel is None or self.channel >= self._n:
            self.highlight.hide()
            return
        h, w = self._tile_hw
        r, c = divmod(self.channel, self._cols)
        self.highlight.setRect(c * (w + GAP) - 0.5, r * (h + GAP) - 0.5, w + 1, h + 1)
        self.highlight.show()

    def _update_detail(self, act: np.ndarray, lo: float, hi: float) -> None:
        ins = self.inspection
        if self._detail_sample is not ins.sample:
            # the input changes only with the sample: no need to upload and re-fit it every frame
            self._detail_sample = ins.sample
            self.input_image.setImage(chw_to_display(ins.sample.x), levels=(0.0, 1.0), autoLevels=False)
            self.input_view.autoRange(padding=0.02)
            self._show_input_channels(ins.sample.x)
        ch = self.channel if self.channel is not None and self.channel < act.shape[0] else 0
        shape_before = None if self.channel_image.image is None else self.channel_image.image.shape
        self.channel_image.setImage(act[ch], levels=(lo, hi), autoLevels=False)
        cmap = SIGNED_CMAP if self._signed else ACTIVATION_CMAP
        if cmap != self._detail_cmap:
            self._detail_cmap = cmap
            self.channel_image.setColorMap(colormap(cmap))
        title = tr("Channel {} (enlarged)").format(ch)
        if self.channel_title.text != title:
            self.channel_title.setText(title)
        if shape_before != act[ch].shape:
            self.channel_view.autoRange(padding=0.02)

    def _update_caption(self, act: np.ndarray, winners: bool) -> None:
        ins = self.inspection
        model = self.controller.model
        ds = self.controller.dataset
        names = [tr_class(n) for n in getattr(ds, "class_names", [])] if ds is not None else []
        name = lambda k: names[k] if 0 <= k < len(names) else str(k)  # noqa: E731
        parts = []
        s = ins.sample
        if s.source == "validation":
            parts.append(tr("Validation image {}").format(s.index))
        else:
            parts.append(s.name or tr("Your image"))
        if s.label is not None:
            parts.append(tr("true class: {}").format(name(int(s.label))))
        if ins.probabilities is not None and len(ins.probabilities):
            k = int(np.argmax(ins.probabilities))
            parts.append(tr("network says: {} ({:.0%})").format(name(k), float(ins.probabilities[k])))
        if self.controller.state == "training":
            parts.append(tr("live, step {}").format(ins.step))
        elif ins.step:
            parts.append(tr("after {} training steps").format(ins.step))
        self.sample_label.setText("   ·   ".join(parts))
        if model is not None and self.layer_index is not None:
            row_layer = model.layers[self.layer_index]
            what = tr("{} channels of {} x {}").format(act.shape[0], act.shape[1], act.shape[2])
            if act.shape[0] == 1 and len(ins.activations[self.layer_index + 1].shape) == 1:
                what = tr("{} units (one square each)").format(ins.activations[self.layer_index + 1].shape[0])
            text = f"<b>{row_layer.name}</b>: {what}"
            if winners:
                text += "  ·  " + tr(
                    "bright = the pixel that won its pooling window and is passed on; faded = dropped.")
            if self.activation_side == "before":
                negative = float(np.mean(act[np.isfinite(act)] < 0)) if act.size else 0.0
                text += "  ·  " + tr("before {}: {:.0%} negative (blue)").format(self._activation[1], negative)
                if self._activation[1] == "ReLU":
                    text += tr(", ReLU makes them 0")
            text += "  ·  " + tr("colour scale {:.2f} … {:.2f}").format(*self.colorbar.levels())
            self.caption.setText(text)

    # -- clicks ----------------------------------------------------------------------------------
    def on_scene_clicked(self, event) -> None:
        pos = self.image.mapFromScene(event.scenePos())
        h, w = self._tile_hw
        i = tile_at(pos.x(), pos.y(), h, w, self._cols, self._n, GAP)
        if i is not None:
            self.select_channel(i)

    def select_channel(self, channel: int) -> None:
        """Enlarge ``channel`` beside the input."""
        self.channel = int(channel)
        self._place_highlight()
        self._dirty = True
        self.render()

    def tile_center(self, channel: int):
        """Scene position of a channel's centre (tests click there)."""
        h, w = self._tile_hw
        r, c = divmod(channel, self._cols)
        return self.image.mapToScene(pg.Point(c * (w + GAP) + w / 2, r * (h + GAP) + h / 2))

    def showEvent(self, event) -> None:  # noqa: N802
        self._dirty = True
        super().showEvent(event)
