"""Change notification for the widget-free models (no Qt): a view subscribes, the model calls ``_changed()``."""

from __future__ import annotations

from collections.abc import Callable


class ChangeListeners:
    """``subscribe(callback)`` / ``unsubscribe(callback)``; ``_changed()`` calls every callback with no argument.

    A callback may unsubscribe (or subscribe another) while it runs: the call goes over a copy of the list.
    """

    def subscribe(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback()`` after every change; returns it."""
        self._callbacks().append(callback)
        return callback

    def unsubscribe(self, callback: Callable[[], None]) -> None:
        callbacks = self._callbacks()
        if callback in callbacks:
            callbacks.remove(callback)

    def _changed(self) -> None:
        for callback in list(self._callbacks()):
            callback()

    def _callbacks(self) -> list[Callable[[], None]]:
        return self.__dict__.setdefault("_listeners", [])
