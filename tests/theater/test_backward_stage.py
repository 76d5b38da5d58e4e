"""Backward mode's widget-free model: every number it shows is the engine's own gradient or optimizer step."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from engine.layers import AveragePooling2D, Conv2D, Dense, Flatten, MaxPooling2D
from engine.losses import softmax_cross_entropy
from engine.network import Sequential
from engine.optimizers import SGD, Adam, RMSprop
from gui.theater.backward import BackwardStageModel
from tests.headless import qt_modules_loaded_by

# (channels, filters, kernel, stride, padding, mode)
CASES = {
    "stride1_valid": (1, 3, 3, 1, "valid", "cross_correlation"),
    "stride2_valid": (1, 2, 3, 2, "valid", "cross_correlation"),
    "stride1_same": (1, 2, 3, 1, "same", "cross_correlation"),
    "stride2_same": (1, 2, 3, 2, "same", "cross_correlation"),
    "convolution_mode": (1, 3, 3, 1, "valid", "convolution"),
    "rgb_valid": (3, 2, 3, 1, "valid", "cross_correlation"),
    "rgb_convolution_stride2_same": (3, 2, 3, 2, "same", "convolution"),
}


def _model(c, f, k, s, pad, mode, seed=1):
    """A first conv, then the conv under study (layer 1), so the engine computes its dL/dX too."""
    model = Sequential([Conv2D(2, 3, padding="same", activation="relu"),
                        Conv2D(f, k, strides=s, padding=pad, mode=mode, activation="relu"), Flatten(), Dense(4)])
    model.build((c, 9, 8), seed=seed)
    model.layers[1].params["b"][...] = np.linspace(-0.2, 0.2, f)    # some gates close
    return model


def _image(c, seed=0):
    return np.random.default_rng(seed).random((c, 9, 8)).astype(np.float32)


def _engine_backward(model, x, label, stop):
    """The engine's own backward on a batch of one: layer ``stop``'s dL/dW and the dL/dX it passes down."""
    logits = model.logits(x[None])
    _, d = softmax_cross_entropy(logits, np.array([label]))
    for index in range(len(model.layers) - 1, stop - 1, -1):
        d = model.layers[index].backward(d)
    return np.array(model.layers[stop].grads["W"]), np.array(d[0])


def _stage(model, x, label=2, **choices):
    stage = BackwardStageModel()
    stage.choose(layer_index=1, **choices)
    stage.set_source(model.clone(), x, label)
    assert stage.error == "", stage.error
    return stage


def test_the_backward_model_imports_no_qt():
    assert qt_modules_loaded_by("gui.theater.backward", "gui.theater.backward_text") == []


@pytest.mark.parametrize("case", list(CASES))
def test_the_sliding_sum_shown_at_the_last_step_is_the_engines_weight_gradient(case):
    c, f, *_ = CASES[case]
    model, x = _model(*CASES[case]), _image(c)
    d_w, _ = _engine_backward(model.clone(), x, 2, 1)
    for filt in range(f):
        stage = _stage(model, x, filter_index=filt, phase="weights")
        stage.seek(stage.n_positions - 1)
        np.testing.assert_allclose(stage.weight_step().partial_sum, d_w[filt], rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("case", list(CASES))
def test_every_weight_step_adds_the_window_times_one_dz_value(case):
    c = CASES[case][0]
    stage = _stage(_model(*CASES[case]), _image(c), phase="weights", filter_index=1)
    flip = CASES[case][5] == "convolution"
    previous = np.zeros_like(stage.weight_step().partial_sum)
    for index in range(stage.n_positions):
        stage.seek(index)
        st = stage.weight_step()
        window = st.patch[:, ::-1, ::-1] if flip else st.patch
        np.testing.assert_allclose(st.contribution, window * st.d_z, atol=1e-12)
        np.testing.assert_allclose(st.partial_sum, previous + st.contribution, atol=1e-9)
        previous = st.partial_sum


@pytest.mark.parametrize("case", list(CASES))
def test_the_full_convolution_shown_sums_over_filters_to_the_engines_input_gradient(case):
    c, f, *_ = CASES[case]
    model, x = _model(*CASES[case]), _image(c)
    _, d_x = _engine_backward(model.clone(), x, 2, 1)
    total = 0
    for filt in range(f):
        stage = _stage(model, x, filter_index=filt, phase="input")
        values = np.stack([stage.input_walk.step(i).value for i in range(stage.n_positions)], axis=1)
        total = total + values.reshape(d_x.shape)
    np.testing.assert_allclose(total, d_x, rtol=1e-4, atol=1e-6)


def test_upstream_steps_show_dy_the_relu_gate_and_dz_of_the_chosen_filter():
    stage = _stage(_model(*CASES["stride1_valid"]), _image(1), phase="upstream", filter_index=2)
    g = stage.grads
    assert stage.n_positions == g.d_output.shape[1] * g.d_output.shape[2]
    closed = opened = 0
    for index in range(stage.n_positions):
        stage.seek(index)
        st = stage.upstream_step()
        assert st["d_y"] == g.d_output[2, st["i"], st["j"]]
        assert st["open"] == (st["z"] > 0)
        assert st["d_z"] == (st["d_y"] if st["open"] else 0.0)
        closed += not st["open"]
        opened += st["open"]
    assert closed and opened


OPTIMIZERS = {
    "sgd": lambda: SGD(0.05),
    "momentum": lambda: SGD(0.05, momentum=0.9),
    "adam": lambda: Adam(0.01),
    "rmsprop": lambda: RMSprop(0.01),
}


@pytest.mark.parametrize("name", list(OPTIMIZERS))
@pytest.mark.parametrize("case", ["stride2_same", "rgb_convolution_stride2_same"])
def test_the_update_shown_is_the_real_optimizer_step_on_this_image(name, case):
    c = CASES[case][0]
    model, opt = _model(*CASES[case]), OPTIMIZERS[name]()
    rng = np.random.default_rng(5)
    for _ in range(3):      # a history: momentum, m and v are not zero any more
        model.train_step(rng.random((8, c, 9, 8)).astype(np.float32), rng.integers(0, 4, 8), opt)
    x = _image(c)
    stage = BackwardStageModel()
    stage.choose(layer_index=1, filter_index=1, phase="update")
    stage.set_source(model.clone(), x, 3, optimizer=copy.deepcopy(opt))
    u = stage.update
    assert not stage.first_step and u.step == 4 and u.optimizer == type(opt).__name__
    model.train_step(x[None], np.array([3]), opt)       # the real step on a batch of this one image
    np.testing.assert_allclose(u.new_weights, model.layers[1].params["W"][1], rtol=1e-5, atol=1e-7)
    stage.seek(5)
    numbers = stage.update_numbers()
    cuv = stage.weight_index()
    assert numbers["w_new"] == pytest.approx(float(model.layers[1].params["W"][1][cuv]), rel=1e-5, abs=1e-7)
    if name == "adam":
        assert {"m", "v", "m_hat", "v_hat", "step", "alpha_t"} <= set(numbers)


def test_without_the_optimizer_the_update_is_a_first_sgd_step():
    stage = _stage(_model(*CASES["stride1_valid"]), _image(1), phase="update")
    assert stage.first_step
    np.testing.assert_allclose(stage.update.new_weights, stage.update.weights - 0.01 * stage.update.gradient,
                               rtol=1e-5, atol=1e-8)


def test_a_frozen_filter_shows_a_zero_update_and_says_why():
    model = _model(*CASES["stride1_valid"])
    model.layers[1].frozen_filters = {1}
    stage = _stage(model, _image(1), phase="update", filter_index=1)
    assert stage.update.frozen and stage.update.reason == "frozen_filter"
    assert not np.any(stage.update.delta) and np.any(stage.update.gradient)


@pytest.mark.parametrize("pool", [MaxPooling2D, AveragePooling2D])
def test_a_pooling_layer_walks_its_routing_and_it_sums_to_the_engines(pool):
    model = Sequential([Conv2D(2, 3, activation="relu"), pool(2), Flatten(), Dense(3)])
    model.build((1, 8, 8), seed=0)
    x = _image(1)[:, :8, :8].copy()
    stage = BackwardStageModel()
    stage.choose(layer_index=1)
    stage.set_source(model.clone(), x, 1)
    assert stage.phases == ("pool",) and stage.phase == "pool"
    stage.seek(stage.n_positions - 1)
    logits = model.logits(x[None])
    _, d = softmax_cross_entropy(logits, np.array([1]))
    for index in (3, 2, 1):
        d = model.layers[index].backward(d)
    np.testing.assert_allclose(stage.pool_step().partial, d[0], rtol=1e-5, atol=1e-7)
    if pool is MaxPooling2D:
        assert all(len(stage.pool_walk.step(k).targets) == 1 for k in range(stage.n_positions))


def test_a_dense_layer_has_no_walk_and_explains_what_it_does_instead():
    stage = BackwardStageModel()
    stage.choose(layer_index=3)
    stage.set_source(_model(*CASES["stride1_valid"]).clone(), _image(1), 0)
    assert stage.n_positions == 0 and stage.theater is None and stage.error == ""
    assert "dL/dW" in stage.explanation and "dense" in stage.explanation.lower()


def test_an_image_of_the_wrong_size_is_refused_with_both_shapes():
    stage = BackwardStageModel()
    stage.set_source(_model(*CASES["stride1_valid"]), np.zeros((1, 28, 28), np.float32), 0)
    assert "1x9x8" in stage.error and "1x28x28" in stage.error
    assert stage.n_positions == 0


def test_changing_the_filter_rebuilds_and_emits_once_while_the_channel_keeps_the_position():
    stage = _stage(_model(*CASES["rgb_valid"]), _image(3), phase="weights")
    seen = []
    stage.events.changed.connect(lambda: seen.append("changed"))
    stage.seek(7)
    stage.choose(channel=1)     # layer 1 reads the 2 channels of layer 0
    assert stage.position == 7 and stage.channel == 1
    stage.choose(filter_index=1)
    assert seen == ["changed", "changed"] and stage.position == 0
    stage.choose(filter_index=99)
    assert stage.filter_index == 1      # clamped to the layer's filters


def test_tiny_gradients_are_shown_scaled_and_tiny_numbers_keep_their_digits():
    from gui.theater.backward_text import number, scale_of, scaled_title

    assert scale_of(np.array([0.5, -2.0])) == 0 and scale_of(np.zeros(3)) == 0
    assert scale_of(np.array([4.2e-4, -1e-5])) == 4        # 4.2e-4 * 10^4 = 4.2
    assert scaled_title("dL/dW", 4) == "dL/dW (×10⁻⁴)" and scaled_title("dL/dW", 0) == "dL/dW"
    assert number(4.21e-05) == "4.21e−05" and number(0.5) == "0.5" and number(0.0) == "0"
