"""The lesson player as a widget-free model: the lesson, the student's progress, and what each step
asks the panels to do.

:meth:`PlayerModel.actions` turns a step's ``state`` into a list of :class:`PanelAction` (plain data:
show this tab, put this grid and kernel on the theater's stage, these layers in the editor, this
dataset and these training settings, hide these controls). :meth:`PlayerModel.play` hands them to an
:class:`Applier` (the Qt one is :class:`gui.lessons.apply.WindowApplier`, which sets the real
``StageModel``, ``DraftModel`` and controller); a test applier records them. A step that needs a
feature the window has not registered in its :class:`~gui.lessons.capabilities.Capabilities` gets a
note saying what is missing, and the parts that depend on it are left out. No Qt here (a test imports
this module in a fresh interpreter and finds no PySide6).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from engine.errors import ConvScopeError
from gui.lessons.capabilities import Capabilities, feature_note
from gui.lessons.progress import LessonProgress
from gui.lessons.schema import Lesson, Step, Text
from gui.lessons.state import editor_input_shape, editor_layers, theater_settings
from gui.listeners import ChangeListeners

__all__ = ["PanelAction", "Applier", "PlayerModel", "theater_values", "lesson_order"]


def lesson_order() -> list[str]:
    """The shipped lessons in the order the lessons define: the table "The lessons" of
    ``resources/lessons/README.md`` (a course from the first idea on), then any others by name."""
    import re

    from gui.lessons.schema import LESSONS_DIR, lesson_names

    names = lesson_names()
    try:
        readme = (LESSONS_DIR / "README.md").read_text(encoding="utf-8")
    except OSError:
        return names
    table = readme.split("## The lessons", 1)[-1]
    listed = [m for m in re.findall(r"^\|\s*`([a-z0-9_-]+)`\s*\|", table, flags=re.M) if m in names]
    return list(dict.fromkeys(listed)) + [n for n in names if n not in listed]


@dataclass(frozen=True)
class PanelAction:
    """One thing a step does to one panel: ``panel`` is ``"tab"``, ``"theater"``, ``"editor"``,
    ``"training"``, ``"select_layer"`` or ``"controls"``; ``values`` its plain settings."""

    panel: str
    values: dict = field(default_factory=dict)


class Applier(Protocol):
    """What the player needs from a window (the Qt one sets the real panels)."""

    capabilities: Capabilities

    def dataset_shape(self) -> tuple | None: ...
    def show_tab(self, key: str) -> None: ...
    def set_theater(self, values: dict) -> None: ...
    def set_editor(self, layers: list, input_shape: tuple, select: int | None) -> None: ...
    def set_training(self, values: dict) -> None: ...
    def select_layer(self, index: int) -> None: ...
    def set_controls(self, hidden: list, locked: list) -> list[str]: ...   # returns unknown control names


def _pair_or_int(value):
    """``2`` or ``[2, 1]`` (a lesson's JSON) as ``2`` or ``(2, 1)`` (rows, columns)."""
    return tuple(int(v) for v in value) if isinstance(value, (list, tuple)) else int(value)


def theater_values(theater: dict) -> dict:
    """A step's theater state as the settings the stage takes (``StageModel.update`` names).

    ``input_key`` (a named grid), ``input_grid`` ((C, H, W) array) or ``input_dataset`` (the
    ``{"dataset", "split", "index"}`` spec); ``kernel_key`` or ``kernel_grid``; ``op``, ``stride``,
    ``padding`` (``valid``/``same``/``custom`` + ``pad``), ``mode``, ``bias``, ``relu``,
    ``pool_size``, ``position`` ((i, j) or None), ``direction``.
    """
    s = theater_settings(theater)
    out: dict[str, Any] = {"op": s["op"], "mode": s["mode"], "bias": s["bias"], "relu": s["relu"],
                           "pool_size": _pair_or_int(s["pool_size"]), "direction": theater.get("direction", "forward")}
    stride = s["stride"]
    out["stride"] = _pair_or_int(stride)
    padding = s["padding"]
    if isinstance(padding, str):
        out["padding"], out["pad"] = padding, None
    else:
        out["padding"], out["pad"] = "custom", int(padding)
    spec = theater.get("input", "lecture_6x6")
    if isinstance(spec, str):
        out["input_key"] = spec
    elif isinstance(spec, dict):
        out["input_dataset"] = {"dataset": spec["dataset"], "split": spec.get("split", "train"),
                                "index": int(spec.get("index", 0))}
    else:
        a = np.array(spec, dtype=np.float64)
        out["input_grid"] = a[None] if a.ndim == 2 else a
    kernel = theater.get("kernel")
    if isinstance(kernel, str):
        out["kernel_key"] = kernel
    elif kernel is not None:
        k = np.array(kernel, dtype=np.float64)
        out["kernel_grid"] = k[0] if k.ndim == 3 and k.shape[0] == 1 else k
    pos = theater.get("position")
    out["position"] = None if pos is None else (int(pos[0]), int(pos[1]))
    return out


class PlayerModel(ChangeListeners):
    """A lesson being played: ``PlayerModel(lesson, capabilities)``.

    >>> player = PlayerModel(lesson, Capabilities())
    >>> notes = player.play(applier)          # apply the current step; notes for the student
    >>> player.answer("4"); player.next(); player.play(applier)

    ``subscribe(callback)`` calls ``callback()`` after the step, the answers or the notes change.
    """

    def __init__(self, lesson: Lesson, capabilities: Capabilities | None = None,
                 progress: LessonProgress | None = None):
        self.lesson = lesson
        self.capabilities = capabilities if capabilities is not None else Capabilities()
        self.progress = progress if progress is not None else LessonProgress(lesson)
        self.notes: list[tuple[str, dict]] = []  # (English template, values) for this step: the view translates
        self.problems: list[str] = []           # already translated messages (errors while applying)
        self.last_answer: tuple[bool, Text | None] | None = None
        self.applied_steps = 0

    # -- where ------------------------------------------------------------------------------------
    @property
    def step(self) -> Step:
        return self.progress.step

    @property
    def index(self) -> int:
        return self.progress.index

    @property
    def total(self) -> int:
        return self.progress.total

    @property
    def answered(self) -> bool:
        return self.step.question is None or self.step.id in self.progress.completed

    # -- what a step needs --------------------------------------------------------------------------
    def needs(self, step: Step | None = None, dataset_shape: tuple | None = None) -> list[str]:
        """The features ``step`` needs: its declared ``needs`` and those its state implies (an editor
        input that is not the dataset's needs the free input shape; a backward theater the backward mode)."""
        step = step or self.step
        out = list(step.needs)
        state = step.state
        if "editor" in state and dataset_shape is not None:
            if tuple(editor_input_shape(state["editor"])) != tuple(dataset_shape):
                out.append("free_input_shape")
        if state.get("theater", {}).get("direction") == "backward":
            out.append("backward_mode")
        return list(dict.fromkeys(out))

    def missing(self, step: Step | None = None, dataset_shape: tuple | None = None) -> list[str]:
        return self.capabilities.missing(self.needs(step, dataset_shape))

    def actions(self, step: Step | None = None, dataset_shape: tuple | None = None) -> list[PanelAction]:
        """What ``step`` (default: the current one) asks of the panels, leaving out what depends on a
        missing feature (an editor state with a free input shape)."""
        step = step or self.step
        state = step.state
        missing = self.missing(step, dataset_shape)
        out: list[PanelAction] = []
        if "training" in state:
            out.append(PanelAction("training", dict(state["training"])))
        if "theater" in state:
            out.append(PanelAction("theater", theater_values(state["theater"])))
        editor_applied = "editor" in state and "free_input_shape" not in missing
        if editor_applied:
            e = state["editor"]
            out.append(PanelAction("editor", {"layers": editor_layers(e), "input_shape": editor_input_shape(e),
                                              "select": state.get("select_layer")}))
        if "select_layer" in state and ("editor" not in state or editor_applied):
            out.append(PanelAction("select_layer", {"index": int(state["select_layer"])}))
        out.append(PanelAction("controls", {"hidden": list(state.get("hidden", [])),
                                            "locked": list(state.get("locked", []))}))
        if "tab" in state:
            out.append(PanelAction("tab", {"key": state["tab"]}))
        return out

    # -- applying -----------------------------------------------------------------------------------
    def play(self, applier: Applier) -> list[tuple[str, dict]]:
        """Apply the current step through ``applier``; returns (and keeps in ``notes``) the notes as
        ``(English template, values)`` (``tr(template).format(**values)`` in the view).

        A panel that refuses a value (an engine error) does not stop the others: its message goes to
        ``problems`` (translated by the applier) and the rest of the step is applied.
        """
        shape = applier.dataset_shape()
        self.notes = [(feature_note(name), {}) for name in self.missing(None, shape)]
        self.problems = []
        for action in self.actions(None, shape):
            try:
                self._apply(applier, action)
            except (ConvScopeError, ValueError, KeyError, IndexError) as exc:
                from gui.i18n import tr_error

                self.problems.append(tr_error(exc) if isinstance(exc, ConvScopeError) else str(exc))
        self.applied_steps += 1
        self._changed()
        return self.notes

    def _apply(self, applier: Applier, action: PanelAction) -> None:
        v = action.values
        if action.panel == "tab":
            applier.show_tab(v["key"])
        elif action.panel == "theater":
            applier.set_theater(v)
        elif action.panel == "editor":
            applier.set_editor(v["layers"], v["input_shape"], v["select"])
        elif action.panel == "training":
            applier.set_training(v)
        elif action.panel == "select_layer":
            applier.select_layer(v["index"])
        elif action.panel == "controls":
            unknown = applier.set_controls(v["hidden"], v["locked"])
            for name in unknown:
                self.notes.append(("This lesson names a control this version does not have: {name}.",
                                   {"name": name}))

    # -- moving and answering -------------------------------------------------------------------------
    def next(self) -> bool:
        moved = self.progress.next()
        if moved:
            self.last_answer = None
        self._changed()
        return moved

    def back(self) -> bool:
        moved = self.progress.back()
        if moved:
            self.last_answer = None
        self._changed()
        return moved

    def go_to(self, step_id: str) -> bool:
        """Jump to ``step_id`` (a glossary's "show me": the student asked for that step)."""
        self.progress.index = self.lesson.step_index(step_id)
        self.last_answer = None
        self._changed()
        return True

    def finish(self) -> bool:
        done = self.progress.finish()
        self._changed()
        return done

    def answer(self, value) -> tuple[bool, Text | None]:
        """Check the student's answer to the current question: ``(True, None)`` or ``(False, hint)``."""
        result = self.progress.answer(value)
        self.last_answer = result
        self._changed()
        return result

    # -- saving -------------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return self.progress.to_dict()

    def resume(self, data: dict) -> bool:
        """Continue from saved progress (:meth:`to_dict`); False when it did not fit this lesson."""
        progress = LessonProgress.from_dict(self.lesson, data)
        resumed = isinstance(data, dict) and data.get("lesson") == self.lesson.id
        self.progress = progress
        self.last_answer = None
        self._changed()
        return resumed
