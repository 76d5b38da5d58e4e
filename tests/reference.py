"""Slow, obviously correct reference implementations (plain loops, float64) for the engine's tests.

Nothing here is clever: every output value is computed straight from its textbook definition so a
reader can check it by eye. Layouts are the engine's: images ``(N, C, H, W)``, conv weights
``(F, C, KH, KW)``, dense weights ``(D_in, D_out)``; ``pad = (top, bottom, left, right)``. Strides and
pool sizes are an int or a ``(height, width)`` pair.
"""

from __future__ import annotations

import math

import numpy as np


def pad_image(x: np.ndarray, pad, value: float = 0.0) -> np.ndarray:
    """Surround every ``(H, W)`` plane with ``value``: ``pad = (top, bottom, left, right)``."""
    top, bottom, left, right = pad
    n, c, h, w = x.shape
    out = np.full((n, c, h + top + bottom, w + left + right), value, dtype=np.float64)
    out[:, :, top:top + h, left:left + w] = x
    return out


def _hw(value) -> tuple[int, int]:
    if isinstance(value, (tuple, list)):
        return int(value[0]), int(value[1])
    return int(value), int(value)


def same_pad(n: int, k: int, s: int) -> tuple[int, int]:
    """TensorFlow's 'same': output ceil(n/s); the odd pixel of padding goes after (bottom/right)."""
    out = math.ceil(n / s)
    total = max((out - 1) * s + k - n, 0)
    return total // 2, total - total // 2


def conv2d(x, w, b=None, stride=1, pad=(0, 0, 0, 0), mode: str = "cross_correlation") -> np.ndarray:
    """``y[n,f,i,j] = b[f] + sum_{c,u,v} k[f,c,u,v] * xpad[n,c,i*sh+u,j*sw+v]`` with ``k = w`` for
    cross-correlation and ``k = w`` rotated by 180 degrees for convolution."""
    x = np.asarray(x, np.float64)
    w = np.asarray(w, np.float64)
    if mode == "convolution":
        w = w[:, :, ::-1, ::-1]
    sh, sw = _hw(stride)
    xp = pad_image(x, pad)
    n_img, c_in, hp, wp = xp.shape
    f_out, _, kh, kw = w.shape
    oh = (hp - kh) // sh + 1
    ow = (wp - kw) // sw + 1
    y = np.zeros((n_img, f_out, oh, ow))
    for n in range(n_img):
        for f in range(f_out):
            for i in range(oh):
                for j in range(ow):
                    total = 0.0
                    for c in range(c_in):
                        for u in range(kh):
                            for v in range(kw):
                                total += w[f, c, u, v] * xp[n, c, i * sh + u, j * sw + v]
                    y[n, f, i, j] = total + (0.0 if b is None else float(b[f]))
    return y


def maxpool2d(x, k, stride, pad=(0, 0, 0, 0)) -> tuple[np.ndarray, np.ndarray]:
    """Max over each window (padding never wins); argmax is ``r * W + c`` in the unpadded plane,
    the first maximum in row-major window order."""
    x = np.asarray(x, np.float64)
    n_img, ch, h, w = x.shape
    top, bottom, left, right = pad
    kh, kw = _hw(k)
    sh, sw = _hw(stride)
    oh = (h + top + bottom - kh) // sh + 1
    ow = (w + left + right - kw) // sw + 1
    y = np.zeros((n_img, ch, oh, ow))
    arg = np.full((n_img, ch, oh, ow), -1, np.int64)
    for n in range(n_img):
        for c in range(ch):
            for i in range(oh):
                for j in range(ow):
                    best, where = -np.inf, -1
                    for u in range(kh):
                        for v in range(kw):
                            r, q = i * sh + u - top, j * sw + v - left
                            if 0 <= r < h and 0 <= q < w and x[n, c, r, q] > best:
                                best, where = x[n, c, r, q], r * w + q
                    y[n, c, i, j] = best if where >= 0 else 0.0
                    arg[n, c, i, j] = where
    return y, arg


def avgpool2d(x, k, stride, pad=(0, 0, 0, 0)) -> np.ndarray:
    """Mean of each window's non-padding pixels."""
    x = np.asarray(x, np.float64)
    n_img, ch, h, w = x.shape
    top, bottom, left, right = pad
    kh, kw = _hw(k)
    sh, sw = _hw(stride)
    oh = (h + top + bottom - kh) // sh + 1
    ow = (w + left + right - kw) // sw + 1
    y = np.zeros((n_img, ch, oh, ow))
    for n in range(n_img):
        for c in range(ch):
            for i in range(oh):
                for j in range(ow):
                    values = []
                    for u in range(kh):
                        for v in range(kw):
                            r, q = i * sh + u - top, j * sw + v - left
                            if 0 <= r < h and 0 <= q < w:
                                values.append(x[n, c, r, q])
                    y[n, c, i, j] = sum(values) / len(values) if values else 0.0
    return y


def dense(x, w, b=None) -> np.ndarray:
    """``y[n, o] = b[o] + sum_i x[n, i] * w[i, o]``."""
    x = np.asarray(x, np.float64)
    n_img, d_in = x.shape
    d_out = w.shape[1]
    y = np.zeros((n_img, d_out))
    for n in range(n_img):
        for o in range(d_out):
            total = 0.0 if b is None else float(b[o])
            for i in range(d_in):
                total += x[n, i] * float(w[i, o])
            y[n, o] = total
    return y


def activation(kind, z, alpha: float = 0.3) -> np.ndarray:
    """Element-wise activations written from their definitions (softmax over axis 1)."""
    z = np.asarray(z, np.float64)
    if kind is None:
        return z.copy()
    if kind == "relu":
        return np.where(z > 0, z, 0.0)
    if kind == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if kind == "tanh":
        return np.tanh(z)
    if kind == "leaky_relu":
        return np.where(z > 0, z, alpha * z)
    if kind == "softmax":
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    raise ValueError(kind)


def softmax_cross_entropy(logits, labels) -> float:
    """Mean over samples of ``-log(softmax(z)[y])``, one sample at a time with log-sum-exp."""
    logits = np.asarray(logits, np.float64)
    total = 0.0
    for z, y in zip(logits, labels):
        m = max(z)
        log_sum = m + math.log(sum(math.exp(v - m) for v in z))
        total += log_sum - z[int(y)]
    return total / len(logits)


def numerical_gradient(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central differences ``(f(x + eps e_i) - f(x - eps e_i)) / 2 eps`` for every element of float64 ``x``."""
    x = np.asarray(x, np.float64)
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        up = f(x)
        flat[i] = old - eps
        down = f(x)
        flat[i] = old
        gflat[i] = (up - down) / (2 * eps)
    return grad
