"""Dataset load times and memory: MNIST / Fashion-MNIST from the original .gz files, and the shapes generator.

Each measurement runs in a fresh Python process, so "cold" is the first load in a process
(imports done, gzip inflated, arrays built) and "warm" a second load in the same process. The
operating system's file cache is not dropped (that needs root and would slow other programs), so
"cold" means a cold process, not a cold disk. Memory: the dataset's own arrays, the rise of the
process's resident memory (RSS) across the first load and its peak.

    python bench/data_load.py [--data-dir ../shared/data] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(name: str, data_dir: str | None) -> dict:
    """Run inside the child process: time two loads of ``name`` and record memory."""
    sys.path.insert(0, str(ROOT))
    import numpy as np  # noqa: F401 - import cost outside the timing

    from engine.datasets import load_dataset

    rss0 = _rss_mb()
    kwargs = {"data_dir": data_dir} if name != "shapes" else {}
    t0 = time.perf_counter()
    ds = load_dataset(name, **kwargs)
    cold = time.perf_counter() - t0
    rss1 = _rss_mb()
    del ds
    t0 = time.perf_counter()
    ds = load_dataset(name, **kwargs)
    warm = time.perf_counter() - t0
    return {"name": name, "cold_s": cold, "warm_s": warm, "arrays_mb": ds.nbytes / 1024 ** 2,
            "rss_rise_mb": rss1 - rss0, "peak_rss_mb": _peak_mb(), "base_rss_mb": rss0,
            "train": list(ds.x_train.shape), "test": list(ds.x_test.shape), "source": ds.source}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--repeat", type=int, default=3, help="fresh processes per dataset (median reported)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.child, args.data_dir)))
        return 0

    print(f"data folder: {args.data_dir}   cores: {os.cpu_count()}   load average: "
          f"{os.getloadavg()[0]:.1f}   (OS file cache not dropped)")
    header = (f"{'dataset':<14} {'cold s':>7} {'warm s':>7} {'arrays MB':>10} {'RSS rise MB':>12} "
              f"{'peak RSS MB':>12}  shape")
    print(header)
    print("-" * len(header))
    for name in ("mnist", "fashion_mnist", "shapes"):
        runs = []
        for _ in range(max(1, args.repeat)):
            out = subprocess.run([sys.executable, __file__, "--child", name, "--data-dir", args.data_dir],
                                 capture_output=True, text=True, check=False)
            if out.returncode != 0:
                print(f"{name:<14} failed: {out.stderr.strip().splitlines()[-1] if out.stderr else out.returncode}")
                break
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
        if not runs:
            continue

        def med(key, runs=runs):
            return sorted(r[key] for r in runs)[len(runs) // 2]

        r = runs[0]
        print(f"{name:<14} {med('cold_s'):7.2f} {med('warm_s'):7.2f} {r['arrays_mb']:10.1f} {med('rss_rise_mb'):12.1f} "
              f"{med('peak_rss_mb'):12.1f}  train {tuple(r['train'])}, test {tuple(r['test'])}  <- {r['source']}")
    print("shapes: 'cold'/'warm' = generating 12,000 + 2,000 images from seed 0 (numpy, no file).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
