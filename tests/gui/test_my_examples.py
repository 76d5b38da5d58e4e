""""This is a k": add your drawing to your own examples, fine-tune, and the answer changes."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from tests.headless import qt_modules_loaded_by

TRIANGLE = 7          # engine.datasets.generated.SHAPE_CLASSES[7]


def test_the_examples_model_imports_no_qt():
    assert qt_modules_loaded_by("gui.classify.my_examples", "engine.datasets.user_examples") == []


@pytest.fixture(scope="module")
def shapes_and_model():
    """The built-in shapes dataset and the shapes_small preset trained on part of it (seeded, a few seconds)."""
    from engine import optimizers
    from engine.datasets import load_dataset
    from engine.presets import build_preset

    ds = load_dataset("shapes", seed=0)
    model = build_preset("shapes_small", (1, 28, 28), 8)
    model.fit(ds.x_train[:3000], ds.y_train[:3000], optimizer=optimizers.Adam(0.003), epochs=1, batch_size=32,
              seed=0)
    return ds, model


@pytest.fixture
def shapes_controller(qtbot, warm_kernels, shapes_and_model, tmp_path, monkeypatch):
    from gui.controller import TrainingController

    monkeypatch.setenv("CONVSCOPE_EXAMPLES_DIR", str(tmp_path / "examples"))
    ds, model = shapes_and_model
    c = TrainingController()
    c.use_dataset(ds)
    assert c.set_model(model.clone())
    c.kernels_warm = True
    c.set_options(optimizer="adam", learning_rate=0.001, batch_size=32, seed=0)
    yield c
    assert c.shutdown(timeout=10), "the worker thread did not end"


@pytest.fixture
def panel(qtbot, shapes_controller):
    from gui.widgets.classify import ClassifyPanel

    p = ClassifyPanel(shapes_controller)
    qtbot.addWidget(p)
    p.resize(1400, 520)
    return p


def draw_triangle(pad) -> None:
    """A lopsided freehand triangle (the shapes model reads it as a circle)."""
    s = pad.SIZE / 28.0
    corners = [(4, 4), (24, 10), (8, 24), (4, 4)]
    for (x0, y0), (x1, y1) in zip(corners, corners[1:], strict=False):
        pad.draw_line(QPointF(x0 * s, y0 * s), QPointF(x1 * s, y1 * s))
    pad.drawn.emit()


def test_this_is_a_k_fine_tune_changes_the_drawings_answer(qtbot, panel, shapes_controller, tmp_path):
    draw_triangle(panel.pad)
    panel.classify_drawing()
    before = panel.current.probabilities
    assert int(np.argmax(before)) != TRIANGLE, "the untaught model should misread the drawing"
    box = panel.examples
    assert np.array_equal(box.model.image, panel.current.x)         # as the network sees it
    box.class_combo.setCurrentIndex(TRIANGLE)
    qtbot.mouseClick(box.add_button, Qt.MouseButton.LeftButton)
    kept = list((tmp_path / "examples" / "shapes_28x28x1" / str(TRIANGLE)).glob("*.png"))
    assert len(kept) == 1 and box.list.count() == 1 and box.list.item(0).text() == "triangle"
    with qtbot.waitSignal(shapes_controller.fine_tuner.finished, timeout=60_000):
        qtbot.mouseClick(box.fine_tune_button, Qt.MouseButton.LeftButton)
        assert not box.fine_tune_button.isEnabled()        # one fine-tune at a time
    m = box.model
    assert int(np.argmax(m.before)) != TRIANGLE and int(np.argmax(m.after)) == TRIANGLE
    assert np.allclose(m.before, before, atol=1e-5)
    assert "triangle" in box.message.text()
    # the window's model learned it: the panel's own bars show the new answer
    assert int(np.argmax(panel.current.probabilities)) == TRIANGLE
    assert "triangle" in panel.answer.text()
    # it still knows the dataset
    ds = shapes_controller.dataset
    accuracy = shapes_controller.model.evaluate(ds.x_test[:500], ds.y_test[:500]).accuracy
    assert accuracy > 0.5


def test_examples_survive_a_restart_and_can_be_removed_and_cleared(qtbot, panel, shapes_controller):
    from gui.classify.examples_box import MyExamplesBox

    draw_triangle(panel.pad)
    panel.classify_drawing()
    box = panel.examples
    box.class_combo.setCurrentIndex(2)
    box.model.add_current()
    box.class_combo.setCurrentIndex(5)
    box.model.add_current()
    again = MyExamplesBox(shapes_controller)              # as after a restart
    qtbot.addWidget(again)
    assert [again.list.item(i).text() for i in range(again.list.count())] == ["diagonal bar", "circle"]
    assert "2 examples" in again.summary.text()
    again.list.setCurrentRow(0)
    qtbot.mouseClick(again.remove_button, Qt.MouseButton.LeftButton)
    assert [e.label for e in again.model.examples()] == [5]
    qtbot.mouseClick(again.clear_button, Qt.MouseButton.LeftButton)
    assert again.model.examples() == [] and again.list.count() == 0 and not again.fine_tune_button.isEnabled()


def test_fine_tune_is_refused_while_training_runs(qtbot, panel, shapes_controller):
    draw_triangle(panel.pad)
    panel.classify_drawing()
    box = panel.examples
    box.model.add_current()
    shapes_controller.set_options(epochs=50)
    assert shapes_controller.start()
    qtbot.waitUntil(lambda: shapes_controller.is_training, timeout=10_000)
    assert not box.fine_tune()
    assert "Pause" in box.message.text() and box.fine_tune_button.isEnabled()
    shapes_controller.stop()
    qtbot.waitUntil(lambda: not shapes_controller.is_training, timeout=20_000)


def test_nothing_to_add_or_teach_says_what_to_do(qtbot, panel):
    box = panel.examples
    assert not box.add_button.isEnabled()
    assert box.model.add_current() is None and "first" in box.message.text()
    assert not box.fine_tune() and "example" in box.message.text()


def test_training_waits_for_a_running_fine_tune(qtbot, panel, shapes_controller):
    draw_triangle(panel.pad)
    panel.classify_drawing()
    box = panel.examples
    box.model.add_current()
    box.steps.setValue(60)
    with qtbot.waitSignal(shapes_controller.fine_tuner.finished, timeout=60_000) as done:
        assert box.fine_tune()
        assert not shapes_controller.start()        # the fine-tune's result has not come back yet
        assert "Fine-tuning" in shapes_controller.last_error
    assert not done.args[0].error and len(done.args[0].losses) == 60
    assert not shapes_controller.is_training


def test_the_about_box_lists_the_engines_examples_folder(tmp_path, monkeypatch):
    from engine.datasets.user_examples import default_examples_dir
    from gui.desktop.paths import examples_dir

    monkeypatch.setenv("CONVSCOPE_EXAMPLES_DIR", str(tmp_path))
    assert examples_dir() == default_examples_dir() == tmp_path
