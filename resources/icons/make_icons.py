"""Render ``convscope.svg`` to the PNG sizes the desktop needs (run after editing the SVG).

    QT_QPA_PLATFORM=offscreen python resources/icons/make_icons.py

Writes ``convscope-<size>.png`` next to the SVG for every size in :data:`SIZES` (16 px from
``convscope-small.svg``, drawn on the pixel grid). Qt's own SVG renderer
(QtSvg, part of PySide6-Essentials) is used, so no extra tool is needed.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "convscope.svg"
#: the same drawing on the 16-pixel grid: scaled down, the large one blurs into a smudge
SMALL_SOURCE = HERE / "convscope-small.svg"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def source_for(size: int) -> Path:
    return SMALL_SOURCE if size <= 16 else SOURCE


def png_path(size: int) -> Path:
    return HERE / f"convscope-{size}.png"


def render(size: int, source: Path | None = None):
    """The icon as a ``size`` x ``size`` QImage with a transparent background."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    source = source or source_for(size)
    renderer = QSvgRenderer(str(source))
    if not renderer.isValid():
        raise ValueError(f"{source} is not a valid SVG file")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    return image


def main() -> int:
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 (QImage needs it)
    for size in SIZES:
        if not render(size).save(str(png_path(size)), "PNG"):
            print(f"could not write {png_path(size)}", file=sys.stderr)
            return 1
        print(png_path(size))
    return 0


if __name__ == "__main__":
    sys.exit(main())
