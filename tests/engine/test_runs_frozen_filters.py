"""Frozen filters in any conv layer stay bit-identical while the rest trains, also when the optimizer
already holds moments for them (a branch frozen after the parent trained them with momentum or Adam)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.layers import Conv2D, Dense, Flatten, MaxPooling2D
from engine.network import Sequential
from engine.optimizers import SGD, Adam
from engine.runs.files import optimizer_state, restore_optimizer_state

OPTIMIZERS = {
    "sgd": lambda: SGD(0.05),
    "sgd_momentum": lambda: SGD(0.05, momentum=0.9),
    "adam": lambda: Adam(0.01),
}


def _model(frozen_first=(), frozen_second=()):
    model = Sequential([Conv2D(4, 3, activation="relu", frozen_filters=frozen_first),
                        Conv2D(6, 3, activation="relu", frozen_filters=frozen_second),
                        MaxPooling2D(2), Flatten(), Dense(3)])
    model.build((1, 10, 10), seed=0)
    return model


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_frozen_filters_of_every_conv_layer_stay_bit_identical_with_optimizer_moments(name):
    rng = np.random.default_rng(0)
    x = rng.random((16, 1, 10, 10), dtype=np.float32)
    y = np.arange(16) % 3
    parent = _model()
    opt = OPTIMIZERS[name]()
    for _ in range(5):                         # the parent trains every filter: the optimizer has moments
        parent.train_step(x, y, opt)
    state = optimizer_state(opt)
    if name != "sgd":                          # plain SGD keeps no moments
        assert state is not None and any(np.any(s) for slot in state["slots"] for s in slot.values())
    # the branch: the parent's weights and optimizer state, filters 1 and 3 of conv 1 and 0, 2, 5 of conv 2 frozen
    child = _model(frozen_first=[1, 3], frozen_second=[0, 2, 5])
    child.set_weights(parent.get_weights())
    child_opt = OPTIMIZERS[name]()
    if state is not None:
        assert restore_optimizer_state(child_opt, state)
    before = child.get_weights()
    for _ in range(20):
        child.train_step(x, y, child_opt)
    after = child.get_weights()
    for layer_index, frozen in ((0, [1, 3]), (1, [0, 2, 5])):
        for key in ("W", "b"):
            np.testing.assert_array_equal(after[layer_index][key][frozen], before[layer_index][key][frozen])
        free = [i for i in range(len(before[layer_index]["b"])) if i not in frozen]
        assert not np.array_equal(after[layer_index]["W"][free], before[layer_index]["W"][free])
    assert not np.array_equal(after[4]["W"], before[4]["W"])
    # a frozen filter is not counted as trainable
    assert child.trainable_params == parent.trainable_params - (2 * 9 + 2) - 3 * (4 * 9 + 1)
