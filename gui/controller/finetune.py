"""Fine-tune the model for a few steps on the user's own examples (part of the ``TrainingController``).

The job runs on the training thread (the worker runs jobs one at a time, so it never overlaps a
training run) and works on a copy of the model made in the GUI thread when it was asked for. The
result comes back to :class:`FineTuner` (a QObject living in the GUI thread); only there, and only
if no training started meanwhile and the model is still the same, are the new weights written into
the window's model.
"""

from __future__ import annotations

import threading
import traceback
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from engine.datasets.user_examples import fine_tune
from engine.pixels import to_float32
from engine.shapes import format_shape
from gui.controller.options import make_optimizer
from gui.i18n import tr, tr_error

FINE_TUNE_STEPS = 30


@dataclass(frozen=True)
class FineTuneResult:
    """Probabilities of the probe image ``before`` and ``after`` (``(K,)``), the new ``weights`` (None when
    it failed or was stopped), ``losses`` per step, the ``label`` taught, and ``error`` ('' when it worked)."""

    ticket: int
    label: int
    before: np.ndarray
    after: np.ndarray
    weights: list | None
    losses: tuple
    stopped: bool = False
    error: str = ""


@dataclass
class FineTuneJob:
    """A fine-tune request for the worker. ``run()`` never raises: failures come back in the result."""

    ticket: int
    model: Any                      # a copy: the job owns it
    optimizer: Any
    examples_x: np.ndarray          # uint8 (N, C, H, W)
    examples_y: np.ndarray          # int64 (N,)
    x_train: np.ndarray
    y_train: np.ndarray
    probe: np.ndarray               # (C, H, W) the image whose answer is shown before and after
    label: int
    steps: int = FINE_TUNE_STEPS
    batch_size: int = 32
    seed: int = 0
    kind: str = "finetune"
    run_id: int = -1                # never a training run's id
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> FineTuneResult:
        probe = to_float32(self.probe)[None]
        before = np.asarray(self.model.predict_proba(probe)[0], dtype=np.float32)
        try:
            report = fine_tune(self.model, self.optimizer, self.examples_x, self.examples_y, self.x_train,
                               self.y_train, steps=self.steps, batch_size=self.batch_size, seed=self.seed,
                               should_stop=self.stop.is_set)
        except Exception as exc:  # noqa: BLE001 - reported to the user as a message
            traceback.print_exc()
            return FineTuneResult(self.ticket, self.label, before, before, None, (), error=tr_error(exc))
        after = np.asarray(self.model.predict_proba(probe)[0], dtype=np.float32)
        weights = None if report.stopped else self.model.get_weights()
        return FineTuneResult(self.ticket, self.label, before, after, weights, report.losses, report.stopped)


class FineTuner(QObject):
    """The controller's fine-tuning: ``controller.fine_tuner.request(...)``; ``finished(FineTuneResult)``."""

    finished = Signal(object)       # FineTuneResult (its weights are already in the window's model)
    started = Signal()

    def __init__(self, controller):
        super().__init__(controller)
        self.controller = controller
        self._job: FineTuneJob | None = None
        self._ticket = 0
        self._model = None
        controller.worker.fine_tuned.connect(self._on_done)

    @property
    def running(self) -> bool:
        return self._job is not None

    def request(self, probe: np.ndarray, examples_x: np.ndarray, examples_y: np.ndarray, label: int,
                steps: int = FINE_TUNE_STEPS) -> bool:
        """Fine-tune on the examples mixed with the dataset; False (and a message) when it cannot start now."""
        c = self.controller
        if c.is_training or self.running:
            c._error(tr("Fine-tuning waits until training is paused or stopped: press Pause or Stop, then "
                        "Fine-tune again."))
            return False
        if c.model is None or c.dataset is None:
            c._error(tr("Choose a dataset and a model first."))
            return False
        if len(examples_x) == 0:
            c._error(tr("Add at least one example first ('This is a ...', then 'Add to my examples')."))
            return False
        if tuple(examples_x.shape[1:]) != tuple(c.model.input_shape):
            c._error(tr("Your examples are {got} images but the model takes {need}.").format(
                got=format_shape(tuple(examples_x.shape[1:])), need=format_shape(tuple(c.model.input_shape))))
            return False
        self._ticket += 1
        options = c.options
        self._model = c.model
        self._job = FineTuneJob(self._ticket, c.model.clone(), make_optimizer(options), examples_x, examples_y,
                                c.dataset.x_train, c.dataset.y_train, np.asarray(probe), int(label), int(steps),
                                int(options["batch_size"]), int(options["seed"]))
        if not c._thread.isRunning():
            c._thread.start()
        c.worker.queued()
        c._job_requested.emit(self._job)
        c.status_message.emit(tr("Fine-tuning on your {n} examples for {steps} steps...").format(
            n=len(examples_x), steps=int(steps)))
        self.started.emit()
        return True

    def stop(self) -> None:
        if self._job is not None:
            self._job.stop.set()

    @Slot(object, int)
    def _on_done(self, result: FineTuneResult, ticket: int) -> None:
        if self._job is None or ticket != self._job.ticket:
            return
        self._job = None
        c = self.controller
        model, self._model = self._model, None
        if result.error:
            c._error(tr("Fine-tuning stopped because of an error: {}").format(result.error))
        elif result.weights is None:
            c.status_message.emit(tr("Fine-tuning stopped; the model was not changed."))
        elif c.is_training or c.model is not model:
            # training started or another model came meanwhile: these weights belong to nothing now
            result = FineTuneResult(result.ticket, result.label, result.before, result.before, None, result.losses,
                                    True, tr("The model changed while fine-tuning; nothing was changed."))
            c._error(result.error)
        else:
            model.set_weights(result.weights)
            c._forget_model_copy()
            c._forget_evaluations()
            c.refresh_inspection()
            c.status_message.emit(tr("Fine-tuned for {steps} steps (loss {first:.3f} -> {last:.3f}).").format(
                steps=len(result.losses), first=result.losses[0], last=result.losses[-1]))
        self.finished.emit(result)
