"""The layer catalogue is read from the layer classes and agrees with them."""

from __future__ import annotations

import inspect

import pytest

from engine import catalog
from engine.catalog import (
    CATALOG,
    EDITABLE_LAYERS,
    fused_activations,
    layer_kind,
    unique_name,
)
from engine.errors import ConvScopeError
from engine.layers import LAYER_CLASSES, layer_from_config

# A shape every layer of the catalogue accepts: images for conv/pool/flatten, vectors for Dense.
IMAGE = (3, 8, 8)


def _input_for(class_name):
    return (16,) if class_name == "Dense" else IMAGE


def test_every_engine_layer_class_is_offered_once_in_display_order():
    assert set(EDITABLE_LAYERS) == set(LAYER_CLASSES)
    assert len(EDITABLE_LAYERS) == len(set(EDITABLE_LAYERS))
    assert EDITABLE_LAYERS[:3] == ("Conv2D", "MaxPooling2D", "AveragePooling2D")
    assert EDITABLE_LAYERS[-1] == "Dense"
    # layers of one group sit together (the menu separates groups)
    groups = [CATALOG[c].group for c in EDITABLE_LAYERS]
    assert all(g not in groups[:i] or groups[i - 1] == g for i, g in enumerate(groups))


@pytest.mark.parametrize("class_name", EDITABLE_LAYERS)
def test_every_starting_config_round_trips_through_layer_from_config(class_name):
    config = layer_kind(class_name).start_config()
    layer = layer_from_config(config)
    assert type(layer) is LAYER_CLASSES[class_name]
    assert layer.get_config() == config
    layer.output_shape(_input_for(class_name))  # the starting values make a working layer


@pytest.mark.parametrize("class_name, base", [
    ("Conv2D", "conv2d"), ("MaxPooling2D", "max_pooling2d"), ("AveragePooling2D", "average_pooling2d"),
    ("Dense", "dense"), ("Flatten", "flatten"), ("Dropout", "dropout"), ("ReLU", "re_lu"),
    ("LeakyReLU", "leaky_re_lu"), ("Softmax", "softmax"),
])
def test_default_names_are_keras_style_and_match_an_unnamed_layer(class_name, base):
    kind = layer_kind(class_name)
    assert kind.base_name == base
    assert layer_from_config({"class_name": class_name, "config": dict(kind.start_config()["config"],
                                                                       name=None)}).name == base


@pytest.mark.parametrize("class_name", EDITABLE_LAYERS)
def test_every_hyperparameter_is_a_constructor_argument_kept_by_get_config(class_name):
    kind = layer_kind(class_name)
    arguments = inspect.signature(kind.layer_class.__init__).parameters
    config = kind.start_config()["config"]
    for hp in kind.hyperparameters:
        assert hp.name in arguments
        assert config[hp.name] == hp.default
        assert hp.kind in ("int", "float", "choice", "padding", "optional_int")


@pytest.mark.parametrize("class_name", EDITABLE_LAYERS)
def test_every_allowed_choice_makes_a_working_layer(class_name):
    kind = layer_kind(class_name)
    for hp in kind.hyperparameters:
        for value in hp.choices:
            layer = layer_from_config(kind.start_config(**{hp.name: value}))
            layer.output_shape(_input_for(class_name))
        if hp.accepts_pixels:
            layer_from_config(kind.start_config(**{hp.name: 1})).output_shape(_input_for(class_name))


def test_fused_activations_are_what_the_layers_accept():
    assert fused_activations("Conv2D") == (None, "relu", "sigmoid", "tanh", "leaky_relu")
    assert fused_activations("Dense")[-1] == "softmax"  # probabilities come out of a Dense layer only
    with pytest.raises(ConvScopeError, match="softmax"):
        layer_from_config(layer_kind("Conv2D").start_config(activation="softmax")).output_shape(IMAGE)
    assert fused_activations("Flatten") == ()


def test_activation_layers_apply_the_activation_of_the_same_name():
    assert catalog.ACTIVATION_LAYERS == {"ReLU": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh",
                                         "LeakyReLU": "leaky_relu", "Softmax": "softmax"}
    assert set(catalog.ACTIVATION_LAYERS.values()) <= set(catalog.ACTIVATIONS)


def test_paddings_and_modes_are_the_ones_the_engine_accepts():
    from engine.theater import MODES

    assert catalog.PADDINGS == ("valid", "same")
    assert MODES is catalog.CONV_MODES  # the theater takes the catalogue's list
    with pytest.raises(ConvScopeError, match="flipped"):
        layer_from_config(layer_kind("Conv2D").start_config(mode="flipped")).output_shape(IMAGE)
    with pytest.raises(ConvScopeError, match="full"):
        layer_from_config(layer_kind("Conv2D").start_config(padding="full")).output_shape(IMAGE)


def test_values_the_constructor_cannot_take_are_kept_for_validation_to_explain():
    config = layer_kind("Conv2D").start_config(filters="many")
    assert config["config"]["filters"] == "many"
    with pytest.raises(ConvScopeError, match="many"):
        layer_from_config(config).output_shape(IMAGE)


def test_unique_names_count_up_like_keras():
    assert unique_name("Conv2D", []) == "conv2d"
    assert unique_name("Conv2D", ["conv2d"]) == "conv2d_1"
    assert unique_name("Conv2D", ["conv2d", "conv2d_1", "dense"]) == "conv2d_2"


def test_an_unknown_class_is_refused_with_the_engines_message():
    with pytest.raises(ConvScopeError, match="Conv3D"):
        layer_kind("Conv3D")
