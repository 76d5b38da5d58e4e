"""What the app can do for a lesson step: one explicit set that the panels' appliers register into.

A lesson step may need a feature the app does not have yet (``"needs": ["backward_mode"]``). The player
never guesses from attributes (``hasattr(stage, "direction")`` would say yes for a half-built
feature): each part of the window that can apply a feature registers its name here, once, where it is
wired to the player (:mod:`gui.lessons.apply`). A step whose needs are not all registered shows a
note naming what is missing instead of failing. Qt-free.
"""

from __future__ import annotations

from gui.lessons.vocabulary import NEEDS

__all__ = ["FEATURES", "Capabilities", "feature_note"]

# every feature a step may need (the lesson format's vocabulary), with what the student is told
FEATURES: dict[str, str] = {
    "free_input_shape": "a free input shape in the architecture editor",
    "backward_mode": "the convolution theater's backward mode",
    "run_comparison": "comparing two training runs side by side",
    "colour_input": "colour pictures in this panel",
}
assert set(FEATURES) == set(NEEDS), "every need of the lesson format has a description"


def feature_note(name: str) -> str:
    """English sentence for a missing feature (translated by :func:`gui.i18n.tr` as a whole)."""
    return f"This step needs {FEATURES[name]}, which comes in a later version of ConvScope."


class Capabilities:
    """The features this window can apply. ``register(name)`` by the code that implements it."""

    def __init__(self, names=()):
        self._have: set[str] = set()
        for name in names:
            self.register(name)

    def register(self, name: str) -> None:
        if name not in FEATURES:
            raise ValueError(f"unknown feature {name!r}; the features are {', '.join(FEATURES)}")
        self._have.add(name)

    def has(self, name: str) -> bool:
        return name in self._have

    def missing(self, needs) -> list[str]:
        """The features of ``needs`` this window does not have, in order, without repeats."""
        out: list[str] = []
        for name in needs:
            if name not in self._have and name not in out:
                out.append(name)
        return out

    def __contains__(self, name: str) -> bool:
        return self.has(name)

    def __iter__(self):
        return iter(sorted(self._have))
