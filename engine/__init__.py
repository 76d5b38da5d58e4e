"""ConvScope's engine: a small CNN library in numpy + numba.

The engine never imports Qt or pyqtgraph, so it runs and is tested headless. See
``docs/ARCHITECTURE.md`` for the contract between the engine and the GUI.
"""

from engine._env import configure_numba_cache

# Must run before any engine module imports numba: numba reads NUMBA_CACHE_DIR on import, and a
# read-only install location otherwise fails at import time ("no locator available").
configure_numba_cache()

__version__ = "0.1.0"
