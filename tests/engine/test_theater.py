"""The convolution theater: its numbers are the engine's numbers, its geometry is the lecture's geometry."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from engine.errors import ShapeError
from engine.theater import (
    INPUT_GRIDS,
    KERNEL_PRESETS,
    ConvTheater,
    apply_kernel,
    fmt,
    kernel_for_input,
)

VERTICAL_EDGE = [[1, 0, -1]] * 3


# ---------------------------------------------------------------------------------------------
# An obviously correct reference: loops over the padded input, nothing shared with the theater
# ---------------------------------------------------------------------------------------------
def naive_conv(x, kernel, stride, pads, mode, bias=0.0, relu=False):
    """x (C,H,W), kernel (C,K,K), pads (top, bottom, left, right) -> (out_h, out_w)."""
    c, h, w = x.shape
    k = kernel.shape[-1]
    if mode == "convolution":
        kernel = kernel[:, ::-1, ::-1]
    top, bottom, left, right = pads
    xp = np.zeros((c, h + top + bottom, w + left + right))
    xp[:, top:top + h, left:left + w] = x
    out_h = (h + top + bottom - k) // stride + 1
    out_w = (w + left + right - k) // stride + 1
    out = np.zeros((out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            acc = 0.0
            for ch in range(c):
                for a in range(k):
                    for b in range(k):
                        acc += xp[ch, i * stride + a, j * stride + b] * kernel[ch, a, b]
            out[i, j] = acc + bias
    return np.maximum(out, 0) if relu else out


def naive_pool(x, size, stride, pads, op):
    c, h, w = x.shape
    top, bottom, left, right = pads
    out_h = (h + top + bottom - size) // stride + 1
    out_w = (w + left + right - size) // stride + 1
    out = np.zeros((c, out_h, out_w))
    for ch in range(c):
        for i in range(out_h):
            for j in range(out_w):
                vals = []
                for a in range(size):
                    for b in range(size):
                        r, q = i * stride + a - top, j * stride + b - left
                        if 0 <= r < h and 0 <= q < w:
                            vals.append(x[ch, r, q])
                out[ch, i, j] = max(vals) if op == "max" else sum(vals) / len(vals)
    return out


def keras_same_pads(n, f, s):
    out = -(-n // s)
    total = max((out - 1) * s + f - n, 0)
    return total // 2, total - total // 2


CONV_CASES = [
    # (C, H, W, K, stride, padding, mode)
    (1, 6, 6, 3, 1, "valid", "cross_correlation"),
    (1, 6, 6, 3, 1, "same", "convolution"),
    (1, 7, 7, 3, 2, "valid", "cross_correlation"),
    (1, 7, 7, 3, 2, "same", "cross_correlation"),
    (1, 8, 8, 2, 2, "same", "convolution"),
    (1, 9, 7, 4, 3, "same", "cross_correlation"),
    (3, 7, 7, 3, 1, "valid", "cross_correlation"),
    (3, 7, 7, 3, 2, 1, "convolution"),
    (2, 10, 10, 5, 2, 2, "convolution"),
    (1, 28, 28, 5, 1, "valid", "cross_correlation"),
    (4, 12, 12, 3, 1, "same", "convolution"),
]


def _case_data(c, h, w, k, seed=0):
    rng = np.random.default_rng(seed + 31 * h + k)
    return rng.normal(size=(c, h, w)), rng.normal(size=(c, k, k))


def _pads(padding, h, w, k, s):
    if padding == "valid":
        return 0, 0, 0, 0
    if padding == "same":
        return keras_same_pads(h, k, s) + keras_same_pads(w, k, s)
    return (padding,) * 4


@pytest.mark.parametrize("case", CONV_CASES, ids=[str(c) for c in CONV_CASES])
def test_theater_output_equals_the_naive_reference(case):
    c, h, w, k, s, padding, mode = case
    x, kern = _case_data(c, h, w, k)
    t = ConvTheater(x, kern, stride=s, padding=padding, mode=mode, bias=0.3, relu=True)
    expected = naive_conv(x, kern, s, _pads(padding, h, w, k, s), mode, bias=0.3, relu=True)
    np.testing.assert_allclose(t.output(), expected, atol=1e-10)


@pytest.mark.parametrize("case", CONV_CASES, ids=[str(c) for c in CONV_CASES])
def test_every_step_value_fills_the_same_output_map(case):
    c, h, w, k, s, padding, mode = case
    x, kern = _case_data(c, h, w, k, seed=1)
    t = ConvTheater(x, kern, stride=s, padding=padding, mode=mode, bias=-0.5, relu=False)
    out = np.full((t.out_h, t.out_w), np.nan)
    for st in t.steps():
        np.testing.assert_allclose(st.products, st.patch * t.effective_kernel)
        np.testing.assert_allclose(st.channel_sums, st.products.sum(axis=(1, 2)))
        assert st.pre_activation == pytest.approx(st.channel_sums.sum() - 0.5)
        out[st.i, st.j] = st.value
    np.testing.assert_allclose(out, t.output(), atol=1e-10)


def _engine_conv(x, kern, stride, padding, mode, bias):
    """The engine's Conv2D on the same numbers (float32, like training)."""
    from engine import layers
    c, k = x.shape[0], kern.shape[-1]
    layer = layers.Conv2D(1, k, strides=stride, padding=padding, mode=mode)
    layer.build((c,) + x.shape[1:], np.random.default_rng(0))
    layer.params["W"][...] = kern[None].astype(np.float32)
    layer.params["b"][...] = np.float32(bias)
    return layer.forward(x[None].astype(np.float32), training=False)[0, 0]


@pytest.mark.parametrize("case", CONV_CASES, ids=[str(c) for c in CONV_CASES])
def test_theater_output_equals_the_engine_conv2d(case):
    c, h, w, k, s, padding, mode = case
    x, kern = _case_data(c, h, w, k, seed=2)
    t = ConvTheater(x, kern, stride=s, padding=padding, mode=mode, bias=0.25)
    engine_out = _engine_conv(x, kern, s, padding, mode, 0.25)
    assert engine_out.shape == (t.out_h, t.out_w)
    np.testing.assert_allclose(t.output(), engine_out, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("case", CONV_CASES, ids=[str(c) for c in CONV_CASES])
def test_theater_output_equals_the_engine_conv_kernel(case):
    from engine import kernels
    c, h, w, k, s, padding, mode = case
    x, kern = _case_data(c, h, w, k, seed=3)
    weights = kern[:, ::-1, ::-1] if mode == "convolution" else kern  # true convolution = flipped filter
    y = kernels.conv2d_forward(
        np.ascontiguousarray(x[None], dtype=np.float32),
        np.ascontiguousarray(weights[None], dtype=np.float32),
        np.array([0.75], np.float32), s, _pads(padding, h, w, k, s))[0, 0]
    t = ConvTheater(x, kern, stride=s, padding=padding, mode=mode, bias=0.75)
    np.testing.assert_allclose(t.output(), y, rtol=1e-4, atol=1e-4)


POOL_CASES = [
    # (C, H, W, size, stride, padding, op)
    (1, 4, 4, 2, 2, "valid", "max"),
    (1, 4, 4, 2, 2, "valid", "avg"),
    (2, 7, 7, 2, 2, "same", "max"),
    (2, 7, 7, 2, 2, "same", "avg"),
    (3, 9, 9, 3, 2, "valid", "max"),
    (1, 5, 6, 3, 3, "same", "avg"),
    (1, 6, 6, 3, 1, "valid", "max"),
]


@pytest.mark.parametrize("case", POOL_CASES, ids=[str(c) for c in POOL_CASES])
def test_pooling_output_equals_the_naive_reference_and_the_steps(case):
    c, h, w, size, s, padding, op = case
    x = np.random.default_rng(h * size).normal(size=(c, h, w))
    t = ConvTheater(x, op=op, pool_size=size, stride=s, padding=padding)
    pads = _pads(padding, h, w, size, s)
    np.testing.assert_allclose(t.output(), naive_pool(x, size, s, pads, op), atol=1e-12)
    for st in t.steps():
        np.testing.assert_allclose(st.channel_sums, t.output()[:, st.i, st.j])
        if op == "max":
            for ch, (r, q) in enumerate(st.winners):
                assert x[ch, r, q] == st.channel_sums[ch]
                r0, c0, r1, c1 = st.window
                assert r0 <= r < r1 and c0 <= q < c1


@pytest.mark.parametrize("case", POOL_CASES, ids=[str(c) for c in POOL_CASES])
def test_pooling_output_equals_the_engine_pooling_layers(case):
    c, h, w, size, s, padding, op = case
    from engine import layers
    x = np.random.default_rng(h * size + 1).normal(size=(c, h, w))
    cls = layers.MaxPooling2D if op == "max" else layers.AveragePooling2D
    layer = cls(pool_size=size, strides=s, padding=padding)
    layer.build((c, h, w), np.random.default_rng(0))
    engine_out = layer.forward(x[None].astype(np.float32), training=False)[0]
    t = ConvTheater(x, op=op, pool_size=size, stride=s, padding=padding)
    np.testing.assert_allclose(t.output(), engine_out, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("case", POOL_CASES, ids=[str(c) for c in POOL_CASES])
def test_pooling_values_and_winners_equal_the_engine_pool_kernels(case):
    from engine import kernels
    c, h, w, size, s, padding, op = case
    x = np.random.default_rng(h * size + 2).normal(size=(c, h, w))
    x32 = np.ascontiguousarray(x[None], dtype=np.float32)
    pads = _pads(padding, h, w, size, s)
    t = ConvTheater(x32[0], op=op, pool_size=size, stride=s, padding=padding)
    if op == "max":
        y, argmax = kernels.maxpool2d_forward(x32, size, s, pads)
        for st in t.steps():
            for ch, (r, q) in enumerate(st.winners):
                assert argmax[0, ch, st.i, st.j] == r * w + q  # the same pixel wins
    else:
        y = kernels.avgpool2d_forward(x32, size, s, pads)
    np.testing.assert_allclose(t.output(), y[0], rtol=1e-5, atol=1e-5)


def test_max_pool_winner_is_highlighted_pixel_of_the_4x4_example():
    t = ConvTheater(INPUT_GRIDS["pool_4x4"].array, op="max", pool_size=2, stride=2)
    assert t.output()[0].tolist() == [[7, 9], [8, 4]]
    assert [t.step(k).winners[0] for k in range(4)] == [(1, 0), (0, 3), (2, 0), (3, 3)]
    avg = ConvTheater(INPUT_GRIDS["pool_4x4"].array, op="avg", pool_size=2, stride=2)
    assert avg.output()[0].tolist() == [[3.75, 4.25], [4.75, 2.5]]


# ---------------------------------------------------------------------------------------------
# The seed examples
# ---------------------------------------------------------------------------------------------
def test_lecture_vertical_edge_gives_30_in_the_middle_and_0_at_the_sides():
    image = INPUT_GRIDS["lecture_6x6"].array
    assert image[0, 0].tolist() == [10, 10, 10, 0, 0, 0]
    t = ConvTheater(image, VERTICAL_EDGE)
    assert (t.out_h, t.out_w) == (4, 4)
    assert t.output().tolist() == [[0, 30, 30, 0]] * 4
    first = t.step(0)
    assert first.window == (0, 0, 3, 3)
    assert first.products[0].tolist() == [[10, 0, -10]] * 3
    assert first.total == 0
    second = t.step(1)
    assert second.products[0].tolist() == [[10, 0, 0]] * 3 and second.total == 30


def test_mirrored_lecture_image_gives_minus_30_and_relu_removes_it():
    image = INPUT_GRIDS["lecture_6x6_mirror"].array
    assert ConvTheater(image, VERTICAL_EDGE).output().tolist() == [[0, -30, -30, 0]] * 4
    assert ConvTheater(image, VERTICAL_EDGE, relu=True).output().tolist() == [[0, 0, 0, 0]] * 4


def test_convolution_mode_flips_the_kernel_and_flips_the_answer_of_an_antisymmetric_filter():
    image = INPUT_GRIDS["lecture_6x6"].array
    t = ConvTheater(image, VERTICAL_EDGE, mode="convolution")
    assert t.effective_kernel[0].tolist() == [[-1, 0, 1]] * 3
    assert t.output().tolist() == [[0, -30, -30, 0]] * 4


def test_receptive_windows_of_39_to_37_with_f3_s1():
    t = ConvTheater(np.zeros((39, 39)), np.ones((3, 3)), stride=1)
    assert (t.out_h, t.out_w) == (37, 37)
    assert t.window(0, 0) == (0, 0, 3, 3)
    assert t.window(36, 36) == (36, 36, 39, 39)
    assert t.formula("rows") == "(39 + 2×0 − 3) / 1 + 1 = 36 + 1 = 37"


def test_receptive_windows_of_37_to_17_with_f5_s2():
    t = ConvTheater(np.zeros((37, 37)), np.ones((5, 5)), stride=2)
    assert (t.out_h, t.out_w) == (17, 17)
    assert t.window(1, 2) == (2, 4, 7, 9)
    assert t.window(16, 16) == (32, 32, 37, 37)  # the last window ends exactly at the border
    assert t.formula_lines() == ["(37 + 2×0 − 5) / 2 + 1 = 16 + 1 = 17"]
    # the seed's chain 39 -> 37 -> 17 -> 7 (f5 s2 once more), on the hand-made 39x39 grid
    ring = INPUT_GRIDS["ring_39x39"].array
    assert ring.shape == (1, 39, 39)
    first = ConvTheater(ring, np.ones((3, 3)))
    second = ConvTheater(first.output(), np.ones((5, 5)), stride=2)
    third = ConvTheater(second.output(), np.ones((5, 5)), stride=2)
    assert (first.out_h, second.out_h, third.out_h) == (37, 17, 7)
    assert third.formula("rows") == "(17 + 2×0 − 5) / 2 + 1 = 6 + 1 = 7"


@pytest.mark.parametrize("n,f", [(6, 3), (7, 3), (28, 5), (5, 5), (10, 7)])
def test_same_padding_keeps_n_for_odd_f_with_p_equal_f_minus_1_over_2(n, f):
    t = ConvTheater(np.ones((n, n)), np.ones((f, f)), padding="same")
    assert (t.out_h, t.out_w) == (n, n)
    assert t.pad_rows.before == t.pad_rows.after == (f - 1) // 2
    custom = ConvTheater(np.ones((n, n)), np.ones((f, f)), padding=(f - 1) // 2)
    np.testing.assert_allclose(custom.output(), t.output())


def test_same_padding_puts_the_extra_virtual_pixel_at_the_bottom_right_like_keras():
    t = ConvTheater(np.ones((6, 6)), np.ones((2, 2)), padding="same")
    assert (t.pad_rows.before, t.pad_rows.after) == (0, 1)
    assert t.virtual_mask[-1].all() and t.virtual_mask[:, -1].all() and not t.virtual_mask[:6, :6].any()
    assert t.formula("cols") == "(6 + 0 + 1 − 2) / 1 + 1 = 5 + 1 = 6"


def test_padding_pixels_are_virtual_zeros_in_the_window():
    t = ConvTheater(INPUT_GRIDS["lecture_6x6"].array, VERTICAL_EDGE, padding=1)
    assert t.padded.shape == (1, 8, 8)
    assert t.virtual_mask.sum() == 8 * 8 - 6 * 6
    st = t.step(0)
    assert st.window == (-1, -1, 2, 2)
    assert st.virtual.tolist() == [[True] * 3, [True, False, False], [True, False, False]]
    assert st.patch[0][st.virtual].tolist() == [0] * 5
    assert st.total == -20  # 0*1 + (10+10)*0 + (10+10)*-1: the virtual column counts as 0
    out = t.output()
    assert out.shape == (6, 6)  # p = 1 keeps 6x6 for f = 3
    assert out[0].tolist() == [-20, 0, 20, 20, 0, 0]  # top row: one row of the window is virtual
    assert out[2].tolist() == [-30, 0, 30, 30, 0, 0]


def test_stamp_4x4_fits_a_3x3_stamp_four_times():
    image = INPUT_GRIDS["stamp_4x4"].array
    kern = np.arange(1, 10, dtype=float).reshape(3, 3)
    t = ConvTheater(image, kern, bias=1.0)
    assert t.n_positions == 4 and list(t.positions()) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    # y1 = x1 w1 + x2 w2 + x3 w3 + x5 w4 + ... + x11 w9 + b (the seed's formula, pixels numbered 1..16)
    x = image[0].ravel()
    y1 = sum(x[p - 1] * w for p, w in zip([1, 2, 3, 5, 6, 7, 9, 10, 11], range(1, 10))) + 1
    assert t.step(0).value == y1


def test_rgb_7x7x3_with_a_3x3x3_filter_sums_three_channel_sums_into_one_5x5_map():
    image = INPUT_GRIDS["rgb_7x7x3"].array
    assert image.shape == (3, 7, 7)
    kern = kernel_for_input(KERNEL_PRESETS["sobel_vertical"].kernel, 3)
    kern[1] *= 0.5
    t = ConvTheater(image, kern, bias=1.0)
    assert t.output().shape == (5, 5)
    st = t.step((2, 1))
    assert st.products.shape == (3, 3, 3)
    per_channel = [apply_kernel(image[c:c + 1], kern[c:c + 1])[2, 1] for c in range(3)]
    np.testing.assert_allclose(st.channel_sums, per_channel)
    assert st.value == pytest.approx(sum(per_channel) + 1.0)


def test_hovering_an_input_pixel_finds_the_output_cells_that_read_it():
    t = ConvTheater(np.zeros((6, 6)), np.ones((3, 3)))
    assert t.cells_reading(0, 0) == [(0, 0)]
    assert len(t.cells_reading(2, 3)) == 9
    for r, c in itertools.product(range(6), range(6)):
        for i, j in t.cells_reading(r, c):
            r0, c0, r1, c1 = t.window(i, j)
            assert r0 <= r < r1 and c0 <= c < c1
    strided = ConvTheater(np.zeros((7, 7)), np.ones((3, 3)), stride=2, padding=1)
    assert strided.cells_reading_padded(0, 0) == [(0, 0)]  # a virtual corner pixel
    assert strided.cells_reading(1, 1) == [(0, 0), (0, 1), (1, 0), (1, 1)]


def test_the_seed_four_edge_filters_light_up_their_own_border_of_a_bright_square():
    img = np.zeros((8, 8))
    img[2:6, 2:6] = 1.0
    maps = {key: ConvTheater(img, KERNEL_PRESETS[key].kernel, relu=True).output()
            for key in ("upper_horizontal_edge", "left_vertical_edge", "lower_horizontal_edge", "right_vertical_edge")}
    # the strongest response sits on the side the filter is named after
    assert np.argmax(maps["upper_horizontal_edge"].max(axis=1)) < 3
    assert np.argmax(maps["lower_horizontal_edge"].max(axis=1)) >= 3
    assert np.argmax(maps["left_vertical_edge"].max(axis=0)) < 3
    assert np.argmax(maps["right_vertical_edge"].max(axis=0)) >= 3
    assert KERNEL_PRESETS["upper_horizontal_edge"].name_ko.startswith("위쪽 수평 경계")
    assert KERNEL_PRESETS["left_vertical_edge"].kernel.tolist() == [[-1, 1, 0]] * 3


def test_every_preset_has_names_in_both_languages_and_a_square_kernel_but_the_1d_example():
    for key in ("sobel_vertical", "sobel_horizontal", "scharr_vertical", "prewitt_vertical", "laplacian",
                "box_blur", "sharpen", "identity"):
        assert key in KERNEL_PRESETS
    for p in KERNEL_PRESETS.values():
        k = p.kernel
        assert k.ndim == 2 and (k.shape[0] == k.shape[1] or (p.key, k.shape) == ("difference_1d", (1, 3)))
        assert p.name_en and p.name_ko and p.note_ko
    assert KERNEL_PRESETS["box_blur"].kernel.sum() == pytest.approx(1.0)
    img = np.random.default_rng(0).normal(size=(5, 5))
    np.testing.assert_allclose(apply_kernel(img, KERNEL_PRESETS["identity"].kernel), img[1:-1, 1:-1])


def test_errors_teach_what_went_wrong():
    with pytest.raises(ShapeError, match="3 channel"):
        ConvTheater(np.zeros((1, 6, 6)), np.zeros((3, 3, 3)))
    with pytest.raises(ShapeError, match="does not fit"):
        ConvTheater(np.zeros((4, 4)), np.zeros((5, 5)))
    with pytest.raises(ShapeError, match="virtual pixels"):
        ConvTheater(np.zeros((4, 4)), op="max", pool_size=2, padding=2)
    with pytest.raises(IndexError):
        ConvTheater(np.zeros((4, 4)), np.zeros((3, 3))).step(4)


def test_numbers_are_written_as_a_student_writes_them():
    assert fmt(30.0) == "30" and fmt(-0.0) == "0" and fmt(0.25) == "0.25" and fmt(1 / 3) == "0.33"
    assert fmt(-2.5) == "-2.5"


def test_the_1d_example_with_a_1x3_kernel_needs_no_zero_rows():
    x = [[1, 3, 2, 2, 0, 2, 3]]  # a 1x7 input
    w = [[-1, 0, 1]]  # a 1x3 kernel
    corr = ConvTheater(x, w)
    assert (corr.out_h, corr.out_w) == (1, 5)
    assert corr.output().ravel().tolist() == [1, -1, -2, 0, 3]
    conv = ConvTheater(x, w, mode="convolution")
    assert conv.output().ravel().tolist() == [-1, 1, 2, 0, -3]
    assert [conv.step(k).value for k in range(5)] == [-1, 1, 2, 0, -3]
    assert corr.formula_lines() == ["(1 + 2×0 − 1) / 1 + 1 = 0 + 1 = 1", "(7 + 2×0 − 3) / 1 + 1 = 4 + 1 = 5"]
    assert corr.window(0, 2) == (0, 2, 1, 5)


def test_a_rectangular_stride_and_pool_window_slide_per_axis():
    x = np.arange(30, dtype=float).reshape(5, 6)
    t = ConvTheater(x, np.ones((2, 3)), stride=(2, 1))
    assert t.kernel_hw == (2, 3) and t.stride_hw == (2, 1) and t.stride == (2, 1)
    assert (t.out_h, t.out_w) == (2, 4)
    expected = [[sum(x[2 * i + u, j + v] for u in range(2) for v in range(3)) for j in range(4)] for i in range(2)]
    assert t.output().tolist() == expected
    assert [t.step(k).value for k in range(8)] == [v for row in expected for v in row]
    assert t.cells_reading(2, 3) == [(1, 1), (1, 2), (1, 3)]
    pool = ConvTheater(x, op="max", pool_size=(2, 1), stride=(2, 1))
    assert pool.output()[0].tolist() == x[1::2][:2].tolist()
    assert pool.step(0).winners == ((1, 0),)


def test_a_rectangular_kernel_too_tall_for_the_input_names_the_height():
    with pytest.raises(ShapeError) as info:
        ConvTheater(np.ones((2, 7)), np.ones((3, 1)))
    assert "kernel height 3 does not fit input height 2" in str(info.value)


# ---------------------------------------------------------------------------------------------
# the seed 002 1-D example and grids typed as text
# ---------------------------------------------------------------------------------------------
def test_the_seed_1d_example_gives_the_notes_numbers_in_both_modes():
    x = INPUT_GRIDS["seed_1d"].array
    w = KERNEL_PRESETS["difference_1d"].kernel
    assert x.shape == (1, 1, 7) and w.shape == (1, 3)
    cross = ConvTheater(x, w)
    assert cross.kernel_hw == (1, 3) and (cross.out_h, cross.out_w) == (1, 5)
    assert cross.output().tolist() == [[1, -1, -2, 0, 3]]
    conv = ConvTheater(x, w, mode="convolution")
    assert conv.effective_kernel[0].tolist() == [[1, 0, -1]]
    assert conv.output().tolist() == [[-1, 1, 2, 0, -3]]
    assert conv.step(4).products[0].tolist() == [[0, 0, -3]]     # x = 0 2 3 under w flipped 1 0 -1


@pytest.mark.parametrize("text", [
    "1 3 2 2 0 2 3", "1,3,2,2,0,2,3", "[1,3,2,2,0,2,3]", "1\t3\t2\t2\t0\t2\t3\n", "1; 3; 2; 2; 0; 2; 3",
    "1 3 2 2 −0 2 3",
])
def test_a_row_of_numbers_pastes_as_a_1_by_7_grid_whatever_separates_them(text):
    from engine.theater import parse_grid_text

    assert parse_grid_text(text).tolist() == [[[1, 3, 2, 2, 0, 2, 3]]]


def test_lines_are_rows_empty_lines_channels_and_nested_lists_read_like_numpy():
    from engine.theater import format_grid_text, parse_grid_text

    assert parse_grid_text("1 2\n3 4\n").shape == (1, 2, 2)
    rgb = parse_grid_text("1 2\n3 4\n\n5 6\n7 8\n\n\n0 0\n0 -1.5")
    assert rgb.shape == (3, 2, 2) and rgb[2, 1, 1] == -1.5
    assert parse_grid_text("[[1, 2], [3, 4]]").tolist() == [[[1, 2], [3, 4]]]
    assert parse_grid_text("[[[1, 2], [3, 4]], [[5, 6], [7, 8]]]").shape == (2, 2, 2)
    assert np.array_equal(parse_grid_text(format_grid_text(rgb)), rgb)


@pytest.mark.parametrize("text,code,values", [
    ("1 2 3\n4 x 6", "grid_not_a_number", {"channel": 1, "row": 2, "column": 2, "text": "x"}),
    ("1 2 3\n4 5", "grid_ragged_row", {"channel": 1, "row": 2, "got": 2, "width": 3}),
    ("1 2\n\n3 4 5", "grid_ragged_row", {"channel": 2, "row": 1, "got": 3, "width": 2}),
    ("  \n, ,\n", "grid_empty", {}),
    ("1\n2\n\n3", "grid_channel_heights", {}),
    (" ".join(["1"] * 17), "grid_columns_out_of_range", {"got": 17, "most": 16}),
    ("\n".join(["1"] * 40), "grid_rows_out_of_range", {"got": 40, "most": 16}),
    ("1\n\n2\n\n3\n\n4", "grid_channels_out_of_range", {"got": 4, "most": 3}),
])
def test_a_bad_paste_names_the_row_column_or_size_that_is_wrong(text, code, values):
    from engine.theater import parse_grid_text

    with pytest.raises(ShapeError) as info:
        parse_grid_text(text)
    assert info.value.code == code
    assert values.items() <= info.value.values.items()


def test_a_bad_paste_is_explained_in_korean_too():
    from engine.theater import parse_grid_text
    from gui import i18n

    with pytest.raises(ShapeError) as info:
        parse_grid_text("1 2 3\n4 abc 6")
    assert "row 2, column 2" in str(info.value) and "'abc'" in str(info.value)
    i18n.set_language("ko")
    try:
        assert "2행 2열" in i18n.tr_error(info.value)
    finally:
        i18n.set_language("en")
