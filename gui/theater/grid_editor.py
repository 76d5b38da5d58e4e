"""A grid of numbers being typed or pasted, as a widget-free model (no Qt).

:class:`GridDraft` holds a ``(C, H, W)`` float64 grid (the theater's typed input: 1 to 3 channels;
the kernel: one channel), the channel being edited and the rules: typing one cell, pasting a block
of text (spaces, tabs, commas or new lines, as :func:`engine.theater.parse_grid_text` reads it),
resizing rows and columns, adding or removing channels. Every refusal is the engine's coded
:class:`~engine.errors.ShapeError` (which row and column is not a number, which size is out of
range); nothing changes when a change is refused. ``events.changed()`` fires after each accepted
change of the numbers or the size, ``events.channel()`` when another channel is chosen for editing;
views redraw from :attr:`values`.

No Qt here, on purpose: a test imports this module in a fresh interpreter and checks that PySide6
was not loaded, and the behaviour tests drive it without a QApplication.
"""

from __future__ import annotations

import numpy as np

from engine.errors import ShapeError
from engine.theater import GRID_MAX_CHANNELS, GRID_MAX_SIDE, check_grid_size, format_grid_text, parse_grid_text
from engine.theater import parse_number as _parse_number
from gui.theater.events import Events

__all__ = ["GridDraft", "GRID_MAX_SIDE", "GRID_MAX_CHANNELS"]


class GridDraft:
    """A grid being edited: ``GridDraft(values, max_channels=3)``.

    Attributes
    ----------
    values : ``(C, H, W)`` float64, a copy is handed out by :meth:`array`
    channel : the channel the cells show and a single-channel paste fills
    max_channels : 3 for an input (grey or RGB), 1 for a kernel
    """

    def __init__(self, values=None, max_channels: int = GRID_MAX_CHANNELS):
        self.events = Events("changed", "channel")
        self.max_channels = int(max_channels)
        self.values = np.zeros((1, 3, 3))
        self.channel = 0
        if values is not None:
            self.set_values(values)

    # -- reading ----------------------------------------------------------------------------------
    @property
    def channels(self) -> int:
        return int(self.values.shape[0])

    @property
    def rows(self) -> int:
        return int(self.values.shape[1])

    @property
    def columns(self) -> int:
        return int(self.values.shape[2])

    def array(self) -> np.ndarray:
        """A copy of the grid, ``(C, H, W)`` float64."""
        return self.values.copy()

    def plane(self, channel: int | None = None) -> np.ndarray:
        """One channel ``(H, W)`` (the edited one by default), a copy."""
        return self.values[self.channel if channel is None else int(channel)].copy()

    def text(self) -> str:
        """The grid as text that :meth:`paste_text` reads back (tab-separated, channels apart by an empty line)."""
        return format_grid_text(self.values)

    # -- changing -----------------------------------------------------------------------------------
    def fits(self, values) -> bool:
        """Whether ``values`` (``(H, W)`` or ``(C, H, W)``) can be edited here."""
        shape = np.shape(values)
        if len(shape) == 2:
            shape = (1, *shape)
        return (len(shape) == 3 and 1 <= shape[0] <= self.max_channels
                and all(1 <= n <= GRID_MAX_SIDE for n in shape[1:]))

    def _check(self, rows: int, columns: int, channels: int) -> None:
        check_grid_size(rows, columns, 1)
        if not 1 <= int(channels) <= self.max_channels:
            raise ShapeError("grid_channels_out_of_range", got=int(channels), most=self.max_channels)

    def set_values(self, values) -> None:
        """Replace the whole grid: ``(H, W)`` or ``(C, H, W)`` numbers."""
        a = np.array(values, dtype=np.float64)
        if a.ndim == 1:
            a = a[None, None]
        elif a.ndim == 2:
            a = a[None]
        if a.ndim != 3:
            raise ShapeError("theater_image_shape", shape=a.shape)
        self._check(a.shape[1], a.shape[2], a.shape[0])
        if not np.all(np.isfinite(a)):
            bad = np.argwhere(~np.isfinite(a))[0]
            raise ShapeError("grid_not_a_number", channel=int(bad[0]) + 1, row=int(bad[1]) + 1,
                             column=int(bad[2]) + 1, text=str(a[tuple(bad)]))
        self.values = a
        self.channel = min(self.channel, self.channels - 1)
        self.events.changed()

    def set_cell(self, row: int, column: int, text: str) -> None:
        """Type ``text`` into cell ``(row, column)`` of the edited channel (an empty cell is 0)."""
        text = str(text)
        try:
            value = _parse_number(text) if text.strip() else 0.0
        except ValueError:
            raise ShapeError("grid_not_a_number", channel=self.channel + 1, row=int(row) + 1, column=int(column) + 1,
                             text=text.strip()) from None
        self.values[self.channel, int(row), int(column)] = value
        self.events.changed()

    def resize(self, rows: int | None = None, columns: int | None = None) -> None:
        """New number of rows and/or columns for every channel: the top-left values stay, new cells are 0."""
        rows = self.rows if rows is None else int(rows)
        columns = self.columns if columns is None else int(columns)
        self._check(rows, columns, self.channels)
        if (rows, columns) == (self.rows, self.columns):
            return
        new = np.zeros((self.channels, rows, columns))
        r, c = min(rows, self.rows), min(columns, self.columns)
        new[:, :r, :c] = self.values[:, :r, :c]
        self.values = new
        self.events.changed()

    def set_channels(self, channels: int) -> None:
        """1 to ``max_channels`` channels: new ones start at 0, removed ones are dropped from the end."""
        channels = int(channels)
        self._check(self.rows, self.columns, channels)
        if channels == self.channels:
            return
        if channels < self.channels:
            self.values = self.values[:channels].copy()
        else:
            extra = np.zeros((channels - self.channels, self.rows, self.columns))
            self.values = np.concatenate([self.values, extra])
        self.channel = min(self.channel, channels - 1)
        self.events.changed()

    def choose_channel(self, channel: int) -> None:
        channel = int(channel)
        if not 0 <= channel < self.channels:
            raise IndexError(f"channel {channel} is outside 0..{self.channels - 1}")
        if channel != self.channel:
            self.channel = channel
            self.events.channel()

    def paste_text(self, text: str) -> None:
        """Replace the grid with a block of text: one block makes the edited channel (every channel takes
        its size: a larger block grows the others with zeros, a smaller one crops them); blocks apart
        by an empty line make the channels."""
        block = parse_grid_text(text, max_channels=self.max_channels)
        if block.shape[0] > 1:
            self.channel = 0
            self.set_values(block)
            return
        _, h, w = block.shape
        new = np.zeros((self.channels, h, w))
        r, c = min(h, self.rows), min(w, self.columns)
        new[:, :r, :c] = self.values[:, :r, :c]
        new[self.channel] = block[0]
        self.values = new
        self.events.changed()

    def paste_at(self, row: int, column: int, text: str) -> None:
        """Paste a block into the edited channel with its top-left corner on cell ``(row, column)``, as a
        spreadsheet does; the grid grows (zeros) when the block reaches past its edge."""
        block = parse_grid_text(text, max_channels=1)[0]
        row, column = int(row), int(column)
        h, w = max(self.rows, row + block.shape[0]), max(self.columns, column + block.shape[1])
        self._check(h, w, self.channels)
        new = np.zeros((self.channels, h, w))
        new[:, :self.rows, :self.columns] = self.values
        new[self.channel, row:row + block.shape[0], column:column + block.shape[1]] = block
        self.values = new
        self.events.changed()
