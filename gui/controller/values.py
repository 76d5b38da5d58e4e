"""Immutable values the controller hands to the panels (safe to keep: they hold copies)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine import inspection as engine_inspection
from gui.controller.batch_log import BatchLog


@dataclass(frozen=True)
class Sample:
    """The image the inspection panels show: a validation image, a dropped file or a drawing.

    ``x`` is float32 ``(C, H, W)`` in ``[0, 1]`` (what the network sees); ``original`` is the image as
    decoded before preprocessing (``(H, W)`` or ``(H, W, 3)`` uint8) or ``None``.
    """

    x: np.ndarray
    label: int | None = None
    source: str = "validation"         # "validation" | "file" | "drawing" | "clipboard"
    index: int | None = None           # index into the validation set when source == "validation"
    name: str = ""                     # file name for dropped images
    original: np.ndarray | None = None


@dataclass(frozen=True)
class Inspection:
    """The engine's :class:`~engine.inspection.Inspection` of the selected :class:`Sample`, with when it
    was taken: ``step`` (training steps so far), ``epoch`` and ``live`` (from the running trainer).

    ``activations[0]`` is the input ``(C, H, W)``, ``activations[i + 1]`` layer ``i``'s output;
    ``weights[i]`` layer ``i``'s params dict; ``probabilities`` ``(K,)``. All read-only copies.
    """

    result: engine_inspection.Inspection
    sample: Sample
    step: int = 0
    epoch: int = 0
    live: bool = False

    @property
    def activations(self) -> tuple[np.ndarray, ...]:
        return self.result.activations

    @property
    def weights(self) -> tuple[dict, ...]:
        return self.result.weights

    @property
    def probabilities(self) -> np.ndarray:
        return self.result.probabilities

    @property
    def logits(self) -> np.ndarray:
        return self.result.logits

    @property
    def layer_names(self) -> tuple[str, ...]:
        return self.result.layer_names

    def winner_mask(self, layer_index: int) -> np.ndarray:
        """Pixels of layer ``layer_index``'s input that won a max-pooling window (see the engine's)."""
        return self.result.winner_mask(layer_index)


@dataclass(frozen=True)
class ClassPredictions:
    """Predictions for the validation images of one true class: ``indices`` into ``x_test``,
    ``predictions`` ``(n,)`` and ``probabilities`` ``(n, K)``."""

    true_class: int
    indices: np.ndarray
    predictions: np.ndarray
    probabilities: np.ndarray


@dataclass
class History:
    """What the curves show: every ``BatchMetrics`` (a compact :class:`BatchLog`) and every
    ``EpochMetrics`` of the current training."""

    batches: BatchLog = field(default_factory=BatchLog)
    epochs: list = field(default_factory=list)
