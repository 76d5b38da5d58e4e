"""Which pixels mattered, and what a filter responds to.

* :func:`saliency`: ``|d logit_k / d x|`` for one image, per channel and as the maximum over channels.
* :func:`smoothgrad`: the same averaged over ``n`` noisy copies of the image (seeded), which removes
  the speckle of a single gradient.
* :func:`occlusion`: slide a grey patch over the image and record how much the class probability
  drops; large drops mark the evidence the model relies on. Batched forward passes, a progress
  callback and a stop check (meant for a background thread).
* :func:`top_patches`: over a set of images, the input patches that excite one filter most, with each
  patch's receptive field traced back through every layer before it (:func:`receptive_field`).
* :func:`activation_before_after`: a feature map before and after its activation, for a fused
  ``Conv2D(..., activation="relu")`` or a separate ``ReLU`` layer alike.

Long computations take ``on_progress(done, total)`` and ``should_stop()`` like the Trainer; a stopped
computation returns what it has with ``complete=False``. These functions run forward passes on the
model they are given, overwriting its layers' caches: the GUI hands them a copy
(``model.clone()``) when training runs. Pure numpy, no Qt.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from engine.backward import window_geometry
from engine.errors import ShapeError
from engine.layers import Conv2D, Dense, LeakyReLU, ReLU, Sigmoid, Tanh
from engine.losses import softmax
from engine.pixels import to_float32
from engine.shapes import receptive_window

__all__ = [
    "Occlusion",
    "Patch",
    "Saliency",
    "TopPatches",
    "activation_before_after",
    "input_gradients",
    "occlusion",
    "patch_positions",
    "receptive_field",
    "saliency",
    "smoothgrad",
    "top_patches",
]

Progress = Callable[[int, int], None] | None
StopCheck = Callable[[], bool] | None


def _as_float_images(model, x) -> np.ndarray:
    """uint8 pixels -> float32 in [0, 1] (the engine's scaling); a single image gets a batch axis."""
    x = np.asarray(x)
    if model.input_shape is not None and x.shape == tuple(model.input_shape):
        x = x[None]
    if x.dtype == np.uint8:
        return to_float32(x)
    return np.ascontiguousarray(x, np.float32)


def _probabilities(model, xb: np.ndarray) -> np.ndarray:
    return softmax(np.asarray(model.logits(xb), np.float64))


# ---------------------------------------------------------------------------------------------
# gradients with respect to the pixels
# ---------------------------------------------------------------------------------------------
def input_gradients(model, xb, classes) -> np.ndarray:
    """``d logit[n, classes[n]] / d xb[n]`` for a batch, ``(N, C, H, W)`` float32.

    One forward and one backward for the whole batch (each image's logit depends on that image
    only). The layers' parameter gradients are restored afterwards.
    """
    xb = _as_float_images(model, xb)
    classes = np.broadcast_to(np.asarray(classes, np.int64), (len(xb),))
    saved = model.flat_grads.copy()
    first = model.layers[0]
    first_needed = first.need_input_grad
    first.need_input_grad = True
    try:
        logits = model.logits(xb)
        d = np.zeros_like(logits)
        d[np.arange(len(xb)), classes] = 1
        dx = model.backward_from_logits(d)
    finally:
        first.need_input_grad = first_needed
        model.flat_grads[...] = saved
    return np.array(dx, np.float32)


@dataclass(frozen=True)
class Saliency:
    """A saliency map of one image for one class.

    Attributes
    ----------
    class_index : the class whose logit was differentiated
    gradient : ``(C, H, W)`` signed ``d logit / d x`` (SmoothGrad: the mean over the noisy copies)
    per_channel : ``(C, H, W)`` ``|gradient|`` (SmoothGrad: the mean of the absolute gradients)
    map : ``(H, W)`` maximum of ``per_channel`` over the channels (what a heat map shows)
    samples : number of gradients averaged (1 for plain saliency)
    complete : False when a SmoothGrad was stopped early (then ``samples`` < requested)
    """

    class_index: int
    gradient: np.ndarray
    per_channel: np.ndarray
    map: np.ndarray
    samples: int = 1
    complete: bool = True


def _default_class(model, x1) -> int:
    return int(np.argmax(model.logits(x1)[0]))


def saliency(model, x, class_index: int | None = None) -> Saliency:
    """``|d logit_k / d x|`` of one ``(C, H, W)`` image; ``k`` defaults to the predicted class."""
    x1 = _as_float_images(model, x)
    if x1.shape[0] != 1:
        raise ShapeError("method_one_image", method="saliency", count=int(x1.shape[0]))
    k = _default_class(model, x1) if class_index is None else int(class_index)
    g = input_gradients(model, x1, [k])[0]
    per_channel = np.abs(g)
    return Saliency(k, g, per_channel, per_channel.max(axis=0))


def smoothgrad(model, x, class_index: int | None = None, n: int = 25, sigma: float = 0.15, seed: int = 0,
               batch_size: int = 32, on_progress: Progress = None, should_stop: StopCheck = None) -> Saliency:
    """SmoothGrad (Smilkov et al. 2017): the saliency averaged over ``n`` noisy copies of the image.

    The noise is Gaussian with standard deviation ``sigma * (x.max() - x.min())`` (``sigma`` is a
    fraction of the input's range; 0.1-0.2 is the paper's advice), drawn from ``seed``.
    ``per_channel`` averages the absolute gradients, ``gradient`` the signed ones.
    """
    x1 = _as_float_images(model, x)
    if x1.shape[0] != 1:
        raise ShapeError("method_one_image", method="smoothgrad", count=int(x1.shape[0]))
    n = int(n)
    if n < 1:
        raise ShapeError("smoothgrad_copies", n=n)
    k = _default_class(model, x1) if class_index is None else int(class_index)
    span = float(x1.max() - x1.min()) or 1.0
    rng = np.random.default_rng(seed)
    total = np.zeros(x1.shape[1:], np.float64)
    total_abs = np.zeros(x1.shape[1:], np.float64)
    done = 0
    while done < n:
        if should_stop is not None and should_stop():
            break
        b = min(batch_size, n - done)
        noise = rng.standard_normal((b,) + x1.shape[1:]).astype(np.float32) * np.float32(sigma * span)
        g = input_gradients(model, x1 + noise, [k] * b).astype(np.float64)
        total += g.sum(axis=0)
        total_abs += np.abs(g).sum(axis=0)
        done += b
        if on_progress is not None:
            on_progress(done, n)
    count = max(done, 1)
    per_channel = (total_abs / count).astype(np.float32)
    return Saliency(k, (total / count).astype(np.float32), per_channel, per_channel.max(axis=0), done, done == n)


# ---------------------------------------------------------------------------------------------
# occlusion
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Occlusion:
    """Occlusion sensitivity of one image for one class.

    Attributes
    ----------
    class_index, base_probability : the class and its probability on the untouched image
    patch, stride, fill : the grey square's size, its step and its value
    rows, cols : top-left corners of the patch positions (the last one touches the border)
    drops : ``(len(rows), len(cols))`` ``base_probability - probability with the patch there``
        (NaN where not computed because of a stop)
    pixel_map : ``(H, W)`` mean drop of the patches covering each pixel (NaN where none was computed)
    done, total : patch positions computed / planned; ``complete`` when all were
    """

    class_index: int
    base_probability: float
    patch: int
    stride: int
    fill: float
    rows: np.ndarray
    cols: np.ndarray
    drops: np.ndarray
    pixel_map: np.ndarray
    done: int
    total: int

    @property
    def complete(self) -> bool:
        return self.done == self.total


def patch_positions(size: int, patch: int, stride: int) -> np.ndarray:
    """Top-left corners ``0, s, 2s, ...`` of a patch along one axis, plus the border position when the
    stride does not land on it (so every pixel is covered)."""
    if patch < 1 or stride < 1:
        raise ShapeError("patch_stride_too_small", patch=patch, stride=stride)
    if patch > size:
        raise ShapeError("patch_too_large", patch=patch, size=size)
    pos = list(range(0, size - patch + 1, stride))
    if pos[-1] != size - patch:
        pos.append(size - patch)
    return np.array(pos, np.int64)


def occlusion(model, x, class_index: int | None = None, patch: int = 4, stride: int = 2, fill: float = 0.5,
              batch_size: int = 64, on_progress: Progress = None, should_stop: StopCheck = None) -> Occlusion:
    """Slide a ``patch x patch`` square of value ``fill`` (grey) over every channel of the image.

    Parameters
    ----------
    model : a built classifier (a copy while training runs)
    x : ``(C, H, W)`` image, uint8 or float32 in [0, 1]
    class_index : the class whose probability is watched (default: the predicted one)
    patch, stride : square size and step in pixels
    fill : the value written under the patch (0.5: mid grey for inputs in [0, 1])
    batch_size : occluded copies per forward pass
    on_progress : ``on_progress(done, total)`` after every batch
    should_stop : checked before every batch; True ends early (``complete`` False)
    """
    x1 = _as_float_images(model, x)
    if x1.shape[0] != 1:
        raise ShapeError("method_one_image", method="occlusion", count=int(x1.shape[0]))
    h, w = x1.shape[2:]
    rows, cols = patch_positions(h, patch, stride), patch_positions(w, patch, stride)
    base = _probabilities(model, x1)[0]
    k = int(np.argmax(base)) if class_index is None else int(class_index)
    total = len(rows) * len(cols)
    drops = np.full(total, np.nan)
    done = 0
    batch_size = max(1, int(batch_size))
    while done < total:
        if should_stop is not None and should_stop():
            break
        idx = np.arange(done, min(done + batch_size, total))
        batch = np.repeat(x1, len(idx), axis=0)
        for b, p in enumerate(idx):
            r, q = rows[p // len(cols)], cols[p % len(cols)]
            batch[b, :, r:r + patch, q:q + patch] = fill
        drops[idx] = base[k] - _probabilities(model, batch)[:, k]
        done = int(idx[-1]) + 1
        if on_progress is not None:
            on_progress(done, total)
    drops = drops.reshape(len(rows), len(cols))
    acc = np.zeros((h, w))
    count = np.zeros((h, w))
    for a, r in enumerate(rows):
        for b, q in enumerate(cols):
            if np.isfinite(drops[a, b]):
                acc[r:r + patch, q:q + patch] += drops[a, b]
                count[r:r + patch, q:q + patch] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        pixel_map = np.where(count > 0, acc / np.maximum(count, 1), np.nan)
    return Occlusion(k, float(base[k]), int(patch), int(stride), float(fill), rows, cols, drops, pixel_map,
                     done, total)


# ---------------------------------------------------------------------------------------------
# receptive fields and top patches
# ---------------------------------------------------------------------------------------------
def receptive_field(model, layer_index: int, i: int, j: int) -> tuple[int, int, int, int]:
    """Input pixels ``(r0, c0, r1, c1)`` (end exclusive) that output cell ``(i, j)`` of layer
    ``layer_index`` depends on, traced back through every conv and pooling window before it.

    Each conv/pool layer maps a span of output cells ``a..b`` to the input span from the first row of
    cell ``a``'s window to the last row of cell ``b``'s (:func:`engine.shapes.receptive_window`);
    activations and dropout keep the span. Coordinates are in the unpadded input, so a box may reach
    outside the image (padding); clip it to draw it.
    """
    r0, r1, c0, c1 = int(i), int(i) + 1, int(j), int(j) + 1
    for layer in reversed(model.layers[:layer_index + 1]):
        geom = window_geometry(layer)
        if geom is None:
            if len(layer.in_shape) != 3:
                raise ShapeError("flat_layer_no_field", name=layer.name)
            continue
        k, s, (top, _bottom, left, _right) = geom
        r0, c0 = receptive_window(r0, c0, k, s, top, left)[:2]
        r1, c1 = receptive_window(r1 - 1, c1 - 1, k, s, top, left)[2:]
    return r0, c0, r1, c1


@dataclass(frozen=True)
class Patch:
    """One of a filter's strongest responses.

    ``image_index`` into the images given; ``position`` ``(i, j)`` in the layer's output; ``value`` the
    activation there; ``box`` the receptive field ``(r0, c0, r1, c1)`` (may reach into padding) and
    ``clipped_box`` the part inside the image.
    """

    image_index: int
    position: tuple[int, int]
    value: float
    box: tuple[int, int, int, int]
    clipped_box: tuple[int, int, int, int]


@dataclass(frozen=True)
class TopPatches:
    """The ``k`` strongest activations of one filter (strongest first); ``done`` / ``total`` images."""

    layer_index: int
    filter_index: int
    patches: tuple[Patch, ...]
    done: int
    total: int

    @property
    def complete(self) -> bool:
        return self.done == self.total


def top_patches(model, layer_index: int, filter_index: int, images, k: int = 9, batch_size: int = 64,
                on_progress: Progress = None, should_stop: StopCheck = None) -> TopPatches:
    """The ``k`` image patches that excite filter ``filter_index`` of a Conv2D layer most.

    Every output position of every image competes (one image may give several patches). Ties keep the
    earlier image and position. The layer's activation is its output (after a fused activation).

    Parameters
    ----------
    model : a built model (a copy while training runs)
    layer_index : a ``Conv2D`` layer; filter_index : one of its filters
    images : ``(N, C, H, W)`` uint8 or float32 (e.g. a validation subset)
    k : how many patches (9 makes a 3x3 grid)
    batch_size, on_progress(done_images, total_images), should_stop : as in :func:`occlusion`
    """
    layer = model.layers[layer_index]
    if not isinstance(layer, Conv2D):
        raise ShapeError("top_patches_need_conv", index=layer_index, name=layer.name,
                         layer_class=type(layer).__name__)
    if not 0 <= filter_index < layer.params["W"].shape[0]:
        raise ShapeError("filter_index_out_of_range", name=layer.name, last=layer.params["W"].shape[0] - 1,
                         index=filter_index)
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[1:] != tuple(model.input_shape):
        raise ShapeError("top_patches_batch_shape", dims=", ".join(map(str, model.input_shape)),
                         shape=tuple(images.shape))
    total = len(images)
    _, out_h, out_w = layer.out_shape
    h, w = model.input_shape[1:]
    best_v = np.empty(0)
    best_key = np.empty(0, np.int64)  # image_index * out_h * out_w + i * out_w + j
    done = 0
    while done < total:
        if should_stop is not None and should_stop():
            break
        xb = _as_float_images(model, images[done:done + batch_size])
        for lay in model.layers[:layer_index + 1]:
            xb = lay.forward(xb, False)
        maps = np.asarray(xb[:, filter_index], np.float64).reshape(len(xb), -1)
        keys = (done + np.arange(len(xb)))[:, None] * (out_h * out_w) + np.arange(out_h * out_w)[None, :]
        v = np.concatenate([best_v, maps.ravel()])
        key = np.concatenate([best_key, keys.ravel()])
        order = np.lexsort((key, -v))[:k]
        best_v, best_key = v[order], key[order]
        done += len(xb)
        if on_progress is not None:
            on_progress(done, total)
    patches = []
    for value, key in zip(best_v, best_key, strict=True):
        n, pos = divmod(int(key), out_h * out_w)
        i, j = divmod(pos, out_w)
        box = receptive_field(model, layer_index, i, j)
        clipped = (max(box[0], 0), max(box[1], 0), min(box[2], h), min(box[3], w))
        patches.append(Patch(n, (i, j), float(value), box, clipped))
    return TopPatches(int(layer_index), int(filter_index), tuple(patches), done, total)


# ---------------------------------------------------------------------------------------------
# feature maps before and after the activation
# ---------------------------------------------------------------------------------------------
_ACTIVATION_LAYERS = (ReLU, LeakyReLU, Sigmoid, Tanh)


def activation_before_after(layers, index: int, source=None) -> tuple[np.ndarray, np.ndarray] | None:
    """``(before, after)`` the activation of layer ``index`` for one sample, or None if it has none.

    Works for both ways of writing it: a fused ``Conv2D(..., activation="relu")`` (before = its
    pre-activation, after = its output) and a separate activation layer such as ``ReLU()`` (before = its
    input, i.e. the previous layer's output).

    Parameters
    ----------
    layers : ``model.layers`` (tells which form each layer has)
    index : the layer
    source : an object with ``activations`` (``[input, layer0_out, ...]``, one sample each) and
        ``pre_activations`` (per layer, None where absent), e.g. a ``TrainingSnapshot``; None reads the
        layers' own caches after an inference forward (first sample of the batch)
    """
    layer = layers[index]
    fused = isinstance(layer, (Conv2D, Dense)) and layer.activation is not None
    if not fused and not isinstance(layer, _ACTIVATION_LAYERS):
        return None
    if source is None:
        if layer.output is None:
            raise ShapeError("layer_not_run", name=layer.name)
        after = layer.output[0]
        before = layer.pre_activation[0] if fused and layer.pre_activation is not None else (
            None if fused else layer.input[0])
    else:
        after = source.activations[index + 1]
        before = source.pre_activations[index] if fused else source.activations[index]
    if before is None:
        raise ShapeError("no_pre_activation", name=layer.name)
    return np.asarray(before), np.asarray(after)
