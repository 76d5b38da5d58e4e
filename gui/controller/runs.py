"""Recording runs and travelling through their timeline (part of :class:`~gui.controller.TrainingController`).

Every training run started in the window is recorded: a :class:`TimelineRecorder` (an engine
``RunRecorder``) rides on the worker's ``Trainer.run`` callbacks, keeps the bounded in-memory
timeline (``engine.runs.RunHistory`` plus the probe's full inspection at each kept moment) and feeds
the run store's writer thread. The store (``engine.runs.RunStore``) opens at start-up from
``$CONVSCOPE_RUNS_DIR`` (``--runs-dir`` sets it) or the user's data folder; a problem with it (a
corrupt database set aside) is a message, never a crash.

Moving :attr:`timeline` to a past moment publishes that moment's inspection through the usual
``inspection_ready`` (``live=False``) and tells ``timeline_moved``; live snapshots are then held
back until the timeline is live again.
"""

from __future__ import annotations

import threading
from dataclasses import replace

import numpy as np

from engine.network import Sequential
from engine.runs import RunHistory, RunRecorder, RunStore, resume_trainer
from engine.runs.files import optimizer_state
from engine.runs.history import conv_filters
from engine.runs.replay import RunReplay
from gui.controller.options import DEFAULT_OPTIONS, make_trainer
from gui.controller.values import Inspection, Sample
from gui.i18n import tr, tr_error
from gui.timeline.model import TimelineModel

__all__ = ["ReopenedTimeline", "RunRecording", "TimelineRecorder", "apply_branch_changes", "run_settings"]

BRANCH_KEYS = ("optimizer", "learning_rate", "dropout", "frozen_filters")
MAX_EPOCH_WEIGHTS = 10      # epochs whose full weights the in-memory timeline keeps (the store keeps all)


class TimelineRecorder(RunRecorder):
    """A ``RunRecorder`` that also keeps the probe's whole engine ``Inspection`` at each kept moment,
    so the panels can show the past exactly as they show the present (weights, pool switches...).

    The inspections follow the history's bound: one per kept moment, dropped with it.
    """

    def __init__(self, trainer, probe_sample: Sample, history: RunHistory, writer=None):
        super().__init__(trainer, probe=probe_sample.x, history=history, writer=writer)
        self.probe_sample = probe_sample
        self.started = False
        self._inspections: dict[int, object] = {}
        self._lock = threading.Lock()

    def start(self) -> None:
        """The first moment (also for a run continued mid-schedule: forced) and checkpoint 0 of a new run."""
        if self.started:
            return
        self.started = True
        trainer = self.trainer
        self._record(trainer.step_count, trainer.step_count / max(trainer.batches_per_epoch, 1), force=True)
        if self.writer is not None and trainer.step_count == 0:
            self.writer.checkpoint(0, 0, trainer.model.get_weights(), optimizer_state(trainer.optimizer))

    def on_epoch_end(self, metrics) -> None:
        super().on_epoch_end(metrics)
        # Bounded: the full weights of only the newest epochs stay in memory (every epoch's are on disk);
        # older epochs keep their step and confusion matrix.
        history = self.history
        for epoch in history.epochs()[:-MAX_EPOCH_WEIGHTS]:
            record = history.epoch_record(epoch)
            if record.weights:
                history.record_epoch(epoch, record.step, (), record.confusion)

    def _record(self, step: int, epoch_position: float, loss=None, accuracy=None, force: bool = False) -> None:
        history = self.history
        if not (force or history.wants(step)):
            return
        with np.errstate(over="ignore", invalid="ignore"):
            ins = self.trainer.model.inspect(self.probe)
        moment = history.record_step(
            step, epoch_position, loss=loss, accuracy=accuracy, force=force,
            filters=conv_filters(ins.layer_names, ins.weights), activations=ins.activations,
            probabilities=ins.probabilities, layer_names=ins.layer_names)
        if moment is None:
            return
        # share the moment's copies of the input and layer outputs: a kept moment costs them once
        ins = replace(ins, input=moment.activations[0], outputs=moment.activations[1:])
        kept = set(history.steps)
        with self._lock:
            self._inspections[moment.step] = ins
            for old in [s for s in self._inspections if s not in kept]:
                del self._inspections[old]
        if self.writer is not None:
            self.writer.moment(moment, ins.weights)

    def inspection_at(self, step: int):
        with self._lock:
            return self._inspections.get(int(step))

    @property
    def nbytes(self) -> int:
        """Bytes the timeline holds: the history's arrays plus what the kept inspections add (weights,
        pre-activations, pooling switches; their outputs are the moments' own arrays)."""
        with self._lock:
            inspections = list(self._inspections.values())
        extra = 0
        for ins in inspections:
            extra += sum(a.nbytes for w in ins.weights for a in w.values())
            extra += sum(a.nbytes for a in (*ins.pre_activations, *ins.pool_switches) if a is not None)
            extra += ins.logits.nbytes + ins.probabilities.nbytes
        return self.history.nbytes + extra


class ReopenedTimeline:
    """A stored run's timeline in the recorder's place: the panels scrub it as they scrub a live run.
    Nothing is recorded into it (no trainer, no writer); a new training run replaces it."""

    trainer = None
    writer = None

    def __init__(self, replay: RunReplay, probe_sample: Sample):
        self.replay = replay
        self.history = replay.history
        self.probe_sample = probe_sample
        self.run_id = replay.run_id

    def inspection_at(self, step: int):
        return self.replay.inspection_at(step)

    @property
    def nbytes(self) -> int:
        return self.history.nbytes

    def finish(self, status: str) -> bool:
        return True


def run_settings(options: dict, model, preset_name: str | None) -> dict:
    """What a run is remembered by: the training options, the preset, Dropout rates, frozen filters."""
    dropouts = [float(layer.rate) for layer in model.layers if type(layer).__name__ == "Dropout"]
    frozen = {layer.name: sorted(layer.frozen_filters) for layer in model.layers
              if getattr(layer, "frozen_filters", None)}
    settings = {k: options[k] for k in DEFAULT_OPTIONS}
    settings.update(preset=preset_name, dropout=dropouts[0] if dropouts else None, frozen_filters=frozen)
    return settings


def apply_branch_changes(architecture: dict, changes: dict) -> dict:
    """The architecture with ``changes["dropout"]`` (a rate; 0 = off) and ``changes["frozen_filters"]``
    (``{conv layer name: [filter indices]}``) written into its layer configs."""
    layers = []
    for config in architecture["layers"]:
        config = {"class_name": config["class_name"], "config": dict(config["config"])}
        name = config["config"].get("name")
        if config["class_name"] == "Dropout" and changes.get("dropout") is not None:
            config["config"]["rate"] = float(changes["dropout"])
        frozen = changes.get("frozen_filters")
        if config["class_name"] == "Conv2D" and frozen is not None:
            config["config"]["frozen_filters"] = sorted(int(i) for i in frozen.get(name, ()))
        layers.append(config)
    return {**architecture, "layers": layers}


class RunRecording:
    """The run store, the recorder of the current run, and the timeline over it."""

    def _init_runs(self) -> None:
        self.run_store: RunStore | None = None
        self.recorder: TimelineRecorder | None = None
        self.timeline = TimelineModel()
        self.timeline.subscribe(self._on_timeline_changed)
        self._store_opened = False
        self._held_live: Inspection | None = None
        self._publishing_moment = False
        self._pending_run: tuple | None = None      # (writer, parent info) of a continued/branched run

    def report_error(self, message: str) -> None:
        """A message for the message bar (the Runs tab's failures)."""
        self._error(message)

    # -- the store --------------------------------------------------------------------------------
    def open_run_store(self, root=None) -> RunStore | None:
        """Open the run store (``root`` or the default folder); problems become a message."""
        self._store_opened = True
        self.close_run_store()
        try:
            self.run_store = RunStore(root)
        except Exception as exc:  # noqa: BLE001 - no store: runs are not kept, the app goes on
            self.run_store = None
            self._error(tr("Runs cannot be kept: {}").format(tr_error(exc)))
        else:
            if self.run_store.problem is not None:
                self._error(tr("The runs database was damaged and was set aside as {}; a new one was "
                               "started. {}").format(self.run_store.set_aside, tr_error(self.run_store.problem)))
        self.runs_changed.emit()
        return self.run_store

    def _ensure_store(self) -> RunStore | None:
        if not self._store_opened:
            self.open_run_store()
        return self.run_store

    def close_run_store(self) -> None:
        if self.run_store is not None:
            self.run_store.close()
            self.run_store = None

    # -- recording ---------------------------------------------------------------------------------
    def _attach_recorder(self, job) -> None:
        """Give ``job`` the recorder of its trainer (a new run gets a new recorder and timeline)."""
        if self.recorder is None or self.recorder.trainer is not self.trainer:
            self._begin_recording()
        job.recorder = self.recorder

    def _begin_recording(self) -> None:
        self._finish_recording("stopped")
        trainer = self.trainer
        probe = self.sample or Sample(x=trainer.default_sample, label=trainer.default_label)
        writer = None
        pending, self._pending_run = self._pending_run, None
        store = self._ensure_store()
        if pending is not None:
            writer = pending[0]
        elif store is not None:
            ds = self.dataset
            o = self.options
            name = f"{self.preset_name or self.model.name} {o['optimizer']} lr={o['learning_rate']:g}"
            try:
                writer = store.start_run(name, ds.name, self.model.get_config(),
                                         run_settings(self.options, self.model, self.preset_name))
            except Exception as exc:  # noqa: BLE001
                self._error(tr("This run is not kept on disk: {}").format(tr_error(exc)))
        self.recorder = TimelineRecorder(trainer, probe, RunHistory(), writer)
        self._held_live = None
        self.timeline.reset()
        self.runs_changed.emit()

    def _finish_recording(self, status: str) -> None:
        """The current run ended (``status``: finished, stopped, diverged): its writer is closed; the
        timeline stays viewable until the next run."""
        recorder = self.recorder
        if recorder is None or recorder.writer is None or recorder.writer.closed:
            return
        if not recorder.finish(status) and recorder.writer.error is not None:
            self._error(tr("Part of the run could not be written: {}").format(tr_error(recorder.writer.error)))
        self.runs_changed.emit()

    @property
    def current_run_id(self) -> int | None:
        r = self.recorder
        return None if r is None or r.writer is None else r.writer.run_id

    def _sync_timeline(self, *_args) -> None:
        """New kept moments (called after each batch report): the bar grows; a shown past stays."""
        if self.recorder is None:
            return
        history = self.recorder.history
        moments = history.moments()
        epoch_steps = {e: history.epoch_record(e).step for e in history.epochs()}
        self.timeline.set_moments([m.step for m in moments], [m.epoch for m in moments], epoch_steps)

    # -- the timeline ------------------------------------------------------------------------------
    def _hold_live(self, inspection: Inspection) -> bool:
        """True when an inspection of the present (a live snapshot, or one computed after a run ended)
        must wait because the window shows the past."""
        if self._publishing_moment or self.timeline.is_live:
            return False
        self._held_live = inspection
        return True

    def _on_timeline_changed(self, names) -> None:
        if "position" not in names:
            return
        position = self.timeline.position
        if position.live:
            held, self._held_live = self._held_live, None
            self.timeline_moved.emit(position)
            if held is not None:
                self._publish(held)
            elif not self.is_training:
                self.refresh_inspection()
            return
        ins = None if self.recorder is None else self.recorder.inspection_at(position.step)
        current = self.latest_inspection
        if self._held_live is None and current is not None and current.live:
            self._held_live = current     # leaving the present: "live" comes back to it (or to a newer one)
        self.timeline_moved.emit(position)
        if ins is not None:
            self._publishing_moment = True
            try:
                self._publish(Inspection(ins, self.recorder.probe_sample, position.step, position.finished_epochs,
                                         live=False))
            finally:
                self._publishing_moment = False

    def moment_inspection(self):
        """The engine inspection of the shown past moment (None while live)."""
        position = self.timeline.position
        if position.live or self.recorder is None:
            return None
        return self.recorder.inspection_at(position.step)

    def classify_at_moment(self, x):
        """Probabilities ``(K,)`` of image ``x`` ``(C, H, W)`` under the shown moment's weights (None while
        live). One inference forward on a private model copy: milliseconds, also while training."""
        ins = self.moment_inspection()
        if ins is None or self.model is None:
            return None
        copy = getattr(self, "_moment_model", None)
        if copy is None or copy[0] is not self.model:
            copy = (self.model, Sequential.from_config(self.model.get_config()))
            self._moment_model = copy
        try:
            copy[1].set_weights(list(ins.weights))
            return copy[1].predict_proba(np.asarray(x, np.float32)[None])[0]
        except Exception as exc:  # noqa: BLE001 - the bars keep their last values
            self._error(tr("Could not classify with the weights of that moment: {}").format(tr_error(exc)))
            return None

    def timeline_confusion(self, epoch: int):
        """The validation confusion matrix kept at the end of ``epoch`` (from 1), or None."""
        history = None if self.recorder is None else self.recorder.history
        if history is None or int(epoch) not in history.epochs():
            return None
        return history.epoch_confusion(int(epoch))

    # -- runs of the store -------------------------------------------------------------------------
    def _model_of_run(self, info, weights, changes: dict | None = None):
        architecture = apply_branch_changes(info.architecture, changes or {})
        model = Sequential.from_config(architecture, seed=int(self.options["seed"]))
        model.set_weights(list(weights))
        return model

    def _dataset_for(self, info) -> bool:
        if info.dataset and (self.dataset is None or self.dataset.name != info.dataset):
            return self.set_dataset(info.dataset)
        return True

    def reopen_run(self, run_id: int) -> bool:
        """Use run ``run_id``'s final weights (its latest checkpoint) as the window's model."""
        store = self._ensure_store()
        try:
            info = store.run(run_id)
            checkpoint = store.checkpoint(run_id)
            if not self._dataset_for(info):
                return False
            model = self._model_of_run(info, checkpoint.weights)
        except Exception as exc:  # noqa: BLE001
            self._error(tr("Could not reopen the run: {}").format(tr_error(exc)))
            return False
        if not self.set_model(model, preset_name=info.settings.get("preset")):
            return False
        self.options.update({k: info.settings[k] for k in DEFAULT_OPTIONS if k in info.settings})
        self.options_changed.emit(dict(self.options))
        self._show_stored_timeline(store, run_id)
        self.status_message.emit(tr("Model of run \"{}\" (epoch {}) reopened.").format(info.name, checkpoint.epoch))
        return True

    def _show_stored_timeline(self, store, run_id: int) -> None:
        """The reopened run's curves and timeline: its stored moments, epoch ends and metrics."""
        try:
            replay = RunReplay(store, run_id, seed=int(self.options["seed"]))
            settings = replay.info.settings
            batches, epochs = replay.metrics(float(settings.get("learning_rate") or 0.0),
                                             int(settings.get("batch_size") or 0))
        except Exception as exc:  # noqa: BLE001 - the model is reopened; only its past is missing
            self._error(tr("Could not read the run's timeline: {}").format(tr_error(exc)))
            return
        if replay.probe is None:
            return
        self.recorder = ReopenedTimeline(replay, self._probe_sample(replay.probe))
        self._held_live = None
        self.timeline.reset()
        self.history.batches.extend(batches)
        self.history.epochs.extend(epochs)
        if batches:
            self.batch_metrics_ready.emit(batches[-1])
        if epochs:
            self.epoch_metrics_ready.emit(epochs[-1])
        self._sync_timeline()

    def _probe_sample(self, x) -> Sample:
        """The recorded probe image as a :class:`Sample`: the validation image it was, when the dataset
        holds it (its number and true class show under the feature maps)."""
        ds = self.dataset
        x = np.asarray(x, np.float32)
        if ds is not None and ds.x_test is not None and tuple(ds.x_test.shape[1:]) == x.shape:
            pixels = np.rint(x * 255).astype(np.uint8).reshape(-1)
            flat = ds.x_test.reshape(len(ds.x_test), -1)
            hits = np.flatnonzero((flat == pixels).all(axis=1)) if len(flat) else ()
            if len(hits):
                i = int(hits[0])
                return Sample(x=x, label=int(ds.y_test[i]), source="validation", index=i)
        return Sample(x=x, source="file", name=tr("the run's probe image"))

    @property
    def reopened_run_id(self) -> int | None:
        """The stored run whose timeline the window shows (None for a run recorded in this window)."""
        return self.recorder.run_id if isinstance(self.recorder, ReopenedTimeline) else None

    def continue_run(self, run_id: int) -> bool:
        """Continue an interrupted or stopped run from its last epoch checkpoint (same run on disk)."""
        return self._resume_from(run_id, None, None)

    def branch_run(self, run_id: int, epoch: int, changes: dict, epochs: int | None = None) -> int | None:
        """"Continue from here": a new run from run ``run_id``'s weights at the end of ``epoch`` with
        ``changes`` (optimizer, learning_rate, dropout, frozen_filters); it remembers its parent.
        Training starts at once for ``epochs`` more epochs (default: the options' epochs). Returns its id."""
        return self._resume_from(run_id, epoch, changes, epochs)

    def _resume_from(self, run_id, epoch, changes, epochs=None):
        store = self._ensure_store()
        if store is None or self._shut_down:
            return None
        self._end_training()
        try:
            info = store.run(run_id)
            if not self._dataset_for(info):
                return None
            if epoch is None:
                writer, checkpoint = store.continue_run(run_id)
                new_id, settings = run_id, info.settings
            else:
                unknown = set(changes) - set(BRANCH_KEYS)
                if unknown:
                    raise KeyError(f"unknown branch settings: {sorted(unknown)}")
                new_id = store.branch(run_id, epoch, changes)
                settings = store.run(new_id).settings
                checkpoint = store.checkpoint(new_id)
                writer = store.open_writer(new_id)
            try:
                model = self._model_of_run(info, checkpoint.weights, changes)
            except Exception:
                writer.close("stopped")
                raise
        except Exception as exc:  # noqa: BLE001
            self._error(tr("Could not continue the run: {}").format(tr_error(exc)))
            self.runs_changed.emit()
            return None
        self.set_model(model, preset_name=settings.get("preset"))
        self.options.update({k: settings[k] for k in DEFAULT_OPTIONS if k in settings})
        self.options_changed.emit(dict(self.options))
        trainer = make_trainer(self.model, self.dataset, self.options)
        resume_trainer(trainer, checkpoint)
        if epoch is not None or trainer.done:
            trainer.epochs = checkpoint.epoch + int(epochs or self.options["epochs"])
        self.trainer = trainer
        self._set_state("paused")                   # start() keeps a paused trainer
        self._pending_run = (writer, info)
        self.runs_changed.emit()
        self.start()
        return new_id

    def _close_runs(self) -> None:
        """Shutdown: the run being written is closed as stopped (its checkpoints are on disk)."""
        self._finish_recording("stopped")
        pending, self._pending_run = self._pending_run, None
        if pending is not None and not pending[0].closed:
            pending[0].close("stopped")
        self.close_run_store()

