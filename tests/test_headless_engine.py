"""The engine must run with no GUI toolkit: importing it pulls in no Qt or pyqtgraph module."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_importing_every_engine_module_loads_no_qt():
    code = r"""
import importlib, json, pkgutil, sys
import engine
names = ["engine"]
for info in pkgutil.walk_packages(engine.__path__, "engine."):
    importlib.import_module(info.name)
    names.append(info.name)
bad = sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "shiboken6", "pyqtgraph", "gui"))
print(json.dumps({"modules": names, "bad": bad}))
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert "engine.shapes" in result["modules"]
    assert result["bad"] == []


def test_engine_sets_a_writable_numba_cache_before_numba_is_imported(tmp_path):
    code = "import os, engine, numba; print(os.environ['NUMBA_CACHE_DIR'])"
    env = {"HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(tmp_path / "cache" / "convscope" / "numba")
