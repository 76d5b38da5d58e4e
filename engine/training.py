"""Training loop: ``Trainer.step()`` and ``Trainer.run(...)`` with plain callbacks and a cooperative stop.

The engine offers hooks, not signals (Orange3's learner style): ``on_batch_end``, ``on_epoch_end``,
``on_snapshot`` (time-throttled at the source) and ``should_stop``. Every value handed to a callback
is an immutable dataclass or a copy, so the GUI may keep it while training continues.

Everything that decides the course of training lives in the trainer object: the shuffled order of
the current epoch, the position in it, the optimizer's moments, the dropout generators. So pausing
is just returning from :meth:`Trainer.run` (``"stopped"``) and resuming is calling it again, and a run
with the same seeds is bit-for-bit the same, paused or not.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from engine.errors import ShapeError
from engine.inspection import Inspection, inspect_model
from engine.layers import Dropout
from engine.losses import softmax_cross_entropy
from engine.optimizers import Adam
from engine.pixels import to_float32
from engine.updates import LayerGradientStats, layer_gradient_stats

if TYPE_CHECKING:                      # network.py imports this module (Sequential.fit); no circle at run time
    from engine.network import Sequential

__all__ = ["BatchMetrics", "EpochMetrics", "Trainer", "TrainingSnapshot", "VALIDATION_BATCH", "fit"]

#: images per validation batch at an epoch end; between batches the trainer reports progress and
#: lets other threads run
VALIDATION_BATCH = 500


@dataclass(frozen=True)
class BatchMetrics:
    """Metrics of one training step (``epoch`` and ``batch`` count from 0)."""

    epoch: int
    batch: int
    batches_per_epoch: int
    loss: float
    accuracy: float
    images_per_second: float
    step: int = 0
    learning_rate: float = 0.0

    @property
    def epoch_progress(self) -> float:
        """Position in epochs, e.g. ``1.5`` halfway through the second epoch (an x axis for curves)."""
        return self.epoch + (self.batch + 1) / max(self.batches_per_epoch, 1)


@dataclass(frozen=True)
class EpochMetrics:
    """Metrics of one finished epoch: training loss/accuracy averaged over its batches, validation
    metrics on the whole validation set (``None`` without one), ``confusion[true, predicted]``."""

    epoch: int
    loss: float
    accuracy: float
    val_loss: float | None
    val_accuracy: float | None
    confusion: np.ndarray | None
    seconds: float


@dataclass(frozen=True)
class TrainingSnapshot:
    """A frozen picture of training for the GUI: metrics plus one :class:`~engine.inspection.Inspection`.

    ``inspection`` is the sample seen through the model at step ``step`` (read-only copies: input,
    every layer's output, pre-activations, max-pool switches, logits, probabilities, weights).
    ``gradients[i]`` are copies of layer ``i``'s gradients of the last training batch (``{}`` for
    parameter-free layers). ``grad_stats`` has one :class:`~engine.updates.LayerGradientStats` per
    trainable layer with parameters, input to output: the last batch's gradient norm, the weight norm,
    and the norm of that step's update and its ratio to the weights (NaN before the first step).
    The properties below read the inspection (the older flat names).
    """

    step: int
    epoch: int
    batch: int
    metrics: BatchMetrics | None
    inspection: Inspection
    gradients: tuple[dict, ...]
    sample_label: int | None = None
    history: tuple[EpochMetrics, ...] = ()
    grad_stats: tuple[LayerGradientStats, ...] = ()

    @property
    def layer_names(self) -> tuple[str, ...]:
        return self.inspection.layer_names

    @property
    def activations(self) -> tuple[np.ndarray, ...]:
        """``activations[0]`` is the sample (float32 ``(C, H, W)``), ``activations[i + 1]`` layer ``i``'s output."""
        return self.inspection.activations

    @property
    def pre_activations(self) -> tuple[np.ndarray | None, ...]:
        return self.inspection.pre_activations

    @property
    def argmax(self) -> tuple[np.ndarray | None, ...]:
        """Max-pool switches per layer (``None`` for other layers)."""
        return self.inspection.pool_switches

    @property
    def weights(self) -> tuple[dict, ...]:
        return self.inspection.weights

    @property
    def probabilities(self) -> np.ndarray:
        return self.inspection.probabilities


class Trainer:
    """Trains a built :class:`~engine.network.Sequential` on in-memory arrays.

    Parameters
    ----------
    model : Sequential (built; an unbuilt model is built for the data's image shape)
    optimizer : an :mod:`engine.optimizers` optimizer
    x_train, x_val : uint8 ``(N, C, H, W)`` pixels (scaled by 1/255 per batch) or float32 in [0, 1]
    y_train, y_val : integer class ids
    batch_size, epochs : as in Keras (the last batch of an epoch may be smaller)
    seed : decides the shuffling and the dropout masks (the model's own seed decides its initial weights)
    """

    def __init__(self, model: Sequential, optimizer, x_train, y_train, x_val=None, y_val=None,
                 batch_size: int = 64, epochs: int = 5, seed: int = 0, shuffle: bool = True):
        x_train = np.asarray(x_train)
        y_train = np.asarray(y_train)
        if x_train.ndim != 4:
            raise ShapeError("train_images_not_4d", shape=x_train.shape)
        if not model.built:
            model.build(x_train.shape[1:], seed=seed)
        if tuple(x_train.shape[1:]) != tuple(model.input_shape):
            raise ShapeError("train_shape_mismatch", model_shape=tuple(model.input_shape),
                             data_shape=tuple(x_train.shape[1:]))
        if len(y_train) != len(x_train):
            raise ShapeError("train_label_count", images=len(x_train), labels=len(y_train))
        if len(x_train) == 0:
            raise ShapeError("empty_training_set")
        k = model.num_classes
        if k is None:
            raise ShapeError("model_not_classifier")
        top = int(max(y_train.max(), np.asarray(y_val).max() if y_val is not None and len(y_val) else 0))
        if y_train.min() < 0 or top >= k:
            raise ShapeError("labels_exceed_outputs", top=top, classes=top + 1, outputs=k)
        if isinstance(batch_size, bool) or int(batch_size) < 1:
            raise ShapeError("batch_size_too_small", value=batch_size)
        if int(epochs) < 0:
            raise ShapeError("epochs_negative", value=epochs)
        self.model = model
        self.optimizer = optimizer
        self.x_train, self.y_train = x_train, y_train.astype(np.int64, copy=False)
        self.x_val = None if x_val is None else np.asarray(x_val)
        self.y_val = None if y_val is None else np.asarray(y_val, np.int64)
        self.batch_size = int(batch_size)
        self.epochs = int(epochs)
        self.seed = seed
        self.shuffle = bool(shuffle)
        self._rng = np.random.default_rng(seed)
        for i, layer in enumerate(model.layers):
            if isinstance(layer, Dropout):
                layer.rng = np.random.default_rng([int(seed or 0), i])

        self.epoch = 0  # epochs completed
        self.batch = 0  # batches completed in the current epoch
        self.step_count = 0
        self.history: list[EpochMetrics] = []
        self.on_validation_progress = None     # set by run(); step() reports through it at epoch ends
        self.diverged = False
        self.last_metrics: BatchMetrics | None = None
        self._perm: np.ndarray | None = None
        self._epoch_loss = 0.0
        self._epoch_correct = 0
        self._epoch_seen = 0
        self._epoch_seconds = 0.0
        self._dt_ema: float | None = None
        self._ended: EpochMetrics | None = None
        # Reused every step: the batch in model precision and its labels.
        self._xbuf = np.empty((self.batch_size, *x_train.shape[1:]), np.float32)
        self._ybuf = np.empty(self.batch_size, np.int64)
        self._good = model.get_flat_weights()
        self._good_is_before_step = False   # True once _good holds the weights from before the last update
        if self.x_val is not None and len(self.x_val):
            self.default_sample, self.default_label = self.x_val[0], int(self.y_val[0])
        else:
            self.default_sample, self.default_label = x_train[0], int(self.y_train[0])

    # ---------------------------------------------------------------------------------------
    @property
    def batches_per_epoch(self) -> int:
        return math.ceil(len(self.x_train) / self.batch_size)

    @property
    def done(self) -> bool:
        return self.diverged or self.epoch >= self.epochs

    @property
    def progress(self) -> float:
        """Fraction of the planned training already done, in [0, 1]."""
        total = self.epochs * self.batches_per_epoch
        return 1.0 if total == 0 else min(1.0, (self.epoch * self.batches_per_epoch + self.batch) / total)

    def _load_batch(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = len(idx)
        xb = self._xbuf[:n]
        to_float32(self.x_train[idx], out=xb)
        yb = self._ybuf[:n]
        np.take(self.y_train, idx, out=yb)
        return xb, yb

    def step(self) -> BatchMetrics | None:
        """Train on the next batch; returns its metrics (``None`` when training is already done).

        A non-finite loss restores the weights of the last finite step, resets the optimizer's
        moments and marks the trainer ``diverged``.
        """
        if self.done:
            return None
        t0 = time.perf_counter()
        model = self.model
        if self._perm is None:
            n = len(self.x_train)
            self._perm = self._rng.permutation(n) if self.shuffle else np.arange(n)
        start = self.batch * self.batch_size
        idx = self._perm[start:start + self.batch_size]
        xb, yb = self._load_batch(idx)

        with np.errstate(over="ignore", invalid="ignore"):  # a diverging run is handled just below
            logits = model.logits(xb, training=True)
            loss, dlogits = softmax_cross_entropy(logits, yb)
        if not np.isfinite(loss):
            model.set_flat_weights(self._good)
            self._good_is_before_step = False
            self.optimizer.reset()
            self.diverged = True
            metrics = BatchMetrics(self.epoch, self.batch, self.batches_per_epoch, float(loss), float("nan"),
                                   0.0, self.step_count, self.optimizer.learning_rate)
            self.last_metrics = metrics
            return metrics
        np.copyto(self._good, model.flat_params)
        model.backward_from_logits(dlogits)
        model.apply_gradients(self.optimizer)
        self._good_is_before_step = True
        correct = int(np.count_nonzero(logits.argmax(axis=1) == yb))

        n = len(idx)
        dt = time.perf_counter() - t0
        self._dt_ema = dt if self._dt_ema is None else 0.9 * self._dt_ema + 0.1 * dt
        self._epoch_seconds += dt
        self._epoch_loss += loss * n
        self._epoch_correct += correct
        self._epoch_seen += n
        metrics = BatchMetrics(
            epoch=self.epoch,
            batch=self.batch,
            batches_per_epoch=self.batches_per_epoch,
            loss=float(loss),
            accuracy=correct / n,
            images_per_second=self.batch_size / self._dt_ema if self._dt_ema > 0 else 0.0,
            step=self.step_count,
            learning_rate=self.optimizer.learning_rate,
        )
        self.last_metrics = metrics
        self.batch += 1
        self.step_count += 1
        if self.batch >= self.batches_per_epoch:
            self._finish_epoch()
        return metrics

    def _finish_epoch(self) -> None:
        t0 = time.perf_counter()
        val_loss = val_acc = confusion = None
        if self.x_val is not None and len(self.x_val):
            result = self._validate()
            val_loss, val_acc, confusion = result.loss, result.accuracy, result.confusion
        seen = max(self._epoch_seen, 1)
        metrics = EpochMetrics(
            epoch=self.epoch,
            loss=self._epoch_loss / seen,
            accuracy=self._epoch_correct / seen,
            val_loss=val_loss,
            val_accuracy=val_acc,
            confusion=confusion,
            seconds=self._epoch_seconds + time.perf_counter() - t0,
        )
        self.history.append(metrics)
        self._ended = metrics
        self.epoch += 1
        self.batch = 0
        self._perm = None
        self._epoch_loss, self._epoch_correct, self._epoch_seen, self._epoch_seconds = 0.0, 0, 0, 0.0

    def _validate(self):
        """The validation set in batches of ``VALIDATION_BATCH`` images (the same batches, so the same
        numbers, as ``model.evaluate``). After each batch ``on_validation_progress(done, total)`` is
        called and the GIL is given up for a moment: a viewer's thread waiting for it runs at once
        instead of after the whole validation (MNIST's 10,000 images take about a second)."""
        steps = self.model.evaluate_steps(self.x_val, self.y_val, batch_size=VALIDATION_BATCH)
        total = len(self.x_val)
        report = getattr(self, "on_validation_progress", None)     # a trainer made before this attribute
        with np.errstate(over="ignore", invalid="ignore"):
            while True:
                try:
                    done = next(steps)
                except StopIteration as end:
                    return end.value
                if report is not None:
                    report(done, total)
                time.sleep(0)

    def run(self, on_batch_end=None, on_epoch_end=None, on_snapshot=None, should_stop=None,
            snapshot_interval: float = 0.25, snapshot_sample=None, on_validation_progress=None) -> str:
        """Train until the planned epochs are done, ``should_stop()`` is true, or the loss diverges.

        Returns ``"finished"``, ``"stopped"`` (call ``run`` again to resume exactly where it stopped)
        or ``"diverged"``. ``on_snapshot`` gets a :class:`TrainingSnapshot` at most every
        ``snapshot_interval`` seconds, at each epoch end and when the run returns. ``snapshot_sample``
        is the image snapshots show (default: the first validation image), or a callable returning
        ``(image, label)``, asked before each snapshot (a viewer may change its choice while training runs).
        ``on_validation_progress(done, total)`` is called after each batch of the validation at an
        epoch end (images done of the validation set's total).
        """
        self.on_validation_progress = on_validation_progress
        try:
            return self._run(on_batch_end, on_epoch_end, on_snapshot, should_stop, snapshot_interval,
                             snapshot_sample)
        finally:
            self.on_validation_progress = None

    def _run(self, on_batch_end, on_epoch_end, on_snapshot, should_stop, snapshot_interval, snapshot_sample) -> str:
        if callable(snapshot_sample):
            pick = snapshot_sample
        else:
            fixed = ((self.default_sample, self.default_label) if snapshot_sample is None
                     else (snapshot_sample, None))

            def pick():
                return fixed
        last_snap = -math.inf
        status = "finished"
        while not self.done:
            if should_stop is not None and should_stop():
                status = "stopped"
                break
            metrics = self.step()
            if self.diverged:
                if on_batch_end is not None:
                    on_batch_end(metrics)
                status = "diverged"
                break
            if on_batch_end is not None:
                on_batch_end(metrics)
            ended, self._ended = self._ended, None
            if ended is not None and on_epoch_end is not None:
                on_epoch_end(ended)
            now = time.perf_counter()
            if on_snapshot is not None and (ended is not None or now - last_snap >= snapshot_interval):
                on_snapshot(self.snapshot(*pick()))
                last_snap = time.perf_counter()
        if self.diverged:
            status = "diverged"
        if on_snapshot is not None:
            on_snapshot(self.snapshot(*pick()))
        return status

    def snapshot(self, sample=None, label: int | None = None) -> TrainingSnapshot:
        """Metrics, the last gradients and their per-layer sizes, and :meth:`Sequential.inspect` of one
        sample (all copies).

        Call it between steps (``run`` does): the inspection's forward pass reuses the layers' caches.
        """
        model = self.model
        if sample is None:
            sample, label = self.default_sample, self.default_label
        return TrainingSnapshot(
            step=self.step_count,
            epoch=self.epoch,
            batch=self.batch,
            metrics=self.last_metrics,
            inspection=inspect_model(model, sample),
            gradients=tuple({k: g.copy() for k, g in layer.grads.items()} for layer in model.layers),
            sample_label=label,
            history=tuple(self.history),
            grad_stats=self.gradient_stats(),
        )

    def gradient_stats(self) -> tuple[LayerGradientStats, ...]:
        """Per trainable layer: the last batch's gradient norm, weight norm, update norm and ratio.

        The weights before the last step are already here: ``step`` copies them into ``_good`` (to
        roll a diverging step back) before the optimizer writes. So the update costs no second copy
        per batch (``UpdateMonitor.before_step`` would make one); only this pass over the buffers,
        paid per snapshot.
        """
        stepped = self._good_is_before_step and self._good.shape == self.model.flat_params.shape
        rows = layer_gradient_stats(self.model, self._good if stepped else None)
        layers = self.model.layers
        return tuple(row for row in rows if layers[row.index].trainable)


def fit(model: Sequential, x, y, optimizer=None, epochs: int = 1, batch_size: int = 32, validation_data=None,
        seed: int = 0, **callbacks) -> list[EpochMetrics]:
    """Keras-style training in one call: a :class:`Trainer` run to the end; returns its history.

    ``callbacks`` are those of :meth:`Trainer.run` (``on_batch_end``, ``on_epoch_end``, ``on_snapshot``,
    ``should_stop``...). ``optimizer`` defaults to Keras's ``Adam()``.
    """
    x_val, y_val = validation_data if validation_data is not None else (None, None)
    trainer = Trainer(model, optimizer or Adam(), x, y, x_val, y_val, batch_size=batch_size, epochs=epochs,
                      seed=seed)
    trainer.run(**callbacks)
    return trainer.history
