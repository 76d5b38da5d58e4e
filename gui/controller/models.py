"""Datasets and models of the :class:`~gui.controller.TrainingController`: loading a dataset (now or on a
helper thread), choosing a preset or a model, model files, and editing one conv filter.

A mixin of the controller (GUI thread): it uses the controller's state and signals.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Slot

from engine.persistence import load_model, save_model
from engine.presets import PRESETS, build_preset
from engine.shapes import format_shape
from gui.controller.jobs import load_dataset
from gui.controller.options import default_preset_for
from gui.i18n import tr, tr_error


class ModelSetup:
    """Dataset and model choice (part of ``TrainingController``)."""

    # ------------------------------------------------------------------------------------------
    # dataset and model
    # ------------------------------------------------------------------------------------------
    def set_dataset(self, name_or_path, data_dir: str | None = None, folder_options: dict | None = None) -> bool:
        """Load a dataset by name ("shapes", "mnist", "fashion_mnist") or an image-folder path, now;
        ``folder_options`` (``color``, ``image_size``) say how a folder's pictures are read.

        Keeps the current dataset and reports a message when loading fails. (The window uses
        :meth:`load_dataset_async`, which does the same without blocking the GUI.)
        """
        name = str(name_or_path)
        self.status_message.emit(tr("Loading dataset {}...").format(name))
        try:
            ds = load_dataset(name, int(self.options["seed"]), data_dir, folder_options=folder_options)
        except Exception as exc:  # noqa: BLE001 - any failure keeps the current dataset
            self._error(tr("Could not load the dataset {}: {}").format(name, tr_error(exc)))
            return False
        return self.use_dataset(ds)

    def load_dataset_async(self, name_or_path, data_dir: str | None = None, folder_options: dict | None = None) -> bool:
        """Load a dataset on a helper thread; ``dataset_changed`` + ``dataset_ready`` or ``dataset_failed``
        follows. Returns False when a load is already running. ``folder_options``: as :meth:`set_dataset`."""
        name = str(name_or_path)
        if not self._loader.start(name, int(self.options["seed"]), data_dir, folder_options):
            return False
        self._loading_name = name
        self.dataset_loading.emit(name)
        self.status_message.emit(tr("Loading dataset {}...").format(name))
        return True

    @Slot(str, float, float)
    def _on_dataset_progress(self, name: str, done: float, total: float) -> None:
        if total > 0:
            self.status_message.emit(tr("Downloading {}: {:.0%} of {:.1f} MB").format(name, done / total, total / 1e6))
        else:
            self.status_message.emit(tr("Downloading {}: {:.1f} MB").format(name, done / 1e6))

    @Slot(str, object)
    def _on_dataset_loaded(self, name: str, result) -> None:
        self._loading_name = None
        if self._shut_down:
            return
        if isinstance(result, Exception):
            self._error(tr("Could not load the dataset {}: {}").format(name, tr_error(result)))
            self.dataset_failed.emit(name)
            return
        self.use_dataset(result)

    def use_dataset(self, ds) -> bool:
        """Use an already loaded dataset object (see ``engine.datasets``); ends training first."""
        self._end_training()
        self.dataset = ds
        self.trainer = None
        self._forget_evaluations()
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

    def _report_skipped_files(self, ds) -> None:
        """Files an image folder could not use are named, with the reason, instead of vanishing."""
        skipped = list(getattr(ds, "skipped", None) or [])     # datasets made in tests have no such list
        if not skipped:
            return
        shown = "; ".join(f"{Path(str(path)).name} ({tr_error(reason)})" for path, reason in skipped[:5])
        more = tr(" and {} more").format(len(skipped) - 5) if len(skipped) > 5 else ""
        self.error_occurred.emit(tr("{} files of the folder were left out: {}{}.").format(len(skipped), shown, more))

    def _model_fits(self, model) -> bool:
        if self.dataset is None:
            return True
        return (tuple(model.input_shape) == tuple(self.dataset.input_shape)
                and int(model.num_classes) == int(self.dataset.num_classes))

    def set_preset(self, name: str, use_preset_settings: bool = True) -> bool:
        """Build preset ``name`` for the current dataset with the current seed; with
        ``use_preset_settings`` the optimizer, learning rate, batch size and epochs become the preset's."""
        if self.dataset is None:
            self._error(tr("Open a dataset before choosing a model."))
            return False
        try:
            model = build_preset(name, tuple(self.dataset.input_shape), int(self.dataset.num_classes),
                                 seed=int(self.options["seed"]))
        except Exception as exc:  # noqa: BLE001
            self._error(tr("Could not build the model {}: {}").format(name, tr_error(exc)))
            return False
        preset = PRESETS.get(name)
        if use_preset_settings and preset is not None:
            self.options.update(optimizer=str(preset.optimizer).lower(), learning_rate=float(preset.learning_rate),
                                batch_size=int(preset.batch_size), epochs=int(preset.epochs))
            self.options_changed.emit(dict(self.options))
        return self.set_model(model, preset_name=name)

    def set_model(self, model, preset_name: str | None = None, path: str | None = None) -> bool:
        """Use ``model`` (built). Ends training; refuses a model that does not fit the dataset."""
        if model.input_shape is None or not self._model_fits(model):
            ds = self.dataset
            self._error(tr("This model expects images of {} and {} classes, but the dataset {} has {} "
                           "and {} classes. The current model is kept.").format(
                format_shape(model.input_shape), model.num_classes, tr(ds.name),
                format_shape(ds.input_shape), ds.num_classes))
            return False
        self._end_training()
        self.model = model
        self.preset_name = preset_name
        self.model_path = None if path is None else str(path)
        self.trainer = None
        self._forget_model_copy()
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
        return next((row.index for row in self.model.summary_rows() if len(row.output_shape) == 3), None)

    def select_layer(self, index: int) -> None:
        if self.model is None or not 0 <= index < len(self.model.layers):
            return
        self.selected_layer = index
        self.layer_selected.emit(index)

    def save_model(self, path) -> str | None:
        """Save the model (latest consistent weights) with its dataset, classes and history; the path
        written, or None after reporting the error."""
        model = self.current_model_copy()
        if model is None:
            self._error(tr("There is no model to save yet."))
            return None
        ds = self.dataset
        metadata = {
            "dataset": None if ds is None else ds.name,
            "class_names": [] if ds is None else list(ds.class_names),
            "preset": self.preset_name,
            "options": dict(self.options),
            "history": [{"epoch": int(e.epoch), "loss": float(e.loss), "accuracy": float(e.accuracy),
                         "val_loss": None if e.val_loss is None else float(e.val_loss),
                         "val_accuracy": None if e.val_accuracy is None else float(e.val_accuracy)}
                        for e in self.history.epochs],
        }
        try:
            written = save_model(path, model, metadata)
        except Exception as exc:  # noqa: BLE001
            self._error(tr("Could not save the model: {}").format(tr_error(exc)))
            return None
        self.status_message.emit(tr("Model saved to {}.").format(written))
        return str(written)

    def open_model(self, path) -> bool:
        """Load a model file; a corrupt file or one that does not fit the dataset is refused."""
        try:
            model, metadata = load_model(path)
        except Exception as exc:  # noqa: BLE001
            self._error(tr("Could not open the model: {} The current model is kept.").format(tr_error(exc)))
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
        self.model.layers[layer_index].set_filter(int(filter_index), kernel, bias=bias, freeze=frozen)
        self._forget_model_copy()
        self.model_changed.emit(self.model)
        self.refresh_inspection()

