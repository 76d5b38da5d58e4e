"""Model copies, classification and validation-set evaluation (part of the ``TrainingController``).

The trainer changes the model's arrays in place while it runs, so everything here works on copies:
one cached copy for the GUI thread (classify, inspection when idle), a fresh one per helper thread
(layers keep per-call caches, so two threads never share a model object).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Slot

from engine.pixels import to_float32
from gui.controller.jobs import ModelJobs
from gui.controller.values import ClassPredictions
from gui.i18n import tr, tr_error


class EvaluationRequests:
    """Copies of the model and the background evaluations of the validation set."""

    def _init_evaluation(self) -> None:
        self._model_copy: tuple | None = None        # (key, model copy for the GUI thread)
        self._class_predictions: dict = {}
        self.latest_evaluation = None                # (key, EvalResult)
        self._model_jobs = ModelJobs(self)
        self._model_jobs.done.connect(self._on_evaluation_done)

    def _close_evaluation(self, timeout: float) -> None:
        self._model_jobs.close(timeout)

    def _forget_evaluations(self) -> None:
        self.latest_evaluation = None
        self._class_predictions = {}

    def _forget_model_copy(self) -> None:
        self._model_copy = None

    def current_model_copy(self):
        """An independent copy of the model with the latest consistent weights (cached).

        While training runs the copy holds the weights of the latest snapshot (copied between two
        batches), never the arrays the trainer is changing.
        """
        if self.model is None:
            return None
        snap = self.latest_snapshot if self.is_training else None
        key = (id(self.model), None if snap is None else id(snap))
        if self._model_copy is not None and self._model_copy[0] == key:
            return self._model_copy[1]
        copy = self.model.clone()
        if snap is not None:
            copy.set_weights(snap.weights)
        self._model_copy = (key, copy)
        return copy

    def classify(self, array) -> np.ndarray:
        """Class probabilities ``(K,)`` of one image ``(C, H, W)`` (float32 in [0,1] or uint8), on a copy."""
        model = self.current_model_copy()
        if model is None:
            raise RuntimeError("no model")
        return np.asarray(model.predict_proba(to_float32(array)[None]), dtype=np.float32)[0]

    def evaluation_key(self):
        snap = self.latest_snapshot
        return (id(self.model), len(self.history.epochs), 0 if snap is None else snap.step)

    def request_evaluation(self) -> bool:
        """Evaluate the validation set on a copy of the weights on a helper thread; ``evaluation_ready``
        follows. False when nothing could start (no data or kernels yet); the newest request waits."""
        if self.model is None or self.dataset is None or self._shut_down or not self.kernels_warm:
            return False
        key = ("all", self.evaluation_key())
        if self.latest_evaluation is not None and self.latest_evaluation[0] == key:
            self.evaluation_ready.emit(self.latest_evaluation[1])
            return True
        x, y = self.dataset.x_test, self.dataset.y_test
        self._model_jobs.submit(key, lambda model: model.evaluate(x, y, batch_size=256), self._thread_copy())
        self.status_message.emit(tr("Evaluating the validation images..."))
        return True

    def request_class_predictions(self, true_class: int, epoch: int | None = None) -> bool:
        """Predict the validation images of one true class (a row of the confusion matrix): a tenth of
        the work of :meth:`request_evaluation`. With ``epoch`` (0-based) the weights of the end of that
        epoch are used, so the images match that epoch's matrix. ``predictions_ready`` follows."""
        if self.model is None or self.dataset is None or self._shut_down or not self.kernels_warm:
            return False
        weights = self.epoch_end_weights.get(epoch) if epoch is not None else None
        key = ("class", int(true_class), ("epoch", epoch) if weights is not None else self.evaluation_key())
        cached = self._class_predictions.get(key)
        if cached is not None:
            self.predictions_ready.emit(cached)
            return True
        indices = np.flatnonzero(np.asarray(self.dataset.y_test) == int(true_class))
        x = self.dataset.x_test[indices]

        def job(model):
            if not len(x):
                return ClassPredictions(int(true_class), indices, np.zeros(0, np.int64),
                                        np.zeros((0, int(model.num_classes)), np.float32))
            probs = np.asarray(model.predict_proba(x), dtype=np.float32)
            return ClassPredictions(int(true_class), indices, probs.argmax(axis=1), probs)

        model = self._thread_copy()
        if weights is not None:
            model.set_weights(weights)
        self._model_jobs.submit(key, job, model)
        return True

    def _thread_copy(self):
        """A model copy for a helper thread alone."""
        return self.current_model_copy().clone()

    @Slot(object, object)
    def _on_evaluation_done(self, key, result) -> None:
        waiting = self._model_jobs.next_waiting()
        if waiting is not None:
            self._model_jobs.submit(*waiting)
        if self._shut_down:
            return
        if isinstance(result, Exception):
            self._error(tr("Could not evaluate the validation images: {}").format(tr_error(result)))
            return
        if key[0] == "class":
            if len(self._class_predictions) > 64:
                self._class_predictions.clear()
            self._class_predictions[key] = result
            self.predictions_ready.emit(result)
            return
        self.latest_evaluation = (key, result)
        self.status_message.emit(tr("Validation accuracy {:.1%} on {} images.").format(
            float(result.accuracy), len(result.predictions)))
        self.evaluation_ready.emit(result)
