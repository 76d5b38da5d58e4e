"""Soak test: the real window trains for a long time with every panel live and the run store writing.

Prints, every minute: the process RSS, the timeline's bytes (the bounded history, in memory on
purpose), the per-batch log's bytes (72 bytes a batch, for the curves), RSS minus both, the run
store's disk use, the GUI-thread stalls of that minute (a 10 ms ``Qt.PreciseTimer`` probe: p99 and
max gap) and training progress. Once a minute the timeline is moved to a past moment for a second
and back to live (the historic path is exercised). At the end: RSS growth after the warm-up
minutes, as measured, excluding the timeline, and excluding timeline and batch log (target < 10 %),
and the stall p99 over the whole run (target <= 60 ms). The window setup is ``bench/live_window.py``
(shared with ``responsiveness.py``).

    python bench/soak.py                         # 30 minutes, shapes dataset, offscreen
    python bench/soak.py --minutes 5
    python bench/soak.py --minutes 8 --warmup 2 --tracemalloc 25   # what grew (Python allocations)
    QT_QPA_PLATFORM=xcb xvfb-run -a python bench/soak.py --minutes 30

The machine is shared: the stall figures depend on its load (printed with them).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.live_window import GapProbe, LiveWindow, percentile, rss_bytes  # noqa: E402


def history_bytes(c) -> int:
    """Memory the run keeps on purpose and bounds: the timeline's moments and the per-batch log."""
    timeline = c.recorder.nbytes if c.recorder is not None else 0
    return timeline + c.history.batches.nbytes


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=30.0)
    p.add_argument("--warmup", type=float, default=5.0, help="minutes before the RSS baseline (default 5)")
    p.add_argument("--dataset", default="shapes")
    p.add_argument("--runs-dir", default=None, help="default: a temporary folder, deleted afterwards")
    p.add_argument("--no-record", action="store_true",
                   help="baseline: train without the timeline and the run store (to compare stalls)")
    p.add_argument("--tracemalloc", type=int, default=0, metavar="N",
                   help="trace Python allocations; print the N lines that grew most from the warm-up to the end")
    args = p.parse_args(argv)
    tmp = None
    if args.runs_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="convscope-soak-")
        args.runs_dir = tmp.name
    os.environ["CONVSCOPE_RUNS_DIR"] = args.runs_dir
    if args.tracemalloc:
        tracemalloc.start(8)

    live = LiveWindow(args.dataset, detach=("filters", "evaluation", "runs"))
    live.wait_ready()
    c = live.controller
    if args.no_record:
        c._attach_recorder = lambda job: None      # baseline: the worker runs without a recorder
    live.start(epochs=100_000)

    probe = GapProbe()
    probe.start()
    rows = []
    all_gaps: list[float] = []
    warm = int(args.warmup) if args.minutes > args.warmup else 1
    baseline_trace = None
    print(f"platform {live.app.platformName()}, dataset {c.dataset.name}, model {c.preset_name}, "
          f"{'NOT recording (baseline)' if args.no_record else 'recording'}, "
          f"runs in {args.runs_dir}, cpus {os.cpu_count()}", flush=True)
    print(f"{'min':>4} {'RSS MB':>8} {'timeline MB':>11} {'batches MB':>10} {'RSS-hist MB':>11} {'disk MB':>8} "
          f"{'p99 ms':>7} {'max ms':>7} {'steps':>7} {'epochs':>6} {'moments':>7} {'load':>5}", flush=True)
    t_start = time.perf_counter()
    minute = 0
    while minute < args.minutes:
        minute += 1
        probe.clear()
        live.run_loop(59_000)
        # the historic path: a past moment for a second, then live again
        if c.timeline.count > 2:
            c.timeline.seek(c.timeline.count // 2)
        live.run_loop(1_000)
        c.timeline.go_live()
        gaps = probe.gaps_ms()
        all_gaps += gaps
        rss = rss_bytes()
        timeline = c.recorder.nbytes if c.recorder is not None else 0
        kept = history_bytes(c)
        store = c.run_store
        disk = store.total_disk_usage() if store is not None else 0
        load = os.getloadavg()[0]
        steps = c.history.batches[-1].step + 1 if len(c.history.batches) else 0
        rows.append((minute, rss, kept, timeline))
        print(f"{minute:>4} {rss / 1e6:>8.1f} {timeline / 1e6:>11.1f} {c.history.batches.nbytes / 1e6:>10.1f} "
              f"{(rss - kept) / 1e6:>11.1f} {disk / 1e6:>8.1f} {percentile(gaps, 99):>7.1f} "
              f"{max(gaps, default=0):>7.1f} {steps:>7} {len(c.history.epochs):>6} {c.timeline.count:>7} "
              f"{load:>5.1f}", flush=True)
        if args.tracemalloc and minute == warm:
            baseline_trace = tracemalloc.take_snapshot()
    probe.stop()
    elapsed = time.perf_counter() - t_start
    base = next(r for r in rows if r[0] == warm)
    end = rows[-1]
    growth_rss = (end[1] - base[1]) / base[1]
    growth = ((end[1] - end[2]) - (base[1] - base[2])) / (base[1] - base[2])
    growth_tl = ((end[1] - end[3]) - (base[1] - base[3])) / (base[1] - base[3])
    if baseline_trace is not None:
        top = tracemalloc.take_snapshot().compare_to(baseline_trace, "lineno")
        print(f"\nPython allocations that grew most from minute {warm} to the end:")
        for stat in top[:args.tracemalloc]:
            print(f"  {stat.size_diff / 1e6:+8.2f} MB {stat.count_diff:+8d} blocks  {stat.traceback[0]}")
        tracemalloc.stop()
    stopped = live.stop_and_close()
    ok = stopped["stopped_cleanly"]
    print(f"\n{elapsed / 60:.1f} min; RSS growth after minute {warm}: {growth_rss:+.1%}, excluding the timeline: "
          f"{growth_tl:+.1%}, excluding timeline and batch log: {growth:+.1%} (target < 10 %); GUI stall p99 "
          f"{percentile(all_gaps, 99):.1f} ms, max {max(all_gaps):.1f} ms (target p99 <= 60 ms); "
          f"stopped cleanly: {ok}", flush=True)
    if tmp is not None:
        tmp.cleanup()
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
