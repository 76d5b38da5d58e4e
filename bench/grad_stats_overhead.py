"""Cost of the per-layer gradient stats that training snapshots carry, against a training step.

Prints a table: median step time, median cost of ``Trainer.gradient_stats()`` (paid once per snapshot),
and the overhead per step at the GUI's snapshot rate. Rounds alternate to cancel out machine noise.

    python bench/grad_stats_overhead.py [preset ...]   (default: keras_mnist deep_sigmoid)
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from engine import kernels  # noqa: E402
from engine.presets import PRESETS, build_preset, preset_optimizer  # noqa: E402
from engine.training import Trainer  # noqa: E402

SNAPSHOTS_PER_SECOND = 12        # gui.controller.worker.SNAPSHOT_INTERVAL = 0.065 s (+ epoch ends)


def measure(key: str, rounds: int = 7, steps: int = 20) -> dict:
    preset = PRESETS[key]
    rng = np.random.default_rng(0)
    x = rng.integers(0, 255, (2048, *preset.input_shape)).astype(np.uint8)
    y = rng.integers(0, preset.num_classes, 2048)
    t = Trainer(build_preset(key, seed=0), preset_optimizer(key), x, y, batch_size=preset.batch_size,
                epochs=100, seed=0)
    for _ in range(3):
        t.step()
    step_ms, stats_ms = [], []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(steps):
            t.step()
        step_ms.append((time.perf_counter() - t0) / steps * 1e3)
        t0 = time.perf_counter()
        for _ in range(steps):
            t.gradient_stats()
        stats_ms.append((time.perf_counter() - t0) / steps * 1e3)
    step, stats = statistics.median(step_ms), statistics.median(stats_ms)
    steps_per_s = 1e3 / step
    # a snapshot is taken at most SNAPSHOTS_PER_SECOND times a second, and never more than once a step
    per_step = stats * min(1.0, SNAPSHOTS_PER_SECOND / steps_per_s)
    return dict(key=key, params=t.model.flat_params.size, step=step, stats=stats, per_step=per_step)


def main(keys: list[str]) -> None:
    kernels.warmup()
    print(f"{'preset':<14}{'params':>10}{'step ms':>10}{'stats ms':>10}{'per step ms':>13}{'overhead':>10}")
    for key in keys:
        r = measure(key)
        print(f"{r['key']:<14}{r['params']:>10}{r['step']:>10.2f}{r['stats']:>10.3f}{r['per_step']:>13.3f}"
              f"{r['per_step'] / r['step']:>10.2%}")


if __name__ == "__main__":
    main(sys.argv[1:] or ["keras_mnist", "deep_sigmoid"])
