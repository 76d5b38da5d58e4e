"""The feature-map panel's input as the network reads it: a colour picture is three channels.

No Qt: :func:`channel_strip` lays the red, green and blue channels of a ``(3, H, W)`` input side by
side, each tinted in its own colour (black = 0, full red/green/blue = 1), so a student sees that a
blue shape is bright in the blue channel and dark in the other two. A one-channel input has no strip.
"""

from __future__ import annotations

import numpy as np

CHANNEL_NAMES = ("R", "G", "B")
GAP = 2


def channel_strip(x: np.ndarray, gap: int = GAP) -> np.ndarray | None:
    """``(3, H, W)`` in [0, 1] -> ``(H, 3 W + 2 gap, 3)`` float32 RGB (white gutters); None unless 3 channels."""
    x = np.asarray(x, np.float32)
    if x.ndim != 3 or x.shape[0] != 3:
        return None
    _, h, w = x.shape
    out = np.ones((h, 3 * w + 2 * gap, 3), np.float32)
    for c in range(3):
        tile = np.zeros((h, w, 3), np.float32)
        tile[..., c] = x[c].clip(0, 1)
        out[:, c * (w + gap): c * (w + gap) + w] = tile
    return out


def channel_label_positions(width: int, gap: int = GAP) -> list[tuple[float, float, str]]:
    """``(x, y, name)`` of the R/G/B names above each tile of a strip of tiles ``width`` wide."""
    return [(c * (width + gap) + width / 2, -0.5, name) for c, name in enumerate(CHANNEL_NAMES)]
