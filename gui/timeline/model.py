"""``TimelineModel``: which kept moments a run has, which one the window shows (or "live"), play/pause.

No Qt here (a test imports it in a fresh interpreter). Views and the controller subscribe with
``model.subscribe(callback)``; ``callback(names)`` gets a frozenset of what changed: ``"moments"``
(new kept steps), ``"position"`` (another moment shown, or live), ``"playing"``.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

__all__ = ["TimelineModel", "TimelinePosition"]


@dataclass(frozen=True)
class TimelinePosition:
    """What the window shows: ``step`` training batches in (``epoch`` = position in epochs), or the
    live model (``live=True``; ``step`` then is the newest kept step)."""

    step: int
    epoch: float
    live: bool

    @property
    def finished_epochs(self) -> int:
        """Epochs completed at this moment (the confusion matrix to show: 0 = none yet)."""
        return int(self.epoch + 1e-9)


class TimelineModel:
    """The kept moments of the current run and the position of the slider over them."""

    def __init__(self):
        self._steps: list[int] = []
        self._epochs: list[float] = []
        self.epoch_steps: dict[int, int] = {}      # finished epoch (from 1) -> its last step
        self.index: int | None = None              # None = live
        self.playing = False
        self._subscribers: list = []

    # -- events ----------------------------------------------------------------------------------
    def subscribe(self, callback) -> None:
        self._subscribers.append(callback)

    def unsubscribe(self, callback) -> None:
        if callback in self._subscribers:
            self._subscribers.remove(callback)

    def _emit(self, *names: str) -> None:
        for callback in list(self._subscribers):
            callback(frozenset(names))

    # -- moments ---------------------------------------------------------------------------------
    def reset(self) -> None:
        """A new run: no moments, live."""
        self._steps, self._epochs, self.epoch_steps = [], [], {}
        was_live = self.index is None
        self.index, self.playing = None, False
        self._emit("moments", "playing", *(() if was_live else ("position",)))

    def set_moments(self, steps, epochs, epoch_steps: dict | None = None) -> None:
        """The kept ``steps`` (growing) with their epoch positions; a shown moment stays shown
        (looked up by step: the history may drop moments to stay within its bound)."""
        steps, epochs = [int(s) for s in steps], [float(e) for e in epochs]
        if steps == self._steps and (epoch_steps is None or epoch_steps == self.epoch_steps):
            return
        shown = None if self.index is None else self._steps[self.index]
        self._steps, self._epochs = steps, epochs
        if epoch_steps is not None:
            self.epoch_steps = {int(k): int(v) for k, v in epoch_steps.items()}
        moved = False
        if shown is not None:
            i = max(bisect.bisect_right(self._steps, shown) - 1, 0) if self._steps else None
            moved = i is None or self._steps[i] != shown
            self.index = i
        self._emit("moments", *(("position",) if moved else ()))

    @property
    def steps(self) -> list[int]:
        return list(self._steps)

    @property
    def count(self) -> int:
        return len(self._steps)

    @property
    def live_step(self) -> int:
        """The newest kept step (0 before any)."""
        return self._steps[-1] if self._steps else 0

    # -- position ---------------------------------------------------------------------------------
    @property
    def is_live(self) -> bool:
        return self.index is None

    @property
    def position(self) -> TimelinePosition:
        if self.index is None or not self._steps:
            return TimelinePosition(self.live_step, self._epochs[-1] if self._epochs else 0.0, True)
        return TimelinePosition(self._steps[self.index], self._epochs[self.index], False)

    def seek(self, index: int) -> None:
        """Show the ``index``-th kept moment (clamped)."""
        if not self._steps:
            return
        index = min(max(int(index), 0), len(self._steps) - 1)
        if index != self.index:
            self.index = index
            self._emit("position")

    def seek_step(self, step: int) -> None:
        """Show the kept moment nearest at or before ``step``."""
        if self._steps:
            self.seek(max(bisect.bisect_right(self._steps, int(step)) - 1, 0))

    def seek_epoch(self, epoch: int) -> None:
        """Show the end of epoch ``epoch`` (from 1; 0 = the untrained model)."""
        self.seek_step(0 if int(epoch) <= 0 else self.epoch_steps.get(int(epoch), self.live_step))

    def go_live(self) -> None:
        changed = ["playing"] if self.playing else []
        self.playing = False
        if self.index is not None:
            self.index = None
            changed.append("position")
        if changed:
            self._emit(*changed)

    def step_forward(self) -> None:
        """One kept moment later; past the last one the timeline is live again (and stops playing)."""
        if self.index is None:
            return
        if self.index + 1 >= len(self._steps):
            self.go_live()
        else:
            self.seek(self.index + 1)

    def step_back(self) -> None:
        if not self._steps:
            return
        self.seek(len(self._steps) - 1 if self.index is None else self.index - 1)

    # -- play / pause -----------------------------------------------------------------------------
    def play(self) -> None:
        """Replay the timeline from the shown moment (from the start when live)."""
        if not self._steps or self.playing:
            return
        self.playing = True
        names = ["playing"]
        if self.index is None or self.index >= len(self._steps) - 1:
            self.index = 0
            names.append("position")
        self._emit(*names)

    def pause(self) -> None:
        if self.playing:
            self.playing = False
            self._emit("playing")

    def tick(self) -> None:
        """Called by the view's timer while playing."""
        if self.playing:
            self.step_forward()
