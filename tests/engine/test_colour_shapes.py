"""The generated colour dataset: colour AND shape decide the class; grayscale hides the colour."""

import time

import numpy as np
import pytest

from engine.datasets import DATASETS, load_dataset
from engine.datasets.colour_shapes import COLOUR_SHAPE_CLASSES, LUMA, generate_colour_shapes, luma
from engine.optimizers import optimizer_from_config
from engine.presets import PRESETS, build_preset
from engine.training import Trainer


def test_nine_classes_colour_by_shape_registered_under_their_keys():
    assert COLOUR_SHAPE_CLASSES[:4] == ("red circle", "red square", "red triangle", "green circle")
    assert len(COLOUR_SHAPE_CLASSES) == 9
    assert DATASETS["colour_shapes"].input_shape == (3, 32, 32)
    assert DATASETS["colour_shapes_64"].input_shape == (3, 64, 64)
    assert DATASETS["colour_shapes"].offline
    ds = load_dataset("colour_shapes", train_size=90, test_size=18)
    assert ds.x_train.shape == (90, 3, 32, 32) and ds.x_train.dtype == np.uint8
    assert ds.class_names == list(COLOUR_SHAPE_CLASSES)
    assert np.bincount(ds.y_train).tolist() == [10] * 9
    big = load_dataset("color_shapes_64", train_size=18, test_size=9)
    assert big.x_test.shape == (9, 3, 64, 64)


def test_the_same_seed_gives_the_same_bytes():
    a = generate_colour_shapes(50, seed=7)
    b = generate_colour_shapes(50, seed=7)
    c = generate_colour_shapes(50, seed=8)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_generation_is_vectorised_and_fast():
    t = time.perf_counter()
    x, _ = generate_colour_shapes(2000, seed=0)
    seconds = time.perf_counter() - t
    assert x.shape == (2000, 3, 32, 32)
    assert seconds < 10  # ~0.3 s on a quiet 2-core machine; loose for a busy one


def _shape_pixels(x):
    """Per image: mean RGB and mean gray of the shape (the pixels clearly darker than the pale background)."""
    gray = np.tensordot(LUMA, x.astype(np.float32), axes=([0], [1]))  # (N, H, W)
    mask = gray < 130
    counts = mask.sum(axis=(1, 2))
    rgb = (x.astype(np.float32) * mask[:, None]).sum(axis=(2, 3)) / counts[:, None]
    return rgb, (gray * mask).sum(axis=(1, 2)) / counts


def test_the_three_colours_are_equally_bright_in_grayscale_and_far_apart_in_rgb():
    x, y = generate_colour_shapes(1800, seed=1)
    rgb, gray = _shape_pixels(x)
    colour = y // 3
    gray_means = [gray[colour == k].mean() for k in range(3)]
    assert max(gray_means) - min(gray_means) < 6  # in grayscale the colours coincide
    rgb_means = np.array([rgb[colour == k].mean(axis=0) for k in range(3)])
    for k in range(3):  # in RGB each colour's own channel leads by far
        assert rgb_means[k, k] - np.delete(rgb_means[k], k).max() > 50
    # and a colour cannot be read from brightness: the ranges overlap almost entirely
    lows, highs = [np.percentile(gray[colour == k], 10) for k in range(3)], [
        np.percentile(gray[colour == k], 90) for k in range(3)]
    assert max(lows) < min(highs) - 20
    assert abs(float(luma([255, 0, 0])) - 0.299 * 255) < 1e-3


def test_the_colour_preset_is_tinyvgg_at_the_dataset_shape():
    preset = PRESETS["tinyvgg_colour"]
    assert preset.natural_input_shape == (3, 32, 32) == DATASETS[preset.dataset].input_shape
    model = build_preset("tinyvgg_colour")
    assert model.input_shape == (3, 32, 32) and model.output_shape == (9,)
    assert model.total_params == 3010 + 5 * 5 * 10 * 9 + 9
    assert PRESETS["tinyvgg"].natural_input_shape == (3, 64, 64)


def _train(x, y, xv, yv, epochs):
    model = build_preset("tinyvgg_colour", x.shape[1:], 9)
    opt = optimizer_from_config({"class_name": "Adam", "config": {"learning_rate": 0.004}})
    Trainer(model, opt, x, y, batch_size=32, epochs=epochs, seed=0).run()
    return model.predict(xv)


@pytest.mark.slow
def test_rgb_tinyvgg_learns_colour_and_shape_while_a_grayscale_one_cannot_see_colour():
    ds = load_dataset("colour_shapes", train_size=9000, test_size=900)
    pred = _train(ds.x_train, ds.y_train, ds.x_test, ds.y_test, epochs=2)
    rgb_accuracy = np.mean(pred == ds.y_test)
    assert rgb_accuracy >= 0.85  # ~95 % after 2 epochs; bench/accuracy.py has the full figure

    def gray(x):
        return np.rint(np.tensordot(x.astype(np.float32), LUMA, axes=([1], [0])))[:, None].astype(np.uint8)

    pred = _train(gray(ds.x_train), ds.y_train, gray(ds.x_test), ds.y_test, epochs=2)
    assert np.mean(pred // 3 == ds.y_test // 3) < 0.5  # the colour is invisible (chance is 1/3)
    gray_accuracy = np.mean(pred == ds.y_test)
    assert gray_accuracy < 0.7 and rgb_accuracy - gray_accuracy > 0.3
