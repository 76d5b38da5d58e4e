"""The run store's user-facing error."""

from __future__ import annotations

from engine.errors import ConvScopeError

__all__ = ["RunStoreError"]


class RunStoreError(ConvScopeError):
    """The run database or a run's files cannot be used (corrupt, foreign, missing, busy)."""
