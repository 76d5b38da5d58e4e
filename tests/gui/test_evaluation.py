"""The confusion matrix's class labels: every class named, nothing overlapping, the matrix square and
as large as its box allows, at the window sizes students use and with Fashion-MNIST's long names."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QFontMetricsF, QPolygonF

from engine.datasets import FASHION_CLASSES
from gui.widgets.class_labels import (
    LabelLayout,
    choose_layout,
    column_extent,
    label_metrics,
)


def fashion_like_dataset(names=FASHION_CLASSES, seed=0):
    rng = np.random.default_rng(seed)
    k = len(names)

    def make(n):
        return rng.integers(0, 256, (n, 1, 28, 28), dtype=np.uint8), np.arange(n, dtype=np.int64) % k

    (xt, yt), (xv, yv) = make(10 * k), make(4 * k)
    return SimpleNamespace(name="fashion_like", x_train=xt, y_train=yt, x_test=xv, y_test=yv,
                           class_names=list(names), input_shape=(1, 28, 28), num_classes=k, source="tests")


def confusion_of(k, seed=0):
    rng = np.random.default_rng(seed)
    c = rng.integers(0, 900, (k, k))
    c[np.arange(k), np.arange(k)] += 5000            # 4-digit counts, as with the real validation set
    return c


@pytest.fixture
def shown_matrix(qtbot, warm_kernels):
    """Returns ``show(size, names)``: a main window of ``size`` on the Evaluation tab with a matrix of
    ``len(names)`` classes whose labels have settled."""
    from gui.main_window import MainWindow

    windows = []

    def show(size=(1400, 900), names=FASHION_CLASSES):
        w = MainWindow(restore_layout=False)
        qtbot.addWidget(w)
        windows.append(w)
        w.resize(*size)
        w.controller.use_dataset(fashion_like_dataset(names))
        w.controller.kernels_warm = True
        w.show()
        qtbot.waitExposed(w)
        w.show_tab("evaluation")
        ev = w.evaluation_panel
        ev.set_confusion(confusion_of(len(names)), "test")
        ev.render()
        qtbot.waitUntil(lambda: len(ev.column_labels.items) == len(names), timeout=5000)
        _settle(qtbot, ev)
        return ev

    yield show
    for w in windows:
        assert w.stop_training(), "the worker thread did not end"
        w.close()


def _settle(qtbot, ev):
    """Wait until the labels stop moving (layout passes and the deferred fit have run)."""
    def state():
        return (ev.column_labels.layout_choice, ev.plot.vb.width(), ev.plot.vb.height(),
                tuple((round(i.scenePos().x(), 1), round(i.scenePos().y(), 1)) for i in ev.column_labels.items))

    last = None
    for _ in range(40):
        qtbot.wait(25)
        now = state()
        if now == last:
            return
        last = now
    raise AssertionError("the labels kept moving")


def scene_polygon(item) -> QPolygonF:
    return item.mapToScene(item.boundingRect())


def _no_two_overlap(items):
    for a, b in itertools.combinations([i for i in items if i.isVisible()], 2):
        assert not scene_polygon(a).intersects(scene_polygon(b)), f"{a.text()!r} overlaps {b.text()!r}"


@pytest.mark.parametrize("size", [(1400, 900), (1280, 800), (1024, 640)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_every_fashion_class_is_named_on_both_axes_without_overlaps(shown_matrix, size):
    ev = shown_matrix(size)
    k = len(FASHION_CLASSES)
    for strip in (ev.row_labels, ev.column_labels):
        assert len(strip.items) == k
        assert strip.tooltips() == list(FASHION_CLASSES)          # the full names, in class order
        assert all(item.isVisible() and item.text() for item in strip.items)
        _no_two_overlap(strip.items)
    # labels sit outside the matrix, inside the visible view, at their own row / column
    matrix = ev.image.sceneBoundingRect().adjusted(1, 1, -1, -1)
    view = QRectF(ev.glw.viewport().rect())
    for i, (row, col) in enumerate(zip(ev.row_labels.items, ev.column_labels.items)):
        for item in (row, col):
            poly = scene_polygon(item)
            assert not poly.intersects(QPolygonF(matrix)), f"{item.text()!r} covers the matrix"
            assert view.contains(ev.glw.mapFromScene(poly).boundingRect()), f"{item.text()!r} is cut off"
        centre = ev.cell_center(i, i)
        r, c = scene_polygon(row).boundingRect(), scene_polygon(col).boundingRect()
        assert r.top() <= centre.y() <= r.bottom() and r.right() <= matrix.left() + 1
        assert c.left() <= centre.x() <= c.right() + 1 and c.top() >= matrix.bottom()
    # every count is written inside its cell, or none is when no font fits
    ev.render()
    cell = ev.image.sceneBoundingRect().width() / k
    texts = ev.counts.texts() + ev.diagonal_counts.texts()
    if cell >= 30:
        assert len(texts) == k * k
    if texts:
        fm = QFontMetricsF(ev.diagonal_counts.font)
        assert max(fm.horizontalAdvance(t) for t in texts) < cell


def test_long_names_are_shown_side_by_side_when_the_columns_are_wide_enough(shown_matrix):
    ev = shown_matrix((1400, 900), names=["cat", "dog", "owl"])
    assert ev.column_labels.layout_choice.angle == 0
    assert ev.column_labels.texts() == ["cat", "dog", "owl"]
    assert all(item.rotation() == 0 for item in ev.column_labels.items)


def test_fashion_names_are_turned_at_1400x900_and_very_long_names_are_elided_with_the_full_name_as_tooltip(
        shown_matrix):
    long_name = "a remarkably long folder name for a class of pictures"
    names = list(FASHION_CLASSES[:-1]) + [long_name]
    ev = shown_matrix((1400, 900), names=names)
    assert ev.column_labels.layout_choice.angle in (45, 90)
    last = ev.column_labels.items[-1]
    assert last.text() != long_name and last.text().endswith("…") and last.toolTip() == long_name
    _no_two_overlap(ev.column_labels.items)


def test_matrix_is_square_and_as_large_as_its_box_allows(shown_matrix):
    ev = shown_matrix((1400, 900))
    rect = ev.image.sceneBoundingRect()
    assert abs(rect.width() - rect.height()) < 1
    assert rect.width() >= min(ev.plot.vb.width(), ev.plot.vb.height()) - 1
    assert rect.width() > 350                                  # ~37 px per cell for ten classes


# -- the layout choice, without a window -----------------------------------------------------------

def test_layout_prefers_horizontal_then_turned_then_smaller_text():
    names = list(FASHION_CLASSES)
    assert choose_layout(names, 2000, 2000) == LabelLayout(0, 9)
    turned = choose_layout(names, 520, 560)
    assert turned.angle == 45 and turned.point_size == 9
    assert choose_layout(names, 270, 380).angle == 90
    small = choose_layout(names, 150, 220)
    assert small.point_size < 9 or small.stride > 1


def test_layout_for_many_classes_in_a_small_box_shows_every_nth_label():
    names = [f"class {i}" for i in range(60)]
    choice = choose_layout(names, 260, 300)
    widest, height = label_metrics(names, choice.point_size)
    cell = min(260 - widest - 8, 300 - column_extent(90, widest, height)) / 60
    assert choice.stride > 1 and choice.stride * cell >= height       # the shown ones do not overlap


def test_the_first_matrix_appears_without_resizing_the_view(qtbot, warm_kernels):
    """Before the first epoch the view is there but empty; the first matrix only fills it (showing the
    widget then resized and laid it out all at once: the longest pause of the GUI thread in a run)."""
    from PySide6.QtCore import QEvent, QObject

    from gui.main_window import MainWindow

    w = MainWindow(restore_layout=False)
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.controller.use_dataset(fashion_like_dataset())
    w.controller.kernels_warm = True
    w.show()
    qtbot.waitExposed(w)
    w.show_tab("evaluation")
    ev = w.evaluation_panel
    ev.render()
    qtbot.wait(50)
    assert ev.glw.isVisible() and not ev.glw.ci.isVisible()          # no empty axes on screen
    size = ev.glw.size()

    class Resizes(QObject):
        count = 0

        def eventFilter(self, obj, event):
            if event.type() == QEvent.Type.Resize:
                Resizes.count += 1
            return False

    spy = Resizes()
    ev.glw.installEventFilter(spy)
    ev.set_confusion(confusion_of(len(FASHION_CLASSES)), "test")
    assert ev.render()
    qtbot.wait(100)
    assert ev.glw.ci.isVisible() and len(ev.column_labels.items) == len(FASHION_CLASSES)
    assert Resizes.count == 0 and ev.glw.size() == size
    assert w.stop_training()
    w.close()
