"""``TrainingController``: the GUI-thread object that owns dataset, model, trainer and the workers.

Threads
-------
The controller lives in the GUI thread. Training runs in one ``QThread`` (:mod:`gui.controller.worker`);
kernel warm-up, dataset loading and evaluation run in daemon helper threads (:mod:`gui.controller.jobs`).
Every report arrives through a signal connected to a bound method of a GUI-thread QObject, so every
slot here runs in the GUI thread.

Throttling happens at the source: the engine snapshots at most every ``SNAPSHOT_INTERVAL`` seconds
and the worker batches per-batch metrics into lists sent at most ``BATCH_EMIT_HZ`` times a second.
Panels keep only the latest value and repaint on their own timers.

While training runs the GUI thread never runs the network: the inspection of the selected image
comes with the worker's snapshots (a newly selected image is in the next one). ``stop()`` and
``pause()`` only ask; the state changes when the worker reports, one batch later.
"""

from __future__ import annotations

import atexit
import weakref

from PySide6.QtCore import QObject, QThread, Signal, Slot

from engine._env import freeze_long_lived_objects
from engine.network import Sequential
from engine.training import VALIDATION_BATCH
from gui.collector import install_gui_collector
from gui.controller.evaluation import EvaluationRequests
from gui.controller.finetune import FineTuner
from gui.controller.jobs import DatasetLoader, KernelWarmup
from gui.controller.models import ModelSetup
from gui.controller.options import DEFAULT_OPTIONS, format_learning_rate, make_trainer
from gui.controller.runs import RunRecording
from gui.controller.sample import SampleInspection
from gui.controller.values import History, Inspection, Sample
from gui.controller.worker import TrainingJob, TrainingWorker
from gui.i18n import tr, tr_error

MAX_EPOCH_WEIGHTS = 20       # epoch-end weights kept for the confusion-matrix drill-down
SWITCH_TIMEOUT = 5.0         # seconds a model/dataset switch waits for the current batch to end

# Safety net: a QThread still running when Python exits aborts the process ("QThread: Destroyed while
# thread is still running"). Windows call shutdown() when they close; this catches the forgotten ones.
_LIVE_CONTROLLERS: weakref.WeakSet[TrainingController] = weakref.WeakSet()


@atexit.register
def _shut_down_all() -> None:
    for controller in list(_LIVE_CONTROLLERS):
        try:
            controller.shutdown(timeout=10.0)
        except RuntimeError:       # the C++ object is already gone
            pass


class TrainingController(ModelSetup, SampleInspection, EvaluationRequests, RunRecording, QObject):
    """Owns the dataset, the model, the trainer and the worker thread; adapts the engine to Qt signals.

    Signals (past-tense facts; all emitted in the GUI thread): see docs/ARCHITECTURE.md. The
    class is assembled from parts a reader can find by name: :class:`~gui.controller.models.ModelSetup`
    (datasets, presets, model files), :class:`~gui.controller.sample.SampleInspection` (the selected
    image and its inspection), :class:`~gui.controller.evaluation.EvaluationRequests` (model copies,
    classification, validation-set evaluation); training commands and worker reports are here.
    """

    dataset_changed = Signal(object)
    model_changed = Signal(object)
    state_changed = Signal(str)
    batch_metrics_ready = Signal(object)      # the latest BatchMetrics; history.batches holds all of them
    epoch_metrics_ready = Signal(object)
    validation_progressed = Signal(int, int)  # images validated at an epoch end, of how many
    snapshot_ready = Signal(object)           # TrainingSnapshot (training)
    sample_changed = Signal(object)
    error_occurred = Signal(str)
    status_message = Signal(str)
    inspection_ready = Signal(object)         # Inspection of the selected sample, live or computed
    layer_selected = Signal(int)
    options_changed = Signal(object)
    kernels_ready = Signal(float)
    history_reset = Signal()
    evaluation_ready = Signal(object)         # EvalResult of the validation set (see request_evaluation)
    predictions_ready = Signal(object)        # ClassPredictions (see request_class_predictions)
    dataset_ready = Signal(object)            # dataset, its model and its first sample are all in place
    dataset_loading = Signal(str)             # a background load started (name)
    dataset_failed = Signal(str)              # ... and failed (the message went to error_occurred)
    runs_changed = Signal()                   # the run store's list changed (a run began, ended, was deleted)
    timeline_moved = Signal(object)           # TimelinePosition: the moment the panels show (or live)

    _job_requested = Signal(object)

    def __init__(self, parent: QObject | None = None):
        QObject.__init__(self, parent)
        self.dataset = None
        self.model = None
        self.trainer = None
        self.preset_name: str | None = None
        self.model_path: str | None = None
        self.options = dict(DEFAULT_OPTIONS)
        self.state = "idle"
        self.history = History()
        self.sample: Sample | None = None
        self.selected_layer: int | None = None
        self.latest_snapshot = None
        self.latest_inspection: Inspection | None = None
        self.kernels_warm = False
        self.warmup_seconds: float | None = None
        self.last_error: str = ""
        self.loaded_metadata: dict = {}
        self.epoch_end_weights: dict[int, list] = {}   # epoch (0-based) -> weights at its end
        self._awaiting_epoch_weights: int | None = None
        self._run_id = 0
        self._job: TrainingJob | None = None       # the job of the current run, until the worker reports
        self._stop_requested = False
        self._pending_after_warmup: str | None = None
        self._state_before_compile = "idle"
        self._shut_down = False

        # Qt objects must die in the GUI thread: garbage is collected there only, never in the worker
        install_gui_collector()
        # Started with the first job: a controller that never trains never owns a running thread.
        self._thread = QThread()
        self._thread.setObjectName("convscope-training")
        self.worker = TrainingWorker()
        self.worker.moveToThread(self._thread)
        self._job_requested.connect(self.worker.process)
        self.worker.batches_ready.connect(self._on_batches)
        self.worker.epoch_ready.connect(self._on_epoch)
        self.worker.validation_progressed.connect(self._on_validation_progress)
        self.worker.snapshot_ready.connect(self._on_snapshot)
        self.worker.job_finished.connect(self._on_job_finished)
        self.worker.job_failed.connect(self._on_job_failed)
        self.fine_tuner = FineTuner(self)          # "this is a k": a few steps on the user's examples
        self._warmup = KernelWarmup(self)
        self._warmup.finished.connect(self._on_warmup_done)
        self._loader = DatasetLoader(self)
        self._loader.loaded.connect(self._on_dataset_loaded)
        self._loader.progress.connect(self._on_dataset_progress)
        self._loading_name: str | None = None
        self._init_evaluation()
        self._init_runs()
        self.batch_metrics_ready.connect(self._sync_timeline)
        self.epoch_metrics_ready.connect(self._sync_timeline)
        _LIVE_CONTROLLERS.add(self)

    # ------------------------------------------------------------------------------------------
    # state
    # ------------------------------------------------------------------------------------------
    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.state_changed.emit(state)

    def _error(self, message: str) -> None:
        self.last_error = message
        self.error_occurred.emit(message)
        self.status_message.emit(message)

    @property
    def is_busy(self) -> bool:
        """True while a kernel warm-up or a training job of the current run is going."""
        return self._job is not None or self._warmup.running

    @property
    def is_training(self) -> bool:
        return self._job is not None

    @property
    def loading_dataset(self) -> str | None:
        """The name of the dataset being loaded in the background, or None."""
        return self._loading_name

    # ------------------------------------------------------------------------------------------
    # kernels
    # ------------------------------------------------------------------------------------------
    def warm_up(self) -> None:
        """Compile (or load from the cache) the numba kernels on a helper thread (state "compiling")."""
        if self.kernels_warm or self._warmup.running or self._shut_down:
            return
        self._state_before_compile = self.state
        self._set_state("compiling")
        self.status_message.emit(tr("Compiling kernels... (the first launch takes a while; later ones are quick)"))
        model = self.model.clone() if self.model is not None and self.sample is not None else None
        self._warmup.start(model, None if model is None else self.sample.x)

    @Slot(float, str)
    def _on_warmup_done(self, seconds: float, error: str) -> None:
        self.warmup_seconds = seconds
        if self._shut_down:
            return
        if error:
            self._set_state("idle")
            self._error(tr("The compute kernels could not be prepared: {}").format(error))
            self._pending_after_warmup = None
            return
        self.kernels_warm = True
        freeze_long_lived_objects()      # once per process: full collections stop walking start-up objects
        self._set_state(self._state_before_compile if self._state_before_compile != "compiling" else "idle")
        self.status_message.emit(tr("Kernels ready in {:.1f} s.").format(seconds))
        self.kernels_ready.emit(seconds)
        pending, self._pending_after_warmup = self._pending_after_warmup, None
        if pending == "start":
            self.start()
        elif pending == "step":
            self.step()
        elif self.latest_inspection is None:
            self.refresh_inspection()

    # ------------------------------------------------------------------------------------------
    # training options and commands
    # ------------------------------------------------------------------------------------------
    def set_options(self, **changes) -> None:
        """Change optimizer/learning_rate/momentum/batch_size/epochs/seed: they apply at the next Start;
        the learning rate also on Resume."""
        unknown = set(changes) - set(DEFAULT_OPTIONS)
        if unknown:
            raise KeyError(f"unknown training options: {sorted(unknown)}")
        self.options.update(changes)
        if "learning_rate" in changes and self.trainer is not None and not self.is_training:
            self.trainer.optimizer.learning_rate = float(self.options["learning_rate"])
        self.options_changed.emit(dict(self.options))

    def _ready_to_train(self) -> bool:
        if self._shut_down or self.is_training:
            return False
        if self.dataset is None or self.model is None:
            self._error(tr("Choose a dataset and a model first."))
            return False
        if self.fine_tuner.running:
            self._error(tr("Fine-tuning on your examples is still running; train when it has finished."))
            return False
        return True

    def _trainer_for_next_job(self) -> bool:
        """A new trainer after Stop, the end of a run or a divergence; else the paused one."""
        if self.trainer is None or self.trainer.done or self.state == "diverged":
            try:
                self.trainer = make_trainer(self.model, self.dataset, self.options)
            except Exception as exc:  # noqa: BLE001
                self._error(tr("Could not start training: {}").format(tr_error(exc)))
                return False
            if self.state in ("finished", "idle"):
                self._clear_history()
        else:
            self.trainer.optimizer.learning_rate = float(self.options["learning_rate"])
        return True

    def _submit(self, kind: str) -> None:
        if not self._thread.isRunning():
            self._thread.start()
        self._run_id += 1
        self._stop_requested = False
        self._job = TrainingJob(kind, self._run_id, self.trainer)
        self.worker.sample = self.sample
        self._attach_recorder(self._job)
        self.worker.queued()
        self._set_state("training")
        self._job_requested.emit(self._job)

    def start(self) -> bool:
        """Start training (or resume a paused run). Returns False when nothing was started."""
        if not self._ready_to_train():
            return False
        if not self.kernels_warm:
            self._pending_after_warmup = "start"
            self.warm_up()
            self.status_message.emit(tr("Training starts as soon as the kernels are compiled."))
            return True
        if not self._trainer_for_next_job():
            return False
        self._submit("run")
        self.status_message.emit(tr("Training..."))
        return True

    def resume(self) -> bool:
        return self.start()

    def step(self) -> bool:
        """Train exactly one batch, then pause."""
        if not self._ready_to_train():
            return False
        if not self.kernels_warm:
            self._pending_after_warmup = "step"
            self.warm_up()
            return True
        if not self._trainer_for_next_job():
            return False
        self._submit("step")
        return True

    def pause(self) -> None:
        """Ask the running training to stop after the current batch; it can be resumed."""
        if self._job is not None:
            self._job.stop.set()
        self._pending_after_warmup = None

    def stop(self) -> bool:
        """Ask the training to end after the current batch (the weights learned so far are kept).

        Returns at once: the state becomes "idle" when the worker reports. Start then begins a new run.
        """
        self._pending_after_warmup = None
        if self._job is not None:
            self._stop_requested = True
            self._job.stop.set()
            self.status_message.emit(tr("Stopping after the current batch..."))
        elif self.trainer is not None and self.state in ("paused", "diverged", "finished"):
            self._finish_recording("stopped")
            self.trainer = None
            self._set_state("idle")
        return True

    def _end_training(self, timeout: float = SWITCH_TIMEOUT) -> None:
        """End the current run now, before the model or the dataset changes under it: stop the job
        and wait for its batch to end (the next model must not share the thread's caches)."""
        self._pending_after_warmup = None
        if self._job is not None:
            self._job.stop.set()
            self.worker.idle_event.wait(timeout)
            self._job = None
            self._run_id += 1          # late signals of the ended run are ignored
            self._finish_recording("stopped")
            self.trainer = None
            self._set_state("idle")
            self.status_message.emit(tr("Training stopped. The weights learned so far are kept."))

    def reset(self) -> None:
        """End training, then give the model fresh initial weights from the seed (same seed, same weights)."""
        if self.model is None:
            return
        try:
            model = Sequential.from_config(self.model.get_config(), seed=int(self.options["seed"]))
        except Exception as exc:  # noqa: BLE001
            self._error(tr("Could not reset the model: {}").format(tr_error(exc)))
            return
        self.set_model(model, preset_name=self.preset_name, path=self.model_path)
        self.status_message.emit(tr("Weights reset from seed {}.").format(self.options["seed"]))

    def shutdown(self, timeout: float = 5.0) -> bool:
        """Stop training and end the worker thread (window close, tests). Returns True when it ended.

        Never waits for a kernel compilation (it runs on a daemon thread the process does not wait for).
        """
        if self._shut_down:
            return True
        self._shut_down = True
        _LIVE_CONTROLLERS.discard(self)
        self._pending_after_warmup = None
        if self._job is not None:
            self._job.stop.set()
        self.fine_tuner.stop()
        self._warmup.abandon()
        # helper threads are daemons holding their own copies: wait a little for a tidy end, not longer
        self._loader.cancel(min(timeout, 1.0))
        self._close_evaluation(min(timeout, 1.0))
        self._thread.quit()
        ended = self._thread.wait(int(timeout * 1000))
        self._shut_down = ended
        if ended:
            self._job = None
            self._close_runs()
        return ended

    # ------------------------------------------------------------------------------------------
    # worker reports (GUI thread)
    # ------------------------------------------------------------------------------------------
    @Slot(object, int)
    def _on_batches(self, metrics: list, run_id: int) -> None:
        if run_id != self._run_id or not metrics:
            return
        self.history.batches.extend(metrics)
        self.batch_metrics_ready.emit(metrics[-1])

    @Slot(object, int)
    def _on_epoch(self, metrics, run_id: int) -> None:
        if run_id != self._run_id:
            return
        self._awaiting_epoch_weights = int(metrics.epoch)   # the engine's next snapshot is its end
        self.history.epochs.append(metrics)
        self.epoch_metrics_ready.emit(metrics)

    @Slot(int, int, int)
    def _on_validation_progress(self, done: int, total: int, run_id: int) -> None:
        """The epoch's validation, batch by batch: its progress in the status bar while it runs."""
        if run_id != self._run_id:
            return
        self.validation_progressed.emit(done, total)
        if done < total:
            self.status_message.emit(tr("Validating the epoch on {} images: {} %").format(
                total, int(100 * done / max(total, 1))))
        elif total > VALIDATION_BATCH:                # the message was shown: back to the usual one
            self.status_message.emit(tr("Training..."))

    @Slot(object, object, int)
    def _on_snapshot(self, snapshot, sample, run_id: int) -> None:
        if run_id != self._run_id:
            return
        self.latest_snapshot = snapshot
        waiting = self._awaiting_epoch_weights
        if waiting is not None and snapshot.epoch == waiting + 1:
            # weights at the end of that epoch: the confusion-matrix drill-down of that epoch uses them
            self._awaiting_epoch_weights = None
            self.epoch_end_weights[waiting] = list(snapshot.weights)
            for old_epoch in sorted(self.epoch_end_weights)[:-MAX_EPOCH_WEIGHTS]:
                del self.epoch_end_weights[old_epoch]
        self.snapshot_ready.emit(snapshot)
        if sample is not None and sample is self.sample:
            # a snapshot of an image chosen before the last change is skipped: the next one shows the new one
            self._publish(Inspection(snapshot.inspection, sample, snapshot.step, snapshot.epoch, live=True))

    @Slot(str, int)
    def _on_job_finished(self, outcome: str, run_id: int) -> None:
        if run_id != self._run_id:
            return
        self._job = None
        self._sync_timeline()
        if self._stop_requested and outcome != "diverged":
            self._finish_recording("stopped")
        elif outcome in ("finished", "diverged"):
            self._finish_recording(outcome)         # a pause ("stopped" unasked) keeps the run open
        if self._stop_requested and outcome != "diverged":
            self._stop_requested = False
            self.trainer = None
            self._set_state("idle")
            self.status_message.emit(tr("Training stopped. The weights learned so far are kept."))
        elif outcome == "finished":
            self._set_state("finished")
            self.status_message.emit(tr("Training finished."))
        elif outcome == "stopped":
            self._set_state("paused")
            self.status_message.emit(tr("Paused. Press Resume to continue."))
        elif outcome == "diverged":
            self._set_state("diverged")
            lr = float(self.options["learning_rate"])
            self._error(tr("Training paused: the loss became infinite or NaN (not a number), so the "
                           "weights were blowing up. The last good weights are kept. Try a lower learning "
                           "rate, e.g. {}.").format(format_learning_rate(lr / 10)))
        else:
            self._set_state("paused")
        self._forget_model_copy()
        shown = self.latest_inspection
        if shown is None or shown.sample is not self.sample:
            self.refresh_inspection()      # the last snapshot showed another image (or none came)

    @Slot(str, int)
    def _on_job_failed(self, message: str, run_id: int) -> None:
        if run_id != self._run_id:
            return
        self._job = None
        self._finish_recording("stopped")
        self.trainer = None
        self._set_state("idle")
        self._error(tr("Training stopped because of an error: {}").format(message))

    def _clear_history(self) -> None:
        self.history = History()
        self.epoch_end_weights = {}
        self._awaiting_epoch_weights = None
        self.latest_snapshot = None
        self.history_reset.emit()

