"""Does the window stay responsive while "Which pixels mattered" computes occlusion on a colour image?

    QT_QPA_PLATFORM=offscreen python bench/attribution_gui.py            # 3 runs
    QT_QPA_PLATFORM=offscreen python bench/attribution_gui.py --patch 2 --stride 1 --runs 5

The real tab (``AttributionPanel`` over a ``TrainingController``) explains a random 64x64x3 image with
TinyVGG (CNN Explainer's model, fresh weights: the time does not depend on what it learned). While
the occlusion job runs on its QThread, a 10 ms ``Qt.PreciseTimer`` in the GUI thread records the gaps
between its ticks (ideal: 10 ms); the progress bar and the heat map update as usual. Then a second
job is cancelled half-way and the time from Cancel to the partial result is measured. Idle gaps (no
job) are measured first as the baseline. Kernels are warmed up before anything is timed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _dataset(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (n, 3, 64, 64), dtype=np.uint8)
    y = rng.integers(0, 10, n).astype(np.int64)
    return SimpleNamespace(name="random64", x_train=x, y_train=y, x_test=x[:32], y_test=y[:32],
                           class_names=[str(k) for k in range(10)], input_shape=(3, 64, 64), num_classes=10,
                           source="random")


class GapProbe:
    """A 10 ms precise timer in the GUI thread; ``gaps`` are the intervals between its ticks (ms)."""

    def __init__(self):
        from PySide6.QtCore import Qt, QTimer

        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._tick)
        self.gaps: list[float] = []
        self._last = None

    def _tick(self):
        now = time.perf_counter()
        if self._last is not None:
            self.gaps.append((now - self._last) * 1000)
        self._last = now

    def start(self):
        self.gaps, self._last = [], None
        self.timer.start()

    def stop(self) -> list[float]:
        self.timer.stop()
        return self.gaps


def _row(name: str, gaps: list[float], extra: str = "") -> str:
    g = sorted(gaps)
    p99 = g[min(len(g) - 1, int(round(0.99 * (len(g) - 1))))] if g else float("nan")
    med = statistics.median(g) if g else float("nan")
    return f"{name:<28} {len(g):>6} {med:>8.1f} {p99:>8.1f} {max(g) if g else float('nan'):>8.1f}  {extra}"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--patch", type=int, default=4)
    p.add_argument("--stride", type=int, default=2)
    args = p.parse_args(argv)

    import pyqtgraph as pg
    from PySide6.QtWidgets import QApplication

    from engine import kernels
    from engine.presets import build_preset
    from gui.attribution.panel import AttributionPanel
    from gui.controller import TrainingController

    app = QApplication.instance() or QApplication(sys.argv)
    pg.setConfigOptions(imageAxisOrder="row-major")
    kernels.warmup()
    c = TrainingController()
    c.use_dataset(_dataset())
    model = build_preset("tinyvgg", (3, 64, 64), 10, seed=0)
    assert c.set_model(model), "TinyVGG was refused"
    c.kernels_warm = True
    panel = AttributionPanel(c)
    panel.resize(1300, 850)
    panel.show()
    x = np.random.default_rng(1).random((3, 64, 64)).astype(np.float32)
    c.set_sample(x, source="file", name="random colour image")
    panel.occlusion_box.patch_spin.setValue(args.patch)
    panel.occlusion_box.stride_spin.setValue(args.stride)
    c.current_model_copy().logits(x[None])        # warm this model's shapes too

    def pump(seconds: float):
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            app.processEvents()
            time.sleep(0.001)

    probe = GapProbe()
    print(f"occlusion on TinyVGG 64x64x3, patch {args.patch} stride {args.stride}; gaps of a 10 ms GUI timer (ms)")
    print(f"{'run':<28} {'ticks':>6} {'median':>8} {'p99':>8} {'max':>8}")
    probe.start()
    pump(1.5)
    print(_row("idle (no job)", probe.stop()))
    for run in range(args.runs):
        done = []
        panel.result_shown.connect(done.append)
        probe.start()
        t0 = time.perf_counter()
        panel.compute_occlusion()
        while not done:
            app.processEvents()
            time.sleep(0.001)
        took = time.perf_counter() - t0
        gaps = probe.stop()
        panel.result_shown.disconnect(done.append)
        r = panel.model.result
        print(_row(f"occlusion run {run + 1}", gaps, f"{r.total} positions in {took:.2f} s"))
    done = []
    panel.result_shown.connect(done.append)
    panel.compute_occlusion()
    pump(0.3)
    t0 = time.perf_counter()
    panel.cancel_button.click()
    while not done:
        app.processEvents()
        time.sleep(0.001)
    r = panel.model.result
    took_ms = (time.perf_counter() - t0) * 1000
    print(f"cancel -> partial result shown: {took_ms:.0f} ms ({r.done} of {r.total} positions)")
    panel.shutdown()
    c.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
