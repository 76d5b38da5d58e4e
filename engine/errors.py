"""Errors a user can cause, as data: a stable ``code``, the received ``values``, an English sentence.

Like Pydantic's ``ValidationError.errors()``: ``exc.code`` (e.g. ``"kernel_too_large"``) names the
problem, ``exc.values`` holds what was received (``kernel=16, size=14, padding=0, ...``), and
``str(exc)`` is the English teaching sentence made from the one English template of that code in
:data:`engine.messages.MESSAGES`. A user interface translates by code and formats the same values;
it never reads the English text.

Values that are themselves translatable keep their type so a translator can recognise them:

- a nested :class:`Message` / :class:`ConvScopeError` (``layer 2 (conv2d_1): <the layer's error>``),
- :class:`Term`: a word of the engine's vocabulary ("kernel", "stride", "there is no internet connection"),
- :class:`Shape`: an engine shape ``(C, H, W)`` shown Keras-style as ``H x W x C``,
- :class:`Listing`: several values shown one after the other (each translated on its own).
"""

from __future__ import annotations

from engine.messages import MESSAGES

__all__ = ["Term", "Shape", "Listing", "Message", "render", "ConvScopeError", "ShapeError", "ArchitectureError",
           "ModelFileError", "DatasetError", "ImageError", "LimitError"]


class Term(str):
    """A word or phrase of the engine's vocabulary that a user interface translates (``tr(term)``)."""

    __slots__ = ()


class Shape(tuple):
    """An engine shape: ``(C, H, W)`` reads ``"H x W x C"``, ``(D,)`` reads ``"D"`` (Keras's order)."""

    def __str__(self) -> str:
        if len(self) == 3:
            c, h, w = self
            return f"{h} x {w} x {c}"
        return " x ".join(str(v) for v in self)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


class Listing(tuple):
    """Values shown one after the other, joined by ``sep`` (each may be a message, a term or text)."""

    sep: str = ", "

    def __new__(cls, items=(), sep: str = ", "):
        obj = super().__new__(cls, items)
        obj.sep = sep
        return obj

    def __str__(self) -> str:
        return self.sep.join(str(v) for v in self)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __reduce__(self):
        return (Listing, (tuple(self), self.sep))


def render(template: str, values: dict) -> str:
    """``template.format(**values)``; a value that cannot be formatted never hides the error itself."""
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError, TypeError, AttributeError):
        return template + " " + ", ".join(f"{k}={v}" for k, v in values.items())


def english(code: str, values: dict) -> str:
    """The English sentence of ``code`` (an unknown code is taken as the text itself)."""
    template = MESSAGES.get(code)
    if template is None:
        return code
    return render(template, values)


class Message:
    """A sentence the engine tells the user that is not an error (a dataset's note): same code + values."""

    __slots__ = ("code", "values")

    def __init__(self, code: str, /, **values):
        self.code = code
        self.values = values

    def __str__(self) -> str:
        return english(self.code, self.values)

    def __repr__(self) -> str:
        return f"Message({self.code!r}, {self.values!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Message) and (self.code, self.values) == (other.code, other.values)

    __hash__ = None


class ConvScopeError(ValueError):
    """Base class of every error the GUI shows to the user as a message.

    ``ConvScopeError(code, **values)``: ``exc.code``, ``exc.values`` and ``str(exc)`` (English). A nested
    error given as a value is also set as ``__cause__``.
    """

    def __init__(self, code: str, /, **values):
        self.code = code
        self.values = values
        super().__init__(english(code, values))
        for value in values.values():
            if isinstance(value, BaseException) and self.__cause__ is None:
                self.__cause__ = value

    def __reduce__(self):
        return (_rebuild, (type(self), self.code, self.values))


def _rebuild(cls, code, values):
    return cls(code, **values)


class ShapeError(ConvScopeError):
    """A layer cannot produce an output from the shape it receives."""


class ArchitectureError(ConvScopeError):
    """A model's layers do not fit together; ``layer_index`` / ``layer_name`` name the offending layer.

    ``ArchitectureError.in_layer(index, name, inner)`` wraps a layer's own error (code ``"in_layer"``,
    the inner error kept as ``values["error"]`` and ``__cause__``).
    """

    @classmethod
    def in_layer(cls, index: int, name: str, error: ConvScopeError) -> ArchitectureError:
        return cls("in_layer", layer_index=index, layer_name=name, error=error)

    @property
    def layer_index(self) -> int | None:
        return self.values.get("layer_index")

    @property
    def layer_name(self) -> str | None:
        return self.values.get("layer_name")

    @property
    def detail(self) -> str:
        inner = self.values.get("error")
        return str(inner) if inner is not None else str(self)


class ModelFileError(ConvScopeError):
    """A model file is corrupt, from another version, or does not match its architecture."""


class DatasetError(ConvScopeError):
    """A dataset file or folder is missing, corrupt or inconsistent."""


class ImageError(ConvScopeError):
    """A file given as an image cannot be decoded or is unusable."""


class LimitError(ArchitectureError):
    """A model larger than a student's computer can hold (see :mod:`engine.limits`)."""
