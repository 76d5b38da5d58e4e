"""The backward theater: every step is arithmetic a student can check, and the sums are the engine's."""

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
from engine.errors import ShapeError
from engine.layers import AveragePooling2D, Conv2D, Dense, Flatten, MaxPooling2D, ReLU
from engine.network import Sequential

# (channels, filters, kernel, stride, padding, mode, activation)
CONV_CASES = {
    "stride1_valid": (1, 3, 3, 1, "valid", "cross_correlation", "relu"),
    "stride2_valid": (1, 3, 3, 2, "valid", "cross_correlation", "relu"),
    "stride1_same": (1, 2, 3, 1, "same", "cross_correlation", "relu"),
    "stride2_same_odd_padding": (1, 2, 4, 2, "same", "cross_correlation", "relu"),
    "convolution_mode": (1, 3, 3, 1, "valid", "convolution", "relu"),
    "convolution_mode_rgb_stride2_same": (3, 2, 3, 2, "same", "convolution", "relu"),
    "rgb_valid": (3, 4, 3, 1, "valid", "cross_correlation", "relu"),
    "padding_1_stride_2_kernel_5": (2, 2, 5, 2, 1, "cross_correlation", "relu"),
    "no_activation": (1, 2, 3, 1, "valid", "cross_correlation", None),
    "tanh": (2, 2, 3, 1, "same", "cross_correlation", "tanh"),
}


def _conv_model(c, f, k, s, pad, mode, act, shape=(7, 9), seed=3):
    model = Sequential([Conv2D(f, k, strides=s, padding=pad, mode=mode, activation=act), Flatten(), Dense(4)])
    model.build((c, *shape), seed=seed)
    # a non-zero bias moves some pre-activations below zero, so the ReLU gate closes somewhere
    model.layers[0].params["b"][...] = np.linspace(-0.3, 0.3, f)
    return model


def _image(c, shape=(7, 9), seed=0):
    return np.random.default_rng(seed).random((c, *shape)).astype(np.float32)


def _loss(model, x, label):
    from engine.losses import softmax_cross_entropy

    return softmax_cross_entropy(np.asarray(model.logits(x[None]), np.float64), np.array([label]))[0]


# ---------------------------------------------------------------------------------------------
# dL/dY, the gate and dL/dZ
# ---------------------------------------------------------------------------------------------
def test_relu_gate_passes_the_upstream_gradient_only_where_the_pre_activation_was_positive():
    model = _conv_model(*CONV_CASES["stride1_valid"])
    g = upstream_gradient(model, _image(1), 2, 0)
    assert g.gate.dtype == bool and g.gate.shape == g.pre_activation.shape == (3, 5, 7)
    assert g.gate.any() and not g.gate.all()
    np.testing.assert_array_equal(g.gate, g.pre_activation > 0)
    np.testing.assert_allclose(g.d_pre_activation, np.where(g.gate, g.d_output, 0.0))
    np.testing.assert_allclose(g.output, np.maximum(g.pre_activation, 0), atol=1e-7)


def test_upstream_gradient_matches_finite_differences_of_the_loss():
    # dL/db[f] = sum of dL/dZ[f]: nudge one bias and watch the loss (float32 model, so a tolerance)
    model = _conv_model(*CONV_CASES["rgb_valid"])
    x = _image(3)
    g = upstream_gradient(model, x, 1, 0)
    b = model.layers[0].params["b"]
    eps = 1e-3
    for f in range(b.size):
        keep = float(b[f])
        b[f] = keep + eps
        up = _loss(model, x, 1)
        b[f] = keep - eps
        down = _loss(model, x, 1)
        b[f] = keep
        assert g.d_pre_activation[f].sum() == pytest.approx((up - down) / (2 * eps), rel=1e-2, abs=2e-4)
        assert g.d_bias[f] == pytest.approx(g.d_pre_activation[f].sum(), rel=1e-5, abs=1e-8)


def test_upstream_gradient_leaves_the_training_gradients_alone():
    model = _conv_model(*CONV_CASES["stride1_valid"])
    model.flat_grads[...] = 7.0
    upstream_gradient(model, _image(1), 0, 0)
    assert np.all(model.flat_grads == 7.0)
    assert model.layers[0].need_input_grad is False


def _same_weights(fused, separate):
    for a, b in zip([layer for layer in fused.layers if layer.params], [layer for layer in separate.layers if layer.params]):
        for key in a.params:
            b.params[key][...] = a.params[key]


@pytest.mark.parametrize("act,cls", [("relu", ReLU), ("leaky_relu", None)])
def test_a_separate_activation_layer_gives_the_same_gate_as_a_fused_one(act, cls):
    from engine.layers import LeakyReLU

    sep_layer = ReLU() if cls is ReLU else LeakyReLU(alpha=0.3)
    fused = Sequential([Conv2D(3, 3, activation=act), Flatten(), Dense(4)]).build((2, 7, 9), seed=1)
    fused.layers[0].params["b"][...] = [-0.3, 0.0, 0.3]
    separate = Sequential([Conv2D(3, 3), sep_layer, Flatten(), Dense(4)]).build((2, 7, 9), seed=2)
    _same_weights(fused, separate)
    x = _image(2)
    a, b = upstream_gradient(fused, x, 1, 0), upstream_gradient(separate, x, 1, 0)
    assert (a.activation, a.activation_layer) == (act, 0) and (b.activation, b.activation_layer) == (act, 1)
    for name in ("pre_activation", "output", "d_output", "activation_derivative", "d_pre_activation", "d_weights",
                 "d_bias", "d_input"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=1e-6, atol=1e-9, err_msg=name)
    if act == "relu":
        np.testing.assert_array_equal(a.gate, b.gate)
        assert b.gate.any() and not b.gate.all()
    else:
        slope = b.activation_derivative  # 1 where Z > 0, alpha where Z <= 0
        assert a.gate is None and b.gate is None
        np.testing.assert_allclose(slope, np.where(b.pre_activation > 0, 1.0, 0.3), rtol=1e-6)


def test_a_softmax_head_does_not_change_the_gradients():
    plain = Sequential([Conv2D(3, 3, activation="relu"), Flatten(), Dense(4)]).build((1, 7, 9), seed=1)
    head = Sequential([Conv2D(3, 3, activation="relu"), Flatten(), Dense(4, activation="softmax")]).build((1, 7, 9))
    _same_weights(plain, head)
    x = _image(1)
    a, b = upstream_gradient(plain, x, 2, 0), upstream_gradient(head, x, 2, 0)
    np.testing.assert_allclose(a.d_weights, b.d_weights, rtol=1e-6, atol=1e-9)
    assert a.loss == pytest.approx(b.loss)
    last = upstream_gradient(head, x, 2, 2)  # the head itself: dL/dZ is softmax - one-hot
    assert last.activation is None
    np.testing.assert_allclose(last.d_pre_activation.sum(), 0.0, atol=1e-6)


def test_no_activation_has_no_gate_and_dz_equals_dy():
    g = upstream_gradient(_conv_model(*CONV_CASES["no_activation"]), _image(1), 3, 0)
    assert g.gate is None
    np.testing.assert_array_equal(g.d_pre_activation, g.d_output)


def test_an_unknown_layer_is_refused_with_the_valid_range():
    with pytest.raises(ShapeError, match="0..2"):
        upstream_gradient(_conv_model(*CONV_CASES["stride1_valid"]), _image(1), 0, 5)


# ---------------------------------------------------------------------------------------------
# dL/dW: the sliding sum
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", list(CONV_CASES))
def test_sliding_sum_of_windows_times_dz_is_the_engines_weight_gradient(case):
    c, f, k, s, pad, mode, act = CONV_CASES[case]
    model = _conv_model(c, f, k, s, pad, mode, act)
    layer = model.layers[0]
    g = upstream_gradient(model, _image(c), 1, 0)
    for fi in range(f):
        walk = WeightGradientWalk.for_layer(layer, g, fi)
        assert walk.n_positions == layer.out_shape[1] * layer.out_shape[2]
        np.testing.assert_allclose(walk.total, g.d_weights[fi], rtol=1e-5, atol=1e-7)
        assert walk.bias_total == pytest.approx(g.d_bias[fi], rel=1e-5, abs=1e-7)


@pytest.mark.parametrize("case", ["stride2_same_odd_padding", "convolution_mode_rgb_stride2_same"])
def test_each_step_adds_the_window_times_one_dz_value(case):
    c, f, k, s, pad, mode, act = CONV_CASES[case]
    model = _conv_model(c, f, k, s, pad, mode, act)
    layer = model.layers[0]
    g = upstream_gradient(model, _image(c), 1, 0)
    walk = WeightGradientWalk.for_layer(layer, g, 1)
    running = np.zeros_like(walk.total)
    for step in walk:
        assert step.index == step.i * walk.out_w + step.j
        r0, c0, r1, c1 = step.window
        assert (r0, c0) == (step.i * s - layer.padding_pixels[0], step.j * s - layer.padding_pixels[2])
        assert (r1 - r0, c1 - c0) == (k, k)
        assert np.all(step.patch[:, step.virtual] == 0)  # padding is virtual zero pixels
        inside = ~step.virtual
        rows, cols = np.nonzero(inside)
        np.testing.assert_array_equal(step.patch[:, rows, cols], g.x[:, r0 + rows, c0 + cols])
        expected = step.patch * step.d_z
        if mode == "convolution":
            expected = expected[:, ::-1, ::-1]  # the stored kernel was flipped in the forward pass
        np.testing.assert_allclose(step.contribution, expected)
        running += step.contribution
        np.testing.assert_allclose(step.partial_sum, running, atol=1e-12)
    np.testing.assert_allclose(running, g.d_weights[1], rtol=1e-5, atol=1e-7)


def test_same_padding_puts_the_odd_virtual_row_at_the_bottom():
    model = _conv_model(*CONV_CASES["stride2_same_odd_padding"])
    layer = model.layers[0]
    assert layer.padding_pixels == (1, 2, 1, 2)  # 7 rows, K=4, s=2: total 3
    walk = WeightGradientWalk.for_layer(layer, upstream_gradient(model, _image(1), 0, 0), 0)
    first, last = walk.step(0), walk.step(walk.n_positions - 1)
    assert first.window[:2] == (-1, -1)  # one virtual row/column before the image...
    assert first.virtual[0].all() and first.virtual[:, 0].all() and not first.virtual[1:, 1:].any()
    assert last.window[2:] == (9, 11)  # ...two after it (7 rows, 9 columns)
    assert last.virtual[2:].all() and last.virtual[:, 2:].all() and not last.virtual[:2, :2].any()


def test_weight_walk_of_a_later_layer_reads_the_pooled_input():
    model = Sequential([Conv2D(3, 3, activation="relu"), MaxPooling2D(2), Conv2D(2, 3, strides=2, padding="same",
                                                                                  activation="relu"),
                        Flatten(), Dense(3)])
    model.build((1, 12, 11), seed=2)
    g = upstream_gradient(model, _image(1, (12, 11)), 2, 2)
    np.testing.assert_allclose(g.x, model.layers[1].output[0])
    walk = WeightGradientWalk.for_layer(model.layers[2], g, 1)
    np.testing.assert_allclose(walk.total, g.d_weights[1], rtol=1e-5, atol=1e-7)


def test_a_wrong_dz_shape_is_explained():
    with pytest.raises(ShapeError, match="3x3 filter"):
        WeightGradientWalk(np.zeros((1, 5, 5)), np.zeros((2, 2)), 3)


# ---------------------------------------------------------------------------------------------
# dL/dX: the full convolution with the flipped kernel
# ---------------------------------------------------------------------------------------------
def test_dilation_puts_stride_minus_one_zeros_between_values():
    d = dilate(np.array([[1.0, 2.0], [3.0, 4.0]]), 3)
    assert d.shape == (4, 4)
    np.testing.assert_array_equal(d[::3, ::3], [[1, 2], [3, 4]])
    assert np.count_nonzero(d) == 4


@pytest.mark.parametrize("case", list(CONV_CASES))
def test_full_convolution_with_the_rotated_kernel_is_the_engines_input_gradient(case):
    c, f, k, s, pad, mode, act = CONV_CASES[case]
    model = Sequential([Conv2D(3, 3, activation="relu"),
                        Conv2D(f, k, strides=s, padding=pad, mode=mode, activation=act), Flatten(), Dense(4)])
    model.build((c, 9, 11), seed=4)
    layer = model.layers[1]
    g = upstream_gradient(model, _image(c, (9, 11)), 2, 1)
    walk = InputGradientWalk.for_layer(layer, g)
    assert walk.d_input.shape == layer.in_shape
    np.testing.assert_allclose(walk.d_input, g.d_input, rtol=1e-5, atol=1e-7)
    assert walk.dilated.shape[1:] == ((layer.out_shape[1] - 1) * s + 1, (layer.out_shape[2] - 1) * s + 1)
    # the per-filter shares add up to the whole
    shares = sum(InputGradientWalk.for_layer(layer, g, fi).d_input for fi in range(f))
    np.testing.assert_allclose(shares, walk.d_input, atol=1e-10)


@pytest.mark.parametrize("case", ["stride2_same_odd_padding", "convolution_mode_rgb_stride2_same", "rgb_valid"])
def test_each_input_pixel_step_is_the_sum_of_window_times_rotated_kernel(case):
    c, f, k, s, pad, mode, act = CONV_CASES[case]
    model = _conv_model(c, f, k, s, pad, mode, act)
    layer = model.layers[0]
    layer.need_input_grad = True  # the first layer's dx is skipped in training, the walk needs it
    g = upstream_gradient(model, _image(c), 1, 0)
    walk = InputGradientWalk.for_layer(layer, g)
    for step in walk:
        np.testing.assert_allclose(step.value, walk.d_input[:, step.r, step.c], atol=1e-12)
        np.testing.assert_allclose(step.products, step.window[:, None] * step.rotated_kernel)
        np.testing.assert_allclose(step.per_filter.sum(axis=0), step.value)
    np.testing.assert_allclose(walk.d_input, g.d_input, rtol=1e-5, atol=1e-7)


def test_in_convolution_mode_the_two_flips_cancel():
    model = _conv_model(*CONV_CASES["convolution_mode"])
    layer = model.layers[0]
    walk = InputGradientWalk.for_layer(layer, upstream_gradient(model, _image(1), 0, 0))
    np.testing.assert_array_equal(walk.rotated_kernel, layer.params["W"])
    cross = _conv_model(*CONV_CASES["stride1_valid"])
    walk = InputGradientWalk.for_layer(cross.layers[0], upstream_gradient(cross, _image(1), 0, 0))
    np.testing.assert_array_equal(walk.rotated_kernel, cross.layers[0].params["W"][:, :, ::-1, ::-1])


def test_stride_leaves_unreached_input_rows_with_zero_gradient():
    # 8 columns, K=3, s=2, valid: windows start at 0, 2, 4 and end at column 6; column 7 is never read
    model = Sequential([Conv2D(2, 3, strides=2, activation="relu"), Flatten(), Dense(3)])
    model.build((1, 8, 8), seed=0)
    model.layers[0].need_input_grad = True
    g = upstream_gradient(model, _image(1, (8, 8)), 0, 0)
    walk = InputGradientWalk.for_layer(model.layers[0], g)
    assert np.all(walk.d_input[:, 7, :] == 0) and np.all(walk.d_input[:, :, 7] == 0)
    np.testing.assert_allclose(walk.d_input, g.d_input, rtol=1e-5, atol=1e-7)


# ---------------------------------------------------------------------------------------------
# pooling backward
# ---------------------------------------------------------------------------------------------
POOL_CASES = {
    "max_2": (MaxPooling2D, 2, None, "valid"),
    "max_3_stride_2_same_overlapping": (MaxPooling2D, 3, 2, "same"),
    "avg_2": (AveragePooling2D, 2, None, "valid"),
    "avg_3_stride_2_same": (AveragePooling2D, 3, 2, "same"),
    "avg_2_stride_1": (AveragePooling2D, 2, 1, "valid"),
}


def pool_walk_and_backward(cls, size, stride, pad, seed):
    """A pooling layer on a random 2x7x6 input: its gradient walk and the engine's own backward."""
    layer = cls(size, strides=stride, padding=pad)
    layer.build((2, 7, 6))
    rng = np.random.default_rng(seed)
    layer.forward(rng.random((1, 2, 7, 6)).astype(np.float32))
    dy = rng.standard_normal((1, *layer.out_shape)).astype(np.float32)
    expected = layer.backward(dy.copy())[0]
    return PoolGradientWalk.for_layer(layer, dy[0]), expected


@pytest.mark.parametrize("case", list(POOL_CASES))
def test_pooling_walk_equals_the_engines_pooling_backward(case):
    walk, expected = pool_walk_and_backward(*POOL_CASES[case], seed=1)
    np.testing.assert_allclose(walk.d_input, expected, rtol=1e-6, atol=1e-7)
    last = walk.step(walk.n_positions - 1)
    np.testing.assert_allclose(last.partial, expected, rtol=1e-6, atol=1e-7)


def test_max_pooling_sends_each_gradient_to_its_winner_only():
    layer = MaxPooling2D(2)
    layer.build((1, 4, 4))
    x = np.array([[[[1, 3, 2, 9], [7, 4, 1, 5], [8, 5, 2, 3], [4, 2, 1, 4]]]], np.float32)
    layer.forward(x)
    walk = PoolGradientWalk.for_layer(layer, np.array([[[10.0, 20.0], [30.0, 40.0]]]))
    assert [s.targets for s in walk] == [((1, 0),), ((0, 3),), ((2, 0),), ((3, 3),)]  # 7, 9, 8, 4 won
    assert walk.step(1).share == 20.0
    np.testing.assert_array_equal(walk.step(1).partial[0, 1, 0], 10.0)
    assert np.count_nonzero(walk.d_input) == 4


def test_average_pooling_spreads_each_gradient_evenly_over_real_pixels():
    layer = AveragePooling2D(2, padding="same")
    layer.build((1, 3, 3))
    layer.forward(np.zeros((1, 1, 3, 3), np.float32))
    walk = PoolGradientWalk.for_layer(layer, np.full((1, 2, 2), 12.0))
    first, corner = walk.step(0), walk.step(3)
    assert len(first.targets) == 4 and first.share == 3.0
    assert corner.targets == ((2, 2),) and corner.share == 12.0  # three of its four pixels are padding


def test_pool_walk_from_a_model_after_upstream_gradient():
    model = Sequential([Conv2D(2, 3, activation="relu"), MaxPooling2D(2), Flatten(), Dense(3)])
    model.build((1, 8, 8), seed=0)
    g = upstream_gradient(model, _image(1, (8, 8)), 1, 1)
    walk = PoolGradientWalk.for_layer(model.layers[1], g.d_output)
    np.testing.assert_allclose(walk.d_input, g.d_input, rtol=1e-6, atol=1e-8)


def test_window_geometry_of_each_kind_of_layer():
    conv, pool, relu = Conv2D(2, 5, strides=2, padding="same"), MaxPooling2D(3, strides=2), ReLU()
    conv.build((1, 9, 9))
    pool.build((1, 9, 9))
    relu.build((1, 9, 9))
    assert window_geometry(conv) == (5, 2, (2, 2, 2, 2))
    assert window_geometry(pool) == (3, 2, (0, 0, 0, 0))
    assert window_geometry(relu) is None
