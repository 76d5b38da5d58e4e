"""Convolution + ReLU + 2x2 max pooling as one kernel pass while training: the same bits as the three
separate steps (forward values, switches, and every gradient), and used only where it is exact."""

from __future__ import annotations

import numpy as np
import pytest

from engine import kernels
from engine.layers import AveragePooling2D, Conv2D, Dense, Flatten, MaxPooling2D
from engine.network import Sequential
from engine.optimizers import Adam
from engine.training import Trainer

CASES = [
    # N, C, H, W, F, KH, KW, pad, stride
    (7, 3, 12, 12, 5, 3, 3, 1, 1),      # 'same' 3x3, padded-width columns
    (5, 1, 13, 11, 4, 3, 3, 0, 1),      # odd output: the last row and column are not pooled
    (6, 2, 15, 14, 3, 5, 5, 2, 1),      # LeNet-like 5x5
    (4, 2, 11, 12, 3, 2, 3, 0, (1, 2)),  # rectangular kernel and stride: plain columns
    (33, 1, 9, 9, 8, 3, 3, 1, 1),       # one channel, many chunks
]


@pytest.fixture(params=["sgemm-in-numba", "numpy-matmul"])
def blas_path(request, monkeypatch):
    if request.param == "numpy-matmul":
        monkeypatch.setattr(kernels, "_gemm_fn", False)
    return request.param


@pytest.mark.parametrize("case", CASES)
def test_fused_pass_equals_conv_relu_then_maxpool_bit_for_bit(case, blas_path):
    N, C, H, W, F, KH, KW, pad, stride = case
    rng = np.random.default_rng(sum(case[:7]))
    x = rng.standard_normal((N, C, H, W), dtype=np.float32)
    x[0, :, :4] = 0.0  # ReLU ties (all-zero windows): the first position must win as in maxpool2d_forward
    w = rng.standard_normal((F, C, KH, KW), dtype=np.float32)
    b = rng.standard_normal(F, dtype=np.float32)
    p4 = (pad,) * 4
    y = kernels.conv2d_forward(x, w, b, stride, p4, relu=True)
    p_ref, am_ref = kernels.maxpool2d_forward(y, 2, 2, (0, 0, 0, 0))
    pooled, am = kernels.conv2d_relu_maxpool_forward(x, w, b, stride, p4)
    np.testing.assert_array_equal(pooled, p_ref)
    np.testing.assert_array_equal(am, am_ref)

    dp = rng.standard_normal(pooled.shape, dtype=np.float32)
    dy = kernels.maxpool2d_backward(dp, am_ref, y.shape)
    for need_dx in (True, False):
        dx_ref, dw_ref, db_ref = kernels.conv2d_backward(x, w, dy, stride, p4, need_dx=need_dx, relu_output=y)
        dx, dw, db = kernels.conv2d_relu_maxpool_backward(x, w, dp, am, pooled, stride, p4, need_dx=need_dx)
        np.testing.assert_array_equal(dw, dw_ref)
        np.testing.assert_array_equal(db, db_ref)
        if need_dx:
            np.testing.assert_array_equal(dx, dx_ref)
        else:
            assert dx is None


def test_fused_pass_rejects_wrong_shapes():
    x = np.zeros((2, 1, 6, 6), np.float32)
    w = np.zeros((3, 1, 3, 3), np.float32)
    pooled, am = kernels.conv2d_relu_maxpool_forward(x, w, None, 1, (0, 0, 0, 0))
    assert pooled.shape == am.shape == (2, 3, 2, 2)
    with pytest.raises(ValueError, match="shape"):
        kernels.conv2d_relu_maxpool_backward(x, w, pooled[:, :2].copy(), am, pooled, 1, (0, 0, 0, 0))
    with pytest.raises(ValueError, match="no 2x2 pooling window"):
        kernels.conv2d_relu_maxpool_forward(np.zeros((1, 1, 3, 3), np.float32), w, None, 1, (0, 0, 0, 0))


def _model(seed=0):
    return Sequential([
        Conv2D(6, 3, padding="same", activation="relu"), MaxPooling2D(2),
        Conv2D(8, 3, activation="relu"), MaxPooling2D(2),
        Flatten(), Dense(5),
    ]).build((2, 14, 13), seed=seed)


def _train(fused: bool, monkeypatch, steps=6):
    with monkeypatch.context() as mp:
        if not fused:
            mp.setattr(Conv2D, "fuses_with", lambda self, following: False)
        rng = np.random.default_rng(2)
        x = rng.integers(0, 256, (100, 2, 14, 13), dtype=np.uint8)
        y = rng.integers(0, 5, 100)
        model = _model()
        trainer = Trainer(model, Adam(0.01), x, y, batch_size=32, epochs=3, seed=1)
        losses = [trainer.step().loss for _ in range(steps)]   # includes the 4-image last batch
        return model.get_flat_weights(), losses


def test_training_with_the_fused_pass_gives_the_same_bits_as_without(monkeypatch):
    fused_w, fused_losses = _train(True, monkeypatch)
    plain_w, plain_losses = _train(False, monkeypatch)
    assert fused_losses == plain_losses
    np.testing.assert_array_equal(fused_w, plain_w)


def test_the_network_fuses_only_relu_conv_then_2x2_stride_2_max_pooling(monkeypatch):
    calls = []
    real = kernels.conv2d_relu_maxpool_forward
    monkeypatch.setattr(kernels, "conv2d_relu_maxpool_forward", lambda *a: calls.append(a[1].shape) or real(*a))
    model = _model()
    x = np.random.default_rng(0).random((3, 2, 14, 13), dtype=np.float32)
    model.logits(x, training=True)
    assert calls == [(6, 2, 3, 3), (8, 6, 3, 3)]
    conv, pool = model.layers[0], model.layers[1]
    assert pool.computed_by is conv and conv.output is None
    calls.clear()
    model.logits(x)                      # inference and inspection: the layers one by one
    assert calls == [] and pool.computed_by is None and conv.output is not None
    inspection = model.inspect(x[0])
    assert inspection is not None

    def fuses(conv_kwargs, pool_layer, shape=(1, 9, 9)):
        m = Sequential([Conv2D(2, 3, **conv_kwargs), pool_layer, Flatten(), Dense(2)]).build(shape, seed=0)
        return m.layers[0].fuses_with(m.layers[1])

    assert fuses({"activation": "relu"}, MaxPooling2D(2))
    assert not fuses({"activation": "tanh"}, MaxPooling2D(2))
    assert not fuses({}, MaxPooling2D(2))
    assert not fuses({"activation": "relu"}, AveragePooling2D(2))
    assert not fuses({"activation": "relu"}, MaxPooling2D(3))
    assert not fuses({"activation": "relu"}, MaxPooling2D(2, strides=1))
    assert not fuses({"activation": "relu"}, MaxPooling2D((2, 1)))
    assert not fuses({"activation": "relu"}, MaxPooling2D(2, padding="same"))   # 7x7 output: padded


def test_every_window_of_nan_ties_negatives_and_numbers_pools_like_maxpool2d():
    import itertools

    values = [np.nan, -1.0, 0.0, 0.5, 2.0]
    windows = np.array(list(itertools.product(values, repeat=4)), np.float32)   # 625 windows
    x = windows.reshape(len(windows), 1, 2, 2)
    w = np.ones((1, 1, 1, 1), np.float32)
    y = kernels.conv2d_forward(x, w, None, 1, (0, 0, 0, 0), relu=True)
    p_ref, am_ref = kernels.maxpool2d_forward(y, 2, 2, (0, 0, 0, 0))
    pooled, am = kernels.conv2d_relu_maxpool_forward(x, w, None, 1, (0, 0, 0, 0))
    np.testing.assert_array_equal(pooled, p_ref)     # NaN where the reference has NaN
    np.testing.assert_array_equal(am, am_ref)
    assert np.isnan(pooled).sum() == 125             # the windows that start with a NaN
