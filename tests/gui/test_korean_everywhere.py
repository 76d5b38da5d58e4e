"""In Korean mode no visible text is left in English (proper names, layer names, units and formulas aside).

The window is opened in Korean with the built-in shapes dataset and a preset model; every tab, dock,
menu, the glossary and the About box are visited, every visible text is collected, and every word made
of Latin letters only must be in the allow-list below.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent

#: proper names of products, datasets, people, networks, optimizers, formats and filters
PROPER_NAMES = {
    "ConvScope", "MNIST", "Fashion", "Keras", "PyTorch", "TensorFlow", "LeNet", "TinyVGG", "VGG", "CNN", "Adam",
    "SGD", "RMSprop", "ReLU", "ONNX", "Netron", "Sobel", "Scharr", "Prewitt", "Laplacian", "Gaussian", "Qt",
    "PySide", "numpy", "numba", "pyqtgraph", "Python", "PNG", "JPEG", "BMP", "GIF", "WebP", "TIFF", "IDX", "NumPy",
    "CPU", "GPU", "RGB", "NaN", "Glorot", "He", "Nesterov", "LeCun", "CIFAR", "ImageNet", "Zalando", "Ctrl",
    "Shift", "Alt", "Esc", "Del", "Tab", "Space", "Enter", "PgUp", "PgDn", "Home", "End", "Backspace",
    "Softmax", "Tanh", "Sigmoid", "LeakyReLU", "Dropout", "Dense", "Flatten", "npz", "png", "onnx", "json",
    "csv", "txt", "svg", "jpg", "jpeg", "bmp", "gif", "webp", "tif", "tiff", "CC", "BY", "SA", "MIT",
    "Yann", "GitHub", "Debian", "torchvision", "Explainer", "Pillow", "SmoothGrad", "Cortes", "Burges", "cos",
}
#: units and formula symbols (single letters are formula symbols: f, p, s, n, x, W, b...)
UNITS_AND_FORMULAS = {
    "px", "ms", "Hz", "MB", "GB", "KB", "fps", "img", "max", "min", "avg", "exp", "log", "sum", "argmax",
    "lr", "c_in", "c_out", "d_in", "floor", "ceil", "valid", "same", "relu", "sigmoid", "tanh",
    "softmax", "linear", "leaky_relu", "padding", "stride", "strides", "units", "filters", "kernel_size",
    "pool_size", "rate", "activation", "beta", "epsilon", "rho", "True", "False", "None", "dx", "dy",
    "dz", "dw", "db", "dL", "mm", "cm",
}


def _allowed_words() -> set[str]:
    from engine.layers import LAYER_CLASSES, _snake_case

    allowed = set(PROPER_NAMES) | set(UNITS_AND_FORMULAS)
    for name in LAYER_CLASSES:
        allowed |= {name, _snake_case(name)}
    for part in LAYER_CLASSES:
        allowed |= set(re.findall(r"[A-Za-z]+", part))
    return allowed


def _without_glossary_english(text: str) -> str:
    """The glossary shows each term and its explanation in English too, on purpose (side by side)."""
    def flat(s: str) -> str:                           # rich text collapses runs of white space
        return " ".join(s.split())

    text = flat(text)
    entries = json.loads((ROOT / "resources" / "glossary.json").read_text(encoding="utf-8"))
    # longest first: a short English title ("Bias") may occur inside another entry's explanation
    for english in sorted({flat(e[k]) for e in entries for k in ("text_en", "en")}, key=len, reverse=True):
        text = text.replace(english, " ")
    return text


def _words(text: str) -> list[str]:
    text = html.unescape(re.sub(r"<[^>]+>", " ", text or ""))
    text = text.replace("&", "")                          # mnemonics: "파일(&F)"
    # code quoted from the notes ("np.maximum(0, out)", "keras.datasets.fashion_mnist") is code, not English
    text = re.sub(r"\b[a-z_]+(\.[a-z_]+)+(\([^)]*\))?", " ", text)
    # addresses, file names and paths are the user's, not ours to translate
    text = re.sub(r"https?://\S+|\S+@\S+|[\w.~-]*/[\w./~-]+|\b[\w.-]+\.(npz|png|onnx|json|gz|txt)\b", " ", text)
    words = []
    for token in re.split(r"[^\w]+", text):
        if re.fullmatch(r"[A-Za-z]{2,}", token):            # Latin letters only; single letters are symbols
            words.append(token)
    return words


def _visible_texts(root, where: str) -> list[tuple[str, str]]:
    """(where, text) of every visible text under the widget ``root``."""
    from PySide6.QtWidgets import (
        QAbstractButton,
        QComboBox,
        QDockWidget,
        QGroupBox,
        QLabel,
        QLineEdit,
        QListWidget,
        QTableWidget,
        QTabWidget,
        QTextEdit,
        QTreeWidget,
    )

    found = [(where + " (title)", root.windowTitle())]
    for w in [root, *root.findChildren(QLabel), *root.findChildren(QAbstractButton), *root.findChildren(QGroupBox),
              *root.findChildren(QTabWidget), *root.findChildren(QComboBox), *root.findChildren(QTableWidget),
              *root.findChildren(QListWidget), *root.findChildren(QLineEdit), *root.findChildren(QTextEdit),
              *root.findChildren(QTreeWidget), *root.findChildren(QDockWidget)]:
        if not w.isVisible():
            continue
        name = f"{where} > {type(w).__name__} {w.objectName() or ''}".rstrip()
        if isinstance(w, QLabel):
            found.append((name, w.text()))
        elif isinstance(w, QAbstractButton):
            found.append((name, w.text()))
        elif isinstance(w, QGroupBox):
            found.append((name, w.title()))
        elif isinstance(w, QTabWidget):
            found += [(name + " tab", w.tabText(i)) for i in range(w.count())]
        elif isinstance(w, QComboBox):
            found += [(name + " item", w.itemText(i)) for i in range(w.count())]
        elif isinstance(w, QTableWidget):
            for c in range(w.columnCount()):
                item = w.horizontalHeaderItem(c)
                found.append((name + " header", item.text() if item else ""))
            for r in range(w.rowCount()):
                item = w.verticalHeaderItem(r)
                found.append((name + " row header", item.text() if item else ""))
                for c in range(w.columnCount()):
                    cell = w.item(r, c)
                    found.append((name + f" cell {r},{c}", cell.text() if cell else ""))
        elif isinstance(w, QListWidget):
            found += [(name + " item", w.item(i).text()) for i in range(w.count())]
        elif isinstance(w, QLineEdit):
            found.append((name + " placeholder", w.placeholderText()))
        elif isinstance(w, QTextEdit):
            found.append((name, w.toPlainText()))
        elif isinstance(w, QTreeWidget):
            header = w.headerItem()
            found += [(name + " header", header.text(c)) for c in range(w.columnCount())]
        elif isinstance(w, QDockWidget):
            found.append((name + " title", w.windowTitle()))
    return found


def _menu_texts(menu, where: str) -> list[tuple[str, str]]:
    found = [(where, menu.title())]
    for action in menu.actions():
        if action.menu() is not None:
            found += _menu_texts(action.menu(), f"{where} > {action.text()}")
        elif action.isVisible() and not action.isSeparator():
            found.append((f"{where} > action", action.text()))
    return found


def _offenders(texts, allowed) -> dict[str, list[str]]:
    bad: dict[str, list[str]] = {}
    for where, text in texts:
        for word in _words(text):
            if word not in allowed:
                bad.setdefault(word, []).append(f"{where}: {text[:80]!r}")
    return bad


@pytest.fixture
def korean_window(qtbot, warm_kernels, tmp_path):
    from engine.datasets import load_dataset
    from gui import i18n
    from gui.main_window import MainWindow

    i18n.set_language("ko")
    i18n.catalog.cache_clear()
    i18n.error_catalog.cache_clear()
    from PySide6.QtWidgets import QApplication

    assert i18n.install_qt_translations(QApplication.instance())
    from gui.desktop.recent import RecentFiles

    # File > Recent shows folder names, which are the user's (other tests leave English ones): one Korean
    # folder keeps the menu's own words under test.
    recent = RecentFiles()
    recent.clear()
    (tmp_path / "사진").mkdir()
    recent.add("folder", tmp_path / "사진")
    win = MainWindow(restore_layout=False)
    qtbot.addWidget(win)
    try:
        c = win.controller
        c.kernels_warm = True
        ds = load_dataset("shapes", train_size=400, test_size=200)
        c.use_dataset(ds)
        c.set_preset("shapes_small")
        win.show()
        qtbot.waitExposed(win)
        c.refresh_inspection()
        with qtbot.waitSignal(c.evaluation_ready, timeout=60_000):
            c.request_evaluation()
        win.classify_panel.classify_image(ds.x_test[0, 0], "sample.png")
        win.classify_panel.classify_files([str(tmp_path / "missing.png")])   # its error is shown too
        qtbot.wait(50)
        yield win
    finally:
        win.stop_training()
        win.close()
        i18n.set_language("en")
        i18n.install_qt_translations(QApplication.instance())


def test_every_visible_text_of_the_korean_window_is_korean(qtbot, korean_window):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from gui.main_window import GlossaryDialog

    win = korean_window
    texts = [("window title", win.windowTitle()), ("status bar", win.statusBar().currentMessage())]
    for i in range(win.workspace.count()):
        win.workspace.setCurrentIndex(i)
        qtbot.wait(20)
        texts += _visible_texts(win, f"tab '{win.workspace.tabText(i)}'")
    for action in win.menuBar().actions():
        if action.menu() is not None:
            texts += _menu_texts(action.menu(), "menu")

    glossary = GlossaryDialog(win)
    qtbot.addWidget(glossary)
    glossary.show()
    for row in range(glossary.terms.count()):
        glossary.terms.setCurrentRow(row)
        texts += [(where, _without_glossary_english(text))
                  for where, text in _visible_texts(glossary, f"glossary row {row}")]
    glossary.close()

    about: list[tuple[str, str]] = []

    def read_about_and_close():
        box = QApplication.activeModalWidget()
        if box is not None:
            about.extend(_visible_texts(box, "About"))
            box.close()

    QTimer.singleShot(100, read_about_and_close)
    win.show_about()
    assert about, "the About box was not found"
    assert any(text == "확인" for _, text in about), "Qt's own buttons are in Korean too"
    texts += about

    assert len(texts) > 200
    bad = _offenders(texts, _allowed_words())
    report = "\n".join(f"{word}: {places[0]}" + (f" (+{len(places) - 1} more)" if len(places) > 1 else "")
                       for word, places in sorted(bad.items()))
    assert not bad, "English words in the Korean window:\n" + report


def test_the_checker_finds_an_english_word_and_where_it_is():
    texts = [("tab 'x' > QLabel hint", "<b>필터</b> 3x3 stride 1, Conv2D — Training"),
             ("menu > action", "파일(&F)")]
    assert _offenders(texts, _allowed_words()) == {"Training": ["tab 'x' > QLabel hint: '<b>필터</b> 3x3 stride 1, "
                                                               "Conv2D — Training'"]}
