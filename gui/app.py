"""Application start-up: flags, QApplication, language, the main window, ``--screenshot``."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import engine  # noqa: F401  (sets NUMBA_CACHE_DIR before anything imports numba)

APP_NAME = "ConvScope"
ORG_NAME = "ConvScope"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="convscope", description="Watch a convolutional neural network learn.")
    p.add_argument("--dataset", default=None,
                   help="dataset to open: shapes (built-in, offline), mnist, fashion_mnist, or an image folder")
    p.add_argument("--model", default=None, help="preset name (e.g. lenet5, keras_mnist) or a saved .npz model file")
    p.add_argument("--data-dir", default=None, help="folder holding MNIST / Fashion-MNIST IDX files")
    p.add_argument("--lang", choices=("ko", "en"), default=None, help="interface language (default: system)")
    p.add_argument("--screenshot", metavar="PATH", default=None,
                   help="render the main window to a PNG once it has settled, then exit")
    p.add_argument("--screenshot-delay", type=float, default=1.5, metavar="SECONDS",
                   help="how long to let the window settle before --screenshot (default 1.5)")
    p.add_argument("--train", action="store_true", help="start training as soon as the window is shown")
    p.add_argument("--size", default=None, metavar="WxH", help="initial window size, e.g. 1400x900")
    p.add_argument("--reset-layout", action="store_true", help="forget the remembered window layout")
    p.add_argument("--tab", default=None, metavar="NAME",
                   help="panel to show in front: feature_maps, filters, evaluation, classify, theater, attribution, editor")
    p.add_argument("--classify", nargs="+", default=None, metavar="IMAGE",
                   help="classify these image files once the model is ready (as if dropped on the window)")
    # for bench/responsiveness.py: print start-up milestones (time.monotonic()) and quit after the first step
    p.add_argument("--report-startup", action="store_true", help=argparse.SUPPRESS)
    return p


def parse_size(text: str | None) -> tuple[int, int] | None:
    if not text:
        return None
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise SystemExit(f"--size expects WIDTHxHEIGHT such as 1400x900, got {text!r}")
    return w, h


def main(argv: list[str] | None = None) -> int:
    t0 = time.perf_counter()
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    size = parse_size(args.size)
    if args.data_dir:
        os.environ["CONVSCOPE_DATA_DIR"] = str(Path(args.data_dir).expanduser())

    from PySide6.QtCore import QCoreApplication, QTimer
    from PySide6.QtWidgets import QApplication

    import pyqtgraph as pg

    from gui import i18n
    from gui.main_window import MainWindow

    QCoreApplication.setOrganizationName(ORG_NAME)
    QCoreApplication.setApplicationName(APP_NAME)
    app = QApplication.instance() or QApplication([sys.argv[0]])
    # antialiasing only where it shows (the curves ask for it per item): it doubles the paint time
    pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)
    i18n.set_language(args.lang)

    window = MainWindow(options=args, restore_layout=not args.reset_layout and not args.screenshot)
    if size:
        window.resize(*size)
    elif args.screenshot:
        window.resize(1480, 920)
    if args.report_startup:
        _report_startup(window, app)
    window.show()
    window.startup_seconds = time.perf_counter() - t0

    if args.screenshot:
        out = Path(args.screenshot)

        def shoot() -> None:
            ok = window.save_screenshot(out)
            window.close()
            app.exit(0 if ok else 1)

        QTimer.singleShot(int(args.screenshot_delay * 1000), window, shoot)
    return app.exec()


def _report_startup(window, app) -> None:
    """Print ``window_painted`` and ``first_step`` (``time.monotonic()``, comparable across processes)."""
    from PySide6.QtCore import QEvent, QObject, QTimer

    class FirstPaint(QObject):
        def __init__(self):
            super().__init__(window)
            self.seen = False

        def eventFilter(self, obj, event):  # noqa: N802 (Qt override)
            if not self.seen and event.type() == QEvent.Type.Paint:
                self.seen = True
                print(f"window_painted {time.monotonic():.6f}", flush=True)
            return False

    window._first_paint_filter = FirstPaint()
    window.installEventFilter(window._first_paint_filter)

    def on_batch(_metrics) -> None:
        print(f"first_step {time.monotonic():.6f}", flush=True)
        window.controller.batch_metrics_ready.disconnect(window._report_first_step)
        QTimer.singleShot(0, window.close)

    window._report_first_step = on_batch
    window.controller.batch_metrics_ready.connect(on_batch)


if __name__ == "__main__":
    sys.exit(main())
