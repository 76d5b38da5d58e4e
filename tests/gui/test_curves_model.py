"""The curves' widget-free model and the compact per-batch log: what the plots get, at any run length."""

from __future__ import annotations

import numpy as np
import pytest

from engine.training import BatchMetrics, EpochMetrics
from gui.controller.batch_log import BatchLog
from gui.widgets.curves_model import SMOOTH_POINTS, CurvesModel, ema, smoothing_alpha
from tests.headless import qt_modules_loaded_by

PER_EPOCH = 100


def batches(n, seed=0, start=0, spikes=()):
    rng = np.random.default_rng(seed)
    out = []
    for i in range(start, start + n):
        loss = float(2 * np.exp(-i / 2000) + 0.2 * rng.random())
        if i in spikes:
            loss = spikes[i]
        out.append(BatchMetrics(i // PER_EPOCH, i % PER_EPOCH, PER_EPOCH, loss, float(rng.random()), 1000.0, i, 0.01))
    return out


def log_of(metrics):
    log = BatchLog(capacity=8)
    log.extend(metrics)
    return log


def epochs(n):
    return [EpochMetrics(e, 0.5, 0.8, 0.4 + 0.01 * e, 0.9, None, 1.0) for e in range(n)]


def test_the_curves_model_imports_no_qt():
    # gui.controller's own __init__ imports the Qt controller: only its batch_log module is under test
    prelude = ("import sys; sys.modules['gui.controller'] = type(sys)('x'); "
               "sys.modules['gui.controller'].__path__ = ['gui/controller']\n")
    assert qt_modules_loaded_by("gui.widgets.curves_model", "gui.controller.batch_log", prelude=prelude) == []


# -- the batch log ---------------------------------------------------------------------------------

def test_the_batch_log_reads_like_the_list_of_batch_metrics_it_replaces():
    ms = batches(1000)
    log = log_of(ms)
    assert len(log) == 1000 and log == ms and list(log) == ms
    assert log[-1] == ms[-1] and log[0] == ms[0] and log[10:13] == ms[10:13]
    assert isinstance(log[5].step, int) and isinstance(log[5].loss, float)
    assert np.array_equal(log.column("epoch_progress"), [m.epoch_progress for m in ms])
    with pytest.raises(IndexError):
        log[1000]
    with pytest.raises(ValueError):
        log.column("loss")[0] = 1.0                    # the curves read views: nobody writes through them
    assert BatchLog() == [] and log != ms[:-1]


def test_a_batch_costs_about_72_bytes_instead_of_a_python_object():
    log = log_of(batches(10_000))
    assert log.nbytes <= 2 * 72 * 10_000              # capacity doubles: at most twice the rows


# -- the curves ------------------------------------------------------------------------------------

def test_a_short_run_shows_every_batch_and_its_moving_average():
    ms = batches(500)
    m = CurvesModel(max_points=1600)
    assert m.grow(log_of(ms)) and not m.grow(log_of(ms))   # nothing new: nothing to do
    d = m.series(epochs(5))
    loss = np.array([b.loss for b in ms])
    assert np.array_equal(d["loss_raw"][1], loss)
    assert np.array_equal(d["loss_raw"][0], [b.epoch_progress for b in ms])
    smooth = ema(loss, smoothing_alpha(PER_EPOCH))
    assert np.allclose(m.smoothed_loss, smooth)
    # the thick smoothed line: every 2nd value (500 batches > 400 points) and the last one
    assert np.allclose(d["loss_smooth"][1], np.append(smooth[::2], smooth[-1]))
    assert np.array_equal(d["loss_smooth"][0], np.append(d["loss_raw"][0][::2], ms[-1].epoch_progress))
    assert list(d["loss_val"][0]) == [1, 2, 3, 4, 5] and np.allclose(d["loss_val"][1], [0.4, 0.41, 0.42, 0.43, 0.44])


def test_a_long_run_is_capped_per_curve_and_keeps_its_spikes():
    spikes = {31_337: 9.5, 77_000: -0.5}
    ms = batches(120_000, spikes=spikes)
    m = CurvesModel(max_points=1600)
    m.grow(log_of(ms))
    d = m.series(epochs(1200))
    for key in ("loss_raw", "acc_raw", "loss_smooth", "acc_smooth"):
        x, y = d[key]
        assert len(x) == len(y) <= 1600 + 64, key
        assert np.all(np.diff(x) >= 0), key                 # still a curve from left to right
    for key in ("loss_smooth", "acc_smooth"):             # drawn with a thick pen: fewer points
        assert len(d[key][0]) <= SMOOTH_POINTS + 1, key
    x, y = d["loss_raw"]
    assert 9.5 in y and -0.5 in y                            # a wild batch stays visible
    assert x[-1] == ms[-1].epoch_progress and d["loss_smooth"][0][-1] == ms[-1].epoch_progress
    loss = np.array([b.loss for b in ms])
    assert y.max() == loss.max() and y.min() == loss.min()


def test_growing_in_pieces_gives_what_one_growth_gives():
    ms = batches(40_000, spikes={123: 7.0})
    whole = CurvesModel(max_points=800)
    whole.grow(log_of(ms))
    pieces = CurvesModel(max_points=800)
    log = BatchLog()
    for a in range(0, len(ms), 777):
        log.extend(ms[a:a + 777])
        pieces.grow(log)
        pieces.series([])                                   # the panel draws between pieces
    a, b = whole.series([]), pieces.series([])
    for key in a:
        assert np.allclose(a[key][0], b[key][0]) and np.allclose(a[key][1], b[key][1]), key


def test_a_diverged_batch_is_left_out_and_does_not_poison_the_average():
    ms = batches(300, spikes={150: float("nan"), 151: float("inf")})
    m = CurvesModel()
    m.grow(log_of(ms))
    d = m.series([EpochMetrics(0, 1.0, 0.5, None, None, None, 1.0)])
    assert len(d["loss_raw"][1]) == 298 and np.all(np.isfinite(d["loss_raw"][1]))
    assert np.all(np.isfinite(d["loss_smooth"][1])) and len(d["loss_val"][0]) == 0


def test_a_new_run_starts_the_curves_over():
    m = CurvesModel()
    m.grow(log_of(batches(300)))
    m.grow(log_of(batches(20, seed=5)))
    assert len(m.series([])["loss_raw"][0]) == 20


def test_the_loss_axis_ignores_one_wild_batch_but_shows_the_smoothed_start():
    ms = batches(5000, spikes={4000: 50.0})
    m = CurvesModel()
    m.grow(log_of(ms))
    lo, hi = m.loss_extent([], log=False)
    # the start (about 2.1) stays on screen; the spike only through its share of the moving average
    assert lo == 0 and 2.0 <= hi < 50 / 4 and hi == pytest.approx(m.smoothed_loss.max())
    lo, hi = m.loss_extent([], log=True)
    assert (lo, hi) == (-1.0, 2.0)                           # whole decades around 0.2 ... 50
    assert m.x_max() == 50.0
