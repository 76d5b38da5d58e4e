"""Layers of the engine: one class per layer, a ``forward`` / ``backward`` pair each (NCHW float32).

Every layer follows the same life cycle (Keras's, in ConvNetJS's forward/backward form):

``__init__``
    hyperparameters only; never raises for a bad number, so an architecture editor can hold any
    value the student types and show the problem on the layer's row.
``output_shape(input_shape)``
    pure shape inference; raises :class:`~engine.errors.ShapeError` with a message that quotes the
    values and says how to fix them. All size arithmetic goes through :mod:`engine.shapes`.
``build(input_shape, rng)``
    validates through ``output_shape`` and allocates float32 parameters from the seeded ``rng``.
``forward(x, training)`` / ``backward(dy)``
    forward caches exactly what backward and the visualizer need (``input``, ``pre_activation``,
    ``output``, pooling ``argmax``); backward fills ``grads`` (same keys and shapes as ``params``)
    and returns ``dx``.

Shapes of a single sample are ``(C, H, W)`` for images and ``(D,)`` for flat vectors; batches add a
leading ``N``. Conv weights are ``(F, C, KH, KW)``, Dense weights ``(D_in, D_out)``. Kernel sizes,
strides and pool sizes are an int or a ``(height, width)`` pair (Keras); equal pairs are kept as one int.
"""

from __future__ import annotations

import re

import numpy as np

from engine import kernels
from engine.errors import ArchitectureError, Shape, ShapeError, Term
from engine.shapes import pair, resolve_padding_2d

__all__ = [
    "Layer",
    "Conv2D",
    "MaxPooling2D",
    "AveragePooling2D",
    "ReLU",
    "Sigmoid",
    "Tanh",
    "LeakyReLU",
    "Softmax",
    "Flatten",
    "Dense",
    "Dropout",
    "LAYER_CLASSES",
    "ACTIVATIONS",
    "INITIALIZERS",
    "layer_from_config",
    "initialize",
]


# --------------------------------------------------------------------------------------------
# activation functions (shared by the fused activations of Conv2D/Dense and the activation layers)
# --------------------------------------------------------------------------------------------


def _sigmoid(z):
    # 0.5 * (1 + tanh(z / 2)) equals 1 / (1 + exp(-z)) and never overflows.
    a = np.multiply(z, 0.5, dtype=z.dtype)
    np.tanh(a, out=a)
    a += 1
    a *= 0.5
    return a


def _softmax(z, axis=1):
    e = z - z.max(axis=axis, keepdims=True)
    np.exp(e, out=e)
    e /= e.sum(axis=axis, keepdims=True)
    return e


def _act_forward(kind, z, alpha=0.3, inplace=False):
    """``f(z)``; with ``inplace`` the result overwrites ``z`` (saves an allocation per training step)."""
    if kind is None:
        return z
    out = z if inplace else None
    if kind == "relu":
        return np.maximum(z, 0, out=out)
    if kind == "sigmoid":
        if inplace:
            z *= 0.5
            np.tanh(z, out=z)
            z += 1
            z *= 0.5
            return z
        return _sigmoid(z)
    if kind == "tanh":
        return np.tanh(z, out=out)
    if kind == "leaky_relu":
        if inplace:
            neg = z < 0
            np.multiply(z, z.dtype.type(alpha), out=z, where=neg)
            return z
        return np.where(z > 0, z, z * z.dtype.type(alpha))
    if kind == "softmax":
        return _softmax(z, axis=1)
    raise ValueError(kind)


def _act_backward(kind, dy, a, alpha=0.3, inplace=False):
    """Gradient with respect to the pre-activation given the output ``a = f(z)`` and ``dy = dL/da``.

    Every supported activation's derivative is a function of its output (for ReLU/LeakyReLU
    ``z > 0`` exactly when ``a > 0``). With ``inplace`` the result overwrites ``dy``.
    """
    if kind is None:
        return dy
    out = dy if inplace else None
    if kind == "relu":
        return np.multiply(dy, a > 0, out=out, dtype=dy.dtype)
    if kind == "sigmoid":
        d = a * (1 - a)
        return np.multiply(dy, d, out=out)
    if kind == "tanh":
        d = a * a
        np.subtract(1, d, out=d)
        return np.multiply(dy, d, out=out)
    if kind == "leaky_relu":
        scale = np.where(a > 0, dy.dtype.type(1), dy.dtype.type(alpha))
        return np.multiply(dy, scale, out=out)
    if kind == "softmax":
        return a * (dy - (dy * a).sum(axis=1, keepdims=True))
    raise ValueError(kind)


#: Activation names accepted by ``Conv2D(activation=...)`` / ``Dense(activation=...)``.
ACTIVATIONS = ("linear", "relu", "sigmoid", "tanh", "leaky_relu", "softmax")


def _normalize_activation(value):
    if value is None:
        return None
    key = str(value).strip().lower().replace("-", "_")
    if key in ("", "none", "linear"):
        return None
    if key in ("leakyrelu",):
        return "leaky_relu"
    return key


def _check_activation(layer, allowed=ACTIVATIONS):
    if layer.activation is not None and layer.activation not in allowed:
        raise ShapeError("unknown_activation", layer_class=type(layer).__name__, activation=layer.activation,
                         choices=", ".join(allowed))


# --------------------------------------------------------------------------------------------
# initializers (Keras formulas, seeded by the model's rng)
# --------------------------------------------------------------------------------------------

INITIALIZERS = ("glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "zeros", "ones")


def _truncated_normal(rng, std, shape):
    # Keras draws from a normal truncated at 2 std and divides std by 0.8796... so that the
    # variance of the truncated draw matches the requested one.
    std = std / 0.87962566103423978
    out = rng.standard_normal(shape)
    bad = np.abs(out) > 2
    while bad.any():
        out[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(out) > 2
    return out * std


def initialize(name: str, shape: tuple, fan_in: int, fan_out: int, rng: np.random.Generator) -> np.ndarray:
    """Return float32 initial values drawn by Keras's initializer ``name``.

    ``glorot_uniform``: U(-l, l) with l = sqrt(6 / (fan_in + fan_out)); ``he_uniform``: l = sqrt(6 / fan_in);
    ``*_normal``: truncated normal with std sqrt(2 / (fan_in + fan_out)) or sqrt(2 / fan_in).
    For a conv kernel fan_in = C*K*K and fan_out = F*K*K.
    """
    if name == "zeros":
        return np.zeros(shape, np.float32)
    if name == "ones":
        return np.ones(shape, np.float32)
    if name == "glorot_uniform":
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, shape).astype(np.float32)
    if name == "he_uniform":
        limit = np.sqrt(6.0 / fan_in)
        return rng.uniform(-limit, limit, shape).astype(np.float32)
    if name == "glorot_normal":
        return _truncated_normal(rng, np.sqrt(2.0 / (fan_in + fan_out)), shape).astype(np.float32)
    if name == "he_normal":
        return _truncated_normal(rng, np.sqrt(2.0 / fan_in), shape).astype(np.float32)
    raise ShapeError("unknown_initializer_name", name=name, choices=", ".join(INITIALIZERS))


def _check_initializer(layer, value, what):
    if value not in INITIALIZERS:
        raise ShapeError("unknown_initializer", layer_class=type(layer).__name__, what=what, value=value,
                         choices=", ".join(INITIALIZERS))


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def _snake_case(name: str) -> str:
    """Keras's automatic layer names: ``Conv2D`` -> ``conv2d``, ``MaxPooling2D`` -> ``max_pooling2d``."""
    s = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", s).lower()


def _whole(value, what: str, layer: str, minimum: int = 1) -> int:
    """Validate a whole-number hyperparameter (bools and fractions rejected) with a teaching message."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        if isinstance(value, (float, np.floating)) and float(value).is_integer():
            value = int(value)
        else:
            raise ShapeError("not_whole_number", owner=layer, what=Term(what), value=value)
    value = int(value)
    if value < minimum:
        raise ShapeError("too_small", owner=layer, what=Term(what), minimum=minimum, value=value)
    return value


def _square(value):
    """``3`` or ``(3, 3)`` -> ``3``; ``(1, 3)`` / ``[1, 3]`` -> ``(1, 3)`` (height, width)."""
    if isinstance(value, (tuple, list)):
        if len(value) == 2 and value[0] == value[1] and not isinstance(value[0], (tuple, list)):
            return value[0]
        return tuple(value)
    return value


def _check_pair(value, what: str, layer: str) -> tuple[int, int]:
    """An int or a ``(height, width)`` pair of whole numbers >= 1, as ``(h, w)``."""
    if isinstance(value, tuple):
        if len(value) != 2:
            raise ShapeError("not_pair", owner=layer, what=Term(what), value=value)
        return _whole(value[0], what, layer), _whole(value[1], what, layer)
    v = _whole(value, what, layer)
    return v, v


def _norm_padding(padding):
    if isinstance(padding, str):
        return padding.strip().lower()
    if isinstance(padding, (list, tuple)):
        return tuple(_norm_padding(p) if isinstance(p, (list, tuple)) else int(p) for p in padding)
    return padding


def _padding_config(padding):
    """Padding as JSON: tuples become lists (nested for ``((top, bottom), (left, right))``)."""
    if isinstance(padding, tuple):
        return [_padding_config(p) for p in padding]
    return padding


def _pair_config(value):
    return list(value) if isinstance(value, tuple) else value


def _hw(value) -> str:
    """``3`` -> ``"3x3"``, ``(1, 3)`` -> ``"1x3"``."""
    h, w = pair(value)
    return f"{h}x{w}"


def _check_image_input(layer: Layer, input_shape) -> tuple[int, int, int]:
    shape = tuple(int(v) for v in input_shape)
    if len(shape) != 3:
        raise ShapeError("image_layer_after_flatten", layer_class=type(layer).__name__, shape=Shape(shape))
    return shape


def _as_float(x: np.ndarray) -> np.ndarray:
    # The kernels take float32 C-contiguous arrays only (another dtype would recompile them).
    if x.dtype != np.float32 or not x.flags.c_contiguous:
        x = np.ascontiguousarray(x, dtype=np.float32)
    return x


def _axes_formula(h, w, kh, kw, sh, sw, ph, pw) -> str:
    """One formula when both axes compute the same numbers, else ``H: ...; W: ...``."""
    fh = _size_formula(h, kh, sh, ph)
    fw = _size_formula(w, kw, sw, pw)
    if fh == fw:
        return fh
    return f"H: {fh}; W: {fw}"


def _size_formula(n: int, f: int, s: int, pad) -> str:
    """``(28 + 2*0 - 3)/1 + 1 = 26`` (``floor(...)`` shown when the division is not exact)."""
    if pad.before == pad.after:
        num = f"{n} + 2*{pad.before} - {f}"
    else:
        num = f"{n} + {pad.before} + {pad.after} - {f}"
    span = n + pad.before + pad.after - f
    if s == 1:
        return f"({num})/1 + 1 = {pad.out}"
    if span % s == 0:
        return f"({num})/{s} + 1 = {pad.out}"
    return f"floor(({num})/{s}) + 1 = {pad.out}"


# --------------------------------------------------------------------------------------------
# base class
# --------------------------------------------------------------------------------------------


class Layer:
    """Base class: parameter-free identity. Subclasses override the pieces they need.

    Attributes
    ----------
    name : str
        Unique within a model; automatic names follow Keras (``conv2d``, ``conv2d_1``...).
    params, grads : dict[str, np.ndarray]
        ``{}`` for parameter-free layers. Inside a built :class:`~engine.network.Sequential` these are
        views into one flat buffer: update them in place (``W[...] = ...``), never rebind them.
    trainable : bool
        False keeps the parameters fixed during training.
    input, output : np.ndarray or None
        The last forward's input and output (kept for backward and for the visualizer).
    """

    #: parameter names in a fixed order (the order of ``get_weights`` and of saved files)
    param_names: tuple[str, ...] = ()

    def __init__(self, name: str | None = None, trainable: bool = True):
        self._auto_name = name is None
        self._base_name = _snake_case(type(self).__name__)
        self.name = name if name is not None else self._base_name
        self.trainable = bool(trainable)
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.built = False
        self.in_shape: tuple | None = None
        self.out_shape: tuple | None = None
        self.input: np.ndarray | None = None
        self.output: np.ndarray | None = None
        #: the network sets this False on its first layer: nobody needs d(loss)/d(pixels) there
        self.need_input_grad = True
        #: inside a network every ``dy`` is a fresh array nobody else reads, so backward may overwrite it
        self._owns_dy = False
        #: the layer whose fused kernel computed this one's last training forward (see ``fuses_with``)
        self.computed_by: Layer | None = None

    # -- shapes and parameters ------------------------------------------------------------
    def output_shape(self, input_shape: tuple) -> tuple:
        return tuple(int(v) for v in input_shape)

    def param_shapes(self, input_shape: tuple) -> dict[str, tuple]:
        """Shapes of the parameters for ``input_shape`` (works before build)."""
        return {}

    def param_count(self, input_shape: tuple) -> int:
        return int(sum(int(np.prod(s)) for s in self.param_shapes(input_shape).values()))

    def param_formula(self, input_shape: tuple) -> str:
        return ""

    def size_formula(self, input_shape: tuple) -> str:
        """How the output size follows from the input size (conv/pool only), e.g. ``(28 + 2*0 - 3)/1 + 1 = 26``."""
        return ""

    def multiply_adds(self, input_shape: tuple) -> tuple[int, str]:
        """Multiply-adds for one image and how they are counted (conv, dense); ``(0, "")`` for the others."""
        return 0, ""

    def window(self, input_shape: tuple) -> tuple[tuple[int, int], tuple[int, int]] | None:
        """``((kh, kw), (sh, sw))`` of a sliding-window layer (conv, pooling), else ``None``."""
        return None

    def build(self, input_shape: tuple, rng: np.random.Generator | None = None) -> None:
        self.out_shape = self.output_shape(input_shape)
        self.in_shape = tuple(int(v) for v in input_shape)
        self.built = True

    def _store_grad(self, key: str, value: np.ndarray) -> None:
        g = self.grads.get(key)
        if g is not None and g.shape == value.shape and g.dtype == value.dtype:
            g[...] = value  # in place: inside a network this is a view into the flat gradient buffer
        else:
            self.grads[key] = np.array(value, copy=True)

    # -- computation ----------------------------------------------------------------------
    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        self.input = x
        self.output = x
        return x

    def fuses_with(self, following: Layer) -> bool:
        """True when a training forward may run this layer and ``following`` as one kernel
        (:meth:`forward_pooled`); the network then skips ``following``'s backward."""
        return False

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return dy

    # -- configuration --------------------------------------------------------------------
    def _hyper(self) -> dict:
        return {}

    def get_config(self) -> dict:
        config = {"name": self.name, "trainable": self.trainable}
        config.update(self._hyper())
        return {"class_name": type(self).__name__, "config": config}

    def describe(self) -> str:
        """Short text for an architecture view, e.g. ``Conv2D 32 3x3 relu``."""
        return type(self).__name__

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._hyper().items())
        return f"{type(self).__name__}({args}{', ' if args else ''}name={self.name!r})"


# --------------------------------------------------------------------------------------------
# convolution
# --------------------------------------------------------------------------------------------


class _FusedActivation(Layer):
    """A layer whose ``activation`` argument is applied right after its linear part (Conv2D, Dense)."""

    def _activate(self, z, training):
        # While training nobody inspects the pre-activation: apply the activation in place, except a
        # softmax, whose logits are the loss's input.
        inplace = training and self.activation not in (None, "softmax")
        self.pre_activation = None if inplace else z
        self.output = _act_forward(self.activation, z, inplace=inplace)
        return self.output

    def backward(self, dy):
        dz = _act_backward(self.activation, dy, self.output, inplace=self._owns_dy)
        return self.backward_linear(dz)


class Conv2D(_FusedActivation):
    """2-D convolution layer with an optional fused activation.

    ``y[n,f,i,j] = b[f] + sum_{c,u,v} W[f,c,u,v] * xpad[n,c,i*s+u,j*s+v]`` (cross-correlation, what
    every framework computes). With ``mode="convolution"`` the kernel is flipped first (the
    textbook convolution); the learned ``W`` is stored unflipped either way.

    Output size per axis: ``out = floor((n + 2p - K) / s) + 1``; ``padding="same"`` gives
    ``out = ceil(n / s)`` with the extra pixel at the bottom/right (Keras/TensorFlow).

    Parameters
    ----------
    filters : number of output channels ``F``
    kernel_size : ``K`` or ``(KH, KW)``
    strides : ``s`` or ``(sh, sw)``
    padding : ``"valid"``, ``"same"`` (per axis), a number of zero pixels on every side, ``(ph, pw)``
        (rows above and below, columns left and right) or ``((top, bottom), (left, right))
    activation : None, "relu", "sigmoid", "tanh", "leaky_relu"
    mode : "cross_correlation" (default) or "convolution"
    frozen_filters : output channels whose weights and bias stay fixed during training
    """

    param_names = ("W", "b")

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        use_bias: bool = True,
        activation=None,
        mode: str = "cross_correlation",
        kernel_initializer: str = "glorot_uniform",
        bias_initializer: str = "zeros",
        frozen_filters=(),
        name: str | None = None,
        trainable: bool = True,
    ):
        super().__init__(name, trainable)
        self.filters = filters
        self.kernel_size = _square(kernel_size)
        self.strides = _square(strides)
        self.padding = _norm_padding(padding)
        self.use_bias = bool(use_bias)
        self.activation = _normalize_activation(activation)
        self.mode = str(mode).strip().lower()
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer
        self.frozen_filters: set[int] = {int(f) for f in frozen_filters}
        self.pre_activation: np.ndarray | None = None
        self._w_eff: np.ndarray | None = None
        self._fused_output: np.ndarray | None = None     # output of a training forward with the ReLU in the kernel
        self._pooled_by: Layer | None = None            # the pooling this layer's last forward computed too
        self._pad = (0, 0, 0, 0)

    # -- validation and shapes ------------------------------------------------------------
    def _checked(self):
        where = f"Conv2D '{self.name}'"
        f = _whole(self.filters, "filters", where)
        k = _check_pair(self.kernel_size, "kernel size", where)
        s = _check_pair(self.strides, "stride", where)
        if self.mode not in ("cross_correlation", "convolution"):
            raise ShapeError("unknown_conv_mode", owner=where, mode=self.mode)
        _check_activation(self, ("relu", "sigmoid", "tanh", "leaky_relu"))
        _check_initializer(self, self.kernel_initializer, "kernel_initializer")
        _check_initializer(self, self.bias_initializer, "bias_initializer")
        return f, k, s

    def _paddings(self, input_shape):
        f, k, s = self._checked()
        c, h, w = _check_image_input(self, input_shape)
        if isinstance(self.padding, (int, np.integer)) and not isinstance(self.padding, bool) and self.padding < 0:
            raise ShapeError("negative_padding", owner=f"Conv2D '{self.name}'", padding=self.padding)
        try:
            ph, pw = resolve_padding_2d(self.padding, h, w, k[0], k[1], s[0], s[1], "kernel")
        except ShapeError as exc:
            raise ShapeError("layer_with_input", layer=f"Conv2D '{self.name}'", shape=Shape((c, h, w)),
                             error=exc) from exc
        if ph.out < 1 or pw.out < 1:
            raise ShapeError("output_vanishes", owner=f"Conv2D '{self.name}'", out_h=ph.out, out_w=pw.out,
                             shape=Shape((c, h, w)))
        return c, h, w, f, k, s, ph, pw

    def output_shape(self, input_shape):
        c, h, w, f, k, s, ph, pw = self._paddings(input_shape)
        return (f, ph.out, pw.out)

    def param_shapes(self, input_shape):
        c, h, w, f, (kh, kw), s, ph, pw = self._paddings(input_shape)
        shapes = {"W": (f, c, kh, kw)}
        if self.use_bias:
            shapes["b"] = (f,)
        return shapes

    def param_formula(self, input_shape):
        c, h, w, f, (kh, kw), s, ph, pw = self._paddings(input_shape)
        n = kh * kw * c * f
        if self.use_bias:
            return f"{kh}*{kw}*{c}*{f} + {f} = {n + f}"
        return f"{kh}*{kw}*{c}*{f} = {n}"

    def size_formula(self, input_shape):
        c, h, w, f, (kh, kw), (sh, sw), ph, pw = self._paddings(input_shape)
        return _axes_formula(h, w, kh, kw, sh, sw, ph, pw)

    def multiply_adds(self, input_shape):
        """``OH*OW*F*(KH*KW*C)``: every output value is one window's dot product with a filter."""
        c, h, w, f, (kh, kw), s, ph, pw = self._paddings(input_shape)
        n = ph.out * pw.out * f * kh * kw * c
        return n, f"{ph.out}*{pw.out}*{f}*({kh}*{kw}*{c}) = {n}"

    def window(self, input_shape):
        c, h, w, f, k, s, ph, pw = self._paddings(input_shape)
        return k, s

    def build(self, input_shape, rng=None):
        rng = rng if rng is not None else np.random.default_rng(0)
        c, h, w, f, (kh, kw), s, ph, pw = self._paddings(input_shape)
        self._pad = (ph.before, ph.after, pw.before, pw.after)
        self._stride = _square(s)  # an int when square (what readers of the square engine expect)
        fan_in, fan_out = c * kh * kw, f * kh * kw
        self.params = {"W": initialize(self.kernel_initializer, (f, c, kh, kw), fan_in, fan_out, rng)}
        if self.use_bias:
            self.params["b"] = initialize(self.bias_initializer, (f,), fan_in, fan_out, rng)
        self.grads = {key: np.zeros_like(v) for key, v in self.params.items()}
        self.frozen_filters = {i for i in self.frozen_filters if 0 <= i < f}
        super().build(input_shape, rng)

    @property
    def padding_pixels(self) -> tuple[int, int, int, int]:
        """``(top, bottom, left, right)`` zero padding resolved at build."""
        return self._pad

    # -- computation ----------------------------------------------------------------------
    def _effective_kernel(self):
        w = self.params["W"]
        if self.mode == "convolution":
            return np.ascontiguousarray(w[:, :, ::-1, ::-1])
        return w if (w.dtype == np.float32 and w.flags.c_contiguous) else np.ascontiguousarray(w, np.float32)

    def _bias32(self):
        b = self.params.get("b")
        if b is not None and (b.dtype != np.float32 or not b.flags.c_contiguous):
            b = np.ascontiguousarray(b, np.float32)
        return b

    def fuses_with(self, following):
        return (self.activation == "relu" and type(following) is MaxPooling2D and following.built
                and _square(following.pool_size) == 2 and following.strides in (None, 2)
                and following.padding_pixels == (0, 0, 0, 0) and self.out_shape is not None
                and min(self.out_shape[1:]) >= 2)

    def forward_pooled(self, x, pool):
        """Training forward of this ReLU convolution and the 2x2 max pooling after it in one kernel pass
        (:func:`engine.kernels.conv2d_relu_maxpool_forward`): ``pool`` gets its output and switches, this
        layer keeps no output of its own; :meth:`backward` then takes the pooling's gradient."""
        x = _as_float(x)
        self.input = x
        self._w_eff = self._effective_kernel()
        pooled, argmax = kernels.conv2d_relu_maxpool_forward(x, self._w_eff, self._bias32(), self._stride, self._pad)
        self.pre_activation = self.output = self._fused_output = None
        self._pooled_by = pool
        pool.input = None
        pool.output, pool.argmax = pooled, argmax
        pool.computed_by = self
        return pooled

    def forward(self, x, training=False):
        x = _as_float(x)
        self.input = x
        self._w_eff = self._effective_kernel()
        self._pooled_by = None
        b = self._bias32()
        if training and self.activation == "relu":
            # Training: the kernel adds the bias and applies the ReLU in the same pass (nobody reads
            # the pre-activation), and backward masks the gradient by ``output > 0`` in its own pass.
            self.pre_activation = None
            self.output = kernels.conv2d_forward(x, self._w_eff, b, self._stride, self._pad, relu=True)
            self._fused_output = self.output
            return self.output
        self._fused_output = None
        z = kernels.conv2d_forward(x, self._w_eff, b, self._stride, self._pad)
        return self._activate(z, training)

    def backward(self, dy):
        pool = self._pooled_by
        if pool is not None and pool.computed_by is self:
            return self._backward(_as_float(dy), pool=pool)
        fused = self._fused_output
        if fused is not None and fused is self.output:
            return self._backward(_as_float(dy), relu_output=fused)
        return super().backward(dy)

    def backward_linear(self, dz):
        """Backward from the gradient of the pre-activation (skips the fused activation)."""
        return self._backward(_as_float(dz))

    def _backward(self, dz, relu_output=None, pool=None):
        if pool is not None:   # dz is the gradient of the fused pooling's output
            dx, dw, db = kernels.conv2d_relu_maxpool_backward(self.input, self._w_eff, dz, pool.argmax, pool.output,
                                                              self._stride, self._pad, need_dx=self.need_input_grad)
        else:
            dx, dw, db = kernels.conv2d_backward(self.input, self._w_eff, dz, self._stride, self._pad,
                                                 need_dx=self.need_input_grad, relu_output=relu_output)
        if self.mode == "convolution":
            dw = dw[:, :, ::-1, ::-1]
        self._store_grad("W", dw)
        if self.use_bias:
            self._store_grad("b", db)
        if self.frozen_filters:
            idx = sorted(self.frozen_filters)
            self.grads["W"][idx] = 0
            if self.use_bias:
                self.grads["b"][idx] = 0
        return dx

    def set_filter(self, index: int, kernel, bias: float | None = None, freeze: bool = True) -> None:
        """Write a hand-made kernel into output channel ``index`` (the theater's "use this kernel").

        ``kernel`` is ``(KH, KW)`` (copied to every input channel) or ``(C, KH, KW)``; with ``freeze`` the
        channel stays fixed while the rest of the network trains.
        """
        if not self.built:
            raise ShapeError("filter_needs_build", name=self.name)
        W = self.params["W"]
        f, c, kh, kw = W.shape
        if not 0 <= int(index) < f:
            raise ShapeError("filter_index_out_of_range", name=self.name, last=f - 1, index=index)
        kernel = np.asarray(kernel, dtype=np.float32)
        if kernel.shape == (kh, kw):
            kernel = np.broadcast_to(kernel, (c, kh, kw))
        if kernel.shape != (c, kh, kw):
            if kh == kw:
                raise ShapeError("filter_kernel_shape", name=self.name, k=kh, channels=c, got=kernel.shape)
            raise ShapeError("filter_kernel_shape_rect", name=self.name, kh=kh, kw=kw, channels=c,
                             got=kernel.shape)
        W[int(index)] = kernel
        if bias is not None and self.use_bias:
            self.params["b"][int(index)] = bias
        if freeze:
            self.frozen_filters.add(int(index))
        else:
            self.frozen_filters.discard(int(index))

    def _hyper(self):
        return {
            "filters": self.filters,
            "kernel_size": _pair_config(self.kernel_size),
            "strides": _pair_config(self.strides),
            "padding": _padding_config(self.padding),
            "use_bias": self.use_bias,
            "activation": self.activation,
            "mode": self.mode,
            "kernel_initializer": self.kernel_initializer,
            "bias_initializer": self.bias_initializer,
            "frozen_filters": sorted(self.frozen_filters),
        }

    def describe(self):
        act = f" {self.activation}" if self.activation else ""
        return f"Conv2D {self.filters} {_hw(self.kernel_size)}{act}"


# --------------------------------------------------------------------------------------------
# pooling
# --------------------------------------------------------------------------------------------


class _Pooling2D(Layer):
    _what = "pool window"

    def __init__(self, pool_size=2, strides=None, padding="valid", name=None, trainable=True):
        super().__init__(name, trainable)
        self.pool_size = _square(pool_size)
        self.strides = _square(strides) if strides is not None else None
        self.padding = _norm_padding(padding)
        self._pad = (0, 0, 0, 0)

    def _paddings(self, input_shape):
        where = f"{type(self).__name__} '{self.name}'"
        k = _check_pair(self.pool_size, "pool size", where)
        s = k if self.strides is None else _check_pair(self.strides, "stride", where)
        c, h, w = _check_image_input(self, input_shape)
        try:
            ph, pw = resolve_padding_2d(self.padding, h, w, k[0], k[1], s[0], s[1], self._what)
        except ShapeError as exc:
            raise ShapeError("layer_with_input", layer=where, shape=Shape((c, h, w)), error=exc) from exc
        return c, h, w, k, s, ph, pw

    def output_shape(self, input_shape):
        c, h, w, k, s, ph, pw = self._paddings(input_shape)
        return (c, ph.out, pw.out)

    def size_formula(self, input_shape):
        c, h, w, (kh, kw), (sh, sw), ph, pw = self._paddings(input_shape)
        return _axes_formula(h, w, kh, kw, sh, sw, ph, pw)

    def window(self, input_shape):
        c, h, w, k, s, ph, pw = self._paddings(input_shape)
        return k, s

    def build(self, input_shape, rng=None):
        c, h, w, k, s, ph, pw = self._paddings(input_shape)
        self._pool, self._stride = _square(k), _square(s)  # ints when square, (h, w) pairs otherwise
        self._pad = (ph.before, ph.after, pw.before, pw.after)
        super().build(input_shape, rng)

    @property
    def padding_pixels(self) -> tuple[int, int, int, int]:
        return self._pad

    def _hyper(self):
        return {
            "pool_size": _pair_config(self.pool_size),
            "strides": _pair_config(self.strides),
            "padding": _padding_config(self.padding),
        }

    def describe(self):
        return f"{type(self).__name__} {_hw(self.pool_size)}"


class MaxPooling2D(_Pooling2D):
    """Max pooling: each output is the largest value of its ``pool_h x pool_w`` window.

    ``argmax`` (int32, same shape as the output) keeps the switch of the last forward: the flat
    index ``r * W + c`` of the winning pixel in the unpadded input plane (-1 for an all-padding window).
    """

    def __init__(self, pool_size=2, strides=None, padding="valid", name=None, trainable=True):
        super().__init__(pool_size, strides, padding, name, trainable)
        self.argmax: np.ndarray | None = None

    def forward(self, x, training=False):
        x = _as_float(x)
        self.input = x
        self.computed_by = None
        self.output, self.argmax = kernels.maxpool2d_forward(x, self._pool, self._stride, self._pad)
        return self.output

    def backward(self, dy):
        return kernels.maxpool2d_backward(_as_float(dy), self.argmax, self.input.shape)


class AveragePooling2D(_Pooling2D):
    """Average pooling: each output is the mean of its window's non-padding pixels."""

    def forward(self, x, training=False):
        x = _as_float(x)
        self.input = x
        self.output = kernels.avgpool2d_forward(x, self._pool, self._stride, self._pad)
        return self.output

    def backward(self, dy):
        return kernels.avgpool2d_backward(_as_float(dy), self.input.shape, self._pool, self._stride, self._pad)


# --------------------------------------------------------------------------------------------
# activation layers
# --------------------------------------------------------------------------------------------


class _Activation(Layer):
    kind: str = ""

    def forward(self, x, training=False):
        self.input = x
        self.output = _act_forward(self.kind, x, getattr(self, "alpha", 0.3))
        return self.output

    def backward(self, dy):
        return _act_backward(self.kind, dy, self.output, getattr(self, "alpha", 0.3), inplace=self._owns_dy)


class ReLU(_Activation):
    """``max(0, x)`` element-wise."""

    kind = "relu"


class Sigmoid(_Activation):
    """``1 / (1 + exp(-x))`` element-wise."""

    kind = "sigmoid"


class Tanh(_Activation):
    """``tanh(x)`` element-wise."""

    kind = "tanh"


class LeakyReLU(_Activation):
    """``x`` for positive ``x``, ``alpha * x`` otherwise (Keras default ``alpha = 0.3``)."""

    kind = "leaky_relu"

    def __init__(self, alpha: float = 0.3, name=None, trainable=True):
        super().__init__(name, trainable)
        self.alpha = float(alpha)

    def _hyper(self):
        return {"alpha": self.alpha}


class Softmax(_Activation):
    """Probabilities over the feature axis (channels for images). As the last layer of a classifier
    it is folded into the loss during training (the loss works on the logits before it)."""

    kind = "softmax"


# --------------------------------------------------------------------------------------------
# flatten, dense, dropout
# --------------------------------------------------------------------------------------------


class Flatten(Layer):
    """``(N, C, H, W)`` -> ``(N, C*H*W)`` in channel-major (NCHW) order."""

    def output_shape(self, input_shape):
        return (int(np.prod([int(v) for v in input_shape])),)

    def forward(self, x, training=False):
        self.input = x
        self.output = x.reshape(x.shape[0], -1)
        return self.output

    def backward(self, dy):
        return dy.reshape(self.input.shape)


#: From this many multiply-adds per product (batch x inputs x units) a Dense layer's two backward
#: products run side by side on two threads. Measured quietly, one backward, alone / side by side:
#: 32x3136->100 (hongong) 1.05 -> 0.61-0.69 ms, 64x1600->128 1.02 -> 0.56-0.78 ms; 64x576->64 (2.4M,
#: Keras book) 0.20 -> 0.21 ms and 64x400->120 (3.1M, LeNet) 0.23 -> 0.19-0.24 ms: no gain below this.
_SIDE_BY_SIDE_MACS = 4_000_000


class Dense(_FusedActivation):
    """Fully connected layer: ``y = x @ W + b`` with ``W (D_in, D_out)`` and an optional fused activation."""

    param_names = ("W", "b")

    def __init__(
        self,
        units,
        activation=None,
        use_bias: bool = True,
        kernel_initializer: str = "glorot_uniform",
        bias_initializer: str = "zeros",
        name=None,
        trainable=True,
    ):
        super().__init__(name, trainable)
        self.units = units
        self.activation = _normalize_activation(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer
        self.pre_activation: np.ndarray | None = None

    def _dims(self, input_shape):
        where = f"Dense '{self.name}'"
        units = _whole(self.units, "units", where)
        _check_activation(self)
        _check_initializer(self, self.kernel_initializer, "kernel_initializer")
        _check_initializer(self, self.bias_initializer, "bias_initializer")
        shape = tuple(int(v) for v in input_shape)
        if len(shape) != 1:
            raise ShapeError("dense_needs_flat", shape=Shape(shape), dims=len(shape))
        return shape[0], units

    def output_shape(self, input_shape):
        return (self._dims(input_shape)[1],)

    def param_shapes(self, input_shape):
        d, u = self._dims(input_shape)
        shapes = {"W": (d, u)}
        if self.use_bias:
            shapes["b"] = (u,)
        return shapes

    def param_formula(self, input_shape):
        d, u = self._dims(input_shape)
        if self.use_bias:
            return f"{d}*{u} + {u} = {d * u + u}"
        return f"{d}*{u} = {d * u}"

    def multiply_adds(self, input_shape):
        d, u = self._dims(input_shape)
        return d * u, f"{d}*{u} = {d * u}"

    def build(self, input_shape, rng=None):
        rng = rng if rng is not None else np.random.default_rng(0)
        d, u = self._dims(input_shape)
        self.params = {"W": initialize(self.kernel_initializer, (d, u), d, u, rng)}
        if self.use_bias:
            self.params["b"] = initialize(self.bias_initializer, (u,), d, u, rng)
        self.grads = {key: np.zeros_like(v) for key, v in self.params.items()}
        super().build(input_shape, rng)

    def forward(self, x, training=False):
        self.input = x
        z = x @ self.params["W"]
        if self.use_bias:
            z += self.params["b"]
        return self._activate(z, training)

    def backward_linear(self, dz):
        """Backward from the gradient of the pre-activation (skips the fused activation).

        ``dW = x.T @ dz`` and ``dx = dz @ W.T`` are independent: a large layer computes them at the same
        time on two threads (each one BLAS call, so the same bits as one after the other)."""
        x = self.input
        dx = []

        def grad_w() -> None:
            gW = self.grads.get("W")
            if gW is not None and gW.dtype == dz.dtype and gW.shape == (x.shape[1], dz.shape[1]):
                np.matmul(x.T, dz, out=gW)
            else:
                self._store_grad("W", x.T @ dz)

        def grad_x() -> None:
            dx.append(dz @ self.params["W"].T)

        if not self.need_input_grad:
            grad_w()
        elif x.shape[0] * x.shape[1] * dz.shape[1] >= _SIDE_BY_SIDE_MACS:
            kernels.run_side_by_side(grad_w, grad_x)
        else:
            grad_w()
            grad_x()
        if self.use_bias:
            gb = self.grads.get("b")
            if gb is not None and gb.dtype == dz.dtype and gb.shape == (dz.shape[1],):
                np.sum(dz, axis=0, out=gb)
            else:
                self._store_grad("b", dz.sum(axis=0))
        return dx[0] if dx else None

    def _hyper(self):
        return {
            "units": self.units,
            "activation": self.activation,
            "use_bias": self.use_bias,
            "kernel_initializer": self.kernel_initializer,
            "bias_initializer": self.bias_initializer,
        }

    def describe(self):
        act = f" {self.activation}" if self.activation else ""
        return f"Dense {self.units}{act}"


class Dropout(Layer):
    """Inverted dropout: while training each value is zeroed with probability ``rate`` and the
    survivors are scaled by ``1 / (1 - rate)``; at inference the layer is the identity."""

    def __init__(self, rate: float = 0.5, name=None, trainable=True):
        super().__init__(name, trainable)
        self.rate = rate
        self.mask: np.ndarray | None = None
        self.rng = np.random.default_rng(0)

    def output_shape(self, input_shape):
        try:
            rate = float(self.rate)
        except (TypeError, ValueError):
            raise ShapeError("dropout_rate_not_number", name=self.name, rate=self.rate) from None
        if not 0.0 <= rate < 1.0:
            raise ShapeError("dropout_rate_range", name=self.name, rate=rate)
        return super().output_shape(input_shape)

    def build(self, input_shape, rng=None):
        super().build(input_shape, rng)
        if rng is not None:
            self.rng = np.random.default_rng(rng.integers(2**63))

    def forward(self, x, training=False):
        self.input = x
        rate = float(self.rate)
        if not training or rate == 0.0:
            self.mask = None
            self.output = x
            return x
        keep = self.rng.random(x.shape, dtype=np.float32) >= rate
        self.mask = keep.astype(x.dtype) * x.dtype.type(1.0 / (1.0 - rate))
        self.output = x * self.mask
        return self.output

    def backward(self, dy):
        if self.mask is None:
            return dy
        return dy * self.mask

    def _hyper(self):
        return {"rate": self.rate}

    def describe(self):
        return f"Dropout {self.rate}"


# --------------------------------------------------------------------------------------------
# configuration
# --------------------------------------------------------------------------------------------

LAYER_CLASSES: dict[str, type[Layer]] = {
    cls.__name__: cls
    for cls in (Conv2D, MaxPooling2D, AveragePooling2D, ReLU, Sigmoid, Tanh, LeakyReLU, Softmax, Flatten, Dense,
                Dropout)
}
# Keras spellings that mean the same layer
_ALIASES = {"MaxPool2D": "MaxPooling2D", "AvgPool2D": "AveragePooling2D", "AveragePool2D": "AveragePooling2D"}


def layer_from_config(config: dict) -> Layer:
    """Rebuild a layer from ``{"class_name": ..., "config": {...}}`` (only the known layer classes;
    nothing is evaluated). Raises :class:`ArchitectureError` for an unknown class or argument."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ArchitectureError("layer_config_malformed", config=config)
    class_name = _ALIASES.get(config["class_name"], config["class_name"])
    cls = LAYER_CLASSES.get(class_name)
    if cls is None:
        raise ArchitectureError("unknown_layer_type", class_name=config["class_name"], choices=", ".join(LAYER_CLASSES))
    kwargs = dict(config.get("config") or {})
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ArchitectureError("layer_bad_argument", layer_class=class_name, detail=str(exc)) from None
