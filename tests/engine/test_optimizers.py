"""The optimizers that train the network, step by step against the update rules Keras 3 documents.

Each expected value is computed here with plain Python floats, one weight at a time, written the way
the Keras source writes the rule (``keras/src/optimizers/{sgd,adam,rmsprop}.py``). The engine runs on
float32 arrays (the dtype of the model's flat parameter buffer), hence the float32 tolerances.
Hyperparameters are chosen so that a misplaced epsilon or a missing bias correction changes the
result by far more than the tolerance (the tests check that too).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.layers import Conv2D, Dense, Flatten, MaxPooling2D
from engine.network import Sequential
from engine.optimizers import SGD, Adam, RMSprop

W0 = [0.5, -1.0, 2.0]
GRADS = [  # one gradient vector per step
    [0.2, -0.4, 1.0],
    [0.1, 0.3, -0.5],
    [-0.6, 0.05, 0.25],
]


def run_engine(opt, w0=W0, grads=GRADS):
    """Weights after each step of ``opt`` on a float32 vector: a list of Python lists."""
    w = np.array(w0, np.float32)
    out = []
    for g in grads:
        opt.update([w], [np.array(g, np.float32)])
        out.append(w.tolist())
    return out


def assert_steps(actual, expected):
    for step, (a, e) in enumerate(zip(actual, expected, strict=True), start=1):
        np.testing.assert_allclose(a, e, rtol=2e-6, atol=1e-7, err_msg=f"step {step}")


def differ(a, b, by=1e-3):
    return max(abs(x - y) for sa, sb in zip(a, b) for x, y in zip(sa, sb)) > by


# --- Keras's rules in plain Python ------------------------------------------------------------------

def keras_sgd(lr, momentum=0.0, nesterov=False, w0=W0, grads=GRADS):
    w, velocity, out = list(w0), [0.0] * len(w0), []
    for g in grads:
        for i in range(len(w)):
            if momentum == 0.0:
                w[i] = w[i] - lr * g[i]
            else:
                velocity[i] = momentum * velocity[i] - lr * g[i]
                if nesterov:
                    w[i] = w[i] + momentum * velocity[i] - lr * g[i]
                else:
                    w[i] = w[i] + velocity[i]
        out.append(list(w))
    return out


def keras_adam(lr, beta_1, beta_2, epsilon, w0=W0, grads=GRADS, textbook_epsilon=False):
    """Keras 3: ``alpha = lr * sqrt(1 - b2^t) / (1 - b1^t)``; ``w -= alpha * m / (sqrt(v) + eps)``.
    ``textbook_epsilon`` puts epsilon where Algorithm 1 of Kingma & Ba does (on the corrected
    ``sqrt(v_hat)``): only used to show that the test tells the two apart."""
    w, m, v, out = list(w0), [0.0] * len(w0), [0.0] * len(w0), []
    for t, g in enumerate(grads, start=1):
        alpha = lr * math.sqrt(1 - beta_2**t) / (1 - beta_1**t)
        for i in range(len(w)):
            m[i] = m[i] + (g[i] - m[i]) * (1 - beta_1)
            v[i] = v[i] + (g[i] * g[i] - v[i]) * (1 - beta_2)
            if textbook_epsilon:
                m_hat, v_hat = m[i] / (1 - beta_1**t), v[i] / (1 - beta_2**t)
                w[i] = w[i] - lr * m_hat / (math.sqrt(v_hat) + epsilon)
            else:
                w[i] = w[i] - m[i] * alpha / (math.sqrt(v[i]) + epsilon)
        out.append(list(w))
    return out


def keras_rmsprop(lr, rho, epsilon, momentum=0.0, w0=W0, grads=GRADS, epsilon_outside=False):
    """Keras 3: ``ms = rho*ms + (1-rho)*g^2``; ``step = lr*g / sqrt(ms + eps)``;
    with momentum ``mom = momentum*mom + step; w -= mom``, else ``w -= step``.
    ``epsilon_outside`` uses ``sqrt(ms) + eps`` instead (what this engine did before)."""
    w, ms, mom, out = list(w0), [0.0] * len(w0), [0.0] * len(w0), []
    for g in grads:
        for i in range(len(w)):
            ms[i] = rho * ms[i] + (1 - rho) * g[i] ** 2
            denominator = math.sqrt(ms[i]) + epsilon if epsilon_outside else math.sqrt(ms[i] + epsilon)
            step = lr * g[i] / denominator
            if momentum > 0:
                mom[i] = momentum * mom[i] + step
                w[i] = w[i] - mom[i]
            else:
                w[i] = w[i] - step
        out.append(list(w))
    return out


# --- SGD --------------------------------------------------------------------------------------------

def test_sgd_subtracts_learning_rate_times_gradient():
    steps = run_engine(SGD(0.1))
    # by hand, first weight: 0.5 - 0.1*0.2 = 0.48; - 0.1*0.1 = 0.47; + 0.1*0.6 = 0.53
    assert steps[0][0] == pytest.approx(0.48) and steps[2][0] == pytest.approx(0.53)
    assert_steps(steps, keras_sgd(0.1))


def test_sgd_momentum_keeps_a_velocity():
    steps = run_engine(SGD(0.1, momentum=0.9))
    # first weight: v = -0.02, w = 0.48; v = 0.9*-0.02 - 0.01 = -0.028, w = 0.452;
    # v = 0.9*-0.028 + 0.06 = 0.0348, w = 0.4868
    assert [s[0] for s in steps] == pytest.approx([0.48, 0.452, 0.4868])
    assert_steps(steps, keras_sgd(0.1, momentum=0.9))
    assert differ(steps, keras_sgd(0.1))


def test_sgd_nesterov_looks_ahead_along_the_new_velocity():
    steps = run_engine(SGD(0.1, momentum=0.9, nesterov=True))
    # first weight: v = -0.02, w = 0.5 + 0.9*-0.02 - 0.02 = 0.462; v = -0.028, w = 0.462 - 0.0252 - 0.01 = 0.4268
    assert [s[0] for s in steps[:2]] == pytest.approx([0.462, 0.4268])
    assert_steps(steps, keras_sgd(0.1, momentum=0.9, nesterov=True))
    assert differ(steps, keras_sgd(0.1, momentum=0.9))


def test_learning_rate_changed_between_steps_is_used_at_the_next_step():
    opt = SGD(0.1, momentum=0.5)
    w = np.array([1.0], np.float32)
    opt.update([w], [np.array([1.0], np.float32)])  # v = -0.1, w = 0.9
    opt.learning_rate = 0.01
    opt.update([w], [np.array([1.0], np.float32)])  # v = -0.05 - 0.01 = -0.06, w = 0.84
    assert w[0] == pytest.approx(0.84)


# --- Adam -------------------------------------------------------------------------------------------

def test_adam_with_bias_correction_and_epsilon_added_to_sqrt_v():
    # a large epsilon makes its place in the formula visible
    steps = run_engine(Adam(0.1, beta_1=0.8, beta_2=0.9, epsilon=0.05))
    # first weight, step 1: m = 0.2*0.2 = 0.04, v = 0.1*0.04 = 0.004, alpha = 0.1*sqrt(0.1)/0.2;
    # w = 0.5 - 0.04*alpha/(sqrt(0.004) + 0.05)
    hand = 0.5 - 0.04 * (0.1 * math.sqrt(0.1) / 0.2) / (math.sqrt(0.004) + 0.05)
    assert steps[0][0] == pytest.approx(hand, rel=2e-6)
    expected = keras_adam(0.1, 0.8, 0.9, 0.05)
    assert_steps(steps, expected)
    assert differ(expected, keras_adam(0.1, 0.8, 0.9, 0.05, textbook_epsilon=True))


def test_adam_with_keras_defaults_moves_each_weight_by_about_the_learning_rate_at_first():
    opt = Adam()
    assert (opt.learning_rate, opt.beta_1, opt.beta_2, opt.epsilon) == (0.001, 0.9, 0.999, 1e-7)
    steps = run_engine(opt)
    assert_steps(steps, keras_adam(0.001, 0.9, 0.999, 1e-7))
    # bias correction: the first step is lr * g/|g| whatever the gradient's size
    np.testing.assert_allclose(np.subtract(steps[0], W0), [-0.001, 0.001, -0.001], rtol=1e-3)


# --- RMSprop ----------------------------------------------------------------------------------------

def test_rmsprop_divides_by_the_root_of_the_mean_square_plus_epsilon():
    steps = run_engine(RMSprop(0.1, rho=0.8, epsilon=0.1))
    # first weight, step 1: ms = 0.2*0.04 = 0.008; w = 0.5 - 0.1*0.2/sqrt(0.008 + 0.1)
    assert steps[0][0] == pytest.approx(0.5 - 0.02 / math.sqrt(0.108), rel=2e-6)
    expected = keras_rmsprop(0.1, 0.8, 0.1)
    assert_steps(steps, expected)
    assert differ(expected, keras_rmsprop(0.1, 0.8, 0.1, epsilon_outside=True))


def test_rmsprop_with_momentum_accumulates_the_steps():
    steps = run_engine(RMSprop(0.05, rho=0.9, epsilon=1e-7, momentum=0.7))
    assert_steps(steps, keras_rmsprop(0.05, 0.9, 1e-7, momentum=0.7))
    assert differ(steps, keras_rmsprop(0.05, 0.9, 1e-7))


def test_rmsprop_reproduces_the_keras_documentation_example():
    # keras.optimizers.RMSprop docstring: var1 = 10.0, loss = var1**2 / 2 (gradient var1),
    # learning_rate=0.1, one minimize step -> 9.683772
    opt = RMSprop(learning_rate=0.1)
    var1 = np.array([10.0], np.float32)
    opt.update([var1], [var1.copy()])
    assert var1[0] == pytest.approx(9.683772, abs=1e-6)


def test_rmsprop_takes_a_small_step_for_a_tiny_gradient_as_keras_does():
    w = np.array([0.0], np.float32)
    RMSprop(0.001).update([w], [np.array([1e-5], np.float32)])
    # Keras: 0.001 * 1e-5 / sqrt(0.1 * 1e-10 + 1e-7) = 3.16e-5 (sqrt(ms) + eps would give 3.07e-3)
    assert w[0] == pytest.approx(-0.001 * 1e-5 / math.sqrt(1e-11 + 1e-7), rel=1e-5)


# --- state --------------------------------------------------------------------------------------------

OPTIMIZERS = {
    "sgd": lambda: SGD(0.1),
    "sgd_momentum": lambda: SGD(0.1, momentum=0.9),
    "sgd_nesterov": lambda: SGD(0.1, momentum=0.9, nesterov=True),
    "adam": lambda: Adam(0.05),
    "rmsprop_momentum": lambda: RMSprop(0.05, momentum=0.5),
}


@pytest.fixture(params=list(OPTIMIZERS), ids=list(OPTIMIZERS))
def make_optimizer(request):
    return OPTIMIZERS[request.param]


def test_optimizer_state_belongs_to_each_weight(make_optimizer):
    """Moments of one weight never see another weight's gradient: updating two arrays of three
    weights together equals six optimizers updating one weight each."""
    rng = np.random.default_rng(0)
    p1, p2 = rng.standard_normal(3).astype(np.float32), rng.standard_normal((1, 3)).astype(np.float32)
    grads = [(rng.standard_normal(3).astype(np.float32), rng.standard_normal((1, 3)).astype(np.float32))
             for _ in range(3)]
    alone = [(p.reshape(-1)[i:i + 1].copy(), make_optimizer()) for p in (p1, p2) for i in range(3)]
    together = make_optimizer()
    for g1, g2 in grads:
        together.update([p1, p2], [g1, g2])
        for k, g in enumerate(np.concatenate([g1, g2.reshape(-1)])):
            w, opt = alone[k]
            opt.update([w], [np.array([g], np.float32)])
    np.testing.assert_array_equal(np.concatenate([p1, p2.reshape(-1)]), [w[0] for w, _ in alone])


def test_a_weight_with_zero_gradient_stays_put_while_its_neighbours_move(make_optimizer):
    w = np.array([1.0, 1.0, 1.0], np.float32)
    opt = make_optimizer()
    for _ in range(3):
        opt.update([w], [np.array([0.5, 0.0, -0.5], np.float32)])
    assert w[1] == 1.0 and w[0] < 1.0 < w[2]


def test_reset_forgets_the_moments(make_optimizer):
    opt = make_optimizer()
    w = np.array(W0, np.float32)
    for g in GRADS:
        opt.update([w], [np.array(g, np.float32)])
    opt.reset()
    assert opt.iterations == 0
    start = w.copy()
    opt.update([w], [np.array(GRADS[0], np.float32)])
    fresh = start.copy()
    make_optimizer().update([fresh], [np.array(GRADS[0], np.float32)])
    np.testing.assert_array_equal(w, fresh)


def test_frozen_filters_and_non_trainable_layers_keep_their_values_through_a_step(make_optimizer):
    model = Sequential([Conv2D(3, 3, frozen_filters=[1]), MaxPooling2D(2), Flatten(), Dense(4), Dense(2)])
    model.build((1, 6, 6), seed=0)
    conv, frozen_dense, last = model.layers[0], model.layers[3], model.layers[4]
    frozen_dense.trainable = False
    before = [{k: v.copy() for k, v in layer.params.items()} for layer in model.layers]
    x = np.random.default_rng(1).random((8, 1, 6, 6), dtype=np.float32)
    y = np.arange(8) % 2
    opt = make_optimizer()
    for _ in range(3):
        model.train_step(x, y, opt)
    np.testing.assert_array_equal(conv.params["W"][1], before[0]["W"][1])
    assert conv.params["b"][1] == before[0]["b"][1]
    for key in ("W", "b"):
        np.testing.assert_array_equal(frozen_dense.params[key], before[3][key])
    assert not np.array_equal(conv.params["W"][[0, 2]], before[0]["W"][[0, 2]])
    assert not np.array_equal(last.params["W"], before[4]["W"])
