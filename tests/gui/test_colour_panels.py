"""Every panel understands a colour network (C = 3): the colour reaches the views, not only "no crash".

The window runs TinyVGG built for the colour shapes (32x32x3, 9 classes); the pictures are checked
as arrays (3 channels, the right channel brighter) in the feature maps, filters, theater, classify,
attribution and gradients panels.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from engine.datasets import load_dataset
from gui.widgets.feature_maps_input import channel_strip
from gui.widgets.filters_rgb import colour_patches, slices_and_patch

TIMEOUT = 60_000


@pytest.fixture(scope="module")
def colour_shapes():
    return load_dataset("colour_shapes", train_size=270, test_size=54)


@pytest.fixture
def colour_window(qtbot, warm_kernels, colour_shapes):
    from gui.main_window import MainWindow

    w = MainWindow(restore_layout=False)
    qtbot.addWidget(w)
    w.resize(1280, 800)
    c = w.controller
    c.use_dataset(colour_shapes)
    assert c.set_preset("tinyvgg")
    c.kernels_warm = True
    c.refresh_inspection()
    w.show()
    qtbot.waitExposed(w)
    yield w
    assert w.stop_training(), "the worker thread did not end"
    w.close()


def _is_colour(rgb: np.ndarray) -> bool:
    """An (H, W, 3) picture whose channels differ somewhere (not a gray copy)."""
    rgb = np.asarray(rgb, np.float32)
    return rgb.ndim == 3 and rgb.shape[2] == 3 and float(np.abs(rgb[..., 0] - rgb[..., 1]).max()) > 0.1


# -- pure helpers ---------------------------------------------------------------------------------
def test_the_channel_strip_puts_each_channel_in_its_own_colour():
    x = np.zeros((3, 4, 5), np.float32)
    x[0, 1, 2] = 1.0                     # red only
    x[2] = 0.5                           # half blue everywhere
    strip = channel_strip(x, gap=1)
    assert strip.shape == (4, 17, 3)
    assert strip[1, 2].tolist() == [1, 0, 0] and strip[1, 6 + 2].tolist() == [0, 0, 0]
    assert strip[0, 12].tolist() == [0, 0, 0.5] and strip[0, 5].tolist() == [1, 1, 1]     # gutter white
    assert channel_strip(np.zeros((1, 4, 4))) is None


def test_a_red_detector_filter_is_a_red_patch_beside_its_three_slices():
    w = np.zeros((1, 3, 3, 3), np.float32)
    w[0, 0] = 0.4                        # positive red weights, negative green and blue
    w[0, 1:] = -0.4
    patch = colour_patches(w, 0.4)[0]
    assert patch.shape == (3, 3, 3) and patch[1, 1].tolist() == [1.0, 0.0, 0.0]
    lut = np.zeros((256, 3), np.uint8)
    lut[:, 0] = np.arange(256)           # a map that is "red = high"
    tiles = slices_and_patch(w, -0.4, 0.4, lut)
    assert tiles.shape == (1, 4, 3, 3, 3)
    assert tiles[0, 0, 0, 0, 0] == pytest.approx(1.0) and tiles[0, 1, 0, 0, 0] == pytest.approx(0.0)
    np.testing.assert_allclose(tiles[0, 3], patch)


# -- the panels -----------------------------------------------------------------------------------
def test_feature_maps_show_the_colour_input_and_its_three_channels(qtbot, colour_window):
    w = colour_window
    w.show_tab("feature_maps")
    panel = w.feature_map_panel
    w.controller.select_validation_sample(4)
    qtbot.waitUntil(lambda: panel.render_count > 0 and panel.inspection is not None, timeout=TIMEOUT)
    x = w.controller.sample.x
    assert x.shape == (3, 32, 32)
    assert _is_colour(panel.input_image.image)
    np.testing.assert_allclose(panel.input_image.image, np.transpose(x, (1, 2, 0)))
    strip = panel.rgb_image.image
    assert panel.rgb_view.isVisible() and strip.shape == (32, 3 * 32 + 4, 3)
    np.testing.assert_allclose(strip[:, :32, 0], x[0])              # the red channel, in red
    np.testing.assert_allclose(strip[:, 34:66, 1], x[1])
    np.testing.assert_allclose(strip[:, 68:, 2], x[2])
    assert float(strip[:, :32, 1:].max()) == 0.0                    # ... and only in red
    assert panel.rgb_labels.texts() == ["R", "G", "B"]


def test_a_grayscale_input_has_no_channel_strip(qtbot, window):
    panel = window.feature_map_panel
    window.controller.select_validation_sample(1)
    assert window.controller.sample.x.shape[0] == 1
    assert not panel.rgb_view.isVisible() and panel.rgb_image.image is None


def test_filters_open_in_the_colour_view_slices_and_patch_per_filter(qtbot, colour_window):
    w = colour_window
    panel = w.filter_panel
    assert panel.view_combo.currentData() == "rgb"
    w.show_tab("filters")
    first_conv = panel.conv_layers()[0]
    w.controller.select_layer(first_conv)
    kernel = np.zeros((3, 3, 3), np.float32)
    kernel[0] = 0.5
    kernel[1:] = -0.5                       # filter 2 made a red detector
    w.controller.set_conv_filter(first_conv, 2, kernel)
    panel.mark_dirty()
    panel.render()
    img = panel.rgb_image.image
    f = w.controller.model.layers[first_conv].params["W"].shape[0]
    assert panel.rgb_image.isVisible() and not panel.image.isVisible()
    assert img.shape == (f * 4 - 1, 4 * 4 - 1, 3)                   # rows: filters; R, G, B, colour
    patch = img[2 * 4: 2 * 4 + 3, 3 * 4: 3 * 4 + 3]
    assert (patch[..., 0] > 0.9).all() and (patch[..., 1:] < 0.1).all()
    red_slice = img[2 * 4: 2 * 4 + 3, 0:3]
    green_slice = img[2 * 4: 2 * 4 + 3, 4:7]
    assert (red_slice[..., 0] > red_slice[..., 2]).all()            # positive: red on the signed scale
    assert (green_slice[..., 2] > green_slice[..., 0]).all()        # negative: blue
    assert panel.col_labels.texts() == ["R", "G", "B", "colour"]
    assert "red, green and blue kernels" in panel.caption.text()
    panel.view_combo.setCurrentIndex(panel.view_combo.findData("channels"))
    panel.render()
    assert panel.image.isVisible() and not panel.rgb_image.isVisible()


def test_the_theater_slides_a_learned_3x3x3_filter_over_a_colour_sample(qtbot, colour_window):
    from gui.theater import sources as src

    w = colour_window
    w.show_tab("theater")
    panel = w.theater_panel
    assert panel.sources.input_kind == src.INPUT_VAL              # a colour dataset opens on its pictures
    panel.sources.choose(input_kind=src.INPUT_VAL, sample_index=5, kernel_kind=src.KERNEL_LEARNED,
                         layer_index=0, filter_index=1, in_channel=-1)
    panel.push()
    t = panel.stage.theater
    assert t is not None and t.x.shape == (3, 32, 32) and t.kernel.shape == (3, 3, 3)
    np.testing.assert_allclose(t.x, w.controller.dataset.x_test[5] / 255.0)
    layer = w.controller.model.layers[0]
    np.testing.assert_allclose(t.kernel, layer.params["W"][1], rtol=1e-6)
    step = t.step(0)
    assert len(step.channel_sums) == 3
    # the theater's output is the model's own first feature map for this picture
    ins = w.controller.current_model_copy().inspect(w.controller.dataset.x_test[5])
    np.testing.assert_allclose(t.output(), ins.activations[1][1], rtol=1e-4, atol=1e-5)


def _red_thing_png(tmp_path, background: int):
    """A 70x50 photo: a red square on a gray ``background``."""
    png = tmp_path / "red_thing.png"
    img = np.full((50, 70, 3), background, np.uint8)
    img[10:40, 20:50] = (220, 20, 30)
    Image.fromarray(img).save(png)
    return png


def test_a_dropped_colour_photo_stays_colour_for_a_colour_model(qtbot, colour_window, tmp_path):
    png = _red_thing_png(tmp_path, 240)
    cp = colour_window.classify_panel
    results = cp.classify_files([str(png)])
    item = results[-1]
    assert item.x.shape == (3, 32, 32)
    centre = item.x[:, 16, 16]
    assert centre[0] > 0.8 and centre[1] < 0.2 and centre[2] < 0.2       # still red
    assert _is_colour(cp.input_image.image) and "32 x 32 x 3" in cp.input_title.text
    assert colour_window.controller.sample.x.shape == (3, 32, 32)
    assert colour_window.theater_panel.sources.dropped.shape == (3, 32, 32)
    assert abs(float(item.probabilities.sum()) - 1.0) < 1e-5


def test_a_colour_photo_becomes_gray_for_a_grayscale_model_and_the_view_says_so(qtbot, window, tmp_path):
    png = _red_thing_png(tmp_path, 20)
    cp = window.classify_panel
    item = cp.classify_files([str(png)])[-1]
    assert item.x.shape == (1, 28, 28)
    assert cp.input_image.image.ndim == 2 and "28 x 28 x 1" in cp.input_title.text
    assert cp.original_image.image.ndim == 3                          # the photo itself still in colour


def test_saliency_on_a_colour_network_is_one_heat_map_over_the_colour_picture(qtbot, colour_window):
    from gui.attribution.model import CLASS_TRUE

    w = colour_window
    w.show_tab("attribution")
    panel = w.attribution_panel
    w.controller.select_validation_sample(2)
    panel.image_box.class_combo.setCurrentIndex(panel.image_box.class_combo.findData(CLASS_TRUE))
    panel.image_box.class_combo.activated.emit(panel.image_box.class_combo.currentIndex())
    with qtbot.waitSignal(panel.result_shown, timeout=TIMEOUT, check_params_cb=lambda k: k == "saliency"):
        assert panel.compute_saliency()
    assert panel.heatmap.heat.shape == (32, 32) and np.isfinite(panel.heatmap.heat).all()
    assert _is_colour(panel.heatmap.image_item.image)


def test_gradients_of_a_colour_network_are_recorded_per_layer(qtbot, colour_window):
    w = colour_window
    c = w.controller
    c.set_options(batch_size=16, epochs=1)
    with qtbot.waitSignal(c.snapshot_ready, timeout=TIMEOUT):
        c.start()
    qtbot.waitUntil(lambda: w.gradient_panel.history.current.points > 0, timeout=TIMEOUT)
    c.stop()
    first = c.model.layers[0].name
    steps, norms = w.gradient_panel.history.series(first)
    assert len(steps) >= 1 and np.isfinite(norms).all() and (norms > 0).all()


def test_the_evaluation_mistake_thumbnails_keep_their_colour(qtbot, colour_shapes):
    from gui.widgets.evaluation import thumbnail

    x = colour_shapes.x_test[0]                                      # uint8 (3, 32, 32)
    image = thumbnail(x).toImage()
    assert not image.isGrayscale()
    r, c = np.unravel_index(np.argmax(np.abs(x[0].astype(int) - x[1].astype(int))), x.shape[1:])
    sx, sy = image.width() / x.shape[2], image.height() / x.shape[1]
    pixel = image.pixelColor(int((c + 0.5) * sx), int((r + 0.5) * sy))
    assert abs(pixel.red() - int(x[0, r, c])) <= 8 and abs(pixel.green() - int(x[1, r, c])) <= 8
