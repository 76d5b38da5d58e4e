"""A first-layer filter on a colour input, ``(3, K, K)``, as its three slices and as one colour patch.

No Qt: plain numpy, so the arithmetic is tested alone. The slices use the panel's signed colour map
(``lut``: blue negative, white zero, red positive on the shared levels ``lo..hi``); the patch maps
each channel's weight ``w`` to ``0.5 + w / (2 m)`` (``m``: the largest ``|w|`` shown), so a filter whose
red weights are positive and green/blue ones negative is a red patch: the colour it responds to.
"""

from __future__ import annotations

import numpy as np

COLUMNS = 4          # red, green, blue slices, then the colour patch


def colour_patches(w: np.ndarray, m: float) -> np.ndarray:
    """``(F, 3, K, K)`` weights -> ``(F, K, K, 3)`` RGB in [0, 1] (0.5 gray = all weights zero)."""
    m = float(m) if m and np.isfinite(m) and m > 0 else 1.0
    return np.transpose((np.asarray(w, np.float32) / (2 * m) + 0.5).clip(0, 1), (0, 2, 3, 1))


def slices_and_patch(w: np.ndarray, lo: float, hi: float, lut: np.ndarray) -> np.ndarray:
    """``(F, 3, K, K)`` -> ``(F, 4, K, K, 3)`` RGB tiles in [0, 1]: the R, G and B kernels on the signed
    colour map ``lut`` (``(256, 3|4)`` uint8) between ``lo`` and ``hi``, then the filter's colour patch."""
    w = np.asarray(w, np.float32)
    if w.ndim != 4 or w.shape[1] != 3:
        raise ValueError(f"expected (F, 3, K, K) weights of a colour input, got {w.shape}")
    span = float(hi) - float(lo)
    t = (w - float(lo)) / (span if span > 0 else 1.0)
    index = (np.nan_to_num(t).clip(0, 1) * (len(lut) - 1)).round().astype(np.intp)
    slices = np.asarray(lut, np.float32)[index][..., :3] / 255.0          # (F, 3, K, K, 3)
    patch = colour_patches(w, max(abs(float(lo)), abs(float(hi))))        # (F, K, K, 3)
    return np.concatenate([slices, patch[:, None]], axis=1)
