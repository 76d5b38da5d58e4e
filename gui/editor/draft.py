"""The editor's draft: layer configs, the input they are checked against, undo/redo and validation.

Widget-free (no Qt import; a test proves it), like a napari layer model: views read its state,
subscribe with :meth:`DraftModel.subscribe` (plain callbacks, called after every change) and on user
input only call its methods. Every edit is an undoable step that replaces the whole list of layer
configs; consecutive edits of the same field of the same layer merge into one step (typing "32" in a
spin box is one step, not two). After each step the draft is checked by
:func:`engine.network.validate_architecture`: ``rows`` holds the engine's shapes, parameter counts
and formulas, ``problems`` the teaching message of each layer that cannot work.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field

from engine.catalog import CATALOG, EDITABLE_LAYERS, layer_kind, unique_name
from engine.layers import layer_from_config
from engine.limits import MAX_PARAMS
from engine.network import validate_architecture
from gui.i18n import tr, tr_error
from gui.listeners import ChangeListeners

_AFTER_OUTPUT = {name for name, kind in CATALOG.items() if kind.group == "activation"} | {"Dropout"}


def clean_config(config: dict) -> dict:
    """The engine's full, JSON-safe form of a layer config.

    Passing it through ``layer_from_config(...).get_config()`` fills in every default the engine keeps
    (initializers, ``trainable``...) and normalises spellings, so a draft compares equal to the same
    layers after a save/open round trip. Values the engine cannot even construct are kept as they
    are: validation then reports them on their row.
    """
    try:
        config = layer_from_config(copy.deepcopy(config)).get_config()
    except (TypeError, ValueError):  # an unconstructible layer is reported by validation instead
        return json.loads(json.dumps(config))
    return json.loads(json.dumps(config))


def configs_of(model) -> list[dict]:
    """The draft form of a ``Sequential``'s layers."""
    return [clean_config(layer.get_config()) for layer in model.layers]


def _like(old, new):
    """Write ``new`` in the same form (scalar or pair) as ``old``."""
    if isinstance(old, (list, tuple)) and new is not None and not isinstance(new, str):
        return [new] * len(old)
    return new


@dataclass
class DraftStep:
    """One undoable step: the whole list of layer configs before and after, and the selection."""

    text: str
    before: list
    after: list
    select_before: int
    select_after: int
    merge_key: object = None
    # (free input before, free input after) when the step changed the input (None = the dataset's)
    input_change: tuple | None = None


@dataclass
class _History:
    undo: list = field(default_factory=list)
    redo: list = field(default_factory=list)


class DraftModel(ChangeListeners):
    """Layer configs ``[{"class_name", "config"}]`` + input shape + undo/redo + validation results.

    Attributes
    ----------
    input_shape : (C, H, W) the draft is checked against: the typed free input, else the dataset's
    dataset_shape : (C, H, W) of the dataset's images; ``num_classes`` the dataset's class count
    free_input : the typed input shape (``None``: follow the dataset); differing from the dataset's
        puts the draft in "shapes only" mode (see :attr:`shapes_only`)
    rows : the engine's ``SummaryRow`` of every layer (shapes, params, formulas)
    problems : ``{layer index: teaching message}``, translated; empty when every layer fits
    valid : every layer fits and the network ends in one score per class
    last_valid : the most recent layer list that was valid (for "restore last valid model")
    selected : the selected layer (-1: none); views set it, steps remember it for undo
    applied : the layer list last handed to the window (``None``: none); ``is_dirty()`` compares with it
    match_class_count : a Dense added at the end, and a new dataset, get the dataset's class count
    """

    def __init__(self, input_shape: tuple = (1, 28, 28), num_classes: int | None = 10):
        self.dataset_shape = tuple(int(v) for v in input_shape)
        self.free_input: tuple | None = None
        self.num_classes = int(num_classes) if num_classes else None
        self.rows: list = []
        self.problems: dict[int, str] = {}
        self.valid = False
        self.last_valid: list[dict] | None = None
        self.selected = -1
        self.applied: list[dict] | None = None
        self.match_class_count = True
        self._layers: list[dict] = []
        self._history = _History()
        self._validate()

    # -- reading --------------------------------------------------------------------------------
    def layer_configs(self) -> list[dict]:
        """A deep copy of the draft: ``[{"class_name": ..., "config": {...}}, ...]``."""
        return copy.deepcopy(self._layers)

    def __len__(self) -> int:
        return len(self._layers)

    def class_names(self) -> list[str]:
        return [c["class_name"] for c in self._layers]

    def layer_name(self, index: int) -> str:
        return str(self._layers[index]["config"].get("name", "")) if 0 <= index < len(self._layers) else ""

    def config(self, index: int) -> dict:
        """Layer ``index``'s ``{"class_name", "config"}`` (a copy)."""
        return copy.deepcopy(self._layers[index])

    @property
    def total_params(self) -> int:
        # A row whose output is known was counted by the engine (a class-count complaint on the last
        # row keeps its shape and count); rows after a shape error are unknown.
        return sum(int(r.params or 0) for r in self.rows if r.output_shape is not None)

    def row_message(self, index: int) -> str:
        """The problem of layer ``index`` ('' when the layer is fine)."""
        return self.problems.get(index, "")

    def first_problem(self) -> int | None:
        return min(self.problems) if self.problems else None

    def is_dirty(self) -> bool:
        """The draft holds edits that were not applied to the window's model."""
        return bool(self._layers) and self._layers != self.applied

    def mark_applied(self, layers: list[dict] | None = None) -> None:
        self.applied = copy.deepcopy(self._layers if layers is None else layers)

    @property
    def can_undo(self) -> bool:
        return bool(self._history.undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._history.redo)

    @property
    def undo_steps(self) -> int:
        return len(self._history.undo)

    @property
    def undo_text(self) -> str:
        return self._history.undo[-1].text if self._history.undo else ""

    @property
    def redo_text(self) -> str:
        return self._history.redo[-1].text if self._history.redo else ""

    # -- the input ------------------------------------------------------------------------------
    @property
    def input_shape(self) -> tuple:
        """The shape ``(C, H, W)`` the draft is checked against: the free input, else the dataset's."""
        return self.free_input if self.free_input is not None else self.dataset_shape

    @property
    def shapes_only(self) -> bool:
        """The draft's input differs from the dataset's: shapes and counts only, nothing to train on."""
        return self.input_shape != self.dataset_shape

    @property
    def can_apply(self) -> bool:
        """Every layer fits and the dataset can feed the draft (Apply/Train allowed)."""
        return self.valid and not self.shapes_only

    def shapes_only_message(self) -> str:
        """Why Apply/Train is off in shapes-only mode ('' when it is not)."""
        from gui.editor.input_shape import shapes_only_message

        return shapes_only_message(self.input_shape, self.dataset_shape) if self.shapes_only else ""

    def set_input_shape(self, input_shape: tuple | None) -> None:
        """Check the draft against a typed input ``(C, H, W)`` (``None``: the dataset's shape), undoably."""
        free = None if input_shape is None else tuple(int(v) for v in input_shape)
        if free is not None and free == self.dataset_shape:
            free = None
        if free == self.free_input:
            return
        from engine.shapes import format_shape

        text = tr("Set the input to {shape}").format(shape=format_shape(free or self.dataset_shape))
        layers = self.layer_configs()
        self._history.undo.append(DraftStep(text, layers, layers, self.selected, self.selected,
                                            input_change=(self.free_input, free)))
        self._history.redo.clear()
        self.free_input = free
        self._show(layers, self.selected)

    def set_input(self, input_shape: tuple, num_classes: int | None) -> None:
        """Check the draft against a new dataset: its input shape ``(C, H, W)`` and class count.

        A typed free input (:meth:`set_input_shape`) stays; the draft then shows "shapes only" until the
        dataset's shape matches it.

        A draft being edited (``is_dirty``) gets the class count on its output Dense layer as an
        undoable step; a draft that mirrors the window's model is left alone (the window sends the
        model it keeps or picks for the new dataset).
        """
        self.dataset_shape = tuple(int(v) for v in input_shape)
        self.num_classes = int(num_classes) if num_classes else None
        if self.free_input == self.dataset_shape:
            self.free_input = None
        if self.match_class_count and self._layers and self.is_dirty():
            fixed = self.with_class_count(self._layers)
            if fixed != self._layers:
                self.replace(fixed, tr("Match the dataset's {n} classes").format(n=self.num_classes))
                return
        self._validate()
        self._changed()

    def with_class_count(self, layers: list[dict]) -> list[dict]:
        """``layers`` with the dataset's class count on the output Dense layer (when there is one)."""
        layers = copy.deepcopy(layers)
        index = self.output_dense_index(layers)
        if self.num_classes and index is not None:
            layers[index]["config"]["units"] = int(self.num_classes)
        return layers

    @staticmethod
    def output_dense_index(layers: list[dict]) -> int | None:
        """The Dense layer that produces the scores: the last one, if only activations/dropout follow."""
        for i in range(len(layers) - 1, -1, -1):
            name = layers[i]["class_name"]
            if name == "Dense":
                return i
            if name not in _AFTER_OUTPUT:
                return None
        return None

    # -- edits (each one undoable) --------------------------------------------------------------
    def replace(self, layers: list[dict], text: str, select: int | None = None, merge_key=None) -> None:
        """Make ``layers`` the draft as one undoable step named ``text``; select layer ``select``."""
        layers = [clean_config(c) for c in layers]
        if layers == self._layers and merge_key is None:
            return
        after_selection = self.selected if select is None else select
        top = self._history.undo[-1] if self._history.undo else None
        if merge_key is not None and top is not None and top.merge_key == merge_key and not self._history.redo:
            top.after, top.select_after, top.text = layers, after_selection, text
            if top.after == top.before:
                self._history.undo.pop()  # the edits cancelled out: nothing to undo
        else:
            self._history.undo.append(DraftStep(text, self.layer_configs(), layers, self.selected,
                                                after_selection, merge_key))
        self._history.redo.clear()
        self._show(layers, after_selection)

    def add_layer(self, class_name: str, index: int | None = None, **values) -> int:
        """Insert a new ``class_name`` layer (catalogue starting values updated by ``values``) at ``index``."""
        kind = layer_kind(class_name)
        layers = self.layer_configs()
        index = len(layers) if index is None else max(0, min(int(index), len(layers)))
        if (class_name == "Dense" and index == len(layers) and "units" not in values
                and self.match_class_count and self.num_classes):
            # A Dense added at the end is the output layer: one raw score (logit) per class.
            values = {"units": int(self.num_classes), "activation": None, **values}
        config = kind.start_config(unique_name(class_name, (c["config"].get("name") for c in layers)), **values)
        layers.insert(index, config)
        self.replace(layers, tr("Add {layer}").format(layer=class_name), select=index)
        return index

    def remove_layer(self, index: int) -> None:
        layers = self.layer_configs()
        if not 0 <= index < len(layers):
            return
        removed = layers.pop(index)
        self.replace(layers, tr("Remove {layer}").format(layer=removed["config"].get("name", removed["class_name"])),
                     select=min(index, len(layers) - 1))

    def duplicate_layer(self, index: int) -> int:
        layers = self.layer_configs()
        if not 0 <= index < len(layers):
            return -1
        twin = copy.deepcopy(layers[index])
        twin["config"]["name"] = unique_name(twin["class_name"], (c["config"].get("name") for c in layers))
        layers.insert(index + 1, twin)
        self.replace(layers, tr("Duplicate {layer}").format(layer=layers[index]["config"].get("name", "")),
                     select=index + 1)
        return index + 1

    def move_layer(self, src: int, dst: int) -> None:
        layers = self.layer_configs()
        if not (0 <= src < len(layers)) or src == dst:
            return
        dst = max(0, min(dst, len(layers) - 1))
        item = layers.pop(src)
        layers.insert(dst, item)
        self.replace(layers, tr("Move {layer}").format(layer=item["config"].get("name", "")), select=dst)

    def set_param(self, index: int, key: str, value) -> None:
        """Change one hyperparameter of layer ``index`` (repeated edits of the same field merge)."""
        layers = self.layer_configs()
        if not 0 <= index < len(layers):
            return
        config = layers[index]["config"]
        new_value = _like(config.get(key), value)
        if config.get(key, object()) == new_value:
            return
        config[key] = new_value
        self.replace(layers, tr("Set {key} of {layer} to {value}").format(
            key=key, layer=config.get("name", ""), value=value), select=index, merge_key=(index, key))

    def clear(self) -> None:
        self.replace([], tr("Start from an empty model"), select=-1)

    def restore_last_valid(self) -> None:
        if self.last_valid is not None and self.last_valid != self._layers:
            self.replace(copy.deepcopy(self.last_valid), tr("Restore last valid model"))

    def undo(self) -> None:
        if self._history.undo:
            step = self._history.undo.pop()
            self._history.redo.append(step)
            if step.input_change is not None:
                self.free_input = step.input_change[0]
            self._show(step.before, step.select_before)

    def redo(self) -> None:
        if self._history.redo:
            step = self._history.redo.pop()
            self._history.undo.append(step)
            if step.input_change is not None:
                self.free_input = step.input_change[1]
            self._show(step.after, step.select_after)

    def clear_history(self) -> None:
        self._history = _History()
        self._changed()

    def _show(self, layers: list[dict], select: int) -> None:
        self._layers = copy.deepcopy(layers)
        self.selected = min(select, len(self._layers) - 1) if select is not None else -1
        self._validate()
        self._changed()

    # -- validation -----------------------------------------------------------------------------
    def _validate(self) -> None:
        # num_classes: the engine also checks that the network ends in one score per class. A
        # shapes-only draft feeds no dataset, so it may end anywhere (the notes' network ends in Flatten).
        classes = None if self.shapes_only else self.num_classes
        self.rows = list(validate_architecture(copy.deepcopy(self._layers), self.input_shape,
                                               num_classes=classes))
        self.problems = {r.index if r.index is not None else i: tr_error(r.exception or r.error)
                         for i, r in enumerate(self.rows) if r.error}
        if not self.problems and not self.shapes_only:  # nothing is built from a shapes-only draft
            self._check_size()
        self.valid = bool(self._layers) and not self.problems and len(self.rows) == len(self._layers)
        if self.valid:
            self.last_valid = copy.deepcopy(self._layers)

    def _check_size(self) -> None:
        """Refuse models too big to train here, on the layer that makes them big (a lesson in itself)."""
        total = self.total_params
        if total <= MAX_PARAMS or not self.rows:
            return
        biggest = max(range(len(self.rows)), key=lambda i: int(self.rows[i].params or 0))
        self.problems[biggest] = tr(
            "The model would have {total} parameters, more than this computer can train ({limit} at most); "
            "this layer alone has {params}. Use fewer filters or units, or shrink the maps with pooling or "
            "a stride before Flatten."
        ).format(total=f"{total:,}", limit=f"{MAX_PARAMS:,}", params=f"{int(self.rows[biggest].params):,}")


__all__ = ["EDITABLE_LAYERS", "DraftModel", "DraftStep", "clean_config", "configs_of"]
