"""Opening an image folder: colour or grayscale at a chosen size, asked before loading (classes and the
memory shown), remembered, and given on the command line; a preset model is built for the folder's shape."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QDialog, QDialogButtonBox

from engine.errors import DatasetError
from gui.desktop.folder_options import (
    SETTINGS_COLOR,
    SETTINGS_SIZE,
    FolderChoice,
    FolderOptions,
    parse_image_size,
    remembered_options,
    suggested_options,
)
from tests.headless import qt_modules_loaded_by

TIMEOUT = 60_000


def colour_folder(root: Path, per_class: int = 5) -> Path:
    """Red and blue pictures of mixed sizes and modes (RGB, RGBA, a gray one among the colour)."""
    for name, rgb in (("blue", (20, 40, 220)), ("red", (220, 30, 20))):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            Image.new("RGB", (30 + i, 24), rgb).save(root / name / f"{i}.png")
        rgba = np.zeros((16, 16, 4), np.uint8)
        rgba[..., :3] = rgb
        rgba[..., 3] = 255
        Image.fromarray(rgba, "RGBA").save(root / name / "alpha.png")
    Image.new("L", (20, 20), 128).save(root / "red" / "gray.png")
    return root


def gray_folder(root: Path) -> Path:
    for name, value in (("dark", 30), ("bright", 220)):
        (root / name).mkdir(parents=True)
        for i in range(4):
            Image.new("L", (20, 20), value).save(root / name / f"{i}.png")
    return root


@pytest.fixture
def forget_choice():
    """The dialog remembers its choice in the session's settings: other tests must not inherit it."""
    yield
    s = QSettings()
    s.remove(SETTINGS_COLOR)
    s.remove(SETTINGS_SIZE)


# -- the model (no Qt) ---------------------------------------------------------------------------
def test_a_folder_choice_lists_the_classes_and_suggests_colour_for_colour_pictures(tmp_path):
    choice = FolderChoice(colour_folder(tmp_path / "pics"))
    assert choice.classes() == [("blue", 6), ("red", 7)]
    assert choice.options == FolderOptions("rgb", 64)
    assert choice.options.shape == (3, 64, 64)
    gray = FolderChoice(gray_folder(tmp_path / "gray"))
    assert gray.options == FolderOptions("grayscale", 28)


def test_the_memory_estimate_is_the_engines_and_refuses_a_folder_too_big_before_loading(tmp_path):
    choice = FolderChoice(colour_folder(tmp_path / "pics"), available=10**9)
    estimate = choice.estimate()
    assert estimate.fits and estimate.needed == 13 * 3 * 64 * 64 * 2 == choice.scan.bytes_needed(64, "rgb")
    choice.set_color("grayscale")
    assert choice.estimate().needed * 3 == estimate.needed
    tight = FolderChoice(colour_folder(tmp_path / "big"), available=13 * 3 * 128 * 128 * 2)  # half of it is the budget
    tight.set_image_size(128)
    refused = tight.estimate()
    assert not refused.fits and refused.error.code == "folder_too_big_for_memory"
    assert refused.error.values["count"] == 13 and refused.error.values["most"] == 6
    tight.set_image_size(64)
    assert tight.estimate().fits


def test_image_sizes_are_one_number_or_a_square(tmp_path):
    assert parse_image_size("64") == 64 and parse_image_size("32x32") == 32 and parse_image_size(28) == 28
    with pytest.raises(DatasetError) as info:
        parse_image_size("64x32")
    assert info.value.code == "image_size_invalid"
    with pytest.raises(DatasetError) as info:
        parse_image_size("2")
    assert info.value.code == "image_size_range"


def test_the_command_line_wins_over_the_remembered_choice_which_wins_over_the_pictures(tmp_path):
    scan = FolderChoice(gray_folder(tmp_path / "g")).scan
    remembered = FolderOptions("rgb", 40)
    assert suggested_options(scan, remembered) == FolderOptions("rgb", 40)
    assert suggested_options(scan, remembered, color="grayscale") == FolderOptions("grayscale", 28)
    assert suggested_options(scan, remembered, image_size=96) == FolderOptions("rgb", 96)
    assert suggested_options(scan, None) == FolderOptions("grayscale", 28)

    class Settings(dict):
        def value(self, key):
            return self.get(key)

    assert remembered_options(Settings({SETTINGS_COLOR: "rgb", SETTINGS_SIZE: "48"})) == FolderOptions("rgb", 48)
    assert remembered_options(Settings({SETTINGS_COLOR: "sepia", SETTINGS_SIZE: "48"})) is None


def test_the_folder_options_model_imports_no_qt():
    assert qt_modules_loaded_by("gui.desktop.folder_options") == []


# -- the dialog -----------------------------------------------------------------------------------
def test_the_dialog_shows_classes_shape_and_memory_and_blocks_a_folder_too_big(qtbot, tmp_path):
    from gui.desktop.folder_dialog import FolderOptionsDialog

    choice = FolderChoice(colour_folder(tmp_path / "pics"), available=13 * 3 * 96 * 96 * 2)
    dialog = FolderOptionsDialog(choice)
    qtbot.addWidget(dialog)
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert "blue (6)" in dialog.classes_label.text() and "red (7)" in dialog.classes_label.text()
    assert dialog.rgb_button.isChecked() and dialog.size_spin.value() == 64
    assert dialog.shape_label.text() == "64 x 64 x 3" and ok.isEnabled() and "MB" in dialog.memory_label.text()
    dialog.size_spin.setValue(96)                       # needs twice the budget (half the memory)
    assert not ok.isEnabled() and "96 x 96 x 3" in dialog.memory_label.text()
    dialog.gray_button.setChecked(True)                 # a third of the bytes: fits again
    assert ok.isEnabled() and dialog.shape_label.text() == "96 x 96 x 1"
    assert dialog.options() == FolderOptions("grayscale", 96)


def test_open_folder_asks_then_loads_in_colour_builds_tinyvgg_for_it_and_remembers(qtbot, window, tmp_path,
                                                                                 monkeypatch, forget_choice):
    folder = colour_folder(tmp_path / "pics")

    def answer(dialog):
        assert dialog is window.folder_dialog
        dialog.size_spin.setValue(32)
        dialog.rgb_button.setChecked(True)
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr("gui.desktop.folder_dialog.FolderOptionsDialog.exec", answer)
    with qtbot.waitSignal(window.controller.dataset_ready, timeout=TIMEOUT) as blocker:
        assert window.open_folder_asking(str(folder))
    ds = blocker.args[0]
    assert ds.input_shape == (3, 32, 32) and ds.class_names == ["blue", "red"]
    x = np.concatenate([ds.x_train, ds.x_test]).astype(int)
    red = x[np.concatenate([ds.y_train, ds.y_test]) == 1][:, :, 16, 16]
    assert (red[:, 0] > red[:, 2] + 100).sum() == 6     # the red pictures stay red; the gray one is 3 equal channels
    c = window.controller
    assert c.preset_name == "tinyvgg" and tuple(c.model.input_shape) == (3, 32, 32) and c.model.num_classes == 2
    assert remembered_options(QSettings()) == FolderOptions("rgb", 32)
    # dropped later, the same folder opens with the remembered choice, without asking
    assert window.folder_options_for(str(folder)) == FolderOptions("rgb", 32)


def test_a_cancelled_dialog_loads_nothing_and_a_folder_without_classes_says_why(qtbot, window, tmp_path,
                                                                               monkeypatch):
    folder = colour_folder(tmp_path / "pics")
    monkeypatch.setattr("gui.desktop.folder_dialog.FolderOptionsDialog.exec",
                        lambda _dialog: QDialog.DialogCode.Rejected)
    before = window.controller.dataset
    assert not window.open_folder_asking(str(folder))
    assert window.controller.dataset is before and not window.controller._loader.running
    flat = tmp_path / "flat"
    flat.mkdir()
    Image.new("RGB", (8, 8)).save(flat / "a.png")
    assert not window.open_folder_asking(str(flat))
    assert "subfolders" in window.message_bar.label.text()


# -- the command line -----------------------------------------------------------------------------
def test_color_and_image_size_flags_parse_and_need_a_folder(tmp_path):
    from gui.app import build_parser, main

    args = build_parser().parse_args(["--dataset", "x", "--color", "rgb", "--image-size", "64x64"])
    assert args.color == "rgb" and args.image_size == 64
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--image-size", "64x32"])
    with pytest.raises(SystemExit) as info:
        main(["--dataset", "colour_shapes", "--color", "grayscale"])
    assert "image folder" in str(info.value.code)


def test_a_folder_on_the_command_line_loads_with_the_flags_colour_and_size(qtbot, warm_kernels, tmp_path):
    from gui.app import build_parser
    from gui.main_window import MainWindow

    folder = colour_folder(tmp_path / "pics")
    opts = build_parser().parse_args(["--dataset", str(folder), "--color", "rgb", "--image-size", "40",
                                      "--model", "tinyvgg"])
    w = MainWindow(options=opts, restore_layout=False)
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.controller.model_changed, timeout=TIMEOUT,
                          check_params_cb=lambda m: w.controller.preset_name == "tinyvgg"):
        w.show()
    assert w.controller.dataset.input_shape == (3, 40, 40)
    assert tuple(w.controller.model.input_shape) == (3, 40, 40)
    assert w.stop_training()
    opts = argparse.Namespace(**{**vars(opts), "color": "grayscale", "image_size": 20, "model": None})
    w2 = MainWindow(options=opts, restore_layout=False)
    qtbot.addWidget(w2)
    with qtbot.waitSignal(w2.controller.dataset_ready, timeout=TIMEOUT) as blocker:
        w2.show()
    assert blocker.args[0].input_shape == (1, 20, 20)
    assert w2.stop_training()


def test_the_dialog_speaks_korean(qtbot, tmp_path):
    from gui import i18n
    from gui.desktop.folder_dialog import FolderOptionsDialog

    i18n.set_language("ko")
    try:
        dialog = FolderOptionsDialog(FolderChoice(colour_folder(tmp_path / "pics"), available=10**9))
        qtbot.addWidget(dialog)
        assert dialog.windowTitle() == "이미지 폴더 열기"
        assert dialog.rgb_button.text() == "컬러 (RGB, 채널 3개)" and dialog.gray_button.text() == "흑백 (채널 1개)"
        assert "클래스 2개" in dialog.classes_label.text() and "그림 13장" in dialog.classes_label.text()
        assert "불러오는 동안 약" in dialog.memory_label.text() and dialog.size_spin.suffix() == " 픽셀"
    finally:
        i18n.set_language("en")
