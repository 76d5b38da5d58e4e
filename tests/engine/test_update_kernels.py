"""The one-pass optimizer kernels give exactly the weights of the numpy reference code (bit for bit)."""

from __future__ import annotations

import numpy as np
import pytest

from engine import update_kernels
from engine.optimizers import SGD, Adam, RMSprop


def _run(make, use_kernel: bool, monkeypatch, steps: int = 6, n: int = 1031):
    """``steps`` updates of a float32 buffer; ``use_kernel=False`` forces the numpy code."""
    with monkeypatch.context() as mp:
        if not use_kernel:
            mp.setattr(update_kernels, "usable", lambda *arrays: False)
        rng = np.random.default_rng(7)
        p = rng.standard_normal(n).astype(np.float32)
        opt = make()
        for _ in range(steps):
            g = (rng.standard_normal(n) * rng.choice([1e-6, 1e-2, 1.0, 30.0], n)).astype(np.float32)
            opt.update([p], [g])
        return p


@pytest.mark.parametrize("make", [
    lambda: SGD(0.05),
    lambda: SGD(0.05, momentum=0.9),
    lambda: SGD(0.05, momentum=0.9, nesterov=True),
    lambda: Adam(0.003),
    lambda: Adam(0.01, beta_1=0.5, beta_2=0.9, epsilon=1e-3),
    lambda: RMSprop(0.001),
    lambda: RMSprop(0.001, rho=0.8, momentum=0.5),
], ids=["sgd", "momentum", "nesterov", "adam", "adam-options", "rmsprop", "rmsprop-momentum"])
@pytest.mark.parametrize("n", [1031, 70_001], ids=["small", "big"])
def test_kernel_matches_numpy_bit_for_bit(make, n, monkeypatch):
    fast = _run(make, True, monkeypatch, n=n)
    slow = _run(make, False, monkeypatch, n=n)
    start = _run(make, True, monkeypatch, steps=0, n=n)
    assert not np.array_equal(fast, start)          # the weights did move
    np.testing.assert_array_equal(fast, slow)


def test_kernel_is_used_for_the_flat_float32_buffer(monkeypatch):
    calls = []
    real = update_kernels.adam_update

    def spy(*args):
        calls.append(args[0].shape)
        return real(*args)

    monkeypatch.setattr(update_kernels, "adam_update", spy)
    p = np.zeros(10, np.float32)
    Adam().update([p], [np.ones(10, np.float32)])
    assert calls == [(10,)]


def test_other_dtypes_use_the_numpy_rule():
    p = np.zeros(5, np.float64)
    Adam(0.1).update([p], [np.ones(5)])
    # first Adam step moves every weight by about the learning rate against the gradient
    np.testing.assert_allclose(p, -0.1, rtol=1e-5)
    assert not update_kernels.usable(p)
    assert not update_kernels.usable(np.zeros((2, 2), np.float32))
    assert update_kernels.usable(np.zeros(4, np.float32))
