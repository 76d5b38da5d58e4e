"""The attribution tab's widget-free model: class choice, checks, heat maps and the jobs it hands out."""

from __future__ import annotations

import numpy as np
import pytest

from engine import attribution as attr
from engine.layers import Conv2D, Dense, Flatten, MaxPooling2D
from engine.network import Sequential
from gui.attribution.model import CLASS_PREDICTED, CLASS_TRUE, AttributionModel, conv_layers, heat_map
from tests.headless import qt_modules_loaded_by


def _net():
    model = Sequential([Conv2D(3, 3, activation="relu"), MaxPooling2D(2), Flatten(), Dense(4)])
    return model.build((1, 10, 10), seed=2)


def _image(seed=0):
    return np.random.default_rng(seed).random((1, 10, 10)).astype(np.float32)


def _run(job):
    seen = []
    result = job(lambda d, t: seen.append((d, t)), lambda: False)
    return result, seen


def test_the_attribution_model_imports_no_qt():
    assert qt_modules_loaded_by("gui.attribution.model") == []


def test_the_class_choice_gives_the_predicted_the_true_or_any_class():
    m = AttributionModel()
    m.set_image(_image(), 3, "test")
    assert m.class_choice == CLASS_PREDICTED and m.class_index() is None
    m.class_choice = CLASS_TRUE
    assert m.class_index() == 3
    m.class_choice = 1
    assert m.class_index() == 1
    m.set_image(_image(), None, "dropped")
    m.class_choice = CLASS_TRUE
    assert m.class_index() is None      # no label: the predicted class


def test_a_new_image_drops_the_old_result_and_emits():
    m = AttributionModel()
    seen = []
    m.events.image.connect(lambda: seen.append("image"))
    m.events.result.connect(lambda: seen.append("result"))
    m.set_result(object())
    m.set_image(_image(), 0, "x")
    assert m.result is None and seen == ["result", "image", "result"]


def test_check_explains_a_missing_model_image_or_wrong_size():
    m, net = AttributionModel(), _net()
    assert m.check(None)
    assert "drop" in m.check(net)
    m.set_image(np.zeros((3, 10, 10), np.float32), None, "rgb")
    assert "1x10x10" in m.check(net) and "3x10x10" in m.check(net)
    m.set_image(_image(), 0, "ok")
    assert m.check(net) == ""


def test_the_saliency_job_is_the_engines_saliency_for_the_chosen_class():
    m, net = AttributionModel(), _net()
    m.set_image(_image(), 2, "x")
    m.class_choice = CLASS_TRUE
    result, seen = _run(m.saliency_job(net.clone()))
    expected = attr.saliency(net, _image(), 2)
    assert result.class_index == 2 and seen == [(1, 1)]
    np.testing.assert_allclose(result.map, expected.map, rtol=1e-6)


def test_the_smoothgrad_job_reports_progress_and_averages_n_copies():
    m, net = AttributionModel(), _net()
    m.set_image(_image(), 2, "x")
    m.smooth, m.n, m.sigma = True, 40, 0.2
    result, seen = _run(m.saliency_job(net.clone()))
    assert result.samples == 40 and result.complete and seen[-1] == (40, 40)
    np.testing.assert_allclose(result.map, attr.smoothgrad(net, _image(), None, n=40, sigma=0.2).map, rtol=1e-5)


def test_the_occlusion_job_uses_the_patch_and_stride_and_stops_when_asked():
    m, net = AttributionModel(), _net()
    m.set_image(_image(), 1, "x")
    m.patch, m.stride = 3, 2
    result, seen = _run(m.occlusion_job(net.clone(), batch_size=4))
    assert (result.patch, result.stride) == (3, 2) and result.complete
    assert len(seen) == int(np.ceil(result.total / 4))
    expected = attr.occlusion(net, _image(), None, patch=3, stride=2)
    np.testing.assert_allclose(result.drops, expected.drops, rtol=1e-5, atol=1e-7)
    calls = []
    stopped = m.occlusion_job(net.clone(), batch_size=4)(lambda d, t: calls.append(d), lambda: len(calls) >= 2)
    assert not stopped.complete and stopped.done == 8


def test_heat_maps_are_scaled_to_one_and_keep_uncomputed_occlusion_as_nan():
    m, net = AttributionModel(), _net()
    m.set_image(_image(), 1, "x")
    sal, _ = _run(m.saliency_job(net.clone()))
    h = heat_map(sal)
    assert h.shape == (10, 10) and h.max() == pytest.approx(1.0) and h.min() >= 0
    calls = []
    partial = m.occlusion_job(net.clone(), batch_size=4)(lambda d, t: calls.append(d), lambda: len(calls) >= 1)
    h = heat_map(partial)
    assert np.isnan(h).any() and np.nanmax(h) <= 1.0 and np.nanmin(h) >= 0.0
    assert heat_map(None) is None


def test_top_patches_job_searches_the_first_n_images_of_the_layer_and_filter():
    m, net = AttributionModel(), _net()
    images = (np.random.default_rng(1).random((30, 1, 10, 10)) * 255).astype(np.uint8)
    m.layer_index, m.filter_index, m.n_images = 0, 2, 20
    result, seen = _run(m.top_patches_job(net.clone(), images))
    expected = attr.top_patches(net, 0, 2, images[:20])
    assert result.total == 20 and seen[-1] == (20, 20)
    assert [p.image_index for p in result.patches] == [p.image_index for p in expected.patches]
    assert conv_layers(net) == [(0, net.layers[0].name)]
