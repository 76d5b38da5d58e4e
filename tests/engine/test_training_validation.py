"""Validation at an epoch end runs in batches that report progress and let other threads run, and gives
exactly the numbers of one ``model.evaluate`` call."""

import numpy as np

from engine.network import Sequential
from engine.optimizers import Adam
from engine.training import VALIDATION_BATCH, Trainer
from tests.engine.test_training import toy_data, toy_model


def _trainer(n_val, epochs=1):
    x, y = toy_data(n=200 + n_val, seed=3)
    return Trainer(toy_model(1), Adam(0.01), x[:200], y[:200], x[200:], y[200:], batch_size=50,
                   epochs=epochs, seed=2)


def test_sliced_validation_gives_exactly_the_metrics_of_one_evaluate_call():
    n_val = 2 * VALIDATION_BATCH + 123                  # two full batches and a partial one
    t = _trainer(n_val)
    progress = []
    assert t.run(on_validation_progress=lambda done, total: progress.append((done, total))) == "finished"
    (m,) = t.history
    # the weights did not change after the epoch's end: the same evaluation, in one call, must agree bit for bit
    with np.errstate(over="ignore", invalid="ignore"):
        whole = t.model.evaluate(t.x_val, t.y_val, batch_size=VALIDATION_BATCH)
    assert m.val_loss == whole.loss and m.val_accuracy == whole.accuracy
    assert np.array_equal(m.confusion, whole.confusion) and m.confusion.sum() == n_val
    assert progress == [(VALIDATION_BATCH, n_val), (2 * VALIDATION_BATCH, n_val), (n_val, n_val)]


def test_evaluate_steps_yields_images_done_and_returns_the_evaluate_result():
    t = _trainer(130)
    model: Sequential = t.model
    steps = model.evaluate_steps(t.x_val, t.y_val, batch_size=50)
    done = []
    while True:
        try:
            done.append(next(steps))
        except StopIteration as end:
            result = end.value
            break
    whole = model.evaluate(t.x_val, t.y_val, batch_size=50)
    assert done == [50, 100, 130]
    assert result.loss == whole.loss and result.accuracy == whole.accuracy
    assert np.array_equal(result.probabilities, whole.probabilities)
    assert np.array_equal(result.predictions, whole.predictions)


def test_a_trainer_without_a_validation_set_reports_no_progress():
    x, y = toy_data(n=64)
    t = Trainer(toy_model(), Adam(0.01), x, y, batch_size=32, epochs=1)
    calls = []
    t.run(on_validation_progress=lambda *a: calls.append(a))
    assert calls == [] and t.history[0].val_loss is None
    assert t.on_validation_progress is None          # the callback does not outlive the run
