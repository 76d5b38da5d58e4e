"""The backward walks on rectangular kernels, strides and pool windows: each axis with its own numbers,
every sum equal to the engine's own backward pass."""

from __future__ import annotations

import numpy as np
import pytest

from engine.backward import (
    InputGradientWalk,
    PoolGradientWalk,
    WeightGradientWalk,
    dilate,
    upstream_gradient,
    window_geometry,
)
from engine.layers import AveragePooling2D, Conv2D, Dense, Flatten, MaxPooling2D
from engine.network import Sequential
from tests.engine.test_backward import pool_walk_and_backward

# (channels, filters, kernel, stride, padding, mode)
RECT_CONV = {
    "kernel_1x3_stride_2x1": (1, 2, (1, 3), (2, 1), "valid", "cross_correlation"),
    "kernel_3x2": (2, 3, (3, 2), 1, "valid", "cross_correlation"),
    "kernel_3x2_stride_1x2_same_convolution": (1, 2, (3, 2), (1, 2), "same", "convolution"),
    "kernel_2x4_stride_2x3_padding_1": (3, 2, (2, 4), (2, 3), 1, "cross_correlation"),
    "kernel_1x3_stride_1x2_same": (2, 2, (1, 3), (1, 2), "same", "convolution"),
}


def _model(c, f, k, s, pad, mode, first_conv=False, shape=(7, 9)):
    head = [Conv2D(c, 3, padding="same", activation="relu")] if first_conv else []
    model = Sequential(head + [Conv2D(f, k, strides=s, padding=pad, mode=mode, activation="relu"),
                               Flatten(), Dense(4)])
    model.build((c, *shape), seed=5)
    layer = model.layers[len(head)]
    layer.params["b"][...] = np.linspace(-0.2, 0.2, f)
    return model, len(head)


def _image(c, shape=(7, 9), seed=0):
    return np.random.default_rng(seed).random((c, *shape)).astype(np.float32)


def test_window_geometry_gives_pairs_for_rectangular_layers_and_ints_for_square_ones():
    conv = Conv2D(2, (1, 3), strides=(2, 1))
    pool = MaxPooling2D((2, 1))
    square = Conv2D(2, 3, strides=(2, 2))
    for layer in (conv, pool, square):
        layer.build((1, 6, 7))
    assert window_geometry(conv) == ((1, 3), (2, 1), (0, 0, 0, 0))
    assert window_geometry(pool) == ((2, 1), (2, 1), (0, 0, 0, 0))
    assert window_geometry(square) == (3, 2, (0, 0, 0, 0))


@pytest.mark.parametrize("case", list(RECT_CONV))
def test_weight_walk_on_a_rectangular_kernel_is_the_engines_weight_gradient(case):
    c, f, k, s, pad, mode = RECT_CONV[case]
    model, li = _model(c, f, k, s, pad, mode)
    layer = model.layers[li]
    g = upstream_gradient(model, _image(c), 1, li)
    kh, kw = k
    sh, sw = (s, s) if isinstance(s, int) else s
    for fi in range(f):
        walk = WeightGradientWalk.for_layer(layer, g, fi)
        assert walk.kernel_hw == (kh, kw) and walk.stride_hw == (sh, sw)
        assert (walk.out_h, walk.out_w) == layer.out_shape[1:]
        np.testing.assert_allclose(walk.total, g.d_weights[fi], rtol=1e-5, atol=1e-7)
        assert walk.bias_total == pytest.approx(g.d_bias[fi], rel=1e-5, abs=1e-7)
    walk = WeightGradientWalk.for_layer(layer, g, 0)
    top, _, left, _ = layer.padding_pixels
    for step in walk:
        r0, c0, r1, c1 = step.window
        assert (r0, c0) == (step.i * sh - top, step.j * sw - left)
        assert (r1 - r0, c1 - c0) == (kh, kw) and step.patch.shape == (c, kh, kw)
        assert step.virtual.shape == (kh, kw) and np.all(step.patch[:, step.virtual] == 0)
        rows, cols = np.nonzero(~step.virtual)
        np.testing.assert_array_equal(step.patch[:, rows, cols], g.x[:, r0 + rows, c0 + cols])


@pytest.mark.parametrize("case", list(RECT_CONV))
def test_input_walk_on_a_rectangular_kernel_is_the_engines_input_gradient(case):
    c, f, k, s, pad, mode = RECT_CONV[case]
    model, li = _model(c, f, k, s, pad, mode, first_conv=True)
    layer = model.layers[li]
    g = upstream_gradient(model, _image(c), 2, li)
    walk = InputGradientWalk.for_layer(layer, g)
    sh, sw = (s, s) if isinstance(s, int) else s
    kh, kw = k
    assert walk.dilated.shape[1:] == ((layer.out_shape[1] - 1) * sh + 1, (layer.out_shape[2] - 1) * sw + 1)
    assert walk.padded.shape[1:] == (walk.dilated.shape[1] + 2 * (kh - 1), walk.dilated.shape[2] + 2 * (kw - 1))
    np.testing.assert_allclose(walk.d_input, g.d_input, rtol=1e-5, atol=1e-7)
    for step in walk:
        assert step.window.shape == (f, kh, kw)
        np.testing.assert_allclose(step.value, walk.d_input[:, step.r, step.c], atol=1e-12)
        np.testing.assert_allclose(step.products, step.window[:, None] * step.rotated_kernel)


def test_dilation_by_a_rectangular_stride_spaces_rows_and_columns_differently():
    d = dilate(np.array([[1.0, 2.0], [3.0, 4.0]]), (2, 3))
    assert d.shape == (3, 4)
    np.testing.assert_array_equal(d[::2, ::3], [[1, 2], [3, 4]])
    assert np.count_nonzero(d) == 4


@pytest.mark.parametrize("cls,size,stride,pad", [
    (MaxPooling2D, (2, 1), None, "valid"),
    (MaxPooling2D, (1, 3), (1, 2), "same"),
    (AveragePooling2D, (2, 1), None, "valid"),
    (AveragePooling2D, (3, 2), (2, 1), "same"),
])
def test_pool_walk_on_a_rectangular_window_is_the_engines_pooling_backward(cls, size, stride, pad):
    walk, expected = pool_walk_and_backward(cls, size, stride, pad, seed=2)
    assert walk.kernel_hw == size
    np.testing.assert_allclose(walk.d_input, expected, rtol=1e-6, atol=1e-7)
    if cls is AveragePooling2D:
        step = walk.step(0)
        real = len(step.targets)
        assert step.share == pytest.approx(step.gradient / real)


def test_max_pool_2x1_sends_each_gradient_to_the_larger_of_two_rows():
    layer = MaxPooling2D((2, 1))
    layer.build((1, 4, 3))
    x = np.array([[[[1, 5, 2], [4, 0, 3], [7, 8, 1], [6, 9, 2]]]], np.float32)
    layer.forward(x)
    walk = PoolGradientWalk.for_layer(layer, np.ones((1, 2, 3)))
    assert [walk.step(i).targets for i in range(6)] == [((1, 0),), ((0, 1),), ((1, 2),),
                                                        ((2, 0),), ((3, 1),), ((3, 2),)]
