"""Fixtures of the GUI tests: warm kernels once, a small deterministic dataset, controllers and windows
that always stop their threads before the test ends."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest


@pytest.fixture(scope="session", autouse=True)
def _pyqtgraph_row_major():
    import pyqtgraph as pg

    pg.setConfigOptions(imageAxisOrder="row-major")


@pytest.fixture(scope="session")
def warm_kernels():
    """Compile (or load from the cache) every numba kernel once per session, not once per test."""
    from engine import kernels

    kernels.warmup()
    return True


def make_bars_dataset(n_train: int = 256, n_val: int = 64, seed: int = 0):
    """Four classes that a tiny CNN separates in one epoch: a square, a vertical, a horizontal and a
    diagonal bar at random places (uint8 ``(N, 1, 28, 28)``)."""
    rng = np.random.default_rng(seed)

    def make(n):
        x = np.zeros((n, 1, 28, 28), np.uint8)
        y = rng.integers(0, 4, n).astype(np.int64)
        for i in range(n):
            a, b = rng.integers(3, 12, 2)
            k = y[i]
            if k == 0:
                x[i, 0, a:a + 12, b:b + 12] = 255
            elif k == 1:
                x[i, 0, a:a + 14, b + 6:b + 9] = 255
            elif k == 2:
                x[i, 0, a + 6:a + 9, b:b + 14] = 255
            else:
                for t in range(13):
                    x[i, 0, a + t, b + t:b + t + 2] = 255
        return x, y

    xt, yt = make(n_train)
    xv, yv = make(n_val)
    return SimpleNamespace(name="bars", x_train=xt, y_train=yt, x_test=xv, y_test=yv,
                           class_names=["square", "vertical", "horizontal", "diagonal"],
                           input_shape=(1, 28, 28), num_classes=4, source="generated in tests")


@pytest.fixture
def bars():
    return make_bars_dataset()


@pytest.fixture
def controller(qtbot, warm_kernels, bars):
    """A controller with the bars dataset and the small preset, kernels ready; shut down afterwards."""
    from gui.controller import TrainingController

    c = TrainingController()
    c.use_dataset(bars)
    assert c.model is not None
    c.kernels_warm = True           # the session fixture compiled them in this process
    c.refresh_inspection()
    yield c
    assert c.shutdown(timeout=10), "the worker thread did not end"


def bars_window(qtbot, bars):
    """A shown main window (1280x800) on the bars dataset, kernels marked warm; the caller stops and closes it."""
    from gui.main_window import MainWindow

    w = MainWindow(restore_layout=False)
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.controller.use_dataset(bars)
    w.controller.kernels_warm = True
    w.controller.refresh_inspection()
    w.show()
    qtbot.waitExposed(w)
    return w


@pytest.fixture
def window(qtbot, warm_kernels, bars):
    """The main window with the bars dataset; at teardown it must stop its threads (like closing)."""
    w = bars_window(qtbot, bars)
    yield w
    assert w.stop_training(), "the worker thread did not end"
    w.close()


@pytest.fixture
def theater_panel(qtbot):
    """A shown theater panel (1400x860), paused at teardown."""
    from gui.theater.panel import TheaterPanel

    p = TheaterPanel(None)
    qtbot.addWidget(p)
    p.resize(1400, 860)
    p.show()
    qtbot.waitExposed(p)
    yield p
    p.pause()
