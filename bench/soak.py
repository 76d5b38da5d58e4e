"""Soak test: the real window trains for a long time with every panel live and the run store writing.

Prints, every minute: the process RSS, the timeline's bytes (the bounded history, in memory on
purpose), RSS minus those bytes, the run store's disk use, the GUI-thread stalls of that minute
(a 10 ms ``Qt.PreciseTimer`` probe: p99 and max gap) and training throughput. Once a minute the
timeline is moved to a past moment for a second and back to live (the historic path is exercised).
At the end: RSS growth after the warm-up minutes, excluding the timeline (target < 10 %), and the
stall p99 over the whole run (target <= 60 ms).

    python bench/soak.py                         # 30 minutes, shapes dataset, offscreen
    python bench/soak.py --minutes 5
    QT_QPA_PLATFORM=xcb xvfb-run -a python bench/soak.py --minutes 30

The machine is shared: the stall figures depend on its load (printed with them).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def rss_bytes() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def percentile(values, q: float) -> float:
    s = sorted(values)
    if not s:
        return float("nan")
    return s[min(len(s) - 1, max(0, int(round(q / 100 * (len(s) - 1)))))]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=30.0)
    p.add_argument("--warmup", type=float, default=5.0, help="minutes before the RSS baseline (default 5)")
    p.add_argument("--dataset", default="shapes")
    p.add_argument("--runs-dir", default=None, help="default: a temporary folder, deleted afterwards")
    p.add_argument("--no-record", action="store_true",
                   help="baseline: train without the timeline and the run store (to compare stalls)")
    args = p.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    tmp = None
    if args.runs_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="convscope-soak-")
        args.runs_dir = tmp.name
    os.environ["CONVSCOPE_RUNS_DIR"] = args.runs_dir

    import pyqtgraph as pg
    from PySide6.QtCore import QEventLoop, Qt, QTimer
    from PySide6.QtWidgets import QApplication

    import engine  # noqa: F401  (NUMBA_CACHE_DIR)
    from gui import i18n
    from gui.main_window import MainWindow

    app = QApplication.instance() or QApplication([sys.argv[0]])
    pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)
    i18n.set_language("en")
    opts = argparse.Namespace(dataset=args.dataset, model=None, data_dir=None, train=False, tab="feature_maps",
                              classify=None)
    win = MainWindow(options=opts, restore_layout=False)
    win.resize(1480, 920)
    win.show()
    c = win.controller
    extra = []
    for key in ("filters", "evaluation", "runs"):          # every panel draws at once
        panel = win.tabs_by_key[key]
        panel.setParent(None)
        panel.resize(700, 500)
        panel.show()
        extra.append(panel)
    win.show_tab("feature_maps")

    def run_loop(ms: int, until=None) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        if until is not None:
            until.connect(loop.quit)
        loop.exec()
        if until is not None:
            until.disconnect(loop.quit)

    if c.dataset is None or c.model is None:
        run_loop(120_000, c.dataset_ready)
    if not c.kernels_warm:
        run_loop(600_000, c.kernels_ready)
    if c.dataset is None or not c.kernels_warm:
        raise SystemExit("not ready: " + c.last_error)
    if args.no_record:
        c._attach_recorder = lambda job: None      # baseline: the worker runs without a recorder
    c.set_options(epochs=100_000)
    if not c.start():
        raise SystemExit("training did not start: " + c.last_error)

    ticks: list[float] = []
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    rows = []
    all_gaps: list[float] = []
    print(f"platform {app.platformName()}, dataset {c.dataset.name}, model {c.preset_name}, "
          f"{'NOT recording (baseline)' if args.no_record else 'recording'}, "
          f"runs in {args.runs_dir}, cpus {os.cpu_count()}", flush=True)
    print(f"{'min':>4} {'RSS MB':>8} {'timeline MB':>11} {'RSS-tl MB':>9} {'disk MB':>8} {'p99 ms':>7} "
          f"{'max ms':>7} {'steps':>7} {'moments':>7} {'load':>5}", flush=True)
    t_start = time.perf_counter()
    minute = 0
    while minute < args.minutes:
        minute += 1
        ticks.clear()
        run_loop(59_000)
        # the historic path: a past moment for a second, then live again
        if c.timeline.count > 2:
            c.timeline.seek(c.timeline.count // 2)
        run_loop(1_000)
        c.timeline.go_live()
        gaps = [1000 * (b - a) for a, b in zip(ticks, ticks[1:], strict=False)]
        all_gaps += gaps
        rss = rss_bytes()
        timeline = c.recorder.nbytes if c.recorder is not None else 0
        store = c.run_store
        disk = store.total_disk_usage() if store is not None else 0
        load = os.getloadavg()[0]
        steps = c.history.batches[-1].step + 1 if c.history.batches else 0
        rows.append((minute, rss, timeline))
        print(f"{minute:>4} {rss / 1e6:>8.1f} {timeline / 1e6:>11.1f} {(rss - timeline) / 1e6:>9.1f} "
              f"{disk / 1e6:>8.1f} {percentile(gaps, 99):>7.1f} {max(gaps, default=0):>7.1f} {steps:>7} "
              f"{c.timeline.count:>7} {load:>5.1f}", flush=True)
    timer.stop()
    elapsed = time.perf_counter() - t_start
    warm = int(args.warmup) if args.minutes > args.warmup else 1
    base = next(r for r in rows if r[0] == warm)
    end = rows[-1]
    growth = ((end[1] - end[2]) - (base[1] - base[2])) / (base[1] - base[2])
    c.stop()
    if c.state != "idle":
        run_loop(30_000, c.state_changed)
    ok = c.shutdown()
    for panel in extra:
        panel.close()
    win.close()
    print(f"\n{elapsed / 60:.1f} min; RSS growth after minute {warm} excluding the timeline: {growth:+.1%} "
          f"(target < 10 %); GUI stall p99 {percentile(all_gaps, 99):.1f} ms, max {max(all_gaps):.1f} ms "
          f"(target p99 <= 60 ms); stopped cleanly: {ok}", flush=True)
    if tmp is not None:
        tmp.cleanup()
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
