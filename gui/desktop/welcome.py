"""The first-run welcome: pick a language and a place to start; shown once (remembered in QSettings).

Choices: train the small network on the built-in shapes (no download, learns in seconds), open MNIST
(the usual dataset loading path: a copy on this computer or a one-time download), or just look
around. "Start the first lesson" appears only when a lesson file ships in ``resources/lessons``.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QButtonGroup,
    QCommandLinkButton,
    QDialog,
    QHBoxLayout,
    QLabel,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from gui import i18n
from gui.desktop.about import ICON_DIR, app_icon
from gui.desktop.filetypes import LESSON_SUFFIX
from gui.i18n import tr

SHOWN_KEY = "welcome/shown"
LANGUAGE_KEY = "ui/language"
LESSON_DIR = Path(__file__).resolve().parents[2] / "resources" / "lessons"
CHOICES = ("lesson", "shapes", "mnist", "look")


def first_lesson() -> Path | None:
    """The first lesson file that ships with ConvScope, or None (none do yet)."""
    lessons = sorted(LESSON_DIR.glob(f"*{LESSON_SUFFIX}")) if LESSON_DIR.is_dir() else []
    return lessons[0] if lessons else None


def should_show(settings: QSettings | None = None) -> bool:
    return not (settings or QSettings()).value(SHOWN_KEY, False, type=bool)


def saved_language(settings: QSettings | None = None) -> str | None:
    value = (settings or QSettings()).value(LANGUAGE_KEY, None)
    return value if value in i18n.SUPPORTED else None


class WelcomeDialog(QDialog):
    """``choice`` is one of :data:`CHOICES` after the dialog closes (``"look"`` when simply closed)."""

    def __init__(self, parent: QWidget | None = None, settings: QSettings | None = None):
        super().__init__(parent)
        self._settings = settings
        self.choice = "look"
        self.setWindowIcon(app_icon())
        self.setMinimumWidth(560)

        icon = QLabel()
        icon.setPixmap(QPixmap(str(ICON_DIR / "convscope-64.png")))
        self.heading = QLabel()
        self.heading.setStyleSheet("font-size: 17pt; font-weight: bold;")
        top = QHBoxLayout()
        top.addWidget(icon)
        top.addSpacing(10)
        top.addWidget(self.heading, 1)

        self.intro = QLabel()
        self.intro.setWordWrap(True)
        self.language_label = QLabel()
        self.korean = QRadioButton("한국어")
        self.english = QRadioButton("English")
        (self.korean if i18n.language() == "ko" else self.english).setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.korean)
        group.addButton(self.english)
        self.korean.toggled.connect(self._on_language_toggled)
        lang_row = QHBoxLayout()
        lang_row.addWidget(self.language_label)
        lang_row.addWidget(self.korean)
        lang_row.addWidget(self.english)
        lang_row.addStretch(1)

        self.buttons: dict[str, QCommandLinkButton] = {}
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.intro)
        layout.addLayout(lang_row)
        for key in CHOICES:
            button = QCommandLinkButton()
            button.clicked.connect(lambda _checked=False, k=key: self.choose(k))
            self.buttons[key] = button
            layout.addWidget(button)
        self.buttons["lesson"].setVisible(first_lesson() is not None)
        self.buttons["shapes"].setDefault(True)
        self.retranslate()

    @property
    def settings(self) -> QSettings:
        return self._settings if self._settings is not None else QSettings()

    def retranslate(self) -> None:
        self.setWindowTitle(tr("Welcome to ConvScope"))
        self.heading.setText(tr("Welcome to ConvScope"))
        self.intro.setText(tr("ConvScope trains a real convolutional neural network on your computer so you can "
                              "watch it learn: its filters, its feature maps and its mistakes. Where would you "
                              "like to start?"))
        self.language_label.setText(tr("Language:"))
        texts = {
            "lesson": (tr("Start the first lesson"), tr("A guided tour, one step at a time.")),
            "shapes": (tr("Train on the built-in shapes"),
                       tr("Circles, squares, triangles...: a small network learns them in seconds. "
                          "Nothing to download.")),
            "mnist": (tr("Open MNIST handwritten digits"),
                      tr("The classic: 70,000 handwritten digits (about 11 MB, downloaded once if they "
                         "are not on this computer).")),
            "look": (tr("Just look around"), tr("Open the window and explore on your own.")),
        }
        for key, (title, detail) in texts.items():
            self.buttons[key].setText(title)
            self.buttons[key].setDescription(detail)

    def _on_language_toggled(self, korean: bool) -> None:
        i18n.set_language("ko" if korean else "en")
        self.settings.setValue(LANGUAGE_KEY, i18n.language())
        self.retranslate()

    def choose(self, key: str) -> None:
        self.choice = key
        self.accept()

    def done(self, result: int) -> None:  # every way out (a choice, Escape, the close box) counts as seen
        s = self.settings
        s.setValue(SHOWN_KEY, True)
        s.setValue(LANGUAGE_KEY, i18n.language())
        super().done(result)


def apply_choice(choice: str, options) -> None:
    """Turn the welcome's choice into the start-up options the window already understands."""
    if choice == "shapes":
        options.dataset = options.dataset or "shapes"
        options.train = True
    elif choice == "mnist":
        options.dataset = "mnist"
    elif choice == "lesson":
        lesson = first_lesson()
        if lesson is not None:
            options.paths = list(getattr(options, "paths", None) or []) + [str(lesson)]
