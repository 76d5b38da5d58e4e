"""Compute kernels of the engine: convolution and pooling, forward and backward, in numba.

Every array is NCHW ``float32`` and C-contiguous (the wrappers check it: a different dtype or layout
would silently compile a second version of every kernel). Every numba kernel is
``@njit(nogil=True, cache=True)`` so the GUI thread keeps running while the worker trains, and the
compiled code is cached on disk. Nothing here is compiled at import time; :func:`warmup` compiles (or
loads from the cache) every kernel on tiny shapes and is meant for the worker thread.

Public functions
----------------
``conv2d_forward(x, w, b, stride, pad) -> y``
    ``x (N,C,H,W)``, ``w (F,C,K,K)``, ``b (F,)`` or ``None``; ``pad = (top, bottom, left, right)``
    zero padding. Cross-correlation::

        y[n,f,i,j] = b[f] + sum_{c,u,v} w[f,c,u,v] * xpad[n,c,i*s+u,j*s+v]

    ``OH = (H+top+bottom-K)//s + 1`` and ``OW`` likewise.
``conv2d_backward(x, w, dy, stride, pad, need_dx=True) -> (dx or None, dw, db)``
``maxpool2d_forward(x, pool, stride, pad) -> (y, argmax)``
    ``argmax`` is int32 ``(N,C,OH,OW)``: the flat index ``r*W + c`` of the winning pixel in the
    *unpadded* input plane. Padding cells count as ``-inf`` and never win; the first maximum in
    row-major window order wins a tie. A window made only of padding gives ``0`` and argmax ``-1``.
``maxpool2d_backward(dy, argmax, x_shape) -> dx``
``avgpool2d_forward(x, pool, stride, pad) -> y``
    Mean over the window's non-padding pixels (Keras/TensorFlow semantics).
``avgpool2d_backward(dy, x_shape, pool, stride, pad) -> dx``
``warmup() -> None``
    Compiles or loads every kernel; call it on the worker thread ("compiling kernels...").
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = [
    "conv2d_forward",
    "conv2d_backward",
    "maxpool2d_forward",
    "maxpool2d_backward",
    "avgpool2d_forward",
    "avgpool2d_backward",
    "warmup",
]


# --------------------------------------------------------------------------------------------
# argument checks (plain Python; the kernels trust their inputs)
# --------------------------------------------------------------------------------------------


def _check_array(a, name: str, ndim: int) -> None:
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(a).__name__}")
    if a.dtype != np.float32:
        raise TypeError(f"{name} must be float32, got {a.dtype}")
    if a.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {a.shape}")
    if not a.flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous (use np.ascontiguousarray)")


def _check_pad(pad) -> tuple[int, int, int, int]:
    try:
        top, bottom, left, right = (int(p) for p in pad)
    except (TypeError, ValueError):
        raise ValueError(f"pad must be (top, bottom, left, right), got {pad!r}") from None
    if min(top, bottom, left, right) < 0:
        raise ValueError(f"padding must be >= 0, got {pad!r}")
    return top, bottom, left, right


def _out_size(n: int, k: int, s: int, before: int, after: int, what: str) -> int:
    if s < 1:
        raise ValueError(f"stride must be >= 1, got {s}")
    if k < 1:
        raise ValueError(f"{what} size must be >= 1, got {k}")
    if n + before + after < k:
        raise ValueError(f"{what} {k} does not fit input {n} with padding ({before}, {after})")
    return (n + before + after - k) // s + 1


# --------------------------------------------------------------------------------------------
# convolution: im2col / col2im in numba, one BLAS sgemm per product
# --------------------------------------------------------------------------------------------


@njit(nogil=True, cache=True)
def _im2col(x, K, s, pt, pl, OH, OW, cols):
    """cols[(c*K+u)*K+v, (n*OH+i)*OW+j] = xpad[n, c, i*s+u, j*s+v]."""
    N, C, H, W = x.shape
    P = OH * OW
    for c in range(C):
        for u in range(K):
            for v in range(K):
                row = (c * K + u) * K + v
                for n in range(N):
                    base = n * P
                    for i in range(OH):
                        r = i * s + u - pt
                        o = base + i * OW
                        if r < 0 or r >= H:
                            for j in range(OW):
                                cols[row, o + j] = 0.0
                        else:
                            for j in range(OW):
                                q = j * s + v - pl
                                if q >= 0 and q < W:
                                    cols[row, o + j] = x[n, c, r, q]
                                else:
                                    cols[row, o + j] = 0.0


@njit(nogil=True, cache=True)
def _col2im(dcols, K, s, pt, pl, OH, OW, dx):
    """Adjoint of _im2col: dx[n, c, i*s+u-pt, j*s+v-pl] += dcols[(c*K+u)*K+v, (n*OH+i)*OW+j]."""
    N, C, H, W = dx.shape
    P = OH * OW
    dx[:] = 0.0
    for c in range(C):
        for u in range(K):
            for v in range(K):
                row = (c * K + u) * K + v
                for n in range(N):
                    base = n * P
                    for i in range(OH):
                        r = i * s + u - pt
                        if r < 0 or r >= H:
                            continue
                        o = base + i * OW
                        for j in range(OW):
                            q = j * s + v - pl
                            if q >= 0 and q < W:
                                dx[n, c, r, q] += dcols[row, o + j]


@njit(nogil=True, cache=True)
def _fnp_to_nchw(y2, b, has_bias, y):
    """y[n, f, p] = y2[f, n*P + p] (+ b[f])."""
    N, F, P = y.shape
    for n in range(N):
        for f in range(F):
            bias = b[f] if has_bias else np.float32(0.0)
            for p in range(P):
                y[n, f, p] = y2[f, n * P + p] + bias


@njit(nogil=True, cache=True)
def _nchw_to_fnp(dy, d2, db):
    """d2[f, n*P + p] = dy[n, f, p]; db[f] = sum over n, p."""
    N, F, P = dy.shape
    for f in range(F):
        db[f] = 0.0
    for n in range(N):
        for f in range(F):
            acc = np.float32(0.0)
            for p in range(P):
                v = dy[n, f, p]
                d2[f, n * P + p] = v
                acc += v
            db[f] += acc


def _conv_geometry(x, w, stride, pad):
    _check_array(x, "x", 4)
    _check_array(w, "w", 4)
    N, C, H, W = x.shape
    F, Cw, K, K2 = w.shape
    if Cw != C:
        raise ValueError(f"w has {Cw} input channels but x has {C}")
    if K != K2:
        raise ValueError(f"only square kernels are supported, got {K}x{K2}")
    stride = int(stride)
    pt, pb, pl, pr = _check_pad(pad)
    OH = _out_size(H, K, stride, pt, pb, "kernel")
    OW = _out_size(W, K, stride, pl, pr, "kernel")
    return N, C, H, W, F, K, stride, pt, pl, OH, OW


def conv2d_forward(x, w, b, stride, pad):
    """Cross-correlation of ``x (N,C,H,W)`` with ``w (F,C,K,K)`` plus bias; returns ``(N,F,OH,OW)``."""
    N, C, H, W, F, K, s, pt, pl, OH, OW = _conv_geometry(x, w, stride, pad)
    has_bias = b is not None
    if has_bias:
        _check_array(b, "b", 1)
        if b.shape[0] != F:
            raise ValueError(f"b has {b.shape[0]} entries but w has {F} filters")
    else:
        b = np.zeros(1, np.float32)
    P = OH * OW
    cols = np.empty((C * K * K, N * P), np.float32)
    _im2col(x, K, s, pt, pl, OH, OW, cols)
    y2 = w.reshape(F, C * K * K) @ cols
    y = np.empty((N, F, P), np.float32)
    _fnp_to_nchw(y2, b, has_bias, y)
    return y.reshape(N, F, OH, OW)


def conv2d_backward(x, w, dy, stride, pad, need_dx=True):
    """Gradients of :func:`conv2d_forward`: returns ``(dx or None, dw, db)``."""
    N, C, H, W, F, K, s, pt, pl, OH, OW = _conv_geometry(x, w, stride, pad)
    _check_array(dy, "dy", 4)
    if dy.shape != (N, F, OH, OW):
        raise ValueError(f"dy has shape {dy.shape}, expected {(N, F, OH, OW)}")
    P = OH * OW
    cols = np.empty((C * K * K, N * P), np.float32)
    _im2col(x, K, s, pt, pl, OH, OW, cols)
    d2 = np.empty((F, N * P), np.float32)
    db = np.empty(F, np.float32)
    _nchw_to_fnp(dy.reshape(N, F, P), d2, db)
    dw = (d2 @ cols.T).reshape(F, C, K, K)
    dx = None
    if need_dx:
        dcols = w.reshape(F, C * K * K).T @ d2
        dx = np.empty((N, C, H, W), np.float32)
        _col2im(np.ascontiguousarray(dcols), K, s, pt, pl, OH, OW, dx)
    return dx, dw, db


# --------------------------------------------------------------------------------------------
# pooling
# --------------------------------------------------------------------------------------------


@njit(nogil=True, cache=True)
def _maxpool_fwd(x, k, s, pt, pl, y, am):
    N, C, H, W = x.shape
    OH, OW = y.shape[2], y.shape[3]
    for n in range(N):
        for c in range(C):
            for i in range(OH):
                r0 = i * s - pt
                for j in range(OW):
                    q0 = j * s - pl
                    best = -np.inf
                    arg = -1
                    for u in range(k):
                        r = r0 + u
                        if r < 0 or r >= H:
                            continue
                        for v in range(k):
                            q = q0 + v
                            if q < 0 or q >= W:
                                continue
                            val = x[n, c, r, q]
                            if arg < 0 or val > best:
                                best = val
                                arg = r * W + q
                    if arg < 0:
                        y[n, c, i, j] = 0.0
                    else:
                        y[n, c, i, j] = best
                    am[n, c, i, j] = arg


@njit(nogil=True, cache=True)
def _maxpool_bwd(dy, am, dx):
    N, C, OH, OW = dy.shape
    W = dx.shape[3]
    dx[:] = 0.0
    for n in range(N):
        for c in range(C):
            for i in range(OH):
                for j in range(OW):
                    a = am[n, c, i, j]
                    if a >= 0:
                        dx[n, c, a // W, a % W] += dy[n, c, i, j]


@njit(nogil=True, cache=True)
def _avgpool_fwd(x, k, s, pt, pl, y):
    N, C, H, W = x.shape
    OH, OW = y.shape[2], y.shape[3]
    for n in range(N):
        for c in range(C):
            for i in range(OH):
                r0 = max(i * s - pt, 0)
                r1 = min(i * s - pt + k, H)
                for j in range(OW):
                    q0 = max(j * s - pl, 0)
                    q1 = min(j * s - pl + k, W)
                    acc = np.float32(0.0)
                    for r in range(r0, r1):
                        for q in range(q0, q1):
                            acc += x[n, c, r, q]
                    cnt = (r1 - r0) * (q1 - q0)
                    y[n, c, i, j] = acc / cnt if cnt > 0 else np.float32(0.0)


@njit(nogil=True, cache=True)
def _avgpool_bwd(dy, k, s, pt, pl, dx):
    N, C, H, W = dx.shape
    OH, OW = dy.shape[2], dy.shape[3]
    dx[:] = 0.0
    for n in range(N):
        for c in range(C):
            for i in range(OH):
                r0 = max(i * s - pt, 0)
                r1 = min(i * s - pt + k, H)
                for j in range(OW):
                    q0 = max(j * s - pl, 0)
                    q1 = min(j * s - pl + k, W)
                    cnt = (r1 - r0) * (q1 - q0)
                    if cnt <= 0:
                        continue
                    g = dy[n, c, i, j] / np.float32(cnt)
                    for r in range(r0, r1):
                        for q in range(q0, q1):
                            dx[n, c, r, q] += g


def _pool_geometry(x_shape, pool, stride, pad):
    N, C, H, W = (int(d) for d in x_shape)
    pool = int(pool)
    stride = int(stride)
    pt, pb, pl, pr = _check_pad(pad)
    OH = _out_size(H, pool, stride, pt, pb, "pool window")
    OW = _out_size(W, pool, stride, pl, pr, "pool window")
    return N, C, H, W, pool, stride, pt, pl, OH, OW


def maxpool2d_forward(x, pool, stride, pad):
    """Max pooling; returns ``(y, argmax)`` with argmax the flat index into the unpadded plane."""
    _check_array(x, "x", 4)
    N, C, H, W, k, s, pt, pl, OH, OW = _pool_geometry(x.shape, pool, stride, pad)
    y = np.empty((N, C, OH, OW), np.float32)
    am = np.empty((N, C, OH, OW), np.int32)
    _maxpool_fwd(x, k, s, pt, pl, y, am)
    return y, am


def maxpool2d_backward(dy, argmax, x_shape):
    """Routes each ``dy`` value to the input pixel that won its window (overlaps accumulate)."""
    _check_array(dy, "dy", 4)
    if not isinstance(argmax, np.ndarray) or argmax.dtype != np.int32 or not argmax.flags.c_contiguous:
        raise TypeError("argmax must be a C-contiguous int32 array from maxpool2d_forward")
    if argmax.shape != dy.shape:
        raise ValueError(f"argmax shape {argmax.shape} differs from dy shape {dy.shape}")
    N, C, H, W = (int(d) for d in x_shape)
    if (N, C) != dy.shape[:2]:
        raise ValueError(f"x_shape {tuple(x_shape)} does not match dy shape {dy.shape}")
    dx = np.empty((N, C, H, W), np.float32)
    _maxpool_bwd(dy, argmax, dx)
    return dx


def avgpool2d_forward(x, pool, stride, pad):
    """Average pooling over the window's non-padding pixels."""
    _check_array(x, "x", 4)
    N, C, H, W, k, s, pt, pl, OH, OW = _pool_geometry(x.shape, pool, stride, pad)
    y = np.empty((N, C, OH, OW), np.float32)
    _avgpool_fwd(x, k, s, pt, pl, y)
    return y


def avgpool2d_backward(dy, x_shape, pool, stride, pad):
    """Gradient of :func:`avgpool2d_forward`."""
    _check_array(dy, "dy", 4)
    N, C, H, W, k, s, pt, pl, OH, OW = _pool_geometry(x_shape, pool, stride, pad)
    if dy.shape != (N, C, OH, OW):
        raise ValueError(f"dy has shape {dy.shape}, expected {(N, C, OH, OW)}")
    dx = np.empty((N, C, H, W), np.float32)
    _avgpool_bwd(dy, k, s, pt, pl, dx)
    return dx


# --------------------------------------------------------------------------------------------
# warm-up
# --------------------------------------------------------------------------------------------


def warmup() -> None:
    """Compile (or load from the on-disk cache) every kernel by running it on tiny shapes."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 2, 5, 5)).astype(np.float32)
    w = rng.standard_normal((3, 2, 3, 3)).astype(np.float32)
    b = np.zeros(3, np.float32)
    pad = (1, 1, 1, 1)
    y = conv2d_forward(x, w, b, 1, pad)
    conv2d_forward(x, w, None, 1, pad)
    conv2d_backward(x, w, y, 1, pad, need_dx=True)
    p, am = maxpool2d_forward(x, 2, 2, (0, 0, 0, 0))
    maxpool2d_backward(p, am, x.shape)
    a = avgpool2d_forward(x, 2, 2, (0, 0, 0, 0))
    avgpool2d_backward(a, x.shape, 2, 2, (0, 0, 0, 0))
