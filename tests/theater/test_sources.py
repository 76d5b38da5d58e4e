"""Where the theater's input and kernel come from, with no QApplication: grids, dataset samples,
learned filters and the activations entering deeper layers (from an inspection while training)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from engine.theater import INPUT_GRIDS, KERNEL_PRESETS, apply_kernel
from gui.theater import sources as src
from gui.theater.sources import SourceUnavailable, TheaterSources
from gui.theater.stage import StageModel


def _tiny_model(filters=4):
    from engine.layers import Conv2D, Dense, Flatten, MaxPooling2D
    from engine.network import Sequential

    model = Sequential([Conv2D(filters, 3, activation="relu"), MaxPooling2D(2), Conv2D(5, 3, padding="same"),
                        Flatten(), Dense(3)])
    model.build(input_shape=(1, 6, 6), seed=0)
    return model


def _toy_dataset():
    rng = np.random.default_rng(0)
    return SimpleNamespace(x_train=rng.integers(0, 256, (5, 1, 6, 6), dtype=np.uint8), y_train=np.array([0, 1, 2, 1, 0]),
                           x_test=rng.integers(0, 256, (3, 1, 6, 6), dtype=np.uint8), y_test=np.array([2, 2, 1]),
                           class_names=["circle", "square", "triangle"])


class NoForward:
    """Stands in for the model where a forward pass must not happen."""

    def __init__(self, model):
        self._model = model
        self.layers = model.layers
        self.input_shape = model.input_shape

    def forward(self, *args, **kwargs):
        raise AssertionError("the theater ran the model")

    def summary_rows(self):
        return self._model.summary_rows()

    def set_weights(self, weights):
        self._model.set_weights(weights)


def test_the_first_choice_is_the_lecture_grid_with_the_lecture_kernel():
    s = TheaterSources()
    stage_input, settings = s.resolve()
    np.testing.assert_array_equal(stage_input.x, INPUT_GRIDS["lecture_6x6"].array)
    np.testing.assert_array_equal(stage_input.kernel[0], KERNEL_PRESETS["vertical_edge"].kernel)
    assert settings == {} and stage_input.kernel_text == "Vertical edge (lecture)"
    pooled, _ = s.resolve("max")
    assert pooled.kernel is None


def test_choosing_a_preset_or_typing_a_kernel_changes_the_kernel_kind():
    s = TheaterSources()
    seen = []
    s.events.changed.connect(lambda names: seen.append(names))
    s.choose(kernel_kind=src.KERNEL_EDITED)
    s.choose(preset_key="sobel_horizontal")
    assert s.kernel_kind == src.KERNEL_PRESET
    np.testing.assert_array_equal(s.edited_kernel, KERNEL_PRESETS["sobel_horizontal"].kernel)
    s.set_edited_kernel(np.eye(2))
    assert s.kernel_kind == src.KERNEL_EDITED and s.resolve()[0].kernel_text == "hand-made filter"
    assert seen == [frozenset({"kernel_kind"}), frozenset({"preset_key"}), frozenset({"edited_kernel"})]


def test_dataset_samples_are_scaled_named_and_kept_in_range():
    s = TheaterSources()
    s.choose(input_kind=src.INPUT_TRAIN)
    with pytest.raises(SourceUnavailable, match="No dataset"):
        s.resolve()
    ds = _toy_dataset()
    s.set_dataset(ds)
    s.choose(sample_index=3)
    stage_input, _ = s.resolve()
    np.testing.assert_allclose(stage_input.x, ds.x_train[3] / 255.0)
    assert stage_input.input_text == "training sample #3 (square)"
    s.choose(input_kind=src.INPUT_VAL)
    assert s.sample_count() == 3 and s.sample_index == 2          # clamped to the validation set


def test_a_learned_filter_brings_its_layer_settings_and_reads_a_private_copy():
    model = _tiny_model()
    s = TheaterSources()
    s.set_model(model)
    s.choose(kernel_kind=src.KERNEL_LEARNED, filter_index=2)
    stage_input, settings = s.resolve()
    np.testing.assert_allclose(stage_input.kernel, model.layers[0].params["W"][2])
    assert settings == {"stride": 1, "mode": "cross_correlation", "relu": True, "padding": "valid",
                        "bias": float(model.layers[0].params["b"][2])}
    np.testing.assert_allclose(s.edited_kernel, model.layers[0].params["W"][2, 0])
    stage = StageModel()
    stage.update(**stage_input.stage_changes(), **settings)
    expected = model.layers[0].forward(INPUT_GRIDS["lecture_6x6"].array[None].astype(np.float32))[0, 2]
    np.testing.assert_allclose(stage.theater.output(), expected, atol=1e-5)


def test_a_deeper_layer_reads_the_inspection_while_training_and_never_runs_the_model():
    model = _tiny_model()
    image = INPUT_GRIDS["lecture_6x6"].array
    acts = [np.asarray(a[0], np.float64) for a in model.forward(image[None].astype(np.float32), return_all=True)]
    s = TheaterSources()
    s.set_model(NoForward(model))
    s.training = True
    s.choose(kernel_kind=src.KERNEL_LEARNED, layer_index=2, in_channel=3)
    with pytest.raises(SourceUnavailable, match="While the model trains"):
        s.resolve()                                              # no inspection of this picture yet
    assert s.set_inspection(SimpleNamespace(weights=model.get_weights(), activations=acts, sample=None))
    stage_input, settings = s.resolve()
    np.testing.assert_allclose(stage_input.x[0], acts[2][3])     # the pooled maps entering layer 2
    np.testing.assert_allclose(stage_input.kernel[0], model.layers[2].params["W"][s.filter_index, 3])
    assert settings["padding"] == "same" and settings["bias"] == 0.0   # one channel: no bias of its own


def test_when_idle_a_deeper_layer_runs_the_private_copy():
    model = _tiny_model()
    s = TheaterSources()
    s.set_model(model)
    s.choose(kernel_kind=src.KERNEL_LEARNED, layer_index=2, in_channel=1)
    s.kernels_warm = False
    with pytest.raises(SourceUnavailable, match="preparing its kernels"):
        s.resolve()
    s.kernels_warm = True
    acts = model.forward(INPUT_GRIDS["lecture_6x6"].array[None].astype(np.float32), return_all=True)
    np.testing.assert_allclose(s.resolve()[0].x[0], acts[2][0, 1], atol=1e-6)


def test_weights_of_another_architecture_are_ignored():
    model = _tiny_model(filters=4)
    s = TheaterSources()
    s.set_model(model)
    before = model.layers[0].params["W"].copy()
    other = _tiny_model(filters=6).get_weights()
    assert not s.set_inspection(SimpleNamespace(weights=other, activations=[], sample=None))
    np.testing.assert_array_equal(model.layers[0].params["W"], before)
    assert s.inspection is None


def test_feature_maps_of_a_layer_become_the_input():
    model = _tiny_model()
    ds = _toy_dataset()
    s = TheaterSources()
    s.set_dataset(ds)
    s.set_model(model)
    assert [i for i, _ in s.feature_map_layers()] == [0, 1, 2]
    s.choose(input_kind=src.INPUT_FMAP, fmap_layer=1, sample_index=1)
    stage_input, _ = s.resolve("max")
    acts = model.forward(ds.x_test[1:2].astype(np.float32) / 255.0, return_all=True)
    np.testing.assert_allclose(stage_input.x, acts[2][0], atol=1e-6)
    assert stage_input.input_text.endswith("validation sample #1")
    maps, note = s.learned_outputs()
    assert maps == [] and "feature maps" in note


def test_the_whole_image_shows_each_learned_filter_with_its_layer_settings():
    model = _tiny_model(filters=4)
    s = TheaterSources()
    s.set_model(model)
    maps, note = s.learned_outputs()
    assert note == "" and [title for _, title in maps] == [f"{model.layers[0].name} #{f}" for f in range(4)]
    W, b = model.layers[0].params["W"], model.layers[0].params["b"]
    np.testing.assert_allclose(maps[1][0], apply_kernel(INPUT_GRIDS["lecture_6x6"].array, W[1], bias=float(b[1]),
                                                        relu=True), atol=1e-6)
