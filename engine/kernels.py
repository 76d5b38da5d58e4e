"""Compute kernels of the engine: convolution and pooling.

Every array is NCHW ``float32`` and C-contiguous (the wrappers check it: a different dtype or layout
would silently compile a second version of every kernel). Every numba kernel is
``@njit(nogil=True, cache=True)`` so the GUI thread keeps running while the worker trains, and the
compiled code is cached on disk. Nothing here is compiled at import time; :func:`warmup` compiles (or
loads from the cache) every kernel on tiny shapes and is meant for the worker thread.

How it is fast
--------------
A convolution is an ``im2col`` copy (numba) followed by one BLAS ``sgemm``. The batch is cut into
chunks of a few images so that the column buffer of a chunk stays in the core's L2 cache; the chunks
are shared between a small team of threads (:func:`set_num_threads`), each of which runs its whole
share in ONE numba call (``nogil``): copies, then numpy's own ``cblas_sgemm`` called from numba
through a ctypes pointer, then bias/ReLU. Without that pointer (another BLAS) the same steps run with
``numpy.matmul`` between numba calls. Stride-1 convolutions use "padded-width" columns (one
contiguous copy per row of the padded input; the few extra columns are discarded). BLAS is limited to one thread
(``threadpoolctl``, numpy's BLAS only) the first time the team runs: two thread pools spinning in
one step are ten times slower on a two-core machine. At the same moment glibc is asked to keep freed
memory mapped (:func:`engine._env.keep_freed_memory`): each step frees and re-allocates the same
megabytes, which otherwise page-fault in again every step. A convolution is cut into at most 8 parts
whatever the team size, and threads *claim* parts (a late thread never stalls the step); partial
sums are combined in part order, so results are bit-for-bit the same with any thread count. Every
wrapper may also be called from several Python threads at once (the GUI's prediction on a model copy
while the trainer runs): a call that finds the team busy runs its parts on its own thread.

Public functions
----------------
``conv2d_forward(x, w, b, stride, pad, relu=False, pre=None) -> y``
    ``x (N,C,H,W)``, ``w (F,C,KH,KW)``, ``b (F,)`` or ``None``; ``stride`` an int or ``(sh, sw)``;
    ``pad = (top, bottom, left, right)`` zero padding. Cross-correlation::

        y[n,f,i,j] = b[f] + sum_{c,u,v} w[f,c,u,v] * xpad[n,c,i*sh+u,j*sw+v]

    ``OH = (H+top+bottom-KH)//sh + 1``, ``OW = (W+left+right-KW)//sw + 1``. With ``relu=True`` the ReLU is fused and
    ``y = max(z, 0)``; pass ``pre`` (an ``(N,F,OH,OW)`` float32 array) to also receive ``z``.
``conv2d_backward(x, w, dy, stride, pad, need_dx=True, relu_output=None) -> (dx or None, dw, db)``
    With ``relu_output`` (the ``y`` of a fused-ReLU forward) ``dy`` is first masked by ``y > 0``,
    so ``dy`` is the gradient of the activated output.
``maxpool2d_forward(x, pool, stride, pad) -> (y, argmax)``
    ``pool`` and ``stride`` are ints or ``(height, width)`` pairs (also for average pooling).
    ``argmax`` is int32 ``(N,C,OH,OW)``: the flat index ``r*W + c`` of the winning pixel in the
    *unpadded* input plane. Padding cells count as ``-inf`` and never win; the first maximum in
    row-major window order wins a tie. A window made only of padding gives ``0`` and argmax ``-1``.
``maxpool2d_backward(dy, argmax, x_shape) -> dx``
``avgpool2d_forward(x, pool, stride, pad) -> y``
    Mean over the window's non-padding pixels (Keras/TensorFlow semantics).
``avgpool2d_backward(dy, x_shape, pool, stride, pad) -> dx``
``set_num_threads(n=None)`` / ``get_num_threads()``
    Size of the compute team (default: the usable CPUs, at most 8; ``CONVSCOPE_NUM_THREADS``).
``warmup() -> None``
    Compiles or loads every kernel; call it on the worker thread ("compiling kernels...").
"""

from __future__ import annotations

import itertools
import os
import threading

import numpy as np
from numba import njit

from engine._env import keep_freed_memory

__all__ = [
    "conv2d_forward",
    "conv2d_backward",
    "conv2d_relu_maxpool_forward",
    "conv2d_relu_maxpool_backward",
    "maxpool2d_forward",
    "maxpool2d_backward",
    "avgpool2d_forward",
    "avgpool2d_backward",
    "set_num_threads",
    "get_num_threads",
    "run_side_by_side",
    "warmup",
]

#: Column-buffer size (float32 values) one chunk of a convolution aims for: with the chunk's GEMM output it
#: stays in a 512 KB L2 (measured on this 2-core AMD EPYC, quiet, img/s at 48K/72K/96K/144K values:
#: hongong 2,010/2,037/2,031/1,954, TinyVGG 64x64x3 1,061/1,028/955/987, LeNet 9,603/9,739/10,061/9,181).
_CHUNK_VALUES = 80 * 1024
#: A convolution is cut into at most this many parts (runs of chunks) whatever the team size, so its
#: partial sums - and so its results - are the same bit for bit with 1, 2 or 8 threads; the threads
#: claim parts, which also balances the load when a core is busy with something else.
_PARTS = 8
#: Largest share of extra (discarded) columns the padded-width convolution may compute.
_WIDE_WASTE = 0.5


# --------------------------------------------------------------------------------------------
# the thread team
# --------------------------------------------------------------------------------------------


def _default_threads() -> int:
    env = os.environ.get("CONVSCOPE_NUM_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    return max(1, min(n, 8))


_blas_limited = False


def _numpy_blas_libraries():
    """threadpoolctl controllers of the BLAS that numpy loaded (all BLAS libraries if unsure)."""
    from threadpoolctl import ThreadpoolController

    blas = ThreadpoolController().select(user_api="blas")
    numpy_dir = os.path.dirname(os.path.dirname(np.__file__))
    mine = [lib for lib in blas.lib_controllers
            if "numpy" in os.path.relpath(lib.filepath, numpy_dir).split(os.sep)[0]]
    return mine or blas.lib_controllers


def _limit_blas_threads() -> None:
    """Run numpy's BLAS single-threaded: the team supplies the parallelism (two pools fight otherwise).

    Only the BLAS that numpy loaded is limited, so another library in the process (a benchmark's
    PyTorch, say) keeps its own setting.
    """
    global _blas_limited
    if _blas_limited:
        return
    _blas_limited = True
    keep_freed_memory()  # the same moment: the first step (see engine._env)
    try:
        for lib in _numpy_blas_libraries():
            lib.set_num_threads(1)
    except Exception:  # threadpoolctl missing or an unknown BLAS: slower, still correct
        pass


_gemm_fn = None  # ctypes cblas_sgemm of numpy's BLAS, False when unavailable
#: ILP64 cblas_sgemm symbols (64-bit integers) of the OpenBLAS builds numpy ships with.
_GEMM_SYMBOLS = ("scipy_cblas_sgemm64_", "cblas_sgemm64_")


def _blas_gemm():
    """numpy's own ``cblas_sgemm`` as a ctypes function numba can call without the GIL, or ``None``.

    Each thread of the team then runs a whole share of a convolution in one numba call (copies and
    sgemm), instead of returning to Python between them: at small layers the GIL hand-offs cost more
    than the arithmetic. Only the ILP64 symbols are accepted (their integer width is known), the
    function is checked on a small product first, and ``CONVSCOPE_BLAS_FROM_NUMBA=0`` turns it off; any
    doubt means the portable path (numpy ``matmul`` between numba calls), which gives the same results.
    """
    global _gemm_fn
    if _gemm_fn is None:
        _gemm_fn = False
        if os.environ.get("CONVSCOPE_BLAS_FROM_NUMBA", "1") != "0":
            try:
                _gemm_fn = _find_gemm() or False
            except Exception:
                _gemm_fn = False
    return _gemm_fn or None


def _find_gemm():
    import ctypes

    _limit_blas_threads()
    for lib in _numpy_blas_libraries():
        if lib.internal_api != "openblas":
            continue
        handle = ctypes.CDLL(lib.filepath)
        for name in _GEMM_SYMBOLS:
            fn = getattr(handle, name, None)
            if fn is None:
                continue
            i32, i64, f32, ptr = ctypes.c_int, ctypes.c_int64, ctypes.c_float, ctypes.c_void_p
            fn.restype = None
            fn.argtypes = [i32, i32, i32, i64, i64, i64, f32, ptr, i64, ptr, i64, f32, ptr, i64]
            rng = np.random.default_rng(0)
            a = rng.standard_normal((3, 5)).astype(np.float32)
            b = rng.standard_normal((4, 5)).astype(np.float32)
            c = np.ones((3, 4), np.float32)
            _mm(fn, False, True, 3, 4, 5, a, 5, b, 5, 1.0, c, 4)  # c = 1 + a @ b.T
            if np.allclose(c, 1 + a @ b.T, rtol=1e-5, atol=1e-5):
                return fn
    return None


class _Run:
    """One parallel region: parts are claimed from a shared counter by whichever thread is free."""

    __slots__ = ("job", "parts", "claim", "left", "lock", "done", "errors")

    def __init__(self, job, parts: int):
        self.job = job
        self.parts = parts
        self.claim = itertools.count()  # next() is atomic under the GIL
        self.left = parts
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.errors: list = []


_STOP = object()


class _Team:
    """A fixed set of threads that run ``job(part)`` for ``part in range(size)``.

    The caller works too. Parts are claimed, not assigned: when a worker thread is late (a busy
    machine, the GUI thread on the other core) the caller runs its part instead of waiting for it.
    Which thread runs a part never changes the result: a part is always the same slice of work and
    its partial sums are combined in part order.
    """

    def __init__(self, size: int):
        self.size = max(1, int(size))
        self._busy = threading.Lock()
        self._current = None
        self._wakeups: list[threading.Semaphore] = []
        self._threads: list[threading.Thread] = []
        self._started = False

    def _start(self) -> None:
        _limit_blas_threads()
        for index in range(1, self.size):
            wake = threading.Semaphore(0)
            t = threading.Thread(target=self._loop, args=(wake,), name=f"convscope-kernel-{index}", daemon=True)
            t.start()
            self._wakeups.append(wake)
            self._threads.append(t)
        self._started = True

    def _loop(self, wake) -> None:
        while True:
            wake.acquire()
            run = self._current
            if run is _STOP:
                return
            if run is not None:
                self._work(run)

    def _work(self, run: _Run) -> None:
        while True:
            part = next(run.claim)
            if part >= run.parts:
                return
            try:
                run.job(part)
            except BaseException as exc:  # re-raised by run() on the calling thread
                run.errors.append(exc)
            with run.lock:
                run.left -= 1
                if run.left == 0:
                    run.done.set()

    def run(self, job, parts: int | None = None) -> None:
        """Call ``job(part)`` for every ``part in range(parts)`` (default: one per thread)."""
        if not _blas_limited:
            _limit_blas_threads()
        parts = self.size if parts is None else parts
        if self.size == 1 or parts <= 1 or not self._busy.acquire(blocking=False):
            for part in range(parts):  # the same parts, run here: identical results
                job(part)
            return
        try:
            if not self._started:
                self._start()
            run = _Run(job, parts)
            self._current = run
            for wake in self._wakeups:
                wake.release()
            self._work(run)
            run.done.wait()
            self._current = None
            if run.errors:
                raise run.errors[0]
        finally:
            self._busy.release()

    def stop(self) -> None:
        with self._busy:
            self._current = _STOP
            for wake in self._wakeups:
                wake.release()
            for t in self._threads:
                t.join(timeout=5)
            self._current = None
            self._wakeups, self._threads = [], []
            self._started = False


_team = _Team(_default_threads())
_team_lock = threading.Lock()


def _after_fork_in_child() -> None:
    # A forked child has none of the parent's threads: give it a fresh (not yet started) team.
    global _team, _team_lock
    _team = _Team(_team.size)
    _team_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def set_num_threads(n: int | None = None) -> int:
    """Size the compute team (``None``: the default). Returns the size in use."""
    global _team
    size = _default_threads() if n is None else max(1, int(n))
    with _team_lock:
        if size != _team.size:
            old = _team
            _team = _Team(size)
            old.stop()
    return size


def get_num_threads() -> int:
    return _team.size


def _split(total: int, parts: int, part: int) -> tuple[int, int]:
    return total * part // parts, total * (part + 1) // parts


_local = threading.local()


def _scratch(name: str, size: int) -> np.ndarray:
    """A per-thread float32 buffer of at least ``size`` values, reused between calls."""
    bufs = getattr(_local, "bufs", None)
    if bufs is None:
        bufs = _local.bufs = {}
    buf = bufs.get(name)
    if buf is None or buf.size < size:
        buf = bufs[name] = np.empty(max(size, 1024), np.float32)
    return buf


# --------------------------------------------------------------------------------------------
# argument checks (plain Python; the kernels trust their inputs)
# --------------------------------------------------------------------------------------------


_F32 = np.dtype(np.float32)


def _check_array(a, name: str, ndim: int | None) -> None:
    if type(a) is np.ndarray and a.dtype is _F32 and (ndim is None or a.ndim == ndim) and a.flags.c_contiguous:
        return  # the usual case, checked in ~0.3 us
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(a).__name__}")
    if a.dtype != np.float32:
        raise TypeError(f"{name} must be float32, got {a.dtype}")
    if ndim is not None and a.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {a.shape}")
    if not a.flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous (use np.ascontiguousarray)")


_pad_cache: dict = {}


def _check_pad(pad) -> tuple[int, int, int, int]:
    try:
        return _pad_cache[pad]
    except (KeyError, TypeError):
        pass
    try:
        top, bottom, left, right = (int(p) for p in pad)
    except (TypeError, ValueError):
        raise ValueError(f"pad must be (top, bottom, left, right), got {pad!r}") from None
    if min(top, bottom, left, right) < 0:
        raise ValueError(f"padding must be >= 0, got {pad!r}")
    result = (top, bottom, left, right)
    if isinstance(pad, tuple) and len(_pad_cache) < 256:
        _pad_cache[pad] = result
    return result


def _out_size(n: int, k: int, s: int, before: int, after: int, what: str) -> int:
    if s < 1:
        raise ValueError(f"stride must be >= 1, got {s}")
    if k < 1:
        raise ValueError(f"{what} size must be >= 1, got {k}")
    if n + before + after < k:
        raise ValueError(f"{what} {k} does not fit input {n} with padding ({before}, {after})")
    return (n + before + after - k) // s + 1


# --------------------------------------------------------------------------------------------
# convolution: im2col / col2im in numba, one BLAS sgemm per chunk of images
# --------------------------------------------------------------------------------------------


@njit(nogil=True, cache=True)
def _valid_range(v, pl, s, W, OW):
    """Output columns j whose input column j*s + v - pl lies inside [0, W)."""
    jlo = 0
    if pl - v > 0:
        jlo = (pl - v + s - 1) // s
    t = W - 1 + pl - v
    jhi = 0 if t < 0 else min(OW, t // s + 1)
    if jhi < jlo:
        jhi = jlo
    if jlo > OW:
        jlo = OW
        jhi = OW
    return jlo, jhi


@njit(nogil=True, cache=True)
def _im2col(x, n0, m, KH, KW, sh, sw, pt, pl, OH, OW, cols):
    """cols[(c*KH+u)*KW+v, nn*OH*OW + i*OW + j] = xpad[n0+nn, c, i*sh+u, j*sw+v] for nn < m."""
    C, H, W = x.shape[1], x.shape[2], x.shape[3]
    P = OH * OW
    xf = x.reshape(-1)
    us = np.uint64(sw)
    for c in range(C):
        for u in range(KH):
            for v in range(KW):
                dst = cols[(c * KH + u) * KW + v]
                jlo, jhi = _valid_range(v, pl, sw, W, OW)
                for nn in range(m):
                    plane = ((n0 + nn) * C + c) * H * W
                    for i in range(OH):
                        r = i * sh + u - pt
                        o = np.uint64(nn * P + i * OW)
                        if r < 0 or r >= H:
                            for j in range(OW):
                                dst[o + np.uint64(j)] = 0.0
                            continue
                        for j in range(jlo):
                            dst[o + np.uint64(j)] = 0.0
                        # first valid input column: jlo*sw + v - pl >= 0
                        src = np.uint64(plane + r * W + jlo * sw + v - pl)
                        ob = o + np.uint64(jlo)
                        for j in range(jhi - jlo):
                            dst[ob + np.uint64(j)] = xf[src + np.uint64(j) * us]
                        for j in range(jhi, OW):
                            dst[o + np.uint64(j)] = 0.0


@njit(nogil=True, cache=True)
def _col2im(dcols, n0, m, KH, KW, sh, sw, pt, pl, OH, OW, dx):
    """Adjoint of _im2col on images n0..n0+m-1 of dx (which it overwrites)."""
    C, H, W = dx.shape[1], dx.shape[2], dx.shape[3]
    P = OH * OW
    dxf = dx.reshape(-1)
    us = np.uint64(sw)
    base = n0 * C * H * W
    chunk = dxf[base:base + m * C * H * W]
    for t in range(chunk.size):
        chunk[t] = 0.0
    for c in range(C):
        for u in range(KH):
            for v in range(KW):
                src = dcols[(c * KH + u) * KW + v]
                jlo, jhi = _valid_range(v, pl, sw, W, OW)
                for nn in range(m):
                    plane = ((n0 + nn) * C + c) * H * W
                    for i in range(OH):
                        r = i * sh + u - pt
                        if r < 0 or r >= H:
                            continue
                        ob = np.uint64(nn * P + i * OW + jlo)
                        dst = np.uint64(plane + r * W + jlo * sw + v - pl)
                        for j in range(jhi - jlo):
                            dxf[dst + np.uint64(j) * us] += src[ob + np.uint64(j)]


@njit(nogil=True, cache=True)
def _conv_out(z2, b, has_bias, relu, n0, m, y, pre, has_pre):
    """y[n0+nn, f, p] = act(z2[f, nn*P + p] + b[f]); pre gets the value before the ReLU.

    The ReLU keeps a NaN (as ``np.maximum`` does), so a diverging run still ends in a NaN loss."""
    F, P = y.shape[1], y.shape[2]
    row = z2.shape[1]
    zf = z2.reshape(-1)
    yf = y.reshape(-1)
    pf = pre.reshape(-1)
    for nn in range(m):
        for f in range(F):
            bias = b[f] if has_bias else np.float32(0.0)
            src = np.uint64(f * row + nn * P)
            dst = np.uint64(((n0 + nn) * F + f) * P)
            if has_pre:
                for p in range(P):
                    pf[dst + np.uint64(p)] = zf[src + np.uint64(p)] + bias
            if relu:
                for p in range(P):
                    val = zf[src + np.uint64(p)] + bias
                    yf[dst + np.uint64(p)] = np.float32(0.0) if val < 0.0 else val
            else:
                for p in range(P):
                    yf[dst + np.uint64(p)] = zf[src + np.uint64(p)] + bias


@njit(nogil=True, cache=True)
def _conv_grad_in(dy, a, masked, n0, m, d2, db):
    """d2[f, nn*P + p] = dy[n0+nn, f, p] (* (a > 0) when masked); db[f] += the sums."""
    F, P = dy.shape[1], dy.shape[2]
    row = d2.shape[1]
    df = d2.reshape(-1)
    gf = dy.reshape(-1)
    af = a.reshape(-1)
    for nn in range(m):
        for f in range(F):
            dst = np.uint64(f * row + nn * P)
            src = np.uint64(((n0 + nn) * F + f) * P)
            if masked:
                for p in range(P):
                    g = gf[src + np.uint64(p)]
                    df[dst + np.uint64(p)] = g if af[src + np.uint64(p)] > 0.0 else np.float32(0.0)
            else:
                for p in range(P):
                    df[dst + np.uint64(p)] = gf[src + np.uint64(p)]
    _db_rows(d2, m, 1, P, P, db)


@njit(nogil=True, cache=True, fastmath=True)
def _db_rows(d2, m, OH, OW, Wp, db):
    """db[f] += the sum of a chunk's rows ``d2 (F, m*OH*Wp)`` over the OW used columns of each row.

    Every backward (plain, ReLU-masked or through a fused pooling) sums the bias gradient here, in the
    same order, so all of them give the same bits."""
    F = d2.shape[0]
    row = d2.shape[1]
    L = OH * Wp
    d2f = d2.reshape(-1)
    for f in range(F):
        acc = np.float32(0.0)
        for nn in range(m):
            for i in range(OH):
                base = np.uint64(f * row + nn * L + i * Wp)
                for j in range(OW):
                    acc += d2f[base + np.uint64(j)]
        db[f] += acc


# The hot loops below index 1-D views with unsigned offsets: numba then skips its negative-index
# wrap-around test and LLVM vectorizes the loop (4-7x faster than ``a[n, c, i, j]`` here).


@njit(nogil=True, cache=True)
def _pad_chunk(x, n0, m, pt, pl, Hp, Wp, xpf):
    """xpf[((nn*C + c)*Hp + pt + r)*Wp + pl + q] = x[n0+nn, c, r, q]; zero elsewhere (incl. the tail)."""
    C, H, W = x.shape[1], x.shape[2], x.shape[3]
    xf = x.reshape(-1)
    xpf[:] = 0.0
    for nn in range(m):
        for c in range(C):
            for r in range(H):
                src = np.uint64((((n0 + nn) * C + c) * H + r) * W)
                dst = np.uint64(((nn * C + c) * Hp + pt + r) * Wp + pl)
                for q in range(W):
                    xpf[dst + np.uint64(q)] = xf[src + np.uint64(q)]


@njit(nogil=True, cache=True)
def _crop_chunk(dxpf, n0, m, pt, pl, Hp, Wp, dx):
    """dx[n0+nn, c, r, q] = dxpf[((nn*C + c)*Hp + pt + r)*Wp + pl + q]."""
    C, H, W = dx.shape[1], dx.shape[2], dx.shape[3]
    df = dx.reshape(-1)
    for nn in range(m):
        for c in range(C):
            for r in range(H):
                dst = np.uint64((((n0 + nn) * C + c) * H + r) * W)
                src = np.uint64(((nn * C + c) * Hp + pt + r) * Wp + pl)
                for q in range(W):
                    df[dst + np.uint64(q)] = dxpf[src + np.uint64(q)]


@njit(nogil=True, cache=True)
def _im2col_wide(xpf, m, C, Hp, Wp, KH, KW, OH, cols):
    """Stride-1 columns on the padded width: cols[(c*KH+u)*KW+v, nn*L + t] = xpf[image nn, c][u*Wp+v+t].

    ``L = OH*Wp``: every row of a chunk is one contiguous copy. Columns ``t % Wp >= OW`` hold values
    of the next row (never used: the output drops them and the gradients are zero there).
    """
    L = OH * Wp
    plane = Hp * Wp
    for c in range(C):
        for u in range(KH):
            for v in range(KW):
                dst = cols[(c * KH + u) * KW + v]
                src = xpf[c * plane + u * Wp + v:]
                for nn in range(m):
                    sb = np.uint64(nn * C * plane)
                    db = np.uint64(nn * L)
                    for t in range(L):
                        dst[db + np.uint64(t)] = src[sb + np.uint64(t)]


@njit(nogil=True, cache=True)
def _col2im_wide(dcols, m, C, Hp, Wp, KH, KW, OH, dxpf):
    """Adjoint of _im2col_wide into the padded, flat buffer dxpf (which it overwrites)."""
    L = OH * Wp
    plane = Hp * Wp
    dxpf[:] = 0.0
    for c in range(C):
        for u in range(KH):
            for v in range(KW):
                src = dcols[(c * KH + u) * KW + v]
                dst = dxpf[c * plane + u * Wp + v:]
                for nn in range(m):
                    db = np.uint64(nn * C * plane)
                    sb = np.uint64(nn * L)
                    for t in range(L):
                        dst[db + np.uint64(t)] += src[sb + np.uint64(t)]


@njit(nogil=True, cache=True)
def _conv_out_wide(z2, Wp, b, has_bias, relu, n0, m, y, pre, has_pre):
    """y[n0+nn, f, i, j] = act(z2[f, nn*OH*Wp + i*Wp + j] + b[f]) for j < OW."""
    F, OH, OW = y.shape[1], y.shape[2], y.shape[3]
    L = OH * Wp
    yf = y.reshape(-1)
    pf = pre.reshape(-1)
    for nn in range(m):
        for f in range(F):
            bias = b[f] if has_bias else np.float32(0.0)
            zr = z2[f]
            for i in range(OH):
                src = np.uint64(nn * L + i * Wp)
                dst = np.uint64((((n0 + nn) * F + f) * OH + i) * OW)
                if has_pre:
                    for j in range(OW):
                        pf[dst + np.uint64(j)] = zr[src + np.uint64(j)] + bias
                if relu:
                    for j in range(OW):
                        val = zr[src + np.uint64(j)] + bias
                        yf[dst + np.uint64(j)] = np.float32(0.0) if val < 0.0 else val
                else:
                    for j in range(OW):
                        yf[dst + np.uint64(j)] = zr[src + np.uint64(j)] + bias


@njit(nogil=True, cache=True)
def _conv_grad_in_wide(dy, a, masked, Wp, n0, m, d2, db):
    """d2[f, nn*OH*Wp + i*Wp + j] = dy[n0+nn, f, i, j] (masked by a > 0), 0 for j >= OW; db += sums."""
    F, OH, OW = dy.shape[1], dy.shape[2], dy.shape[3]
    L = OH * Wp
    dyf = dy.reshape(-1)
    af = a.reshape(-1)
    for nn in range(m):
        for f in range(F):
            dr = d2[f]
            for i in range(OH):
                dst = np.uint64(nn * L + i * Wp)
                src = np.uint64((((n0 + nn) * F + f) * OH + i) * OW)
                if masked:
                    for j in range(OW):
                        g = dyf[src + np.uint64(j)]
                        dr[dst + np.uint64(j)] = g if af[src + np.uint64(j)] > 0.0 else np.float32(0.0)
                else:
                    for j in range(OW):
                        dr[dst + np.uint64(j)] = dyf[src + np.uint64(j)]
                for j in range(OW, Wp):
                    dr[dst + np.uint64(j)] = 0.0
    _db_rows(d2, m, OH, OW, Wp, db)


@njit(nogil=True, cache=True)
def _fwd_cols_wide(x, n0, m, pt, pl, Hp, Wp, KH, KW, OH, xpbuf, cols):
    """Pad images n0..n0+m-1 into xpbuf and build their padded-width columns (one call per chunk)."""
    C = x.shape[1]
    xpf = xpbuf[: m * C * Hp * Wp + KW]
    _pad_chunk(x, n0, m, pt, pl, Hp, Wp, xpf)
    _im2col_wide(xpf, m, C, Hp, Wp, KH, KW, OH, cols)


@njit(nogil=True, cache=True)
def _bwd_cols_wide(dy, a, masked, n0, m, d2, db, x, pt, pl, Hp, Wp, KH, KW, OH, xpbuf, cols):
    """Gradient rows of the chunk (masked by the ReLU) and its columns, in one call."""
    _conv_grad_in_wide(dy, a, masked, Wp, n0, m, d2, db)
    _fwd_cols_wide(x, n0, m, pt, pl, Hp, Wp, KH, KW, OH, xpbuf, cols)


@njit(nogil=True, cache=True)
def _bwd_dx_wide(dcols, n0, m, pt, pl, Hp, Wp, KH, KW, OH, dxpbuf, dx):
    C = dx.shape[1]
    dxpf = dxpbuf[: m * C * Hp * Wp + KW]
    _col2im_wide(dcols, m, C, Hp, Wp, KH, KW, OH, dxpf)
    _crop_chunk(dxpf, n0, m, pt, pl, Hp, Wp, dx)


@njit(nogil=True, cache=True)
def _bwd_cols(dy3, a3, masked, n0, m, d2, db, x, KH, KW, sh, sw, pt, pl, OH, OW, cols):
    _conv_grad_in(dy3, a3, masked, n0, m, d2, db)
    _im2col(x, n0, m, KH, KW, sh, sw, pt, pl, OH, OW, cols)


@njit(nogil=True, cache=True)
def _mm(gemm, ta, tb, M, N, K, a, lda, b, ldb, beta, c, ldc):
    """c = op(a) @ op(b) + beta * c through cblas_sgemm (row-major); op transposes when ta / tb."""
    gemm(101, 112 if ta else 111, 112 if tb else 111, M, N, K, np.float32(1.0), a.ctypes.data, lda,
         b.ctypes.data, ldb, np.float32(beta), c.ctypes.data, ldc)


@njit(nogil=True, cache=True, fastmath=True)
def _small_dwt(cols, d2, dwt):
    """dwt (R, F) += cols (R, M) @ d2.T for few rows R (a first layer's C*K*K = 9): blocked dot products,
    four filters per pass over a column block; ~1.8x OpenBLAS on this tall-and-thin shape."""
    R, M = cols.shape
    F = d2.shape[0]
    B = 2048
    for t0 in range(0, M, B):
        n = min(B, M - t0)
        for r in range(R):
            c = cols[r, t0:t0 + n]
            f = 0
            while f + 4 <= F:
                d0 = d2[f, t0:t0 + n]
                d1 = d2[f + 1, t0:t0 + n]
                d2r = d2[f + 2, t0:t0 + n]
                d3 = d2[f + 3, t0:t0 + n]
                a0 = np.float32(0.0)
                a1 = np.float32(0.0)
                a2 = np.float32(0.0)
                a3 = np.float32(0.0)
                for i in range(n):
                    ci = c[i]
                    a0 += ci * d0[i]
                    a1 += ci * d1[i]
                    a2 += ci * d2r[i]
                    a3 += ci * d3[i]
                dwt[r, f] += a0
                dwt[r, f + 1] += a1
                dwt[r, f + 2] += a2
                dwt[r, f + 3] += a3
                f += 4
            while f < F:
                d0 = d2[f, t0:t0 + n]
                a0 = np.float32(0.0)
                for i in range(n):
                    a0 += c[i] * d0[i]
                dwt[r, f] += a0
                f += 1


#: Below this many rows (C*K*K) the weight gradient uses _small_dwt instead of sgemm. Measured on one
#: thread: 25 rows x 6 filters (LeNet's 5x5) 48 vs 74 us, 27 x 10 (TinyVGG's RGB 3x3) 214 vs 245 us,
#: 9 x 32 equal; from ~90 rows on sgemm wins (90 x 10: 693 vs 578 us).
_SMALL_DW_ROWS = 32


@njit(nogil=True, cache=True)
def _conv_out_pool(z2, Wp, OH, OW, b, has_bias, n0, m, pooled, am):
    """Bias + ReLU + 2x2/2 max pooling of a chunk's GEMM output ``z2 (F, m*OH*Wp)`` (``Wp = OW`` for
    plain columns) in one pass: ``pooled`` and its switches ``am`` are exactly what ReLU followed by
    :func:`maxpool2d_forward` gives (the first maximum in row-major window order wins a tie, NaN stays),
    and the convolution's own output is never written.

    A chunk without NaN (every chunk of a healthy run: one vectorized scan says so) takes a branch-free
    path, 3-4x faster than the sequential scan, which a chunk holding a NaN takes to keep its exact rule."""
    zf = z2.reshape(-1)
    finite = True
    for t in range(z2.shape[0] * z2.shape[1]):
        finite &= zf[np.uint64(t)] == zf[np.uint64(t)]
    if has_bias:
        for f in range(b.shape[0]):
            finite &= b[f] == b[f]
    _pool_epilogue(z2, Wp, OH, OW, b, has_bias, n0, m, pooled, am, finite)


@njit(nogil=True, cache=True)
def _pool_epilogue(z2, Wp, OH, OW, b, has_bias, n0, m, pooled, am, branch_free):
    F, PH, PW = pooled.shape[1], pooled.shape[2], pooled.shape[3]
    L = OH * Wp
    row = z2.shape[1]
    zf = z2.reshape(-1)
    pf = pooled.reshape(-1)
    af = am.reshape(-1)
    zero = np.float32(0.0)
    for nn in range(m):
        for f in range(F):
            bias = b[f] if has_bias else zero
            zb = f * row + nn * L
            for pi in range(PH):
                r = 2 * pi
                top = np.uint64(zb + r * Wp)
                bot = np.uint64(zb + (r + 1) * Wp)
                out = np.uint64((((n0 + nn) * F + f) * PH + pi) * PW)
                base = np.int32(r * OW)
                for pj in range(PW):
                    q = np.uint64(2 * pj)
                    v0 = zf[top + q] + bias
                    v1 = zf[top + q + np.uint64(1)] + bias
                    v2 = zf[bot + q] + bias
                    v3 = zf[bot + q + np.uint64(1)] + bias
                    v0 = zero if v0 < zero else v0
                    v1 = zero if v1 < zero else v1
                    v2 = zero if v2 < zero else v2
                    v3 = zero if v3 < zero else v3
                    if branch_free:
                        # the top pair, the bottom pair, then their winners; a tie keeps the earlier pixel
                        c1 = v1 > v0
                        b01 = v1 if c1 else v0
                        i01 = np.int32(1) if c1 else np.int32(0)
                        c3 = v3 > v2
                        b23 = v3 if c3 else v2
                        i23 = np.int32(OW + 1) if c3 else np.int32(OW)
                        c = b23 > b01
                        best = b23 if c else b01
                        arg = i23 if c else i01
                    else:   # the sequential scan of maxpool2d_forward (a NaN wins only in the first place)
                        best = v0
                        arg = np.int32(0)
                        if v1 > best:
                            best = v1
                            arg = np.int32(1)
                        if v2 > best:
                            best = v2
                            arg = np.int32(OW)
                        if v3 > best:
                            best = v3
                            arg = np.int32(OW + 1)
                    pf[out + np.uint64(pj)] = best
                    af[out + np.uint64(pj)] = base + np.int32(2 * pj) + arg


@njit(nogil=True, cache=True)
def _conv_grad_in_pool(dp, am, pv, Wp, OH, OW, n0, m, d2, db):
    """A chunk's rows ``d2 (F, m*OH*Wp)`` straight from the pooled gradient ``dp``: each window's
    gradient goes to its switch when the pooled (ReLU'd) value is > 0, zero everywhere else (what
    max-pool backward followed by the ReLU mask gives); ``db[f]`` += the sums."""
    F, PH, PW = dp.shape[1], dp.shape[2], dp.shape[3]
    L = OH * Wp
    row = d2.shape[1]
    d2f = d2.reshape(-1)
    dpf = dp.reshape(-1)
    pvf = pv.reshape(-1)
    af = am.reshape(-1)
    P = PH * PW
    for f in range(F):
        start = np.uint64(f * row)
        for t in range(m * L):
            d2f[start + np.uint64(t)] = 0.0
    for nn in range(m):
        for f in range(F):
            src = ((n0 + nn) * F + f) * P
            dst = f * row + nn * L
            for pi in range(PH):
                for pj in range(PW):
                    k = np.uint64(src + pi * PW + pj)
                    # the switch is one of the window's 4 pixels: no division to find its row; written
                    # without a branch (0 where the pooled value is not > 0: the cell is 0 already)
                    off = af[k] - (2 * pi * OW + 2 * pj)
                    down = 1 if off >= OW else 0
                    g = dpf[k] if pvf[k] > 0.0 else np.float32(0.0)
                    d2f[np.uint64(dst + (2 * pi + down) * Wp + 2 * pj + off - down * OW)] = g
    if Wp == OW:   # plain columns: summed as one run per image, as _conv_grad_in does
        _db_rows(d2, m, 1, OH * OW, OH * OW, db)
    else:
        _db_rows(d2, m, OH, OW, Wp, db)


@njit(nogil=True, cache=True)
def _conv_fwd_part(gemm, x, wm, b, has_bias, relu, y, pre, has_pre, c_lo, c_hi, nb, KH, KW, sh, sw, pt, pl,
                   wide, Hp, Wp, colbuf, zbuf, xpbuf, F, OH, OW, pool, pooled, am):
    """Chunks c_lo..c_hi-1 of a convolution forward, columns and sgemm included (no GIL); with ``pool``
    the epilogue writes the 2x2 max pooling of the ReLU (``pooled``, ``am``) instead of ``y``."""
    N, C = x.shape[0], x.shape[1]
    CKK = C * KH * KW
    L = OH * Wp if wide else OH * OW
    for ch in range(c_lo, c_hi):
        n0 = ch * nb
        m = min(nb, N - n0)
        cols = colbuf[: CKK * m * L].reshape(CKK, m * L)
        z2 = zbuf[: F * m * L].reshape(F, m * L)
        if wide:
            _fwd_cols_wide(x, n0, m, pt, pl, Hp, Wp, KH, KW, OH, xpbuf, cols)
        else:
            _im2col(x, n0, m, KH, KW, sh, sw, pt, pl, OH, OW, cols)
        _mm(gemm, False, False, F, m * L, CKK, wm, CKK, cols, m * L, 0.0, z2, m * L)
        if pool:
            _conv_out_pool(z2, Wp if wide else OW, OH, OW, b, has_bias, n0, m, pooled, am)
        elif wide:
            _conv_out_wide(z2, Wp, b, has_bias, relu, n0, m, y, pre, has_pre)
        else:
            _conv_out(z2, b, has_bias, relu, n0, m, y.reshape(N, F, OH * OW), pre.reshape(N, F, OH * OW),
                      has_pre)


@njit(nogil=True, cache=True)
def _grad_rows_and_cols(pool, wide, dy, a, masked, pam, pv, x, n0, m, d2, db, KH, KW, sh, sw, pt, pl, Hp, Wp, OH,
                        OW, xpbuf, cols):
    """A backward chunk's gradient rows ``d2`` (from a fused pooling's gradient, or ``dy`` masked by the
    ReLU) and ``db``, then the chunk's columns again: the one step both backward paths share."""
    if pool:
        _conv_grad_in_pool(dy, pam, pv, Wp if wide else OW, OH, OW, n0, m, d2, db)
        if wide:
            _fwd_cols_wide(x, n0, m, pt, pl, Hp, Wp, KH, KW, OH, xpbuf, cols)
        else:
            _im2col(x, n0, m, KH, KW, sh, sw, pt, pl, OH, OW, cols)
    elif wide:
        _bwd_cols_wide(dy, a, masked, n0, m, d2, db, x, pt, pl, Hp, Wp, KH, KW, OH, xpbuf, cols)
    else:
        N, F = dy.shape[0], dy.shape[1]
        _bwd_cols(dy.reshape(N, F, OH * OW), a.reshape(N, F, OH * OW), masked, n0, m, d2, db, x, KH, KW, sh, sw,
                  pt, pl, OH, OW, cols)


@njit(nogil=True, cache=True)
def _conv_bwd_parts(gemm, x, wm, dy, a, masked, need_dx, dx, p_lo, p_hi, parts, nchunks, nb, KH, KW, sh, sw, pt,
                    pl, wide, Hp, Wp, colbuf, dbuf, dcolbuf, xpbuf, dxpbuf, dwts, dbs, F, OH, OW, pool, pam, pv):
    """Parts p_lo..p_hi-1 of a convolution backward in one call (no GIL), part p (its chunks) accumulating
    into ``dwts[p]`` (CKK, F) and ``dbs[p]``: the same sums whichever thread, and however many parts per
    call. With ``pool``, ``dy`` is the gradient of the fused 2x2 max pooling (switches ``pam``, values
    ``pv``). One function, not a per-part function called here: each level of numba functions is
    optimized again with everything it calls inlined (that level cost 6 s of a cold compile)."""
    N, C = x.shape[0], x.shape[1]
    CKK = C * KH * KW
    L = OH * Wp if wide else OH * OW
    for p in range(p_lo, p_hi):
        dwt = dwts[p]
        db = dbs[p]
        for ch in range(nchunks * p // parts, nchunks * (p + 1) // parts):
            n0 = ch * nb
            m = min(nb, N - n0)
            cols = colbuf[: CKK * m * L].reshape(CKK, m * L)
            d2 = dbuf[: F * m * L].reshape(F, m * L)
            _grad_rows_and_cols(pool, wide, dy, a, masked, pam, pv, x, n0, m, d2, db, KH, KW, sh, sw, pt, pl, Hp,
                                Wp, OH, OW, xpbuf, cols)
            if CKK < 32:  # _SMALL_DW_ROWS
                _small_dwt(cols, d2, dwt)
            else:
                _mm(gemm, False, True, CKK, F, m * L, cols, m * L, d2, m * L, 1.0, dwt, F)
            if need_dx:
                dcols = dcolbuf[: CKK * m * L].reshape(CKK, m * L)
                _mm(gemm, True, False, CKK, m * L, F, wm, CKK, d2, m * L, 0.0, dcols, m * L)
                if wide:
                    _bwd_dx_wide(dcols, n0, m, pt, pl, Hp, Wp, KH, KW, OH, dxpbuf, dx)
                else:
                    _col2im(dcols, n0, m, KH, KW, sh, sw, pt, pl, OH, OW, dx)


def _units(parts: int, team) -> int:
    """Claimable units of a convolution: one run of whole parts per thread of the team. Fewer claims
    mean fewer GIL hand-offs between the threads (each costs tens of microseconds); which unit runs a
    part never changes its result."""
    return min(parts, team.size)


def _conv_geometry(x, w, stride, pad):
    _check_array(x, "x", 4)
    _check_array(w, "w", 4)
    N, C, H, W = x.shape
    F, Cw, KH, KW = w.shape
    if Cw != C:
        raise ValueError(f"w has {Cw} input channels but x has {C}")
    sh, sw = _pair(stride, "stride")
    pt, pb, pl, pr = _check_pad(pad)
    OH = _out_size(H, KH, sh, pt, pb, "kernel")
    OW = _out_size(W, KW, sw, pl, pr, "kernel")
    return N, C, H, W, F, KH, KW, sh, sw, pt, pl, OH, OW


def _pair(value, name: str) -> tuple[int, int]:
    """``2`` -> ``(2, 2)``; ``(2, 1)`` -> ``(2, 1)`` (height, width)."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a (height, width) pair, got {value!r}")
        return int(value[0]), int(value[1])
    return int(value), int(value)


def _use_wide(sh: int, sw: int, OW: int, KH: int, KW: int, C: int) -> bool:
    """Stride 1, few wasted columns and enough rows per column: the padded-width layout pays off, with or
    without padding (both layouts are correct). Measured per layer of the four benchmark models: LeNet's
    valid 5x5 on 14x14 (OW 10, 40 % wasted columns) 13 % faster per training step, the others equal or
    a few per cent faster; 3x3 on a 5x5 input (67 % waste) is slower and keeps the plain columns."""
    return sh == 1 and sw == 1 and (KW - 1) <= _WIDE_WASTE * OW and C * KH * KW >= 16


def _chunking(N: int, per_image: int, parts: int) -> tuple[int, int]:
    """Images per chunk and the number of chunks for a column buffer of per_image values per image."""
    nb = max(1, min(_CHUNK_VALUES // max(per_image, 1), -(-N // parts)))
    return nb, -(-N // nb)


def conv2d_forward(x, w, b, stride, pad, relu=False, pre=None):
    """Cross-correlation of ``x (N,C,H,W)`` with ``w (F,C,KH,KW)`` plus bias; returns ``(N,F,OH,OW)``.

    ``stride`` is an int or ``(sh, sw)``. ``relu=True`` fuses the ReLU; ``pre`` (optional,
    ``(N,F,OH,OW)`` float32) receives the value before it.
    """
    return _conv_forward(x, w, b, stride, pad, relu, pre, pool=False)


def conv2d_relu_maxpool_forward(x, w, b, stride, pad):
    """Convolution, ReLU and 2x2 max pooling with stride 2 in one pass (training: the convolution's own
    output is never stored). Returns ``(pooled, argmax)`` exactly as ``maxpool2d_forward(relu(conv))``
    would, with ``argmax`` indexing the convolution's output plane."""
    return _conv_forward(x, w, b, stride, pad, True, None, pool=True)


def _conv_forward(x, w, b, stride, pad, relu, pre, pool):
    N, C, H, W, F, KH, KW, sh, sw, pt, pl, OH, OW = _conv_geometry(x, w, stride, pad)
    has_bias = b is not None
    if has_bias:
        _check_array(b, "b", 1)
        if b.shape[0] != F:
            raise ValueError(f"b has {b.shape[0]} entries but w has {F} filters")
    else:
        b = np.zeros(1, np.float32)
    if pool:
        if OH < 2 or OW < 2:
            raise ValueError(f"a {OH}x{OW} output has no 2x2 pooling window")
        pooled = np.empty((N, F, OH // 2, OW // 2), np.float32)
        am = np.empty((N, F, OH // 2, OW // 2), np.int32)
        y = pre = _DUMMY4
    else:
        pooled, am = _DUMMY4, _DUMMY4I
        y = np.empty((N, F, OH, OW), np.float32)
    has_pre = pre is not None
    if pool:
        has_pre = False
    elif has_pre:
        _check_array(pre, "pre", 4)
        if pre.shape != (N, F, OH, OW):
            raise ValueError(f"pre has shape {pre.shape}, expected {(N, F, OH, OW)}")
    else:
        pre = y
    relu = bool(relu)
    CKK = C * KH * KW
    wm = w.reshape(F, CKK)
    team = _team
    gemm = _blas_gemm()
    wide = _use_wide(sh, sw, OW, KH, KW, C)
    if wide:  # stride 1: columns over the padded width, one contiguous copy per row
        Hp, Wp = OH + KH - 1, OW + KW - 1
        L = OH * Wp
    else:
        Hp, Wp = 0, 0
        L = OH * OW
    nb, nchunks = _chunking(N, CKK * L, _PARTS)
    parts = min(nchunks, _PARTS)
    units = _units(parts, team)

    def job(unit):
        # a unit is a run of whole parts, so its chunks are contiguous: one numba call for all of them
        p_lo, p_hi = _split(parts, units, unit)
        c_lo, c_hi = _split(nchunks, parts, p_lo)[0], _split(nchunks, parts, p_hi - 1)[1]
        if c_lo >= c_hi:
            return
        colbuf = _scratch("cols", CKK * nb * L)
        zbuf = _scratch("z", F * nb * L)
        xpbuf = _scratch("xpad", nb * C * Hp * Wp + KW) if wide else colbuf
        if gemm is not None:
            _conv_fwd_part(gemm, x, wm, b, has_bias, relu, y, pre, has_pre, c_lo, c_hi, nb, KH, KW, sh, sw,
                           pt, pl, wide, Hp, Wp, colbuf, zbuf, xpbuf, F, OH, OW, pool, pooled, am)
            return
        m = 0
        for ch in range(c_lo, c_hi):
            n0 = ch * nb
            if min(nb, N - n0) != m:
                m = min(nb, N - n0)
                cols = colbuf[: CKK * m * L].reshape(CKK, m * L)
                z2 = zbuf[: F * m * L].reshape(F, m * L)
            if wide:
                _fwd_cols_wide(x, n0, m, pt, pl, Hp, Wp, KH, KW, OH, xpbuf, cols)
            else:
                _im2col(x, n0, m, KH, KW, sh, sw, pt, pl, OH, OW, cols)
            np.matmul(wm, cols, out=z2)
            if pool:
                _conv_out_pool(z2, Wp if wide else OW, OH, OW, b, has_bias, n0, m, pooled, am)
            elif wide:
                _conv_out_wide(z2, Wp, b, has_bias, relu, n0, m, y, pre, has_pre)
            else:
                _conv_out(z2, b, has_bias, relu, n0, m, y.reshape(N, F, L), pre.reshape(N, F, L), has_pre)

    team.run(job, units)
    return (pooled, am) if pool else y


#: Placeholders for the arrays a mode does not use (the kernels keep one compiled signature).
_DUMMY4 = np.zeros((1, 1, 1, 1), np.float32)
_DUMMY4I = np.zeros((1, 1, 1, 1), np.int32)


def conv2d_backward(x, w, dy, stride, pad, need_dx=True, relu_output=None):
    """Gradients of :func:`conv2d_forward`: returns ``(dx or None, dw, db)``.

    With ``relu_output`` (the output of a ``relu=True`` forward) ``dy`` is the gradient of the
    activated output and is masked by ``relu_output > 0`` on the fly.
    """
    N, C, H, W, F, KH, KW, sh, sw, pt, pl, OH, OW = _conv_geometry(x, w, stride, pad)
    _check_array(dy, "dy", 4)
    if dy.shape != (N, F, OH, OW):
        raise ValueError(f"dy has shape {dy.shape}, expected {(N, F, OH, OW)}")
    masked = relu_output is not None
    if masked:
        _check_array(relu_output, "relu_output", 4)
        if relu_output.shape != dy.shape:
            raise ValueError(f"relu_output has shape {relu_output.shape}, expected {dy.shape}")
    return _conv_backward(x, w, dy, relu_output if masked else dy, masked, stride, pad, need_dx, None)


def conv2d_relu_maxpool_backward(x, w, dpooled, argmax, pooled, stride, pad, need_dx=True):
    """Gradients of :func:`conv2d_relu_maxpool_forward` from the gradient of its pooled output:
    ``(dx or None, dw, db)``, as max-pool backward, the ReLU mask and :func:`conv2d_backward` would give."""
    N, C, H, W, F, KH, KW, sh, sw, pt, pl, OH, OW = _conv_geometry(x, w, stride, pad)
    shape = (N, F, OH // 2, OW // 2)
    for name, arr in (("dpooled", dpooled), ("pooled", pooled)):
        _check_array(arr, name, 4)
        if arr.shape != shape:
            raise ValueError(f"{name} has shape {arr.shape}, expected {shape}")
    if argmax.dtype != np.int32 or argmax.shape != shape or not argmax.flags.c_contiguous:
        raise ValueError(f"argmax must be C-contiguous int32 of shape {shape}")
    return _conv_backward(x, w, dpooled, dpooled, False, stride, pad, need_dx, (argmax, pooled))


def _conv_backward(x, w, dy, a, masked, stride, pad, need_dx, pool):
    N, C, H, W, F, KH, KW, sh, sw, pt, pl, OH, OW = _conv_geometry(x, w, stride, pad)
    pam, pv = pool if pool is not None else (_DUMMY4I, _DUMMY4)
    pool = pool is not None
    CKK = C * KH * KW
    wm = w.reshape(F, CKK)
    dx = np.empty((N, C, H, W), np.float32) if need_dx else None
    team = _team
    gemm = _blas_gemm()
    wide = _use_wide(sh, sw, OW, KH, KW, C)
    if wide:
        Hp, Wp = OH + KH - 1, OW + KW - 1
        L = OH * Wp
    else:
        Hp, Wp = 0, 0
        L = OH * OW
    nb, nchunks = _chunking(N, CKK * L, _PARTS)
    parts = min(nchunks, _PARTS)
    units = _units(parts, team)
    # dw is accumulated transposed, one (CKK, F) partial sum per part: cols @ d2.T runs 10-90% faster in
    # OpenBLAS than d2 @ cols.T for these shapes (few filters, many columns).
    dwts = np.zeros((parts, CKK, F), np.float32)
    dbs = np.zeros((parts, F), np.float32)

    def job(unit):
        p_lo, p_hi = _split(parts, units, unit)
        colbuf = _scratch("cols", CKK * nb * L)
        dbuf = _scratch("z", F * nb * L)
        dcolbuf = _scratch("dcols", CKK * nb * L) if need_dx else colbuf
        xpbuf = _scratch("xpad", nb * C * Hp * Wp + KW) if wide else colbuf
        dxpbuf = _scratch("dxpad", nb * C * Hp * Wp + KW) if (wide and need_dx) else colbuf
        if gemm is not None:  # the unit's parts in one numba call, each into its own partial sums
            _conv_bwd_parts(gemm, x, wm, dy, a, masked, need_dx, dx if need_dx else x, p_lo, p_hi, parts, nchunks,
                            nb, KH, KW, sh, sw, pt, pl, wide, Hp, Wp, colbuf, dbuf, dcolbuf, xpbuf, dxpbuf, dwts,
                            dbs, F, OH, OW, pool, pam, pv)
            return
        for part in range(p_lo, p_hi):
            _conv_bwd_portable(part)

    def _conv_bwd_portable(part):
        c_lo, c_hi = _split(nchunks, parts, part)
        colbuf = _scratch("cols", CKK * nb * L)
        dbuf = _scratch("z", F * nb * L)
        dcolbuf = _scratch("dcols", CKK * nb * L) if need_dx else None
        if wide:
            xpbuf = _scratch("xpad", nb * C * Hp * Wp + KW)
            dxpbuf = _scratch("dxpad", nb * C * Hp * Wp + KW) if need_dx else None
        dwt = dwts[part]
        db = dbs[part]
        tmp = np.empty((CKK, F), np.float32)
        wt = np.ascontiguousarray(wm.T)
        m = 0
        for ch in range(c_lo, c_hi):
            n0 = ch * nb
            if min(nb, N - n0) != m:
                m = min(nb, N - n0)
                cols = colbuf[: CKK * m * L].reshape(CKK, m * L)
                d2 = dbuf[: F * m * L].reshape(F, m * L)
                d2T = d2.T
                if need_dx:
                    dcols = dcolbuf[: CKK * m * L].reshape(CKK, m * L)
            _grad_rows_and_cols(pool, wide, dy, a, masked, pam, pv, x, n0, m, d2, db, KH, KW, sh, sw, pt, pl, Hp,
                                Wp, OH, OW, xpbuf if wide else colbuf, cols)
            if CKK < _SMALL_DW_ROWS:
                _small_dwt(cols, d2, dwt)
            else:
                np.matmul(cols, d2T, out=tmp)
                dwt += tmp
            if need_dx:
                np.matmul(wt, d2, out=dcols)
                if wide:
                    _bwd_dx_wide(dcols, n0, m, pt, pl, Hp, Wp, KH, KW, OH, dxpbuf, dx)
                else:
                    _col2im(dcols, n0, m, KH, KW, sh, sw, pt, pl, OH, OW, dx)

    team.run(job, units)
    if parts == 0:  # an empty batch
        return dx, np.zeros((F, C, KH, KW), np.float32), np.zeros(F, np.float32)
    dw, db = dwts[0], dbs[0]
    for part in range(1, parts):  # fixed order: reproducible sums
        dw += dwts[part]
        db += dbs[part]
    return dx, np.ascontiguousarray(dw.T).reshape(F, C, KH, KW), db.copy()


# --------------------------------------------------------------------------------------------
# pooling
# --------------------------------------------------------------------------------------------


@njit(nogil=True, cache=True)
def _maxpool_fwd(x, n0, n1, kh, kw, sh, sw, pt, pl, y, am):
    H, W = x.shape[2], x.shape[3]
    C, OH, OW = y.shape[1], y.shape[2], y.shape[3]
    if kh == 2 and kw == 2 and sh == 2 and sw == 2 and pt == 0 and pl == 0 and 2 * OH <= H and 2 * OW <= W:
        xf = x.reshape(-1)
        yf = y.reshape(-1)
        af = am.reshape(-1)
        for n in range(n0, n1):
            for c in range(C):
                xb = (n * C + c) * H * W
                yb = (n * C + c) * OH * OW
                for i in range(OH):
                    r = 2 * i
                    top = np.uint64(xb + r * W)
                    bot = np.uint64(xb + (r + 1) * W)
                    out = np.uint64(yb + i * OW)
                    for j in range(OW):
                        q = np.uint64(2 * j)
                        best = xf[top + q]
                        arg = r * W + 2 * j
                        val = xf[top + q + np.uint64(1)]
                        if val > best:
                            best = val
                            arg = r * W + 2 * j + 1
                        val = xf[bot + q]
                        if val > best:
                            best = val
                            arg = (r + 1) * W + 2 * j
                        val = xf[bot + q + np.uint64(1)]
                        if val > best:
                            best = val
                            arg = (r + 1) * W + 2 * j + 1
                        yf[out + np.uint64(j)] = best
                        af[out + np.uint64(j)] = arg
        return
    for n in range(n0, n1):
        for c in range(C):
            for i in range(OH):
                r0 = i * sh - pt
                for j in range(OW):
                    q0 = j * sw - pl
                    best = -np.inf
                    arg = -1
                    for u in range(kh):
                        r = r0 + u
                        if r < 0 or r >= H:
                            continue
                        for v in range(kw):
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
def _maxpool_bwd(dy, am, n0, n1, dx):
    C, OH, OW = dy.shape[1], dy.shape[2], dy.shape[3]
    H, W = dx.shape[2], dx.shape[3]
    dyf = dy.reshape(-1)
    af = am.reshape(-1)
    dxf = dx.reshape(-1)
    for n in range(n0, n1):
        for c in range(C):
            xb = (n * C + c) * H * W
            plane = dxf[xb:xb + H * W]
            for t in range(H * W):
                plane[t] = 0.0
            yb = (n * C + c) * OH * OW
            gs = dyf[yb:yb + OH * OW]
            ws = af[yb:yb + OH * OW]
            for t in range(OH * OW):
                a = ws[t]
                if a >= 0:
                    plane[np.uint64(a)] += gs[t]


@njit(nogil=True, cache=True, error_model="numpy")
def _avgpool_fwd(x, n0, n1, kh, kw, sh, sw, pt, pl, y):
    H, W = x.shape[2], x.shape[3]
    C, OH, OW = y.shape[1], y.shape[2], y.shape[3]
    for n in range(n0, n1):
        for c in range(C):
            for i in range(OH):
                r0 = max(i * sh - pt, 0)
                r1 = min(i * sh - pt + kh, H)
                for j in range(OW):
                    q0 = max(j * sw - pl, 0)
                    q1 = min(j * sw - pl + kw, W)
                    acc = np.float32(0.0)
                    for r in range(r0, r1):
                        for q in range(q0, q1):
                            acc += x[n, c, r, q]
                    cnt = (r1 - r0) * (q1 - q0)
                    y[n, c, i, j] = acc / np.float32(cnt) if cnt > 0 else np.float32(0.0)


@njit(nogil=True, cache=True, error_model="numpy")
def _avgpool_bwd(dy, n0, n1, kh, kw, sh, sw, pt, pl, dx):
    C, H, W = dx.shape[1], dx.shape[2], dx.shape[3]
    OH, OW = dy.shape[2], dy.shape[3]
    for n in range(n0, n1):
        for c in range(C):
            for r in range(H):
                for q in range(W):
                    dx[n, c, r, q] = 0.0
            for i in range(OH):
                r0 = max(i * sh - pt, 0)
                r1 = min(i * sh - pt + kh, H)
                for j in range(OW):
                    q0 = max(j * sw - pl, 0)
                    q1 = min(j * sw - pl + kw, W)
                    cnt = (r1 - r0) * (q1 - q0)
                    if cnt <= 0:
                        continue
                    g = dy[n, c, i, j] / np.float32(cnt)
                    for r in range(r0, r1):
                        for q in range(q0, q1):
                            dx[n, c, r, q] += g


def _pool_geometry(x_shape, pool, stride, pad):
    N, C, H, W = (int(d) for d in x_shape)
    kh, kw = _pair(pool, "pool")
    sh, sw = _pair(stride, "stride")
    pt, pb, pl, pr = _check_pad(pad)
    OH = _out_size(H, kh, sh, pt, pb, "pool window")
    OW = _out_size(W, kw, sw, pl, pr, "pool window")
    return N, C, H, W, kh, kw, sh, sw, pt, pl, OH, OW


def run_side_by_side(*tasks) -> None:
    """Run independent ``tasks`` (callables without arguments) at once, one per thread of the team.

    Each task does the same arithmetic whichever thread runs it (numpy's BLAS is single-threaded
    here), so results never depend on the team size. A team of one, or a busy team, runs them here,
    in order."""
    if _team.size == 1 or len(tasks) < 2:
        for task in tasks:
            task()
        return
    _team.run(lambda part: tasks[part](), len(tasks))


def _over_batch(N: int, per_image: int, kernel) -> None:
    """Run ``kernel(n0, n1)`` over the batch split between the team (small work: on this thread)."""
    team = _team
    parts = team.size
    if parts == 1 or N * per_image < 16384 or N < 2:
        kernel(0, N)
        return
    parts = min(parts, N)

    def job(part):
        if part < parts:
            n0, n1 = _split(N, parts, part)
            kernel(n0, n1)

    team.run(job)


def maxpool2d_forward(x, pool, stride, pad):
    """Max pooling; returns ``(y, argmax)`` with argmax the flat index into the unpadded plane."""
    _check_array(x, "x", 4)
    N, C, H, W, kh, kw, sh, sw, pt, pl, OH, OW = _pool_geometry(x.shape, pool, stride, pad)
    y = np.empty((N, C, OH, OW), np.float32)
    am = np.empty((N, C, OH, OW), np.int32)
    _over_batch(N, C * H * W, lambda n0, n1: _maxpool_fwd(x, n0, n1, kh, kw, sh, sw, pt, pl, y, am))
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
    _over_batch(N, C * H * W, lambda n0, n1: _maxpool_bwd(dy, argmax, n0, n1, dx))
    return dx


def avgpool2d_forward(x, pool, stride, pad):
    """Average pooling over the window's non-padding pixels."""
    _check_array(x, "x", 4)
    N, C, H, W, kh, kw, sh, sw, pt, pl, OH, OW = _pool_geometry(x.shape, pool, stride, pad)
    y = np.empty((N, C, OH, OW), np.float32)
    _over_batch(N, C * H * W, lambda n0, n1: _avgpool_fwd(x, n0, n1, kh, kw, sh, sw, pt, pl, y))
    return y


def avgpool2d_backward(dy, x_shape, pool, stride, pad):
    """Gradient of :func:`avgpool2d_forward`."""
    _check_array(dy, "dy", 4)
    N, C, H, W, kh, kw, sh, sw, pt, pl, OH, OW = _pool_geometry(x_shape, pool, stride, pad)
    if dy.shape != (N, C, OH, OW):
        raise ValueError(f"dy has shape {dy.shape}, expected {(N, C, OH, OW)}")
    dx = np.empty((N, C, H, W), np.float32)
    _over_batch(N, C * H * W, lambda n0, n1: _avgpool_bwd(dy, n0, n1, kh, kw, sh, sw, pt, pl, dx))
    return dx


# --------------------------------------------------------------------------------------------
# warm-up
# --------------------------------------------------------------------------------------------


def warmup(parallel: bool = True) -> None:
    """Compile (or load from the on-disk cache) every kernel by running it on tiny shapes.

    A cold cache takes about a minute on one core, and the backward kernels are the larger part: with
    ``parallel`` (and ``CONVSCOPE_PARALLEL_WARMUP`` not ``0``) and no cached backward, a helper process
    compiles them into the shared cache while this thread compiles the rest; this process then loads
    them. Measured on 2 cores (``bench/responsiveness.py --skip-probe``, launch to the first training
    step): 55.5 s with neither the helper nor the flattened backward, 30.0 s with both. Any trouble
    with the helper (it cannot start, fails, or takes over 10 minutes) only means compiling here."""
    helper = _start_backward_helper() if parallel else None
    try:
        _warmup_forward()
    finally:
        if helper is not None:
            _wait_for_helper(helper)
    _warmup_backward()


def _warmup_shapes():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 2, 5, 5)).astype(np.float32)
    w = rng.standard_normal((3, 2, 3, 3)).astype(np.float32)
    wr = rng.standard_normal((3, 2, 1, 3)).astype(np.float32)
    return rng, x, w, wr, np.zeros(3, np.float32), (1, 1, 1, 1)


def _warmup_forward() -> None:
    """Every forward, pooling and optimizer kernel (the backward ones: :func:`_warmup_backward`)."""
    _rng, x, w, wr, b, pad = _warmup_shapes()
    pre = np.empty((2, 3, 5, 5), np.float32)
    conv2d_forward(x, w, b, 1, pad, relu=True, pre=pre)
    conv2d_forward(x, w, None, 2, pad)
    conv2d_relu_maxpool_forward(x, w, b, 1, pad)
    conv2d_forward(x, wr, b, (1, 2), (0, 0, 1, 1))
    for pool_pad in ((0, 0, 0, 0), (0, 1, 0, 1)):
        p, am = maxpool2d_forward(x, 2, 2, pool_pad)
        maxpool2d_backward(p, am, x.shape)
        a = avgpool2d_forward(x, 2, 2, pool_pad)
        avgpool2d_backward(a, x.shape, 2, 2, pool_pad)
    from engine import update_kernels

    update_kernels.warmup()


def _warmup_backward() -> None:
    """Every convolution backward kernel, on made-up gradients (no forward kernel is needed)."""
    rng, x, w, wr, _b, pad = _warmup_shapes()
    y = np.maximum(rng.standard_normal((2, 3, 5, 5)), 0).astype(np.float32)
    conv2d_backward(x, w, y, 1, pad, need_dx=True, relu_output=y)
    conv2d_backward(x, w, y, 1, pad, need_dx=False)
    pooled = np.maximum(rng.standard_normal((2, 3, 2, 2)), 0).astype(np.float32)
    rows, cols = np.meshgrid(np.arange(2), np.arange(2), indexing="ij")
    am = np.broadcast_to((2 * rows * 5 + 2 * cols).astype(np.int32), pooled.shape).copy()  # top-left pixels
    conv2d_relu_maxpool_backward(x, w, pooled, am, pooled, 1, pad)
    yr = rng.standard_normal((2, 3, 5, 3)).astype(np.float32)
    conv2d_backward(x, wr, yr, (1, 2), (0, 0, 1, 1))


_HELPER = """\
import os, sys, threading, time
parent = os.getppid()
def watch():                      # the app went away (closed during the compile): so does the helper
    while os.getppid() == parent:
        time.sleep(0.3)
    os._exit(0)
threading.Thread(target=watch, daemon=True).start()
from engine import kernels
kernels._warmup_backward()
"""
_helpers: list = []


def _backward_cached() -> bool:
    """Whether the largest backward kernel is in the on-disk cache (unknown: True, compile here)."""
    try:
        return bool(_conv_bwd_parts._cache._cache_file._load_index())
    except Exception:
        return True


def _start_backward_helper():
    if os.environ.get("CONVSCOPE_PARALLEL_WARMUP", "1") == "0" or _backward_cached():
        return None
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([root] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    try:
        proc = subprocess.Popen([sys.executable, "-c", _HELPER], env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError:
        return None
    if not _helpers:
        import atexit

        atexit.register(_kill_helpers)
    _helpers.append(proc)
    return proc


def _wait_for_helper(proc, timeout: float = 600.0) -> None:
    import subprocess

    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
    finally:
        if proc in _helpers:
            _helpers.remove(proc)


def _kill_helpers() -> None:
    for proc in list(_helpers):
        proc.kill()
