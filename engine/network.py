"""``Sequential``: a stack of layers with shape inference, a Keras-style summary and inspection hooks.

A built model keeps every parameter in one flat float32 buffer (and every gradient in another);
``layer.params[...]`` / ``layer.grads[...]`` are views into them. The optimizer then updates the
whole model with a few vectorised operations per step, and copying "the last good weights" is one
``memcpy``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from engine import limits
from engine.errors import ArchitectureError, ConvScopeError, LimitError, Shape, ShapeError
from engine.inspection import Inspection, inspect_model, output_head
from engine.layers import Layer, layer_from_config
from engine.losses import softmax, softmax_cross_entropy
from engine.pixels import to_float32
from engine.shapes import format_shape
from engine.training import fit

__all__ = ["Sequential", "SummaryRow", "EvalResult", "validate_architecture", "keras_shape"]


@dataclass(frozen=True)
class SummaryRow:
    """One layer of a summary table. Shapes are engine shapes (``(C, H, W)`` or ``(D,)``); ``None``
    when unknown because an earlier layer has an error. ``error`` is the teaching message or ``None``;
    ``exception`` the :class:`ConvScopeError` it came from (its ``code`` and ``values`` translate it).

    Costs per image, each with the formula that gives it: ``multiply_adds`` (conv ``OH*OW*F*(KH*KW*C)``,
    dense ``D_in*D_out``), the output's ``activation_values`` and ``activation_bytes`` (float32), and the
    ``receptive_field`` on the input (height, width) with its ``receptive_jump`` (input pixels between two
    neighbouring outputs): ``r = r_prev + (k - 1) * j_prev``, ``j = j_prev * s`` through conv and pooling
    layers; ``None`` once Flatten has mixed every pixel.
    """

    index: int
    name: str
    class_name: str
    input_shape: tuple | None
    output_shape: tuple | None
    params: int
    formula: str
    size_formula: str
    error: str | None = None
    description: str = ""
    trainable: bool = True
    exception: ConvScopeError | None = None
    multiply_adds: int = 0
    multiply_adds_formula: str = ""
    activation_values: int = 0
    activation_bytes: int = 0
    memory_formula: str = ""
    receptive_field: tuple[int, int] | None = None
    receptive_jump: tuple[int, int] | None = None
    receptive_formula: str = ""


@dataclass(frozen=True)
class EvalResult:
    """Result of :meth:`Sequential.evaluate`. ``confusion[i, j]`` counts images of true class ``i``
    predicted as class ``j``."""

    loss: float
    accuracy: float
    confusion: np.ndarray
    predictions: np.ndarray
    probabilities: np.ndarray


#: bytes of one activation value (the engine computes in float32)
ACTIVATION_BYTES = 4


def _memory(shape: tuple) -> tuple[int, int, str]:
    """Values and bytes of one image's activations of ``shape`` and the formula (``H*W*C``, Keras order)."""
    dims = (shape[1], shape[2], shape[0]) if len(shape) == 3 else tuple(shape)
    values = int(np.prod(dims))
    nbytes = values * ACTIVATION_BYTES
    dims_text = "*".join(str(d) for d in dims)
    return values, nbytes, f"{dims_text} = {values} values * {ACTIVATION_BYTES} bytes = {nbytes} bytes"


def _receptive(state, layer: Layer, shape, out):
    """The receptive field after ``layer``: ``(state, formula)``; state ``(rh, rw, jh, jw)`` or None."""
    if state is None or out is None or len(out) != 3:
        return None, ""
    geometry = layer.window(shape)
    if geometry is None:
        return state, ""
    (kh, kw), (sh, sw) = geometry
    rh, rw, jh, jw = state
    new = (rh + (kh - 1) * jh, rw + (kw - 1) * jw, jh * sh, jw * sw)
    texts = [f"r = {r} + ({k} - 1)*{j} = {r + (k - 1) * j}, jump = {j}*{s} = {j * s}"
             for r, k, j, s in ((rh, kh, jh, sh), (rw, kw, jw, sw))]
    return new, texts[0] if texts[0] == texts[1] else f"H: {texts[0]}; W: {texts[1]}"


def keras_shape(shape: tuple | None) -> str:
    """Keras's display of a batch shape: ``(C, H, W)`` -> ``(None, H, W, C)``."""
    if shape is None:
        return "?"
    if len(shape) == 3:
        c, h, w = shape
        return f"(None, {h}, {w}, {c})"
    return "(None, " + ", ".join(str(v) for v in shape) + ")"


def _unique_names(layers: list[Layer]) -> None:
    """Give layers Keras's unique names: conv2d, conv2d_1, conv2d_2...

    Explicit names are kept (the first holder of a repeated name keeps it, later ones get a suffix);
    automatic names take the first free ``base``, ``base_1``... in layer order.
    """
    used: set[str] = set()
    keep = set()
    for i, layer in enumerate(layers):
        if not layer._auto_name and layer.name not in used:
            used.add(layer.name)
            keep.add(i)
    # The next suffix to try per base name: names are only ever added, so the search for a free one
    # resumes where the previous search for that base stopped (linear in the number of layers).
    next_suffix: dict[str, int] = {}
    for i, layer in enumerate(layers):
        if i in keep:
            continue
        base = layer._base_name if layer._auto_name else layer.name
        k = next_suffix.get(base, 0)
        name = base if k == 0 else f"{base}_{k}"
        while name in used:
            k += 1
            name = f"{base}_{k}"
        next_suffix[base] = k + 1
        layer.name = name
        used.add(name)


def _row(index: int, layer: Layer, shape, field=None) -> tuple[SummaryRow, tuple | None]:
    """Summary row of ``layer`` for input ``shape`` (never raises) and its output shape.

    ``field``: the receptive field ``(rh, rw, jh, jw)`` of the input (None after Flatten); the row's
    own field is ``row.receptive_field`` / ``row.receptive_jump``.
    """
    macs, macs_text, field_text = 0, "", ""
    try:
        out = layer.output_shape(shape)
        params = layer.param_count(shape)
        formula = layer.param_formula(shape)
        size = layer.size_formula(shape)
        macs, macs_text = layer.multiply_adds(shape)
        field, field_text = _receptive(field, layer, shape, out)
        error = None
    except ConvScopeError as exc:
        out, params, formula, size, error = None, 0, "", "", exc
    except (TypeError, ValueError) as exc:  # a hyperparameter of the wrong type typed into the editor
        out, params, formula, size = None, 0, "", ""
        error = ShapeError("layer_bad_value", layer_class=type(layer).__name__, name=layer.name, detail=str(exc))
    values, nbytes, memory = _memory(out) if out is not None else (0, 0, "")
    field = field if out is not None else None
    row = SummaryRow(
        index=index,
        name=layer.name,
        class_name=type(layer).__name__,
        input_shape=tuple(shape) if shape is not None else None,
        output_shape=out,
        params=params,
        formula=formula,
        size_formula=size,
        error=str(error) if error is not None else None,
        description=layer.describe(),
        trainable=layer.trainable,
        exception=error,
        multiply_adds=int(macs),
        multiply_adds_formula=macs_text,
        activation_values=values,
        activation_bytes=nbytes,
        memory_formula=memory,
        receptive_field=(field[0], field[1]) if field is not None else None,
        receptive_jump=(field[2], field[3]) if field is not None else None,
        receptive_formula=field_text,
    )
    return row, out


def validate_architecture(layer_configs, input_shape, num_classes: int | None = None) -> list[SummaryRow]:
    """Summary rows of a proposed architecture; never raises.

    ``layer_configs`` holds ``{"class_name", "config"}`` dicts or :class:`Layer` objects. The first
    layer that cannot work gets its teaching message in ``row.error``; the layers after it get
    ``None`` shapes (their input is unknown). With ``num_classes`` the last layer must output one
    score per class. Too many layers or too large an input (:mod:`engine.limits`) raise
    :class:`LimitError` before any layer is made; the sizes of a draft (units, filters, parameters)
    are only counted here (the editor compares them), :meth:`Sequential.build` and the model loader
    refuse them. Time and memory are linear in the number of layers.
    """
    if not isinstance(layer_configs, (list, tuple)):
        layer_configs = list(layer_configs)
    limits.check_layer_count(len(layer_configs))
    if input_shape is not None:
        limits.check_input_shape_for_shapes(tuple(int(v) for v in input_shape))
    layers: list[Layer | None] = []
    build_errors: list[ConvScopeError | None] = []
    for cfg in layer_configs:
        if isinstance(cfg, Layer):
            layers.append(cfg)
            build_errors.append(None)
            continue
        try:
            layers.append(layer_from_config(cfg))
            build_errors.append(None)
        except ConvScopeError as exc:
            layers.append(None)
            build_errors.append(exc)
    # Same naming as Sequential, so the editor shows the names the built model will have.
    _unique_names([layer for layer in layers if layer is not None])

    rows: list[SummaryRow] = []
    shape = tuple(int(v) for v in input_shape) if input_shape is not None else None
    field = (1, 1, 1, 1) if shape is not None and len(shape) == 3 else None
    for index, (layer, err) in enumerate(zip(layers, build_errors, strict=True)):
        if layer is None:
            cfg = layer_configs[index]
            cls = cfg.get("class_name", "?") if isinstance(cfg, dict) else "?"
            rows.append(SummaryRow(index, str(cls).lower(), str(cls), shape, None, 0, "", "", str(err),
                                   exception=err))
            shape = None
            continue
        if shape is None:
            rows.append(SummaryRow(index, layer.name, type(layer).__name__, None, None, 0, "", "", None,
                                   layer.describe(), layer.trainable))
            continue
        row, shape = _row(index, layer, shape, field)
        rows.append(row)
        field = (*row.receptive_field, *row.receptive_jump) if row.receptive_field is not None else None
    if rows and num_classes is not None and shape is not None and shape != (int(num_classes),):
        exc = ArchitectureError("wrong_class_count", shape=Shape(shape), classes=int(num_classes))
        rows[-1] = replace(rows[-1], error=str(exc), exception=exc)
    return rows


class _in_layer:
    """Context: a layer's own error (or a hyperparameter of the wrong kind) becomes an
    :class:`ArchitectureError` naming the layer, the layer's error kept inside it."""

    def __init__(self, index: int, layer: Layer):
        self.index, self.layer = index, layer

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if exc is None or not isinstance(exc, (TypeError, ValueError)):
            return False
        if isinstance(exc, ArchitectureError) and exc.code == "in_layer":
            return False
        if not isinstance(exc, ConvScopeError):  # a hyperparameter of the wrong kind, e.g. padding=[1, 2, 3]
            exc = ShapeError("layer_bad_value", layer_class=type(self.layer).__name__, name=self.layer.name,
                             detail=str(exc))
        raise ArchitectureError.in_layer(self.index, self.layer.name, exc) from exc


class Sequential:
    """A linear stack of layers (Keras's ``Sequential``).

    The last layer returns logits; :meth:`predict_proba` applies the softmax. A trailing
    :class:`Softmax` layer or ``Dense(..., activation="softmax")`` is allowed: training then works on
    the logits before it (Keras's ``from_logits`` done automatically).
    """

    def __init__(self, layers=None, name: str = "sequential"):
        self.name = name
        self.layers: list[Layer] = list(layers or [])
        _unique_names(self.layers)
        self.input_shape: tuple | None = None
        self.built = False
        self.dtype = np.float32
        self._flat_params: np.ndarray | None = None
        self._flat_grads: np.ndarray | None = None
        self._slots: list[tuple[int, str, int, int, tuple]] = []

    # ---------------------------------------------------------------------------------------
    # construction
    # ---------------------------------------------------------------------------------------
    def add(self, layer: Layer) -> None:
        self.layers.append(layer)
        _unique_names(self.layers)
        self.built = False

    def build(self, input_shape: tuple, seed: int | None = 0, rng: np.random.Generator | None = None) -> Sequential:
        """Infer every shape and allocate the parameters (seeded; Keras initializers).

        Raises :class:`ArchitectureError` naming the first layer that cannot work and how to fix it.
        """
        shape = tuple(int(v) for v in input_shape)
        if len(shape) not in (1, 3) or min(shape) < 1:
            raise ArchitectureError("bad_input_shape", shape=input_shape)
        if not self.layers:
            raise ArchitectureError("no_layers")
        limits.check_layer_count(len(self.layers))
        limits.check_input_shape(shape)
        # Shapes and sizes first (pure arithmetic): nothing is allocated for a model that cannot work
        # or would not fit in memory.
        self.built = False
        total = 0
        for index, layer in enumerate(self.layers):
            with _in_layer(index, layer):
                limits.check_width(layer)
                total += layer.param_count(shape)
                shape = layer.output_shape(shape)
            if total > limits.MAX_PARAMS:
                raise ArchitectureError.in_layer(index, layer.name, LimitError("too_many_params", params=total,
                                                                           limit=limits.MAX_PARAMS))
        shape = tuple(int(v) for v in input_shape)
        rng = rng if rng is not None else np.random.default_rng(seed)
        for index, layer in enumerate(self.layers):
            with _in_layer(index, layer):
                layer.build(shape, rng)
            shape = layer.out_shape
        self.input_shape = tuple(int(v) for v in input_shape)
        self._consolidate()
        for layer in self.layers:
            layer.need_input_grad = True
            layer._owns_dy = True
        self.layers[0].need_input_grad = False
        self.built = True
        return self

    def _consolidate(self) -> None:
        """Move every parameter and gradient into one flat buffer (the layers keep views)."""
        self._slots = []
        offset = 0
        for i, layer in enumerate(self.layers):
            for key in layer.param_names:
                if key in layer.params:
                    p = layer.params[key]
                    self._slots.append((i, key, offset, p.size, p.shape))
                    offset += p.size
        flat_p = np.zeros(offset, self.dtype)
        flat_g = np.zeros(offset, self.dtype)
        for i, key, o, n, shape in self._slots:
            layer = self.layers[i]
            view = flat_p[o:o + n].reshape(shape)
            view[...] = layer.params[key]
            layer.params[key] = view
            layer.grads[key] = flat_g[o:o + n].reshape(shape)
        self._flat_params, self._flat_grads = flat_p, flat_g

    def _require_built(self) -> None:
        if not self.built:
            raise ArchitectureError("not_built")

    # ---------------------------------------------------------------------------------------
    # description
    # ---------------------------------------------------------------------------------------
    @property
    def output_shape(self) -> tuple | None:
        return self.layers[-1].out_shape if self.built else None

    @property
    def num_classes(self) -> int | None:
        out = self.output_shape
        return int(out[0]) if out is not None and len(out) == 1 else None

    def summary_rows(self, input_shape: tuple | None = None) -> list[SummaryRow]:
        """One :class:`SummaryRow` per layer (for ``input_shape`` or the built one)."""
        shape = input_shape if input_shape is not None else self.input_shape
        if shape is None:
            raise ArchitectureError("summary_needs_shape")
        return validate_architecture(self.layers, shape)

    @property
    def total_params(self) -> int:
        return int(sum(r.params for r in self.summary_rows()))

    @property
    def trainable_params(self) -> int:
        total = 0
        for layer in self.layers:
            if not layer.trainable:
                continue
            for p in layer.params.values():
                n = p.size
                frozen = getattr(layer, "frozen_filters", None)
                if frozen:
                    n -= len(frozen) * (p.size // p.shape[0])
                total += n
        return int(total)

    @property
    def non_trainable_params(self) -> int:
        return self.total_params - self.trainable_params

    def summary(self) -> str:
        """The Keras-style summary table as text (columns widen to fit long layer names)."""
        rows = self.summary_rows()
        labels = [f"{r.name} ({r.class_name})" for r in rows]
        shapes = [keras_shape(r.output_shape) for r in rows]
        w1 = max([29, *(len(s) + 2 for s in labels)])
        w2 = max([26, *(len(s) + 2 for s in shapes)])
        w3 = 10
        line_length = 1 + w1 + w2 + w3
        lines = [f'Model: "{self.name}"', "_" * line_length]
        lines.append(f" {'Layer (type)':<{w1}}{'Output Shape':<{w2}}{'Param #':<{w3}}".rstrip())
        lines.append("=" * line_length)
        for i, (r, label, shape) in enumerate(zip(rows, labels, shapes, strict=True)):
            lines.append(f" {label:<{w1}}{shape:<{w2}}{r.params:<{w3}}".rstrip())
            if i < len(rows) - 1:
                lines.append("")
        lines.append("=" * line_length)
        total = sum(r.params for r in rows)
        trainable = self.trainable_params if self.built else total
        lines.append(f"Total params: {total:,}")
        lines.append(f"Trainable params: {trainable:,}")
        lines.append(f"Non-trainable params: {total - trainable:,}")
        lines.append("_" * line_length)
        return "\n".join(lines)

    # ---------------------------------------------------------------------------------------
    # computation
    # ---------------------------------------------------------------------------------------
    def _prepare(self, x) -> np.ndarray:
        """uint8 pixels -> float32 in [0, 1]; a single sample gets a batch axis."""
        x = np.asarray(x)
        if self.input_shape is not None and x.shape == self.input_shape:
            x = x[None]
        if x.dtype == np.uint8:
            return to_float32(x)
        if x.dtype != self.dtype or not x.flags.c_contiguous:
            x = np.ascontiguousarray(x, dtype=self.dtype)
        if self.input_shape is not None and x.shape[1:] != self.input_shape:
            raise ShapeError("input_shape_mismatch", expected=Shape(self.input_shape), got=Shape(x.shape[1:]))
        return x

    @property
    def head(self) -> str:
        """Where the logits are: ``"plain"``, ``"softmax_layer"`` or ``"fused_softmax"``
        (see :func:`engine.inspection.output_head`, the one rule for training, ``predict_proba`` and
        inspection)."""
        return output_head(self.layers)

    def forward(self, x, training: bool = False, return_all: bool = False):
        """Run the network. Returns the last layer's output ``(N, K)``, or with ``return_all`` the list
        ``[input, layer0_out, layer1_out, ...]`` (arrays owned by the layers' caches: copy to keep)."""
        self._require_built()
        x = self._prepare(x)
        outs = [x]
        for layer in self.layers:
            x = layer.forward(x, training)
            if return_all:
                outs.append(x)
        return outs if return_all else x

    def logits(self, x, training: bool = False) -> np.ndarray:
        """Scores before any final softmax, ``(N, K)``."""
        self._require_built()
        x = self._prepare(x)
        head = self.head
        layers = self.layers[:-1] if head == "softmax_layer" else self.layers
        i, n = 0, len(layers)
        while i < n:
            layer = layers[i]
            if training and i + 1 < n and layer.fuses_with(layers[i + 1]):
                # training only: a ReLU convolution and the 2x2 max pooling after it in one pass
                x = layer.forward_pooled(x, layers[i + 1])
                i += 2
                continue
            x = layer.forward(x, training)
            i += 1
        if head == "fused_softmax":
            return self.layers[-1].pre_activation
        return x

    def backward_from_logits(self, dlogits: np.ndarray):
        """Backpropagate ``dL/dlogits`` through every layer (fills ``layer.grads``); returns ``dL/dx`` when
        the first layer computes it."""
        head = self.head
        layers = self.layers[:-1] if head == "softmax_layer" else self.layers
        d = dlogits
        last = len(layers) - 1
        for index in range(last, -1, -1):
            layer = layers[index]
            if layer.computed_by is not None:  # a pooling the convolution before it ran: it routes d itself
                continue
            if index == last and head == "fused_softmax":
                d = layer.backward_linear(d)
            else:
                d = layer.backward(d)
            if d is None:
                break
        return d

    def train_step(self, x: np.ndarray, y: np.ndarray, optimizer) -> tuple[float, np.ndarray]:
        """Forward, loss, backward and one optimizer update on a batch; returns ``(loss, logits)``.
        A non-finite loss leaves the weights untouched."""
        logits = self.logits(x, training=True)
        loss, dlogits = softmax_cross_entropy(logits, y)
        if not np.isfinite(loss):
            return loss, logits
        self.backward_from_logits(dlogits)
        self.apply_gradients(optimizer)
        return loss, logits

    def apply_gradients(self, optimizer) -> None:
        """One optimizer step over the flat buffer; frozen layers and frozen filters keep their values."""
        kept = []
        for layer in self.layers:
            if not layer.params:
                continue
            if not layer.trainable:
                kept.extend((p, slice(None), p.copy()) for p in layer.params.values())
            elif getattr(layer, "frozen_filters", None):
                idx = sorted(layer.frozen_filters)
                kept.extend((p, idx, p[idx].copy()) for p in layer.params.values())
        optimizer.update([self._flat_params], [self._flat_grads])
        for p, idx, values in kept:
            p[idx] = values

    def fit(self, x, y, optimizer=None, epochs: int = 1, batch_size: int = 32, validation_data=None,
            seed: int = 0, **callbacks):
        """Keras-style shortcut for :func:`engine.training.fit` (returns the list of ``EpochMetrics``)."""
        return fit(self, x, y, optimizer=optimizer, epochs=epochs, batch_size=batch_size,
                   validation_data=validation_data, seed=seed, **callbacks)

    def inspect(self, x) -> Inspection:
        """Every stage of the network for one image ``(C, H, W)``: see :func:`engine.inspection.inspect_model`."""
        self._require_built()
        return inspect_model(self, x)

    def predict_proba(self, x, batch_size: int = 256) -> np.ndarray:
        """Class probabilities ``(N, K)`` (a single ``(C, H, W)`` image gives ``(1, K)``)."""
        self._require_built()
        x = np.asarray(x)
        if self.input_shape is not None and x.shape == self.input_shape:
            x = x[None]
        parts = [softmax(np.asarray(self.logits(x[i:i + batch_size]), np.float64))
                 for i in range(0, len(x), batch_size)]
        if not parts:
            return np.zeros((0, self.num_classes or 0), np.float32)
        return np.concatenate(parts).astype(np.float32)

    def predict(self, x, batch_size: int = 256) -> np.ndarray:
        """Predicted class ids ``(N,)``."""
        return self.predict_proba(x, batch_size).argmax(axis=1)

    def evaluate(self, x, y, batch_size: int = 256) -> EvalResult:
        """Mean loss, accuracy and confusion matrix over ``(x, y)`` (inference mode, batched)."""
        steps = self.evaluate_steps(x, y, batch_size)
        while True:
            try:
                next(steps)
            except StopIteration as end:
                return end.value

    def evaluate_steps(self, x, y, batch_size: int = 256):
        """:meth:`evaluate` one batch at a time: a generator that yields the number of images done
        after each batch and returns the :class:`EvalResult` (``StopIteration.value``). A caller can
        report progress or let other threads run between batches; the result is the same."""
        self._require_built()
        y = np.asarray(y, np.int64)
        n = len(y)
        k = self.num_classes
        if k is None:
            raise ArchitectureError("evaluate_needs_classes")
        probs = np.empty((n, k), np.float32)
        total = 0.0
        for i in range(0, n, batch_size):
            logits = self.logits(x[i:i + batch_size])
            loss, _ = softmax_cross_entropy(np.asarray(logits, np.float64), y[i:i + batch_size])
            total += loss * len(logits)
            probs[i:i + len(logits)] = softmax(np.asarray(logits, np.float64))
            yield i + len(logits)
        pred = probs.argmax(axis=1) if n else np.zeros(0, np.int64)
        confusion = np.bincount(y * k + pred, minlength=k * k).reshape(k, k).astype(np.int64)
        return EvalResult(
            loss=total / n if n else float("nan"),
            accuracy=float((pred == y).mean()) if n else float("nan"),
            confusion=confusion,
            predictions=pred.astype(np.int64),
            probabilities=probs,
        )

    def input_gradient(self, x1, class_index: int) -> np.ndarray:
        """Saliency: ``d logit[class_index] / d pixels`` for one image, shape ``(C, H, W)``.

        Leaves the layers' parameter gradients as they were (a gradient view may be showing them).
        """
        self._require_built()
        x = self._prepare(x1)
        if x.shape[0] != 1:
            raise ShapeError("one_image_only", count=x.shape[0])
        saved = self._flat_grads.copy()
        first = self.layers[0]
        first.need_input_grad = True
        try:
            logits = self.logits(x)
            d = np.zeros_like(logits)
            d[0, int(class_index)] = 1
            dx = self.backward_from_logits(d)
        finally:
            first.need_input_grad = False
            self._flat_grads[...] = saved
        return np.asarray(dx[0], np.float32)

    # ---------------------------------------------------------------------------------------
    # weights and configuration
    # ---------------------------------------------------------------------------------------
    def get_weights(self) -> list[dict[str, np.ndarray]]:
        """Copies of every layer's parameters (``{}`` for parameter-free layers)."""
        return [{k: v.copy() for k, v in layer.params.items()} for layer in self.layers]

    def set_weights(self, weights) -> None:
        """Copy ``weights`` (as returned by :meth:`get_weights`) into the model, checking every shape."""
        self._require_built()
        if len(weights) != len(self.layers):
            raise ShapeError("weights_layer_count", got=len(weights), expected=len(self.layers))
        for layer, w in zip(self.layers, weights, strict=True):
            if set(w) != set(layer.params):
                raise ShapeError("weights_keys", name=layer.name, expected=sorted(layer.params), got=sorted(w))
            for key, value in w.items():
                value = np.asarray(value)
                if value.shape != layer.params[key].shape:
                    raise ShapeError("weights_shape", name=layer.name, key=key, expected=layer.params[key].shape,
                                     got=value.shape)
        for layer, w in zip(self.layers, weights, strict=True):
            for key, value in w.items():
                layer.params[key][...] = value

    def get_flat_weights(self) -> np.ndarray:
        """Every parameter in one float32 vector (a copy)."""
        self._require_built()
        return self._flat_params.copy()

    def set_flat_weights(self, flat: np.ndarray) -> None:
        self._require_built()
        if flat.shape != self._flat_params.shape:
            raise ShapeError("flat_weights_size", expected=self._flat_params.size, got=flat.size)
        self._flat_params[...] = flat

    @property
    def flat_params(self) -> np.ndarray:
        """The live flat parameter buffer (views of it are ``layer.params``)."""
        return self._flat_params

    @property
    def flat_grads(self) -> np.ndarray:
        return self._flat_grads

    def get_config(self) -> dict:
        return {
            "name": self.name,
            "input_shape": list(self.input_shape) if self.input_shape is not None else None,
            "layers": [layer.get_config() for layer in self.layers],
        }

    @classmethod
    def from_config(cls, config: dict, seed: int | None = 0) -> Sequential:
        """Rebuild a model (built when the config has an input shape; weights freshly initialized)."""
        if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
            raise ArchitectureError("model_config_malformed")
        model = cls([layer_from_config(c) for c in config["layers"]], name=str(config.get("name", "sequential")))
        if config.get("input_shape") is not None:
            model.build(tuple(config["input_shape"]), seed=seed)
        return model

    def clone(self) -> Sequential:
        """An independent deep copy (same architecture, names, frozen flags and weights)."""
        model = Sequential.from_config(self.get_config())
        if self.built:
            model.set_flat_weights(self._flat_params)
        return model

    def __repr__(self) -> str:
        shape = format_shape(self.input_shape) if self.input_shape else "unbuilt"
        return f"Sequential(name={self.name!r}, layers={len(self.layers)}, input={shape})"
