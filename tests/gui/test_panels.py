"""The panels of the main window, driven the way a student drives them."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import QApplication, QToolTip

TIMEOUT = 60_000


def _options(c, **extra):
    options = dict(optimizer="adam", learning_rate=0.003, batch_size=32, epochs=1, seed=0)
    options.update(extra)
    c.set_options(**options)


def _click_scene(qtbot, widget, scene_pos):
    """Click a pyqtgraph GraphicsLayoutWidget at a scene position, through real mouse events."""
    from PySide6.QtTest import QTest

    view_pos = widget.mapFromScene(scene_pos)
    QTest.mouseClick(widget.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, view_pos)


# -- training panel ---------------------------------------------------------------------------------

def test_training_buttons_drive_start_pause_resume_step_and_stop(qtbot, window):
    p = window.training_panel
    c = window.controller
    _options(c, epochs=30)
    assert p.start_button.isEnabled() and not p.pause_button.isEnabled()
    with qtbot.waitSignal(c.state_changed, timeout=TIMEOUT, check_params_cb=lambda s: s == "training"):
        qtbot.mouseClick(p.start_button, Qt.MouseButton.LeftButton)
    assert not p.start_button.isEnabled() and p.pause_button.text() == "Pause"
    assert not p.dataset_combo.isEnabled()                 # no dataset switch under a running trainer
    qtbot.waitUntil(lambda: len(c.history.batches) >= 3, timeout=TIMEOUT)
    with qtbot.waitSignal(c.state_changed, timeout=TIMEOUT, check_params_cb=lambda s: s == "paused"):
        qtbot.mouseClick(p.pause_button, Qt.MouseButton.LeftButton)
    assert p.pause_button.text() == "Resume"
    n = len(c.history.batches)
    with qtbot.waitSignal(c.state_changed, timeout=TIMEOUT, check_params_cb=lambda s: s == "paused"):
        qtbot.mouseClick(p.step_button, Qt.MouseButton.LeftButton)
    assert len(c.history.batches) == n + 1
    with qtbot.waitSignal(c.state_changed, timeout=TIMEOUT, check_params_cb=lambda s: s == "training"):
        qtbot.mouseClick(p.pause_button, Qt.MouseButton.LeftButton)   # Resume
    qtbot.waitUntil(lambda: len(c.history.batches) >= n + 4, timeout=TIMEOUT)
    with qtbot.waitSignal(c.state_changed, timeout=TIMEOUT, check_params_cb=lambda s: s == "idle"):
        qtbot.mouseClick(p.stop_button, Qt.MouseButton.LeftButton)
        assert not p.stop_button.isEnabled()             # asked once; the state follows the worker
    assert c.state == "idle" and p.start_button.isEnabled()
    qtbot.waitUntil(lambda: "images/s" in p.speed_label.text(), timeout=5000)
    assert "Epoch" in p.progress_label.text() and p.progress.value() > 0


def test_training_panel_settings_reach_the_controller(qtbot, window):
    p = window.training_panel
    c = window.controller
    p.lr_spin.setValue(0.0123)
    p.batch_spin.setValue(16)
    p.epochs_spin.setValue(3)
    p.seed_spin.setValue(42)
    p.optimizer_combo.setCurrentIndex(p.optimizer_combo.findData("sgd"))
    assert c.options["learning_rate"] == pytest.approx(0.0123)
    assert (c.options["batch_size"], c.options["epochs"], c.options["seed"], c.options["optimizer"]) == (16, 3, 42, "sgd")


def test_every_control_explains_itself_in_a_tooltip(window):
    from PySide6.QtWidgets import QAbstractButton, QAbstractSpinBox, QComboBox

    missing = []
    for key, panel in list(window.tabs_by_key.items()) + [(k, d.widget()) for k, d in window.docks.items()]:
        if key in ("theater", "editor"):
            continue
        found = [w for cls in (QAbstractButton, QAbstractSpinBox, QComboBox) for w in panel.findChildren(cls)]
        for w in found:
            if w.parent() is not None and type(w.parent()).__name__ in ("QAbstractSpinBox",):
                continue
            if not w.toolTip() and w.isVisibleTo(panel) and w.objectName() != "qt_spinbox_lineedit":
                missing.append(f"{key}: {type(w).__name__} {getattr(w, 'text', lambda: '')()!r}")
    assert missing == []


# -- architecture ----------------------------------------------------------------------------------

def test_architecture_lists_input_to_softmax_with_shapes_params_and_keras_totals(window):
    a = window.architecture_panel
    c = window.controller
    blocks = a.view.blocks
    assert blocks[0].title == "Input" and blocks[0].shape == "28 x 28 x 1"
    assert blocks[-1].class_name == "Softmax"
    rows = c.model.summary_rows()
    assert [b.params for b in blocks[1:-1]] == [r.params for r in rows]
    conv = blocks[1]
    assert conv.title == "Conv2D" and conv.shape == "28 x 28 x 8" and conv.params == 3 * 3 * 1 * 8 + 8
    assert f"{c.model.total_params:,}" in a.totals.text()
    assert "Trainable params" in a.totals.text() and "Non-trainable params" in a.totals.text()


def test_hovering_a_conv_block_shows_its_size_and_parameter_formulas(qtbot, window):
    a = window.architecture_panel
    window.show_tab("feature_maps")
    view = a.view
    rect = view.block_rect(1).toRect()
    shown = []
    original = QToolTip.showText

    def capture(pos, text, *args):
        shown.append(text)
        original(pos, text, *args)

    QToolTip.showText = capture
    try:
        ev = QHelpEvent(QEvent.Type.ToolTip, rect.center(), view.mapToGlobal(rect.center()))
        QApplication.sendEvent(view, ev)
    finally:
        QToolTip.showText = original
    assert shown, "no tooltip shown"
    tip = shown[-1]
    row = window.controller.model.summary_rows()[0]
    assert row.size_formula and row.size_formula in tip
    assert row.formula == "3*3*1*8 + 8 = 80" and row.formula in tip
    assert "(n + 2p - f)/s + 1 = (28 + 2*1 - 3)/1 + 1 = 28" in tip      # padding "same" of 3x3 is 1
    assert "f*f*c_in*c_out + c_out" in tip


def test_clicking_a_layer_block_selects_it_for_feature_maps_and_filters(qtbot, window):
    a = window.architecture_panel
    c = window.controller
    window.show_tab("feature_maps")
    view = a.view
    target = 3                                       # block 3 = layer 2 (the second Conv2D)
    with qtbot.waitSignal(c.layer_selected, timeout=2000):
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=view.block_rect(target).center().toPoint())
    assert c.selected_layer == 2
    fm = window.feature_map_panel
    assert fm.layer_index == 2 and fm.layer_combo.currentData() == 2
    assert window.filter_panel.layer_index == 2
    qtbot.waitUntil(lambda: fm._n == 16, timeout=3000)    # 16 channels of the second conv


# -- feature maps ----------------------------------------------------------------------------------

def test_feature_maps_show_every_channel_numbered_and_click_enlarges_one(qtbot, window):
    fm = window.feature_map_panel
    window.show_tab("feature_maps")
    qtbot.waitUntil(lambda: fm.render_count > 0 and fm._n == 8, timeout=3000)
    assert fm.labels.texts() == [str(i) for i in range(8)]
    act = window.controller.latest_inspection.activations[1]
    _click_scene(qtbot, fm.glw, fm.tile_center(5))
    assert fm.channel == 5
    assert np.array_equal(fm.channel_image.image, act[5])
    assert fm.channel_title.text.startswith("Channel 5")
    assert np.array_equal(fm.input_image.image, window.controller.sample.x[0])


def test_feature_maps_refresh_live_during_training_on_a_steady_colour_scale(qtbot, window):
    fm = window.feature_map_panel
    c = window.controller
    window.show_tab("feature_maps")
    _options(c, epochs=50)
    levels = []
    c.start()
    t0 = time.perf_counter()
    start_count = fm.render_count
    qtbot.waitUntil(lambda: fm.render_count >= start_count + 6, timeout=TIMEOUT)
    while time.perf_counter() - t0 < 2.5:
        qtbot.wait(100)
        levels.append(fm.colorbar.levels())
    rate = (fm.render_count - start_count) / (time.perf_counter() - t0)
    assert c.stop()
    assert rate >= 2.0, f"feature maps refreshed only {rate:.1f} times a second"
    highs = np.array([h for _, h in levels])
    # the scale follows the data but never jumps frame to frame (no flicker)
    assert np.all(np.abs(np.diff(highs)) <= 0.35 * highs[:-1] + 1e-6)


def test_max_pool_winner_view_marks_one_pixel_per_window(qtbot, window):
    from engine.inspection import pool_winner_mask

    fm = window.feature_map_panel
    c = window.controller
    window.show_tab("feature_maps")
    c.select_layer(1)                               # MaxPooling2D after the first conv
    assert fm.winners_check.isEnabled()
    fm.winners_check.setChecked(True)
    fm.render()
    maps, winners = fm.maps()
    x_in = c.latest_inspection.activations[1]
    assert maps.shape == x_in.shape and winners.shape == x_in.shape
    assert winners.reshape(8, 14, 2, 14, 2).sum(axis=(2, 4)).max() == 1
    assert winners.sum() == 8 * 14 * 14
    # the winners are the maxima the engine's pooling passed on
    pooled = c.latest_inspection.activations[2]
    assert np.allclose(np.sort(x_in[winners]), np.sort(pooled.ravel()))
    # the panel draws the engine's own switches of that forward pass, not a recomputation
    switches = c.latest_inspection.result.pool_switches[1]
    assert np.array_equal(winners, pool_winner_mask(switches, x_in.shape))


def test_feature_maps_of_a_dense_layer_show_its_units(qtbot, window):
    fm = window.feature_map_panel
    c = window.controller
    window.show_tab("feature_maps")
    dense = next(i for i, layer in enumerate(c.model.layers) if type(layer).__name__ == "Dense")
    c.select_layer(dense)
    fm.render()
    maps, _ = fm.maps()
    units = c.model.layers[dense].units
    assert np.count_nonzero(np.isfinite(maps)) == units


# -- filters ---------------------------------------------------------------------------------------

def test_filters_show_the_kernels_of_the_selected_conv_layer(qtbot, window):
    fp = window.filter_panel
    c = window.controller
    window.show_tab("filters")
    qtbot.waitUntil(lambda: fp.render_count > 0, timeout=3000)
    w = c.model.layers[0].params["W"]
    assert fp.kernels().shape == w.shape == (8, 1, 3, 3)
    img = fp.image.image
    _, cols = fp._label_key[0]                                         # a numbered grid of the 8 kernels
    for i in range(8):
        r, col = divmod(i, cols)
        assert np.allclose(img[r * 4:r * 4 + 3, col * 4:col * 4 + 3], w[i, 0])
    assert fp.col_labels.texts() == [str(i) for i in range(8)]
    c.select_layer(2)
    fp.render()
    assert fp.kernels().shape == (16, 8, 3, 3)
    assert fp.image.image.shape == (12 * 4 - 1, 8 * 4 - 1)          # rows: a page of 12 filters, columns: inputs
    fp.first_filter.setValue(12)                                    # the next page: filters 12..15
    fp.render()
    w2 = c.model.layers[2].params["W"]
    assert fp.image.image.shape == (4 * 4 - 1, 8 * 4 - 1)
    assert np.allclose(fp.image.image[0:3, 4:7], w2[12, 1])
    assert fp.row_labels.texts()[0] == "12" and fp.col_labels.texts()[:2] == ["0", "1"]


def test_filters_change_live_while_training(qtbot, window):
    fp = window.filter_panel
    c = window.controller
    window.show_tab("filters")
    qtbot.waitUntil(lambda: fp.render_count > 0, timeout=3000)
    before = np.array(fp.image.image, copy=True)
    _options(c, epochs=1)
    with qtbot.waitSignal(c.state_changed, timeout=TIMEOUT, check_params_cb=lambda s: s == "finished"):
        c.start()
    qtbot.waitUntil(lambda: not np.allclose(fp.image.image, before, equal_nan=True), timeout=3000)


# -- curves ----------------------------------------------------------------------------------------

def test_curves_are_fed_per_batch_and_per_epoch(qtbot, window):
    cp = window.curves_panel
    c = window.controller
    items_before = list(cp.loss_plot.listDataItems())
    _options(c, epochs=2)
    with qtbot.waitSignal(c.state_changed, timeout=TIMEOUT, check_params_cb=lambda s: s == "finished"):
        c.start()
    qtbot.waitUntil(lambda: cp.loss_val.getData()[0] is not None and len(cp.loss_val.getData()[0]) == 2,
                    timeout=3000)
    assert list(cp.loss_plot.listDataItems()) == items_before        # items created once, fed with setData
    x, y = cp.loss_raw.getData()
    assert len(x) == len(c.history.batches)
    assert np.allclose(y, [b.loss for b in c.history.batches])
    xs, ys = cp.loss_smooth.getData()
    assert len(xs) == len(x) and np.std(np.diff(ys)) < np.std(np.diff(y))   # smoothed is smoother
    vx, vy = cp.acc_val.getData()
    assert list(vx) == [1.0, 2.0] and np.allclose(vy, [e.val_accuracy for e in c.history.epochs])


# -- evaluation ------------------------------------------------------------------------------------

def test_confusion_matrix_cell_click_lists_its_images_with_probabilities(qtbot, window):
    ev = window.evaluation_panel
    c = window.controller
    _options(c, epochs=1, learning_rate=0.0003)      # a half-trained network makes mistakes to look at
    with qtbot.waitSignal(c.state_changed, timeout=TIMEOUT, check_params_cb=lambda s: s == "finished"):
        c.start()
    window.show_tab("evaluation")
    qtbot.waitUntil(lambda: ev.confusion is not None, timeout=3000)
    conf = c.history.epochs[-1].confusion
    assert np.array_equal(ev.confusion, conf)
    ev.render()
    cells = [(i, j) for i in range(4) for j in range(4) if conf[i, j] > 0]
    t, p = max(cells, key=lambda ij: (ij[0] != ij[1], conf[ij]))    # a mistake when there is one
    with qtbot.waitSignal(c.predictions_ready, timeout=TIMEOUT):
        _click_scene(qtbot, ev.glw, ev.cell_center(t, p))
    assert ev.selected_cell == (t, p)
    qtbot.waitUntil(lambda: ev.images.count() > 0, timeout=3000)
    # the listed images are exactly those of the cell, by an independent prediction of the same weights
    probs = c.current_model_copy().predict_proba(c.dataset.x_test)
    expected = np.flatnonzero((c.dataset.y_test == t) & (probs.argmax(axis=1) == p))
    assert ev.images.count() == min(len(expected), 120) == min(int(conf[t, p]), 120)   # matches the cell
    shown = [ev.images.item(i).data(Qt.ItemDataRole.UserRole) for i in range(ev.images.count())]
    assert set(shown) <= set(expected.tolist())
    confidences = [probs[i, p] for i in shown]
    if t != p:
        assert confidences == sorted(confidences, reverse=True)     # most confident mistakes first
    assert set(c.epoch_end_weights) == {0}
    first = ev.images.item(0)
    assert "%" in first.text()
    # double-click opens the image in the inspection panels
    ev.on_image_double_clicked(first)
    assert c.sample.index == first.data(Qt.ItemDataRole.UserRole)
    # "Evaluate now" gives the whole matrix of the current weights
    with qtbot.waitSignal(c.evaluation_ready, timeout=TIMEOUT):
        qtbot.mouseClick(ev.evaluate_button, Qt.MouseButton.LeftButton)
    assert ev.confusion.sum() == len(c.dataset.y_test)


# -- window ----------------------------------------------------------------------------------------

def test_closing_the_window_during_training_stops_within_a_second(qtbot, warm_kernels, bars):
    from gui.main_window import MainWindow

    w = MainWindow(restore_layout=False)
    qtbot.addWidget(w)
    c = w.controller
    c.use_dataset(bars)
    c.kernels_warm = True
    w.show()
    _options(c, epochs=100)
    c.start()
    qtbot.waitUntil(lambda: len(c.history.batches) >= 3, timeout=TIMEOUT)
    t0 = time.perf_counter()
    assert w.close()
    assert time.perf_counter() - t0 < 1.0
    assert not c._thread.isRunning()


def test_export_panel_and_window_as_png(qtbot, window, tmp_path):
    window.show_tab("feature_maps")
    assert window.export_png(window.current_panel(), tmp_path / "panel")
    assert window.export_png(window, tmp_path / "window.png")
    assert (tmp_path / "panel.png").stat().st_size > 2000
    assert (tmp_path / "window.png").stat().st_size > 5000
    assert not window.export_png(window, "/proc/forbidden/x.png")
    assert window.message_bar.isVisible()


def test_train_menu_has_shortcuts(window):
    keys = {a.text(): a.shortcut().toString() for a in window.train_menu.actions() if a.text()}
    assert keys["&Start"] == "F5" and keys["&Pause / Resume"] == "F6" and keys["S&tep one batch"] == "F10"
    assert keys["St&op"] == "Shift+F5" and keys["&Reset weights"] == "Ctrl+R"


def test_model_menu_switches_presets(qtbot, window):
    c = window.controller
    action = window.preset_actions["lenet5"]
    action.trigger()
    assert c.preset_name == "lenet5" and action.isChecked()
    assert window.architecture_panel.view.blocks[1].shape == "28 x 28 x 6"


def test_train_menu_actions_start_and_stop_training(qtbot, window):
    c = window.controller
    _options(c, epochs=50)
    with qtbot.waitSignal(c.state_changed, timeout=TIMEOUT, check_params_cb=lambda s: s == "training"):
        window.start_action.trigger()
    qtbot.waitUntil(lambda: len(c.history.batches) >= 2, timeout=TIMEOUT)
    with qtbot.waitSignal(c.state_changed, timeout=TIMEOUT, check_params_cb=lambda s: s == "idle"):
        window.stop_action.trigger()
    assert c.state == "idle" and not c.is_busy


def test_filters_of_an_rgb_input_show_per_channel_kernels_and_colour_pictures(qtbot, window):
    from types import SimpleNamespace

    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (64, 3, 32, 32), dtype=np.uint8)
    y = rng.integers(0, 3, 64)
    rgb = SimpleNamespace(name="rgb", x_train=x, y_train=y, x_test=x[:16], y_test=y[:16],
                          class_names=["r", "g", "b"], input_shape=(3, 32, 32), num_classes=3, source="test")
    c = window.controller
    c.use_dataset(rgb)
    assert c.model.input_shape == (3, 32, 32)
    fp = window.filter_panel
    assert fp.view_combo.currentData() == "rgb"                       # a colour input opens in colour
    window.show_tab("filters")
    fp.view_combo.setCurrentIndex(fp.view_combo.findData("channels"))
    fp.render()
    w = c.model.layers[0].params["W"]
    f = w.shape[0]
    assert fp.image.image.shape == (f * 4 - 1, 3 * 4 - 1)             # one column per colour channel
    assert np.allclose(fp.image.image[0:3, 4:7], w[0, 1])
    fp.view_combo.setCurrentIndex(fp.view_combo.findData("rgb"))
    fp.render()
    img = fp.rgb_image.image                                          # R, G, B slices and the colour patch
    assert img.shape == (f * 4 - 1, 4 * 4 - 1, 3) and np.nanmax(img) <= 1 and np.nanmin(img) >= 0
    assert not window.classify_panel.pad_widget.isVisibleTo(window.classify_panel)   # no digit pad for RGB


def test_the_window_speaks_korean(qtbot, warm_kernels, bars):
    from gui import i18n
    from gui.main_window import MainWindow

    i18n.set_language("ko")
    try:
        w = MainWindow(restore_layout=False)
        qtbot.addWidget(w)
        w.controller.use_dataset(bars)
        titles = [w.workspace.tabText(i) for i in range(w.workspace.count())]
        assert "특성 맵" in titles and "필터" in titles and "평가" in titles and "분류하기" in titles
        p = w.training_panel
        assert p.start_button.text() == "시작" and "학습률" in p.lr_spin.toolTip()
        assert w.architecture_panel.view.blocks[0].title == "입력"
        assert "전체 파라미터" in w.architecture_panel.totals.text()
        assert w.docks["curves"].windowTitle() == "곡선"
    finally:
        i18n.set_language("en")
        assert w.stop_training()
