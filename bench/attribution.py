"""How long the "which pixels mattered" computations take, for the sizes the GUI uses.

    python bench/attribution.py                 # median of 3 runs per row
    python bench/attribution.py --repeats 5 --batch 128

Rows (weights from a fresh build: the time does not depend on what the model learned):
    keras_mnist  28x28x1   occlusion patch 4 stride 2  (13 x 13 = 169 occluded copies)
    tinyvgg      64x64x3   occlusion patch 8 stride 4  (15 x 15 = 225 occluded copies)
    and, for the same two models, saliency (one backward), SmoothGrad n=25 and the top 9 patches of
    the last conv layer's filter 0 over 1000 images.

Kernels are compiled (warmed up) before anything is timed. On a shared machine the numbers move with
the load: read the median, and the spread (min-max) next to it.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engine.attribution import occlusion, saliency, smoothgrad, top_patches
from engine.layers import Conv2D
from engine.presets import build_preset

CASES = (
    ("keras_mnist", (1, 28, 28), 4, 2),
    ("tinyvgg", (3, 64, 64), 8, 4),
)


def _timed(fn, repeats: int) -> tuple[float, float, float]:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times), max(times)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch", type=int, default=64, help="occluded copies / images per forward pass")
    parser.add_argument("--images", type=int, default=1000, help="images searched for the top patches")
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"numpy {np.__version__}; median (min-max) of {args.repeats} runs, batch {args.batch}")
    print(f"{'model':<12} {'input':<9} {'computation':<34} {'forwards':>8} {'seconds':>22}")
    for key, shape, patch, stride in CASES:
        model = build_preset(key, shape, 10)
        x = rng.random(shape).astype(np.float32)
        images = (rng.random((args.images, *shape)) * 255).astype(np.uint8)
        conv = max(i for i, layer in enumerate(model.layers) if isinstance(layer, Conv2D))
        occlusion(model, x, patch=patch, stride=stride, batch_size=args.batch)  # warm up the kernels
        saliency(model, x)
        occ = occlusion(model, x, patch=patch, stride=stride, batch_size=args.batch)
        rows = [
            (f"occlusion patch {patch} stride {stride}", occ.total,
             lambda m=model, x=x, p=patch, s=stride: occlusion(m, x, patch=p, stride=s, batch_size=args.batch)),
            ("saliency (one backward)", 1, lambda m=model, x=x: saliency(m, x)),
            ("SmoothGrad n=25", 25, lambda m=model, x=x: smoothgrad(m, x, n=25, batch_size=25)),
            (f"top 9 patches, layer {conv} filter 0", args.images,
             lambda m=model, c=conv, i=images: top_patches(m, c, 0, i, k=9, batch_size=args.batch)),
        ]
        size = "x".join(str(v) for v in (shape[1], shape[2], shape[0]))
        for name, forwards, fn in rows:
            med, lo, hi = _timed(fn, args.repeats)
            print(f"{key:<12} {size:<9} {name:<34} {forwards:>8} {med:>9.3f} ({lo:.3f}-{hi:.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
