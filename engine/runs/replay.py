"""A stored run's timeline, read back for scrubbing: the same questions a live timeline answers.

::

    replay = RunReplay(store, run_id)          # moments (without full weights) and epoch records
    replay.history.steps                       # the kept steps, as recorded
    ins = replay.inspection_at(16)             # engine Inspection of the probe image at step 16
    batches, epochs = replay.metrics()         # BatchMetrics / EpochMetrics, as the run reported them

An inspection is built on demand from the moment's stored full weights (one inference forward of the
probe image), then given the moment's own recorded arrays (input, layer outputs, probabilities), so a
reopened run shows exactly what was recorded. The last few are cached (scrubbing back and forth).

Runs written before moments kept their full weights: the moment's conv filters are exact, the other
layers come from the nearest epoch checkpoint at or before it (classification at such a moment is then
an approximation; feature maps and probabilities are still the recorded ones).
"""

from __future__ import annotations

import threading
import warnings
from collections import OrderedDict
from dataclasses import replace

import numpy as np

from engine.network import Sequential
from engine.runs.history import RunHistory
from engine.training import BatchMetrics, EpochMetrics

__all__ = ["RunReplay", "stored_metrics"]

CACHED_INSPECTIONS = 16
SPEED_WINDOW = 21         # batches whose median time gives a reopened run's images per second


def stored_metrics(store, run_id: int, learning_rate: float = 0.0, batch_size: int = 0) -> tuple[list, list]:
    """The run's per-batch and per-epoch metrics as the ``BatchMetrics`` / ``EpochMetrics`` the trainer
    reported (epochs from the store count from 1; ``EpochMetrics.epoch`` counts from 0 like the trainer's).
    ``confusion`` comes from the epoch checkpoints; ``images_per_second`` is ``batch_size`` over the
    stored time between batches (the median of the last :data:`SPEED_WINDOW`: the batch that ends an
    epoch also holds the validation pass), 0 without a batch size."""
    b = store.batch_metrics(run_id)
    epochs = store.epoch_metrics(run_id)
    per_epoch = None
    for row in epochs:
        if row["epoch"] >= 1 and row["step"]:
            per_epoch = int(round(row["step"] / row["epoch"]))
            break
    if per_epoch is None and len(b["step"]):
        # within the first epoch the position is step / batches_per_epoch
        i = int(np.argmax(b["epoch"] > 0))
        per_epoch = max(1, int(round(b["step"][i] / b["epoch"][i]))) if b["epoch"][i] > 0 else 1
    batches = []
    seconds = _batch_seconds(b["step"], b["elapsed"])
    for step, loss, acc, dt in zip(b["step"], b["loss"], b["accuracy"], seconds, strict=True):
        done = int(step) - 1                      # the store keeps finished batches; BatchMetrics.step counts from 0
        speed = float(batch_size / dt) if batch_size and np.isfinite(dt) and dt > 0 else 0.0
        batches.append(BatchMetrics(epoch=done // per_epoch, batch=done % per_epoch, batches_per_epoch=per_epoch,
                                    loss=float(loss), accuracy=float(acc), images_per_second=speed, step=done,
                                    learning_rate=float(learning_rate)))
    kept = set(store.checkpoint_epochs(run_id))
    out = []
    for row in epochs:
        confusion = store.checkpoint(run_id, row["epoch"]).confusion if row["epoch"] in kept else None
        out.append(EpochMetrics(epoch=int(row["epoch"]) - 1, loss=row["loss"], accuracy=row["accuracy"],
                                val_loss=row["val_loss"], val_accuracy=row["val_accuracy"],
                                confusion=confusion, seconds=row["seconds"] or 0.0))
    return batches, out


def _batch_seconds(steps: np.ndarray, elapsed: np.ndarray) -> np.ndarray:
    """Seconds per batch at each stored batch: the median over the last ``SPEED_WINDOW`` batches."""
    if len(steps) == 0:
        return np.zeros(0)
    dt = np.diff(elapsed, prepend=np.nan) / np.maximum(np.diff(steps, prepend=0), 1)
    padded = np.concatenate([np.full(SPEED_WINDOW - 1, np.nan), dt])
    windows = np.lib.stride_tricks.sliding_window_view(padded, SPEED_WINDOW)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)          # all-NaN first window
        return np.nanmedian(windows, axis=1)


class RunReplay:
    """The timeline of stored run ``run_id``: ``history`` (a :class:`RunHistory` holding every kept
    moment and epoch end, epoch 0 left out as in a live run), ``probe`` (the recorded probe image
    ``(C, H, W)``), ``inspection_at(step)``.

    Reads its files with ``store`` (use it on the thread that opened the store).
    """

    def __init__(self, store, run_id: int, seed: int = 0):
        self.store = store
        self.run_id = int(run_id)
        self.info = store.run(run_id)
        loaded = store.load_history(run_id)
        history = RunHistory(max_moments=max(2, len(loaded)))
        for moment in loaded.moments():
            history.add_moment(moment)
        for epoch in loaded.epochs():
            if epoch >= 1:
                record = loaded.epoch_record(epoch)
                history.record_epoch(epoch, record.step, record.weights, record.confusion)
        self._checkpoints = {e: loaded.epoch_record(e) for e in loaded.epochs()}
        self.history = history
        first = history.moments()[0] if len(history) else None
        self.probe = None if first is None or not first.activations else first.activations[0]
        self._model = Sequential.from_config(self.info.architecture, seed=seed)
        self._cache: OrderedDict[int, object] = OrderedDict()
        self._lock = threading.Lock()

    def weights_at(self, step: int) -> tuple:
        """The full weights at kept step ``step``: stored with the moment, else rebuilt (see module doc)."""
        stored = self.store.load_moment_weights(self.run_id, step)
        if stored is not None:
            return stored
        at_or_before = [r for r in self._checkpoints.values() if r.step <= step and r.weights]
        if not at_or_before:
            return tuple(self._model.get_weights())
        base = max(at_or_before, key=lambda r: r.step)
        moment = self.history.at(step)
        weights = []
        for layer, w in zip(self._model.layers, base.weights, strict=False):
            w = dict(w)
            if moment is not None and layer.name in moment.filters:
                w["W"] = moment.filters[layer.name]
            weights.append(w)
        return tuple(weights)

    def inspection_at(self, step: int):
        """The engine :class:`~engine.inspection.Inspection` of the probe at kept step ``step`` (None when
        the step was not kept). Its input, layer outputs and probabilities are the recorded arrays."""
        step = int(step)
        with self._lock:
            if step in self._cache:
                self._cache.move_to_end(step)
                return self._cache[step]
        moment = self.history.at(step)
        if moment is None or moment.step != step or not moment.activations:
            return None
        self._model.set_weights(list(self.weights_at(step)))
        with np.errstate(over="ignore", invalid="ignore"):
            ins = self._model.inspect(moment.activations[0])
        ins = replace(ins, input=moment.activations[0], outputs=tuple(moment.activations[1:]),
                      probabilities=ins.probabilities if moment.probabilities is None else moment.probabilities)
        with self._lock:
            self._cache[step] = ins
            while len(self._cache) > CACHED_INSPECTIONS:
                self._cache.popitem(last=False)
        return ins

    def metrics(self, learning_rate: float = 0.0, batch_size: int = 0) -> tuple[list, list]:
        """:func:`stored_metrics` of this run."""
        return stored_metrics(self.store, self.run_id, learning_rate, batch_size)
