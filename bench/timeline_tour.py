"""Pictures of the timeline and the Runs tab, the way a student gets there: two short MNIST runs (SGD,
then Adam) trained in the window, the window closed, a new window that reopens the Adam run from the
store and scrubs its timeline to an early and a late step, then compares both runs.

    HOME=$(mktemp -d) xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python bench/timeline_tour.py \\
        --lang ko --data-dir /work/shared/data --out /tmp/timeline-ko

Saves ``timeline-early-<lang>.png`` (feature maps), ``timeline-late-<lang>.png`` (filters) and
``runs-compare-<lang>.png``; prints one line per picture. ``--runs-dir`` keeps the runs between calls
(the second language reuses the first one's runs instead of training again).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lang", choices=("ko", "en"), default="ko")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--runs-dir", type=Path, default=None)
    parser.add_argument("--model", default="lenet5")
    parser.add_argument("--train-images", type=int, default=12_000, help="MNIST training images per run")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--early-step", type=int, default=6)
    parser.add_argument("--size", default="1280x800")
    parser.add_argument("--out", type=Path, default=Path("timeline-tour"))
    args = parser.parse_args()
    runs_dir = args.runs_dir or Path(tempfile.mkdtemp(prefix="convscope-runs-"))

    import os

    os.environ["CONVSCOPE_RUNS_DIR"] = str(runs_dir)
    import pyqtgraph as pg
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    import engine  # noqa: F401  (NUMBA_CACHE_DIR before numba)
    from engine.runs import RunStore
    from gui import i18n
    from gui.app import build_parser, parse_size
    from gui.main_window import MainWindow

    pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)     # as gui.app.run does
    _app = QApplication.instance() or QApplication(sys.argv[:1])   # kept alive until the end
    i18n.set_language(args.lang)
    args.out.mkdir(parents=True, exist_ok=True)
    width, height = parse_size(args.size)

    def wait_until(check, seconds: float) -> bool:
        end = time.monotonic() + seconds
        loop = QEventLoop()
        while time.monotonic() < end:
            if check():
                return True
            QTimer.singleShot(50, loop.quit)
            loop.exec()
        return check()

    def new_window() -> MainWindow:
        flags = ["--dataset", "mnist", "--model", args.model, "--reset-layout", "--lang", args.lang]
        if args.data_dir:
            flags += ["--data-dir", args.data_dir]
        w = MainWindow(options=build_parser().parse_args(flags), restore_layout=False)
        w.resize(width, height)
        w.show()
        w.start_up()
        c = w.controller
        assert wait_until(lambda: c.dataset is not None and c.dataset.name == "mnist"
                          and c.preset_name == args.model and c.kernels_warm, 600), "MNIST or the kernels"
        return w

    with RunStore(runs_dir) as store:
        have = {r.settings.get("optimizer") for r in store.runs() if r.status == "finished"}
    if not {"sgd", "adam"} <= have:
        w = new_window()
        c = w.controller
        ds = c.dataset
        c.use_dataset(replace(ds, x_train=ds.x_train[:args.train_images], y_train=ds.y_train[:args.train_images]))
        c.set_preset(args.model)
        for optimizer, lr in (("sgd", 0.05), ("adam", 0.001)):
            c.set_options(optimizer=optimizer, learning_rate=lr, batch_size=64, epochs=args.epochs, seed=0)
            c.reset()
            assert c.start()
            assert wait_until(lambda: c.state == "finished", 1800), f"{optimizer} did not finish"
            print(f"trained {optimizer} lr={lr}: run #{c.current_run_id}", flush=True)
        w.stop_training()
        w.close()

    w = new_window()
    c = w.controller
    panel = w.runs_panel

    def shoot(name: str) -> None:
        wait_until(lambda: False, 1.5)          # let the panels redraw on their timers
        path = args.out / f"{name}-{args.lang}.png"
        ok = w.save_screenshot(path)
        print(f"{'saved' if ok else 'FAILED'} {path}", flush=True)

    panel.refresh()
    rows = {r.optimizer: r.id for r in panel.model.rows}
    panel.select_runs([rows["adam"]])
    panel.on_reopen()
    assert c.reopened_run_id == rows["adam"], "the run was not reopened"
    steps = c.timeline.steps
    w.show_tab("feature_maps")
    c.timeline.seek_step(min(steps, key=lambda s: abs(s - args.early_step)))
    shoot("timeline-early")
    late = [s for s in steps if s not in c.timeline.epoch_steps.values()][-1]
    w.show_tab("filters")
    c.timeline.seek_step(late)
    shoot("timeline-late")
    c.timeline.go_live()
    w.show_tab("runs")
    panel.select_runs(sorted(rows.values()))
    shoot("runs-compare")
    w.stop_training()
    w.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
