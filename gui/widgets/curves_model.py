"""What the curves panel draws, without Qt: per-batch loss/accuracy (raw and smoothed), validation per
epoch, the axis ranges, and at most ``max_points`` points per curve.

A long run has hundreds of thousands of batches; a plot cannot show more than a few points per pixel
column, and painting them all is the GUI thread's largest cost while training. So the raw curves are
decimated the way pyqtgraph's ``'peak'`` downsampling does (each bucket of ``k`` batches becomes its
lowest and highest value, so spikes stay visible) and the smoothed curves keep every ``k``-th point.
``k`` is a power of two, so the shown points move only when ``k`` doubles, not at every redraw.
"""

from __future__ import annotations

import numpy as np

MAX_POINTS = 1600        # per curve: about two points per pixel column of a wide plot


def ema(values: np.ndarray, alpha: float) -> np.ndarray:
    """Exponential moving average with bias correction (like TensorBoard's smoothing)."""
    return extend_ema(np.zeros(0), values, alpha)


def extend_ema(done: np.ndarray, values: np.ndarray, alpha: float) -> np.ndarray:
    """``ema(values)`` when ``done`` already holds it for ``values[:len(done)]`` (O(new values))."""
    n0 = len(done)
    if n0 == len(values):
        return done
    # continue the running average: recover its un-normalised state from the last point
    weight = 1 - alpha ** n0 if n0 else 0.0
    acc = done[-1] * weight if n0 else 0.0
    out = np.empty(len(values), np.float64)
    out[:n0] = done
    for i in range(n0, len(values)):
        v = float(values[i])
        if np.isfinite(v):                        # a diverged batch (NaN) must not poison the average
            acc = alpha * acc + (1 - alpha) * v
            weight = alpha * weight + (1 - alpha)
        out[i] = acc / weight if weight > 0 else np.nan
    return out


def smoothing_alpha(batches_per_epoch: int) -> float:
    """About 1/50 of an epoch: smooth enough to read, short enough not to lag the raw batches."""
    return float(np.clip(1 - 1 / max(5.0, batches_per_epoch / 50), 0.6, 0.95))


def stride_for(n: int, max_points: int) -> int:
    """Batches per shown point: 1 while ``n`` fits, else the power of two that brings it under."""
    k = 1
    while n > k * max_points:
        k *= 2
    return k


def peak_decimate(x: np.ndarray, y: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each full bucket of ``k`` points -> its minimum and maximum in their order (a spike stays a
    spike); the partial last bucket is kept whole. ``y`` must be finite."""
    if k <= 1 or len(y) < 2 * k:
        return x, y
    full = (len(y) // k) * k
    yb = y[:full].reshape(-1, k)
    xb = x[:full].reshape(-1, k)
    lo = yb.argmin(axis=1)
    hi = yb.argmax(axis=1)
    first = np.minimum(lo, hi)
    second = np.maximum(lo, hi)
    rows = np.arange(len(yb))
    xs = np.empty(2 * len(yb))
    ys = np.empty(2 * len(yb))
    xs[0::2], xs[1::2] = xb[rows, first], xb[rows, second]
    ys[0::2], ys[1::2] = yb[rows, first], yb[rows, second]
    return np.concatenate([xs, x[full:]]), np.concatenate([ys, y[full:]])


def stride_sample(x: np.ndarray, y: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Every ``k``-th point and always the last one (the curve ends where training is)."""
    if k <= 1 or len(y) <= 2:
        return x, y
    idx = np.arange(0, len(y), k)
    if idx[-1] != len(y) - 1:
        idx = np.append(idx, len(y) - 1)
    return x[idx], y[idx]


class CurvesModel:
    """The curves of one run, grown from the controller's history (``batches``: a ``BatchLog``)."""

    def __init__(self, max_points: int = MAX_POINTS):
        self.max_points = max_points
        self.reset()

    def reset(self) -> None:
        self._n = 0
        self.x = self.loss = self.acc = np.zeros(0)
        self.smoothed_loss = self.smoothed_acc = np.zeros(0)

    def grow(self, batches) -> bool:
        """Take the batches that arrived since the last call (O(new)); True when there were any."""
        n = len(batches)
        if n < self._n:                             # a new run: start over
            self.reset()
        if n == self._n:
            return False
        self.x = batches.column("epoch_progress")
        self.loss = batches.column("loss")
        self.acc = batches.column("accuracy")
        alpha = smoothing_alpha(int(batches.column("batches_per_epoch")[-1]))
        self.smoothed_loss = extend_ema(self.smoothed_loss, self.loss, alpha)
        self.smoothed_acc = extend_ema(self.smoothed_acc, self.acc, alpha)
        self._n = n
        return True

    @property
    def stride(self) -> int:
        return stride_for(self._n, self.max_points // 2)     # raw: two points (min, max) per bucket

    def series(self, epochs) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """The arrays the plots show (x in epochs, only finite values, at most ``max_points`` each)."""
        k = self.stride
        out = {}
        for name, y in (("loss_raw", self.loss), ("acc_raw", self.acc)):
            ok = np.isfinite(y)
            out[name] = peak_decimate(self.x[ok], y[ok], k)
        for name, y in (("loss_smooth", self.smoothed_loss), ("acc_smooth", self.smoothed_acc)):
            ok = np.isfinite(y)
            out[name] = stride_sample(self.x[ok], y[ok], max(1, k // 2) if k > 1 else 1)
        ex = np.array([e.epoch + 1 for e in epochs], float)
        for name, attr in (("loss_val", "val_loss"), ("acc_val", "val_accuracy")):
            ey = np.array([np.nan if getattr(e, attr) is None else getattr(e, attr) for e in epochs], float)
            ok = np.isfinite(ey)
            out[name] = (ex[ok], ey[ok])
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
        smooth = self.smoothed_loss[np.isfinite(self.smoothed_loss)]
        if len(smooth):
            top = max(top, float(smooth.max()))      # the smoothed start stays on screen
        return (0.0, top)
