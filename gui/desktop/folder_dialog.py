"""The "Open image folder" dialog: colour or grayscale, the picture size, the folder's classes and the
memory the pictures will take, all before a picture is decoded. A thin view over
:class:`gui.desktop.folder_options.FolderChoice`."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.shapes import format_shape
from gui.desktop.folder_options import MAX_SIZE, MIN_SIZE, FolderChoice, FolderOptions
from gui.i18n import tr, tr_class, tr_error

SHOWN_CLASSES = 12


def _megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):,.1f}"


class FolderOptionsDialog(QDialog):
    """Asks how ``choice``'s folder becomes a dataset; ``options()`` after ``exec()`` is accepted."""

    def __init__(self, choice: FolderChoice, parent: QWidget | None = None):
        super().__init__(parent)
        self.choice = choice
        self.setWindowTitle(tr("Open image folder"))
        self.setObjectName("folder_options_dialog")

        classes = choice.classes()
        shown = ", ".join(f"{tr_class(name)} ({count})" for name, count in classes[:SHOWN_CLASSES])
        if len(classes) > SHOWN_CLASSES:
            shown += tr(" and {} more").format(len(classes) - SHOWN_CLASSES)
        self.classes_label = QLabel(tr("<b>{}</b>: {} pictures in {} classes (one subfolder each): {}").format(
            choice.scan.root.name, choice.scan.count, len(classes), shown))
        self.classes_label.setWordWrap(True)

        self.rgb_button = QRadioButton(tr("Colour (RGB, 3 channels)"))
        self.gray_button = QRadioButton(tr("Grayscale (1 channel)"))
        self.rgb_button.setToolTip(tr("Keep the colours: every picture becomes red, green and blue channels."))
        self.gray_button.setToolTip(tr("Only brightness: colour pictures become gray (0.299 R + 0.587 G + "
                                       "0.114 B). Three times less memory."))
        self._colors = QButtonGroup(self)
        self._colors.addButton(self.rgb_button)
        self._colors.addButton(self.gray_button)
        colours = QHBoxLayout()
        colours.addWidget(self.rgb_button)
        colours.addWidget(self.gray_button)
        colours.addStretch(1)

        self.size_spin = QSpinBox()
        self.size_spin.setRange(MIN_SIZE, MAX_SIZE)
        self.size_spin.setSuffix(tr(" pixels"))
        self.size_spin.setToolTip(tr("Every picture is fitted into a square of this size, keeping its "
                                     "proportions (padded, not stretched). 28: MNIST; 64: TinyVGG in CNN "
                                     "Explainer."))
        self.shape_label = QLabel()
        self.memory_label = QLabel()
        self.memory_label.setWordWrap(True)
        form = QFormLayout()
        form.addRow(tr("Colour"), colours)
        form.addRow(tr("Image size"), self.size_spin)
        form.addRow(tr("Each picture becomes"), self.shape_label)
        form.addRow(tr("Memory"), self.memory_label)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(tr("Load"))
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(tr("Cancel"))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.classes_label)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(520)

        self._show_options(choice.options)
        self.rgb_button.toggled.connect(self._on_color)
        self.size_spin.valueChanged.connect(self._on_size)

    def _show_options(self, options: FolderOptions) -> None:
        (self.rgb_button if options.color == "rgb" else self.gray_button).setChecked(True)
        self.size_spin.setValue(int(options.image_size))
        self._refresh()

    def _on_color(self, _checked: bool) -> None:
        self.choice.set_color("rgb" if self.rgb_button.isChecked() else "grayscale")
        self._refresh()

    def _on_size(self, value: int) -> None:
        self.choice.set_image_size(value)
        self._refresh()

    def _refresh(self) -> None:
        self.shape_label.setText(format_shape(self.choice.options.shape))
        estimate = self.choice.estimate()
        if estimate.fits:
            text = tr("about {} MB while loading").format(_megabytes(estimate.needed))
            if estimate.available is not None:
                text += " " + tr("({} MB available)").format(_megabytes(estimate.available))
            self.memory_label.setStyleSheet("")
        else:
            text = tr_error(estimate.error)
            self.memory_label.setStyleSheet("color: #a40000;")
        self.memory_label.setText(text)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(estimate.fits)
        self.adjustSize()                   # the refusal is several lines: show all of it

    def options(self) -> FolderOptions:
        return self.choice.options
