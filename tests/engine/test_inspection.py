"""Inspection: one sample through a model, checked stage by stage against slow numpy references."""

import numpy as np
import pytest

from engine.inspection import Inspection, output_head, pool_winner_mask
from engine.layers import Conv2D, Dense, Flatten, MaxPooling2D, Softmax
from engine.network import Sequential
from tests import reference as ref


def _model(last):
    layers = [Conv2D(3, 3, padding="same", activation="relu"), MaxPooling2D(2, padding="same"), Flatten(), *last]
    return Sequential(layers).build((2, 7, 7), seed=3)


HEADS_FACTORY = {        # fresh layers per test: a layer object belongs to one model
    "plain": lambda: [Dense(4)],
    "softmax_layer": lambda: [Dense(4), Softmax()],
    "fused_softmax": lambda: [Dense(4, activation="softmax")],
}


def _sample(seed=0):
    return np.random.default_rng(seed).integers(0, 256, (2, 7, 7), dtype=np.uint8)


def _softmax64(z):
    z = np.asarray(z, np.float64)
    e = np.exp(z - z.max())
    return e / e.sum()


@pytest.mark.parametrize("head", list(HEADS_FACTORY))
def test_every_stage_matches_the_numpy_reference(head):
    model = _model(HEADS_FACTORY[head]())
    assert output_head(model.layers) == head == model.head
    x8 = _sample()
    ins = model.inspect(x8)
    assert isinstance(ins, Inspection)

    x = x8.astype(np.float64) / 255
    conv, pool, dense = model.layers[0], model.layers[1], model.layers[3]
    z = ref.conv2d(x[None], conv.params["W"], conv.params["b"], 1, conv.padding_pixels)[0]
    a = np.maximum(z, 0)
    pooled, switches = ref.maxpool2d(a[None], 2, 2, pool.padding_pixels)
    logits = ref.dense(pooled.reshape(1, -1), dense.params["W"], dense.params["b"])[0]

    np.testing.assert_allclose(ins.input, x, rtol=1e-6)
    assert ins.input.dtype == np.float32 and ins.input.shape == (2, 7, 7)
    np.testing.assert_allclose(ins.pre_activations[0], z, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ins.outputs[0], a, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ins.outputs[1], pooled[0], rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(ins.pool_switches[1], switches[0])
    assert ins.pool_switches[0] is None and ins.pool_switches[2] is None
    assert ins.pre_activations[1] is None and ins.pre_activations[2] is None
    np.testing.assert_allclose(ins.logits, logits, rtol=1e-4, atol=1e-5)
    # one rule for every head: probabilities are the softmax of the logits
    np.testing.assert_allclose(ins.probabilities, _softmax64(ins.logits), rtol=1e-5, atol=1e-7)
    assert ins.probabilities.shape == (4,) and ins.probabilities.sum() == pytest.approx(1, rel=1e-5)
    if head != "plain":   # the model's own output already is the softmax: no second one
        np.testing.assert_allclose(ins.outputs[-1], ins.probabilities, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.predict_proba(x8)[0], ins.probabilities, rtol=1e-5, atol=1e-7)
    assert ins.prediction == int(np.argmax(logits))


def test_activations_are_the_input_then_every_layer_output_as_the_panels_index_them():
    model = _model([Dense(4)])
    ins = model.inspect(_sample(1))
    assert len(ins.activations) == len(model.layers) + 1
    assert ins.activations[0] is ins.input
    assert [a.shape for a in ins.activations[1:]] == [layer.out_shape for layer in model.layers]
    assert ins.layer_names == tuple(layer.name for layer in model.layers)


def test_an_inspection_is_a_read_only_copy_that_training_cannot_change():
    model = _model([Dense(4)])
    ins = model.inspect(_sample(2))
    w = ins.weights[0]["W"].copy()
    out = ins.outputs[0].copy()
    with pytest.raises(ValueError):
        ins.outputs[0][0, 0, 0] = 1.0
    with pytest.raises(ValueError):
        ins.weights[0]["W"][...] = 0
    with pytest.raises(AttributeError):
        ins.logits = None
    model.layers[0].params["W"][...] += 1.0
    model.inspect(_sample(3))
    np.testing.assert_array_equal(ins.weights[0]["W"], w)
    np.testing.assert_array_equal(ins.outputs[0], out)
    assert not np.shares_memory(ins.weights[0]["W"], model.layers[0].params["W"])


@pytest.mark.parametrize("pool, stride, padding", [(2, 2, "valid"), (2, 2, "same"), (3, 2, "valid"), (3, 1, "same")])
def test_winner_mask_marks_the_brute_force_winners_of_every_window(pool, stride, padding):
    model = Sequential([Conv2D(2, 3, activation="relu"), MaxPooling2D(pool, strides=stride, padding=padding),
                        Flatten(), Dense(3)]).build((1, 9, 9), seed=1)
    ins = model.inspect(np.random.default_rng(4).integers(0, 256, (1, 9, 9), dtype=np.uint8))
    x_in = ins.activations[1].astype(np.float64)
    c, h, w = x_in.shape
    top, _bottom, left, _right = model.layers[1].padding_pixels
    expected = np.zeros_like(x_in, dtype=bool)
    for ch in range(c):
        for i in range(ins.outputs[1].shape[1]):
            for j in range(ins.outputs[1].shape[2]):
                best, where = -np.inf, None
                for u in range(pool):
                    for v in range(pool):
                        r, q = i * stride + u - top, j * stride + v - left
                        if 0 <= r < h and 0 <= q < w and x_in[ch, r, q] > best:
                            best, where = x_in[ch, r, q], (r, q)
                if where is not None:
                    expected[ch, where[0], where[1]] = True
                    assert ins.outputs[1][ch, i, j] == pytest.approx(best, rel=1e-6)
    np.testing.assert_array_equal(ins.winner_mask(1), expected)
    with pytest.raises(ValueError, match="not a max pooling"):
        ins.winner_mask(0)


def test_winner_mask_of_hand_made_switches():
    # a 4x4 plane pooled 2x2: winners at (0,1), (1,3), (2,2), (3,0); an all-padding window (-1) marks nothing
    switches = np.array([[[1, 7], [12, 10]]], np.int32)
    mask = pool_winner_mask(switches, (1, 4, 4))
    assert mask[0].astype(int).tolist() == [[0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0], [1, 0, 0, 0]]
    assert not pool_winner_mask(np.full((1, 1, 1), -1, np.int32), (1, 2, 2)).any()
