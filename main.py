"""ConvScope entry point: ``python main.py [--dataset shapes] [--screenshot out.png] ...``."""

import sys

if __name__ == "__main__":
    # engine/__init__ sets NUMBA_CACHE_DIR before numba is imported; gui.app imports it first.
    from gui.app import main

    sys.exit(main())
