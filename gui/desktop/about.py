"""Help > About: the icon, version, licence, the library versions and where ConvScope keeps things."""

from __future__ import annotations

import html
import platform
import sys
from importlib import metadata
from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from gui.desktop import paths
from gui.i18n import tr

ICON_DIR = Path(__file__).resolve().parents[2] / "resources" / "icons"
LICENSE = "MIT"


def app_icon() -> QIcon:
    """The ConvScope icon with every rendered size (the desktop picks the sharpest)."""
    icon = QIcon()
    for png in sorted(ICON_DIR.glob("convscope-*.png")):
        icon.addFile(str(png))
    return icon


def app_version() -> str:
    """The installed package's version, else the engine's (a source checkout run without install)."""
    try:
        return metadata.version("convscope")
    except metadata.PackageNotFoundError:
        import engine

        return engine.__version__


def library_versions() -> list[tuple[str, str]]:
    """``(name, version)`` of Python and the libraries ConvScope runs on."""
    import numba
    import numpy
    import PIL
    import pyqtgraph
    import PySide6
    from PySide6.QtCore import qVersion

    return [
        ("Python", f"{platform.python_version()} ({sys.executable})"),
        ("Qt / PySide6", f"{qVersion()} / {PySide6.__version__}"),
        ("numpy", numpy.__version__),
        ("numba", numba.__version__),
        ("pyqtgraph", pyqtgraph.__version__),
        ("Pillow", PIL.__version__),
    ]


def folder_rows() -> list[tuple[str, str]]:
    rows = [(tr(label), str(path)) for label, path in paths.folders()]
    rows.append((tr("Settings"), QSettings().fileName()))
    return rows


def _table(rows) -> str:
    cells = "".join(f"<tr><td style='padding-right:14px'><b>{html.escape(a)}</b></td>"
                    f"<td>{html.escape(b)}</td></tr>" for a, b in rows)
    return f"<table cellspacing='2'>{cells}</table>"


class AboutDialog(QDialog):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(tr("About ConvScope"))
        self.setWindowIcon(app_icon())
        icon = QLabel()
        icon.setPixmap(QPixmap(str(ICON_DIR / "convscope-128.png")))
        icon.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignHCenter)
        self.icon_label = icon
        self.version = app_version()
        summary = tr("Watch a convolutional neural network learn: filters, feature maps, padding, stride, "
                     "pooling and the training curves, live, on your own computer.")
        text = (
            f"<h2>ConvScope {html.escape(self.version)}</h2><p>{summary}</p>"
            f"<p>{tr('Licence')}: {LICENSE}</p>"
            f"<h3>{tr('Libraries')}</h3>{_table(library_versions())}"
            f"<h3>{tr('Where ConvScope keeps things')}</h3>{_table(folder_rows())}"
        )
        self.text = QLabel(text)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text.setMinimumWidth(560)
        body = QHBoxLayout()
        body.addWidget(icon)
        body.addSpacing(12)
        body.addWidget(self.text, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok)
        buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addLayout(body)
        layout.addWidget(buttons)


if __name__ == "__main__":  # preview: python -m gui.desktop.about [out.png]
    from PySide6.QtWidgets import QApplication

    app = QApplication(sys.argv[:1])
    dialog = AboutDialog()
    dialog.show()
    if len(sys.argv) > 1:
        app.processEvents()
        dialog.grab().save(sys.argv[1], "PNG")
    else:
        app.exec()
