"""Sequential: shape inference with teaching errors, summary, inspection, weights and configs."""

import numpy as np
import pytest

from engine.errors import ArchitectureError, ShapeError
from engine.layers import AveragePooling2D, Conv2D, Dense, Dropout, Flatten, MaxPooling2D, ReLU, Softmax
from engine.losses import softmax
from engine.network import Sequential, validate_architecture
from engine.optimizers import SGD, Adam


def keras_book_layers():
    return [
        Conv2D(32, 3, activation="relu"), MaxPooling2D(2),
        Conv2D(64, 3, activation="relu"), MaxPooling2D(2),
        Conv2D(64, 3, activation="relu"), Flatten(),
        Dense(64, activation="relu"), Dense(10),
    ]


def small_model(seed=0, **kw):
    model = Sequential([Conv2D(4, 3, padding="same", activation="relu"), MaxPooling2D(2), Flatten(), Dense(3)], **kw)
    return model.build((1, 8, 8), seed=seed)


def images(n, shape=(1, 8, 8), seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, *shape), dtype=np.uint8)


# --- build and errors ---------------------------------------------------------------------------

def test_layers_get_keras_automatic_names():
    model = Sequential(keras_book_layers())
    assert [layer.name for layer in model.layers] == [
        "conv2d", "max_pooling2d", "conv2d_1", "max_pooling2d_1", "conv2d_2", "flatten", "dense", "dense_1"]
    named = Sequential([Dense(3), Dense(3, name="dense"), ReLU()])
    assert [layer.name for layer in named.layers] == ["dense_1", "dense", "re_lu"]
    # configs from an editor carry explicit names; repeated ones are made unique
    repeated = Sequential([Dense(3, name="dense"), Dense(3, name="dense"), Dense(3, name="dense_1")])
    assert [layer.name for layer in repeated.layers] == ["dense", "dense_2", "dense_1"]


def test_build_infers_every_shape():
    model = Sequential(keras_book_layers()).build((1, 28, 28))
    assert [layer.out_shape for layer in model.layers] == [
        (32, 26, 26), (32, 13, 13), (64, 11, 11), (64, 5, 5), (64, 3, 3), (576,), (64,), (10,)]
    assert model.num_classes == 10
    assert model.total_params == 93_322 == model.trainable_params


@pytest.mark.parametrize(
    "layers, shape, index, words",
    [
        ([Conv2D(8, 3), Dense(10)], (1, 28, 28), 1, ["Dense", "Flatten", "26 x 26 x 8"]),
        ([Conv2D(8, 7), MaxPooling2D(2), Conv2D(8, 7), Flatten(), Dense(2)], (1, 12, 12), 2, ["7", "3x3", "smaller"]),
        ([Conv2D(8, 3, strides=0), Flatten(), Dense(2)], (1, 8, 8), 0, ["stride", "0"]),
        ([MaxPooling2D(2), MaxPooling2D(2), MaxPooling2D(2), Flatten(), Dense(2)], (1, 4, 4), 2, ["1x1", "pool"]),
        ([Flatten(), Conv2D(3, 3)], (1, 8, 8), 1, ["Conv2D", "Flatten"]),
        ([Flatten(), Dense(0)], (1, 8, 8), 1, ["units", "0"]),
        ([Conv2D(2, 3, padding=[1, 2, 3]), Flatten(), Dense(2)], (1, 8, 8), 0, ["Conv2D"]),
    ],
)
def test_impossible_architectures_name_the_layer_and_the_fix(layers, shape, index, words):
    model = Sequential(layers)
    with pytest.raises(ArchitectureError) as info:
        model.build(shape)
    err = info.value
    assert err.layer_index == index
    assert err.layer_name == model.layers[index].name
    assert str(err).startswith(f"layer {index} ({model.layers[index].name}): ")
    for word in words:
        assert word in str(err), str(err)
    assert not model.built


def test_validate_architecture_never_raises_and_puts_errors_on_rows():
    configs = [
        Conv2D(8, 3).get_config(),
        {"class_name": "Conv2D", "config": {"filters": 8, "kernel_size": 9}},  # 26x26 -> fine
        {"class_name": "Conv2D", "config": {"filters": 8, "kernel_size": 30}},  # does not fit 18x18
        {"class_name": "Flatten", "config": {}},
        {"class_name": "Dense", "config": {"units": 10}},
    ]
    rows = validate_architecture(configs, (1, 28, 28))
    assert [r.error is None for r in rows] == [True, True, False, True, True]
    assert "30" in rows[2].error and "18x18" in rows[2].error
    assert rows[1].output_shape == (8, 18, 18)
    assert rows[3].output_shape is None and rows[3].input_shape is None  # unknown after the error
    assert [r.name for r in rows] == ["conv2d", "conv2d_1", "conv2d_2", "flatten", "dense"]


def test_validate_architecture_reports_unknown_layers_bad_values_and_wrong_class_count():
    rows = validate_architecture([{"class_name": "Banana", "config": {}}], (1, 8, 8))
    assert "Banana" in rows[0].error
    rows = validate_architecture([{"class_name": "Conv2D", "config": {"filters": "many", "kernel_size": 3}}], (1, 8, 8))
    assert "filters" in rows[0].error and "'many'" in rows[0].error
    rows = validate_architecture([Flatten().get_config(), Dense(5).get_config()], (1, 8, 8), num_classes=10)
    assert rows[0].error is None and "Dense(10)" in rows[1].error
    assert validate_architecture([], (1, 8, 8)) == []


def test_summary_rows_hold_counts_and_both_formulas():
    model = Sequential(keras_book_layers()).build((1, 28, 28))
    rows = model.summary_rows()
    assert rows[0].formula == "3*3*1*32 + 32 = 320"
    assert rows[0].size_formula == "(28 + 2*0 - 3)/1 + 1 = 26"
    assert rows[3].size_formula == "floor((11 + 2*0 - 2)/2) + 1 = 5"
    assert rows[6].formula == "576*64 + 64 = 36928"
    assert [r.params for r in rows] == [320, 0, 18496, 0, 36928, 0, 36928, 650]
    assert rows[5].input_shape == (64, 3, 3) and rows[5].output_shape == (576,)


def test_summary_prints_like_keras():
    model = Sequential(keras_book_layers(), name="keras_mnist").build((1, 28, 28))
    text = model.summary()
    lines = text.splitlines()
    assert lines[0] == 'Model: "keras_mnist"'
    assert "Layer (type)" in lines[2] and "Output Shape" in lines[2] and "Param #" in lines[2]
    assert any(line.split() == ["conv2d", "(Conv2D)", "(None,", "26,", "26,", "32)", "320"] for line in lines)
    assert any(line.split()[:2] == ["max_pooling2d_1", "(MaxPooling2D)"] for line in lines)
    assert "Total params: 93,322" in lines
    assert "Trainable params: 93,322" in lines
    assert "Non-trainable params: 0" in lines


# --- computation ----------------------------------------------------------------------------------

def test_forward_return_all_gives_every_activation():
    model = small_model()
    x = images(5)
    acts = model.forward(x, return_all=True)
    assert len(acts) == len(model.layers) + 1
    np.testing.assert_allclose(acts[0], x / 255, rtol=1e-6)
    assert [a.shape[1:] for a in acts[1:]] == [(4, 8, 8), (4, 4, 4), (64,), (3,)]
    np.testing.assert_array_equal(acts[-1], model.forward(x))


def test_predict_proba_is_a_distribution_and_accepts_one_image():
    model = small_model()
    x = images(600)
    p = model.predict_proba(x, batch_size=256)
    assert p.shape == (600, 3) and p.dtype == np.float32
    np.testing.assert_allclose(p.sum(axis=1), 1, rtol=1e-5)
    np.testing.assert_allclose(model.predict_proba(x[7]), p[7:8], rtol=1e-5)
    np.testing.assert_allclose(p, softmax(model.forward(x).astype(np.float64)), rtol=1e-4, atol=1e-7)


def test_evaluate_counts_a_confusion_matrix_of_true_by_predicted():
    model = small_model()
    x = images(50)
    pred = model.predict(x)
    y = pred.copy()
    y[:10] = (pred[:10] + 1) % 3  # ten wrong on purpose
    result = model.evaluate(x, y, batch_size=16)
    assert result.accuracy == pytest.approx(40 / 50)
    assert result.confusion.sum() == 50 and np.trace(result.confusion) == 40
    for i in range(10):
        assert result.confusion[y[i], pred[i]] >= 1
    np.testing.assert_array_equal(result.predictions, pred)
    ce = -np.log(result.probabilities[np.arange(50), y]).mean()
    assert result.loss == pytest.approx(ce, rel=1e-4)


def test_trailing_softmax_is_folded_into_the_loss():
    base = Sequential([Flatten(), Dense(3)]).build((1, 4, 4), seed=1)
    with_layer = Sequential([Flatten(), Dense(3), Softmax()]).build((1, 4, 4), seed=1)
    fused = Sequential([Flatten(), Dense(3, activation="softmax")]).build((1, 4, 4), seed=1)
    x = images(6, (1, 4, 4))
    y = np.array([0, 1, 2, 0, 1, 2])
    expected = base.predict_proba(x)
    for model in (with_layer, fused):
        np.testing.assert_allclose(model.forward(x), expected, rtol=1e-5)  # the network's own output
        np.testing.assert_allclose(model.predict_proba(x), expected, rtol=1e-5)  # no double softmax
    for model in (base, with_layer, fused):
        for _ in range(3):
            model.train_step(model._prepare(x), y, SGD(0.5))
    for model in (with_layer, fused):
        np.testing.assert_allclose(model.layers[1].params["W"], base.layers[1].params["W"], rtol=1e-5, atol=1e-6)


def test_input_gradient_matches_finite_differences_and_leaves_grads_alone():
    model = small_model()
    x = images(1)[0].astype(np.float32) / 255
    model.train_step(x[None], np.array([1]), SGD(0.0))
    grads_before = model.flat_grads.copy()
    sal = model.input_gradient(x, 2)
    assert sal.shape == (1, 8, 8) and sal.dtype == np.float32
    np.testing.assert_array_equal(model.flat_grads, grads_before)
    eps = 1e-2
    for r, c in [(0, 0), (3, 4), (7, 7), (5, 2)]:
        up, down = x.copy(), x.copy()
        up[0, r, c] += eps
        down[0, r, c] -= eps
        num = (model.forward(up[None])[0, 2] - model.forward(down[None])[0, 2]) / (2 * eps)
        assert sal[0, r, c] == pytest.approx(num, abs=2e-3)


def test_a_tiny_network_overfits_16_samples():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (16, 1, 12, 12), dtype=np.uint8)
    y = np.arange(16) % 4
    model = Sequential([
        Conv2D(8, 3, activation="relu"), MaxPooling2D(2), Conv2D(8, 3, padding="same", activation="relu"),
        AveragePooling2D(2), Flatten(), Dense(32, activation="relu"), Dropout(0.1), Dense(4),
    ]).build((1, 12, 12), seed=0)
    opt = Adam(0.01)
    xf = model._prepare(x)
    losses = [model.train_step(xf, y, opt)[0] for _ in range(150)]
    assert losses[-1] < 0.05 < losses[0]
    assert model.evaluate(x, y).accuracy == 1.0


def test_fit_is_a_keras_style_shortcut_for_the_trainer():
    model = small_model()
    x, y = images(64), np.arange(64) % 3
    epochs = []
    history = model.fit(x, y, Adam(0.01), epochs=3, batch_size=16, validation_data=(x[:8], y[:8]),
                        on_epoch_end=epochs.append)
    assert history == epochs and len(history) == 3 and history[-1].val_accuracy is not None


# --- frozen parameters ----------------------------------------------------------------------------

def test_frozen_filters_and_frozen_layers_keep_their_values_under_every_optimizer():
    for opt in (SGD(0.1, momentum=0.9, nesterov=True), Adam(0.01)):
        model = small_model()
        conv, dense = model.layers[0], model.layers[3]
        conv.set_filter(1, np.eye(3), bias=0.25)
        dense.trainable = False
        kept_filter = conv.params["W"][1].copy()
        kept_dense = dense.params["W"].copy()
        other = conv.params["W"][0].copy()
        x, y = model._prepare(images(8)), np.arange(8) % 3
        for _ in range(5):
            model.train_step(x, y, opt)
        np.testing.assert_array_equal(conv.params["W"][1], kept_filter)
        assert conv.params["b"][1] == 0.25
        np.testing.assert_array_equal(dense.params["W"], kept_dense)
        assert not np.array_equal(conv.params["W"][0], other)
    assert model.trainable_params == model.total_params - 10 - 195  # one 3x3x1+1 filter, the dense layer


# --- weights and configuration ---------------------------------------------------------------------

def test_get_weights_returns_copies_and_set_weights_checks_shapes():
    model = small_model()
    w = model.get_weights()
    assert w[1] == {} and set(w[0]) == {"W", "b"}
    w[0]["W"][...] = 7
    assert not np.any(model.layers[0].params["W"] == 7)
    w[0]["W"][...] = 3
    model.set_weights(w)
    assert np.all(model.layers[0].params["W"] == 3)
    assert np.shares_memory(model.layers[0].params["W"], model.flat_params)  # still the live buffer
    bad = model.get_weights()
    bad[3]["W"] = np.zeros((5, 3), np.float32)
    with pytest.raises(ShapeError, match="dense"):
        model.set_weights(bad)
    assert np.all(model.layers[0].params["W"] == 3)  # nothing half-written


def test_clone_is_independent_and_equal():
    model = small_model()
    model.layers[0].frozen_filters.add(2)
    copy = model.clone()
    x = images(4)
    np.testing.assert_array_equal(copy.forward(x), model.forward(x))
    assert copy.layers[0].frozen_filters == {2}
    assert [layer.name for layer in copy.layers] == [layer.name for layer in model.layers]
    copy.train_step(copy._prepare(x), np.array([0, 1, 2, 0]), SGD(0.5))
    assert not np.array_equal(copy.layers[3].params["W"], model.layers[3].params["W"])


def test_config_round_trip_rebuilds_the_same_architecture():
    model = Sequential(keras_book_layers(), name="book").build((1, 28, 28))
    again = Sequential.from_config(model.get_config())
    assert again.get_config() == model.get_config()
    assert again.total_params == 93_322 and again.name == "book"


def test_same_seed_builds_the_same_model():
    a, b, c = small_model(seed=5), small_model(seed=5), small_model(seed=6)
    np.testing.assert_array_equal(a.flat_params, b.flat_params)
    assert not np.array_equal(a.flat_params, c.flat_params)
