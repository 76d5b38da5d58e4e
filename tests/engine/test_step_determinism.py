"""A whole training step (fused conv + ReLU kernels, pooling, dense, dropout, the one-pass optimizer) gives
the same weights bit for bit whatever the size of the compute team."""

from __future__ import annotations

import numpy as np
import pytest

from engine import kernels
from engine.layers import Conv2D, Dense, Dropout, Flatten, MaxPooling2D
from engine.network import Sequential
from engine.optimizers import SGD, Adam
from engine.training import Trainer


def _layers(kind):
    if kind == "same":
        return [Conv2D(8, 3, padding="same", activation="relu"), MaxPooling2D(2),
                Conv2D(16, 3, padding="same", activation="relu"), MaxPooling2D(2),
                Flatten(), Dense(20, activation="relu"), Dropout(0.3), Dense(5)]
    return [Conv2D(6, 5, padding=2, activation="relu"), MaxPooling2D(2),
            Conv2D(12, (3, 2), strides=(1, 2), activation="relu"), MaxPooling2D(2),
            Flatten(), Dense(5)]


def _train(kind, threads, opt):
    kernels.set_num_threads(threads)
    rng = np.random.default_rng(3)
    x = rng.integers(0, 256, (96, 1, 16, 16), dtype=np.uint8)
    y = rng.integers(0, 5, 96)
    model = Sequential(_layers(kind)).build((1, 16, 16), seed=1)
    trainer = Trainer(model, Adam(0.003) if opt == "adam" else SGD(0.05, momentum=0.9), x, y,
                      batch_size=32, epochs=2, seed=4)
    for _ in range(5):
        trainer.step()
    return model.get_flat_weights()


@pytest.mark.parametrize("kind,opt", [("same", "adam"), ("valid", "sgd")])
def test_training_steps_are_bit_identical_for_any_thread_count(kind, opt):
    before = kernels.get_num_threads()
    try:
        one = _train(kind, 1, opt)
        for threads in (2, 3):
            np.testing.assert_array_equal(_train(kind, threads, opt), one)
    finally:
        kernels.set_num_threads(before)
    start = Sequential(_layers(kind)).build((1, 16, 16), seed=1).get_flat_weights()
    assert not np.array_equal(one, start)


def test_fused_relu_training_forward_equals_the_inspection_forward():
    model = Sequential(_layers("same")).build((1, 16, 16), seed=2)
    x = np.random.default_rng(0).random((4, 1, 16, 16), dtype=np.float32)
    conv = model.layers[0]
    y_train = conv.forward(x, training=True).copy()
    assert conv.pre_activation is None
    y_eval = conv.forward(x, training=False)
    np.testing.assert_array_equal(y_train, y_eval)
    np.testing.assert_array_equal(y_eval, np.maximum(conv.pre_activation, 0))


def test_fused_relu_keeps_nan_so_a_diverging_run_is_seen():
    conv = Sequential([Conv2D(2, 3, activation="relu"), Flatten(), Dense(2)]).build((1, 5, 5), seed=0).layers[0]
    conv.params["W"][0, 0, 0, 0] = np.nan
    out = conv.forward(np.ones((1, 1, 5, 5), np.float32), training=True)
    assert np.isnan(out[0, 0]).all() and np.isfinite(out[0, 1]).all()


def test_training_steps_do_not_page_fault_their_arrays_in_again():
    import resource
    import sys

    from engine import _env

    if not sys.platform.startswith("linux"):
        pytest.skip("glibc only")
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (640, 1, 28, 28), dtype=np.uint8)
    y = rng.integers(0, 10, 640)
    model = Sequential(_layers("valid")[:-1] + [Dense(10)]).build((1, 28, 28), seed=0)
    trainer = Trainer(model, SGD(0.01), x, y, batch_size=64, epochs=5, seed=0)
    for _ in range(3):
        trainer.step()
    assert _env._heap_kept
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(20):
        trainer.step()
    faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 20
    # one step allocates ~2.5 MB of activations and gradients (600+ pages): they must come from kept memory
    assert faults < 60, faults


def test_a_large_dense_backward_gives_the_same_bits_alone_and_side_by_side():
    """dW and dx of a large Dense layer run on two threads at once; each is one BLAS call, so any
    team size gives the same bits, and they match the plain products."""
    from engine.layers import _SIDE_BY_SIDE_MACS

    rng = np.random.default_rng(7)
    n, d, u = 32, 3136, 100
    assert n * d * u >= _SIDE_BY_SIDE_MACS
    x = rng.standard_normal((n, d)).astype(np.float32)
    dz = rng.standard_normal((n, u)).astype(np.float32)
    results = []
    before = kernels.get_num_threads()
    try:
        for threads in (1, 2, 3):
            kernels.set_num_threads(threads)
            layer = Dense(u)
            layer.build((d,), np.random.default_rng(0))
            layer.need_input_grad = True
            layer.forward(x, training=True)
            dx = layer.backward_linear(dz)
            results.append((dx, layer.grads["W"].copy(), layer.grads["b"].copy()))
    finally:
        kernels.set_num_threads(before)
    for dx, gw, gb in results[1:]:
        assert np.array_equal(dx, results[0][0]) and np.array_equal(gw, results[0][1])
        assert np.array_equal(gb, results[0][2])
    dx, gw, _ = results[0]
    assert np.array_equal(gw, x.T @ dz) and np.array_equal(dx, dz @ layer.params["W"].T)
