"""Output-size arithmetic on the textbook examples of the study notes."""

import pytest

from engine.errors import ShapeError
from engine.shapes import (
    conv_output_size,
    format_shape,
    output_cells_reading,
    padding_for_same_output,
    receptive_window,
    resolve_padding,
)


@pytest.mark.parametrize(
    "n, f, s, p, expected",
    [
        (39, 3, 1, 0, 37),  # first CONV of the Andrew Ng example
        (37, 5, 2, 0, 17),
        (17, 5, 2, 0, 7),
        (6, 3, 1, 0, 4),  # 6x6 image, 3x3 vertical-edge filter
        (7, 3, 1, 0, 5),  # 7x7x3 RGB with a 3x3x3 filter
        (4, 3, 1, 0, 2),  # hongong's 4x4 stamp example
        (28, 3, 1, 0, 26),  # Keras book first conv
        (28, 5, 1, 2, 28),  # LeNet-5 with pad 2
        (7, 3, 2, 0, 3),  # stride 2 example
    ],
)
def test_output_size_matches_textbook(n, f, s, p, expected):
    assert conv_output_size(n, f, s, p) == expected


@pytest.mark.parametrize("n, f", [(5, 1), (5, 3), (5, 5), (6, 3), (6, 5), (28, 3), (28, 5), (28, 7)])
def test_same_padding_keeps_size_for_odd_filters(n, f):
    pad = resolve_padding("same", n, f, 1)
    assert pad.out == n
    assert pad.before == pad.after == padding_for_same_output(f)


def test_same_padding_with_stride_follows_keras():
    # Keras: out = ceil(n / s); total padding (out-1)*s + f - n, extra at the end.
    pad = resolve_padding("same", 28, 3, 2)
    assert (pad.out, pad.before, pad.after) == (14, 0, 1)
    pad = resolve_padding("same", 5, 2, 1)
    assert (pad.out, pad.before, pad.after) == (5, 0, 1)


def test_kernel_larger_than_input_teaches_the_fix():
    with pytest.raises(ShapeError) as info:
        conv_output_size(5, 7, 1, 0, what="kernel")
    message = str(info.value)
    assert "kernel 7 does not fit a 5x5 input with padding 0" in message
    assert "padding='same'" in message


@pytest.mark.parametrize("bad", [0, -1])
def test_stride_must_be_positive(bad):
    with pytest.raises(ShapeError, match="stride"):
        conv_output_size(28, 3, bad, 0)


def test_receptive_window_and_its_inverse_agree():
    # 6x6 input, 3x3 filter, stride 1, no padding -> 4x4 output.
    assert receptive_window(0, 0, 3, 1) == (0, 0, 3, 3)
    assert receptive_window(0, 1, 3, 1) == (0, 1, 3, 4)
    assert receptive_window(3, 3, 3, 1) == (3, 3, 6, 6)
    # Same padding: the top-left window reaches one virtual pixel outside.
    assert receptive_window(0, 0, 3, 1, 1, 1) == (-1, -1, 2, 2)
    # Every output cell that reads the centre pixel (2, 2) of the 6x6 input.
    cells = output_cells_reading(2, 2, 3, 1, 0, 0, 4, 4)
    assert sorted(cells) == [(i, j) for i in range(3) for j in range(3)]
    for i, j in cells:
        r0, c0, r1, c1 = receptive_window(i, j, 3, 1)
        assert r0 <= 2 < r1 and c0 <= 2 < c1


def test_shapes_display_like_keras():
    assert format_shape((32, 26, 26)) == "26 x 26 x 32"
    assert format_shape((400,)) == "400"
