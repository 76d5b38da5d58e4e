"""Which filters of which convolution layers a branch freezes (no Qt: the branch dialog is a view on it).

Filters are numbered from 0, as in the Filters panel. A layer's choice is typed as a list of numbers
and ranges ("0-3, 7") or chosen whole ("all"); :meth:`FreezeChoice.changes` gives the
``{conv layer name: [filter indices]}`` that ``RunRecording.branch_run`` writes into the new run.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.layers import layer_from_config
from gui.i18n import tr

__all__ = ["ConvLayerChoice", "FreezeChoice", "format_indices", "parse_indices"]


def parse_indices(text: str, count: int) -> list[int]:
    """``"0-3, 7"`` -> ``[0, 1, 2, 3, 7]`` for a layer of ``count`` filters; ``""`` -> ``[]``.

    Raises ``ValueError`` with a translated sentence that quotes the bad part and says what is allowed.
    """
    found: set[int] = set()
    for part in text.replace(";", ",").replace(" ", ",").split(","):
        part = part.strip()
        if not part:
            continue
        lo, sep, hi = part.partition("-")
        try:
            a = int(lo)
            b = int(hi) if sep else a
        except ValueError:
            raise ValueError(tr("\"{}\" is not a filter number: write numbers and ranges such as 0-3, 7.")
                             .format(part)) from None
        if a > b:
            a, b = b, a
        if a < 0 or b >= count:
            raise ValueError(tr("Filter {} does not exist: this layer has filters 0 to {}.")
                             .format(b if b >= count else a, count - 1))
        found.update(range(a, b + 1))
    return sorted(found)


def format_indices(indices) -> str:
    """``[0, 1, 2, 3, 7]`` -> ``"0-3, 7"`` (the inverse of :func:`parse_indices`)."""
    indices = sorted({int(i) for i in indices})
    parts, i = [], 0
    while i < len(indices):
        j = i
        while j + 1 < len(indices) and indices[j + 1] == indices[j] + 1:
            j += 1
        parts.append(str(indices[i]) if i == j else f"{indices[i]}-{indices[j]}")
        i = j + 1
    return ", ".join(parts)


@dataclass(frozen=True)
class ConvLayerChoice:
    """One layer whose filters can be frozen: its position among the layers, name and filter count."""

    index: int
    name: str
    filters: int


class FreezeChoice:
    """The frozen filters of every conv layer of ``architecture`` (a ``Sequential.get_config()``),
    starting from what the architecture already freezes."""

    def __init__(self, architecture: dict):
        self.layers: list[ConvLayerChoice] = []
        self._frozen: dict[str, list[int]] = {}
        self._errors: dict[str, str] = {}
        for i, config in enumerate(architecture.get("layers", [])):
            layer = layer_from_config(config)
            if not hasattr(layer, "frozen_filters"):       # the engine says which layers have filters to freeze
                continue
            name = config["config"].get("name") or layer.name
            count = int(layer.filters)
            self.layers.append(ConvLayerChoice(i, name, count))
            self._frozen[name] = sorted(i for i in layer.frozen_filters if 0 <= i < count)

    def layer(self, name: str) -> ConvLayerChoice:
        return next(c for c in self.layers if c.name == name)

    def frozen(self, name: str) -> list[int]:
        return list(self._frozen[name])

    def text(self, name: str) -> str:
        return format_indices(self._frozen[name])

    def set_text(self, name: str, text: str) -> bool:
        """The typed choice of layer ``name``; False (and :meth:`error` says why) when it cannot be read."""
        try:
            self._frozen[name] = parse_indices(text, self.layer(name).filters)
        except ValueError as exc:
            self._errors[name] = str(exc)
            return False
        self._errors.pop(name, None)
        return True

    def set_all(self, name: str, frozen: bool) -> None:
        self._frozen[name] = list(range(self.layer(name).filters)) if frozen else []
        self._errors.pop(name, None)

    def is_all(self, name: str) -> bool:
        return len(self._frozen[name]) == self.layer(name).filters

    def error(self, name: str) -> str | None:
        return self._errors.get(name)

    @property
    def valid(self) -> bool:
        return not self._errors

    def changes(self) -> dict:
        """``{layer name: [filter indices]}`` for every conv layer (an empty list: all of it learns)."""
        return {c.name: list(self._frozen[c.name]) for c in self.layers}

    def summary(self) -> str:
        """How many filters are frozen, for the dialog's line under the choices."""
        total = sum(c.filters for c in self.layers)
        frozen = sum(len(v) for v in self._frozen.values())
        return tr("{} of {} filters frozen.").format(frozen, total)
