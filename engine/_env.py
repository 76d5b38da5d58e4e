"""Process-wide settings that must be in place before numba is imported."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def user_cache_dir(app: str = "convscope") -> Path:
    """Return the per-user cache folder (XDG on Linux, the usual places elsewhere)."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / app


def configure_numba_cache() -> str:
    """Point numba's on-disk cache at a writable per-user folder unless the user chose one.

    Returns the folder in use. Falls back to a temporary folder when the home is not writable.
    """
    chosen = os.environ.get("NUMBA_CACHE_DIR")
    if chosen:
        return chosen
    for candidate in (user_cache_dir() / "numba", Path(os.environ.get("TMPDIR", "/tmp")) / "convscope-numba"):
        try:
            candidate.mkdir(parents=True, exist_ok=True)
            probe = candidate / ".write-test"
            probe.write_text("ok")
            probe.unlink()
        except OSError:
            continue
        os.environ["NUMBA_CACHE_DIR"] = str(candidate)
        return str(candidate)
    return ""
