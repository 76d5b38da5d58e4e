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

from bench.live_window import EpochMarks, GapProbe, LiveWindow, percentile  # noqa: E402

# ------------------------------------------------------------------------------------------------
# 1. stalls of the GUI thread during training
# ------------------------------------------------------------------------------------------------

def probe_stalls(args) -> dict:
    live = LiveWindow(args.dataset, args.model, args.data_dir, detach=("filters", "evaluation"))
    live.wait_ready()
    c, win = live.controller, live.win
    fm = win.feature_map_panel
    inspections = [0]

    def count_inspection(_ins) -> None:
        inspections[0] += 1

    c.inspection_ready.connect(count_inspection)
    live.start(epochs=1000)
    live.run_loop(int(args.settle * 1000))      # let training settle (first snapshots, curves filling)

    probe = GapProbe()
    marks = EpochMarks(c)
    fm0, fp0, cv0, ins0 = fm.render_count, win.filter_panel.render_count, win.curves_panel.render_count, inspections[0]
    batches0 = len(c.history.batches)
    t0 = time.perf_counter()
    cpu0 = time.thread_time()            # CPU time of the GUI thread: what the panels cost, whatever the load
    probe.start()
    live.run_loop(int(args.seconds * 1000))
    probe.stop()
    gui_cpu = time.thread_time() - cpu0
    seconds = time.perf_counter() - t0
    near, far = probe.gaps_near(marks.times, before=1.0, after=1.0)
    result = {
        "platform": live.app.platformName(),
        "dataset": c.dataset.name,
        "model": c.preset_name,
        "seconds": seconds,
        "gui_cpu_percent": 100 * gui_cpu / seconds,
        "ticks": len(probe.ticks),
        "gaps_ms": probe.gaps_ms(),
        "epoch_ends": len(marks.times),
        "epoch_end_gap_max_ms": max(near, default=float("nan")),
        "elsewhere_gap_max_ms": max(far, default=float("nan")),
        "feature_map_fps": (fm.render_count - fm0) / seconds,
        "filter_fps": (win.filter_panel.render_count - fp0) / seconds,
        "curves_fps": (win.curves_panel.render_count - cv0) / seconds,
        "snapshots_per_s": (inspections[0] - ins0) / seconds,
        "batches_per_s": (len(c.history.batches) - batches0) / seconds,
        "images_per_s": c.history.batches[-1].images_per_second if c.history.batches else 0.0,
    }
    result |= live.stop_and_close()
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
    p.add_argument("--switch-interval", type=float, default=None, metavar="MS",
                   help="the interpreter's GIL switch interval for the probe (default: what the app sets)")
    args = p.parse_args()
    if args.switch_interval is not None:
        sys.setswitchinterval(args.switch_interval / 1000)

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
        print(f"epoch ends in the probe: {r['epoch_ends']}; largest gap within 1 s of one: "
              f"{r['epoch_end_gap_max_ms']:.1f} ms, elsewhere: {r['elsewhere_gap_max_ms']:.1f} ms")
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
