"""Picture every tab of the window while a model trains: one PNG per tab, for reviewing the GUI.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python bench/tour.py --lang ko --out /tmp/tour

Opens the real main window (scratch settings: pass a throw-away HOME if you care), starts training
on the chosen dataset, waits ``--train-seconds``, then shows each tab in turn and saves
``<out>/<tab>.png``; prints one line per picture and exits.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lang", choices=("ko", "en"), default="ko")
    parser.add_argument("--dataset", default="shapes")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--model", default=None)
    parser.add_argument("--train-seconds", type=float, default=30.0)
    parser.add_argument("--size", default="1280x800")
    parser.add_argument("--out", type=Path, default=Path("tour"))
    args = parser.parse_args()

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    import engine  # noqa: F401  (NUMBA_CACHE_DIR before numba)
    from gui import i18n
    from gui.app import build_parser, parse_size
    from gui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    import pyqtgraph as pg

    pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)     # as gui.app does
    i18n.set_language(args.lang)
    flags = ["--dataset", args.dataset, "--train", "--reset-layout", "--lang", args.lang]
    if args.data_dir:
        flags += ["--data-dir", args.data_dir]
    if args.model:
        flags += ["--model", args.model]
    options = build_parser().parse_args(flags)
    window = MainWindow(options=options, restore_layout=False)
    width, height = parse_size(args.size)
    window.resize(width, height)
    window.show()
    window.start_up()
    args.out.mkdir(parents=True, exist_ok=True)
    keys = list(window.tabs_by_key)

    def shoot(i: int = 0) -> None:
        if i >= len(keys):
            window.stop_training()
            window.close()
            app.quit()
            return
        window.show_tab(keys[i])
        QTimer.singleShot(1500, lambda: save(i))

    def save(i: int) -> None:
        path = args.out / f"{i:02d}-{keys[i]}.png"
        ok = window.save_screenshot(path)
        print(f"{'saved' if ok else 'FAILED'} {path} ({window.workspace.tabText(window.workspace.currentIndex())})",
              flush=True)
        shoot(i + 1)

    QTimer.singleShot(int(args.train_seconds * 1000), shoot)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
