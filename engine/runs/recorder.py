"""``RunRecorder``: plugs a :class:`RunHistory` and a :class:`RunWriter` into ``Trainer.run``'s callbacks.

::

    writer = store.start_run("hongong lr=0.001", "fashion_mnist", model.get_config(), settings)
    recorder = RunRecorder(trainer, probe=x_val[0], history=RunHistory(), writer=writer)
    recorder.start()                                  # step 0 moment + checkpoint 0 (skipped when continuing)
    status = trainer.run(on_batch_end=recorder.on_batch_end, on_epoch_end=recorder.on_epoch_end)
    recorder.finish(status)                           # "finished" | "stopped" | "diverged"

Both callbacks run on the training thread between steps; the values are computed there (one
inference forward of the probe at each kept step) and the writer thread does the disk work.
"""

from __future__ import annotations

import numpy as np

from engine.runs.files import Checkpoint, optimizer_state, restore_optimizer_state
from engine.runs.history import RunHistory, values_from_model

__all__ = ["RunRecorder", "resume_trainer"]


class RunRecorder:
    """Feeds the timeline and the store from a :class:`engine.training.Trainer`.

    ``history`` and ``writer`` are each optional (a GUI without a store still gets its timeline).
    ``probe`` is the fixed image ``(C, H, W)`` whose feature maps the timeline keeps (default: the
    trainer's first validation image).
    """

    def __init__(self, trainer, probe=None, history: RunHistory | None = None, writer=None):
        self.trainer = trainer
        self.probe = np.asarray(trainer.default_sample if probe is None else probe)
        self.history = history
        self.writer = writer

    def _record(self, step: int, epoch_position: float, loss=None, accuracy=None, force: bool = False) -> None:
        if self.history is None:
            return
        if not (force or self.history.wants(step)):
            return
        values = values_from_model(self.trainer.model, self.probe)
        moment = self.history.record_step(step, epoch_position, loss=loss, accuracy=accuracy, force=force, **values)
        if moment is not None and self.writer is not None:
            self.writer.moment(moment, self.trainer.model.get_weights())

    def start(self) -> None:
        """Keep the untrained model: the step-0 moment and (with a writer) checkpoint 0."""
        trainer = self.trainer
        self._record(trainer.step_count, trainer.step_count / max(trainer.batches_per_epoch, 1))
        if self.writer is not None and trainer.step_count == 0:
            self.writer.checkpoint(0, 0, trainer.model.get_weights(), optimizer_state(trainer.optimizer))

    def on_batch_end(self, metrics) -> None:
        if self.writer is not None and metrics is not None and np.isfinite(metrics.loss):
            self.writer.batch_metrics(metrics)
        if not self.trainer.diverged:
            self._record(metrics.step + 1, metrics.epoch_progress, metrics.loss, metrics.accuracy)

    def on_epoch_end(self, metrics) -> None:
        """``metrics``: an :class:`engine.training.EpochMetrics` (its ``epoch`` counts from 0)."""
        trainer = self.trainer
        epoch = metrics.epoch + 1
        step = trainer.step_count
        self._record(step, float(epoch), force=True)
        weights = trainer.model.get_weights()
        if self.history is not None:
            self.history.record_epoch(epoch, step, weights, metrics.confusion)
        if self.writer is not None:
            self.writer.epoch_end(epoch, step, metrics.loss, metrics.accuracy, metrics.val_loss, metrics.val_accuracy,
                                  metrics.seconds, weights=weights, optimizer=optimizer_state(trainer.optimizer),
                                  confusion=metrics.confusion)

    def finish(self, status: str) -> bool:
        """Close the writer with the run's final status; True when everything reached the disk."""
        return True if self.writer is None else self.writer.close(status)


def resume_trainer(trainer, checkpoint: Checkpoint) -> None:
    """Put ``trainer`` (built on the run's data and settings) at ``checkpoint``: weights, optimizer
    moments (when the optimizer class matches), completed epochs and steps."""
    trainer.model.set_weights(checkpoint.weights)
    trainer._good = trainer.model.get_flat_weights()  # the divergence fallback must be these weights too
    restore_optimizer_state(trainer.optimizer, checkpoint.optimizer)
    trainer.epoch = int(checkpoint.epoch)
    trainer.batch = 0
    trainer.step_count = int(checkpoint.step)
