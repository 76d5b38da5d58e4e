"""Output-size arithmetic and receptive-window geometry: the one place these formulas live.

The textbook formula for a convolution or pooling window of size ``f`` sliding with stride ``s``
over an input of size ``n`` padded with ``p`` virtual pixels on each side is::

    out = floor((n + 2p - f) / s) + 1

Keras/TensorFlow ``padding="same"`` chooses the padding so that ``out = ceil(n / s)``; when the total
padding is odd the extra row/column goes to the bottom/right.

Windows and strides may be rectangular (Keras's ``kernel_size=(1, 3)``, ``strides=(2, 1)``): the same
formula runs once per axis, height with ``(fh, sh)`` and width with ``(fw, sw)``
(:func:`pair`, :func:`resolve_padding_2d`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from engine.errors import ShapeError, Term

PaddingSpec = "str | int | tuple[int, int]"


@dataclass(frozen=True)
class Padding1D:
    """Padding along one axis and the resulting output size."""

    before: int
    after: int
    out: int

    @property
    def total(self) -> int:
        return self.before + self.after


def _check_positive(name: str, value: int, what: str) -> None:
    if not isinstance(value, (int,)) or isinstance(value, bool):
        raise ShapeError("not_whole_number", owner=Term(what), what=Term(name), value=value)
    if value < 1:
        raise ShapeError("too_small", owner=Term(what), what=Term(name), minimum=1, value=value)


def pair(value) -> tuple:
    """``3`` -> ``(3, 3)``; ``(1, 3)`` or ``[1, 3]`` -> ``(1, 3)`` (height, width); other values as a tuple.

    No validation: the caller checks each number (so that a wrong value is named in its error).
    """
    if isinstance(value, (tuple, list)):
        return tuple(value)
    return (value, value)


def conv_output_size(n: int, f: int, s: int = 1, p: int = 0, what: str = "window", axis: str | None = None) -> int:
    """Return ``floor((n + 2p - f) / s) + 1`` or raise a :class:`ShapeError` that teaches.

    Parameters
    ----------
    n : input size along one axis
    f : window (kernel or pool) size
    s : stride
    p : zero padding added on each side
    what : how to name the window in the message ("kernel", "pool window")
    axis : ``"height"`` or ``"width"`` for a rectangular layer: the message then names the axis
    """
    _check_positive("stride", s, what)
    _check_positive("size", f, what)
    if p < 0:
        raise ShapeError("negative_padding", owner=Term(what), padding=p)
    if n < 1:
        raise ShapeError("input_empty", owner=Term(what), size=n)
    if f > n + 2 * p:
        if axis is not None:
            raise ShapeError("window_too_large_axis", what=Term(what), axis=Term(axis), size=f, n=n, padding=p,
                             stride=s, out=(n + 2 * p - f) // s + 1, most=n + 2 * p)
        raise ShapeError("window_too_large", what=Term(what), size=f, n=n, padding=p, stride=s,
                         out=(n + 2 * p - f) // s + 1, most=n + 2 * p)
    return (n + 2 * p - f) // s + 1


def same_padding(n: int, f: int, s: int = 1) -> Padding1D:
    """Keras/TensorFlow "same" padding: output ``ceil(n / s)``, extra padding at the end."""
    _check_positive("stride", s, "window")
    _check_positive("size", f, "window")
    out = math.ceil(n / s)
    total = max((out - 1) * s + f - n, 0)
    return Padding1D(total // 2, total - total // 2, out)


def resolve_padding(padding, n: int, f: int, s: int = 1, what: str = "kernel", axis: str | None = None) -> Padding1D:
    """Turn ``"valid"``, ``"same"``, an int ``p`` or a ``(before, after)`` pair into a :class:`Padding1D`."""
    if isinstance(padding, str):
        mode = padding.lower()
        if mode == "valid":
            return Padding1D(0, 0, conv_output_size(n, f, s, 0, what, axis))
        if mode == "same":
            if n < 1:
                raise ShapeError("input_empty", owner=Term(what), size=n)
            return same_padding(n, f, s)
        raise ShapeError("bad_padding_mode", owner=Term(what), padding=padding)
    if isinstance(padding, (tuple, list)):
        before, after = (int(v) for v in padding)
        if before < 0 or after < 0:
            raise ShapeError("negative_padding", owner=Term(what), padding=tuple(padding))
        _check_positive("stride", s, what)
        span = n + before + after
        if f > span:
            if axis is not None:
                raise ShapeError("window_too_large_padded_axis", what=Term(what), axis=Term(axis), size=f, n=n,
                                 before=before, after=after)
            raise ShapeError("window_too_large_padded", what=Term(what), size=f, n=n, before=before, after=after)
        return Padding1D(before, after, (span - f) // s + 1)
    p = int(padding)
    return Padding1D(p, p, conv_output_size(n, f, s, p, what, axis))


def split_padding(padding) -> tuple:
    """A layer's ``padding`` per axis: ``(rows, cols)``, each a form :func:`resolve_padding` takes.

    ``"valid"`` / ``"same"`` / ``p`` apply to both axes; ``(ph, pw)`` pads ``ph`` rows above and below and
    ``pw`` columns left and right (Keras ``ZeroPadding2D``); ``((top, bottom), (left, right))`` is explicit.
    """
    if isinstance(padding, (tuple, list)):
        if len(padding) != 2:
            raise ShapeError("bad_padding_form", padding=tuple(padding))
        return tuple(tuple(p) if isinstance(p, (tuple, list)) else p for p in padding)
    return padding, padding


def resolve_padding_2d(padding, h: int, w: int, fh: int, fw: int, sh: int = 1, sw: int = 1,
                       what: str = "kernel", name_axes: bool | None = None) -> tuple[Padding1D, Padding1D]:
    """:func:`resolve_padding` on both axes of an ``h x w`` input: returns ``(rows, cols)``.

    ``name_axes`` (default: when the window, stride, input or padding differ between the axes) makes an
    error say which axis fails ("kernel height 5 does not fit input height 3 ...").
    """
    prow, pcol = split_padding(padding)
    if name_axes is None:
        name_axes = (fh, sh, h, prow) != (fw, sw, w, pcol)
    rows = resolve_padding(prow, h, fh, sh, what, "height" if name_axes else None)
    cols = resolve_padding(pcol, w, fw, sw, what, "width" if name_axes else None)
    return rows, cols


def padding_for_same_output(f: int) -> float:
    """The padding ``p = (f - 1) / 2`` that keeps ``n + 2p - f + 1 = n`` at stride 1 (whole only for odd f)."""
    return (f - 1) / 2


def receptive_window(i: int, j: int, f, s=1, pad_top: int = 0, pad_left: int = 0) -> tuple[int, int, int, int]:
    """Input rows/cols ``(r0, c0, r1, c1)`` (end exclusive) read by output cell ``(i, j)``.

    ``f`` and ``s`` are ints or ``(height, width)`` pairs. Coordinates are in the *unpadded* input:
    negative values or values past the edge are padding (virtual pixels).
    """
    fh, fw = pair(f)
    sh, sw = pair(s)
    r0 = i * sh - pad_top
    c0 = j * sw - pad_left
    return r0, c0, r0 + fh, c0 + fw


def output_cells_reading(r: int, c: int, f, s, pad_top: int, pad_left: int, out_h: int,
                         out_w: int) -> list[tuple[int, int]]:
    """Every output cell whose window covers input pixel ``(r, c)`` (the inverse of :func:`receptive_window`)."""
    fh, fw = pair(f)
    sh, sw = pair(s)
    cells = []
    for i in range(out_h):
        r0 = i * sh - pad_top
        if not (r0 <= r < r0 + fh):
            continue
        for j in range(out_w):
            c0 = j * sw - pad_left
            if c0 <= c < c0 + fw:
                cells.append((i, j))
    return cells


def format_shape(shape: tuple | None) -> str:
    """Keras-style display of an engine shape: ``(C, H, W)`` -> ``"H x W x C"``, ``(D,)`` -> ``"D"``,
    ``None`` (not known yet) -> ``"?"``. The one shape formatter of the engine and the GUI."""
    if shape is None:
        return "?"
    shape = tuple(int(v) for v in shape)
    if len(shape) == 3:
        c, h, w = shape
        return f"{h} x {w} x {c}"
    return " x ".join(str(v) for v in shape)
