"""Where ConvScope keeps things on this computer (one place; the About box lists them).

Linux follows the XDG base directories: ``$XDG_DATA_HOME`` (default ``~/.local/share``) for data the
user makes (saved runs, their own example images) and ``$XDG_CACHE_HOME`` (default ``~/.cache``)
for what can be made again (compiled numba kernels, downloaded datasets). The numba cache folder is
the one ``engine._env`` chose before numba was imported.
"""

from __future__ import annotations

import os
from pathlib import Path

from engine._env import configure_numba_cache, user_cache_dir

APP_ID = "convscope"


def data_home() -> Path:
    """``$XDG_DATA_HOME`` or ``~/.local/share`` (what the desktop reads applications and icons from)."""
    value = os.environ.get("XDG_DATA_HOME", "").strip()
    # the spec: a relative path is invalid and must be ignored
    if value and os.path.isabs(value):
        return Path(value)
    return Path.home() / ".local" / "share"


def app_data_dir() -> Path:
    return data_home() / APP_ID


def runs_dir() -> Path:
    """Saved training runs (models and their histories)."""
    return app_data_dir() / "runs"


def examples_dir() -> Path:
    """The user's own example images ("this is a k"): the engine's folder, ``$CONVSCOPE_EXAMPLES_DIR`` first."""
    from engine.datasets.user_examples import default_examples_dir

    return default_examples_dir()


def cache_dir() -> Path:
    return user_cache_dir(APP_ID)


def numba_cache_dir() -> Path:
    """Compiled kernels: ``$NUMBA_CACHE_DIR`` as ``engine`` set it at import."""
    return Path(os.environ.get("NUMBA_CACHE_DIR") or configure_numba_cache() or cache_dir() / "numba")


def dataset_cache_dir() -> Path:
    """Downloaded MNIST / Fashion-MNIST files."""
    from engine.datasets.mnist import default_cache_dir

    return Path(default_cache_dir())


def folders() -> list[tuple[str, Path]]:
    """``(English label, path)`` for the About box, in the order shown."""
    return [
        ("Compiled kernels (numba cache)", numba_cache_dir()),
        ("Downloaded datasets", dataset_cache_dir()),
        ("Saved runs", runs_dir()),
        ("Your example images", examples_dir()),
    ]
