"""The training worker: a QObject living in the training ``QThread`` that runs one job at a time.

The controller asks for a job by emitting a signal connected to :meth:`TrainingWorker.process` (a
queued connection: the worker lives in the other thread). The worker reports through its own signals,
connected only to bound methods of the controller, so every slot runs in the GUI thread (see
``shared/STACK.md``: lambdas and plain functions would run in the worker thread). Every value sent is
a copy or frozen: the trainer keeps mutating its own buffers.
"""

from __future__ import annotations

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

    def _run(self, job: TrainingJob) -> None:
        pending: list = []
        last_emit = [0.0]
        picked = [None]
        rid = job.run_id
        recorder = job.recorder

        def on_batch_end(metrics) -> None:
            if recorder is not None:
                recorder.on_batch_end(metrics)
            pending.append(metrics)
            now = time.perf_counter()
            if now - last_emit[0] >= self.batch_emit_interval:
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

        def on_validation_progress(done: int, total: int) -> None:
            if pending:                               # the epoch's last batches first: the curves end there
                self.batches_ready.emit(list(pending), rid)
                pending.clear()
            self.validation_progressed.emit(done, total, rid)

        try:
            if recorder is not None:
                recorder.start()
            outcome = job.trainer.run(
                on_batch_end=on_batch_end,
                on_epoch_end=on_epoch_end,
                on_snapshot=on_snapshot,
                should_stop=job.stop.is_set,
                snapshot_interval=self.snapshot_interval,
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
        self.job_finished.emit(str(outcome), rid)

    def _step(self, job: TrainingJob) -> None:
        rid = job.run_id
        picked = [None]
        try:
            if job.recorder is not None:
                job.recorder.start()
            metrics = job.trainer.step()
            if metrics is None:                     # the planned epochs are already done
                self.job_finished.emit("finished", rid)
                return
            if job.recorder is not None:
                job.recorder.on_batch_end(metrics)
            self.batches_ready.emit([metrics], rid)
            if job.trainer.diverged:
                self.job_finished.emit("diverged", rid)
                return
            snapshot = job.trainer.snapshot(*self._pick(job, picked))
            self.snapshot_ready.emit(snapshot, picked[0], rid)
        except Exception as exc:  # noqa: BLE001
            traceback.print_exc()
            self.job_failed.emit(tr_error(exc), rid)
            return
        self.job_finished.emit("stepped", rid)
