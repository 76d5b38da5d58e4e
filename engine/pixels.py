"""Pixels as the network sees them: the one place uint8 becomes float32 in ``[0, 1]``.

Every dataset, dropped file, drawing and batch goes through :func:`to_float32`, so training,
inspection and classification scale an image exactly alike (``x * float32(1/255)``, bit for bit).
"""

from __future__ import annotations

import numpy as np

__all__ = ["PIXEL_SCALE", "to_float32"]

PIXEL_SCALE = np.float32(1.0 / 255.0)


def to_float32(x, out: np.ndarray | None = None) -> np.ndarray:
    """uint8 pixels -> C-contiguous float32 in ``[0, 1]``; float input becomes float32 unchanged.

    Parameters
    ----------
    x : array of uint8 pixels (any shape) or floats already in ``[0, 1]``
    out : optional preallocated float32 array of ``x``'s shape (the trainer reuses its batch buffer)
    """
    x = np.asarray(x)
    if out is None:
        out = np.empty(x.shape, np.float32)
    if x.dtype == np.uint8:
        np.multiply(x, PIXEL_SCALE, out=out)
    else:
        out[...] = x
    return out
