"""What ConvScope opens, by file type: images, model files, lesson files and image folders.

One table maps the engine's image extensions to MIME types (the ``.desktop`` entry and the
shared-mime-info package are written from it); :func:`kind_of` sorts a path given on the command line,
dropped on the window or handed over by a second launch.

Model files are ``.npz`` archives, a generic NumPy format, so ConvScope's MIME type
``application/x-convscope-model`` is recognised two ways: by the name ``*.convscope.npz`` (what the
Save dialog suggests) and, for any ``*.npz``, by content: numpy's ``savez`` writes a ZIP whose first
member is ``architecture.npy`` (its name starts at byte 30 of the first local file header). Other
``.npz`` files stay plain ZIP archives for the desktop. Lessons (``*.convscope-lesson.json``, type
``application/x-convscope-lesson``) are defined now so files made later open with ConvScope.
"""

from __future__ import annotations

import os
from pathlib import Path

try:  # the one public list of the engine (earlier versions kept it beside the folder loader)
    from engine.imaging import IMAGE_EXTENSIONS
except ImportError:  # pragma: no cover - depends on the engine version
    from engine.datasets import IMAGE_EXTENSIONS

__all__ = [
    "IMAGE_EXTENSIONS",
    "KINDS",
    "LESSON_MIME",
    "LESSON_SUFFIX",
    "MIME_BY_EXTENSION",
    "MODEL_MIME",
    "MODEL_SUFFIX",
    "image_mime_types",
    "kind_of",
]

#: every image extension the engine may list, with its registered (or freedesktop) MIME type
MIME_BY_EXTENSION = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".jpe": "image/jpeg",
    ".bmp": "image/bmp",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".pgm": "image/x-portable-graymap",
    ".ppm": "image/x-portable-pixmap",
    ".pbm": "image/x-portable-bitmap",
    ".pnm": "image/x-portable-anymap",
}

MODEL_MIME = "application/x-convscope-model"
LESSON_MIME = "application/x-convscope-lesson"
MODEL_SUFFIX = ".convscope.npz"
LESSON_SUFFIX = ".convscope-lesson.json"
#: what numpy's savez puts first in a ConvScope model file (see persistence.save_model)
MODEL_FIRST_MEMBER = "architecture.npy"

KINDS = ("image", "model", "lesson", "folder", "missing", "unreadable", "unknown")


def image_mime_types() -> list[str]:
    """The MIME types of the images the engine reads, in the engine's order, without repeats.

    Raises ``KeyError`` naming an extension that has no MIME type here (a test keeps them in step).
    """
    types: list[str] = []
    for ext in IMAGE_EXTENSIONS:
        mime = MIME_BY_EXTENSION[ext.lower()]
        if mime not in types:
            types.append(mime)
    return types


def kind_of(path) -> str:
    """``"image"``, ``"model"``, ``"lesson"``, ``"folder"``, ``"missing"``, ``"unreadable"`` or ``"unknown"``.

    Lessons and models are recognised by their names; anything with an image extension is an image
    (the decoder reports a file that only pretends to be one).
    """
    p = Path(os.fspath(path)).expanduser()
    if not p.exists():
        return "missing"
    if p.is_dir():
        return "folder" if os.access(p, os.R_OK | os.X_OK) else "unreadable"
    if not os.access(p, os.R_OK):
        return "unreadable"
    name = p.name.lower()
    if name.endswith(LESSON_SUFFIX):
        return "lesson"
    if name.endswith(".npz"):
        return "model"
    if p.suffix.lower() in IMAGE_EXTENSIONS:
        return "image"
    return "unknown"
