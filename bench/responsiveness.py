"""How responsive is the window while a real network trains? Prints tables.

1. GUI-thread stalls: a 10 ms ``Qt.PreciseTimer`` probe records ``perf_counter()`` in the GUI thread
   while the worker trains with every panel live (the Filters and Evaluation panels are taken out of
   the tab widget into windows of their own, so feature maps, filters, curves, training, architecture
   and the confusion matrix all draw at the same time). Reports the gaps between ticks: median, p99
   and max (targets: p99 < 30 ms, max < 60 ms), how often the feature maps and the filters were
   redrawn (target >= 10 a second each) and how long Stop held the GUI thread (target < 100 ms).
2. Start-up: launches ``main.py --train`` in fresh processes and reports the time from spawning the
   process to the first paint of the window and to the first training step, with a cold numba cache
   (an empty ``NUMBA_CACHE_DIR`` temp folder) and then warm (the same folder again).

    python bench/responsiveness.py                          # shapes dataset, its preset, 10 s probe
    python bench/responsiveness.py --dataset mnist --data-dir ../shared/data/mnist --seconds 15
    python bench/responsiveness.py --skip-startup           # only the stall probe
    QT_QPA_PLATFORM=xcb xvfb-run -a python bench/responsiveness.py   # under a real X server

Numbers vary about +-30 % run to run on a shared 2-core machine: repeat and quote medians.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    if not s:
        return float("nan")
    k = min(len(s) - 1, max(0, int(round(q / 100 * (len(s) - 1)))))
    return s[k]


# ------------------------------------------------------------------------------------------------
# 1. stalls of the GUI thread during training
# ------------------------------------------------------------------------------------------------

def probe_stalls(args) -> dict:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import pyqtgraph as pg
    from PySide6.QtCore import QElapsedTimer, QEventLoop, Qt, QTimer
    from PySide6.QtWidgets import QApplication

    import engine  # noqa: F401  (NUMBA_CACHE_DIR)
    from gui import i18n
    from gui.main_window import MainWindow

    app = QApplication.instance() or QApplication([sys.argv[0]])
    # antialiasing only where it shows (the curves ask for it per item): it doubles the paint time
    pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)
    i18n.set_language("en")
    opts = argparse.Namespace(dataset=args.dataset, model=args.model, data_dir=args.data_dir, train=False,
                              tab="feature_maps", classify=None)
    win = MainWindow(options=opts, restore_layout=False)
    win.resize(1480, 920)
    win.show()
    c = win.controller

    # every panel live at once: the tab widget shows one tab, so two more panels get windows
    extra = []
    for key in ("filters", "evaluation"):
        panel = win.tabs_by_key[key]
        panel.setParent(None)
        panel.setWindowTitle(key)
        panel.resize(700, 500)
        panel.show()
        extra.append(panel)
    win.show_tab("feature_maps")

    def run_loop(ms: int, until=None) -> None:
        """Run the real event loop for ``ms`` (or until the signal ``until`` fires)."""
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
    if c.dataset is None:
        raise SystemExit("the dataset did not load: " + c.last_error)
    if not c.kernels_warm:
        raise SystemExit("kernels did not get ready: " + c.last_error)
    c.set_options(epochs=1000)
    fm = win.feature_map_panel
    inspections = [0]

    def count_inspection(_ins) -> None:
        inspections[0] += 1

    c.inspection_ready.connect(count_inspection)
    if not c.start():
        raise SystemExit("training did not start: " + c.last_error)
    run_loop(int(args.settle * 1000))      # let training settle (first snapshots, curves filling)

    ticks: list[float] = []
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    fm0, fp0, cv0, ins0 = fm.render_count, win.filter_panel.render_count, win.curves_panel.render_count, inspections[0]
    batches0 = len(c.history.batches)
    clock = QElapsedTimer()
    clock.start()
    cpu0 = time.thread_time()            # CPU time of the GUI thread: what the panels cost, whatever the load
    timer.start()
    run_loop(int(args.seconds * 1000))
    timer.stop()
    gui_cpu = time.thread_time() - cpu0
    seconds = clock.elapsed() / 1000
    result = {
        "platform": app.platformName(),
        "dataset": c.dataset.name,
        "model": c.preset_name,
        "seconds": seconds,
        "gui_cpu_percent": 100 * gui_cpu / seconds,
        "ticks": len(ticks),
        "gaps_ms": [1000 * (b - a) for a, b in zip(ticks, ticks[1:])],
        "feature_map_fps": (fm.render_count - fm0) / seconds,
        "filter_fps": (win.filter_panel.render_count - fp0) / seconds,
        "curves_fps": (win.curves_panel.render_count - cv0) / seconds,
        "snapshots_per_s": (inspections[0] - ins0) / seconds,
        "batches_per_s": (len(c.history.batches) - batches0) / seconds,
        "images_per_s": c.history.batches[-1].images_per_second if c.history.batches else 0.0,
    }
    t0 = time.perf_counter()
    c.stop()
    result["stop_call_ms"] = 1000 * (time.perf_counter() - t0)        # stop only asks
    t0 = time.perf_counter()
    if c.state != "idle":
        run_loop(30_000, c.state_changed)
    result["stop_to_idle_ms"] = 1000 * (time.perf_counter() - t0)     # the worker's report, one batch later
    ok = c.state == "idle" and c.shutdown()
    for panel in extra:
        panel.close()
    win.close()
    result["stopped_cleanly"] = bool(ok)
    return result


# ------------------------------------------------------------------------------------------------
# 2. start-up: process spawn -> first paint -> first training step
# ------------------------------------------------------------------------------------------------

def one_launch(args, cache_dir: str) -> dict:
    env = dict(os.environ)
    env["NUMBA_CACHE_DIR"] = cache_dir
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    cmd = [sys.executable, str(ROOT / "main.py"), "--dataset", args.dataset, "--train", "--report-startup",
           "--reset-layout", "--lang", "en"]
    if args.model:
        cmd += ["--model", args.model]
    if args.data_dir:
        cmd += ["--data-dir", args.data_dir]
    t0 = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    out = {}
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] in ("window_painted", "first_step"):
            out[parts[0]] = float(parts[1]) - t0
    if "first_step" not in out:
        raise SystemExit(f"the app did not report its first step (rc {proc.returncode}):\n{proc.stderr[-3000:]}")
    return out


def measure_startup(args) -> dict:
    rows = {"cold": [], "warm": []}
    for _ in range(args.repeat):
        cache = tempfile.mkdtemp(prefix="convscope-numba-")
        try:
            rows["cold"].append(one_launch(args, cache))
            rows["warm"].append(one_launch(args, cache))
        finally:
            shutil.rmtree(cache, ignore_errors=True)
    return rows


# ------------------------------------------------------------------------------------------------

def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default="shapes")
    p.add_argument("--model", default=None, help="preset (default: the dataset's own)")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--seconds", type=float, default=10.0, help="length of the stall probe")
    p.add_argument("--settle", type=float, default=2.0, help="training time before the probe starts")
    p.add_argument("--repeat", type=int, default=1, help="cold/warm launch pairs")
    p.add_argument("--skip-startup", action="store_true")
    p.add_argument("--skip-probe", action="store_true")
    p.add_argument("--json", action="store_true", help="also print the raw numbers as JSON")
    args = p.parse_args()

    report = {}
    if not args.skip_probe:
        r = probe_stalls(args)
        gaps = r.pop("gaps_ms")
        report["probe"] = r | {"gap_median_ms": statistics.median(gaps), "gap_p99_ms": percentile(gaps, 99),
                               "gap_max_ms": max(gaps)}
        print(f"\nGUI-thread probe: 10 ms timer, {r['seconds']:.1f} s of training, all panels live "
              f"({r['platform']}, {r['dataset']}, {r['model']})")
        print("| gaps median | p99 | max | feature maps redrawn | filters redrawn | curves | snapshots | batches/s "
              "| images/s | GUI thread CPU |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        print(f"| {report['probe']['gap_median_ms']:.1f} ms | {report['probe']['gap_p99_ms']:.1f} ms | "
              f"{report['probe']['gap_max_ms']:.1f} ms | {r['feature_map_fps']:.1f} /s | {r['filter_fps']:.1f} /s | "
              f"{r['curves_fps']:.1f} /s | {r['snapshots_per_s']:.1f} /s | {r['batches_per_s']:.1f} | "
              f"{r['images_per_s']:,.0f} | {r['gui_cpu_percent']:.0f} % |")
        verdict = "OK" if report["probe"]["gap_p99_ms"] < 30 and report["probe"]["gap_max_ms"] < 60 else "ABOVE TARGET"
        rate = "OK" if min(r["feature_map_fps"], r["filter_fps"]) >= 10 else "BELOW TARGET"
        print(f"targets p99 < 30 ms, max < 60 ms: {verdict}; redraws >= 10 /s: {rate}; "
              f"stop() returned in {r['stop_call_ms']:.1f} ms, idle {r['stop_to_idle_ms']:.0f} ms later; "
              f"stopped cleanly: {r['stopped_cleanly']}")
    if not args.skip_startup:
        rows = measure_startup(args)
        report["startup"] = rows
        print(f"\nStart-up ({args.dataset}, main.py --train; seconds from process spawn)")
        print("| numba cache | window painted | first training step |")
        print("|---|---|---|")
        for kind in ("cold", "warm"):
            w = statistics.median(r["window_painted"] for r in rows[kind])
            f = statistics.median(r["first_step"] for r in rows[kind])
            print(f"| {kind} | {w:.2f} s | {f:.2f} s |")
    if args.json:
        print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
