"""The lesson player's hands in the window: :class:`WindowApplier` sets the REAL panels' models.

The theater's :class:`~gui.theater.stage.StageModel` and :class:`~gui.theater.sources.TheaterSources`,
the editor's :class:`~gui.editor.draft.DraftModel`, the :class:`~gui.controller.TrainingController`
(dataset via ``load_dataset_async``, preset, options), the tab (``MainWindow.show_tab``), the selected
layer, and the controls a step hides or locks (names like ``theater.stride`` mapped to widgets by
:func:`control_registry`). :meth:`WindowApplier.current_state` reads the panels back into a step's
``state`` ("Save current setup as a lesson step").

Which lesson features this window can apply is registered here, in one place
(:data:`REGISTERED_FEATURES` into the window's :class:`~gui.lessons.capabilities.Capabilities`).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QWidget

from engine.datasets import DATASETS
from engine.errors import ConvScopeError
from engine.presets import PRESETS, build_preset
from engine.theater import INPUT_GRIDS, KERNEL_PRESETS
from gui.i18n import tr
from gui.lessons.capabilities import Capabilities
from gui.lessons.vocabulary import MAX_CHANNELS, MAX_GRID
from gui.theater import sources as src

__all__ = ["WindowApplier", "control_registry", "REGISTERED_FEATURES"]

# lesson features (gui.lessons.capabilities.FEATURES) this window applies; a feature is added here in
# the same commit that teaches WindowApplier to apply it
# backward_mode: TheaterPanel.set_direction; free_input_shape: DraftModel.set_input_shape
REGISTERED_FEATURES: tuple[str, ...] = ("backward_mode", "free_input_shape")

_OPTION_KEYS = ("learning_rate", "batch_size", "epochs", "seed")


def control_registry(window) -> dict[str, list[QWidget]]:
    """Control names a lesson may hide or lock (``"<panel>.<control>"``) and the widgets they are."""
    t, e, p = window.theater_panel, window.architecture_editor, window.training_panel
    reg: dict[str, list] = {
        "theater.input": [t.input_box], "theater.kernel": [t.filter_box], "theater.settings": [t.settings_box],
        "theater.stride": [t.settings_box.stride_spin],
        "theater.padding": [t.settings_box.padding_combo, t.settings_box.pad_spin],
        "theater.mode": [t.settings_box.mode_combo], "theater.bias": [t.settings_box.bias_spin],
        "theater.relu": [t.settings_box.relu_check], "theater.operation": [t.filter_box.op_combo],
        "theater.playback": [t.playback], "theater.model": [t.model_box],
        "editor.layers": [e.table, e.toolbar, e.start_combo, e.start_button],
        "editor.apply": [e.apply_button, e.train_button],
        "training.dataset": [p.dataset_combo], "training.preset": [p.preset_combo],
        "training.optimizer": [p.optimizer_combo], "training.learning_rate": [p.lr_spin],
        "training.batch_size": [p.batch_spin], "training.epochs": [p.epochs_spin], "training.seed": [p.seed_spin],
        "training.buttons": [p.start_button, p.pause_button, p.step_button, p.stop_button, p.reset_button],
    }
    for key, dock in window.docks.items():
        if key != "lesson":
            reg[f"window.{key}"] = [dock]
    reg["window.tabs"] = [window.workspace.tabBar()]
    for name, widgets in reg.items():
        for w in widgets:
            if not w.objectName():
                w.setObjectName(name)
    return reg


def _grid_list(a: np.ndarray):
    """A grid as lesson JSON: rows for one channel, channels of rows otherwise; whole numbers as ints."""
    a = np.asarray(a, dtype=np.float64)
    rounded = np.round(a, 4)
    values = [[[int(v) if float(v).is_integer() else float(v) for v in row] for row in ch] for ch in rounded]
    return values[0] if len(values) == 1 else values


def _json_window(value):
    """A stride or pool size for lesson JSON: ``2``, or ``[rows, columns]`` when rectangular."""
    return int(value) if isinstance(value, int) else [int(v) for v in value]


def _fits_grid(a: np.ndarray) -> bool:
    return a.ndim == 3 and a.shape[0] <= MAX_CHANNELS and max(a.shape[1:]) <= MAX_GRID


class WindowApplier(QObject):
    """Applies lesson steps to ``window``'s panels (a GUI-thread QObject: it waits for datasets)."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.controller = window.controller
        self.capabilities = Capabilities(REGISTERED_FEATURES)
        self.registry = control_registry(window)
        self._hidden: list[QWidget] = []
        self._locked: list[QWidget] = []
        self._pending_training: dict | None = None
        self._image_datasets: dict = {}
        self.controller.dataset_ready.connect(self._on_dataset_ready)
        self.controller.dataset_failed.connect(self._on_dataset_failed)

    # -- reading --------------------------------------------------------------------------------------
    def dataset_shape(self) -> tuple | None:
        ds = self.controller.dataset
        return None if ds is None else tuple(int(v) for v in ds.input_shape)

    @property
    def waiting_for_dataset(self) -> bool:
        return self._pending_training is not None

    # -- tab and layer --------------------------------------------------------------------------------
    def show_tab(self, key: str) -> None:
        if key not in self.window.tabs_by_key:
            raise KeyError(tr("This version has no tab named {}.").format(key))
        self.window.show_tab(key)

    def select_layer(self, index: int) -> None:
        editor = self.window.architecture_editor
        if 0 <= index < len(editor.draft):
            editor.select_row(index)
        model = self.controller.model
        if model is not None and 0 <= index < len(model.layers):
            self.controller.select_layer(index)

    # -- theater ---------------------------------------------------------------------------------------
    def _dataset_image(self, spec: dict) -> tuple[np.ndarray, str]:
        ds = self.controller.dataset
        name, split, index = spec["dataset"], spec["split"], int(spec["index"])
        if ds is None or ds.name != name:
            ds = self._image_datasets.get(name)
        if ds is None:
            from engine.datasets import load_dataset

            ds = load_dataset(name, download=False)      # a ConvScopeError names the missing files
            self._image_datasets = {name: ds}            # the next steps show the same dataset
        images = ds.x_train if split == "train" else ds.x_test
        x = np.asarray(images[index], dtype=np.float64) / 255.0
        what = tr("training sample") if split == "train" else tr("validation sample")
        return x, f"{DATASETS[name].display_name} · {what} #{index}"

    def set_theater(self, v: dict) -> None:
        panel = self.window.theater_panel
        sources, stage = panel.sources, panel.stage
        choices: dict = {}
        if "kernel_key" in v:
            choices.update(kernel_kind=src.KERNEL_PRESET, preset_key=v["kernel_key"])
        if "input_key" in v:
            choices.update(input_kind=src.INPUT_GRID, grid_key=v["input_key"])
        elif "input_grid" in v:
            sources.set_custom_input(v["input_grid"], tr("grid of the lesson"))
        else:
            x, text = self._dataset_image(v["input_dataset"])
            sources.set_custom_input(x, text)
        if choices:
            sources.choose(**choices)                   # one event: the stage is rebuilt once for both
        if "kernel_grid" in v:
            k = np.asarray(v["kernel_grid"], dtype=np.float64)
            sources.set_edited_kernel(k if k.ndim == 2 else k[0])
        changes = {"op": v["op"], "stride": v["stride"], "padding": v["padding"], "mode": v["mode"],
                   "bias": v["bias"], "relu": v["relu"], "pool_size": v["pool_size"]}
        if v["pad"] is not None:
            changes["pad"] = v["pad"]
        panel.push(**changes)
        if stage.theater is None:
            raise ConvScopeError(stage.error or tr("The theater could not show this step."))
        if v["position"] is not None:
            stage.seek_cell(*v["position"])
        if panel.direction != v["direction"]:
            panel.set_direction(v["direction"])

    # -- editor ----------------------------------------------------------------------------------------
    def set_editor(self, layers: list, input_shape: tuple, select: int | None) -> None:
        editor = self.window.architecture_editor
        editor.draft.set_input_shape(tuple(input_shape))      # the dataset's shape: follows the dataset again
        editor.draft.replace(layers, tr("Lesson step"), select=0 if select is None else int(select))
        if select is not None:
            editor.select_row(int(select))

    # -- training --------------------------------------------------------------------------------------
    def set_training(self, values: dict) -> None:
        """Dataset (loaded on the helper thread; the rest waits for it), preset, options, dropout."""
        c = self.controller
        name = values.get("dataset")
        if c.dataset is None or (name and c.dataset.name != name):
            self._pending_training = dict(values)
            if name:
                c.load_dataset_async(name)  # False while another loads: asked again when that one is ready
            return
        self._pending_training = None
        self._apply_training(values)

    @Slot(object)
    def _on_dataset_ready(self, ds) -> None:
        values = self._pending_training
        if values is None:
            return
        wanted = values.get("dataset")
        if wanted and ds.name != wanted:
            self.controller.load_dataset_async(wanted)
            return
        self._pending_training = None
        try:
            self._apply_training(values)
        except ConvScopeError as exc:
            from gui.i18n import tr_error

            self.window.message_bar.show_message(tr_error(exc))

    @Slot(str)
    def _on_dataset_failed(self, name: str) -> None:
        # the controller has shown why (e.g. MNIST is not on this computer and it is offline)
        if self._pending_training is not None and self._pending_training.get("dataset") == name:
            self._pending_training = None

    def _apply_training(self, values: dict) -> None:
        c = self.controller
        preset = values.get("preset")
        if preset and (c.preset_name != preset or "dropout" in values):
            c.set_preset(preset)
        options = {k: values[k] for k in _OPTION_KEYS if k in values}
        if "optimizer" in values:
            options["optimizer"] = str(values["optimizer"]).lower()
        if options:
            c.set_options(**options)
        if "dropout" in values:
            self._set_dropout(float(values["dropout"]))

    def _set_dropout(self, rate: float) -> None:
        """The model's Dropout layers get ``rate`` (a fresh model of the same preset/architecture)."""
        c = self.controller
        if c.model is None or c.dataset is None:
            return
        if c.preset_name in PRESETS:
            model = build_preset(c.preset_name, tuple(c.dataset.input_shape), int(c.dataset.num_classes),
                                 seed=int(c.options["seed"]))
        else:
            model = c.current_model_copy()
        changed = False
        for layer in model.layers:
            if type(layer).__name__ == "Dropout":
                layer.rate = rate
                changed = True
        if changed:
            c.set_model(model, preset_name=c.preset_name)

    # -- hidden and locked controls --------------------------------------------------------------------
    def set_controls(self, hidden: list, locked: list) -> list[str]:
        """Show and unlock what the previous step hid or locked, then hide/lock these; unknown names are returned."""
        for w in self._hidden:
            w.setVisible(True)
        for w in self._locked:
            w.setEnabled(True)
        self._hidden, self._locked = [], []
        unknown = []
        for names, store in ((hidden, self._hidden), (locked, self._locked)):
            for name in names:
                widgets = self.registry.get(name)
                if widgets is None:
                    unknown.append(name)
                    continue
                store.extend(widgets)
        for w in self._hidden:
            w.setVisible(False)
        for w in self._locked:
            w.setEnabled(False)
        return unknown

    def hidden_names(self) -> list[str]:
        return [n for n, ws in self.registry.items() if ws and all(w in self._hidden for w in ws)]

    def locked_names(self) -> list[str]:
        return [n for n, ws in self.registry.items() if ws and all(w in self._locked for w in ws)]

    def release(self) -> None:
        """The lesson closed: every control comes back."""
        self.set_controls([], [])

    # -- reading the panels back ----------------------------------------------------------------------
    def current_state(self, tab: bool = True) -> dict:
        """The panels' current settings as a step ``state`` (validated by ``new_step`` when saved)."""
        state: dict = {}
        key = self.window.current_tab_key()
        if tab and key:
            state["tab"] = key
        theater = self._theater_state()
        if theater:
            state["theater"] = theater
        draft = self.window.architecture_editor.draft
        if len(draft) and draft.valid:
            c, h, w = draft.input_shape
            state["editor"] = {"input_shape": [h, w, c], "layers": draft.layer_configs()}
            if 0 <= draft.selected < len(draft):
                state["select_layer"] = int(draft.selected)
        state["training"] = self._training_state()
        if self._hidden:
            state["hidden"] = self.hidden_names()
        if self._locked:
            state["locked"] = self.locked_names()
        return state

    def _theater_state(self) -> dict:
        panel = self.window.theater_panel
        s, st = panel.sources, panel.stage
        if st.theater is None:
            return {}
        out: dict = {}
        if s.input_kind == src.INPUT_GRID and s.grid_key in INPUT_GRIDS:
            out["input"] = s.grid_key
        elif s.input_kind in (src.INPUT_TRAIN, src.INPUT_VAL) and s.dataset is not None \
                and s.dataset.name in DATASETS:
            out["input"] = {"dataset": s.dataset.name, "split": "train" if s.input_kind == src.INPUT_TRAIN else "test",
                            "index": int(s.sample_index)}
        elif _fits_grid(st.input):
            out["input"] = _grid_list(st.input)
        else:
            return {}
        if st.op == "conv":
            if s.kernel_kind == src.KERNEL_PRESET and s.preset_key in KERNEL_PRESETS:
                out["kernel"] = s.preset_key
            else:
                k = np.asarray(s.edited_kernel, dtype=np.float64)
                out["kernel"] = _grid_list(k[None] if k.ndim == 2 else k)
            out.update(bias=float(st.bias), relu=bool(st.relu), mode=st.mode)
        else:
            out["pooling"] = {"type": "max" if st.op == "max" else "average", "size": _json_window(st.pool_size)}
        out["stride"] = _json_window(st.stride)
        out["padding"] = int(st.pad) if st.padding == "custom" else st.padding
        out["position"] = list(st.theater.position(st.position))
        return out

    def _training_state(self) -> dict:
        c = self.controller
        o = c.options
        out: dict = {}
        if c.dataset is not None and c.dataset.name in DATASETS:
            out["dataset"] = c.dataset.name
        if c.preset_name in PRESETS:
            out["preset"] = c.preset_name
        names = {"sgd": "SGD", "adam": "Adam", "rmsprop": "RMSprop"}
        out.update(optimizer=names.get(str(o["optimizer"]).lower(), "Adam"),
                   learning_rate=float(o["learning_rate"]), batch_size=int(o["batch_size"]),
                   epochs=int(o["epochs"]), seed=int(o["seed"]))
        return out
