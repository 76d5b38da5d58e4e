"""What backward mode runs on: a model copy, a real image, its class and a read-only optimizer copy (no Qt).

The picture follows the theater's input choice: a training/validation sample (or the sample under a
feature map) with its label; a dropped or drawn image with the class the model predicts; for a
hand-made grid (which the model cannot read) the controller's selected sample.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from engine.pixels import to_float32
from gui.i18n import tr
from gui.theater import sources as src


@dataclass
class BackwardSource:
    model: object
    x: np.ndarray
    label: int
    optimizer: object | None
    optimizer_note: str


def _picture(sources, controller) -> tuple[np.ndarray | None, int | None]:
    s = sources
    ds = s.dataset
    if s.input_kind in (src.INPUT_TRAIN, src.INPUT_VAL, src.INPUT_FMAP) and ds is not None:
        xs, ys = (ds.x_train, ds.y_train) if s.input_kind == src.INPUT_TRAIN else (ds.x_test, ds.y_test)
        if len(xs):
            k = min(s.sample_index, len(xs) - 1)
            return to_float32(xs[k]), int(ys[k])
    if s.input_kind == src.INPUT_DROPPED and s.dropped is not None:
        return np.asarray(s.dropped, np.float32), None
    sample = getattr(controller, "sample", None)
    if sample is not None:
        return np.asarray(sample.x, np.float32), sample.label
    if ds is not None and len(ds.x_test):
        return to_float32(ds.x_test[0]), int(ds.y_test[0])
    return None, None


def _optimizer_factory(controller):
    """A function making a fresh optimizer of the controller's settings (its next run's), or None."""
    options = getattr(controller, "options", None)
    if options is None:
        return None
    from gui.controller.options import make_optimizer

    return lambda: make_optimizer(options)


def backward_source(sources, controller) -> BackwardSource | None:
    """The inputs of :meth:`BackwardStageModel.set_source`, or None without a model."""
    training = bool(controller is not None and controller.is_training)
    if controller is not None and not training:
        model = controller.current_model_copy()         # the latest weights between runs
    else:
        model = sources.model       # while training: the theater's private copy, following the inspections
    # a clone of our own: the engine overwrites the layer caches, and the controller's copy is shared
    model = None if model is None else model.clone()
    if model is None:
        return None
    x, label = _picture(sources, controller)
    if x is not None and label is None and tuple(x.shape) == tuple(model.input_shape):
        label = int(np.argmax(model.logits(x[None])[0]))     # no label: the class the model reads
    optimizer, note = None, ""
    if controller is not None:
        trainer = getattr(controller, "trainer", None)
        make = _optimizer_factory(controller)
        if training:
            note = tr("While training runs, the optimizer's memory changes with every batch (pause to see it)")
            optimizer = make() if make is not None else None
        elif trainer is not None and getattr(trainer, "optimizer", None) is not None:
            optimizer = copy.deepcopy(trainer.optimizer)    # read only: its state over this model's weights
        elif make is not None:
            optimizer = make()
    return BackwardSource(model, x, 0 if label is None else int(label), optimizer, note)
