"""Rectangular kernels, strides and pools (Keras's ``kernel_size=(1, 3)``, ``strides=(2, 1)``).

Forward passes equal the float64 loops of tests/reference.py, backward passes equal central
differences of those loops, and the shape arithmetic runs once per axis.
"""

import numpy as np
import pytest

from engine import kernels
from engine.errors import ShapeError
from engine.layers import AveragePooling2D, Conv2D, MaxPooling2D, layer_from_config
from tests import reference as ref


def rel_error(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-12)


def _hw(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def reference_pad(padding, h, w, kernel, stride):
    """(top, bottom, left, right) written out independently of engine/shapes.py."""
    (kh, kw), (sh, sw) = _hw(kernel), _hw(stride)
    if padding == "same":
        return (*ref.same_pad(h, kh, sh), *ref.same_pad(w, kw, sw))
    if padding == "valid":
        return (0, 0, 0, 0)
    if isinstance(padding, int):
        return (padding,) * 4
    rows, cols = padding
    rows = (rows, rows) if isinstance(rows, int) else rows
    cols = (cols, cols) if isinstance(cols, int) else cols
    return (*rows, *cols)


CONV_CASES = [
    # (N, C, H, W, F, kernel, stride, padding, mode)
    (2, 1, 5, 7, 2, (1, 3), 1, "valid", "cross_correlation"),
    (1, 2, 6, 5, 3, (3, 1), 1, "same", "convolution"),
    (2, 3, 5, 8, 2, (2, 3), 1, "same", "cross_correlation"),  # odd total padding in H, even in W; wide path
    (1, 2, 5, 9, 2, (1, 3), (1, 2), "valid", "cross_correlation"),
    (2, 1, 7, 6, 2, 3, (2, 1), "same", "convolution"),
    (1, 2, 5, 6, 2, (2, 3), (2, 1), "same", "cross_correlation"),  # odd totals in both axes
    (1, 1, 4, 7, 2, (1, 3), 1, (0, 1), "cross_correlation"),  # (rows, cols) padding
    (1, 2, 4, 5, 2, (3, 2), (1, 2), ((1, 0), (2, 1)), "convolution"),  # explicit per side
]


@pytest.mark.parametrize("n, c, h, w, f, kernel, stride, padding, mode", CONV_CASES)
def test_rectangular_conv_forward_and_backward_match_the_reference(n, c, h, w, f, kernel, stride, padding, mode):
    rng = np.random.default_rng(3)
    layer = Conv2D(f, kernel, strides=stride, padding=padding, mode=mode)
    layer.build((c, h, w), rng)
    layer.params["b"][...] = rng.standard_normal(f) * 0.1
    x = rng.standard_normal((n, c, h, w)).astype(np.float32)
    pad = reference_pad(padding, h, w, kernel, stride)
    assert layer.padding_pixels == pad
    assert layer.params["W"].shape == (f, c, *_hw(kernel))
    y = layer.forward(x)
    W = layer.params["W"].astype(np.float64)
    b = layer.params["b"].astype(np.float64)
    expected = ref.conv2d(x, W, b, stride, pad, mode)
    assert y.shape == expected.shape == (n, *layer.output_shape((c, h, w)))
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)

    r = rng.standard_normal(y.shape).astype(np.float32)
    dx = layer.backward(r)
    x64 = x.astype(np.float64)

    def loss(x_, W_, b_):
        return float(np.sum(ref.conv2d(x_, W_, b_, stride, pad, mode) * r))

    assert rel_error(dx, ref.numerical_gradient(lambda v: loss(v, W, b), x64.copy())) < 1e-5
    assert rel_error(layer.grads["W"], ref.numerical_gradient(lambda v: loss(x64, v, b), W.copy())) < 1e-5
    assert rel_error(layer.grads["b"], ref.numerical_gradient(lambda v: loss(x64, W, v), b.copy())) < 1e-5


POOL_CASES = [
    # (N, C, H, W, pool, stride, padding)
    (2, 2, 6, 5, (2, 1), None, "valid"),
    (1, 2, 5, 6, (1, 2), None, "same"),
    (1, 3, 7, 6, (3, 2), (2, 1), "valid"),
    (2, 1, 6, 7, (3, 2), (2, 1), "same"),
    (1, 2, 5, 5, (2, 3), (1, 2), "same"),
]


@pytest.mark.parametrize("cls", [MaxPooling2D, AveragePooling2D])
@pytest.mark.parametrize("n, c, h, w, pool, stride, padding", POOL_CASES)
def test_rectangular_pooling_matches_the_reference(cls, n, c, h, w, pool, stride, padding):
    rng = np.random.default_rng(4)
    layer = cls(pool, stride, padding)
    layer.build((c, h, w), rng)
    x = rng.standard_normal((n, c, h, w)).astype(np.float32)
    s = stride or pool
    pad = reference_pad(padding, h, w, pool, s)
    assert layer.padding_pixels == pad
    y = layer.forward(x)
    if cls is MaxPooling2D:
        expected, arg = ref.maxpool2d(x, pool, s, pad)
        np.testing.assert_array_equal(layer.argmax, arg)
    else:
        expected = ref.avgpool2d(x, pool, s, pad)
    np.testing.assert_allclose(y, expected, rtol=1e-6, atol=1e-6)

    r = rng.standard_normal(y.shape).astype(np.float32)
    dx = layer.backward(r)
    if cls is MaxPooling2D:
        def loss(v):
            return float(np.sum(ref.maxpool2d(v, pool, s, pad)[0] * r))
    else:
        def loss(v):
            return float(np.sum(ref.avgpool2d(v, pool, s, pad) * r))
    assert rel_error(dx, ref.numerical_gradient(loss, x.astype(np.float64))) < 1e-6


def test_rectangular_kernels_give_the_same_bits_with_any_thread_count():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((37, 3, 9, 12)).astype(np.float32)
    w = rng.standard_normal((4, 3, 2, 3)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    before = kernels.get_num_threads()
    results = []
    try:
        for threads in (1, 2, 3):
            kernels.set_num_threads(threads)
            y = kernels.conv2d_forward(x, w, b, (2, 1), (0, 1, 1, 1))
            dx, dw, db = kernels.conv2d_backward(x, w, y, (2, 1), (0, 1, 1, 1))
            p, am = kernels.maxpool2d_forward(x, (3, 2), (2, 1), (0, 0, 0, 0))
            results.append((y, dx, dw, db, p, am))
    finally:
        kernels.set_num_threads(before)
    for other in results[1:]:
        for a, b_ in zip(results[0], other):
            assert np.array_equal(a, b_)


def test_the_1d_example_as_a_1x7_image_with_a_1x3_kernel():
    # x = [1,3,2,2,0,2,3], w = [-1,0,1]: no zero rows are needed any more.
    layer = Conv2D(1, (1, 3), use_bias=False)
    layer.build((1, 1, 7))
    layer.set_filter(0, [[-1, 0, 1]])
    y = layer.forward(np.array([[[[1, 3, 2, 2, 0, 2, 3]]]], np.float32))
    assert y.shape == (1, 1, 1, 5)
    assert y.ravel().tolist() == [1, -1, -2, 0, 3]
    assert layer.output_shape((1, 1, 7)) == (1, 1, 5)


@pytest.mark.parametrize(
    "layer, shape, out, formula",
    [
        (Conv2D(8, (1, 3)), (1, 7, 7), (8, 7, 5), "H: (7 + 2*0 - 1)/1 + 1 = 7; W: (7 + 2*0 - 3)/1 + 1 = 5"),
        (Conv2D(8, (1, 3), strides=(1, 2)), (1, 7, 9), (8, 7, 4),
         "H: (7 + 2*0 - 1)/1 + 1 = 7; W: (9 + 2*0 - 3)/2 + 1 = 4"),
        (Conv2D(8, 3), (1, 7, 7), (8, 5, 5), "(7 + 2*0 - 3)/1 + 1 = 5"),
        (Conv2D(8, 3, strides=(2, 1), padding="same"), (1, 7, 7), (8, 4, 7),
         "H: (7 + 2*1 - 3)/2 + 1 = 4; W: (7 + 2*1 - 3)/1 + 1 = 7"),
        (MaxPooling2D((2, 1)), (4, 6, 5), (4, 3, 5), "H: (6 + 2*0 - 2)/2 + 1 = 3; W: (5 + 2*0 - 1)/1 + 1 = 5"),
        (AveragePooling2D((3, 2), (2, 1)), (4, 7, 6), (4, 3, 5),
         "H: (7 + 2*0 - 3)/2 + 1 = 3; W: (6 + 2*0 - 2)/1 + 1 = 5"),
    ],
)
def test_output_size_and_its_formula_per_axis(layer, shape, out, formula):
    assert layer.output_shape(shape) == out
    assert layer.size_formula(shape) == formula


def test_parameters_of_a_rectangular_kernel():
    layer = Conv2D(8, (1, 3))
    assert layer.param_count((1, 7, 7)) == 32
    assert layer.param_formula((1, 7, 7)) == "1*3*1*8 + 8 = 32"
    assert Conv2D(4, (2, 3), use_bias=False).param_formula((3, 9, 9)) == "2*3*3*4 = 72"


def test_config_writes_pairs_as_lists_and_reads_old_int_configs():
    conv = Conv2D(8, (1, 3), strides=(1, 2), padding=((1, 0), (2, 1)), name="c")
    cfg = conv.get_config()
    assert cfg["config"]["kernel_size"] == [1, 3]
    assert cfg["config"]["strides"] == [1, 2]
    assert cfg["config"]["padding"] == [[1, 0], [2, 1]]
    again = layer_from_config(cfg)
    assert again.output_shape((1, 6, 9)) == conv.output_shape((1, 6, 9)) == (8, 7, 5)
    pool = MaxPooling2D((2, 1), strides=(2, 1), name="p")
    assert pool.get_config()["config"]["pool_size"] == [2, 1]
    assert layer_from_config(pool.get_config()).output_shape((3, 6, 6)) == (3, 3, 6)
    old = {"class_name": "Conv2D", "config": {"name": "old", "filters": 4, "kernel_size": 3, "strides": 2,
                                              "padding": "same"}}
    assert layer_from_config(old).output_shape((1, 9, 9)) == (4, 5, 5)
    assert Conv2D(4, (3, 3)).kernel_size == 3  # an equal pair is the square kernel it always was


def test_set_filter_takes_kh_kw_and_c_kh_kw():
    layer = Conv2D(2, (2, 3))
    layer.build((3, 5, 5))
    layer.set_filter(0, np.arange(6).reshape(2, 3))
    assert np.array_equal(layer.params["W"][0, 2], np.arange(6).reshape(2, 3))
    layer.set_filter(1, np.ones((3, 2, 3)))
    assert layer.params["W"][1].sum() == 18
    with pytest.raises(ShapeError) as info:
        layer.set_filter(1, np.ones((3, 3)))
    assert info.value.code == "filter_kernel_shape_rect"
    assert "2x3" in str(info.value)


@pytest.mark.parametrize(
    "layer, shape, words",
    [
        (Conv2D(4, (5, 3)), (1, 3, 8), ["kernel height 5 does not fit input height 3", "at most 3"]),
        (Conv2D(4, (1, 4), strides=(1, 2)), (1, 6, 3), ["kernel width 4 does not fit input width 3"]),
        (MaxPooling2D((3, 1)), (2, 2, 9), ["pool window height 3 does not fit input height 2"]),
        (Conv2D(4, (3, 1), padding=((0, 0), (1, 1))), (1, 2, 5), ["kernel height 3", "padding 0+0"]),
        (Conv2D(4, (1, 3), padding=(1, 2, 3)), (1, 5, 5), ["(rows, columns)"]),
    ],
)
def test_an_impossible_rectangular_layer_names_the_axis(layer, shape, words):
    with pytest.raises(ShapeError) as info:
        layer.output_shape(shape)
    for word in words:
        assert word in str(info.value)
