"""The application shell: the window opens and closes cleanly, screenshots, glossary, language."""

import struct
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_main_window_opens_and_closes(qtbot):
    from gui.main_window import MainWindow

    win = MainWindow(restore_layout=False)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    titles = [a.text() for a in win.menuBar().actions()]
    assert len(titles) == 5
    assert win.close()


def test_glossary_lists_terms_in_both_languages(qtbot):
    from gui.main_window import GlossaryDialog

    dlg = GlossaryDialog()
    qtbot.addWidget(dlg)
    assert dlg.terms.count() >= 15
    dlg.terms.setCurrentRow(1)
    text = dlg.text.toPlainText()
    assert "필터" in text and "Filter" in text


def test_korean_menus(qtbot):
    from gui import i18n
    from gui.main_window import MainWindow

    i18n.set_language("ko")
    try:
        win = MainWindow(restore_layout=False)
        qtbot.addWidget(win)
        assert win.help_menu.title() == "도움말(&H)"
    finally:
        i18n.set_language("en")


@pytest.mark.timeout(300)
def test_screenshot_flag_writes_png_of_the_window_size(tmp_path):
    out = tmp_path / "shot.png"
    env = {"QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path), "PATH": "/usr/bin:/bin",
           "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    import os

    if "NUMBA_CACHE_DIR" in os.environ:
        env["NUMBA_CACHE_DIR"] = os.environ["NUMBA_CACHE_DIR"]
    proc = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--screenshot", str(out), "--size", "1200x800",
         "--screenshot-delay", "0.5", "--lang", "en"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=280,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert out.stat().st_size > 5000
    assert _png_size(out) == (1200, 800)
