"""The convolution theater's arithmetic: one output cell at a time, exactly as the lecture draws it.

A 3x3 window (the "stamp") is placed over the (zero-padded) input, multiplied cell by cell with the
filter, the products are summed per channel, the channel sums added, a bias added and ReLU applied;
the result fills one cell of the feature map. :class:`ConvTheater` exposes every one of those
intermediate numbers for any output position, plus the full output map, the size formula with the
current numbers, and the inverse lookup "which output cells read this input pixel".

All size arithmetic comes from :mod:`engine.shapes` (``resolve_padding``, ``receptive_window``,
``output_cells_reading``); this module adds none of its own. Pure numpy, no Qt.

Conventions follow the engine: an input is ``(C, H, W)``, a kernel ``(C, KH, KW)`` (a 2-D ``(KH, KW)``
kernel is used on every channel; ``KH != KW`` is fine: the 1-D example is a 1x7 input and a 1x3 kernel),
strides and pool sizes are an int or a ``(height, width)`` pair, ``padding`` is ``"valid"``, ``"same"`` (Keras: output
``ceil(n / s)``, extra padding at the bottom/right) or a number of virtual pixels per side.
``mode="convolution"`` flips the kernel (rows and columns) before sliding it, which is what the
mathematical convolution does; ``"cross_correlation"`` (what CNN libraries actually compute) slides
it as it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from engine.catalog import CONV_MODES as MODES
from engine.errors import Listing, ShapeError
from engine.shapes import Padding1D, output_cells_reading, pair, receptive_window, resolve_padding

OPERATIONS = ("conv", "max", "avg")


# ---------------------------------------------------------------------------------------------
# Kernel presets and hand-made inputs
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class KernelPreset:
    """A classic filter with its names in English and Korean and a one-line explanation."""

    key: str
    name_en: str
    name_ko: str
    values: tuple[tuple[float, ...], ...]
    note_en: str = ""
    note_ko: str = ""

    @property
    def kernel(self) -> np.ndarray:
        """The filter as a float64 ``(KH, KW)`` array (a fresh copy; ``(1, 3)`` for the 1-D example)."""
        return np.array(self.values, dtype=np.float64)


def _preset(key, en, ko, values, note_en="", note_ko=""):
    return KernelPreset(key, en, ko, tuple(tuple(float(v) for v in row) for row in values), note_en, note_ko)


KERNEL_PRESETS: dict[str, KernelPreset] = {
    p.key: p
    for p in (
        _preset("vertical_edge", "Vertical edge (lecture)", "수직 에지 (강의)",
                [[1, 0, -1], [1, 0, -1], [1, 0, -1]],
                "Bright on the left, dark on the right gives a large positive value.",
                "왼쪽이 밝고 오른쪽이 어두우면 큰 양수가 나옵니다."),
        _preset("horizontal_edge", "Horizontal edge (lecture)", "수평 에지 (강의)",
                [[1, 1, 1], [0, 0, 0], [-1, -1, -1]],
                "Bright above, dark below gives a large positive value.",
                "위가 밝고 아래가 어두우면 큰 양수가 나옵니다."),
        _preset("sobel_vertical", "Sobel vertical", "소벨 수직",
                [[1, 0, -1], [2, 0, -2], [1, 0, -1]],
                "The lecture's vertical edge with more weight (2) on the middle row.",
                "강의의 수직 에지 필터에서 가운데 행에 가중치 2를 준 것입니다."),
        _preset("sobel_horizontal", "Sobel horizontal", "소벨 수평",
                [[1, 2, 1], [0, 0, 0], [-1, -2, -1]],
                "The lecture's horizontal edge with more weight (2) on the middle column.",
                "강의의 수평 에지 필터에서 가운데 열에 가중치 2를 준 것입니다."),
        _preset("scharr_vertical", "Scharr vertical", "샤르 수직",
                [[3, 0, -3], [10, 0, -10], [3, 0, -3]],
                "Like Sobel with weights 3-10-3: more even response to slanted edges.",
                "소벨과 비슷하지만 3-10-3 가중치로 기울어진 에지에도 고르게 반응합니다."),
        _preset("scharr_horizontal", "Scharr horizontal", "샤르 수평",
                [[3, 10, 3], [0, 0, 0], [-3, -10, -3]],
                "Scharr turned by 90 degrees: finds horizontal edges.",
                "샤르 필터를 90도 돌린 것: 수평 에지를 찾습니다."),
        _preset("prewitt_vertical", "Prewitt vertical", "프리윗 수직",
                [[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]],
                "Dark on the left, bright on the right gives a large positive value.",
                "왼쪽이 어둡고 오른쪽이 밝으면 큰 양수가 나옵니다."),
        _preset("prewitt_horizontal", "Prewitt horizontal", "프리윗 수평",
                [[-1, -1, -1], [0, 0, 0], [1, 1, 1]],
                "Dark above, bright below gives a large positive value.",
                "위가 어둡고 아래가 밝으면 큰 양수가 나옵니다."),
        _preset("laplacian", "Laplacian", "라플라시안",
                [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
                "Zero on flat areas, large where brightness changes in any direction.",
                "평평한 곳에서는 0, 어느 방향이든 밝기가 바뀌는 곳에서 커집니다."),
        _preset("box_blur", "Box blur", "박스 블러(평균)",
                [[1 / 9] * 3] * 3,
                "The average of the 9 pixels: smooths the image.",
                "9개 픽셀의 평균: 이미지를 부드럽게 만듭니다."),
        _preset("sharpen", "Sharpen", "선명하게",
                [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
                "The pixel minus its neighbours, plus itself: edges stand out.",
                "자기 자신을 강조하고 이웃을 빼서 경계가 또렷해집니다."),
        _preset("identity", "Identity", "항등(그대로)",
                [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
                "Copies the centre pixel: the output is the input (minus the border).",
                "가운데 픽셀만 복사합니다: 출력이 입력과 같습니다(가장자리 제외)."),
        # The four filters of the seed notes (hongong chapter 8 presentation), in their order.
        _preset("upper_horizontal_edge", "Upper horizontal edge (filter 1)", "위쪽 수평 경계 (필터 1)",
                [[-1, -1, -1], [1, 1, 1], [0, 0, 0]],
                "Finds the top edge of an object: dark row above a bright row.",
                "물체의 위쪽 경계를 찾습니다: 어두운 행 아래 밝은 행."),
        _preset("left_vertical_edge", "Left vertical edge (filter 2)", "왼쪽 수직 경계 (필터 2)",
                [[-1, 1, 0], [-1, 1, 0], [-1, 1, 0]],
                "Finds the left edge of an object: dark column left of a bright column.",
                "물체의 왼쪽 경계를 찾습니다: 밝은 열 왼쪽의 어두운 열."),
        _preset("lower_horizontal_edge", "Lower horizontal edge (filter 3)", "아래쪽 수평 경계 (필터 3)",
                [[0, 0, 0], [1, 1, 1], [-1, -1, -1]],
                "Finds the bottom edge of an object: bright row above a dark row.",
                "물체의 아래쪽 경계를 찾습니다: 밝은 행 아래 어두운 행."),
        _preset("right_vertical_edge", "Right vertical edge (filter 4)", "오른쪽 수직 경계 (필터 4)",
                [[0, 1, -1], [0, 1, -1], [0, 1, -1]],
                "Finds the right edge of an object: bright column left of a dark column.",
                "물체의 오른쪽 경계를 찾습니다: 어두운 열 왼쪽의 밝은 열."),
        # seed 002 (Do it! deep learning, chapter 8): the 1-D example w = [-1, 0, 1]
        _preset("difference_1d", "1x3 difference w = [-1, 0, 1] (1-D example)", "1x3 차이 w = [-1, 0, 1] (1차원 예)",
                [[-1, 0, 1]],
                "Right neighbour minus left neighbour. On x = [1,3,2,2,0,2,3] cross-correlation gives "
                "[1,-1,-2,0,3]; convolution flips w and gives [-1,1,2,0,-3].",
                "오른쪽 이웃 빼기 왼쪽 이웃. x = [1,3,2,2,0,2,3]에 교차상관은 [1,-1,-2,0,3], "
                "w를 뒤집는 합성곱은 [-1,1,2,0,-3]을 줍니다."),
    )
}


@dataclass(frozen=True)
class InputGrid:
    """A small hand-made input of the lectures, ``(C, H, W)`` float64 with readable whole numbers."""

    key: str
    name_en: str
    name_ko: str
    values: np.ndarray = field(repr=False)
    note_en: str = ""
    note_ko: str = ""

    @property
    def array(self) -> np.ndarray:
        return self.values.astype(np.float64, copy=True)


def _lecture_6x6(bright_left: bool = True) -> np.ndarray:
    row = [10, 10, 10, 0, 0, 0] if bright_left else [0, 0, 0, 10, 10, 10]
    return np.array([row] * 6, dtype=np.float64)[None]


def _checker_6x6() -> np.ndarray:
    top = [10, 10, 10, 0, 0, 0]
    bottom = [0, 0, 0, 10, 10, 10]
    return np.array([top] * 3 + [bottom] * 3, dtype=np.float64)[None]


def _ring_39() -> np.ndarray:
    # A bright ring on a dark background: big enough for the size exercise, with edges to find.
    yy, xx = np.mgrid[:39, :39]
    r = np.hypot(yy - 19, xx - 19)
    return np.where(np.abs(r - 11) < 4, 10.0, 0.0)[None]


def _rgb_7x7() -> np.ndarray:
    # Three readable patterns (values 0..2) so each channel's sum tells a different story:
    # red is bright on the left, green on the top, blue along the diagonal.
    r = np.zeros((7, 7))
    r[:, :3], r[:, 3] = 2, 1
    g = np.zeros((7, 7))
    g[:3, :], g[3, :] = 2, 1
    b = np.eye(7) * 2 + np.eye(7, k=1) + np.eye(7, k=-1)
    return np.stack([r, g, b]).astype(np.float64)


INPUT_GRIDS: dict[str, InputGrid] = {
    g.key: g
    for g in (
        InputGrid("lecture_6x6", "6x6: bright left, dark right (lecture)", "6x6: 왼쪽 밝음, 오른쪽 어두움 (강의)",
                  _lecture_6x6(True),
                  "The vertical-edge lecture: 10 is bright, 0 is dark.",
                  "수직 에지 강의의 예: 10은 밝고 0은 어둡습니다."),
        InputGrid("lecture_6x6_mirror", "6x6: dark left, bright right (mirror)", "6x6: 왼쪽 어두움, 오른쪽 밝음 (반대)",
                  _lecture_6x6(False),
                  "The same edge the other way round: the vertical-edge filter answers with negative values.",
                  "반대 방향의 에지: 수직 에지 필터가 음수로 답합니다."),
        InputGrid("checker_6x6", "6x6: bright top-left and bottom-right", "6x6: 왼쪽 위와 오른쪽 아래가 밝음",
                  _checker_6x6(),
                  "The lecture's example for the horizontal-edge filter.",
                  "강의에서 수평 에지 필터를 적용한 예입니다."),
        InputGrid("stamp_4x4", "4x4 image: a 3x3 stamp fits 4 times", "4x4 이미지: 3x3 도장을 4번 찍기",
                  np.array([[[1, 2, 0, 3], [0, 1, 2, 1], [3, 0, 1, 2], [2, 1, 0, 1]]], dtype=np.float64),
                  "The stamp of the hongong book: a 3x3 filter fits a 4x4 image in 2x2 = 4 places.",
                  "혼공 책의 도장 찍기: 3x3 필터는 4x4 이미지에 2x2 = 4번 찍힙니다."),
        InputGrid("rgb_7x7x3", "7x7x3 RGB image", "7x7x3 RGB 이미지",
                  _rgb_7x7(),
                  "Three channels: a 3x3x3 filter multiplies each channel and adds the three sums (7-3+1 = 5).",
                  "채널이 3개: 3x3x3 필터가 채널마다 곱한 뒤 세 합을 더합니다 (7-3+1 = 5)."),
        InputGrid("ring_39x39", "39x39 ring (size exercise 39 → 37 → 17 → 7)",
                  "39x39 고리 (크기 연습 39 → 37 → 17 → 7)",
                  _ring_39(),
                  "The lecture's exercise: f=3, s=1 gives 37; then f=5, s=2 gives 17; once more 7.",
                  "강의의 연습 문제: f=3, s=1이면 37, 이어서 f=5, s=2이면 17, 한 번 더 하면 7."),
        InputGrid("seed_1d", "1x7: x = [1,3,2,2,0,2,3] (1-D example)", "1x7: x = [1,3,2,2,0,2,3] (1차원 예)",
                  np.array([[[1, 3, 2, 2, 0, 2, 3]]], dtype=np.float64),
                  "The notes' 1-D example: with w = [-1, 0, 1] cross-correlation gives [1,-1,-2,0,3] and "
                  "convolution [-1,1,2,0,-3].",
                  "노트의 1차원 예: w = [-1, 0, 1]로 교차상관은 [1,-1,-2,0,3], 합성곱은 [-1,1,2,0,-3]입니다."),
        InputGrid("pool_4x4", "4x4 feature map (for pooling)", "4x4 특성 맵 (풀링용)",
                  np.array([[[1, 3, 2, 9], [7, 4, 1, 5], [8, 5, 2, 3], [4, 2, 1, 4]]], dtype=np.float64),
                  "Max pooling 2x2 keeps 7, 9, 8, 4; average pooling gives 3.75, 4.25, 4.75, 2.5.",
                  "2x2 최대 풀링은 7, 9, 8, 4를, 평균 풀링은 3.75, 4.25, 4.75, 2.5를 남깁니다."),
    )
}


# ---------------------------------------------------------------------------------------------
# Grids typed or pasted as text
# ---------------------------------------------------------------------------------------------
GRID_MAX_SIDE = 16          # rows and columns of a typed grid (and of a lesson's grid)
GRID_MAX_CHANNELS = 3       # grey or RGB, as the lectures draw them
_SEPARATORS = re.compile(r"[\s,;]+")
_MINUS = str.maketrans({"\u2212": "-", "\u2013": "-", "\uff0d": "-"})


def parse_number(text: str) -> float:
    """A number as a student types it (``-1``, ``0.5``, ``−2``, ``1e3``); ``ValueError`` otherwise."""
    value = float(text.strip().translate(_MINUS))
    if not np.isfinite(value):
        raise ValueError(text)
    return value


def check_grid_size(rows: int, columns: int, channels: int = 1) -> None:
    """Raise the teaching :class:`ShapeError` when a grid's size is outside what the theater draws."""
    if not 1 <= int(rows) <= GRID_MAX_SIDE:
        raise ShapeError("grid_rows_out_of_range", got=int(rows), most=GRID_MAX_SIDE)
    if not 1 <= int(columns) <= GRID_MAX_SIDE:
        raise ShapeError("grid_columns_out_of_range", got=int(columns), most=GRID_MAX_SIDE)
    if not 1 <= int(channels) <= GRID_MAX_CHANNELS:
        raise ShapeError("grid_channels_out_of_range", got=int(channels), most=GRID_MAX_CHANNELS)


def parse_grid_text(text: str, max_channels: int = GRID_MAX_CHANNELS) -> np.ndarray:
    """A block of text as a float64 ``(C, H, W)`` grid.

    Numbers are separated by spaces, tabs, commas or semicolons (a spreadsheet's cells, the notes'
    ``[1,3,2,2,0,2,3]``); a new line starts a row; an empty line starts the next channel. Square
    brackets are read as row ends, so a Python/NumPy list ``[[1, 2], [3, 4]]`` pastes as two rows.
    Raises :class:`ShapeError` naming the row and column (counted from 1) of a word that is not a
    number, a row of another length, or a size outside 1..``GRID_MAX_SIDE`` (channels 1..``max_channels``).
    """
    lines = text.replace("[", " ").replace("]", "\n").splitlines()
    channels: list[list[list[float]]] = [[]]
    for line in lines:
        words = [w for w in _SEPARATORS.split(line) if w]
        if not words:
            if channels[-1]:
                channels.append([])
            continue
        ch, r = len(channels), len(channels[-1]) + 1
        row = []
        for c, word in enumerate(words, start=1):
            try:
                row.append(parse_number(word))
            except ValueError:
                raise ShapeError("grid_not_a_number", channel=ch, row=r, column=c, text=word) from None
        width = len(channels[-1][0]) if channels[-1] else len(channels[0][0]) if channels[0] else len(row)
        if len(row) != width:
            raise ShapeError("grid_ragged_row", channel=ch, row=r, got=len(row), width=width)
        channels[-1].append(row)
    if not channels[-1]:
        channels.pop()
    if not channels:
        raise ShapeError("grid_empty")
    heights = {len(rows) for rows in channels}
    if len(heights) > 1:
        raise ShapeError("grid_channel_heights", heights=Listing(len(rows) for rows in channels))
    check_grid_size(len(channels[0]), len(channels[0][0]), 1)
    if len(channels) > max_channels:
        raise ShapeError("grid_channels_out_of_range", got=len(channels), most=max_channels)
    return np.array(channels, dtype=np.float64)


def format_grid_text(grid) -> str:
    """The inverse of :func:`parse_grid_text`: tab-separated rows, channels separated by an empty line."""
    a = np.asarray(grid, dtype=np.float64)
    if a.ndim == 2:
        a = a[None]
    return "\n\n".join("\n".join("\t".join(fmt(v, 4) for v in row) for row in ch) for ch in a)


# ---------------------------------------------------------------------------------------------
# One step of the theater
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TheaterStep:
    """Everything the theater shows for one output cell ``(i, j)``.

    Attributes
    ----------
    index : position in reading order (row by row), ``i * out_w + j``
    i, j : output cell
    window : ``(r0, c0, r1, c1)`` input rows/cols read (end exclusive), in *unpadded* coordinates;
        values outside ``0..H`` / ``0..W`` are virtual (padding) pixels
    patch : ``(C, KH, KW)`` the input values under the window (0 for virtual pixels)
    virtual : ``(KH, KW)`` bool, True where the window covers padding
    products : ``(C, KH, KW)`` patch * kernel (conv only; None for pooling)
    channel_sums : ``(C,)`` per channel: the sum of the products (conv) or the pooled value (pooling)
    total : sum of ``channel_sums`` (conv); for pooling the value of channel 0
    bias, pre_activation, value : ``total + bias`` and the value after ReLU (conv)
    winners : pooling only: per channel the ``(row, col)`` in the unpadded input of the chosen pixel
        (max) or None (average)
    """

    index: int
    i: int
    j: int
    window: tuple[int, int, int, int]
    patch: np.ndarray
    virtual: np.ndarray
    products: np.ndarray | None
    channel_sums: np.ndarray
    total: float
    bias: float
    pre_activation: float
    value: float
    winners: tuple | None = None


def fmt(v: float, digits: int = 2) -> str:
    """A number as a student writes it: ``30`` not ``30.0``, ``-0.25``, no ``-0``."""
    if v is None or not np.isfinite(v):
        return "—" if v is None or np.isnan(v) else ("∞" if v > 0 else "−∞")
    r = round(float(v), digits)
    if r == 0:
        r = 0.0
    if r == int(r) and abs(r) < 1e15:
        return str(int(r))
    return f"{r:.{digits}f}".rstrip("0").rstrip(".")


# ---------------------------------------------------------------------------------------------
# The theater
# ---------------------------------------------------------------------------------------------
class ConvTheater:
    """Geometry and arithmetic of one convolution (or pooling) over one input.

    Parameters
    ----------
    x : ``(C, H, W)`` or ``(H, W)`` array-like, the input (any real numbers)
    kernel : ``(C, KH, KW)`` or ``(KH, KW)`` array-like, the filter (``op="conv"`` only)
    stride : the step ``s`` of the window, or ``(sh, sw)``
    padding : ``"valid"``, ``"same"`` (Keras), an int ``p`` or a ``(before, after)`` pair
    mode : ``"cross_correlation"`` (slide the kernel as is) or ``"convolution"`` (flip it first)
    bias : added to the sum of every window (conv only)
    relu : apply ``max(0, .)`` after the bias (conv only)
    op : ``"conv"``, ``"max"`` (max pooling) or ``"avg"`` (average pooling)
    pool_size : window size for pooling, an int or ``(height, width)``

    ``kernel_hw`` and ``stride_hw`` are always ``(height, width)`` pairs; ``size`` and ``stride`` are the
    plain ints of a square window and stride (the pairs otherwise).

    Pooling follows Keras: virtual pixels of ``padding="same"`` never win a max and are not counted
    in an average. Raises :class:`engine.errors.ShapeError` (teaching message) when the window does
    not fit or the kernel's channels do not match the input.
    """

    def __init__(self, x, kernel=None, *, stride=1, padding="valid", mode: str = "cross_correlation",
                 bias: float = 0.0, relu: bool = False, op: str = "conv", pool_size=2):
        x = np.asarray(x, dtype=np.float64)
        if x.ndim == 2:
            x = x[None]
        if x.ndim != 3 or x.shape[1] < 1 or x.shape[2] < 1:
            raise ShapeError("theater_image_shape", shape=x.shape)
        if op not in OPERATIONS:
            raise ShapeError("theater_unknown_operation", choices=OPERATIONS, op=op)
        if mode not in MODES:
            raise ShapeError("theater_unknown_mode", mode=mode)
        self.x = x
        self.op = op
        self.mode = mode
        sh, sw = (int(v) for v in pair(stride))
        self.stride_hw = (sh, sw)
        self.stride = sh if sh == sw else (sh, sw)
        self.padding = padding
        self.bias = float(bias) if op == "conv" else 0.0
        self.relu = bool(relu) if op == "conv" else False
        c, h, w = x.shape

        if op == "conv":
            if kernel is None:
                raise ShapeError("theater_needs_kernel")
            k = np.asarray(kernel, dtype=np.float64)
            if k.ndim == 2:
                k = np.broadcast_to(k, (c,) + k.shape).copy()
            if k.ndim != 3:
                raise ShapeError("theater_kernel_not_square", shape=k.shape)
            if k.shape[0] != c:
                raise ShapeError("theater_kernel_depth", kernel_channels=k.shape[0], channels=c, h=h, w=w)
            self.kernel = k
            kh, kw = k.shape[1], k.shape[2]
            what = "kernel"
        else:
            self.kernel = None
            kh, kw = (int(v) for v in pair(pool_size))
            what = "pool window"
        self.kernel_hw = (kh, kw)
        self.size = kh if kh == kw else (kh, kw)
        if op != "conv" and not isinstance(padding, str) and np.max(padding) >= min(kh, kw):
            raise ShapeError("theater_pool_padding", padding=padding, kh=kh, kw=kw, most=min(kh, kw) - 1)
        axes = (kh, sh, h) != (kw, sw, w)
        self.pad_rows: Padding1D = resolve_padding(padding, h, kh, sh, what, "height" if axes else None)
        self.pad_cols: Padding1D = resolve_padding(padding, w, kw, sw, what, "width" if axes else None)
        self.out_h = self.pad_rows.out
        self.out_w = self.pad_cols.out

        pr, pc = self.pad_rows, self.pad_cols
        self.padded = np.pad(x, ((0, 0), (pr.before, pr.after), (pc.before, pc.after)))
        self.virtual_mask = np.ones(self.padded.shape[1:], dtype=bool)
        self.virtual_mask[pr.before:pr.before + h, pc.before:pc.before + w] = False
        self._output = None
        self._pre = None

    # -- shapes ----------------------------------------------------------------------------------
    @property
    def channels(self) -> int:
        return self.x.shape[0]

    @property
    def height(self) -> int:
        return self.x.shape[1]

    @property
    def width(self) -> int:
        return self.x.shape[2]

    @property
    def n_positions(self) -> int:
        return self.out_h * self.out_w

    @property
    def effective_kernel(self) -> np.ndarray | None:
        """The kernel actually multiplied with the window: flipped (rows and columns) for convolution."""
        if self.kernel is None:
            return None
        return self.kernel[:, ::-1, ::-1].copy() if self.mode == "convolution" else self.kernel.copy()

    def position(self, index: int) -> tuple[int, int]:
        """Output cell of the ``index``-th step in reading order."""
        if not 0 <= index < self.n_positions:
            raise IndexError(f"step {index} is outside 0..{self.n_positions - 1}")
        return divmod(int(index), self.out_w)

    def index_of(self, i: int, j: int) -> int:
        return int(i) * self.out_w + int(j)

    def positions(self) -> Iterator[tuple[int, int]]:
        """Every output cell in the order the window visits them (row by row)."""
        for i in range(self.out_h):
            for j in range(self.out_w):
                yield i, j

    # -- geometry --------------------------------------------------------------------------------
    def window(self, i: int, j: int) -> tuple[int, int, int, int]:
        """``(r0, c0, r1, c1)`` in unpadded input coordinates (may reach into the padding)."""
        return receptive_window(i, j, self.kernel_hw, self.stride_hw, self.pad_rows.before, self.pad_cols.before)

    def padded_window(self, i: int, j: int) -> tuple[int, int, int, int]:
        """The same window in coordinates of :attr:`padded` (always inside it)."""
        r0, c0, r1, c1 = self.window(i, j)
        dr, dc = self.pad_rows.before, self.pad_cols.before
        return r0 + dr, c0 + dc, r1 + dr, c1 + dc

    def cells_reading(self, r: int, c: int) -> list[tuple[int, int]]:
        """Output cells whose window covers input pixel ``(r, c)`` (unpadded coordinates)."""
        return output_cells_reading(r, c, self.kernel_hw, self.stride_hw, self.pad_rows.before,
                                    self.pad_cols.before, self.out_h, self.out_w)

    def cells_reading_padded(self, pr: int, pc: int) -> list[tuple[int, int]]:
        """Like :meth:`cells_reading` for a pixel given in padded coordinates (virtual pixels too)."""
        return self.cells_reading(pr - self.pad_rows.before, pc - self.pad_cols.before)

    # -- arithmetic ------------------------------------------------------------------------------
    def step(self, index_or_cell) -> TheaterStep:
        """All numbers of one output cell: ``step(5)`` or ``step((i, j))``."""
        if isinstance(index_or_cell, (tuple, list)):
            i, j = (int(v) for v in index_or_cell)
            if not (0 <= i < self.out_h and 0 <= j < self.out_w):
                raise IndexError(f"cell ({i}, {j}) is outside the {self.out_h}x{self.out_w} output")
            index = self.index_of(i, j)
        else:
            index = int(index_or_cell)
            i, j = self.position(index)
        pr0, pc0, pr1, pc1 = self.padded_window(i, j)
        patch = self.padded[:, pr0:pr1, pc0:pc1].copy()
        virtual = self.virtual_mask[pr0:pr1, pc0:pc1].copy()
        window = self.window(i, j)
        if self.op == "conv":
            products = patch * self.effective_kernel
            sums = products.sum(axis=(1, 2))
            total = float(sums.sum())
            pre = total + self.bias
            value = max(pre, 0.0) if self.relu else pre
            return TheaterStep(index, i, j, window, patch, virtual, products, sums, total, self.bias, pre, value)
        sums = np.empty(self.channels)
        winners = []
        real = ~virtual
        for ch in range(self.channels):
            vals = np.where(real, patch[ch], -np.inf)
            if self.op == "max":
                flat = int(np.argmax(vals))  # first maximum in reading order, like the engine's argmax
                a, b = divmod(flat, self.kernel_hw[1])
                sums[ch] = vals[a, b]
                winners.append((window[0] + a, window[1] + b))
            else:
                sums[ch] = patch[ch][real].mean()
                winners.append(None)
        total = float(sums[0])
        return TheaterStep(index, i, j, window, patch, virtual, None, sums, total, 0.0, total, total, tuple(winners))

    def steps(self) -> Iterator[TheaterStep]:
        for index in range(self.n_positions):
            yield self.step(index)

    def _compute(self) -> None:
        (kh, kw), (sh, sw) = self.kernel_hw, self.stride_hw
        win = sliding_window_view(self.padded, (kh, kw), axis=(1, 2))[:, ::sh, ::sw][:, :self.out_h, :self.out_w]
        if self.op == "conv":
            pre = np.einsum("chwab,cab->hw", win, self.effective_kernel) + self.bias
            self._pre = pre
            self._output = np.maximum(pre, 0.0) if self.relu else pre
            return
        vmask = sliding_window_view(self.virtual_mask, (kh, kw))[::sh, ::sw][:self.out_h, :self.out_w]
        if self.op == "max":
            out = np.where(vmask[None], -np.inf, win).max(axis=(3, 4))
        else:
            real = (~vmask).sum(axis=(2, 3))
            out = np.where(vmask[None], 0.0, win).sum(axis=(3, 4)) / real[None]
        self._pre = out
        self._output = out

    def output(self) -> np.ndarray:
        """The whole output: ``(out_h, out_w)`` for conv (after bias and ReLU), ``(C, out_h, out_w)`` for pooling."""
        if self._output is None:
            self._compute()
        return self._output.copy()

    def pre_activation(self) -> np.ndarray:
        """Conv: the map before ReLU (sums + bias). Pooling: same as :meth:`output`."""
        if self._pre is None:
            self._compute()
        return self._pre.copy()

    # -- text ------------------------------------------------------------------------------------
    def formula(self, axis: str = "rows") -> str:
        """The output-size formula with this theater's numbers for one axis.

        ``"(6 + 2×0 − 3) / 1 + 1 = 4"``; with asymmetric ("same") padding
        ``"(6 + 0 + 1 − 2) / 1 + 1 = 6"``; a non-exact division shows the floor ``⌊ ⌋``.
        """
        rows = axis == "rows"
        n = self.height if rows else self.width
        pad = self.pad_rows if rows else self.pad_cols
        f = self.kernel_hw[0 if rows else 1]
        s = self.stride_hw[0 if rows else 1]
        pad_text = f"2×{pad.before}" if pad.before == pad.after else f"{pad.before} + {pad.after}"
        inner = f"{n} + {pad_text} − {f}"
        num = n + pad.total - f
        if num % s == 0:
            return f"({inner}) / {s} + 1 = {num // s} + 1 = {pad.out}"
        return f"⌊({inner}) / {s}⌋ + 1 = ⌊{num}/{s}⌋ + 1 = {pad.out}"

    def formula_lines(self) -> list[str]:
        """One line if the input is square (rows and columns agree), else one per axis."""
        rows = self.formula("rows")
        if rows == self.formula("cols"):
            return [rows]
        return [rows, self.formula("cols")]

    def describe_padding(self) -> str:
        """``"p = 1"``, ``"p = 0"`` or ``"top 0, bottom 1, left 0, right 1"`` (numbers only)."""
        pr, pc = self.pad_rows, self.pad_cols
        if pr.before == pr.after == pc.before == pc.after:
            return f"p = {pr.before}"
        return f"{pr.before}/{pr.after}, {pc.before}/{pc.after}"


def apply_kernel(x, kernel, *, stride=1, padding="valid", mode: str = "cross_correlation",
                 bias: float = 0.0, relu: bool = False) -> np.ndarray:
    """The full output map of one filter over one image (the "apply to whole image" view)."""
    return ConvTheater(x, kernel, stride=stride, padding=padding, mode=mode, bias=bias, relu=relu).output()


def kernel_for_input(kernel, channels: int) -> np.ndarray:
    """A ``(KH, KW)`` preset made as deep as the input: the same 2-D kernel on every channel."""
    k = np.asarray(kernel, dtype=np.float64)
    if k.ndim == 2:
        return np.broadcast_to(k, (channels,) + k.shape).copy()
    return k.copy()
