"""The theater's stage as a widget-free model: what is on stage and where the window is.

:class:`StageModel` holds the input, the kernel and the settings (stride, padding, mode, bias,
ReLU, pooling), the current output position and the hovered cells. It builds one
:class:`engine.theater.ConvTheater` from them (every number shown comes from the engine) and emits
plain events that the Qt views subscribe to:

- ``events.changed()``: the settings or the theater changed (controls re-read, grids rebuild);
- ``events.position(index)``: the window moved;
- ``events.hover()``: the hovered output cell or input pixel changed.

No Qt here, on purpose: a test imports this module in a fresh interpreter and checks that PySide6
was not loaded, and the behaviour tests drive it without a QApplication.
"""

from __future__ import annotations

import numpy as np

from engine.errors import ConvScopeError
from engine.shapes import pair
from engine.theater import MODES, OPERATIONS, ConvTheater, TheaterStep
from gui.i18n import tr_error
from gui.theater.events import Events

MAX_CHANNEL_ROWS = 3        # RGB: one row per channel; deeper inputs are shown one channel at a time
PADDINGS = ("valid", "same", "custom")
_KEEPS_POSITION = frozenset({"bias", "relu", "mode"})   # the window stays where it is; the numbers change
_SETTINGS = ("op", "stride", "padding", "pad", "mode", "bias", "relu", "pool_size", "channel")


def window_value(value):
    """A stride or pool size as the stage keeps it: an int when square, an ``(h, w)`` pair otherwise."""
    h, w = (int(v) for v in pair(value))
    return h if h == w else (h, w)


def _whole(values: np.ndarray) -> bool:
    return bool(np.all(np.abs(values - np.round(values)) < 1e-9))


class StageModel:
    """Input, kernel, settings and position of the convolution theater.

    Attributes (set them with :meth:`update`, which recomputes once and emits ``changed``)
    ----------
    input : ``(C, H, W)`` float64, the whole input (all its channels)
    kernel : ``(C, KH, KW)`` or ``(KH, KW)`` float64 or None (pooling needs none); ``KH != KW`` is fine
    input_text, kernel_text : short descriptions for the headline
    op : ``"conv"``, ``"max"`` or ``"avg"``; ``pool_size`` the pooling window
    stride : the step ``s``; ``padding`` ``"valid"``, ``"same"`` or ``"custom"`` with ``pad`` pixels per side
        (``stride`` and ``pool_size`` are an int when square, an ``(h, w)`` pair otherwise: :func:`window_value`)
    mode : ``"cross_correlation"`` or ``"convolution"`` (flipped kernel)
    bias, relu : added / applied after the sum (conv only)
    channel : ``-1`` for all channels (up to :data:`MAX_CHANNEL_ROWS`), else the one channel shown
    theater : the :class:`ConvTheater` of these settings, None when they do not fit (``error`` says why)
    position : the current output cell in reading order
    """

    def __init__(self, x=None, kernel=None):
        self.events = Events("changed", "position", "hover")
        self.input = np.zeros((1, 1, 1)) if x is None else self._as_chw(x)
        self.kernel = None if kernel is None else np.asarray(kernel, dtype=np.float64)
        self.input_text = ""
        self.kernel_text = ""
        self.op = "conv"
        self.stride = 1
        self.padding = "valid"
        self.pad = 1
        self.mode = "cross_correlation"
        self.bias = 0.0
        self.relu = False
        self.pool_size = 2
        self.channel = -1
        self.theater: ConvTheater | None = None
        self.error = ""
        self.position = 0
        self.hover_output: tuple[int, int] | None = None
        self.hover_input: tuple[int, int] | None = None     # in padded coordinates
        if x is not None:
            self._rebuild(keep_position=False)

    @staticmethod
    def _as_chw(x) -> np.ndarray:
        a = np.asarray(x, dtype=np.float64)
        return a[None] if a.ndim == 2 else a

    # -- changing the stage ----------------------------------------------------------------------
    def update(self, *, keep_position: bool | None = None, **changes) -> None:
        """Set several attributes at once (``input=``, ``kernel=``, ``stride=`` ...), then rebuild once.

        The window goes back to the first cell unless only bias, ReLU or mode changed (or
        ``keep_position=True``, e.g. new weights of the same filter while the model trains).
        Switching to pooling sets the stride to the pool size (Keras' default) and turns a custom
        padding into valid; switching back to convolution sets the stride to 1.
        """
        unknown = set(changes) - set(_SETTINGS) - {"input", "kernel", "input_text", "kernel_text"}
        if unknown:
            raise TypeError(f"StageModel has no setting {sorted(unknown)}")
        if "op" in changes and changes["op"] not in OPERATIONS:
            raise ValueError(f"op must be one of {OPERATIONS}, got {changes['op']!r}")
        if "mode" in changes and changes["mode"] not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {changes['mode']!r}")
        if "padding" in changes and changes["padding"] not in PADDINGS:
            raise ValueError(f"padding must be one of {PADDINGS}, got {changes['padding']!r}")
        if "op" in changes and changes["op"] != self.op and "stride" not in changes:
            pooling = changes["op"] != "conv"
            changes["stride"] = changes.get("pool_size", self.pool_size) if pooling else 1
            if pooling and changes.get("padding", self.padding) == "custom":
                changes["padding"] = "valid"
        for name in ("stride", "pool_size"):
            if name in changes:
                changes[name] = window_value(changes[name])
        if "input" in changes:
            changes["input"] = self._as_chw(changes["input"])
        if "kernel" in changes and changes["kernel"] is not None:
            changes["kernel"] = np.asarray(changes["kernel"], dtype=np.float64)
        for name, value in changes.items():
            setattr(self, name, value)
        if keep_position is None:
            keep_position = bool(changes) and set(changes) <= _KEEPS_POSITION
        self._rebuild(keep_position)

    def fail(self, message: str) -> None:
        """Nothing can be put on stage (no dataset, no model ...): show ``message`` instead."""
        self.theater = None
        self.error = message
        self.position = 0
        self.events.changed()

    def _rebuild(self, keep_position: bool) -> None:
        if self.channel not in self.channel_choices:     # a new input with another number of channels
            self.channel = self.channel_choices[0]
        x, kernel = self.shown_input_and_kernel()
        try:
            theater = ConvTheater(x, kernel if self.op == "conv" else None, stride=self.stride,
                                  padding=self.padding_value, mode=self.mode, bias=self.bias, relu=self.relu,
                                  op=self.op, pool_size=self.pool_size)
        except ConvScopeError as exc:
            self.theater = None
            self.error = tr_error(exc)
            self.position = 0
        else:
            self.theater = theater
            self.error = ""
            self.position = min(self.position, theater.n_positions - 1) if keep_position else 0
        self.hover_output = self.hover_input = None
        self.events.changed()

    # -- channels -----------------------------------------------------------------------------------
    @property
    def channel_choices(self) -> list[int]:
        """``[-1]`` (all, one row each) when the input has at most 3 channels, else one per channel."""
        c = self.input.shape[0]
        return [-1] if c <= MAX_CHANNEL_ROWS else list(range(c))

    def shown_input_and_kernel(self) -> tuple[np.ndarray, np.ndarray | None]:
        """The input and kernel on stage: all channels, or the chosen one of a deep input."""
        x, kernel = self.input, self.kernel
        if self.channel < 0:
            return x, kernel
        ch = self.channel
        if kernel is not None and kernel.ndim == 3:
            kernel = kernel[ch:ch + 1]
        return x[ch:ch + 1], kernel

    # -- derived numbers ------------------------------------------------------------------------
    @property
    def padding_value(self):
        """What :class:`ConvTheater` takes: ``"valid"``, ``"same"`` or the custom ``pad``."""
        return int(self.pad) if self.padding == "custom" else self.padding

    @property
    def n_positions(self) -> int:
        return 0 if self.theater is None else self.theater.n_positions

    @property
    def step(self) -> TheaterStep | None:
        """Window, products, sums and value of the current output cell."""
        return None if self.theater is None else self.theater.step(self.position)

    @property
    def filled(self) -> np.ndarray | None:
        """``(out_h, out_w)`` bool: the output cells computed so far (up to the current one)."""
        t = self.theater
        if t is None:
            return None
        return (np.arange(t.n_positions) <= self.position).reshape(t.out_h, t.out_w)

    @property
    def digits(self) -> int:
        """0 decimals when every number on stage is whole (the lecture grids), else 2."""
        t = self.theater
        if t is None:
            return 2
        vals = [t.padded.ravel(), [t.bias]] + ([] if t.kernel is None else [t.kernel.ravel()])
        return 0 if _whole(np.concatenate([np.asarray(v, dtype=np.float64) for v in vals])) else 2

    @property
    def kernel_digits(self) -> int:
        t = self.theater
        if t is None or t.kernel is None:
            return 0
        return 0 if _whole(t.kernel) else 2

    @property
    def at_end(self) -> bool:
        return self.theater is None or self.position >= self.theater.n_positions - 1

    # -- moving the window ----------------------------------------------------------------------
    def seek(self, index: int) -> None:
        """Move the window to output position ``index`` (clamped to the map)."""
        if self.theater is None:
            return
        index = int(min(max(int(index), 0), self.theater.n_positions - 1))
        self.position = index
        self.events.position(index=index)

    def step_forward(self) -> bool:
        if self.at_end:
            return False
        self.seek(self.position + 1)
        return True

    def step_back(self) -> bool:
        if self.theater is None or self.position == 0:
            return False
        self.seek(self.position - 1)
        return True

    def seek_cell(self, i: int, j: int) -> None:
        if self.theater is not None:
            self.seek(self.theater.index_of(i, j))

    def seek_input_pixel(self, pr: int, pc: int) -> bool:
        """Jump to the first output cell that reads padded input pixel ``(pr, pc)``; False if none does."""
        if self.theater is None:
            return False
        cells = self.theater.cells_reading_padded(pr, pc)
        if not cells:
            return False
        self.seek_cell(*cells[0])
        return True

    # -- hovering -------------------------------------------------------------------------------
    def hover(self, output: tuple[int, int] | None = None, input: tuple[int, int] | None = None) -> None:
        """Point at an output cell (its window lights up) or an input pixel (the cells reading it)."""
        if (output, input) == (self.hover_output, self.hover_input):
            return
        self.hover_output, self.hover_input = output, input
        self.events.hover()

    @property
    def hover_window(self) -> tuple[int, int, int, int] | None:
        """Padded window of the hovered output cell."""
        if self.theater is None or self.hover_output is None:
            return None
        return self.theater.padded_window(*self.hover_output)

    @property
    def cells_reading_hovered_pixel(self) -> list[tuple[int, int]]:
        if self.theater is None or self.hover_input is None:
            return []
        return self.theater.cells_reading_padded(*self.hover_input)
