"""The grids on stage, arranged for the operation and the number of channels, drawn from a StageModel.

One channel: the (padded) input and the output side by side on top (same cell size, so the eye
follows the window to its cell), and below them window × filter = products → Σ. Two or three
channels: one row per channel, the conv output spanning the rows (the channel sums are added).
The grids are created when the arrangement changes and fed with ``set_data`` otherwise.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QWidget

from gui.i18n import tr
from gui.theater.grid_view import GridView, SymbolLabel
from gui.theater.stage import StageModel
from gui.theater.text import channel_names, sum_texts

RGB_TINTS = (QColor(255, 70, 60), QColor(60, 220, 80), QColor(80, 130, 255))


def clear_layout(layout) -> None:
    """Empty ``layout``: hide and detach at once (deleteLater alone leaves the old grids painted until
    the event loop gets round to deleting them)."""
    while layout.count():
        item = layout.takeAt(0)
        w = item.widget()
        if w is not None:
            w.hide()
            w.setParent(None)
            w.deleteLater()
        elif item.layout() is not None:
            clear_layout(item.layout())
            item.layout().setParent(None)
            item.layout().deleteLater()


class StageView(QWidget):
    """The grids of the stage over ``stage`` (a :class:`StageModel`): clicks seek, hovering highlights."""

    cell_chosen = Signal()          # the user clicked a cell (the window jumps there; playback pauses)

    def __init__(self, stage: StageModel, parent: QWidget | None = None):
        super().__init__(parent)
        self.stage = stage
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setHorizontalSpacing(6)
        self.input_views: list[GridView] = []
        self.patch_views: list[GridView] = []
        self.kernel_views: list[GridView] = []
        self.product_views: list[GridView] = []
        self.sum_labels: list[QLabel] = []
        self.output_views: list[GridView] = []
        self._arrangement = None
        self._top_row: QHBoxLayout | None = None
        stage.events.changed.connect(self._on_stage_changed)
        stage.events.position.connect(self._on_position)
        stage.events.hover.connect(self._on_position)
        self._on_stage_changed()

    @property
    def views(self) -> list[GridView]:
        return self.input_views + self.patch_views + self.kernel_views + self.product_views + self.output_views

    # -- arrangement ---------------------------------------------------------------------------------
    def _on_stage_changed(self, **_) -> None:
        t = self.stage.theater
        if t is not None:
            arrangement = (t.op, t.channels)
            if arrangement != self._arrangement:
                self._arrange(*arrangement)
            self._balance_columns()
        self.render()

    def _on_position(self, **_) -> None:
        self.render()

    def _arrange(self, op: str, channels: int) -> None:
        self._arrangement = (op, channels)
        clear_layout(self.grid)
        for k in range(8):   # stretches of the previous arrangement would squeeze the new one
            self.grid.setColumnStretch(k, 0)
            self.grid.setRowStretch(k, 0)
        for views in (self.input_views, self.patch_views, self.kernel_views, self.product_views,
                      self.sum_labels, self.output_views):
            views.clear()
        if channels == 1:
            self._arrange_one_channel(op == "conv")
        else:
            self._arrange_channel_rows(op == "conv", channels)

    def _input_view(self, title: str) -> GridView:
        view = GridView(title, style="gray")
        view.cell_hovered.connect(self._on_input_hovered)
        view.hover_left.connect(self._on_hover_left)
        view.cell_clicked.connect(self._on_input_clicked)
        self.input_views.append(view)
        return view

    def _output_view(self, title: str, style: str) -> GridView:
        view = GridView(title, style=style)
        view.cell_hovered.connect(self._on_output_hovered)
        view.hover_left.connect(self._on_hover_left)
        view.cell_clicked.connect(self._on_output_clicked)
        self.output_views.append(view)
        return view

    def _grid_view(self, views: list, title: str, style: str) -> GridView:
        view = GridView(title, style=style)
        views.append(view)
        return view

    def _sum_label(self) -> QLabel:
        label = QLabel()
        f = QFont(self.font())
        f.setPixelSize(26)
        f.setBold(True)
        label.setFont(f)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        label.setMinimumWidth(100)
        self.sum_labels.append(label)
        return label

    def _arrange_one_channel(self, conv: bool) -> None:
        top = QHBoxLayout()
        top.addWidget(self._input_view(tr("Input (padding shown as virtual pixels)")))
        top.addWidget(SymbolLabel("→"))
        top.addWidget(self._output_view(tr("Output (feature map)"), "signed" if conv else "gray"))
        self._top_row = top
        bottom = QHBoxLayout()
        bottom.addWidget(self._grid_view(self.patch_views, tr("Window"), "gray"), 1)
        if conv:
            bottom.addWidget(SymbolLabel("×"))
            bottom.addWidget(self._grid_view(self.kernel_views, tr("Filter"), "signed"), 1)
            bottom.addWidget(SymbolLabel("="))
            bottom.addWidget(self._grid_view(self.product_views, tr("Products"), "signed"), 1)
        bottom.addWidget(SymbolLabel("→"))
        bottom.addWidget(self._sum_label())
        self.grid.addLayout(top, 0, 0)
        self.grid.addLayout(bottom, 1, 0)
        self.grid.setRowStretch(0, 3)
        self.grid.setRowStretch(1, 2)

    def _arrange_channel_rows(self, conv: bool, channels: int) -> None:
        """Per channel: input × filter = products, Σ; pooling keeps one output per channel."""
        lay = self.grid
        names = channel_names(channels)
        for ch in range(channels):
            view = self._input_view(f"{tr('Input')} · {names[ch]}")
            if channels == 3:
                view.tint = RGB_TINTS[ch]
            lay.addWidget(view, ch, 0)
            lay.addWidget(SymbolLabel("×" if conv else "→"), ch, 1)
            if conv:
                lay.addWidget(self._grid_view(self.kernel_views, f"{tr('Filter')} · {names[ch]}", "signed"), ch, 2)
                lay.addWidget(SymbolLabel("="), ch, 3)
                pv = self._grid_view(self.product_views, tr("Products"), "signed")
            else:
                pv = self._grid_view(self.patch_views, tr("Window"), "gray")
                pv.tint = view.tint
            lay.addWidget(pv, ch, 4)
            lay.addWidget(self._sum_label(), ch, 5)
            if not conv:
                out_view = self._output_view(f"{tr('Output')} · {names[ch]}", "gray")
                out_view.tint = view.tint
                lay.addWidget(out_view, ch, 6)
            lay.setRowStretch(ch, 1)
        if conv:
            lay.addWidget(self._output_view(tr("Output: the channel sums added"), "signed"), 0, 6, channels, 1)
        self._top_row = None

    def _balance_columns(self) -> None:
        """Give the grids widths proportional to their columns so their cells come out the same size."""
        t = self.stage.theater
        wp = t.padded.shape[2]
        if self._top_row is not None:
            self._top_row.setStretch(0, wp)
            self._top_row.setStretch(2, t.out_w)
            return
        for colno, cols in ((0, wp), (2, t.kernel_hw[1]), (4, t.kernel_hw[1]), (6, t.out_w)):
            self.grid.setColumnStretch(colno, max(cols, 1))
        for colno in (1, 3, 5):
            self.grid.setColumnStretch(colno, 0)

    # -- hover ----------------------------------------------------------------------------------------
    def _on_output_hovered(self, i: int, j: int) -> None:
        self.stage.hover(output=(i, j))

    def _on_input_hovered(self, r: int, c: int) -> None:
        self.stage.hover(input=(r, c))

    def _on_hover_left(self) -> None:
        self.stage.hover()

    def _on_output_clicked(self, i: int, j: int) -> None:
        self.cell_chosen.emit()
        self.stage.seek_cell(i, j)

    def _on_input_clicked(self, r: int, c: int) -> None:
        """Clicking an input pixel jumps to the first output cell that reads it."""
        self.cell_chosen.emit()
        self.stage.seek_input_pixel(r, c)

    # -- drawing --------------------------------------------------------------------------------------
    def render(self) -> None:
        s = self.stage
        t = s.theater
        if t is None:
            for v in self.views:
                v.set_data(np.zeros((1, 1)), filled=np.zeros((1, 1), bool))
                v.set_highlights()
            for label in self.sum_labels:
                label.setText("")
            return
        st = s.step
        conv = t.op == "conv"
        digits = s.digits
        # fixed levels over the whole input so the picture does not flicker while the window moves
        lo, hi = float(min(t.x.min(), 0.0)), float(t.x.max())
        if hi <= lo:
            hi = lo + 1.0
        virtual_text = "0" if conv else "·"
        winners_local: list = []
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
            view.set_highlights(window=t.padded_window(st.i, st.j), winners=winners, hover_window=s.hover_window,
                                marked=[s.hover_input] if s.hover_input else [])
        for ch, view in enumerate(self.patch_views):
            view.virtual_text = virtual_text
            view.set_data(st.patch[ch], virtual=st.virtual, levels=(lo, hi), digits=digits)
            view.set_highlights(winners=[winners_local[ch]] if winners_local[ch] is not None else [])
        out = t.output()
        if conv:
            self._render_conv(st, digits)
            scale_o = float(np.abs(out).max()) or 1.0
            outputs, out_levels = [out], (-scale_o, scale_o)
        else:
            outputs, out_levels = list(out), (lo, hi)
        for label, text in zip(self.sum_labels, sum_texts(s)):
            label.setText(text)
        marks = s.cells_reading_hovered_pixel + ([s.hover_output] if s.hover_output is not None else [])
        for view, values in zip(self.output_views, outputs):
            view.set_data(values, levels=out_levels, filled=s.filled, digits=max(digits, 0 if conv else 2))
            view.set_highlights(current=(st.i, st.j), marked=marks)

    def _render_conv(self, st, digits: int) -> None:
        t = self.stage.theater
        kern = t.effective_kernel
        scale_k = float(np.abs(kern).max()) or 1.0
        flipped = t.mode == "convolution"
        for ch, view in enumerate(self.kernel_views):
            base = view.property("base_title") or view.title
            view.setProperty("base_title", base)
            view.title = base + (" " + tr("(flipped)") if flipped else "")
            view.set_data(kern[ch], levels=(-scale_k, scale_k), digits=self.stage.kernel_digits)
        scale_p = float(np.abs(st.products).max()) or 1.0
        pdigits = max(digits, self.stage.kernel_digits)
        for ch, view in enumerate(self.product_views):
            view.virtual_text = "0"
            view.set_data(st.products[ch], virtual=st.virtual, levels=(-scale_p, scale_p), digits=pdigits)
