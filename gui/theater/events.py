"""Plain callbacks for the theater's widget-free models (no Qt): ``model.events.position.connect(cb)``.

Like napari's ``EmitterGroup``: each event is a list of callables called in connection order with
keyword values. A view subscribes to the events it draws and, on user input, only sets the model's
attributes; the model emits, every subscribed view redraws. ``blocker()`` silences an event while a
view writes back into the model the value it is showing (no echo).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager


class Event:
    """One kind of change: ``connect(callback)``, ``disconnect(callback)``, ``emit(**values)`` (or call it)."""

    def __init__(self, name: str):
        self.name = name
        self._callbacks: list[Callable[..., None]] = []
        self._blocked = 0

    def connect(self, callback: Callable[..., None]) -> Callable[..., None]:
        if callback not in self._callbacks:
            self._callbacks.append(callback)
        return callback

    def disconnect(self, callback: Callable[..., None]) -> None:
        if callback in self._callbacks:
            self._callbacks.remove(callback)

    def emit(self, **values) -> None:
        if self._blocked:
            return
        for callback in list(self._callbacks):
            callback(**values)

    __call__ = emit     # ``model.events.position(index=3)`` emits, as in napari

    @contextmanager
    def blocker(self):
        self._blocked += 1
        try:
            yield
        finally:
            self._blocked -= 1


class Events:
    """A named group of :class:`Event`: ``Events("theater", "position").position.connect(...)``."""

    def __init__(self, *names: str):
        self._names = names
        for name in names:
            setattr(self, name, Event(name))

    def __iter__(self):
        return (getattr(self, name) for name in self._names)
