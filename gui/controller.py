"""The training controller: the GUI-thread object that owns dataset, model, trainer and the worker thread.

Threads
-------
``TrainingController`` lives in the GUI thread. A :class:`TrainingWorker` lives in one ``QThread`` for
the controller's whole life and runs jobs (kernel warm-up, ``Trainer.run``, one ``Trainer.step``) one
at a time. The controller asks for a job by emitting a private signal connected to a ``@Slot`` of the
worker (a queued connection, because the worker lives in the other thread); the worker reports back
through its own signals, connected only to bound methods of the controller, so every slot runs in the
GUI thread (see ``shared/STACK.md``: lambdas and plain functions would run in the worker thread).

Throttling happens at the source: the engine emits snapshots at most every ``SNAPSHOT_INTERVAL``
seconds and the worker batches per-batch metrics into lists sent at most ``BATCH_EMIT_HZ`` times a
second. Panels keep only the latest value and repaint on their own timers.

Everything that crosses threads is a copy: the trainer keeps mutating its own buffers.
"""

from __future__ import annotations

import atexit
import math
import threading
import time
import traceback
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal, Slot

from gui.i18n import tr, tr_error

SNAPSHOT_INTERVAL = 0.22      # seconds between engine snapshots (about 4-5 per second)
BATCH_EMIT_HZ = 15.0          # per-batch metric lists sent to the GUI at most this often
MAX_EPOCH_WEIGHTS = 20       # epoch-end weights kept for the confusion-matrix drill-down
STOP_TIMEOUT = 5.0            # seconds stop() waits for the current batch to end

STATES = ("idle", "compiling", "training", "paused", "finished", "diverged")

DEFAULT_OPTIONS = {
    "optimizer": "adam",
    "learning_rate": 0.001,
    "momentum": 0.9,
    "batch_size": 64,
    "epochs": 5,
    "seed": 0,
}


def default_preset_for(dataset) -> str:
    """The preset made for ``dataset`` (the book's model for MNIST/Fashion-MNIST), else a small one."""
    name = getattr(dataset, "name", str(dataset))
    if name == "mnist":
        return "keras_mnist"
    if name == "fashion_mnist":
        return "hongong"
    shape = tuple(getattr(dataset, "input_shape", (1, 28, 28)))
    return "tinyvgg" if shape[0] == 3 and min(shape[1:]) >= 32 else "shapes_small"


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
    """What the inspection panels draw: weights and the activations of the selected sample.

    ``activations[0]`` is the input ``(C, H, W)``; ``activations[i + 1]`` is the output of layer ``i``
    (``(C, H, W)`` or ``(D,)``). ``weights[i]`` is layer ``i``'s params dict (copies). ``probabilities``
    are the softmax outputs ``(K,)``. ``step`` counts training steps (0 before training).
    """

    weights: list
    activations: list
    probabilities: np.ndarray
    sample: Sample
    step: int = 0
    epoch: int = 0
    live: bool = False                 # True when it comes from the running trainer


@dataclass(frozen=True)
class ClassPredictions:
    """Predictions for the validation images of one true class: ``indices`` into ``x_test``,
    ``predictions`` ``(n,)`` and ``probabilities`` ``(n, K)``."""

    true_class: int
    indices: np.ndarray
    predictions: np.ndarray
    probabilities: np.ndarray


# ------------------------------------------------------------------------------------------------
# worker (lives in the QThread)
# ------------------------------------------------------------------------------------------------


@dataclass
class _Job:
    kind: str                          # "warmup" | "run" | "step"
    run_id: int
    trainer: Any = None
    sample: np.ndarray | None = None
    model: Any = None


class TrainingWorker(QObject):
    """Runs jobs on the training thread and reports through signals (values are copies)."""

    warmup_done = Signal(float, str)          # seconds, error message ("" when it worked)
    batches_ready = Signal(object, int)       # list[BatchMetrics], run id
    epoch_ready = Signal(object, int)         # EpochMetrics, run id
    snapshot_ready = Signal(object, int)      # TrainingSnapshot, run id
    job_finished = Signal(str, int)           # "finished" | "stopped" | "diverged" | "stepped", run id
    job_failed = Signal(str, int)             # message, run id

    def __init__(self):
        super().__init__()
        self.stop_event = threading.Event()
        self.idle_event = threading.Event()
        self.idle_event.set()
        # The sample snapshots are taken of; the GUI thread may replace it while a run is going.
        self.sample: np.ndarray | None = None
        self.batch_emit_interval = 1.0 / BATCH_EMIT_HZ
        self.snapshot_interval = SNAPSHOT_INTERVAL

    @Slot(object)
    def process(self, job: _Job) -> None:
        try:
            if job.kind == "warmup":
                self._warmup(job)
            elif job.kind == "run":
                self._run(job)
            elif job.kind == "step":
                self._step(job)
        finally:
            self.idle_event.set()

    # -- jobs ------------------------------------------------------------------------------------
    def _warmup(self, job: _Job) -> None:
        t0 = time.perf_counter()
        try:
            from engine import kernels

            kernels.warmup()
            if job.model is not None and job.sample is not None:
                # Compile whatever the model's own layers use (one tiny forward pass on a copy).
                job.model.forward(job.sample[None], training=False)
        except Exception as exc:  # noqa: BLE001 - reported to the user as a message
            traceback.print_exc()
            self.warmup_done.emit(time.perf_counter() - t0, _message(exc))
            return
        self.warmup_done.emit(time.perf_counter() - t0, "")

    def _run(self, job: _Job) -> None:
        pending: list = []
        last_emit = [0.0]
        rid = job.run_id

        def on_batch_end(metrics) -> None:
            pending.append(metrics)
            now = time.perf_counter()
            if now - last_emit[0] >= self.batch_emit_interval:
                last_emit[0] = now
                self.batches_ready.emit(list(pending), rid)
                pending.clear()

        def on_epoch_end(metrics) -> None:
            if pending:
                self.batches_ready.emit(list(pending), rid)
                pending.clear()
            self.epoch_ready.emit(metrics, rid)

        run_sample = self.sample

        def on_snapshot(snapshot) -> None:
            current = self.sample
            if current is not run_sample and current is not None:
                # The GUI selected another image since the run started: picture that one instead.
                # This callback runs on the training thread between batches, so the weights are still.
                snapshot = job.trainer.snapshot(current)
            self.snapshot_ready.emit(snapshot, rid)

        def should_stop() -> bool:
            return self.stop_event.is_set()

        try:
            outcome = job.trainer.run(
                on_batch_end=on_batch_end,
                on_epoch_end=on_epoch_end,
                on_snapshot=on_snapshot,
                should_stop=should_stop,
                snapshot_interval=self.snapshot_interval,
                snapshot_sample=run_sample,
            )
        except Exception as exc:  # noqa: BLE001
            traceback.print_exc()
            if pending:
                self.batches_ready.emit(list(pending), rid)
            self.job_failed.emit(_message(exc), rid)
            return
        if pending:
            self.batches_ready.emit(list(pending), rid)
        self.job_finished.emit(str(outcome), rid)

    def _step(self, job: _Job) -> None:
        rid = job.run_id
        try:
            metrics = job.trainer.step()
            if metrics is None:                     # the planned epochs are already done
                self.job_finished.emit("finished", rid)
                return
            self.batches_ready.emit([metrics], rid)
            loss = float(getattr(metrics, "loss", 0.0))
            if not math.isfinite(loss):
                self.job_finished.emit("diverged", rid)
                return
            if self.sample is not None:
                self.snapshot_ready.emit(job.trainer.snapshot(self.sample), rid)
        except Exception as exc:  # noqa: BLE001
            traceback.print_exc()
            self.job_failed.emit(_message(exc), rid)
            return
        self.job_finished.emit("stepped", rid)


def _message(exc: BaseException) -> str:
    """A user-facing message: the teaching text of engine errors, the type and text of others."""
    try:
        from engine.errors import ConvScopeError
    except ImportError:  # pragma: no cover
        ConvScopeError = ValueError  # noqa: N806
    if isinstance(exc, ConvScopeError):
        return tr_error(exc)
    return f"{type(exc).__name__}: {exc}"


# ------------------------------------------------------------------------------------------------
# controller (lives in the GUI thread)
# ------------------------------------------------------------------------------------------------

# Safety net: a QThread still running when Python exits aborts the process ("QThread: Destroyed while
# thread is still running"). Windows call shutdown() when they close; this catches the forgotten ones.
_LIVE_CONTROLLERS: "weakref.WeakSet[TrainingController]" = weakref.WeakSet()


@atexit.register
def _shut_down_all() -> None:
    for controller in list(_LIVE_CONTROLLERS):
        try:
            controller.shutdown(timeout=10.0)
        except RuntimeError:       # the C++ object is already gone
            pass



@dataclass
class _History:
    batches: list = field(default_factory=list)    # every BatchMetrics of the current training
    epochs: list = field(default_factory=list)     # every EpochMetrics


class TrainingController(QObject):
    """Owns the dataset, the model, the trainer and the worker thread; adapts the engine to Qt signals.

    Signals (past-tense facts; all emitted in the GUI thread)
    ---------------------------------------------------------
    dataset_changed(Dataset), model_changed(Sequential), state_changed(str),
    batch_metrics_ready(BatchMetrics) (the latest; ``history.batches`` holds all of them),
    epoch_metrics_ready(EpochMetrics), snapshot_ready(TrainingSnapshot) (training) ,
    inspection_ready(Inspection) (weights + activations of the selected sample, live or computed),
    sample_changed(Sample), layer_selected(int), error_occurred(str), status_message(str),
    options_changed(dict), kernels_ready(float).
    """

    dataset_changed = Signal(object)
    model_changed = Signal(object)
    state_changed = Signal(str)
    batch_metrics_ready = Signal(object)
    epoch_metrics_ready = Signal(object)
    snapshot_ready = Signal(object)
    sample_changed = Signal(object)
    error_occurred = Signal(str)
    status_message = Signal(str)
    # additions (documented in docs/ARCHITECTURE.md)
    inspection_ready = Signal(object)
    layer_selected = Signal(int)
    options_changed = Signal(object)
    kernels_ready = Signal(float)
    history_reset = Signal()
    evaluation_ready = Signal(object)         # EvalResult of the validation set (see request_evaluation)
    predictions_ready = Signal(object)        # ClassPredictions (see request_class_predictions)
    dataset_ready = Signal(object)            # dataset, its model and its first sample are all in place
    dataset_loading = Signal(str)             # a background load started (name)
    dataset_failed = Signal(str)              # ... and failed (the message went to error_occurred)

    _dataset_loaded = Signal(str, object)
    _dataset_progress = Signal(str, float, float)

    _evaluation_done = Signal(object, object)

    _job_requested = Signal(object)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.dataset = None
        self.model = None
        self.trainer = None
        self.preset_name: str | None = None
        self.model_path: str | None = None
        self.options = dict(DEFAULT_OPTIONS)
        self.state = "idle"
        self.history = _History()
        self.sample: Sample | None = None
        self.selected_layer: int | None = None
        self.latest_snapshot = None
        self.latest_inspection: Inspection | None = None
        self.kernels_warm = False
        self.warmup_seconds: float | None = None
        self.first_step_time: float | None = None   # perf_counter() of the first batch result
        self.last_error: str = ""
        self.loaded_metadata: dict = {}
        self.epoch_end_weights: dict[int, list] = {}   # epoch (0-based) -> weights at its end
        self._awaiting_epoch_weights: int | None = None
        self._run_id = 0
        self._busy_kind: str | None = None          # job the worker is running ("warmup"/"run"/"step")
        self._pending_after_warmup: str | None = None
        self._inference_cache: tuple[Any, Any] | None = None   # (key, model copy)
        self._state_before_compile = "idle"

        self._thread = QThread()
        self._thread.setObjectName("convscope-training")
        self.worker = TrainingWorker()
        self.worker.moveToThread(self._thread)
        self._job_requested.connect(self.worker.process)
        self.worker.warmup_done.connect(self._on_warmup_done)
        self.worker.batches_ready.connect(self._on_batches)
        self.worker.epoch_ready.connect(self._on_epoch)
        self.worker.snapshot_ready.connect(self._on_snapshot)
        self.worker.job_finished.connect(self._on_job_finished)
        self.worker.job_failed.connect(self._on_job_failed)
        # Started with the first job: a controller that never trains never owns a running thread.
        self._shut_down = False
        _LIVE_CONTROLLERS.add(self)
        self._eval_thread: threading.Thread | None = None
        self._eval_pending = None
        self._class_predictions: dict = {}
        self.latest_evaluation = None            # (key, EvalResult)
        self._evaluation_done.connect(self._on_evaluation_done)
        self._load_thread: threading.Thread | None = None
        self.loading_dataset: str | None = None
        self._dataset_loaded.connect(self._on_dataset_loaded)
        self._dataset_progress.connect(self._on_dataset_progress)

    # ------------------------------------------------------------------------------------------
    # small helpers
    # ------------------------------------------------------------------------------------------
    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.state_changed.emit(state)

    def _report_skipped_files(self, ds) -> None:
        """Files an image folder could not use are named, with the reason, instead of vanishing."""
        skipped = list(getattr(ds, "skipped", None) or [])
        if not skipped:
            return
        shown = "; ".join(f"{Path(str(path)).name} ({tr_error(reason)})" for path, reason in skipped[:5])
        more = tr(" and {} more").format(len(skipped) - 5) if len(skipped) > 5 else ""
        self.error_occurred.emit(
            tr("{} files of the folder were left out: {}{}.").format(len(skipped), shown, more))

    def _error(self, message: str) -> None:
        self.last_error = message
        self.error_occurred.emit(message)
        self.status_message.emit(message)

    def _submit(self, job: _Job) -> None:
        if not self._thread.isRunning():
            self._thread.start()
        self.worker.idle_event.clear()
        self._busy_kind = job.kind
        self._job_requested.emit(job)

    @property
    def is_busy(self) -> bool:
        """True while the worker runs a job (warm-up, training or a step)."""
        return not self.worker.idle_event.is_set()

    @property
    def is_training(self) -> bool:
        return self._busy_kind in ("run", "step") and self.is_busy

    # ------------------------------------------------------------------------------------------
    # kernels
    # ------------------------------------------------------------------------------------------
    def warm_up(self) -> None:
        """Compile (or load from the cache) the numba kernels on the worker thread."""
        if self.kernels_warm or self._busy_kind == "warmup" or self._shut_down:
            return
        self._state_before_compile = self.state
        self._set_state("compiling")
        self.status_message.emit(tr("Compiling kernels... (the first launch takes a while; later ones are quick)"))
        x = self.sample.x if self.sample is not None else None
        model = self.current_model_copy() if self.model is not None else None
        self._submit(_Job("warmup", self._run_id, sample=x, model=model))

    @Slot(float, str)
    def _on_warmup_done(self, seconds: float, error: str) -> None:
        self._busy_kind = None
        self.warmup_seconds = seconds
        if error:
            self._set_state("idle")
            self._error(tr("The compute kernels could not be prepared: {}").format(error))
            self._pending_after_warmup = None
            return
        self.kernels_warm = True
        self._set_state(self._state_before_compile if self._state_before_compile != "compiling" else "idle")
        self.status_message.emit(tr("Kernels ready in {:.1f} s.").format(seconds))
        self.kernels_ready.emit(seconds)
        pending, self._pending_after_warmup = self._pending_after_warmup, None
        if pending == "start":
            self.start()
        elif pending == "step":
            self.step()
        elif self.model is not None and self.sample is not None and self.latest_inspection is None:
            self.refresh_inspection()

    # ------------------------------------------------------------------------------------------
    # dataset and model
    # ------------------------------------------------------------------------------------------
    @staticmethod
    def _load(name: str, seed: int, data_dir: str | None = None, progress=None):
        """Load a dataset by name or image-folder path (any thread; no Qt)."""
        import os

        from engine import datasets

        path = Path(name).expanduser()
        if name not in ("shapes", "mnist", "fashion_mnist") and path.is_dir():
            return datasets.load_image_folder(str(path), seed=seed)
        kwargs = {"seed": seed}
        data_dir = data_dir or os.environ.get("CONVSCOPE_DATA_DIR")
        if data_dir:
            kwargs["data_dir"] = data_dir
        if progress is not None:
            kwargs["progress"] = progress
        return datasets.load_dataset(name, **kwargs)

    def set_dataset(self, name_or_path, data_dir: str | None = None) -> bool:
        """Load a dataset by name ("shapes", "mnist", "fashion_mnist") or an image-folder path, now.

        Stops training first. Keeps the current dataset and reports a message when loading fails.
        Builds the default preset for it when the current model does not fit its images. (The window
        uses :meth:`load_dataset_async`, which does the same without blocking the GUI.)
        """
        self.stop()
        name = str(name_or_path)
        self.status_message.emit(tr("Loading dataset {}...").format(name))
        try:
            ds = self._load(name, int(self.options["seed"]), data_dir)
        except Exception as exc:  # noqa: BLE001 - any failure keeps the current dataset
            traceback.print_exc()
            self._error(tr("Could not load the dataset {}: {}").format(name, _message(exc)))
            return False
        return self.use_dataset(ds)

    def load_dataset_async(self, name_or_path, data_dir: str | None = None) -> bool:
        """Load a dataset on a background thread; ``dataset_changed`` or ``dataset_failed`` follows.

        Reading MNIST takes ~0.4 s and generating the shapes ~0.9 s (a download much longer): the
        window stays responsive meanwhile. Returns False when a load is already running.
        """
        if self._load_thread is not None and self._load_thread.is_alive():
            return False
        self.stop()
        name = str(name_or_path)
        seed = int(self.options["seed"])
        done = self._dataset_loaded
        progress_signal = self._dataset_progress
        last = [0.0]

        def progress(done_bytes, total_bytes) -> None:
            now = time.perf_counter()
            if now - last[0] > 0.25:
                last[0] = now
                progress_signal.emit(name, float(done_bytes), float(total_bytes or 0))

        def work() -> None:
            try:
                result = self._load(name, seed, data_dir, progress)
            except Exception as exc:  # noqa: BLE001
                traceback.print_exc()
                result = exc
            done.emit(name, result)

        self.loading_dataset = name
        self.dataset_loading.emit(name)
        self.status_message.emit(tr("Loading dataset {}...").format(name))
        self._load_thread = threading.Thread(target=work, name="convscope-dataset", daemon=True)
        self._load_thread.start()
        return True

    @Slot(str, float, float)
    def _on_dataset_progress(self, name: str, done: float, total: float) -> None:
        if total > 0:
            self.status_message.emit(tr("Downloading {}: {:.0%} of {:.1f} MB").format(name, done / total, total / 1e6))
        else:
            self.status_message.emit(tr("Downloading {}: {:.1f} MB").format(name, done / 1e6))

    @Slot(str, object)
    def _on_dataset_loaded(self, name: str, result) -> None:
        self.loading_dataset = None
        if isinstance(result, Exception):
            self._error(tr("Could not load the dataset {}: {}").format(name, _message(result)))
            self.dataset_failed.emit(name)
            return
        self.use_dataset(result)

    def use_dataset(self, ds) -> bool:
        """Use an already loaded dataset object (see ``engine.datasets``); stops training first."""
        self.stop()
        self.dataset = ds
        self.trainer = None
        self.latest_evaluation = None
        self._clear_history()
        self.status_message.emit(tr("Dataset {}: {} training and {} validation images, {} classes.").format(
            tr(ds.name), len(ds.y_train), len(ds.y_test), ds.num_classes))
        self._report_skipped_files(ds)
        self.sample = None                    # the old dataset's image may not fit the new model
        self.latest_inspection = None
        self.dataset_changed.emit(ds)
        if self.model is None or not self._model_fits(self.model):
            self.set_preset(default_preset_for(ds))
        elif self.preset_name:
            # weights learned on another dataset would only confuse: the same preset, fresh weights
            self.set_preset(self.preset_name, use_preset_settings=False)
        self.select_validation_sample(0)
        self.dataset_ready.emit(ds)
        return True

    def _model_fits(self, model) -> bool:
        if self.dataset is None:
            return True
        return (tuple(model.input_shape) == tuple(self.dataset.input_shape)
                and int(model.num_classes) == int(self.dataset.num_classes))

    def set_preset(self, name: str, use_preset_settings: bool = True) -> bool:
        """Build preset ``name`` for the current dataset with the current seed.

        With ``use_preset_settings`` the optimizer, learning rate, batch size and epochs become the
        preset's (the settings its book used).
        """
        from engine.presets import PRESETS, build_preset

        if self.dataset is None:
            self._error(tr("Open a dataset before choosing a model."))
            return False
        try:
            model = build_preset(name, tuple(self.dataset.input_shape), int(self.dataset.num_classes),
                                 seed=int(self.options["seed"]))
        except Exception as exc:  # noqa: BLE001
            traceback.print_exc()
            self._error(tr("Could not build the model {}: {}").format(name, _message(exc)))
            return False
        preset = PRESETS.get(name)
        if use_preset_settings and preset is not None:
            self.options.update(optimizer=str(preset.optimizer).lower(), learning_rate=float(preset.learning_rate),
                                batch_size=int(preset.batch_size), epochs=int(preset.epochs))
            self.options_changed.emit(dict(self.options))
        return self.set_model(model, preset_name=name)

    def set_model(self, model, preset_name: str | None = None, path: str | None = None) -> bool:
        """Use ``model`` (built). Stops training; refuses a model that does not fit the dataset.

        ``preset_name`` / ``path`` say where it came from (shown in the training panel).
        """
        self.stop()
        if model.input_shape is None or not self._model_fits(model):
            ds = self.dataset
            self._error(tr("This model expects images of {} and {} classes, but the dataset {} has {} "
                           "and {} classes. The current model is kept.").format(
                _shape_text(model.input_shape), model.num_classes, ds.name,
                _shape_text(ds.input_shape), ds.num_classes))
            return False
        self.model = model
        self.preset_name = preset_name
        self.model_path = None if path is None else str(path)
        self.trainer = None
        self._inference_cache = None
        self._clear_history()
        self.selected_layer = self.default_layer()
        if self.state != "compiling":              # a model change does not end a compilation
            self._set_state("idle")
        self.model_changed.emit(model)
        self.layer_selected.emit(-1 if self.selected_layer is None else self.selected_layer)
        self.refresh_inspection()
        return True

    def default_layer(self) -> int | None:
        """The first layer with a spatial output (usually the first conv), else None."""
        if self.model is None:
            return None
        for row in self.model.summary_rows():
            if len(row.output_shape) == 3:
                return row.index
        return None

    def select_layer(self, index: int) -> None:
        if self.model is None or not 0 <= index < len(self.model.layers):
            return
        self.selected_layer = index
        self.layer_selected.emit(index)

    # ------------------------------------------------------------------------------------------
    # model files and edits
    # ------------------------------------------------------------------------------------------
    def save_model(self, path) -> str | None:
        """Save the current model (latest consistent weights) with its dataset, classes and history.

        Returns the path written, or None after reporting the error.
        """
        from engine.persistence import save_model

        model = self.current_model_copy()
        if model is None:
            self._error(tr("There is no model to save yet."))
            return None
        ds = self.dataset
        metadata = {
            "dataset": getattr(ds, "name", None),
            "class_names": list(getattr(ds, "class_names", []) or []),
            "preset": self.preset_name,
            "options": dict(self.options),
            "history": [
                {"epoch": int(e.epoch), "loss": float(e.loss), "accuracy": float(e.accuracy),
                 "val_loss": None if e.val_loss is None else float(e.val_loss),
                 "val_accuracy": None if e.val_accuracy is None else float(e.val_accuracy)}
                for e in self.history.epochs
            ],
        }
        try:
            written = save_model(path, model, metadata)
        except Exception as exc:  # noqa: BLE001
            self._error(tr("Could not save the model: {}").format(_message(exc)))
            return None
        self.status_message.emit(tr("Model saved to {}.").format(written))
        return str(written)

    def open_model(self, path) -> bool:
        """Load a model file; a corrupt file or one that does not fit the dataset is refused."""
        from engine.persistence import load_model

        try:
            model, metadata = load_model(path)
        except Exception as exc:  # noqa: BLE001
            self._error(tr("Could not open the model: {} The current model is kept.").format(_message(exc)))
            return False
        if not self.set_model(model, path=str(path)):
            return False
        self.loaded_metadata = metadata
        self.status_message.emit(tr("Model loaded from {}.").format(Path(path).name))
        return True

    def set_conv_filter(self, layer_index: int, filter_index: int, kernel, frozen: bool = False,
                        bias: float | None = None) -> None:
        """Put ``kernel`` ``(C, K, K)`` (and ``bias``) into one filter of a conv layer (the theater's
        "use in model"); ``frozen`` keeps it fixed while the other filters train."""
        if self.is_training:
            raise RuntimeError(tr("Pause training first, then change the filter."))
        layer = self.model.layers[layer_index]
        layer.set_filter(int(filter_index), kernel, bias=bias, freeze=frozen)
        self._inference_cache = None
        self.model_changed.emit(self.model)
        self.refresh_inspection()

    # ------------------------------------------------------------------------------------------
    # evaluation of the validation set (for the confusion-matrix drill-down)
    # ------------------------------------------------------------------------------------------
    def evaluation_key(self):
        snap = self.latest_snapshot
        return (id(self.model), len(self.history.epochs), int(getattr(snap, "step", 0)) if snap else 0)

    def request_evaluation(self) -> bool:
        """Evaluate the whole validation set on a copy of the weights, on a background thread.

        ``evaluation_ready(EvalResult)`` follows (loss, accuracy, confusion, every prediction).
        Returns False when nothing could be started (no data or kernels yet); a request made while
        another evaluation runs is queued (the newest one wins).
        """
        if self.model is None or self.dataset is None or self._shut_down or not self.kernels_warm:
            return False
        key = ("all", self.evaluation_key())
        if self.latest_evaluation is not None and self.latest_evaluation[0] == key:
            self.evaluation_ready.emit(self.latest_evaluation[1])
            return True
        x, y = self.dataset.x_test, self.dataset.y_test

        def job(model):
            return model.evaluate(x, y, batch_size=256)

        self._run_evaluation(key, job)
        self.status_message.emit(tr("Evaluating the validation images..."))
        return True

    def request_class_predictions(self, true_class: int, epoch: int | None = None) -> bool:
        """Predict the validation images of one true class (a row of the confusion matrix).

        A tenth of the work of :meth:`request_evaluation` for ten classes, so a click on a cell is
        answered at once even while training. With ``epoch`` (0-based) the weights of the end of that
        epoch are used, so the images match that epoch's matrix; otherwise the current weights.
        ``predictions_ready(ClassPredictions)`` follows.
        """
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
            probs = np.asarray(model.predict_proba(x), dtype=np.float32) if len(x) else \
                np.zeros((0, int(model.num_classes)), np.float32)
            return ClassPredictions(int(true_class), indices, probs.argmax(axis=1) if len(probs) else
                                    np.zeros(0, np.int64), probs)

        self._run_evaluation(key, job, weights)
        return True

    def _run_evaluation(self, key, job, weights=None) -> None:
        """Run ``job(model_copy)`` on a helper thread (one at a time; the newest request waits)."""
        if self._eval_thread is not None and self._eval_thread.is_alive():
            self._eval_pending = (key, job, weights)
            return
        model = self.current_model_copy()
        if model is self._inference_cache_model():
            # the helper thread gets its own copy: layers keep per-call caches, so two threads must
            # never run the same model object (the GUI thread predicts with the shared copy)
            model = model.clone()
        if weights is not None:
            model.set_weights(weights)
        done = self._evaluation_done

        def run() -> None:
            # A plain Python thread: numba kernels release the GIL, so the GUI stays smooth. The
            # result reaches the GUI thread through a queued signal of the controller.
            try:
                result = job(model)
            except Exception as exc:  # noqa: BLE001
                traceback.print_exc()
                result = exc
            done.emit(key, result)

        self._eval_thread = threading.Thread(target=run, name="convscope-evaluate", daemon=True)
        self._eval_thread.start()

    @Slot(object, object)
    def _on_evaluation_done(self, key, result) -> None:
        pending, self._eval_pending = self._eval_pending, None
        if pending is not None and not self._shut_down:
            self._eval_thread = None
            self._run_evaluation(*pending)
        if isinstance(result, Exception):
            self._error(tr("Could not evaluate the validation images: {}").format(_message(result)))
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

    # ------------------------------------------------------------------------------------------
    # training options
    # ------------------------------------------------------------------------------------------
    def set_options(self, **changes) -> None:
        """Change optimizer/learning_rate/momentum/batch_size/epochs/seed.

        They apply to the next training run (Start after Stop or Reset); a paused run continues with
        the options it started with, except the learning rate, which applies on Resume.
        """
        unknown = set(changes) - set(DEFAULT_OPTIONS)
        if unknown:
            raise KeyError(f"unknown training options: {sorted(unknown)}")
        self.options.update(changes)
        if "learning_rate" in changes and self.trainer is not None and not self.is_training:
            self._apply_learning_rate(self.trainer)
        self.options_changed.emit(dict(self.options))

    def _apply_learning_rate(self, trainer) -> None:
        opt = getattr(trainer, "optimizer", None)
        if opt is not None and hasattr(opt, "learning_rate"):
            opt.learning_rate = float(self.options["learning_rate"])

    def _make_optimizer(self):
        from engine import optimizers

        name = str(self.options["optimizer"]).lower()
        lr = float(self.options["learning_rate"])
        if name == "sgd":
            return optimizers.SGD(learning_rate=lr, momentum=float(self.options["momentum"]))
        if name == "rmsprop":
            return optimizers.RMSprop(learning_rate=lr)
        return optimizers.Adam(learning_rate=lr)

    def _make_trainer(self):
        from engine.training import Trainer

        ds = self.dataset
        return Trainer(self.model, self._make_optimizer(), ds.x_train, ds.y_train, ds.x_test, ds.y_test,
                       batch_size=int(self.options["batch_size"]), epochs=int(self.options["epochs"]),
                       seed=int(self.options["seed"]))

    # ------------------------------------------------------------------------------------------
    # training commands
    # ------------------------------------------------------------------------------------------
    def _ready_to_train(self) -> bool:
        if self._shut_down:
            return False
        if self.dataset is None or self.model is None:
            self._error(tr("Choose a dataset and a model first."))
            return False
        return True

    def start(self) -> bool:
        """Start training (or resume a paused run). Returns False when nothing was started."""
        if not self._ready_to_train() or self.is_training:
            return False
        if not self.kernels_warm:
            self._pending_after_warmup = "start"
            self.warm_up()
            self.status_message.emit(tr("Training starts as soon as the kernels are compiled."))
            return True
        if self.trainer is None or getattr(self.trainer, "done", False) or self.state == "diverged":
            try:
                self.trainer = self._make_trainer()
            except Exception as exc:  # noqa: BLE001
                traceback.print_exc()
                self._error(tr("Could not start training: {}").format(_message(exc)))
                return False
            if self.state in ("finished", "idle"):
                self._clear_history()
        else:
            self._apply_learning_rate(self.trainer)
        self._run_id += 1
        self.worker.stop_event.clear()
        self.worker.sample = None if self.sample is None else self.sample.x
        self._set_state("training")
        self.status_message.emit(tr("Training..."))
        self._submit(_Job("run", self._run_id, trainer=self.trainer))
        return True

    def resume(self) -> bool:
        return self.start()

    def pause(self) -> None:
        """Ask the running training to stop after the current batch; it can be resumed."""
        if self._busy_kind == "run" and self.is_busy:
            self.worker.stop_event.set()
        elif self._pending_after_warmup:
            self._pending_after_warmup = None

    def step(self) -> bool:
        """Train exactly one batch, then pause."""
        if not self._ready_to_train() or self.is_training:
            return False
        if not self.kernels_warm:
            self._pending_after_warmup = "step"
            self.warm_up()
            return True
        if self.trainer is None or getattr(self.trainer, "done", False) or self.state == "diverged":
            try:
                self.trainer = self._make_trainer()
            except Exception as exc:  # noqa: BLE001
                self._error(tr("Could not start training: {}").format(_message(exc)))
                return False
        self._run_id += 1
        self.worker.sample = None if self.sample is None else self.sample.x
        self._set_state("training")
        self._submit(_Job("step", self._run_id, trainer=self.trainer))
        return True

    def stop(self, timeout: float = STOP_TIMEOUT) -> bool:
        """End the current training (the weights learned so far are kept) and wait for the worker.

        Returns True when the worker is idle afterwards (or was already). A kernel warm-up cannot be
        interrupted; stop() does not wait for it (see :meth:`shutdown`).
        """
        self._pending_after_warmup = None
        if self._busy_kind == "warmup":
            return True
        if not self.is_busy:
            if self.trainer is not None and self.state in ("paused", "diverged", "finished"):
                self.trainer = None
                self._set_state("idle")
            return True
        self.worker.stop_event.set()
        ok = self.worker.idle_event.wait(timeout)
        if ok:
            self._run_id += 1          # late signals of the stopped run are ignored
            self._busy_kind = None
            self.trainer = None
            self._set_state("idle")
            self.status_message.emit(tr("Training stopped. The weights learned so far are kept."))
            self.refresh_inspection()
        return ok

    def reset(self) -> None:
        """Stop, then give the model fresh initial weights from the seed (same seed, same weights)."""
        self.stop()
        if self.model is None:
            return
        from engine.network import Sequential

        try:
            model = Sequential.from_config(self.model.get_config(), seed=int(self.options["seed"]))
        except Exception as exc:  # noqa: BLE001
            self._error(tr("Could not reset the model: {}").format(_message(exc)))
            return
        self.set_model(model, preset_name=self.preset_name, path=self.model_path)
        self.status_message.emit(tr("Weights reset from seed {}.").format(self.options["seed"]))

    def shutdown(self, timeout: float = 30.0) -> bool:
        """Stop training and end the worker thread (window close, tests). Returns True when it ended.

        A running kernel compilation cannot be interrupted, so this may wait for it to finish.
        """
        if self._shut_down:
            return True
        _LIVE_CONTROLLERS.discard(self)
        self.worker.stop_event.set()
        self._pending_after_warmup = None
        if self._busy_kind == "warmup":
            timeout = max(timeout, 600.0)   # a compilation always ends; leaving before it would abort
        self.worker.idle_event.wait(timeout)
        for helper in (self._eval_thread, self._load_thread):
            if helper is not None:
                helper.join(timeout)
        self._thread.quit()
        ended = self._thread.wait(int(timeout * 1000))
        self._shut_down = ended
        self._busy_kind = None
        return ended

    # ------------------------------------------------------------------------------------------
    # worker reports (GUI thread)
    # ------------------------------------------------------------------------------------------
    @Slot(object, int)
    def _on_batches(self, metrics: list, run_id: int) -> None:
        if run_id != self._run_id or not metrics:
            return
        if self.first_step_time is None:
            self.first_step_time = time.perf_counter()
        self.history.batches.extend(metrics)
        self.batch_metrics_ready.emit(metrics[-1])

    @Slot(object, int)
    def _on_epoch(self, metrics, run_id: int) -> None:
        if run_id != self._run_id:
            return
        self._awaiting_epoch_weights = int(metrics.epoch)   # the engine's next snapshot is its end
        self.history.epochs.append(metrics)
        self.epoch_metrics_ready.emit(metrics)

    @Slot(object, int)
    def _on_snapshot(self, snapshot, run_id: int) -> None:
        if run_id != self._run_id:
            return
        self.latest_snapshot = snapshot
        waiting = self._awaiting_epoch_weights
        if waiting is not None and int(getattr(snapshot, "epoch", -1)) == waiting + 1:
            # weights at the end of that epoch: the confusion-matrix drill-down of that epoch uses them
            self._awaiting_epoch_weights = None
            self.epoch_end_weights[waiting] = list(snapshot.weights)
            for old_epoch in sorted(self.epoch_end_weights)[:-MAX_EPOCH_WEIGHTS]:
                del self.epoch_end_weights[old_epoch]
        self.snapshot_ready.emit(snapshot)
        inspection = self._inspection_from_snapshot(snapshot)
        if inspection is not None:
            self.latest_inspection = inspection
            self.inspection_ready.emit(inspection)

    @Slot(str, int)
    def _on_job_finished(self, outcome: str, run_id: int) -> None:
        if run_id != self._run_id:
            return
        self._busy_kind = None
        if outcome == "finished":
            self._set_state("finished")
            self.status_message.emit(tr("Training finished."))
        elif outcome == "stopped":
            self._set_state("paused")
            self.status_message.emit(tr("Paused. Press Resume to continue."))
        elif outcome == "stepped":
            self._set_state("paused")
        elif outcome == "diverged":
            self._set_state("diverged")
            lr = float(self.options["learning_rate"])
            self._error(tr("Training paused: the loss became infinite or NaN (not a number), so the "
                           "weights were blowing up. The last good weights are kept. Try a lower learning "
                           "rate, e.g. {}.").format(_format_lr(lr / 10)))
            self.refresh_inspection()
        else:
            self._set_state("paused")

    @Slot(str, int)
    def _on_job_failed(self, message: str, run_id: int) -> None:
        if run_id != self._run_id:
            return
        self._busy_kind = None
        self.trainer = None
        self._set_state("idle")
        self._error(tr("Training stopped because of an error: {}").format(message))

    def _clear_history(self) -> None:
        self.history = _History()
        self.epoch_end_weights = {}
        self._awaiting_epoch_weights = None
        self.latest_snapshot = None
        self.first_step_time = None
        self.history_reset.emit()

    # ------------------------------------------------------------------------------------------
    # sample, inspection and classification
    # ------------------------------------------------------------------------------------------
    def select_validation_sample(self, index: int) -> None:
        ds = self.dataset
        if ds is None or len(ds.y_test) == 0:
            return
        index = int(index) % len(ds.y_test)
        x = ds.x_test[index].astype(np.float32) / 255.0
        self._set_sample(Sample(x=np.ascontiguousarray(x), label=int(ds.y_test[index]),
                                source="validation", index=index))

    def set_sample(self, array, label: int | None = None, source: str = "file", name: str = "",
                   original: np.ndarray | None = None) -> None:
        """Show ``array`` (float32 ``(C, H, W)`` in [0, 1], or uint8) in the inspection panels."""
        x = np.asarray(array)
        if x.dtype == np.uint8:
            x = x.astype(np.float32) / 255.0
        x = np.ascontiguousarray(x, dtype=np.float32)
        if self.model is not None and tuple(x.shape) != tuple(self.model.input_shape):
            self._error(tr("The image has shape {} but the model expects {}.").format(
                _shape_text(x.shape), _shape_text(self.model.input_shape)))
            return
        self._set_sample(Sample(x=x, label=label, source=source, name=name, original=original))

    def _set_sample(self, sample: Sample) -> None:
        self.sample = sample
        self.worker.sample = sample.x        # the next snapshot of a running trainer uses it
        self.sample_changed.emit(sample)
        self.refresh_inspection()

    def refresh_inspection(self) -> None:
        """Compute weights + activations of the selected sample now, on a copy of the weights."""
        if self.model is None or self.sample is None or not self.kernels_warm:
            return
        try:
            model = self.current_model_copy()
            acts = model.forward(self.sample.x[None], training=False, return_all=True)
        except Exception as exc:  # noqa: BLE001
            traceback.print_exc()
            self._error(tr("Could not compute the feature maps: {}").format(_message(exc)))
            return
        activations = [np.array(a[0], copy=True) for a in acts]
        logits = activations[-1].astype(np.float64)
        probs = _softmax_if_logits(logits)
        step = 0
        epoch = 0
        if self.latest_snapshot is not None:
            step = int(getattr(self.latest_snapshot, "step", 0))
            epoch = int(getattr(self.latest_snapshot, "epoch", 0))
        inspection = Inspection(weights=model.get_weights(), activations=activations,
                                probabilities=probs.astype(np.float32), sample=self.sample,
                                step=step, epoch=epoch, live=self.is_training)
        self.latest_inspection = inspection
        self.inspection_ready.emit(inspection)

    def _inspection_from_snapshot(self, snapshot) -> Inspection | None:
        acts = getattr(snapshot, "activations", None)
        if acts is None or self.sample is None:
            return None
        acts = [np.asarray(a) for a in acts]
        if acts and acts[0].ndim == 4:
            acts = [a[0] for a in acts]
        if acts and tuple(acts[0].shape) != tuple(self.sample.x.shape):
            return None                    # a snapshot of the previous sample: the next one will match
        if self.model is not None and len(acts) == len(self.model.layers):
            acts = [self.sample.x] + acts
        probs = getattr(snapshot, "probabilities", None)
        if probs is None:
            probs = _softmax_if_logits(np.asarray(acts[-1], dtype=np.float64))
        probs = np.asarray(probs, dtype=np.float32).reshape(-1)
        return Inspection(weights=list(getattr(snapshot, "weights", [])), activations=acts,
                          probabilities=probs, sample=self.sample,
                          step=int(getattr(snapshot, "step", 0)), epoch=int(getattr(snapshot, "epoch", 0)),
                          live=True)

    def _inference_cache_model(self):
        return None if self._inference_cache is None else self._inference_cache[1]

    def current_model_copy(self):
        """An independent copy of the model with the latest consistent weights.

        While training runs, the trainer mutates the model's arrays in place; the copy then takes the
        weights of the latest snapshot (copies made between batches) instead.
        """
        if self.model is None:
            return None
        if self.is_training and self.latest_snapshot is not None and getattr(self.latest_snapshot, "weights", None):
            key = ("snapshot", id(self.latest_snapshot))
            if self._inference_cache is not None and self._inference_cache[0] == key:
                return self._inference_cache[1]
            copy = self.model.clone()
            copy.set_weights(self.latest_snapshot.weights)
            self._inference_cache = (key, copy)
            return copy
        if self.is_training:
            # No snapshot yet: the very first batches. A clone may catch a half-updated array, which
            # is harmless for a picture and is replaced by the first snapshot a fraction of a second later.
            return self.model.clone()
        return self.model.clone()

    def classify(self, array) -> np.ndarray:
        """Class probabilities ``(K,)`` of one image ``(C, H, W)`` (float32 in [0,1] or uint8).

        Runs on a copy of the weights, never on the weights the trainer is changing.
        """
        x = np.asarray(array)
        if x.dtype == np.uint8:
            x = x.astype(np.float32) / 255.0
        x = np.ascontiguousarray(x, dtype=np.float32)
        model = self.current_model_copy()
        if model is None:
            raise RuntimeError("no model")
        return np.asarray(model.predict_proba(x[None]), dtype=np.float32)[0]


def _softmax_if_logits(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64).reshape(-1)
    if v.size and np.all(v >= 0) and abs(v.sum() - 1.0) < 1e-4:
        return v                           # already probabilities (a model ending in Softmax)
    e = np.exp(v - v.max()) if v.size else v
    return e / e.sum() if v.size else v


def _shape_text(shape) -> str:
    """(C, H, W) -> 'H x W x C' as Keras prints it; (D,) -> 'D'."""
    if shape is None:
        return "?"
    shape = tuple(int(s) for s in shape)
    if len(shape) == 3:
        c, h, w = shape
        return f"{h} x {w} x {c}"
    return " x ".join(str(s) for s in shape)


def _format_lr(lr: float) -> str:
    return f"{lr:.0e}" if lr < 1e-3 else f"{lr:g}"


shape_text = _shape_text
