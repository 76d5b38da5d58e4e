"""How a filter moves: the explained optimizer step equals the real one, and gradient sizes per layer."""

from __future__ import annotations

import numpy as np
import pytest

from engine.layers import Conv2D, Dense, Flatten, MaxPooling2D
from engine.losses import softmax_cross_entropy
from engine.network import Sequential
from engine.optimizers import SGD, Adam, RMSprop
from engine.presets import PRESETS, build_preset, preset_optimizer
from engine.updates import (
    UpdateMonitor,
    explain_filter_update,
    explain_model_filter_update,
    filter_optimizer_state,
    layer_gradient_stats,
    param_offsets,
)

OPTIMIZERS = {
    "sgd": lambda: SGD(0.05),
    "sgd_momentum": lambda: SGD(0.05, momentum=0.9),
    "sgd_nesterov": lambda: SGD(0.05, momentum=0.9, nesterov=True),
    "adam": lambda: Adam(0.01),
    "rmsprop": lambda: RMSprop(0.01),
    "rmsprop_momentum": lambda: RMSprop(0.01, momentum=0.5),
}


def _model(seed=0):
    model = Sequential([Conv2D(4, 3, activation="relu"), MaxPooling2D(2), Conv2D(3, 3, padding="same",
                                                                                  activation="relu"),
                        Flatten(), Dense(3)])
    return model.build((2, 10, 10), seed=seed)


def _data(n=16, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 2, 10, 10)).astype(np.float32), rng.integers(0, 3, n)


def _backward(model, x, y):
    logits = model.logits(x, training=True)
    _, d = softmax_cross_entropy(logits, y)
    model.backward_from_logits(d)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_explained_step_equals_the_real_optimizer_on_the_same_gradients(name):
    model, opt = _model(), OPTIMIZERS[name]()
    x, y = _data()
    for _ in range(3):  # the optimizer has a history: non-zero velocity / moments
        model.train_step(x, y, opt)
    _backward(model, x, y)
    explained = [explain_model_filter_update(model, opt, li, f) for li in (0, 2) for f in range(3)]
    model.apply_gradients(opt)  # the real optimizer, on the same gradients
    after = [model.layers[li].params["W"][f] for li in (0, 2) for f in range(3)]
    for u, w in zip(explained, after):
        assert u.optimizer == type(opt).__name__ and u.step == 4 and not u.frozen
        np.testing.assert_allclose(u.new_weights, w, rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(u.delta, u.new_weights - u.weights)
        assert np.any(u.delta != 0)


@pytest.mark.parametrize("name", ["adam", "rmsprop", "sgd_momentum"])
def test_explained_state_is_the_optimizers_state_after_the_step(name):
    model, opt = _model(), OPTIMIZERS[name]()
    x, y = _data()
    model.train_step(x, y, opt)
    _backward(model, x, y)
    u = explain_model_filter_update(model, opt, 2, 1)
    model.apply_gradients(opt)
    state = filter_optimizer_state(model, opt, 2, 1)
    for slot in ("m", "v", "velocity"):
        if slot in u.values:
            np.testing.assert_allclose(u.values[slot], state[slot], rtol=1e-6, atol=1e-10)


def test_adam_first_step_shows_bias_correction_for_one_weight():
    opt = Adam(0.001)
    w = np.full((1, 2, 2), 0.5, np.float32)
    g = np.array([[[0.1, -0.2], [0.0, 0.4]]], np.float32)
    u = explain_filter_update(opt, w, g)  # no state: the first step
    one = u.for_weight((0, 0, 0))
    assert one["m_before"] == 0 and one["m"] == pytest.approx(0.1 * 0.1, rel=1e-6)
    assert one["v"] == pytest.approx(0.001 * 0.01, rel=1e-5)
    assert one["m_hat"] == pytest.approx(0.1, rel=1e-5) and one["v_hat"] == pytest.approx(0.01, rel=1e-4)
    assert one["t"] == 1 and one["1-beta_1^t"] == pytest.approx(0.1)
    # the first Adam step moves every weight by about lr in the direction against its gradient
    assert one["w_new"] == pytest.approx(0.5 - 0.001, rel=1e-4)
    assert u.for_weight((0, 1, 0))["delta"] == 0.0
    assert any("beta_1" in line for line in u.formulas)


def test_plain_sgd_is_w_minus_lr_g():
    u = explain_filter_update(SGD(0.1), np.ones((1, 1, 2), np.float32), np.array([[[2.0, -1.0]]], np.float32))
    np.testing.assert_allclose(u.new_weights, [[[0.8, 1.1]]], rtol=1e-6)
    np.testing.assert_allclose(u.values["lr*g"], [[[0.2, -0.1]]], rtol=1e-6)
    assert u.formulas == ("w_new = w - lr * g",)


def test_a_frozen_filter_does_not_move_and_says_why():
    model, opt = _model(), Adam(0.01)
    model.layers[0].set_filter(1, np.zeros((3, 3)), freeze=True)
    x, y = _data()
    model.train_step(x, y, opt)
    _backward(model, x, y)
    u = explain_model_filter_update(model, opt, 0, 1)
    assert u.frozen and u.reason == "frozen_filter"
    assert not np.any(u.delta) and np.array_equal(u.new_weights, u.weights)
    model.apply_gradients(opt)
    np.testing.assert_array_equal(model.layers[0].params["W"][1], u.new_weights)
    assert not explain_model_filter_update(model, opt, 0, 0).frozen


def test_a_layer_that_is_not_trainable_gives_a_zero_update():
    model = _model()
    model.layers[2].trainable = False
    u = explain_model_filter_update(model, SGD(0.1), 2, 0)
    assert u.reason == "layer_not_trainable" and not np.any(u.delta)


def test_optimizer_state_is_empty_before_the_first_step():
    assert filter_optimizer_state(_model(), Adam(), 0, 0) == {}


def test_param_offsets_find_each_view_in_the_flat_buffer():
    model = _model()
    offsets = param_offsets(model)
    assert set(offsets) == {(0, "W"), (0, "b"), (2, "W"), (2, "b"), (4, "W"), (4, "b")}
    for (li, key), (lo, hi) in offsets.items():
        np.testing.assert_array_equal(model.flat_params[lo:hi], model.layers[li].params[key].ravel())


# ---------------------------------------------------------------------------------------------
# gradient sizes per layer
# ---------------------------------------------------------------------------------------------
def test_gradient_stats_per_layer_match_the_layers_arrays():
    model, opt = _model(), SGD(0.1)
    x, y = _data()
    before = model.flat_params.copy()
    weights_before = model.get_weights()
    model.train_step(x, y, opt)
    rows = layer_gradient_stats(model, before)
    assert [r.index for r in rows] == [0, 2, 4]
    for r in rows:
        layer = model.layers[r.index]
        g = np.concatenate([v.ravel() for v in layer.grads.values()]).astype(np.float64)
        w = np.concatenate([v.ravel() for v in layer.params.values()]).astype(np.float64)
        b = np.concatenate([v.ravel() for v in weights_before[r.index].values()]).astype(np.float64)
        assert r.name == layer.name
        assert r.grad_norm == pytest.approx(np.linalg.norm(g), rel=1e-9)
        assert r.weight_norm == pytest.approx(np.linalg.norm(w), rel=1e-9)
        assert r.update_norm == pytest.approx(np.linalg.norm(w - b), rel=1e-9)
        assert r.update_ratio == pytest.approx(np.linalg.norm(w - b) / np.linalg.norm(b), rel=1e-9)
        # plain SGD: the update is lr times the gradient
        assert r.update_norm == pytest.approx(0.1 * r.grad_norm, rel=1e-4)


def test_gradient_stats_without_the_old_weights_leave_the_update_unknown():
    model = _model()
    rows = layer_gradient_stats(model)
    assert all(np.isnan(r.update_norm) and np.isnan(r.update_ratio) for r in rows)
    assert all(r.grad_norm == 0 for r in rows)  # no step yet


def _train_few_steps(key, x, y, steps=5):
    model, opt = build_preset(key, seed=0), preset_optimizer(key)
    before = model.flat_params.copy()
    for s in range(steps):
        np.copyto(before, model.flat_params)
        model.train_step(x[s * 32:(s + 1) * 32], y[s * 32:(s + 1) * 32], opt)
    return layer_gradient_stats(model, before)


def test_gradients_vanish_in_the_deep_sigmoid_network_but_not_in_its_relu_twin():
    from engine.datasets.generated import generate_shapes

    x, y = generate_shapes(160, seed=0)  # the generated shapes: uint8 28x28, scaled like the Trainer does
    x = x.astype(np.float32) / 255
    sigmoid = _train_few_steps("deep_sigmoid", x, y)
    relu = _train_few_steps("deep_relu", x, y)
    assert len(sigmoid) == len(relu) == 8
    # the first layer's gradient is orders of magnitude smaller with sigmoid...
    assert sigmoid[0].grad_norm < 1e-2 * relu[0].grad_norm
    # ...and shrinks layer by layer towards the input, while ReLU keeps it the same order
    assert sigmoid[0].grad_norm < 1e-2 * sigmoid[-1].grad_norm
    assert relu[0].grad_norm > 0.1 * relu[-1].grad_norm
    assert sigmoid[0].update_ratio < 1e-2 * relu[0].update_ratio


def test_deep_presets_are_twins_but_for_the_activation():
    s, r = PRESETS["deep_sigmoid"], PRESETS["deep_relu"]
    ls, lr = s.layers(), r.layers()
    assert [type(a) for a in ls] == [type(b) for b in lr] and sum(isinstance(a, Dense) for a in ls) == 8
    assert {a.activation for a in ls if isinstance(a, Dense)} == {"sigmoid", None}
    assert {a.activation for a in lr if isinstance(a, Dense)} == {"relu", None}
    assert build_preset("deep_sigmoid").total_params == build_preset("deep_relu").total_params


def test_update_monitor_reports_the_last_step_only():
    model, opt = _model(), SGD(0.1)
    x, y = _data()
    monitor = UpdateMonitor(model)
    assert all(np.isnan(r.update_ratio) for r in monitor.stats())
    model.train_step(x, y, opt)  # a step the monitor did not see
    before = model.flat_params.copy()
    monitor.before_step()
    model.train_step(x, y, opt)
    expected = layer_gradient_stats(model, before)
    assert [r.update_norm for r in monitor.stats()] == [r.update_norm for r in expected]
    assert all(r.update_ratio > 0 for r in expected)
