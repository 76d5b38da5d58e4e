"""Export a :class:`engine.network.Sequential` to ONNX, so Netron can open it and onnxruntime can run it.

The ``onnx`` package is an optional dependency: it is imported only inside :func:`export_onnx`, so
the engine imports and trains without it, and a missing package becomes a clear
:class:`OnnxUnavailableError` instead of an ``ImportError`` at start-up.

Mapping (our layer -> ONNX operators, opset 17)
------------------------------------------------
- ``Conv2D`` -> ``Conv`` with explicit ``pads``. Keras ``padding="same"`` puts the extra row/column at
  the bottom/right; :func:`engine.shapes.resolve_padding` gives the exact begin/end pads, so no
  ``auto_pad`` guessing is involved. ONNX ``Conv`` is a cross-correlation: a layer in
  ``mode="convolution"`` (true convolution, kernel flipped) is exported with its weights flipped
  along both spatial axes, which computes the same numbers.
- ``MaxPooling2D`` / ``AveragePooling2D`` -> ``MaxPool`` / ``AveragePool`` with explicit pads;
  ``AveragePool`` uses ``count_include_pad=0`` so padded cells are not counted, like Keras "same".
- ``Flatten`` -> ``Flatten(axis=1)``. Our activations are ``(N, C, H, W)`` and our ``Flatten``
  reads them in that (C, H, W) order, exactly like ONNX's on an NCHW tensor, so the following
  ``Dense`` weights need no permutation.
- ``Dense`` -> ``Gemm`` (``Y = X @ W + b``; our ``W`` is ``(D_in, D_out)`` so ``transB=0``).
- ``ReLU``/``Sigmoid``/``Tanh``/``LeakyReLU``/``Softmax`` (and the fused ``activation=`` of
  ``Conv2D``/``Dense``) -> ``Relu``/``Sigmoid``/``Tanh``/``LeakyRelu``/``Softmax``.
- ``Dropout`` -> nothing: at inference it is the identity (inverted dropout scales while training).

The graph input is ``input``: float32 ``(N, C, H, W)`` with pixels scaled to ``[0, 1]`` (uint8 / 255),
the same as our model sees. The first output is what ``model.forward`` returns: ``logits``, or
``probabilities`` when the model ends in a softmax. With ``include_softmax=True`` a model that ends
in logits gets a second output ``probabilities`` equal to ``model.predict_proba``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from engine.catalog import ACTIVATION_LAYERS
from engine.errors import ConvScopeError
from engine.shapes import pair, resolve_padding_2d

OPSET = 17
# IR 8 is what opset 17 shipped with; older onnxruntime and Netron builds open it.
IR_VERSION = 8


class OnnxUnavailableError(ConvScopeError):
    """The optional ``onnx`` package is not installed."""


class OnnxExportError(ConvScopeError):
    """The model holds something ONNX export does not support (the message names the layer)."""


def onnx_available() -> bool:
    """True when the optional ``onnx`` package can be imported."""
    try:
        import onnx  # noqa: F401
    except ImportError:
        return False
    return True


def _import_onnx():
    try:
        import onnx
        from onnx import TensorProto, helper, numpy_helper
    except ImportError as exc:
        raise OnnxUnavailableError("onnx_missing", detail=str(exc)) from None
    return onnx, TensorProto, helper, numpy_helper


def _pair(value) -> tuple[int, int]:
    h, w = pair(value)
    return int(h), int(w)


_ACTIVATIONS = {
    "relu": "Relu",
    "sigmoid": "Sigmoid",
    "tanh": "Tanh",
    "softmax": "Softmax",
    "leaky_relu": "LeakyRelu",
    "leakyrelu": "LeakyRelu",
}


class _GraphBuilder:
    """Accumulates nodes and initializers with unique, readable names."""

    def __init__(self, helper, numpy_helper):
        self.helper = helper
        self.numpy_helper = numpy_helper
        self.nodes = []
        self.initializers = []
        self.used: set[str] = set()

    def unique(self, base: str) -> str:
        name, k = base, 1
        while name in self.used:
            name = f"{base}_{k}"
            k += 1
        self.used.add(name)
        return name

    def constant(self, name: str, array: np.ndarray) -> str:
        name = self.unique(name)
        self.initializers.append(self.numpy_helper.from_array(np.ascontiguousarray(array), name=name))
        return name

    def node(self, op: str, inputs: list[str], name: str, **attrs) -> str:
        out = self.unique(name)
        self.nodes.append(self.helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    def activation(self, kind, x: str, layer_name: str, rank: int, alpha: float | None = None) -> str:
        if kind is None:
            return x
        key = str(kind).lower()
        if key in ("linear", "none", ""):
            return x
        op = _ACTIVATIONS.get(key)
        if op is None:
            raise OnnxExportError("onnx_activation", layer=layer_name, activation=kind,
                                  choices=", ".join(sorted(set(_ACTIVATIONS))))
        attrs = {}
        if op == "LeakyRelu":
            attrs["alpha"] = float(0.3 if alpha is None else alpha)
        if op == "Softmax":
            # Our softmax runs over the feature axis of (N, D) activations and over channels of
            # (N, C, H, W) ones; axis=1 is both (opset >= 13 normalises over that one axis).
            attrs["axis"] = 1
        return self.node(op, [x], f"{layer_name}_{op.lower()}", **attrs)


def _config(layer) -> tuple[str, dict]:
    cfg = layer.get_config()
    return cfg["class_name"], dict(cfg.get("config", {}))


def _weights(layer) -> dict[str, np.ndarray]:
    return {k: np.asarray(v, dtype=np.float32) for k, v in layer.params.items()}


def _pads(padding, h: int, w: int, kh: int, kw: int, sh: int, sw: int, what: str) -> list[int]:
    if isinstance(padding, list):  # from a JSON config: [ph, pw] or [[top, bottom], [left, right]]
        padding = tuple(tuple(p) if isinstance(p, list) else p for p in padding)
    ph, pw = resolve_padding_2d(padding, h, w, kh, kw, sh, sw, what)
    # ONNX order: [top, left, bottom, right]
    return [ph.before, pw.before, ph.after, pw.after]


def _ends_in_softmax(model) -> bool:
    last = model.layers[-1] if model.layers else None
    if last is None:
        return False
    class_name, cfg = _config(last)
    return class_name == "Softmax" or str(cfg.get("activation") or "").lower() == "softmax"


def build_onnx_model(model, include_softmax: bool = False, metadata: dict | None = None):
    """Return the ``onnx.ModelProto`` of a built ``Sequential`` (weights copied as float32).

    Raises :class:`OnnxUnavailableError` without the ``onnx`` package and :class:`OnnxExportError`
    when the model is not built or holds a layer ONNX cannot express.
    """
    onnx, TensorProto, helper, numpy_helper = _import_onnx()
    input_shape = getattr(model, "input_shape", None)
    if not input_shape:
        raise OnnxExportError("onnx_unbuilt")
    g = _GraphBuilder(helper, numpy_helper)
    x = "input"
    g.used.add(x)
    shape = tuple(int(v) for v in input_shape)

    for index, layer in enumerate(model.layers):
        class_name, cfg = _config(layer)
        lname = str(getattr(layer, "name", None) or cfg.get("name") or f"layer{index}")
        out_shape = tuple(int(v) for v in layer.output_shape(shape))

        if class_name == "Conv2D":
            p = _weights(layer)
            if "W" not in p:
                raise OnnxExportError("onnx_no_weights", layer=lname)
            w = p["W"]
            if str(cfg.get("mode", "cross_correlation")).lower() == "convolution":
                # True convolution slides the flipped kernel; ONNX Conv does not flip.
                w = w[:, :, ::-1, ::-1]
            kh, kw = int(w.shape[2]), int(w.shape[3])
            sh, sw = _pair(cfg.get("strides", 1))
            _, h, wd = shape
            pads = _pads(cfg.get("padding", "valid"), h, wd, kh, kw, sh, sw, "kernel")
            inputs = [x, g.constant(f"{lname}_W", w.astype(np.float32))]
            if p.get("b") is not None and cfg.get("use_bias", True):
                inputs.append(g.constant(f"{lname}_b", p["b"].astype(np.float32)))
            x = g.node("Conv", inputs, lname, kernel_shape=[kh, kw], strides=[sh, sw], pads=pads,
                       dilations=[1, 1], group=1)
            x = g.activation(cfg.get("activation"), x, lname, 4)

        elif class_name in ("MaxPooling2D", "AveragePooling2D"):
            kh, kw = _pair(cfg.get("pool_size", 2))
            strides = cfg.get("strides")
            sh, sw = _pair(strides) if strides is not None else (kh, kw)
            _, h, wd = shape
            pads = _pads(cfg.get("padding", "valid"), h, wd, kh, kw, sh, sw, "pool window")
            if class_name == "MaxPooling2D":
                x = g.node("MaxPool", [x], lname, kernel_shape=[kh, kw], strides=[sh, sw], pads=pads)
            else:
                x = g.node("AveragePool", [x], lname, kernel_shape=[kh, kw], strides=[sh, sw], pads=pads,
                           count_include_pad=0)

        elif class_name == "Flatten":
            x = g.node("Flatten", [x], lname, axis=1)

        elif class_name == "Dense":
            p = _weights(layer)
            if "W" not in p:
                raise OnnxExportError("onnx_no_weights", layer=lname)
            if len(shape) != 1:
                raise OnnxExportError("onnx_dense_needs_flat", layer=lname, shape=shape)
            inputs = [x, g.constant(f"{lname}_W", p["W"])]
            if p.get("b") is not None:
                inputs.append(g.constant(f"{lname}_b", p["b"]))
            x = g.node("Gemm", inputs, lname, alpha=1.0, beta=1.0, transA=0, transB=0)
            x = g.activation(cfg.get("activation"), x, lname, 2)

        elif class_name in ACTIVATION_LAYERS:
            kind = ACTIVATION_LAYERS[class_name]
            x = g.activation(kind, x, lname, len(shape) + 1, alpha=cfg.get("alpha"))

        elif class_name == "Dropout":
            pass  # identity at inference

        else:
            raise OnnxExportError("onnx_unsupported_layer", layer=lname, layer_class=class_name)
        shape = out_shape

    # The graph's first output is exactly what ``model.forward`` returns: logits, or probabilities
    # when the model itself ends in a softmax (then no second softmax is added).
    ends_in_softmax = _ends_in_softmax(model)
    outputs = []
    out_dims = ["N", *shape]
    first = g.node("Identity", [x], "probabilities" if ends_in_softmax else "logits")
    outputs.append(helper.make_tensor_value_info(first, TensorProto.FLOAT, out_dims))
    if include_softmax and not ends_in_softmax:
        if len(shape) != 1:
            raise OnnxExportError("onnx_probabilities_need_flat", shape=shape)
        probs = g.node("Softmax", [first], "probabilities", axis=1)
        outputs.append(helper.make_tensor_value_info(probs, TensorProto.FLOAT, out_dims))

    graph = helper.make_graph(
        g.nodes,
        str(getattr(model, "name", None) or "convscope_model"),
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", *input_shape])],
        outputs,
        initializer=g.initializers,
    )
    proto = helper.make_model(
        graph,
        producer_name="ConvScope",
        opset_imports=[helper.make_opsetid("", OPSET)],
        doc_string="Input: float32 (N, C, H, W), pixels scaled to [0, 1] (uint8 / 255). Output: logits.",
    )
    proto.ir_version = IR_VERSION
    props = {"input_scaling": "uint8 / 255", "layout": "NCHW"}
    for key, value in (metadata or {}).items():
        props[str(key)] = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    helper.set_model_props(proto, props)
    onnx.checker.check_model(proto)
    return proto


def export_onnx(model, path, include_softmax: bool = False, metadata: dict | None = None) -> Path:
    """Write ``model`` to ``path`` as an ONNX file and return the path.

    Parameters
    ----------
    model : built ``Sequential`` (its current weights are exported)
    path : destination; ``.onnx`` is appended when missing
    include_softmax : also output ``probabilities`` (softmax of the logits)
    metadata : extra ``metadata_props`` (e.g. ``{"class_names": [...]}``), JSON-encoded when not str
    """
    proto = build_onnx_model(model, include_softmax=include_softmax, metadata=metadata)
    path = Path(path)
    if path.suffix.lower() != ".onnx":
        path = path.with_name(path.name + ".onnx")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(proto.SerializeToString())
    except OSError as exc:
        raise ConvScopeError("onnx_write_failed", path=str(path), detail=str(exc.strerror or exc)) from None
    return path
