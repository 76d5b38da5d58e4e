"""How fast the lesson player applies steps to the real panels, and how long a lesson takes a student.

    QT_QPA_PLATFORM=offscreen python bench/lesson_player.py

Opens an offscreen main window on the built-in shapes dataset and plays every step of every shipped
lesson (answers typed from the file, Next pressed), timing each step's application to the theater,
editor, controller and tab. Steps that load MNIST/Fashion-MNIST are timed up to the request (the load
itself runs on the helper thread). The human estimate: reading at ~250 Korean characters a minute plus
~30 s for each question.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

READING_CHARS_PER_MINUTE = 250
SECONDS_PER_QUESTION = 30


def main() -> None:
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    import pyqtgraph as pg

    from engine import kernels
    from gui.lessons.player_model import lesson_order
    from gui.main_window import MainWindow

    pg.setConfigOptions(imageAxisOrder="row-major")
    kernels.warmup()
    w = MainWindow(restore_layout=False)
    w.controller.set_dataset("shapes")
    w.controller.kernels_warm = True
    w.show()
    app.processEvents()
    player = w.lesson_player
    print(f"{'lesson':<18} {'steps':>5} {'ms/step (median)':>17} {'steps/s':>8} {'student (min)':>14}")
    all_times = []
    for name in lesson_order():
        player.open_lesson(name)
        player.restart()
        lesson = player.player.lesson
        times = []
        for _i, step in enumerate(lesson.steps):
            q = step.question
            if q is not None:
                player.answer(q.answer if q.kind != "text" else q.answer[0])
            t0 = time.perf_counter()
            player.go_next()
            app.processEvents()
            times.append(time.perf_counter() - t0)
        times = times[:-1] or times                 # the last Next only finishes the lesson
        all_times += times
        chars = sum(len(s.text.ko) + (len(s.question.prompt.ko) if s.question else 0) for s in lesson.steps)
        human = chars / READING_CHARS_PER_MINUTE + SECONDS_PER_QUESTION * sum(
            1 for s in lesson.steps if s.question) / 60
        med = statistics.median(times)
        print(f"{name:<18} {len(lesson.steps):>5} {med * 1000:>17.1f} {1 / med:>8.1f} {human:>14.1f}")
    med = statistics.median(all_times)
    print(f"{'all':<18} {len(all_times):>5} {med * 1000:>17.1f} {1 / med:>8.1f}")
    w.stop_training()
    w.close()


if __name__ == "__main__":
    main()
