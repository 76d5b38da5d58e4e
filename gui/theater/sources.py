"""Where the stage's input and kernel come from (no Qt).

Inputs: the lectures' hand-made grids (``engine.theater.INPUT_GRIDS``), a training or validation
sample of the dataset, the last dropped or drawn image, or one layer's feature map. Kernels: the
classic catalogue of the engine (``KERNEL_PRESETS``), a filter learned by the model, or one typed
by hand. :meth:`TheaterSources.resolve` turns the choices into the arrays and settings that
:meth:`gui.theater.stage.StageModel.update` takes.

The learned filters are read from a private copy of the model (never the object the training
thread mutates), whose weights follow the controller's inspections. Activations entering a deeper
layer come from the controller's latest inspection when it shows the same picture; a forward pass
of our own copy is made only while no training runs (it would compete with the trainer for the
GUI thread and may compile kernels).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.errors import ShapeError
from engine.theater import INPUT_GRIDS, KERNEL_PRESETS, apply_kernel, kernel_for_input
from gui.i18n import language, tr, tr_class, tr_error
from gui.theater.events import Events
from gui.theater.grid_editor import GridDraft
from gui.theater.stage import MAX_CHANNEL_ROWS, window_value

INPUT_GRID, INPUT_TRAIN, INPUT_VAL, INPUT_DROPPED, INPUT_FMAP = "grid", "train", "validation", "dropped", "fmap"
INPUT_CUSTOM = "custom"     # a grid typed or pasted in the grid editor, or given by a lesson: set_custom_input
INPUT_KINDS = (INPUT_GRID, INPUT_TRAIN, INPUT_VAL, INPUT_DROPPED, INPUT_FMAP, INPUT_CUSTOM)
KERNEL_PRESET, KERNEL_LEARNED, KERNEL_EDITED = "preset", "learned", "edited"
KERNEL_KINDS = (KERNEL_PRESET, KERNEL_LEARNED, KERNEL_EDITED)
CHOICES = ("input_kind", "grid_key", "sample_index", "fmap_layer", "kernel_kind", "preset_key", "layer_index",
           "filter_index", "in_channel")
COMPARE_FILTERS = 8         # learned filters shown beside the classic one in "apply to whole image"


class SourceUnavailable(Exception):
    """The chosen input or kernel cannot be had right now; ``str()`` is the message for the user."""


@dataclass(frozen=True)
class StageInput:
    """What the sources put on stage: ``StageModel.update(**choice.stage_changes())``."""

    x: np.ndarray
    kernel: np.ndarray | None
    input_text: str
    kernel_text: str

    def stage_changes(self) -> dict:
        return {"input": self.x, "kernel": self.kernel, "input_text": self.input_text, "kernel_text": self.kernel_text}


def _name(item) -> str:
    return item.name_ko if language() == "ko" else item.name_en


def layer_settings(layer) -> dict:
    """Stride (an int, or ``(sh, sw)`` when rectangular), padding, mode and ReLU of a Conv2D layer as
    ``StageModel`` settings. A padding the stage cannot set (different numbers per side) is refused."""
    settings = {"stride": window_value(layer.strides), "mode": layer.mode, "relu": layer.activation == "relu"}
    if isinstance(layer.padding, str):
        settings["padding"] = layer.padding
    else:
        pads = set(np.ravel(layer.padding).tolist())
        if len(pads) > 1:
            raise SourceUnavailable(tr("Layer '{}' pads its sides differently ({}); the theater pads every side "
                                       "alike.").format(layer.name, layer.padding))
        settings.update(padding="custom", pad=int(pads.pop()))
    return settings


class TheaterSources:
    """The choices of input and kernel, and what they give.

    ``events.changed(names)`` fires when the choices (``names`` says which) or what can be chosen
    (``"dataset"``, ``"model"``, ``"inspection"``) change.
    """

    def __init__(self):
        self.events = Events("changed")
        self.dataset = None
        self.model = None                   # a private copy: never the training thread's model
        self.inspection = None              # the controller's latest (activations, weights, sample)
        self.dropped: np.ndarray | None = None
        self.custom: np.ndarray | None = None       # a lesson's input too large for the grid editor
        self.custom_text = ""
        #: the grid typed or pasted in the grid editor (the "custom" input); starts as the 1-D example
        self.typed = GridDraft(INPUT_GRIDS["seed_1d"].array)
        self.typed.events.changed.connect(self._on_typed_changed)
        self.training = False               # True while the controller's trainer runs
        self.kernels_warm = True            # False while the engine still compiles its kernels
        self.input_kind = INPUT_GRID
        self.grid_key = next(iter(INPUT_GRIDS))
        self.sample_index = 0
        self.fmap_layer: int | None = None
        self.kernel_kind = KERNEL_PRESET
        self.preset_key = next(iter(KERNEL_PRESETS))
        self.layer_index: int | None = None
        self.filter_index = 0
        self.in_channel = -1
        self.edited_kernel = KERNEL_PRESETS[self.preset_key].kernel

    # -- choosing ---------------------------------------------------------------------------------
    def choose(self, **choices) -> None:
        """Set choices (``input_kind=``, ``preset_key=``, ``layer_index=`` ...) and clamp them to what exists."""
        unknown = set(choices) - set(CHOICES)
        if unknown:
            raise TypeError(f"TheaterSources has no choice {sorted(unknown)}; the choices are {CHOICES}")
        for name, value in choices.items():
            setattr(self, name, value)
        if "preset_key" in choices:
            self.kernel_kind = choices.get("kernel_kind", KERNEL_PRESET)
        if self.kernel_kind == KERNEL_PRESET:
            self.edited_kernel = KERNEL_PRESETS[self.preset_key].kernel
        self._clamp()
        if self.kernel_kind == KERNEL_LEARNED and self.learned_layer() is not None:
            self.edited_kernel = self.learned_kernel_2d()
        self.events.changed(names=frozenset(choices))

    def set_edited_kernel(self, kernel) -> None:
        """A hand-made ``(KH, KW)`` filter (what typing into the kernel table does)."""
        self.edited_kernel = np.array(kernel, dtype=np.float64)
        self.kernel_kind = KERNEL_EDITED
        self.events.changed(names=frozenset({"edited_kernel"}))

    def set_custom_input(self, x, text: str = "") -> None:
        """Put an arbitrary grid ``(H, W)`` or ``(C, H, W)`` on stage as the input (a lesson's typed grid,
        a dataset image it names); ``text`` is its short description. A grid the editor can hold
        (:meth:`GridDraft.fits`) goes into it, so it can be edited further."""
        a = np.array(x, dtype=np.float64)
        a = a[None] if a.ndim == 2 else a
        if self.typed.fits(a):
            with self.typed.events.changed.blocker():
                self.typed.set_values(a)
            self.custom = None
        else:
            self.custom = a
        self.custom_text = text or tr("grid of the lesson")
        self.input_kind = INPUT_CUSTOM
        self.events.changed(names=frozenset({"input_kind", "custom"}))

    def _on_typed_changed(self, **_) -> None:
        """A number typed, a block pasted or the grid resized in the editor: the typed grid goes on stage."""
        self.custom = None
        self.custom_text = tr("typed grid")
        self.input_kind = INPUT_CUSTOM
        self.events.changed(names=frozenset({"input_kind", "custom"}))

    def custom_input(self) -> tuple[np.ndarray, str]:
        """The custom input: a lesson's large image, else the typed grid, with its description."""
        if self.custom is not None:
            return self.custom, self.custom_text
        return self.typed.array(), self.custom_text or tr("typed grid")

    def set_dataset(self, dataset) -> None:
        self.dataset = dataset
        self._clamp()
        self.events.changed(names=frozenset({"dataset"}))

    def set_model(self, model) -> None:
        """Use ``model`` (already a private copy) for the learned filters and feature maps."""
        self.model = model
        self.inspection = None              # activations of the previous model: the next one comes soon
        self._clamp()
        if self.kernel_kind == KERNEL_LEARNED and self.learned_layer() is not None:
            self.edited_kernel = self.learned_kernel_2d()
        self.events.changed(names=frozenset({"model"}))

    def set_inspection(self, inspection) -> bool:
        """The controller's latest inspection: its weights go into the model copy, its activations feed
        the deeper layers. False if it belongs to another architecture (the model just changed: the next
        inspection will fit)."""
        if self.model is None:
            return False
        try:
            self.model.set_weights(inspection.weights)
        except ShapeError:
            return False
        self.inspection = inspection
        if self.kernel_kind == KERNEL_LEARNED and self.learned_layer() is not None:
            self.edited_kernel = self.learned_kernel_2d()
        self.events.changed(names=frozenset({"inspection"}))
        return True

    def _clamp(self) -> None:
        self.sample_index = int(min(max(self.sample_index, 0), max(self.sample_count() - 1, 0)))
        convs = [i for i, _ in self.conv_layers()]
        if self.layer_index not in convs:
            self.layer_index = convs[0] if convs else None
        fmaps = [i for i, _ in self.feature_map_layers()]
        if self.fmap_layer not in fmaps:
            self.fmap_layer = fmaps[0] if fmaps else None
        layer = self.learned_layer()
        if layer is not None:
            W = layer.params["W"]
            self.filter_index = int(min(max(self.filter_index, 0), W.shape[0] - 1))
            if self.in_channel not in self.in_channel_choices():
                self.in_channel = self.in_channel_choices()[0]

    # -- what can be chosen -------------------------------------------------------------------------
    def sample_count(self) -> int:
        ds = self.dataset
        if ds is None:
            return 0
        return len(ds.x_train if self.input_kind == INPUT_TRAIN else ds.x_test)

    def conv_layers(self) -> list[tuple[int, object]]:
        """``(index, layer)`` of every layer with a 4-D kernel ``W`` (F, C, K, K)."""
        if self.model is None:
            return []
        return [(i, layer) for i, layer in enumerate(self.model.layers)
                if "W" in layer.params and layer.params["W"].ndim == 4]

    def feature_map_layers(self) -> list[tuple[int, str]]:
        """``(index, label)`` of the layers whose output is a stack of maps (C, H, W)."""
        if self.model is None:
            return []
        out = []
        for row in self.model.summary_rows():
            shape = tuple(row.output_shape or ())
            if len(shape) == 3:
                c, h, w = shape
                out.append((row.index, f"{row.index}: {row.name} ({h}x{w}x{c})"))
        return out

    def learned_layer(self):
        for i, layer in self.conv_layers():
            if i == self.layer_index:
                return layer
        return None

    def in_channel_choices(self) -> list[int]:
        layer = self.learned_layer()
        if layer is None:
            return [-1]
        c = layer.params["W"].shape[1]
        return ([-1] if c <= MAX_CHANNEL_ROWS else []) + list(range(c))

    def learned_kernel_2d(self) -> np.ndarray:
        W = self.learned_layer().params["W"]
        return np.asarray(W[self.filter_index, max(self.in_channel, 0)], dtype=np.float64)

    def uses_model(self) -> bool:
        """True when the stage shows the model's weights or activations (they change while training)."""
        return self.kernel_kind == KERNEL_LEARNED or self.input_kind == INPUT_FMAP

    # -- the input ------------------------------------------------------------------------------------
    def _dataset_image(self, validation: bool) -> tuple[np.ndarray, int, int]:
        ds = self.dataset
        xs, ys = (ds.x_test, ds.y_test) if validation else (ds.x_train, ds.y_train)
        if len(xs) == 0:
            raise SourceUnavailable(tr("This part of the dataset is empty."))
        k = min(self.sample_index, len(xs) - 1)
        return np.asarray(xs[k], dtype=np.float64) / 255.0, k, int(ys[k])

    def base_input(self) -> tuple[np.ndarray, str]:
        """The chosen picture (or feature map) as (C, H, W) float64 and a short description."""
        kind = self.input_kind
        if kind in (INPUT_TRAIN, INPUT_VAL):
            if self.dataset is None:
                raise SourceUnavailable(tr("No dataset is open yet: open one, or pick a hand-made grid."))
            image, k, label = self._dataset_image(kind == INPUT_VAL)
            names = self.dataset.class_names
            name = tr_class(names[label]) if label < len(names) else str(label)
            what = tr("training sample") if kind == INPUT_TRAIN else tr("validation sample")
            return image, f"{what} #{k} ({name})"
        if kind == INPUT_FMAP:
            if self.dataset is None or self.model is None:
                raise SourceUnavailable(tr("Feature maps need a dataset and a model: open a dataset first."))
            if self.fmap_layer is None:
                raise SourceUnavailable(tr("The model has no layer with a feature map yet."))
            image, k, _label = self._dataset_image(True)
            fmap = self.layer_input(image, self.fmap_layer + 1)
            name = self.model.layers[self.fmap_layer].name
            return fmap, f"{name} · {tr('validation sample')} #{k}"
        if kind == INPUT_CUSTOM:
            return self.custom_input()
        if kind == INPUT_DROPPED:
            if self.dropped is None:
                raise SourceUnavailable(tr("No image has been dropped yet: drop a picture on the window."))
            return self.dropped, tr("dropped image")
        grid = INPUT_GRIDS[self.grid_key]
        return grid.array, _name(grid)

    def layer_input(self, image: np.ndarray, index: int) -> np.ndarray:
        """Activations entering layer ``index`` (``index = len(layers)``: the model's output) for ``image``."""
        if index == 0 or self.model is None:
            return image
        insp = self.inspection
        if insp is not None and len(insp.activations) > index and _same_picture(insp.activations[0], image):
            return np.asarray(insp.activations[index], dtype=np.float64)
        if self.training:
            raise SourceUnavailable(tr("While the model trains, deeper layers show the selected sample only: "
                                       "choose a validation sample here (it becomes the selected one) or pause "
                                       "training."))
        if not self.kernels_warm:
            # a forward pass here would compile numba kernels on the GUI thread and freeze the window
            raise SourceUnavailable(tr("The engine is still preparing its kernels; the deeper layers appear "
                                       "in a moment (layer 0 works now)."))
        shape = tuple(self.model.input_shape)
        if tuple(image.shape) != shape:
            raise SourceUnavailable(tr("The model expects {} images but this input is {}: pick a dataset sample.")
                                    .format("x".join(map(str, shape)), "x".join(map(str, image.shape))))
        acts = self.model.forward(image[None].astype(np.float32), training=False, return_all=True)
        return np.asarray(acts[index][0], dtype=np.float64)

    # -- input and kernel together ------------------------------------------------------------------
    def resolve(self, op: str = "conv") -> tuple[StageInput, dict]:
        """The stage input for these choices and the settings that go with it (a learned filter brings its
        layer's stride, padding, mode and activation). Raises :class:`SourceUnavailable`."""
        image, what = self.base_input()
        if op != "conv":
            return StageInput(image, None, what, ""), {}
        if self.kernel_kind == KERNEL_LEARNED:
            return self._learned(image, what)
        kernel = kernel_for_input(self.edited_kernel, image.shape[0])
        name = _name(KERNEL_PRESETS[self.preset_key]) if self.kernel_kind == KERNEL_PRESET else tr("hand-made filter")
        return StageInput(image, kernel, what, name), {}

    def _learned(self, image: np.ndarray, what: str) -> tuple[StageInput, dict]:
        layer = self.learned_layer()
        if layer is None:
            raise SourceUnavailable(tr("The model has no convolution layer yet: build or load a model first."))
        W = np.asarray(layer.params["W"], dtype=np.float64)
        f = self.filter_index
        if self.input_kind == INPUT_FMAP:
            x = image           # a feature map already: it enters the layer after it
        else:
            x = self.layer_input(image, self.layer_index)
        if x.shape[0] != W.shape[1]:
            raise SourceUnavailable(
                tr("Layer {} expects {} input channel(s) but this input has {}: pick a sample of the "
                   "dataset the model was built for.").format(layer.name, W.shape[1], x.shape[0]))
        settings = layer_settings(layer)
        ch = self.in_channel
        if ch < 0:
            settings["bias"] = float(layer.params["b"][f])
            return StageInput(x, W[f], what, f"{layer.name} · {tr('filter')} {f}"), settings
        settings["bias"] = 0.0      # one input channel alone: the bias belongs to the full sum
        return (StageInput(x[ch:ch + 1], W[f, ch:ch + 1], what + f" · {tr('channel')} {ch}",
                           f"{layer.name} · {tr('filter')} {f} · {tr('channel')} {ch}"), settings)

    # -- the whole image ------------------------------------------------------------------------------
    def learned_outputs(self) -> tuple[list[tuple[np.ndarray, str]], str]:
        """The first conv layer's learned filters applied to the picture (each with its layer's settings),
        as ``(map, title)`` pairs, or a note saying why there are none."""
        if self.input_kind == INPUT_FMAP:
            return [], tr("The first layer's filters read pictures, not feature maps: pick a picture as the "
                          "input to compare with them.")
        convs = self.conv_layers()
        if not convs:
            return [], tr("Build or load a model to see its learned filters here.")
        image, _what = self.base_input()
        _i, layer = convs[0]
        W = np.asarray(layer.params["W"], dtype=np.float64)
        b = np.asarray(layer.params["b"], dtype=np.float64)
        if W.shape[1] != image.shape[0]:
            return [], tr("The model's first layer expects {} channel(s); this input has {}.").format(
                W.shape[1], image.shape[0])
        try:
            s = layer_settings(layer)
        except SourceUnavailable as exc:
            return [], str(exc)
        padding = s["pad"] if s["padding"] == "custom" else s["padding"]
        maps = []
        for f in range(min(W.shape[0], COMPARE_FILTERS)):
            try:
                y = apply_kernel(image, W[f], stride=s["stride"], padding=padding, mode=s["mode"],
                                 bias=float(b[f]), relu=s["relu"])
            except ShapeError as exc:        # the layer's kernel does not fit this picture
                return maps, tr_error(exc)
            maps.append((y, f"{layer.name} #{f}"))
        return maps, ""


def _same_picture(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and bool(np.allclose(a, b, atol=1e-6))
