"""Errors a user can cause. Every message quotes the received values and says how to fix it."""

from __future__ import annotations


class ConvScopeError(ValueError):
    """Base class of every error the GUI shows to the user as a message."""


class ShapeError(ConvScopeError):
    """A layer cannot produce an output from the shape it receives."""


class ArchitectureError(ConvScopeError):
    """A model's layers do not fit together; names the offending layer."""

    def __init__(self, message: str, layer_index: int | None = None, layer_name: str | None = None):
        where = ""
        if layer_index is not None:
            where = f"layer {layer_index}" + (f" ({layer_name})" if layer_name else "") + ": "
        super().__init__(where + message)
        self.layer_index = layer_index
        self.layer_name = layer_name
        self.detail = message


class ModelFileError(ConvScopeError):
    """A model file is corrupt, from another version, or does not match its architecture."""


class DatasetError(ConvScopeError):
    """A dataset file or folder is missing, corrupt or inconsistent."""


class ImageError(ConvScopeError):
    """A file given as an image cannot be decoded or is unusable."""
