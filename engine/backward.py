"""The backward pass of one convolution layer, one step at a time, with the engine's own numbers.

The forward theater (:mod:`engine.theater`) shows how a filter slides over the input to make a
feature map. This module shows the way back, for one image and its label:

1. :func:`upstream_gradient` runs the model forward and backward on a batch of one and returns, for a
   chosen ``Conv2D``, ``dL/dY`` (the gradient arriving at the layer's output), the ReLU gate (where the
   pre-activation ``Z`` was positive) and ``dL/dZ`` (the gradient that passes the gate).
2. :class:`WeightGradientWalk`: ``dL/dW[f]`` is a sliding sum. At every output position ``(i, j)`` the
   input window under the filter (``C x KH x KW``, padding as virtual zero pixels, stride honoured) is
   multiplied by the one number ``dL/dZ[f, i, j]`` and added to a running sum. ``dL/db[f]`` is the sum
   of ``dL/dZ[f]``.
3. :class:`InputGradientWalk`: ``dL/dX`` is the *full* convolution of ``dL/dZ`` with the flipped kernel:
   dilate ``dL/dZ`` by the stride (``s - 1`` zeros between values), pad it by ``K - 1`` zeros, slide the
   kernel rotated by 180 degrees over it (cross-correlation) and crop the forward padding away.
4. :class:`PoolGradientWalk`: max pooling sends each gradient to the pixel that won the forward pass
   (the layer's ``argmax`` switches); average pooling spreads it evenly over the window.

Every walk offers ``step(index)`` (what the GUI shows while scrubbing), iteration over the steps and
the final array, which equals the engine's backward (tested). Kernels, strides and pool windows may be
rectangular (``(KH, KW)``, ``(sh, sw)``: the 1-D example's ``1 x 3``), every axis with its own numbers;
``kernel_hw`` / ``stride_hw`` are always pairs, ``size`` / ``stride`` the plain int of a square one
(the pair otherwise). Geometry comes from
:mod:`engine.shapes`; pure numpy in float64, no Qt. :func:`upstream_gradient` runs the model (its
layers' caches change): while training runs, the GUI passes a copy (``model.clone()``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from engine.errors import ShapeError
from engine.layers import (
    AveragePooling2D,
    Conv2D,
    Dense,
    LeakyReLU,
    MaxPooling2D,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
    _act_backward,
)
from engine.losses import softmax_cross_entropy
from engine.shapes import pair, receptive_window

__all__ = [
    "InputGradientStep",
    "InputGradientWalk",
    "PoolGradientStep",
    "PoolGradientWalk",
    "UpstreamGradient",
    "WeightGradientStep",
    "WeightGradientWalk",
    "dilate",
    "upstream_gradient",
    "window_geometry",
]


# ---------------------------------------------------------------------------------------------
# dL/dY and dL/dZ of one layer for one image
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class UpstreamGradient:
    """The gradients around one layer for one image (float64 copies, no batch axis).

    Attributes
    ----------
    layer_index : the layer in ``model.layers``
    label : the class used in the loss; ``loss`` its cross-entropy
    x : ``(C, H, W)`` the layer's input
    pre_activation : ``Z`` before the fused activation (``Y`` itself when the layer has none)
    output : ``Y``, the layer's output
    d_output : ``dL/dY`` arriving from the layers after it
    gate : ``Z > 0`` for a fused ReLU (where the gradient may pass), ``None`` otherwise
    activation_derivative : ``f'(Z)`` element-wise (1 where there is no activation)
    d_pre_activation : ``dL/dZ = dL/dY * f'(Z)`` (for ReLU: ``dL/dY`` where the gate is open, else 0)
    d_weights, d_bias : the layer's ``dL/dW``, ``dL/db`` for this image (``d_bias`` None without bias)
    d_input : ``dL/dX`` passed on to the layer before
    activation : ``"relu"``, ``"sigmoid"``... or None; activation_layer : the index of the layer that
        applies it (``layer_index`` itself when fused, the next one for a separate activation layer)
    """

    layer_index: int
    label: int
    loss: float
    x: np.ndarray
    pre_activation: np.ndarray
    output: np.ndarray
    d_output: np.ndarray
    gate: np.ndarray | None
    activation_derivative: np.ndarray
    d_pre_activation: np.ndarray
    d_weights: np.ndarray | None
    d_bias: np.ndarray | None
    d_input: np.ndarray
    activation: str | None = None
    activation_layer: int | None = None


_ACTIVATION_LAYERS = (ReLU, LeakyReLU, Sigmoid, Tanh)


def _logit_layers(model):
    """Layers that produce the logits, and whether the last one ends with a fused softmax."""
    layers = list(model.layers)
    if len(layers) > 1 and isinstance(layers[-1], Softmax):
        return layers[:-1], False
    last = layers[-1]
    return layers, isinstance(last, (Dense, Conv2D)) and last.activation == "softmax"


def _activation_of(layers, index: int, fused_softmax: bool):
    """``(kind, activation_layer_index)`` of the activation that follows layer ``index``'s linear part:
    its own fused one, or a separate activation layer right after it; ``(None, None)`` if there is none."""
    target = layers[index]
    last = index == len(layers) - 1
    if hasattr(target, "backward_linear"):
        if target.activation is not None and not (last and fused_softmax):
            return target.activation, index
        if not last and isinstance(layers[index + 1], _ACTIVATION_LAYERS):
            return layers[index + 1].kind, index + 1
    return None, None


def upstream_gradient(model, x, label: int, layer_index: int) -> UpstreamGradient:
    """Forward and backward on a batch of one; the gradients around ``model.layers[layer_index]``.

    ``Y`` is the output of the layer's activation and ``Z`` its input, for a fused activation
    (``Conv2D(..., activation="relu")``) and for a separate activation layer right after the layer
    (``Conv2D(...), ReLU()``) alike; ``activation_layer`` says which layer holds it. The forward runs
    in inference mode (dropout off), so the numbers are those of the picture the student sees. The
    model's parameter gradients are restored afterwards (a gradient panel may be showing the last
    training batch's).

    Parameters
    ----------
    model : a built :class:`~engine.network.Sequential` classifier
    x : ``(C, H, W)`` image (uint8 pixels or float32 in [0, 1])
    label : class id used in the loss
    layer_index : index of a layer with weights (``Conv2D`` or ``Dense``) or any other layer
    """
    layers, fused_softmax = _logit_layers(model)
    if not 0 <= int(layer_index) < len(layers):
        raise ShapeError("no_such_layer", index=layer_index, last=len(layers) - 1)
    layer_index = int(layer_index)
    target = layers[layer_index]
    kind, act_index = _activation_of(layers, layer_index, fused_softmax)
    stop = layer_index if act_index is None else act_index
    saved = model.flat_grads.copy()
    first = model.layers[0]
    first_needed = first.need_input_grad
    first.need_input_grad = True
    try:
        logits = model.logits(np.asarray(x)[None] if np.ndim(x) == 3 else x)
        if logits.shape[0] != 1:
            raise ShapeError("method_one_image", method="upstream_gradient", count=int(logits.shape[0]))
        loss, d = softmax_cross_entropy(np.array(logits, np.float32), np.array([int(label)]))
        for index in range(len(layers) - 1, stop, -1):
            layer = layers[index]
            if index == len(layers) - 1 and fused_softmax:
                d = layer.backward_linear(d)
            else:
                d = layer.backward(d)
        d = np.array(d, np.float32)  # a fresh copy: the layers below may overwrite their dy in place
        linear = hasattr(target, "backward_linear")
        if kind is not None:
            a = layers[act_index].output
            z = target.pre_activation if act_index == layer_index else target.output
            deriv = _act_backward(kind, np.ones_like(a), a, getattr(layers[act_index], "alpha", 0.3))
            dz = d * deriv.astype(np.float32)
        else:
            z = a = target.output
            deriv = np.ones(d.shape)
            dz = d.copy()
        d_in = target.backward_linear(dz.copy()) if linear else target.backward(dz.copy())
        d_weights = np.array(target.grads["W"][...], np.float64) if "W" in target.grads else None
        d_bias = np.array(target.grads["b"][...], np.float64) if "b" in target.grads else None
    finally:
        first.need_input_grad = first_needed
        model.flat_grads[...] = saved
    z = np.array(z[0], np.float64)
    return UpstreamGradient(
        layer_index=layer_index, label=int(label), loss=float(loss),
        x=np.array(target.input[0], np.float64), pre_activation=z, output=np.array(a[0], np.float64),
        d_output=np.array(d[0], np.float64), gate=(z > 0) if kind == "relu" else None,
        activation_derivative=np.array(deriv[0], np.float64), d_pre_activation=np.array(dz[0], np.float64),
        d_weights=d_weights, d_bias=d_bias, d_input=np.array(d_in[0], np.float64), activation=kind,
        activation_layer=act_index,
    )


# ---------------------------------------------------------------------------------------------
# dL/dW of one filter: a sliding sum
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WeightGradientStep:
    """One output position of the ``dL/dW`` sliding sum.

    Attributes
    ----------
    index : ``i * out_w + j`` (reading order)
    i, j : output position
    window : ``(r0, c0, r1, c1)`` input rows/cols under the filter (unpadded coordinates, end exclusive)
    patch : ``(C, KH, KW)`` input values under the window (0 on virtual padding pixels)
    virtual : ``(KH, KW)`` True where the window covers padding
    d_z : ``dL/dZ[f, i, j]``, the one number the patch is scaled by
    contribution : ``(C, KH, KW)`` what this position adds to ``dL/dW[f]`` (``patch * d_z``; flipped in
        convolution mode)
    partial_sum : ``(C, KH, KW)`` running sum over positions ``0..index``
    bias_partial_sum : running sum of ``d_z`` (``dL/db[f]`` so far)
    """

    index: int
    i: int
    j: int
    window: tuple[int, int, int, int]
    patch: np.ndarray
    virtual: np.ndarray
    d_z: float
    contribution: np.ndarray
    partial_sum: np.ndarray
    bias_partial_sum: float


def _padded(x: np.ndarray, pads) -> np.ndarray:
    top, bottom, left, right = pads
    c, h, w = x.shape
    xp = np.zeros((c, h + top + bottom, w + left + right))
    xp[:, top:top + h, left:left + w] = x
    return xp


def _hw(value) -> tuple[int, int]:
    h, w = pair(value)
    return int(h), int(w)


def _plain(hw: tuple[int, int]):
    """The int of a square window or stride, the ``(h, w)`` pair otherwise (the engine's convention)."""
    return hw[0] if hw[0] == hw[1] else hw


def _as_chw(x, what: str) -> np.ndarray:
    x = np.asarray(x, np.float64)
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3:
        raise ShapeError("backward_array_shape", what=what, shape=tuple(x.shape))
    return x


class WeightGradientWalk:
    """``dL/dW[f] = sum_{i,j} dL/dZ[f,i,j] * window(i, j)`` position by position.

    In cross-correlation mode (what every framework computes) the window is added as it is. With
    ``mode="convolution"`` the forward pass flipped the stored kernel before sliding it; the gradient of
    the stored (unflipped) weights is then the flipped window: the student sees each patch turned by
    180 degrees before it is added.

    Parameters
    ----------
    x : ``(C, H, W)`` the layer's input for one image
    d_z : ``(H_out, W_out)`` ``dL/dZ`` of filter ``f`` (after the ReLU gate)
    kernel_size, stride : the layer's ``K`` and ``s``, each an int or a ``(height, width)`` pair
    pads : ``(top, bottom, left, right)`` (``Conv2D.padding_pixels``)
    mode : ``"cross_correlation"`` or ``"convolution"``
    """

    def __init__(self, x, d_z, kernel_size, stride=1, pads=(0, 0, 0, 0),
                 mode: str = "cross_correlation"):
        self.x = _as_chw(x, "the layer's input")
        self.d_z = np.asarray(d_z, np.float64)
        self.kernel_hw = (kh, kw) = _hw(kernel_size)
        self.stride_hw = (sh, sw) = _hw(stride)
        self.size, self.stride = _plain(self.kernel_hw), _plain(self.stride_hw)
        self.pads = tuple(int(p) for p in pads)
        self.mode = mode
        c, h, w = self.x.shape
        top, bottom, left, right = self.pads
        out_h = (h + top + bottom - kh) // sh + 1
        out_w = (w + left + right - kw) // sw + 1
        if self.d_z.shape != (out_h, out_w):
            raise ShapeError("dz_shape_mismatch", shape=tuple(self.d_z.shape), kh=kh, kw=kw, stride=self.stride,
                             pads=self.pads, h=h, w=w, out_h=out_h, out_w=out_w)
        self.out_h, self.out_w = out_h, out_w
        self._xp = _padded(self.x, self.pads)
        windows = np.empty((out_h * out_w, c, kh, kw))
        for i in range(out_h):
            for j in range(out_w):
                windows[i * out_w + j] = self._xp[:, i * sh:i * sh + kh, j * sw:j * sw + kw]
        if mode == "convolution":
            windows = windows[:, :, ::-1, ::-1]
        self._contrib = windows * self.d_z.reshape(-1, 1, 1, 1)
        # cumulative sums once, so scrubbing to any position is a lookup
        self._partial = np.cumsum(self._contrib, axis=0)
        self._bias_partial = np.cumsum(self.d_z.reshape(-1))

    @property
    def n_positions(self) -> int:
        return self.out_h * self.out_w

    @property
    def total(self) -> np.ndarray:
        """``dL/dW[f]`` ``(C, KH, KW)``: the sum over every position."""
        return self._partial[-1].copy()

    @property
    def bias_total(self) -> float:
        """``dL/db[f]``: the sum of ``dL/dZ[f]`` over every position."""
        return float(self._bias_partial[-1])

    def step(self, index: int) -> WeightGradientStep:
        if not 0 <= index < self.n_positions:
            raise IndexError(f"position {index} is outside 0..{self.n_positions - 1}")
        i, j = divmod(int(index), self.out_w)
        top, _, left, _ = self.pads
        r0, c0, r1, c1 = receptive_window(i, j, self.kernel_hw, self.stride_hw, top, left)
        h, w = self.x.shape[1:]
        rows = np.arange(r0, r1)[:, None]
        cols = np.arange(c0, c1)[None, :]
        virtual = (rows < 0) | (rows >= h) | (cols < 0) | (cols >= w)
        return WeightGradientStep(
            index=int(index), i=i, j=j, window=(r0, c0, r1, c1),
            patch=self._xp[:, r0 + top:r1 + top, c0 + left:c1 + left].copy(), virtual=virtual,
            d_z=float(self.d_z[i, j]), contribution=self._contrib[index].copy(),
            partial_sum=self._partial[index].copy(), bias_partial_sum=float(self._bias_partial[index]),
        )

    def __iter__(self) -> Iterator[WeightGradientStep]:
        for index in range(self.n_positions):
            yield self.step(index)

    @classmethod
    def for_layer(cls, layer: Conv2D, grads: UpstreamGradient, filter_index: int) -> WeightGradientWalk:
        """The walk for filter ``filter_index`` of a built ``Conv2D`` from :func:`upstream_gradient`."""
        _check_filter(layer, filter_index)
        k, s, pads = window_geometry(layer)
        return cls(grads.x, grads.d_pre_activation[filter_index], k, s, pads, layer.mode)


def _check_filter(layer, filter_index: int) -> None:
    if not isinstance(layer, Conv2D) or not layer.built:
        raise ShapeError("backward_needs_conv", layer_class=type(layer).__name__)
    f = layer.params["W"].shape[0]
    if not 0 <= int(filter_index) < f:
        raise ShapeError("filter_index_out_of_range", name=layer.name, last=f - 1, index=filter_index)


def window_geometry(layer) -> tuple | None:
    """``(K, stride, (top, bottom, left, right))`` of a built Conv2D or pooling layer; None for layers
    that work pixel by pixel (activations, dropout). ``K`` and ``stride`` are ints when square and
    ``(height, width)`` pairs otherwise (``Conv2D(8, (1, 3), strides=(2, 1))`` -> ``((1, 3), (2, 1), ...)``)."""
    if isinstance(layer, Conv2D):
        size, stride = pair(layer.kernel_size), pair(layer.strides)
    elif isinstance(layer, (MaxPooling2D, AveragePooling2D)):
        size = pair(layer.pool_size)
        stride = size if layer.strides is None else pair(layer.strides)
    else:
        return None
    return _plain(_hw(size)), _plain(_hw(stride)), tuple(layer.padding_pixels)


# ---------------------------------------------------------------------------------------------
# dL/dX: the full convolution with the flipped kernel
# ---------------------------------------------------------------------------------------------
def dilate(d: np.ndarray, stride) -> np.ndarray:
    """Insert ``s - 1`` zeros between the values of ``(..., H, W)``: ``((H-1)sh+1, (W-1)sw+1)``
    (``stride`` an int or ``(sh, sw)``)."""
    d = np.asarray(d, np.float64)
    sh, sw = _hw(stride)
    h, w = d.shape[-2:]
    out = np.zeros(d.shape[:-2] + ((h - 1) * sh + 1, (w - 1) * sw + 1))
    out[..., ::sh, ::sw] = d
    return out


@dataclass(frozen=True)
class InputGradientStep:
    """One input pixel ``(r, c)`` of ``dL/dX``.

    Attributes
    ----------
    index : ``r * W + c``
    r, c : the pixel in the unpadded input
    window : ``(F, KH, KW)`` the dilated, ``K - 1``-padded ``dL/dZ`` under the rotated kernel
    rotated_kernel : ``(F, C, KH, KW)`` the effective kernel turned by 180 degrees
    products : ``(F, C, KH, KW)`` window * rotated kernel
    per_filter : ``(F, C)`` each filter's share of ``dL/dX[:, r, c]``
    value : ``(C,)`` ``dL/dX[:, r, c]`` (the sum over filters)
    """

    index: int
    r: int
    c: int
    window: np.ndarray
    rotated_kernel: np.ndarray
    products: np.ndarray
    per_filter: np.ndarray
    value: np.ndarray


class InputGradientWalk:
    """``dL/dX`` as the full convolution of ``dL/dZ`` with the flipped kernel.

    The recipe the student follows:

    1. dilate ``dL/dZ`` by the stride (``s - 1`` zeros between neighbours: a stride-2 forward skipped
       every other position, so nothing flows back from there);
    2. pad it with ``K - 1`` zeros on every side (``KH - 1`` above and below, ``KW - 1`` left and right,
       so the kernel also covers pixels seen by a single window corner);
    3. slide the kernel rotated by 180 degrees over it (a plain cross-correlation);
    4. the result covers the *padded* input; crop the forward padding away (gradients that fall on
       virtual pixels are dropped). Rows/columns the forward stride never reached get 0.

    The kernel that is rotated is the *effective* one, the kernel the forward pass slid. In
    convolution mode that is the stored kernel already flipped, so the two flips cancel and the
    backward slides the stored kernel as it is.

    Parameters
    ----------
    d_z : ``(F, H_out, W_out)`` or ``(H_out, W_out)`` ``dL/dZ``
    kernel : ``(F, C, KH, KW)`` or ``(C, KH, KW)`` the stored kernel ``W`` (one row per filter of ``d_z``)
    input_shape : ``(C, H, W)`` of the layer's input
    stride, pads, mode : the layer's settings (``stride`` an int or ``(sh, sw)``)
    """

    def __init__(self, d_z, kernel, input_shape, stride=1, pads=(0, 0, 0, 0),
                 mode: str = "cross_correlation"):
        d_z = np.asarray(d_z, np.float64)
        kernel = np.asarray(kernel, np.float64)
        if d_z.ndim == 2:
            d_z = d_z[None]
        if kernel.ndim == 3:
            kernel = kernel[None]
        if kernel.ndim != 4 or kernel.shape[0] != d_z.shape[0]:
            raise ShapeError("kernel_dz_mismatch", kernel=tuple(kernel.shape), d_z=tuple(d_z.shape))
        self.d_z = d_z
        self.kernel = kernel
        self.input_shape = tuple(int(v) for v in input_shape)
        self.stride_hw = _hw(stride)
        self.stride = _plain(self.stride_hw)
        self.pads = tuple(int(p) for p in pads)
        self.mode = mode
        self.kernel_hw = (kh, kw) = (int(kernel.shape[-2]), int(kernel.shape[-1]))
        self.size = _plain(self.kernel_hw)
        effective = kernel[:, :, ::-1, ::-1] if mode == "convolution" else kernel
        #: the effective kernel rotated by 180 degrees (in convolution mode: the stored kernel)
        self.rotated_kernel = effective[:, :, ::-1, ::-1].copy()
        #: step 1: dL/dZ dilated by the stride
        self.dilated = dilate(d_z, self.stride_hw)
        #: step 2: padded by KH - 1 rows above and below, KW - 1 columns left and right
        self.padded = np.pad(self.dilated, ((0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1)))
        c, h, w = self.input_shape
        top, bottom, left, right = self.pads
        hp, wp = h + top + bottom, w + left + right
        full_h, full_w = self.padded.shape[1] - kh + 1, self.padded.shape[2] - kw + 1
        if full_h > hp or full_w > wp:
            raise ShapeError("dz_too_large", shape=tuple(d_z.shape[1:]), h=h, w=w, pads=self.pads)
        # step 3 over every position at once (the steps below recompute single pixels from the same arrays)
        full = np.tensordot(_windows(self.padded, self.kernel_hw), self.rotated_kernel, axes=([0, 3, 4], [0, 2, 3]))
        full = full.transpose(2, 0, 1)
        #: step 3's result placed on the padded input (rows the stride never reached stay 0)
        self.full = np.zeros((c, hp, wp))
        self.full[:, :full_h, :full_w] = full
        #: step 4: ``dL/dX`` ``(C, H, W)``
        self.d_input = self.full[:, top:top + h, left:left + w].copy()

    @property
    def n_positions(self) -> int:
        return self.input_shape[1] * self.input_shape[2]

    def step(self, index: int) -> InputGradientStep:
        if not 0 <= index < self.n_positions:
            raise IndexError(f"pixel {index} is outside 0..{self.n_positions - 1}")
        r, c = divmod(int(index), self.input_shape[2])
        kh, kw = self.kernel_hw
        pr, pc = r + self.pads[0], c + self.pads[2]
        window = np.zeros((self.d_z.shape[0], kh, kw))
        part = self.padded[:, pr:pr + kh, pc:pc + kw]  # empty/short past the reach of the stride
        window[:, :part.shape[1], :part.shape[2]] = part
        products = window[:, None] * self.rotated_kernel
        per_filter = products.sum(axis=(2, 3))
        return InputGradientStep(index=int(index), r=r, c=c, window=window, rotated_kernel=self.rotated_kernel,
                                 products=products, per_filter=per_filter, value=per_filter.sum(axis=0))

    def __iter__(self) -> Iterator[InputGradientStep]:
        for index in range(self.n_positions):
            yield self.step(index)

    @classmethod
    def for_layer(cls, layer: Conv2D, grads: UpstreamGradient, filter_index: int | None = None) -> InputGradientWalk:
        """Every filter's share (``filter_index=None``) or one filter's share of the layer's ``dL/dX``."""
        W = np.asarray(layer.params["W"], np.float64)
        d_z = grads.d_pre_activation
        if filter_index is not None:
            _check_filter(layer, filter_index)
            W, d_z = W[filter_index:filter_index + 1], d_z[filter_index:filter_index + 1]
        return cls(d_z, W, layer.in_shape, window_geometry(layer)[1], layer.padding_pixels, layer.mode)


def _windows(a: np.ndarray, k) -> np.ndarray:
    """``(F, H, W)`` -> ``(F, H-KH+1, W-KW+1, KH, KW)`` sliding windows (a view); ``k`` an int or ``(KH, KW)``."""
    return np.lib.stride_tricks.sliding_window_view(a, _hw(k), axis=(1, 2))


# ---------------------------------------------------------------------------------------------
# pooling backward
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PoolGradientStep:
    """Where the gradient of one pooled cell goes.

    Attributes
    ----------
    index : ``(channel * out_h + i) * out_w + j``
    channel, i, j : the pooled cell
    gradient : ``dL/dY[channel, i, j]``
    targets : input pixels ``(r, c)`` that receive a share (the winner for max pooling; every
        non-padding pixel of the window for average pooling)
    share : what each target receives (``gradient`` or ``gradient / count``)
    partial : ``(C, H, W)`` ``dL/dX`` accumulated over cells ``0..index``
    """

    index: int
    channel: int
    i: int
    j: int
    gradient: float
    targets: tuple[tuple[int, int], ...]
    share: float
    partial: np.ndarray


class PoolGradientWalk:
    """Pooling backward, cell by cell.

    Max pooling has no weights: the gradient of each pooled value goes to the one pixel that won the
    forward pass (``argmax`` switch, flat ``r * W + c``); every other pixel of the window receives 0.
    Average pooling divides the gradient evenly between the window's real (non-padding) pixels, as the
    forward averaged over them. Windows that overlap add their shares.

    Parameters
    ----------
    d_y : ``(C, H_out, W_out)`` ``dL/dY`` arriving at the pooling layer
    input_shape : ``(C, H, W)`` of the layer's input
    pool_size, stride, pads : the layer's geometry (``padding_pixels``); sizes an int or ``(h, w)``
    op : ``"max"`` or ``"avg"``
    argmax : ``(C, H_out, W_out)`` int switches (max pooling only)
    """

    def __init__(self, d_y, input_shape, pool_size, stride, pads=(0, 0, 0, 0), op: str = "max",
                 argmax=None):
        self.d_y = np.asarray(d_y, np.float64)
        self.input_shape = tuple(int(v) for v in input_shape)
        self.kernel_hw, self.stride_hw = _hw(pool_size), _hw(stride)
        self.size, self.stride = _plain(self.kernel_hw), _plain(self.stride_hw)
        self.pads = tuple(int(p) for p in pads)
        if op not in ("max", "avg"):
            raise ShapeError("pooling_op_unknown", op=op)
        if op == "max" and argmax is None:
            raise ShapeError("max_pool_needs_switches")
        self.op = op
        self.argmax = None if argmax is None else np.asarray(argmax)
        c, h, w = self.input_shape
        self.out_h, self.out_w = self.d_y.shape[1:]
        self._cells = []  # (targets, share) per pooled cell, in reading order
        for ch in range(c):
            for i in range(self.out_h):
                for j in range(self.out_w):
                    g = float(self.d_y[ch, i, j])
                    if op == "max":
                        flat = int(self.argmax[ch, i, j])
                        targets = () if flat < 0 else (divmod(flat, w),)
                        share = g
                    else:
                        r0, c0, r1, c1 = receptive_window(i, j, self.kernel_hw, self.stride_hw, self.pads[0],
                                                          self.pads[2])
                        targets = tuple((r, q) for r in range(max(r0, 0), min(r1, h))
                                        for q in range(max(c0, 0), min(c1, w)))
                        share = g / len(targets) if targets else 0.0
                    self._cells.append((targets, share))
        # one row per (cell, target): partial sums up to any cell are one np.add.at
        per_channel = self.out_h * self.out_w
        rows = [(index // per_channel, r, q, share)
                for index, (targets, share) in enumerate(self._cells) for r, q in targets]
        table = np.array(rows, np.float64).reshape(-1, 4)
        self._ch, self._r, self._q = (table[:, k].astype(np.intp) for k in range(3))
        self._share = table[:, 3]
        self._ends = np.cumsum([len(t) for t, _ in self._cells])

    def _accumulate(self, n_rows: int) -> np.ndarray:
        out = np.zeros(self.input_shape)
        np.add.at(out, (self._ch[:n_rows], self._r[:n_rows], self._q[:n_rows]), self._share[:n_rows])
        return out

    @classmethod
    def for_layer(cls, layer, d_y) -> PoolGradientWalk:
        """The walk of a built pooling layer after a forward pass (one image: ``d_y`` ``(C, H_out, W_out)``)."""
        if isinstance(layer, MaxPooling2D):
            k, s, pads = window_geometry(layer)
            return cls(d_y, layer.in_shape, k, s, pads, "max", layer.argmax[0])
        if isinstance(layer, AveragePooling2D):
            k, s, pads = window_geometry(layer)
            return cls(d_y, layer.in_shape, k, s, pads, "avg")
        raise ShapeError("pooling_walk_needs_pool", layer_class=type(layer).__name__)

    @property
    def n_positions(self) -> int:
        return len(self._cells)

    @property
    def d_input(self) -> np.ndarray:
        """``dL/dX`` ``(C, H, W)`` after every cell."""
        return self._accumulate(len(self._share))

    def step(self, index: int) -> PoolGradientStep:
        if not 0 <= index < self.n_positions:
            raise IndexError(f"cell {index} is outside 0..{self.n_positions - 1}")
        ch, rest = divmod(int(index), self.out_h * self.out_w)
        i, j = divmod(rest, self.out_w)
        targets, share = self._cells[index]
        return PoolGradientStep(index=int(index), channel=ch, i=i, j=j, gradient=float(self.d_y[ch, i, j]),
                                targets=targets, share=share, partial=self._accumulate(int(self._ends[index])))

    def __iter__(self) -> Iterator[PoolGradientStep]:
        for index in range(self.n_positions):
            yield self.step(index)
