"""Presets build the textbook architectures with Keras's parameter counts."""

import numpy as np
import pytest

from engine.errors import ArchitectureError
from engine.optimizers import RMSprop
from engine.presets import PRESETS, build_preset, preset_optimizer
from engine.training import Trainer


@pytest.mark.parametrize(
    "name, total",
    [("lenet5", 61_706), ("keras_mnist", 93_322), ("hongong", 333_526), ("tinyvgg", 19_920)],
)
def test_preset_parameter_totals_equal_keras(name, total):
    model = build_preset(name)
    assert model.total_params == total == PRESETS[name].expected_params
    assert model.num_classes == 10


def test_lenet5_keeps_28x28_after_the_padded_first_convolution():
    rows = build_preset("lenet5").summary_rows()
    assert rows[0].output_shape == (6, 28, 28)
    assert rows[0].size_formula == "(28 + 2*2 - 5)/1 + 1 = 28"
    assert [r.params for r in rows] == [156, 0, 2416, 0, 0, 48120, 10164, 850]
    assert rows[5].formula == "400*120 + 120 = 48120"


def test_tinyvgg_matches_cnn_explainer_shapes():
    model = build_preset("tinyvgg")
    assert model.input_shape == (3, 64, 64)
    assert [r.output_shape for r in model.summary_rows()] == [
        (10, 62, 62), (10, 60, 60), (10, 30, 30), (10, 28, 28), (10, 26, 26), (10, 13, 13), (1690,), (10,)]


def test_presets_adapt_to_the_dataset_shape_and_class_count():
    model = build_preset("tinyvgg", (3, 64, 64), num_classes=3)
    assert model.num_classes == 3
    model = build_preset("shapes_small", (1, 28, 28), num_classes=5)
    assert model.num_classes == 5
    model = build_preset("keras_mnist", (3, 32, 32), num_classes=10)  # CIFAR-sized input
    assert model.layers[0].params["W"].shape == (32, 3, 3, 3)


def test_presets_describe_themselves_and_their_training_defaults():
    for key, preset in PRESETS.items():
        assert preset.key == key and preset.display_name and len(preset.description) > 40
        assert preset.batch_size > 0 and preset.epochs > 0 and preset.learning_rate > 0
        opt = preset_optimizer(key)
        assert opt.learning_rate == preset.learning_rate
    assert isinstance(preset_optimizer("keras_mnist"), RMSprop)  # Chollet's choice


def test_unknown_preset_lists_the_known_ones():
    with pytest.raises(ArchitectureError, match="lenet5"):
        build_preset("resnet50")


def test_small_default_model_learns_a_shapes_like_task_in_seconds():
    # Stand-in for the generated shapes: squares, crosses, rings and bars drawn with noise.
    rng = np.random.default_rng(0)
    n = 800
    y = rng.integers(0, 4, n)
    x = rng.integers(0, 40, (n, 1, 28, 28)).astype(np.uint8)
    for i in range(n):
        r, c = rng.integers(4, 10, 2)
        s = rng.integers(10, 16)
        img = x[i, 0]
        if y[i] == 0:
            img[r:r + s, c:c + s] = 220
        elif y[i] == 1:
            img[r + s // 2, c:c + s] = 220
            img[r:r + s, c + s // 2] = 220
        elif y[i] == 2:
            img[r:r + s, c] = img[r:r + s, c + s - 1] = 220
            img[r, c:c + s] = img[r + s - 1, c:c + s] = 220
        else:
            img[r:r + s, c:c + 3] = 220
    model = build_preset("shapes_small", (1, 28, 28), 4)
    preset = PRESETS["shapes_small"]
    trainer = Trainer(model, preset_optimizer("shapes_small"), x[:640], y[:640], x[640:], y[640:],
                      batch_size=preset.batch_size, epochs=preset.epochs)
    trainer.run()
    assert trainer.history[-1].val_accuracy > 0.9
    assert sum(e.seconds for e in trainer.history) < 20


def test_each_preset_is_sized_for_the_dataset_it_names():
    from engine.datasets import DATASETS

    for preset in PRESETS.values():
        info = DATASETS.get(preset.dataset)
        if info is None:  # e.g. CNN Explainer's 64x64 RGB classes come from an image folder
            continue
        assert preset.num_classes == len(info.class_names), preset.key
        assert tuple(preset.input_shape) == tuple(info.input_shape), preset.key
