"""Application start-up: flags, QApplication, language, the main window, ``--screenshot``.

``convscope FILE...`` opens images, model files and image folders in the window (see
:mod:`gui.desktop.open_paths`); when ConvScope already runs, a launch hands its files to that
window and exits (:mod:`gui.desktop.single_instance`; ``--new-instance`` opts out). The first launch
shows the welcome (:mod:`gui.desktop.welcome`).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import engine  # noqa: F401  (sets NUMBA_CACHE_DIR before anything imports numba)

APP_NAME = "ConvScope"
ORG_NAME = "ConvScope"
DESKTOP_FILE_NAME = "convscope"       # resources' .desktop entry: task bars and Wayland match the window to it


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="convscope", description="Watch a convolutional neural network learn.")
    p.add_argument("paths", nargs="*", metavar="FILE",
                   help="images to classify, a saved model (.npz) or a folder of images to use as the dataset")
    p.add_argument("--dataset", default=None,
                   help="dataset to open: shapes (built-in, offline), mnist, fashion_mnist, or an image folder")
    p.add_argument("--color", "--colour", dest="color", choices=("rgb", "grayscale"), default=None,
                   help="how an image folder's pictures are read: rgb (3 channels) or grayscale (1); default: "
                        "the last choice, else rgb when the folder holds colour pictures")
    p.add_argument("--image-size", type=_image_size, default=None, metavar="N",
                   help="side in pixels every picture of an image folder is fitted to (4-512, e.g. 64 or 64x64; "
                        "default: 64 in colour, 28 in grayscale)")
    p.add_argument("--model", default=None, help="preset name (e.g. lenet5, keras_mnist) or a saved .npz model file")
    p.add_argument("--data-dir", default=None, help="folder holding MNIST / Fashion-MNIST IDX files")
    p.add_argument("--runs-dir", default=None, metavar="FOLDER",
                   help="where training runs are kept (default: $CONVSCOPE_RUNS_DIR or the user's data folder)")
    p.add_argument("--lang", choices=("ko", "en"), default=None, help="interface language (default: system)")
    p.add_argument("--screenshot", metavar="PATH", default=None,
                   help="render the main window to a PNG once it has settled, then exit")
    p.add_argument("--screenshot-delay", type=float, default=1.5, metavar="SECONDS",
                   help="how long to let the window settle before --screenshot (default 1.5)")
    p.add_argument("--train", action="store_true", help="start training as soon as the window is shown")
    p.add_argument("--size", default=None, metavar="WxH", help="initial window size, e.g. 1400x900")
    p.add_argument("--reset-layout", action="store_true", help="forget the remembered window layout")
    p.add_argument("--tab", default=None, metavar="NAME",
                   help="panel to show in front: feature_maps, filters, gradients, evaluation, classify, theater, "
                        "attribution, editor")
    p.add_argument("--lesson", default=None, metavar="NAME|FILE",
                   help="open a lesson: the name of a shipped one (e.g. vertical-edge, padding, lenet5) or a "
                        ".convscope-lesson.json file")
    p.add_argument("--classify", nargs="+", default=None, metavar="IMAGE",
                   help="classify these image files once the model is ready (as if dropped on the window)")
    p.add_argument("--new-instance", action="store_true",
                   help="open another window even when ConvScope already runs (default: hand FILEs to it)")
    p.add_argument("--welcome", action="store_true", help="show the first-run welcome again")
    p.add_argument("--install-desktop", action="store_true",
                   help="add ConvScope to your applications menu (icon, file types), then exit")
    p.add_argument("--uninstall-desktop", action="store_true",
                   help="remove what --install-desktop wrote, then exit")
    # for bench/responsiveness.py: print start-up milestones (time.monotonic()) and quit after the first step
    p.add_argument("--report-startup", action="store_true", help=argparse.SUPPRESS)
    return p


def _image_size(text: str) -> int:
    from engine.errors import ConvScopeError
    from gui.desktop.folder_options import parse_image_size

    try:
        return parse_image_size(text)
    except ConvScopeError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _names_a_folder(args) -> bool:
    """True when the flags give an image folder (``--dataset FOLDER`` or a folder among the paths)."""
    candidates = ([args.dataset] if args.dataset else []) + list(args.paths or [])
    return any(Path(str(c)).expanduser().is_dir() for c in candidates)


def parse_size(text: str | None) -> tuple[int, int] | None:
    if not text:
        return None
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise SystemExit(f"--size expects WIDTHxHEIGHT such as 1400x900, got {text!r}") from None
    return w, h


def main(argv: list[str] | None = None) -> int:
    t0 = time.perf_counter()
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    if args.install_desktop or args.uninstall_desktop:
        from gui.desktop.install import main as install_main

        return install_main(["--uninstall"] if args.uninstall_desktop else [])
    size = parse_size(args.size)
    if (args.color or args.image_size) and not _names_a_folder(args):
        raise SystemExit("--color and --image-size say how an image folder is read: give the folder with "
                         "--dataset FOLDER or as a path (built-in datasets keep their own size and colour)")
    if args.data_dir:
        os.environ["CONVSCOPE_DATA_DIR"] = str(Path(args.data_dir).expanduser())
    if args.runs_dir:
        os.environ["CONVSCOPE_RUNS_DIR"] = str(Path(args.runs_dir).expanduser())

    from PySide6.QtCore import QCoreApplication, QTimer
    from PySide6.QtWidgets import QApplication

    from gui import i18n

    QCoreApplication.setOrganizationName(ORG_NAME)
    QCoreApplication.setApplicationName(APP_NAME)
    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setDesktopFileName(DESKTOP_FILE_NAME)
    alone = args.new_instance or bool(args.screenshot) or args.report_startup
    server = None
    if not alone:
        from gui.desktop.single_instance import InstanceServer, hand_off

        if hand_off(args.paths):
            return 0                                   # the running window took the files
        server = InstanceServer(app)
        server.listen()

    import pyqtgraph as pg

    from gui.desktop.about import app_icon
    from gui.desktop.welcome import (
        WelcomeDialog,
        apply_choice,
        saved_language,
        should_show,
    )
    from gui.main_window import MainWindow

    app.setWindowIcon(app_icon())
    # antialiasing only where it shows (the curves ask for it per item): it doubles the paint time
    pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)
    i18n.set_language(args.lang or saved_language())
    i18n.install_qt_translations(app)

    if args.welcome or (should_show() and not alone and not args.paths and not args.lesson):
        welcome = WelcomeDialog()
        if args.screenshot:
            return _screenshot_dialog(app, welcome, Path(args.screenshot), args.screenshot_delay)
        welcome.exec()
        apply_choice(welcome.choice, args)
        i18n.install_qt_translations(app)      # the welcome may have changed the language

    window = MainWindow(options=args, restore_layout=not args.reset_layout and not args.screenshot)
    if size:
        window.resize(*size)
    elif args.screenshot:
        window.resize(1480, 920)
    if args.report_startup:
        _report_startup(window, app)
    if server is not None:
        server.paths_received.connect(window.open_paths)
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


def _screenshot_dialog(app, dialog, out: Path, delay: float) -> int:
    """``--welcome --screenshot``: picture of the dialog instead of the window."""
    from PySide6.QtCore import QTimer

    dialog.show()

    def shoot() -> None:
        out.parent.mkdir(parents=True, exist_ok=True)
        ok = dialog.grab().save(str(out), "PNG")
        dialog.close()
        app.exit(0 if ok else 1)

    QTimer.singleShot(int(delay * 1000), dialog, shoot)
    return app.exec()


def _report_startup(window, app) -> None:
    """Print ``window_painted`` and ``first_step`` (``time.monotonic()``, comparable across processes)."""
    from PySide6.QtCore import QEvent, QObject, QTimer

    class FirstPaint(QObject):
        def __init__(self):
            super().__init__(window)
            self.seen = False

        def eventFilter(self, obj, event):
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
