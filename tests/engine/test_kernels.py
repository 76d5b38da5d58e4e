"""The numba kernels against slow, obviously correct float64 numpy loops and finite differences."""

from __future__ import annotations

import numpy as np
import pytest

from engine import kernels
from tests.reference import numerical_gradient

# ---------------------------------------------------------------------------------------------
# references: float64, one output position at a time
# ---------------------------------------------------------------------------------------------


def ref_pad(x, pad):
    top, bottom, left, right = pad
    return np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))


def ref_conv_forward(x, w, b, s, pad):
    x = ref_pad(np.asarray(x, np.float64), pad)
    w = np.asarray(w, np.float64)
    N, C, H, W = x.shape
    F, _, K, _ = w.shape
    OH, OW = (H - K) // s + 1, (W - K) // s + 1
    y = np.zeros((N, F, OH, OW))
    for n in range(N):
        for f in range(F):
            for i in range(OH):
                for j in range(OW):
                    y[n, f, i, j] = np.sum(w[f] * x[n, :, i * s : i * s + K, j * s : j * s + K])
            if b is not None:
                y[n, f] += b[f]
    return y


def ref_conv_backward(x, w, dy, s, pad):
    top, bottom, left, right = pad
    xp = ref_pad(np.asarray(x, np.float64), pad)
    w = np.asarray(w, np.float64)
    dy = np.asarray(dy, np.float64)
    N, F, OH, OW = dy.shape
    K = w.shape[2]
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    for n in range(N):
        for f in range(F):
            for i in range(OH):
                for j in range(OW):
                    g = dy[n, f, i, j]
                    dw[f] += g * xp[n, :, i * s : i * s + K, j * s : j * s + K]
                    dxp[n, :, i * s : i * s + K, j * s : j * s + K] += g * w[f]
    H, W = xp.shape[2], xp.shape[3]
    dx = dxp[:, :, top : H - bottom, left : W - right]
    db = dy.sum(axis=(0, 2, 3))
    return dx, dw, db


def ref_pool_windows(shape, k, s, pad):
    """Yield (i, j, rows, cols) of each window, clipped to the unpadded input."""
    N, C, H, W = shape
    top, bottom, left, right = pad
    OH = (H + top + bottom - k) // s + 1
    OW = (W + left + right - k) // s + 1
    for i in range(OH):
        for j in range(OW):
            rows = [r for r in range(i * s - top, i * s - top + k) if 0 <= r < H]
            cols = [c for c in range(j * s - left, j * s - left + k) if 0 <= c < W]
            yield i, j, rows, cols


def ref_out_shape(shape, k, s, pad):
    N, C, H, W = shape
    top, bottom, left, right = pad
    return N, C, (H + top + bottom - k) // s + 1, (W + left + right - k) // s + 1


def ref_maxpool(x, k, s, pad):
    x = np.asarray(x, np.float64)
    y = np.zeros(ref_out_shape(x.shape, k, s, pad))
    arg = np.zeros(y.shape, np.int64)
    W = x.shape[3]
    for i, j, rows, cols in ref_pool_windows(x.shape, k, s, pad):
        for n in range(x.shape[0]):
            for c in range(x.shape[1]):
                best, where = -np.inf, -1
                for r in rows:  # row-major order: the first maximum wins a tie
                    for q in cols:
                        if x[n, c, r, q] > best:
                            best, where = x[n, c, r, q], r * W + q
                y[n, c, i, j] = best
                arg[n, c, i, j] = where
    return y, arg


def ref_avgpool(x, k, s, pad):
    x = np.asarray(x, np.float64)
    y = np.zeros(ref_out_shape(x.shape, k, s, pad))
    for i, j, rows, cols in ref_pool_windows(x.shape, k, s, pad):
        y[:, :, i, j] = x[:, :, rows][:, :, :, cols].mean(axis=(2, 3))
    return y


def f32(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


def assert_close(actual, expected, scale=1.0):
    np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-4 * max(scale, 1.0))


# ---------------------------------------------------------------------------------------------
# convolution
# ---------------------------------------------------------------------------------------------

# (N, C, H, W, F, K, stride, pad)
CONV_CASES = [
    (1, 1, 5, 5, 1, 1, 1, (0, 0, 0, 0)),
    (2, 1, 7, 7, 4, 3, 1, (0, 0, 0, 0)),
    (1, 3, 6, 6, 4, 3, 1, (1, 1, 1, 1)),
    (3, 3, 9, 7, 1, 5, 1, (2, 2, 2, 2)),
    (2, 6, 8, 8, 4, 2, 2, (0, 0, 0, 0)),
    (1, 6, 9, 9, 4, 3, 2, (0, 1, 0, 1)),
    (2, 3, 10, 11, 4, 3, 3, (1, 1, 0, 2)),
    (1, 1, 7, 5, 4, 5, 2, (2, 2, 1, 1)),
    (3, 1, 5, 5, 1, 2, 1, (0, 1, 1, 0)),
    (2, 6, 6, 6, 1, 1, 3, (0, 0, 0, 0)),
    (1, 3, 4, 4, 4, 5, 1, (2, 2, 2, 2)),
    (2, 3, 13, 13, 4, 3, 2, (1, 1, 1, 1)),
    (1, 1, 28, 28, 4, 5, 1, (2, 2, 2, 2)),
    (1, 6, 3, 3, 4, 3, 3, (0, 0, 0, 0)),
]


@pytest.mark.parametrize("case", CONV_CASES, ids=lambda c: "N{}C{}H{}W{}F{}K{}s{}p{}".format(*c))
def test_conv_forward_and_backward_match_reference_loops(case, blas_path):
    N, C, H, W, F, K, s, pad = case
    rng = np.random.default_rng(hash(case) % 2**32)
    x, w, b = f32(rng, N, C, H, W), f32(rng, F, C, K, K), f32(rng, F)
    y = kernels.conv2d_forward(x, w, b, s, pad)
    y_ref = ref_conv_forward(x, w, b, s, pad)
    assert y.dtype == np.float32 and y.shape == y_ref.shape
    assert_close(y, y_ref, scale=np.abs(y_ref).max())

    y_nobias = kernels.conv2d_forward(x, w, None, s, pad)
    assert_close(y_nobias, ref_conv_forward(x, w, None, s, pad), scale=np.abs(y_ref).max())

    dy = f32(rng, *y.shape)
    dx, dw, db = kernels.conv2d_backward(x, w, dy, s, pad)
    dx_ref, dw_ref, db_ref = ref_conv_backward(x, w, dy, s, pad)
    assert dx.shape == x.shape and dw.shape == w.shape and db.shape == (F,)
    assert dx.dtype == dw.dtype == db.dtype == np.float32
    assert_close(dx, dx_ref, scale=np.abs(dx_ref).max())
    assert_close(dw, dw_ref, scale=np.abs(dw_ref).max())
    assert_close(db, db_ref, scale=np.abs(db_ref).max())

    none_dx, dw2, db2 = kernels.conv2d_backward(x, w, dy, s, pad, need_dx=False)
    assert none_dx is None
    np.testing.assert_array_equal(dw2, dw)
    np.testing.assert_array_equal(db2, db)


@pytest.mark.parametrize(
    "case",
    [
        (1, 2, 5, 5, 3, 3, 1, (1, 1, 1, 1)),
        (2, 1, 6, 7, 2, 3, 2, (0, 1, 1, 0)),
        (1, 3, 5, 4, 2, 2, 3, (1, 0, 0, 1)),
    ],
    ids=["same_3x3", "stride2_asym", "rgb_stride3_k2"],
)
def test_conv_gradients_match_finite_differences(case):
    N, C, H, W, F, K, s, pad = case
    rng = np.random.default_rng(7)
    x, w, b = f32(rng, N, C, H, W), f32(rng, F, C, K, K), f32(rng, F)
    g = f32(rng, *kernels.conv2d_forward(x, w, b, s, pad).shape)
    g64 = g.astype(np.float64)

    dx, dw, db = kernels.conv2d_backward(x, w, g, s, pad)
    num_dx = numerical_gradient(lambda a: np.sum(ref_conv_forward(a, w, b, s, pad) * g64), x)
    num_dw = numerical_gradient(lambda a: np.sum(ref_conv_forward(x, a, b, s, pad) * g64), w)
    num_db = numerical_gradient(lambda a: np.sum(ref_conv_forward(x, w, a, s, pad) * g64), b)
    np.testing.assert_allclose(dx, num_dx, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(dw, num_dw, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(db, num_db, rtol=1e-3, atol=1e-4)


def test_conv_computes_textbook_cross_correlation():
    # A 3x3 input and a 2x2 kernel, worked by hand: y[i,j] = sum x[i+u, j+v] * w[u, v].
    x = np.arange(1, 10, dtype=np.float32).reshape(1, 1, 3, 3)
    w = np.array([[[[1, 0], [0, -1]]]], np.float32)
    y = kernels.conv2d_forward(x, w, np.array([0.5], np.float32), 1, (0, 0, 0, 0))
    np.testing.assert_array_equal(y[0, 0], [[1 - 5 + 0.5, 2 - 6 + 0.5], [4 - 8 + 0.5, 5 - 9 + 0.5]])


def test_conv_rejects_wrong_dtype_layout_and_shapes():
    x = np.zeros((1, 2, 5, 5), np.float32)
    w = np.zeros((3, 2, 3, 3), np.float32)
    with pytest.raises(TypeError, match="float32"):
        kernels.conv2d_forward(x.astype(np.float64), w, None, 1, (0, 0, 0, 0))
    with pytest.raises(ValueError, match="contiguous"):
        kernels.conv2d_forward(np.asfortranarray(x), w, None, 1, (0, 0, 0, 0))
    with pytest.raises(ValueError, match="channels"):
        kernels.conv2d_forward(x, np.zeros((3, 1, 3, 3), np.float32), None, 1, (0, 0, 0, 0))
    with pytest.raises(ValueError, match="does not fit"):
        kernels.conv2d_forward(x, np.zeros((3, 2, 7, 7), np.float32), None, 1, (0, 0, 0, 0))
    with pytest.raises(ValueError, match="filters"):
        kernels.conv2d_forward(x, w, np.zeros(2, np.float32), 1, (0, 0, 0, 0))
    with pytest.raises(ValueError, match="dy"):
        kernels.conv2d_backward(x, w, np.zeros((1, 3, 4, 4), np.float32), 1, (0, 0, 0, 0))


# ---------------------------------------------------------------------------------------------
# pooling
# ---------------------------------------------------------------------------------------------

# (N, C, H, W, pool, stride, pad)
POOL_CASES = [
    (1, 1, 4, 4, 2, 2, (0, 0, 0, 0)),
    (2, 3, 7, 7, 2, 2, (0, 0, 0, 0)),
    (3, 6, 7, 5, 2, 2, (0, 1, 0, 1)),
    (1, 3, 9, 9, 3, 2, (1, 1, 1, 1)),
    (2, 1, 8, 6, 3, 3, (0, 1, 2, 0)),
    (1, 6, 5, 5, 3, 1, (1, 1, 1, 1)),
    (2, 1, 6, 6, 1, 2, (0, 0, 0, 0)),
    (1, 3, 10, 11, 5, 3, (2, 2, 1, 2)),
]
POOL_IDS = ["N{}C{}H{}W{}k{}s{}p{}".format(*c) for c in POOL_CASES]


@pytest.mark.parametrize("case", POOL_CASES, ids=POOL_IDS)
def test_maxpool_forward_picks_the_winning_pixel_and_backward_routes_to_it(case):
    N, C, H, W, k, s, pad = case
    rng = np.random.default_rng(len(POOL_IDS[POOL_CASES.index(case)]))
    # Negative inputs: a padding cell counted as 0 instead of -inf would win and be caught here.
    x = -np.abs(f32(rng, N, C, H, W)) - 0.1
    y, arg = kernels.maxpool2d_forward(x, k, s, pad)
    y_ref, arg_ref = ref_maxpool(x, k, s, pad)
    assert arg.dtype == np.int32 and arg.shape == y.shape == y_ref.shape
    np.testing.assert_array_equal(y, y_ref.astype(np.float32))
    np.testing.assert_array_equal(arg, arg_ref)
    # The argmax is the pixel that holds the output value.
    planes = x.reshape(N, C, H * W)
    np.testing.assert_array_equal(np.take_along_axis(planes, arg.reshape(N, C, -1), axis=2).reshape(y.shape), y)

    dy = f32(rng, *y.shape)
    dx = kernels.maxpool2d_backward(dy, arg, x.shape)
    dx_ref = np.zeros((N, C, H * W))
    for n in range(N):
        for c in range(C):
            np.add.at(dx_ref[n, c], arg_ref[n, c].ravel(), dy[n, c].ravel())
    assert_close(dx, dx_ref.reshape(x.shape))


def test_maxpool_ties_go_to_the_first_pixel_in_reading_order():
    x = np.zeros((1, 1, 2, 4), np.float32)
    x[0, 0, 1, 0] = x[0, 0, 0, 1] = 3.0  # both in the first window; (0, 1) comes first
    y, arg = kernels.maxpool2d_forward(x, 2, 2, (0, 0, 0, 0))
    assert y[0, 0, 0, 0] == 3.0 and arg[0, 0, 0, 0] == 1
    assert y[0, 0, 0, 1] == 0.0 and arg[0, 0, 0, 1] == 2


@pytest.mark.parametrize("case", POOL_CASES, ids=POOL_IDS)
def test_avgpool_forward_and_backward_match_reference(case):
    N, C, H, W, k, s, pad = case
    rng = np.random.default_rng(3)
    x = f32(rng, N, C, H, W)
    y = kernels.avgpool2d_forward(x, k, s, pad)
    y_ref = ref_avgpool(x, k, s, pad)
    assert y.shape == y_ref.shape
    assert_close(y, y_ref)

    dy = f32(rng, *y.shape)
    dx = kernels.avgpool2d_backward(dy, x.shape, k, s, pad)
    dy64 = dy.astype(np.float64)
    num = numerical_gradient(lambda a: np.sum(ref_avgpool(a, k, s, pad) * dy64), x) if x.size <= 200 else None
    dx_ref = np.zeros(x.shape)
    for i, j, rows, cols in ref_pool_windows(x.shape, k, s, pad):
        for r in rows:
            for q in cols:
                dx_ref[:, :, r, q] += dy64[:, :, i, j] / (len(rows) * len(cols))
    assert_close(dx, dx_ref)
    if num is not None:
        np.testing.assert_allclose(dx, num, rtol=1e-3, atol=1e-4)


def test_avgpool_divides_by_the_real_pixels_only():
    # Keras "same" pooling: a border window over one real pixel and three padding cells is that pixel.
    x = np.array([[[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]], np.float32)
    y = kernels.avgpool2d_forward(x, 2, 2, (0, 1, 0, 1))
    np.testing.assert_allclose(y[0, 0], [[3.0, 4.5], [7.5, 9.0]])


def test_maxpool_gradient_matches_finite_differences():
    rng = np.random.default_rng(11)
    # Well separated values so that no nudge of eps changes a window's winner.
    x = (rng.permutation(2 * 3 * 7 * 6).reshape(2, 3, 7, 6) * 0.01).astype(np.float32)
    pad = (1, 0, 0, 1)
    y, arg = kernels.maxpool2d_forward(x, 3, 2, pad)
    g = f32(rng, *y.shape).astype(np.float64)
    dx = kernels.maxpool2d_backward(g.astype(np.float32), arg, x.shape)
    num = numerical_gradient(lambda a: np.sum(ref_maxpool(a, 3, 2, pad)[0] * g), x, eps=1e-4)
    np.testing.assert_allclose(dx, num, rtol=1e-3, atol=1e-4)


def test_pool_rejects_bad_arguments():
    x = np.zeros((1, 1, 4, 4), np.float32)
    with pytest.raises(TypeError):
        kernels.maxpool2d_forward(x.astype(np.float64), 2, 2, (0, 0, 0, 0))
    with pytest.raises(ValueError, match="does not fit"):
        kernels.avgpool2d_forward(x, 5, 1, (0, 0, 0, 0))
    with pytest.raises(ValueError, match="pad"):
        kernels.maxpool2d_forward(x, 2, 2, (0, 0))
    y, arg = kernels.maxpool2d_forward(x, 2, 2, (0, 0, 0, 0))
    with pytest.raises(TypeError, match="int32"):
        kernels.maxpool2d_backward(y, arg.astype(np.int64), x.shape)


def test_warmup_runs_every_kernel():
    kernels.warmup()


# ---------------------------------------------------------------------------------------------
# the thread team, chunking, both convolution layouts, fused ReLU
# ---------------------------------------------------------------------------------------------


@pytest.fixture(params=[1, 2], ids=["1thread", "2threads"])
def team_size(request):
    before = kernels.get_num_threads()
    kernels.set_num_threads(request.param)
    yield request.param
    kernels.set_num_threads(before)


# Batches large enough to be cut into several chunks and shared by the team; both layouts
# (padded-width columns for stride 1, general columns otherwise) are exercised.
BIG_CONV_CASES = [
    (9, 3, 14, 14, 8, 3, 1, (1, 1, 1, 1)),  # padded-width layout
    (7, 6, 13, 11, 4, 5, 1, (2, 1, 0, 2)),  # padded-width, asymmetric padding
    (9, 1, 12, 12, 4, 3, 1, (0, 0, 0, 0)),  # C*K*K < 16: general layout
    (5, 4, 9, 9, 4, 3, 2, (1, 0, 1, 0)),  # stride 2: general layout
    (6, 8, 5, 5, 8, 3, 1, (0, 0, 0, 0)),  # kernel wide compared to the output: general layout
    (4, 2, 6, 6, 3, 1, 1, (0, 0, 0, 0)),  # 1x1 kernel
]


@pytest.fixture(params=["sgemm_in_numba", "numpy_matmul"])
def blas_path(request, monkeypatch):
    """Both ways of reaching BLAS: numpy's cblas_sgemm called inside numba, or numpy.matmul."""
    if request.param == "sgemm_in_numba":
        if kernels._blas_gemm() is None:
            pytest.skip("numpy's BLAS exposes no ILP64 cblas_sgemm here")
    else:
        monkeypatch.setattr(kernels, "_gemm_fn", False)
    return request.param


@pytest.mark.parametrize("layout", ["chosen", "forced_general", "forced_padded_width"])
@pytest.mark.parametrize("case", BIG_CONV_CASES, ids=lambda c: "N{}C{}H{}W{}F{}K{}s{}p{}".format(*c))
def test_conv_is_correct_for_any_team_size_and_chunking(case, layout, team_size, blas_path, monkeypatch):
    monkeypatch.setattr(kernels, "_CHUNK_VALUES", 2000)  # force several chunks per thread
    if layout == "forced_general":
        monkeypatch.setattr(kernels, "_use_wide", lambda s, *rest: False)
    elif layout == "forced_padded_width":  # defined for stride 1 only
        monkeypatch.setattr(kernels, "_use_wide", lambda s, *rest: s == 1)
    N, C, H, W, F, K, s, pad = case
    x, w, b, g, z_ref, dx_ref, dw_ref, db_ref = _big_case(case)
    pre = np.empty(z_ref.shape, np.float32)
    y = kernels.conv2d_forward(x, w, b, s, pad, relu=True, pre=pre)
    scale = np.abs(z_ref).max()
    assert_close(pre, z_ref, scale)
    assert_close(y, np.maximum(z_ref, 0), scale)
    assert (y >= 0).all()

    dx, dw, db = kernels.conv2d_backward(x, w, g, s, pad, relu_output=y)
    assert_close(dx, dx_ref, np.abs(dx_ref).max())
    assert_close(dw, dw_ref, np.abs(dw_ref).max())
    assert_close(db, db_ref, np.abs(db_ref).max())


_BIG_CACHE: dict = {}


def _big_case(case):
    """Inputs and float64 reference results of a case, computed once (the loops are slow)."""
    if case not in _BIG_CACHE:
        N, C, H, W, F, K, s, pad = case
        rng = np.random.default_rng(5)
        x, w, b = f32(rng, N, C, H, W), f32(rng, F, C, K, K), f32(rng, F)
        z_ref = ref_conv_forward(x, w, b, s, pad)
        g = f32(rng, *z_ref.shape)
        masked = g.astype(np.float64) * (z_ref > 0)
        _BIG_CACHE[case] = (x, w, b, g, z_ref, *ref_conv_backward(x, w, masked, s, pad))
    return _BIG_CACHE[case]


def test_conv_results_are_reproducible_bit_for_bit_whatever_the_thread_count(blas_path):
    rng = np.random.default_rng(2)
    x, w = f32(rng, 16, 8, 12, 12), f32(rng, 16, 8, 3, 3)
    g = f32(rng, 16, 16, 12, 12)
    before = kernels.get_num_threads()
    try:
        kernels.set_num_threads(1)
        first = kernels.conv2d_backward(x, w, g, 1, (1, 1, 1, 1))
        for threads in (2, 3, 2):
            kernels.set_num_threads(threads)
            again = kernels.conv2d_backward(x, w, g, 1, (1, 1, 1, 1))
            for a, b in zip(first, again):
                np.testing.assert_array_equal(a, b)
    finally:
        kernels.set_num_threads(before)


def test_kernels_give_right_answers_when_called_from_two_threads_at_once():
    import threading

    rng = np.random.default_rng(4)
    x, w, b = f32(rng, 12, 4, 10, 10), f32(rng, 6, 4, 3, 3), f32(rng, 6)
    expected = ref_conv_forward(x, w, b, 1, (1, 1, 1, 1))
    failures = []

    def worker():
        for _ in range(20):
            y = kernels.conv2d_forward(x, w, b, 1, (1, 1, 1, 1))
            p, _ = kernels.maxpool2d_forward(y, 2, 2, (0, 0, 0, 0))
            if not np.allclose(y, expected, rtol=1e-4, atol=1e-4) or p.shape != (12, 6, 5, 5):
                failures.append("wrong result")

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures


def test_pooling_on_batches_large_enough_for_the_team(team_size):
    rng = np.random.default_rng(8)
    x = f32(rng, 8, 16, 14, 13)  # 23k values: split over the team
    for pool, stride, pad in ((2, 2, (0, 0, 0, 0)), (3, 2, (1, 1, 1, 1)), (2, 2, (0, 1, 0, 1))):
        y, arg = kernels.maxpool2d_forward(x, pool, stride, pad)
        y_ref, arg_ref = ref_maxpool(x, pool, stride, pad)
        np.testing.assert_array_equal(y, y_ref.astype(np.float32))
        np.testing.assert_array_equal(arg, arg_ref)
        dy = f32(rng, *y.shape)
        dx = kernels.maxpool2d_backward(dy, arg, x.shape)
        dx_ref = np.zeros((8, 16, 14 * 13))
        for n in range(8):
            for c in range(16):
                np.add.at(dx_ref[n, c], arg_ref[n, c].ravel(), dy[n, c].ravel())
        assert_close(dx, dx_ref.reshape(x.shape))
        assert_close(kernels.avgpool2d_forward(x, pool, stride, pad), ref_avgpool(x, pool, stride, pad))


def test_set_num_threads_resizes_the_team():
    before = kernels.get_num_threads()
    try:
        assert kernels.set_num_threads(3) == 3 and kernels.get_num_threads() == 3
        assert kernels.set_num_threads(1) == 1
    finally:
        kernels.set_num_threads(before)
    assert kernels.get_num_threads() == before


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs os.fork")
def test_a_forked_child_gets_a_working_team():
    import os

    x = np.ones((8, 2, 6, 6), np.float32)
    w = np.ones((3, 2, 3, 3), np.float32)
    kernels.conv2d_forward(x, w, None, 1, (0, 0, 0, 0))  # the parent's team is running
    pid = os.fork()
    if pid == 0:  # child: must not wait for the parent's worker threads
        import signal

        signal.alarm(30)  # a hang kills the child (status != 0) instead of the test run
        try:
            y = kernels.conv2d_forward(x, w, None, 1, (0, 0, 0, 0))
            os._exit(0 if np.all(y == 18.0) else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0


def test_empty_batches_give_empty_outputs_and_zero_gradients():
    x = np.zeros((0, 2, 6, 6), np.float32)
    w = np.ones((3, 2, 3, 3), np.float32)
    y = kernels.conv2d_forward(x, w, np.zeros(3, np.float32), 1, (1, 1, 1, 1))
    assert y.shape == (0, 3, 6, 6)
    dx, dw, db = kernels.conv2d_backward(x, w, y, 1, (1, 1, 1, 1))
    assert dx.shape == x.shape and not dw.any() and not db.any()
    p, arg = kernels.maxpool2d_forward(x, 2, 2, (0, 0, 0, 0))
    assert p.shape == arg.shape == (0, 2, 3, 3)
    assert kernels.maxpool2d_backward(p, arg, x.shape).shape == x.shape
