"""Measure the training timeline's memory and the run store's cost on a real run, and project them.

    python bench/history_memory.py                        # hongong on Fashion-MNIST, 1 epoch (~1-3 min)
    python bench/history_memory.py --limit 12000          # a shorter epoch (the projection still uses 60,000)
    python bench/history_memory.py --preset lenet5 --dataset mnist

Trains for real through ``Trainer`` with a ``RunRecorder`` feeding a ``RunHistory`` and a ``RunStore``
in a temporary folder, then prints: moments kept, the history's own ``nbytes``, the bytes per moment
and per epoch record, the projection to the preset's full run (60,000 images, its batch size and
epochs; the requirement is <= 200 MB for 10 hongong epochs), the time spent in the recorder's
callbacks against the training time, and the store's disk use.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engine import kernels
from engine.datasets import load_dataset
from engine.presets import PRESETS, build_preset, preset_optimizer
from engine.runs import RunHistory, RunRecorder, RunStore, kept_steps
from engine.training import Trainer


def _default_data_dir() -> Path:
    """$CONVSCOPE_TEST_DATA, else the first ``shared/data`` beside the repository or above it."""
    if os.environ.get("CONVSCOPE_TEST_DATA"):
        return Path(os.environ["CONVSCOPE_TEST_DATA"])
    for parent in ROOT.parents:
        if (parent / "shared" / "data").is_dir():
            return parent / "shared" / "data"
    return ROOT.parent / "shared" / "data"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="hongong", choices=list(PRESETS))
    parser.add_argument("--dataset", default="fashion_mnist")
    parser.add_argument("--data-dir", type=Path, default=_default_data_dir())
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--limit", type=int, default=None, help="train on the first N images only")
    parser.add_argument("--full-size", type=int, default=60_000, help="training images of the projected run")
    args = parser.parse_args(argv)

    preset = PRESETS[args.preset]
    ds = load_dataset(args.dataset, data_dir=str(args.data_dir))
    x, y = ds.x_train, ds.y_train
    if args.limit:
        x, y = x[:args.limit], y[:args.limit]
    model = build_preset(args.preset, x.shape[1:], 10)
    t = time.perf_counter()
    kernels.warmup()
    print(f"kernels ready in {time.perf_counter() - t:.1f} s", flush=True)
    trainer = Trainer(model, preset_optimizer(args.preset), x, y, ds.x_test, ds.y_test,
                      batch_size=preset.batch_size, epochs=args.epochs)

    with tempfile.TemporaryDirectory(prefix="convscope-bench-runs-") as folder:
        store = RunStore(folder)
        writer = store.start_run(f"bench {args.preset}", args.dataset, model.get_config(),
                                 {"batch_size": preset.batch_size, "epochs": args.epochs})
        history = RunHistory()
        recorder = RunRecorder(trainer, history=history, writer=writer)
        spent = [0.0]

        def timed(callback):
            def wrapper(metrics):
                t0 = time.perf_counter()
                callback(metrics)
                spent[0] += time.perf_counter() - t0
            return wrapper

        t0 = time.perf_counter()
        recorder.start()
        status = trainer.run(on_batch_end=timed(recorder.on_batch_end), on_epoch_end=timed(recorder.on_epoch_end))
        wall = time.perf_counter() - t0
        t1 = time.perf_counter()
        recorder.finish(status)
        close_s = time.perf_counter() - t1
        run_bytes = store.disk_usage(writer.run_id)
        total_bytes = store.total_disk_usage()
        store.close()

    moments = history.moments()
    moment_bytes = max(m.nbytes for m in moments)
    epoch_bytes = history.epoch_record(history.epochs()[-1]).nbytes
    steps_per_epoch = math.ceil(args.full_size / preset.batch_size)
    total_steps = steps_per_epoch * preset.epochs
    n_full = len(set(kept_steps(total_steps, history.per_octave))
                 | {e * steps_per_epoch for e in range(1, preset.epochs + 1)})
    projected = n_full * moment_bytes + preset.epochs * epoch_bytes

    print()
    print(f"| {args.preset} on {args.dataset} | value |")
    print("|---|---|")
    print(f"| trained | {args.epochs} epoch(s), {trainer.step_count:,} steps of {preset.batch_size}, {status}, {wall:.1f} s |")
    print(f"| moments kept | {len(moments)} (steps {moments[0].step} .. {moments[-1].step}) |")
    print(f"| history nbytes (measured) | {history.nbytes / 1e6:.2f} MB |")
    print(f"| bytes per moment / per epoch record | {moment_bytes / 1e3:.1f} kB / {epoch_bytes / 1e6:.2f} MB |")
    print(f"| projected: {preset.epochs} epochs x {args.full_size:,} images ({total_steps:,} steps, "
          f"{n_full} moments) | {projected / 1e6:.1f} MB (limit 200 MB) |")
    print(f"| recorder callbacks | {spent[0]:.2f} s = {100 * spent[0] / wall:.1f} % of training; writer close {close_s:.2f} s |")
    print(f"| run store on disk | run {run_bytes / 1e6:.2f} MB, store {total_bytes / 1e6:.2f} MB |")
    return 0 if projected <= 200e6 else 1


if __name__ == "__main__":
    raise SystemExit(main())
