"""The study notes' numbers as engine tests, and the summary's cost columns computed by hand.

Multiply-adds, activation memory (float32) and the receptive field come with the formula that gives
them, like ``formula`` and ``size_formula``.
"""

import pytest

from engine.errors import LimitError
from engine.layers import AveragePooling2D, Conv2D, Dense, Flatten, MaxPooling2D, ReLU
from engine.network import validate_architecture
from engine.presets import PRESETS


def notes_39x39x3():
    return [Conv2D(10, 3), Conv2D(20, 5, strides=2), Conv2D(40, 5, strides=2), Flatten()]


def test_the_39x39x3_network_of_the_notes():
    rows = validate_architecture(notes_39x39x3(), (3, 39, 39))
    assert [r.error for r in rows] == [None] * 4
    assert [r.output_shape for r in rows] == [(10, 37, 37), (20, 17, 17), (40, 7, 7), (1960,)]
    assert [r.size_formula for r in rows[:3]] == [
        "(39 + 2*0 - 3)/1 + 1 = 37", "(37 + 2*0 - 5)/2 + 1 = 17", "(17 + 2*0 - 5)/2 + 1 = 7"]
    assert [r.params for r in rows] == [280, 5020, 20040, 0]
    # multiply-adds: OH*OW*F*(KH*KW*C)
    assert [r.multiply_adds for r in rows] == [369_630, 1_445_000, 980_000, 0]
    assert rows[0].multiply_adds_formula == "37*37*10*(3*3*3) = 369630"
    assert rows[1].multiply_adds_formula == "17*17*20*(5*5*10) = 1445000"
    # activations of one image in float32
    assert [r.activation_values for r in rows] == [13_690, 5_780, 1_960, 1_960]
    assert [r.activation_bytes for r in rows] == [54_760, 23_120, 7_840, 7_840]
    assert rows[2].memory_formula == "7*7*40 = 1960 values * 4 bytes = 7840 bytes"
    # receptive field on the 39x39 input: 3, then 3 + 4*1 = 7 (jump 2), then 7 + 4*2 = 15 (jump 4)
    assert [r.receptive_field for r in rows] == [(3, 3), (7, 7), (15, 15), None]
    assert [r.receptive_jump for r in rows] == [(1, 1), (2, 2), (4, 4), None]
    assert rows[2].receptive_formula == "r = 7 + (5 - 1)*2 = 15, jump = 2*2 = 4"


def test_lenet5_costs_by_hand():
    layers = PRESETS["lenet5"].layers()
    rows = validate_architecture(layers, (1, 28, 28), num_classes=10)
    assert [r.output_shape for r in rows] == [(6, 28, 28), (6, 14, 14), (16, 10, 10), (16, 5, 5), (400,), (120,),
                                             (84,), (10,)]
    assert [r.multiply_adds for r in rows] == [117_600, 0, 240_000, 0, 0, 48_000, 10_080, 840]
    assert sum(r.multiply_adds for r in rows) == 416_520
    assert rows[5].multiply_adds_formula == "400*120 = 48000"
    assert [r.activation_values for r in rows] == [4704, 1176, 1600, 400, 400, 120, 84, 10]
    assert [r.activation_bytes for r in rows] == [18_816, 4704, 6400, 1600, 1600, 480, 336, 40]
    assert [r.receptive_field for r in rows[:4]] == [(5, 5), (6, 6), (14, 14), (16, 16)]
    assert [r.receptive_jump for r in rows[:4]] == [(1, 1), (2, 2), (2, 2), (4, 4)]
    assert rows[1].receptive_formula == "r = 5 + (2 - 1)*1 = 6, jump = 1*2 = 2"
    assert all(r.receptive_field is None for r in rows[4:])


def test_receptive_field_per_axis_through_rectangular_layers_and_activations():
    rows = validate_architecture([Conv2D(4, (1, 3)), ReLU(), MaxPooling2D((2, 1)), Conv2D(4, 3, strides=(1, 2)),
                                  AveragePooling2D(2)], (1, 16, 16))
    assert [r.receptive_field for r in rows] == [(1, 3), (1, 3), (2, 3), (6, 5), (8, 7)]
    assert [r.receptive_jump for r in rows] == [(1, 1), (1, 1), (2, 1), (2, 2), (4, 4)]
    assert rows[1].receptive_formula == ""
    assert rows[2].receptive_formula == ("H: r = 1 + (2 - 1)*1 = 2, jump = 1*2 = 2; "
                                         "W: r = 3 + (1 - 1)*1 = 3, jump = 1*1 = 1")


@pytest.mark.parametrize("shape", [(3, 64, 64), (3, 1000, 1000)])
def test_ten_3x3x3_filters_have_280_parameters_whatever_the_image_size(shape):
    (row,) = validate_architecture([Conv2D(10, 3)], shape)
    assert row.error is None
    assert row.params == 280
    assert row.formula == "3*3*3*10 + 10 = 280"


def test_a_64x64x3_image_into_dense_1000_has_12288000_weights():
    rows = validate_architecture([Flatten(), Dense(1000)], (3, 64, 64))
    assert rows[0].output_shape == (12_288,)
    assert rows[1].params == 12_288_000 + 1_000
    assert rows[1].formula == "12288*1000 + 1000 = 12289000"
    assert rows[1].multiply_adds == 12_288_000


def test_shapes_only_validation_allows_large_inputs_but_not_absurd_ones():
    with pytest.raises(LimitError):
        validate_architecture([Conv2D(10, 3)], (3, 10_000, 10_000))
