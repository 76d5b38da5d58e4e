"""The one pixel scaling: uint8 -> float32 in [0, 1], the same bits wherever an image enters."""

import numpy as np

from engine.datasets import to_float
from engine.imaging import preprocess
from engine.pixels import to_float32


def test_uint8_pixels_become_float32_between_0_and_1():
    x = np.array([[0, 51, 255]], np.uint8)
    y = to_float32(x)
    assert y.dtype == np.float32 and y.flags.c_contiguous
    np.testing.assert_allclose(y, [[0.0, 0.2, 1.0]], rtol=1e-6)
    assert y.max() == 1.0


def test_float_input_is_kept_and_a_buffer_can_be_reused():
    f = np.array([0.25, 0.5], np.float64)
    assert to_float32(f).dtype == np.float32 and to_float32(f).tolist() == [0.25, 0.5]
    out = np.empty(3, np.float32)
    assert to_float32(np.array([0, 128, 255], np.uint8), out=out) is out


def test_datasets_files_and_batches_scale_alike():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (1, 6, 6), dtype=np.uint8)
    np.testing.assert_array_equal(to_float(x), to_float32(x))
    # a dropped picture of exactly the model's size is scaled by the same function, bit for bit
    np.testing.assert_array_equal(preprocess(x[0], (1, 6, 6), style="fit"), to_float32(x))
