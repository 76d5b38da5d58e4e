"""Checks that a widget-free model stays widget-free: imported alone in a fresh interpreter, it must
bring no Qt or pyqtgraph module with it (tests drive these models without a QApplication)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QT_PACKAGES = ("PySide6", "shiboken6", "pyqtgraph")


def qt_modules_loaded_by(*modules: str, prelude: str = "") -> list[str]:
    """Import ``modules`` (after the Python code ``prelude``) in a fresh interpreter at the project
    root; the Qt and pyqtgraph modules that came with them (an import error fails the test)."""
    code = (prelude + "import json, sys\n" + "".join(f"import {m}\n" for m in modules)
            + f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {QT_PACKAGES!r})))\n")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    return json.loads(run.stdout.strip().splitlines()[-1])
