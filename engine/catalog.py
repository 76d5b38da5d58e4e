"""The layer catalogue: what a user can add to a network and which of its settings can be edited.

One place for the lists every front end needs (the architecture editor's "Add layer" menu and
settings form, the convolution theater's padding/mode choices, the ONNX export): the layer classes in
display order, each one's Keras-style default name, its editable hyperparameters with their types,
starting values and allowed values, and the activation names, paddings and convolution modes.

Everything that the layer classes already know is read from them rather than written again: default
names come from a default instance (``conv2d``, ``max_pooling2d``...), defaults from the constructor
signatures and ``get_config()``, and the fused activations each layer accepts are asked of the layer
itself (an activation it refuses in ``output_shape`` is not offered).

>>> kind = CATALOG["Conv2D"]
>>> kind.base_name, kind.hyperparameter("padding").choices
('conv2d', ('valid', 'same'))
>>> layer_from_config(kind.start_config("conv2d_1")).filters
8
"""

from __future__ import annotations

import copy
import inspect
from dataclasses import dataclass

from engine.layers import ACTIVATIONS, LAYER_CLASSES, Layer, layer_from_config

__all__ = [
    "ACTIVATIONS",
    "ACTIVATION_LAYERS",
    "CATALOG",
    "CONV_MODES",
    "EDITABLE_LAYERS",
    "PADDINGS",
    "Hyperparameter",
    "LayerKind",
    "fused_activations",
    "layer_kind",
    "unique_name",
]

#: Named paddings (every padding setting also accepts a number of zero pixels where noted).
PADDINGS = ("valid", "same")
#: ``Conv2D(mode=...)``: what CNN libraries compute, and the textbook convolution (kernel flipped).
CONV_MODES = ("cross_correlation", "convolution")

# Display order and groups (the editor draws a separator between groups).
_ORDER = (
    ("Conv2D", "convolution"),
    ("MaxPooling2D", "pooling"),
    ("AveragePooling2D", "pooling"),
    ("ReLU", "activation"),
    ("Sigmoid", "activation"),
    ("Tanh", "activation"),
    ("LeakyReLU", "activation"),
    ("Softmax", "activation"),
    ("Dropout", "other"),
    ("Flatten", "other"),
    ("Dense", "other"),
)

# The constructor arguments a student edits, in the order a form shows them.
_EDITABLE = {
    "Conv2D": ("filters", "kernel_size", "strides", "padding", "activation", "mode"),
    "MaxPooling2D": ("pool_size", "strides", "padding"),
    "AveragePooling2D": ("pool_size", "strides", "padding"),
    "LeakyReLU": ("alpha",),
    "Dropout": ("rate",),
    "Dense": ("units", "activation"),
}

# What a new layer starts with where the constructor has no default (filters, kernel_size, units) or
# where a teaching default differs from the constructor's (a hidden layer with ReLU, a light dropout).
_STARTING_VALUES = {
    "Conv2D": {"filters": 8, "kernel_size": 3, "activation": "relu"},
    "Dense": {"units": 64, "activation": "relu"},
    "Dropout": {"rate": 0.25},
}


@dataclass(frozen=True)
class Hyperparameter:
    """One editable constructor argument of a layer class.

    Attributes
    ----------
    name : the constructor argument (and ``get_config()`` key), e.g. ``"kernel_size"``
    kind : ``"int"``, ``"float"``, ``"choice"``, ``"padding"`` (a name from :data:`PADDINGS`, or a
        number of pixels when ``accepts_pixels``) or ``"optional_int"`` (``None`` = the pool size)
    default : the value a new layer starts with
    choices : the allowed values of a ``"choice"`` / ``"padding"`` (``None`` = no activation)
    accepts_pixels : a ``"padding"`` that may also be a number of zero pixels on every side
    """

    name: str
    kind: str
    default: object
    choices: tuple = ()
    accepts_pixels: bool = False


@dataclass(frozen=True)
class LayerKind:
    """A layer class a user can add: its default name, group and editable hyperparameters."""

    class_name: str
    layer_class: type
    base_name: str
    group: str
    hyperparameters: tuple[Hyperparameter, ...]
    _start: dict

    def hyperparameter(self, name: str) -> Hyperparameter:
        for hp in self.hyperparameters:
            if hp.name == name:
                return hp
        raise KeyError(f"{self.class_name} has no editable hyperparameter {name!r}")

    def start_config(self, name: str | None = None, **values) -> dict:
        """``{"class_name", "config"}`` of a new layer: starting values updated by ``values``, named ``name``.

        The config is the layer's own ``get_config()`` form (every engine default filled in) when the
        values can be constructed; values the constructor refuses are kept as given, so that
        validation can explain them on the layer's row.
        """
        config = copy.deepcopy(self._start)
        config.update(values)
        config["name"] = name or self.base_name
        draft = {"class_name": self.class_name, "config": config}
        try:
            return layer_from_config(copy.deepcopy(draft)).get_config()
        except (TypeError, ValueError):  # an unconstructible value is the validator's to report
            return draft


def _constructor_defaults(cls: type) -> dict:
    return {
        p.name: p.default
        for p in inspect.signature(cls.__init__).parameters.values()
        if p.default is not inspect.Parameter.empty
    }


def _accepted_activations(cls: type, start: dict) -> tuple:
    """The activations ``cls`` accepts, asked of the layer itself (``None`` = linear, listed first)."""
    probe_shape = (1, 4, 4)
    accepted = [None]
    for name in ACTIVATIONS:
        if name == "linear":
            continue
        layer = cls(**{**start, "activation": name})
        try:
            shape = (16,) if cls.__name__ == "Dense" else probe_shape
            layer.output_shape(shape)
        except ValueError:  # the engine's ShapeError: refused, so not offered
            continue
        accepted.append(name)
    return tuple(accepted)


def _hyperparameter(cls: type, name: str, start: dict) -> Hyperparameter:
    default = start.get(name)
    if name == "activation":
        return Hyperparameter(name, "choice", default, _accepted_activations(cls, start))
    if name == "padding":
        # Conv2D takes pixels too; pooling is offered the Keras names only.
        return Hyperparameter(name, "padding", default, PADDINGS, accepts_pixels=cls.__name__ == "Conv2D")
    if name == "mode":
        return Hyperparameter(name, "choice", default, CONV_MODES)
    if name == "strides" and default is None:
        return Hyperparameter(name, "optional_int", None)
    if isinstance(default, float):
        return Hyperparameter(name, "float", default)
    return Hyperparameter(name, "int", default)


def _make_kind(class_name: str, group: str) -> LayerKind:
    cls = LAYER_CLASSES[class_name]
    start = {k: v for k, v in _constructor_defaults(cls).items() if k in _EDITABLE.get(class_name, ())}
    start.update(_STARTING_VALUES.get(class_name, {}))
    instance: Layer = cls(**start)
    hyper = tuple(_hyperparameter(cls, name, start) for name in _EDITABLE.get(class_name, ()))
    return LayerKind(class_name, cls, instance.name, group, hyper, start)


#: Every layer a user can add, in display order: ``CATALOG["Conv2D"].base_name == "conv2d"``.
CATALOG: dict[str, LayerKind] = {name: _make_kind(name, group) for name, group in _ORDER}
#: The class names of :data:`CATALOG`, in display order.
EDITABLE_LAYERS: tuple[str, ...] = tuple(CATALOG)
#: Activation layers and the activation each one applies: ``{"ReLU": "relu", ...}``.
ACTIVATION_LAYERS: dict[str, str] = {
    name: kind.layer_class.kind for name, kind in CATALOG.items() if kind.group == "activation"
}


def layer_kind(class_name: str) -> LayerKind:
    """The catalogue entry of ``class_name``; an unknown name raises the engine's unknown-layer error."""
    kind = CATALOG.get(class_name)
    if kind is None:
        layer_from_config({"class_name": class_name, "config": {}})  # raises, naming the known types
        raise KeyError(f"{class_name} is a layer class the editor does not offer")
    return kind


def fused_activations(class_name: str) -> tuple:
    """The activations ``Conv2D`` / ``Dense`` accept (``None`` first); ``()`` for other layers."""
    kind = layer_kind(class_name)
    names = [hp for hp in kind.hyperparameters if hp.name == "activation"]
    return names[0].choices if names else ()


def unique_name(class_name: str, taken) -> str:
    """Keras-style automatic name not in ``taken``: ``conv2d``, then ``conv2d_1``, ``conv2d_2``..."""
    base = layer_kind(class_name).base_name
    taken = set(taken)
    if base not in taken:
        return base
    k = 1
    while f"{base}_{k}" in taken:
        k += 1
    return f"{base}_{k}"
