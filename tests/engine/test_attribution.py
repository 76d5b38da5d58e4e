"""Which pixels mattered and what a filter responds to: checked against slow, obvious references."""

from __future__ import annotations

import numpy as np
import pytest

from engine.attribution import (
    activation_before_after,
    input_gradients,
    occlusion,
    patch_positions,
    receptive_field,
    saliency,
    smoothgrad,
    top_patches,
)
from engine.errors import ShapeError
from engine.layers import (
    AveragePooling2D,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    MaxPooling2D,
    ReLU,
)
from engine.network import Sequential
from engine.optimizers import SGD
from engine.training import Trainer


def _smooth_model(c=2, shape=(6, 7), seed=0):
    # tanh and average pooling: no kinks, so finite differences converge to the gradient
    model = Sequential([Conv2D(3, 3, padding="same", activation="tanh"), AveragePooling2D(2), Flatten(),
                        Dense(8, activation="tanh"), Dense(4)])
    return model.build((c, *shape), seed=seed)


def _relu_model(c=1, shape=(12, 12), seed=0):
    model = Sequential([Conv2D(4, 3, activation="relu"), MaxPooling2D(2), Conv2D(5, 3, padding="same",
                                                                                  activation="relu"),
                        Flatten(), Dense(3)])
    return model.build((c, *shape), seed=seed)


def _image(c, shape, seed=0):
    return np.random.default_rng(seed).random((c, *shape)).astype(np.float32)


# ---------------------------------------------------------------------------------------------
# saliency
# ---------------------------------------------------------------------------------------------
def test_saliency_equals_central_finite_differences_of_the_logit():
    model, x = _smooth_model(), _image(2, (6, 7))
    k = 2
    s = saliency(model, x, k)
    eps = 1e-2
    numeric = np.zeros(x.shape)
    for idx in np.ndindex(*x.shape):
        up, down = x.copy(), x.copy()
        up[idx] += eps
        down[idx] -= eps
        numeric[idx] = (float(model.logits(up[None])[0, k]) - float(model.logits(down[None])[0, k])) / (2 * eps)
    np.testing.assert_allclose(s.gradient, numeric, rtol=2e-2, atol=2e-3)
    np.testing.assert_allclose(s.per_channel, np.abs(s.gradient))
    np.testing.assert_allclose(s.map, np.abs(s.gradient).max(axis=0))
    assert s.class_index == k and s.samples == 1 and s.complete


def test_saliency_defaults_to_the_predicted_class_and_keeps_training_gradients():
    model, x = _relu_model(), _image(1, (12, 12))
    model.flat_grads[...] = 3.0
    s = saliency(model, x)
    assert s.class_index == int(np.argmax(model.logits(x[None])[0]))
    np.testing.assert_allclose(s.gradient, model.input_gradient(x, s.class_index), rtol=1e-6, atol=1e-9)
    assert np.all(model.flat_grads == 3.0) and model.layers[0].need_input_grad is False


def test_batched_input_gradients_equal_one_image_at_a_time():
    model = _relu_model()
    xb = np.stack([_image(1, (12, 12), seed=s) for s in range(5)])
    classes = [0, 1, 2, 1, 0]
    batched = input_gradients(model, xb, classes)
    for n in range(5):
        np.testing.assert_allclose(batched[n], model.input_gradient(xb[n], classes[n]), rtol=1e-5, atol=1e-8)


def test_smoothgrad_averages_the_gradients_of_seeded_noisy_copies():
    model, x = _relu_model(), _image(1, (12, 12))
    sg = smoothgrad(model, x, 1, n=6, sigma=0.2, seed=7, batch_size=4)
    rng = np.random.default_rng(7)
    span = float(x.max() - x.min())
    grads = []
    for b in (4, 2):  # the same draws in the same batches
        noise = rng.standard_normal((b, *x.shape)).astype(np.float32) * np.float32(0.2 * span)
        grads.append(input_gradients(model, x[None] + noise, [1] * b))
    grads = np.concatenate(grads).astype(np.float64)
    np.testing.assert_allclose(sg.gradient, grads.mean(axis=0), rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(sg.per_channel, np.abs(grads).mean(axis=0), rtol=1e-5, atol=1e-8)
    assert sg.samples == 6 and sg.complete
    again = smoothgrad(model, x, 1, n=6, sigma=0.2, seed=7, batch_size=4)
    np.testing.assert_array_equal(again.map, sg.map)
    other = smoothgrad(model, x, 1, n=6, sigma=0.2, seed=8, batch_size=4)
    assert not np.array_equal(other.map, sg.map)


def test_smoothgrad_without_noise_is_the_plain_saliency():
    model, x = _relu_model(), _image(1, (12, 12))
    np.testing.assert_allclose(smoothgrad(model, x, 2, n=3, sigma=0.0).map, saliency(model, x, 2).map,
                               rtol=1e-6, atol=1e-9)


def test_smoothgrad_reports_progress_and_stops_when_asked():
    model, x = _relu_model(), _image(1, (12, 12))
    progress = []
    sg = smoothgrad(model, x, 0, n=20, batch_size=5, on_progress=lambda d, t: progress.append((d, t)),
                    should_stop=lambda: len(progress) >= 2)
    assert progress == [(5, 20), (10, 20)]
    assert sg.samples == 10 and not sg.complete


# ---------------------------------------------------------------------------------------------
# occlusion
# ---------------------------------------------------------------------------------------------
def _slow_occlusion(model, x, k, patch, stride, fill):
    from engine.losses import softmax

    h, w = x.shape[1:]
    base = softmax(np.asarray(model.logits(x[None]), np.float64))[0, k]
    rows, cols = patch_positions(h, patch, stride), patch_positions(w, patch, stride)
    out = np.zeros((len(rows), len(cols)))
    for a, r in enumerate(rows):
        for b, q in enumerate(cols):
            y = x.copy()
            y[:, r:r + patch, q:q + patch] = fill
            out[a, b] = base - softmax(np.asarray(model.logits(y[None]), np.float64))[0, k]
    return out


@pytest.mark.parametrize("patch,stride,batch", [(4, 2, 64), (3, 3, 7), (5, 2, 1)])
def test_occlusion_equals_one_patch_at_a_time(patch, stride, batch):
    model, x = _relu_model(c=2, shape=(12, 11)), _image(2, (12, 11))
    occ = occlusion(model, x, 1, patch=patch, stride=stride, batch_size=batch)
    np.testing.assert_allclose(occ.drops, _slow_occlusion(model, x, 1, patch, stride, 0.5), rtol=1e-5, atol=1e-7)
    assert occ.complete and occ.done == occ.total == occ.drops.size
    assert occ.rows[-1] == 12 - patch and occ.cols[-1] == 11 - patch  # the border is covered
    assert not np.isnan(occ.pixel_map).any()


def test_occlusion_pixel_map_averages_the_patches_covering_each_pixel():
    model, x = _relu_model(), _image(1, (12, 12))
    occ = occlusion(model, x, 0, patch=4, stride=4)  # no overlap: each pixel under exactly one patch
    np.testing.assert_allclose(occ.pixel_map, np.kron(occ.drops, np.ones((4, 4))))


def test_occlusion_finds_the_pixels_a_model_looks_at():
    # a Dense model that reads only the top-left 3x3 corner: only patches touching it matter
    model = Sequential([Flatten(), Dense(2)]).build((1, 8, 8), seed=0)
    W = model.layers[1].params["W"]
    W[...] = 0
    for r in range(3):
        W[r * 8:r * 8 + 3, 0] = 0.3
    occ = occlusion(model, np.ones((1, 8, 8), np.float32), 0, patch=2, stride=2)
    assert np.all(occ.drops[:2, :2] > 0.005) and occ.drops[0, 0] == occ.drops.max()
    assert np.all(np.abs(occ.drops[2:, :]) < 1e-6) and np.all(np.abs(occ.drops[:, 2:]) < 1e-6)


def test_occlusion_stops_early_and_reports_progress():
    model, x = _relu_model(), _image(1, (12, 12))
    progress = []
    occ = occlusion(model, x, 0, patch=2, stride=1, batch_size=10,
                    on_progress=lambda d, t: progress.append((d, t)), should_stop=lambda: len(progress) >= 3)
    assert progress == [(10, 121), (20, 121), (30, 121)]
    assert occ.done == 30 and not occ.complete
    assert np.isfinite(occ.drops).sum() == 30 and np.isnan(occ.drops).sum() == 91
    assert np.isnan(occ.pixel_map).any() and np.isfinite(occ.pixel_map).any()


def test_a_patch_larger_than_the_image_is_explained():
    with pytest.raises(ShapeError, match="does not fit"):
        occlusion(_relu_model(), _image(1, (12, 12)), patch=13)


# ---------------------------------------------------------------------------------------------
# receptive fields and top patches
# ---------------------------------------------------------------------------------------------
def _influence(model, layer_index, f, i, j, x):
    """Input pixels on which output (f, i, j) of a layer depends: a backward pass from a one-hot."""
    xb = x[None]
    for layer in model.layers:
        layer.need_input_grad = True
    out = xb
    for layer in model.layers[:layer_index + 1]:
        out = layer.forward(out, False)
    d = np.zeros_like(out)
    d[0, f, i, j] = 1
    for layer in reversed(model.layers[:layer_index + 1]):
        d = layer.backward(d)
    return np.abs(d[0]).sum(axis=0) > 0


def test_receptive_field_is_where_the_input_can_change_the_output_cell():
    model = Sequential([Conv2D(2, 3, padding="same"), AveragePooling2D(2), Conv2D(2, 5, strides=2, padding=1),
                        AveragePooling2D(3, strides=1, padding="same"), Conv2D(1, 3)])
    model.build((1, 23, 21), seed=0)
    for layer in model.layers:  # positive weights: nothing cancels, every pixel in the field counts
        if layer.params:
            layer.params["W"][...] = np.abs(layer.params["W"]) + 0.1
    x = np.ones((1, 23, 21), np.float32)
    _, out_h, out_w = model.layers[4].out_shape
    for i, j in [(0, 0), (out_h - 1, out_w - 1), (out_h // 2, 1)]:
        r0, c0, r1, c1 = receptive_field(model, 4, i, j)
        expected = np.zeros((23, 21), bool)
        expected[max(r0, 0):r1, max(c0, 0):c1] = True
        np.testing.assert_array_equal(_influence(model, 4, 0, i, j, x), expected)
    assert receptive_field(model, 0, 0, 0) == (-1, -1, 2, 2)  # 'same' reaches into the padding


def test_receptive_field_of_a_textbook_stack():
    # conv3 -> pool2 -> conv3: 3 + 1 = 4 after the pool, x2, + 2 = 8 pixels wide
    model = Sequential([Conv2D(1, 3), MaxPooling2D(2), Conv2D(1, 3), ReLU(), Dropout(0.3)]).build((1, 16, 16))
    assert receptive_field(model, 2, 0, 0) == (0, 0, 8, 8)
    assert receptive_field(model, 4, 1, 2) == (2, 4, 10, 12)


def _brute_force_top(model, layer_index, f, images, k):
    acts = np.asarray(model.forward(images, return_all=True)[layer_index + 1][:, f], np.float64)
    found = [(-acts[n, i, j], n, i, j) for n, i, j in np.ndindex(*acts.shape)]
    return [(n, (i, j), -v) for v, n, i, j in sorted(found)[:k]]


@pytest.mark.parametrize("layer_index,f,batch", [(0, 1, 5), (2, 3, 64), (2, 0, 1)])
def test_top_patches_equal_a_brute_force_search_over_all_positions(layer_index, f, batch):
    model = _relu_model()
    images = (np.random.default_rng(3).random((13, 1, 12, 12)) * 255).astype(np.uint8)
    result = top_patches(model, layer_index, f, images, k=9, batch_size=batch)
    expected = _brute_force_top(model, layer_index, f, images, 9)
    assert [(p.image_index, p.position) for p in result.patches] == [(n, pos) for n, pos, _ in expected]
    np.testing.assert_allclose([p.value for p in result.patches], [v for _, _, v in expected], rtol=1e-6)
    assert result.complete and result.done == 13
    for p in result.patches:
        assert p.box == receptive_field(model, layer_index, *p.position)
        r0, c0, r1, c1 = p.clipped_box
        assert 0 <= r0 < r1 <= 12 and 0 <= c0 < c1 <= 12


def test_top_patches_stop_early_with_what_they_have():
    model = _relu_model()
    images = np.random.default_rng(0).random((40, 1, 12, 12)).astype(np.float32)
    progress = []
    result = top_patches(model, 2, 0, images, k=4, batch_size=8,
                         on_progress=lambda d, t: progress.append((d, t)), should_stop=lambda: len(progress) >= 2)
    assert progress == [(8, 40), (16, 40)] and result.done == 16 and not result.complete
    assert all(p.image_index < 16 for p in result.patches)
    expected = _brute_force_top(model, 2, 0, images[:16], 4)
    assert [(p.image_index, p.position) for p in result.patches] == [(n, pos) for n, pos, _ in expected]


def test_top_patches_need_a_convolution_layer_and_a_batch_of_images():
    with pytest.raises(ShapeError, match="Conv2D"):
        top_patches(_relu_model(), 1, 0, np.zeros((2, 1, 12, 12), np.float32))
    with pytest.raises(ShapeError, match=r"\(N, 1, 12, 12\)"):
        top_patches(_relu_model(), 0, 0, np.zeros((1, 12, 12), np.float32))


# ---------------------------------------------------------------------------------------------
# feature maps before and after the activation
# ---------------------------------------------------------------------------------------------
def _before_after_model():
    model = Sequential([Conv2D(3, 3, activation="relu"), Conv2D(2, 3), ReLU(), MaxPooling2D(2), Flatten(), Dense(3)])
    model.build((1, 10, 10), seed=1)
    for index in (0, 1):  # negative biases: some pre-activations are below zero, so ReLU changes something
        model.layers[index].params["b"][...] = -0.2
    return model


def test_snapshots_keep_the_map_before_relu_for_fused_and_separate_relu():
    model = _before_after_model()
    rng = np.random.default_rng(0)
    x = (rng.random((24, 1, 10, 10)) * 255).astype(np.uint8)
    y = rng.integers(0, 3, 24)
    trainer = Trainer(model, SGD(0.01), x, y, batch_size=8, epochs=1)
    trainer.step()  # a training forward applies fused activations in place; the snapshot must not
    snap = trainer.snapshot(x[0])
    for index in (0, 2):  # fused Conv2D(relu) and a separate ReLU layer
        before, after = activation_before_after(model.layers, index, snap)
        assert before.shape == after.shape and (before < 0).any()
        np.testing.assert_allclose(after, np.maximum(before, 0))
    np.testing.assert_array_equal(activation_before_after(model.layers, 2, snap)[0], snap.activations[2])
    np.testing.assert_array_equal(activation_before_after(model.layers, 0, snap)[0], snap.pre_activations[0])
    assert activation_before_after(model.layers, 1, snap) is None  # Conv2D without activation
    assert activation_before_after(model.layers, 3, snap) is None  # pooling


def test_before_after_from_the_layers_own_caches_after_an_inference_forward():
    model = _before_after_model()
    x = _image(1, (10, 10))
    model.forward(x[None])
    before, after = activation_before_after(model.layers, 0)
    np.testing.assert_allclose(after, np.maximum(before, 0))
    model.forward(x[None], training=True)  # in place: the "before" is gone, and the message says why
    with pytest.raises(ShapeError, match="inference mode"):
        activation_before_after(model.layers, 0)
    before, after = activation_before_after(model.layers, 2)  # a separate ReLU keeps its input
    np.testing.assert_allclose(after, np.maximum(before, 0))
