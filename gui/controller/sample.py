"""The selected image and its inspection (part of :class:`~gui.controller.TrainingController`).

While training runs, the inspection comes from the worker's snapshots: selecting an image only tells
the worker, and its next snapshot (a tenth of a second later) shows it. When no training runs, the
inspection is computed here, on the GUI thread, from a copy of the model (one image: milliseconds).
"""

from __future__ import annotations

import numpy as np

from engine.pixels import to_float32
from engine.shapes import format_shape
from gui.controller.values import Inspection, Sample
from gui.i18n import tr, tr_error


class SampleInspection:
    """Selected sample and the inspection the feature-map, filter and classify panels draw."""

    def select_validation_sample(self, index: int) -> None:
        ds = self.dataset
        if ds is None or len(ds.y_test) == 0:
            return
        index = int(index) % len(ds.y_test)
        self._set_sample(Sample(x=to_float32(ds.x_test[index]), label=int(ds.y_test[index]),
                                source="validation", index=index))

    def set_sample(self, array, label: int | None = None, source: str = "file", name: str = "",
                   original: np.ndarray | None = None) -> None:
        """Show ``array`` (float32 ``(C, H, W)`` in [0, 1], or uint8) in the inspection panels."""
        x = to_float32(array)
        if self.model is not None and tuple(x.shape) != tuple(self.model.input_shape):
            self._error(tr("The image has shape {} but the model expects {}.").format(
                format_shape(x.shape), format_shape(self.model.input_shape)))
            return
        self._set_sample(Sample(x=x, label=label, source=source, name=name, original=original))

    def _set_sample(self, sample: Sample) -> None:
        self.sample = sample
        self.worker.sample = sample          # the next snapshot of a running trainer shows it
        self.sample_changed.emit(sample)
        self.refresh_inspection()

    def refresh_inspection(self) -> None:
        """Inspect the selected sample now (not while training: the worker's next snapshot brings it)."""
        if self.model is None or self.sample is None or not self.kernels_warm or self.is_training:
            return
        try:
            result = self.current_model_copy().inspect(self.sample.x)
        except Exception as exc:  # noqa: BLE001 - a message, the panels keep the last picture
            self._error(tr("Could not compute the feature maps: {}").format(tr_error(exc)))
            return
        snap = self.latest_snapshot
        self._publish(Inspection(result, self.sample, step=0 if snap is None else snap.step,
                                 epoch=0 if snap is None else snap.epoch, live=False))

    def _publish(self, inspection: Inspection) -> None:
        if self._hold_live(inspection):      # the window shows a past moment of the timeline
            return
        self.latest_inspection = inspection
        self.inspection_ready.emit(inspection)
