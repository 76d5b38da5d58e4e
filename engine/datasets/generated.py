"""The built-in "shapes" dataset: 28x28 grayscale strokes and outlines drawn with numpy.

It is the offline default. Its eight classes are chosen so that first-layer filters learn
something a student can name: oriented edges (vertical, horizontal, diagonal bars), their
combinations (plus, X), corners (square, triangle) and curvature (circle). Every image varies in
position, size, stroke thickness, slight rotation, brightness and noise, so the classes are
distinct but not trivial (a diagonal bar and an X share a stroke; a square and a plus share both
orientations).

Drawing is vectorised: each shape is a distance field over the pixel grid, turned into an
anti-aliased stroke ``clip(thickness / 2 + 0.5 - distance, 0, 1)``. Everything is decided by one
``numpy.random.Generator`` seeded from ``seed``, so the same seed gives the same bytes.
"""

from __future__ import annotations

import numpy as np

from engine.datasets.base import Dataset, DatasetInfo

__all__ = ["SHAPE_CLASSES", "INFO", "generate_shapes", "render_shapes", "load_shapes"]

SHAPE_CLASSES = ("vertical bar", "horizontal bar", "diagonal bar", "plus", "X cross",
                 "circle", "square", "triangle")

INFO = DatasetInfo(
    "shapes", "Shapes (built-in)", SHAPE_CLASSES, (1, 28, 28), 12000, 2000,
    "Generated on your computer, no download: bars in three orientations, plus and X crosses, circles, squares "
    "and triangles at random positions, sizes and thicknesses with noise. Filters become edge, corner and curve "
    "detectors you can recognise.",
    license="generated", offline=True)

_SIZE = 28
_CHUNK = 2048


def _seg_dist(px, py, x0, y0, x1, y1):
    """Distance from every pixel (px, py: (1, H, W)) to segments (x0..y1: (n, 1, 1))."""
    dx, dy = x1 - x0, y1 - y0
    ll = dx * dx + dy * dy + 1e-9
    t = np.clip(((px - x0) * dx + (py - y0) * dy) / ll, 0.0, 1.0)
    ex = px - (x0 + t * dx)
    ey = py - (y0 + t * dy)
    return np.sqrt(ex * ex + ey * ey)


def _bar(px, py, cx, cy, half, angle):
    c, s = np.cos(angle) * half, np.sin(angle) * half
    return _seg_dist(px, py, cx - c, cy - s, cx + c, cy + s)


def _render_class(k: int, n: int, rng: np.random.Generator, px, py) -> np.ndarray:
    """``n`` anti-aliased ink maps (n, H, W) float32 in [0, 1] of class ``k``."""
    S = _SIZE
    col = lambda v: np.asarray(v, np.float32).reshape(-1, 1, 1)  # noqa: E731
    thick = col(rng.uniform(1.3, 3.2, n))
    jitter = col(np.deg2rad(rng.uniform(-15, 15, n)))

    if k in (0, 1, 2, 3, 4):                       # strokes
        half = col(rng.uniform(6.0, 11.5, n))
        margin = half * 0.75 + thick
        cx = col(rng.uniform(0, 1, n)) * (S - 1 - 2 * margin) + margin
        cy = col(rng.uniform(0, 1, n)) * (S - 1 - 2 * margin) + margin
        if k == 0:
            d = _bar(px, py, cx, cy, half, np.pi / 2 + jitter)
        elif k == 1:
            d = _bar(px, py, cx, cy, half, jitter)
        elif k == 2:
            sign = col(rng.choice([-1.0, 1.0], n))
            d = _bar(px, py, cx, cy, half, sign * np.pi / 4 + jitter)
        else:
            base = jitter + (np.pi / 4 if k == 4 else 0.0)
            half2 = half * col(rng.uniform(0.75, 1.0, n))
            d = np.minimum(_bar(px, py, cx, cy, half, base), _bar(px, py, cx, cy, half2, base + np.pi / 2))
    elif k == 5:                                   # circle (slightly elliptic)
        r = col(rng.uniform(4.5, 10.0, n))
        aspect = col(rng.uniform(0.85, 1.15, n))
        margin = r * 1.15 + thick / 2 + 0.5
        cx = col(rng.uniform(0, 1, n)) * (S - 1 - 2 * margin) + margin
        cy = col(rng.uniform(0, 1, n)) * (S - 1 - 2 * margin) + margin
        d = np.abs(np.sqrt((px - cx) ** 2 + ((py - cy) * aspect) ** 2) - r)
    elif k == 6:                                   # square outline, slightly rotated
        h = col(rng.uniform(4.0, 9.5, n))
        margin = h * 1.3 + thick / 2 + 0.5
        cx = col(rng.uniform(0, 1, n)) * (S - 1 - 2 * margin) + margin
        cy = col(rng.uniform(0, 1, n)) * (S - 1 - 2 * margin) + margin
        c, s = np.cos(jitter), np.sin(jitter)
        qx = np.abs((px - cx) * c + (py - cy) * s) - h
        qy = np.abs(-(px - cx) * s + (py - cy) * c) - h
        outside = np.sqrt(np.maximum(qx, 0) ** 2 + np.maximum(qy, 0) ** 2)
        d = np.abs(outside + np.minimum(np.maximum(qx, qy), 0))
    else:                                          # triangle outline, apex up (rotated a little)
        r = col(rng.uniform(5.5, 11.5, n))
        margin = r + thick / 2 + 0.5
        cx = col(rng.uniform(0, 1, n)) * (S - 1 - 2 * margin) + margin
        cy = col(rng.uniform(0, 1, n)) * (S - 1 - 2 * margin * 0.8) + margin * 0.8
        a = -np.pi / 2 + jitter
        pts = [(cx + r * np.cos(a + i * 2 * np.pi / 3), cy + r * np.sin(a + i * 2 * np.pi / 3)) for i in range(3)]
        d = np.minimum(np.minimum(_seg_dist(px, py, *pts[0], *pts[1]), _seg_dist(px, py, *pts[1], *pts[2])),
                       _seg_dist(px, py, *pts[2], *pts[0]))
    return np.clip(thick / 2 + 0.5 - d, 0.0, 1.0).astype(np.float32)


def render_shapes(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Draw one image per label: uint8 ``(N, 1, 28, 28)``, ink bright on a dark noisy background."""
    labels = np.asarray(labels)
    n = len(labels)
    out = np.empty((n, 1, _SIZE, _SIZE), np.uint8)
    grid = np.arange(_SIZE, dtype=np.float32)
    px, py = grid[None, None, :], grid[None, :, None]
    for start in range(0, n, _CHUNK):
        lab = labels[start:start + _CHUNK]
        m = len(lab)
        ink = np.empty((m, _SIZE, _SIZE), np.float32)
        for k in range(len(SHAPE_CLASSES)):
            idx = np.flatnonzero(lab == k)
            if len(idx):
                ink[idx] = _render_class(k, len(idx), rng, px, py)
        col = lambda v: np.asarray(v, np.float32).reshape(-1, 1, 1)  # noqa: E731
        # clutter: a third of the images get up to three short specks that belong to no class
        for _ in range(3):
            idx = np.flatnonzero(rng.random(m) < 0.33)
            j = len(idx)
            x0, y0 = col(rng.uniform(1, _SIZE - 2, j)), col(rng.uniform(1, _SIZE - 2, j))
            ang, length = col(rng.uniform(0, np.pi, j)), col(rng.uniform(0.0, 2.5, j))
            speck = np.clip(1.2 - _bar(px, py, x0, y0, length, ang), 0.0, 1.0) * col(rng.uniform(0.4, 0.9, j))
            ink[idx] = np.maximum(ink[idx], speck)
        bright = col(rng.uniform(110, 255, m))
        background = col(rng.uniform(0, 50, m))
        sigma = col(rng.uniform(0, 28, m))
        img = background + ink * (bright - background) + rng.standard_normal((m, _SIZE, _SIZE), np.float32) * sigma
        out[start:start + m, 0] = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    return out


def generate_shapes(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` images with balanced, shuffled labels, deterministic from ``seed``."""
    rng = np.random.default_rng(seed)
    k = len(SHAPE_CLASSES)
    labels = rng.permutation(np.arange(n) % k).astype(np.int64)
    return render_shapes(labels, rng), labels


def load_shapes(seed: int = 0, train_size: int = 12000, test_size: int = 2000) -> Dataset:
    """The shapes dataset: ``train_size`` training and ``test_size`` validation images."""
    train_seed, test_seed = np.random.SeedSequence(seed).spawn(2)
    x_train, y_train = generate_shapes(int(train_size), np.random.default_rng(train_seed).integers(2 ** 63))
    x_test, y_test = generate_shapes(int(test_size), np.random.default_rng(test_seed).integers(2 ** 63))
    return Dataset("shapes", x_train, y_train, x_test, y_test, list(SHAPE_CLASSES),
                   source=f"generated on this computer (seed {seed})", display_name=INFO.display_name)
