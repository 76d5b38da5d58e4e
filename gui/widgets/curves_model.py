"""What the curves panel draws, without Qt: per-batch loss/accuracy (raw and smoothed), validation per
epoch, the axis ranges, and at most ``max_points`` points per curve.

A long run has hundreds of thousands of batches; a plot cannot show more than a few points per pixel
column, and painting them all is the GUI thread's largest cost while training. So the raw curves are
decimated the way pyqtgraph's ``'peak'`` downsampling does (each bucket of ``k`` batches becomes its
lowest and highest value, so spikes stay visible) and the smoothed curves keep every ``k``-th point
(at most ``smooth_points``: a thick pen costs per segment).
``k`` is a power of two, so the shown points move only when ``k`` doubles, not at every redraw.
"""

from __future__ import annotations

import math

import numpy as np

MAX_POINTS = 1600        # per raw curve: about two points per pixel column of a wide plot
#: Points of a smoothed curve. It is drawn with a 2 px pen, which Qt strokes segment by segment
#: (a 1 px pen has a fast path): measured at 1472x156, quiet, the panel painted in 8.1 ms with 1,500
#: smoothed points per curve and 3.6 ms with 950; under training load each ms became 2-3 ms of a
#: GUI stall. A moving average has no detail finer than this many points can show.
SMOOTH_POINTS = 400


def ema(values: np.ndarray, alpha: float) -> np.ndarray:
    """Exponential moving average with bias correction (like TensorBoard's smoothing)."""
    out = np.empty(len(values), np.float64)
    _Ema(alpha).run(values, out)
    return out


class _Ema:
    """A running bias-corrected average: feeds values in pieces, O(new values) each."""

    def __init__(self, alpha: float):
        self.alpha = alpha
        self.acc = 0.0
        self.weight = 0.0

    def run(self, values: np.ndarray, out: np.ndarray) -> None:
        a, acc, weight = self.alpha, self.acc, self.weight
        for i, v in enumerate(values.tolist()):
            if math.isfinite(v):                   # a diverged batch (NaN) must not poison the average
                acc = a * acc + (1 - a) * v
                weight = a * weight + (1 - a)
            out[i] = acc / weight if weight > 0 else math.nan
        self.acc, self.weight = acc, weight


def smoothing_alpha(batches_per_epoch: int) -> float:
    """About 1/50 of an epoch: smooth enough to read, short enough not to lag the raw batches."""
    return float(np.clip(1 - 1 / max(5.0, batches_per_epoch / 50), 0.6, 0.95))


def stride_for(n: int, max_points: int) -> int:
    """Batches per shown point: 1 while ``n`` fits, else the power of two that brings it under."""
    k = 1
    while n > k * max_points:
        k *= 2
    return k


def peak_buckets(x: np.ndarray, y: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each bucket of ``k`` points (``len(y)`` a multiple of ``k``) -> its lowest and highest finite
    value, in their order (a spike stays a spike); buckets without a finite value are left out."""
    yb = y.reshape(-1, k)
    xb = x.reshape(-1, k)
    finite = np.isfinite(yb)
    lo = np.where(finite, yb, np.inf).argmin(axis=1)
    hi = np.where(finite, yb, -np.inf).argmax(axis=1)
    rows = np.flatnonzero(finite.any(axis=1))
    first = np.minimum(lo, hi)[rows]
    second = np.maximum(lo, hi)[rows]
    xs = np.empty(2 * len(rows))
    ys = np.empty(2 * len(rows))
    xs[0::2], xs[1::2] = xb[rows, first], xb[rows, second]
    ys[0::2], ys[1::2] = yb[rows, first], yb[rows, second]
    return xs, ys


def _finite(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ok = np.isfinite(y)
    return (x, y) if ok.all() else (x[ok], y[ok])


def stride_sample(x: np.ndarray, y: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Every ``k``-th finite point and always the last one (the curve ends where training is)."""
    if k > 1 and len(y) > 2:
        idx = np.arange(0, len(y), k)
        if idx[-1] != len(y) - 1:
            idx = np.append(idx, len(y) - 1)
        x, y = x[idx], y[idx]
    return _finite(x, y)


class _PeakCache:
    """The peak buckets of one curve, computed once per full bucket (recomputed when ``k`` doubles)."""

    def __init__(self):
        self.k = 0
        self.done = 0                   # points already in full buckets
        self.xs: list[np.ndarray] = []
        self.ys: list[np.ndarray] = []

    def series(self, x: np.ndarray, y: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        if k <= 1:
            return _finite(x, y)
        if k != self.k:
            self.__init__()
            self.k = k
        full = (len(y) // k) * k
        if full > self.done:
            bx, by = peak_buckets(x[self.done:full], y[self.done:full], k)
            self.xs.append(bx)
            self.ys.append(by)
            if len(self.xs) > 64:                 # keep the concatenation below cheap
                self.xs, self.ys = [np.concatenate(self.xs)], [np.concatenate(self.ys)]
            self.done = full
        tx, ty = _finite(x[full:], y[full:])
        return np.concatenate([*self.xs, tx]), np.concatenate([*self.ys, ty])


class CurvesModel:
    """The curves of one run, grown from the controller's history (``batches``: a ``BatchLog``)."""

    def __init__(self, max_points: int = MAX_POINTS, smooth_points: int = SMOOTH_POINTS):
        self.max_points = max_points
        self.smooth_points = smooth_points
        self.reset()

    def reset(self) -> None:
        self._n = 0
        self.x = self.loss = self.acc = np.zeros(0)
        self._smooth = {"loss": np.zeros(1024), "acc": np.zeros(1024)}
        self._ema: dict[str, _Ema] = {}
        self._smooth_top = -math.inf
        self._peaks = {"loss": _PeakCache(), "acc": _PeakCache()}

    @property
    def smoothed_loss(self) -> np.ndarray:
        return self._smooth["loss"][:self._n]

    @property
    def smoothed_acc(self) -> np.ndarray:
        return self._smooth["acc"][:self._n]

    def grow(self, batches) -> bool:
        """Take the batches that arrived since the last call (O(new)); True when there were any."""
        n = len(batches)
        if n < self._n:                             # a new run: start over
            self.reset()
        n0 = self._n
        if n == n0:
            return False
        self.x = batches.column("epoch_progress")
        self.loss = batches.column("loss")
        self.acc = batches.column("accuracy")
        if not self._ema:
            alpha = smoothing_alpha(int(batches.column("batches_per_epoch")[0]))
            self._ema = {"loss": _Ema(alpha), "acc": _Ema(alpha)}
        for name, values in (("loss", self.loss), ("acc", self.acc)):
            buf = self._smooth[name]
            if len(buf) < n:
                grown = np.empty(max(n, 2 * len(buf)))
                grown[:n0] = buf[:n0]
                self._smooth[name] = buf = grown
            self._ema[name].run(values[n0:n], buf[n0:n])
        new = self._smooth["loss"][n0:n]
        new = new[np.isfinite(new)]
        if len(new):
            self._smooth_top = max(self._smooth_top, float(new.max()))
        self._n = n
        return True

    @property
    def stride(self) -> int:
        return stride_for(self._n, self.max_points // 2)     # raw: two points (min, max) per bucket

    def series(self, epochs) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """The arrays the plots show (x in epochs, only finite values, at most ``max_points`` each)."""
        k = self.stride
        ks = stride_for(self._n, self.smooth_points)
        out = {"loss_raw": self._peaks["loss"].series(self.x, self.loss, k),
               "acc_raw": self._peaks["acc"].series(self.x, self.acc, k),
               "loss_smooth": stride_sample(self.x, self.smoothed_loss, ks),
               "acc_smooth": stride_sample(self.x, self.smoothed_acc, ks)}
        ex = np.array([e.epoch + 1 for e in epochs], float)
        for name, attr in (("loss_val", "val_loss"), ("acc_val", "val_accuracy")):
            ey = np.array([np.nan if getattr(e, attr) is None else getattr(e, attr) for e in epochs], float)
            out[name] = _finite(ex, ey)
        return out

    def x_max(self) -> float:
        """The x range's end: whole epochs, at least one."""
        return max(1.0, float(np.ceil(self.x[-1] - 1e-9))) if len(self.x) else 1.0

    def loss_extent(self, epochs, log: bool) -> tuple[float, float]:
        """What the loss axis must show: whole decades (log10) on a log axis; else 0 to the 99th
        percentile of the batches (a single wild batch must not squash the curve) or the smoothed
        curve's top, whichever is higher (the view rounds it up to a nice value)."""
        k = stride_for(self._n, 4 * self.max_points)            # a plain sample: no bias towards peaks
        raw = self.loss[::k]
        vals = np.concatenate([raw[np.isfinite(raw)],
                               [e.val_loss for e in epochs if e.val_loss is not None and np.isfinite(e.val_loss)]])
        if log:
            pos = vals[vals > 0]
            lo = float(np.floor(np.log10(pos.min()))) if len(pos) else -3.0
            hi = float(np.ceil(np.log10(pos.max()))) if len(pos) else 1.0
            return (lo, max(hi, lo + 1))
        top = float(np.percentile(vals, 99)) if len(vals) else 1.0
        return (0.0, max(top, self._smooth_top))       # the smoothed start stays on screen
