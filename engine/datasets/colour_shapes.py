"""The built-in colour dataset: filled shapes whose colour AND shape decide the class.

Nine classes, {red, green, blue} x {circle, square, triangle}, drawn in RGB on coloured, noisy
backgrounds. Position, size, rotation, colour and brightness vary from image to image.

Why a grayscale network cannot solve it
---------------------------------------
Every shape colour is drawn with a luma ``Y = 0.299 R + 0.587 G + 0.114 B`` (ITU-R 601, what a
grayscale conversion computes) taken from the SAME range for the three hues: the colour is a hue
direction (reddish, greenish, bluish, with jitter) scaled so that its luma equals a random target.
In grayscale a red, a green and a blue circle are therefore the same picture, and the best a
grayscale model can do is find the shape (one class in three). With the three channels the hue is
plain: the first layer's filters become colour detectors, and the channels visibly matter.

Drawing is vectorised: each shape is a signed distance field over the pixel grid turned into an
anti-aliased mask ``clip(0.5 - distance, 0, 1)``. Everything is decided by one
``numpy.random.Generator`` seeded from ``seed``, so the same seed gives the same bytes.
"""

from __future__ import annotations

import numpy as np

from engine.datasets.base import Dataset, DatasetInfo

__all__ = ["COLOURS", "SHAPES", "COLOUR_SHAPE_CLASSES", "LUMA", "INFO", "INFO_64", "render_colour_shapes",
           "generate_colour_shapes", "load_colour_shapes", "luma"]

COLOURS = ("red", "green", "blue")
SHAPES = ("circle", "square", "triangle")
#: class k is colour k // 3 and shape k % 3
COLOUR_SHAPE_CLASSES = tuple(f"{c} {s}" for c in COLOURS for s in SHAPES)
#: ITU-R 601 luma weights (Pillow's convert("L"), engine.imaging's grayscale)
LUMA = np.array([0.299, 0.587, 0.114], np.float32)
#: hue directions of the three colours before their luma is set
_HUES = np.array([[1.0, 0.25, 0.25], [0.25, 1.0, 0.25], [0.45, 0.45, 1.0]], np.float32)
#: every shape colour's luma is drawn from this range, the same for the three hues
SHAPE_LUMA = (70.0, 115.0)
_CHUNK = 1024

_DESCRIPTION = (
    "Generated on your computer, no download: red, green and blue circles, squares and triangles on coloured, noisy "
    "backgrounds. Colour and shape together decide the class, and the three colours are equally bright, so a "
    "grayscale network cannot tell a red circle from a green one: watch the first filters become colour detectors.")

INFO = DatasetInfo("colour_shapes", "Colour shapes (built-in, 32x32 RGB)", COLOUR_SHAPE_CLASSES, (3, 32, 32),
                   9000, 1800, _DESCRIPTION, license="generated", offline=True)
INFO_64 = DatasetInfo("colour_shapes_64", "Colour shapes (built-in, 64x64 RGB)", COLOUR_SHAPE_CLASSES, (3, 64, 64),
                      9000, 1800, _DESCRIPTION, license="generated", offline=True)


def luma(rgb: np.ndarray) -> np.ndarray:
    """Grayscale value of RGB colours ``(..., 3)`` (ITU-R 601)."""
    return np.asarray(rgb, np.float32) @ LUMA


def _col(v) -> np.ndarray:
    return np.asarray(v, np.float32).reshape(-1, 1, 1)


def _shape_distance(kind: int, n: int, size: int, rng: np.random.Generator, px, py) -> np.ndarray:
    """Signed distance (negative inside) to ``n`` random shapes of one kind (0 circle, 1 square, 2 triangle)."""
    s = float(size)
    r = _col(rng.uniform(0.22, 0.33, n) * s)           # size of the shape (circumradius-like)
    margin = r + 1.0
    cx = _col(rng.uniform(0, 1, n)) * (s - 1 - 2 * margin) + margin
    cy = _col(rng.uniform(0, 1, n)) * (s - 1 - 2 * margin) + margin
    dx, dy = px - cx, py - cy
    if kind == 0:
        return np.sqrt(dx * dx + dy * dy) - r * 0.85
    angle = _col(np.deg2rad(rng.uniform(-20, 20, n)))   # upright, tilted a little: square and diamond stay apart
    c, sn = np.cos(angle), np.sin(angle)
    ux, uy = dx * c + dy * sn, dy * c - dx * sn         # coordinates in the shape's own frame
    if kind == 1:
        h = r * 0.75                                    # half side: about the circle's area
        qx, qy = np.abs(ux) - h, np.abs(uy) - h
        return np.sqrt(np.maximum(qx, 0) ** 2 + np.maximum(qy, 0) ** 2) + np.minimum(np.maximum(qx, qy), 0)
    # equilateral triangle, apex up: the largest signed distance to its three edge lines
    inradius = r * 0.62
    tri = uy - inradius
    for k in (1, 2):
        a = np.pi / 2 + k * 2 * np.pi / 3
        tri = np.maximum(tri, ux * np.float32(np.cos(a)) + uy * np.float32(np.sin(a)) - inradius)
    return tri


def render_colour_shapes(labels: np.ndarray, rng: np.random.Generator, size: int = 32) -> np.ndarray:
    """Draw one image per label: uint8 ``(N, 3, size, size)``."""
    labels = np.asarray(labels, np.int64)
    n = len(labels)
    size = int(size)
    out = np.empty((n, 3, size, size), np.uint8)
    grid = np.arange(size, dtype=np.float32)
    px, py = grid[None, None, :], grid[None, :, None]
    for start in range(0, n, _CHUNK):
        lab = labels[start:start + _CHUNK]
        m = len(lab)
        colour, kind = lab // len(SHAPES), lab % len(SHAPES)
        mask = np.empty((m, 1, size, size), np.float32)
        for k in range(len(SHAPES)):
            idx = np.flatnonzero(kind == k)
            if len(idx):
                mask[idx, 0] = np.clip(0.5 - _shape_distance(k, len(idx), size, rng, px, py), 0.0, 1.0)
        # shape colour: the hue direction with jitter, scaled to a luma drawn from the same range for every hue
        hue = _HUES[colour] * rng.uniform(0.85, 1.15, (m, 3)).astype(np.float32)
        target = rng.uniform(*SHAPE_LUMA, m).astype(np.float32)
        fg = np.clip(hue * (target / luma(hue))[:, None], 0, 255)
        # background: a pale tint, always clearly brighter than the shape, with a gentle gradient
        bg_luma = rng.uniform(150, 230, m).astype(np.float32)
        tint = 1.0 + rng.uniform(-0.35, 0.35, (m, 3)).astype(np.float32)
        bg = np.clip(tint * (bg_luma / luma(tint))[:, None], 0, 255)
        gx, gy = rng.uniform(-12, 12, (2, m)).astype(np.float32)
        ramp = (_col(gx) * (px - size / 2) + _col(gy) * (py - size / 2)) / size      # (m, S, S)
        background = bg[:, :, None, None] + ramp[:, None]
        img = background + mask * (fg[:, :, None, None] - background)
        sigma = _col(rng.uniform(0, 8, m))[:, None]
        img += rng.standard_normal((m, 3, size, size), np.float32) * sigma
        out[start:start + m] = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    return out


def generate_colour_shapes(n: int, seed: int = 0, size: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """``n`` images ``(n, 3, size, size)`` with balanced, shuffled labels, deterministic from ``seed``."""
    rng = np.random.default_rng(seed)
    k = len(COLOUR_SHAPE_CLASSES)
    labels = rng.permutation(np.arange(int(n)) % k).astype(np.int64)
    return render_colour_shapes(labels, rng, size), labels


def load_colour_shapes(seed: int = 0, train_size: int = 9000, test_size: int = 1800, size: int = 32) -> Dataset:
    """The colour dataset: ``train_size`` training and ``test_size`` validation images of ``size`` x ``size``."""
    info = INFO_64 if int(size) == 64 else INFO
    train_seed, test_seed = np.random.SeedSequence(seed).spawn(2)
    x_train, y_train = generate_colour_shapes(int(train_size), np.random.default_rng(train_seed).integers(2 ** 63),
                                              size)
    x_test, y_test = generate_colour_shapes(int(test_size), np.random.default_rng(test_seed).integers(2 ** 63), size)
    name = info.key if int(size) in (32, 64) else f"colour_shapes_{int(size)}"
    return Dataset(name, x_train, y_train, x_test, y_test, list(COLOUR_SHAPE_CLASSES),
                   source=f"generated on this computer (seed {seed})", display_name=info.display_name)
