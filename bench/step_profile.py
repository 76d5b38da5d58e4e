"""Where the time of one training step goes: per layer and phase, with GFLOP/s next to the machine's sgemm.

Used by ``bench/speed.py --profile``. Two kinds of figures:

* **The real step** (``Trainer.step()`` with the compute team, exactly what training runs): each layer's
  forward and backward, the batch gather, the loss and the optimizer are timed by wrapping them, over
  ``steps`` steps (median per phase). "other" is the rest of the step (Python bookkeeping, the accuracy
  count, the copy of the last good weights).
* **A convolution's phases in isolation**: the same chunks the engine uses, run one after the other on
  ONE thread with ``numpy.matmul`` between the numba calls, so each phase can be timed on its own:
  columns (im2col), the forward GEMM, bias + ReLU, the ReLU mask + bias gradient, the weight-gradient
  GEMM, the input-gradient GEMM and col2im. The engine fuses these in one numba call per part and runs
  the parts on every thread, so the isolated milliseconds add up to about ``threads`` times the real
  layer's; their *shares* say where a layer's time goes.

GFLOP/s counts 2 flops per multiply-add of the GEMM (or the direct convolution). ``sgemm`` is numpy's
``float32`` matmul of 1024x1024 matrices measured in the same run, on one thread and on the team's.
"""

from __future__ import annotations

import time

import numpy as np

from engine import kernels
from engine import training as training_module
from engine.layers import Conv2D, Dense


def sgemm_gflops(threads: int, n: int = 1024, repeat: int = 7) -> float:
    """numpy's float32 matmul of n x n matrices on ``threads`` BLAS threads, GFLOP/s (best of ``repeat``)."""
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    c = np.empty((n, n), np.float32)
    with threadpool_limits(limits=threads, user_api="blas"):
        np.matmul(a, b, out=c)
        best = min(_timed(np.matmul, a, b, out=c) for _ in range(repeat))
    return 2.0 * n**3 / best / 1e9


def _timed(fn, *args, **kwargs) -> float:
    t = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - t


def layer_flops(layer, batch: int) -> tuple[float, float]:
    """(forward, backward) flops of a conv or dense layer for one batch (backward: dW, plus dX when needed)."""
    if isinstance(layer, Conv2D):
        f, c, kh, kw = layer.params["W"].shape
        _, oh, ow = layer.out_shape
        fwd = 2.0 * batch * f * oh * ow * c * kh * kw
    elif isinstance(layer, Dense):
        d_in, d_out = layer.params["W"].shape
        fwd = 2.0 * batch * d_in * d_out
    else:
        return 0.0, 0.0
    return fwd, fwd * (2.0 if layer.need_input_grad else 1.0)


class _Timer:
    def __init__(self):
        self.samples: dict[tuple[str, str], list[float]] = {}
        self.order: list[tuple[str, str]] = []

    def wrap(self, owner, attr: str, key: tuple[str, str]) -> None:
        fn = getattr(owner, attr)
        samples = self.samples.setdefault(key, [])
        if key not in self.order:
            self.order.append(key)

        def timed(*args, **kwargs):
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                samples.append(time.perf_counter() - t)

        setattr(owner, attr, timed)


def profile_step(trainer, steps: int = 40) -> tuple[list[tuple[str, str, float, float]], float]:
    """Median ms per phase of ``trainer.step()``: ``([(layer, phase, ms, gflops)], step_ms)``.

    The trainer's model and optimizer are instrumented only for the duration of the call."""
    model = trainer.model
    timer = _Timer()
    saved = []

    def wrap(owner, attr, key):
        saved.append((owner, attr, owner.__dict__.get(attr, _MISSING)))
        timer.wrap(owner, attr, key)

    wrap(trainer, "_load_batch", ("batch", "gather + scale"))
    for layer in model.layers:
        wrap(layer, "forward", (layer.name, "forward"))
        if hasattr(layer, "forward_pooled"):  # a ReLU conv fused with the max pooling after it
            wrap(layer, "forward_pooled", (layer.name, "forward + pool"))
    wrap(training_module, "softmax_cross_entropy", ("loss", "softmax + cross-entropy"))
    for layer in reversed(model.layers):
        wrap(layer, "backward", (layer.name, "backward"))
        if hasattr(layer, "backward_linear"):
            wrap(layer, "backward_linear", (layer.name, "backward"))
    wrap(model, "apply_gradients", ("optimizer", type(trainer.optimizer).__name__))
    step_times = []
    try:
        for _ in range(5):
            trainer.step()
        for samples in timer.samples.values():
            samples.clear()
        for _ in range(steps):
            step_times.append(_timed(trainer.step))
    finally:
        for owner, attr, value in reversed(saved):
            if value is _MISSING:
                owner.__dict__.pop(attr, None)
            else:
                setattr(owner, attr, value)

    batch = trainer.batch_size
    by_name = {layer.name: layer for layer in model.layers}
    rows = []
    for key in timer.order:
        samples = timer.samples[key]
        if not samples:
            continue
        # backward and backward_linear both wrapped: the outer call holds the inner one
        per_step = np.array(samples[-steps:]) if len(samples) <= steps else _outer(samples, steps)
        ms = float(np.median(per_step)) * 1e3
        gflops = 0.0
        layer = by_name.get(key[0])
        if layer is not None and key[1] in ("forward", "forward + pool", "backward"):
            fwd, bwd = layer_flops(layer, batch)
            flops = bwd if key[1] == "backward" else fwd
            gflops = flops / (ms * 1e-3) / 1e9 if ms > 0 and flops else 0.0
        rows.append((key[0], key[1], ms, gflops))
    return rows, float(np.median(step_times)) * 1e3


_MISSING = object()


def _outer(samples: list[float], steps: int) -> np.ndarray:
    """Two wrapped calls per step (``backward`` calling ``backward_linear``): keep the outer (longer) one."""
    a = np.array(samples, np.float64)
    if len(a) == 2 * steps:
        return np.maximum(a[0::2], a[1::2])
    return a[-steps:]


def conv_phases(layer: Conv2D, x: np.ndarray, dz: np.ndarray, pooled: bool = False) -> list[tuple[str, float, float]]:
    """One convolution's phases on one thread, the engine's chunks: ``[(phase, ms, gflops)]``. With
    ``pooled`` the epilogue and the gradient rows are those of the fused 2x2 max pooling."""
    k = kernels
    w = layer._w_eff if getattr(layer, "_w_eff", None) is not None else layer.params["W"]
    b = layer.params.get("b")
    b = np.zeros(w.shape[0], np.float32) if b is None else np.ascontiguousarray(b, np.float32)
    N, C, H, W, F, KH, KW, sh, sw, pt, pl, OH, OW = k._conv_geometry(x, w, layer._stride, layer._pad)
    CKK = C * KH * KW
    wm = np.ascontiguousarray(w.reshape(F, CKK))
    wt = np.ascontiguousarray(wm.T)
    try:
        wide = k._use_wide(sh, sw, OW, KH, KW, C)
    except TypeError:  # the engine before round 2's speed work: padded-width columns only with padding
        wide = k._use_wide(sh, sw, OW, KH, KW, C, max(layer._pad) > 0)
    Hp, Wp = (OH + KH - 1, OW + KW - 1) if wide else (0, 0)
    L = OH * Wp if wide else OH * OW
    nb, nchunks = k._chunking(N, CKK * L, k._PARTS)
    y = np.empty((N, F, OH, OW), np.float32)
    y3 = y.reshape(N, F, OH * OW)
    dz3 = dz.reshape(N, F, OH * OW)
    dx = np.empty_like(x)
    cols = np.empty(CKK * nb * L, np.float32)
    z = np.empty(F * nb * L, np.float32)
    dcols = np.empty(CKK * nb * L, np.float32)
    xpad = np.empty(nb * C * max(Hp * Wp, 1) + KW, np.float32)
    dxpad = np.empty_like(xpad)
    dwt = np.zeros((CKK, F), np.float32)
    tmp = np.empty((CKK, F), np.float32)
    db = np.zeros(F, np.float32)
    if pooled:
        pout = np.empty((N, F, OH // 2, OW // 2), np.float32)
        pam = np.empty(pout.shape, np.int32)
        dpool = np.ascontiguousarray(dz[:, :, : OH // 2, : OW // 2])
    epi, grad_in = ("bias + ReLU + max pool", "pool routing + bias grad") if pooled else (
        "bias + ReLU", "ReLU mask + bias grad")
    t = dict.fromkeys(("im2col (columns)", "GEMM forward", epi, grad_in,
                       "columns again", "GEMM dW", "GEMM dX", "col2im"), 0.0)
    for ch in range(nchunks):
        n0 = ch * nb
        m = min(nb, N - n0)
        c2 = cols[: CKK * m * L].reshape(CKK, m * L)
        z2 = z[: F * m * L].reshape(F, m * L)
        d2 = z2
        dc2 = dcols[: CKK * m * L].reshape(CKK, m * L)
        if wide:
            t["im2col (columns)"] += _timed(k._fwd_cols_wide, x, n0, m, pt, pl, Hp, Wp, KH, KW, OH, xpad, c2)
        else:
            t["im2col (columns)"] += _timed(k._im2col, x, n0, m, KH, KW, sh, sw, pt, pl, OH, OW, c2)
        t["GEMM forward"] += _timed(np.matmul, wm, c2, out=z2)
        if pooled:
            row_w = Wp if wide else OW
            t[epi] += _timed(k._conv_out_pool, z2, row_w, OH, OW, b, True, n0, m, pout, pam)
            t[grad_in] += _timed(k._conv_grad_in_pool, dpool, pam, pout, row_w, OH, OW, n0, m, d2, db)
        elif wide:
            t[epi] += _timed(k._conv_out_wide, z2, Wp, b, True, True, n0, m, y, y, False)
            t[grad_in] += _timed(k._conv_grad_in_wide, dz, y, True, Wp, n0, m, d2, db)
        else:
            t[epi] += _timed(k._conv_out, z2, b, True, True, n0, m, y3, y3, False)
            t[grad_in] += _timed(k._conv_grad_in, dz3, y3, True, n0, m, d2, db)
        if wide:
            t["columns again"] += _timed(k._fwd_cols_wide, x, n0, m, pt, pl, Hp, Wp, KH, KW, OH, xpad, c2)
        else:
            t["columns again"] += _timed(k._im2col, x, n0, m, KH, KW, sh, sw, pt, pl, OH, OW, c2)

        if CKK < k._SMALL_DW_ROWS:
            t["GEMM dW"] += _timed(k._small_dwt, c2, d2, dwt)
        else:
            t["GEMM dW"] += _timed(np.matmul, c2, d2.T, out=tmp) + _timed(np.add, dwt, tmp, out=dwt)
        if layer.need_input_grad:
            t["GEMM dX"] += _timed(np.matmul, wt, d2, out=dc2)
            if wide:
                t["col2im"] += _timed(k._bwd_dx_wide, dc2, n0, m, pt, pl, Hp, Wp, KH, KW, OH, dxpad, dx)
            else:
                t["col2im"] += _timed(k._col2im, dc2, n0, m, KH, KW, sh, sw, pt, pl, OH, OW, dx)
    gemm_flops = 2.0 * N * F * L * CKK  # the wide layout's GEMMs include its discarded columns
    out = []
    for phase, sec in t.items():
        if phase in ("GEMM dX", "col2im") and not layer.need_input_grad:
            continue
        gf = gemm_flops / sec / 1e9 if phase.startswith("GEMM") and sec > 0 else 0.0
        out.append((phase, sec * 1e3, gf))
    return out


def step_allocations(trainer, steps: int = 5) -> tuple[float, float]:
    """(MB allocated and freed again within one step at most, MB still alive after ``steps`` steps) by
    tracemalloc, which sees numpy's buffers. What stays alive is the last step's layer caches (inputs,
    switches, masks kept for backward): the same after 5 or 20 steps unless something leaks."""
    import tracemalloc

    trainer.step()
    tracemalloc.start()
    try:
        start, _ = tracemalloc.get_traced_memory()
        transient = 0
        for _ in range(steps):
            tracemalloc.reset_peak()
            before, _ = tracemalloc.get_traced_memory()
            trainer.step()
            _, peak = tracemalloc.get_traced_memory()
            transient = max(transient, peak - before)
        end, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return transient / 2**20, (end - start) / 2**20


def print_profile(key: str, title: str, trainer, threads: int, sgemm: tuple[float, float], steps: int = 40) -> None:
    """The per-layer, per-phase table of one workload."""
    rows, step_ms = profile_step(trainer, steps)
    model = trainer.model
    batch = trainer.batch_size
    total_flops = sum(sum(layer_flops(layer, batch)) for layer in model.layers)
    overall = total_flops / (step_ms * 1e-3) / 1e9
    print(f"\n{key} {title}: one step {step_ms:.2f} ms (median of {steps}), {batch / step_ms * 1e3:,.0f} img/s, "
          f"{total_flops / 1e6:,.0f} MFLOP per step = {overall:.1f} GFLOP/s "
          f"({overall / sgemm[1] * 100:.0f} % of sgemm on {threads} threads, {sgemm[1]:.0f} GFLOP/s)")
    print(f"  {'layer / phase':<36} {'ms/batch':>9} {'share':>7} {'GFLOP/s':>8}")
    accounted = 0.0
    for name, phase, ms, gf in rows:
        accounted += ms
        gtxt = f"{gf:8.1f}" if gf else f"{'':>8}"
        print(f"  {name + ' ' + phase:<36} {ms:9.3f} {ms / step_ms * 100:6.1f}% {gtxt}")
    other = step_ms - accounted
    print(f"  {'other (bookkeeping, accuracy, copies)':<36} {other:9.3f} {other / step_ms * 100:6.1f}%")
    transient, kept5 = step_allocations(trainer, 5)
    _, kept20 = step_allocations(trainer, 20)
    print(f"  memory (tracemalloc): {transient:.1f} MB allocated and freed within one step; alive afterwards "
          f"{kept5:.2f} MB after 5 steps, {kept20:.2f} MB after 20 "
          f"({'GROWS: a leak' if kept20 > kept5 + 1.0 else 'the last step’s layer caches: no growth'})")
    xb, _ = trainer._load_batch(np.arange(batch))
    h = xb
    acts = []
    for layer in model.layers:
        acts.append(h)
        h = layer.forward(h, training=True)
    following = dict(zip(model.layers, model.layers[1:]))
    for layer, inp in zip(model.layers, acts):
        if not isinstance(layer, Conv2D):
            continue
        dz = np.random.default_rng(1).standard_normal((batch, *layer.out_shape)).astype(np.float32)
        fuses = getattr(layer, "fuses_with", None)  # absent before the fused pooling
        pooled = layer in following and fuses is not None and fuses(following[layer])
        best = None
        for _ in range(5):  # best of 5: the phases of one quiet pass
            phases = conv_phases(layer, inp, dz, pooled)
            if best is None or sum(p[1] for p in phases) < sum(p[1] for p in best):
                best = phases
        iso = sum(p[1] for p in best)
        print(f"  {layer.name} phases on 1 thread (sum {iso:.2f} ms; sgemm 1 thread {sgemm[0]:.0f} GFLOP/s):")
        for phase, ms, gf in best:
            gtxt = f"{gf:8.1f}" if gf else f"{'':>8}"
            print(f"    {phase:<34} {ms:9.3f} {ms / iso * 100:6.1f}% {gtxt}")
