"""Installing into the applications menu writes a valid entry, the icons and the file types; uninstalling
takes out exactly that."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gui.desktop import filetypes
from gui.desktop.install import (
    ICON_SIZES,
    InstallError,
    desktop_entry,
    install,
    uninstall,
)

ROOT = Path(__file__).resolve().parents[2]


def _tree(folder: Path) -> dict[str, str]:
    """Every file and folder under ``folder`` with the hash of its contents."""
    out = {}
    for p in sorted(folder.rglob("*")):
        out[str(p.relative_to(folder))] = hashlib.md5(p.read_bytes()).hexdigest() if p.is_file() else "dir"
    return out


@pytest.fixture
def data_home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    data = home / ".local" / "share"
    data.mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    return data


def _run_install(*args: str, env_home: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, XDG_DATA_HOME=str(env_home), HOME=str(env_home.parent))
    return subprocess.run([sys.executable, "-m", "gui.desktop.install", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_install_writes_a_desktop_entry_that_desktop_file_validate_accepts(data_home):
    done = _run_install(env_home=data_home)
    assert done.returncode == 0, done.stderr
    entry = data_home / "applications" / "convscope.desktop"
    text = entry.read_text(encoding="utf-8")
    assert "Name[ko]=" in text and "Comment[ko]=" in text
    assert "Categories=Education;Science;" in text and "Icon=convscope" in text
    assert " %F\n" in text
    mimes = next(line for line in text.splitlines() if line.startswith("MimeType=")).split("=")[1].split(";")
    assert {"image/png", "image/jpeg", filetypes.MODEL_MIME, filetypes.LESSON_MIME} <= set(mimes)
    validator = shutil.which("desktop-file-validate")
    if validator is None:
        pytest.skip("desktop-file-validate is not installed (Debian: apt-get install desktop-file-utils)")
    check = subprocess.run([validator, str(entry)], capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "error" not in check.stdout.lower()


def test_install_writes_every_icon_size_and_the_mime_package(data_home):
    report = install(update=False)
    for size in ICON_SIZES:
        png = data_home / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "convscope.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert png in report.written
    assert (data_home / "icons" / "hicolor" / "scalable" / "apps" / "convscope.svg").is_file()
    package = (data_home / "mime" / "packages" / "convscope.xml").read_text(encoding="utf-8")
    assert filetypes.MODEL_MIME in package and filetypes.LESSON_MIME in package
    assert "*.convscope.npz" in package and "architecture.npy" in package


def test_exec_points_at_the_launcher_and_quotes_spaces():
    text = desktop_entry(["/opt/my apps/.venv/bin/convscope"])
    assert 'Exec="/opt/my apps/.venv/bin/convscope" %F' in text


def test_every_engine_image_extension_has_a_mime_type():
    assert all(ext.lower() in filetypes.MIME_BY_EXTENSION for ext in filetypes.IMAGE_EXTENSIONS)
    assert "image/png" in filetypes.image_mime_types()


def test_uninstall_removes_what_install_wrote_and_nothing_else(data_home):
    # a user's data folder that already holds another application and icon
    (data_home / "applications").mkdir()
    (data_home / "applications" / "other.desktop").write_text(
        "[Desktop Entry]\nType=Application\nName=Other\nExec=true\n", encoding="utf-8")
    (data_home / "icons" / "hicolor" / "48x48" / "apps").mkdir(parents=True)
    (data_home / "icons" / "hicolor" / "48x48" / "apps" / "other.png").write_bytes(b"png")
    (data_home / "convscope" / "runs").mkdir(parents=True)
    before = _tree(data_home)

    assert _run_install(env_home=data_home).returncode == 0
    during = _tree(data_home)
    assert "applications/convscope.desktop" in during
    assert "icons/hicolor/48x48/apps/convscope.png" in during

    done = _run_install("--uninstall", env_home=data_home)
    assert done.returncode == 0, done.stderr
    assert _tree(data_home) == before


def test_uninstall_of_an_empty_data_folder_leaves_it_empty(data_home):
    install()
    uninstall()
    assert list(data_home.iterdir()) == []


def test_missing_xdg_data_home_is_a_message_not_a_traceback(tmp_path):
    missing = tmp_path / "not-there"
    done = _run_install(env_home=missing)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "mkdir -p" in done.stderr and str(missing) in done.stderr
    assert not missing.exists()


def test_read_only_data_folder_is_a_message_and_leaves_nothing_behind(tmp_path):
    if os.geteuid() == 0:
        target = Path("/sys")            # root writes through permission bits; sysfs refuses
        if not target.is_dir() or os.access(target / "applications", os.F_OK):
            pytest.skip("no read-only folder available to root here")
    else:
        target = tmp_path / "ro"
        target.mkdir()
        target.chmod(0o555)
    try:
        with pytest.raises(InstallError, match="XDG_DATA_HOME"):
            install(target)
        done = _run_install(env_home=target)
        assert done.returncode != 0 and "Traceback" not in done.stderr
        assert "Nothing was installed" in done.stderr
        assert not (target / "applications").exists()
    finally:
        if target != Path("/sys"):
            target.chmod(0o755)


def test_the_convscope_command_installs_and_uninstalls_the_menu_entry(data_home):
    env = dict(os.environ, XDG_DATA_HOME=str(data_home))
    done = subprocess.run([sys.executable, "main.py", "--install-desktop"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert (data_home / "applications" / "convscope.desktop").is_file()
    done = subprocess.run([sys.executable, "main.py", "--uninstall-desktop"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert list(data_home.iterdir()) == []
