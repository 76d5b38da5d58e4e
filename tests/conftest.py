"""Test-wide set-up: headless Qt by default, a private settings/cache home, shared data location."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# With no display Qt aborts the whole run (rc 134); offscreen renders everything without one.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pytest  # noqa: E402

# The original MNIST / Fashion-MNIST IDX files live beside the repository (never inside it).
DEFAULT_SHARED_DATA = ROOT.parent / "shared" / "data"


def shared_data_dir() -> Path | None:
    """Folder with mnist/ and fashion-mnist/ IDX files: $CONVSCOPE_TEST_DATA or ../shared/data."""
    env = os.environ.get("CONVSCOPE_TEST_DATA")
    path = Path(env) if env else DEFAULT_SHARED_DATA
    return path if (path / "mnist").is_dir() else None


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = shared_data_dir()
    if path is None:
        pytest.skip("MNIST/Fashion-MNIST IDX files not found (set CONVSCOPE_TEST_DATA)")
    return path


@pytest.fixture(autouse=True, scope="session")
def _isolated_settings(tmp_path_factory):
    """Keep QSettings (window layout) and recorded runs of the tests out of the user's real folders."""
    home = tmp_path_factory.mktemp("xdg")
    os.environ["XDG_CONFIG_HOME"] = str(home / "config")
    # every run a test trains is recorded: into this session's folder, never the user's run store
    os.environ["CONVSCOPE_RUNS_DIR"] = str(home / "runs")
    try:
        from PySide6.QtCore import QSettings

        QSettings.setDefaultFormat(QSettings.Format.IniFormat)
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(home / "config"))
    except ImportError:  # engine-only environments
        pass
    yield
