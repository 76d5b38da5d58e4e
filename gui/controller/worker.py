"""The training worker: a QObject living in the training ``QThread`` that runs one job at a time.

The controller asks for a job by emitting a signal connected to :meth:`TrainingWorker.process` (a
queued connection: the worker lives in the other thread). The worker reports through its own signals,
connected only to bound methods of the controller, so every slot runs in the GUI thread (see
``shared/STACK.md``: lambdas and plain functions would run in the worker thread). Every value sent is
a copy or frozen: the trainer keeps mutating its own buffers.
"""

from __future__ import annotations

import math
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from gui.i18n import tr_error

SNAPSHOT_INTERVAL = 0.065     # seconds between engine snapshots (+ the batch that ends it): >= 10 pictures a second
BATCH_EMIT_HZ = 15.0          # per-batch metric lists sent to the GUI at most this often


@dataclass
class TrainingJob:
    """One request to the worker: ``"run"`` (train until done or stopped) or ``"step"`` (one batch).

    ``stop`` belongs to this job alone, so a new job never un-stops an old one still ending.
    """

    kind: str
    run_id: int
    trainer: Any
    stop: threading.Event = field(default_factory=threading.Event)
    recorder: Any = None          # a RunRecorder fed from this thread (the run's timeline and store)


class TrainingWorker(QObject):
    """Runs training jobs on the training thread and reports through signals."""

    batches_ready = Signal(object, int)            # list[BatchMetrics], run id
    epoch_ready = Signal(object, int)              # EpochMetrics, run id
    validation_progressed = Signal(int, int, int)  # images validated, of how many, run id (at an epoch end)
    snapshot_ready = Signal(object, object, int)   # TrainingSnapshot, the Sample it shows (or None), run id
    job_finished = Signal(str, int)                # "finished" | "stopped" | "diverged" | "stepped", run id
    job_failed = Signal(str, int)                  # message, run id
    fine_tuned = Signal(object, int)               # FineTuneResult, its ticket (gui/controller/finetune.py)

    def __init__(self):
        super().__init__()
        # The Sample snapshots show. The GUI thread replaces it (one reference assignment, atomic
        # under the GIL); the next snapshot picks the new one.
        self.sample = None
        self.batch_emit_interval = 1.0 / BATCH_EMIT_HZ
        self.snapshot_interval = SNAPSHOT_INTERVAL
        self._lock = threading.Lock()
        self._queued = 0
        self.idle_event = threading.Event()     # set when no job is queued or running
        self.idle_event.set()

    def queued(self) -> None:
        """Called by the controller (GUI thread) just before it emits a job."""
        with self._lock:
            self._queued += 1
            self.idle_event.clear()

    @Slot(object)
    def process(self, job: TrainingJob) -> None:
        try:
            if job.kind == "finetune":            # a FineTuneJob: runs to its end and reports
                self.fine_tuned.emit(job.run(), job.ticket)
            elif job.stop.is_set():               # abandoned before it started
                self.job_finished.emit("stopped", job.run_id)
            elif job.kind == "run":
                self._run(job)
            else:
                self._step(job)
        finally:
            with self._lock:
                self._queued -= 1
                if self._queued <= 0:
                    self._queued = 0
                    self.idle_event.set()

    def _pick(self, job: TrainingJob, picked: list):
        """The image of the next snapshot: the GUI's current choice (``picked`` remembers which)."""
        sample = self.sample
        picked[0] = sample
        if sample is None:
            return job.trainer.default_sample, job.trainer.default_label
        return sample.x, sample.label

    def _run(self, job: TrainingJob, max_steps: int | None = None) -> None:
        """Train until done or stopped (``max_steps``: at most that many batches, then "stepped").

        "Step one batch" is this same run stopped after one batch, so a step records into the timeline
        and the store exactly as running does: its moment, and when it ends an epoch, the epoch's
        metrics, confusion matrix and checkpoint.
        """
        pending: list = []
        last_emit = [0.0]
        picked = [None]
        done = [0]
        rid = job.run_id
        recorder = job.recorder

        def on_batch_end(metrics) -> None:
            done[0] += 1
            if recorder is not None:
                recorder.on_batch_end(metrics)
            pending.append(metrics)
            now = time.perf_counter()
            if max_steps is not None or now - last_emit[0] >= self.batch_emit_interval:
                last_emit[0] = now
                self.batches_ready.emit(list(pending), rid)
                pending.clear()

        def on_epoch_end(metrics) -> None:
            if recorder is not None:
                recorder.on_epoch_end(metrics)
            if pending:
                self.batches_ready.emit(list(pending), rid)
                pending.clear()
            self.epoch_ready.emit(metrics, rid)

        def on_snapshot(snapshot) -> None:
            self.snapshot_ready.emit(snapshot, picked[0], rid)

        def should_stop() -> bool:
            return job.stop.is_set() or (max_steps is not None and done[0] >= max_steps)

        def on_validation_progress(seen: int, total: int) -> None:
            if pending:                               # the epoch's last batches first: the curves end there
                self.batches_ready.emit(list(pending), rid)
                pending.clear()
            self.validation_progressed.emit(seen, total, rid)

        try:
            if recorder is not None:
                recorder.start()
            outcome = job.trainer.run(
                on_batch_end=on_batch_end,
                on_epoch_end=on_epoch_end,
                on_snapshot=on_snapshot,
                should_stop=should_stop,
                # a step shows one snapshot, after its batch (and one at an epoch end it reaches)
                snapshot_interval=math.inf if max_steps is not None else self.snapshot_interval,
                snapshot_sample=lambda: self._pick(job, picked),
                on_validation_progress=on_validation_progress,
            )
        except Exception as exc:  # noqa: BLE001 - reported to the user as a message
            traceback.print_exc()
            if pending:
                self.batches_ready.emit(list(pending), rid)
            self.job_failed.emit(tr_error(exc), rid)
            return
        if pending:
            self.batches_ready.emit(list(pending), rid)
        if outcome == "stopped" and max_steps is not None and not job.stop.is_set():
            outcome = "stepped"
        self.job_finished.emit(str(outcome), rid)

    def _step(self, job: TrainingJob) -> None:
        self._run(job, max_steps=1)
