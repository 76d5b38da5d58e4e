"""The summary's cost columns by hand: multiply-adds, float32 activation memory and the receptive field,
each with its formula (the notes' 39x39x3 network and LeNet-5)."""

from engine.layers import Conv2D, Dense, Flatten, ReLU
from engine.network import validate_architecture
from engine.presets import PRESETS


def test_the_39x39x3_network_costs():
    rows = validate_architecture([Conv2D(10, 3), Conv2D(20, 5, strides=2), Conv2D(40, 5, strides=2), Flatten()],
                                 (3, 39, 39))
    assert [r.output_shape for r in rows] == [(10, 37, 37), (20, 17, 17), (40, 7, 7), (1960,)]
    # OH*OW*F*(K*K*C)
    assert [r.multiply_adds for r in rows] == [37 * 37 * 10 * 27, 17 * 17 * 20 * 250, 7 * 7 * 40 * 500, 0]
    assert [r.multiply_adds for r in rows] == [369_630, 1_445_000, 980_000, 0]
    assert rows[0].multiply_adds_formula == "37*37*10*(3*3*3) = 369630"
    assert rows[1].multiply_adds_formula == "17*17*20*(5*5*10) = 1445000"
    assert [r.activation_values for r in rows] == [13_690, 5_780, 1_960, 1_960]
    assert [r.activation_bytes for r in rows] == [54_760, 23_120, 7_840, 7_840]
    assert rows[2].memory_formula == "7*7*40 = 1960 values * 4 bytes = 7840 bytes"
    # 3, then 3 + 4*1 = 7 (jump 2), then 7 + 4*2 = 15 (jump 4); Flatten mixes every pixel
    assert [r.receptive_field for r in rows] == [(3, 3), (7, 7), (15, 15), None]
    assert [r.receptive_jump for r in rows] == [(1, 1), (2, 2), (4, 4), None]
    assert rows[2].receptive_formula == "r = 7 + (5 - 1)*2 = 15, jump = 2*2 = 4"


def test_lenet5_costs():
    rows = validate_architecture(PRESETS["lenet5"].layers(), (1, 28, 28), num_classes=10)
    assert [r.multiply_adds for r in rows] == [117_600, 0, 240_000, 0, 0, 48_000, 10_080, 840]
    assert rows[5].multiply_adds_formula == "400*120 = 48000"
    assert [r.activation_values for r in rows] == [4704, 1176, 1600, 400, 400, 120, 84, 10]
    assert [r.activation_bytes for r in rows] == [18_816, 4704, 6400, 1600, 1600, 480, 336, 40]
    assert [r.receptive_field for r in rows[:4]] == [(5, 5), (6, 6), (14, 14), (16, 16)]
    assert [r.receptive_jump for r in rows[:4]] == [(1, 1), (2, 2), (2, 2), (4, 4)]
    assert rows[1].receptive_formula == "r = 5 + (2 - 1)*1 = 6, jump = 1*2 = 2"
    assert all(r.receptive_field is None for r in rows[4:])


def test_an_activation_keeps_the_field_and_costs_no_multiply_adds():
    rows = validate_architecture([Conv2D(4, 3), ReLU(), Flatten(), Dense(5)], (1, 8, 8))
    assert rows[1].receptive_field == (3, 3) and rows[1].receptive_formula == "" and rows[1].multiply_adds == 0
    assert rows[3].multiply_adds == 144 * 5 and rows[3].memory_formula == "5 = 5 values * 4 bytes = 20 bytes"


def test_shapes_only_validation_takes_1000x1000x3_but_building_stays_limited():
    import pytest

    from engine.errors import LimitError
    from engine.network import Sequential

    (row,) = validate_architecture([Conv2D(10, 3)], (3, 1000, 1000))
    assert row.error is None and row.params == 280 and row.output_shape == (10, 998, 998)
    with pytest.raises(LimitError):
        validate_architecture([Conv2D(10, 3)], (3, 10_000, 10_000))
    with pytest.raises(LimitError):
        Sequential([Conv2D(10, 3)]).build((3, 1000, 1000))
