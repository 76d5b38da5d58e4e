"""The training controller package: the GUI side of training.

- :mod:`~gui.controller.controller`: ``TrainingController`` (GUI-thread QObject: state, signals,
  training commands, worker reports), assembled with
- :mod:`~gui.controller.models` (datasets, presets, model files), :mod:`~gui.controller.sample` (the
  selected image and its inspection), :mod:`~gui.controller.evaluation` (model copies, classify,
  validation-set evaluation);
- :mod:`~gui.controller.worker`: ``TrainingWorker`` on the training ``QThread``;
- :mod:`~gui.controller.jobs`: helper-thread jobs (kernel warm-up, dataset loading, evaluations);
- :mod:`~gui.controller.values`: ``Sample``, ``Inspection``, ``ClassPredictions``, ``History``;
- :mod:`~gui.controller.options`: training options, optimizer/trainer factories, default presets.
"""

from gui.controller.controller import TrainingController
from gui.controller.options import DEFAULT_OPTIONS, STATES, default_preset_for
from gui.controller.values import ClassPredictions, History, Inspection, Sample
from gui.controller.worker import BATCH_EMIT_HZ, SNAPSHOT_INTERVAL, TrainingJob, TrainingWorker

__all__ = ["BATCH_EMIT_HZ", "DEFAULT_OPTIONS", "SNAPSHOT_INTERVAL", "STATES", "ClassPredictions", "History",
           "Inspection", "Sample", "TrainingController", "TrainingJob", "TrainingWorker", "default_preset_for"]
