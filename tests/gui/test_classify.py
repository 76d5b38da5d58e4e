"""Classifying the student's own images: drop anywhere, open, paste, draw; bad files get a message."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QImage
from PySide6.QtWidgets import QApplication

TIMEOUT = 60_000


def _write_square_png(path, size=(120, 90)):
    """A dark photo-like picture with a bright square: what the 'square' class looks like, larger."""
    img = np.full((size[1], size[0], 3), 20, np.uint8)
    img[20:70, 35:85] = (250, 250, 240)
    Image.fromarray(img).save(path)
    return path


def _drop(window, paths, at=None):
    """Drag files over the window and drop them, through Qt's own event routing (STACK.md)."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    target = window.windowHandle()
    pos = at if at is not None else QPoint(window.width() // 2, window.height() // 2)
    enter = QDragEnterEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(target, enter)
    drop = QDropEvent(QPointF(pos), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(target, drop)
    return enter, drop


def test_dropping_a_png_anywhere_classifies_it_and_the_feature_maps_follow(qtbot, window, tmp_path):
    png = _write_square_png(tmp_path / "my_square.png")
    window.show_tab("feature_maps")
    fm_center = window.feature_map_panel.glw.mapTo(window, window.feature_map_panel.glw.rect().center())
    with qtbot.waitSignal(window.files_dropped, timeout=5000) as blocker:
        _drop(window, [png], at=fm_center)           # over a pyqtgraph view, not the classify tab
    assert blocker.args == [[str(png)]]
    cp = window.classify_panel
    assert window.current_tab_key() == "classify"
    assert cp.last_message == ""
    item = cp.current
    assert item.name == "my_square.png" and item.original.shape == (90, 120, 3)
    assert item.x.shape == (1, 28, 28) and item.x.dtype == np.float32
    assert abs(float(item.probabilities.sum()) - 1) < 1e-4
    # the bar chart shows every class with its probability, the best one highlighted
    assert len(cp.bars.opts["y"]) == 4 and cp.top_bar.opts["width"][0] == pytest.approx(item.probabilities.max())
    assert "%" in cp.answer.text()
    # the inspection panels switched to the dropped image
    c = window.controller
    assert c.sample.source == "file" and c.sample.name == "my_square.png"
    assert np.array_equal(c.latest_inspection.activations[0], item.x)
    assert np.allclose(c.latest_inspection.probabilities, item.probabilities, atol=1e-5)


def test_dropping_several_files_classifies_each_and_reports_the_bad_ones(qtbot, window, tmp_path):
    good1 = _write_square_png(tmp_path / "a.png")
    good2 = _write_square_png(tmp_path / "b.png", size=(40, 40))
    text = tmp_path / "notes.txt"
    text.write_text("not an image")
    corrupt = tmp_path / "broken.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00garbage" * 20)
    _drop(window, [good1, text, corrupt, good2])
    cp = window.classify_panel
    assert [r.name for r in cp.results] == ["a.png", "b.png"]
    assert cp.history.count() == 2
    assert "notes.txt" in cp.last_message and "not an image" in cp.last_message
    assert "broken.png" in cp.last_message
    assert "Traceback" not in cp.last_message


def test_a_rejected_text_file_gives_a_message_and_keeps_everything(qtbot, window, tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    cp = window.classify_panel
    sample = window.controller.sample
    _drop(window, [text])
    assert cp.results == [] and cp.current is None
    assert "notes.txt" in cp.last_message and cp.message.text() == cp.last_message
    assert window.controller.sample is sample


def test_a_corrupt_png_gives_a_message_not_a_traceback(qtbot, window, tmp_path):
    corrupt = tmp_path / "broken.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(50))
    _drop(window, [corrupt])
    cp = window.classify_panel
    assert cp.results == []
    assert "broken.png" in cp.last_message and "Traceback" not in cp.last_message


def test_dropping_while_training_predicts_on_a_copy_and_bars_follow_the_training(qtbot, window, tmp_path):
    c = window.controller
    c.set_options(epochs=50, learning_rate=0.003, batch_size=32)
    c.start()
    qtbot.waitUntil(lambda: c.latest_snapshot is not None, timeout=TIMEOUT)
    png = _write_square_png(tmp_path / "live.png")
    _drop(window, [png])
    cp = window.classify_panel
    first = cp.current.probabilities.copy()
    step0 = c.latest_inspection.step
    qtbot.waitUntil(lambda: c.latest_inspection.sample is c.sample and c.latest_inspection.live
                    and c.latest_inspection.step > step0 + 5, timeout=TIMEOUT)
    # the bars follow the live inspection of the dropped image (values may saturate, so compare to it)
    qtbot.waitUntil(lambda: np.array_equal(cp.current.probabilities, c.latest_inspection.probabilities),
                    timeout=5000)
    assert c.latest_inspection.step > step0 and first.shape == cp.current.probabilities.shape
    assert c.stop()
    # the thumbnail in the history names the answer the bars show now, not the one at drop time
    cp.render_bars()
    names = cp.class_names(len(cp.current.probabilities))
    answer = names[int(np.argmax(cp.current.probabilities))]
    assert cp.history.item(cp.history.count() - 1).text().splitlines()[-1] == answer


def test_paste_an_image_from_the_clipboard(qtbot, window):
    img = np.zeros((50, 50, 3), np.uint8)
    img[10:40, 22:28] = 255                           # a vertical bar
    qimg = QImage(img.data, 50, 50, 150, QImage.Format.Format_RGB888).copy()
    QApplication.clipboard().setImage(qimg)
    window.paste_action.trigger()
    cp = window.classify_panel
    assert cp.current is not None and cp.current.source == "clipboard"
    assert cp.current.original.shape[:2] == (50, 50)
    QApplication.clipboard().setText("just text")
    assert not cp.paste()
    assert "clipboard" in cp.last_message


def test_the_draw_pad_classifies_what_is_drawn(qtbot, window):
    cp = window.classify_panel
    window.show_tab("classify")
    assert cp.pad_widget.isVisible()                  # a one-channel 28x28 dataset gets the pad
    pad = cp.pad
    # a vertical stroke, drawn with the mouse
    qtbot.mousePress(pad, Qt.MouseButton.LeftButton, pos=QPoint(112, 30))
    for y in range(40, 200, 10):
        qtbot.mouseMove(pad, QPoint(112, y))
    qtbot.mouseRelease(pad, Qt.MouseButton.LeftButton, pos=QPoint(112, 195))
    assert pad.array()[100, 112] == 255 and pad.array()[100, 30] == 0
    qtbot.waitUntil(lambda: cp.current is not None and cp.current.source == "drawing", timeout=3000)
    x = cp.current.x
    assert x.shape == (1, 28, 28) and x.max() > 0.5
    assert abs(float(cp.current.probabilities.sum()) - 1) < 1e-4
    qtbot.mouseClick(cp.clear_pad, Qt.MouseButton.LeftButton)
    assert pad.is_empty()


def test_classify_flag_images_are_checked_at_start_up(qtbot, warm_kernels, tmp_path, bars):
    """--classify works like a drop once the kernels are ready (and a bad file still only gives a message)."""
    import argparse

    from gui.main_window import MainWindow

    png = _write_square_png(tmp_path / "flag.png")
    opts = argparse.Namespace(dataset=None, model=None, data_dir=None, train=False, tab="classify",
                              classify=[str(png), str(tmp_path / "missing.png")])
    w = MainWindow(options=opts, restore_layout=False)
    qtbot.addWidget(w)
    w.controller.use_dataset(bars)
    w.start_up = lambda: None                        # the dataset is given above, not loaded by name
    w.show()
    w._pending_classify = opts.classify
    w.controller.kernels_ready.connect(w._classify_pending)
    with qtbot.waitSignal(w.controller.kernels_ready, timeout=TIMEOUT):
        w.controller.warm_up()
    assert [r.name for r in w.classify_panel.results] == ["flag.png"]
    assert "missing.png" in w.classify_panel.last_message
    assert w.stop_training()


def test_open_image_dialog_filter_lists_the_engine_image_extensions_in_both_languages():
    from engine.imaging import IMAGE_EXTENSIONS
    from gui import i18n
    from gui.main_window import image_file_filter

    patterns = " ".join("*" + ext for ext in IMAGE_EXTENSIONS)
    assert image_file_filter() == f"Images ({patterns})"
    i18n.set_language("ko")
    try:
        assert image_file_filter() == f"이미지 ({patterns})"
    finally:
        i18n.set_language("en")
