"""The "Which pixels mattered" tab: follows the selected image, runs saliency / occlusion / top patches in
the background with progress and Cancel, and draws the heat map over the picture."""

from __future__ import annotations

import numpy as np
import pytest

from engine import attribution as attr
from gui.attribution.model import CLASS_TRUE


@pytest.fixture
def panel(qtbot, controller):
    from gui.attribution.panel import AttributionPanel

    p = AttributionPanel(controller)
    qtbot.addWidget(p)
    p.resize(1300, 850)
    p.show()
    qtbot.waitExposed(p)
    yield p
    assert p.shutdown(), "the attribution thread did not end"


def _wait_result(qtbot, panel, kind, timeout=30000):
    return qtbot.waitSignal(panel.result_shown, timeout=timeout, check_params_cb=lambda k: k == kind)


def test_the_tab_follows_the_selected_validation_image(panel, controller):
    controller.select_validation_sample(7)
    assert np.array_equal(panel.model.x, controller.dataset.x_test[7] / np.float32(255))
    assert panel.model.label == int(controller.dataset.y_test[7])
    assert "#7" in panel.image_box.source_label.text() and panel.image_box.val_spin.value() == 7
    panel.image_box.val_spin.setValue(9)
    assert controller.sample.index == 9 and "#9" in panel.image_box.source_label.text()


def test_saliency_of_the_true_class_is_drawn_over_the_image(panel, controller, qtbot):
    controller.select_validation_sample(3)
    panel.image_box.class_combo.setCurrentIndex(panel.image_box.class_combo.findData(CLASS_TRUE))
    panel.image_box.class_combo.activated.emit(panel.image_box.class_combo.currentIndex())
    with _wait_result(qtbot, panel, "saliency"):
        assert panel.compute_saliency()
    r = panel.model.result
    label = int(controller.dataset.y_test[3])
    assert isinstance(r, attr.Saliency) and r.class_index == label
    expected = attr.saliency(controller.current_model_copy(), controller.sample.x, label).map
    np.testing.assert_allclose(r.map, expected, rtol=1e-5)
    assert panel.heatmap.heat.shape == (28, 28) and panel.heatmap.heat.max() == pytest.approx(1.0)
    assert controller.dataset.class_names[label] in panel.title.text()
    panel.opacity_slider.setValue(20)
    assert panel.heatmap.heat_item.opacity() == pytest.approx(0.2)


def test_smoothgrad_runs_in_the_background_with_progress(panel, qtbot):
    panel.saliency_box.smooth_check.setChecked(True)
    panel.saliency_box.n_spin.setValue(16)
    seen = []
    panel.runner.progressed.connect(lambda d, t: seen.append((d, t)))
    with _wait_result(qtbot, panel, "saliency"):
        panel.compute_saliency()
    assert panel.model.result.samples == 16 and seen and seen[-1] == (16, 16)
    assert "SmoothGrad" in panel.title.text()


def test_occlusion_shows_the_probability_drop_and_can_be_cancelled(panel, controller, qtbot):
    panel.occlusion_box.patch_spin.setValue(6)
    panel.occlusion_box.stride_spin.setValue(3)
    with _wait_result(qtbot, panel, "occlusion"):
        panel.compute_occlusion()
    r = panel.model.result
    assert isinstance(r, attr.Occlusion) and r.complete and (r.patch, r.stride) == (6, 3)
    assert not panel.cancel_button.isEnabled()
    assert "6x6" in panel.explain.text()
    # a fine occlusion (1-pixel patch, stride 1: 784 positions) cancelled at once ends with a partial map
    panel.occlusion_box.patch_spin.setValue(1)
    panel.occlusion_box.stride_spin.setValue(1)
    with _wait_result(qtbot, panel, "occlusion"):
        panel.compute_occlusion()
        assert panel.cancel_button.isEnabled()
        panel.cancel_button.click()
    r = panel.model.result
    assert not r.complete and r.done < r.total
    assert "Cancelled" in panel.status.text()
    assert np.isnan(r.pixel_map).any()


def test_a_dropped_image_is_explained_and_a_wrong_size_is_refused(panel, controller, qtbot):
    img = np.zeros((1, 28, 28), np.float32)
    img[0, 5:20, 12:15] = 1.0
    controller.set_sample(img, source="drawing", name="my drawing")
    assert "my drawing" in panel.image_box.source_label.text() and panel.model.label is None
    with _wait_result(qtbot, panel, "occlusion"):
        panel.compute_occlusion()
    panel.model.set_image(np.zeros((3, 64, 64), np.float32), None, "big colour photo")
    assert not panel.compute_saliency()
    assert "1x28x28" in panel.status.text()


def test_top_patches_show_nine_boxes_and_the_filters_weights(panel, controller, qtbot):
    assert panel.top_box.images_spin.value() == min(500, len(controller.dataset.x_test))
    panel.top_box.images_spin.setValue(40)
    panel.top_box.filter_spin.setValue(1)
    with _wait_result(qtbot, panel, "top_patches"):
        assert panel.compute_top_patches()
    top = panel.model.top
    assert top.filter_index == 1 and top.total == 40 and len(top.patches) == 9
    tiles = panel.top_box.patch_grid.tiles
    assert all(t.image is not None and t.box is not None for t in tiles)
    assert tiles[0].box == top.patches[0].clipped_box
    W = controller.model.layers[top.layer_index].params["W"][1]
    np.testing.assert_allclose(panel.top_box.filter_view.values, W[0], rtol=1e-6)


def test_a_new_image_while_computing_drops_the_stale_job(panel, controller, qtbot):
    panel.occlusion_box.patch_spin.setValue(1)
    panel.occlusion_box.stride_spin.setValue(1)
    panel.compute_occlusion()
    controller.select_validation_sample(2)
    assert not panel.runner.busy and panel.model.result is None
    qtbot.wait(200)
    assert panel.model.result is None       # the cancelled job's late result was not drawn


def test_the_main_window_has_the_tab_and_stops_its_thread_on_close(window):
    assert "attribution" in window.tabs_by_key
    window.show_tab("attribution")
    window.attribution_panel.compute_saliency()
    assert window.stop_training()
    assert not window.attribution_panel.runner.busy


def test_why_in_the_confusion_drill_down_opens_the_image_in_the_attribution_tab(window):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QListWidgetItem

    ev = window.evaluation_panel
    window.show_tab("evaluation")
    item = QListWidgetItem("#11")
    item.setData(Qt.ItemDataRole.UserRole, 11)     # as the drill-down lists a cell's images
    ev.images.addItem(item)
    ev.images.setCurrentItem(item)
    ev.why_button.click()
    assert window.controller.sample.index == 11
    assert window.current_panel() is window.attribution_panel
    assert "#11" in window.attribution_panel.image_box.source_label.text()


def test_a_panel_made_before_the_dataset_searches_as_many_images_as_the_dataset_allows(qtbot, controller):
    from gui.attribution.panel import AttributionPanel

    dataset = controller.dataset
    controller.dataset = None
    p = AttributionPanel(controller)
    qtbot.addWidget(p)
    try:
        assert p.top_box.images_spin.value() == 1
        controller.dataset = dataset
        p.on_dataset_changed(dataset)
        assert p.top_box.images_spin.value() == min(500, len(dataset.x_test)) and p.model.n_images == 500
    finally:
        assert p.shutdown()
