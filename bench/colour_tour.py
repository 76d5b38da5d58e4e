"""Picture the colour views while TinyVGG trains on colour pictures: one PNG per view, for reviewing the
GUI and for the README.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python bench/colour_tour.py --lang ko --out /tmp/colour

Opens the real main window on ``--dataset`` (default: the built-in 64x64 colour shapes) with TinyVGG,
trains ``--train-seconds`` from the first batch, pauses, then saves: the feature maps (colour input and its R, G, B
channels), the filters ("Colour (RGB input)": slices and colour patch), the theater sliding a learned
3x3x3 filter over a colour sample, a colour photo classified, and the notes' 39x39x3 network in the
editor (the ``network-39`` lesson's last step). Prints one line per picture and exits.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _photo(path: Path, size: int = 96) -> Path:
    """A made-up colour 'photo': a green triangle on a warm, noisy background."""
    from PIL import Image

    rng = np.random.default_rng(7)
    img = np.clip(rng.normal((235, 225, 205), 12, (size, size + 30, 3)), 0, 255).astype(np.uint8)
    yy, xx = np.mgrid[0:size, 0:size + 30]
    cx = (size + 30) / 2
    inside = (yy > size * 0.2) & (yy < size * 0.8) & (np.abs(xx - cx) < (yy - size * 0.2) * 0.7)
    img[inside] = (40, 170, 60)
    Image.fromarray(img).save(path)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lang", choices=("ko", "en"), default="ko")
    parser.add_argument("--dataset", default="colour_shapes_64")
    parser.add_argument("--model", default="tinyvgg")
    parser.add_argument("--train-seconds", type=float, default=40.0)
    parser.add_argument("--size", default="1280x800")
    parser.add_argument("--sample", type=int, default=3, help="validation image shown")
    parser.add_argument("--filter", type=int, default=0, help="first-layer filter shown in the theater")
    parser.add_argument("--out", type=Path, default=Path("colour_tour"))
    args = parser.parse_args()

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    import engine  # noqa: F401  (NUMBA_CACHE_DIR before numba)
    from gui import i18n
    from gui.app import build_parser, parse_size
    from gui.main_window import MainWindow
    from gui.theater import sources as src

    app = QApplication.instance() or QApplication(sys.argv[:1])
    import pyqtgraph as pg

    pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)     # as gui.app does
    i18n.set_language(args.lang)
    flags = ["--dataset", args.dataset, "--model", args.model, "--train", "--reset-layout", "--lang", args.lang]
    window = MainWindow(options=build_parser().parse_args(flags), restore_layout=False)
    window.resize(*parse_size(args.size))
    window.show()
    window.start_up()
    args.out.mkdir(parents=True, exist_ok=True)
    photo = _photo(Path(tempfile.mkdtemp()) / "green_triangle.png")
    c = window.controller

    def save(name: str) -> None:
        path = args.out / f"{name}-{args.lang}.png"
        ok = window.save_screenshot(path)
        print(f"{'saved' if ok else 'FAILED'} {path}", flush=True)

    def theater() -> None:
        t = window.theater_panel
        t.sources.choose(input_kind=src.INPUT_VAL, sample_index=args.sample, kernel_kind=src.KERNEL_LEARNED,
                         layer_index=0, filter_index=args.filter, in_channel=-1)
        t.push()
        t.stage.seek(t.stage.theater.n_positions // 2 + 20 if t.stage.theater else 0)

    steps = [
        (0, lambda: (c.pause(), c.select_validation_sample(args.sample), window.show_tab("feature_maps"))),
        (2500, lambda: save("colour-feature-maps")),
        (100, lambda: window.show_tab("filters")),
        (1500, lambda: save("colour-filters")),
        (100, lambda: (window.show_tab("theater"), theater())),
        (2000, lambda: save("colour-theater")),
        (100, lambda: (window.classify_files([str(photo)]), window.show_tab("classify"))),
        (2500, lambda: save("colour-classify")),
        (100, lambda: window.open_lesson("network-39", "params")),
        (2500, lambda: save("colour-editor-39x39x3")),
    ]

    def run(i: int = 0) -> None:
        if i >= len(steps):
            window.stop_training()
            window.close()
            app.quit()
            return
        delay, action = steps[i]
        QTimer.singleShot(int(delay), lambda: (action(), run(i + 1)))

    def first_batch(_metrics) -> None:
        # a busy machine may take minutes to make the dataset and compile: count from the first batch
        c.batch_metrics_ready.disconnect(first_batch)
        QTimer.singleShot(int(args.train_seconds * 1000), run)

    c.batch_metrics_ready.connect(first_batch)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
