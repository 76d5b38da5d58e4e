"""Backward mode's views: the choices row, the player bar and four grids fed from a BackwardStageModel.

Every phase uses the same four grids (A op B = C → D) with other titles, so nothing is rebuilt while
the student scrubs; the sentences come from :mod:`gui.theater.backward_text`.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.shapes import receptive_window
from gui.i18n import tr
from gui.theater.backward import BackwardStageModel, layer_kind
from gui.theater.backward_text import (
    PHASE_TITLES,
    equation_html,
    headline_text,
    position_text,
    scale_of,
    scaled_title,
    update_html,
    update_rows,
)
from gui.theater.grid_view import GridView, SymbolLabel
from gui.theater.playback import PlaybackBar


def _padded(x: np.ndarray, pads) -> tuple[np.ndarray, np.ndarray]:
    """``(H, W)`` padded with zeros and the mask of the virtual pixels."""
    top, bottom, left, right = pads
    xp = np.pad(x, ((top, bottom), (left, right)))
    virtual = np.ones_like(xp, dtype=bool)
    virtual[top:top + x.shape[0], left:left + x.shape[1]] = False
    return xp, virtual


def _text(pixels: int, rich: bool = True) -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setStyleSheet(f"font-size: {pixels}px;")
    if rich:
        label.setTextFormat(Qt.TextFormat.RichText)
    return label


class BackwardChoices(QWidget):
    """Phase, layer, filter, channel and class of backward mode: each combo sets one model choice."""

    def __init__(self, stage: BackwardStageModel, parent: QWidget | None = None):
        super().__init__(parent)
        self.stage = stage
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.phase_combo = QComboBox()
        self.layer_combo = QComboBox()
        self.filter_spin = QSpinBox()
        self.channel_spin = QSpinBox()
        self.class_combo = QComboBox()
        self.layer_combo.setToolTip(tr("The layer the gradient flows back through."))
        self.class_combo.setToolTip(tr("The class used in the loss (the image's true label by default)."))
        for text, w in ((tr("Stage of the way back"), self.phase_combo), (tr("Layer"), self.layer_combo),
                        (tr("Filter"), self.filter_spin), (tr("Channel"), self.channel_spin),
                        (tr("Class"), self.class_combo)):
            row.addWidget(QLabel(text))
            row.addWidget(w)
        row.addStretch(1)
        self.phase_combo.activated.connect(lambda _i: stage.choose(phase=self.phase_combo.currentData()))
        self.layer_combo.activated.connect(lambda _i: stage.choose(layer_index=self.layer_combo.currentData()))
        self.filter_spin.valueChanged.connect(lambda v: stage.choose(filter_index=v))
        self.channel_spin.valueChanged.connect(lambda v: stage.choose(channel=v))
        self.class_combo.activated.connect(lambda _i: stage.choose(label=self.class_combo.currentData()))
        stage.events.changed.connect(self.refresh)

    def set_classes(self, names) -> None:
        with QSignalBlocker(self.class_combo):
            self.class_combo.clear()
            for k, name in enumerate(names):
                self.class_combo.addItem(f"{k}: {name}", k)

    def refresh(self, **_) -> None:
        s = self.stage
        with QSignalBlocker(self.phase_combo):
            self.phase_combo.clear()
            for phase in s.phases:
                self.phase_combo.addItem(tr(PHASE_TITLES[phase]), phase)
            self.phase_combo.setCurrentIndex(max(self.phase_combo.findData(s.phase), 0))
        with QSignalBlocker(self.layer_combo):
            self.layer_combo.clear()
            if s.model is not None:
                for i, layer in enumerate(s.model.layers):
                    mark = "" if layer_kind(layer) != "other" else " ·"
                    self.layer_combo.addItem(f"{i}: {layer.name}{mark}", i)
            self.layer_combo.setCurrentIndex(max(self.layer_combo.findData(s.layer_index), 0))
        with QSignalBlocker(self.filter_spin):
            self.filter_spin.setRange(0, max(s.filter_count - 1, 0))
            self.filter_spin.setValue(s.filter_index)
        self.filter_spin.setEnabled(s.filter_count > 1)
        with QSignalBlocker(self.channel_spin):
            self.channel_spin.setRange(0, max(s.channel_count - 1, 0))
            self.channel_spin.setValue(s.channel)
        self.channel_spin.setEnabled(s.channel_count > 1 and s.phase != "pool")
        with QSignalBlocker(self.class_combo):
            self.class_combo.setCurrentIndex(max(self.class_combo.findData(s.label), 0))


class BackwardGrids(QWidget):
    """Four grids ``A op B = C → D`` whose meaning follows the phase."""

    def __init__(self, stage: BackwardStageModel, parent: QWidget | None = None):
        super().__init__(parent)
        self.stage = stage
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        self.views = [GridView(style=s) for s in ("gray", "signed", "signed", "signed")]
        self.symbols = [SymbolLabel("×"), SymbolLabel("="), SymbolLabel("→")]
        for k, view in enumerate(self.views):
            grid.addWidget(view, 0, 2 * k)
            grid.setColumnStretch(2 * k, 1)
            if k < 3:
                grid.addWidget(self.symbols[k], 0, 2 * k + 1)
        stage.events.changed.connect(self.redraw)
        stage.events.position.connect(self.redraw)

    def _show(self, titles, symbols) -> None:
        for view, title in zip(self.views, titles, strict=True):
            view.title = title
            view.setVisible(bool(title))
        for label, text in zip(self.symbols, symbols, strict=True):
            label.setText(text)
            label.setVisible(bool(text))

    def redraw(self, **_) -> None:
        s = self.stage
        if not s.n_positions:
            self._show(("", "", "", ""), ("", "", ""))
            return
        getattr(self, "_draw_" + s.phase)(s)

    def _draw_upstream(self, s: BackwardStageModel) -> None:
        g, f = s.grads, s.filter_index
        i, j = s.cell()
        gate_title = tr("gate: Z > 0") if g.activation == "relu" else tr("slope f'(Z)")
        k = scale_of(g.d_output[f])
        self._show((scaled_title(f"dL/dY [{tr('filter')} {f}]", k), gate_title, scaled_title("dL/dZ", k), ""),
                   ("×", "=", ""))
        a, b, c, _ = self.views
        a.style = "signed"
        a.set_data(g.d_output[f] * 10.0**k, digits=3)
        b.style = "gray"
        b.set_data(g.gate[f].astype(float) if g.gate is not None else g.activation_derivative[f], digits=2,
                   levels=(0.0, 1.0) if g.gate is not None else None)
        c.set_data(g.d_pre_activation[f] * 10.0**k, digits=3)
        for view in (a, b, c):
            view.set_highlights(current=(i, j))

    def _draw_weights(self, s: BackwardStageModel) -> None:
        w, st, ch = s.weight_walk, s.weight_step(), s.channel
        kz, kw = scale_of(w.d_z), scale_of(w.total)
        self._show((tr("input, channel {}").format(ch), scaled_title("dL/dZ", kz),
                    scaled_title(tr("window × dL/dZ"), kw), scaled_title(tr("dL/dW so far"), kw)), ("×", "=", "Σ"))
        a, b, c, d = self.views
        a.style = "gray"
        xp, virtual = _padded(w.x[ch], w.pads)
        a.set_data(xp, virtual=virtual, digits=2)
        r0, c0, r1, c1 = st.window
        top, _, left, _ = w.pads
        a.set_highlights(window=(r0 + top, c0 + left, r1 + top, c1 + left))
        filled = (np.arange(w.n_positions) <= s.position).reshape(w.out_h, w.out_w)
        b.set_data(w.d_z * 10.0**kz, digits=3, filled=filled)
        b.set_highlights(current=(st.i, st.j))
        c.set_data(st.contribution[ch] * 10.0**kw, digits=3)
        c.set_highlights()
        d.set_data(st.partial_sum[ch] * 10.0**kw, digits=3)
        d.set_highlights()

    def _draw_input(self, s: BackwardStageModel) -> None:
        w, st, ch = s.input_walk, s.input_step(), s.channel
        kz, kx = scale_of(w.padded), scale_of(w.d_input)
        self._show((scaled_title(tr("dL/dZ dilated and padded"), kz), tr("flipped kernel, channel {}").format(ch),
                    scaled_title(tr("products"), kx), scaled_title(tr("dL/dX, channel {}").format(ch), kx)),
                   ("×", "=", "Σ"))
        a, b, c, d = self.views
        a.style = "signed"
        a.set_data(w.padded[0] * 10.0**kz, digits=3)
        kh, kw = w.kernel_hw
        pr, pc = st.r + w.pads[0], st.c + w.pads[2]
        a.set_highlights(window=(pr, pc, pr + kh, pc + kw))
        b.set_data(w.rotated_kernel[0, ch], digits=3)
        b.set_highlights()
        c.set_data(st.products[0, ch] * 10.0**kx, digits=3)
        c.set_highlights()
        d.set_data(w.d_input[ch] * 10.0**kx, digits=3, filled=s.filled_input_gradient)
        d.set_highlights(current=(st.r, st.c))

    def _draw_update(self, s: BackwardStageModel) -> None:
        u, (ch, r, c) = s.update, s.weight_index()
        kg, kd = scale_of(u.gradient), scale_of(u.delta)
        self._show((tr("weights before, channel {}").format(ch), scaled_title("dL/dW", kg),
                    scaled_title(tr("change"), kd), tr("weights after")), ("", "", ""))
        self.views[0].style = "signed"
        for view, values, k in zip(self.views, (u.weights, u.gradient, u.delta, u.new_weights), (0, kg, kd, 0),
                                   strict=True):
            view.set_data(np.asarray(values[ch], np.float64) * 10.0**k, digits=4)
            view.set_highlights(current=(r, c))

    def _draw_pool(self, s: BackwardStageModel) -> None:
        p, st = s.pool_walk, s.pool_step()
        ch = st.channel
        op = tr("max pooling") if p.op == "max" else tr("average pooling")
        k = scale_of(p.d_y)
        self._show((tr("input of the {}, channel {}").format(op, ch), scaled_title("dL/dY", k),
                    scaled_title(tr("dL/dX so far"), k), ""), ("→", "→", ""))
        a, b, c, _ = self.views
        a.style = "gray"
        a.set_data(s.grads.x[ch], digits=2)
        a.set_highlights(window=receptive_window(st.i, st.j, p.kernel_hw, p.stride_hw, p.pads[0], p.pads[2]),
                         winners=list(st.targets) if p.op == "max" else [])
        b.set_data(p.d_y[ch] * 10.0**k, digits=3)
        b.set_highlights(current=(st.i, st.j))
        c.set_data(st.partial[ch] * 10.0**k, digits=3)
        c.set_highlights(marked=list(st.targets))


class BackwardView(QWidget):
    """Backward mode: choices, player bar, headline, grids, the step's arithmetic and the update's numbers."""

    def __init__(self, stage: BackwardStageModel, parent: QWidget | None = None):
        super().__init__(parent)
        self.stage = stage
        self.choices = BackwardChoices(stage)
        self.playback = PlaybackBar(stage, describe=position_text)
        self.headline = _text(17, rich=False)
        self.grids = BackwardGrids(stage)
        self.equation = _text(19)
        self.equation.setMinimumHeight(40)
        self.details = _text(15)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        v = QVBoxLayout(self)
        v.setContentsMargins(0, 0, 0, 0)
        v.addWidget(self.choices)
        v.addWidget(self.headline)
        v.addWidget(self.playback)
        v.addWidget(self.grids, 1)
        v.addWidget(self.equation)
        v.addWidget(self.details)
        stage.events.changed.connect(self._on_changed)
        stage.events.position.connect(self._on_position)
        self._on_changed()

    def _on_changed(self, **_) -> None:
        s = self.stage
        self.headline.setText(s.error or headline_text(s))
        self.headline.setStyleSheet("font-size: 17px;" + (" color: #b03020;" if s.error else ""))
        self._on_position()

    def _on_position(self, **_) -> None:
        s = self.stage
        self.equation.setText(equation_html(s))
        if s.explanation:
            self.details.setText(s.explanation)
        elif s.phase == "update" and s.update is not None and s.n_positions:
            rows = "".join(f"<tr><td>{name}</td><td align='right'>&nbsp;{value}</td></tr>"
                           for name, value in update_rows(s))
            self.details.setText(f"<table>{rows}</table>" + update_html(s))
        elif s.phase == "pool" and s.n_positions:
            self.details.setText(tr("Pooling has no weights, so nothing here is updated: on the way back it only "
                                    "routes each gradient to the pixels the forward pass took it from."))
        else:
            self.details.setText("")
