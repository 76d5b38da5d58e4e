"""The code behind the model: the current architecture as the Keras or PyTorch code the books use.

```python
src = keras_code(model, optimizer=Adam(0.001), training={"dataset": "mnist", "batch_size": 64, "epochs": 5})
src = pytorch_code(model, optimizer="adam", training={...})           # nn.Sequential, NCHW, a training loop
export_weights(model_or_model_file, "weights_keras.npz", framework="keras" | "pytorch")
```

The generated source is complete: imports, the model, compile/fit (Keras) or the training loop
(PyTorch), a comment with each layer's output shape and parameter count, and a function that loads
the weights written by :func:`export_weights`. The weights file is a plain ``.npz`` of named arrays
(read with ``allow_pickle=False``) in the framework's own layouts:

=================  =====================  ==========================  ========================
ConvScope          ConvScope layout       Keras                       PyTorch
=================  =====================  ==========================  ========================
Conv2D ``W``       ``(F, C, K, K)``       ``(K, K, C, F)`` (HWIO)     ``(F, C, K, K)`` (OIHW)
Dense ``W``        ``(D_in, D_out)``      ``(D_in, D_out)``           ``(D_out, D_in)``
=================  =====================  ==========================  ========================

Flatten order: ConvScope and PyTorch flatten a ``(C, H, W)`` volume channel first, Keras flattens
``(H, W, C)`` channel last; the rows of the first Dense after a Flatten are permuted for Keras. A
Conv2D trained in ``mode="convolution"`` flips its kernel when it slides, so its exported kernel is
flipped once: both frameworks then compute the same numbers with their cross-correlation.
Numeric or asymmetric ("same" with stride) padding becomes explicit padding layers. No Qt, no
framework import here: the generated code is text.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.errors import ConvScopeError
from engine.layers import (
    AveragePooling2D,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    LeakyReLU,
    MaxPooling2D,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
    layer_from_config,
)
from engine.network import Sequential
from engine.optimizers import Optimizer, optimizer_from_config

__all__ = ["keras_code", "pytorch_code", "export_weights", "weight_arrays", "FRAMEWORKS", "DEFAULT_LEAKY_ALPHA"]

FRAMEWORKS = ("keras", "pytorch")
DEFAULT_LEAKY_ALPHA = 0.3   # the engine's fused leaky_relu slope (Keras 2's LeakyReLU default)
_KERAS_DATASETS = {"mnist": "mnist", "fashion_mnist": "fashion_mnist"}
_IDX_FILES = {"mnist": "mnist", "fashion_mnist": "fashion-mnist"}


@dataclass(frozen=True)
class _Row:
    index: int
    layer: object
    in_shape: tuple
    out_shape: tuple
    params: int


def _as_model(model_or_config, input_shape) -> Sequential:
    """A built model (weights of a fresh build when only a config is given)."""
    if isinstance(model_or_config, Sequential):
        if model_or_config.built and (input_shape is None or tuple(input_shape) == model_or_config.input_shape):
            return model_or_config
        shape = input_shape or model_or_config.input_shape
        model = Sequential.from_config({**model_or_config.get_config(), "input_shape": None})
    elif isinstance(model_or_config, dict):
        shape = input_shape or model_or_config.get("input_shape")
        model = Sequential.from_config({**model_or_config, "input_shape": None})
    else:
        shape = input_shape
        model = Sequential([c if not isinstance(c, dict) else layer_from_config(c) for c in model_or_config])
    if shape is None:
        raise ConvScopeError("codegen_needs_input_shape")
    return model.build(tuple(int(v) for v in shape))


def _rows(model: Sequential) -> list[_Row]:
    rows, shape = [], model.input_shape
    for i, layer in enumerate(model.layers):
        out = layer.output_shape(shape)
        rows.append(_Row(i, layer, shape, out, layer.param_count(shape)))
        shape = out
    return rows


def _hwc(shape) -> str:
    if len(shape) == 3:
        return f"({shape[1]}, {shape[2]}, {shape[0]})"
    return f"({shape[0]},)"


def _nchw(shape) -> str:
    if len(shape) == 3:
        return f"(N, {shape[0]}, {shape[1]}, {shape[2]})"
    return f"(N, {shape[0]})"


def _optimizer(optimizer) -> Optimizer:
    if optimizer is None:
        return optimizer_from_config("Adam")
    if isinstance(optimizer, Optimizer):
        return optimizer
    return optimizer_from_config(optimizer)


def _training(training: dict | None) -> dict:
    t = {"dataset": "mnist", "batch_size": 32, "epochs": 5, "seed": 0}
    t.update(training or {})
    return t


def _pads(layer) -> tuple[int, int, int, int]:
    return tuple(int(v) for v in getattr(layer, "padding_pixels", (0, 0, 0, 0)))


def _is_symmetric(p) -> bool:
    return p[0] == p[1] == p[2] == p[3]


def _fused(layer) -> str | None:
    act = getattr(layer, "activation", None)
    return None if act in (None, "linear") else act


def _first_dense_after_flatten(rows: list[_Row]) -> dict[int, tuple]:
    """Dense layer index -> the (C, H, W) volume its Flatten unrolled (for Keras's row order)."""
    out, volume = {}, None
    for r in rows:
        if isinstance(r.layer, Flatten) and len(r.in_shape) == 3:
            volume = r.in_shape
        elif isinstance(r.layer, Dense):
            if volume is not None and volume[0] > 1 and volume[1] * volume[2] > 1:
                out[r.index] = volume
            volume = None
        elif not isinstance(r.layer, (Dropout, ReLU, Sigmoid, Tanh, LeakyReLU, Softmax)):
            volume = None
    return out


def _ends_with_softmax(rows: list[_Row]) -> bool:
    last = rows[-1].layer
    return isinstance(last, Softmax) or (isinstance(last, Dense) and last.activation == "softmax")


# -- weights -------------------------------------------------------------------------------------
def _torch_modules(rows: list[_Row]) -> list[tuple[int | None, str, str]]:
    """(engine layer index or None, module code, comment) in nn.Sequential order."""
    mods = []
    for r in rows:
        layer, out = r.layer, r.out_shape
        shape_note = f"-> {_nchw(out)}"
        if isinstance(layer, Conv2D):
            p = _pads(layer)
            k, s = layer.kernel_size, layer.strides
            if _is_symmetric(p):
                pad = p[0]
            else:
                mods.append((None, f"nn.ZeroPad2d(({p[2]}, {p[3]}, {p[0]}, {p[1]}))",
                             "'same' padding: extra at bottom/right"))
                pad = 0
            bias = "" if layer.use_bias else ", bias=False"
            flip = "  (trained in convolution mode: exported kernel flipped)" if layer.mode == "convolution" else ""
            mods.append((r.index, f"nn.Conv2d({r.in_shape[0]}, {layer.filters}, kernel_size={k}, stride={s}, "
                                  f"padding={pad}{bias})", f"{layer.name} {shape_note}, {r.params:,} params{flip}"))
            mods.extend(_torch_activation(_fused(layer)))
        elif isinstance(layer, (MaxPooling2D, AveragePooling2D)):
            p = _pads(layer)
            k = layer.pool_size
            s = layer.strides or k
            is_max = isinstance(layer, MaxPooling2D)
            if p == (0, 0, 0, 0):
                cls = "MaxPool2d" if is_max else "AvgPool2d"
                mods.append((r.index, f"nn.{cls}(kernel_size={k}, stride={s})", f"{layer.name} {shape_note}"))
            elif is_max:
                mods.append((None, f"nn.ConstantPad2d(({p[2]}, {p[3]}, {p[0]}, {p[1]}), float('-inf'))",
                             "padding never wins a max"))
                mods.append((r.index, f"nn.MaxPool2d(kernel_size={k}, stride={s})", f"{layer.name} {shape_note}"))
            else:
                mods.append((r.index, f"PaddedAvgPool2d({k}, {s}, ({p[2]}, {p[3]}, {p[0]}, {p[1]}))",
                             f"{layer.name} {shape_note}, padding not counted in the mean"))
        elif isinstance(layer, Dense):
            bias = "" if layer.use_bias else ", bias=False"
            mods.append((r.index, f"nn.Linear({r.in_shape[0]}, {layer.units}{bias})",
                         f"{layer.name} {shape_note}, {r.params:,} params"))
            mods.extend(_torch_activation(_fused(layer)))
        elif isinstance(layer, Flatten):
            mods.append((r.index, "nn.Flatten()", f"{layer.name} {shape_note} (channels first, like ConvScope)"))
        elif isinstance(layer, Dropout):
            mods.append((r.index, f"nn.Dropout(p={layer.rate})", f"{layer.name}"))
        elif isinstance(layer, LeakyReLU):
            mods.append((r.index, f"nn.LeakyReLU({layer.alpha})", layer.name))
        elif isinstance(layer, (ReLU, Sigmoid, Tanh, Softmax)):
            mods.extend((r.index, code, layer.name) for _, code, _ in _torch_activation(layer.kind))
        else:
            raise ConvScopeError("codegen_unknown_layer", framework="PyTorch", layer_class=type(layer).__name__)
    return mods


def _torch_activation(kind):
    table = {"relu": "nn.ReLU()", "sigmoid": "nn.Sigmoid()", "tanh": "nn.Tanh()",
             "leaky_relu": f"nn.LeakyReLU({DEFAULT_LEAKY_ALPHA})", "softmax": "nn.Softmax(dim=1)"}
    return [] if kind is None else [(None, table[kind], "")]


def weight_arrays(model: Sequential, framework: str) -> dict[str, np.ndarray]:
    """Named float32 arrays in ``framework``'s layouts (see the module docstring)."""
    if framework not in FRAMEWORKS:
        raise ConvScopeError("codegen_unknown_framework", choices=", ".join(FRAMEWORKS), framework=framework)
    rows = _rows(model)
    arrays: dict[str, np.ndarray] = {}
    if framework == "keras":
        permute = _first_dense_after_flatten(rows)
        for r in rows:
            layer = r.layer
            if isinstance(layer, Conv2D):
                w = layer.params["W"]
                if layer.mode == "convolution":
                    w = w[:, :, ::-1, ::-1]
                arrays[f"{layer.name}.kernel"] = np.transpose(w, (2, 3, 1, 0))
            elif isinstance(layer, Dense):
                w = layer.params["W"]
                if r.index in permute:
                    c, h, wd = permute[r.index]
                    w = w.reshape(c, h, wd, -1).transpose(1, 2, 0, 3).reshape(c * h * wd, -1)
                arrays[f"{layer.name}.kernel"] = w
            else:
                continue
            if "b" in layer.params:
                arrays[f"{layer.name}.bias"] = layer.params["b"]
    else:
        for position, (index, _, _) in enumerate(_torch_modules(rows)):
            if index is None:
                continue
            layer = rows[index].layer
            if isinstance(layer, Conv2D):
                w = layer.params["W"]
                arrays[f"{position}.weight"] = w[:, :, ::-1, ::-1] if layer.mode == "convolution" else w
            elif isinstance(layer, Dense):
                arrays[f"{position}.weight"] = layer.params["W"].T
            else:
                continue
            if "b" in layer.params:
                arrays[f"{position}.bias"] = layer.params["b"]
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in arrays.items()}


def export_weights(model_or_file, path, framework: str = "keras") -> Path:
    """Write the weights of a model (or of a ConvScope model file) as a plain ``.npz`` for ``framework``."""
    if isinstance(model_or_file, Sequential):
        model = model_or_file
    else:
        from engine.persistence import load_model

        model, _ = load_model(model_or_file)
    if not model.built:
        raise ConvScopeError("codegen_needs_weights")
    path = Path(path)
    if path.suffix.lower() != ".npz":
        path = path.with_name(path.name + ".npz")
    np.savez(path, **weight_arrays(model, framework))
    return path


# -- Keras -----------------------------------------------------------------------------------------
def _keras_activation_layers(kind, name):
    if kind is None:
        return []
    if kind == "leaky_relu":
        return [f"layers.LeakyReLU(negative_slope={DEFAULT_LEAKY_ALPHA}, name={name + '_leaky_relu'!r})"]
    return [f"layers.Activation({kind!r}, name={name + '_' + kind!r})"]


def _keras_layer_lines(r: _Row) -> list[tuple[str, str]]:
    layer = r.layer
    name = layer.name
    note = f"{name}: output {_hwc(r.out_shape)}, {r.params:,} params"
    lines: list[tuple[str, str]] = []
    if isinstance(layer, Conv2D):
        p = _pads(layer)
        padding = "valid"
        if layer.padding == "same":
            padding = "same"
        elif p != (0, 0, 0, 0):
            lines.append((f"layers.ZeroPadding2D((({p[0]}, {p[1]}), ({p[2]}, {p[3]})), name={name + '_pad'!r})",
                          f"padding={layer.padding!r} as explicit zeros"))
        act = _fused(layer)
        args = [str(layer.filters), str(layer.kernel_size)]
        if layer.strides != 1:
            args.append(f"strides={layer.strides}")
        if act and act != "leaky_relu":
            args.append(f"activation={act!r}")
        if padding != "valid":
            args.append(f"padding={padding!r}")
        if not layer.use_bias:
            args.append("use_bias=False")
        args.append(f"name={name!r}")
        flip = " (convolution mode: exported kernel flipped)" if layer.mode == "convolution" else ""
        lines.append((f"layers.Conv2D({', '.join(args)})", note + flip))
        if act == "leaky_relu":
            lines.extend((code, "") for code in _keras_activation_layers(act, name))
    elif isinstance(layer, (MaxPooling2D, AveragePooling2D)):
        cls = "MaxPooling2D" if isinstance(layer, MaxPooling2D) else "AveragePooling2D"
        args = [str(layer.pool_size)]
        if layer.strides is not None and layer.strides != layer.pool_size:
            args.append(f"strides={layer.strides}")
        if layer.padding == "same":
            args.append("padding='same'")
        elif _pads(layer) != (0, 0, 0, 0):
            raise ConvScopeError("codegen_keras_pool_padding", name=name)
        args.append(f"name={name!r}")
        lines.append((f"layers.{cls}({', '.join(args)})", note))
    elif isinstance(layer, Dense):
        act = _fused(layer)
        args = [str(layer.units)]
        if act and act != "leaky_relu":
            args.append(f"activation={act!r}")
        if not layer.use_bias:
            args.append("use_bias=False")
        args.append(f"name={name!r}")
        lines.append((f"layers.Dense({', '.join(args)})", note))
        if act == "leaky_relu":
            lines.extend((code, "") for code in _keras_activation_layers(act, name))
    elif isinstance(layer, Flatten):
        lines.append((f"layers.Flatten(name={name!r})", note + " (Keras flattens H, W, C: channels last)"))
    elif isinstance(layer, Dropout):
        lines.append((f"layers.Dropout({layer.rate}, name={name!r})", note))
    elif isinstance(layer, LeakyReLU):
        lines.append((f"layers.LeakyReLU(negative_slope={layer.alpha}, name={name!r})", note))
    elif isinstance(layer, ReLU):
        lines.append((f"layers.ReLU(name={name!r})", note))
    elif isinstance(layer, Softmax):
        lines.append((f"layers.Softmax(name={name!r})", note))
    elif isinstance(layer, (Sigmoid, Tanh)):
        lines.append((f"layers.Activation({layer.kind!r}, name={name!r})", note))
    else:
        raise ConvScopeError("codegen_unknown_layer", framework="Keras", layer_class=type(layer).__name__)
    return lines


def _keras_optimizer(opt: Optimizer) -> str:
    name = type(opt).__name__
    lr = f"learning_rate={opt.learning_rate!r}"
    if name == "SGD":
        extra = f", momentum={opt.momentum!r}" if opt.momentum else ""
        extra += ", nesterov=True" if opt.nesterov else ""
        return f"keras.optimizers.SGD({lr}{extra})"
    if name == "Adam":
        return (f"keras.optimizers.Adam({lr}, beta_1={opt.beta_1!r}, beta_2={opt.beta_2!r}, "
                f"epsilon={opt.epsilon!r})")
    momentum = f", momentum={opt.momentum!r}" if getattr(opt, "momentum", 0.0) else ""
    return f"keras.optimizers.RMSprop({lr}, rho={opt.rho!r}, epsilon={opt.epsilon!r}{momentum})"


def keras_code(model_or_config, input_shape=None, optimizer=None, training: dict | None = None) -> str:
    """Keras source for the model: ``keras.Sequential([...])``, compile, fit and a weights loader.

    ``model_or_config``: a :class:`Sequential`, its config, or a list of layer configs;
    ``input_shape``: ``(C, H, W)`` (defaults to the model's); ``optimizer``: an optimizer, its config
    or name; ``training``: ``{"dataset", "batch_size", "epochs", "seed"}``.
    """
    model = _as_model(model_or_config, input_shape)
    rows = _rows(model)
    opt = _optimizer(optimizer)
    t = _training(training)
    c, h, w = model.input_shape
    softmax_out = _ends_with_softmax(rows)
    body = [f"    keras.Input(shape=({h}, {w}, {c})),  # input {h}x{w}x{c} (Keras: height, width, channels)"]
    for r in rows:
        for code, note in _keras_layer_lines(r):
            body.append(f"    {code},  # {note}" if note else f"    {code},")
    total = sum(r.params for r in rows)
    dataset = t["dataset"]
    if dataset in _KERAS_DATASETS:
        data = (f"(x_train, y_train), (x_test, y_test) = keras.datasets.{_KERAS_DATASETS[dataset]}.load_data()\n"
                f"x_train = x_train.reshape(-1, {h}, {w}, {c}).astype(\"float32\") / 255\n"
                f"x_test = x_test.reshape(-1, {h}, {w}, {c}).astype(\"float32\") / 255")
    else:
        data = ("# ConvScope's dataset " + repr(dataset) + " has no Keras loader: save it as an .npz with\n"
                "# x_train (N, H, W, C) uint8, y_train, x_test, y_test and load it here.\n"
                "data = np.load(\"dataset.npz\")\n"
                "x_train, y_train = data[\"x_train\"].astype(\"float32\") / 255, data[\"y_train\"]\n"
                "x_test, y_test = data[\"x_test\"].astype(\"float32\") / 255, data[\"y_test\"]")
    loss = ("keras.losses.SparseCategoricalCrossentropy()" if softmax_out
            else "keras.losses.SparseCategoricalCrossentropy(from_logits=True)")
    return f'''"""{model.name}: generated by ConvScope from the current architecture (Keras 3).

Input {h}x{w}x{c}, {len(rows)} layers, {total:,} parameters.
"""
import os

import numpy as np
import keras
from keras import layers

keras.utils.set_random_seed({int(t["seed"])})

model = keras.Sequential([
{chr(10).join(body)}
], name={model.name!r})
# total parameters: {total:,}


def load_convscope_weights(model, path="{model.name}_weights_keras.npz"):
    """Load the weights exported by ConvScope (kernels already in Keras's HWIO layout)."""
    weights = np.load(path, allow_pickle=False)
    for layer in model.layers:
        if layer.name + ".kernel" in weights:
            values = [weights[layer.name + ".kernel"]]
            if layer.name + ".bias" in weights:
                values.append(weights[layer.name + ".bias"])
            layer.set_weights(values)


model.compile(
    optimizer={_keras_optimizer(opt)},
    loss={loss},
    metrics=["accuracy"],
)

if __name__ == "__main__":
    model.summary()
    if os.path.exists("{model.name}_weights_keras.npz"):
        load_convscope_weights(model)
{_indent(data, 4)}
    model.fit(x_train, y_train, batch_size={int(t["batch_size"])}, epochs={int(t["epochs"])},
              validation_data=(x_test, y_test))
'''


def _indent(text: str, n: int) -> str:
    return "\n".join((" " * n + line) if line else line for line in text.splitlines())


# -- PyTorch -------------------------------------------------------------------------------------------
def _torch_optimizer(opt: Optimizer) -> str:
    name = type(opt).__name__
    lr = f"lr={opt.learning_rate!r}"
    if name == "SGD":
        extra = f", momentum={opt.momentum!r}" if opt.momentum else ""
        extra += ", nesterov=True" if opt.nesterov else ""
        return f"torch.optim.SGD(model.parameters(), {lr}{extra})"
    if name == "Adam":
        betas = f"betas=({opt.beta_1!r}, {opt.beta_2!r})"
        return f"torch.optim.Adam(model.parameters(), {lr}, {betas}, eps={opt.epsilon!r})"
    momentum = f", momentum={opt.momentum!r}" if getattr(opt, "momentum", 0.0) else ""
    return f"torch.optim.RMSprop(model.parameters(), {lr}, alpha={opt.rho!r}, eps={opt.epsilon!r}{momentum})"


_PADDED_AVG = '''

class PaddedAvgPool2d(nn.Module):
    """Average pooling whose padding is not counted in the mean (Keras 'same', ConvScope)."""

    def __init__(self, kernel_size, stride, pads):
        super().__init__()
        self.kernel_size, self.stride, self.pads = kernel_size, stride, pads

    def forward(self, x):
        ones = torch.ones_like(x[:, :1])
        total = F.avg_pool2d(F.pad(x, self.pads), self.kernel_size, self.stride)
        share = F.avg_pool2d(F.pad(ones, self.pads), self.kernel_size, self.stride)
        return total / share
'''


def pytorch_code(model_or_config, input_shape=None, optimizer=None, training: dict | None = None) -> str:
    """PyTorch source for the model: ``nn.Sequential`` in NCHW, a training loop and a weights loader
    (same arguments as :func:`keras_code`)."""
    model = _as_model(model_or_config, input_shape)
    rows = _rows(model)
    opt = _optimizer(optimizer)
    t = _training(training)
    c, h, w = model.input_shape
    mods = _torch_modules(rows)
    body = [f"    # input {_nchw(model.input_shape)}: PyTorch images are channels first (N, C, H, W)"]
    for _, code, note in mods:
        body.append(f"    {code},  # {note}" if note else f"    {code},")
    total = sum(r.params for r in rows)
    softmax_out = _ends_with_softmax(rows)
    helper = _PADDED_AVG if any("PaddedAvgPool2d" in code for _, code, _ in mods) else ""
    loss = ("F.nll_loss(torch.log(outputs.clamp_min(1e-7)), yb)  # the model ends with softmax" if softmax_out
            else "F.cross_entropy(outputs, yb)  # softmax is inside the loss")
    dataset = t["dataset"]
    if dataset in _IDX_FILES:
        folder = _IDX_FILES[dataset]
        data = f'''DATA_DIR = os.environ.get("CONVSCOPE_DATA_DIR", "data/{folder}")


def load_idx(name):
    """Read one IDX file (the MNIST format), gzip or plain."""
    path = os.path.join(DATA_DIR, name)
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load_data():
    x_train = load_idx("train-images-idx3-ubyte.gz").reshape(-1, {c}, {h}, {w})
    y_train = load_idx("train-labels-idx1-ubyte.gz")
    x_test = load_idx("t10k-images-idx3-ubyte.gz").reshape(-1, {c}, {h}, {w})
    y_test = load_idx("t10k-labels-idx1-ubyte.gz")
    return (x_train, y_train), (x_test, y_test)'''
    else:
        data = f'''def load_data():
    # ConvScope's dataset {dataset!r}: save it as an .npz with x_train (N, {c}, {h}, {w}) uint8, y_train,
    # x_test, y_test.
    data = np.load("dataset.npz")
    return (data["x_train"], data["y_train"]), (data["x_test"], data["y_test"])'''
    return f'''"""{model.name}: generated by ConvScope from the current architecture (PyTorch).

Input {c}x{h}x{w} (N, C, H, W), {len(rows)} layers, {total:,} parameters.
"""
import gzip
import os

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

torch.manual_seed({int(t["seed"])})
{helper}

model = nn.Sequential(
{chr(10).join(body)}
)
# total parameters: {total:,}


def load_convscope_weights(model, path="{model.name}_weights_pytorch.npz"):
    """Load the weights exported by ConvScope (conv OIHW, Linear (out, in): PyTorch's own layouts)."""
    weights = np.load(path, allow_pickle=False)
    state = {{name: torch.from_numpy(weights[name]) for name in weights.files}}
    model.load_state_dict(state)


{data}


def train(model, epochs={int(t["epochs"])}, batch_size={int(t["batch_size"])}):
    (x_train, y_train), (x_test, y_test) = load_data()
    x_train = torch.from_numpy(x_train.astype(np.float32) / 255)
    y_train = torch.from_numpy(y_train.astype(np.int64))
    x_test = torch.from_numpy(x_test.astype(np.float32) / 255)
    y_test = torch.from_numpy(y_test.astype(np.int64))
    optimizer = {_torch_optimizer(opt)}
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(x_train))
        for start in range(0, len(x_train), batch_size):
            batch = order[start:start + batch_size]
            xb, yb = x_train[batch], y_train[batch]
            optimizer.zero_grad()
            outputs = model(xb)
            loss = {loss}
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            correct = sum(int((model(x_test[i:i + 1000]).argmax(1) == y_test[i:i + 1000]).sum())
                          for i in range(0, len(x_test), 1000))
        print(f"epoch {{epoch + 1}}: loss {{loss.item():.4f}}, validation accuracy {{correct / len(x_test):.4f}}")


if __name__ == "__main__":
    print(model)
    print("parameters:", sum(p.numel() for p in model.parameters()))
    if os.path.exists("{model.name}_weights_pytorch.npz"):
        load_convscope_weights(model)
    train(model)
'''
