"""The panel states a lesson step sets, checked against the engine's catalogues.

``state`` maps a panel to its settings (every key is documented in ``resources/lessons/README.md``)::

    {"tab": "theater",
     "theater": {"input": "lecture_6x6", "kernel": "vertical_edge", "stride": 1, "padding": "valid",
                 "mode": "cross_correlation", "pooling": "none", "position": [0, 0], "direction": "forward"},
     "editor": {"input_shape": [28, 28, 1], "layers": "keras_mnist"},
     "training": {"dataset": "mnist", "preset": "keras_mnist", "optimizer": "RMSprop", "epochs": 5},
     "select_layer": 0, "hidden": ["theater.kernel"], "locked": ["editor.layers"]}

The theater and editor states are also run through the engine (:class:`engine.theater.ConvTheater`,
:func:`engine.network.validate_architecture`), so a kernel that does not fit or a layer stack that
cannot be built is refused when the lesson is loaded, with the engine's teaching message. Qt-free.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from engine.datasets import DATASETS
from engine.errors import ConvScopeError
from engine.network import validate_architecture
from engine.presets import PRESETS
from engine.shapes import resolve_padding
from engine.theater import INPUT_GRIDS, KERNEL_PRESETS, MODES, ConvTheater
from gui.lessons import vocabulary as vocab
from gui.lessons.errors import LessonError

__all__ = ["Where", "check_state", "check_needs", "theater_input", "theater_kernel", "theater_settings",
           "build_theater", "editor_layers", "editor_input_shape", "STATE_KEYS", "THEATER_KEYS", "EDITOR_KEYS",
           "TRAINING_KEYS"]

STATE_KEYS = ("tab", "theater", "editor", "training", "select_layer", "hidden", "locked")
THEATER_KEYS = ("input", "kernel", "bias", "stride", "padding", "mode", "pooling", "relu", "position", "direction")
EDITOR_KEYS = ("input_shape", "layers", "num_classes")
TRAINING_KEYS = ("dataset", "preset", "optimizer", "learning_rate", "batch_size", "epochs", "seed", "dropout")
_CONTROL = re.compile(r"^[a-z_]+\.[a-z0-9_]+$")
MAX_INPUT_SIDE = 512


@dataclass(frozen=True)
class Where:
    """The place of a value in a lesson: lesson id, step number (1-based) and id, field path."""

    lesson: str
    step: int | None = None
    step_id: str | None = None
    field: str = ""

    def at_step(self, number: int, step_id: str | None) -> Where:
        return Where(self.lesson, number, step_id, "")

    def sub(self, name: str) -> Where:
        if not name:
            return self
        if name.startswith("["):
            return Where(self.lesson, self.step, self.step_id, self.field + name)
        return Where(self.lesson, self.step, self.step_id, f"{self.field}.{name}" if self.field else name)

    def describe(self) -> str:
        out = f"lesson {self.lesson!r}"
        if self.step is not None:
            out += f", step {self.step} ({self.step_id!r})"
        if self.field:
            out += f", field {self.field}"
        return out

    def error(self, code: str, **values) -> LessonError:
        return LessonError(code, lesson=self.lesson, step=self.step, step_id=self.step_id,
                           field=self.field or None, **values)


def _keys(data, allowed, where: Where) -> None:
    if not isinstance(data, dict):
        raise where.error("lesson.bad_type", expected="an object {...}", got=type(data).__name__)
    for key in data:
        if key not in allowed:
            raise where.error("lesson.unknown_key", key=key, allowed=", ".join(allowed))


def _whole(value, where: Where, minimum: int, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise where.error("lesson.bad_type", expected="a whole number", got=repr(value))
    if value < minimum:
        raise where.error("lesson.too_small", minimum=minimum, got=value)
    if maximum is not None and value > maximum:
        raise where.error("lesson.too_large", maximum=maximum, got=value)
    return value


def _number(value, where: Where) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise where.error("lesson.bad_type", expected="a finite number", got=repr(value))
    return float(value)


def _choice(value, allowed, where: Where) -> str:
    if value not in allowed:
        raise where.error("lesson.bad_choice", allowed=", ".join(allowed), got=repr(value))
    return value


def check_needs(needs, where: Where) -> None:
    if not isinstance(needs, list):
        raise where.error("lesson.bad_type", expected="a list of feature names", got=repr(needs))
    for i, n in enumerate(needs):
        _choice(n, vocab.NEEDS, where.sub(f"[{i}]"))


# -- theater ---------------------------------------------------------------------------------------
def _grid(value, where: Where, what: str) -> np.ndarray:
    """A grid of numbers: rows (H, W) or channels of rows (C, H, W); returned as float64 (C, H, W)."""
    if not isinstance(value, list) or not value:
        raise where.error("lesson.bad_type", expected="a name or a grid (a list of rows of numbers)",
                          got=repr(value))
    depth = 3 if isinstance(value[0], list) and value[0] and isinstance(value[0][0], list) else 2
    channels = value if depth == 3 else [value]
    if len(channels) > vocab.MAX_CHANNELS:
        raise where.error("lesson.grid_too_large", maximum=vocab.MAX_CHANNELS, what="channels", got=len(channels))
    width = None
    for c, rows in enumerate(channels):
        if not isinstance(rows, list) or not rows:
            raise where.error("lesson.grid_channel", channel=c)
        if len(rows) > vocab.MAX_GRID:
            raise where.error("lesson.grid_too_large", maximum=vocab.MAX_GRID, what="rows", got=len(rows))
        for r, row in enumerate(rows):
            if not isinstance(row, list) or not row:
                raise where.error("lesson.grid_row", row=r, got=repr(row))
            if width is None:
                width = len(row)
            if len(row) != width:
                raise where.error("lesson.grid_ragged", row=r, got=len(row), width=width)
            if len(row) > vocab.MAX_GRID:
                raise where.error("lesson.grid_too_large", maximum=vocab.MAX_GRID, what="columns", got=len(row))
            for v in row:
                if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                    raise where.error("lesson.grid_not_number", row=r, got=repr(v))
        if len(rows) != len(channels[0]):
            raise where.error("lesson.grid_channel_rows")
    return np.array(channels, dtype=np.float64)


def _window_size(value, where: Where) -> tuple[int, int]:
    """A pool size: a whole number or ``[rows, columns]``, as a ``(rows, columns)`` pair."""
    if isinstance(value, list):
        if len(value) != 2:
            raise where.error("lesson.bad_type", expected="a whole number or [rows, columns]", got=repr(value))
        return (_whole(value[0], where.sub("[0]"), 1, vocab.MAX_GRID),
                _whole(value[1], where.sub("[1]"), 1, vocab.MAX_GRID))
    n = _whole(value, where, 1, vocab.MAX_GRID)
    return (n, n)


def _dataset_image(spec: dict, where: Where) -> tuple[int, int, int]:
    _keys(spec, ("dataset", "split", "index"), where)
    name = _choice(spec.get("dataset"), vocab.dataset_names(), where.sub("dataset"))
    info = DATASETS[name]
    split = _choice(spec.get("split", "train"), ("train", "test"), where.sub("split"))
    size = info.train_size if split == "train" else info.test_size
    _whole(spec.get("index", 0), where.sub("index"), 0, size - 1)
    return tuple(info.input_shape)


def theater_input(spec, data_dir=None) -> np.ndarray:
    """The theater's input as float64 ``(C, H, W)``: a named grid, a grid, or a dataset image
    (``{"dataset", "split", "index"}``, pixels scaled to [0, 1] as the notes do)."""
    if isinstance(spec, str):
        return INPUT_GRIDS[spec].array
    if isinstance(spec, dict):
        from engine.datasets import load_dataset, to_float

        ds = load_dataset(spec["dataset"], data_dir=data_dir, download=False)
        images = ds.x_train if spec.get("split", "train") == "train" else ds.x_test
        return to_float(images[int(spec.get("index", 0))]).astype(np.float64)
    return _grid(spec, Where("?"), "input")


def theater_kernel(spec) -> np.ndarray | None:
    """The theater's kernel: ``(K, K)`` for a catalogue name or a 2-D grid, ``(C, K, K)`` for a 3-D grid."""
    if spec is None:
        return None
    if isinstance(spec, str):
        return KERNEL_PRESETS[spec].kernel
    g = np.array(spec, dtype=np.float64)
    return g


def theater_settings(theater: dict) -> dict:
    """Keyword arguments for :class:`engine.theater.ConvTheater` from a (valid) theater state."""
    pooling = theater.get("pooling", "none")
    op, size = "conv", 2
    if isinstance(pooling, dict) and pooling.get("type", "none") != "none":
        op = "max" if pooling["type"] == "max" else "avg"
        size = pooling.get("size", 2)
    size = tuple(size) if isinstance(size, list) else size
    stride = theater.get("stride", 1)
    stride = tuple(stride) if isinstance(stride, list) else stride
    return {"stride": stride, "padding": theater.get("padding", "valid"),
            "mode": theater.get("mode", "cross_correlation"), "bias": float(theater.get("bias", 0.0)),
            "relu": bool(theater.get("relu", False)), "op": op, "pool_size": size}


def build_theater(theater: dict, data_dir=None) -> ConvTheater:
    """A :class:`ConvTheater` for a valid theater state (rectangular kernels, strides and pools too)."""
    settings = theater_settings(theater)
    x = theater_input(theater.get("input", "lecture_6x6"), data_dir)
    kernel = theater_kernel(theater.get("kernel")) if settings["op"] == "conv" else None
    return ConvTheater(x, kernel, **settings)


def _check_theater(theater, where: Where) -> None:
    _keys(theater, THEATER_KEYS, where)
    spec = theater.get("input", "lecture_6x6")
    iw = where.sub("input")
    if isinstance(spec, str):
        _choice(spec, vocab.input_names(), iw)
        x = INPUT_GRIDS[spec].array
        shape = x.shape
    elif isinstance(spec, dict):
        shape, x = _dataset_image(spec, iw), None
    else:
        x = _grid(spec, iw, "input")
        shape = x.shape
    kernel = theater.get("kernel")
    kw = where.sub("kernel")
    k = None
    if kernel is not None:
        if isinstance(kernel, str):
            _choice(kernel, vocab.kernel_names(), kw)
            k = KERNEL_PRESETS[kernel].kernel
        else:
            k = _grid(kernel, kw, "kernel")
            if k.shape[0] == 1:
                k = k[0]
    if "bias" in theater:
        _number(theater["bias"], where.sub("bias"))
    if "relu" in theater and not isinstance(theater["relu"], bool):
        raise where.sub("relu").error("lesson.bad_type", expected="true or false", got=repr(theater["relu"]))
    stride = theater.get("stride", 1)
    sw = where.sub("stride")
    if isinstance(stride, list):
        if len(stride) != 2:
            raise sw.error("lesson.bad_type", expected="a whole number or [rows, columns]", got=repr(stride))
        strides = (_whole(stride[0], sw.sub("[0]"), 1), _whole(stride[1], sw.sub("[1]"), 1))
    else:
        s = _whole(stride, sw, 1)
        strides = (s, s)
    padding = theater.get("padding", "valid")
    pw = where.sub("padding")
    if isinstance(padding, str):
        _choice(padding, vocab.PADDING_WORDS, pw)
    else:
        _whole(padding, pw, 0, vocab.MAX_GRID)
    _choice(theater.get("mode", "cross_correlation"), MODES, where.sub("mode"))
    _choice(theater.get("direction", "forward"), vocab.DIRECTIONS, where.sub("direction"))
    pooling = theater.get("pooling", "none")
    qw = where.sub("pooling")
    op, size = "conv", None
    if isinstance(pooling, dict):
        _keys(pooling, ("type", "size"), qw)
        kind = _choice(pooling.get("type"), vocab.POOLING_TYPES, qw.sub("type"))
        size = _window_size(pooling.get("size", 2), qw.sub("size"))
        op = {"none": "conv", "max": "max", "average": "avg"}[kind]
    else:
        _choice(pooling, ("none",), qw)
    if op == "conv" and k is None:
        raise kw.error("lesson.missing_key", key="kernel")
    windows = size if op != "conv" else k.shape[-2:]
    # the engine decides whether it fits (its message teaches the formula)
    try:
        if x is not None:
            ConvTheater(x, k if op == "conv" else None, **theater_settings(theater))
        outs = [resolve_padding(padding, n, f, s, "kernel" if op == "conv" else "pool window").out
                for n, f, s in zip(shape[1:], windows, strides, strict=True)]
    except ConvScopeError as exc:
        raise where.error("lesson.engine_refused", reason=str(exc).rstrip(".")) from None
    if "position" in theater:
        pos = theater["position"]
        posw = where.sub("position")
        if not isinstance(pos, list) or len(pos) != 2:
            raise posw.error("lesson.bad_type", expected="[row, column]", got=repr(pos))
        for axis, (v, out) in enumerate(zip(pos, outs, strict=True)):
            _whole(v, posw.sub(f"[{axis}]"), 0, out - 1)


# -- editor -----------------------------------------------------------------------------------------
def editor_input_shape(editor: dict) -> tuple[int, int, int]:
    """The editor's input shape as the engine's ``(C, H, W)`` (the file writes Keras's ``[H, W, C]``)."""
    h, w, c = editor["input_shape"]
    return (c, h, w)


def editor_layers(editor: dict) -> list:
    """Layer configs (``{"class_name", "config"}``) of a valid editor state (a preset name is expanded)."""
    layers = editor["layers"]
    if isinstance(layers, str):
        k = editor.get("num_classes", PRESETS[layers].num_classes)
        return [layer.get_config() for layer in PRESETS[layers].layers(k)]
    return [dict(cfg) for cfg in layers]


def _check_editor(editor, where: Where) -> int:
    _keys(editor, EDITOR_KEYS, where)
    for key in ("input_shape", "layers"):
        if key not in editor:
            raise where.error("lesson.missing_key", key=key)
    shape = editor["input_shape"]
    sw = where.sub("input_shape")
    if not isinstance(shape, list) or len(shape) != 3:
        raise sw.error("lesson.bad_type", expected="[height, width, channels]", got=repr(shape))
    _whole(shape[0], sw.sub("[0]"), 1, MAX_INPUT_SIDE)
    _whole(shape[1], sw.sub("[1]"), 1, MAX_INPUT_SIDE)
    _whole(shape[2], sw.sub("[2]"), 1, vocab.MAX_CHANNELS)
    if "num_classes" in editor:
        _whole(editor["num_classes"], where.sub("num_classes"), 1, 1000)
    layers = editor["layers"]
    lw = where.sub("layers")
    if isinstance(layers, str):
        _choice(layers, vocab.preset_names(), lw)
    elif isinstance(layers, list):
        for i, cfg in enumerate(layers):
            cw = lw.sub(f"[{i}]")
            _keys(cfg, ("class_name", "config"), cw)
            if "class_name" not in cfg:
                raise cw.error("lesson.missing_key", key="class_name")
            if not isinstance(cfg.get("config", {}), dict):
                raise cw.sub("config").error("lesson.bad_type", expected="an object {...}", got=repr(cfg["config"]))
    else:
        raise lw.error("lesson.bad_type", expected="a preset name or a list of layers", got=repr(layers))
    rows = validate_architecture(editor_layers(editor), editor_input_shape(editor))
    for row in rows:
        if row.error:
            raise lw.sub(f"[{row.index}]").error("lesson.engine_refused", reason=row.error.rstrip("."))
    return len(rows)


def _check_training(training, where: Where) -> None:
    _keys(training, TRAINING_KEYS, where)
    if "dataset" in training:
        _choice(training["dataset"], vocab.dataset_names(), where.sub("dataset"))
    if "preset" in training:
        _choice(training["preset"], vocab.preset_names(), where.sub("preset"))
    if "optimizer" in training:
        _choice(training["optimizer"], vocab.optimizer_names(), where.sub("optimizer"))
    if "learning_rate" in training:
        lr = _number(training["learning_rate"], where.sub("learning_rate"))
        if lr <= 0 or lr > 10:
            raise where.sub("learning_rate").error("lesson.bad_type", expected="a number above 0 and at most 10",
                                                   got=lr)
    if "batch_size" in training:
        _whole(training["batch_size"], where.sub("batch_size"), 1, 60000)
    if "epochs" in training:
        _whole(training["epochs"], where.sub("epochs"), 1, 1000)
    if "seed" in training:
        _whole(training["seed"], where.sub("seed"), 0)
    if "dropout" in training:
        d = _number(training["dropout"], where.sub("dropout"))
        if not 0 <= d < 1:
            raise where.sub("dropout").error("lesson.bad_type", expected="a rate from 0 up to (not including) 1",
                                             got=d)


def _check_controls(names, where: Where) -> None:
    if not isinstance(names, list):
        raise where.error("lesson.bad_type", expected="a list of control names like 'theater.kernel'",
                          got=repr(names))
    for i, name in enumerate(names):
        nw = where.sub(f"[{i}]")
        if not isinstance(name, str) or not _CONTROL.match(name):
            raise nw.error("lesson.bad_type", expected="a control name '<panel>.<control>'", got=repr(name))
        _choice(name.split(".")[0], vocab.CONTROL_PANELS, nw)


def check_state(state, where: Where) -> None:
    """Raise :class:`LessonError` for the first problem of a step's ``state``."""
    sw = where.sub("state")
    _keys(state, STATE_KEYS, sw)
    if "tab" in state:
        _choice(state["tab"], vocab.tab_keys(), sw.sub("tab"))
    if "theater" in state:
        _check_theater(state["theater"], sw.sub("theater"))
    n_layers = None
    if "editor" in state:
        n_layers = _check_editor(state["editor"], sw.sub("editor"))
    if "training" in state:
        _check_training(state["training"], sw.sub("training"))
    if "select_layer" in state:
        top = None if n_layers is None else n_layers - 1
        _whole(state["select_layer"], sw.sub("select_layer"), 0, top)
    for key in ("hidden", "locked"):
        if key in state:
            _check_controls(state[key], sw.sub(key))
