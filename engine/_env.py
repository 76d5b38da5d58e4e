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


_heap_kept = False


def keep_freed_memory() -> bool:
    """Let glibc keep the memory of freed arrays for the next training step (Linux only, once).

    A training step allocates and frees the same few megabytes of activations and gradients every
    time. By default glibc hands the top of its heap back to the kernel when it is freed (and serves
    blocks over its dynamic threshold with fresh ``mmap`` s), so the next step page-faults all of it
    in again: about 10,000-16,000 page faults a second on LeNet-5 and the Keras-book net, 3-15 % of
    the step. A fixed 32 MB mmap threshold and a 128 MB trim threshold keep those pages mapped;
    memory is still reused, so the process does not grow, it just keeps its high-water mark.
    ``CONVSCOPE_KEEP_HEAP=0`` turns this off. Returns True when the settings were applied.
    """
    global _heap_kept
    if _heap_kept:
        return True
    _heap_kept = True
    if not sys.platform.startswith("linux") or os.environ.get("CONVSCOPE_KEEP_HEAP", "1") == "0":
        return False
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3
        return bool(libc.mallopt(m_mmap_threshold, 32 << 20)) and bool(libc.mallopt(m_trim_threshold, 128 << 20))
    except (OSError, AttributeError):  # not glibc (musl, another libc): nothing to tune
        return False


_frozen = False


def freeze_long_lived_objects() -> bool:
    """Collect garbage once, then move every object alive to the collector's permanent generation.

    A process that has imported numba, Qt and pyqtgraph holds some 160,000 tracked objects that live
    until it exits; each full collection walked all of them and held the GIL for 120-150 ms (measured
    in the training window: the one GUI stall above 100 ms in 15 s of training). Frozen, they are never
    walked again and a full collection costs what the objects made afterwards cost (under 1 ms).
    Done once per process, after the start-up work (the kernels compiled or loaded from the cache);
    later calls do nothing and return False.
    """
    global _frozen
    if _frozen:
        return False
    _frozen = True
    import gc

    gc.collect()
    gc.freeze()
    return True
