"""The editor's free input shape: what a typed "39x39x3" means, and the notes' shapes to pick from.

Widget-free (no Qt import). The draft keeps the shape; the input bar view types and picks it.
Shapes are shown and typed as Keras does, ``H x W x C``; the engine's are ``(C, H, W)``.
"""

from __future__ import annotations

import re

from engine.limits import MAX_SHAPES_ONLY_INPUT_VALUES
from engine.shapes import format_shape
from gui.i18n import tr

#: The notes' input shapes, ``(C, H, W)``: MNIST, CIFAR-10, the notes' 39x39x3 network, a 64x64 photo.
PRESET_SHAPES = ((1, 28, 28), (3, 32, 32), (3, 39, 39), (3, 64, 64))
#: Largest side and channel count a typed shape may have (shapes only: nothing is allocated).
MAX_SIDE = 100_000
MAX_CHANNELS = 4096
#: Largest input (values per image) shapes-only validation accepts: 1000x1000x3 fits, 10000x10000x3 does not.
MAX_INPUT_VALUES = MAX_SHAPES_ONLY_INPUT_VALUES

_SEPARATORS = re.compile(r"\s*[x×X*,]\s*|\s+")


class InputShapeError(ValueError):
    """A typed input shape the editor cannot use; ``str()`` is the translated teaching message."""


def parse_input_shape(text: str) -> tuple[int, int, int]:
    """``"39x39x3"`` (also ``39 x 39 x 3``, ``39×39×3``, ``39,39,3``, ``28x28`` = one channel) -> ``(C, H, W)``.

    Raises :class:`InputShapeError` quoting what was typed and how to write it.
    """
    raw = str(text).strip()
    parts = _SEPARATORS.split(raw) if raw else []
    example = tr("Type height x width x channels, for example 39x39x3 (colour) or 28x28x1 (grayscale).")
    if len(parts) not in (2, 3) or not all(p.isdigit() for p in parts):
        raise InputShapeError(tr("'{text}' is not an input shape. {example}").format(text=raw, example=example))
    h, w = int(parts[0]), int(parts[1])
    c = int(parts[2]) if len(parts) == 3 else 1
    if min(h, w, c) < 1:
        raise InputShapeError(tr("Every side of the input needs at least 1 pixel and 1 channel; you typed "
                                 "{text}. {example}").format(text=raw, example=example))
    if max(h, w) > MAX_SIDE or c > MAX_CHANNELS or h * w * c > MAX_INPUT_VALUES:
        raise InputShapeError(tr("{text} is larger than the editor accepts ({side} pixels a side, {channels} "
                                 "channels, {values} values at most).").format(
            text=raw, side=f"{MAX_SIDE:,}", channels=f"{MAX_CHANNELS:,}", values=f"{MAX_INPUT_VALUES:,}"))
    return c, h, w


def shapes_only_message(input_shape: tuple, dataset_shape: tuple | None) -> str:
    """Why Apply/Train is off in "shapes only" mode: the dataset shape that would fit, and the draft's."""
    needed = format_shape(tuple(input_shape))
    if dataset_shape is None:
        return tr("Shapes only: no dataset is loaded. To train this draft, open a dataset of {needed} images.").format(
            needed=needed)
    kind = tr("colour") if int(input_shape[0]) == 3 else (
        tr("grayscale") if int(input_shape[0]) == 1 else tr("{c}-channel").format(c=int(input_shape[0])))
    return tr(
        "Shapes only: this draft takes {needed} inputs, the dataset gives {have}. Shapes, parameters and formulas "
        "are exact, but Train needs a dataset of {needed} images ({kind}, e.g. an image folder resized to "
        "{h}x{w}), or set the input back to {have}."
    ).format(needed=needed, have=format_shape(tuple(dataset_shape)), kind=kind,
             h=int(input_shape[1]), w=int(input_shape[2]))


__all__ = ["InputShapeError", "PRESET_SHAPES", "parse_input_shape", "shapes_only_message"]
