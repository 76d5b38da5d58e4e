"""The largest model ConvScope agrees to build: the one place these limits live.

They are generous for teaching (LeNet-5 has 7 layers and 61,706 parameters; the Keras MNIST example
34,826) but refuse a typo or a hostile model file before any memory is allocated or any time spent:
training keeps about four float32 copies of every parameter (weights, gradients, two optimizer
slots), so 20 million parameters already need about 320 MB.
"""

from __future__ import annotations

import numbers

from engine.errors import LimitError, Shape, Term

#: layers in one model (ResNet-152, a very deep network, has a few hundred; the editor and the
#: checks stay fast far beyond it because they are linear in the number of layers)
MAX_LAYERS = 5_000
#: output channels of one Conv2D layer
MAX_FILTERS = 2_048
#: output units of one Dense layer
MAX_UNITS = 65_536
#: values of one input image, channels x height x width (1024 x 1024 x 1; 591 x 591 x 3)
MAX_INPUT_VALUES = 1_048_576
#: parameters of a whole model
MAX_PARAMS = 20_000_000

__all__ = ["MAX_LAYERS", "MAX_FILTERS", "MAX_UNITS", "MAX_INPUT_VALUES", "MAX_PARAMS", "check_layer_count",
           "check_input_shape", "check_width", "check_params", "MAX_SHAPES_ONLY_INPUT_VALUES",
           "check_input_shape_for_shapes"]


def check_layer_count(count: int) -> None:
    if count > MAX_LAYERS:
        raise LimitError("too_many_layers", count=int(count), limit=MAX_LAYERS)


def check_input_shape(shape: tuple) -> None:
    values = 1
    for v in shape:
        values *= int(v)
    if values > MAX_INPUT_VALUES:
        raise LimitError("input_too_large", shape=Shape(shape), pixels=values, limit=MAX_INPUT_VALUES)


def check_width(layer) -> None:
    """Refuse a Conv2D with too many filters or a Dense with too many units (before any arithmetic)."""
    for attr, what, limit in (("filters", "filters", MAX_FILTERS), ("units", "units", MAX_UNITS)):
        value = getattr(layer, attr, None)
        if isinstance(value, numbers.Real) and not isinstance(value, bool) and value > limit:
            raise LimitError("layer_too_wide", layer_class=type(layer).__name__, name=layer.name,
                             value=int(value), what=Term(what), limit=limit)


def check_params(total: int) -> None:
    if total > MAX_PARAMS:
        raise LimitError("too_many_params", params=int(total), limit=MAX_PARAMS)


#: values of one input image when only shapes and parameters are counted (the architecture editor, the
#: notes' 1000 x 1000 x 3 example): no weights or activations are allocated for it
MAX_SHAPES_ONLY_INPUT_VALUES = 100_000_000


def check_input_shape_for_shapes(shape: tuple) -> None:
    """Like :func:`check_input_shape` for shape and parameter arithmetic only (nothing is allocated)."""
    values = 1
    for v in shape:
        values *= int(v)
    if values > MAX_SHAPES_ONLY_INPUT_VALUES:
        raise LimitError("input_too_large", shape=Shape(shape), pixels=values, limit=MAX_SHAPES_ONLY_INPUT_VALUES)
