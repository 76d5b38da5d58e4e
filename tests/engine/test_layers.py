"""Layers compute what their textbook definitions say (checked against tests/reference.py)."""

import numpy as np
import pytest

from engine.errors import ArchitectureError, ShapeError
from engine.layers import (
    AveragePooling2D,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    LeakyReLU,
    MaxPooling2D,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
    initialize,
    layer_from_config,
)
from tests import reference as ref


def _built(layer, input_shape, seed=0):
    layer.build(input_shape, np.random.default_rng(seed))
    return layer


def _images(shape, seed=1):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


# --- the seed-002 example: x = [1,3,2,2,0,2,3], w = [-1,0,1] --------------------------------

@pytest.mark.parametrize(
    "mode, textbook, padded_ends",
    [("cross_correlation", [1, -1, -2, 0, 3], (3, -2)), ("convolution", [-1, 1, 2, 0, -3], (-3, 2))],
)
def test_textbook_1d_example_through_conv2d_on_a_1x7_image(mode, textbook, padded_ends):
    # A 1x7 image; the 1-D kernel [-1, 0, 1] is the middle row of a 3x3 kernel and padding 1 lets
    # it fit the single row. The five interior outputs are the textbook's valid results; the two
    # ends see one zero of padding each.
    layer = _built(Conv2D(1, 3, padding=1, use_bias=False, mode=mode), (1, 1, 7))
    w = np.zeros((1, 1, 3, 3), np.float32)
    w[0, 0, 1] = [-1, 0, 1]
    layer.params["W"][...] = w
    x = np.array([1, 3, 2, 2, 0, 2, 3], np.float32).reshape(1, 1, 1, 7)
    y = layer.forward(x)
    assert y.shape == (1, 1, 1, 7)
    np.testing.assert_array_equal(y[0, 0, 0, 1:6], textbook)
    assert (y[0, 0, 0, 0], y[0, 0, 0, 6]) == padded_ends


def test_convolution_mode_equals_cross_correlation_with_the_flipped_kernel():
    x = _images((2, 3, 7, 7))
    conv = _built(Conv2D(4, 3, mode="convolution"), (3, 7, 7))
    xcorr = _built(Conv2D(4, 3), (3, 7, 7))
    xcorr.params["W"][...] = conv.params["W"][:, :, ::-1, ::-1]
    xcorr.params["b"][...] = conv.params["b"]
    np.testing.assert_allclose(conv.forward(x), xcorr.forward(x), rtol=1e-5, atol=1e-5)


# --- table-driven forward checks against the reference ----------------------------------------

CONV_CASES = [
    # (N, C, H, W, F, K, stride, padding, mode, activation)
    (2, 1, 6, 6, 3, 3, 1, "valid", "cross_correlation", None),
    (2, 3, 7, 7, 4, 3, 1, "same", "cross_correlation", "relu"),
    (1, 3, 8, 8, 2, 3, 2, "same", "cross_correlation", None),  # asymmetric same: pad (0, 1)
    (1, 2, 9, 7, 3, 3, 2, "valid", "convolution", "tanh"),
    (2, 1, 28, 28, 6, 5, 1, 2, "cross_correlation", "relu"),  # LeNet-5 first conv
    (1, 2, 5, 5, 2, 5, 1, "valid", "convolution", "sigmoid"),  # kernel as large as the image
    (1, 3, 10, 10, 2, 4, 3, "same", "convolution", "leaky_relu"),  # even kernel, stride 3
    (3, 1, 1, 7, 1, 1, 1, "valid", "cross_correlation", None),
]


@pytest.mark.parametrize("n, c, h, w, f, k, s, padding, mode, act", CONV_CASES)
def test_conv2d_forward_matches_reference(n, c, h, w, f, k, s, padding, mode, act):
    layer = _built(Conv2D(f, k, strides=s, padding=padding, mode=mode, activation=act), (c, h, w))
    layer.params["b"][...] = np.linspace(-0.5, 0.5, f)
    x = _images((n, c, h, w))
    if padding == "same":
        pad = (*ref.same_pad(h, k, s), *ref.same_pad(w, k, s))
    elif padding == "valid":
        pad = (0, 0, 0, 0)
    else:
        pad = (padding,) * 4
    z = ref.conv2d(x, layer.params["W"], layer.params["b"], s, pad, mode)
    y = layer.forward(x)
    assert y.shape == (n, *layer.output_shape((c, h, w)))
    assert y.dtype == np.float32
    np.testing.assert_allclose(layer.pre_activation, z, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(y, ref.activation(act, z), rtol=1e-4, atol=1e-5)


POOL_CASES = [
    # (N, C, H, W, pool, stride, padding)
    (2, 3, 6, 6, 2, None, "valid"),
    (1, 2, 7, 7, 2, None, "valid"),  # odd size: last row/column dropped
    (1, 2, 7, 7, 2, None, "same"),  # odd size with same: pad (0, 1)
    (2, 1, 9, 9, 3, 2, "valid"),  # overlapping windows
    (1, 1, 5, 8, 3, 1, "same"),
]


@pytest.mark.parametrize("n, c, h, w, k, s, padding", POOL_CASES)
def test_max_pooling_matches_reference_and_keeps_the_winning_pixel(n, c, h, w, k, s, padding):
    layer = _built(MaxPooling2D(k, s, padding), (c, h, w))
    stride = s or k
    pad = (*ref.same_pad(h, k, stride), *ref.same_pad(w, k, stride)) if padding == "same" else (0, 0, 0, 0)
    x = _images((n, c, h, w))
    y_ref, arg_ref = ref.maxpool2d(x, k, stride, pad)
    y = layer.forward(x)
    np.testing.assert_allclose(y, y_ref, rtol=1e-6)
    np.testing.assert_array_equal(layer.argmax, arg_ref)
    # the switch points at the pixel holding the maximum
    flat = x.reshape(n, c, -1)
    picked = np.take_along_axis(flat, layer.argmax.reshape(n, c, -1).astype(np.int64), axis=2)
    np.testing.assert_array_equal(picked.reshape(y.shape), y)


@pytest.mark.parametrize("n, c, h, w, k, s, padding", POOL_CASES)
def test_average_pooling_matches_reference(n, c, h, w, k, s, padding):
    layer = _built(AveragePooling2D(k, s, padding), (c, h, w))
    stride = s or k
    pad = (*ref.same_pad(h, k, stride), *ref.same_pad(w, k, stride)) if padding == "same" else (0, 0, 0, 0)
    x = _images((n, c, h, w))
    np.testing.assert_allclose(layer.forward(x), ref.avgpool2d(x, k, stride, pad), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("act", [None, "relu", "sigmoid", "tanh", "leaky_relu", "softmax"])
def test_dense_matches_reference(act):
    layer = _built(Dense(7, activation=act), (12,))
    layer.params["b"][...] = np.arange(7) * 0.1
    x = _images((5, 12))
    z = ref.dense(x, layer.params["W"], layer.params["b"])
    np.testing.assert_allclose(layer.forward(x), ref.activation(act, z), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "layer, kind", [(ReLU(), "relu"), (Sigmoid(), "sigmoid"), (Tanh(), "tanh"), (LeakyReLU(0.2), "leaky_relu"),
                    (Softmax(), "softmax")]
)
def test_activation_layers_match_definitions(layer, kind):
    x = _images((3, 4, 5, 5)) * 3
    _built(layer, (4, 5, 5))
    np.testing.assert_allclose(layer.forward(x), ref.activation(kind, x, alpha=0.2), rtol=1e-5, atol=1e-6)


def test_sigmoid_does_not_overflow_on_huge_inputs():
    with np.errstate(all="raise"):
        y = Sigmoid().forward(np.array([[-1e4, 0.0, 1e4]], np.float32))
    np.testing.assert_allclose(y, [[0.0, 0.5, 1.0]])


def test_flatten_is_channel_major_and_backward_restores_the_shape():
    layer = _built(Flatten(), (2, 3, 4))
    x = _images((5, 2, 3, 4))
    y = layer.forward(x)
    assert y.shape == (5, 24)
    np.testing.assert_array_equal(y[1], x[1].reshape(-1))
    assert layer.backward(y).shape == x.shape


def test_dropout_is_identity_at_inference_and_inverted_while_training():
    layer = _built(Dropout(0.4), (1000,))
    x = np.ones((8, 1000), np.float32)
    np.testing.assert_array_equal(layer.forward(x, training=False), x)
    y = layer.forward(x, training=True)
    kept = y != 0
    assert 0.5 < kept.mean() < 0.7
    np.testing.assert_allclose(y[kept], 1 / 0.6, rtol=1e-6)
    assert abs(y.mean() - 1.0) < 0.05  # expectation preserved


# --- shapes, errors, counts, formulas ----------------------------------------------------------

def test_output_shapes_follow_the_formula():
    assert Conv2D(32, 3).output_shape((1, 28, 28)) == (32, 26, 26)
    assert Conv2D(6, 5, padding=2).output_shape((1, 28, 28)) == (6, 28, 28)
    assert Conv2D(8, 3, strides=2, padding="same").output_shape((3, 7, 7)) == (8, 4, 4)
    assert MaxPooling2D(2).output_shape((32, 13, 13)) == (32, 6, 6)
    assert MaxPooling2D(2, padding="same").output_shape((32, 13, 13)) == (32, 7, 7)
    assert Flatten().output_shape((64, 3, 3)) == (576,)


@pytest.mark.parametrize(
    "layer, shape, words",
    [
        (Conv2D(4, 7), (1, 5, 5), ["7", "5x5", "padding"]),
        (Conv2D(4, 3, strides=0), (1, 5, 5), ["stride", "0"]),
        (Conv2D(0, 3), (1, 5, 5), ["filters", "0"]),
        (Conv2D(4, 3), (100,), ["Flatten"]),
        (Dense(10), (32, 13, 13), ["Flatten", "13 x 13 x 32"]),
        (MaxPooling2D(4), (8, 3, 3), ["4", "3x3"]),
        (Dropout(1.5), (10,), ["rate", "1.5"]),
        (Conv2D(4, (5, 1)), (1, 3, 8), ["kernel height 5 does not fit input height 3", "at most 3"]),
        (Conv2D(4, (1, 9), padding=(0, 0)), (1, 3, 8), ["kernel width 9 does not fit input width 8"]),
        (MaxPooling2D((1, 4)), (8, 6, 3), ["pool window width 4 does not fit input width 3"]),
        (Conv2D(4, (1, 2, 3)), (1, 8, 8), ["(height, width) pair", "(1, 2, 3)"]),
        (Conv2D(4, (1, 0)), (1, 8, 8), ["kernel size", "at least 1"]),
        (Conv2D(4, 3, activation="swish"), (1, 8, 8), ["swish"]),
    ],
)
def test_impossible_shapes_raise_teaching_errors(layer, shape, words):
    with pytest.raises(ShapeError) as info:
        layer.output_shape(shape)
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize(
    "layer, shape, count, formula",
    [
        (Conv2D(32, 3), (1, 28, 28), 320, "3*3*1*32 + 32 = 320"),
        (Conv2D(64, 3), (32, 13, 13), 18496, "3*3*32*64 + 64 = 18496"),
        (Conv2D(6, 5, padding=2), (1, 28, 28), 156, "5*5*1*6 + 6 = 156"),
        (Conv2D(8, 3, use_bias=False), (3, 9, 9), 216, "3*3*3*8 = 216"),
        (Dense(120), (400,), 48120, "400*120 + 120 = 48120"),
        (Dense(10), (64,), 650, "64*10 + 10 = 650"),
        (MaxPooling2D(2), (8, 4, 4), 0, ""),
        (Flatten(), (8, 4, 4), 0, ""),
    ],
)
def test_param_count_and_formula_before_build(layer, shape, count, formula):
    assert layer.param_count(shape) == count
    assert layer.param_formula(shape) == formula
    _built(layer, shape)
    assert sum(p.size for p in layer.params.values()) == count


def test_size_formula_shows_the_textbook_arithmetic():
    assert Conv2D(32, 3).size_formula((1, 28, 28)) == "(28 + 2*0 - 3)/1 + 1 = 26"
    assert Conv2D(6, 5, padding=2).size_formula((1, 28, 28)) == "(28 + 2*2 - 5)/1 + 1 = 28"
    assert MaxPooling2D(2).size_formula((32, 13, 13)) == "floor((13 + 2*0 - 2)/2) + 1 = 6"
    assert Conv2D(4, 3, strides=2, padding="same").size_formula((1, 8, 8)) == "(8 + 0 + 1 - 3)/2 + 1 = 4"


def test_parameters_are_float32_and_initialized_like_keras():
    layer = _built(Conv2D(32, 3), (16, 10, 10))
    w = layer.params["W"]
    assert w.dtype == np.float32 and w.shape == (32, 16, 3, 3)
    limit = np.sqrt(6 / (16 * 9 + 32 * 9))
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.9 * limit
    np.testing.assert_array_equal(layer.params["b"], 0)
    he = initialize("he_normal", (400, 300), 400, 300, np.random.default_rng(0))
    assert abs(he.std() - np.sqrt(2 / 400)) < 0.003
    assert np.abs(he).max() <= 2 * np.sqrt(2 / 400) / 0.8796 + 1e-6  # truncated at 2 std


def test_same_seed_gives_same_initial_weights():
    a = _built(Dense(10), (20,), seed=3).params["W"]
    b = _built(Dense(10), (20,), seed=3).params["W"]
    c = _built(Dense(10), (20,), seed=4).params["W"]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_layer_config_round_trip():
    layers = [
        Conv2D(8, 5, strides=2, padding="same", activation="relu", mode="convolution", frozen_filters=[1],
               kernel_initializer="he_normal", name="edges"),
        MaxPooling2D(3, 2, "same"),
        AveragePooling2D(2),
        Dense(10, activation="softmax", use_bias=False),
        Dropout(0.25),
        LeakyReLU(0.1),
        Flatten(),
    ]
    for layer in layers:
        cfg = layer.get_config()
        again = layer_from_config(cfg)
        assert type(again) is type(layer)
        assert again.get_config() == cfg


def test_layer_from_config_rejects_unknown_classes_and_arguments():
    with pytest.raises(ArchitectureError, match="unknown layer type"):
        layer_from_config({"class_name": "os.system", "config": {}})
    with pytest.raises(ArchitectureError, match="Dense"):
        layer_from_config({"class_name": "Dense", "config": {"units": 3, "evil": 1}})


def test_frozen_filters_get_zero_gradient():
    layer = _built(Conv2D(3, 3, frozen_filters=[1]), (2, 6, 6))
    x = _images((2, 2, 6, 6))
    y = layer.forward(x)
    layer.backward(np.ones_like(y))
    assert np.all(layer.grads["W"][1] == 0) and layer.grads["b"][1] == 0
    assert np.any(layer.grads["W"][0] != 0)


def test_set_filter_writes_and_freezes_a_hand_made_kernel():
    layer = _built(Conv2D(4, 3), (3, 8, 8))
    sobel = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], np.float32)
    layer.set_filter(2, sobel, bias=0.5)
    np.testing.assert_array_equal(layer.params["W"][2], np.broadcast_to(sobel, (3, 3, 3)))
    assert layer.params["b"][2] == 0.5
    assert layer.frozen_filters == {2}
    with pytest.raises(ShapeError, match="5x5|3x3"):
        layer.set_filter(0, np.ones((5, 5)))
