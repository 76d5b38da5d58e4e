"""ConvScope opened from outside: files dropped or given on the command line, a second launch handing
its files to the running window, the first-run welcome, File > Recent and the About box."""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QDir, QSettings

from tests.gui.test_classify import _drop, _write_square_png

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 60_000


def _save_bars_model(path, seed=3):
    """A model file that fits the bars dataset (1x28x28, 4 classes)."""
    from engine.persistence import save_model
    from engine.presets import build_preset

    return save_model(path, build_preset("shapes_small", input_shape=(1, 28, 28), num_classes=4, seed=seed))


def _write_image_folder(root: Path, per_class: int = 6) -> Path:
    rng = np.random.default_rng(0)
    for name, value in (("dark", 30), ("bright", 220)):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            pixels = np.clip(rng.normal(value, 10, (20, 20)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(root / name / f"{i}.png")
    return root


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


# -- drops and the command line -----------------------------------------------------------------
def test_a_model_file_dropped_on_the_window_opens_it(qtbot, window, tmp_path):
    path = _save_bars_model(tmp_path / "mine.npz")
    with qtbot.waitSignal(window.controller.model_changed, timeout=TIMEOUT):
        _drop(window, [path])
    assert window.controller.model_path == str(path)
    assert window.classify_panel.results == []          # not sent to the classifier as an "image"
    assert window.message_bar.isHidden()
    assert ("model", str(path.resolve())) in window.recent.entries()


def test_a_folder_dropped_on_the_window_becomes_the_dataset(qtbot, window, tmp_path):
    folder = _write_image_folder(tmp_path / "my_pictures")
    with qtbot.waitSignal(window.controller.dataset_ready, timeout=TIMEOUT) as blocker:
        _drop(window, [folder])
    ds = blocker.args[0]
    assert ds.source == str(folder) and sorted(ds.class_names) == ["bright", "dark"]
    assert window.controller.dataset is ds
    assert ("folder", str(folder.resolve())) in window.recent.entries()


def test_a_dataset_whose_source_is_a_folder_but_was_not_opened_as_one_is_not_recent(qtbot, window, tmp_path):
    from types import SimpleNamespace

    from tests.gui.conftest import make_bars_dataset

    idx_folder = tmp_path / "mnist"                      # MNIST's source is the folder of its IDX files
    idx_folder.mkdir()
    ds = make_bars_dataset()
    ds = SimpleNamespace(**{**vars(ds), "name": "mnist", "source": str(idx_folder)})
    window.controller.use_dataset(ds)
    assert all(path != str(idx_folder) for _, path in window.recent.entries())


def test_a_folder_and_a_model_dropped_together_open_the_model_once_the_folder_is_loaded(qtbot, window, tmp_path):
    folder = _write_image_folder(tmp_path / "two_classes")
    from engine.persistence import save_model
    from engine.presets import build_preset

    path = save_model(tmp_path / "two.npz", build_preset("shapes_small", input_shape=(1, 28, 28), num_classes=2))
    _drop(window, [path, folder])                       # the bars model would not fit: order matters
    qtbot.waitUntil(lambda: window.controller.model_path == str(path), timeout=TIMEOUT)
    assert window.controller.dataset.source == str(folder)


def test_a_missing_file_on_the_command_line_is_a_message_in_the_window(qtbot, warm_kernels, bars, tmp_path,
                                                                       monkeypatch):
    from gui.main_window import MainWindow

    missing = tmp_path / "nowhere" / "digit.png"
    opts = argparse.Namespace(dataset=None, model=None, data_dir=None, train=False, tab=None, classify=None,
                              paths=[str(missing)])
    w = MainWindow(options=opts, restore_layout=False)
    qtbot.addWidget(w)
    c = w.controller
    c.kernels_warm = True
    # the start-up loads the dataset it is asked for; here the bars stand in for the built-in shapes
    asked = []
    monkeypatch.setattr(c, "load_dataset_async", lambda name, data_dir=None, folder_options=None: asked.append(name) or c.use_dataset(bars))
    w.show()
    qtbot.waitUntil(lambda: not w.message_bar.isHidden(), timeout=TIMEOUT)
    assert asked == ["shapes"]
    assert str(missing) in w.message_bar.label.text() and "Traceback" not in w.message_bar.label.text()
    assert w.stop_training()


def test_a_folder_on_the_command_line_is_the_first_dataset(qtbot, warm_kernels, tmp_path, monkeypatch):
    from gui.main_window import MainWindow

    folder = _write_image_folder(tmp_path / "pics")
    opts = argparse.Namespace(dataset=None, model=None, data_dir=None, train=False, tab=None, classify=None,
                              paths=[str(folder)])
    w = MainWindow(options=opts, restore_layout=False)
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.controller.dataset_ready, timeout=TIMEOUT) as blocker:
        w.show()
    assert blocker.args[0].source == str(folder)
    assert w.stop_training()


def test_a_lesson_file_is_recognised_and_a_broken_one_refused_clearly(qtbot, window, tmp_path):
    lesson = tmp_path / "first.convscope-lesson.json"
    lesson.write_text("{}", encoding="utf-8")
    model = window.controller.model
    window.open_paths([str(lesson)])
    text = window.message_bar.label.text()
    assert "lesson 'first'" in text and "the key 'id' is required" in text
    assert window.controller.model is model and window.classify_panel.results == []
    assert window.lesson_player.player is None              # nothing half-opened


def test_paths_are_sorted_by_kind_relative_to_the_callers_folder(tmp_path):
    from gui.desktop.open_paths import sort_paths

    png = _write_square_png(tmp_path / "a.png")
    (tmp_path / "m.npz").write_bytes(b"PK")
    (tmp_path / "d").mkdir()
    (tmp_path / "notes.txt").write_text("x")
    out = sort_paths(["a.png", "m.npz", "d", "notes.txt", "gone.png", "l.convscope-lesson.json"], cwd=str(tmp_path))
    assert out.images == [str(png), str(tmp_path / "notes.txt")]     # the classifier explains the text file
    assert out.models == [str(tmp_path / "m.npz")] and out.folders == [str(tmp_path / "d")]
    assert len(out.problems) == 2 and "gone.png" in out.problems[0]


# -- one instance per user ------------------------------------------------------------------------
def _unique_name() -> str:
    return f"convscope-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def test_a_second_launch_hands_its_files_to_the_running_window(qtbot, window, tmp_path, monkeypatch):
    from gui.desktop.single_instance import NAME_ENV, InstanceServer

    name = _unique_name()
    server = InstanceServer()
    assert server.listen(name)
    server.paths_received.connect(window.open_paths)
    model = _save_bars_model(tmp_path / "handed.npz", seed=9)
    env = dict(os.environ, **{NAME_ENV: name, "QT_QPA_PLATFORM": "offscreen"})
    # a relative path: the second launch runs in another folder than the first
    second = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "handed.npz"], cwd=tmp_path, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        qtbot.waitUntil(lambda: second.poll() is not None, timeout=TIMEOUT)
        qtbot.waitUntil(lambda: window.controller.model_path == str(model), timeout=10_000)
    finally:
        if second.poll() is None:
            second.kill()
        server.close()
    _out, err = second.communicate(timeout=10)
    assert second.returncode == 0, err.decode()


def test_without_a_running_window_a_launch_does_not_hand_off(qtbot):
    from gui.desktop.single_instance import hand_off

    t0 = time.perf_counter()
    assert hand_off(["x.png"], name=_unique_name()) is False
    assert time.perf_counter() - t0 < 5


@pytest.mark.skipif(sys.platform == "win32", reason="Unix socket files only")
def test_a_stale_socket_of_a_crashed_instance_does_not_block_start_up(qtbot):
    from gui.desktop.single_instance import InstanceServer, hand_off

    name = _unique_name()
    path = os.path.join(QDir.tempPath(), name)
    crashed = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    crashed.bind(path)                        # bound, never listening, never unlinked: what a crash leaves
    crashed.close()
    assert os.path.exists(path)
    assert hand_off(["x.png"], name=name) is False
    server = InstanceServer()
    try:
        assert server.listen(name)
        received = []
        server.paths_received.connect(received.append)
        script = ("import sys; from PySide6.QtCore import QCoreApplication;"
                  "from gui.desktop.single_instance import hand_off;"
                  "app = QCoreApplication([]);"
                  f"sys.exit(0 if hand_off(['a.png'], name={name!r}, cwd='/data') else 3)")
        probe = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT,
                                 env=dict(os.environ, QT_QPA_PLATFORM="offscreen"))
        qtbot.waitUntil(lambda: probe.poll() is not None, timeout=TIMEOUT)
        assert probe.returncode == 0
        assert received == [["/data/a.png"]]
    finally:
        server.close()


def test_a_second_server_does_not_take_over_a_live_one(qtbot):
    from gui.desktop.single_instance import InstanceServer

    name = _unique_name()
    first, second = InstanceServer(), InstanceServer()
    try:
        assert first.listen(name)
        assert not second.listen(name)
    finally:
        first.close()
        second.close()


# -- welcome ------------------------------------------------------------------------------------
def test_the_welcome_appears_once_and_its_choice_becomes_start_up_options(qtbot, settings):
    from gui import i18n
    from gui.desktop.welcome import WelcomeDialog, apply_choice, first_lesson, should_show

    assert should_show(settings)
    dialog = WelcomeDialog(settings=settings)
    qtbot.addWidget(dialog)
    # "Start the first lesson" is offered exactly when lesson files ship (they do)
    assert dialog.buttons["lesson"].isHidden() == (first_lesson() is None)
    assert not dialog.buttons["lesson"].isHidden()
    dialog.buttons["shapes"].click()
    assert dialog.choice == "shapes" and not should_show(settings)
    opts = argparse.Namespace(dataset=None, train=False)
    apply_choice(dialog.choice, opts)
    assert opts.dataset == "shapes" and opts.train
    opts = argparse.Namespace(dataset=None, train=False)
    apply_choice("mnist", opts)
    assert opts.dataset == "mnist" and not opts.train
    opts = argparse.Namespace(dataset=None, train=False, lesson=None)
    apply_choice("lesson", opts)
    assert opts.lesson.endswith("vertical-edge.convscope-lesson.json")    # the first in the lessons' order
    i18n.set_language("en")


def test_choosing_korean_in_the_welcome_translates_it_and_is_remembered(qtbot, settings):
    from gui import i18n
    from gui.desktop.welcome import WelcomeDialog, saved_language

    i18n.set_language("en")
    dialog = WelcomeDialog(settings=settings)
    qtbot.addWidget(dialog)
    assert dialog.buttons["mnist"].text() == "Open MNIST handwritten digits"
    try:
        dialog.korean.setChecked(True)
        assert dialog.buttons["mnist"].text() == "MNIST 손글씨 숫자 열기"
        dialog.reject()
        assert saved_language(settings) == "ko"
    finally:
        i18n.set_language("en")


def test_the_welcome_flag_shows_the_welcome_even_with_screenshot(tmp_path):
    out = tmp_path / "welcome.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path / "config"))
    done = subprocess.run([sys.executable, "main.py", "--welcome", "--lang", "ko", "--screenshot", str(out),
                           "--screenshot-delay", "0.2"], cwd=ROOT, env=env, capture_output=True, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stderr.decode()
    with Image.open(out) as im:
        assert im.size[0] < 1000          # the dialog, not the 1480x920 window


# -- recent files --------------------------------------------------------------------------------
def test_recent_entries_are_newest_first_and_missing_ones_are_pruned_with_a_message(qtbot, settings, tmp_path):
    from gui.desktop.recent import RecentFiles, RecentMenu

    recent = RecentFiles(settings)
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    a.write_bytes(b"x")
    b.write_bytes(b"x")
    recent.add("model", a)
    recent.add("folder", tmp_path)
    recent.add("model", b)
    recent.add("model", a)
    assert [p for _, p in recent.entries()] == [str(a), str(b), str(tmp_path)]
    b.unlink()
    messages, opened = [], []
    menu = RecentMenu(recent, opened.append, messages.append)
    assert messages == []                                 # pruned when the menu opens, not before
    menu.aboutToShow.emit()
    assert messages and str(b) in messages[0]
    assert [p for _, p in recent.entries()] == [str(a), str(tmp_path)]
    entries = [act for act in menu.actions() if act.data()]
    entries[0].trigger()
    assert opened == [str(a)]


# -- about ---------------------------------------------------------------------------------------
def test_the_about_box_shows_the_icon_version_licence_libraries_and_folders(qtbot):
    import numba
    import numpy

    from gui.desktop import paths
    from gui.desktop.about import AboutDialog, app_icon

    dialog = AboutDialog()
    qtbot.addWidget(dialog)
    text = dialog.text.text()
    assert dialog.version in text and "MIT" in text
    assert numpy.__version__ in text and numba.__version__ in text and "PySide6" in text and "Pillow" in text
    assert str(paths.numba_cache_dir()) == os.environ["NUMBA_CACHE_DIR"]
    assert os.environ["NUMBA_CACHE_DIR"] in text
    assert not dialog.icon_label.pixmap().isNull()
    sizes = {s.width() for s in app_icon().availableSizes()}
    assert {16, 24, 32, 48, 64, 128, 256, 512} <= sizes
