"""Every backward pass equals the finite-difference derivative of its forward definition.

Layers that run on the float32 numba kernels (conv, pooling) are checked against central
differences of the float64 reference in tests/reference.py: the analytic float32 gradient must match
the derivative of the exact function. Pure-numpy layers and the loss run in float64 themselves.
The scalar being differentiated is ``L = sum(y * R)`` for a fixed random ``R``, so ``dL/dy = R``.
"""

import numpy as np
import pytest

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
)
from engine.losses import softmax_cross_entropy
from engine.network import Sequential
from tests import reference as ref


def rel_error(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-12)


def _pads(padding, h, w, k, s):
    if padding == "same":
        return (*ref.same_pad(h, k, s), *ref.same_pad(w, k, s))
    if padding == "valid":
        return (0, 0, 0, 0)
    return (padding,) * 4


CONV_GRAD_CASES = [
    # (N, C, H, W, F, K, stride, padding, mode, activation)
    (2, 1, 5, 5, 2, 3, 1, "valid", "cross_correlation", None),
    (1, 3, 5, 5, 2, 3, 1, "same", "cross_correlation", "tanh"),  # RGB, same
    (2, 2, 6, 6, 2, 3, 2, "same", "cross_correlation", None),  # stride 2, asymmetric same
    (1, 2, 7, 5, 3, 3, 2, "valid", "convolution", "sigmoid"),  # odd sizes, non-square, convolution
    (1, 3, 5, 5, 2, 2, 1, "same", "convolution", None),  # even kernel
    (1, 1, 6, 6, 2, 3, 1, 1, "convolution", "leaky_relu"),
]


@pytest.mark.parametrize("n, c, h, w, f, k, s, padding, mode, act", CONV_GRAD_CASES)
def test_conv2d_gradients_match_finite_differences(n, c, h, w, f, k, s, padding, mode, act):
    rng = np.random.default_rng(0)
    layer = Conv2D(f, k, strides=s, padding=padding, mode=mode, activation=act)
    layer.build((c, h, w), rng)
    layer.params["b"][...] = rng.standard_normal(f) * 0.1
    x = rng.standard_normal((n, c, h, w)).astype(np.float32)
    y = layer.forward(x)
    r = rng.standard_normal(y.shape).astype(np.float32)
    dx = layer.backward(r)
    pad = _pads(padding, h, w, k, s)
    W = layer.params["W"].astype(np.float64)
    b = layer.params["b"].astype(np.float64)
    x64 = x.astype(np.float64)

    def loss(x_, W_, b_):
        return float(np.sum(ref.activation(act, ref.conv2d(x_, W_, b_, s, pad, mode)) * r))

    assert rel_error(dx, ref.numerical_gradient(lambda v: loss(v, W, b), x64.copy())) < 1e-5
    assert rel_error(layer.grads["W"], ref.numerical_gradient(lambda v: loss(x64, v, b), W.copy())) < 1e-5
    assert rel_error(layer.grads["b"], ref.numerical_gradient(lambda v: loss(x64, W, v), b.copy())) < 1e-5


POOL_GRAD_CASES = [
    (2, 2, 6, 6, 2, None, "valid"),
    (1, 3, 7, 7, 2, None, "same"),
    (1, 2, 7, 7, 3, 2, "valid"),  # overlapping windows
    (1, 1, 5, 6, 3, 1, "same"),
]


@pytest.mark.parametrize("cls", [MaxPooling2D, AveragePooling2D])
@pytest.mark.parametrize("n, c, h, w, k, s, padding", POOL_GRAD_CASES)
def test_pooling_gradients_match_finite_differences(cls, n, c, h, w, k, s, padding):
    rng = np.random.default_rng(1)
    layer = cls(k, s, padding)
    layer.build((c, h, w), rng)
    x = rng.standard_normal((n, c, h, w)).astype(np.float32)
    y = layer.forward(x)
    r = rng.standard_normal(y.shape).astype(np.float32)
    dx = layer.backward(r)
    stride = s or k
    pad = _pads(padding, h, w, k, stride)

    if cls is MaxPooling2D:
        def loss(v):
            return float(np.sum(ref.maxpool2d(v, k, stride, pad)[0] * r))
    else:
        def loss(v):
            return float(np.sum(ref.avgpool2d(v, k, stride, pad) * r))

    assert rel_error(dx, ref.numerical_gradient(loss, x.astype(np.float64))) < 1e-6


@pytest.mark.parametrize("act", [None, "relu", "sigmoid", "tanh", "leaky_relu", "softmax"])
def test_dense_gradients_in_float64(act):
    rng = np.random.default_rng(2)
    layer = Dense(4, activation=act)
    layer.build((6,), rng)
    W = rng.standard_normal((6, 4))
    b = rng.standard_normal(4)
    layer.params = {"W": W, "b": b}
    x = rng.standard_normal((3, 6))
    r = rng.standard_normal((3, 4))

    def loss(x_, W_, b_):
        return float(np.sum(ref.activation(act, ref.dense(x_, W_, b_)) * r))

    layer.forward(x)
    dx = layer.backward(r)
    assert layer.grads["W"].dtype == np.float64
    assert rel_error(dx, ref.numerical_gradient(lambda v: loss(v, W, b), x.copy())) < 1e-7
    assert rel_error(layer.grads["W"], ref.numerical_gradient(lambda v: loss(x, v, b), W.copy())) < 1e-7
    assert rel_error(layer.grads["b"], ref.numerical_gradient(lambda v: loss(x, W, v), b.copy())) < 1e-7


@pytest.mark.parametrize(
    "layer, kind, shape",
    [
        (ReLU(), "relu", (2, 3, 4, 4)),
        (Sigmoid(), "sigmoid", (2, 3, 4, 4)),
        (Tanh(), "tanh", (5, 7)),
        (LeakyReLU(0.3), "leaky_relu", (2, 3, 4, 4)),
        (Softmax(), "softmax", (4, 6)),
        (Softmax(), "softmax", (2, 3, 2, 2)),  # over channels of an image
    ],
)
def test_activation_layer_gradients_in_float64(layer, kind, shape):
    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape)
    x[np.abs(x) < 1e-3] = 0.5  # keep away from the ReLU kink
    r = rng.standard_normal(shape)
    layer.forward(x)
    dx = layer.backward(r)
    num = ref.numerical_gradient(lambda v: float(np.sum(ref.activation(kind, v) * r)), x.copy())
    assert rel_error(dx, num) < 1e-7


def test_flatten_gradient_is_the_reshape():
    rng = np.random.default_rng(4)
    layer = Flatten()
    x = rng.standard_normal((2, 3, 2, 2))
    r = rng.standard_normal((2, 12))
    layer.forward(x)
    np.testing.assert_array_equal(layer.backward(r), r.reshape(x.shape))


def test_dropout_gradient_with_a_fixed_mask():
    # Re-seeding before every forward fixes the mask, so the layer is a fixed linear map.
    layer = Dropout(0.5)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 10))
    r = rng.standard_normal((4, 10))

    def forward(v):
        layer.rng = np.random.default_rng(123)
        return layer.forward(v, training=True)

    forward(x)
    dx = layer.backward(r)
    num = ref.numerical_gradient(lambda v: float(np.sum(forward(v) * r)), x.copy())
    assert rel_error(dx, num) < 1e-7
    assert np.count_nonzero(dx == 0) > 5  # some units really dropped


def test_softmax_cross_entropy_value_and_gradient():
    rng = np.random.default_rng(6)
    logits = rng.standard_normal((5, 4)) * 3
    labels = np.array([0, 3, 1, 1, 2])
    loss, grad = softmax_cross_entropy(logits, labels)
    assert loss == pytest.approx(ref.softmax_cross_entropy(logits, labels), rel=1e-12)
    num = ref.numerical_gradient(lambda v: ref.softmax_cross_entropy(v, labels), logits.copy())
    assert rel_error(grad, num) < 1e-8


def test_softmax_cross_entropy_is_stable_for_huge_logits():
    logits = np.array([[1000.0, 0.0, -1000.0], [-5e4, 5e4, 0.0]], np.float32)
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is exact enough
        loss, grad = softmax_cross_entropy(logits, np.array([0, 0]))
    assert np.isfinite(loss) and loss == pytest.approx(1e5 / 2, rel=1e-6)
    assert np.all(np.isfinite(grad))


def test_whole_network_gradients_match_finite_differences_of_the_reference_network():
    """conv(same, relu) -> maxpool -> conv(stride 2, convolution mode) -> flatten -> dense -> loss."""
    rng = np.random.default_rng(7)
    model = Sequential([
        Conv2D(2, 3, padding="same", activation="relu"),
        MaxPooling2D(2),
        Conv2D(3, 2, strides=2, mode="convolution", activation="tanh"),
        Flatten(),
        Dense(3),
    ])
    model.build((2, 6, 6), seed=0)
    for layer in model.layers:
        if "b" in layer.params:
            layer.params["b"][...] = rng.standard_normal(layer.params["b"].shape) * 0.1
    x = rng.standard_normal((3, 2, 6, 6)).astype(np.float32)
    y = np.array([0, 2, 1])
    logits = model.logits(x, training=True)
    _, dlogits = softmax_cross_entropy(logits, y)
    model.backward_from_logits(dlogits)
    weights = [{k: v.astype(np.float64) for k, v in w.items()} for w in model.get_weights()]

    def reference_loss(ws):
        h = ref.activation("relu", ref.conv2d(x, ws[0]["W"], ws[0]["b"], 1, (1, 1, 1, 1)))
        h, _ = ref.maxpool2d(h, 2, 2)
        h = ref.activation("tanh", ref.conv2d(h, ws[2]["W"], ws[2]["b"], 2, (0, 0, 0, 0), "convolution"))
        h = ref.dense(h.reshape(len(h), -1), ws[4]["W"], ws[4]["b"])
        return ref.softmax_cross_entropy(h, y)

    assert reference_loss(weights) == pytest.approx(softmax_cross_entropy(logits, y)[0], rel=1e-5)
    for i in (0, 2, 4):
        for key in ("W", "b"):
            def f(v, i=i, key=key):
                ws = [dict(w) for w in weights]
                ws[i][key] = v
                return reference_loss(ws)

            num = ref.numerical_gradient(f, weights[i][key].copy())
            assert rel_error(model.layers[i].grads[key], num) < 1e-4, (i, key)


@pytest.mark.parametrize("act", ["relu", "sigmoid", "tanh", "leaky_relu"])
def test_training_mode_in_place_activations_give_exact_gradients(act):
    """While training, fused activations overwrite their input and backward overwrites dy."""
    rng = np.random.default_rng(8)
    model = Sequential([Conv2D(2, 3, activation=act), Flatten(), Dense(4, activation=act), Dense(3)])
    model.build((1, 5, 5), seed=1)
    for layer in model.layers:
        if "b" in layer.params:
            layer.params["b"][...] = rng.standard_normal(layer.params["b"].shape) * 0.1
    x = rng.standard_normal((2, 1, 5, 5)).astype(np.float32)
    y = np.array([2, 0])
    logits = model.logits(x, training=True)
    assert model.layers[0].pre_activation is None  # consumed in place
    _, dlogits = softmax_cross_entropy(logits, y)
    model.backward_from_logits(dlogits)
    weights = [{k: v.astype(np.float64) for k, v in w.items()} for w in model.get_weights()]

    def reference_loss(ws):
        h = ref.activation(act, ref.conv2d(x, ws[0]["W"], ws[0]["b"]))
        h = ref.activation(act, ref.dense(h.reshape(len(h), -1), ws[2]["W"], ws[2]["b"]))
        return ref.softmax_cross_entropy(ref.dense(h, ws[3]["W"], ws[3]["b"]), y)

    for i in (0, 2, 3):
        for key in ("W", "b"):
            def f(v, i=i, key=key):
                ws = [dict(w) for w in weights]
                ws[i][key] = v
                return reference_loss(ws)

            assert rel_error(model.layers[i].grads[key], ref.numerical_gradient(f, weights[i][key].copy())) < 1e-4
    # an inference forward keeps the pre-activation for the visualizer
    model.forward(x)
    assert model.layers[0].pre_activation is not None
