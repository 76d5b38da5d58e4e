"""Architecture panel: the layer stack from the input to the softmax, with shapes and parameter counts.

Each block shows the layer type and its settings, the output shape as Keras prints it (H x W x C) and
the number of parameters. Hovering a block explains the arithmetic with the layer's own numbers:
the output size ``(n + 2p - f)/s + 1`` and the parameter formula ``f*f*c_in*c_out + c_out``.
Clicking a block selects the layer for the feature-map and filter panels.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QLabel, QScrollArea, QSizePolicy, QToolTip, QVBoxLayout, QWidget

from engine.shapes import format_shape, pair
from gui.i18n import tr, tr_error

BLOCK_COLORS = {
    "Input": QColor(224, 224, 224),
    "Conv2D": QColor(164, 205, 240),
    "MaxPooling2D": QColor(178, 223, 170),
    "AveragePooling2D": QColor(178, 223, 170),
    "Flatten": QColor(230, 230, 230),
    "Dense": QColor(209, 190, 236),
    "Dropout": QColor(240, 240, 240),
    "Softmax": QColor(250, 180, 170),
    "ReLU": QColor(253, 228, 160),
    "Sigmoid": QColor(253, 228, 160),
    "Tanh": QColor(253, 228, 160),
    "LeakyReLU": QColor(253, 228, 160),
}


@dataclass
class Block:
    index: int | None          # layer index, None for the input and the implicit softmax
    title: str
    detail: str
    shape: str
    params: int | None
    tooltip: str
    class_name: str
    error: str = ""


def _config(layer) -> dict:
    try:
        cfg = layer.get_config()
    except Exception:  # noqa: BLE001
        return {}
    return cfg.get("config", cfg) if isinstance(cfg, dict) else {}


def _size(v) -> str:
    """A window size as the books write it: ``3`` -> ``"3x3"``, ``[1, 3]`` -> ``"1x3"``."""
    h, w = pair(v)
    return f"{h}x{w}"


def _stride(v):
    """``2`` or ``(2, 2)`` -> ``2``; a rectangular stride ``(1, 2)`` -> ``"(1, 2)"``; ``None`` stays."""
    if v is None:
        return None
    h, w = pair(v)
    return h if h == w else f"({h}, {w})"


def layer_detail(class_name: str, cfg: dict) -> str:
    """Short description of a layer's settings, e.g. '3x3, 32 filters, relu'."""
    parts: list[str] = []
    if class_name == "Conv2D":
        parts.append(tr("{size}, {f} filters").format(size=_size(cfg.get("kernel_size", "?")),
                                                      f=cfg.get("filters", "?")))
        s = _stride(cfg.get("strides", 1))
        if s not in (1, None):
            parts.append(tr("stride {}").format(s))
        pad = cfg.get("padding", "valid")
        if pad not in ("valid", 0, None):
            parts.append(tr("padding {}").format(pad))
    elif class_name in ("MaxPooling2D", "AveragePooling2D"):
        k = cfg.get("pool_size", 2)
        parts.append(_size(k))
        s = _stride(cfg.get("strides", None))
        if s not in (None, _stride(k)):
            parts.append(tr("stride {}").format(s))
    elif class_name == "Dense":
        parts.append(tr("{} units").format(cfg.get("units", "?")))
    elif class_name == "Dropout":
        parts.append(tr("rate {}").format(cfg.get("rate", "?")))
    elif class_name == "LeakyReLU":
        parts.append(f"alpha {cfg.get('alpha', '?')}")
    act = cfg.get("activation")
    if act and act not in ("linear", "none"):
        parts.append(str(act))
    return ", ".join(str(p) for p in parts)


CLASS_EXPLANATIONS = {
    "Conv2D": "A convolution layer slides each filter over the image and writes one feature map per filter.",
    "MaxPooling2D": ("Max pooling keeps the largest value of each window, halving the size and keeping the "
                     "strongest response."),
    "AveragePooling2D": "Average pooling keeps the mean of each window, shrinking the feature maps.",
    "Flatten": "Flatten lays the feature maps out as one long vector so a dense layer can read them.",
    "Dense": "A dense (fully connected) layer connects every input to every unit.",
    "Dropout": "Dropout switches off random units during training only, so the network cannot rely on any one of them.",
    "ReLU": "ReLU keeps positive values and replaces negative ones with 0.",
    "Softmax": "Softmax turns the scores of the last layer into probabilities that add up to 1.",
}


def build_blocks(model) -> list[Block]:
    """The blocks to draw for ``model``: input, every layer, and the softmax when it is in the loss."""
    if model is None:
        return []
    blocks = [Block(None, tr("Input"), "", format_shape(model.input_shape), None,
                    tr("The image as the network sees it: height x width x channels."), "Input")]
    rows = model.summary_rows()
    for row, layer in zip(rows, model.layers, strict=False):
        cfg = _config(layer)
        explain = tr(CLASS_EXPLANATIONS[row.class_name]) if row.class_name in CLASS_EXPLANATIONS else ""
        tip = [f"<b>{row.name}</b> ({row.class_name})"]
        if explain:
            tip.append(explain)
        tip.append(tr("Input: {}  →  output: {}").format(format_shape(row.input_shape), format_shape(row.output_shape)))
        if getattr(row, "size_formula", ""):
            # the textbook formula, then the same with this layer's numbers
            tip.append(tr("Output size (n + 2p - f)/s + 1 = {}").format(row.size_formula))
        if row.params:
            general = {"Conv2D": tr("Parameters f*f*c_in*c_out + c_out = {}"),
                       "Dense": tr("Parameters d_in*units + units = {}")}.get(row.class_name, tr("Parameters: {}"))
            tip.append(general.format(row.formula or f"{row.params:,}"))
        elif row.class_name in ("MaxPooling2D", "AveragePooling2D", "Flatten", "ReLU", "Dropout"):
            tip.append(tr("No parameters: this layer has nothing to learn."))
        if getattr(row, "error", ""):
            tip.append(f"<span style='color:#b00'>{tr_error(getattr(row, 'exception', None) or row.error)}</span>")
        tip.append("<i>" + tr("Click to show this layer in the feature map and filter panels.") + "</i>")
        blocks.append(Block(row.index, row.class_name, layer_detail(row.class_name, cfg),
                            format_shape(row.output_shape), int(row.params), "<br>".join(tip), row.class_name,
                            getattr(row, "error", "") or ""))
    last = rows[-1].class_name if rows else ""
    if last != "Softmax":
        k = model.num_classes
        blocks.append(Block(None, tr("Softmax (in the loss)"), tr("{} class probabilities").format(k), str(k), None,
                            tr("The last layer gives one score (logit) per class; softmax turns them into "
                               "probabilities that add up to 1. It is applied inside the loss."), "Softmax"))
    return blocks


class LayerStackView(QWidget):
    """Paints the blocks top to bottom; tooltips on hover, selection on click."""

    layer_clicked = Signal(int)

    BLOCK_H = 54
    GAP = 14
    MARGIN = 8

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.blocks: list[Block] = []
        self.selected: int | None = None
        self.hover: int | None = None
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.title_font = QFont()
        self.title_font.setPointSize(11)
        self.title_font.setBold(True)
        self.body_font = QFont()
        self.body_font.setPointSize(10)

    def set_blocks(self, blocks: list[Block]) -> None:
        self.blocks = blocks
        self.setFixedHeight(self.sizeHint().height())
        self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802
        n = len(self.blocks)
        return QSize(280, 2 * self.MARGIN + n * self.BLOCK_H + max(0, n - 1) * self.GAP)

    def block_rect(self, i: int) -> QRectF:
        y = self.MARGIN + i * (self.BLOCK_H + self.GAP)
        return QRectF(self.MARGIN, y, self.width() - 2 * self.MARGIN, self.BLOCK_H)

    def block_at(self, pos) -> int | None:
        for i in range(len(self.blocks)):
            if self.block_rect(i).contains(QPointF(pos)):
                return i
        return None

    def paintEvent(self, event) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        text_color = QColor(20, 20, 20)
        for i, b in enumerate(self.blocks):
            r = self.block_rect(i)
            if i > 0:   # arrow from the previous block
                x = r.center().x()
                p.setPen(QPen(pal.color(pal.ColorRole.WindowText), 1.5))
                p.drawLine(QPointF(x, r.top() - self.GAP + 2), QPointF(x, r.top() - 3))
                path = QPainterPath()
                path.moveTo(x - 4, r.top() - 7)
                path.lineTo(x + 4, r.top() - 7)
                path.lineTo(x, r.top() - 2)
                path.closeSubpath()
                p.fillPath(path, pal.color(pal.ColorRole.WindowText))
            color = BLOCK_COLORS.get(b.class_name, QColor(235, 235, 235))
            if b.error:
                color = QColor(255, 200, 200)
            selected = b.index is not None and b.index == self.selected
            pen = QPen(QColor(230, 97, 1), 3) if selected else QPen(QColor(90, 90, 90), 1)
            if i == self.hover and not selected:
                pen = QPen(QColor(40, 40, 40), 2)
            p.setPen(pen)
            p.setBrush(color)
            p.drawRoundedRect(r, 7, 7)
            inner = r.adjusted(10, 5, -10, -5)
            p.setPen(text_color)
            p.setFont(self.title_font)
            fm = p.fontMetrics()
            p.drawText(inner, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, b.title)
            if b.detail:
                x0 = fm.horizontalAdvance(b.title) + 8
                p.setFont(self.body_font)
                detail_rect = inner.adjusted(x0, 1, 0, 0)
                p.drawText(detail_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
                           p.fontMetrics().elidedText(b.detail, Qt.TextElideMode.ElideRight, int(detail_rect.width())))
            p.setFont(self.body_font)
            p.drawText(inner, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom, b.shape)
            if b.params is not None:
                p.drawText(inner, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom,
                           tr("{} params").format(f"{b.params:,}"))
        p.end()

    def event(self, e) -> bool:
        if e.type() == QEvent.Type.ToolTip:
            i = self.block_at(e.pos())
            if i is not None:
                QToolTip.showText(e.globalPos(), self.blocks[i].tooltip, self, self.block_rect(i).toRect())
            else:
                QToolTip.hideText()
                e.ignore()
            return True
        return super().event(e)

    def mouseMoveEvent(self, e) -> None:  # noqa: N802
        i = self.block_at(e.position().toPoint())
        if i != self.hover:
            self.hover = i
            self.update()

    def leaveEvent(self, e) -> None:  # noqa: N802
        self.hover = None
        self.update()

    def mousePressEvent(self, e) -> None:  # noqa: N802
        i = self.block_at(e.position().toPoint())
        if i is not None and self.blocks[i].index is not None:
            self.layer_clicked.emit(self.blocks[i].index)


class ArchitecturePanel(QWidget):
    """The layer stack with totals like Keras ``summary()``."""

    def __init__(self, controller, parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        self.view = LayerStackView()
        self.view.setToolTip(tr("The layers of the network from the input (top) to the output (bottom). "
                                "Hover a block for its formulas; click it to look inside."))
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.view)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.totals = QLabel()
        self.totals.setWordWrap(True)
        self.totals.setTextFormat(Qt.TextFormat.RichText)
        self.totals.setToolTip(tr("Parameters are the weights and biases the network learns. Trainable ones are "
                                  "changed by training; non-trainable ones (frozen layers) are not."))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        # the timeline's moment whose weights the other panels show (hidden while live)
        self.moment_label = QLabel()
        self.moment_label.setObjectName("timelineMoment")
        self.moment_label.setStyleSheet("#timelineMoment { background: #fff3cd; padding: 3px; }")
        self.moment_label.setWordWrap(True)
        self.moment_label.hide()
        layout.addWidget(self.moment_label)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.totals)
        self.view.layer_clicked.connect(controller.select_layer)
        if hasattr(controller, "timeline_moved"):
            controller.timeline_moved.connect(self.on_timeline_moved)
        controller.model_changed.connect(self.on_model_changed)
        controller.layer_selected.connect(self.on_layer_selected)
        if controller.model is not None:
            self.on_model_changed(controller.model)

    def on_model_changed(self, model) -> None:
        self.view.set_blocks(build_blocks(model))
        self.view.selected = self.controller.selected_layer
        total = int(model.total_params)
        trainable = int(model.trainable_params)
        self.totals.setText(
            "<b>{}</b> {:,}<br>{} {:,}<br>{} {:,}".format(
                tr("Total params:"), total, tr("Trainable params:"), trainable,
                tr("Non-trainable params:"), total - trainable))

    def on_timeline_moved(self, position) -> None:
        self.moment_label.setVisible(not position.live)
        self.moment_label.setText(tr("Weights of step {} (epoch {:.2f}), from the timeline").format(
            position.step, position.epoch))

    def on_layer_selected(self, index: int) -> None:
        self.view.selected = index if index >= 0 else None
        self.view.update()
